//! `terraform import` of a DNS failover: everything is read back from AWS, starting from the
//! health checks and zone that carry the suffix in their caller reference.

use futures::future::try_join_all;
use tf_provider::value::Value;

use super::apply;
use super::desired::{AlarmTopic, Desired, METRICS_REGION};
use super::plan;
use super::schema::{Endpoint, HealthCheck, State};
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::health_check;
use crate::aws::hosted_zone;
use crate::aws::standby_chain;
use crate::aws::switch_checks::{self, Kind};
use crate::aws::weighted_records;
use crate::aws::{alarms, load_balancer, route53, topics};
use crate::configured::Configured;
use crate::role::Role;
use crate::tf::number::Number;
use crate::tf::values;

pub async fn import(cfg: &Configured, id: &str) -> PartResult<Option<State>> {
    let (suffix, given_zone) = match id.split_once('/') {
        Some((suffix, zone)) => (suffix, Some(zone)),
        None => (id, None),
    };
    let action = || format!("importing \"{id}\"");
    let r53 = &cfg.clients.route53;
    let zone = match given_zone {
        Some(zone) => hosted_zone::find_by_id(r53, zone, suffix).await,
        None => hosted_zone::find_ours(r53, None, suffix).await,
    }
    .context(action)?;
    let Some(zone) = zone else { return Ok(None) };
    let checks = health_check::list_ours(r53, suffix).await.context(action)?;
    let (record_checks, switches): (Vec<_>, Vec<_>) = switch_checks::list_ours(r53, suffix)
        .await
        .context(action)?
        .into_iter()
        .partition(|c| c.kind == Kind::Primary);
    let records = weighted_records::find_all(r53, &zone.id)
        .await
        .context(action)?;
    // The primary record uses the record check (or, made before the switch, the endpoint check).
    let check_ids: Vec<&str> = checks
        .iter()
        .map(|c| c.id.as_str())
        .chain(record_checks.iter().map(|c| c.id.as_str()))
        .collect();
    let domain = weighted_records::failover_name(&records, &zone, &check_ids)
        .ok_or_else(|| {
            not_found("no weighted record named primary uses a health check of this stack")
        })
        .context(action)?;
    let record = |role: Role| {
        records
            .iter()
            .find(|(name, r)| {
                hosted_zone::same_name(name, &domain) && r.set_identifier == role.as_str()
            })
            .map(|(_, r)| r.clone())
    };
    let (Some(primary), Some(standby)) = (record(Role::Primary), record(Role::Standby)) else {
        return Err(not_found(
            "the primary and standby records are not both there",
        ))
        .context(action);
    };
    let watched: Vec<String> = match record_checks
        .iter()
        .find(|c| Some(&c.id) == primary.health_check_id.as_ref())
        .and_then(|c| c.spec.clone())
    {
        Some(switch_checks::Spec::AllOf(children)) => children,
        _ => primary.health_check_id.iter().cloned().collect(),
    };
    // A switch on the user's routing control is configuration the import must bring back.
    let routing_control = switches
        .iter()
        .filter(|c| watched.contains(&c.id))
        .find_map(|c| match &c.spec {
            Some(switch_checks::Spec::RoutingControl { arn }) => Some(arn.clone()),
            _ => None,
        });
    let check = checks
        .iter()
        .find(|c| watched.contains(&c.id))
        .ok_or_else(|| not_found("the primary record's health check is not this stack's"))
        .context(action)?;
    // Several standbys: the standby record aliases their chain in the zone, in its order.
    let standby_targets = if route53::bare_id(&standby.alias_zone_id) == route53::bare_id(&zone.id)
    {
        let chain = standby_chain::find(r53, &zone.id, &domain)
            .await
            .context(action)?;
        standby_chain::targets(&domain, &chain)
    } else {
        vec![(
            standby.alias_dns_name.clone(),
            standby.alias_zone_id.clone(),
        )]
    };
    let (primary_endpoint, standby_endpoints) = tokio::try_join!(
        endpoint(cfg, &primary.alias_dns_name, &primary.alias_zone_id),
        try_join_all((standby_targets.iter()).map(|(dns, zone)| endpoint(cfg, dns, zone))),
    )?;
    let primary_region = primary_endpoint
        .region
        .as_ref_option()
        .cloned()
        .unwrap_or_default();
    let environment = route53::tags_of(
        r53,
        aws_sdk_route53::types::TagResourceType::Healthcheck,
        &check.id,
    )
    .await
    .context(action)?
    .get("Environment")
    .cloned();

    let mut config = State {
        environment_suffix: values::string(suffix),
        domain_name: values::string(domain),
        hosted_zone_id: given_zone.map_or(Value::Null, values::string),
        switch_routing_control_arn: routing_control.map_or(Value::Null, values::string),
        active_region: values::string(
            if standby.weight > primary.weight {
                Role::Standby
            } else {
                Role::Primary
            }
            .as_str(),
        ),
        environment: environment.map_or(Value::Null, values::string),
        health_check: Value::Value(HealthCheck {
            protocol: values::string(if check.spec.https { "HTTPS" } else { "HTTP" }),
            port: number(check.spec.port),
            path: values::string(check.spec.path.clone()),
            interval: number(check.spec.interval),
            failure_threshold: number(check.spec.failure_threshold),
            regions: if check.spec.regions.is_empty() {
                Value::Null
            } else {
                values::list(&check.spec.regions)
            },
            measure_latency: Value::Value(check.spec.measure_latency),
        }),
        primary: Value::Value(primary_endpoint),
        standby: Value::Value(standby_endpoints.into_iter().map(Value::Value).collect()),
        ..Default::default()
    };
    // Alarm settings and the watched table, from the alarms themselves.
    let (planned, _) = plan::plan(&config, None, &cfg.default_tags);
    let Some(want) = Desired::from_state(&planned, &cfg.default_tags) else {
        return Ok(None);
    };
    let names = want.alarm_names();
    let health_alarm = alarms::find(
        &cfg.clients.regional(METRICS_REGION).cloudwatch,
        &[names.health_check],
    )
    .await
    .context(action)?;
    if let Some(alarm) = health_alarm.first() {
        config.alarm_period = number(alarm.spec.period);
        config.alarm_evaluation_periods = number(alarm.spec.evaluation_periods);
    }
    let latency_alarm = alarms::find(
        &cfg.clients.regional(&primary_region).cloudwatch,
        &[names.replication_latency],
    )
    .await
    .context(action)?;
    if let Some(alarm) = latency_alarm.first() {
        config.table_name = alarm
            .spec
            .dimensions
            .iter()
            .find(|(k, _)| k == "TableName")
            .map_or(Value::Null, |(_, v)| values::string(v.clone()));
        config.replication_latency_threshold = Value::Value(Number(alarm.spec.threshold));
    }
    let topic = topics::find(
        &cfg.clients.regional(&primary_region).sns,
        &want.topic_name(AlarmTopic::Primary),
    )
    .await
    .context(action)?;
    if let Some(topic) = topic.filter(|t| !t.emails.is_empty()) {
        config.alarm_emails = values::list(&topic.emails.into_iter().collect::<Vec<_>>());
    }
    let (planned, _) = plan::plan(&config, None, &cfg.default_tags);
    let Some(want) = Desired::from_state(&planned, &cfg.default_tags) else {
        return Ok(None);
    };
    apply::observe(cfg, &want, &planned).await
}

fn number(n: i32) -> Value<Number> {
    Value::Value(Number::from(i64::from(n)))
}

fn not_found(detail: &str) -> Cause {
    Cause::Unexpected(format!(
        "{detail}; the ID is <environment_suffix> or <environment_suffix>/<hosted_zone_id>"
    ))
}

/// The load balancer an alias names, found in the region its DNS name names.
async fn endpoint(
    cfg: &Configured,
    alias_dns_name: &str,
    alias_zone_id: &str,
) -> PartResult<Endpoint> {
    let action = || format!("finding the load balancer {alias_dns_name}");
    let region = load_balancer::region_of_dns_name(alias_dns_name)
        .ok_or_else(|| not_found("the alias target is not a load balancer DNS name"))
        .context(action)?;
    let (alb_arn, target_group_arn) =
        load_balancer::find_by_dns_name(&cfg.clients.regional(region).elbv2, alias_dns_name)
            .await
            .context(action)?
            .ok_or_else(|| PartError {
                action: action(),
                cause: Cause::Unexpected(format!(
                    "no load balancer in {region} answers at this name"
                )),
            })?;
    Ok(Endpoint {
        region: values::string(region),
        alb_dns_name: values::string(alias_dns_name),
        alb_zone_id: values::string(alias_zone_id),
        alb_arn: values::string(alb_arn),
        target_group_arn: target_group_arn.map_or(Value::Null, values::string),
        kms_key_arn: Value::Null,
    })
}
