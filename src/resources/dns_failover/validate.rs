//! Plan-time diagnostics for `tap_dns_failover`: what Route 53, CloudWatch and SNS would
//! refuse, refused on its attribute before anything is made.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::schema::{self, HealthCheck, State, MAX_STANDBYS};
use crate::aws::{standby_chain, switch_checks, topic_key};
use crate::naming;
use crate::regions;
use crate::resources::shared_checks;
use crate::role::Role;
use crate::tf::diag::{invalid, whole_in_range};
use crate::tf::number::whole;

/// The regions Route 53 health checkers run in.
const CHECKER_REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "sa-east-1",
];

/// DNS: a name of at most 253 characters (RFC 1035, as Route 53 enforces it).
const MAX_NAME: usize = 253;

/// CloudWatch: evaluation periods × period may not exceed one day.
const MAX_EVALUATION_SECONDS: i64 = 86_400;

pub fn validate(diags: &mut Diagnostics, config: &State) {
    shared_checks::validate(
        diags,
        shared_checks::Common {
            environment_suffix: &config.environment_suffix,
            region: &Value::Null,
            environment: &config.environment,
            tags: &config.tags,
            timeouts: &config.timeouts,
        },
    );
    if let Value::Value(name) = &config.domain_name {
        if let Err(err) = validate_domain_name(name).and_then(|()| refuse_reserved_domain(name)) {
            invalid(diags, AttributePath::new("domain_name"), err);
        }
    }
    if let Value::Value(id) = &config.hosted_zone_id {
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !ok {
            invalid(diags, AttributePath::new("hosted_zone_id"), format!("\"{id}\" is not a hosted zone ID: uppercase letters and digits, e.g. Z0123456789ABCDEFGHIJ, without /hostedzone/."));
        }
    }
    if let Value::Value(active) = &config.active_region {
        let regions: Vec<&String> = schema::standbys(config)
            .filter_map(|s| s.as_ref_option()?.region.as_ref_option())
            .collect();
        let a_standby = regions.contains(&active);
        let all_known =
            regions.len() == schema::standbys(config).count() && config.standby.is_value();
        if Role::parse(active).is_none() && !a_standby && all_known {
            invalid(
                diags,
                AttributePath::new("active_region"),
                format!("\"{active}\" is neither a role nor a standby's region: use \"primary\", \"standby\" (the first standby) or one of {}.", regions.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ")),
            );
        }
    }
    if let Value::Value(arn) = &config.switch_routing_control_arn {
        if let Err(err) = switch_checks::check_routing_control_arn(arn) {
            invalid(diags, AttributePath::new("switch_routing_control_arn"), err);
        }
    }
    validate_endpoints(diags, config);
    if let Value::Value(check) = &config.health_check {
        validate_health_check(diags, check);
    }
    validate_alarms(diags, config);
}

fn validate_endpoints(diags: &mut Diagnostics, config: &State) {
    let count = schema::standbys(config).count();
    if config.standby.is_value() && !(1..=MAX_STANDBYS).contains(&count) {
        invalid(
            diags,
            AttributePath::new("standby"),
            format!("{count} standby blocks: give 1 to {MAX_STANDBYS}, in order of preference."),
        );
    }
    if count > 1 {
        if let Value::Value(name) = &config.domain_name {
            let longest = standby_chain::group_name(name, MAX_STANDBYS);
            if longest.len() > MAX_NAME {
                invalid(diags, AttributePath::new("domain_name"), format!("with several standbys the records of their order are named {longest}, longer than the {MAX_NAME} characters DNS allows: use a shorter name or one standby."));
            }
        }
    }
    let primary = config.primary.as_ref_option().map(|e| {
        (
            AttributePath::new(Role::Primary.as_str()),
            Role::Primary.to_string(),
            e,
        )
    });
    let standbys = schema::standbys(config).enumerate().filter_map(|(i, e)| {
        let path = AttributePath::new(Role::Standby.as_str()).index(i as i64);
        Some((path, format!("standby[{i}]"), e.as_ref_option()?))
    });
    let mut known_regions: Vec<String> = Vec::new();
    for (block, role, e) in primary.into_iter().chain(standbys) {
        let path = |attr: &'static str| block.clone().attribute(attr);
        if let Value::Value(region) = &e.region {
            if !regions::is_known(region) {
                invalid(
                    diags,
                    path("region"),
                    regions::unknown_region_detail(region),
                );
            } else if known_regions.contains(region) {
                invalid(diags, path("region"), format!("{region} is another block's region too: the standby must be in another region than the primary, and each standby in its own, since failover protects against the loss of a region."));
            } else {
                known_regions.push(region.clone());
            }
        }
        if let Value::Value(dns) = &e.alb_dns_name {
            if let Err(err) = validate_domain_name(&dns.to_ascii_lowercase()) {
                invalid(diags, path("alb_dns_name"), err);
            }
        }
        if let Value::Value(zone) = &e.alb_zone_id {
            if zone.is_empty() || !zone.chars().all(|c| c.is_ascii_alphanumeric()) {
                invalid(diags, path("alb_zone_id"), format!("\"{zone}\" is not a hosted zone ID (the load balancer's CanonicalHostedZoneId)."));
            }
        }
        for (attr, kind) in [
            ("alb_arn", "loadbalancer/app/"),
            ("target_group_arn", "targetgroup/"),
        ] {
            let value = if attr == "alb_arn" {
                &e.alb_arn
            } else {
                &e.target_group_arn
            };
            let Value::Value(arn) = value else { continue };
            match shared_checks::arn_region(arn, "elasticloadbalancing", kind) {
                None => invalid(diags, path(attr), format!("\"{arn}\" is not an Elastic Load Balancing ARN (arn:aws:elasticloadbalancing:<region>:<account>:{kind}<name>/<id>).")),
                Some(arn_region) => {
                    if let Value::Value(region) = &e.region {
                        if arn_region != region {
                            invalid(diags, path(attr), format!("\"{arn}\" is in {arn_region}, but {role}.region is {region}."));
                        }
                    }
                }
            }
        }
        if let Value::Value(key) = &e.kms_key_arn {
            if let Err(err) = validate_kms_key_arn(key, e.region.as_ref_option(), &role) {
                invalid(diags, path("kms_key_arn"), err);
            }
        }
    }
}

/// A topic key the user gives: a KMS key ARN (not an alias, which can be pointed elsewhere) of
/// the topic's region, since SNS encrypts only with a key of its own region; never the
/// AWS-managed `alias/aws/sns`, which CloudWatch alarms cannot publish through
/// (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
fn validate_kms_key_arn(key: &str, region: Option<&String>, role: &str) -> Result<(), String> {
    if key.ends_with(topic_key::AWS_MANAGED_SNS_KEY) {
        return Err(format!("\"{key}\" is the AWS-managed SNS key: CloudWatch alarms cannot publish to a topic encrypted with it (its key policy does not let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*, and cannot be changed). Leave kms_key_arn unset for a key made for the topic, or give a customer-managed key whose policy allows them."));
    }
    let parts: Vec<&str> = key.splitn(6, ':').collect();
    let key_region = match parts[..] {
        ["arn", partition, "kms", region, account, resource]
            if !partition.is_empty()
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("key/").is_some_and(|id| !id.is_empty()) =>
        {
            region
        }
        _ => return Err(format!("\"{key}\" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; an alias is not accepted).")),
    };
    match region {
        Some(region) if region != key_region => Err(format!("\"{key}\" is in {key_region}, but {role}.region is {region}: SNS encrypts a topic only with a key of the topic's region.")),
        _ => Ok(()),
    }
}

fn validate_health_check(diags: &mut Diagnostics, check: &HealthCheck) {
    let path = |attr: &'static str| AttributePath::new("health_check").attribute(attr);
    if let Value::Value(protocol) = &check.protocol {
        if protocol != "HTTP" && protocol != "HTTPS" {
            invalid(
                diags,
                path("protocol"),
                format!("\"{protocol}\" is not supported: use \"HTTP\" or \"HTTPS\"."),
            );
        }
    }
    whole_in_range(diags, &check.port, path("port"), 1..=65535);
    if let Value::Value(p) = &check.path {
        if !p.starts_with('/') || p.len() > 255 {
            invalid(
                diags,
                path("path"),
                format!("\"{p}\" must start with / and be at most 255 characters."),
            );
        }
    }
    if let Value::Value(interval) = &check.interval {
        if !matches!(interval.as_i64(), Some(10 | 30)) {
            invalid(
                diags,
                path("interval"),
                format!(
                    "Route 53 checks every 10 or 30 seconds, not {}.",
                    interval.0
                ),
            );
        }
    }
    whole_in_range(
        diags,
        &check.failure_threshold,
        path("failure_threshold"),
        1..=10,
    );
    if let Value::Value(items) = &check.regions {
        if items.len() < 3 {
            invalid(
                diags,
                path("regions"),
                format!(
                    "Route 53 needs at least 3 checker regions, {} given.",
                    items.len()
                ),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let Value::Value(region) = item else { continue };
            let at = path("regions").index(i as i64);
            if !CHECKER_REGIONS.contains(&region.as_str()) {
                invalid(
                    diags,
                    at,
                    format!(
                        "\"{region}\" has no Route 53 health checkers; use some of {}.",
                        CHECKER_REGIONS.join(", ")
                    ),
                );
            } else if items[..i].iter().any(|o| o.as_ref_option() == Some(region)) {
                invalid(diags, at, format!("\"{region}\" is listed twice."));
            }
        }
    }
}

fn validate_alarms(diags: &mut Diagnostics, config: &State) {
    if let Value::Value(items) = &config.alarm_emails {
        for (i, item) in items.iter().enumerate() {
            let Value::Value(email) = item else { continue };
            let at = AttributePath::new("alarm_emails").index(i as i64);
            if !looks_like_email(email) {
                invalid(diags, at, format!("\"{email}\" is not an e-mail address."));
            } else if items[..i].iter().any(|o| o.as_ref_option() == Some(email)) {
                invalid(diags, at, format!("\"{email}\" is listed twice."));
            }
        }
    }
    if let Value::Value(name) = &config.table_name {
        if let Err(err) = naming::validate_table_name(name) {
            invalid(diags, AttributePath::new("table_name"), err);
        }
    }
    if let Value::Value(period) = &config.alarm_period {
        if !period
            .as_i64()
            .is_some_and(|p| p >= 60 && p % 60 == 0 && p <= MAX_EVALUATION_SECONDS)
        {
            invalid(diags, AttributePath::new("alarm_period"), format!("Route 53 and load balancer metrics are per minute: the period must be a multiple of 60 up to 86400, not {}.", period.0));
        }
    }
    whole_in_range(
        diags,
        &config.alarm_evaluation_periods,
        AttributePath::new("alarm_evaluation_periods"),
        1..=1440,
    );
    if let (Some(period), Some(count)) = (
        whole(&config.alarm_period),
        whole(&config.alarm_evaluation_periods),
    ) {
        if period > 0 && count > 0 && period * count > MAX_EVALUATION_SECONDS {
            invalid(diags, AttributePath::new("alarm_evaluation_periods"), format!("{count} periods of {period} s exceed the day CloudWatch allows an alarm to look back."));
        }
    }
    whole_in_range(
        diags,
        &config.replication_latency_threshold,
        AttributePath::new("replication_latency_threshold"),
        1..=86_400_000,
    );
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.chars().any(|c| c.is_whitespace() || c == ',')
                && !domain.contains('@')
        }
        None => false,
    }
}

/// A DNS name Route 53 stores as given: lowercase labels of letters, digits and hyphens.
pub fn validate_domain_name(name: &str) -> Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let labels: Vec<&str> = name.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.len() > MAX_NAME || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!("\"{name}\" is not a domain name: two or more dot-separated labels of 1–63 lowercase letters, digits and hyphens (not at either end), 253 characters at most."));
    }
    Ok(())
}

/// Second-level names reserved for documentation (RFC 2606 §3). Route 53 refuses a zone under
/// example.com ("InvalidDomainName: <name> is reserved by AWS!", HTTP 400, seen in deployment
/// logs); under the other two nobody can delegate a zone, so its records would never answer.
const RESERVED_NAMES: [&str; 3] = ["example.com", "example.net", "example.org"];
/// Top-level domains reserved for testing and documentation (RFC 2606 §2, RFC 6761).
const RESERVED_TLDS: [&str; 4] = ["test", "example", "invalid", "localhost"];

/// A name the failover system can answer at on the internet: not one reserved by RFC 2606.
pub fn refuse_reserved_domain(name: &str) -> Result<(), String> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let under = |parent: &str| name == parent || name.ends_with(&format!(".{parent}"));
    if let Some(parent) = RESERVED_NAMES.iter().find(|p| under(p)) {
        return Err(format!("\"{name}\" is under {parent}, a name reserved for documentation (RFC 2606): Route 53 refuses such a zone (\"InvalidDomainName: {name} is reserved by AWS!\") and nobody can delegate it. Use a name you control, or the hosted_zone_id of a zone you have."));
    }
    if let Some(tld) = RESERVED_TLDS.iter().find(|t| under(t)) {
        return Err(format!("\"{name}\" is under .{tld}, a top-level domain reserved for testing (RFC 2606, RFC 6761): no public zone for it can ever answer. Use a name you control, or the hosted_zone_id of a zone you have."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::desired::Desired;
    use super::super::fixtures::{config, endpoint, error_paths};
    use super::super::plan::{number, plan};
    use super::super::schema::one_standby;
    use super::super::schema::Endpoint;
    use super::*;
    use crate::tags::Tags;
    use crate::tf::values;

    #[test]
    fn unknown_endpoints_do_not_trip_validation() {
        let mut c = config();
        c.primary = Value::Value(Endpoint {
            region: Value::Unknown,
            alb_dns_name: Value::Unknown,
            alb_zone_id: Value::Unknown,
            alb_arn: Value::Unknown,
            target_group_arn: Value::Unknown,
            kms_key_arn: Value::Unknown,
        });
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(planned.records.is_unknown());
        assert!(Desired::from_state(&planned, &Tags::new()).is_none());
    }

    #[test]
    fn bad_input_is_refused_on_its_attribute() {
        let mut c = config();
        c.domain_name = values::string("Trading.Example.com");
        c.hosted_zone_id = values::string("/hostedzone/Z1");
        c.active_region = values::string("both");
        c.alarm_emails = values::list(&[
            "a@example.com".into(),
            "a@example.com".into(),
            "nobody".into(),
        ]);
        c.alarm_period = number(45);
        c.switch_routing_control_arn =
            values::string("arn:aws:route53-recovery-control::111122223333:controlpanel/p");
        c.health_check = Value::Value(HealthCheck {
            interval: number(20),
            failure_threshold: number(0),
            regions: values::list(&["us-east-1".into(), "us-east-2".into()]),
            ..Default::default()
        });
        assert_eq!(
            error_paths(&c),
            [
                "domain_name",
                "hosted_zone_id",
                "active_region",
                "switch_routing_control_arn",
                "health_check.interval",
                "health_check.failure_threshold",
                "health_check.regions",
                "health_check.regions[1]",
                "alarm_emails[1]",
                "alarm_emails[2]",
                "alarm_period"
            ]
        );

        let mut c = config();
        c.standby = one_standby(endpoint("us-east-1", "standby"));
        assert_eq!(error_paths(&c), ["standby[0].region"]);
        c.primary = endpoint("us-west-2", "primary");
        c.standby = one_standby(endpoint("eu-west-1", "standby"));
        assert!(error_paths(&c).is_empty(), "any two regions");
        let mut c = config();
        if let Value::Value(e) = &mut c.primary {
            e.alb_arn =
                values::string("arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/app/x/y");
            e.target_group_arn = values::string("not-an-arn");
        }
        assert_eq!(
            error_paths(&c),
            ["primary.alb_arn", "primary.target_group_arn"]
        );
    }

    /// One to four standbys, each in a region of its own; `active_region` may name one; the
    /// chain's names must fit DNS.
    #[test]
    fn standbys_are_one_to_four_each_in_its_own_region() {
        let standbys = |regions: &[&str]| {
            Value::Value(
                regions
                    .iter()
                    .map(|r| endpoint(r, &format!("standby-{r}")))
                    .collect(),
            )
        };
        let mut c = config();
        c.standby = standbys(&["us-east-2", "us-west-2", "eu-west-1"]);
        c.active_region = values::string("us-west-2");
        assert!(error_paths(&c).is_empty());
        c.active_region = values::string("eu-central-1");
        assert_eq!(error_paths(&c), ["active_region"]);
        c.active_region = values::string("standby");
        c.standby = standbys(&["us-east-2", "us-west-2", "us-east-2"]);
        assert_eq!(error_paths(&c), ["standby[2].region"]);
        c.standby = standbys(&[
            "us-east-2",
            "us-west-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
        ]);
        assert_eq!(error_paths(&c), ["standby"]);
        c.standby = Value::Value(Vec::new());
        assert_eq!(error_paths(&c), ["standby"]);
        let long = format!(
            "{}.{}.tap-test.net",
            vec!["a".repeat(60); 3].join("."),
            "b".repeat(48)
        );
        c.domain_name = values::string(&long);
        c.standby = standbys(&["us-east-2"]);
        assert!(error_paths(&c).is_empty(), "one standby: no chain");
        c.standby = standbys(&["us-east-2", "us-west-2"]);
        assert_eq!(error_paths(&c), ["domain_name"]);
    }

    #[test]
    fn a_topic_key_is_a_key_arn_of_its_region_and_never_the_aws_managed_one() {
        let key = |c: &mut State, role: &str, arn: &str| {
            let block = match (role, &mut c.standby) {
                ("primary", _) => &mut c.primary,
                (_, Value::Value(standbys)) => &mut standbys[0],
                (_, _) => return,
            };
            if let Value::Value(e) = block {
                e.kms_key_arn = values::string(arn);
            }
        };
        let mut c = config();
        key(&mut c, "primary", "alias/aws/sns");
        key(
            &mut c,
            "standby",
            "arn:aws:kms:us-east-1:123456789012:key/abc",
        );
        assert_eq!(
            error_paths(&c),
            ["primary.kms_key_arn", "standby[0].kms_key_arn"]
        );
        key(&mut c, "primary", "alias/my-key");
        assert_eq!(
            error_paths(&c),
            ["primary.kms_key_arn", "standby[0].kms_key_arn"]
        );

        let users = "arn:aws:kms:us-east-2:123456789012:key/abc";
        let mut c = config();
        key(&mut c, "standby", users);
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert_eq!(planned.standby_topic_key_arn, values::string(users));
        assert!(planned.primary_topic_key_arn.is_unknown());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(want.standby.kms_key_arn.as_deref(), Some(users));
        assert_eq!(want.primary.kms_key_arn, None);
    }

    #[test]
    fn emails_and_domain_names() {
        assert!(looks_like_email("oncall@example.com"));
        assert!(!looks_like_email("oncall@localhost") && !looks_like_email("a b@example.com"));
        assert!(validate_domain_name("trading-prod.example.com").is_ok());
        assert!(refuse_reserved_domain("trading-prod.tap-test.net").is_ok());
        assert!(refuse_reserved_domain("myexample.com").is_ok());
        for reserved in [
            "example.com",
            "Trading.Example.COM.",
            "a.example.net",
            "example.org",
            "app.test",
            "x.localhost",
        ] {
            assert!(refuse_reserved_domain(reserved).is_err(), "{reserved}");
        }
        assert!(validate_domain_name("example").is_err());
        assert!(validate_domain_name("-bad.example.com").is_err());
    }
}
