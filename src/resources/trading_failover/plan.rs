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
    dns.standby_topic_arns = prior.standby_topic_arns.clone();
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
pub fn recorded_part(prior: &State, key: &str) -> Value<String> {
    known_map(&prior.parts)
        .and_then(|parts| parts.get(key).cloned())
        .map_or(Value::Null, values::string)
}

/// A regional stack's configuration as a state's apply served it: with the certificate
/// `tls = "auto"` recorded in `parts`.
fn served_stack(state: &State, role: Role) -> crate::resources::regional_stack::schema::State {
    let mut stack = stack_config(state, role);
    if auto_tls(state) {
        stack.certificate_arn = recorded_part(state, &certificate_part(role.as_str()));
    }
    stack
}

/// The load balancers recorded in a state's parts (each as unknown where any of it is not).
pub fn prior_endpoints(state: &State) -> PerRegion<Value<Endpoint>> {
    let parts = known_map(&state.parts).unwrap_or_default();
    let names = known_map(&state.standby_alb_dns_names).unwrap_or_default();
    let endpoint = |region: Value<String>, prefix: &str, dns_name: Option<&String>| {
        let get = |key: &str| {
            parts
                .get(&format!("{prefix}.{key}"))
                .filter(|v| !v.is_empty())
        };
        match (
            &region,
            dns_name.filter(|d| !d.is_empty()),
            get("alb_zone_id"),
            get("alb"),
            get("target_group"),
        ) {
            (Value::Value(region), Some(dns), Some(zone), Some(alb), Some(tg)) => {
                Value::Value(Endpoint {
                    region: values::string(region.clone()),
                    alb_dns_name: values::string(dns.clone()),
                    alb_zone_id: values::string(zone.clone()),
                    alb_arn: values::string(alb.clone()),
                    target_group_arn: values::string(tg.clone()),
                    kms_key_arn: Value::Null,
                })
            }
            _ => unknown_endpoint(region),
        }
    };
    let additional = additional_standbys(state).into_iter().map(|block| {
        let region = block.region;
        let prefix = region
            .as_ref_option()
            .map_or(String::new(), |r| additional_prefix(r));
        let dns_name = region.as_ref_option().and_then(|r| names.get(r));
        endpoint(region.clone(), &prefix, dns_name)
    });
    PerRegion {
        primary: endpoint(
            region_of(state, Role::Primary),
            Role::Primary.as_str(),
            state.primary_alb_dns_name.as_ref_option(),
        ),
        standbys: std::iter::once(endpoint(
            region_of(state, Role::Standby),
            Role::Standby.as_str(),
            state.standby_alb_dns_name.as_ref_option(),
        ))
        .chain(additional)
        .collect(),
    }
}

/// The load balancers of `planned`'s regions as `prior` recorded them; unknown in a region
/// `prior` has none in (a standby added).
fn endpoints_recorded_for(planned: &State, prior: &State) -> PerRegion<Value<Endpoint>> {
    let PerRegion { primary, standbys } = prior_endpoints(prior);
    let recorded: Vec<Value<Endpoint>> = std::iter::once(primary).chain(standbys).collect();
    regions(planned).map(|region| {
        recorded
            .iter()
            .find(|e| matches!(e, Value::Value(e) if e.region == region))
            .cloned()
            .unwrap_or_else(|| unknown_endpoint(region))
    })
}

/// The parts of one region's stack, after its prefix in `parts`.
const STACK_PARTS: [&str; 10] = [
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
];

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
    if health_check_topic_needed(state) {
        keys.insert(HEALTH_CHECK_TOPIC.to_owned());
        keys.insert(format!("{HEALTH_CHECK_TOPIC}_key"));
    }
    for block in additional_standby_blocks(state) {
        let Value::Value(region) = &block.region else {
            continue;
        };
        let prefix = additional_prefix(region);
        for part in STACK_PARTS {
            keys.insert(format!("{prefix}.{part}"));
        }
        if builds_nat(&block) {
            keys.insert(format!("{prefix}.nat"));
        }
        keys.insert(format!("table.replica.{region}"));
        keys.insert(format!("dns.standby_topic.{region}"));
        keys.insert(format!("dns.standby_topic_key.{region}"));
        if auto_tls(state) {
            keys.insert(certificate_part(&prefix));
        }
    }
    for role in Role::ALL {
        for part in STACK_PARTS {
            keys.insert(format!("{role}.{part}"));
        }
        if builds_nat(&region_settings(state, role)) {
            keys.insert(format!("{role}.nat"));
        }
        if auto_tls(state) {
            keys.insert(certificate_part(role.as_str()));
        }
    }
    if auto_tls(state) {
        keys.insert(VALIDATION_RECORD_PART.to_owned());
    }
    keys
}

/// Whether no region is us-east-1, where the health-check alarm lives: it then has a topic of
/// its own there.
pub fn health_check_topic_needed(state: &State) -> bool {
    let PerRegion { primary, standbys } = regions(state);
    let Some(primary) = primary.as_ref_option() else {
        return false;
    };
    let Some(standbys) = standbys
        .iter()
        .map(|r| r.as_ref_option().map(String::as_str))
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    AlarmTopic::all(primary, &standbys).contains(&AlarmTopic::HealthCheck)
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

/// Whether `planned` is a planned failover (`active_region` from the primary to a standby, the
/// first or a further one) of a system whose every part a prior apply recorded, and nothing
/// else: only the records and the alarms, which follow `active_region`, differ besides.
pub fn only_failing_over(prior: &State, planned: &State) -> bool {
    let from_primary = prior
        .active_region
        .as_ref_option()
        .is_none_or(|a| Role::parse(a) == Some(Role::Primary));
    let to_standby = planned.active_region.as_ref_option().is_some_and(|a| {
        Role::parse(a) == Some(Role::Standby)
            || standby_regions(planned)
                .iter()
                .any(|r| r.as_ref_option() == Some(a))
    });
    let mut rest = planned.clone();
    rest.active_region = prior.active_region.clone();
    rest.records = prior.records.clone();
    rest.alarms = prior.alarms.clone();
    from_primary
        && to_standby
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
                .map(|p| recorded_part(p, &certificate_part(role.as_str())))
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
    // No blocks is an empty list, as Terraform sends it.
    planned.additional_standby = match &config.additional_standby {
        Value::Value(_) | Value::Null => Value::Value(
            planned_additional(config, prior, default_tags)
                .into_iter()
                .map(Value::Value)
                .collect(),
        ),
        other => other.clone(),
    };
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
        Some(p) => endpoints_recorded_for(&planned, p),
        None => regions(&planned).map(unknown_endpoint),
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
    planned.standby_topic_arns = dns.standby_topic_arns.clone();
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
    // Every standby's load balancer name, while each of them exists and no standby is added or
    // removed.
    let standby_albs: Vec<String> = std::iter::once("standby.alb".to_owned())
        .chain(additional_standbys(&planned).iter().filter_map(|b| {
            Some(format!(
                "{}.alb",
                additional_prefix(b.region.as_ref_option()?)
            ))
        }))
        .collect();
    planned.standby_alb_dns_names = match unchanged {
        Some(p)
            if standby_regions(p) == standby_regions(&planned)
                && standby_albs
                    .iter()
                    .all(|part| prior_parts.get(part).is_some_and(|id| !id.is_empty()))
                && known_map(&p.standby_alb_dns_names).is_some() =>
        {
            p.standby_alb_dns_names.clone()
        }
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

/// The `additional_standby` blocks as their stacks plan them: a standby the prior state has
/// (same region) keeps what its stack has, and the network it was given by default (another
/// standby removed does not move it).
fn planned_additional(config: &State, prior: Option<&State>, default_tags: &Tags) -> Vec<Region> {
    let prior_blocks = prior.map(additional_standbys).unwrap_or_default();
    let mut config = config.clone();
    config.additional_standby = Value::Value(
        additional_standbys(&config)
            .into_iter()
            .map(|mut block| {
                let before = prior_blocks.iter().find(|b| b.region == block.region);
                if let Some(before) = before.filter(|_| block.vpc_cidr.is_null()) {
                    block.vpc_cidr = before.vpc_cidr.clone();
                    block.public_subnets = block.public_subnets.or(before.public_subnets.clone());
                    block.private_subnets =
                        block.private_subnets.or(before.private_subnets.clone());
                }
                Value::Value(block)
            })
            .collect(),
    );
    let config = &config;
    let prior_stacks = prior.map(additional_stack_configs).unwrap_or_default();
    additional_standby_blocks(config)
        .into_iter()
        .map(|block| {
            let stack_config = stack_config_of(config, Role::Standby, block.clone());
            let prior_stack = prior_stacks
                .iter()
                .find(|p| p.region == stack_config.region);
            let (stack, _) = RegionalStack::plan(&stack_config, prior_stack, default_tags);
            Region {
                kms_key_arn: block.kms_key_arn,
                certificate_arn: block.certificate_arn,
                ..region_from_stack(&stack)
            }
        })
        .collect()
}

/// A further standby's change its stack cannot make in place (its network): refused, since
/// replacing the stack would replace the whole system. Removing the block and adding it back
/// replaces that standby alone.
pub fn additional_refusals(prior: &State, planned: &State) -> Vec<(AttributePath, String)> {
    let prior_stacks = additional_stack_configs(prior);
    let mut refused = Vec::new();
    for (i, stack_config) in additional_stack_configs(planned).into_iter().enumerate() {
        let Some(prior_stack) = prior_stacks
            .iter()
            .find(|p| p.region == stack_config.region)
        else {
            continue;
        };
        let (_, replace) = RegionalStack::plan(&stack_config, Some(prior_stack), &Tags::new());
        for path in replace {
            let Some(AttributePathStep::Attribute(attr)) = path.steps.first() else {
                continue;
            };
            if attr == "environment_suffix" {
                continue;
            }
            refused.push((
                AttributePath::new("additional_standby").index(i as i64).attribute(attr.clone()),
                format!("changing a further standby's `{attr}` needs a new network for it, which would replace the whole system: remove this `additional_standby` block in one apply (only its region's parts are deleted) and add it back, changed, in the next."),
            ));
        }
    }
    refused
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
    } else if strong_table(prior) && standby_regions(prior) != standby_regions(planned) {
        // An MRSC group's membership is frozen ("Cannot add replicas to a global table with
        // strong MultiRegionConsistency"): a standby added or removed remakes the table.
        replaced.push(AttributePath::new("replica_regions"));
    }
    replaced
}

/// A table's attribute path as this resource's: in the `session_table` block, or the
/// `additional_standby` blocks that make its replica list.
fn in_block(path: AttributePath) -> AttributePath {
    match path.steps.first() {
        Some(AttributePathStep::Attribute(attr)) if attr == "replica_regions" => {
            AttributePath::new("additional_standby")
        }
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
        (Some(before), Some(after)) if before != after && Role::parse(after) != Some(Role::Primary) => notes.push((
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
    let replaced = table_replaced(prior, planned);
    notes.extend(standby_changes(prior, planned, replaced.is_empty()));
    notes.extend(
        SessionTable::replace_warnings(&replaced)
            .into_iter()
            .map(|(path, why)| (in_block(path), why)),
    );
    notes
}

/// What adding or removing a further standby does, and that nothing else's stack is touched:
/// the plan shows only `parts` becoming unknown. `replica`: whether the table gains or loses a
/// replica (a strongly consistent one is remade instead, which its own warning says).
fn standby_changes(prior: &State, planned: &State, replica: bool) -> Vec<(AttributePath, String)> {
    let regions = |s: &State| -> Vec<String> {
        (additional_standbys(s).into_iter())
            .filter_map(|b| b.region.as_ref_option().cloned())
            .collect()
    };
    let (before, after) = (regions(prior), regions(planned));
    let (with_replica, and_replica) = match replica {
        true => (
            " a replica of the session table (an UpdateTable of the home table),",
            " and its replica of the session table",
        ),
        false => ("", ""),
    };
    let added = after
        .iter()
        .enumerate()
        .filter(|(_, r)| !before.contains(r));
    let mut notes: Vec<(AttributePath, String)> = added
        .map(|(i, region)| {
            (
                AttributePath::new("additional_standby").index(i as i64).attribute("region"),
                format!("adding standby {region}: its regional stack (network, load balancer, instances on the shared instance role, whose policy gains its region),{with_replica} its alarm topic and alarms (its replication-latency alarm in the primary region), its failover switch alarm and health check (a child of the record check), and its place in Route 53's chain of standbys. No other region's stack is touched."),
            )
        })
        .collect();
    notes.extend(before.iter().filter(|r| !after.contains(r)).map(|region| {
        (
            AttributePath::new("additional_standby"),
            format!("removing standby {region}: its place in Route 53's chain, its failover switch alarm and health check, its alarms and topic{and_replica} go first; then its regional stack, drained only if it took traffic. No other region's stack is touched."),
        )
    }));
    notes
}

#[cfg(test)]
mod tests {
    use super::super::desired::{Capacity, Desired};
    use super::super::fixtures::{config, error_paths};
    use super::*;

    #[test]
    fn further_standbys_take_free_networks_and_reach_the_table_and_dns() {
        let mut c = config();
        c.primary = Value::Value(Region {
            vpc_cidr: values::string("10.2.0.0/16"),
            public_subnets: values::list(&["10.2.1.0/24".into(), "10.2.2.0/24".into()]),
            private_subnets: values::list(&["10.2.11.0/24".into(), "10.2.12.0/24".into()]),
            ..Default::default()
        });
        let block = |region: &str| {
            Value::Value(Region {
                region: values::string(region),
                ..Default::default()
            })
        };
        c.additional_standby = Value::Value(vec![block("us-west-2"), block("eu-west-1")]);
        let (planned, replace) = plan(&c, None, &Tags::new());
        assert!(replace.is_empty());
        let blocks = additional_standbys(&planned);
        let cidrs: Vec<_> = blocks.iter().map(|b| b.vpc_cidr.clone()).collect();
        assert_eq!(
            cidrs,
            [values::string("10.3.0.0/16"), values::string("10.4.0.0/16")],
            "counted from 10.2, which the primary has (10.1 is the standby's)"
        );
        assert_eq!(
            blocks[0].public_subnets,
            values::list(&["10.3.1.0/24".into(), "10.3.2.0/24".into()])
        );
        assert_eq!(
            table_config(&planned).replica_regions,
            Value::Value(vec![
                values::string("us-east-2"),
                values::string("us-west-2"),
                values::string("eu-west-1"),
            ])
        );
        let dns = dns_config(&planned, regions(&planned).map(unknown_endpoint));
        let regions: Vec<_> = crate::resources::dns_failover::schema::standbys(&dns)
            .map(|e| e.as_ref_option().map(|e| e.region.clone()))
            .collect();
        assert_eq!(
            regions,
            ["us-east-2", "us-west-2", "eu-west-1"].map(|r| Some(values::string(r)))
        );
        let keys = part_keys(&planned);
        for key in [
            "standby.us-west-2.alb",
            "standby.eu-west-1.nat",
            "table.replica.eu-west-1",
        ] {
            assert!(keys.contains(key), "{key}");
        }
        let want = Desired::from_state(&planned, &Tags::new()).expect("derivable");
        assert_eq!(want.additional_regions(), ["us-west-2", "eu-west-1"]);
        assert_eq!(want.additional_stack(1, None).vpc_cidr, "10.4.0.0/16");
    }

    #[test]
    fn a_further_standby_removed_is_deleted_and_one_changed_in_place_is_refused() {
        let mut c = config();
        let block = |region: &str, cidr: Option<&str>| {
            Value::Value(Region {
                region: values::string(region),
                vpc_cidr: cidr.map_or(Value::Null, values::string),
                ..Default::default()
            })
        };
        c.additional_standby =
            Value::Value(vec![block("us-west-2", None), block("eu-west-1", None)]);
        let (prior, _) = plan(&c, None, &Tags::new());
        let mut fewer = c.clone();
        fewer.additional_standby = Value::Value(vec![block("eu-west-1", None)]);
        let (planned, replace) = plan(&fewer, Some(&prior), &Tags::new());
        assert!(
            replace.is_empty(),
            "removing a standby replaces nothing: {replace:?}"
        );
        assert!(additional_refusals(&prior, &planned).is_empty());
        let want = Desired::from_state(&planned, &Tags::new())
            .expect("derivable")
            .removing_standbys_of(&prior);
        let removed: Vec<_> = want
            .removed_standbys
            .iter()
            .map(|s| s.stack.region.clone())
            .collect();
        assert_eq!(removed, ["us-west-2"]);
        assert!(
            !want.removed_standbys[0].served,
            "it took no traffic: no draining"
        );
        let mut active = prior.clone();
        active.active_region = values::string("us-west-2");
        let want = Desired::from_state(&planned, &Tags::new())
            .expect("derivable")
            .removing_standbys_of(&active);
        assert!(
            want.removed_standbys[0].served,
            "failing back from it and removing it at once: its instances drain"
        );
        let mut moved = c.clone();
        moved.additional_standby = Value::Value(vec![
            block("us-west-2", Some("10.9.0.0/16")),
            block("eu-west-1", None),
        ]);
        let (planned, replace) = plan(&moved, Some(&prior), &Tags::new());
        assert!(replace.is_empty(), "{replace:?}");
        let refused: Vec<String> = additional_refusals(&prior, &planned)
            .into_iter()
            .map(|(path, _)| path.to_string())
            .collect();
        assert!(
            refused
                .iter()
                .any(|p| p == "additional_standby[0].vpc_cidr"),
            "{refused:?}"
        );
    }

    /// A strong table's Regions are frozen: adding a further standby (a replica) remakes the
    /// table, refused on `additional_standby` unless `allow_data_loss`.
    #[test]
    fn a_standby_added_to_a_strong_table_remakes_it_only_when_allowed() {
        let mut c = config();
        c.session_table = Value::Value(SessionTableSettings {
            consistency: values::string("strong"),
            witness_region: values::string("us-west-2"),
            ..Default::default()
        });
        let (prior, _) = plan(&c, None, &Tags::new());
        let mut more = c.clone();
        more.session_table = Value::Value(SessionTableSettings {
            consistency: values::string("strong"),
            ..Default::default()
        });
        more.additional_standby = Value::Value(vec![Value::Value(Region {
            region: values::string("us-west-2"),
            ..Default::default()
        })]);
        let (planned, _) = plan(&more, Some(&prior), &Tags::new());
        let refused: Vec<String> = table_refusals(&prior, &planned)
            .into_iter()
            .map(|(path, _)| path.to_string())
            .collect();
        assert_eq!(refused, ["session_table.witness_region"]);
        let mut without_witness_change = prior.clone();
        without_witness_change.session_table = planned.session_table.clone();
        let refused: Vec<String> = table_refusals(&without_witness_change, &planned)
            .into_iter()
            .map(|(path, _)| path.to_string())
            .collect();
        assert_eq!(refused, ["additional_standby"]);
        let mut allowed = more.clone();
        allowed.session_table = Value::Value(SessionTableSettings {
            consistency: values::string("strong"),
            allow_data_loss: Value::Value(true),
            ..Default::default()
        });
        let (planned, _) = plan(&allowed, Some(&without_witness_change), &Tags::new());
        assert!(table_refusals(&without_witness_change, &planned).is_empty());
        assert_eq!(
            table_replaced(&without_witness_change, &planned),
            [AttributePath::new("replica_regions")]
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
        assert!(
            dns_config(&eventual, regions(&eventual).map(|_| Value::Unknown))
                .table_name
                .is_value()
        );
        let (strong, _) = plan(
            &with_table("strong", Some("us-west-2"), false),
            None,
            &Tags::new(),
        );
        let table = table_config(&strong);
        assert_eq!(table.consistency, values::string("strong"));
        assert_eq!(table.witness_region, values::string("us-west-2"));
        assert!(
            dns_config(&strong, regions(&strong).map(|_| Value::Unknown))
                .table_name
                .is_null()
        );
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
        c.additional_standby = Value::Value(vec![Value::Value(Region {
            region: values::string("us-west-2"),
            ..Default::default()
        })]);
        let (further, _) = plan(&c, None, &Tags::new());
        assert!(
            auto_tls(&further),
            "a further standby is served by auto too"
        );
        assert!(part_keys(&further).contains("standby.us-west-2.certificate"));
        c.additional_standby = Value::Null;

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
        recorded_prior_of(&config())
    }

    /// A prior state of the system `c` with every part recorded, and its parts.
    fn recorded_prior_of(c: &State) -> (State, Tags) {
        let (first, _) = plan(c, None, &Tags::new());
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

        // From a standby (here named by its region) is not: a full apply scales back the one it
        // leaves.
        let mut by_region = config();
        by_region.active_region = values::string("us-east-2");
        let (failed_over, _) = plan(&by_region, Some(&prior), &Tags::new());
        let (planned, _) = plan(&moved, Some(&failed_over), &Tags::new());
        assert!(
            !only_failing_over(&failed_over, &planned),
            "standby to standby"
        );

        // To a further standby, named by its region, is.
        let mut three = config();
        three.additional_standby = Value::Value(vec![Value::Value(Region {
            region: values::string("us-west-2"),
            ..Default::default()
        })]);
        let (recorded, _) = recorded_prior_of(&three);
        let (prior, _) = plan(&three, Some(&recorded), &Tags::new());
        three.active_region = values::string("us-west-2");
        let (planned, _) = plan(&three, Some(&prior), &Tags::new());
        assert!(only_failing_over(&prior, &planned), "to a further standby");
    }

    /// Adding a further standby names what it brings, on its block; removing one names what
    /// goes; a strongly consistent table's remaking is left to its own warning.
    #[test]
    fn adding_or_removing_a_further_standby_says_which_parts() {
        let (prior, _) = plan(&config(), None, &Tags::new());
        let mut c = config();
        c.additional_standby = Value::Value(vec![Value::Value(Region {
            region: values::string("us-west-2"),
            ..Default::default()
        })]);
        let (planned, _) = plan(&c, Some(&prior), &Tags::new());
        let notes = warnings(&prior, &planned);
        let added: Vec<_> = (notes.iter())
            .filter(|(_, text)| text.starts_with("adding standby us-west-2: "))
            .collect();
        assert_eq!(added.len(), 1, "{notes:?}");
        assert_eq!(
            added[0].0,
            AttributePath::new("additional_standby")
                .index(0)
                .attribute("region")
        );
        assert!(
            added[0].1.contains("a replica of the session table"),
            "{}",
            added[0].1
        );
        assert!(added[0]
            .1
            .contains("failover switch alarm and health check"));
        let back = warnings(&planned, &prior);
        assert!(
            back.iter()
                .any(|(_, text)| text.starts_with("removing standby us-west-2: ")
                    && text.contains("and its replica of the session table go first")),
            "{back:?}"
        );
        assert!(warnings(&planned, &planned)
            .iter()
            .all(|(_, text)| !text.contains("standby us-west-2")));
        let notes = standby_changes(&prior, &planned, false);
        assert!(!notes[0].1.contains("session table"), "{notes:?}");
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
