"""Route 53 health checks of type CLOUDWATCH_METRIC, whose alarm moto drops.

Kept: the check's `AlarmIdentifier` and `InsufficientDataHealthStatus` (CreateHealthCheck's
HealthCheckConfig, UpdateHealthCheck's parameters), answered back in its HealthCheckConfig with
the alarm's settings as `CloudWatchAlarmConfiguration`
(https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheck.html), and without
the endpoint settings (port, interval, threshold) such a check does not have.

Its status follows the alarm (HealthCheckConfig `Type`, CLOUDWATCH_METRIC: "If the state of the
alarm is OK, the health check is considered healthy. If the state is ALARM, the health check is
considered unhealthy. If CloudWatch doesn't have sufficient data to determine whether the state
is OK or ALARM, the health check status depends on the setting for
InsufficientDataHealthStatus": `Healthy`, `Unhealthy`, or `LastKnownStatus`, "the status of the
health check from the last time that CloudWatch had sufficient data to determine the alarm state.
For new health checks that have no last known status, the default status for the health check is
healthy", https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html).
An alarm that does not exist (deleted after the check was made) gives CloudWatch no data."""

from moto.cloudwatch.models import cloudwatch_backends
from moto.route53.models import HealthCheck
from moto.route53.responses import Route53

TYPE = "CLOUDWATCH_METRIC"
# What moto answers for every check that only an endpoint check has.
ENDPOINT_ONLY = ("IPAddress", "Port", "RequestInterval", "FailureThreshold", "MeasureLatency")
_installed = False
# health check id -> the status it had when its alarm last was OK or ALARM
_last_known = {}


def _alarm(check):
    identifier = check.alarm_identifier or {}
    region, name = identifier.get("Region"), identifier.get("Name")
    if not region or not name or not check.account_id:
        return None
    return cloudwatch_backends[check.account_id][region].alarms.get(name)


def healthy(check):
    """The status Route 53 gives a CLOUDWATCH_METRIC check now (and remembers, for
    `LastKnownStatus`)."""
    alarm = _alarm(check)
    state = alarm.state_value if alarm is not None else "INSUFFICIENT_DATA"
    if state in ("OK", "ALARM"):
        _last_known[check.id] = state == "OK"
        return state == "OK"
    insufficient = getattr(check, "insufficient_data_health_status", None) or "LastKnownStatus"
    if insufficient == "Healthy":
        return True
    if insufficient == "Unhealthy":
        return False
    return _last_known.get(check.id, True)


def _alarm_configuration(self):
    alarm = _alarm(self) if self.type_ == TYPE else None
    if alarm is None:
        return None
    return {
        "EvaluationPeriods": int(alarm.evaluation_periods or 1),
        "Threshold": float(alarm.threshold),
        "ComparisonOperator": alarm.comparison_operator,
        "Period": int(alarm.period or 60),
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "Statistic": alarm.statistic,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
    }


def install():
    global _installed
    if _installed:
        return
    _installed = True
    config = HealthCheck.health_check_config.fget
    HealthCheck.alarm_identifier = None
    HealthCheck.insufficient_data_health_status = None
    HealthCheck.account_id = None

    def health_check_config(self):
        result = config(self)
        if self.type_ == TYPE:
            for endpoint_only in ENDPOINT_ONLY:
                result.pop(endpoint_only, None)
            result["AlarmIdentifier"] = self.alarm_identifier
            result["InsufficientDataHealthStatus"] = self.insufficient_data_health_status
        return result

    HealthCheck.health_check_config = property(health_check_config)
    HealthCheck.cloud_watch_alarm_configuration = property(_alarm_configuration)

    create, update = Route53.create_health_check, Route53.update_health_check

    def create_health_check(self):
        result = create(self)
        given = self._get_param("HealthCheckConfig") or {}
        check = result.result["HealthCheck"]
        if check.type_ == TYPE:
            check.account_id = self.current_account
            check.alarm_identifier = given.get("AlarmIdentifier")
            check.insufficient_data_health_status = given.get("InsufficientDataHealthStatus")
        return result

    def update_health_check(self):
        result = update(self)
        check = result.result["HealthCheck"]
        if check.type_ == TYPE:
            identifier = self._get_param("AlarmIdentifier")
            if identifier:
                check.alarm_identifier = identifier
            status = self._get_param("InsufficientDataHealthStatus")
            if status:
                check.insufficient_data_health_status = status
        return result

    Route53.create_health_check = create_health_check
    Route53.update_health_check = update_health_check


def reset():
    _last_known.clear()
