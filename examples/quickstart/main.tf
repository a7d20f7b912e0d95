# The whole failover system from one resource, against the local AWS (`make demo`) or real AWS.
# With only environment_suffix set it builds exactly the spec: us-east-1 primary (2 instances),
# us-east-2 standby (1), the session table with its replica, DNS failover and alarms.
terraform {
  required_providers {
    tap = {
      source = "tap-trading/tap"
    }
  }
}

provider "tap" {
  default_tags {
    tags = { Project = "trading-failover" }
  }
}

resource "tap_trading_failover" "demo" {
  environment_suffix = "demo"

  # Uncomment for a planned failover, then set back to "primary" to fail back.
  # active_region = "standby"
}

output "application_url" {
  value = tap_trading_failover.demo.application_url
}

output "alb_dns_names" {
  value = {
    primary = tap_trading_failover.demo.primary_alb_dns_name
    standby = tap_trading_failover.demo.standby_alb_dns_name
  }
}

output "table" {
  value = {
    name = tap_trading_failover.demo.table_name
    arn  = tap_trading_failover.demo.table_arn
  }
}

output "health_check_id" {
  value = tap_trading_failover.demo.health_check_id
}

output "name_servers" {
  value = tap_trading_failover.demo.name_servers
}
