"""What the local AWS holds, counted per region: `make demo` prints it after apply.

Usage: python tools/inventory.py <endpoint> [region ...]"""

import sys

import boto3
from botocore.config import Config

CONFIG = Config(retries={"max_attempts": 1})


def client(service, endpoint, region):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
        config=CONFIG,
    )


def regional(endpoint, region):
    ec2 = client("ec2", endpoint, region)
    elb = client("elbv2", endpoint, region)
    asg = client("autoscaling", endpoint, region).describe_auto_scaling_groups()["AutoScalingGroups"]
    return {
        "VPCs": sum(1 for v in ec2.describe_vpcs()["Vpcs"] if not v.get("IsDefault")),
        "subnets": sum(1 for s in ec2.describe_subnets()["Subnets"] if not s.get("DefaultForAz")),
        "NAT gateways": sum(1 for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"),
        "load balancers": len(elb.describe_load_balancers()["LoadBalancers"]),
        "target groups": len(elb.describe_target_groups()["TargetGroups"]),
        "launch templates": len(ec2.describe_launch_templates()["LaunchTemplates"]),
        "Auto Scaling groups": len(asg),
        "instances": sum(len(g["Instances"]) for g in asg),
        "DynamoDB tables": len(client("dynamodb", endpoint, region).list_tables()["TableNames"]),
        "SNS topics": len(client("sns", endpoint, region).list_topics()["Topics"]),
        "CloudWatch alarms": len(client("cloudwatch", endpoint, region).describe_alarms()["MetricAlarms"]),
    }


def main(endpoint, regions):
    counts = {region: regional(endpoint, region) for region in regions}
    kinds = list(next(iter(counts.values())))
    print(f"{'':22}" + "".join(f"{r:>12}" for r in regions))
    for kind in kinds:
        print(f"{kind:22}" + "".join(f"{counts[r][kind]:>12}" for r in regions))
    route53 = client("route53", endpoint, "us-east-1")
    iam = client("iam", endpoint, "us-east-1")
    print(
        f"global: {len(route53.list_hosted_zones()['HostedZones'])} hosted zone(s), "
        f"{len(route53.list_health_checks()['HealthChecks'])} health check(s), "
        f"{len(iam.list_roles()['Roles'])} IAM role(s), "
        f"{len(iam.list_instance_profiles()['InstanceProfiles'])} instance profile(s)"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["us-east-1", "us-east-2"])
