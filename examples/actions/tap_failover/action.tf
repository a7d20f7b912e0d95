# Throw the failover switch (run with us-east-1 down too):
#   terraform apply -refresh=false -invoke=action.tap_failover.engage
action "tap_failover" "engage" {
  config {
    environment_suffix = "prod"
    standby_region     = "us-east-2"
    engage             = true
  }
}

# Let the primary back once it is healthy:
#   terraform apply -refresh=false -invoke=action.tap_failover.release
action "tap_failover" "release" {
  config {
    environment_suffix = "prod"
    standby_region     = "us-east-2"
    engage             = false
  }
}
