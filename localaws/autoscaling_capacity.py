"""Auto Scaling's size bounds, which moto does not check: a group's desired capacity "must be
greater than or equal to the minimum size of the group and less than or equal to the maximum size
of the group", on create and update
(https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html,
https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html). AWS
answers ValidationError "Max bound, <max>, must be greater than or equal to min bound, <min>" or
"Desired capacity:<d> must be between the specified min size:<min> and max size:<max>" (the
messages public deployment logs quote). An update that names no desired capacity keeps the
group's, moved into the new bounds (moto does that part)."""

from moto.autoscaling.models import autoscaling_backends

from .wsgi import query_error

XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
ACTIONS = {"CreateAutoScalingGroup", "UpdateAutoScalingGroup"}


def _int(form, key):
    value = form.get(key)
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def refusal(request, account):
    """AWS's ValidationError for sizes out of bounds, else None."""
    if request.service != "autoscaling" or request.action not in ACTIONS:
        return None
    form = request.form
    low, high, desired = _int(form, "MinSize"), _int(form, "MaxSize"), _int(form, "DesiredCapacity")
    if request.action == "UpdateAutoScalingGroup":
        group = autoscaling_backends[account][request.region].autoscaling_groups.get(
            form.get("AutoScalingGroupName", "")
        )
        if group is None:
            return None  # moto's own not-found answer
        low = group.min_size if low is None else low
        high = group.max_size if high is None else high
    if low is None or high is None:
        return None  # the service model's required members are checked before
    if high < low:
        return _error(f"Max bound, {high}, must be greater than or equal to min bound, {low}")
    if desired is not None and not low <= desired <= high:
        return _error(f"Desired capacity:{desired} must be between the specified min size:{low} and max size:{high}")
    return None


def _error(message):
    return query_error("ValidationError", message, xmlns=XMLNS)
