"""AWS-managed prefix lists moto lacks. Route 53 publishes its health checkers' ranges as
`com.amazonaws.<region>.route53-healthchecks` (IPv4) and `com.amazonaws.<region>.ipv6.route53-
healthchecks` (IPv6) in every region, owned by AWS, since September 2023
(https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html,
https://aws.amazon.com/about-aws/whats-new/2023/09/amazon-route-53-managed-prefix-lists-health-checks/);
moto 5.2.5 lists S3, DynamoDB, CloudFront, Ground Station and VPC Lattice only (moto-gaps.md)."""

from moto.ec2.models.managed_prefixes import ManagedPrefixListBackend

# A few of the ROUTE53_HEALTHCHECKS ranges of ip-ranges.json: the shape matters here, not the list.
_HEALTHCHECKERS_V4 = ["107.23.255.0/26", "54.243.31.192/26", "15.177.0.0/18"]
_HEALTHCHECKERS_V6 = ["2600:1f18:7fff:f800::/56", "2600:1f1e:7fff:f800::/56"]

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    defaults = ManagedPrefixListBackend.create_default_pls

    def create_default_pls(self):
        defaults(self)
        for name, family, cidrs in (
            (f"com.amazonaws.{self.region_name}.route53-healthchecks", "IPv4", _HEALTHCHECKERS_V4),
            (f"com.amazonaws.{self.region_name}.ipv6.route53-healthchecks", "IPv6", _HEALTHCHECKERS_V6),
        ):
            self._create_aws_managed_prefix_list(
                name=name,
                address_family=family,
                entries=[{"Cidr": cidr, "Description": "Route 53 health checkers"} for cidr in cidrs],
            )

    ManagedPrefixListBackend.create_default_pls = create_default_pls
