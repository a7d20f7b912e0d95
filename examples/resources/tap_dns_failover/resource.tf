# Weighted failover between the load balancers of two tap_regional_stack resources.
resource "tap_dns_failover" "prod" {
  environment_suffix = "prod"
  domain_name        = "trading.mycompany.net" # a name you control: a zone of this name is created
  alarm_emails       = ["oncall@example.com"]
  table_name         = tap_session_table.sessions.name

  primary {
    region           = tap_regional_stack.primary.region
    alb_dns_name     = tap_regional_stack.primary.alb_dns_name
    alb_zone_id      = tap_regional_stack.primary.alb_zone_id
    alb_arn          = tap_regional_stack.primary.alb_arn
    target_group_arn = tap_regional_stack.primary.target_group_arn
  }

  standby {
    region           = tap_regional_stack.standby.region
    alb_dns_name     = tap_regional_stack.standby.alb_dns_name
    alb_zone_id      = tap_regional_stack.standby.alb_zone_id
    alb_arn          = tap_regional_stack.standby.alb_arn
    target_group_arn = tap_regional_stack.standby.target_group_arn
  }

  # Defaults, shown for reference.
  health_check {
    protocol          = "HTTP"
    path              = "/health"
    interval          = 10
    failure_threshold = 3
  }

  # Set to "standby" for a planned failover; back to "primary" to fail back.
  active_region = "primary"
}

resource "tap_session_table" "sessions" {
  environment_suffix = "prod"
}

resource "tap_regional_stack" "primary" {
  environment_suffix = "prod"
  role               = "primary"
}

resource "tap_regional_stack" "standby" {
  environment_suffix = "prod"
  role               = "standby"
}
