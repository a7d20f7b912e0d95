"""CloudWatch alarm state as AWS keeps it (moto-gaps.md §8): a new alarm starts in
INSUFFICIENT_DATA until its metric has been evaluated, and updating an alarm keeps its state
(moto builds a fresh alarm in state OK on every PutMetricAlarm).

Alarm actions as AWS runs them: when an alarm changes state (SetAlarmState), each SNS action of
the new state is published (the notification is the topic's, `sns_topics` shows what a topic
was sent), and fails where the topic's KMS key does not let CloudWatch use it.
CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed `alias/aws/sns` (its
policy cannot be edited) nor with a customer key whose policy does not let
`cloudwatch.amazonaws.com` use kms:Decrypt and kms:GenerateDataKey*; the alarm history then says
"Failed to execute action <topic ARN>. Received error: "CloudWatch Alarms does not have
authorization to access the SNS topic encryption key.""
(https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns). DescribeAlarmHistory, which
moto does not implement (500), answers from the history kept here: StateUpdate and Action items,
newest first, kept after the alarm is deleted as AWS keeps them (two weeks).

An alarm notifies only topics of its own region: PutMetricAlarm with an SNS action elsewhere is
refused with `ValidationError: Invalid region <topic region> specified. Only <alarm region> is
supported.` (seen in a CI log quoted in https://github.com/cds-snc/notification-terraform/pull/128;
https://github.com/cds-snc/covid-alert-portal/pull/333 adds a topic in us-east-1 for a Route 53
health-check alarm for this reason)."""

import fnmatch
import json
import sys
import threading
import traceback

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend
from moto.core.utils import utcnow
from moto.kms.models import kms_backends
from moto.sns.models import sns_backends

from . import cloudwatch_cbor

KEY_REFUSED = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
CLOUDWATCH = "cloudwatch.amazonaws.com"

_installed = False
_lock = threading.Lock()
# (account, region) -> [history item], oldest first
_history = {}


def reset():
    with _lock:
        _history.clear()


def install():
    global _installed
    if _installed:
        return
    _installed = True
    put = CloudWatchBackend.put_metric_alarm
    set_state = CloudWatchBackend.set_alarm_state

    def put_metric_alarm(self, name, *args, **kwargs):
        prior = self.alarms.get(name)
        alarm = put(self, name, *args, **kwargs)
        _refuse_other_regions(self, alarm, prior)
        if prior is not None:
            alarm.state_value = prior.state_value
            alarm.state_reason = prior.state_reason
            alarm.state_reason_data = prior.state_reason_data
            alarm.state_updated_timestamp = prior.state_updated_timestamp
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
        return alarm

    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
        alarm = self.alarms.get(alarm_name)
        old = alarm.state_value if alarm is not None else None
        set_state(self, alarm_name, reason, reason_data, state_value)
        if old == state_value:
            return
        _record_state_change(self, alarm, old, reason)

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
    CloudWatchBackend.set_alarm_state = set_alarm_state


def _refuse_other_regions(backend, alarm, prior):
    """Refuses, as AWS does, an SNS action in another region; the prior alarm stays as it was."""
    actions = (alarm.alarm_actions or []) + (alarm.ok_actions or []) + (
        alarm.insufficient_data_actions or [])
    for action in actions:
        parts = action.split(":")
        if len(parts) > 3 and parts[2] == "sns" and parts[3] != backend.region_name:
            if prior is None:
                del backend.alarms[alarm.name]
            else:
                backend.alarms[alarm.name] = prior
            raise ValidationError(
                f"Invalid region {parts[3]} specified. Only {backend.region_name} is supported.")


def _record_state_change(backend, alarm, old, reason):
    now = utcnow()
    items = [{
        "AlarmName": alarm.name,
        "AlarmType": "MetricAlarm",
        "Timestamp": now.isoformat(),
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {alarm.state_value}",
        "HistoryData": json.dumps({
            "version": "1.0",
            "oldState": {"stateValue": old},
            "newState": {"stateValue": alarm.state_value, "stateReason": reason},
        }),
    }]
    actions = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[alarm.state_value] if alarm.actions_enabled else []
    for action in actions or []:
        if ":sns:" not in action:
            continue
        error = _publish_error(alarm, action)
        data = {
            "actionState": "Failed" if error else "Succeeded",
            "notificationResource": action,
            "stateUpdateTimestamp": int(now.timestamp() * 1000),
        }
        if error:
            data["error"] = error
            summary = f'Failed to execute action {action}. Received error: "{error}"'
        else:
            _notify(alarm, action, old, reason, now)
            summary = f"Successfully executed action {action}"
        items.append({
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": now.isoformat(),
            "HistoryItemType": "Action",
            "HistorySummary": summary,
            "HistoryData": json.dumps(data),
        })
    with _lock:
        _history.setdefault((backend.account_id, backend.region_name), []).extend(items)


def _notify(alarm, topic_arn, old, reason, now):
    """Publishes the alarm's notification to the topic as CloudWatch does: subject
    `<STATE>: "<alarm>" in <region>`, the message a JSON document of the alarm, its change and
    its trigger (the form AWS's own test data shows, aws/aws-lambda-go
    events/testdata/cloudwatch-alarm-sns-payload-single-metric.json). **Less than AWS**: the
    region is named by its code, not its long name."""
    account, region = alarm.alarm_arn.split(":")[4], topic_arn.split(":")[3]
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": alarm.state_value,
        "NewStateReason": reason,
        "StateChangeTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000",
        "Region": alarm.alarm_arn.split(":")[3],
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic or "").upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": alarm.treat_missing_data or "missing",
        },
    }
    subject = f'{alarm.state_value}: "{alarm.name}" in {message["Region"]}'
    try:
        sns_backends[account][region].topics[topic_arn].publish(json.dumps(message), subject=subject)
    except Exception:  # a subscriber's failure is SNS's, never the alarm's
        traceback.print_exc(file=sys.stderr)


def _publish_error(alarm, topic_arn):
    """Why CloudWatch could not publish the alarm's notification to the topic, or None."""
    account, region = alarm.alarm_arn.split(":")[4], topic_arn.split(":")[3]
    topic = sns_backends[account][region].topics.get(topic_arn)
    if topic is None:
        return f"Topic {topic_arn} does not exist"
    key_id = topic.kms_master_key_id
    if not key_id:
        return None
    kms = kms_backends[account][region]
    try:
        key = kms.keys[kms.any_id_to_key_id(key_id)]
    except (KeyError, TypeError, AttributeError):
        key = None
    # alias/aws/sns names an AWS-managed key, whose policy never admits CloudWatch; a key KMS
    # does not know cannot be used either.
    if key is None or key.key_manager == "AWS" or not _admits_cloudwatch(key.policy, alarm):
        return KEY_REFUSED
    return None


def _admits_cloudwatch(policy, alarm):
    """Whether a key policy lets this alarm use kms:Decrypt and kms:GenerateDataKey*: an Allow
    statement for the service principal (or everyone) whose conditions the alarm's request meets,
    and no Deny for it."""
    context = {"aws:sourceaccount": alarm.alarm_arn.split(":")[4], "aws:sourcearn": alarm.alarm_arn}
    try:
        statements = json.loads(policy).get("Statement", [])
    except (TypeError, ValueError, AttributeError):
        return False
    if isinstance(statements, dict):
        statements = [statements]
    needed = ("kms:Decrypt", "kms:GenerateDataKey")
    allowed, denied = set(), set()
    for statement in statements:
        if not _names_cloudwatch(statement.get("Principal")) or not _conditions_met(statement.get("Condition"), context):
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        granted = {n for n in needed if any(fnmatch.fnmatch(n.lower(), a.lower()) for a in actions)}
        (denied if statement.get("Effect") == "Deny" else allowed).update(granted)
    return all(n in allowed and n not in denied for n in needed)


def _names_cloudwatch(principal):
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    values = []
    for key in ("Service", "AWS"):
        value = principal.get(key, [])
        values += [value] if isinstance(value, str) else value
    return CLOUDWATCH in values or "*" in values


def _conditions_met(condition, context):
    """A CloudWatch alarm's request carries aws:SourceAccount and aws:SourceArn (the alarm's ARN),
    and no kms:CallerAccount or kms:ViaService: a condition on anything else is not met."""
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            value = context.get(key.lower())
            if value is None:
                return False
            expected = [expected] if isinstance(expected, str) else expected
            like = "Like" in operator
            if not any(fnmatch.fnmatchcase(value, e) if like else value == e for e in expected):
                return False
    return True


def handles(request):
    return request.path == cloudwatch_cbor.PREFIX + "DescribeAlarmHistory"


def handle(request, account):
    """DescribeAlarmHistory: AlarmName, HistoryItemType and MaxRecords; newest first."""
    params = cloudwatch_cbor.params(request)
    with _lock:
        items = list(_history.get((account, request.region), []))
    items.reverse()
    if params.get("AlarmName"):
        items = [i for i in items if i["AlarmName"] == params["AlarmName"]]
    if params.get("HistoryItemType"):
        items = [i for i in items if i["HistoryItemType"] == params["HistoryItemType"]]
    items = items[: int(params.get("MaxRecords") or 100)]
    return cloudwatch_cbor.answer("DescribeAlarmHistory", {"AlarmHistoryItems": items})
