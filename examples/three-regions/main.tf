# A topology the one-resource system does not offer, composed from the sub-resources: one
# primary and two standbys. Route 53 fails over from us-east-1 to us-east-2; us-west-2 is a warm
# reserve with its own failover name, promoted by pointing `reserve_domain` at it. The session
# table replicates to both standby regions, and one instance profile serves all three.
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

variable "reserve_domain" {
  type        = string
  default     = null
  description = "The reserve's own failover name; default reserve.<domain>."
}

locals {
  reserve_domain = coalesce(var.reserve_domain, "reserve.${var.domain}")
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
  environment_suffix   = "${var.environment_suffix}-w"
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

  standby {
    region           = local.endpoints.standby.region
    alb_dns_name     = local.endpoints.standby.alb_dns_name
    alb_zone_id      = local.endpoints.standby.alb_zone_id
    alb_arn          = local.endpoints.standby.alb_arn
    target_group_arn = local.endpoints.standby.target_group_arn
  }
}

# The reserve's own failover name: the primary first, us-west-2 when it is down.
resource "tap_dns_failover" "reserve" {
  environment_suffix = "${var.environment_suffix}-w"
  domain_name        = local.reserve_domain
  alarm_emails       = var.alarm_emails

  primary {
    region           = local.endpoints.primary.region
    alb_dns_name     = local.endpoints.primary.alb_dns_name
    alb_zone_id      = local.endpoints.primary.alb_zone_id
    alb_arn          = local.endpoints.primary.alb_arn
    target_group_arn = local.endpoints.primary.target_group_arn
  }

  standby {
    region           = local.endpoints.reserve.region
    alb_dns_name     = local.endpoints.reserve.alb_dns_name
    alb_zone_id      = local.endpoints.reserve.alb_zone_id
    alb_arn          = local.endpoints.reserve.alb_arn
    target_group_arn = local.endpoints.reserve.target_group_arn
  }
}

output "application_url" {
  value = "http://${var.domain}"
}

output "name_servers" {
  value = {
    main    = tap_dns_failover.main.name_servers
    reserve = tap_dns_failover.reserve.name_servers
  }
}
