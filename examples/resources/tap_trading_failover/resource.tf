# The whole system: only environment_suffix and domain_name are required; every other value is
# the spec's default, shown here where it is most often changed.
resource "tap_trading_failover" "prod" {
  environment_suffix = "prod"
  domain_name        = "trading.mycompany.net" # a name you control
  alarm_emails       = ["oncall@example.com"]

  primary {
    region           = "us-east-1"
    desired_capacity = 2
    instance_type    = "t3.medium"
  }

  standby {
    region           = "us-east-2"
    desired_capacity = 1
    nat_mode         = "single"
  }

  health_check {
    interval          = 10
    failure_threshold = 3
  }

  # "strong" for zero RPO: no acknowledged session is lost when a Region fails, at the cost of
  # slower writes; it needs a witness in a third Region of the same MRSC Region set.
  session_table {
    consistency = "eventual"
  }

  # "standby" is a planned failover: the standby is scaled to the primary's capacity and must be
  # healthy before the weights move. Set back to "primary" to fail back.
  active_region = "primary"

  timeouts {
    create = "45m"
  }
}
