# Two regions of the failover system and its session store, against the local AWS
# (`make demo`) or real AWS. DNS failover and the one-resource composite come next.
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

locals {
  # The instances may use the session table, in both regions, and nothing else in DynamoDB.
  table_statements = jsonencode([{
    Effect = "Allow"
    Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    Resource = concat(
      [tap_session_table.sessions.arn, "${tap_session_table.sessions.arn}/index/*"],
      values(tap_session_table.sessions.replica_arns),
    )
  }])
}

resource "tap_regional_stack" "primary" {
  environment_suffix         = "demo"
  role                       = "primary"
  instance_policy_statements = local.table_statements
}

resource "tap_regional_stack" "standby" {
  environment_suffix         = "demo"
  role                       = "standby"
  instance_policy_statements = local.table_statements
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

output "primary_alb_dns_name" {
  value = tap_regional_stack.primary.alb_dns_name
}

output "standby_alb_dns_name" {
  value = tap_regional_stack.standby.alb_dns_name
}

output "asg_names" {
  value = [tap_regional_stack.primary.asg_name, tap_regional_stack.standby.asg_name]
}
