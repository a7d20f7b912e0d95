resource "tap_session_table" "sessions" {
  environment_suffix = "prod"

  # Defaults shown for reference.
  region                 = "us-east-1"
  replica_regions        = ["us-east-2"]
  point_in_time_recovery = true
  deletion_protection    = false

  tags = {
    Team = "trading-platform"
  }

  timeouts {
    create = "30m"
  }
}
