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
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown(
                "One region of the failover system. This version builds the network: a VPC with DNS support and hostnames, public and private subnets in the first availability zones, an internet gateway and public route table, NAT egress for the private subnets (`single`, `per_az` or `none`), and the security groups of the load balancer and the instances. Every object carries ownership tags, so an apply that stopped halfway adopts what it made instead of duplicating it.",
            ),
            attributes: named([
                ("id", computed(AttributeType::String, "`<region>/<environment_suffix>/<role>`, also the import ID.")),
                ("environment_suffix", required(AttributeType::String, "Suffix carried by every name, e.g. `prod`: 1–20 lowercase letters, digits and hyphens. Changing it replaces the stack.")),
                ("role", with_default(AttributeType::String, "`primary` or `standby`: sets the `FailoverRole` tag, the names and the defaults below. Default `primary`. Changing it replaces the stack.")),
                ("region", with_default(AttributeType::String, "Region of the stack. Default `us-east-1` for the primary, `us-east-2` for the standby. Changing it replaces the stack.")),
                ("vpc_cidr", with_default(AttributeType::String, "VPC CIDR, /16 to /28. Default `10.0.0.0/16` (primary) or `10.1.0.0/16` (standby). Changing it replaces the stack (AWS cannot change a VPC's primary CIDR).")),
                ("public_subnets", with_default(string_list(), "Public subnet CIDRs, one per availability zone, inside `vpc_cidr`. Default `10.x.1.0/24`, `10.x.2.0/24`. Changing them replaces the stack.")),
                ("private_subnets", with_default(string_list(), "Private subnet CIDRs, as many as public ones, same zones. Default `10.x.11.0/24`, `10.x.12.0/24`. Changing them replaces the stack.")),
                ("nat_mode", with_default(AttributeType::String, "Private egress: `single` (one NAT gateway), `per_az` (one per zone) or `none`. Default `single`. Updated in place.")),
                ("allowed_cidrs", with_default(string_list(), "CIDRs allowed to reach the load balancer. Default `[\"0.0.0.0/0\"]`. Updated in place.")),
                ("app_port", with_default(AttributeType::Number, "Port the instances serve on; only the load balancer's group may reach it. Default 80. Updated in place.")),
                ("certificate_arn", optional(AttributeType::String, "ACM certificate ARN; opens 443 on the load balancer's group. Updated in place.")),
                ("environment", with_default(AttributeType::String, "Value of the `Environment` tag. Default `Production`.")),
                ("tags", optional(string_map(), "Tags for every object of the stack, on top of the provider's `default_tags`.")),
                ("tags_all", computed(string_map(), "Every tag on the VPC: `default_tags`, `Name`, `Environment`, `FailoverRole`, the ownership tags and `tags`.")),
                ("vpc_id", computed(AttributeType::String, "VPC ID.")),
                ("availability_zones", computed(string_list(), "Zones of the subnets, in order.")),
                ("public_subnet_ids", computed(string_list(), "Public subnet IDs, in the order of `public_subnets`.")),
                ("private_subnet_ids", computed(string_list(), "Private subnet IDs, in the order of `private_subnets`.")),
                ("internet_gateway_id", computed(AttributeType::String, "Internet gateway ID.")),
                ("nat_gateway_ids", computed(string_list(), "NAT gateway IDs (none with `nat_mode = \"none\"`).")),
                ("alb_security_group_id", computed(AttributeType::String, "Security group of the load balancer.")),
                ("instance_security_group_id", computed(AttributeType::String, "Security group of the instances.")),
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
