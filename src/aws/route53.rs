//! What every Route 53 part shares: ownership by caller reference, tags, and waiting for a
//! change to reach every name server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_route53::types::builders::ResourceRecordSetBuilder;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet, RrType, Tag,
    TagResourceType,
};
use aws_sdk_route53::Client;
use tokio::time::Instant;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::retry;
use super::wait::{self, Poll};
use crate::tags::{self, Tags};

/// Route 53 answers these when its per-account rate (5 requests/s) or a change still in
/// progress gets in the way: "Throttling: Rate exceeded" and "PriorRequestNotComplete: The
/// request was rejected because Route 53 was still processing a prior request."
pub const BUSY: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "PriorRequestNotComplete",
];
/// How long a busy Route 53 call is retried (hashicorp/aws retries record changes for 1m).
pub const BUSY_RETRY: Duration = Duration::from_secs(120);

/// Zones and health checks have no name to find them by, but each keeps the caller reference
/// it was created with: ours start with `tap/<suffix>/`, so a zone or health check created just
/// before a crash is found again, not duplicated. AWS refuses to reuse a caller reference, even
/// a deleted one's, hence the timestamp.
pub fn caller_reference(suffix: &str, what: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{}{what}/{millis}", owner_prefix(suffix))
}

/// Every health check whose caller reference says this stack created it, all pages.
pub async fn health_checks_of(
    r53: &Client,
    suffix: &str,
) -> Result<Vec<aws_sdk_route53::types::HealthCheck>, AwsError> {
    let mut found = Vec::new();
    let mut marker = None;
    loop {
        let out = r53.list_health_checks().set_marker(marker).send().await?;
        found.extend(
            out.health_checks()
                .iter()
                .filter(|c| is_ours(Some(c.caller_reference()), suffix))
                .cloned(),
        );
        match out.next_marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_owned()),
            _ => return Ok(found),
        }
    }
}

pub fn is_ours(caller_reference: Option<&str>, suffix: &str) -> bool {
    caller_reference.is_some_and(|r| r.starts_with(&owner_prefix(suffix)))
}

fn owner_prefix(suffix: &str) -> String {
    format!("tap/{suffix}/")
}

/// The change of one alias A record of a routing policy: `routed` sets its name, set
/// identifier, and weight or failover role on the record.
pub fn alias_change(
    action: ChangeAction,
    alias_dns_name: &str,
    alias_zone_id: &str,
    evaluate_target_health: bool,
    routed: impl FnOnce(ResourceRecordSetBuilder) -> ResourceRecordSetBuilder,
) -> Result<Change, Cause> {
    let alias = built(
        AliasTarget::builder()
            .hosted_zone_id(alias_zone_id)
            .dns_name(alias_dns_name)
            .evaluate_target_health(evaluate_target_health)
            .build(),
    )?;
    let set = routed(ResourceRecordSet::builder().r#type(RrType::A)).alias_target(alias);
    record_change(action, set)
}

/// The change of one record set.
pub fn record_change(action: ChangeAction, set: ResourceRecordSetBuilder) -> Result<Change, Cause> {
    built(
        Change::builder()
            .action(action)
            .resource_record_set(built(set.build())?)
            .build(),
    )
}

/// `/hostedzone/Z123` → `Z123`; Route 53 takes either but returns the long form.
pub fn bare_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

pub async fn tags_of(r53: &Client, kind: TagResourceType, id: &str) -> Result<Tags, AwsError> {
    let out = r53
        .list_tags_for_resource()
        .resource_type(kind)
        .resource_id(id)
        .send()
        .await?;
    Ok(out
        .resource_tag_set()
        .map(|set| {
            set.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
                .collect()
        })
        .unwrap_or_default())
}

pub async fn sync_tags(
    r53: &Client,
    kind: TagResourceType,
    id: &str,
    want: &Tags,
) -> PartResult<()> {
    let action = || format!("tagging Route 53 {} {id}", kind.as_str());
    let have = tags_of(r53, kind.clone(), id).await.context(action)?;
    let changes = tags::diff(&have, want);
    if changes.stale.is_empty() && changes.changed.is_empty() {
        return Ok(());
    }
    // At most 10 keys per call each way.
    let adds: Vec<Tag> = changes
        .changed
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let mut adds = adds.chunks(10);
    let mut removes = changes.stale.chunks(10);
    loop {
        let (add, remove) = (adds.next(), removes.next());
        if add.is_none() && remove.is_none() {
            return Ok(());
        }
        r53.change_tags_for_resource()
            .resource_type(kind.clone())
            .resource_id(id)
            .set_add_tags(add.map(<[Tag]>::to_vec))
            .set_remove_tag_keys(remove.map(<[String]>::to_vec))
            .send()
            .await
            .context(action)?;
    }
}

/// Waits until a change has reached every Route 53 name server. hashicorp/aws waits 10–30 s
/// before its first poll and then polls every 15 s; we poll at once and back off.
pub async fn wait_insync(
    r53: &Client,
    change_id: &str,
    timeout: Duration,
    longest_delay: Duration,
    what: &str,
) -> PartResult<()> {
    wait::until_every(timeout, longest_delay, || async {
        let out = r53.get_change().id(bare_id(change_id)).send().await?;
        Ok(match out.change_info().map(|c| c.status()) {
            Some(ChangeStatus::Insync) => Poll::Ready(()),
            Some(other) => Poll::Pending(other.as_str().to_owned()),
            None => Poll::Pending("no change info".into()),
        })
    })
    .await
    .context(|| format!("waiting for Route 53 change {change_id} ({what}) to be INSYNC"))
}

/// Applies one atomic batch of record changes in `zone_id` (retrying the busy codes) and waits
/// until it is INSYNC.
pub async fn change_and_wait(
    r53: &Client,
    zone_id: &str,
    changes: Vec<Change>,
    timeout: Duration,
    what: &str,
) -> PartResult<()> {
    change_and_wait_every(r53, zone_id, changes, timeout, wait::MAX_DELAY, what).await
}

/// `change_and_wait`, polling the change at least once per `longest_delay`.
pub async fn change_and_wait_every(
    r53: &Client,
    zone_id: &str,
    changes: Vec<Change>,
    timeout: Duration,
    longest_delay: Duration,
    what: &str,
) -> PartResult<()> {
    let action = || format!("{what} in Route 53 zone {zone_id}");
    tracing::info!("{}", action());
    let batch = built(ChangeBatch::builder().set_changes(Some(changes)).build()).context(action)?;
    let deadline = Instant::now() + timeout.min(BUSY_RETRY);
    let out = retry::on_codes(&action(), BUSY, deadline, || async {
        r53.change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch.clone())
            .send()
            .await
    })
    .await
    .context(action)?;
    let change_id = out
        .change_info()
        .map(|c| c.id().to_owned())
        .unwrap_or_default();
    wait_insync(r53, &change_id, timeout, longest_delay, what).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_references_mark_the_stack_without_prefix_collisions() {
        let reference = caller_reference("prod", "health-check");
        assert!(reference.starts_with("tap/prod/health-check/"));
        assert!(is_ours(Some(&reference), "prod"));
        assert!(!is_ours(Some(&reference), "pro"));
        assert!(!is_ours(Some("terraform-123"), "prod"));
        assert!(!is_ours(None, "prod"));
    }

    #[test]
    fn zone_ids_lose_their_path() {
        assert_eq!(bare_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_id("Z123"), "Z123");
        assert_eq!(bare_id("/change/C1"), "C1");
    }
}
