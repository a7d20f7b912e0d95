# One region of the warm-standby system, written as a user would with hashicorp/aws.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "role" { type = string }          # primary | standby
variable "suffix" { type = string }
variable "octet" { type = number }         # 10.<octet>.0.0/16
variable "desired_capacity" { type = number }
variable "instance_profile_arn" { type = string }

locals {
  Role = title(var.role)
  tags = {
    Environment  = "Production"
    FailoverRole = local.Role
  }
  user_data = <<-EOT
    #!/bin/bash
    set -euo pipefail
    mkdir -p /srv/app
    echo ok > /srv/app/health
    echo '<h1>Trading app: ${var.role}</h1>' > /srv/app/index.html
    nohup python3 -m http.server 80 --directory /srv/app >/var/log/trading-app.log 2>&1 &
  EOT
}

data "aws_region" "this" {}
data "aws_caller_identity" "this" {}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ami" "al2023" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "name"
    values = ["al2023-ami-2023*-x86_64"]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = "10.${var.octet}.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = "vpc-${var.role}-${var.suffix}" })
}

resource "aws_subnet" "public" {
  count                   = 2
  vpc_id                  = aws_vpc.this.id
  cidr_block              = "10.${var.octet}.${count.index + 1}.0/24"
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  map_public_ip_on_launch = true
  tags                    = merge(local.tags, { Name = "public-${var.role}-${var.suffix}-${count.index}" })
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.${var.octet}.${count.index + 11}.0/24"
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = merge(local.tags, { Name = "private-${var.role}-${var.suffix}-${count.index}" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "igw-${var.role}-${var.suffix}" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = merge(local.tags, { Name = "public-rt-${var.role}-${var.suffix}" })
}

resource "aws_route_table_association" "public" {
  count          = 2
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  vpc  = true
  tags = merge(local.tags, { Name = "nat-eip-${var.role}-${var.suffix}" })
}

resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  tags          = merge(local.tags, { Name = "nat-${var.role}-${var.suffix}" })
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this.id
  }
  tags = merge(local.tags, { Name = "private-rt-${var.role}-${var.suffix}" })
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_security_group" "alb" {
  name        = "alb-sg-${var.role}-${var.suffix}"
  description = "Load balancer of the ${var.role} region"
  vpc_id      = aws_vpc.this.id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = merge(local.tags, { Name = "alb-sg-${var.role}-${var.suffix}" })
}

resource "aws_security_group" "instance" {
  name        = "instance-sg-${var.role}-${var.suffix}"
  description = "Instances of the ${var.role} region"
  vpc_id      = aws_vpc.this.id
  ingress {
    from_port       = 80
    to_port         = 80
    protocol        = "tcp"
    security_groups = [aws_security_group.alb.id]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = merge(local.tags, { Name = "instance-sg-${var.role}-${var.suffix}" })
}

resource "aws_lb" "this" {
  name               = "alb-${var.role}-${var.suffix}"
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id
  tags               = merge(local.tags, { Name = "alb-${var.role}-${var.suffix}" })
}

resource "aws_lb_target_group" "this" {
  name     = "tg-${var.role}-${var.suffix}"
  port     = 80
  protocol = "HTTP"
  vpc_id   = aws_vpc.this.id
  health_check {
    path                = "/health"
    interval            = 30
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
  tags = merge(local.tags, { Name = "tg-${var.role}-${var.suffix}" })
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_launch_template" "this" {
  name          = "lt-${var.role}-${var.suffix}"
  image_id      = data.aws_ami.al2023.id
  instance_type = "t3.medium"
  iam_instance_profile {
    arn = var.instance_profile_arn
  }
  vpc_security_group_ids = [aws_security_group.instance.id]
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 8
      encrypted   = true
    }
  }
  user_data = base64encode(local.user_data)
  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "app-${var.role}-${var.suffix}" })
  }
  tags = merge(local.tags, { Name = "lt-${var.role}-${var.suffix}" })
}

resource "aws_autoscaling_group" "this" {
  name                      = "asg-${var.role}-${var.suffix}"
  min_size                  = 1
  max_size                  = 4
  desired_capacity          = var.desired_capacity
  vpc_zone_identifier       = aws_subnet.private[*].id
  target_group_arns         = [aws_lb_target_group.this.arn]
  health_check_type         = "ELB"
  health_check_grace_period = 300
  enabled_metrics           = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupTotalInstances"]
  launch_template {
    id      = aws_launch_template.this.id
    version = "$Latest"
  }
  dynamic "tag" {
    for_each = merge(local.tags, { Name = "asg-${var.role}-${var.suffix}" })
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
}

resource "aws_autoscaling_policy" "cpu" {
  name                   = "cpu-${var.role}-${var.suffix}"
  autoscaling_group_name = aws_autoscaling_group.this.name
  policy_type            = "TargetTrackingScaling"
  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = 70
  }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.role}-failover-notifications-${var.suffix}"
  kms_master_key_id = "alias/aws/sns"
  tags              = merge(local.tags, { Name = "${var.role}-failover-notifications-${var.suffix}" })
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alarms.arn
      Condition = {
        ArnLike      = { "aws:SourceArn" = "arn:aws:cloudwatch:${data.aws_region.this.name}:${data.aws_caller_identity.this.account_id}:alarm:*" }
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.this.account_id }
      }
    }]
  })
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "failover-unhealthy-hosts-${var.role}-${var.suffix}"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  period              = 60
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  dimensions = {
    TargetGroup  = aws_lb_target_group.this.arn_suffix
    LoadBalancer = aws_lb.this.arn_suffix
  }
  alarm_actions = [aws_sns_topic.alarms.arn]
  tags          = local.tags
}

output "alb_dns_name" { value = aws_lb.this.dns_name }
output "alb_zone_id" { value = aws_lb.this.zone_id }
output "alb_arn_suffix" { value = aws_lb.this.arn_suffix }
output "topic_arn" { value = aws_sns_topic.alarms.arn }
output "vpc_id" { value = aws_vpc.this.id }
output "asg_name" { value = aws_autoscaling_group.this.name }
