"""CloudWatch alarms evaluate the data put to their metric (moto never changes an alarm's state
by itself: only SetAlarmState does).

How an alarm is evaluated, after "Using Amazon CloudWatch alarms"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
"Evaluating an alarm") and "Configuring how CloudWatch alarms treat missing data"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
- data put with PutMetricData to an alarm's namespace, metric name and exact dimensions falls in
  a period of the alarm's `Period`; the period is evaluated once it is over (its `Period` of
  modelled time after its first datapoint, `pending.Settling`; in the read-counting mode, after a
  few reads), with the alarm's `Statistic` over the period's datapoints compared to `Threshold`
  by `ComparisonOperator`;
- the alarm goes to ALARM when at least `DatapointsToAlarm` (default `EvaluationPeriods`) of the
  last `EvaluationPeriods` evaluated periods breach, to OK otherwise;
- a period without data: with `TreatMissingData = notBreaching` it is evaluated as a period
  within the threshold, with `breaching` as one that breaches ("notBreaching — Missing data
  points are treated as being within the threshold"; "breaching — Missing data points are
  treated as breaching the threshold"); with `ignore` and `missing` it changes nothing
  (`ignore`: "The current alarm state is maintained"). AWS evaluates every period; here the
  periods without data are counted from the alarm's first datapoint on (each period that is
  over opens the next), so an alarm that never had data stays where it is (on AWS a
  `notBreaching` one goes to OK, a `breaching` one to ALARM; `missing` goes to
  INSUFFICIENT_DATA once every period it evaluates is empty: not modelled). Neither extended
  statistics nor metric math are modelled.
State changes go through SetAlarmState, so the alarm history and actions follow as for any
change (`cloudwatch_alarms`). Each evaluation is made after a request (`evaluate`)."""

import operator
import statistics
import sys
import threading
import traceback

from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from . import pending

_COMPARE = {
    "GreaterThanOrEqualToThreshold": operator.ge,
    "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
# TreatMissingData -> whether a period without data breaches, for the treatments that evaluate it
_MISSING = {"notBreaching": False, "breaching": True}
_STATISTIC = {
    "Maximum": max,
    "Minimum": min,
    "Sum": sum,
    "Average": statistics.fmean,
    "SampleCount": len,
}
_installed = False
_lock = threading.Lock()
# (account, region, alarm name) -> _Period under way
_open = {}
# (account, region, alarm name) -> [breaching: bool] of evaluated periods, oldest first
_evaluated = {}


class _Period:
    def __init__(self, alarm):
        self.values = []
        self.settling = pending.Settling("cloudwatch.period", int(alarm.period or 60))


def _dimensions(pairs):
    return sorted((d["Name"], d["Value"]) for d in pairs or [])


def _watches(alarm, namespace, datum):
    return (
        alarm.namespace == namespace
        and alarm.metric_name == datum.get("MetricName")
        and alarm.statistic in _STATISTIC
        and alarm.comparison_operator in _COMPARE
        and sorted((d.name, d.value) for d in alarm.dimensions) == _dimensions(datum.get("Dimensions"))
    )


def _values(datum):
    if datum.get("Values"):
        counts = datum.get("Counts") or [1] * len(datum["Values"])
        return [float(v) for v, n in zip(datum["Values"], counts) for _ in range(int(float(n)))]
    return [float(datum["Value"])] if datum.get("Value") is not None else []


def install():
    global _installed
    if _installed:
        return
    _installed = True
    put = CloudWatchBackend.put_metric_data

    def put_metric_data(self, namespace, metric_data):
        put(self, namespace, metric_data)
        with _lock:
            for datum in metric_data:
                for alarm in list(self.alarms.values()):
                    if not _watches(alarm, namespace, datum):
                        continue
                    key = (self.account_id, self.region_name, alarm.name)
                    period = _open.setdefault(key, _Period(alarm))
                    period.values += _values(datum)

    CloudWatchBackend.put_metric_data = put_metric_data
    pending.on_change(_clamp)


def _clamp(reads):
    with _lock:
        for period in _open.values():
            period.settling.clamp(reads)


def evaluate():
    """Evaluates every period that is over; called after each request. Never fails the request."""
    try:
        _evaluate()
    except Exception:
        traceback.print_exc(file=sys.stderr)


def _evaluate():
    with _lock:
        due = [key for key, period in _open.items() if not period.settling.pending()]
        closed = [(key, _open.pop(key)) for key in due]
    for (account, region, name), period in closed:
        backend = cloudwatch_backends[account][region]
        alarm = backend.alarms.get(name)
        if alarm is None:
            continue
        treatment = _MISSING.get(alarm.treat_missing_data)
        if treatment is not None:
            # Evaluated whether data comes or not: the next period starts now.
            with _lock:
                _open.setdefault((account, region, name), _Period(alarm))
        if period.values:
            value = _STATISTIC[alarm.statistic](period.values)
            breaching = _COMPARE[alarm.comparison_operator](value, float(alarm.threshold))
        elif treatment is not None:
            value, breaching = f"no data, treated as {alarm.treat_missing_data}", treatment
        else:
            continue
        with _lock:
            history = _evaluated.setdefault((account, region, name), [])
            history.append(breaching)
            last = history[-int(alarm.evaluation_periods or 1):]
        needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods or 1)
        state = "ALARM" if sum(last) >= needed else "OK"
        if state != alarm.state_value:
            verb = "was" if breaching else "was not"
            reason = (
                f"Threshold Crossed: {len(last)} datapoint(s) evaluated, the last ({value}) {verb} "
                f"{alarm.comparison_operator} the threshold ({alarm.threshold})."
            )
            backend.set_alarm_state(name, reason, "{}", state)


def reset():
    with _lock:
        _open.clear()
        _evaluated.clear()
