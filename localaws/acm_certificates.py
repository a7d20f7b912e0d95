"""ACM certificates as AWS documents them, where moto differs:

- A certificate requested with `ValidationMethod=DNS` stays `PENDING_VALIDATION` until its
  validation CNAME (name and value as DescribeCertificate gives them) is in a public hosted zone
  that answers on the internet, then becomes `ISSUED` a moment later (`acm.validation`). "ACM
  ... validates the domain name ... after you add the CNAME record to your DNS configuration";
  "your new certificate may still display a status of Pending validation for up to 30 minutes";
  a certificate whose record ACM cannot see stays pending (then "Validation timed out" after 72
  hours, not modelled). https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
  Route 53 has no API saying whether a zone answers publicly (delegation lives with the parent
  zone or registrar), so a test switch says it: `/localaws/acm/delegated/<zone-id>` marks a zone
  delegated, `/localaws/acm/undelegated/<zone-id>` takes it back; no zone is delegated until
  told, as a zone just created by CreateHostedZone is not. The record counts in the zone whose
  name is the longest suffix of the record's name (the authoritative one). moto issues every
  certificate after `MOTO_ACM_VALIDATION_WAIT` whatever DNS holds. Certificates requested
  otherwise (e-mail validation) keep moto's behaviour.
- DeleteCertificate of a certificate that a listener uses is `ResourceInUseException`: "You
  cannot delete an ACM certificate that is being used by another AWS service. To delete a
  certificate that is in use, you must first remove the certificate association."
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_DeleteCertificate.html; wire message
  as in hashicorp/terraform-provider-aws#3866). DescribeCertificate's `InUseBy` lists the load
  balancers whose listeners use it now. moto deletes it and never updates `InUseBy`.

- `IssuedAt` is when the certificate became `ISSUED`, and absent before: "The time at which the
  certificate was issued. This value exists only when the certificate type is AMAZON_ISSUED."
  (https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html). moto gives
  the request's time from the start.

(A listener refusing a certificate of another region is elbv2_validation.py's.)"""

import threading
import time

from moto.acm.models import AWSCertificateManagerBackend, CertBundle
from moto.acm.responses import AWSCertificateManagerResponse
from moto.core.exceptions import AWSError
from moto.elbv2.models import elbv2_backends
from moto.route53.models import route53_backends

from . import pending
from .wsgi import Response

_lock = threading.Lock()
_dns_validated = set()  # ARNs requested with ValidationMethod=DNS
_validating = {}  # ARN -> pending.Settling, from when its record is first seen in a delegated zone
_delegated = set()  # hosted zone IDs (bare) that answer publicly
_issued_at = {}  # ARN -> epoch seconds when a DNS-validated certificate became ISSUED
_installed = False


class ResourceInUse(AWSError):
    TYPE = "ResourceInUseException"


def _bare(zone_id):
    return zone_id.rsplit("/", 1)[-1]


def _record_visible(account, name, value):
    """Whether CNAME `name` -> `value` is in the authoritative public zone, and it is delegated."""
    name = name.rstrip(".").lower()
    zones = [
        z
        for z in route53_backends[account]["aws"].zones.values()
        if not z.private_zone
        and (name == z.name.rstrip(".").lower() or name.endswith("." + z.name.rstrip(".").lower()))
    ]
    if not zones:
        return False
    zone = max(zones, key=lambda z: len(z.name))
    if _bare(zone.id) not in _delegated:
        return False
    return any(
        r.type == "CNAME"
        and r.name.rstrip(".").lower() == name
        and any(v.rstrip(".").lower() == value.rstrip(".").lower() for v in r.records)
        for r in zone.rrsets
    )


def _in_use_by(bundle):
    """The load balancers whose listeners use the certificate now."""
    region = bundle.arn.split(":")[3]
    account = bundle.arn.split(":")[4]
    return sorted(
        {
            listener.load_balancer_arn
            for balancer in elbv2_backends[account][region].load_balancers.values()
            for listener in balancer.listeners.values()
            if bundle.arn in listener.certificates or listener.certificate == bundle.arn
        }
    )


def install():
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    check, describe, delete = CertBundle.check, CertBundle.describe, AWSCertificateManagerBackend.delete_certificate
    request = AWSCertificateManagerResponse.request_certificate

    def request_certificate(self):
        result = request(self)
        if (self._get_param("ValidationMethod") or "EMAIL").upper() == "DNS":
            with _lock:
                _dns_validated.add(result.result["CertificateArn"])
        return result

    def check_dns(self):
        with _lock:
            dns = self.arn in _dns_validated
        if not dns or self.status != "PENDING_VALIDATION":
            return check(self)
        records = [
            option["ResourceRecord"]
            for option in describe(self)["Certificate"].get("DomainValidationOptions", [])
        ]
        account = self.arn.split(":")[4]
        with _lock:
            settling = _validating.get(self.arn)
            if settling is None:
                if not records or not all(_record_visible(account, r["Name"], r["Value"]) for r in records):
                    return None
                settling = _validating[self.arn] = pending.Settling("acm.validation")
            if not settling.pending():
                self.status = "ISSUED"
                _issued_at[self.arn] = time.time()
        return None

    def describe_in_use(self):
        result = describe(self)
        certificate = result["Certificate"]
        certificate["InUseBy"] = _in_use_by(self)
        with _lock:
            dns, issued_at = self.arn in _dns_validated, _issued_at.get(self.arn)
        if dns:
            certificate.pop("IssuedAt", None)
            if issued_at is not None:
                certificate["IssuedAt"] = issued_at
        return result

    def delete_certificate(self, arn):
        bundle = self._certificates.get(arn)
        if bundle is not None and _in_use_by(bundle):
            raise ResourceInUse(f"Certificate {arn} in account {self.account_id} is in use.")
        delete(self, arn)
        with _lock:
            _dns_validated.discard(arn)
            _validating.pop(arn, None)
            _issued_at.pop(arn, None)

    AWSCertificateManagerResponse.request_certificate = request_certificate
    CertBundle.check = check_dns
    CertBundle.describe = describe_in_use
    AWSCertificateManagerBackend.delete_certificate = delete_certificate


def control(path):
    """`/localaws/acm/delegated/<zone-id>` or `/localaws/acm/undelegated/<zone-id>`."""
    switch, _, zone = path[len("/localaws/acm/") :].partition("/")
    if switch not in ("delegated", "undelegated") or not zone:
        return Response(404, [("Content-Type", "text/plain")], b"unknown ACM switch")
    with _lock:
        if switch == "delegated":
            _delegated.add(_bare(zone))
        else:
            _delegated.discard(_bare(zone))
    return Response(200, [("Content-Type", "text/plain")], switch.encode())


def _clamp(reads):
    with _lock:
        for settling in _validating.values():
            settling.clamp(reads)


def reset():
    with _lock:
        _dns_validated.clear()
        _validating.clear()
        _delegated.clear()
        _issued_at.clear()
