//! Plan-time work for `tap_dns_failover`: validation, defaults, what an update replaces, and
//! the desired records and alarms, computed the same way for plans and for apply.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::schema::{Endpoint, HealthCheck, State};
use crate::aws::alarms::AlarmSpec;
use crate::aws::failover_switch;
use crate::aws::health_check::HealthCheckSpec;
use crate::aws::switch_checks::Spec as SwitchCheckSpec;
use crate::aws::topic_key;
use crate::aws::weighted_records::WeightedRecord;
use crate::naming;
use crate::regions;
use crate::resources::shared_checks;
use crate::role::Role;
use crate::tags::{self, Ownership, Tags, DEFAULT_ENVIRONMENT};
use crate::tf::diag::{invalid, whole_in_range};
use crate::tf::number::{whole, Number};
use crate::tf::values::{self, known_list, known_map};

/// Route 53 publishes health-check metrics only in us-east-1, so the health-check alarm lives
/// there
/// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-status.html).
pub const METRICS_REGION: &str = "us-east-1";

/// An alarm topic: one in each stack region for that region's alarms, and one in us-east-1 for
/// the health-check alarm when neither stack is there, because an alarm notifies only topics
/// of its own region (PutMetricAlarm: "Invalid region <r> specified. Only us-east-1 is
/// supported.").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmTopic {
    Primary,
    Standby,
    HealthCheck,
}

impl AlarmTopic {
    /// The topic in a role's region.
    pub fn of_role(role: Role) -> AlarmTopic {
        match role {
            Role::Primary => AlarmTopic::Primary,
            Role::Standby => AlarmTopic::Standby,
        }
    }

    /// The role whose alarms it carries: the us-east-1 topic carries the alarm on the
    /// primary's health, so it counts as the primary's.
    pub fn role(self) -> Role {
        match self {
            AlarmTopic::Primary | AlarmTopic::HealthCheck => Role::Primary,
            AlarmTopic::Standby => Role::Standby,
        }
    }

    /// How names and messages call it.
    pub fn label(self) -> &'static str {
        match self {
            AlarmTopic::Primary | AlarmTopic::Standby => self.role().as_str(),
            AlarmTopic::HealthCheck => "health-check",
        }
    }

    /// The topics of a system with its stacks in these regions.
    pub fn all(primary_region: &str, standby_region: &str) -> Vec<AlarmTopic> {
        let mut all = vec![AlarmTopic::Primary, AlarmTopic::Standby];
        if primary_region != METRICS_REGION && standby_region != METRICS_REGION {
            all.push(AlarmTopic::HealthCheck);
        }
        all
    }
}

/// Each alarm topic's ARN; `health_check` only where that topic exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicArns {
    pub primary: String,
    pub standby: String,
    pub health_check: Option<String>,
}

impl TopicArns {
    /// The topic's ARN; `None` for a health-check topic not made (yet): an alarm never notifies "".
    fn of(&self, topic: AlarmTopic) -> Option<String> {
        match topic {
            AlarmTopic::Primary => Some(self.primary.clone()),
            AlarmTopic::Standby => Some(self.standby.clone()),
            AlarmTopic::HealthCheck => self.health_check.clone(),
        }
    }
}
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
const DEFAULT_PATH: &str = "/health";
const DEFAULT_INTERVAL: i64 = 10;
const DEFAULT_THRESHOLD: i64 = 3;
const DEFAULT_PERIOD: i64 = 60;
const DEFAULT_EVALUATION_PERIODS: i64 = 3;
const DEFAULT_LATENCY_MS: i64 = 60_000;
/// The standby-traffic alarm fires when the standby load balancer gets more than this many
/// requests a minute (ALB metrics exclude health-check requests) in each of this many
/// consecutive minutes: traffic that has moved, not a stray request.
const STANDBY_TRAFFIC_PER_MINUTE: f64 = 10.0;
const STANDBY_TRAFFIC_MINUTES: i32 = 5;
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
        if Role::parse(active).is_none() {
            invalid(
                diags,
                AttributePath::new("active_region"),
                format!("\"{active}\" is not a role: use \"primary\" or \"standby\"."),
            );
        }
    }
    validate_endpoints(diags, config);
    if let Value::Value(check) = &config.health_check {
        validate_health_check(diags, check);
    }
    validate_alarms(diags, config);
}

fn validate_endpoints(diags: &mut Diagnostics, config: &State) {
    let mut known_regions = Vec::new();
    for role in Role::ALL {
        let Some(e) = endpoint_of(config, role) else {
            continue;
        };
        let path = |attr: &'static str| AttributePath::new(role.as_str()).attribute(attr);
        if let Value::Value(region) = &e.region {
            if !regions::is_known(region) {
                invalid(
                    diags,
                    path("region"),
                    regions::unknown_region_detail(region),
                );
            } else {
                known_regions.push((role, region.clone()));
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
            if let Err(err) = validate_kms_key_arn(key, e.region.as_ref_option(), role) {
                invalid(diags, path("kms_key_arn"), err);
            }
        }
    }
    if let [(_, primary), (_, standby)] = &known_regions[..] {
        if primary == standby {
            invalid(diags, AttributePath::new(Role::Standby.as_str()).attribute("region"), format!("the standby must be in another region than the primary ({primary}): failover protects against the loss of a region."));
        }
    }
}

/// A topic key the user gives: a KMS key ARN (not an alias, which can be pointed elsewhere) of
/// the topic's region, since SNS encrypts only with a key of its own region; never the
/// AWS-managed `alias/aws/sns`, which CloudWatch alarms cannot publish through
/// (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
fn validate_kms_key_arn(key: &str, region: Option<&String>, role: Role) -> Result<(), String> {
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

/// `arn:...:loadbalancer/app/name/id` → `app/name/id`, the CloudWatch `LoadBalancer` dimension;
/// `arn:...:targetgroup/name/id` → `targetgroup/name/id`, the `TargetGroup` dimension.
fn metric_dimension(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource
        .strip_prefix("loadbalancer/")
        .unwrap_or(resource)
        .to_owned()
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
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
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

fn number(v: i64) -> Value<Number> {
    Value::Value(Number::from(v))
}

/// The health check block with defaults filled in.
fn planned_health_check(config: &Value<HealthCheck>) -> HealthCheck {
    let given = config.as_ref_option().cloned().unwrap_or_default();
    let protocol = given.protocol.clone().or(values::string("HTTP"));
    let port = match (&given.port, &protocol) {
        (Value::Null, Value::Value(p)) => number(if p == "HTTPS" { 443 } else { 80 }),
        (Value::Null, _) => Value::Unknown,
        (port, _) => *port,
    };
    HealthCheck {
        port,
        protocol,
        path: given.path.or(values::string(DEFAULT_PATH)),
        interval: given.interval.or(number(DEFAULT_INTERVAL)),
        failure_threshold: given.failure_threshold.or(number(DEFAULT_THRESHOLD)),
        regions: given.regions,
        measure_latency: given.measure_latency.or(Value::Value(true)),
    }
}

/// The planned state; the second value lists the attributes that force replacement.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    planned.id = config.environment_suffix.clone();
    planned.active_region = config
        .active_region
        .clone()
        .or(values::string(Role::Primary.as_str()));
    planned.alarm_period = config.alarm_period.or(number(DEFAULT_PERIOD));
    planned.alarm_evaluation_periods = config
        .alarm_evaluation_periods
        .or(number(DEFAULT_EVALUATION_PERIODS));
    planned.replication_latency_threshold = config
        .replication_latency_threshold
        .or(number(DEFAULT_LATENCY_MS));
    planned.environment = config
        .environment
        .clone()
        .or(values::string(DEFAULT_ENVIRONMENT));
    planned.health_check = Value::Value(planned_health_check(&config.health_check));

    let replace: Vec<AttributePath> = match prior {
        Some(prior) => {
            let mut paths = Vec::new();
            for attr in ["environment_suffix", "domain_name", "hosted_zone_id"] {
                let (before, after) = match attr {
                    "environment_suffix" => {
                        (&prior.environment_suffix, &planned.environment_suffix)
                    }
                    "domain_name" => (&prior.domain_name, &planned.domain_name),
                    _ => (&prior.hosted_zone_id, &planned.hosted_zone_id),
                };
                if after.is_unknown() || before != after {
                    paths.push(AttributePath::new(attr));
                }
            }
            for role in Role::ALL {
                let region = |s: &State| endpoint_of(s, role).map(|e| e.region.clone());
                let after = region(&planned);
                if after.as_ref().is_none_or(Value::is_unknown) || region(prior) != after {
                    paths.push(AttributePath::new(role.as_str()).attribute("region"));
                }
            }
            paths
        }
        None => Vec::new(),
    };
    let kept = prior.filter(|_| replace.is_empty());
    let carried = |pick: fn(&State) -> &Value<String>| match kept.map(pick) {
        Some(Value::Value(v)) if !v.is_empty() => values::string(v.clone()),
        _ => Value::Unknown,
    };
    planned.zone_id = match &config.hosted_zone_id {
        Value::Value(id) => values::string(id.clone()),
        _ => carried(|s| &s.zone_id),
    };
    planned.name_servers = match kept {
        Some(k) if !k.zone_id.as_ref_option().is_none_or(String::is_empty) => {
            k.name_servers.clone()
        }
        _ => Value::Unknown,
    };
    planned.primary_topic_arn = carried(|s| &s.primary_topic_arn);
    planned.standby_topic_arn = carried(|s| &s.standby_topic_arn);
    // The user's key is what the topic must use; ours is known once it exists.
    let topic_key = |role: Role, pick: fn(&State) -> &Value<String>| match endpoint_of(config, role)
        .map(|e| &e.kms_key_arn)
    {
        Some(Value::Value(arn)) => values::string(arn.clone()),
        Some(Value::Unknown) => Value::Unknown,
        _ => carried(pick),
    };
    planned.primary_topic_key_arn = topic_key(Role::Primary, |s| &s.primary_topic_key_arn);
    planned.standby_topic_key_arn = topic_key(Role::Standby, |s| &s.standby_topic_key_arn);
    // The us-east-1 topic exists only while no stack is there; null otherwise, as in older state.
    let stack_regions = Role::ALL
        .map(|role| endpoint_of(config, role).and_then(|e| e.region.as_ref_option().cloned()));
    (
        planned.health_check_topic_arn,
        planned.health_check_topic_key_arn,
    ) = match stack_regions {
        [Some(p), Some(s)] if !AlarmTopic::all(&p, &s).contains(&AlarmTopic::HealthCheck) => {
            (Value::Null, Value::Null)
        }
        _ => (
            carried(|s| &s.health_check_topic_arn),
            carried(|s| &s.health_check_topic_key_arn),
        ),
    };
    planned.health_check_id = match kept {
        Some(k) if !health_check_replaced(k, &planned) => carried(|s| &s.health_check_id),
        _ => Value::Unknown,
    };
    // The switch's checks are changed in place, whatever happens to the endpoint check.
    planned.switch_health_check_id = carried(|s| &s.switch_health_check_id);
    planned.record_health_check_id = carried(|s| &s.record_health_check_id);
    let switch_command = |value: f64| match (
        config.environment_suffix.as_ref_option(),
        endpoint_of(config, Role::Standby).and_then(|e| e.region.as_ref_option()),
    ) {
        (Some(suffix), Some(region)) => {
            values::string(failover_switch::command(region, suffix, value))
        }
        _ => Value::Unknown,
    };
    planned.break_glass_command = switch_command(failover_switch::THROWN);
    planned.release_command = switch_command(failover_switch::RELEASED);
    let desired = Desired::from_state(&planned, default_tags);
    planned.tags_all = desired
        .as_ref()
        .map_or(Value::Unknown, |d| values::map(&d.health_check_tags()));
    planned.records = match (&desired, planned.record_health_check_id.as_ref_option()) {
        (Some(d), Some(id)) => values::map(&d.record_summaries(id)),
        _ => Value::Unknown,
    };
    planned.alarms = match (
        &desired,
        planned.health_check_id.as_ref_option(),
        topic_arns(&planned),
    ) {
        (Some(d), Some(id), Some(topics)) => d
            .alarm_summaries(id, &topics)
            .map_or(Value::Unknown, |s| values::map(&s)),
        _ => Value::Unknown,
    };
    values::observed_unless_changed(&mut planned, kept, |s| &mut s.pending_alarm_emails);
    (planned, replace)
}

/// The topics' ARNs, when every one the state needs is known.
fn topic_arns(state: &State) -> Option<TopicArns> {
    Some(TopicArns {
        primary: state.primary_topic_arn.as_ref_option()?.clone(),
        standby: state.standby_topic_arn.as_ref_option()?.clone(),
        health_check: match &state.health_check_topic_arn {
            Value::Unknown => return None,
            other => other.as_ref_option().cloned(),
        },
    })
}

fn endpoint_of(state: &State, role: Role) -> Option<&Endpoint> {
    match role {
        Role::Primary => state.primary.as_ref_option(),
        Role::Standby => state.standby.as_ref_option(),
    }
}

/// Route 53 cannot change a health check's interval, protocol or latency measurement.
fn health_check_replaced(prior: &State, planned: &State) -> bool {
    let (Value::Value(before), Value::Value(after)) = (&prior.health_check, &planned.health_check)
    else {
        return true;
    };
    before.interval != after.interval
        || before.protocol != after.protocol
        || before.measure_latency != after.measure_latency
}

/// What to tell the user about an update that the plan alone does not say: a health check
/// replaced (Terraform shows only a changed ID), addresses removed that SNS cannot unsubscribe.
pub fn warnings(prior: &State, planned: &State) -> Vec<(AttributePath, String)> {
    let mut notes = Vec::new();
    if prior
        .health_check_id
        .as_ref_option()
        .is_some_and(|id| !id.is_empty())
        && planned.health_check_id.is_unknown()
        && health_check_replaced(prior, planned)
    {
        notes.push((
            AttributePath::new("health_check").attribute("interval"),
            "Route 53 cannot change a health check's interval, protocol or latency measurement in place: apply creates a new health check, moves the primary record and the alarm to it, then deletes the old one.".into(),
        ));
    }
    let removed_pending: Vec<String> = match (
        known_list(&prior.alarm_emails),
        known_list(&planned.alarm_emails),
        known_list(&prior.pending_alarm_emails),
    ) {
        (Some(before), Some(after), Some(pending)) => before
            .into_iter()
            .filter(|e| !after.contains(e) && pending.contains(e))
            .collect(),
        _ => Vec::new(),
    };
    if !removed_pending.is_empty() {
        notes.push((
            AttributePath::new("alarm_emails"),
            format!("{} not confirmed the subscription yet, and SNS cannot unsubscribe a subscription pending confirmation: it expires by itself 48 hours after it was made. If it is confirmed before, the next apply unsubscribes it.", pending_subjects(&removed_pending)),
        ));
    }
    notes
}

/// "a@x.net has" / "a@x.net and b@x.net have".
fn pending_subjects(emails: &[String]) -> String {
    match emails {
        [one] => format!("{one} has"),
        _ => format!("{} have", emails.join(" and ")),
    }
}

/// One load balancer, every value known.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSpec {
    pub region: String,
    pub alb_dns_name: String,
    pub alb_zone_id: String,
    pub alb_arn: String,
    pub target_group_arn: String,
    /// The user's key for this region's topic; `None`: a key made for it.
    pub kms_key_arn: Option<String>,
}

impl EndpointSpec {
    fn from_state(endpoint: &Value<Endpoint>) -> Option<EndpointSpec> {
        let e = endpoint.as_ref_option()?;
        Some(EndpointSpec {
            region: e.region.as_ref_option()?.clone(),
            alb_dns_name: e
                .alb_dns_name
                .as_ref_option()?
                .trim_end_matches('.')
                .to_owned(),
            alb_zone_id: e.alb_zone_id.as_ref_option()?.clone(),
            alb_arn: e.alb_arn.as_ref_option()?.clone(),
            target_group_arn: e.target_group_arn.as_ref_option()?.clone(),
            kms_key_arn: match &e.kms_key_arn {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
        })
    }
}

/// The planned state with every value known: what apply converges AWS to.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub domain_name: String,
    pub hosted_zone_id: Option<String>,
    pub primary: EndpointSpec,
    pub standby: EndpointSpec,
    pub health_check: HealthCheckSpec,
    pub standby_active: bool,
    pub alarm_emails: Vec<String>,
    pub table_name: Option<String>,
    pub alarm_period: i32,
    pub alarm_evaluation_periods: i32,
    pub replication_latency_threshold: f64,
    pub environment: String,
    pub user_tags: Tags,
    pub default_tags: Tags,
    /// Whether a read brings back the health check's tags as `tags_all`; `tap_trading_failover`
    /// shows its primary VPC's instead, so it saves the request.
    pub read_tags: bool,
}

/// The alarms' names, by what they watch.
pub struct AlarmNames {
    pub health_check: String,
    pub standby_traffic: String,
    pub replication_latency: String,
    pub unhealthy_hosts: [String; 2],
    pub switch: String,
}

impl AlarmNames {
    pub fn of(suffix: &str) -> AlarmNames {
        AlarmNames {
            health_check: naming::alarm("health-check", suffix),
            standby_traffic: naming::alarm("standby-traffic", suffix),
            replication_latency: naming::alarm("replication-latency", suffix),
            unhealthy_hosts: Role::ALL.map(|role| naming::unhealthy_hosts_alarm(role, suffix)),
            switch: failover_switch::alarm_name(suffix),
        }
    }
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let primary = EndpointSpec::from_state(&state.primary)?;
        let check = state.health_check.as_ref_option()?;
        Some(Desired {
            suffix: state.environment_suffix.as_ref_option()?.clone(),
            domain_name: state
                .domain_name
                .as_ref_option()?
                .trim_end_matches('.')
                .to_owned(),
            hosted_zone_id: match &state.hosted_zone_id {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            health_check: HealthCheckSpec {
                https: check.protocol.as_ref_option()? == "HTTPS",
                fqdn: primary.alb_dns_name.clone(),
                port: whole(&check.port)? as i32,
                path: check.path.as_ref_option()?.clone(),
                interval: whole(&check.interval)? as i32,
                failure_threshold: whole(&check.failure_threshold)? as i32,
                regions: known_list(&check.regions)?,
                measure_latency: *check.measure_latency.as_ref_option()?,
            },
            primary,
            standby: EndpointSpec::from_state(&state.standby)?,
            standby_active: Role::parse(state.active_region.as_ref_option()?)
                == Some(Role::Standby),
            alarm_emails: known_list(&state.alarm_emails)?,
            table_name: match &state.table_name {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            alarm_period: whole(&state.alarm_period)? as i32,
            alarm_evaluation_periods: whole(&state.alarm_evaluation_periods)? as i32,
            replication_latency_threshold: state.replication_latency_threshold.as_ref_option()?.0,
            environment: state.environment.as_ref_option()?.clone(),
            user_tags: known_map(&state.tags)?,
            default_tags: default_tags.clone(),
            read_tags: true,
        })
    }

    fn tags(&self, part: &str, name: &str, role: Role) -> Tags {
        tags::merge(
            &self.default_tags,
            &Ownership {
                suffix: &self.suffix,
                part,
                name,
                environment: &self.environment,
                failover_role: role,
            },
            &self.user_tags,
        )
    }

    pub fn zone_tags(&self) -> Tags {
        self.tags("dns-zone", &self.domain_name, Role::Primary)
    }

    pub fn health_check_tags(&self) -> Tags {
        self.tags(
            "health-check",
            &naming::health_check(&self.suffix),
            Role::Primary,
        )
    }

    pub fn endpoint(&self, role: Role) -> &EndpointSpec {
        match role {
            Role::Primary => &self.primary,
            Role::Standby => &self.standby,
        }
    }

    pub fn alarm_topics(&self) -> Vec<AlarmTopic> {
        AlarmTopic::all(&self.primary.region, &self.standby.region)
    }

    pub fn topic_region(&self, topic: AlarmTopic) -> &str {
        match topic {
            AlarmTopic::Primary => &self.primary.region,
            AlarmTopic::Standby => &self.standby.region,
            AlarmTopic::HealthCheck => METRICS_REGION,
        }
    }

    /// The user's key for a topic; `None`: a key made for it.
    pub fn topic_user_key(&self, topic: AlarmTopic) -> Option<&String> {
        match topic {
            AlarmTopic::Primary => self.primary.kms_key_arn.as_ref(),
            AlarmTopic::Standby => self.standby.kms_key_arn.as_ref(),
            AlarmTopic::HealthCheck => None,
        }
    }

    pub fn topic_name(&self, topic: AlarmTopic) -> String {
        naming::topic(topic.label(), &self.suffix)
    }

    pub fn topic_tags(&self, topic: AlarmTopic) -> Tags {
        let name = self.topic_name(topic);
        self.tags("alarm-topic", &name, topic.role())
    }

    /// The key made for a topic is named after it.
    pub fn topic_key_tags(&self, topic: AlarmTopic) -> Tags {
        let name = self.topic_name(topic);
        self.tags(topic_key::PART, &name, topic.role())
    }

    pub fn alarm_tags(&self, name: &str, role: Role) -> Tags {
        self.tags("alarm", name, role)
    }

    pub fn alarm_names(&self) -> AlarmNames {
        AlarmNames::of(&self.suffix)
    }

    /// The topic in the region that receives Route 53's metrics.
    fn metrics_topic(&self) -> AlarmTopic {
        if self.primary.region == METRICS_REGION {
            AlarmTopic::Primary
        } else if self.standby.region == METRICS_REGION {
            AlarmTopic::Standby
        } else {
            AlarmTopic::HealthCheck
        }
    }

    /// The switch's health check: it follows the switch alarm in the standby region.
    pub fn switch_check(&self) -> SwitchCheckSpec {
        SwitchCheckSpec::Alarm {
            region: self.standby.region.clone(),
            name: failover_switch::alarm_name(&self.suffix),
        }
    }

    /// The primary record's health check: the endpoint check AND the switch check.
    pub fn record_check(&self, endpoint_check: &str, switch_check: &str) -> SwitchCheckSpec {
        SwitchCheckSpec::all_of(vec![endpoint_check.to_owned(), switch_check.to_owned()])
    }

    /// Both weighted records, `primary` carrying the health check `health_check_id` (the
    /// record check).
    pub fn records(&self, health_check_id: &str) -> Vec<WeightedRecord> {
        let (primary_weight, standby_weight) = if self.standby_active {
            (0, 100)
        } else {
            (100, 0)
        };
        [
            (Role::Primary, primary_weight),
            (Role::Standby, standby_weight),
        ]
        .into_iter()
        .map(|(role, weight)| {
            let endpoint = self.endpoint(role);
            WeightedRecord {
                set_identifier: role.as_str().to_owned(),
                weight,
                alias_dns_name: endpoint.alb_dns_name.clone(),
                alias_zone_id: endpoint.alb_zone_id.clone(),
                health_check_id: (role == Role::Primary).then(|| health_check_id.to_owned()),
                evaluate_target_health: true,
            }
        })
        .collect()
    }

    pub fn record_summaries(&self, health_check_id: &str) -> Tags {
        self.records(health_check_id)
            .iter()
            .map(|r| (r.set_identifier.clone(), record_summary(r)))
            .collect()
    }

    /// Every alarm with the region it lives in; `None` if a topic they notify is missing.
    pub fn alarms(
        &self,
        health_check_id: &str,
        topics: &TopicArns,
    ) -> Option<Vec<(String, AlarmSpec)>> {
        let names = self.alarm_names();
        let topic = |role: Role| topics.of(AlarmTopic::of_role(role));
        let base = |name: &str, namespace: &str, metric: &str, statistic: &str| AlarmSpec {
            name: name.to_owned(),
            description: String::new(),
            namespace: namespace.into(),
            metric: metric.into(),
            statistic: statistic.into(),
            comparison: ">",
            threshold: 0.0,
            evaluation_periods: self.alarm_evaluation_periods,
            period: self.alarm_period,
            dimensions: Vec::new(),
            actions: Vec::new(),
            actions_enabled: true,
            treat_missing_data: "notBreaching",
        };
        let mut alarms = vec![(
            METRICS_REGION.to_owned(),
            AlarmSpec {
                description: format!("The Route 53 health check on the primary ({}) reports it down: Route 53 is moving traffic to the standby.", self.primary.alb_dns_name),
                comparison: "<",
                threshold: 1.0,
                dimensions: vec![("HealthCheckId".into(), health_check_id.into())],
                actions: vec![topics.of(self.metrics_topic())?],
                // Route 53 publishes HealthCheckStatus every minute while the check exists and is
                // enabled, 0 when the primary is down; no data means a check too new to have
                // reported, disabled, or replaced, never a primary that is down. "breaching" would
                // e-mail "primary down" on every create and replacement; "missing" leaves the alarm
                // in INSUFFICIENT_DATA (no notification) until data comes, where "notBreaching"
                // would also show a disabled check as OK.
                treat_missing_data: "missing",
                ..base(&names.health_check, "AWS/Route53", "HealthCheckStatus", "Minimum")
            },
        )];
        alarms.push((
            self.standby.region.clone(),
            AlarmSpec {
                description: format!("Requests reached the standby load balancer while the primary should take all traffic: Route 53 has failed over. Raised in {} so it notifies even when {METRICS_REGION} is down. Silenced while active_region is standby.", self.standby.region),
                // A stray request (a scanner, someone curl-ing the internet-facing standby) is one
                // minute of a few requests; traffic Route 53 has moved keeps coming, minute after
                // minute. Per-minute periods whatever `alarm_period`: this alarm is the one that
                // still speaks when us-east-1 is down, it must not wait long.
                comparison: ">",
                threshold: STANDBY_TRAFFIC_PER_MINUTE,
                period: 60,
                evaluation_periods: STANDBY_TRAFFIC_MINUTES,
                dimensions: vec![("LoadBalancer".into(), metric_dimension(&self.standby.alb_arn))],
                actions: vec![topic(Role::Standby)?],
                actions_enabled: !self.standby_active,
                ..base(&names.standby_traffic, "AWS/ApplicationELB", "RequestCount", "Sum")
            },
        ));
        for (role, name) in Role::ALL.into_iter().zip(&names.unhealthy_hosts) {
            let endpoint = self.endpoint(role);
            alarms.push((
                endpoint.region.clone(),
                AlarmSpec {
                    description: format!(
                        "Targets of the {role} load balancer fail their health checks."
                    ),
                    dimensions: vec![
                        (
                            "TargetGroup".into(),
                            metric_dimension(&endpoint.target_group_arn),
                        ),
                        ("LoadBalancer".into(), metric_dimension(&endpoint.alb_arn)),
                    ],
                    actions: vec![topic(role)?],
                    ..base(name, "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum")
                },
            ));
        }
        alarms.push((
            self.standby.region.clone(),
            failover_switch::alarm(&self.suffix, &self.standby.region, &topic(Role::Standby)?),
        ));
        if let Some(table) = &self.table_name {
            alarms.push((
                self.primary.region.clone(),
                AlarmSpec {
                    description: format!("Writes to {table} take too long to reach {}: a failover now would lose recent sessions.", self.standby.region),
                    threshold: self.replication_latency_threshold,
                    dimensions: vec![
                        ("TableName".into(), table.clone()),
                        ("ReceivingRegion".into(), self.standby.region.clone()),
                    ],
                    actions: vec![topic(Role::Primary)?],
                    ..base(&names.replication_latency, "AWS/DynamoDB", "ReplicationLatency", "Average")
                },
            ));
        }
        Some(alarms)
    }

    pub fn alarm_summaries(&self, health_check_id: &str, topics: &TopicArns) -> Option<Tags> {
        let alarms = self.alarms(health_check_id, topics)?;
        Some(
            alarms
                .into_iter()
                .map(|(region, spec)| (spec.name.clone(), format!("{region}: {}", spec.summary())))
                .collect(),
        )
    }

    /// Every (region, alarm name) this stack may have created, wanted now or not.
    pub fn every_alarm(&self) -> Vec<(String, String)> {
        let names = self.alarm_names();
        let [primary_hosts, standby_hosts] = names.unhealthy_hosts;
        vec![
            (METRICS_REGION.to_owned(), names.health_check),
            (self.standby.region.clone(), names.standby_traffic),
            (self.primary.region.clone(), primary_hosts),
            (self.standby.region.clone(), standby_hosts),
            (self.primary.region.clone(), names.replication_latency),
            (self.standby.region.clone(), names.switch),
        ]
    }
}

pub fn record_summary(r: &WeightedRecord) -> String {
    format!(
        "weight {} to {} (zone {}){}{}",
        r.weight,
        r.alias_dns_name.to_ascii_lowercase(),
        r.alias_zone_id,
        r.health_check_id
            .as_deref()
            .map(|id| format!(", health check {id}"))
            .unwrap_or_default(),
        if r.evaluate_target_health {
            ", evaluates target health"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(region: &str, role: &str) -> Value<Endpoint> {
        Value::Value(Endpoint {
            region: values::string(region),
            alb_dns_name: values::string(format!("alb-{role}-1.{region}.elb.amazonaws.com")),
            alb_zone_id: values::string("Z35SXDOTRQ7X7K"),
            alb_arn: values::string(format!(
                "arn:aws:elasticloadbalancing:{region}:1:loadbalancer/app/alb-{role}/abc"
            )),
            target_group_arn: values::string(format!(
                "arn:aws:elasticloadbalancing:{region}:1:targetgroup/tg-{role}/def"
            )),
            kms_key_arn: Value::Null,
        })
    }

    fn config() -> State {
        State {
            environment_suffix: values::string("prod"),
            domain_name: values::string("trading-prod.tap-test.net"),
            primary: endpoint("us-east-1", "primary"),
            standby: endpoint("us-east-2", "standby"),
            health_check: Value::Value(HealthCheck::default()),
            ..Default::default()
        }
    }

    fn arns() -> TopicArns {
        TopicArns {
            primary: "p".into(),
            standby: "s".into(),
            health_check: None,
        }
    }

    fn error_paths(config: &State) -> Vec<String> {
        crate::tf::diag::error_paths(validate, config)
    }

    fn applied(planned: &State) -> State {
        let mut state = planned.clone();
        state.zone_id = values::string("Z1");
        state.name_servers = values::list(&["ns-1".into()]);
        state.health_check_id = values::string("hc-1");
        state.switch_health_check_id = values::string("sc-1");
        state.record_health_check_id = values::string("rc-1");
        state.primary_topic_arn =
            values::string("arn:aws:sns:us-east-1:1:primary-failover-notifications-prod");
        state.standby_topic_arn =
            values::string("arn:aws:sns:us-east-2:1:standby-failover-notifications-prod");
        state
    }

    #[test]
    fn defaults_follow_the_spec() {
        let (planned, replace) = plan(&config(), None, &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(
            planned.domain_name,
            values::string("trading-prod.tap-test.net")
        );
        assert_eq!(planned.active_region, values::string("primary"));
        let check = planned.health_check.as_ref_option().unwrap();
        assert_eq!(check.path, values::string("/health"));
        assert_eq!(whole(&check.interval), Some(10));
        assert_eq!(whole(&check.failure_threshold), Some(3));
        assert_eq!(whole(&check.port), Some(80));
        assert!(planned.health_check_id.is_unknown() && planned.records.is_unknown());

        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        let records = want.records("hc-1");
        assert_eq!((records[0].weight, records[1].weight), (100, 0));
        assert_eq!(records[0].health_check_id.as_deref(), Some("hc-1"));
        assert_eq!(records[1].health_check_id, None);
        assert!(records.iter().all(|r| r.evaluate_target_health));
        let alarms = want.alarms("hc-1", &arns()).unwrap();
        let (region, health) = &alarms[0];
        assert_eq!(region, METRICS_REGION);
        assert_eq!(
            (
                health.metric.as_str(),
                health.statistic.as_str(),
                health.comparison
            ),
            ("HealthCheckStatus", "Minimum", "<")
        );
        assert_eq!(
            (health.threshold, health.evaluation_periods, health.period),
            (1.0, 3, 60)
        );
        assert_eq!(health.actions, ["p"]);
        let traffic = &alarms[1];
        assert_eq!(
            (traffic.0.as_str(), traffic.1.actions[0].as_str()),
            ("us-east-2", "s")
        );
        assert_eq!(
            traffic.1.dimensions,
            [("LoadBalancer".to_owned(), "app/alb-standby/abc".to_owned())]
        );
        let (region, switch) = &alarms[4];
        assert_eq!(
            region, "us-east-2",
            "the switch lives in the standby region"
        );
        assert_eq!(
            (
                switch.namespace.as_str(),
                switch.metric.as_str(),
                switch.statistic.as_str(),
                switch.comparison,
                switch.threshold,
                switch.period,
                switch.treat_missing_data
            ),
            (
                "TAP/Failover",
                "FailoverSwitch",
                "Maximum",
                ">=",
                1.0,
                60,
                "ignore"
            )
        );
        assert_eq!(switch.actions, ["s"]);
        assert_eq!(alarms.len(), 5, "no replication alarm without a table");
        assert_eq!(
            planned.break_glass_command,
            values::string("aws cloudwatch put-metric-data --region us-east-2 --namespace TAP/Failover --metric-name FailoverSwitch --dimensions EnvironmentSuffix=prod --value 1")
        );
        assert!(planned
            .release_command
            .as_ref_option()
            .is_some_and(|c| c.ends_with("--value 0")));
        assert_eq!(
            want.switch_check(),
            SwitchCheckSpec::Alarm {
                region: "us-east-2".into(),
                name: "failover-switch-prod".into()
            }
        );
    }

    #[test]
    fn a_system_from_before_the_switch_plans_only_the_health_check_change() {
        let (first, _) = plan(&config(), None, &Tags::new());
        let mut prior = applied(&first);
        (prior.switch_health_check_id, prior.record_health_check_id) = (Value::Null, Value::Null);
        prior.records = values::map(
            &Desired::from_state(&prior, &Tags::new())
                .unwrap()
                .record_summaries("hc-1"),
        );
        let (planned, replace) = plan(&config(), Some(&prior), &Tags::new());
        assert!(replace.is_empty(), "nothing is replaced");
        assert_eq!(
            planned.health_check_id, prior.health_check_id,
            "the endpoint check stays"
        );
        assert!(planned.switch_health_check_id.is_unknown());
        assert!(planned.record_health_check_id.is_unknown() && planned.records.is_unknown());
        assert!(warnings(&prior, &planned).is_empty());
        // Applied: the ids carry over and the records are known again.
        let (again, _) = plan(&config(), Some(&applied(&planned)), &Tags::new());
        assert_eq!(again.record_health_check_id, values::string("rc-1"));
        let records = known_map(&again.records).unwrap();
        assert!(records["primary"].contains("health check rc-1"));
    }

    /// The switch's alarm lives in the standby region, so validation may accept only regions
    /// whose alarms Route 53 can follow (AlarmIdentifier `Region`).
    #[test]
    fn every_region_a_standby_may_be_in_has_alarms_route53_follows() {
        let followed = aws_sdk_route53::types::CloudWatchRegion::values();
        for region in regions::KNOWN {
            assert!(followed.contains(region), "{region}");
        }
    }

    #[test]
    fn without_a_stack_in_us_east_1_the_health_alarm_gets_a_topic_there() {
        let mut c = config();
        c.primary = endpoint("eu-west-1", "primary");
        c.standby = endpoint("eu-central-1", "standby");
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(planned.health_check_topic_arn.is_unknown());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(
            want.alarm_topics(),
            [
                AlarmTopic::Primary,
                AlarmTopic::Standby,
                AlarmTopic::HealthCheck
            ]
        );
        assert_eq!(want.topic_region(AlarmTopic::HealthCheck), METRICS_REGION);
        assert_eq!(
            want.topic_name(AlarmTopic::HealthCheck),
            "health-check-failover-notifications-prod"
        );
        assert_eq!(
            want.alarms("hc-1", &arns()),
            None,
            "no alarm without the us-east-1 topic it notifies"
        );
        let topics = TopicArns {
            health_check: Some("h".into()),
            ..arns()
        };
        let alarms = want.alarms("hc-1", &topics).unwrap();
        assert_eq!(alarms[0].0, METRICS_REGION);
        assert_eq!(alarms[0].1.actions, ["h"]);
        assert!(alarms[1..]
            .iter()
            .all(|(region, a)| region != METRICS_REGION && a.actions != ["h"]));

        // With a stack in us-east-1 there is no such topic, and older state (null) plans empty.
        let (planned, _) = plan(&config(), None, &Tags::new());
        assert!(planned.health_check_topic_arn.is_null());
        assert!(planned.health_check_topic_key_arn.is_null());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(want.alarm_topics().len(), 2);
    }

    #[test]
    fn planned_failover_moves_the_weights_and_silences_the_traffic_alarm() {
        let mut c = config();
        c.active_region = values::string("standby");
        c.table_name = values::string("trading-sessions-prod");
        let (planned, _) = plan(&c, None, &Tags::new());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        let records = want.records("hc-1");
        assert_eq!((records[0].weight, records[1].weight), (0, 100));
        let alarms = want.alarms("hc-1", &arns()).unwrap();
        assert!(!alarms[1].1.actions_enabled);
        assert_eq!(alarms.len(), 6);
        assert_eq!(
            alarms[5].1.dimensions[1],
            ("ReceivingRegion".to_owned(), "us-east-2".to_owned())
        );
    }

    #[test]
    fn updates_keep_ids_and_an_interval_change_replaces_only_the_health_check() {
        let (first, _) = plan(&config(), None, &Tags::new());
        let prior = applied(&first);
        let (same, replace) = plan(&config(), Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(same.health_check_id, prior.health_check_id);
        assert!(!same.records.is_unknown() && !same.alarms.is_unknown());
        assert!(warnings(&prior, &same).is_empty());

        let mut slower = config();
        slower.health_check = Value::Value(HealthCheck {
            interval: number(30),
            ..Default::default()
        });
        let (planned, replace) = plan(&slower, Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert!(planned.health_check_id.is_unknown());
        assert_eq!(planned.zone_id, prior.zone_id);
        assert_eq!(warnings(&prior, &planned).len(), 1);

        let mut threshold = config();
        threshold.health_check = Value::Value(HealthCheck {
            failure_threshold: number(5),
            ..Default::default()
        });
        let (planned, _) = plan(&threshold, Some(&prior), &Tags::new());
        assert_eq!(planned.health_check_id, prior.health_check_id);

        let mut moved = config();
        moved.standby = endpoint("us-west-2", "standby");
        moved.domain_name = values::string("other.tap-test.net");
        let (_, replace) = plan(&moved, Some(&prior), &Tags::new());
        let replace: Vec<String> = replace.iter().map(ToString::to_string).collect();
        assert_eq!(replace, ["domain_name", "standby.region"]);
    }

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
        c.standby = endpoint("us-east-1", "standby");
        assert_eq!(error_paths(&c), ["standby.region"]);
        c.primary = endpoint("us-west-2", "primary");
        c.standby = endpoint("eu-west-1", "standby");
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

    #[test]
    fn a_topic_key_is_a_key_arn_of_its_region_and_never_the_aws_managed_one() {
        let key = |c: &mut State, role: &str, arn: &str| {
            let block = if role == "primary" {
                &mut c.primary
            } else {
                &mut c.standby
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
            ["primary.kms_key_arn", "standby.kms_key_arn"]
        );
        key(&mut c, "primary", "alias/my-key");
        assert_eq!(
            error_paths(&c),
            ["primary.kms_key_arn", "standby.kms_key_arn"]
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
