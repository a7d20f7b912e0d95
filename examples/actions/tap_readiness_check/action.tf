# Run on demand (Terraform 1.14 or later):
#   terraform apply -invoke=action.tap_readiness_check.prod
# Each thing it reads and each finding is shown as it goes; the run fails when failover of the
# stack would not work right now.
action "tap_readiness_check" "prod" {
  config {
    environment_suffix = "prod"
    rto_seconds        = 120
  }
}
