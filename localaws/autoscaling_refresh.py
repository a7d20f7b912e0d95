"""StartInstanceRefresh, which moto does not implement (HTTP 500). Here the group's instances are
replaced at once from its current launch template version; AWS does it in batches over time,
which no test here depends on."""

import uuid

from moto.autoscaling.models import autoscaling_backends

from .wsgi import Response

ACTION = "StartInstanceRefresh"
XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"



def handles(request):
    return request.service == "autoscaling" and request.form.get("Action") == ACTION


def handle(request, account):
    name = request.form.get("AutoScalingGroupName", "")
    backend = autoscaling_backends[account][request.region]
    if name not in backend.autoscaling_groups:
        body = (
            f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>ValidationError</Code>'
            f"<Message>AutoScalingGroup name not found - AutoScalingGroup '{name}' not found</Message>"
            f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return Response(400, [("Content-Type", "text/xml")], body.encode())
    desired = backend.autoscaling_groups[name].desired_capacity
    backend.set_desired_capacity(name, 0)
    backend.set_desired_capacity(name, desired)
    refresh = uuid.uuid4()
    body = (
        f'<{ACTION}Response xmlns="{XMLNS}"><{ACTION}Result><InstanceRefreshId>{refresh}</InstanceRefreshId>'
        f"</{ACTION}Result><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{ACTION}Response>"
    )
    return Response(200, [("Content-Type", "text/xml")], body.encode())
