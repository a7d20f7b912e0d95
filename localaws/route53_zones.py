"""Route 53 hosted zones as AWS creates them, where moto differs: a zone for a name AWS reserves
is refused. CreateHostedZone answers `InvalidDomainName: <name> is reserved by AWS!` (HTTP 400)
for `example.com` and every name under it (public deployment logs, e.g. "InvalidDomainName:
tap-stack.example.com is reserved by AWS!"; RFC 2606 reserves the name for documentation).
Only what AWS is seen refusing is refused here; the provider refuses more at plan (see
`validate_domain_name`), because a name nobody can delegate makes a useless public zone."""

from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend

_RESERVED = ("example.com",)
_installed = False


class InvalidDomainName(Route53ClientError):
    code = "InvalidDomainName"

    def __init__(self, name):
        super().__init__("InvalidDomainName", f"{name} is reserved by AWS!")


def reserved(name):
    name = name.rstrip(".").lower()
    return any(name == r or name.endswith("." + r) for r in _RESERVED)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    create = Route53Backend.create_hosted_zone

    def create_hosted_zone(self, name, *args, **kwargs):
        if reserved(name):
            raise InvalidDomainName(name.rstrip("."))
        return create(self, name, *args, **kwargs)

    Route53Backend.create_hosted_zone = create_hosted_zone
