"""What AWS does asynchronously, moto does at once (moto-gaps.md §0 #3). Here a new NAT gateway is
`pending`, and a deleted one `deleting`, for a while; a new load balancer stays `provisioning`,
and a deleted one's network interfaces keep its subnets and security groups in use (see
`ec2_dependencies`); a new Auto Scaling instance is `Pending`, and one scaled in stays
`Terminating` (for its target groups' deregistration delay, then its termination); a terminated
EC2 instance is `shutting-down` first; a newly registered target is `initial` before it is
`healthy`. That exercises the provider's waiters. How long each stays
pending is `pending.Settling`'s: a scaled real duration counted from the call that started it
(or, when reads are counted, a few reads)."""

import copy
import json
import threading
from typing import NamedTuple

from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState
from moto.ec2.models.instances import Instance, InstanceBackend
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeLoadBalancer, FakeTargetGroup

from . import pending
from .wsgi import Response

_lock = threading.Lock()
# object id -> (pending.Settling, state to reach)
_pending = {}
# (account, region) -> [_Deleted] load balancers deleted lately
_deleted_balancers = {}
# group (moto object: a new group of the same name has none) -> [(InstanceState, pending.Settling)]
# scaled in, still terminating
_terminating = {}
# (target group ARN, target id) -> pending.Settling of a new registration
_registering = {}
# instance id -> (moto Instance, pending.Settling) shutting down
_shutting_down = {}
# every instance scaled in, with the deregistration delay it drained for, oldest first
_drained = []
_installed = False


class _Deleted(NamedTuple):
    """A deleted load balancer whose network interfaces linger."""

    name: str
    subnets: set
    groups: set
    vpc: str
    public: bool
    settling: pending.Settling


def _clamp(reads):
    with _lock:
        settlings = [settling for settling, _ in _pending.values()]
        settlings += [entry.settling for entries in _deleted_balancers.values() for entry in entries]
        settlings += [settling for entries in _terminating.values() for _, settling in entries]
        settlings += list(_registering.values())
        settlings += [settling for _, settling in _shutting_down.values()]
        for settling in settlings:
            settling.clamp(reads)


def settle_nats(backend):
    """Settles the region's NAT gateway states that are due (a read of each if reads count)."""
    with _lock:
        for nat in backend.nat_gateways.values():
            _settle(nat.id, lambda state, nat=nat: _reach(backend, nat, state))


def _reach(backend, nat, state):
    nat.state = state
    if state == "deleted":
        _free_address(backend, nat)


def _free_address(backend, nat):
    """Deleting a public NAT gateway "disassociates its Elastic IP address, but does not release
    the address from your account"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteNatGateway.html): free to
    give a new gateway. moto keeps it associated with the deleted gateway's interface."""
    for address in backend.addresses:
        if address.eni is not None and address.eni is getattr(nat, "_eni", None):
            address.eni = None
            address.association_id = None


def lingering_balancers(account, region, subnet=None, group=None, public_in_vpc=None):
    """Deleted load balancers whose network interfaces still use `subnet` or `group`, or hold
    public addresses in the VPC `public_in_vpc` (internet-facing ones); asking counts as one read
    of each that does when reads are counted."""
    with _lock:
        entries = _deleted_balancers.get((account, region), [])
        users = [
            e
            for e in entries
            if subnet in e.subnets or group in e.groups or (e.public and e.vpc == public_in_vpc)
        ]
        still = [e for e in users if e.settling.pending()]
        _deleted_balancers[(account, region)] = [e for e in entries if e not in users or e in still]
        return [e.name for e in still]


def registering(group_arn, target_id):
    """Whether a target's registration is still in progress, without counting a read (what
    Route 53 sees of a load balancer is not a client's DescribeTargetHealth)."""
    with _lock:
        settling = _registering.get((group_arn, target_id))
        return settling is not None and settling.still_pending()


def _settle(object_id, apply):
    """Calls `apply(state to reach)` once the object's pending state has settled."""
    entry = _pending.get(object_id)
    if entry and not entry[0].pending():
        del _pending[object_id]
        apply(entry[1])


def install():
    """Patches moto once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    create, delete, describe = (
        NatGatewayBackend.create_nat_gateway,
        NatGatewayBackend.delete_nat_gateway,
        NatGatewayBackend.describe_nat_gateways,
    )

    def create_nat_gateway(self, *args, **kwargs):
        settle_nats(self)  # a gateway deleted by now has given its address back
        nat = create(self, *args, **kwargs)
        with _lock:
            nat.state = "pending"
            _pending[nat.id] = (pending.Settling("nat.pending"), "available")
        return nat

    def delete_nat_gateway(self, nat_gateway_id):
        nat = delete(self, nat_gateway_id)
        with _lock:
            nat.state = "deleting"
            _pending[nat.id] = (pending.Settling("nat.deleting"), "deleted")
        return nat

    def describe_nat_gateways(self, *args, **kwargs):
        settle_nats(self)
        return describe(self, *args, **kwargs)

    NatGatewayBackend.create_nat_gateway = create_nat_gateway
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway
    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways

    balancer_init, activate = FakeLoadBalancer.__init__, FakeLoadBalancer.activate

    def provisioning(self, *args, **kwargs):
        balancer_init(self, *args, **kwargs)
        with _lock:
            _pending[self.arn] = (pending.Settling("alb.provisioning"), "active")

    def activate_later(self):
        # moto activates a balancer when it is described.
        with _lock:
            if self.arn in _pending and _pending[self.arn][0].pending():
                return
            _pending.pop(self.arn, None)
        activate(self)

    FakeLoadBalancer.__init__ = provisioning
    FakeLoadBalancer.activate = activate_later

    instance_init, describe_groups = InstanceState.__init__, AutoScalingBackend.describe_auto_scaling_groups

    def pending_instance(self, *args, **kwargs):
        instance_init(self, *args, **kwargs)
        if self.lifecycle_state == "InService":
            with _lock:
                self.lifecycle_state = "Pending"
                _pending[self.instance_id] = (pending.Settling("instance.pending"), "InService")

    def describe_auto_scaling_groups(self, *args, **kwargs):
        groups = describe_groups(self, *args, **kwargs)
        with _lock:
            for group in groups:
                for state in group.instance_states:
                    _settle(
                        state.instance_id,
                        lambda reached, state=state: setattr(state, "lifecycle_state", reached),
                    )
        return groups

    InstanceState.__init__ = pending_instance
    AutoScalingBackend.describe_auto_scaling_groups = _with_terminating(describe_auto_scaling_groups)
    _install_scale_in()
    _install_shutdown()
    _install_balancer_deletion()
    _install_target_registration()


def _deregistration_delays(group):
    """Instance ID -> seconds Auto Scaling waits before terminating it: the longest
    `deregistration_delay.timeout_seconds` (0-3600, 300 by default) of the group's target groups
    that hold it. "The autoscaling group sends a deregistration call to the ALB once a scale-in
    event happens, and the ALB then waits for the configured deregistration delay ... After that
    period elapsed, the instance(s) get terminated" ("WaitingForELBConnectionDraining"), even
    without connections (https://repost.aws/questions/QUBxhYcFd_RrqBPHFJsVsPqQ;
    https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay,
    https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html).
    The delay is the group's when the instance is scaled in: one set to 0 before drains nothing."""
    elbv2 = group.autoscaling_backend.elbv2_backend
    delays = {}
    for arn in group.target_group_arns or []:
        target_group = elbv2.target_groups.get(arn)
        if target_group is None:
            continue
        seconds = int(target_group.attributes.get("deregistration_delay.timeout_seconds", 300))
        for target in target_group.targets:
            delays[target] = max(delays.get(target, 0), seconds)
    return delays


def drained():
    """`/localaws/drained`: each instance scaled in (or terminated with its group), in order, with
    its group and the deregistration delay it waited, so a test sees how it was drained."""
    with _lock:
        body = json.dumps(_drained).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def _install_scale_in():
    set_capacity = FakeAutoScalingGroup.set_desired_capacity

    def active_instances(self):
        # A booting instance counts toward the group's capacity and can be scaled in (moto
        # counts only InService ones: it would launch more, or keep one it should terminate).
        return [x for x in self.instance_states if x.lifecycle_state in ("Pending", "InService")]

    def set_desired_capacity(self, new_capacity):
        before = list(self.instance_states)
        delays = _deregistration_delays(self)
        set_capacity(self, new_capacity)
        removed = [state for state in before if state not in self.instance_states]
        with _lock:
            for state in removed:
                _pending.pop(state.instance_id, None)
                state.lifecycle_state = "Terminating"
                delay = delays.get(state.instance_id, 0)
                _drained.append({"instance": state.instance_id, "group": self.name, "delay": delay})
                terminating = pending.Settling(
                    "instance.terminating", delay + pending.REAL_SECONDS["instance.terminating"]
                )
                _terminating.setdefault(self, []).append((state, terminating))
                # EC2 shuts the instance down once Auto Scaling has drained it.
                if state.instance_id in _shutting_down:
                    _shutting_down[state.instance_id][1].after(terminating)

    FakeAutoScalingGroup.set_desired_capacity = set_desired_capacity
    FakeAutoScalingGroup.active_instances = active_instances


def _install_shutdown():
    """A terminated instance is `shutting-down` first; its network interface keeps its subnet
    and security groups in use until it is `terminated` (see `ec2_dependencies`)."""
    terminate, reservations = Instance.terminate, InstanceBackend.all_reservations

    def terminate_slowly(self):
        previous = terminate(self)
        with _lock:
            self._state.name, self._state.code = "shutting-down", 32
            _shutting_down[self.id] = (self, pending.Settling("instance.shutting-down"))
        return previous

    def all_reservations(self, *args, **kwargs):
        with _lock:
            for instance_id, (instance, settling) in list(_shutting_down.items()):
                if not settling.pending():
                    instance._state.name, instance._state.code = "terminated", 48
                    del _shutting_down[instance_id]
        return reservations(self, *args, **kwargs)

    Instance.terminate = terminate_slowly
    InstanceBackend.all_reservations = all_reservations


def _with_terminating(describe):
    """Shows a group's scaled-in instances as Terminating until they are gone (in a copy of the
    group, so moto's own capacity arithmetic never counts them)."""

    def describe_auto_scaling_groups(self, *args, **kwargs):
        groups = describe(self, *args, **kwargs)
        shown = []
        with _lock:
            for group in groups:
                left = [(state, s) for state, s in _terminating.get(group, []) if s.pending()]
                _terminating[group] = left
                if left:
                    group = copy.copy(group)
                    group.instance_states = group.instance_states + [state for state, _ in left]
                shown.append(group)
        return shown

    return describe_auto_scaling_groups


def _install_balancer_deletion():
    delete = ELBv2Backend.delete_load_balancer

    def delete_load_balancer(self, arn):
        balancer = self.load_balancers.get(arn)
        delete(self, arn)
        if balancer is None:
            return
        subnets = {getattr(s, "id", s) for s in balancer.subnets or []}
        groups = {getattr(g, "id", g) for g in balancer.security_groups or []}
        public = balancer.scheme != "internal"  # internet-facing, AWS's default (moto: None)
        with _lock:
            _deleted_balancers.setdefault((self.account_id, self.region_name), []).append(
                _Deleted(balancer.name, subnets, groups, balancer.vpc_id, public, pending.Settling("alb.deleting"))
            )

    ELBv2Backend.delete_load_balancer = delete_load_balancer


def _install_target_registration():
    register, health_for = FakeTargetGroup.register, FakeTargetGroup.health_for

    def register_targets(self, targets):
        new = [t["Id"] for t in targets if t["Id"] not in self.targets]
        register(self, targets)
        seconds = int(self.health_check_interval_seconds) * int(self.healthy_threshold_count)
        with _lock:
            for target in new:
                settling = pending.Settling("target.initial", seconds)
                # An instance still booting is health checked once it is up.
                booting = _pending.get(target)
                if booting:
                    settling.after(booting[0])
                _registering[(self.arn, target)] = settling

    def health(self, target, ec2_backend):
        status = health_for(self, target, ec2_backend)
        key = (self.arn, target["Id"])
        with _lock:
            if status.status == "healthy" and key in _registering:
                if _registering[key].pending():
                    return FakeHealthStatus(
                        status.instance_id,
                        status.port,
                        status.health_check_port,
                        "initial",
                        "Elb.RegistrationInProgress",
                        "Target registration is in progress",
                    )
                del _registering[key]
        return status

    FakeTargetGroup.register = register_targets
    FakeTargetGroup.health_for = health


def reset():
    with _lock:
        _pending.clear()
        _deleted_balancers.clear()
        _terminating.clear()
        _registering.clear()
        _shutting_down.clear()
        _drained.clear()
