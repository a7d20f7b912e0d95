//! Reads what the readiness checks judge, all at once, through the same AWS modules the
//! resources use.

use std::time::Duration;

use aws_sdk_cloudwatch::types::Statistic;

use super::checks::Facts;
use crate::aws::error::{Context, PartResult};
use crate::aws::{alarms, auto_scaling, health_check, hosted_zone, load_balancer, metrics};
use crate::aws::{session_table, topic_key, topics, weighted_records};
use crate::naming;
use crate::provider::Configured;
use crate::resources::dns_failover::plan::{AlarmNames, METRICS_REGION};

/// How far back to look for a ReplicationLatency datapoint.
const LATENCY_WINDOW: Duration = Duration::from_secs(15 * 60);

pub struct Target<'a> {
    pub suffix: &'a str,
    pub primary_region: &'a str,
    pub standby_region: &'a str,
    pub domain_name: &'a str,
    pub hosted_zone_id: Option<&'a str>,
}

pub async fn gather(cfg: &Configured, t: &Target<'_>) -> PartResult<Facts> {
    let (standby, (health_check, checker_status, records), (table, latency), alarms, topics) = tokio::try_join!(
        standby(cfg, t),
        dns(cfg, t),
        table(cfg, t),
        alarms(cfg, t),
        topics(cfg, t),
    )?;
    let (health_check_alarm, alarms) = alarms;
    let (topics, unusable_topic_keys) = topics;
    Ok(Facts {
        standby,
        health_check,
        checker_status,
        table,
        replication_latency_ms: latency,
        records,
        health_check_alarm,
        alarms,
        topics,
        unusable_topic_keys,
    })
}

async fn standby(cfg: &Configured, t: &Target<'_>) -> PartResult<Option<auto_scaling::Capacity>> {
    let clients = cfg.clients.regional(t.standby_region);
    let group = naming::stack_part("asg", "standby", t.suffix);
    let action = || format!("reading the standby capacity ({group})");
    let target_group = load_balancer::find_target_group(
        &clients.elbv2,
        &naming::stack_part("tg", "standby", t.suffix),
    )
    .await
    .context(action)?;
    let Some(arn) = target_group.and_then(|tg| tg.target_group_arn().map(str::to_owned)) else {
        return Ok(None);
    };
    let capacity = auto_scaling::capacity(&clients.autoscaling, &clients.elbv2, &group, &arn)
        .await
        .context(action)?;
    Ok(Some(capacity))
}

type DnsFacts = (
    Option<health_check::HealthCheckFacts>,
    Vec<(String, String)>,
    Option<Vec<weighted_records::WeightedRecord>>,
);

async fn dns(cfg: &Configured, t: &Target<'_>) -> PartResult<DnsFacts> {
    let r53 = &cfg.clients.route53;
    let action = || format!("reading the DNS failover of {}", t.domain_name);
    let zone = match t.hosted_zone_id {
        Some(id) => hosted_zone::get(r53, id, t.suffix).await,
        None => hosted_zone::find_ours(r53, Some(t.domain_name), t.suffix).await,
    }
    .context(action)?;
    let records = match &zone {
        Some(zone) => Some(
            weighted_records::find(r53, &zone.id, t.domain_name)
                .await
                .context(action)?,
        ),
        None => None,
    };
    let checks = health_check::list_ours(r53, t.suffix)
        .await
        .context(action)?;
    let in_use = records
        .iter()
        .flatten()
        .find(|r| r.set_identifier == "primary")
        .and_then(|r| r.health_check_id.clone());
    let check = checks
        .iter()
        .find(|c| Some(&c.id) == in_use.as_ref())
        .or(checks.last())
        .cloned();
    let status = match &check {
        Some(c) => health_check::status(r53, &c.id).await.context(action)?,
        None => Vec::new(),
    };
    Ok((check, status, records))
}

async fn table(
    cfg: &Configured,
    t: &Target<'_>,
) -> PartResult<(Option<session_table::TableFacts>, Option<f64>)> {
    let clients = cfg.clients.regional(t.primary_region);
    let name = naming::session_table(t.suffix);
    let action = || format!("reading DynamoDB table {name}");
    let (table, latency) = tokio::try_join!(
        async {
            session_table::find(&clients.dynamodb, &name)
                .await
                .context(action)
        },
        async {
            metrics::latest(
                &clients.cloudwatch,
                "AWS/DynamoDB",
                "ReplicationLatency",
                &[("TableName", &name), ("ReceivingRegion", t.standby_region)],
                Statistic::Average,
                LATENCY_WINDOW,
            )
            .await
            .context(|| format!("reading the ReplicationLatency of {name}"))
        },
    )?;
    Ok((table, latency))
}

type AlarmFacts = (
    Option<alarms::AlarmFacts>,
    Vec<(String, Option<alarms::AlarmFacts>)>,
);

async fn alarms(cfg: &Configured, t: &Target<'_>) -> PartResult<AlarmFacts> {
    let names = AlarmNames::of(t.suffix);
    let read = |region: String, name: String| async move {
        let found = alarms::find(
            &cfg.clients.regional(&region).cloudwatch,
            std::slice::from_ref(&name),
        )
        .await
        .context(|| format!("reading CloudWatch alarm {name}"))?;
        Ok::<_, crate::aws::error::PartError>((name, found.into_iter().next()))
    };
    let [_, standby_hosts] = names.unhealthy_hosts;
    let (health, traffic, hosts) = tokio::try_join!(
        read(METRICS_REGION.to_owned(), names.health_check),
        read(t.standby_region.to_owned(), names.standby_traffic),
        read(t.standby_region.to_owned(), standby_hosts),
    )?;
    Ok((health.1, vec![traffic, hosts]))
}

/// Each role's topic, and the ARNs of the topics whose key CloudWatch alarms cannot use.
async fn topics(
    cfg: &Configured,
    t: &Target<'_>,
) -> PartResult<(Vec<(String, Option<topics::TopicFacts>)>, Vec<String>)> {
    let mut found = Vec::new();
    let mut unusable = Vec::new();
    for (role, region) in [("primary", t.primary_region), ("standby", t.standby_region)] {
        let name = naming::topic(role, t.suffix);
        let clients = cfg.clients.regional(region);
        let topic = topics::find(&clients.sns, &name)
            .await
            .context(|| format!("reading SNS topic {name}"))?;
        if let Some((arn, key)) = topic
            .as_ref()
            .and_then(|t| Some((&t.arn, t.kms_key.as_deref()?)))
        {
            let usable = topic_key::admits_cloudwatch(&clients.kms, key)
                .await
                .context(|| format!("reading the KMS key of SNS topic {name}"))?;
            if !usable {
                unusable.push(arn.clone());
            }
        }
        found.push((role.to_owned(), topic));
    }
    Ok((found, unusable))
}
