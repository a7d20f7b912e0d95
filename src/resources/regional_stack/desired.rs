//! What apply converges `tap_regional_stack` to: the planned state with every value known.

use tf_provider::value::Value;

use super::schema::State;
use crate::naming;
use crate::role::{NatMode, Role};
use crate::tags::{self, Ownership, Tags};
use crate::tf::number::whole;
use crate::tf::values::{known_list, known_map};

/// The planned state with every value known: what apply converges AWS to.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub role: Role,
    pub region: String,
    pub vpc_cidr: String,
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
    pub nat_mode: NatMode,
    pub allowed_cidrs: Vec<String>,
    pub app_port: i32,
    pub certificate_arn: Option<String>,
    pub instance_type: String,
    /// `None`: look up the latest Amazon Linux at apply.
    pub ami_id: Option<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    pub health_check_grace_period: i32,
    pub cpu_target: f64,
    pub user_data: String,
    pub health_check: crate::aws::load_balancer::TargetHealthCheck,
    /// The role made here, or `None` when the caller gave `instance_profile_arn`.
    pub instance_role_name: Option<String>,
    pub instance_profile_arn: Option<String>,
    pub instance_policy_statements: Option<String>,
    pub wait_for_capacity: bool,
    pub environment: String,
    pub user_tags: Tags,
    pub default_tags: Tags,
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        Some(Desired {
            suffix: state.environment_suffix.as_ref_option()?.clone(),
            role: Role::parse(state.role.as_ref_option()?)?,
            region: state.region.as_ref_option()?.clone(),
            vpc_cidr: state.vpc_cidr.as_ref_option()?.clone(),
            public_subnets: known_list(&state.public_subnets)?,
            private_subnets: known_list(&state.private_subnets)?,
            nat_mode: NatMode::parse(state.nat_mode.as_ref_option()?)?,
            allowed_cidrs: known_list(&state.allowed_cidrs)?,
            app_port: state.app_port.as_ref_option()?.as_i64()? as i32,
            certificate_arn: match &state.certificate_arn {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            instance_type: state.instance_type.as_ref_option()?.clone(),
            ami_id: known_or_computed(&state.ami_id),
            min_size: whole(&state.min_size)? as i32,
            max_size: whole(&state.max_size)? as i32,
            desired_capacity: whole(&state.desired_capacity)? as i32,
            health_check_grace_period: whole(&state.health_check_grace_period)? as i32,
            cpu_target: state.cpu_target.as_ref_option()?.0,
            user_data: state.user_data.as_ref_option()?.clone(),
            health_check: crate::aws::load_balancer::TargetHealthCheck {
                path: state.health_check_path.as_ref_option()?.clone(),
                interval: whole(&state.health_check_interval)? as i32,
                timeout: whole(&state.health_check_timeout)? as i32,
                healthy_threshold: whole(&state.healthy_threshold)? as i32,
                unhealthy_threshold: whole(&state.unhealthy_threshold)? as i32,
            },
            instance_role_name: match &state.instance_role_name {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            instance_profile_arn: known_or_computed(&state.instance_profile_arn),
            instance_policy_statements: match &state.instance_policy_statements {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            wait_for_capacity: *state.wait_for_capacity.as_ref_option()?,
            environment: state.environment.as_ref_option()?.clone(),
            user_tags: known_map(&state.tags)?,
            default_tags: default_tags.clone(),
        })
    }

    /// `<what>-<role>-<suffix>`, the naming rule of every part.
    pub fn name(&self, what: &str) -> String {
        naming::stack_part(what, self.role, &self.suffix)
    }

    pub fn owner_tags(&self) -> crate::aws::ec2::Owner {
        let mut base = tags::merge(
            &self.default_tags,
            &Ownership {
                suffix: &self.suffix,
                part: "",
                name: "",
                environment: &self.environment,
                failover_role: self.role,
            },
            &self.user_tags,
        );
        base.remove(tags::PART_KEY);
        crate::aws::ec2::Owner {
            suffix: self.suffix.clone(),
            failover_role: self.role,
            base_tags: base,
        }
    }
}

/// A value apply computes when unknown (or recorded as missing).
fn known_or_computed(value: &Value<String>) -> Option<String> {
    value.as_ref_option().filter(|v| !v.is_empty()).cloned()
}
