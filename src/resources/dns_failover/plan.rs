//! Plan mapping for `tap_dns_failover`: defaults, and what an update replaces.

use tf_provider::value::Value;
use tf_provider::AttributePath;

use super::desired::{AlarmTopic, Desired, TopicArns};
use super::schema::{self, Endpoint, HealthCheck, State};
use crate::aws::{failover_switch, switch_checks};
use crate::role::Role;
use crate::tags::{Tags, DEFAULT_ENVIRONMENT};
use crate::tf::number::Number;
use crate::tf::values::{self, known_list};

const DEFAULT_PATH: &str = "/health";
const DEFAULT_INTERVAL: i64 = 10;
const DEFAULT_THRESHOLD: i64 = 3;
const DEFAULT_PERIOD: i64 = 60;
const DEFAULT_EVALUATION_PERIODS: i64 = 3;
const DEFAULT_LATENCY_MS: i64 = 60_000;

pub(super) fn number(v: i64) -> Value<Number> {
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
    // Further standbys' topics are known while the same standbys are, and all exist.
    let same_standbys = kept.is_some_and(|k| standby_regions(k) == standby_regions(config));
    planned.standby_topic_arns = match kept.map(|k| &k.standby_topic_arns) {
        Some(map) if same_standbys => match values::known_map(map) {
            Some(arns) if arns.values().all(|arn| !arn.is_empty()) => map.clone(),
            _ => Value::Unknown,
        },
        _ => Value::Unknown,
    };
    planned.standby_topic_key_arns = standby_topic_keys(config, kept.filter(|_| same_standbys));
    // The us-east-1 topic exists only while no stack is there; null otherwise, as in older state.
    let primary_region = endpoint_of(config, Role::Primary).and_then(|e| e.region.as_ref_option());
    (
        planned.health_check_topic_arn,
        planned.health_check_topic_key_arn,
    ) = match (primary_region, standby_regions(config)) {
        (Some(p), Some(s))
            if !AlarmTopic::all(p, &s.iter().map(String::as_str).collect::<Vec<_>>())
                .contains(&AlarmTopic::HealthCheck) =>
        {
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
    // Except the switch check on another routing control (or none): a new check.
    planned.switch_health_check_id = match kept {
        Some(k) if k.switch_routing_control_arn == config.switch_routing_control_arn => {
            carried(|s| &s.switch_health_check_id)
        }
        _ => Value::Unknown,
    };
    planned.record_health_check_id = carried(|s| &s.record_health_check_id);
    let switch_command = |on: bool| match (
        &config.switch_routing_control_arn,
        config.environment_suffix.as_ref_option(),
        endpoint_of(config, Role::Standby).and_then(|e| e.region.as_ref_option()),
    ) {
        (Value::Value(arn), _, _) => {
            values::string(switch_checks::routing_control_command(arn, on))
        }
        (Value::Null, Some(suffix), Some(region)) => values::string(failover_switch::command(
            region,
            suffix,
            if on {
                failover_switch::RELEASED
            } else {
                failover_switch::THROWN
            },
        )),
        _ => Value::Unknown,
    };
    planned.break_glass_command = switch_command(false);
    planned.release_command = switch_command(true);
    let desired = Desired::from_state(&planned, default_tags);
    planned.tags_all = desired
        .as_ref()
        .map_or(Value::Unknown, |d| values::map(&d.health_check_tags()));
    // The standbys' chain aliases names of the zone: known once the zone is.
    planned.records = match (
        &desired,
        planned.record_health_check_id.as_ref_option(),
        planned.zone_id.as_ref_option(),
    ) {
        (Some(d), Some(id), zone) if zone.is_some() || d.more_standbys.is_empty() => {
            values::map(&d.record_summaries(zone.map_or("", String::as_str), id))
        }
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

/// The topics' ARNs, when every one the state needs is known: the first standby's as
/// `standby_topic_arn` has it, further standbys' by region.
fn topic_arns(state: &State) -> Option<TopicArns> {
    let first = state.standby_topic_arn.as_ref_option()?.clone();
    let further: Vec<String> = standby_regions(state)?.into_iter().skip(1).collect();
    let by_region = match further.is_empty() {
        true => Default::default(),
        false => values::known_map(&state.standby_topic_arns)?,
    };
    let further = further.iter().map(|region| by_region.get(region).cloned());
    let standbys = std::iter::once(Some(first))
        .chain(further)
        .collect::<Option<Vec<_>>>()?;
    Some(TopicArns {
        primary: state.primary_topic_arn.as_ref_option()?.clone(),
        standbys,
        health_check: match &state.health_check_topic_arn {
            Value::Unknown => return None,
            other => other.as_ref_option().cloned(),
        },
    })
}

/// Each standby's topic key by region: the user's where given, else the one a prior apply
/// recorded while it is still in use (a key the user took away is replaced); unknown otherwise.
fn standby_topic_keys(config: &State, kept: Option<&State>) -> values::StringMap {
    let recorded = kept
        .and_then(|k| values::known_map(&k.standby_topic_key_arns))
        .unwrap_or_default();
    let users_before: Vec<&String> = kept
        .into_iter()
        .flat_map(schema::standbys)
        .filter_map(|s| s.as_ref_option()?.kms_key_arn.as_ref_option())
        .collect();
    let mut keys = crate::tags::Tags::new();
    for standby in schema::standbys(config) {
        let Some((region, users)) = standby
            .as_ref_option()
            .and_then(|e| Some((e.region.as_ref_option()?, &e.kms_key_arn)))
        else {
            return Value::Unknown;
        };
        let key = match users {
            Value::Value(key) => key.clone(),
            Value::Unknown => return Value::Unknown,
            Value::Null => match recorded.get(region) {
                Some(key) if !key.is_empty() && !users_before.contains(&key) => key.clone(),
                _ => return Value::Unknown,
            },
        };
        keys.insert(region.clone(), key);
    }
    values::map(&keys)
}

/// The primary's block, or the first standby's.
pub(super) fn endpoint_of(state: &State, role: Role) -> Option<&Endpoint> {
    match role {
        Role::Primary => state.primary.as_ref_option(),
        Role::Standby => schema::standbys(state).next()?.as_ref_option(),
    }
}

/// Every standby's region, in order; `None` while one is unknown.
fn standby_regions(state: &State) -> Option<Vec<String>> {
    schema::standbys(state)
        .map(|s| s.as_ref_option()?.region.as_ref_option().cloned())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::super::desired::METRICS_REGION;
    use super::super::fixtures::{applied, arns, config, endpoint};
    use super::super::schema::one_standby;
    use super::*;
    use crate::aws::switch_checks::{Kind as SwitchCheckKind, Spec as SwitchCheckSpec};
    use crate::tf::number::whole;
    use crate::tf::values::known_map;

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
        let records = want.records("Z1", "hc-1");
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
            want.switch_checks(),
            [(
                SwitchCheckKind::Switch(None),
                SwitchCheckSpec::Alarm {
                    region: "us-east-2".into(),
                    name: "failover-switch-prod".into()
                }
            )]
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
                .record_summaries("Z1", "hc-1"),
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

    #[test]
    fn a_routing_control_replaces_only_the_switch_check_and_drops_the_switch_alarm() {
        let arn = "arn:aws:route53-recovery-control::111122223333:controlpanel/p/routingcontrol/c";
        let (first, _) = plan(&config(), None, &Tags::new());
        let prior = applied(&first);
        let mut with_control = config();
        with_control.switch_routing_control_arn = values::string(arn);
        let (planned, replace) = plan(&with_control, Some(&prior), &Tags::new());
        assert!(replace.is_empty(), "nothing is replaced");
        assert_eq!(planned.health_check_id, prior.health_check_id);
        assert_eq!(planned.record_health_check_id, prior.record_health_check_id);
        assert!(planned.switch_health_check_id.is_unknown());
        assert_eq!(
            planned.break_glass_command,
            values::string(switch_checks::routing_control_command(arn, false))
        );
        assert!(known_map(&planned.alarms)
            .unwrap()
            .keys()
            .all(|name| !name.starts_with("failover-switch")));
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(
            want.switch_checks(),
            [(
                SwitchCheckKind::Switch(None),
                SwitchCheckSpec::RoutingControl { arn: arn.into() }
            )]
        );
        // Applied, the same configuration plans nothing new.
        let (again, _) = plan(&with_control, Some(&applied(&planned)), &Tags::new());
        assert!(!again.switch_health_check_id.is_unknown());
    }

    /// The switch's alarm lives in the standby region, so validation may accept only regions
    /// whose alarms Route 53 can follow (AlarmIdentifier `Region`).

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
        moved.standby = one_standby(endpoint("us-west-2", "standby"));
        moved.domain_name = values::string("other.tap-test.net");
        let (_, replace) = plan(&moved, Some(&prior), &Tags::new());
        let replace: Vec<String> = replace.iter().map(ToString::to_string).collect();
        assert_eq!(replace, ["domain_name", "standby.region"]);
    }
}
