# DNS failovers in the hosted zones they created (Route 53 has no region).
list "tap_dns_failover" "all" {
  provider = tap
}
