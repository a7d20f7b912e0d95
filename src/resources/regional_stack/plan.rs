//! Plan-time work for `tap_regional_stack`: validation, defaults by role, and what an update
//! replaces.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::schema::State;
use crate::cidr::Cidr;
use crate::naming;
use crate::regions::{self, PRIMARY_DEFAULT, STANDBY_DEFAULT};
use crate::tags::{self, Ownership, Tags, DEFAULT_ENVIRONMENT};
use crate::tf::diag::invalid;
use crate::tf::number::Number;
use crate::tf::timeouts;
use crate::tf::values::{self, known_list, known_map, StringList};

pub const ROLES: [&str; 2] = ["primary", "standby"];
pub const NAT_MODES: [&str; 3] = ["single", "per_az", "none"];
const MAX_ZONES: usize = 6;

/// Network defaults of a role, from the spec: primary 10.0.0.0/16 in us-east-1, standby
/// 10.1.0.0/16 in us-east-2, public .1/.2 and private .11/.12 /24s.
pub struct RoleDefaults {
    pub region: &'static str,
    pub second_octet: u8,
}

pub fn role_defaults(role: &str) -> RoleDefaults {
    if role == "standby" {
        RoleDefaults {
            region: STANDBY_DEFAULT,
            second_octet: 1,
        }
    } else {
        RoleDefaults {
            region: PRIMARY_DEFAULT,
            second_octet: 0,
        }
    }
}

fn subnet_defaults(octet: u8, thirds: [u8; 2]) -> Vec<String> {
    thirds
        .iter()
        .map(|t| format!("10.{octet}.{t}.0/24"))
        .collect()
}

pub fn validate(diags: &mut Diagnostics, config: &State) {
    if let Value::Value(suffix) = &config.environment_suffix {
        if let Err(err) = naming::validate_suffix(suffix) {
            invalid(diags, AttributePath::new("environment_suffix"), err);
        }
    }
    if let Value::Value(role) = &config.role {
        if !ROLES.contains(&role.as_str()) {
            invalid(
                diags,
                AttributePath::new("role"),
                format!("\"{role}\" is not a role: use \"primary\" or \"standby\"."),
            );
        }
    }
    if let Value::Value(region) = &config.region {
        if !regions::is_known(region) {
            invalid(
                diags,
                AttributePath::new("region"),
                regions::unknown_region_detail(region),
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
        Value::Null => match &config.role {
            Value::Unknown => None,
            role => format!(
                "10.{}.0.0/16",
                role_defaults(role.as_ref_option().map_or("primary", String::as_str)).second_octet
            )
            .parse()
            .ok(),
        },
    };
    // Subnets are checked as planned: a list left out is the role's default.
    let role_octet = match &config.role {
        Value::Unknown => None,
        role => {
            Some(role_defaults(role.as_ref_option().map_or("primary", String::as_str)).second_octet)
        }
    };
    let effective = |list: &StringList, thirds: [u8; 2]| -> Option<Vec<Value<String>>> {
        match list {
            Value::Value(items) => Some(items.clone()),
            Value::Null => role_octet.map(|o| {
                subnet_defaults(o, thirds)
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
        if configured && (items.is_empty() || items.len() > MAX_ZONES) {
            invalid(
                diags,
                AttributePath::new(attr),
                format!("give 1 to {MAX_ZONES} subnets, one per availability zone."),
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
        if !NAT_MODES.contains(&mode.as_str()) {
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
                if let Err(err) = text.parse::<Cidr>() {
                    invalid(
                        diags,
                        AttributePath::new("allowed_cidrs").index(i as i64),
                        format!("{err}."),
                    );
                }
            }
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
        if !(arn.starts_with("arn:") && arn.contains(":acm:") && arn.contains(":certificate/")) {
            invalid(diags, AttributePath::new("certificate_arn"), format!("\"{arn}\" is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)."));
        }
    }
    if let Value::Value(environment) = &config.environment {
        if environment.is_empty() || environment.chars().count() > 256 {
            invalid(
                diags,
                AttributePath::new("environment"),
                "environment becomes the Environment tag: 1 to 256 characters.",
            );
        }
    }
    if let Some(user_tags) = known_map(&config.tags) {
        if let Err(err) = tags::validate(&user_tags) {
            invalid(diags, AttributePath::new("tags"), err);
        }
    }
    timeouts::validate(diags, &config.timeouts);
}

/// The planned state: configuration plus role defaults; computed IDs carry over from `prior`
/// unless the stack is replaced or the part behind them is missing or changing.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    planned.role = config.role.clone().or(values::string("primary"));
    if let Value::Value(role) = planned.role.clone() {
        let defaults = role_defaults(&role);
        let o = defaults.second_octet;
        planned.region = config.region.clone().or(values::string(defaults.region));
        planned.vpc_cidr = config
            .vpc_cidr
            .clone()
            .or(values::string(format!("10.{o}.0.0/16")));
        planned.public_subnets = config
            .public_subnets
            .clone()
            .or(values::list(&subnet_defaults(o, [1, 2])));
        planned.private_subnets = config
            .private_subnets
            .clone()
            .or(values::list(&subnet_defaults(o, [11, 12])));
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
    planned.nat_mode = config.nat_mode.clone().or(values::string("single"));
    planned.allowed_cidrs = config
        .allowed_cidrs
        .clone()
        .or(values::list(&["0.0.0.0/0".into()]));
    planned.app_port = config.app_port.or(Value::Value(Number(80.0)));
    planned.environment = config
        .environment
        .clone()
        .or(values::string(DEFAULT_ENVIRONMENT));
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
        // Only what will change: a part deleted out of band (an empty ID) or NAT gateways.
        let nat_changing = prior.nat_mode != planned.nat_mode;
        for list in [
            &mut planned.public_subnet_ids,
            &mut planned.private_subnet_ids,
        ] {
            if missing_in_list(list) {
                *list = Value::Unknown;
            }
        }
        if nat_changing || missing_in_list(&planned.nat_gateway_ids) {
            planned.nat_gateway_ids = Value::Unknown;
        }
        for id in [
            &mut planned.internet_gateway_id,
            &mut planned.alb_security_group_id,
            &mut planned.instance_security_group_id,
        ] {
            if id.as_ref_option().is_some_and(String::is_empty) {
                *id = Value::Unknown;
            }
        }
    }
    (planned, replace)
}

fn copy_computed(planned: &mut State, prior: &State) {
    planned.vpc_id = prior.vpc_id.clone();
    planned.availability_zones = prior.availability_zones.clone();
    planned.public_subnet_ids = prior.public_subnet_ids.clone();
    planned.private_subnet_ids = prior.private_subnet_ids.clone();
    planned.internet_gateway_id = prior.internet_gateway_id.clone();
    planned.nat_gateway_ids = prior.nat_gateway_ids.clone();
    planned.alb_security_group_id = prior.alb_security_group_id.clone();
    planned.instance_security_group_id = prior.instance_security_group_id.clone();
}

/// Every ID becomes unknown when the stack is new or replaced.
fn mark_unknown(planned: &mut State) {
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
    pub role: String,
    pub region: String,
    pub vpc_cidr: String,
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
    pub nat_mode: String,
    pub allowed_cidrs: Vec<String>,
    pub app_port: i32,
    pub certificate_arn: Option<String>,
    pub environment: String,
    pub user_tags: Tags,
    pub default_tags: Tags,
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        Some(Desired {
            suffix: state.environment_suffix.as_ref_option()?.clone(),
            role: state.role.as_ref_option()?.clone(),
            region: state.region.as_ref_option()?.clone(),
            vpc_cidr: state.vpc_cidr.as_ref_option()?.clone(),
            public_subnets: known_list(&state.public_subnets)?,
            private_subnets: known_list(&state.private_subnets)?,
            nat_mode: state.nat_mode.as_ref_option()?.clone(),
            allowed_cidrs: known_list(&state.allowed_cidrs)?,
            app_port: state.app_port.as_ref_option()?.as_i64()? as i32,
            certificate_arn: match &state.certificate_arn {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            environment: state.environment.as_ref_option()?.clone(),
            user_tags: known_map(&state.tags)?,
            default_tags: default_tags.clone(),
        })
    }

    pub fn is_primary(&self) -> bool {
        self.role == "primary"
    }

    /// `<what>-<role>-<suffix>`, the naming rule of every part.
    pub fn name(&self, what: &str) -> String {
        format!("{what}-{}-{}", self.role, self.suffix)
    }

    pub fn owner_tags(&self) -> crate::aws::ec2::Owner {
        let role = tags::failover_role(self.is_primary());
        let mut base = tags::merge(
            &self.default_tags,
            &Ownership {
                suffix: &self.suffix,
                part: "",
                name: "",
                environment: &self.environment,
                failover_role: role,
            },
            &self.user_tags,
        );
        base.remove(tags::PART_KEY);
        crate::aws::ec2::Owner {
            suffix: self.suffix.clone(),
            failover_role: role.into(),
            base_tags: base,
        }
    }
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
        let mut diags = Diagnostics::default();
        validate(&mut diags, config);
        diags
            .errors
            .iter()
            .map(|d| d.attribute.to_string())
            .collect()
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
