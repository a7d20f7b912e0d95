"""What AWS does asynchronously, moto does at once (moto-gaps.md §0 #3). Here a new NAT gateway is
`pending`, and a deleted one `deleting`, for the next few DescribeNatGateways; a new load
balancer stays `provisioning` for the next few DescribeLoadBalancers; a new Auto Scaling
instance is `Pending` for the next few DescribeAutoScalingGroups. That exercises the provider's
waiters. How long each stays pending is `pending.Settling`'s: a few reads, or under the time
model a scaled real duration counted from the create."""

import threading

from moto.autoscaling.models import AutoScalingBackend, InstanceState
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.elbv2.models import FakeLoadBalancer

from . import pending

_lock = threading.Lock()
# object id -> (pending.Settling, state to reach)
_pending = {}
_installed = False


def _clamp(reads):
    with _lock:
        for settling, _ in _pending.values():
            settling.clamp(reads)


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
        with _lock:
            for nat in self.nat_gateways.values():
                _settle(nat.id, lambda state, nat=nat: setattr(nat, "state", state))
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
    AutoScalingBackend.describe_auto_scaling_groups = describe_auto_scaling_groups


def reset():
    with _lock:
        _pending.clear()
