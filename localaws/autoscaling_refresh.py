"""StartInstanceRefresh and DescribeInstanceRefreshes, which moto does not implement (HTTP 500).

A refresh runs for modelled time like the other pending states (`pending.Settling`: its scaled
real duration, or a few DescribeInstanceRefreshes when reads are counted), then replaces the
group's instances from its current launch template version and ends `Successful`, so the order
of refreshes in two regions can be observed from their StartTime and EndTime. The preferences
are recorded as AWS reports them; without any, AWS's defaults: MinHealthyPercentage 90,
MaxHealthyPercentage 100, i.e. terminate before launch
(https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html).
A second refresh while one is active is refused as AWS does: "An error occurred
(InstanceRefreshInProgress) when calling the StartInstanceRefresh operation: An Instance Refresh
is already in progress and blocks the execution of this Instance Refresh."."""

import datetime
import threading
import uuid
from xml.sax.saxutils import escape

from moto.autoscaling.models import autoscaling_backends

from . import pending
from .wsgi import Response, query_error

ACTIONS = ("StartInstanceRefresh", "DescribeInstanceRefreshes")
XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
DEFAULT_PREFERENCES = {"MinHealthyPercentage": "90", "MaxHealthyPercentage": "100"}
ACTIVE = ("Pending", "InProgress")

_lock = threading.Lock()
# (account, region, group) -> [refresh], newest first
_refreshes = {}


class Refresh:
    def __init__(self, group, preferences, instances):
        self.id = str(uuid.uuid4())
        self.group = group
        self.preferences = preferences
        self.instances = instances
        self.status = "InProgress"
        self.start = _now()
        self.end = None
        self.settling = pending.Settling("refresh.running")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def handles(request):
    return request.service == "autoscaling" and request.form.get("Action") in ACTIONS


def _error(code, message):
    return query_error(code, message, xmlns=XMLNS)


def _ok(action, result):
    body = (
        f'<{action}Response xmlns="{XMLNS}"><{action}Result>{result}</{action}Result>'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>"
    )
    return Response(200, [("Content-Type", "text/xml")], body.encode())


def handle(request, account):
    form = request.form
    name = form.get("AutoScalingGroupName", "")
    backend = autoscaling_backends[account][request.region]
    if name not in backend.autoscaling_groups:
        return _error("ValidationError", f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    key = (account, request.region, name)
    with _lock:
        _settle(backend, key)
        history = _refreshes.setdefault(key, [])
        if form["Action"] == "DescribeInstanceRefreshes":
            ids = {v for k, v in form.items() if k.startswith("InstanceRefreshIds.member.")}
            shown = [r for r in history if not ids or r.id in ids]
            return _ok("DescribeInstanceRefreshes", f"<InstanceRefreshes>{''.join(map(_member, shown))}</InstanceRefreshes>")
        if any(r.status in ACTIVE for r in history):
            return _error(
                "InstanceRefreshInProgress",
                "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.",
            )
        preferences = dict(DEFAULT_PREFERENCES)
        preferences.update(
            {k.split(".", 1)[1]: v for k, v in form.items() if k.startswith("Preferences.") and k.count(".") == 1}
        )
        refresh = Refresh(name, preferences, backend.autoscaling_groups[name].desired_capacity)
        history.insert(0, refresh)
    return _ok("StartInstanceRefresh", f"<InstanceRefreshId>{refresh.id}</InstanceRefreshId>")


def _settle(backend, key):
    """Ends the group's active refresh once its time has passed: its instances are replaced."""
    for refresh in _refreshes.get(key, []):
        if refresh.status in ACTIVE and not refresh.settling.pending():
            group = backend.autoscaling_groups[refresh.group]
            desired = group.desired_capacity
            backend.set_desired_capacity(refresh.group, 0)
            backend.set_desired_capacity(refresh.group, desired)
            refresh.status = "Successful"
            refresh.end = _now()


def _member(refresh):
    done = refresh.status == "Successful"
    preferences = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in sorted(refresh.preferences.items()))
    end = f"<EndTime>{_iso(refresh.end)}</EndTime>" if refresh.end else ""
    return (
        f"<member><InstanceRefreshId>{refresh.id}</InstanceRefreshId>"
        f"<AutoScalingGroupName>{escape(refresh.group)}</AutoScalingGroupName>"
        f"<Status>{refresh.status}</Status><StartTime>{_iso(refresh.start)}</StartTime>{end}"
        f"<PercentageComplete>{100 if done else 0}</PercentageComplete>"
        f"<InstancesToUpdate>{0 if done else refresh.instances}</InstancesToUpdate>"
        f"<Preferences>{preferences}</Preferences></member>"
    )


def _clamp(reads):
    with _lock:
        for history in _refreshes.values():
            for refresh in history:
                refresh.settling.clamp(reads)


pending.on_change(_clamp)


def reset():
    with _lock:
        _refreshes.clear()
