"""EC2 refuses to delete what is still in use; moto deletes it anyway (moto-gaps.md §0.1). Here
DeleteSecurityGroup, DeleteSubnet, DetachInternetGateway and DeleteVpc answer
DependencyViolation, as AWS does, while something still depends on the object (a deleted load
balancer's network interfaces too, until they are released), so that tests prove our delete
order instead of trusting it. DetachInternetGateway is refused while any public address in the
VPC is mapped ("Network vpc-… has some mapped public address(es)"; "The VPC must not contain any
running instances with Elastic IP addresses or public IPv4 addresses":
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachInternetGateway.html): a NAT
gateway's elastic IP, an elastic IP on an instance, an internet-facing load balancer's network
interfaces, including a deleted one's while they linger. ReleaseAddress of an elastic IP a NAT gateway still holds (pending,
available or deleting) is `InvalidIPAddress.InUse` ("[Nondefault VPC] You must use
DisassociateAddress to disassociate the Elastic IP address before you can release it. Otherwise,
Amazon EC2 returns an error (InvalidIPAddress.InUse)":
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReleaseAddress.html)."""


from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from . import async_states
from .wsgi import call, ec2_error

ACTIONS = {"DeleteSecurityGroup", "DeleteSubnet", "DetachInternetGateway", "DeleteVpc", "ReleaseAddress"}


def handles(request):
    return request.service == "ec2" and request.form.get("Action") in ACTIONS



def _error(message, code="DependencyViolation"):
    return ec2_error(code, message)


def _live_nats(ec2):
    # Applies what is due by now (under the time model a refused call hurries nothing; when
    # reads are counted it is a read, so a deleting gateway settles while the caller retries).
    async_states.settle_nats(ec2)
    return [n for n in ec2.nat_gateways.values() if n.state in ("pending", "available", "deleting")]


def _live_instances(ec2):
    return [
        i
        for r in ec2.all_reservations()
        for i in r.instances
        if i.state in ("pending", "running", "shutting-down", "stopping", "stopped")
    ]


def address_holder(ec2, allocation):
    """The NAT gateway that still holds an elastic IP, if any."""
    for nat in _live_nats(ec2):
        if any(a.get("allocationId") == allocation for a in nat.address_set):
            return nat.id
    return None


def _balancers(account, region):
    return list(elbv2_backends[account][region].load_balancers.values())


def _ids(items):
    return [getattr(i, "id", i) for i in items]


def _public_address_holders(account, region, ec2, vpc):
    """What maps a public address in the VPC: NAT gateways' elastic IPs, elastic IPs on
    instances, an internet-facing load balancer's network interfaces, and those of one deleted
    lately while they linger."""
    holders = [n.id for n in _live_nats(ec2) if n.vpc_id == vpc]
    # A NAT gateway's address counts while the gateway lives (above); moto never disassociates it.
    nat_interfaces = {n._eni.id for n in ec2.nat_gateways.values()}
    holders += [
        a.public_ip
        for a in ec2.addresses
        if (a.instance and a.instance.vpc_id == vpc and a.instance.state != "terminated")
        or (a.eni and a.eni.id not in nat_interfaces and a.eni.subnet.vpc_id == vpc)
    ]
    holders += [
        f"load balancer {b.name}"
        for b in _balancers(account, region)
        if b.scheme != "internal" and b.vpc_id == vpc  # internet-facing, the default (moto: None)
    ]
    holders += [
        f"network interface of deleted load balancer {name}"
        for name in async_states.lingering_balancers(account, region, public_in_vpc=vpc)
    ]
    return holders


def blocker(account, region, action, params):
    """What blocks the call, as AWS would word it; None if nothing does."""
    ec2 = ec2_backends[account][region]
    if action == "DeleteSecurityGroup":
        group = params.get("GroupId", "")
        for groups in ec2.groups.values():
            for other in groups.values():
                for rule in other.ingress_rules + other.egress_rules:
                    if other.id != group and (rule.source_group or {}).get("GroupId") == group:
                        return f"resource {group} has a dependent object ({other.id} references it)"
        for balancer in _balancers(account, region):
            if group in _ids(balancer.security_groups or []):
                return f"resource {group} has a dependent object (load balancer {balancer.name})"
        lingering = async_states.lingering_balancers(account, region, group=group)
        if lingering:
            return f"resource {group} has a dependent object (network interface of deleted load balancer {lingering[0]})"
        for instance in _live_instances(ec2):
            if group in _ids(instance.security_groups):
                return f"resource {group} has a dependent object (instance {instance.id})"
    elif action == "DeleteSubnet":
        subnet = params.get("SubnetId", "")
        users = [n.id for n in _live_nats(ec2) if n.subnet_id == subnet]
        users += [i.id for i in _live_instances(ec2) if i.subnet_id == subnet]
        users += [b.name for b in _balancers(account, region) if subnet in _ids(b.subnets)]
        users += [
            f"network interface of deleted load balancer {name}"
            for name in async_states.lingering_balancers(account, region, subnet=subnet)
        ]
        if users:
            return f"The subnet '{subnet}' has dependencies and cannot be deleted ({', '.join(users)})."
    elif action == "DetachInternetGateway":
        vpc = params.get("VpcId", "")
        mapped = _public_address_holders(account, region, ec2, vpc)
        if mapped:
            return f"Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway. ({', '.join(mapped)})"
    elif action == "DeleteVpc":
        vpc = params.get("VpcId", "")
        users = [s.id for zone in ec2.subnets.values() for s in zone.values() if s.vpc_id == vpc]
        users += [g.id for g in ec2.internet_gateways.values() if g.vpc and g.vpc.id == vpc]
        users += [g.id for g in ec2.groups.get(vpc, {}).values() if g.name != "default"]
        if users:
            return f"The vpc '{vpc}' has dependencies and cannot be deleted ({', '.join(users)})."
    return None


def handle(app, request, account):
    params = request.form
    if params["Action"] == "ReleaseAddress":
        holder = address_holder(ec2_backends[account][request.region], params.get("AllocationId", ""))
        if holder:
            return _error(f"Address {params.get('AllocationId')} is in use by {holder}.", "InvalidIPAddress.InUse")
        return call(app, request.environ)
    reason = blocker(account, request.region, params["Action"], params)
    if reason:
        return _error(reason)
    return call(app, request.environ)
