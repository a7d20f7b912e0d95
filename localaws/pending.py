"""Asynchronous states (NAT gateways, load balancers, Auto Scaling instances, target health,
DynamoDB tables and replicas, Route 53 changes): how long each stays pending before it settles.

The time model (the default): each state settles when its real AWS duration divided by
`LOCALAWS_TIME_SCALE` (default 60) has passed, per object, however often and by whomever it is
read, so a client that polls more often gains nothing, one that sleeps longer than needed loses
time, and a refused call does not hurry anything, as on AWS. The benchmark sets its own scale.

`GET /localaws/pending/hold` makes every state, pending or new, stay pending until
`GET /localaws/pending/release` (a timeout test makes a part hang, then lets it finish: what is
past its time settles at once).

`GET /localaws/pending/log` lists every state begun under the time model as
`[kind, region, begun, ready_at]` (seconds on the machine's monotonic clock, as the request log),
so a benchmark can tell what a step of its run waited for and when it could have seen it settle.

Read counting (`LOCALAWS_TIME_SCALE=0`, an option, not the default): a state settles after
`LOCALAWS_PENDING_READS` (default 2) reads; `GET /localaws/pending/<n>` changes that at runtime and
shortens what is already pending to at most n reads.
"""

import json
import os
import threading
import time

from . import meter
from .wsgi import Response

# Typical durations on AWS, in seconds (observed figures, not guarantees).
REAL_SECONDS = {
    "alb.provisioning": 180,  # CreateLoadBalancer: provisioning -> active
    "alb.deleting": 60,  # DeleteLoadBalancer: its network interfaces still hold subnets and groups
    "target.initial": 30,  # RegisterTargets: initial -> healthy (the target group's healthy
    # threshold times its interval when it has them; 2 x 15 s here)
    "nat.pending": 90,  # CreateNatGateway: pending -> available
    "nat.deleting": 60,  # DeleteNatGateway: deleting -> deleted
    "instance.pending": 60,  # Auto Scaling instance: Pending -> InService (boot)
    "instance.terminating": 30,  # scale-in: Terminating -> gone once drained; the instance's
    # target groups' deregistration delay (300 s by default) comes first, see async_states
    "instance.shutting-down": 60,  # EC2 instance: shutting-down -> terminated, its network
    # interface holding its subnet and security groups meanwhile
    "profile.propagation": 10,  # CreateInstanceProfile -> usable by EC2 and Auto Scaling (IAM is
    # eventually consistent; ~10 s measured for RunInstances)
    "table.creating": 20,  # CreateTable (on demand): CREATING -> ACTIVE
    "table.deleting": 20,  # DeleteTable: DELETING -> gone
    "replica.creating": 180,  # UpdateTable ReplicaUpdates Create: CREATING -> ACTIVE
    "replica.deleting": 120,  # UpdateTable ReplicaUpdates Delete: DELETING -> gone
    "mrsc.creating": 60,  # MRSC UpdateTable (replicas + witness): CREATING -> ACTIVE, 16-86 s
    # observed (ack-api-quirks DDB-TABLE-258)
    "mrsc.deleting": 55,  # MRSC teardown UpdateTable: DELETING -> gone, 55-70 s observed
    # (ack-api-quirks DDB-TABLE-261)
    "route53.change": 60,  # ChangeResourceRecordSets: PENDING -> INSYNC
    "route53.metric": 60,  # Route 53 publishes a health check's HealthCheckStatus each minute
    "elb.metric": 60,  # Elastic Load Balancing publishes its metrics in 60-second intervals
    "cloudwatch.period": 60,  # a CloudWatch alarm evaluates a period once it is over (its
    # Period; this default is replaced by the alarm's own)
    "acm.validation": 60,  # ACM sees the validation CNAME -> ISSUED (23 s observed with the record
    # already in a delegated zone, DataBiosphere/azul#8321; "up to 30 minutes", dns-validation.html)
    "refresh.running": 600,  # StartInstanceRefresh: each replacement boots, warms up (the
    # health check grace period, 300 s) and its predecessor drains before the refresh succeeds
}

_lock = threading.Lock()
_reads = int(os.environ.get("LOCALAWS_PENDING_READS", "2"))
_scale = float(os.environ.get("LOCALAWS_TIME_SCALE", "60") or 0)
_held = False
_clamps = []
_log = []
_started = time.monotonic()


def seconds(kind):
    """How long a state of `kind` lasts here under the time model (0 when reads are counted)."""
    return REAL_SECONDS[kind] / _scale if _scale else 0.0


class Settling:
    """One state on its way: pending until its scaled duration has passed (or, when reads are
    counted, for its first reads), settled after; always pending while states are held."""

    def __init__(self, kind, real_seconds=None):
        self.reads_left = _reads
        duration = REAL_SECONDS[kind] if real_seconds is None else real_seconds
        self.begun = time.monotonic()
        self.ready_at = self.begun + duration / _scale if _scale else None
        if self.ready_at is not None:
            self.kind, self.region = kind, meter.current_region()
            with _lock:
                _log.append(self)

    def pending(self):
        """Whether the state is still pending; counts as one read when reads are counted."""
        if _held:
            return True
        if self.ready_at is not None:
            return time.monotonic() < self.ready_at
        left = self.reads_left
        self.reads_left = left - 1
        return left > 0

    def still_pending(self):
        """Whether it is pending, without counting a read (the answer to the call that started it)."""
        if _held:
            return True
        if self.ready_at is not None:
            return time.monotonic() < self.ready_at
        return self.reads_left > 0

    def after(self, other):
        """Counts the duration from when `other` settles instead of from now (time model only;
        when reads are counted each is read on its own)."""
        if self.ready_at is not None and other.ready_at is not None:
            self.ready_at += max(0.0, other.ready_at - time.monotonic())

    def clamp(self, reads):
        self.reads_left = min(self.reads_left, reads)
        if reads == 0 and self.ready_at is not None:
            self.ready_at = time.monotonic()


def on_change(clamp):
    """Registers `clamp(n)`, called to shorten a module's pending states to at most n reads."""
    _clamps.append(clamp)


def now():
    """The modelled clock: AWS seconds since the local AWS started (real seconds times the scale)
    under the time model; 0 without it, where states settle by reads instead."""
    return (time.monotonic() - _started) * _scale


def clock():
    """`/localaws/clock`: the modelled clock and its scale, for a client that reports modelled
    time (the demo's failover)."""
    body = json.dumps({"seconds": round(now(), 3), "scale": _scale}).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def reset():
    with _lock:
        _log.clear()


def control(path):
    """`/localaws/pending/hold`, `/release`, `/log`, or `/<n>` (read counting): see the module's
    doc."""
    global _reads, _held
    tail = path.rsplit("/", 1)[-1]
    if tail == "log":
        with _lock:
            log = [[s.kind, s.region, s.begun, s.ready_at] for s in _log]
        return Response(200, [("Content-Type", "application/json")], json.dumps(log).encode())
    if tail in ("hold", "release"):
        with _lock:
            _held = tail == "hold"
        return Response(200, [("Content-Type", "text/plain")], tail.encode())
    if tail.isdigit():
        with _lock:
            _reads = int(tail)
        for clamp in _clamps:
            clamp(_reads)
    return Response(200, [("Content-Type", "text/plain")], str(_reads).encode())
