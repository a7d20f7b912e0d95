resource "tap_trading_failover" "prod" {
  environment_suffix = "prod"
  domain_name        = "trading.mycompany.net"
  alarm_emails       = ["oncall@example.com"]
}

# Fails the plan (and so the run) when failover would not work right now. The suffix is given
# as a literal, not as a reference to the resource: a data source that depends on a resource with
# pending changes is read at apply, after the repair, instead of at plan.
data "tap_failover_readiness" "prod" {
  environment_suffix = "prod"
  rto_seconds        = 120

  lifecycle {
    postcondition {
      condition     = self.ready
      error_message = join("\n", [for f in self.findings : "${f.severity} ${f.part}: ${f.message} Fix: ${f.fix}" if f.severity == "error"])
    }
  }
}

# Or as a continuous check: a warning on every plan, and a failed health assessment in
# HCP Terraform, without blocking applies.
check "failover_ready" {
  data "tap_failover_readiness" "continuous" {
    environment_suffix = "prod"
  }

  assert {
    condition     = data.tap_failover_readiness.continuous.ready
    error_message = "Failover would not work: ${join("; ", [for f in data.tap_failover_readiness.continuous.findings : "${f.part}: ${f.message}" if f.severity == "error"])}"
  }
}

output "estimated_failover_seconds" {
  value = data.tap_failover_readiness.prod.estimated_failover_seconds
}
