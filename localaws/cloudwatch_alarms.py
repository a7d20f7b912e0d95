"""CloudWatch alarm state as AWS keeps it (moto-gaps.md §8): a new alarm starts in
INSUFFICIENT_DATA until its metric has been evaluated, and updating an alarm keeps its state
(moto builds a fresh alarm in state OK on every PutMetricAlarm)."""

from moto.cloudwatch.models import CloudWatchBackend

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    put = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self, name, *args, **kwargs):
        prior = self.alarms.get(name)
        alarm = put(self, name, *args, **kwargs)
        if prior is not None:
            alarm.state_value = prior.state_value
            alarm.state_reason = prior.state_reason
            alarm.state_reason_data = prior.state_reason_data
            alarm.state_updated_timestamp = prior.state_updated_timestamp
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
        return alarm

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
