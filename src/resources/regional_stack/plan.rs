//! Plan-time work for `tap_regional_stack`: validation, defaults by role, and what an update
//! replaces.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::schema::State;
use crate::cidr::Cidr;
use crate::naming;
use crate::resources::shared_checks;
use crate::role::{NatMode, Role};
use crate::tags::{self, Ownership, Tags, DEFAULT_ENVIRONMENT};
use crate::tf::diag::{invalid, whole_in_range};
use crate::tf::number::{whole, Number};
use crate::tf::values::{self, known_list, known_map, StringList};

const MAX_ZONES: usize = 6;
/// "[Application Load Balancers] You must specify subnets from at least two Availability Zones"
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html,
/// `Subnets`); each public subnet gets its own zone (`network::zones`).
const MIN_ZONES: usize = 2;
/// "The allowed block size is between a /28 netmask and /16 netmask"
/// (https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html).
const SUBNET_PREFIXES: std::ops::RangeInclusive<u8> = 16..=28;
/// The load balancer's subnets "must have at least a /27 bitmask (for example, 10.0.0.0/27) and at
/// least 8 free IP addresses"
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer).
const MAX_ALB_SUBNET_PREFIX: u8 = 27;
/// "Inbound or outbound rules per security group: 60" (default quota, enforced separately for
/// IPv4 and IPv6; https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
/// The load balancer's group has one rule per allowed CIDR and port (80, and 443 with a
/// certificate); beyond it AuthorizeSecurityGroupIngress fails with
/// RulesPerSecurityGroupLimitExceeded.
const MAX_INBOUND_RULES: usize = 60;
/// "User data is limited to 16 KB, in raw form, before it is base64-encoded"
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html).
const MAX_USER_DATA_BYTES: usize = 16 * 1024;

/// The role whose defaults a configuration plans with: primary when left out, `None` while
/// unknown. A misspelt role plans as the primary; validation has refused it already.
fn role_for_defaults(role: &Value<String>) -> Option<Role> {
    match role {
        Value::Unknown => None,
        Value::Null => Some(Role::Primary),
        Value::Value(text) => Some(Role::parse(text).unwrap_or(Role::Primary)),
    }
}

pub fn validate(diags: &mut Diagnostics, config: &State) {
    shared_checks::validate(
        diags,
        shared_checks::Common {
            environment_suffix: &config.environment_suffix,
            region: &config.region,
            environment: &config.environment,
            tags: &config.tags,
            timeouts: &config.timeouts,
        },
    );
    if let Value::Value(role) = &config.role {
        if Role::parse(role).is_none() {
            invalid(
                diags,
                AttributePath::new("role"),
                format!("\"{role}\" is not a role: use \"primary\" or \"standby\"."),
            );
        }
    }
    let vpc = match &config.vpc_cidr {
        Value::Value(text) => match text.parse::<Cidr>() {
            Ok(cidr) if (16..=28).contains(&cidr.prefix()) => Some(cidr),
            Ok(cidr) => {
                invalid(
                    diags,
                    AttributePath::new("vpc_cidr"),
                    format!("a VPC CIDR must be /16 to /28, not /{}.", cidr.prefix()),
                );
                None
            }
            Err(err) => {
                invalid(diags, AttributePath::new("vpc_cidr"), format!("{err}."));
                None
            }
        },
        Value::Unknown => None,
        // The role's default; with an unknown role there is nothing to check against yet.
        Value::Null => {
            role_for_defaults(&config.role).and_then(|role| role.default_vpc_cidr().parse().ok())
        }
    };
    // Subnets are checked as planned: a list left out is the role's default.
    let role = role_for_defaults(&config.role);
    let effective = |list: &StringList, thirds: [u8; 2]| -> Option<Vec<Value<String>>> {
        match list {
            Value::Value(items) => Some(items.clone()),
            Value::Null => role.map(|role| {
                role.default_subnets(thirds)
                    .into_iter()
                    .map(Value::Value)
                    .collect()
            }),
            Value::Unknown => None,
        }
    };
    let mut seen: Vec<(Cidr, AttributePath)> = Vec::new();
    for (attr, list, thirds) in [
        ("public_subnets", &config.public_subnets, [1, 2]),
        ("private_subnets", &config.private_subnets, [11, 12]),
    ] {
        let Some(items) = effective(list, thirds) else {
            continue;
        };
        let configured = !list.is_null();
        let public = attr == "public_subnets";
        // Private subnets follow the public ones: as many, checked below.
        let min = if public { MIN_ZONES } else { 1 };
        if configured && (items.len() < min || items.len() > MAX_ZONES) {
            let why = if public {
                ": the load balancer needs subnets in at least two availability zones"
            } else {
                ""
            };
            invalid(
                diags,
                AttributePath::new(attr),
                format!(
                    "give {min} to {MAX_ZONES} subnets, one per availability zone{why} ({} given).",
                    items.len()
                ),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let Value::Value(text) = item else { continue };
            let path = AttributePath::new(attr).index(i as i64);
            // A default subnet that clashes is reported on what the user did write.
            let report_path = if configured {
                path.clone()
            } else {
                AttributePath::new("vpc_cidr")
            };
            match text.parse::<Cidr>() {
                Err(err) => invalid(diags, report_path, format!("{err}.")),
                Ok(cidr) if !SUBNET_PREFIXES.contains(&cidr.prefix()) => invalid(
                    diags,
                    report_path,
                    format!("a subnet must be /16 to /28, not /{}.", cidr.prefix()),
                ),
                Ok(cidr) if public && cidr.prefix() > MAX_ALB_SUBNET_PREFIX => invalid(
                    diags,
                    report_path,
                    format!("{cidr} is too small for the load balancer: its subnets must be /{MAX_ALB_SUBNET_PREFIX} or larger."),
                ),
                Ok(cidr) => {
                    if let Some(vpc) = vpc.filter(|v| !v.contains(&cidr)) {
                        let detail = if configured {
                            format!("{cidr} is outside the VPC's {vpc}.")
                        } else {
                            format!("the default {attr} ({cidr}) are outside {vpc}; set {attr} to subnets inside the VPC.")
                        };
                        invalid(diags, report_path, detail);
                    } else if let Some((other, other_path)) =
                        seen.iter().find(|(o, _)| o.overlaps(&cidr))
                    {
                        invalid(
                            diags,
                            report_path,
                            format!("{cidr} overlaps {other} ({other_path})."),
                        );
                    } else {
                        seen.push((cidr, path));
                    }
                }
            }
        }
    }
    if let (Some(public), Some(private)) = (
        effective(&config.public_subnets, [1, 2]),
        effective(&config.private_subnets, [11, 12]),
    ) {
        if public.len() != private.len() {
            invalid(
                diags,
                AttributePath::new("private_subnets"),
                format!(
                    "give as many private subnets as public ones ({}): each zone gets one of each.",
                    public.len()
                ),
            );
        }
    }
    if let Value::Value(mode) = &config.nat_mode {
        if NatMode::parse(mode).is_none() {
            invalid(
                diags,
                AttributePath::new("nat_mode"),
                format!("\"{mode}\" is not a NAT mode: use \"single\", \"per_az\" or \"none\"."),
            );
        }
    }
    if let Value::Value(items) = &config.allowed_cidrs {
        for (i, item) in items.iter().enumerate() {
            if let Value::Value(text) = item {
                let at = AttributePath::new("allowed_cidrs").index(i as i64);
                if let Err(err) = text.parse::<Cidr>() {
                    invalid(diags, at, format!("{err}."));
                } else if items[..i].iter().any(|o| o.as_ref_option() == Some(text)) {
                    // One rule per CIDR and port: a repeat would read back as drift forever.
                    invalid(diags, at, format!("\"{text}\" is listed twice."));
                }
            }
        }
        let ports = if config.certificate_arn.is_null() {
            1
        } else {
            2
        };
        if items.len() * ports > MAX_INBOUND_RULES {
            invalid(diags, AttributePath::new("allowed_cidrs"), format!("{} CIDRs on {ports} port(s) make {} inbound rules on the load balancer's security group, and AWS allows {MAX_INBOUND_RULES} per group by default: give fewer, larger ranges.", items.len(), items.len() * ports));
        }
    }
    if let Value::Value(port) = config.app_port {
        if !port.as_i64().is_some_and(|p| (1..=65535).contains(&p)) {
            invalid(
                diags,
                AttributePath::new("app_port"),
                format!(
                    "app_port must be a whole number from 1 to 65535, not {}.",
                    port.0
                ),
            );
        }
    }
    if let Value::Value(arn) = &config.certificate_arn {
        let stack_region = match &config.region {
            Value::Value(region) => Some(region.clone()),
            Value::Null => role_for_defaults(&config.role).map(|r| r.default_region().to_owned()),
            Value::Unknown => None,
        };
        match shared_checks::arn_region(arn, "acm", "certificate/") {
            None => invalid(diags, AttributePath::new("certificate_arn"), format!("\"{arn}\" is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>).")),
            // ACM certificates are regional: a listener finds only its own region's
            // ("CertificateNotFound" on CreateListener).
            Some(cert_region) => {
                if let Some(region) = stack_region.filter(|r| r != cert_region) {
                    invalid(diags, AttributePath::new("certificate_arn"), format!("the certificate is in {cert_region}, but this load balancer is in {region}: ACM certificates are regional and a load balancer can only use one of its own region. Request or import the certificate in {region}."));
                }
            }
        }
    }
    validate_compute(diags, config);
}

fn validate_compute(diags: &mut Diagnostics, config: &State) {
    if let Value::Value(t) = &config.instance_type {
        let ok = t.split_once('.').is_some_and(|(family, size)| {
            !family.is_empty()
                && !size.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        });
        if !ok {
            invalid(
                diags,
                AttributePath::new("instance_type"),
                format!("\"{t}\" is not an EC2 instance type like \"t3.medium\"."),
            );
        }
    }
    if let Value::Value(data) = &config.user_data {
        if data.len() > MAX_USER_DATA_BYTES {
            invalid(diags, AttributePath::new("user_data"), format!("user data is {} bytes, and EC2 takes at most 16 KB ({MAX_USER_DATA_BYTES} bytes) before base64 encoding.", data.len()));
        }
    }
    if let Value::Value(ami) = &config.ami_id {
        if !ami.starts_with("ami-") {
            invalid(
                diags,
                AttributePath::new("ami_id"),
                format!("\"{ami}\" is not an AMI ID (ami-...)."),
            );
        }
    }
    whole_in_range(
        diags,
        &config.min_size,
        AttributePath::new("min_size"),
        0..=1000,
    );
    whole_in_range(
        diags,
        &config.max_size,
        AttributePath::new("max_size"),
        1..=1000,
    );
    whole_in_range(
        diags,
        &config.desired_capacity,
        AttributePath::new("desired_capacity"),
        0..=1000,
    );
    let (min, max) = (
        whole(&config.min_size).unwrap_or(1),
        whole(&config.max_size).unwrap_or(4),
    );
    if min > max {
        invalid(
            diags,
            AttributePath::new("min_size"),
            format!("min_size ({min}) is above max_size ({max})."),
        );
    }
    if let Some(desired) = whole(&config.desired_capacity) {
        if desired < min || desired > max {
            invalid(diags, AttributePath::new("desired_capacity"), format!("desired_capacity ({desired}) must be between min_size ({min}) and max_size ({max})."));
        }
    }
    whole_in_range(
        diags,
        &config.health_check_grace_period,
        AttributePath::new("health_check_grace_period"),
        0..=7200,
    );
    if let Value::Value(target) = config.cpu_target {
        if !(target.0 > 0.0 && target.0 <= 100.0) {
            invalid(
                diags,
                AttributePath::new("cpu_target"),
                format!(
                    "cpu_target is a CPU percentage above 0 and at most 100, not {}.",
                    target.0
                ),
            );
        }
    }
    if let Value::Value(path) = &config.health_check_path {
        if !path.starts_with('/') || path.len() > 1024 {
            invalid(
                diags,
                AttributePath::new("health_check_path"),
                format!("\"{path}\" must be a path starting with \"/\"."),
            );
        }
    }
    whole_in_range(
        diags,
        &config.health_check_interval,
        AttributePath::new("health_check_interval"),
        5..=300,
    );
    whole_in_range(
        diags,
        &config.health_check_timeout,
        AttributePath::new("health_check_timeout"),
        2..=120,
    );
    if let (Some(timeout), interval) = (
        whole(&config.health_check_timeout),
        whole(&config.health_check_interval).unwrap_or(15),
    ) {
        if timeout >= interval {
            invalid(diags, AttributePath::new("health_check_timeout"), format!("health_check_timeout ({timeout}) must be below health_check_interval ({interval})."));
        }
    }
    whole_in_range(
        diags,
        &config.healthy_threshold,
        AttributePath::new("healthy_threshold"),
        2..=10,
    );
    whole_in_range(
        diags,
        &config.unhealthy_threshold,
        AttributePath::new("unhealthy_threshold"),
        2..=10,
    );
    if let Value::Value(arn) = &config.instance_profile_arn {
        if !(arn.starts_with("arn:") && arn.contains(":instance-profile/")) {
            invalid(diags, AttributePath::new("instance_profile_arn"), format!("\"{arn}\" is not an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>)."));
        }
    }
    if let Value::Value(json) = &config.instance_policy_statements {
        if let Err(err) = crate::aws::instance_role::check_statements(json) {
            invalid(diags, AttributePath::new("instance_policy_statements"), err);
        }
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
        Some(want) => values::map(&want.owner_tags().tags_for("vpc", &want.name("vpc"))),
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
        planned.ami_id = prior.ami_id.clone();
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

/// A small web app: `/` names the region, `/health` answers `ok`, on `port`.
pub fn default_user_data(role: Role, region: &str, port: i64) -> String {
    format!(
        "#!/bin/bash\nset -euo pipefail\nmkdir -p /srv/app\necho ok > /srv/app/health\necho '<h1>Trading app: {role} ({region})</h1>' > /srv/app/index.html\nnohup python3 -m http.server {port} --directory /srv/app >/var/log/trading-app.log 2>&1 &\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(role: Option<&str>) -> State {
        State {
            environment_suffix: values::string("acc"),
            role: role.map_or(Value::Null, values::string),
            ..Default::default()
        }
    }

    fn errors(config: &State) -> Vec<String> {
        crate::tf::diag::error_paths(validate, config)
    }

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
    fn a_missing_part_plans_its_rebuild() {
        let (mut prior, _) = plan(&config(None), None, &Tags::new());
        prior.vpc_id = values::string("vpc-1");
        prior.public_subnet_ids = values::list(&["subnet-1".into(), "".into()]);
        let (planned, replace) = plan(&config(None), Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert!(planned.public_subnet_ids.is_unknown());
        assert_eq!(planned.vpc_id, values::string("vpc-1"));
    }

    #[test]
    fn what_the_load_balancer_cannot_use_is_refused_at_plan() {
        let mut c = config(None);
        c.public_subnets = values::list(&["10.0.1.0/24".into()]);
        c.private_subnets = values::list(&["10.0.11.0/24".into()]);
        assert_eq!(errors(&c), ["public_subnets"], "one zone");

        let mut c = config(None);
        c.public_subnets = values::list(&["10.0.1.0/28".into(), "10.0.2.0/24".into()]);
        c.private_subnets = values::list(&["10.0.11.0/29".into(), "10.0.12.0/28".into()]);
        assert_eq!(
            errors(&c),
            ["public_subnets[0]", "private_subnets[0]"],
            "ALB subnets /27 or larger, any subnet /16 to /28"
        );

        let cert = |region: &str| {
            values::string(format!(
                "arn:aws:acm:{region}:123456789012:certificate/1f2e"
            ))
        };
        for (role, region, cert_region, refused) in [
            (None, None, "us-east-1", false),
            (None, None, "us-west-2", true),
            (Some("standby"), None, "us-east-1", true),
            (Some("standby"), None, "us-east-2", false),
            (Some("standby"), Some("eu-west-1"), "eu-west-1", false),
        ] {
            let mut c = config(role);
            c.region = region.map_or(Value::Null, values::string);
            c.certificate_arn = cert(cert_region);
            let expected: &[&str] = if refused { &["certificate_arn"] } else { &[] };
            assert_eq!(errors(&c), expected, "{role:?} {region:?} {cert_region}");
        }
        let mut c = config(None);
        let cidrs =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("198.51.{i}.0/24")).collect() };
        c.allowed_cidrs = values::list(&cidrs(60));
        assert!(errors(&c).is_empty(), "60 rules fit");
        c.certificate_arn = cert("us-east-1");
        assert_eq!(errors(&c), ["allowed_cidrs"], "120 rules with HTTPS");
        c.allowed_cidrs = values::list(&["10.0.0.0/8".into(), "10.0.0.0/8".into()]);
        assert_eq!(errors(&c), ["allowed_cidrs[1]"], "listed twice");

        let mut c = config(None);
        c.region = Value::Unknown;
        c.certificate_arn = cert("us-west-2");
        assert!(
            errors(&c).is_empty(),
            "an unknown region is checked at apply"
        );
    }

    #[test]
    fn user_data_fits_in_what_ec2_takes() {
        let mut c = config(None);
        c.user_data = values::string("x".repeat(16 * 1024));
        assert!(errors(&c).is_empty());
        c.user_data = values::string("x".repeat(16 * 1024 + 1));
        assert_eq!(errors(&c), ["user_data"]);
    }

    #[test]
    fn bad_network_input_is_refused_on_its_attribute() {
        let mut c = config(Some("backup"));
        c.vpc_cidr = values::string("10.0.0.0/8");
        assert_eq!(errors(&c), ["role", "vpc_cidr"]);

        let mut c = config(None);
        c.public_subnets = values::list(&["10.0.1.0/24".into(), "10.5.2.0/24".into()]);
        c.private_subnets = values::list(&["10.0.1.128/25".into()]);
        c.nat_mode = values::string("shared");
        c.allowed_cidrs = values::list(&["everyone".into()]);
        c.app_port = Value::Value(Number(70000.0));
        c.certificate_arn = values::string("cert-1");
        assert_eq!(
            errors(&c),
            [
                "public_subnets[1]",
                "private_subnets[0]",
                "private_subnets",
                "nat_mode",
                "allowed_cidrs[0]",
                "app_port",
                "certificate_arn"
            ]
        );
    }
}
