//! The standbys in order of preference, when there is more than one. Route 53's failover
//! routing has a primary and a secondary only, and zero-weight records share the answers
//! equally, so the order is a chain of failover groups on names of the zone
//! (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-complex-configs.html):
//! `_standby-1.<name>` answers with the first standby while its load balancer is healthy, else
//! as `_standby-2.<name>` does, and so on; the last group's secondary is the last standby. The
//! failover name's `standby` record aliases `_standby-1.<name>`, evaluating target health, so it
//! is healthy while one standby is.

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecordSetFailover, RrType};
use aws_sdk_route53::Client;

use super::error::{AwsError, Cause};
use super::hosted_zone::same_name;
use super::route53;

/// At most this many standbys, so this many groups at most: the ones a read looks for.
pub const MAX_GROUPS: usize = 3;

/// One failover alias record of a group, evaluating its target's health.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRecord {
    /// The group's name, `_standby-<k>.<name>`.
    pub name: String,
    /// The group's primary, or its secondary.
    pub primary: bool,
    pub alias_dns_name: String,
    pub alias_zone_id: String,
    pub evaluate_target_health: bool,
}

impl ChainRecord {
    pub fn set_identifier(&self) -> &'static str {
        if self.primary {
            "primary"
        } else {
            "secondary"
        }
    }

    /// Equal as Route 53 compares them: DNS names without case or trailing dot.
    pub fn same_as(&self, other: &ChainRecord) -> bool {
        same_name(&self.name, &other.name)
            && self.primary == other.primary
            && same_name(&self.alias_dns_name, &other.alias_dns_name)
            && self.alias_zone_id == other.alias_zone_id
            && self.evaluate_target_health == other.evaluate_target_health
    }

    /// The `records` key: `_standby-1/primary`.
    pub fn key(&self) -> String {
        let label = self.name.split('.').next().unwrap_or_default();
        format!("{label}/{}", self.set_identifier())
    }

    pub fn summary(&self) -> String {
        format!(
            "failover {} to {} (zone {}){}",
            self.set_identifier(),
            self.alias_dns_name
                .trim_end_matches('.')
                .to_ascii_lowercase(),
            self.alias_zone_id,
            if self.evaluate_target_health {
                ", evaluates target health"
            } else {
                ""
            }
        )
    }
}

/// The name of the `k`th group (from 1) of the failover name `domain`.
pub fn group_name(domain: &str, k: usize) -> String {
    format!("_standby-{k}.{}", domain.trim_end_matches('.'))
}

/// The chain over load balancers `(DNS name, canonical zone)` in order of preference, in the
/// zone `zone_id`: empty for fewer than two.
pub fn chain(domain: &str, zone_id: &str, standbys: &[(String, String)]) -> Vec<ChainRecord> {
    let n = standbys.len();
    let mut records = Vec::new();
    for k in 1..n {
        let name = group_name(domain, k);
        let (dns, zone) = &standbys[k - 1];
        records.push(ChainRecord {
            name: name.clone(),
            primary: true,
            alias_dns_name: dns.clone(),
            alias_zone_id: zone.clone(),
            evaluate_target_health: true,
        });
        let (alias_dns_name, alias_zone_id) = if k + 1 < n {
            (group_name(domain, k + 1), zone_id.to_owned())
        } else {
            standbys[n - 1].clone()
        };
        records.push(ChainRecord {
            name,
            primary: false,
            alias_dns_name,
            alias_zone_id,
            evaluate_target_health: true,
        });
    }
    records
}

/// The load balancers `(DNS name, zone)` a chain of `domain` answers with, in its order: how an
/// import finds the standbys.
pub fn targets(domain: &str, records: &[ChainRecord]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for k in 1..=MAX_GROUPS {
        let name = group_name(domain, k);
        let member = |primary: bool| {
            records
                .iter()
                .find(|r| same_name(&r.name, &name) && r.primary == primary)
        };
        let (Some(first), Some(second)) = (member(true), member(false)) else {
            break;
        };
        found.push((first.alias_dns_name.clone(), first.alias_zone_id.clone()));
        if !same_name(&second.alias_dns_name, &group_name(domain, k + 1)) {
            found.push((second.alias_dns_name.clone(), second.alias_zone_id.clone()));
            break;
        }
    }
    found
}

/// Every chain record the zone holds for `domain`, a group at most `MAX_GROUPS` deep.
pub async fn find(r53: &Client, zone_id: &str, domain: &str) -> Result<Vec<ChainRecord>, AwsError> {
    let mut found = Vec::new();
    for k in 1..=MAX_GROUPS {
        let name = group_name(domain, k);
        let out = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(&name)
            .start_record_type(RrType::A)
            .max_items(2)
            .send()
            .await?;
        found.extend(
            out.resource_record_sets()
                .iter()
                .filter(|set| same_name(set.name(), &name) && set.r#type() == &RrType::A)
                .filter_map(|set| {
                    let alias = set.alias_target()?;
                    Some(ChainRecord {
                        name: name.clone(),
                        primary: set.failover()? == &ResourceRecordSetFailover::Primary,
                        alias_dns_name: alias.dns_name().trim_end_matches('.').to_owned(),
                        alias_zone_id: alias.hosted_zone_id().to_owned(),
                        evaluate_target_health: alias.evaluate_target_health(),
                    })
                }),
        );
    }
    Ok(found)
}

/// The change of one chain record.
pub fn change(action: ChangeAction, r: &ChainRecord) -> Result<Change, Cause> {
    route53::alias_change(
        action,
        &r.alias_dns_name,
        &r.alias_zone_id,
        r.evaluate_target_health,
        |set| {
            set.name(&r.name)
                .set_identifier(r.set_identifier())
                .failover(if r.primary {
                    ResourceRecordSetFailover::Primary
                } else {
                    ResourceRecordSetFailover::Secondary
                })
        },
    )
}

/// The groups deepest first: each alias then finds its target earlier in the batch (Route 53
/// refuses an alias to a record of the zone that is not there: "that target was not found").
pub fn deepest_first<'a>(
    records: impl IntoIterator<Item = &'a ChainRecord>,
) -> Vec<&'a ChainRecord> {
    let mut ordered: Vec<&ChainRecord> = records.into_iter().collect();
    ordered.sort_by(|a, b| b.name.cmp(&a.name));
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn albs(n: usize) -> Vec<(String, String)> {
        (1..=n)
            .map(|i| (format!("alb-{i}.elb.amazonaws.com"), format!("ZELB{i}")))
            .collect()
    }

    #[test]
    fn one_standby_needs_no_chain() {
        assert!(chain("app.tap-test.net", "Z1", &albs(1)).is_empty());
    }

    /// Three standbys: two groups, the first's secondary the second group, the last's
    /// secondary the last load balancer.
    #[test]
    fn standbys_chain_in_order_of_preference() {
        let records = chain("app.tap-test.net", "Z1", &albs(3));
        let summary: Vec<(String, String, String)> = records
            .iter()
            .map(|r| (r.key(), r.alias_dns_name.clone(), r.alias_zone_id.clone()))
            .collect();
        let row = |k: &str, dns: &str, zone: &str| (k.to_owned(), dns.to_owned(), zone.to_owned());
        assert_eq!(
            summary,
            [
                row("_standby-1/primary", "alb-1.elb.amazonaws.com", "ZELB1"),
                row("_standby-1/secondary", "_standby-2.app.tap-test.net", "Z1"),
                row("_standby-2/primary", "alb-2.elb.amazonaws.com", "ZELB2"),
                row("_standby-2/secondary", "alb-3.elb.amazonaws.com", "ZELB3"),
            ]
        );
        let order: Vec<String> = deepest_first(&records).iter().map(|r| r.key()).collect();
        assert_eq!(&order[..2], ["_standby-2/primary", "_standby-2/secondary"]);
        assert_eq!(targets("app.tap-test.net", &records), albs(3));
    }

    #[test]
    fn the_deepest_group_of_the_most_standbys_is_read() {
        assert_eq!(
            chain("a.tap-test.net", "Z1", &albs(MAX_GROUPS + 1)).len(),
            2 * MAX_GROUPS
        );
    }
}
