# In a file ending in .tfquery.hcl (Terraform 1.14 or later):
#   terraform query -generate-config-out=found.tf
# writes an import block and a resource block for each failover system found.
list "tap_trading_failover" "all" {
  provider = tap
}
