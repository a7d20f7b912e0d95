# A topology the one-resource system does not offer, composed from the sub-resources: one
# primary and two standbys in order of preference. Route 53 fails over from us-east-1 to
# us-east-2, and to us-west-2 when us-east-2 is down too. The session table replicates to both
# standby regions, and one instance profile serves all three.
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

resource "tap_session_table" "sessions" {
  environment_suffix = var.environment_suffix
  replica_regions    = ["us-east-2", "us-west-2"]
}

locals {
  # The instances may use the session table in every region, and nothing else in DynamoDB.
  table_statements = jsonencode([{
    Effect = "Allow"
    Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    Resource = flatten([
      for arn in concat([tap_session_table.sessions.arn], values(tap_session_table.sessions.replica_arns)) : [arn, "${arn}/index/*"]
    ])
  }])
}

resource "tap_regional_stack" "primary" {
  environment_suffix         = var.environment_suffix
  role                       = "primary"
  region                     = "us-east-1"
  vpc_cidr                   = "10.0.0.0/16"
  instance_policy_statements = local.table_statements
}

resource "tap_regional_stack" "standby" {
  environment_suffix = var.environment_suffix
  role               = "standby"
  region             = "us-east-2"
  vpc_cidr           = "10.1.0.0/16"
  # One role and profile for every region.
  instance_profile_arn = tap_regional_stack.primary.instance_profile_arn
}

resource "tap_regional_stack" "reserve" {
  environment_suffix   = var.environment_suffix
  role                 = "standby"
  region               = "us-west-2"
  vpc_cidr             = "10.2.0.0/16"
  public_subnets       = ["10.2.1.0/24", "10.2.2.0/24"]
  private_subnets      = ["10.2.11.0/24", "10.2.12.0/24"]
  nat_mode             = "none"
  instance_profile_arn = tap_regional_stack.primary.instance_profile_arn
}

locals {
  endpoints = {
    for name, stack in {
      primary = tap_regional_stack.primary
      standby = tap_regional_stack.standby
      reserve = tap_regional_stack.reserve
      } : name => {
      region           = stack.region
      alb_dns_name     = stack.alb_dns_name
      alb_zone_id      = stack.alb_zone_id
      alb_arn          = stack.alb_arn
      target_group_arn = stack.target_group_arn
    }
  }
}

resource "tap_dns_failover" "main" {
  environment_suffix = var.environment_suffix
  domain_name        = var.domain
  table_name         = tap_session_table.sessions.name
  alarm_emails       = var.alarm_emails

  primary {
    region           = local.endpoints.primary.region
    alb_dns_name     = local.endpoints.primary.alb_dns_name
    alb_zone_id      = local.endpoints.primary.alb_zone_id
    alb_arn          = local.endpoints.primary.alb_arn
    target_group_arn = local.endpoints.primary.target_group_arn
  }

  # The standbys in order of preference: Route 53 answers with us-east-2 when the primary is
  # down, and with us-west-2 when us-east-2 is down too.
  dynamic "standby" {
    for_each = [local.endpoints.standby, local.endpoints.reserve]
    content {
      region           = standby.value.region
      alb_dns_name     = standby.value.alb_dns_name
      alb_zone_id      = standby.value.alb_zone_id
      alb_arn          = standby.value.alb_arn
      target_group_arn = standby.value.target_group_arn
    }
  }
}

output "application_url" {
  value = "http://${var.domain}"
}

output "name_servers" {
  value = tap_dns_failover.main.name_servers
}
