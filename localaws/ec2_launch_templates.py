"""Launch templates as AWS keeps them, where moto differs:

- moto stores the UserData of CreateLaunchTemplateVersion as a plain string, then fails an
  assertion (HTTP 500) when an Auto Scaling group launches from that version. AWS accepts it.
- moto copies the template's own tags (CreateLaunchTemplate `TagSpecifications` of type
  `launch-template`) into the version's `LaunchTemplateData`, where AWS never shows them (that
  type is not even allowed there); a client that reads the data back sees phantom drift.

The stored versions are normalised after each such call."""

from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends

from . import idempotency
from .wsgi import call

ACTIONS = {"CreateLaunchTemplate", "CreateLaunchTemplateVersion"}


def handles(request):
    return request.service == "ec2" and request.action in ACTIONS


def handle(app, request, account):
    if idempotency.handles(request):
        answer = idempotency.handle(app, request, account)
    else:
        answer = call(app, request.environ)
    if answer.status < 400:
        backend = ec2_backends[account][request.region]
        for template in backend.launch_templates.values():
            for version in template.versions:
                _normalise(version.data)
    return answer


def _normalise(data):
    user_data = data.get("UserData")
    if isinstance(user_data, str):
        data["UserData"] = Base64EncodedString(user_data)
    specs = data.get("TagSpecifications")
    if specs:
        kept = [s for s in specs if s.get("ResourceType") != "launch-template"]
        if kept:
            data["TagSpecifications"] = kept
        else:
            del data["TagSpecifications"]
