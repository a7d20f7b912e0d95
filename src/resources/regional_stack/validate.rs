//! Plan-time diagnostics for `tap_regional_stack`: what AWS would refuse, refused on its
//! attribute before anything is made.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::plan::role_for_defaults;
use super::schema::State;
use crate::cidr::Cidr;
use crate::resources::shared_checks;
use crate::role::{NatMode, Role};
use crate::tf::diag::{invalid, whole_in_range};
use crate::tf::number::whole;
use crate::tf::values::StringList;

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

#[cfg(test)]
mod tests {
    use super::super::fixtures::config;
    use super::*;
    use crate::tf::number::Number;
    use crate::tf::values;

    fn errors(config: &State) -> Vec<String> {
        crate::tf::diag::error_paths(validate, config)
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
