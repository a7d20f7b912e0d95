# One primary and two standbys from one resource: Route 53 fails over from us-east-1 to
# us-east-2, and to us-west-2 when us-east-2 is down too. Each standby region gets its
# regional stack, a replica of the session table, its alarm topic and alarms; one instance role
# serves all three. examples/custom-topology builds the same from the sub-resources, for
# topologies this resource does not offer.
terraform {
  required_providers {
    tap = {
      source = "tap-trading/tap"
    }
  }
}

variable "environment_suffix" {
  type    = string
  default = "tri"
}

variable "domain" {
  type        = string
  description = "The failover name: a name you control. Its zone is created here; delegate the name to the zone's name servers."
}

variable "alarm_emails" {
  type    = list(string)
  default = []
}

resource "tap_trading_failover" "tri" {
  environment_suffix = var.environment_suffix
  domain_name        = var.domain
  alarm_emails       = var.alarm_emails
  # The zone is created here: HTTPS (`tls = "auto"`) needs it delegated first. Once it is,
  # set tls = "auto": each of the three regions gets a certificate of its own.
  tls = "off"

  # primary: us-east-1, 10.0.0.0/16; standby: us-east-2, 10.1.0.0/16 (the defaults).

  # Tried after us-east-2; its network defaults to 10.2.0.0/16, the lowest /16 left.
  additional_standby {
    region   = "us-west-2"
    nat_mode = "none"
  }
}

output "application_url" {
  value = tap_trading_failover.tri.application_url
}

output "alb_dns_names" {
  value = merge(
    { primary = tap_trading_failover.tri.primary_alb_dns_name },
    tap_trading_failover.tri.standby_alb_dns_names,
  )
}

output "name_servers" {
  value = tap_trading_failover.tri.name_servers
}
