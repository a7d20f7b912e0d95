"""What AWS does asynchronously, moto does at once (moto-gaps.md §0 #3). Here a new NAT gateway is
`pending`, and a deleted one `deleting`, for the next few DescribeNatGateways; a new load
balancer stays `provisioning` for the next few DescribeLoadBalancers; a new Auto Scaling
instance is `Pending` for the next few DescribeAutoScalingGroups. That exercises the provider's
waiters. The count is `pending.reads()` (`LOCALAWS_PENDING_READS`, default 2)."""

import threading

from moto.autoscaling.models import AutoScalingBackend, InstanceState
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.elbv2.models import FakeLoadBalancer

from . import pending

_lock = threading.Lock()
# object id -> [reads left, state to reach]
_pending = {}
_installed = False


def _clamp(reads):
    with _lock:
        for entry in _pending.values():
            entry[0] = min(entry[0], reads)


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
            _pending[nat.id] = [pending.reads(), "available"]
        return nat

    def delete_nat_gateway(self, nat_gateway_id):
        nat = delete(self, nat_gateway_id)
        with _lock:
            nat.state = "deleting"
            _pending[nat.id] = [pending.reads(), "deleted"]
        return nat

    def describe_nat_gateways(self, *args, **kwargs):
        with _lock:
            for nat in self.nat_gateways.values():
                entry = _pending.get(nat.id)
                if entry:
                    entry[0] -= 1
                    if entry[0] < 0:
                        nat.state = entry[1]
                        del _pending[nat.id]
        return describe(self, *args, **kwargs)

    NatGatewayBackend.create_nat_gateway = create_nat_gateway
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway
    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways

    activate = FakeLoadBalancer.activate

    def activate_later(self):
        with _lock:
            entry = _pending.setdefault(self.arn, [pending.reads(), "active"])
            entry[0] -= 1
            if entry[0] >= 0:
                return
            del _pending[self.arn]
        activate(self)

    FakeLoadBalancer.activate = activate_later

    instance_init, describe_groups = InstanceState.__init__, AutoScalingBackend.describe_auto_scaling_groups

    def pending_instance(self, *args, **kwargs):
        instance_init(self, *args, **kwargs)
        if self.lifecycle_state == "InService":
            with _lock:
                self.lifecycle_state = "Pending"
                _pending[self.instance_id] = [pending.reads(), "InService"]

    def describe_auto_scaling_groups(self, *args, **kwargs):
        groups = describe_groups(self, *args, **kwargs)
        with _lock:
            for group in groups:
                for state in group.instance_states:
                    entry = _pending.get(state.instance_id)
                    if entry:
                        entry[0] -= 1
                        if entry[0] < 0:
                            state.lifecycle_state = entry[1]
                            del _pending[state.instance_id]
        return groups

    InstanceState.__init__ = pending_instance
    AutoScalingBackend.describe_auto_scaling_groups = describe_auto_scaling_groups


def reset():
    with _lock:
        _pending.clear()
