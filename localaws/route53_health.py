"""Route 53's health checkers, where moto answers every GetHealthCheckStatus with a canned
success and never changes a check's status.

What each checker sees (GetHealthCheckStatus: "one HealthCheckObservation element for each
Route 53 health checker that is reporting a status", its latest result,
https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html), for an
HTTP(S) check of a load balancer (the one its FQDN names):
- a failure when the load balancer's security groups admit neither the whole internet nor the
  checkers' AWS-managed prefix list (`com.amazonaws.<region>.route53-healthchecks`) on the
  check's port: the connections time out. "If your firewalls or security groups restrict
  incoming traffic based on source IP addresses, confirm that your configuration allows traffic
  from the applicable IP address ranges"
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-ip-addresses.html; status
  text as in https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html);
- otherwise what the load balancer answers (`elbv2_health.serves`): 2xx and 3xx are a success,
  anything else or a refused connection a failure ("the endpoint must respond with an HTTP
  status code of 2xx or 3xx",
  https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
One observation per checker region: the check's `Regions`, or Route 53's default eight.
Endpoints that are no load balancer of ours (an IP address, a foreign name) are not modelled:
moto's canned success stands.

The status Route 53 acts on (DNS answers, `healthy`), from the same page and the
HealthCheckConfig reference
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html):
- an endpoint check changes status only after `FailureThreshold` consecutive results the other
  way, checked every `RequestInterval` s ("The number of consecutive health checks that an
  endpoint must pass or fail for Amazon Route 53 to change the current status of the endpoint
  from unhealthy to healthy or vice versa"): the new result must hold for interval x threshold
  of modelled time (`pending.Settling`; in the read-counting mode, for a few reads of the
  status). A new check starts with what the checkers first see. All checkers see the same, so
  Route 53's "more than 18 % of checkers" rule is met or missed by all.
- a CALCULATED check is healthy while at least `HealthThreshold` of its children are ("If you
  specify a number greater than the number of child health checks, Route 53 always considers
  this health check to be unhealthy. If you specify 0, Route 53 always considers this health
  check to be healthy"); its GetHealthCheckStatus has no observations (no checker probes it).
- a disabled check is healthy ("Route 53 considers the status of the health check to always be
  healthy"), and `Inverted` inverts the status, disabled or not.
The status is observed after every request (`observe`), so a change is timed from the request
that caused it; a target whose registration settles with time is seen at the next request.
- a CLOUDWATCH_METRIC check follows its alarm (`route53_alarm_checks`), a RECOVERY_CONTROL check
  its routing control (`route53_routing_controls`).
Not modelled: string matching, latency."""

import sys
import traceback

from moto.ec2.models import ec2_backends
from moto.route53.models import route53_backends
from moto.route53.responses import Route53

from . import elbv2_health, pending, route53_alarm_checks, route53_routing_controls
from .wsgi import Locked

# HealthCheckConfig "Regions": "If you don't specify any regions, Route 53 health checkers in all
# of the regions" check it; these are the eight that set holds.
DEFAULT_REGIONS = (
    "us-east-1", "us-west-1", "us-west-2", "eu-west-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1",
)
ENDPOINT_TYPES = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")
_TIMED_OUT = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, or requests "
    "are being blocked by your firewall. See "
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"
)
_installed = False
# health check id -> _Verdict
_verdicts = {}


class _Verdict:
    """The status Route 53 acts on for one endpoint check, and the other result while it repeats."""

    def __init__(self, healthy):
        self.healthy = healthy
        self.turning = None  # pending.Settling while the checkers see the other result

    def see(self, ok, check):
        if ok == self.healthy:
            self.turning = None
        elif self.turning is None:
            seconds = int(check.request_interval or 30) * int(check.failure_threshold or 3)
            self.turning = pending.Settling("route53.check", seconds)

    def settle(self, read):
        if self.turning is None:
            return
        still = self.turning.pending() if read else self.turning.still_pending()
        if not still:
            self.healthy, self.turning = not self.healthy, None

    def clamp(self, reads):
        if self.turning is not None:
            self.turning.clamp(reads)


def _admits_checkers(ec2, region, group_ids, port):
    checkers = {
        pl.id
        for pl in ec2.managed_prefix_lists.values()
        if pl.prefix_list_name == f"com.amazonaws.{region}.route53-healthchecks"
    }
    for groups in ec2.groups.values():
        for group in groups.values():
            if group.id not in group_ids:
                continue
            for rule in group.ingress_rules:
                low, high = rule.from_port, rule.to_port
                if low is None or not (int(low) <= port <= int(high if high is not None else low)):
                    continue
                if rule.ip_range.get("CidrIp") == "0.0.0.0/0" or rule.prefix_list_id in checkers:
                    return True
    return False


def observation(check):
    """(success, status text, address) a checker reports for an endpoint check, or None when
    the endpoint is not a load balancer of the local AWS."""
    if not str(check.type_ or "").startswith("HTTP") or not check.fqdn:
        return None
    account, region, balancer = elbv2_health.find(check.fqdn)
    if balancer is None:
        return None
    port = int(check.port or 80)
    address = elbv2_health.addresses(balancer)[0]
    group_ids = {getattr(g, "id", g) for g in balancer.security_groups or []}
    if not _admits_checkers(ec2_backends[account][region], region, group_ids, port):
        return False, _TIMED_OUT, address
    code, reason = elbv2_health.serves(account, region, balancer, port)
    if code is None:
        return False, f"Failure: {reason}. The endpoint is not accepting connections on port {port}.", address
    ok = 200 <= code < 400
    return ok, f"{'Success' if ok else 'Failure'}: HTTP Status Code {code}, {reason}", address


def _check(check_id):
    for regions in list(route53_backends.values()):
        for backend in list(regions.values()):
            if check_id in backend.health_checks:
                return backend.health_checks[check_id]
    return None


def healthy(check_id, read=False, seen=()):
    """The status Route 53 acts on for a health check; `read` counts as one read of a change
    under way (the read-counting mode)."""
    with Locked.lock:
        check = _check(check_id)
        if check is None or check_id in seen:
            return True
        if check.disabled:
            status = True
        elif check.type_ == "CALCULATED":
            children = check.children or []
            up = sum(healthy(c, read, (*seen, check_id)) for c in children)
            threshold = len(children) if check.health_threshold is None else int(check.health_threshold)
            status = up >= threshold
        elif check.type_ == route53_alarm_checks.TYPE:
            status = route53_alarm_checks.healthy(check)
        elif check.type_ == route53_routing_controls.TYPE:
            status = route53_routing_controls.healthy(check)
        else:
            verdict = _verdicts.get(check_id)
            if verdict is None:
                status = True
            else:
                verdict.settle(read)
                status = verdict.healthy
        return status != bool(check.inverted)


def observe():
    """What every endpoint check's checkers see now; called after each request. moto's models
    change under other requests' threads: a round that meets a change half made is skipped (and
    logged), the next request observes again; the request itself is answered all the same."""
    try:
        _observe()
    except Exception:  # the checkers' view must never fail the request that triggered it
        traceback.print_exc(file=sys.stderr)


def _observe():
    with Locked.lock:
        live = set()
        for regions in list(route53_backends.values()):
            for backend in list(regions.values()):
                for check in list(backend.health_checks.values()):
                    if check.type_ == route53_alarm_checks.TYPE:
                        route53_alarm_checks.healthy(check)  # Route 53 keeps watching the alarm
                    if check.type_ not in ENDPOINT_TYPES:
                        continue
                    live.add(check.id)
                    seen = observation(check)
                    ok = True if seen is None else seen[0]
                    verdict = _verdicts.get(check.id)
                    if verdict is None:
                        _verdicts[check.id] = _Verdict(ok)
                        continue
                    verdict.see(ok, check)
                    verdict.settle(read=False)
        for gone in set(_verdicts) - live:
            del _verdicts[gone]


def _clamp(reads):
    with Locked.lock:
        for verdict in _verdicts.values():
            verdict.clamp(reads)


def install():
    global _installed
    if _installed:
        return
    _installed = True
    pending.on_change(_clamp)
    status = Route53.get_health_check_status

    def get_health_check_status(self):
        result = status(self)
        check = self.backend.get_health_check(self._get_param("HealthCheckId"))
        if check.type_ == "CALCULATED":
            result.result["HealthCheckObservations"] = []
            return result
        with Locked.lock:
            seen = observation(check)
        if seen is None:
            return result
        _, text, address = seen
        template = result.result["HealthCheckObservations"][0]
        result.result["HealthCheckObservations"] = [
            {
                "Region": region,
                "IPAddress": address,
                "StatusReport": {"Status": text, "CheckedTime": template["StatusReport"]["CheckedTime"]},
            }
            for region in (check.regions or DEFAULT_REGIONS)
        ]
        return result

    Route53.get_health_check_status = get_health_check_status


def reset():
    with Locked.lock:
        _verdicts.clear()
        route53_alarm_checks.reset()
    route53_routing_controls.reset()
