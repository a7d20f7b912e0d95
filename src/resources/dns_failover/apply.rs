//! Apply-time work for `tap_dns_failover`: converge the zone, health check, records, topics
//! and alarms to the plan, read them back, and delete them in order.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::try_join_all;
use tf_provider::value::Value;
use tokio::time::Instant;

use super::desired::{record_summary, AlarmTopic, Desired, Recorded, TopicArns, METRICS_REGION};
use super::schema::{HealthCheck, State};
use crate::aws::error::{AwsError, Cause, Context, PartError, PartResult};
use crate::aws::health_check::{self, HealthCheckFacts};
use crate::aws::hosted_zone::{self, ZoneFacts};
use crate::aws::route53::{self};
use crate::aws::standby_chain::{self, ChainRecord};
use crate::aws::switch_checks::{self, Kind};
use crate::aws::wait::{self, remaining};
use crate::aws::{alarms, topic_key, topics, weighted_records};
use crate::configured::Configured;
use crate::resources::steps::step;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::number::Number;
use crate::tf::values;
use aws_sdk_route53::types::ChangeAction;

/// The checks and alarms (`converge_checks`); then the records; then what a replaced health
/// check or a dropped alarm left behind.
pub async fn converge(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let (zone, record_check, stale) = converge_checks(cfg, want).await?;
    let records = converge_records(
        cfg,
        want,
        &zone.id,
        &record_check,
        remaining(deadline),
        wait::MAX_DELAY,
    );
    step("records", "", &["zone", "switch-checks"], records).await?;
    delete_checks(cfg, stale, deadline).await
}

/// Everything but the records, which keep routing as they do: a check replaced here (its
/// protocol changed) is followed by the record check and the alarms before the old one goes.
pub async fn converge_all_but_records(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let (_, _, stale) = converge_checks(cfg, want).await?;
    delete_checks(cfg, stale, deadline).await
}

async fn delete_checks(cfg: &Configured, stale: Vec<String>, deadline: Instant) -> PartResult<()> {
    for check in stale {
        health_check::delete(&cfg.clients.route53, &check, remaining(deadline)).await?;
    }
    Ok(())
}

/// The zone, the health check and the topics at the same time; then the alarms, which need
/// them; then the switch's check (on its alarm) and the record check (on both checks): the
/// zone, the record check's ID and the checks nothing uses any more.
async fn converge_checks(
    cfg: &Configured,
    want: &Desired,
) -> PartResult<(ZoneFacts, String, Vec<String>)> {
    let (zone, (health_check_id, stale_checks), topic_arns) = tokio::try_join!(
        step("zone", "", &[], converge_zone(cfg, want)),
        step("health-check", "", &[], converge_health_check(cfg, want)),
        step(
            "topics",
            "",
            &[],
            try_join_all(
                want.alarm_topics()
                    .into_iter()
                    .map(|topic| converge_topic(cfg, want, topic))
            )
        ),
    )?;
    let topics = TopicArns::of_topics(&want.alarm_topics(), topic_arns);
    let alarms = converge_alarms(cfg, want, &health_check_id, &topics);
    step("alarms", "", &["health-check", "topics"], alarms).await?;
    // Their alarms are gone: the topics of standbys removed may go.
    try_join_all(
        (want.removed_standbys.iter())
            .map(|region| delete_topic(cfg, want, region, AlarmTopic::Standby(0))),
    )
    .await?;
    let switch_checks = converge_switch_checks(cfg, want, &health_check_id);
    let (record_check, stale_switches) =
        step("switch-checks", "", &["alarms"], switch_checks).await?;
    let stale = stale_checks.into_iter().chain(stale_switches).collect();
    Ok((zone, record_check, stale))
}

async fn converge_zone(cfg: &Configured, want: &Desired) -> PartResult<ZoneFacts> {
    let r53 = &cfg.clients.route53;
    match &want.hosted_zone_id {
        Some(id) => hosted_zone::find_by_id(r53, id, &want.suffix)
            .await
            .context(|| format!("reading Route 53 hosted zone {id}"))?
            .ok_or_else(|| PartError {
                action: format!("reading Route 53 hosted zone {id}"),
                cause: Cause::Unexpected("no such hosted zone: check hosted_zone_id".into()),
            }),
        None => hosted_zone::ensure(r53, &want.domain_name, &want.suffix, &want.zone_tags()).await,
    }
}

/// The health check to use, and the older ones to delete once nothing points at them. A
/// check that cannot be changed in place is replaced: create the new one first, so the
/// primary record is never without a health check.
async fn converge_health_check(
    cfg: &Configured,
    want: &Desired,
) -> PartResult<(String, Vec<String>)> {
    let r53 = &cfg.clients.route53;
    let spec = &want.health_check;
    let tags = want.health_check_tags();
    let existing = health_check::list_ours(r53, &want.suffix)
        .await
        .context(|| format!("listing Route 53 health checks of {}", want.suffix))?;
    let keep = existing.iter().find(|c| !c.must_be_replaced_for(spec));
    let id = match keep {
        Some(check) => {
            if !check.matches(spec) {
                health_check::update(r53, check, spec).await?;
            }
            health_check::sync_tags(r53, &check.id, &tags).await?;
            check.id.clone()
        }
        None => health_check::create(r53, spec, &want.suffix, &tags).await?,
    };
    let stale = existing
        .into_iter()
        .map(|c| c.id)
        .filter(|other| *other != id)
        .collect();
    Ok((id, stale))
}

/// The switch's checks (on each standby region's switch alarm, or on the routing control),
/// then the record check on them and the endpoint check; the record check's ID, and the switch
/// checks it no longer uses (one of another type or routing control, replaced, or a removed
/// standby's).
async fn converge_switch_checks(
    cfg: &Configured,
    want: &Desired,
    endpoint_check: &str,
) -> PartResult<(String, Vec<String>)> {
    let r53 = &cfg.clients.route53;
    let existing = switch_checks::list_ours(r53, &want.suffix)
        .await
        .context(|| {
            format!(
                "listing the failover switch's health checks of {}",
                want.suffix
            )
        })?;
    let tags = want.health_check_tags();
    let switches = try_join_all(want.switch_checks().iter().map(|(kind, spec)| {
        switch_checks::ensure(r53, &existing, kind, spec, &want.suffix, &tags)
    }))
    .await?;
    let record = switch_checks::ensure(
        r53,
        &existing,
        &Kind::Primary,
        &want.record_check(endpoint_check, &switches),
        &want.suffix,
        &tags,
    )
    .await?;
    let stale = existing
        .into_iter()
        .filter(|c| c.kind.is_switch() && !switches.contains(&c.id))
        .map(|c| c.id)
        .collect();
    Ok((record, stale))
}

/// The topic's key first (the user's, or one made for the topic), then the topic encrypted
/// with it.
async fn converge_topic(cfg: &Configured, want: &Desired, topic: AlarmTopic) -> PartResult<String> {
    let clients = cfg.clients.regional(want.topic_region(topic));
    let name = want.topic_name(topic);
    let key = match want.topic_user_key(topic) {
        Some(arn) => arn.clone(),
        None => {
            topic_key::ensure(
                &clients.kms,
                &name,
                &want.suffix,
                &want.topic_key_tags(topic),
            )
            .await?
        }
    };
    topics::ensure(
        &clients.sns,
        &name,
        &key,
        &want.topic_tags(topic),
        &want.alarm_emails,
    )
    .await
}

/// What `prior` recorded of `topic`: `single` holds the primary's, the first standby's and the
/// us-east-1 topic's values, `further` the further standbys' by region. `None` where empty.
fn recorded_of(
    want: &Desired,
    topic: AlarmTopic,
    single: [&Value<String>; 3],
    further: &values::StringMap,
) -> Option<String> {
    let [primary, standby, health_check] = single;
    match topic {
        AlarmTopic::Primary => primary.as_ref_option().cloned(),
        AlarmTopic::Standby(0) => standby.as_ref_option().cloned(),
        AlarmTopic::Standby(_) => values::known_map(further)
            .unwrap_or_default()
            .get(want.topic_region(topic))
            .cloned(),
        AlarmTopic::HealthCheck => health_check.as_ref_option().cloned(),
    }
    .filter(|id| !id.is_empty())
}

/// A key read by the ARN last recorded, beside its topic: `(what KMS answered, that ARN)`.
type EarlyKey = Option<(Result<Option<topic_key::KeyFacts>, AwsError>, String)>;

/// The key encrypting the topic, if an alarm topic can use it (enabled, not AWS-managed). The
/// key read `early` serves if it is the one the topic names (by ARN or key ID).
async fn observe_topic_key(
    cfg: &Configured,
    want: &Desired,
    topic: AlarmTopic,
    facts: Option<&topics::TopicFacts>,
    early: EarlyKey,
) -> PartResult<String> {
    let Some(key) = facts.and_then(|t| t.kms_key.as_deref()) else {
        return Ok(String::new());
    };
    let names_it = |arn: &str| arn == key || arn.ends_with(&format!(":key/{key}"));
    let facts = match early {
        Some((Ok(Some(found)), recorded)) if names_it(&recorded) && names_it(&found.arn) => {
            Some(found)
        }
        _ => {
            let kms = &cfg.clients.regional(want.topic_region(topic)).kms;
            topic_key::find_by_id(kms, key).await.context(|| {
                format!(
                    "reading the KMS key of SNS topic {}",
                    want.topic_name(topic)
                )
            })?
        }
    };
    Ok(facts
        .filter(topic_key::KeyFacts::usable)
        .map(|k| k.arn)
        .unwrap_or_default())
}

async fn converge_records(
    cfg: &Configured,
    want: &Desired,
    zone_id: &str,
    health_check_id: &str,
    timeout: Duration,
    longest_delay: Duration,
) -> PartResult<()> {
    let r53 = &cfg.clients.route53;
    let name = &want.domain_name;
    let records = want.records(zone_id, health_check_id);
    let chain = want.chain(zone_id);
    let live = weighted_records::find(r53, zone_id, name)
        .await
        .context(|| format!("reading records {name}"))?;
    let live_chain = find_chain(cfg, zone_id, name, &live, !chain.is_empty()).await?;
    let top_in_place = records.iter().all(|r| live.iter().any(|l| l.same_as(r)));
    let changed: Vec<&ChainRecord> = chain
        .iter()
        .filter(|w| !live_chain.iter().any(|l| l.same_as(w)))
        .collect();
    let stale: Vec<&ChainRecord> = live_chain
        .iter()
        .filter(|l| !chain.iter().any(|w| w.key() == l.key()))
        .collect();
    if top_in_place && changed.is_empty() && stale.is_empty() {
        return Ok(());
    }
    // One batch, so the order never half-moves: the chain's groups deepest first (an alias
    // needs its target), the weighted pair, then groups no longer wanted, nothing aliasing
    // them any more.
    let changes = (standby_chain::deepest_first(changed).into_iter())
        .map(|r| standby_chain::change(ChangeAction::Upsert, r))
        .chain(
            (records.iter().filter(|_| !top_in_place))
                .map(|r| weighted_records::change(ChangeAction::Upsert, name, r)),
        )
        .chain(
            stale
                .into_iter()
                .map(|r| standby_chain::change(ChangeAction::Delete, r)),
        )
        .collect::<Result<Vec<_>, _>>()
        .context(|| format!("writing weighted records {name}"))?;
    let weights: Vec<String> = records
        .iter()
        .map(|r| format!("{} {}", r.set_identifier, r.weight))
        .collect();
    route53::change_and_wait_every(
        r53,
        zone_id,
        changes,
        timeout,
        longest_delay,
        &format!("writing weighted records {name} ({})", weights.join(", ")),
    )
    .await
}

/// The standbys' chain as the zone holds it: read only when one is wanted or the `standby`
/// record still aliases a name of the zone (a system that had several standbys), so a system
/// of two regions makes no request for it.
async fn find_chain(
    cfg: &Configured,
    zone_id: &str,
    name: &str,
    live: &[weighted_records::WeightedRecord],
    wanted: bool,
) -> PartResult<Vec<ChainRecord>> {
    let aliases_zone = live.iter().any(|r| {
        r.set_identifier == Role::Standby.as_str()
            && route53::bare_id(&r.alias_zone_id) == route53::bare_id(zone_id)
    });
    if !wanted && !aliases_zone {
        return Ok(Vec::new());
    }
    standby_chain::find(&cfg.clients.route53, zone_id, name)
        .await
        .context(|| format!("reading the standbys' failover records of {name}"))
}

async fn converge_alarms(
    cfg: &Configured,
    want: &Desired,
    health_check_id: &str,
    topics: &TopicArns,
) -> PartResult<()> {
    let wanted = want
        .alarms(health_check_id, topics)
        .ok_or_else(|| PartError {
            action: format!("creating CloudWatch alarms of stack {}", want.suffix),
            cause: Cause::Unexpected(format!(
                "no SNS topic for the Route 53 health-check alarm in {METRICS_REGION}"
            )),
        })?;
    let wanted_names: BTreeSet<&str> = wanted.iter().map(|(_, a)| a.name.as_str()).collect();
    try_join_all(
        wanted
            .iter()
            .map(|(region, spec)| converge_alarm(cfg, want, region, spec)),
    )
    .await?;
    // An alarm no longer wanted (the table was removed from the configuration, a standby
    // added or removed renamed them).
    let unwanted =
        (want.every_alarm().into_iter()).filter(|(_, name)| !wanted_names.contains(name.as_str()));
    delete_alarms(cfg, unwanted).await
}

/// Deletes the alarms of these names that exist: one look and one delete per region.
async fn delete_alarms(
    cfg: &Configured,
    names: impl IntoIterator<Item = (String, String)>,
) -> PartResult<()> {
    try_join_all(
        by_region(names)
            .into_iter()
            .map(|(region, names)| async move {
                alarms::delete(&cfg.clients.regional(&region).cloudwatch, &names).await
            }),
    )
    .await?;
    Ok(())
}

fn by_region(
    names: impl IntoIterator<Item = (String, String)>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut by_region: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (region, name) in names {
        by_region.entry(region).or_default().push(name);
    }
    by_region
}

async fn converge_alarm(
    cfg: &Configured,
    want: &Desired,
    region: &str,
    spec: &alarms::AlarmSpec,
) -> PartResult<()> {
    // The us-east-1 health-check alarm of a system with no stack there watches the primary.
    let role = if region != want.primary.region && want.standbys().any(|s| s.region == region) {
        Role::Standby
    } else {
        Role::Primary
    };
    let cw = &cfg.clients.regional(region).cloudwatch;
    let live = alarms::find(cw, std::slice::from_ref(&spec.name))
        .await
        .context(|| format!("reading CloudWatch alarm {}", spec.name))?;
    let tags = want.alarm_tags(&spec.name, role);
    match live.first() {
        Some(have) if have.spec == *spec => alarms::sync_tags(cw, &have.arn, &tags)
            .await
            .context(|| format!("tagging CloudWatch alarm {}", spec.name)),
        _ => alarms::put(cw, spec, &tags).await,
    }
}

/// The standby-traffic alarm as `want` has it: the one alarm that follows `active_region`.
fn standby_traffic_alarm(
    want: &Desired,
    recorded: &Recorded,
) -> PartResult<(String, alarms::AlarmSpec)> {
    let name = want.active_traffic_alarm();
    want.alarms(&recorded.health_check_id, &recorded.topics)
        .into_iter()
        .flatten()
        .find(|(_, spec)| spec.name == name)
        .ok_or_else(|| PartError {
            action: format!("updating CloudWatch alarm {name}"),
            cause: Cause::Unexpected("no SNS topic recorded for it".into()),
        })
}

/// A planned move of `active_region` alone: the standby-traffic alarm (silenced while the
/// standby is active), then the weights. Only Route 53 and the standby region are called.
pub async fn converge_move(
    cfg: &Configured,
    want: &Desired,
    recorded: &Recorded,
    timeout: Duration,
) -> PartResult<()> {
    let (region, alarm) = standby_traffic_alarm(want, recorded)?;
    converge_alarm(cfg, want, &region, &alarm).await?;
    // Polled promptly: a planned failover's apply ends once the change is INSYNC.
    converge_records(
        cfg,
        want,
        &recorded.zone_id,
        &recorded.record_check_id,
        timeout,
        wait::PROMPT_DELAY,
    )
    .await
}

/// What a move changed, as AWS holds it now: the records' summaries (the standbys' chain's
/// too) and the active standby's traffic alarm's (`None` if it is gone).
pub async fn observe_move(
    cfg: &Configured,
    want: &Desired,
    recorded: &Recorded,
) -> PartResult<(Tags, Option<(String, String)>)> {
    let (region, alarm) = standby_traffic_alarm(want, recorded)?;
    let cw = &cfg.clients.regional(&region).cloudwatch;
    let (records, live) = tokio::try_join!(
        async {
            weighted_records::find(&cfg.clients.route53, &recorded.zone_id, &want.domain_name)
                .await
                .context(|| format!("reading records {}", want.domain_name))
        },
        async {
            alarms::find(cw, std::slice::from_ref(&alarm.name))
                .await
                .context(|| format!("reading CloudWatch alarm {}", alarm.name))
        },
    )?;
    let alarm = live.first().map(|a| alarm_summary(&region, a));
    let several = !want.chain(&recorded.zone_id).is_empty();
    let chain = find_chain(cfg, &recorded.zone_id, &want.domain_name, &records, several).await?;
    let mut summaries = record_summaries(&records);
    summaries.extend(chain.iter().map(|r| (r.key(), r.summary())));
    Ok((summaries, alarm))
}

/// The `records` map: each weighted record of ours by its set identifier.
fn record_summaries(live: &[weighted_records::WeightedRecord]) -> Tags {
    live.iter()
        .filter(|r| Role::parse(&r.set_identifier).is_some())
        .map(|r| (r.set_identifier.clone(), record_summary(r)))
        .collect()
}

/// An `alarms` entry: the alarm's name, and its region and settings.
fn alarm_summary(region: &str, alarm: &alarms::AlarmFacts) -> (String, String) {
    (
        alarm.spec.name.clone(),
        format!("{region}: {}", alarm.spec.summary()),
    )
}

/// What AWS holds, or `None` if nothing of this stack exists any more.
pub async fn observe(cfg: &Configured, want: &Desired, prior: &State) -> PartResult<Option<State>> {
    let r53 = &cfg.clients.route53;
    let known = |v: &Value<String>| v.as_ref_option().filter(|s| !s.is_empty()).cloned();
    // Without e-mails configured, a topic's subscriptions are listed only if it counts some.
    let subscriptions = match values::known_list(&prior.alarm_emails) {
        Some(emails) if !emails.is_empty() => topics::Subscriptions::List,
        _ => topics::Subscriptions::IfCounted,
    };
    // The topics and their keys as the last read recorded them.
    let recorded_topic = |topic| {
        recorded_of(
            want,
            topic,
            [
                &prior.primary_topic_arn,
                &prior.standby_topic_arn,
                &prior.health_check_topic_arn,
            ],
            &prior.standby_topic_arns,
        )
    };
    let recorded_key = |topic| {
        recorded_of(
            want,
            topic,
            [
                &prior.primary_topic_key_arn,
                &prior.standby_topic_key_arn,
                &prior.health_check_topic_key_arn,
            ],
            &prior.standby_topic_key_arns,
        )
    };
    let alarm_topics = want.alarm_topics();
    let name = &want.domain_name;
    let read_records = |zone_id: String| async move {
        weighted_records::find(r53, &zone_id, name)
            .await
            .context(|| format!("reading records {name}"))
            .map(|records| (zone_id, records))
    };
    // The records are read beside the zone when its ID is known (given, or recorded by the last
    // read): read again below if the zone turns out to be another, or that read failed (a zone
    // deleted out of band).
    let zone_id_known = want.hosted_zone_id.clone().or(known(&prior.zone_id));
    let (zone, listed_checks, records_read_early, topic_facts, live_alarms) = tokio::try_join!(
        observe_zone(cfg, want, known(&prior.zone_id)),
        async {
            route53::health_checks_of(r53, &want.suffix)
                .await
                .context(|| format!("listing Route 53 health checks of {}", want.suffix))
        },
        async {
            Ok(match zone_id_known {
                Some(id) => Some(read_records(id).await),
                None => None,
            })
        },
        try_join_all(alarm_topics.iter().map(|&topic| async move {
            let clients = cfg.clients.regional(want.topic_region(topic));
            let name = want.topic_name(topic);
            // The key last recorded is read beside its topic.
            let (facts, early_key) = tokio::join!(
                async {
                    match recorded_topic(topic) {
                        Some(arn) => topics::find_by_arn(&clients.sns, &arn, subscriptions).await,
                        None => topics::find(&clients.sns, &name).await,
                    }
                    .context(|| format!("reading SNS topic {name}"))
                },
                async {
                    let key = recorded_key(topic)?;
                    Some((topic_key::find_by_id(&clients.kms, &key).await, key))
                },
            );
            Ok::<_, PartError>((facts?, early_key))
        })),
        observe_alarms(cfg, want),
    )?;
    let (topic_facts, early_keys): (Vec<_>, Vec<_>) = topic_facts.into_iter().unzip();
    let checks = health_check::among(&listed_checks);
    let switch_checks = switch_checks::among(&listed_checks);
    let (live_records, live_chain) = match &zone {
        Some(zone) => {
            let live = match records_read_early {
                Some(Ok((id, records))) if route53::bare_id(&id) == route53::bare_id(&zone.id) => {
                    records
                }
                _ => read_records(zone.id.clone()).await?.1,
            };
            let several = !want.more_standbys.is_empty();
            let chain = find_chain(cfg, &zone.id, name, &live, several).await?;
            (live, chain)
        }
        None => (Vec::new(), Vec::new()),
    };
    // The record check the primary record uses, and the endpoint check it (or, before the
    // switch, the record itself) uses; else the newest one we own.
    let in_use = live_records
        .iter()
        .find(|r| r.set_identifier == Role::Primary.as_str())
        .and_then(|r| r.health_check_id.clone());
    let record_check = switch_checks
        .iter()
        .find(|c| c.kind == Kind::Primary && Some(&c.id) == in_use.as_ref());
    let children = match record_check.and_then(|c| c.spec.as_ref()) {
        Some(switch_checks::Spec::AllOf(children)) => children.clone(),
        _ => in_use.iter().cloned().collect(),
    };
    let check = checks
        .iter()
        .find(|c| children.contains(&c.id))
        .or(checks.last());
    // Each wanted switch check as AWS holds it, if it does and it is as wanted.
    let switches: Vec<Option<&switch_checks::Facts>> = (want.switch_checks().iter())
        .map(|(kind, spec)| (switch_checks.iter()).find(|c| c.kind == *kind && c.matches(spec)))
        .collect();
    let switch = switches.first().copied().flatten();
    let record_check = record_check.filter(|c| {
        let ids: Option<Vec<String>> = (switches.iter()).map(|s| s.map(|s| s.id.clone())).collect();
        match (check, ids) {
            (Some(check), Some(ids)) => c.matches(&want.record_check(&check.id, &ids)),
            _ => false,
        }
    });

    let anything_left = zone.as_ref().is_some_and(|z| z.ours)
        || check.is_some()
        || !switch_checks.is_empty()
        || !live_records.is_empty()
        || topic_facts.iter().any(Option::is_some)
        || !live_alarms.is_empty();
    if !anything_left {
        return Ok(None);
    }

    let mut state = prior.clone();
    state.zone_id = values::string(zone.as_ref().map(|z| z.id.clone()).unwrap_or_default());
    state.name_servers = values::list(&zone.map(|z| z.name_servers).unwrap_or_default());
    state.health_check_id = values::string(check.map(|c| c.id.clone()).unwrap_or_default());
    // A check missing or changed outside Terraform reads empty: the plan then shows it changing.
    // A further standby's switch check has no attribute of its own: missing or changed, it
    // empties the record check, whose children it no longer matches.
    state.switch_health_check_id = values::string(switch.map(|c| c.id.clone()).unwrap_or_default());
    state.record_health_check_id =
        values::string(record_check.map(|c| c.id.clone()).unwrap_or_default());
    if let Some(check) = check {
        state.health_check = Value::Value(observed_health_check(check, &prior.health_check));
        if want.read_tags {
            let tags = route53::tags_of(
                r53,
                aws_sdk_route53::types::TagResourceType::Healthcheck,
                &check.id,
            )
            .await
            .context(|| format!("reading the tags of health check {}", check.id))?;
            state.tags_all = values::map(&tags);
        }
    }
    let mut records = record_summaries(&live_records);
    records.extend(live_chain.iter().map(|r| (r.key(), r.summary())));
    state.records = values::map(&records);
    let keys = try_join_all(alarm_topics.iter().zip(&topic_facts).zip(early_keys).map(
        |((&topic, facts), early)| observe_topic_key(cfg, want, topic, facts.as_ref(), early),
    ))
    .await?;
    // A topic this system has no place for stays null, as the plan has it.
    (
        state.health_check_topic_arn,
        state.health_check_topic_key_arn,
    ) = (Value::Null, Value::Null);
    let (mut standby_topics, mut standby_keys) = (Tags::new(), Tags::new());
    for ((&topic, facts), key) in alarm_topics.iter().zip(&topic_facts).zip(keys) {
        let arn = facts.as_ref().map(|t| t.arn.clone()).unwrap_or_default();
        if let AlarmTopic::Standby(_) = topic {
            let region = want.topic_region(topic).to_owned();
            standby_topics.insert(region.clone(), arn.clone());
            standby_keys.insert(region, key.clone());
        }
        let (arn, key) = (values::string(arn), values::string(key));
        match topic {
            AlarmTopic::Primary => {
                (state.primary_topic_arn, state.primary_topic_key_arn) = (arn, key)
            }
            AlarmTopic::Standby(0) => {
                (state.standby_topic_arn, state.standby_topic_key_arn) = (arn, key)
            }
            AlarmTopic::Standby(_) => {}
            AlarmTopic::HealthCheck => {
                (
                    state.health_check_topic_arn,
                    state.health_check_topic_key_arn,
                ) = (arn, key)
            }
        }
    }
    (state.standby_topic_arns, state.standby_topic_key_arns) =
        (values::map(&standby_topics), values::map(&standby_keys));
    let holders: Vec<String> = alarm_topics.iter().map(|&t| want.topic_holder(t)).collect();
    state.alarm_emails = observed_emails(&prior.alarm_emails, &holders, &topic_facts);
    state.pending_alarm_emails = pending_emails(&topic_facts);
    state.alarms = values::map(
        &live_alarms
            .iter()
            .map(|(region, a)| alarm_summary(region, a))
            .collect::<Tags>(),
    );
    Ok(Some(state))
}

/// The zone a prior read found, read by its ID while it is still ours and named as wanted;
/// otherwise found again.
async fn observe_zone(
    cfg: &Configured,
    want: &Desired,
    known_id: Option<String>,
) -> PartResult<Option<ZoneFacts>> {
    if let (Some(id), None) = (&known_id, &want.hosted_zone_id) {
        let zone = hosted_zone::find_by_id(&cfg.clients.route53, id, &want.suffix)
            .await
            .context(|| format!("reading the Route 53 hosted zone of {}", want.domain_name))?;
        if let Some(zone) =
            zone.filter(|z| z.ours && hosted_zone::same_name(&z.name, &want.domain_name))
        {
            return Ok(Some(zone));
        }
    }
    find_zone(cfg, want).await
}

/// Every alarm this stack may have made, one DescribeAlarms per region.
async fn observe_alarms(
    cfg: &Configured,
    want: &Desired,
) -> PartResult<Vec<(String, alarms::AlarmFacts)>> {
    let found = try_join_all(by_region(want.every_alarm()).into_iter().map(
        |(region, names)| async move {
            let cw = &cfg.clients.regional(&region).cloudwatch;
            let found = alarms::find(cw, &names).await.context(|| {
                format!("reading CloudWatch alarms {} in {region}", names.join(", "))
            })?;
            Ok::<_, PartError>(found.into_iter().map(move |a| (region.clone(), a)))
        },
    ))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn find_zone(cfg: &Configured, want: &Desired) -> PartResult<Option<ZoneFacts>> {
    let r53 = &cfg.clients.route53;
    match &want.hosted_zone_id {
        Some(id) => hosted_zone::find_by_id(r53, id, &want.suffix).await,
        None => hosted_zone::find_ours(r53, Some(&want.domain_name), &want.suffix).await,
    }
    .context(|| format!("reading the Route 53 hosted zone of {}", want.domain_name))
}

/// The health check block as Route 53 holds it. Checker regions left to Route 53's default
/// stay unset.
fn observed_health_check(check: &HealthCheckFacts, prior: &Value<HealthCheck>) -> HealthCheck {
    let spec = &check.spec;
    let prior_regions = prior
        .as_ref_option()
        .map(|p| p.regions.clone())
        .unwrap_or_default();
    let whole = |n: i32| Value::Value(Number::from(i64::from(n)));
    HealthCheck {
        protocol: values::string(if spec.https { "HTTPS" } else { "HTTP" }),
        port: whole(spec.port),
        path: values::string(spec.path.clone()),
        interval: whole(spec.interval),
        // A disabled check never fails over: show a threshold no configuration can ask for.
        failure_threshold: whole(if check.disabled {
            0
        } else {
            spec.failure_threshold
        }),
        regions: if prior_regions.is_null() {
            Value::Null
        } else {
            values::list_like(&prior_regions, &spec.regions)
        },
        measure_latency: Value::Value(spec.measure_latency),
    }
}

/// The e-mail addresses subscribed to the topics; one only one topic holds is marked so. A
/// configured address pending confirmation is there: only its owner can confirm it. One
/// pending that the configuration does not ask for is no difference either: SNS cannot
/// unsubscribe it, and deletes it when it has waited 48 hours unconfirmed.
fn observed_emails(
    prior: &values::StringList,
    holders: &[String],
    topics: &[Option<topics::TopicFacts>],
) -> values::StringList {
    let configured = values::known_list(prior).unwrap_or_default();
    let sets: Vec<(&str, BTreeSet<String>)> = holders
        .iter()
        .zip(topics)
        .map(|(topic, t)| {
            let held = t.as_ref().map_or_else(BTreeSet::new, |t| {
                t.emails
                    .iter()
                    .filter(|e| !t.pending.contains(*e) || configured.contains(e))
                    .cloned()
                    .collect()
            });
            (topic.as_str(), held)
        })
        .collect();
    let observed = values::held_by_all(&sets);
    if observed.is_empty() && prior.is_null() {
        return Value::Null;
    }
    values::list_like(prior, &observed)
}

/// The addresses some topic holds a subscription of that waits for its owner's confirmation.
fn pending_emails(topics: &[Option<topics::TopicFacts>]) -> values::StringList {
    let pending: BTreeSet<String> = topics
        .iter()
        .flatten()
        .flat_map(|t| t.pending.iter().cloned())
        .collect();
    values::list(&pending.into_iter().collect::<Vec<_>>())
}

/// A topic, in `region`, and the key made for it once the topic no longer uses it; the user's
/// key stays.
async fn delete_topic(
    cfg: &Configured,
    want: &Desired,
    region: &str,
    topic: AlarmTopic,
) -> PartResult<()> {
    let clients = cfg.clients.regional(region);
    let name = want.topic_name(topic);
    if let Some(topic) = topics::find(&clients.sns, &name)
        .await
        .context(|| format!("reading SNS topic {name}"))?
    {
        topics::delete(&clients.sns, &topic.arn).await?;
    }
    topic_key::delete(&clients.kms, &name, &want.suffix).await
}

/// The weighted pair and the standbys' chain as they are now (Route 53 deletes only an exact
/// match), in one batch: each alias before the group it aliases.
async fn delete_records(
    cfg: &Configured,
    want: &Desired,
    zone_id: &str,
    timeout: Duration,
) -> PartResult<()> {
    let r53 = &cfg.clients.route53;
    let name = &want.domain_name;
    let live: Vec<_> = weighted_records::find(r53, zone_id, name)
        .await
        .context(|| format!("reading records {name}"))?
        .into_iter()
        .filter(|r| Role::parse(&r.set_identifier).is_some())
        .collect();
    let chain = find_chain(cfg, zone_id, name, &live, !want.more_standbys.is_empty()).await?;
    let mut shallow_first = standby_chain::deepest_first(&chain);
    shallow_first.reverse();
    let changes = (live.iter())
        .map(|r| weighted_records::change(ChangeAction::Delete, name, r))
        .chain(
            shallow_first
                .into_iter()
                .map(|r| standby_chain::change(ChangeAction::Delete, r)),
        )
        .collect::<Result<Vec<_>, _>>()
        .context(|| format!("deleting weighted records {name}"))?;
    if changes.is_empty() {
        return Ok(());
    }
    route53::change_and_wait(
        r53,
        zone_id,
        changes,
        timeout,
        &format!("deleting weighted records {name}"),
    )
    .await
}

/// Records, then health checks (Route 53 refuses to delete one a record uses), then the zone
/// if we created it; alarms before the topics they notify, topics before their keys.
pub async fn delete(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let dns = async {
        let r53 = &cfg.clients.route53;
        let zone = find_zone(cfg, want).await?;
        if let Some(zone) = &zone {
            delete_records(cfg, want, &zone.id, remaining(deadline)).await?;
        }
        // The record check before the checks it watches.
        let mut switch = switch_checks::list_ours(r53, &want.suffix)
            .await
            .context(|| {
                format!(
                    "listing the failover switch's health checks of {}",
                    want.suffix
                )
            })?;
        switch.sort_by_key(|c| c.kind.is_switch());
        for check in switch {
            health_check::delete(r53, &check.id, remaining(deadline)).await?;
        }
        for check in health_check::list_ours(r53, &want.suffix)
            .await
            .context(|| format!("listing Route 53 health checks of {}", want.suffix))?
        {
            health_check::delete(r53, &check.id, remaining(deadline)).await?;
        }
        match zone {
            Some(zone) if want.hosted_zone_id.is_none() && zone.ours => {
                hosted_zone::delete(r53, &zone.id).await
            }
            _ => Ok(()),
        }
    };
    let alerting = async {
        delete_alarms(cfg, want.every_alarm()).await?;
        try_join_all(
            (want.alarm_topics().into_iter())
                .map(|topic| delete_topic(cfg, want, want.topic_region(topic), topic)),
        )
        .await?;
        Ok::<_, PartError>(())
    };
    tokio::try_join!(dns, alerting)?;
    Ok(())
}
