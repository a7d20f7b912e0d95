"""Failed launches on request: moto launches every instance an Auto Scaling group asks for. On AWS
a launch that fails (no capacity for the type in the zone, an AMI that does not fit the type, a
quota) shows only as a failed scaling activity: DescribeScalingActivities answers StatusCode
`Failed` and a StatusMessage such as "The image id 'ami-4edb0327' does not exist. Launching EC2
instance failed." (the DescribeScalingActivities example of the Auto Scaling API reference), and
the group stays below its desired capacity.

`LOCALAWS_FAILED_LAUNCHES=<group>,<group>` makes every launch of those groups fail with EC2's
InsufficientInstanceCapacity. Always, a launch into a zone that does not offer the group's instance
type fails with `Unsupported` (`ec2_instance_offerings.py`): the group spreads its launches over its
zones in turn, and one that fails is made in a zone that offers the type ("When one Availability
Zone becomes unhealthy or unavailable, Amazon EC2 Auto Scaling launches new instances in an
unaffected Availability Zone", https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-availability-zone-balanced.html).
Every launch of a group whose image's architecture is not its type's fails, in every zone
(`ec2_architectures.py`).
DescribeScalingActivities (moto: always empty) lists the failed activities, newest first."""

import datetime
import os
import threading
import uuid
from xml.sax.saxutils import escape

from moto.autoscaling.models import FakeAutoScalingGroup

from .ec2_architectures import mismatch
from .ec2_instance_offerings import unsupported_reason
from .wsgi import Response

XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

_failing = {g for g in os.environ.get("LOCALAWS_FAILED_LAUNCHES", "").split(",") if g}
_lock = threading.Lock()
# (account, region, group) -> [activity dict], newest first
_activities = {}
_installed = False


def handles(request):
    return request.service == "autoscaling" and request.form.get("Action") == "DescribeScalingActivities"


def handle(request, account):
    name = request.form.get("AutoScalingGroupName", "")
    with _lock:
        shown = list(_activities.get((account, request.region, name), []))
    members = "".join(
        "<member>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in activity.items()) + "</member>"
        for activity in shown
    )
    body = (
        f'<DescribeScalingActivitiesResponse xmlns="{XMLNS}"><DescribeScalingActivitiesResult>'
        f"<Activities>{members}</Activities></DescribeScalingActivitiesResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DescribeScalingActivitiesResponse>"
    )
    return Response(200, [("Content-Type", "text/xml")], body.encode())


def install():
    global _installed
    if _installed:
        return
    _installed = True
    launch = FakeAutoScalingGroup.replace_autoscaling_group_instances

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        instance_type = getattr(self, "instance_type", None) or "t3.medium"
        zones = sorted(set(self.availability_zones or [f"{self.region}a"]))
        if self.name in _failing:
            reason = (
                f"Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have "
                f"sufficient {instance_type} capacity in the Availability Zone you requested ({zones[0]}). Our system "
                f"will be working on provisioning additional capacity. You can currently get {instance_type} capacity "
                "by not specifying an Availability Zone in your request or choosing other Availability Zones. "
                "Launching EC2 instance failed."
            )
            _record_failure(self, count_needed, reason)
            return None
        mismatched = mismatch(self.account_id, self.region, instance_type, getattr(self, "image_id", None))
        if mismatched:
            _record_failure(self, count_needed, f"{mismatched} Launching EC2 instance failed.")
            return None
        have = len(self.instance_states)
        turns = [zones[(have + i) % len(zones)] for i in range(count_needed)]
        offered = [z for z in zones if not unsupported_reason(self.account_id, self.region, instance_type, z)]
        for zone in turns:
            reason = unsupported_reason(self.account_id, self.region, instance_type, zone)
            if reason:
                _record_failure(self, count_needed, f"Could not launch On-Demand Instances. Unsupported - {reason} Launching EC2 instance failed.")
        if not offered:
            return None
        return launch(self, count_needed, propagated_tags)

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances


def _record_failure(group, count_needed, reason):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    have = len(group.instance_states)
    activity = {
        "ActivityId": str(uuid.uuid4()),
        "AutoScalingGroupName": group.name,
        "Description": f"Launching a new EC2 instance.  Status Reason: {reason}",
        "Cause": (
            f"At {now} an instance was started in response to a difference between desired and actual "
            f"capacity, increasing the capacity from {have} to {have + count_needed}."
        ),
        "StartTime": now,
        "EndTime": now,
        "StatusCode": "Failed",
        "StatusMessage": reason,
        "Progress": 100,
    }
    with _lock:
        _activities.setdefault((group.account_id, group.region, group.name), []).insert(0, activity)


def reset():
    with _lock:
        _activities.clear()
