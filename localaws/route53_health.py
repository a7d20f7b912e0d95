"""What Route 53's health checkers report, where moto differs: moto answers every
GetHealthCheckStatus with a canned success. Here an HTTP(S) check of a load balancer is a
failure when the load balancer's security groups admit neither the whole internet nor the
checkers' AWS-managed prefix list (`com.amazonaws.<region>.route53-healthchecks`) on the
check's port: the checkers' connections time out. "If your firewalls or security groups restrict
incoming traffic based on source IP addresses, confirm that your configuration allows traffic
from the applicable IP address ranges"
(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-ip-addresses.html); the
status text follows Route 53's (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html).
Everything else about the target (healthy targets, the response) is not modelled yet."""

from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends
from moto.route53.responses import Route53

_TIMED_OUT = (
    "Failure: Connection timed out. The endpoint or the internet connection is down, or requests "
    "are being blocked by your firewall. See "
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"
)
_installed = False


def _balancer(account, fqdn):
    for region, backend in elbv2_backends[account].items():
        for balancer in backend.load_balancers.values():
            if balancer.dns_name.lower() == fqdn.rstrip(".").lower():
                return region, balancer
    return None, None


def _admits_checkers(ec2, region, group_ids, port):
    checkers = {
        pl.id
        for pl in ec2.managed_prefix_lists.values()
        if pl.prefix_list_name == f"com.amazonaws.{region}.route53-healthchecks"
    }
    for groups in ec2.groups.values():
        for group in groups.values():
            if group.id not in group_ids:
                continue
            for rule in group.ingress_rules:
                low, high = rule.from_port, rule.to_port
                if low is None or not (int(low) <= port <= int(high if high is not None else low)):
                    continue
                if rule.ip_range.get("CidrIp") == "0.0.0.0/0" or rule.prefix_list_id in checkers:
                    return True
    return False


def reachable(account, check):
    """Whether the checkers reach an HTTP(S) check's load balancer; True for any other target."""
    if not str(check.type_ or "").startswith("HTTP") or not check.fqdn:
        return True
    region, balancer = _balancer(account, check.fqdn)
    if balancer is None:
        return True
    ec2 = ec2_backends[account][region]
    group_ids = {getattr(g, "id", g) for g in balancer.security_groups or []}
    return _admits_checkers(ec2, region, group_ids, int(check.port or 80))


def install():
    global _installed
    if _installed:
        return
    _installed = True
    status = Route53.get_health_check_status

    def get_health_check_status(self):
        result = status(self)
        check = self.backend.get_health_check(self._get_param("HealthCheckId"))
        if not reachable(self.current_account, check):
            for observation in result.result["HealthCheckObservations"]:
                observation["StatusReport"]["Status"] = _TIMED_OUT
        return result

    Route53.get_health_check_status = get_health_check_status
