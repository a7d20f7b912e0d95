"""DescribeNetworkInterfaces filters moto 5.2.5 lacks. AWS documents `association.public-ip`,
`association.allocation-id`, `association.association-id`, `association.ip-owner-id` and
`association.public-dns-name` among the action's filters
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNetworkInterfaces.html);
moto raises FilterNotImplementedError for them, which its server answers as an HTML 500 that
SDKs retry for minutes. hashicorp/aws's internet-gateway detach asks exactly this after each
DependencyViolation, so without it the peer benchmark's destroy stalls (design/issue-22-*.md)."""

from moto.ec2.models.elastic_network_interfaces import NetworkInterface

# Filter name -> the key of moto's `association` view of the interface's public address.
_ASSOCIATION = {
    "association.public-ip": "publicIp",
    "association.allocation-id": "allocationId",
    "association.association-id": "associationId",
    "association.ip-owner-id": "ipOwnerId",
    "association.public-dns-name": "publicDnsName",
}

_installed = False


def install():
    global _installed
    if _installed:
        return
    _installed = True
    moto_filter = NetworkInterface.get_filter_value

    def get_filter_value(self, filter_name, method_name=None):
        if filter_name in _ASSOCIATION:
            return self.association.get(_ASSOCIATION[filter_name])
        return moto_filter(self, filter_name, method_name)

    NetworkInterface.get_filter_value = get_filter_value
