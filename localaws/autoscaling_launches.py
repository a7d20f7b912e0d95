"""Failed launches on request: moto launches every instance an Auto Scaling group asks for. On AWS
a launch that fails (no capacity for the type in the zone, an AMI that does not fit the type, a
quota) shows only as a failed scaling activity: DescribeScalingActivities answers StatusCode
`Failed` and a StatusMessage such as "The image id 'ami-4edb0327' does not exist. Launching EC2
instance failed." (the DescribeScalingActivities example of the Auto Scaling API reference), and
the group stays below its desired capacity.

`LOCALAWS_FAILED_LAUNCHES=<group>,<group>` makes every launch of those groups fail with EC2's
InsufficientInstanceCapacity. DescribeScalingActivities (moto: always empty) lists the failed
activities, newest first."""

import datetime
import os
import threading
import uuid
from xml.sax.saxutils import escape

from moto.autoscaling.models import FakeAutoScalingGroup

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
        if self.name not in _failing:
            return launch(self, count_needed, propagated_tags)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        instance_type = getattr(self, "instance_type", None) or "t3.medium"
        zone = (self.availability_zones or [f"{self.region}a"])[0]
        reason = (
            f"Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have "
            f"sufficient {instance_type} capacity in the Availability Zone you requested ({zone}). Our system "
            f"will be working on provisioning additional capacity. You can currently get {instance_type} capacity "
            "by not specifying an Availability Zone in your request or choosing other Availability Zones. "
            "Launching EC2 instance failed."
        )
        have = len(self.instance_states)
        activity = {
            "ActivityId": str(uuid.uuid4()),
            "AutoScalingGroupName": self.name,
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
        key = (self.account_id, self.region, self.name)
        with _lock:
            _activities.setdefault(key, []).insert(0, activity)

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances


def reset():
    with _lock:
        _activities.clear()
