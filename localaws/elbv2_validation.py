"""What ELBv2 refuses and moto accepts (moto-gaps.md §0.1, §2), so that a configuration AWS would
refuse fails here too:

- CreateLoadBalancer of an Application Load Balancer whose subnets do not span two Availability
  Zones. "[Application Load Balancers] You must specify subnets from at least two Availability
  Zones. You can specify only one subnet per Availability Zone."
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html)
  AWS answers `ValidationError: At least two subnets in two different Availability Zones must be
  specified` (kasmtech/terraform#5, aws-samples/aws-cdk-examples#226) and, for two subnets of one
  zone, `InvalidConfigurationRequest: A load balancer cannot be attached to multiple subnets in
  the same Availability Zone` (robertdebock/terraform-aws-vault#5).
- CreateListener / ModifyListener with an ACM certificate the listener's region does not hold,
  such as one of another region (ACM certificates are regional). AWS answers
  `CertificateNotFound: Certificate '<arn>' not found` (API_CreateListener, Errors;
  kubernetes-sigs/aws-load-balancer-controller#1127, #2581). moto looks for the certificate too,
  but answers CreateListener with the Classic ELB error `CertificateNotFoundException`.
- CreateListener / ModifyListener with an ACM certificate that is not `ISSUED` (still
  `PENDING_VALIDATION`, or `EXPIRED`, `REVOKED`...): a load balancer can only serve a certificate
  ACM has issued. AWS answers `UnsupportedCertificate: The certificate '<arn>' must have a
  fully-qualified domain name, a supported signature, and a supported key size.`, a generic text
  (API_CreateListener, Errors: UnsupportedCertificate; hashicorp/terraform-provider-aws#26245,
  #41789: a listener made a few seconds before its certificate was issued). moto accepts it."""


from moto.acm.models import acm_backends
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends

from . import elbv2_idempotency
from .wsgi import call, query_error

XMLNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
ACTIONS = {"CreateLoadBalancer", "CreateListener", "ModifyListener"}


def handles(request):
    return request.service == "elasticloadbalancing" and request.form.get("Action") in ACTIONS


def _error(code, message):
    return query_error(code, message, xmlns=XMLNS)


def _members(form, prefix, suffix=""):
    """`<prefix>.member.N<suffix>` values, in order of N."""
    found = []
    for key, value in form.items():
        if key.startswith(prefix + ".member.") and key.endswith(suffix):
            n = key[len(prefix) + len(".member.") : len(key) - len(suffix)]
            if n.isdigit():
                found.append((int(n), value))
    return [value for _, value in sorted(found)]


def _zones_refusal(form, account, region):
    if form.get("Type", "application") != "application":
        return None
    subnets = _members(form, "Subnets") or _members(form, "SubnetMappings", ".SubnetId")
    ec2 = ec2_backends[account][region]
    zones = []
    for subnet_id in subnets:
        try:
            zones.append(ec2.get_subnet(subnet_id).availability_zone)
        except InvalidSubnetIdError:
            return None  # moto answers an unknown subnet itself
    if len(set(zones)) != len(zones):
        return _error(
            "InvalidConfigurationRequest",
            "A load balancer cannot be attached to multiple subnets in the same Availability Zone",
        )
    if len(zones) < 2:
        return _error("ValidationError", "At least two subnets in two different Availability Zones must be specified")
    return None


def _certificate_refusal(form, account, region):
    held = acm_backends[account][region]._certificates
    for arn in _members(form, "Certificates", ".CertificateArn"):
        if ":acm:" not in arn:
            continue
        bundle = held.get(arn)
        if bundle is None:
            return _error("CertificateNotFound", f"Certificate '{arn}' not found")
        bundle.check()  # moto moves a certificate's status when it is read
        if bundle.status != "ISSUED":
            return _error(
                "UnsupportedCertificate",
                f"The certificate '{arn}' must have a fully-qualified domain name, a supported signature, "
                "and a supported key size.",
            )
    return None


def handle(app, request, account):
    form = request.form
    if form.get("Action") == "CreateLoadBalancer":
        refusal = _zones_refusal(form, account, request.region)
    else:
        refusal = _certificate_refusal(form, account, request.region)
    if refusal:
        return refusal
    if elbv2_idempotency.handles(request):
        return elbv2_idempotency.handle(app, request, account)
    return call(app, request.environ)
