"""Load balancers as their clients and Route 53 see them, where moto has nothing to say.

- `/localaws/elb/<name or DNS name>/unhealthy` stands for the application behind a load balancer
  failing its target group's health check (a bad deploy, a dependency down): every target of the
  groups it forwards to reads `unhealthy` (`Target.FailedHealthChecks`, "Health checks failed")
  once the group's `UnhealthyThresholdCount` checks `HealthCheckIntervalSeconds` apart have
  failed; `/localaws/elb/<...>/healthy` is its recovery, after `HealthyThresholdCount` checks
  ("If the health checks exceed UnhealthyThresholdCount consecutive failures, the load balancer
  takes the target out of service. When the health checks exceed HealthyThresholdCount
  consecutive successes, the load balancer puts the target back in service",
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
  Modelled time as `pending.Settling` counts it. Both answer how many targets they touched.
- `serves(account, balancer, port)`: what an HTTP request on that port gets, which Route 53's
  endpoint checkers judge: a forward to groups without a healthy target answers 503 (a group with
  only unhealthy targets fails open to them, and their failing application answers with an
  error; one with no targets answers 503), a redirect 301, a fixed response its code, and no
  listener on the port refuses the connection.
- `healthy(account, balancer)`: the load balancer's health when an alias record evaluates target
  health: "every target group that contains targets must contain at least one healthy target
  ... A target group that has no registered targets is considered unhealthy"
  (https://docs.aws.amazon.com/Route53/latest/APIReference/API_AliasTarget.html, "ELB load
  balancers").
- `addresses(balancer)`: the public addresses of its nodes, one per subnet (moto gives a load
  balancer none); `/localaws/resolve/<DNS name>` answers them as a resolver answers the
  balancer's DNS name (`dig +short` on AWS), one a line.

Neither Route 53's view nor a resolver's counts as a read of a target's pending registration."""

import hashlib

from moto.ec2.models import ec2_backends
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup, elbv2_backends

from . import async_states, pending
from .wsgi import Locked, Response

# target group ARN -> _Turn, for the groups of a load balancer switched by `control`
_turns = {}
_installed = False


class _Turn:
    """A group's targets turning unhealthy (or back) once its threshold of checks has passed."""

    def __init__(self, failing, group, was_failing):
        self.failing = failing
        count = group.unhealthy_threshold_count if failing else group.healthy_threshold_count
        seconds = int(group.health_check_interval_seconds) * int(count)
        self.settling = None if failing == was_failing else pending.Settling("target.turning", seconds)

    def fails(self, read):
        """Whether the group's targets fail their checks now; `read` counts as one read."""
        if self.settling is not None:
            still = self.settling.pending() if read else self.settling.still_pending()
            if still:
                return not self.failing
            self.settling = None
        return self.failing


def find(fqdn_or_name):
    """(account, region, balancer) for a load balancer's DNS name or name, or Nones."""
    wanted = fqdn_or_name.rstrip(".").lower()
    for account, regions in list(elbv2_backends.items()):
        for region, backend in list(regions.items()):
            for balancer in list(backend.load_balancers.values()):
                if wanted in (balancer.dns_name.lower(), balancer.name.lower()):
                    return account, region, balancer
    return None, None, None


def _groups_of(account, region, balancer):
    backend = elbv2_backends[account][region]
    return [g for g in backend.target_groups.values() if balancer.arn in g.load_balancer_arns]


def _failing_group(group, read=False):
    turn = _turns.get(group.arn)
    return turn is not None and turn.fails(read)


def _healthy_targets(account, region, group, read=False):
    """How many of a group's targets pass its health check, as the load balancer sees them."""
    if _failing_group(group, read):
        return 0
    ec2 = ec2_backends[account][region]
    count = 0
    for target_id in list(group.targets):
        if async_states.registering(group.arn, target_id):
            continue
        if target_id.startswith("i-"):
            instance = ec2.get_instance_by_id(target_id)
            if instance is None or instance.state != "running":
                continue
        count += 1
    return count


def target_counts(account, region, balancer):
    """[(group, healthy targets, unhealthy targets)] of each target group the load balancer
    forwards to, as its health checks see them (a target still registering is neither)."""
    out = []
    for group in _groups_of(account, region, balancer):
        registering = sum(1 for t in list(group.targets) if async_states.registering(group.arn, t))
        healthy = _healthy_targets(account, region, group)
        out.append((group, healthy, len(group.targets) - registering - healthy))
    return out


def healthy(account, region, balancer, read=False):
    """Route 53's evaluate-target-health view of an Application Load Balancer (see above)."""
    if balancer.state != "active":
        return False
    groups = _groups_of(account, region, balancer)
    return bool(groups) and all(
        g.targets and _healthy_targets(account, region, g, read) > 0 for g in groups
    )


def serves(account, region, balancer, port):
    """(HTTP status, reason) an HTTP(S) request on `port` gets, or (None, reason) when the
    connection is refused."""
    listener = next((l for l in balancer.listeners.values() if int(l.port) == int(port)), None)
    if balancer.state != "active" or listener is None:
        return None, "Connection refused"
    backend = elbv2_backends[account][region]
    for action in listener.default_actions:
        if action.type == "redirect":
            return 301, "Moved Permanently"
        if action.type == "fixed-response":
            code = int(action.data.get("FixedResponseConfig", {}).get("StatusCode", 200))
            return code, "Fixed response"
        if action.type == "forward":
            arns = backend._get_target_group_arns_from(action_data=action.data)
            groups = [backend.target_groups[a] for a in arns if a in backend.target_groups]
            if any(_healthy_targets(account, region, g) for g in groups):
                return 200, "OK"
            return 503, "Service Temporarily Unavailable"
    return 503, "Service Temporarily Unavailable"


def addresses(balancer):
    """Stable public addresses of the balancer's nodes, one per subnet, in 198.18.0.0/15 (the
    benchmarking range: never anyone's real host)."""
    out = []
    for index in range(max(1, len(balancer.subnets or []))):
        digest = hashlib.sha256(f"{balancer.arn}/{index}".encode()).digest()
        out.append(f"198.{18 + (digest[0] & 1)}.{digest[1]}.{max(1, digest[2])}")
    return out


def install():
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    health_for = FakeTargetGroup.health_for

    def health(self, target, ec2_backend):
        status = health_for(self, target, ec2_backend)
        if status.status in ("healthy", "initial") and _failing_group(self, read=True):
            return FakeHealthStatus(
                status.instance_id,
                status.port,
                status.health_check_port,
                "unhealthy",
                "Target.FailedHealthChecks",
                "Health checks failed",
            )
        return status

    FakeTargetGroup.health_for = health


def control(path):
    """`/localaws/elb/<name>/unhealthy|healthy` and `/localaws/resolve/<DNS name>`."""
    if path.startswith("/localaws/resolve/"):
        with Locked.lock:
            _, _, balancer = find(path.split("/localaws/resolve/", 1)[1])
            if balancer is None:
                return Response(404, [("Content-Type", "text/plain")], b"NXDOMAIN\n")
            body = "".join(f"{a}\n" for a in addresses(balancer))
        return Response(200, [("Content-Type", "text/plain")], body.encode())
    _, name, verdict = path.rsplit("/", 2)
    if verdict not in ("unhealthy", "healthy"):
        return Response(404, [("Content-Type", "text/plain")], b"unhealthy or healthy\n")
    with Locked.lock:
        account, region, balancer = find(name)
        if balancer is None:
            return Response(404, [("Content-Type", "text/plain")], f"no load balancer {name}\n".encode())
        groups = _groups_of(account, region, balancer)
        for group in groups:
            was = _failing_group(group)
            _turns[group.arn] = _Turn(verdict == "unhealthy", group, was)
        touched = sum(len(g.targets) for g in groups)
    return Response(200, [("Content-Type", "text/plain")], f"{touched}\n".encode())


def _clamp(reads):
    with Locked.lock:
        for turn in _turns.values():
            if turn.settling is not None:
                turn.settling.clamp(reads)


def reset():
    with Locked.lock:
        _turns.clear()
