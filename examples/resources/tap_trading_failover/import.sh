# <environment_suffix>, or <environment_suffix>/<primary_region>/<standby_region>
terraform import tap_trading_failover.prod prod
