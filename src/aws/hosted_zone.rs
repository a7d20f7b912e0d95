//! The public hosted zone the failover records live in: create, find, read and delete. A zone
//! the user gave us is only ever read.

use aws_sdk_route53::types::{HostedZone, TagResourceType};
use aws_sdk_route53::Client;

use super::error::{found, AwsError, Context, PartResult};
use super::retry;
use super::route53::{self, bare_id};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq)]
pub struct ZoneFacts {
    pub id: String,
    /// With its trailing dot, as Route 53 returns it.
    pub name: String,
    pub name_servers: Vec<String>,
    pub ours: bool,
}

/// The zone with this ID, or `None` if it does not exist.
pub async fn find_by_id(
    r53: &Client,
    id: &str,
    suffix: &str,
) -> Result<Option<ZoneFacts>, AwsError> {
    let Some(out) = found(r53.get_hosted_zone().id(bare_id(id)).send().await)? else {
        return Ok(None);
    };
    let Some(zone) = out.hosted_zone() else {
        return Ok(None);
    };
    Ok(Some(ZoneFacts {
        id: bare_id(zone.id()).to_owned(),
        name: zone.name().to_owned(),
        name_servers: out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default(),
        ours: route53::is_ours(Some(zone.caller_reference()), suffix),
    }))
}

/// The zone this stack created (for `name`, when given), found by its caller reference.
pub async fn find_ours(
    r53: &Client,
    name: Option<&str>,
    suffix: &str,
) -> Result<Option<ZoneFacts>, AwsError> {
    let zones = all(r53).await?;
    match zones.iter().find(|z| {
        route53::is_ours(Some(z.caller_reference()), suffix)
            && name.is_none_or(|n| same_name(z.name(), n))
    }) {
        Some(zone) => find_by_id(r53, zone.id(), suffix).await,
        None => Ok(None),
    }
}

/// Every hosted zone of the account, all pages.
pub async fn all(r53: &Client) -> Result<Vec<HostedZone>, AwsError> {
    let mut zones = Vec::new();
    let mut marker = None;
    loop {
        let out = r53.list_hosted_zones().set_marker(marker).send().await?;
        zones.extend(out.hosted_zones().iter().cloned());
        match out.next_marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_owned()),
            _ => return Ok(zones),
        }
    }
}

/// Creates the zone (or finds the one a crashed apply created) and sets its tags.
pub async fn ensure(r53: &Client, name: &str, suffix: &str, tags: &Tags) -> PartResult<ZoneFacts> {
    let action = || format!("creating Route 53 hosted zone {name}");
    let zone = match find_ours(r53, Some(name), suffix).await.context(action)? {
        Some(zone) => zone,
        None => {
            tracing::info!("{}", action());
            let id = retry::create_once(
                &action(),
                &["HostedZoneAlreadyExists"],
                || async { Ok(find_ours(r53, Some(name), suffix).await?.map(|z| z.id)) },
                || async {
                    let out = send_once!(
                        r53.create_hosted_zone()
                            .name(name)
                            .caller_reference(route53::caller_reference(suffix, "zone")),
                        aws_sdk_route53
                    )
                    .await?;
                    Ok::<_, AwsError>(
                        out.hosted_zone()
                            .map(|z| bare_id(z.id()).to_owned())
                            .unwrap_or_default(),
                    )
                },
            )
            .await
            .context(action)?;
            find_by_id(r53, &id, suffix)
                .await
                .context(action)?
                .ok_or_else(|| AwsError {
                    code: None,
                    message: format!("hosted zone {id} not found right after its creation"),
                })
                .context(action)?
        }
    };
    route53::sync_tags(r53, TagResourceType::Hostedzone, &zone.id, tags).await?;
    Ok(zone)
}

/// DNS names compare without case and without the trailing dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Deletes a zone we created. It must hold nothing but its NS and SOA records: anything else
/// was put there by someone else, and Route 53 refuses with HostedZoneNotEmpty.
pub async fn delete(r53: &Client, id: &str) -> PartResult<()> {
    tracing::info!("deleting Route 53 hosted zone {id}");
    match r53.delete_hosted_zone().id(id).send().await {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(())
            } else {
                Err(err).context(|| format!("deleting Route 53 hosted zone {id}"))
            }
        }
    }
}
