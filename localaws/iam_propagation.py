"""IAM is eventually consistent: a new instance profile is not yet usable by EC2 and Auto Scaling
("changes may not be immediately visible", https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
For a while after CreateInstanceProfile, CreateAutoScalingGroup with a launch template naming it
is `ValidationError: You must use a valid fully-formed launch template. Value (<profile>) for
parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name` (the message
hashicorp/aws quotes where it retries it, internal/service/autoscaling/group.go), and RunInstances
naming it is `InvalidParameterValue` with the same last two sentences. Moto knows a profile at once.

How long: `LOCALAWS_PROFILE_PROPAGATION` seconds, else AWS's ~10 s under the time model."""

import os
import threading
import time

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models import ec2_backends
from moto.iam.models import IAMBackend

from . import pending
from .wsgi import ec2_error, query_error

XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
_lock = threading.Lock()
# (account, profile name) -> monotonic time from which EC2 and Auto Scaling know it
_usable_at = {}
_installed = False


def _window():
    configured = os.environ.get("LOCALAWS_PROFILE_PROPAGATION")
    return float(configured) if configured else pending.seconds("profile.propagation")


def install():
    global _installed
    if _installed:
        return
    _installed = True
    create = IAMBackend.create_instance_profile

    def create_instance_profile(self, name, *args, **kwargs):
        profile = create(self, name, *args, **kwargs)
        with _lock:
            _usable_at[(self.account_id, name)] = time.monotonic() + _window()
        return profile

    IAMBackend.create_instance_profile = create_instance_profile


def reset():
    with _lock:
        _usable_at.clear()


def _propagating(account, spec):
    """The launch data's instance profile (name or ARN) if EC2 does not know it yet."""
    reference = spec.get("Name") or spec.get("Arn") or ""
    name = reference.rsplit("/", 1)[-1]
    with _lock:
        usable_at = _usable_at.get((account, name))
    if usable_at is not None and time.monotonic() < usable_at:
        return reference, "name" if spec.get("Name") else "arn"
    return None


def _message(reference, kind):
    noun = "name" if kind == "name" else "ARN"
    return f"Value ({reference}) for parameter iamInstanceProfile.{kind} is invalid. Invalid IAM Instance Profile {noun}"


def _template_profile(account, region, form):
    backend = ec2_backends[account][region]
    template_id = form.get("LaunchTemplate.LaunchTemplateId")
    name = form.get("LaunchTemplate.LaunchTemplateName")
    try:
        template = (
            backend.get_launch_template(template_id) if template_id else backend.get_launch_template_by_name(name)
        )
        version = template.get_version(form.get("LaunchTemplate.Version", "$Default"))
    except EC2ClientError:  # an unknown template or version: moto's own answer
        return {}
    return version.data.get("IamInstanceProfile") or {}


def refusal(request, account):
    """The answer EC2 or Auto Scaling gives a profile it does not know yet, else None."""
    form = request.form
    if request.service == "autoscaling" and request.action == "CreateAutoScalingGroup":
        if not (form.get("LaunchTemplate.LaunchTemplateId") or form.get("LaunchTemplate.LaunchTemplateName")):
            return None
        found = _propagating(account, _template_profile(account, request.region, form))
        if found:
            message = "You must use a valid fully-formed launch template. " + _message(*found)
            return query_error("ValidationError", message, xmlns=XMLNS)
    if request.service == "ec2" and request.action == "RunInstances":
        spec = {"Name": form.get("IamInstanceProfile.Name"), "Arn": form.get("IamInstanceProfile.Arn")}
        found = _propagating(account, spec)
        if found:
            return ec2_error("InvalidParameterValue", _message(*found))
    return None
