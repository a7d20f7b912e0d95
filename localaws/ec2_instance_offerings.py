"""Instance types are offered per availability zone (DescribeInstanceTypeOfferings with
`LocationType=availability-zone`, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html);
moto has each region's offerings but launches any type in any zone. AWS refuses a launch in a zone
that does not offer the type:

- RunInstances: `Unsupported` "Your requested instance type (t3.micro) is not supported in your
  requested Availability Zone (us-east-1e). Please retry your request by not specifying an
  Availability Zone or choosing us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f."
  (the answer quoted in ned1313/Getting-Started-Terraform#44 and skyplane-project/skyplane#172).
- Auto Scaling: the launch fails as a scaling activity, "Could not launch On-Demand Instances.
  Unsupported - Your requested instance type (p3.2xlarge) is not supported in your requested
  Availability Zone (eu-central-1c). Please retry … choosing eu-central-1a, eu-central-1b.
  Launching EC2 instance failed." (dspace-group/dspace-reference-architecture-aws#100,
  hashicorp/terraform-provider-aws#26377); see `autoscaling_launches.py`.

A region moto has no offering data for refuses nothing."""

from moto.ec2.models import ec2_backends

from .wsgi import ec2_error


def zones_offering(account, region, instance_type):
    """The zones of the region that offer the type, sorted; None when moto has no data."""
    backend = ec2_backends[account][region]
    if not backend.describe_instance_type_offerings(location_type="availability-zone"):
        return None
    offers = backend.describe_instance_type_offerings(
        location_type="availability-zone", filters={"instance-type": [instance_type]}
    )
    return sorted(o["Location"] for o in offers)


def unsupported_reason(account, region, instance_type, zone):
    """AWS's message for launching the type in a zone that does not offer it, else None."""
    offering = zones_offering(account, region, instance_type)
    if offering is None or zone in offering:
        return None
    return (
        f"Your requested instance type ({instance_type}) is not supported in your requested "
        f"Availability Zone ({zone}). Please retry your request by not specifying an Availability "
        f"Zone or choosing {', '.join(offering)}."
    )


def refusal(request, account):
    """RunInstances' `Unsupported` for a zone that does not offer the type, else None."""
    if request.service != "ec2" or request.action != "RunInstances":
        return None
    form = request.form
    backend = ec2_backends[account][request.region]
    instance_type = form.get("InstanceType") or _template_type(backend, form)
    zone = form.get("Placement.AvailabilityZone")
    subnet = form.get("SubnetId") or form.get("NetworkInterface.1.SubnetId")
    if not zone and subnet:
        try:
            zone = backend.get_subnet(subnet).availability_zone
        except Exception:  # moto's own InvalidSubnetID.NotFound answer follows
            return None
    if not instance_type or not zone:
        return None  # AWS picks a zone that offers the type
    reason = unsupported_reason(account, request.region, instance_type, zone)
    return ec2_error("Unsupported", reason) if reason else None


def _template_type(backend, form):
    """The instance type of the launch template version RunInstances names, if any."""
    return (template_data(backend, form) or {}).get("InstanceType")


def template_data(backend, form):
    """The data of the launch template version a request names (RunInstances' or
    CreateAutoScalingGroup's `LaunchTemplate.*`), if any."""
    template_id = form.get("LaunchTemplate.LaunchTemplateId")
    name = form.get("LaunchTemplate.LaunchTemplateName")
    try:
        if template_id:
            template = backend.get_launch_template(template_id)
        elif name:
            template = backend.get_launch_template_by_name(name)
        else:
            return None
    except Exception:  # moto's own not-found answer follows
        return None
    try:
        version = template.get_version(form.get("LaunchTemplate.Version") or "$Default")
    except Exception:  # moto's own InvalidLaunchTemplateVersion answer follows
        return None
    return version.data
