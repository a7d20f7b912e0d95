//! `tap_regional_stack`: its state and schema.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{self, Value};

use crate::tf::number::Number;
use crate::tf::schema::{
    computed, named, optional, required, string_list, string_map, with_default,
};
use crate::tf::timeouts::{self, TimeoutDefaults, Timeouts};
use crate::tf::values::{StringList, StringMap};

/// hashicorp/aws: NAT create 10m and delete 30m, subnet delete 20m, SG delete 15m, VPC 10m.
/// A stack waits for several of these in sequence.
pub const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(30 * 60),
    update: Duration::from_secs(30 * 60),
    delete: Duration::from_secs(45 * 60),
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub role: Value<String>,
    pub region: Value<String>,
    pub vpc_cidr: Value<String>,
    pub public_subnets: StringList,
    pub private_subnets: StringList,
    pub nat_mode: Value<String>,
    pub allowed_cidrs: StringList,
    pub app_port: Value<Number>,
    pub certificate_arn: Value<String>,
    pub instance_type: Value<String>,
    pub ami_id: Value<String>,
    pub min_size: Value<Number>,
    pub max_size: Value<Number>,
    pub desired_capacity: Value<Number>,
    pub health_check_grace_period: Value<Number>,
    pub cpu_target: Value<Number>,
    pub user_data: Value<String>,
    pub health_check_path: Value<String>,
    pub health_check_interval: Value<Number>,
    pub health_check_timeout: Value<Number>,
    pub healthy_threshold: Value<Number>,
    pub unhealthy_threshold: Value<Number>,
    pub instance_profile_arn: Value<String>,
    pub instance_policy_statements: Value<String>,
    pub wait_for_capacity: Value<bool>,
    pub environment: Value<String>,
    pub tags: StringMap,
    pub tags_all: StringMap,
    pub vpc_id: Value<String>,
    pub availability_zones: StringList,
    pub public_subnet_ids: StringList,
    pub private_subnet_ids: StringList,
    pub internet_gateway_id: Value<String>,
    pub nat_gateway_ids: StringList,
    pub alb_security_group_id: Value<String>,
    pub instance_security_group_id: Value<String>,
    pub instance_role_name: Value<String>,
    pub alb_arn: Value<String>,
    pub alb_dns_name: Value<String>,
    pub alb_zone_id: Value<String>,
    pub target_group_arn: Value<String>,
    pub listener_arns: StringList,
    pub launch_template_id: Value<String>,
    pub launch_template_version: Value<Number>,
    pub asg_name: Value<String>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown(
                "One region of the failover system: a VPC with DNS support and hostnames, public and private subnets in the first availability zones that offer the instance type, an internet gateway and public route table, NAT egress for the private subnets (`single`, `per_az` or `none`), the security groups of the load balancer and the instances, an Application Load Balancer with its target group and listeners, a launch template (IMDSv2, encrypted root volume) and an Auto Scaling group with a CPU target-tracking policy, and the instances' IAM role. Every object carries ownership tags, so an apply that stopped halfway adopts what it made instead of duplicating it.",
            ),
            attributes: named([
                ("id", computed(AttributeType::String, "`<region>/<environment_suffix>/<role>`, also the import ID.")),
                ("environment_suffix", required(AttributeType::String, "Suffix carried by every name, e.g. `prod`: 1–20 lowercase letters, digits and hyphens. Changing it replaces the stack.")),
                ("role", with_default(AttributeType::String, "`primary` or `standby`: sets the `FailoverRole` tag, the names and the defaults below. Default `primary`. Changing it replaces the stack.")),
                ("region", with_default(AttributeType::String, "Region of the stack. Default `us-east-1` for the primary, `us-east-2` for the standby. Changing it replaces the stack.")),
                ("vpc_cidr", with_default(AttributeType::String, "VPC CIDR, /16 to /28. Default `10.0.0.0/16` (primary) or `10.1.0.0/16` (standby). Changing it replaces the stack (AWS cannot change a VPC's primary CIDR).")),
                ("public_subnets", with_default(string_list(), "Public subnet CIDRs, one per availability zone (the region's first zones by name that offer `instance_type`; too few fails at apply, before the region's network is built): 2 to 6 (the load balancer needs two zones), each /27 or larger, inside `vpc_cidr`. Default `10.x.1.0/24`, `10.x.2.0/24`. Changing them replaces the stack.")),
                ("private_subnets", with_default(string_list(), "Private subnet CIDRs, as many as public ones, same zones. Default `10.x.11.0/24`, `10.x.12.0/24`. Changing them replaces the stack.")),
                ("nat_mode", with_default(AttributeType::String, "Private egress: `single` (one NAT gateway), `per_az` (one per zone) or `none`. Default `single`. Updated in place.")),
                ("allowed_cidrs", with_default(string_list(), "CIDRs allowed to reach the load balancer. Default `[\"0.0.0.0/0\"]`. When they are not open to all, Route 53's health checkers are let in too (the region's AWS-managed prefix list `com.amazonaws.<region>.route53-healthchecks`, on 443 with a certificate, else 80). Updated in place.")),
                ("app_port", with_default(AttributeType::Number, "Port the instances serve on; only the load balancer's group may reach it. Default 80. Updated in place.")),
                ("certificate_arn", optional(AttributeType::String, "ACM certificate of the stack's region (ACM is regional): an HTTPS:443 listener with a TLS 1.2+ policy (`ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09`), HTTP redirected to it, 443 open on the load balancer's group. Updated in place.")),
                ("instance_type", with_default(AttributeType::String, "EC2 instance type. Default `t3.medium`. Updated in place (new launch template version and an instance refresh). Subnets go only to zones that offer it.")),
                ("ami_id", with_default(AttributeType::String, "AMI of the instances. Default: the latest Amazon Linux 2023 of the region for the architecture of `instance_type` (arm64 for Graviton types such as `t4g` or `m7g`, else x86_64), looked up at create, and again when `instance_type` changes (the image is kept when it runs on the new type). Updated in place.")),
                ("min_size", with_default(AttributeType::Number, "Auto Scaling minimum. Default 1.")),
                ("max_size", with_default(AttributeType::Number, "Auto Scaling maximum. Default 4.")),
                ("desired_capacity", with_default(AttributeType::Number, "Instances to run. Default 2 for the primary, 1 for the standby. Applied when the configuration changes it (and at create); in between the CPU target-tracking policy owns the live value, so its scaling is not drift and an unrelated apply does not undo it.")),
                ("health_check_grace_period", with_default(AttributeType::Number, "Seconds before a new instance's ELB health counts. Default 300.")),
                ("cpu_target", with_default(AttributeType::Number, "Average CPU (percent) the target-tracking policy holds. Default 70.")),
                ("user_data", with_default(AttributeType::String, "Instance user data (plain text). Default: a small web app serving `/` and `/health` on `app_port`. Updated in place.")),
                ("health_check_path", with_default(AttributeType::String, "Target group health check path. Default `/health`.")),
                ("health_check_interval", with_default(AttributeType::Number, "Seconds between target health checks, 5–300. Default 15.")),
                ("health_check_timeout", with_default(AttributeType::Number, "Seconds a target health check may take, 2–120 and below the interval. Default 5.")),
                ("healthy_threshold", with_default(AttributeType::Number, "Consecutive successes that make a target healthy, 2–10. Default 2.")),
                ("unhealthy_threshold", with_default(AttributeType::Number, "Consecutive failures that make a target unhealthy, 2–10. Default 3.")),
                ("instance_profile_arn", with_default(AttributeType::String, "Instance profile for the instances. Default: a role and profile `ec2-<role>-<suffix>` made here; give one to share a profile between regions.")),
                ("instance_policy_statements", optional(AttributeType::String, "JSON array of extra IAM policy statements for the role made here (e.g. DynamoDB item actions on one table). Statements must name their resources.")),
                ("wait_for_capacity", with_default(AttributeType::Bool, "Wait until the group's desired capacity is InService and healthy in the target group; a failed launch (a failed scaling activity) ends the wait with AWS's reason. Default `true`.")),
                ("environment", with_default(AttributeType::String, "Value of the `Environment` tag. Default `Production`.")),
                ("tags", optional(string_map(), "Tags for every object of the stack, on top of the provider's `default_tags`.")),
                ("tags_all", computed(string_map(), "Every tag on the VPC: `default_tags`, `Name`, `Environment`, `FailoverRole`, the ownership tags and `tags`.")),
                ("vpc_id", computed(AttributeType::String, "VPC ID. Empty when its DNS resolution or DNS hostnames were turned off outside Terraform (the instances resolve DynamoDB's endpoint through the VPC's DNS): the next apply turns them on again.")),
                ("availability_zones", computed(string_list(), "Zones of the subnets, in order.")),
                ("public_subnet_ids", computed(string_list(), "Public subnet IDs, in the order of `public_subnets`.")),
                ("private_subnet_ids", computed(string_list(), "Private subnet IDs, in the order of `private_subnets`.")),
                ("internet_gateway_id", computed(AttributeType::String, "Internet gateway ID.")),
                ("nat_gateway_ids", computed(string_list(), "NAT gateway IDs (none with `nat_mode = \"none\"`).")),
                ("alb_security_group_id", computed(AttributeType::String, "Security group of the load balancer.")),
                ("instance_security_group_id", computed(AttributeType::String, "Security group of the instances.")),
                ("instance_role_name", computed(AttributeType::String, "IAM role (and instance profile) made for the instances; null when `instance_profile_arn` is given.")),
                ("alb_arn", computed(AttributeType::String, "ARN of the Application Load Balancer.")),
                ("alb_dns_name", computed(AttributeType::String, "DNS name of the load balancer.")),
                ("alb_zone_id", computed(AttributeType::String, "Canonical hosted zone of the load balancer, for Route 53 alias records.")),
                ("target_group_arn", computed(AttributeType::String, "ARN of the target group.")),
                ("listener_arns", computed(string_list(), "Listener ARNs: HTTP:80, then HTTPS:443 when `certificate_arn` is set. A listener deleted or changed outside Terraform (its TLS policy too) shows as empty, and the next apply repairs it.")),
                ("launch_template_id", computed(AttributeType::String, "Launch template ID.")),
                ("launch_template_version", computed(AttributeType::Number, "Launch template version in use.")),
                ("asg_name", computed(AttributeType::String, "Auto Scaling group name.")),
            ]),
            blocks: named([("timeouts", timeouts::block(TIMEOUTS))]),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fields_match_schema_attributes() {
        crate::tf::schema::assert_state_matches_schema::<super::State>(&super::schema());
    }
}
