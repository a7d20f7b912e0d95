# Rehearse a failover with us-east-1 up: throw the switch, time Route 53's detection and the
# standby's answer, release, time the return:
#   terraform apply -invoke=action.tap_failover_drill.prod
# The zone and health check are the stack's `zone_id` and `health_check_id`. The last line
# ("drill summary: ...") can be given to tap_failover_readiness as `last_drill`.
action "tap_failover_drill" "prod" {
  config {
    environment_suffix = "prod"
    standby_region     = "us-east-2"
    hosted_zone_id     = "Z0123456789EXAMPLE"
    record_name        = "trading.example.com"
    health_check_id    = "4d2b3c1a-0000-4000-8000-000000000000"
  }
}
