//! Reads what the readiness checks judge, all at once, through the same AWS modules the
//! resources use.

use std::time::Duration;

use aws_sdk_cloudwatch::types::Statistic;
use futures::future::try_join_all;

use super::checks::{Entry, Facts, SwitchAlarm};
use crate::aws::certificate::{self, CertificateFacts};
use crate::aws::error::{Context, PartResult};
use crate::aws::{alarms, auto_scaling, health_check, hosted_zone, load_balancer, metrics};
use crate::aws::{route53, standby_chain, weighted_records};
use crate::aws::{security_groups, session_table, switch_checks, topic_key, topics};
use crate::configured::Configured;
use crate::naming;
use crate::resources::dns_failover::desired::{AlarmNames, AlarmTopic, METRICS_REGION};
use crate::role::Role;

/// How far back to look for a ReplicationLatency datapoint.
const LATENCY_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Where the stack is, found from what the provider created: its hosted zone and health checks
/// carry the suffix in their caller reference, the failover name is where the `primary`
/// record uses one of those checks, and each record's alias target names its load balancer's
/// region (the health check's target names the primary's, should the records be gone); with
/// several standbys, the `standby` record's chain of failover groups names theirs. A zone
/// the stack was given is not the stack's: it is found by its ID only.
#[derive(Debug, Clone, Default)]
pub struct Located {
    pub domain_name: Option<String>,
    pub primary_region: Option<String>,
    /// The first standby's: the one Route 53 answers with when the primary is down.
    pub standby_region: Option<String>,
    /// Every standby's in order of preference, through the chain of failover groups the
    /// `standby` record aliases when there are several (`standby_chain`).
    pub standby_regions: Vec<String>,
    /// `None` when the hosted zone is missing.
    pub records: Option<Vec<weighted_records::WeightedRecord>>,
    pub health_check: Option<health_check::HealthCheckFacts>,
    /// The failover switch's calculated check, when the primary record uses it.
    pub record_check: Option<switch_checks::Facts>,
    /// The switch alarms (region, name) the record check's children follow: one per standby
    /// region, none when the switch is a routing control.
    pub switch_alarms: Vec<(String, String)>,
}

pub async fn locate(
    cfg: &Configured,
    suffix: &str,
    hosted_zone_id: Option<&str>,
) -> PartResult<Located> {
    let r53 = &cfg.clients.route53;
    let action = || format!("finding the DNS failover of stack {suffix}");
    let (zone, checks, switch) = tokio::try_join!(
        async {
            match hosted_zone_id {
                Some(id) => hosted_zone::find_by_id(r53, id, suffix).await,
                None => hosted_zone::find_ours(r53, None, suffix).await,
            }
            .context(action)
        },
        async { health_check::list_ours(r53, suffix).await.context(action) },
        async { switch_checks::list_ours(r53, suffix).await.context(action) },
    )?;
    let record_checks: Vec<&switch_checks::Facts> = switch
        .iter()
        .filter(|c| c.kind == switch_checks::Kind::Primary)
        .collect();
    let check_ids: Vec<&str> = checks
        .iter()
        .map(|c| c.id.as_str())
        .chain(record_checks.iter().map(|c| c.id.as_str()))
        .collect();
    let (domain_name, records): (_, Option<Vec<weighted_records::WeightedRecord>>) = match &zone {
        Some(zone) => {
            let all = weighted_records::find_all(r53, &zone.id)
                .await
                .context(action)?;
            let name = weighted_records::failover_name(&all, zone, &check_ids);
            let records = all
                .into_iter()
                .filter(|(n, _)| {
                    name.as_deref()
                        .is_some_and(|d| hosted_zone::same_name(n, d))
                })
                .map(|(_, r)| r)
                .collect();
            (name, Some(records))
        }
        None => (None, None),
    };
    let record = |role: Role| {
        records
            .iter()
            .flatten()
            .find(|r| r.set_identifier == role.as_str())
    };
    let region_behind =
        |dns_name: &str| load_balancer::region_of_dns_name(dns_name).map(str::to_owned);
    // Several standbys: the `standby` record aliases the first group of their chain, in the zone.
    let chained = match (&zone, &domain_name, record(Role::Standby)) {
        (Some(zone), Some(name), Some(standby))
            if route53::bare_id(&standby.alias_zone_id) == route53::bare_id(&zone.id) =>
        {
            let chain = standby_chain::find(r53, &zone.id, name)
                .await
                .context(action)?;
            let targets = standby_chain::targets(name, &chain);
            Some(
                targets
                    .iter()
                    .filter_map(|(dns, _)| region_behind(dns))
                    .collect(),
            )
        }
        _ => None,
    };
    let standby_regions: Vec<String> = chained.unwrap_or_else(|| {
        record(Role::Standby)
            .and_then(|r| region_behind(&r.alias_dns_name))
            .into_iter()
            .collect()
    });
    let in_use = record(Role::Primary).and_then(|r| r.health_check_id.clone());
    let record_check = record_checks
        .into_iter()
        .find(|c| Some(&c.id) == in_use.as_ref())
        .cloned();
    let children = match record_check.as_ref().and_then(|c| c.spec.as_ref()) {
        Some(switch_checks::Spec::AllOf(children)) => children.clone(),
        _ => Vec::new(),
    };
    let switch_alarms = (switch.iter())
        .filter(|c| c.kind.is_switch() && children.contains(&c.id))
        .filter_map(|c| match &c.spec {
            Some(switch_checks::Spec::Alarm { region, name }) => {
                Some((region.clone(), name.clone()))
            }
            _ => None,
        })
        .collect();
    // The endpoint check: the record's own, or a child of the switch's calculated check.
    let watched = |id: &String| match record_check.as_ref().and_then(|c| c.spec.as_ref()) {
        Some(switch_checks::Spec::AllOf(children)) => children.contains(id),
        _ => Some(id) == in_use.as_ref(),
    };
    let health_check = checks
        .iter()
        .find(|c| watched(&c.id))
        .or(checks.last())
        .cloned();
    Ok(Located {
        primary_region: record(Role::Primary)
            .and_then(|r| region_behind(&r.alias_dns_name))
            .or_else(|| {
                health_check
                    .as_ref()
                    .and_then(|c| region_behind(&c.spec.fqdn))
            }),
        standby_region: standby_regions.first().cloned(),
        standby_regions,
        domain_name,
        records,
        health_check,
        record_check,
        switch_alarms,
    })
}

/// The regions to read: where the stack was found, else where the user says, else the
/// defaults.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub suffix: &'a str,
    pub primary_region: &'a str,
    pub standby_region: &'a str,
    /// Whether the standby is a further one (after the first): its alarms carry its region.
    pub further_standby: bool,
}

/// Reads the rest of what the checks judge, in the regions `locate` found.
pub async fn gather(cfg: &Configured, t: &Target<'_>, located: Located) -> PartResult<Facts> {
    let (standby, checker_status, (table, latency), alarms, topics, entry, protection, switch) = tokio::try_join!(
        standby(cfg, t),
        checker_status(cfg, located.health_check.as_ref()),
        table(cfg, t),
        alarms(cfg, t),
        topics(cfg, t),
        entry(cfg, t, &Role::ALL),
        protection(cfg, t),
        switch_alarms(cfg, &located.switch_alarms),
    )?;
    let (home_pitr, replica_protection) = protection;
    let (health_check_alarm, alarms) = alarms;
    let (topics, unusable_topic_keys) = topics;
    Ok(Facts {
        standby,
        health_check: located.health_check,
        record_check: located.record_check,
        checker_status,
        table,
        replication_latency_ms: latency,
        records: located.records,
        health_check_alarm,
        alarms,
        topics,
        unusable_topic_keys,
        entry,
        replica_protection,
        home_pitr,
        switch_alarms: switch,
    })
}

/// Whether each of `roles`' load balancers listens on 443 and the certificate it serves, and
/// what the primary's groups admit.
async fn entry(cfg: &Configured, t: &Target<'_>, roles: &[Role]) -> PartResult<Entry> {
    let mut entry = Entry {
        read_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        ..Entry::default()
    };
    for (i, (role, region)) in [
        (Role::Primary, t.primary_region),
        (Role::Standby, t.standby_region),
    ]
    .into_iter()
    .enumerate()
    .filter(|(_, (role, _))| roles.contains(role))
    {
        let clients = cfg.clients.regional(region);
        let name = naming::stack_part(naming::LOAD_BALANCER, role, t.suffix);
        let action = || format!("reading the listeners and security groups of ALB {name}");
        let Some(alb) = load_balancer::find_alb(&clients.elbv2, &name)
            .await
            .context(action)?
        else {
            continue;
        };
        let arn = alb.load_balancer_arn().unwrap_or_default();
        let listeners = load_balancer::listeners(&clients.elbv2, arn)
            .await
            .context(action)?;
        let https = listeners.iter().find(|l| l.port == 443);
        entry.https[i] = Some(https.is_some());
        if let Some(served) = https.and_then(|l| l.certificate.as_deref()) {
            entry.certificates[i] = served_certificate(&clients.acm, served).await?;
        }
        if role == Role::Primary {
            let groups = alb.security_groups().to_vec();
            entry.primary_ingress = Some(
                security_groups::ingress_of(&clients.ec2, &groups)
                    .await
                    .context(action)?,
            );
            // A region without the list cannot let the checkers in by it: judged on CIDRs alone.
            entry.checkers_prefix_list =
                security_groups::health_checkers_prefix_list(&clients.ec2, region)
                    .await
                    .ok();
        }
    }
    Ok(entry)
}

/// The ACM certificate a listener serves, as ACM describes it; the refusal when the caller may
/// not read it (the main deployer policy has no ACM rights: `deployer-policy-tls.json` does).
/// `None` for a certificate from IAM, which ACM does not hold.
async fn served_certificate(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> PartResult<Option<Result<CertificateFacts, String>>> {
    if !arn.starts_with("arn:aws") || !arn.contains(":acm:") {
        return Ok(None);
    }
    match certificate::find_by_arn(acm, arn).await {
        Ok(Some(facts)) => Ok(Some(Ok(facts))),
        Ok(None) => Ok(Some(Err(
            "ResourceNotFoundException: ACM holds no such certificate".into(),
        ))),
        Err(err) if err.is("AccessDeniedException") => Ok(Some(Err(err.to_string()))),
        Err(err) => Err(err).context(|| format!("reading ACM certificate {arn}")),
    }
}

/// Whether the home table has point-in-time recovery (`None` without a table), and the
/// standby's replica's (`None` without a replica there) with its deletion protection.
async fn protection(
    cfg: &Configured,
    t: &Target<'_>,
) -> PartResult<(Option<bool>, Option<(bool, bool)>)> {
    tokio::try_join!(
        async {
            let home = table_pitr(cfg, t, t.primary_region).await?;
            Ok(home.map(|(pitr, _)| pitr))
        },
        table_pitr(cfg, t, t.standby_region),
    )
}

/// The point-in-time recovery and deletion protection of the session table in `region`.
async fn table_pitr(
    cfg: &Configured,
    t: &Target<'_>,
    region: &str,
) -> PartResult<Option<(bool, bool)>> {
    let name = naming::session_table(t.suffix);
    let action =
        || format!("reading the recovery and protection of DynamoDB table {name} in {region}");
    let db = &cfg.clients.regional(region).dynamodb;
    let Some(copy) = session_table::find(db, &name).await.context(action)? else {
        return Ok(None);
    };
    let pitr = session_table::point_in_time_recovery(db, &name)
        .await
        .context(action)?;
    Ok(Some((pitr, copy.deletion_protection)))
}

async fn standby(cfg: &Configured, t: &Target<'_>) -> PartResult<Option<auto_scaling::Capacity>> {
    let clients = cfg.clients.regional(t.standby_region);
    let group = naming::stack_part(naming::AUTO_SCALING_GROUP, Role::Standby, t.suffix);
    let action = || format!("reading the standby capacity ({group})");
    let target_group = load_balancer::find_target_group(
        &clients.elbv2,
        &naming::stack_part(naming::TARGET_GROUP, Role::Standby, t.suffix),
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

async fn checker_status(
    cfg: &Configured,
    check: Option<&health_check::HealthCheckFacts>,
) -> PartResult<Vec<(String, String)>> {
    match check {
        Some(c) => health_check::status(&cfg.clients.route53, &c.id)
            .await
            .context(|| format!("reading the status of health check {}", c.id)),
        None => Ok(Vec::new()),
    }
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
    let names = match t.further_standby {
        true => AlarmNames::of_standby(t.suffix, t.standby_region),
        false => AlarmNames::of(t.suffix),
    };
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
    let (traffic, hosts) = tokio::try_join!(
        read(t.standby_region.to_owned(), names.standby_traffic),
        read(t.standby_region.to_owned(), standby_hosts),
    )?;
    // The health-check alarm is the system's, judged with the first standby.
    let health = match t.further_standby {
        true => None,
        false => read(METRICS_REGION.to_owned(), names.health_check).await?.1,
    };
    Ok((health, vec![traffic, hosts]))
}

/// Each switch alarm the record check follows, as CloudWatch holds it in its region.
async fn switch_alarms(
    cfg: &Configured,
    wanted: &[(String, String)],
) -> PartResult<Vec<SwitchAlarm>> {
    try_join_all(wanted.iter().map(|(region, name)| async move {
        let found = alarms::find(
            &cfg.clients.regional(region).cloudwatch,
            std::slice::from_ref(name),
        )
        .await
        .context(|| format!("reading CloudWatch alarm {name} ({region})"))?;
        Ok(SwitchAlarm {
            region: region.clone(),
            name: name.clone(),
            found: found.into_iter().next(),
        })
    }))
    .await
}

/// Each alarm topic (by role, and `health-check` for the us-east-1 one of a system with no
/// stack there), and the ARNs of the topics whose key CloudWatch alarms cannot use.
async fn topics(
    cfg: &Configured,
    t: &Target<'_>,
) -> PartResult<(Vec<(String, Option<topics::TopicFacts>)>, Vec<String>)> {
    let wanted = AlarmTopic::all(t.primary_region, &[t.standby_region])
        .into_iter()
        .map(|topic| {
            let region = match topic {
                AlarmTopic::Primary => t.primary_region,
                AlarmTopic::Standby(_) => t.standby_region,
                AlarmTopic::HealthCheck => METRICS_REGION,
            };
            (topic.label(), region)
        })
        .collect::<Vec<_>>();
    read_topics(cfg, t.suffix, &wanted).await
}

/// The topics `(label, region)` of stack `suffix`, and the ARNs of those whose key CloudWatch
/// alarms cannot use.
async fn read_topics(
    cfg: &Configured,
    suffix: &str,
    wanted: &[(&str, &str)],
) -> PartResult<(Vec<(String, Option<topics::TopicFacts>)>, Vec<String>)> {
    let mut found = Vec::new();
    let mut unusable = Vec::new();
    for &(role, region) in wanted {
        let name = naming::topic(role, suffix);
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

/// What readiness judges of a standby after the first (`t.standby_region` is its region): its
/// capacity, its replica's own protection, its alarms, its topic and its load balancer's HTTPS,
/// read in its region; the home table and the primary's side as `first` (the first standby's
/// facts) found them.
pub async fn gather_further(cfg: &Configured, t: &Target<'_>, first: &Facts) -> PartResult<Facts> {
    let topic = [(AlarmTopic::Standby(1).label(), t.standby_region)];
    let (standby, (_, alarms), replica_protection, (topics, unusable_topic_keys), mut entry) = tokio::try_join!(
        standby(cfg, t),
        alarms(cfg, t),
        table_pitr(cfg, t, t.standby_region),
        read_topics(cfg, t.suffix, &topic),
        entry(cfg, t, &[Role::Standby]),
    )?;
    // The table and the primary's side as the first standby's read found them: judged there.
    entry.https[0] = first.entry.https[0];
    Ok(Facts {
        standby,
        table: first.table.clone(),
        alarms,
        topics,
        unusable_topic_keys,
        replica_protection,
        home_pitr: first.home_pitr,
        entry,
        ..Facts::default()
    })
}
