# The same system as `tap_trading_failover` with only `environment_suffix` set, written as plain
# HCL with hashicorp/aws 3.39.0: the benchmark's peer (tools/bench.py). Not for real use.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "3.39.0" }
  }
}

variable "endpoint" { type = string }
variable "suffix" { type = string }
# The settings a careful author sets to save start-up requests (the benchmark's "best" peer):
# no account-ID lookup or EC2-platform probe when the provider starts, no region-name check.
variable "careful" {
  type    = bool
  default = false
}

locals {
  regions = { primary = "us-east-1", standby = "us-east-2" }
  table   = "trading-sessions-${var.suffix}"
  domain  = "trading-${var.suffix}.tap-test.net"
  endpoints = {
    autoscaling = var.endpoint
    cloudwatch  = var.endpoint
    dynamodb    = var.endpoint
    ec2         = var.endpoint
    elb         = var.endpoint
    iam         = var.endpoint
    route53     = var.endpoint
    sns         = var.endpoint
    sts         = var.endpoint
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "bench"
  secret_key                  = "bench"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = var.careful
  skip_get_ec2_platforms      = var.careful
  skip_region_validation      = var.careful
  endpoints {
    autoscaling = local.endpoints.autoscaling
    cloudwatch  = local.endpoints.cloudwatch
    dynamodb    = local.endpoints.dynamodb
    ec2         = local.endpoints.ec2
    elb         = local.endpoints.elb
    iam         = local.endpoints.iam
    route53     = local.endpoints.route53
    sns         = local.endpoints.sns
    sts         = local.endpoints.sts
  }
}

provider "aws" {
  alias                       = "standby"
  region                      = "us-east-2"
  access_key                  = "bench"
  secret_key                  = "bench"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = var.careful
  skip_get_ec2_platforms      = var.careful
  skip_region_validation      = var.careful
  endpoints {
    autoscaling = local.endpoints.autoscaling
    cloudwatch  = local.endpoints.cloudwatch
    dynamodb    = local.endpoints.dynamodb
    ec2         = local.endpoints.ec2
    elb         = local.endpoints.elb
    iam         = local.endpoints.iam
    route53     = local.endpoints.route53
    sns         = local.endpoints.sns
    sts         = local.endpoints.sts
  }
}

data "aws_caller_identity" "this" {}

# Least-privilege instance role shared by both regions.
resource "aws_iam_role" "instances" {
  name = "ec2-${var.suffix}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = { Environment = "Production", Name = "ec2-${var.suffix}" }
}

resource "aws_iam_role_policy" "instances" {
  name = "least-privilege"
  role = aws_iam_role.instances.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "StackMetrics"
        Effect    = "Allow"
        Action    = "cloudwatch:PutMetricData"
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = "TradingApp/${var.suffix}" } }
      },
      {
        Sid      = "StackLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:*:*:log-group:/tap/${var.suffix}:*"
      },
      {
        Sid    = "SessionTable"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
        ]
        Resource = flatten([for region in values(local.regions) : [
          "arn:aws:dynamodb:${region}:${data.aws_caller_identity.this.account_id}:table/${local.table}",
          "arn:aws:dynamodb:${region}:${data.aws_caller_identity.this.account_id}:table/${local.table}/index/*",
        ]])
      },
    ]
  })
}

resource "aws_iam_instance_profile" "instances" {
  name = "ec2-${var.suffix}"
  role = aws_iam_role.instances.name
}

module "primary" {
  source               = "./region"
  role                 = "primary"
  suffix               = var.suffix
  octet                = 0
  desired_capacity     = 2
  instance_profile_arn = aws_iam_instance_profile.instances.arn
}

module "standby" {
  source               = "./region"
  providers            = { aws = aws.standby }
  role                 = "standby"
  suffix               = var.suffix
  octet                = 1
  desired_capacity     = 1
  instance_profile_arn = aws_iam_instance_profile.instances.arn
}

resource "aws_dynamodb_table" "sessions" {
  name             = local.table
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "sessionId"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  attribute {
    name = "sessionId"
    type = "S"
  }
  server_side_encryption {
    enabled = true
  }
  point_in_time_recovery {
    enabled = true
  }
  replica {
    region_name = local.regions.standby
  }
  tags = { Environment = "Production", Name = local.table }
}

resource "aws_route53_zone" "this" {
  name          = local.domain
  force_destroy = true
  tags          = { Environment = "Production" }
}

resource "aws_route53_health_check" "primary" {
  fqdn              = module.primary.alb_dns_name
  port              = 80
  type              = "HTTP"
  resource_path     = "/health"
  request_interval  = 10
  failure_threshold = 3
  tags              = { Environment = "Production", Name = "hc-primary-${var.suffix}" }
}

resource "aws_route53_record" "primary" {
  zone_id         = aws_route53_zone.this.zone_id
  name            = local.domain
  type            = "A"
  set_identifier  = "primary"
  health_check_id = aws_route53_health_check.primary.id
  weighted_routing_policy {
    weight = 100
  }
  alias {
    name                   = module.primary.alb_dns_name
    zone_id                = module.primary.alb_zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "standby" {
  zone_id        = aws_route53_zone.this.zone_id
  name           = local.domain
  type           = "A"
  set_identifier = "standby"
  weighted_routing_policy {
    weight = 0
  }
  alias {
    name                   = module.standby.alb_dns_name
    zone_id                = module.standby.alb_zone_id
    evaluate_target_health = true
  }
}

resource "aws_cloudwatch_metric_alarm" "health_check" {
  alarm_name          = "failover-health-check-${var.suffix}"
  namespace           = "AWS/Route53"
  metric_name         = "HealthCheckStatus"
  statistic           = "Minimum"
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  period              = 60
  evaluation_periods  = 3
  treat_missing_data  = "breaching"
  dimensions          = { HealthCheckId = aws_route53_health_check.primary.id }
  alarm_actions       = [module.primary.topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "standby_traffic" {
  provider            = aws.standby
  alarm_name          = "failover-standby-traffic-${var.suffix}"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "RequestCount"
  statistic           = "Sum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  period              = 60
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  dimensions          = { LoadBalancer = module.standby.alb_arn_suffix }
  alarm_actions       = [module.standby.topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "replication_latency" {
  alarm_name          = "failover-replication-latency-${var.suffix}"
  namespace           = "AWS/DynamoDB"
  metric_name         = "ReplicationLatency"
  statistic           = "Average"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 60000
  period              = 60
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  dimensions          = { TableName = aws_dynamodb_table.sessions.name, ReceivingRegion = local.regions.standby }
  alarm_actions       = [module.primary.topic_arn]
}

output "application_url" { value = "http://${local.domain}" }
output "primary_alb_dns_name" { value = module.primary.alb_dns_name }
output "standby_alb_dns_name" { value = module.standby.alb_dns_name }
