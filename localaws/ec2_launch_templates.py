"""Launch templates as AWS keeps them, where moto differs:

- moto stores the UserData of CreateLaunchTemplateVersion as a plain string, then fails an
  assertion (HTTP 500) when an Auto Scaling group launches from that version. AWS accepts it.
- moto copies the template's own tags (CreateLaunchTemplate `TagSpecifications` of type
  `launch-template`) into the version's `LaunchTemplateData`, where AWS never shows them (that
  type is not even allowed there); a client that reads the data back sees phantom drift.
- moto answers DeleteLaunchTemplate of a name the region does not hold with `MissingParameter`;
  AWS answers `InvalidLaunchTemplateName.NotFoundException` (EC2 error codes,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; hashicorp/aws's
  launch template delete ignores that code, internal/service/ec2/ec2_launch_template.go), which
  a client deleting what may never have been made relies on.

The stored versions are normalised after each such call."""

from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends

from . import idempotency
from .wsgi import call, ec2_error

ACTIONS = {"CreateLaunchTemplate", "CreateLaunchTemplateVersion", "DeleteLaunchTemplate"}


def handles(request):
    return request.service == "ec2" and request.action in ACTIONS


def handle(app, request, account):
    if request.action == "DeleteLaunchTemplate":
        return _delete(app, request, account)
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


def _delete(app, request, account):
    name = request.form.get("LaunchTemplateName")
    backend = ec2_backends[account][request.region]
    if name and name not in backend.launch_template_name_to_ids:
        return ec2_error(
            "InvalidLaunchTemplateName.NotFoundException",
            f"The specified launch template, with template name {name}, does not exist.",
        )
    return call(app, request.environ)
