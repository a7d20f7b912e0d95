"""A route whose target is gone reads `blackhole` on AWS; moto reports every route `active`.
Here a route to an internet gateway no longer attached to the route table's VPC, or to a NAT
gateway being deleted, reads `blackhole`, so a read can see a gateway lost out of band."""

from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.route_tables import Route

_installed = False
_GONE_NAT_STATES = ("deleting", "deleted", "failed")


def _state(route):
    gateway = route.gateway
    if isinstance(gateway, InternetGateway):
        if gateway.vpc is None or gateway.vpc.id != route.route_table.vpc_id:
            return "blackhole"
    if route.nat_gateway is not None and route.nat_gateway.state in _GONE_NAT_STATES:
        return "blackhole"
    return "active"


def install():
    """Patches moto once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    Route.state = property(_state)
