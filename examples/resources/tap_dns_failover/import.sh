# <environment_suffix>, or <environment_suffix>/<hosted_zone_id> for records in your own zone
terraform import tap_dns_failover.prod prod
