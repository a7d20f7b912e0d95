"""moto stores the UserData of CreateLaunchTemplateVersion as a plain string, then fails an
assertion (HTTP 500) when an Auto Scaling group launches from that version. AWS accepts it; here
the stored value is normalised after each such call so that template updates work as on AWS."""

from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends

from .wsgi import call


def handles(request):
    return request.service == "ec2" and request.action == "CreateLaunchTemplateVersion"


def handle(app, request, account):
    answer = call(app, request.environ)
    if answer.status < 400:
        backend = ec2_backends[account][request.region]
        for template in backend.launch_templates.values():
            for version in template.versions:
                user_data = version.data.get("UserData")
                if isinstance(user_data, str):
                    version.data["UserData"] = Base64EncodedString(user_data)
    return answer
