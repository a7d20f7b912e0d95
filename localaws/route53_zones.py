"""Route 53 creations as AWS answers them, where moto differs:

- a zone for a name AWS reserves is refused: CreateHostedZone answers `InvalidDomainName: <name>
  is reserved by AWS!` (HTTP 400) for `example.com` and every name under it (public deployment
  logs, e.g. "InvalidDomainName: tap-stack.example.com is reserved by AWS!"; RFC 2606 reserves
  the name for documentation). Only what AWS is seen refusing is refused here; the provider
  refuses more at plan (see `refuse_reserved_domain`), because nobody can delegate those names.
- a CallerReference is used once: CreateHostedZone with a reference used before, even by a zone
  since deleted, is `HostedZoneAlreadyExists` (API_CreateHostedZone: "You must use a unique
  CallerReference string every time you submit a CreateHostedZone request"); CreateHealthCheck
  with the reference and settings of a health check that exists returns that check, and with a
  reference used before otherwise (other settings, or a check since deleted) is
  `HealthCheckAlreadyExists` (API_CreateHealthCheck, "CallerReference"). moto creates a
  duplicate every time.

https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHostedZone.html
https://docs.aws.amazon.com/Route53/latest/APIReference/API_CreateHealthCheck.html"""

import threading

from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend

_RESERVED = ("example.com",)
_lock = threading.Lock()
_zone_references = set()
# caller reference -> (settings, health check id)
_check_references = {}
_installed = False


class InvalidDomainName(Route53ClientError):
    def __init__(self, name):
        super().__init__("InvalidDomainName", f"{name} is reserved by AWS!")


class HostedZoneAlreadyExists(Route53ClientError):
    def __init__(self, reference):
        super().__init__(
            "HostedZoneAlreadyExists",
            f"A hosted zone has already been created with the specified caller reference: {reference}.",
        )


class HealthCheckAlreadyExists(Route53ClientError):
    def __init__(self, reference):
        super().__init__(
            "HealthCheckAlreadyExists",
            f"A health check with the caller reference {reference} already exists or was deleted, "
            "or was created with other settings.",
        )


def reserved(name):
    name = name.rstrip(".").lower()
    return any(name == r or name.endswith("." + r) for r in _RESERVED)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    create_zone, create_check = Route53Backend.create_hosted_zone, Route53Backend.create_health_check

    def create_hosted_zone(self, name, *args, caller_reference=None, **kwargs):
        if reserved(name):
            raise InvalidDomainName(name.rstrip("."))
        with _lock:
            if caller_reference is not None and caller_reference in _zone_references:
                raise HostedZoneAlreadyExists(caller_reference)
            zone = create_zone(self, name, *args, caller_reference=caller_reference, **kwargs)
            if caller_reference is not None:
                _zone_references.add(caller_reference)
        return zone

    def create_health_check(self, caller_reference, health_check_args):
        with _lock:
            seen = _check_references.get(caller_reference)
            if seen is not None:
                settings, check_id = seen
                if settings == health_check_args and check_id in self.health_checks:
                    return self.health_checks[check_id]
                raise HealthCheckAlreadyExists(caller_reference)
            check = create_check(self, caller_reference, health_check_args)
            _check_references[caller_reference] = (dict(health_check_args), check.id)
        return check

    Route53Backend.create_hosted_zone = create_hosted_zone
    Route53Backend.create_health_check = create_health_check


def reset():
    with _lock:
        _zone_references.clear()
        _check_references.clear()
