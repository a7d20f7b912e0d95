"""An instance runs only images of its type's architecture (DescribeInstanceTypes'
`ProcessorInfo.SupportedArchitectures`, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ProcessorInfo.html;
an image's `Architecture`, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html).
moto launches any image on any type. AWS refuses the pair:

- RunInstances: `InvalidParameterValue` "The architecture 'arm64' of the specified instance type
  does not match the architecture 'x86_64' of the specified AMI. Specify an instance type and an
  AMI that have matching architectures, and try again. You can use 'describe-instance-types' or
  'describe-images' to discover the architecture of the instance type or AMI."
  (skypilot-org/skypilot#6315, SUSE-Enceladus/ec2imgutils#103).
- CreateAutoScalingGroup with such a launch template: `ValidationError` "You must use a valid
  fully-formed launch template. The architecture 'arm64' of the specified instance type does not
  match ..." (Genaker/TerraformMagentoCloud#21, masterpointio/terraform-aws-ssm-agent#25,
  eksctl-io/eksctl#8235).
- A group whose template changed to such a pair afterwards fails its launches, a failed scaling
  activity with the same sentence (AndrewGuenther/fck-nat#56: "Last scaling activity: The
  architecture 'x86_64' of the specified instance type does not match the architecture 'arm64'
  of the specified AMI"); see `autoscaling_launches.py`.

A type or image moto does not know refuses nothing (moto's own answer follows)."""

from moto.ec2.models import ec2_backends

from . import chaos
from .ec2_instance_offerings import template_data


def mismatch(account, region, instance_type, image_id):
    """AWS's sentence for launching `image_id` on `instance_type` when their architectures differ,
    else None."""
    if not instance_type or not image_id:
        return None
    backend = ec2_backends[account][region]
    try:
        types = backend.describe_instance_types([instance_type])
        images = backend.describe_images(ami_ids=[image_id])
    except Exception:  # moto's own not-found answers follow
        return None
    if not types or not images:
        return None
    supported = types[0].get("ProcessorInfo", {}).get("SupportedArchitectures", [])
    image = images[0].architecture
    if not supported or image in supported:
        return None
    return (
        f"The architecture '{supported[0]}' of the specified instance type does not match the "
        f"architecture '{image}' of the specified AMI. Specify an instance type and an AMI that "
        "have matching architectures, and try again. You can use 'describe-instance-types' or "
        "'describe-images' to discover the architecture of the instance type or AMI."
    )


def refusal(request, account):
    """RunInstances' or CreateAutoScalingGroup's refusal of a type and image that do not match."""
    if (request.service, request.action) not in (("ec2", "RunInstances"), ("autoscaling", "CreateAutoScalingGroup")):
        return None
    form = request.form
    template = template_data(ec2_backends[account][request.region], form) or {}
    instance_type = form.get("InstanceType") or template.get("InstanceType")
    image_id = form.get("ImageId") or template.get("ImageId")
    reason = mismatch(account, request.region, instance_type, image_id)
    if not reason:
        return None
    if request.service == "ec2":
        return chaos.error(request, "ec2", 400, "InvalidParameterValue", reason)
    return chaos.error(
        request, "autoscaling", 400, "ValidationError", f"You must use a valid fully-formed launch template. {reason}"
    )
