import {
  to = tap_dns_failover.prod
  identity = {
    environment_suffix = "prod"
    # hosted_zone_id = "Z0123456789ABCDEFGHIJ" when the records are in your own zone
  }
}
