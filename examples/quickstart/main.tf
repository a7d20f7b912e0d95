# The session store of the failover system, against the local AWS (`make demo`) or real AWS.
terraform {
  required_providers {
    tap = {
      source = "tap-trading/tap"
    }
  }
}

provider "tap" {
  default_tags {
    tags = { Project = "trading-failover" }
  }
}

resource "tap_session_table" "sessions" {
  environment_suffix = "demo"
}

output "table_name" {
  value = tap_session_table.sessions.name
}

output "table_arn" {
  value = tap_session_table.sessions.arn
}

output "replica_arns" {
  value = tap_session_table.sessions.replica_arns
}

output "stream_arn" {
  value = tap_session_table.sessions.stream_arn
}
