"""Route 53 health checks of type RECOVERY_CONTROL, whose routing control moto drops (its
HealthCheckConfig answers a RECOVERY_CONTROL check with an endpoint's port and interval and no
`RoutingControlArn`), and the ARC routing controls they follow, which moto does not model.

Kept: the check's `RoutingControlArn` (CreateHealthCheck's HealthCheckConfig), answered back in
its HealthCheckConfig without the endpoint settings such a check does not have
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).

Its status follows the routing control (HealthCheckConfig `Type`, RECOVERY_CONTROL: "The health
check is associated with a Route 53 Application Recovery Controller routing control. If the
routing control state is ON, the health check is considered healthy. If the state is OFF, the
health check is considered unhealthy."; same page). The routing control's state is set through
ARC's cluster data plane (UpdateRoutingControlState, "You can set the value to ON or OFF",
https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlState.html),
which this emulator does not serve: a test sets it with
`GET /localaws/routing-control?arn=<routing control ARN>&state=On|Off` (the answer is every
state set, as JSON; without `state`, just the answer). A routing control no test has set is
Off: the safe reading of a control nobody has turned On (not confirmed in ARC's docs; the
provider's documentation tells users to turn theirs On)."""

import json
from urllib.parse import parse_qs

from moto.route53.models import HealthCheck
from moto.route53.responses import Route53

from . import route53_alarm_checks
from .wsgi import Locked, Response

TYPE = "RECOVERY_CONTROL"
_STATES = ("On", "Off")
_installed = False
# routing control ARN -> "On" | "Off"
_states = {}


def healthy(check):
    """The status Route 53 gives a RECOVERY_CONTROL check now."""
    return _states.get(getattr(check, "routing_control_arn", None)) == "On"


def control(request):
    """`/localaws/routing-control?arn=&state=On|Off`."""
    query = {k: v[-1] for k, v in parse_qs(request.environ.get("QUERY_STRING", "")).items()}
    arn, state = query.get("arn"), query.get("state")
    if state is not None:
        if not arn or state not in _STATES:
            return Response(400, [("Content-Type", "text/plain")], b"/localaws/routing-control?arn=<arn>&state=On|Off")
        with Locked.lock:
            _states[arn] = state
    body = json.dumps(dict(_states)).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    config = HealthCheck.health_check_config.fget
    HealthCheck.routing_control_arn = None

    def health_check_config(self):
        result = config(self)
        if self.type_ == TYPE:
            for endpoint_only in route53_alarm_checks.ENDPOINT_ONLY:
                result.pop(endpoint_only, None)
            result["RoutingControlArn"] = self.routing_control_arn
        return result

    HealthCheck.health_check_config = property(health_check_config)
    create = Route53.create_health_check

    def create_health_check(self):
        result = create(self)
        check = result.result["HealthCheck"]
        if check.type_ == TYPE:
            check.routing_control_arn = (self._get_param("HealthCheckConfig") or {}).get("RoutingControlArn")
        return result

    Route53.create_health_check = create_health_check


def reset():
    with Locked.lock:
        _states.clear()
