//! Plan mapping for `tap_regional_stack`: defaults by role, and what an update replaces.

use tf_provider::value::Value;
use tf_provider::AttributePath;

use super::desired::Desired;
use super::schema::State;
use crate::naming;
use crate::role::{NatMode, Role};
use crate::tags::{Tags, DEFAULT_ENVIRONMENT};
use crate::tf::number::Number;
use crate::tf::values::{self, known_list, StringList};

/// The role whose defaults a configuration plans with: primary when left out, `None` while
/// unknown. A misspelt role plans as the primary; validation has refused it already.
pub(super) fn role_for_defaults(role: &Value<String>) -> Option<Role> {
    match role {
        Value::Unknown => None,
        Value::Null => Some(Role::Primary),
        Value::Value(text) => Some(Role::parse(text).unwrap_or(Role::Primary)),
    }
}

/// The planned state: configuration plus role defaults; computed IDs carry over from `prior`
/// unless the stack is replaced or the part behind them is missing or changing.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    planned.role = config
        .role
        .clone()
        .or(values::string(Role::Primary.as_str()));
    let role = role_for_defaults(&planned.role);
    if let Some(role) = role {
        planned.region = config
            .region
            .clone()
            .or(values::string(role.default_region()));
        planned.vpc_cidr = config
            .vpc_cidr
            .clone()
            .or(values::string(role.default_vpc_cidr()));
        planned.public_subnets = config
            .public_subnets
            .clone()
            .or(values::list(&role.default_subnets([1, 2])));
        planned.private_subnets = config
            .private_subnets
            .clone()
            .or(values::list(&role.default_subnets([11, 12])));
    } else {
        for value in [&mut planned.region, &mut planned.vpc_cidr] {
            if value.is_null() {
                *value = Value::Unknown;
            }
        }
        for list in [&mut planned.public_subnets, &mut planned.private_subnets] {
            if list.is_null() {
                *list = Value::Unknown;
            }
        }
    }
    planned.nat_mode = config
        .nat_mode
        .clone()
        .or(values::string(NatMode::DEFAULT.as_str()));
    planned.allowed_cidrs = config
        .allowed_cidrs
        .clone()
        .or(values::list(&["0.0.0.0/0".into()]));
    planned.app_port = config.app_port.or(Value::Value(Number(80.0)));
    planned.environment = config
        .environment
        .clone()
        .or(values::string(DEFAULT_ENVIRONMENT));
    planned.instance_type = config.instance_type.clone().or(values::string("t3.medium"));
    planned.min_size = config.min_size.or(Value::Value(Number(1.0)));
    planned.max_size = config.max_size.or(Value::Value(Number(4.0)));
    planned.desired_capacity = config.desired_capacity.or(match role {
        Some(role) => Value::Value(Number(f64::from(role.default_capacity()))),
        None => Value::Unknown,
    });
    planned.health_check_grace_period = config
        .health_check_grace_period
        .or(Value::Value(Number(300.0)));
    planned.cpu_target = config.cpu_target.or(Value::Value(Number(70.0)));
    planned.health_check_path = config
        .health_check_path
        .clone()
        .or(values::string("/health"));
    planned.health_check_interval = config.health_check_interval.or(Value::Value(Number(15.0)));
    planned.health_check_timeout = config.health_check_timeout.or(Value::Value(Number(5.0)));
    planned.healthy_threshold = config.healthy_threshold.or(Value::Value(Number(2.0)));
    planned.unhealthy_threshold = config.unhealthy_threshold.or(Value::Value(Number(3.0)));
    planned.wait_for_capacity = config.wait_for_capacity.or(Value::Value(true));
    planned.user_data = match (&config.user_data, role, &planned.region, &planned.app_port) {
        (Value::Null, Some(role), Value::Value(region), Value::Value(port)) => {
            values::string(default_user_data(role, region, port.as_i64().unwrap_or(80)))
        }
        (Value::Null, ..) => Value::Unknown,
        (given, ..) => given.clone(),
    };
    // Made here unless the caller brings a profile.
    planned.instance_role_name = match (
        &config.instance_profile_arn,
        &planned.environment_suffix,
        role,
    ) {
        (Value::Null, Value::Value(suffix), Some(role)) => {
            values::string(naming::stack_instance_role(role, suffix))
        }
        (Value::Null, ..) => Value::Unknown,
        _ => Value::Null,
    };
    planned.tags_all = match Desired::from_state(&planned, default_tags) {
        Some(want) => values::map(
            &want
                .owner_tags()
                .tags_for(naming::VPC, &want.name(naming::VPC)),
        ),
        None => Value::Unknown,
    };
    planned.id = match (&planned.region, &planned.environment_suffix, &planned.role) {
        (Value::Value(region), Value::Value(suffix), Value::Value(role)) => {
            values::string(format!("{region}/{suffix}/{role}"))
        }
        _ => Value::Unknown,
    };

    let Some(prior) = prior else {
        mark_unknown(&mut planned);
        return (planned, Vec::new());
    };
    let replace: Vec<AttributePath> = [
        (
            "environment_suffix",
            prior.environment_suffix != planned.environment_suffix,
        ),
        ("role", prior.role != planned.role),
        ("region", prior.region != planned.region),
        ("vpc_cidr", prior.vpc_cidr != planned.vpc_cidr),
        (
            "public_subnets",
            prior.public_subnets != planned.public_subnets,
        ),
        (
            "private_subnets",
            prior.private_subnets != planned.private_subnets,
        ),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(attr, _)| AttributePath::new(attr))
    .collect();
    copy_computed(&mut planned, prior);
    if !replace.is_empty() {
        mark_unknown(&mut planned);
    } else {
        mark_changing(&mut planned, prior);
    }
    (planned, replace)
}

fn copy_computed(planned: &mut State, prior: &State) {
    if planned.ami_id.is_null() {
        // Looked up again for another type: the image may not run on its architecture.
        planned.ami_id = if prior.instance_type == planned.instance_type {
            prior.ami_id.clone()
        } else {
            Value::Unknown
        };
    }
    if planned.instance_profile_arn.is_null() {
        planned.instance_profile_arn = prior.instance_profile_arn.clone();
    }
    planned.alb_arn = prior.alb_arn.clone();
    planned.alb_dns_name = prior.alb_dns_name.clone();
    planned.alb_zone_id = prior.alb_zone_id.clone();
    planned.target_group_arn = prior.target_group_arn.clone();
    planned.listener_arns = prior.listener_arns.clone();
    planned.launch_template_id = prior.launch_template_id.clone();
    planned.launch_template_version = prior.launch_template_version;
    planned.asg_name = prior.asg_name.clone();
    planned.vpc_id = prior.vpc_id.clone();
    planned.availability_zones = prior.availability_zones.clone();
    planned.public_subnet_ids = prior.public_subnet_ids.clone();
    planned.private_subnet_ids = prior.private_subnet_ids.clone();
    planned.internet_gateway_id = prior.internet_gateway_id.clone();
    planned.nat_gateway_ids = prior.nat_gateway_ids.clone();
    planned.alb_security_group_id = prior.alb_security_group_id.clone();
    planned.instance_security_group_id = prior.instance_security_group_id.clone();
}

/// Only what will change becomes unknown: a part deleted out of band (read records it as an
/// empty ID), NAT gateways when the mode changes, listeners when the certificate changes, and a
/// new launch template version when what the template holds changes.
fn mark_changing(planned: &mut State, prior: &State) {
    let missing = |v: &Value<String>| v.as_ref_option().is_some_and(String::is_empty);
    for list in [
        &mut planned.public_subnet_ids,
        &mut planned.private_subnet_ids,
    ] {
        if missing_in_list(list) {
            *list = Value::Unknown;
        }
    }
    if planned.public_subnet_ids.is_unknown() || missing_in_list(&planned.availability_zones) {
        planned.availability_zones = Value::Unknown;
    }
    if prior.nat_mode != planned.nat_mode || missing_in_list(&planned.nat_gateway_ids) {
        planned.nat_gateway_ids = Value::Unknown;
    }
    for id in [
        &mut planned.vpc_id,
        &mut planned.internet_gateway_id,
        &mut planned.alb_security_group_id,
        &mut planned.instance_security_group_id,
        &mut planned.alb_arn,
        &mut planned.target_group_arn,
        &mut planned.launch_template_id,
        &mut planned.asg_name,
        &mut planned.ami_id,
        &mut planned.instance_profile_arn,
    ] {
        if missing(id) {
            *id = Value::Unknown;
        }
    }
    if prior.instance_role_name != planned.instance_role_name
        && planned.instance_role_name.is_value()
    {
        planned.instance_profile_arn = Value::Unknown;
    }
    if planned.alb_arn.is_unknown() || missing(&planned.alb_dns_name) {
        planned.alb_dns_name = Value::Unknown;
        planned.alb_zone_id = Value::Unknown;
    }
    if planned.alb_arn.is_unknown()
        || missing_in_list(&planned.listener_arns)
        || prior.certificate_arn != planned.certificate_arn
        || planned.listener_arns == Value::Value(Vec::new())
    {
        planned.listener_arns = Value::Unknown;
    }
    let template_changing = prior.instance_type != planned.instance_type
        || prior.ami_id != planned.ami_id
        || prior.user_data != planned.user_data
        || prior.instance_profile_arn != planned.instance_profile_arn
        || planned.instance_security_group_id.is_unknown()
        || planned.launch_template_id.is_unknown()
        || planned.launch_template_version.is_null();
    if template_changing {
        planned.launch_template_version = Value::Unknown;
    }
}

/// Every ID becomes unknown when the stack is new or replaced.
fn mark_unknown(planned: &mut State) {
    for value in [
        &mut planned.alb_arn,
        &mut planned.alb_dns_name,
        &mut planned.alb_zone_id,
        &mut planned.target_group_arn,
        &mut planned.launch_template_id,
        &mut planned.asg_name,
    ] {
        *value = Value::Unknown;
    }
    planned.listener_arns = Value::Unknown;
    planned.launch_template_version = Value::Unknown;
    if planned.ami_id.is_null() {
        planned.ami_id = Value::Unknown;
    }
    if planned.instance_profile_arn.is_null() {
        planned.instance_profile_arn = Value::Unknown;
    }
    planned.vpc_id = Value::Unknown;
    planned.availability_zones = Value::Unknown;
    planned.public_subnet_ids = Value::Unknown;
    planned.private_subnet_ids = Value::Unknown;
    planned.internet_gateway_id = Value::Unknown;
    planned.nat_gateway_ids = Value::Unknown;
    planned.alb_security_group_id = Value::Unknown;
    planned.instance_security_group_id = Value::Unknown;
}

/// Read records a part deleted out of band as an empty ID.
fn missing_in_list(list: &StringList) -> bool {
    known_list(list).is_some_and(|ids| ids.iter().any(String::is_empty))
}

/// A small web app: `/` names the region, `/health` answers `ok`, on `port`.
pub fn default_user_data(role: Role, region: &str, port: i64) -> String {
    format!(
        "#!/bin/bash\nset -euo pipefail\nmkdir -p /srv/app\necho ok > /srv/app/health\necho '<h1>Trading app: {role} ({region})</h1>' > /srv/app/index.html\nnohup python3 -m http.server {port} --directory /srv/app >/var/log/trading-app.log 2>&1 &\n"
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::config;
    use super::*;
    use crate::tf::values::known_map;

    #[test]
    fn defaults_follow_the_spec_per_role() {
        let (primary, _) = plan(&config(None), None, &Tags::new());
        assert_eq!(primary.region, values::string("us-east-1"));
        assert_eq!(primary.vpc_cidr, values::string("10.0.0.0/16"));
        assert_eq!(
            primary.public_subnets,
            values::list(&["10.0.1.0/24".into(), "10.0.2.0/24".into()])
        );
        assert_eq!(
            primary.private_subnets,
            values::list(&["10.0.11.0/24".into(), "10.0.12.0/24".into()])
        );
        assert_eq!(primary.nat_mode, values::string("single"));
        assert_eq!(primary.id, values::string("us-east-1/acc/primary"));
        assert_eq!(
            known_map(&primary.tags_all).unwrap()["Name"],
            "vpc-primary-acc"
        );
        let (standby, _) = plan(&config(Some("standby")), None, &Tags::new());
        assert_eq!(standby.region, values::string("us-east-2"));
        assert_eq!(
            standby.private_subnets,
            values::list(&["10.1.11.0/24".into(), "10.1.12.0/24".into()])
        );
        assert_eq!(
            known_map(&standby.tags_all).unwrap()["FailoverRole"],
            "Standby"
        );
        assert!(standby.vpc_id.is_unknown());
    }

    #[test]
    fn cidr_and_nat_changes_plan_as_expected() {
        let (mut prior, _) = plan(&config(None), None, &Tags::new());
        prior.vpc_id = values::string("vpc-1");
        prior.public_subnet_ids = values::list(&["subnet-1".into(), "subnet-2".into()]);
        let mut c = config(None);
        c.nat_mode = values::string("per_az");
        let (planned, replace) = plan(&c, Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(planned.vpc_id, values::string("vpc-1"));
        assert!(planned.nat_gateway_ids.is_unknown());

        let mut c = config(None);
        c.vpc_cidr = values::string("10.9.0.0/16");
        c.public_subnets = values::list(&["10.9.1.0/24".into(), "10.9.2.0/24".into()]);
        c.private_subnets = values::list(&["10.9.11.0/24".into(), "10.9.12.0/24".into()]);
        let (planned, replace) = plan(&c, Some(&prior), &Tags::new());
        assert_eq!(replace.len(), 3);
        assert!(planned.vpc_id.is_unknown());
    }

    #[test]
    fn the_default_image_is_looked_up_again_only_for_another_instance_type() {
        let (mut prior, _) = plan(&config(None), None, &Tags::new());
        prior.ami_id = values::string("ami-x86");
        prior.launch_template_version = Value::Value(1.into());
        let mut c = config(None);
        c.desired_capacity = Value::Value(3.into());
        let (planned, _) = plan(&c, Some(&prior), &Tags::new());
        assert_eq!(planned.ami_id, values::string("ami-x86"));

        c.instance_type = values::string("t4g.medium");
        let (planned, replace) = plan(&c, Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert!(planned.ami_id.is_unknown());
        assert!(planned.launch_template_version.is_unknown());

        c.ami_id = values::string("ami-given");
        let (planned, _) = plan(&c, Some(&prior), &Tags::new());
        assert_eq!(planned.ami_id, values::string("ami-given"));
    }

    #[test]
    fn a_missing_part_plans_its_rebuild() {
        let (mut prior, _) = plan(&config(None), None, &Tags::new());
        prior.vpc_id = values::string("vpc-1");
        prior.public_subnet_ids = values::list(&["subnet-1".into(), "".into()]);
        let (planned, replace) = plan(&config(None), Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert!(planned.public_subnet_ids.is_unknown());
        assert_eq!(planned.vpc_id, values::string("vpc-1"));
    }
}
