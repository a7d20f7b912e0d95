//! The two weighted alias A records on the failover name (`primary` with the health check,
//! `standby`): found, and the changes that write or delete them exactly as they are.

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSet, RrType};
use aws_sdk_route53::Client;

use super::error::{AwsError, Cause};
use super::hosted_zone::{same_name, ZoneFacts};
use super::route53;
use crate::role::Role;

#[derive(Debug, Clone, PartialEq)]
pub struct WeightedRecord {
    pub set_identifier: String,
    pub weight: i64,
    pub alias_dns_name: String,
    pub alias_zone_id: String,
    pub health_check_id: Option<String>,
    pub evaluate_target_health: bool,
}

impl WeightedRecord {
    /// Equal as Route 53 compares them: DNS names without case or trailing dot.
    pub fn same_as(&self, other: &WeightedRecord) -> bool {
        self.set_identifier == other.set_identifier
            && self.weight == other.weight
            && same_name(&self.alias_dns_name, &other.alias_dns_name)
            && self.alias_zone_id == other.alias_zone_id
            && self.health_check_id == other.health_check_id
            && self.evaluate_target_health == other.evaluate_target_health
    }
}

fn record(set: &ResourceRecordSet) -> Option<WeightedRecord> {
    let alias = set.alias_target()?;
    Some(WeightedRecord {
        set_identifier: set.set_identifier()?.to_owned(),
        weight: set.weight()?,
        alias_dns_name: alias.dns_name().trim_end_matches('.').to_owned(),
        alias_zone_id: alias.hosted_zone_id().to_owned(),
        health_check_id: set.health_check_id().map(str::to_owned),
        evaluate_target_health: alias.evaluate_target_health(),
    })
}

/// The weighted alias A records on `name`.
pub async fn find(
    r53: &Client,
    zone_id: &str,
    name: &str,
) -> Result<Vec<WeightedRecord>, AwsError> {
    Ok(scan(r53, zone_id, Some(name))
        .await?
        .into_iter()
        .map(|(_, record)| record)
        .collect())
}

/// Every weighted alias A record in the zone, with its name: how an import finds the records
/// when it does not know the name.
pub async fn find_all(
    r53: &Client,
    zone_id: &str,
) -> Result<Vec<(String, WeightedRecord)>, AwsError> {
    scan(r53, zone_id, None).await
}

/// The failover name among a zone's records (`find_all`): where a `primary` record uses one of
/// the stack's health checks, or, in a zone the stack created, the zone's own name.
pub fn failover_name(
    records: &[(String, WeightedRecord)],
    zone: &ZoneFacts,
    health_check_ids: &[&str],
) -> Option<String> {
    records
        .iter()
        .find(|(_, r)| {
            r.set_identifier == Role::Primary.as_str()
                && r.health_check_id
                    .as_deref()
                    .is_some_and(|id| health_check_ids.contains(&id))
        })
        .map(|(name, _)| name.clone())
        .or_else(|| {
            zone.ours
                .then(|| zone.name.trim_end_matches('.').to_owned())
        })
}

/// Lists the zone's weighted alias A records, only those on `only` when given (the listing is
/// sorted by name, so it starts there and stops after it).
async fn scan(
    r53: &Client,
    zone_id: &str,
    only: Option<&str>,
) -> Result<Vec<(String, WeightedRecord)>, AwsError> {
    let mut found = Vec::new();
    let mut start = only.map(|name| (name.to_owned(), RrType::A, None));
    loop {
        let (start_name, start_type, start_id) = match start.take() {
            Some((name, kind, id)) => (Some(name), Some(kind), id),
            None => (None, None, None),
        };
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(start_name)
            .set_start_record_type(start_type)
            .set_start_record_identifier(start_id)
            .send()
            .await?;
        for set in out.resource_record_sets() {
            if let Some(name) = only {
                if !same_name(set.name(), name) || set.r#type() != &RrType::A {
                    return Ok(found);
                }
            }
            if set.r#type() == &RrType::A {
                found.extend(record(set).map(|r| (set.name().trim_end_matches('.').to_owned(), r)));
            }
        }
        match (
            out.is_truncated(),
            out.next_record_name(),
            out.next_record_type(),
        ) {
            (true, Some(name), Some(kind)) => {
                start = Some((
                    name.to_owned(),
                    kind.clone(),
                    out.next_record_identifier().map(str::to_owned),
                ));
            }
            _ => return Ok(found),
        }
    }
}

pub fn change(action: ChangeAction, name: &str, r: &WeightedRecord) -> Result<Change, Cause> {
    route53::alias_change(
        action,
        &r.alias_dns_name,
        &r.alias_zone_id,
        r.evaluate_target_health,
        |set| {
            set.name(name)
                .set_identifier(&r.set_identifier)
                .weight(r.weight)
                .set_health_check_id(r.health_check_id.clone())
        },
    )
}
