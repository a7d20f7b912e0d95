# The whole failover system from one resource, against the local AWS (`make demo`) or real AWS.
# With only environment_suffix and a domain set it builds exactly the spec: us-east-1 primary
# (2 instances), us-east-2 standby (1), the session table with its replica, DNS failover and
# alarms. `make demo` sets the domain for the local AWS; on real AWS, give a name you control.
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

variable "domain_name" {
  type        = string
  description = "The name the application answers at: a name you control (Route 53 refuses anything under example.com). A zone is created for it; delegate the name to the name_servers output."
}

variable "active_region" {
  type        = string
  default     = "primary"
  description = "\"standby\" for a planned failover (terraform apply -var active_region=standby); back to \"primary\" to fail back."
}

resource "tap_trading_failover" "demo" {
  environment_suffix = "demo"
  domain_name        = var.domain_name
  active_region      = var.active_region
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
