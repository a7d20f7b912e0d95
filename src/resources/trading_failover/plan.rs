//! Plan mapping for `tap_trading_failover`: each part is planned by its own resource's code on
//! its derived configuration, and the results are mapped back onto this resource's attributes.

use std::collections::BTreeSet;

use tf_provider::value::Value;
use tf_provider::{AttributePath, AttributePathStep};

use super::parts::*;
use super::schema::{Region, SessionTableSettings, State};
use crate::naming;
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::desired::AlarmTopic;
use crate::resources::dns_failover::schema::{Endpoint, State as DnsState};
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::desired::EVENTUAL;
use crate::resources::session_table::schema::State as TableState;
use crate::resources::session_table::SessionTable;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::values::{self, known_map, StringMap};

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

/// A regional stack's configuration as a state's apply served it: with the certificate
/// `tls = "auto"` recorded in `parts`.
fn served_stack(state: &State, role: Role) -> crate::resources::regional_stack::schema::State {
    let mut stack = stack_config(state, role);
    if auto_tls(state) {
        stack.certificate_arn = recorded_part(state, &certificate_part(role));
    }
    stack
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
        if AlarmTopic::all(primary, &[standby]).contains(&AlarmTopic::HealthCheck) {
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
        if builds_nat(&region_settings(state, role)) {
            keys.insert(format!("{role}.nat"));
        }
        if auto_tls(state) {
            keys.insert(certificate_part(role));
        }
    }
    if auto_tls(state) {
        keys.insert(VALIDATION_RECORD_PART.to_owned());
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

/// Whether `planned` is a planned failover (`active_region` to the standby) of a system whose
/// every part a prior apply recorded, and nothing else: only the records and the alarms, which
/// follow `active_region`, differ besides.
pub fn only_failing_over(prior: &State, planned: &State) -> bool {
    let to_standby = planned
        .active_region
        .as_ref_option()
        .and_then(|a| Role::parse(a))
        == Some(Role::Standby);
    let mut rest = planned.clone();
    rest.active_region = prior.active_region.clone();
    rest.records = prior.records.clone();
    rest.alarms = prior.alarms.clone();
    to_standby
        && prior.active_region != planned.active_region
        && complete(prior, planned)
        && rest == *prior
}

/// The planned state; the second value lists the attributes that force replacement.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    planned.id = config.environment_suffix.clone();
    planned.tls = tls(config);
    let mut replace = Vec::new();

    for role in Role::ALL {
        let prior_stack = prior.map(|p| served_stack(p, role));
        let mut stack_config = stack_config(config, role);
        if auto_tls(&planned) {
            // The certificate requested for it, once a prior apply has recorded it.
            stack_config.certificate_arn = prior
                .filter(|p| auto_tls(p))
                .map(|p| recorded_part(p, &certificate_part(role)))
                .filter(|arn| arn.as_ref_option().is_some_and(|a| !a.is_empty()))
                .unwrap_or(Value::Unknown);
        }
        let (stack, stack_replace) =
            RegionalStack::plan(&stack_config, prior_stack.as_ref(), default_tags);
        let block = Region {
            kms_key_arn: region_settings(config, role).kms_key_arn,
            // The user's: a certificate `tls = "auto"` requested shows in `parts`.
            certificate_arn: region_settings(config, role).certificate_arn,
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
    planned.session_table = Value::Value(SessionTableSettings {
        consistency: table.consistency.clone(),
        witness_region: table.witness_region.clone(),
        allow_data_loss: table.allow_data_loss,
    });
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
        _ if auto_tls(&planned) => Value::Value("https"),
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
    // What changes without Terraform (an address confirming its subscription, the primary's
    // scaling policy) stays as last read while apply does not read it again: when the plan
    // changes nothing, or is a planned failover alone. Else unknown: apply reads it anew.
    let kept = unchanged.and_then(|p| {
        let mut with_last_read = planned.clone();
        with_last_read.pending_alarm_emails = p.pending_alarm_emails.clone();
        with_last_read.primary_running_capacity = p.primary_running_capacity;
        (with_last_read == *p || only_failing_over(p, &with_last_read)).then_some(with_last_read)
    });
    let planned = kept.unwrap_or(State {
        pending_alarm_emails: Value::Unknown,
        primary_running_capacity: Value::Unknown,
        ..planned
    });
    (planned, replace)
}

/// `tls = "auto"` in the zone this create makes: ACM validates through public DNS, and the zone
/// answers only once the user delegates the name to its name servers, which exist only after
/// the create. An update (the zone delegated meanwhile) may turn it on.
pub fn create_refusals(planned: &State) -> Vec<(AttributePath, String)> {
    if !(auto_tls(planned) && planned.hosted_zone_id.is_null()) {
        return Vec::new();
    }
    vec![(
        AttributePath::new("tls"),
        "`auto` validates the certificates by DNS, through a zone that answers publicly. Without `hosted_zone_id` this apply creates the zone, which answers only once you delegate `domain_name` to its name servers, and those exist only after it: create the system with `tls = \"off\"`, delegate the name to the `name_servers` it outputs, then set `tls = \"auto\"` (an update in place, which obtains the certificates). Or give `hosted_zone_id`, a zone that answers already.".into(),
    )]
}

/// The `session_table` settings whose change replaces the table (DynamoDB cannot convert a
/// table, nor change a strong one's Regions), as the table's own attributes. A state from before
/// the block held an eventually consistent table.
pub fn table_replaced(prior: &State, planned: &State) -> Vec<AttributePath> {
    let (was, will) = (table_settings_block(prior), table_settings_block(planned));
    let was_consistency = was.consistency.clone().or(values::string(EVENTUAL));
    let mut replaced = Vec::new();
    if will.consistency.is_unknown() || was_consistency != will.consistency {
        replaced.push(AttributePath::new("consistency"));
    } else if strong_table(prior) && was.witness_region != will.witness_region {
        replaced.push(AttributePath::new("witness_region"));
    }
    replaced
}

/// A table's attribute path as this resource's: in the `session_table` block.
fn in_block(path: AttributePath) -> AttributePath {
    match path.steps.first() {
        Some(AttributePathStep::Attribute(attr)) => {
            AttributePath::new("session_table").attribute(attr.clone())
        }
        _ => path,
    }
}

/// A table replacement that loses its items, refused unless `session_table.allow_data_loss`.
pub fn table_refusals(prior: &State, planned: &State) -> Vec<(AttributePath, String)> {
    let table = table_config(planned);
    SessionTable::plan_refusals(None, &table, &table_replaced(prior, planned))
        .into_iter()
        .map(|(path, why)| (in_block(path), why))
        .collect()
}

/// The health check replacement warning of the DNS part, on this resource's attributes.
pub fn warnings(prior: &State, planned: &State) -> Vec<(AttributePath, String)> {
    let mut notes = DnsFailover::plan_warnings(&dns_prior(prior), &dns_prior(planned));
    match (prior.active_region.as_ref_option(), planned.active_region.as_ref_option()) {
        (Some(before), Some(after)) if before != after && Role::parse(after) == Some(Role::Standby) => notes.push((
            AttributePath::new("active_region"),
            format!("planned failover: the standby is first scaled to the primary's live capacity ({}), keeps its minimum there until failback, and must have healthy targets before the weights move to it.", if only_failing_over(prior, planned) {
                "primary_running_capacity, as the last read found it: nothing else changes, so the apply makes no request to the primary region"
            } else {
                "what Auto Scaling runs there now"
            }),
        )),
        (Some(before), Some(after)) if before != after => notes.push((
            AttributePath::new("active_region"),
            "failback: the primary must have healthy targets before the weights move back; the standby is scaled down to its own desired capacity afterwards.".into(),
        )),
        _ => {}
    }
    notes.extend(
        SessionTable::replace_warnings(&table_replaced(prior, planned))
            .into_iter()
            .map(|(path, why)| (in_block(path), why)),
    );
    notes
}

#[cfg(test)]
mod tests {
    use super::super::desired::{Capacity, Desired};
    use super::super::fixtures::{config, error_paths};
    use super::*;

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
        let standby_stack = want.stack(
            Role::Standby,
            Some("arn:aws:iam::1:instance-profile/ec2-prod"),
            Some(Capacity { min: 3, desired: 3 }),
        );
        assert_eq!(standby_stack.min_size, 3);
        assert_eq!(standby_stack.desired_capacity, 3);
        assert_eq!(
            standby_stack.instance_profile_arn.as_deref(),
            Some("arn:aws:iam::1:instance-profile/ec2-prod")
        );
        assert_eq!(
            standby_stack.instance_role_name, None,
            "the composite owns the role"
        );
        assert_eq!(want.table.want.replica_regions, ["us-east-2"]);
    }

    fn with_table(consistency: &str, witness: Option<&str>, allow: bool) -> State {
        let mut c = config();
        c.session_table = Value::Value(SessionTableSettings {
            consistency: values::string(consistency),
            witness_region: witness.map_or(Value::Null, values::string),
            allow_data_loss: Value::Value(allow),
        });
        c
    }

    /// A strong table goes to the table part with its witness, and makes no ReplicationLatency
    /// alarm; the default stays eventual, with the alarm.
    #[test]
    fn a_strong_session_table_reaches_the_table_part_and_drops_the_latency_alarm() {
        let (eventual, _) = plan(&config(), None, &Tags::new());
        assert_eq!(
            table_settings_block(&eventual).consistency,
            values::string("eventual")
        );
        assert!(dns_config(&eventual, Role::ALL.map(|_| Value::Unknown))
            .table_name
            .is_value());
        let (strong, _) = plan(
            &with_table("strong", Some("us-west-2"), false),
            None,
            &Tags::new(),
        );
        let table = table_config(&strong);
        assert_eq!(table.consistency, values::string("strong"));
        assert_eq!(table.witness_region, values::string("us-west-2"));
        assert!(dns_config(&strong, Role::ALL.map(|_| Value::Unknown))
            .table_name
            .is_null());
    }

    /// Changing the consistency (or a strong table's witness) of a running system replaces the
    /// table: refused on `session_table.<attribute>` unless `allow_data_loss`, then warned about;
    /// a prior state from before the block counts as eventual.
    #[test]
    fn a_table_change_that_loses_the_items_needs_allow_data_loss() {
        let (prior, _) = plan(&config(), None, &Tags::new());
        let mut before_the_block = prior.clone();
        before_the_block.session_table = Value::Null;
        let (same, _) = plan(&config(), Some(&before_the_block), &Tags::new());
        assert_eq!(table_replaced(&before_the_block, &same), []);

        let (strong, _) = plan(
            &with_table("strong", Some("us-west-2"), false),
            Some(&prior),
            &Tags::new(),
        );
        let refused = table_refusals(&prior, &strong);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0.to_string(), "session_table.consistency");
        let (allowed, _) = plan(
            &with_table("strong", Some("us-west-2"), true),
            Some(&prior),
            &Tags::new(),
        );
        assert!(table_refusals(&prior, &allowed).is_empty());
        assert!(warnings(&prior, &allowed)
            .iter()
            .any(
                |(path, why)| path.to_string() == "session_table.consistency"
                    && why.contains("Every item it holds")
            ));

        let (moved, _) = plan(
            &with_table("strong", Some("us-east-1"), false),
            Some(&allowed),
            &Tags::new(),
        );
        let refused = table_refusals(&allowed, &moved);
        assert_eq!(refused[0].0.to_string(), "session_table.witness_region");
    }

    /// `auto` in a zone the create makes is refused on create only, on `tls`; with the user's
    /// zone, or `off`, nothing is.
    #[test]
    fn tls_auto_in_a_zone_this_create_makes_is_refused_on_create() {
        let mut c = config();
        c.tls = values::string(TLS_AUTO);
        let (planned, _) = plan(&c, None, &Tags::new());
        let refused = create_refusals(&planned);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0.to_string(), "tls");
        assert!(refused[0]
            .1
            .contains("create the system with `tls = \"off\"`"));
        c.hosted_zone_id = values::string("Z123");
        assert_eq!(create_refusals(&plan(&c, None, &Tags::new()).0), []);
        let mut off = config();
        off.tls = values::string(TLS_OFF);
        assert_eq!(create_refusals(&plan(&off, None, &Tags::new()).0), []);
        assert_eq!(create_refusals(&plan(&config(), None, &Tags::new()).0), []);
    }

    /// A given zone makes `tls` `auto`: HTTPS, checked over HTTPS, with a certificate per
    /// region and the validation record among the parts; a certificate per region of the
    /// user's, or no zone, keeps the provider out of it.
    #[test]
    fn a_given_zone_turns_tls_on_unless_the_regions_bring_certificates() {
        let mut c = config();
        c.hosted_zone_id = values::string("Z123");
        let (planned, _) = plan(&c, None, &Tags::new());
        assert_eq!(planned.tls, values::string(TLS_AUTO));
        assert!(auto_tls(&planned));
        assert_eq!(
            planned.application_url,
            values::string("https://trading-prod.tap-test.net")
        );
        let check = planned.health_check.as_ref_option().expect("health check");
        assert_eq!(check.protocol, values::string("HTTPS"));
        let keys = part_keys(&planned);
        for key in [
            "primary.certificate",
            "standby.certificate",
            VALIDATION_RECORD_PART,
        ] {
            assert!(keys.contains(key), "{key} not in {keys:?}");
        }
        assert!(region_settings(&planned, Role::Primary)
            .certificate_arn
            .is_null());

        let (plain, _) = plan(&config(), None, &Tags::new());
        assert_eq!(plain.tls, values::string(TLS_OFF));
        assert!(!part_keys(&plain).contains("primary.certificate"));
        c.tls = values::string(TLS_OFF);
        let (off, _) = plan(&c, None, &Tags::new());
        assert!(!auto_tls(&off));
        assert_eq!(
            off.application_url,
            values::string("http://trading-prod.tap-test.net")
        );
    }

    /// A prior state of the fixture's system with every part recorded, and its parts.
    fn recorded_prior() -> (State, Tags) {
        let (first, _) = plan(&config(), None, &Tags::new());
        let mut prior = first.clone();
        let parts: Tags = part_keys(&first)
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
        (prior, parts)
    }

    #[test]
    fn a_missing_part_makes_only_what_depends_on_it_unknown() {
        let (mut prior, mut parts) = recorded_prior();
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
    fn only_a_planned_failover_of_a_complete_system_is_one() {
        let (prior, mut parts) = recorded_prior();
        let (unchanged, _) = plan(&config(), Some(&prior), &Tags::new());
        let prior = unchanged;
        let mut moved = config();
        moved.active_region = values::string("standby");
        let (planned, _) = plan(&moved, Some(&prior), &Tags::new());
        assert!(only_failing_over(&prior, &planned));
        assert!(!only_failing_over(&planned, &prior), "a failback is not");

        let mut more = moved.clone();
        more.environment = values::string("staging");
        let (planned, _) = plan(&more, Some(&prior), &Tags::new());
        assert!(!only_failing_over(&prior, &planned), "another change too");

        parts.insert("standby.asg".into(), String::new());
        let mut incomplete = prior.clone();
        incomplete.parts = values::map(&parts);
        let (planned, _) = plan(&moved, Some(&incomplete), &Tags::new());
        assert!(!only_failing_over(&incomplete, &planned), "a part missing");
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
