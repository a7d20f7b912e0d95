import {
  to = tap_trading_failover.prod
  identity = {
    environment_suffix = "prod"
    # primary_region = "us-east-1", standby_region = "us-east-2" by default
  }
}
