//! Plan-time work for `tap_trading_failover`. The composite is orchestration: each part is
//! planned and validated by its own resource's code (`tap_regional_stack` twice,
//! `tap_session_table`, `tap_dns_failover`) on a configuration derived from this one, and the
//! results are mapped back onto this resource's attributes.

use std::collections::BTreeSet;

use tf_provider::value::Value;
use tf_provider::{AttributePath, AttributePathStep, Diagnostics};

use super::schema::{Region, State};
use crate::cidr::Cidr;
use crate::naming;
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::plan::AlarmTopic;
use crate::resources::dns_failover::schema::{Endpoint, HealthCheck, State as DnsState};
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::schema::State as StackState;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::schema::State as TableState;
use crate::resources::session_table::SessionTable;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::diag::invalid;
use crate::tf::number::{whole, Number};
use crate::tf::values::{self, known_map, StringMap};

/// The `primary` or `standby` block of a state, or its defaults when left out.
pub fn region_settings(state: &State, role: Role) -> Region {
    let block = match role {
        Role::Primary => &state.primary,
        Role::Standby => &state.standby,
    };
    block.as_ref_option().cloned().unwrap_or_default()
}

/// A region block as a regional stack's state holds it.
pub fn region_from_stack(stack: &StackState) -> Region {
    Region {
        region: stack.region.clone(),
        vpc_cidr: stack.vpc_cidr.clone(),
        public_subnets: stack.public_subnets.clone(),
        private_subnets: stack.private_subnets.clone(),
        nat_mode: stack.nat_mode.clone(),
        certificate_arn: stack.certificate_arn.clone(),
        instance_type: stack.instance_type.clone(),
        ami_id: stack.ami_id.clone(),
        min_size: stack.min_size,
        max_size: stack.max_size,
        desired_capacity: stack.desired_capacity,
        kms_key_arn: Value::Null,
    }
}

/// The region of a role, with the default filled in.
pub fn region_of(state: &State, role: Role) -> Value<String> {
    region_settings(state, role)
        .region
        .or(values::string(role.default_region()))
}

/// The `tap_regional_stack` configuration of one role.
pub fn stack_config(state: &State, role: Role) -> StackState {
    let r = region_settings(state, role);
    StackState {
        environment_suffix: state.environment_suffix.clone(),
        role: values::string(role.as_str()),
        region: r.region,
        vpc_cidr: r.vpc_cidr,
        public_subnets: r.public_subnets,
        private_subnets: r.private_subnets,
        nat_mode: r.nat_mode,
        allowed_cidrs: state.allowed_cidrs.clone(),
        certificate_arn: r.certificate_arn,
        instance_type: r.instance_type,
        ami_id: r.ami_id,
        min_size: r.min_size,
        max_size: r.max_size,
        desired_capacity: r.desired_capacity,
        health_check_path: state
            .health_check
            .as_ref_option()
            .map_or(Value::Null, |h| h.path.clone()),
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// The `tap_session_table` configuration: home in the primary region, replica in the standby.
pub fn table_config(state: &State) -> TableState {
    TableState {
        environment_suffix: state.environment_suffix.clone(),
        region: region_of(state, Role::Primary),
        replica_regions: region_of(state, Role::Standby).map(|r| vec![values::string(r)]),
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// The table settings this resource fixes, as planned by the session table or read from
/// DynamoDB: the same map both ways, so a change made outside Terraform shows as a diff.
pub fn table_settings(table: &TableState) -> StringMap {
    let flag = |v: &Value<bool>| v.as_ref().map(bool::to_string);
    let entries = [
        ("billing_mode", table.billing_mode.clone()),
        ("stream_view_type", table.stream_view_type.clone()),
        (
            "server_side_encryption",
            flag(&table.server_side_encryption),
        ),
        (
            "point_in_time_recovery",
            flag(&table.point_in_time_recovery),
        ),
        ("deletion_protection", flag(&table.deletion_protection)),
    ];
    if entries.iter().any(|(_, v)| v.is_unknown()) || table.replica_settings.is_unknown() {
        return Value::Unknown;
    }
    let replicas = values::known_map(&table.replica_settings).unwrap_or_default();
    Value::Value(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.or(values::string(""))))
            .chain(replicas.into_iter().map(|(k, v)| (k, values::string(v))))
            .collect(),
    )
}

/// The `parts` entry of the us-east-1 alarm topic of a system with no stack there.
pub const HEALTH_CHECK_TOPIC: &str = "dns.health_check_topic";

/// The `tap_dns_failover` configuration, pointing at `endpoints`, with each region's topic key.
pub fn dns_config(state: &State, endpoints: [Value<Endpoint>; 2]) -> DnsState {
    let with_key = |endpoint: Value<Endpoint>, role: Role| {
        endpoint.map(|e| Endpoint {
            kms_key_arn: region_settings(state, role).kms_key_arn,
            ..e
        })
    };
    let [primary, standby] = endpoints;
    DnsState {
        environment_suffix: state.environment_suffix.clone(),
        domain_name: state.domain_name.clone(),
        hosted_zone_id: state.hosted_zone_id.clone(),
        active_region: state.active_region.clone(),
        alarm_emails: state.alarm_emails.clone(),
        table_name: state
            .environment_suffix
            .as_ref()
            .map(|s| naming::session_table(s)),
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        health_check: health_check_config(state),
        primary: with_key(primary, Role::Primary),
        standby: with_key(standby, Role::Standby),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// The health check as configured, its protocol defaulting to HTTPS when the load balancers have
/// certificates: their HTTP listener then only redirects, and Route 53 counts the redirect as
/// healthy ("200 or greater and less than 400",
/// https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html), so an
/// HTTP check could never see the application fail.
fn health_check_config(state: &State) -> Value<HealthCheck> {
    let certificate = region_settings(state, Role::Primary).certificate_arn;
    let mut check = match &state.health_check {
        _ if certificate.is_null() => return state.health_check.clone(),
        Value::Value(check) => check.clone(),
        Value::Null => HealthCheck::default(),
        Value::Unknown => return Value::Unknown,
    };
    if check.protocol.is_null() {
        check.protocol = certificate.map(|_| "HTTPS".to_owned());
    }
    Value::Value(check)
}

/// The DNS part of a prior state, with what apply recorded.
fn dns_prior(prior: &State) -> DnsState {
    let mut dns = dns_config(prior, prior_endpoints(prior));
    dns.id = prior.environment_suffix.clone();
    dns.zone_id = prior.zone_id.clone();
    dns.name_servers = prior.name_servers.clone();
    dns.health_check_id = prior.health_check_id.clone();
    dns.primary_topic_arn = prior.primary_topic_arn.clone();
    dns.standby_topic_arn = prior.standby_topic_arn.clone();
    dns.health_check_topic_arn = health_check_topic(prior);
    dns.switch_health_check_id = recorded_part(prior, "dns.switch_health_check");
    dns.record_health_check_id = recorded_part(prior, "dns.record_health_check");
    dns.pending_alarm_emails = prior.pending_alarm_emails.clone();
    dns
}

/// The us-east-1 alarm topic a prior apply recorded in `parts`: this resource shows it only
/// there (null when the system has none).
pub fn health_check_topic(prior: &State) -> Value<String> {
    recorded_part(prior, HEALTH_CHECK_TOPIC)
}

/// A part's ID as a prior apply recorded it in `parts`; null where it recorded none.
fn recorded_part(prior: &State, key: &str) -> Value<String> {
    known_map(&prior.parts)
        .and_then(|parts| parts.get(key).cloned())
        .map_or(Value::Null, values::string)
}

/// The load balancers recorded in a state's parts, if all of them are.
pub fn prior_endpoints(state: &State) -> [Value<Endpoint>; 2] {
    let parts = known_map(&state.parts).unwrap_or_default();
    Role::ALL.map(|role| {
        let get = |key: &str| {
            parts
                .get(&format!("{role}.{key}"))
                .filter(|v| !v.is_empty())
        };
        let dns_name = if role == Role::Primary {
            &state.primary_alb_dns_name
        } else {
            &state.standby_alb_dns_name
        };
        match (
            region_of(state, role),
            dns_name.as_ref_option().filter(|d| !d.is_empty()),
            get("alb_zone_id"),
            get("alb"),
            get("target_group"),
        ) {
            (Value::Value(region), Some(dns), Some(zone), Some(alb), Some(tg)) => {
                Value::Value(Endpoint {
                    region: values::string(region),
                    alb_dns_name: values::string(dns.clone()),
                    alb_zone_id: values::string(zone.clone()),
                    alb_arn: values::string(alb.clone()),
                    target_group_arn: values::string(tg.clone()),
                    kms_key_arn: Value::Null,
                })
            }
            _ => unknown_endpoint(region_of(state, role)),
        }
    })
}

/// An endpoint whose load balancer does not exist yet.
pub fn unknown_endpoint(region: Value<String>) -> Value<Endpoint> {
    Value::Value(Endpoint {
        region,
        alb_dns_name: Value::Unknown,
        alb_zone_id: Value::Unknown,
        alb_arn: Value::Unknown,
        target_group_arn: Value::Unknown,
        kms_key_arn: Value::Null,
    })
}

pub fn validate(diags: &mut Diagnostics, config: &State) {
    let mut found = Diagnostics::default();
    validate_across_parts(&mut found, config);
    for role in Role::ALL {
        let mut sub = Diagnostics::default();
        RegionalStack::validate(&mut sub, &stack_config(config, role));
        remap(&mut found, sub, |attr| match attr {
            "environment_suffix" | "environment" | "tags" | "allowed_cidrs" | "timeouts" => {
                (AttributePath::new(attr.to_owned()), true)
            }
            "health_check_path" => (AttributePath::new("health_check").attribute("path"), true),
            other => (
                AttributePath::new(role.as_str()).attribute(other.to_owned()),
                true,
            ),
        });
    }
    let mut sub = Diagnostics::default();
    SessionTable::validate(&mut sub, &table_config(config));
    remap(&mut found, sub, |attr| match attr {
        "region" => (AttributePath::new("primary").attribute("region"), true),
        // The replica list is made of the standby's one region.
        "replica_regions" => (AttributePath::new("standby").attribute("region"), false),
        other => (AttributePath::new(other.to_owned()), true),
    });
    let mut sub = Diagnostics::default();
    let endpoints = Role::ALL.map(|role| unknown_endpoint(region_of(config, role)));
    DnsFailover::validate(&mut sub, &dns_config(config, endpoints));
    remap(&mut found, sub, |attr| {
        (AttributePath::new(attr.to_owned()), true)
    });
    // Several parts check the same input (the suffix, the regions): say it once per attribute,
    // the clearest first.
    let mut seen = BTreeSet::new();
    for diag in found.errors {
        if seen.insert(diag.attribute.to_string()) {
            diags.add_error(diag);
        }
    }
}

/// Moves a part's diagnostics onto this resource's attributes: `map` gives the new path of the
/// part's top-level attribute, and whether the rest of the path (list index, block attribute)
/// still applies.
fn remap(into: &mut Diagnostics, from: Diagnostics, map: impl Fn(&str) -> (AttributePath, bool)) {
    for diag in from.errors {
        let mut steps = diag.attribute.steps.into_iter();
        let Some(AttributePathStep::Attribute(first)) = steps.next() else {
            into.root_error(diag.summary, diag.detail);
            continue;
        };
        let (mut path, keep_rest) = map(&first);
        if keep_rest {
            for step in steps {
                path.add_step(step);
            }
        }
        invalid(into, path, diag.detail);
    }
}

/// What no single part can see: two different regions, VPCs that do not overlap (they would
/// collide if ever peered, and the spec requires it), and a standby that can take traffic.
fn validate_across_parts(diags: &mut Diagnostics, config: &State) {
    let cidrs: Vec<Option<Cidr>> = Role::ALL
        .into_iter()
        .map(|role| {
            let given = region_settings(config, role).vpc_cidr;
            let text = given.or(values::string(role.default_vpc_cidr()));
            text.as_ref_option().and_then(|t| t.parse().ok())
        })
        .collect();
    if let [Some(primary), Some(standby)] = &cidrs[..] {
        if primary.overlaps(standby) {
            invalid(
                diags,
                AttributePath::new("standby").attribute("vpc_cidr"),
                format!("{standby} overlaps the primary's {primary}: the two VPCs need separate address ranges."),
            );
        }
    }
    if let (Value::Value(primary), Value::Value(standby)) = (
        region_of(config, Role::Primary),
        region_of(config, Role::Standby),
    ) {
        if primary == standby {
            invalid(
                diags,
                AttributePath::new("standby").attribute("region"),
                format!("the standby must be in another region than the primary ({primary})."),
            );
        }
    }
    validate_https(diags, config);
    if let Value::Value(n) = region_settings(config, Role::Standby).desired_capacity {
        if n.as_i64() == Some(0) {
            invalid(
                diags,
                AttributePath::new("standby").attribute("desired_capacity"),
                "a standby with no instances has no healthy targets: Route 53 would keep answering with a dead primary. Use 1 or more.",
            );
        }
    }
}

/// HTTPS on both sides or neither, and a health check that reaches the application through the
/// listener the load balancers have for it.
fn validate_https(diags: &mut Diagnostics, config: &State) {
    let [primary, standby] = Role::ALL.map(|role| region_settings(config, role).certificate_arn);
    let https = match (&primary, &standby) {
        (Value::Value(_), Value::Value(_)) => true,
        (Value::Null, Value::Null) => false,
        (Value::Value(_), Value::Null) => {
            invalid(diags, AttributePath::new("primary").attribute("certificate_arn"), "the standby has no certificate_arn: after failover its load balancer has no HTTPS listener, and every client of the https:// application_url is refused. Give the standby a certificate of its own region too (HTTPS on both sides), or neither.");
            return;
        }
        (Value::Null, Value::Value(_)) => {
            invalid(diags, AttributePath::new("standby").attribute("certificate_arn"), "the primary has no certificate_arn: the application_url would be http://, which the standby would only redirect to HTTPS after failover. Give the primary a certificate of its own region too (HTTPS on both sides), or neither.");
            return;
        }
        _ => return,
    };
    let Value::Value(check) = &config.health_check else {
        return;
    };
    let path = |attr: &'static str| AttributePath::new("health_check").attribute(attr);
    let protocol = match check.protocol.as_ref_option().map(String::as_str) {
        Some("HTTP") if https => {
            invalid(diags, path("protocol"), "the load balancers have certificates, so their HTTP listener answers every request with a 301 redirect to HTTPS, which Route 53 counts as healthy (any status from 200 to 399): an HTTP check could never see the application fail. Use HTTPS, the default with certificates.");
            return;
        }
        Some("HTTPS") if !https => {
            invalid(diags, path("protocol"), "without certificate_arn the load balancers have no HTTPS listener: every check would fail and Route 53 would send all traffic to the standby. Use HTTP, the default without certificates, or give both regions a certificate.");
            return;
        }
        Some(other) => other,
        None if https => "HTTPS",
        None => "HTTP",
    };
    let listener = match protocol {
        "HTTPS" => 443,
        "HTTP" => 80,
        _ => return,
    };
    if let Some(port) = whole(&check.port).filter(|p| *p != listener) {
        invalid(
            diags,
            path("port"),
            format!("the load balancers answer {protocol} on port {listener} only, not {port}."),
        );
    }
}

/// Every part's key in `parts`, for this configuration.
pub fn part_keys(state: &State) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = [
        "table",
        "table.replica",
        "instance_role",
        "dns.zone",
        "dns.health_check",
        "dns.switch_health_check",
        "dns.record_health_check",
        "dns.primary_topic",
        "dns.standby_topic",
        "dns.primary_topic_key",
        "dns.standby_topic_key",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let regions = Role::ALL.map(|role| region_of(state, role));
    if let [Value::Value(primary), Value::Value(standby)] = &regions {
        if AlarmTopic::all(primary, standby).contains(&AlarmTopic::HealthCheck) {
            keys.insert(HEALTH_CHECK_TOPIC.to_owned());
            keys.insert(format!("{HEALTH_CHECK_TOPIC}_key"));
        }
    }
    for role in Role::ALL {
        for part in [
            "vpc",
            "subnets",
            "internet_gateway",
            "security_groups",
            "alb",
            "alb_zone_id",
            "listeners",
            "target_group",
            "launch_template",
            "asg",
        ] {
            keys.insert(format!("{role}.{part}"));
        }
        if region_settings(state, role)
            .nat_mode
            .as_ref_option()
            .map(String::as_str)
            != Some("none")
        {
            keys.insert(format!("{role}.nat"));
        }
    }
    keys
}

/// The parts a prior state recorded, when every one of them exists and nothing that forces a
/// new part changed.
fn complete(prior: &State, planned: &State) -> bool {
    let Some(parts) = known_map(&prior.parts) else {
        return false;
    };
    parts.values().all(|v| !v.is_empty())
        && parts.keys().cloned().collect::<BTreeSet<_>>() == part_keys(planned)
}

/// The planned state; the second value lists the attributes that force replacement.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    planned.id = config.environment_suffix.clone();
    let mut replace = Vec::new();

    for role in Role::ALL {
        let prior_stack = prior.map(|p| stack_config(p, role));
        let (stack, stack_replace) = RegionalStack::plan(
            &stack_config(config, role),
            prior_stack.as_ref(),
            default_tags,
        );
        let block = Region {
            kms_key_arn: region_settings(config, role).kms_key_arn,
            ..region_from_stack(&stack)
        };
        match role {
            Role::Primary => {
                planned.primary = Value::Value(block);
                planned.tags_all = stack.tags_all.clone();
            }
            Role::Standby => planned.standby = Value::Value(block),
        }
        for path in stack_replace {
            if let Some(AttributePathStep::Attribute(attr)) = path.steps.first() {
                replace.push(if attr == "environment_suffix" {
                    AttributePath::new("environment_suffix")
                } else {
                    AttributePath::new(role.as_str()).attribute(attr.clone())
                });
            }
        }
    }
    planned.allowed_cidrs = config
        .allowed_cidrs
        .clone()
        .or(values::list(&["0.0.0.0/0".into()]));
    planned.environment = config
        .environment
        .clone()
        .or(values::string(crate::tags::DEFAULT_ENVIRONMENT));

    let (table, _) = SessionTable::plan(&table_config(&planned), None, default_tags);
    planned.table_name = table.name.clone();
    planned.table_settings = table_settings(&table);

    // The load balancers that exist stay the records' targets, so a part missing elsewhere
    // does not hide what the records and alarms will be.
    let endpoints = match prior.filter(|_| replace.is_empty()) {
        Some(p) => prior_endpoints(p),
        None => Role::ALL.map(|role| unknown_endpoint(region_of(&planned, role))),
    };
    let dns_prior = prior.map(dns_prior);
    let (dns, dns_replace) = DnsFailover::plan(
        &dns_config(&planned, endpoints),
        dns_prior.as_ref(),
        default_tags,
    );
    for path in dns_replace {
        if !replace.contains(&path) {
            replace.push(path);
        }
    }
    planned.domain_name = dns.domain_name.clone();
    planned.active_region = dns.active_region.clone();
    planned.health_check = dns.health_check.clone();
    planned.records = dns.records.clone();
    planned.alarms = dns.alarms.clone();
    planned.zone_id = dns.zone_id.clone();
    planned.name_servers = dns.name_servers.clone();
    planned.health_check_id = dns.health_check_id.clone();
    planned.break_glass_command = dns.break_glass_command.clone();
    planned.release_command = dns.release_command.clone();
    planned.primary_topic_arn = dns.primary_topic_arn.clone();
    planned.standby_topic_arn = dns.standby_topic_arn.clone();
    // Both regions have certificates or neither (validation).
    let scheme = match region_settings(&planned, Role::Primary).certificate_arn {
        Value::Value(_) => Value::Value("https"),
        Value::Null => Value::Value("http"),
        Value::Unknown => Value::Unknown,
    };
    planned.application_url = match (scheme, &planned.domain_name) {
        (Value::Value(scheme), Value::Value(domain)) => {
            values::string(format!("{scheme}://{domain}"))
        }
        (_, Value::Null) => Value::Null,
        _ => Value::Unknown,
    };

    planned.instance_role_name = planned
        .environment_suffix
        .as_ref()
        .map(|s| naming::shared_instance_role(s));
    let unchanged = prior.filter(|_| replace.is_empty());
    let prior_parts = unchanged
        .and_then(|p| known_map(&p.parts))
        .unwrap_or_default();
    // An output stays as it was while the part it comes from exists.
    let carry = |part: &str, pick: fn(&State) -> &Value<String>| match unchanged {
        Some(p) if prior_parts.get(part).is_some_and(|id| !id.is_empty()) => pick(p).clone(),
        _ => Value::Unknown,
    };
    planned.primary_vpc_id = carry("primary.vpc", |s| &s.primary_vpc_id);
    planned.standby_vpc_id = carry("standby.vpc", |s| &s.standby_vpc_id);
    planned.primary_alb_dns_name = carry("primary.alb", |s| &s.primary_alb_dns_name);
    planned.standby_alb_dns_name = carry("standby.alb", |s| &s.standby_alb_dns_name);
    planned.primary_asg_name = carry("primary.asg", |s| &s.primary_asg_name);
    planned.standby_asg_name = carry("standby.asg", |s| &s.standby_asg_name);
    planned.table_arn = carry("table", |s| &s.table_arn);
    planned.parts = match unchanged {
        Some(p) if complete(p, &planned) => p.parts.clone(),
        _ => Value::Unknown,
    };
    values::observed_unless_changed(&mut planned, unchanged, |s| &mut s.pending_alarm_emails);
    (planned, replace)
}

/// The health check replacement warning of the DNS part, on this resource's attributes.
pub fn warnings(prior: &State, planned: &State) -> Vec<(AttributePath, String)> {
    let mut notes = DnsFailover::plan_warnings(&dns_prior(prior), &dns_prior(planned));
    match (prior.active_region.as_ref_option(), planned.active_region.as_ref_option()) {
        (Some(before), Some(after)) if before != after && Role::parse(after) == Some(Role::Standby) => notes.push((
            AttributePath::new("active_region"),
            "planned failover: the standby is first scaled to the primary's live capacity (what Auto Scaling runs there now), keeps its minimum there until failback, and must have healthy targets before the weights move to it.".into(),
        )),
        (Some(before), Some(after)) if before != after => notes.push((
            AttributePath::new("active_region"),
            "failback: the primary must have healthy targets before the weights move back; the standby is scaled down to its own desired capacity afterwards.".into(),
        )),
        _ => {}
    }
    notes
}

/// A part planned from a derived configuration: its planned state (what its read starts from)
/// and its desired state (what its apply converges to).
pub struct Planned<P: Convergent> {
    pub state: P::State,
    pub want: P::Desired,
}

impl<P: Convergent> Planned<P> {
    fn new(config: &P::State, default_tags: &Tags) -> Option<Planned<P>> {
        let (state, _) = P::plan(config, None, default_tags);
        let want = P::desired(&state, default_tags)?;
        Some(Planned { state, want })
    }
}

/// An Auto Scaling minimum and desired capacity other than the configured ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub min: i64,
    pub desired: i64,
}

/// The planned state with every configured value known. Each part's own desired state is
/// derived from it at apply, once what it depends on (the instance profile, the load
/// balancers) exists.
#[derive(Debug, Clone)]
pub struct Desired {
    pub state: State,
    pub default_tags: Tags,
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let want = Desired {
            state: state.clone(),
            default_tags: default_tags.clone(),
        };
        // Every part must be derivable: a placeholder profile and the endpoints' regions are
        // all the parts need to know at this point.
        for role in Role::ALL {
            want.stack(role, "arn:aws:iam::0:instance-profile/x", None)?;
        }
        want.table()?;
        let endpoints = Role::ALL.map(|role| region_of(state, role).as_ref_option().cloned());
        let [Some(_), Some(_)] = endpoints else {
            return None;
        };
        Some(want)
    }

    pub fn suffix(&self) -> &str {
        self.state
            .environment_suffix
            .as_ref_option()
            .map_or("", String::as_str)
    }

    pub fn region(&self, role: Role) -> String {
        region_of(&self.state, role)
            .as_ref_option()
            .cloned()
            .unwrap_or_default()
    }

    pub fn desired_capacity(&self, role: Role) -> i64 {
        region_settings(&self.state, role)
            .desired_capacity
            .as_ref_option()
            .and_then(|n| n.as_i64())
            .unwrap_or(1)
    }

    pub fn standby_active(&self) -> bool {
        self.state
            .active_region
            .as_ref_option()
            .and_then(|active| Role::parse(active))
            == Some(Role::Standby)
    }

    /// The regional stack of `role`, on the shared instance profile, optionally with another
    /// capacity (a planned failover scales the standby up first).
    pub fn stack(
        &self,
        role: Role,
        profile_arn: &str,
        capacity: Option<Capacity>,
    ) -> Option<Planned<RegionalStack>> {
        let mut config = stack_config(&self.state, role);
        config.instance_profile_arn = values::string(profile_arn);
        if let Some(Capacity { min, desired }) = capacity {
            config.min_size = Value::Value(Number::from(min));
            config.desired_capacity = Value::Value(Number::from(desired));
        }
        Planned::new(&config, &self.default_tags)
    }

    pub fn table(&self) -> Option<Planned<SessionTable>> {
        Planned::new(&table_config(&self.state), &self.default_tags)
    }

    pub fn dns(&self, endpoints: [Endpoint; 2]) -> Option<Planned<DnsFailover>> {
        Planned::new(
            &dns_config(&self.state, endpoints.map(Value::Value)),
            &self.default_tags,
        )
    }

    pub fn tags(&self, part: &str, name: &str) -> Tags {
        crate::tags::merge(
            &self.default_tags,
            &crate::tags::Ownership {
                suffix: self.suffix(),
                part,
                name,
                environment: self
                    .state
                    .environment
                    .as_ref_option()
                    .map_or(crate::tags::DEFAULT_ENVIRONMENT, String::as_str),
                failover_role: Role::Primary,
            },
            &known_map(&self.state.tags).unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> State {
        State {
            environment_suffix: values::string("prod"),
            domain_name: values::string("trading-prod.tap-test.net"),
            ..Default::default()
        }
    }

    fn error_paths(config: &State) -> Vec<String> {
        crate::tf::diag::error_paths(validate, config)
    }

    #[test]
    fn a_topic_key_is_checked_in_its_region_block_and_reaches_the_dns_part() {
        let mut c = config();
        c.standby = Value::Value(Region {
            kms_key_arn: values::string("alias/aws/sns"),
            ..Default::default()
        });
        assert_eq!(error_paths(&c), ["standby.kms_key_arn"]);
        let users = "arn:aws:kms:us-east-2:123456789012:key/abc";
        c.standby = Value::Value(Region {
            kms_key_arn: values::string(users),
            ..Default::default()
        });
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert_eq!(
            region_settings(&planned, Role::Standby).kms_key_arn,
            values::string(users)
        );
        let endpoints = Role::ALL.map(|role| unknown_endpoint(region_of(&planned, role)));
        let dns = dns_config(&planned, endpoints);
        assert_eq!(
            dns.standby.as_ref_option().map(|e| e.kms_key_arn.clone()),
            Some(values::string(users))
        );
    }

    #[test]
    fn only_the_suffix_and_domain_give_the_spec_system() {
        let (planned, replace) = plan(&config(), None, &Tags::new());
        assert!(replace.is_empty());
        let primary = region_settings(&planned, Role::Primary);
        let standby = region_settings(&planned, Role::Standby);
        assert_eq!(primary.region, values::string("us-east-1"));
        assert_eq!(standby.region, values::string("us-east-2"));
        assert_eq!(primary.vpc_cidr, values::string("10.0.0.0/16"));
        assert_eq!(standby.vpc_cidr, values::string("10.1.0.0/16"));
        assert_eq!(
            primary
                .desired_capacity
                .as_ref_option()
                .and_then(|n| n.as_i64()),
            Some(2)
        );
        assert_eq!(
            standby
                .desired_capacity
                .as_ref_option()
                .and_then(|n| n.as_i64()),
            Some(1)
        );
        assert_eq!(planned.table_name, values::string("trading-sessions-prod"));
        assert_eq!(
            planned.domain_name,
            values::string("trading-prod.tap-test.net")
        );
        assert_eq!(
            planned.application_url,
            values::string("http://trading-prod.tap-test.net")
        );
        assert_eq!(planned.instance_role_name, values::string("ec2-prod"));
        assert!(planned.parts.is_unknown() && planned.records.is_unknown());
        assert!(error_paths(&config()).is_empty());

        let want = Desired::from_state(&planned, &Tags::new()).expect("derivable");
        let standby_stack = want
            .stack(
                Role::Standby,
                "arn:aws:iam::1:instance-profile/ec2-prod",
                Some(Capacity { min: 3, desired: 3 }),
            )
            .expect("stack");
        assert_eq!(standby_stack.want.min_size, 3);
        assert_eq!(standby_stack.want.desired_capacity, 3);
        assert_eq!(
            standby_stack.want.instance_profile_arn.as_deref(),
            Some("arn:aws:iam::1:instance-profile/ec2-prod")
        );
        assert_eq!(
            standby_stack.want.instance_role_name, None,
            "the composite owns the role"
        );
        let table = want.table().expect("table");
        assert_eq!(table.want.replica_regions, ["us-east-2"]);
    }

    #[test]
    fn diagnostics_land_on_the_composites_attributes_once() {
        let mut c = config();
        c.environment_suffix = values::string("Bad_Suffix");
        c.standby = Value::Value(Region {
            region: values::string("us-east-1"),
            desired_capacity: Value::Value(Number::from(0)),
            ..Default::default()
        });
        c.primary = Value::Value(Region {
            public_subnets: values::list(&["10.7.1.0/24".into(), "10.0.2.0/24".into()]),
            ..Default::default()
        });
        let paths = error_paths(&c);
        for expected in [
            "environment_suffix",
            "standby.region",
            "standby.desired_capacity",
            "primary.public_subnets[0]",
        ] {
            assert_eq!(
                paths.iter().filter(|p| *p == expected).count(),
                1,
                "{expected} once in {paths:?}"
            );
        }
    }

    #[test]
    fn https_is_on_both_sides_or_neither_and_checked_over_https() {
        let with = |primary: Value<String>, standby: Value<String>, check: Option<HealthCheck>| {
            let mut c = config();
            c.domain_name = values::string("trading-prod.tap-test.net");
            c.primary = Value::Value(Region {
                certificate_arn: primary,
                ..Default::default()
            });
            c.standby = Value::Value(Region {
                certificate_arn: standby,
                ..Default::default()
            });
            c.health_check = check.map_or(Value::Null, Value::Value);
            c
        };
        let east1 = values::string("arn:aws:acm:us-east-1:123456789012:certificate/a");
        let east2 = values::string("arn:aws:acm:us-east-2:123456789012:certificate/b");
        let check = |protocol: &str, port: Option<i64>| {
            Some(HealthCheck {
                protocol: values::string(protocol),
                port: port.map_or(Value::Null, |p| Value::Value(Number::from(p))),
                ..Default::default()
            })
        };
        for (c, expected) in [
            (
                with(east1.clone(), Value::Null, None),
                vec!["primary.certificate_arn"],
            ),
            (
                with(Value::Null, east2.clone(), None),
                vec!["standby.certificate_arn"],
            ),
            (with(east1.clone(), east2.clone(), None), vec![]),
            (
                with(east1.clone(), east2.clone(), check("HTTP", None)),
                vec!["health_check.protocol"],
            ),
            (
                with(Value::Null, Value::Null, check("HTTPS", None)),
                vec!["health_check.protocol"],
            ),
            (
                with(east1.clone(), east2.clone(), check("HTTPS", Some(80))),
                vec!["health_check.port"],
            ),
            (with(Value::Unknown, east2.clone(), None), vec![]),
        ] {
            assert_eq!(error_paths(&c), expected, "{c:?}");
        }

        let (planned, _) = plan(
            &with(east1.clone(), east2.clone(), None),
            None,
            &Tags::new(),
        );
        assert_eq!(
            planned.application_url,
            values::string("https://trading-prod.tap-test.net")
        );
        let planned_check = planned.health_check.as_ref_option().cloned().unwrap();
        assert_eq!(planned_check.protocol, values::string("HTTPS"));
        assert_eq!(whole(&planned_check.port), Some(443));

        let (planned, _) = plan(&with(Value::Unknown, east2, None), None, &Tags::new());
        assert!(planned.application_url.is_unknown());
        let planned_check = planned.health_check.as_ref_option().cloned().unwrap();
        assert!(planned_check.protocol.is_unknown() && planned_check.port.is_unknown());
    }

    #[test]
    fn unknown_regions_from_other_resources_do_not_trip_validation() {
        let mut c = config();
        c.primary = Value::Value(Region {
            region: Value::Unknown,
            ..Default::default()
        });
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(Desired::from_state(&planned, &Tags::new()).is_none());
    }

    #[test]
    fn a_missing_part_makes_only_what_depends_on_it_unknown() {
        let (first, _) = plan(&config(), None, &Tags::new());
        let mut prior = first.clone();
        let mut parts: Tags = part_keys(&first)
            .into_iter()
            .map(|k| (k.clone(), format!("id-{k}")))
            .collect();
        prior.parts = values::map(&parts);
        for attr in [
            &mut prior.primary_vpc_id,
            &mut prior.standby_vpc_id,
            &mut prior.primary_asg_name,
            &mut prior.standby_asg_name,
            &mut prior.table_arn,
        ] {
            *attr = values::string("x");
        }
        prior.primary_alb_dns_name =
            values::string("alb-primary-prod-1.us-east-1.elb.amazonaws.com");
        prior.standby_alb_dns_name =
            values::string("alb-standby-prod-1.us-east-2.elb.amazonaws.com");
        let (planned, replace) = plan(&config(), Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(planned.parts, prior.parts);
        assert_eq!(planned.standby_asg_name, prior.standby_asg_name);

        parts.insert("standby.asg".into(), String::new());
        prior.parts = values::map(&parts);
        let (planned, _) = plan(&config(), Some(&prior), &Tags::new());
        assert!(planned.parts.is_unknown());
        assert!(planned.standby_asg_name.is_unknown());
        assert_eq!(planned.primary_asg_name, prior.primary_asg_name);
        assert_eq!(planned.standby_vpc_id, prior.standby_vpc_id);

        let mut moved = config();
        moved.standby = Value::Value(Region {
            region: values::string("us-west-2"),
            ..Default::default()
        });
        let (_, replace) = plan(&moved, Some(&prior), &Tags::new());
        assert!(
            replace.iter().any(|p| p.to_string() == "standby.region"),
            "{replace:?}"
        );
    }

    #[test]
    fn failover_and_failback_are_announced() {
        let (prior, _) = plan(&config(), None, &Tags::new());
        let mut c = config();
        c.active_region = values::string("standby");
        let (planned, _) = plan(&c, Some(&prior), &Tags::new());
        let notes = warnings(&prior, &planned);
        assert!(
            notes.iter().any(
                |(_, text)| text.contains("scaled to the primary's live capacity")
                    && text.contains("keeps its minimum there until failback")
            ),
            "{notes:?}"
        );
        let back = warnings(&planned, &prior);
        assert!(
            back.iter().any(|(_, text)| text.contains("failback")),
            "{back:?}"
        );
    }
}
