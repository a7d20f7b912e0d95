"""Route 53 publishes each health check's status to CloudWatch, where moto publishes nothing, so
an alarm on it (ours: the health-check alarm in us-east-1) could never fire from what the
checkers see.

"Monitoring health checks using CloudWatch"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html):
the metric `HealthCheckStatus`, namespace `AWS/Route53`, dimension `HealthCheckId`, is Route 53's
evaluation of the check, "1 indicates healthy, and 0 indicates unhealthy", shown "at one-minute
intervals"; Route 53's metrics are in US East (N. Virginia) only ("Monitoring Route 53 with
Amazon CloudWatch", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-cloudwatch.html:
"you must set the Region to US East (N. Virginia)"). So: one datum per check per modelled
minute, in us-east-1 of the check's account, put as PutMetricData would put it (so
`cloudwatch_evaluation` evaluates the alarms watching it), with the status `route53_health`
gives the check (endpoint, CALCULATED and CLOUDWATCH_METRIC checks alike). A disabled check
publishes nothing (UpdateHealthCheck `Disabled`: "Route 53 stops submitting requests",
"stops aggregating", "stops monitoring the corresponding CloudWatch metrics",
https://docs.aws.amazon.com/Route53/latest/APIReference/API_UpdateHealthCheck.html).
A change of status is put at once, not at the next minute (the alarm then sees it within its
period, as it would see that minute's datum); in the read-counting mode (no modelled clock) only
changes are put.
Not modelled: the other Route 53 metrics (HealthCheckPercentageHealthy, ChildHealthCheckHealthyCount,
latency)."""

import sys
import traceback

from moto.cloudwatch.models import cloudwatch_backends
from moto.route53.models import route53_backends

from . import pending, route53_health
from .wsgi import Locked

NAMESPACE = "AWS/Route53"
METRIC = "HealthCheckStatus"
REGION = "us-east-1"
# health check id -> (status last put, pending.Settling until the next minute's datum)
_published = {}


def publish():
    """Puts the datum each check is due; called after each request. Never fails the request."""
    try:
        _publish()
    except Exception:
        traceback.print_exc(file=sys.stderr)


def _due():
    due = []
    with Locked.lock:
        live = set()
        for account, regions in list(route53_backends.items()):
            for backend in list(regions.values()):
                for check in list(backend.health_checks.values()):
                    if check.disabled:
                        continue
                    live.add(check.id)
                    status = route53_health.healthy(check.id)
                    last = _published.get(check.id)
                    if last is not None and last[0] == status and last[1].still_pending():
                        continue
                    _published[check.id] = (status, pending.Settling("route53.metric"))
                    due.append((account, check.id, status))
        for gone in set(_published) - live:
            del _published[gone]
    return due


def _publish():
    for account, check_id, status in _due():
        cloudwatch_backends[account][REGION].put_metric_data(
            NAMESPACE,
            [
                {
                    "MetricName": METRIC,
                    "Value": 1.0 if status else 0.0,
                    "Dimensions": [{"Name": "HealthCheckId", "Value": check_id}],
                }
            ],
        )


def reset():
    with Locked.lock:
        _published.clear()
