"""A regional outage as a client sees it: every API endpoint of the region stops answering, the
connection is reset with no response. That is every request signed for the region (its SigV4
credential scope) and every request to a global service whose control plane lives there: IAM
and Route 53 are in us-east-1 whatever region their client signs for: for global services "their
control plane is hosted in a single AWS Region, while their data plane is globally distributed",
us-east-1 for IAM (a partitional service) and for Route 53 Public DNS (an edge network service)
(AWS fault isolation boundaries, https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html
and Appendix A/B). STS answers in each region: it goes down with the region it is signed for.

Route 53's data plane keeps working: the modelled health checkers (`route53_health`), alarms
(`cloudwatch_evaluation`) and the DNS answers, which a test reads at `/localaws/dns-answer`
(`route53_answers.control`) rather than through TestDNSAnswer, itself a control-plane API.

`LOCALAWS_UNREACHABLE_REGIONS=us-east-1,...` at start; at run time `GET /localaws/outage/<region>`
takes a region away, `/localaws/outage/<region>/end` brings it back, and `GET /localaws/outage`
reports the regions down and, per region, the requests refused and served (`"iam ListUsers"`):
what a test asserts a client did or did not do."""

import json
import os
import threading

from . import meter
from .chaos import _reset
from .wsgi import Response

# The global services whose endpoints are in us-east-1 (the whitepaper's "Global services").
_HOMED = {"iam": "us-east-1", "route53": "us-east-1"}
_AT_START = {r for r in os.environ.get("LOCALAWS_UNREACHABLE_REGIONS", "").split(",") if r}
_lock = threading.Lock()
_down = set(_AT_START)
_refused = {}
_served = {}


def region_of(request):
    """The region whose endpoint a request reaches."""
    return _HOMED.get(request.service, request.region)


def take(request):
    """A connection reset for a request to a region that is down, or None (counted as served)."""
    if request.path.startswith(("/moto-api", "/localaws")):
        return None
    region = region_of(request)
    key = f"{request.service or 'unknown'} {meter.operation(request)}"
    with _lock:
        counts = _refused if region in _down else _served
        per_region = counts.setdefault(region, {})
        per_region[key] = per_region.get(key, 0) + 1
        if region not in _down:
            return None
    return _reset(request)


def control(path):
    """`/localaws/outage[/<region>[/end]]`."""
    steps = [s for s in path.split("/") if s][2:]
    with _lock:
        if len(steps) == 1:
            _down.add(steps[0])
        elif len(steps) == 2 and steps[1] == "end":
            _down.discard(steps[0])
        elif steps:
            return Response(404, [("Content-Type", "text/plain")], b"/localaws/outage[/<region>[/end]]")
        body = json.dumps({"down": sorted(_down), "refused": _refused, "served": _served}).encode()
    return Response(200, [("Content-Type", "application/json")], body)


def reset():
    with _lock:
        _down.clear()
        _down.update(_AT_START)
        _refused.clear()
        _served.clear()
