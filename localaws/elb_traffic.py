"""Clients that follow DNS, and the load-balancer metrics their requests make: moto has neither,
so no alarm on a load balancer's traffic (ours: the standby-traffic alarm) could ever fire.

`/localaws/traffic/<record name>?rate=N[&account=]` (a test switch; nothing flows until a test
turns it on) starts a population of clients that send N requests a modelled minute to the
name's A record, evenly spread; `rate=0` stops it. `GET /localaws/traffic` reports every
population: the rate and the load balancers it holds, with the modelled time its cached answer
expires. Under the time model only (the modelled clock, `pending.now`); with read counting
nothing flows.

The clients resolve the name as Route 53's name servers answer it (`route53_answers.answered`:
weights among healthy records, failover groups, aliases to other names of the zone, as
TestDNSAnswer and `/localaws/dns-answer` choose; a population splits its requests by the
records' shares) and keep the answer for the record's TTL of
modelled time, as resolvers cache it. An alias record to a load balancer has no TTL of its own:
"If an alias record points to an AWS resource, you can't set the time to live (TTL); Route 53
uses the default TTL for the resource"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-values-alias.html),
60 s for Elastic Load Balancing ("Alias records which have fixed TTL of 60 seconds",
https://aws.amazon.com/route53/faqs/, DNS failover). Requests go to the load balancer each share
names; a name the zone does not answer, a record that is no alias of a load balancer of the
local AWS, or a load balancer that is not active or has no listener takes no request we count.
The answer is re-read once it has expired, at the first request to the local AWS after that:
requests up to the expiry went to the old answer, those after to the new.

What Elastic Load Balancing publishes, after "CloudWatch metrics for your Application Load
Balancer" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
`AWS/ApplicationELB` `RequestCount`, "the number of requests processed over IPv4 and IPv6", most
useful statistic Sum, dimension `LoadBalancer` = the final portion of the load balancer's ARN
(`app/<name>/<id>`), in the load balancer's region; "Elastic Load Balancing reports metrics to
CloudWatch only when requests are flowing through the load balancer ... in 60-second intervals.
If there are no requests flowing through the load balancer or no data for a metric, the metric
is not reported", and the metrics "exclude health check requests" (Route 53's checkers are not
counted). So: one datum per load balancer per modelled minute while requests reach it (the
requests since its last datum: a minute, or as much more as passes until the next request to
the local AWS observes it), put as PutMetricData puts it, so `cloudwatch_evaluation` evaluates
the alarms watching it.
And for each target group a load balancer forwards to, `HealthyHostCount` and
`UnHealthyHostCount` ("the number of targets that are considered healthy/unhealthy",
"Reported if health checks are enabled", statistics Average, Minimum, Maximum, dimensions
`TargetGroup` = `targetgroup/<name>/<id>` with `LoadBalancer`), as its health checks see the
targets (`elbv2_health.target_counts`), once a modelled minute. **Less than AWS**: only for
the load balancers of a name clients send to (every alias record of it, answered or not), while
they do, so no other test sees them. Not modelled: the other load-balancer and target metrics,
and the `AvailabilityZone` dimension, nor `TargetGroup` on `RequestCount`."""

import json
import math
import sys
import traceback
from urllib.parse import parse_qs

from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID

from . import elbv2_health, pending, route53_answers
from .wsgi import Locked, Response

NAMESPACE = "AWS/ApplicationELB"
METRIC = "RequestCount"
ALIAS_TTL = 60
# (account, record name) -> _Clients
_populations = {}
# (account, region, load balancer ARN) -> _Window of its requests
_windows = {}
# (account, region, target group ARN) -> _Window of its host counts
_hosts = {}


class _Window:
    """What a load balancer (or one of its target groups) has seen since its last datum, and
    the minute under way."""

    def __init__(self):
        self.requests = 0
        self.minute = None  # pending.Settling while a minute is counted


class _Clients:
    """A population of clients of one record name."""

    def __init__(self, account, name, rate):
        self.account, self.name, self.rate = account, name, rate
        self.start = pending.now()
        self.sent = 0  # requests sent since `start`
        self.held = []  # [(account, region, balancer, share)] the cached answer sends to
        self.expires = self.start  # modelled time the cached answer expires

    def _sent_by(self, when):
        return math.floor((when - self.start) * self.rate / 60)

    def send_until(self, when):
        """Sends the requests due up to `when` where the cached answer points."""
        due = self._sent_by(when) - self.sent
        self.sent += due
        if due <= 0 or not self.held:
            return
        # Split by share; the remainders go to the largest shares first.
        parts = [(math.floor(due * share), due * share % 1, target) for *target, share in self.held]
        left = due - sum(p[0] for p in parts)
        parts.sort(key=lambda p: -p[1])
        for index, (count, _, (account, region, balancer)) in enumerate(parts):
            _take(account, region, balancer, count + (1 if index < left else 0))

    def resolve(self, now):
        self.held, ttl = [], ALIAS_TTL
        for record, share in route53_answers.answered(self.account, self.name, "A"):
            account, region, balancer = route53_answers.balancer_of(record)
            if record.alias_target is None:
                ttl = int(record.ttl or 0)
            if balancer is not None:
                self.held.append((account, region, balancer, share))
        self.expires = now + ttl

    def balancers(self):
        """(account, region, balancer) of every alias record of the name, answered or not."""
        records = route53_answers.reachable(self.account, self.name, "A")
        named = [route53_answers.balancer_of(r) for r in records]
        return [n for n in named if n[2] is not None]

    def advance(self, now):
        if now >= self.expires:
            self.send_until(self.expires)
            self.resolve(now)
        self.send_until(now)


def _take(account, region, balancer, requests):
    """Requests reach a load balancer: counted when it is active and listens."""
    if requests <= 0 or balancer.state != "active" or not balancer.listeners:
        return
    window = _windows.setdefault((account, region, balancer.arn), _Window())
    window.requests += requests
    if window.minute is None:
        window.minute = pending.Settling("elb.metric")


def _dimension(arn):
    return arn.split(":", 5)[-1].removeprefix("loadbalancer/")


def _datum(name, value, **dimensions):
    return {
        "MetricName": name,
        "Value": float(value),
        "Unit": "Count",
        "Dimensions": [{"Name": k, "Value": _dimension(v)} for k, v in dimensions.items()],
    }


def _host_counts(due):
    """Appends to `due` each target group's host counts whose minute is over, for the load
    balancers of the names clients send to."""
    named = {(a, r, b.arn): (a, r, b) for c in _populations.values() for a, r, b in c.balancers()}
    for account, region, balancer in named.values():
        for group, healthy, unhealthy in elbv2_health.target_counts(account, region, balancer):
            window = _hosts.setdefault((account, region, group.arn), _Window())
            if window.minute is not None and window.minute.still_pending():
                continue
            window.minute = None
            data = [
                _datum(metric, count, TargetGroup=group.arn, LoadBalancer=balancer.arn)
                for metric, count in (("HealthyHostCount", healthy), ("UnHealthyHostCount", unhealthy))
            ]
            due.append((account, region, data, window))


def _due():
    """[(account, region, data, window)]: what is to be put, and the window it closes."""
    due = []
    with Locked.lock:
        now = pending.now()
        for clients in list(_populations.values()):
            clients.advance(now)
        for (account, region, arn), window in list(_windows.items()):
            if window.minute is None or window.minute.still_pending():
                continue
            if window.requests:  # a minute without requests reports nothing
                due.append((account, region, [_datum(METRIC, window.requests, LoadBalancer=arn)], window))
            window.requests, window.minute = 0, None
        _host_counts(due)
    return due


def publish():
    """Sends the requests due and puts each datum whose minute is over; called after each
    request. Never fails the request."""
    if not _populations and not _windows:
        return
    try:
        for account, region, data, window in _due():
            cloudwatch_backends[account][region].put_metric_data(NAMESPACE, data)
            with Locked.lock:
                # The next minute starts after the put, so each datum falls in its own period
                # of an alarm evaluating the metric (`cloudwatch_evaluation`).
                if window.minute is None:
                    window.minute = pending.Settling("elb.metric")
    except Exception:
        traceback.print_exc(file=sys.stderr)


def _report():
    return {
        name: {
            "rate": clients.rate,
            "expires": round(clients.expires, 3),
            "held": [
                {"region": region, "loadBalancer": balancer.name, "share": share}
                for _, region, balancer, share in clients.held
            ],
        }
        for (_, name), clients in _populations.items()
    }


def control(request):
    """`/localaws/traffic[/<record name>?rate=N[&account=]]`: see the module's doc."""
    name = request.path.removeprefix("/localaws/traffic").strip("/").rstrip(".").lower()
    query = {k.lower(): v[0] for k, v in parse_qs(request.environ.get("QUERY_STRING", "")).items()}
    with Locked.lock:
        if name:
            try:
                rate = float(query.get("rate", ""))
            except ValueError:
                return Response(400, [("Content-Type", "text/plain")], b"rate=<requests a minute>\n")
            key = (query.get("account", DEFAULT_ACCOUNT_ID), name)
            clients = _populations.pop(key, None)
            if clients is not None:
                clients.advance(pending.now())
            if rate > 0:
                _populations[key] = _Clients(key[0], name, rate)
                _populations[key].resolve(pending.now())
        body = json.dumps(_report()).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def reset():
    with Locked.lock:
        _populations.clear()
        _windows.clear()
        _hosts.clear()
