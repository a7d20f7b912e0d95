//! Apply-time work for `tap_session_table`: converge AWS to the plan, read it back, delete it.
//!
//! Create and update share one idempotent `converge`: from whatever AWS holds (nothing, a table
//! without replicas after a failed apply, a replica deleted out of band) it does only the missing
//! steps, so a re-apply resumes instead of starting over.

use std::time::Duration;

use futures::future::join_all;
use tf_provider::value::Value;
use tokio::time::Instant;

use super::desired::{Desired, EVENTUAL, PART, STRONG};
use super::plan;
use super::schema::State;
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::identity;
use crate::aws::session_table::{self as table, Member, TableFacts, TableSpec};
use crate::aws::wait::remaining;
use crate::configured::Configured;
use crate::naming;
use crate::tags::{self, Tags};
use crate::tf::values;

/// Makes AWS hold exactly `want`, within `timeout`.
pub async fn converge(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let home = cfg.clients.regional(&want.region);
    let db = &home.dynamodb;
    let home_tags = want.home_tags();

    let existing = table::find(db, &want.name)
        .await
        .context(|| format!("reading DynamoDB table {}", want.name))?;
    let existing = match existing {
        // Deleted out of band and still going: its name is free only once it is gone.
        Some(found) if table::deleting(&found) => {
            table::wait_deleted(db, &want.name, remaining(deadline)).await?;
            None
        }
        other => other,
    };
    // A replica region is first called once the replica exists: asked before it is made.
    let new_replicas = want.replica_regions.iter().filter(|region| {
        existing
            .as_ref()
            .is_none_or(|found| !found.replicas.iter().any(|r| &r.region == *region))
    });
    identity::accepted_in(&cfg.clients, new_replicas.map(String::as_str)).await?;
    match existing {
        Some(found) => {
            let found_tags = table::tags(db, &found.arn)
                .await
                .context(|| format!("reading tags of DynamoDB table {}", want.name))?;
            ensure_ours(&found_tags, want)?;
        }
        None => {
            let spec = TableSpec {
                name: &want.name,
                deletion_protection: want.deletion_protection,
                tags: &home_tags,
            };
            table::create(db, &spec).await?;
        }
    }
    let current = table::wait_active(db, &want.name, remaining(deadline)).await?;
    table::repair_settings(db, &current).await?;

    if current.deletion_protection != want.deletion_protection {
        table::set_deletion_protection(db, &want.name, want.deletion_protection).await?;
    }
    let pitr = table::point_in_time_recovery(db, &want.name)
        .await
        .context(|| {
            format!(
                "reading point-in-time recovery of DynamoDB table {}",
                want.name
            )
        })?;
    if pitr != want.point_in_time_recovery {
        table::set_point_in_time_recovery(db, &want.name, want.point_in_time_recovery).await?;
    }
    table::sync_tags(db, &current.arn, &home_tags).await?;
    if want.strong {
        return converge_strong(cfg, want, &current, deadline).await;
    }

    let wait_gone = |region| {
        table::wait_member(
            db,
            &want.name,
            Member::Replica,
            region,
            false,
            remaining(deadline),
        )
    };
    // One replica change at a time: DynamoDB refuses a second while the first is in progress.
    for replica in &current.replicas {
        if want.replica_regions.contains(&replica.region) {
            continue;
        }
        // One already being deleted (out of band) is only waited for.
        if !replica.leaving() {
            if !want.deletion_protection {
                // The replica's own protection (set per replica) would refuse its removal.
                let replica_db = &cfg.clients.regional(&replica.region).dynamodb;
                let settings = regional_settings(replica_db, &want.name, &replica.region).await?;
                if settings.is_some_and(|s| s.deletion_protection) {
                    table::set_deletion_protection(replica_db, &want.name, false).await?;
                }
            }
            table::change_replica(db, &want.name, &replica.region, false).await?;
        }
        wait_gone(&replica.region).await?;
    }
    for region in &want.replica_regions {
        match current.replicas.iter().find(|r| &r.region == region) {
            Some(replica) if replica.leaving() => {
                wait_gone(region).await?;
                table::change_replica(db, &want.name, region, true).await?;
            }
            Some(_) => {}
            None => table::change_replica(db, &want.name, region, true).await?,
        }
        table::wait_member(
            db,
            &want.name,
            Member::Replica,
            region,
            true,
            remaining(deadline),
        )
        .await?;
        converge_replica(cfg, want, region).await?;
    }
    Ok(())
}

/// A strongly consistent (MRSC) table is made from the empty table in one request, then only
/// waited for: DynamoDB freezes its Regions (a change replaces the table, see plan.rs).
async fn converge_strong(
    cfg: &Configured,
    want: &Desired,
    current: &TableFacts,
    deadline: Instant,
) -> PartResult<()> {
    let db = &cfg.clients.regional(&want.region).dynamodb;
    if !current.strong {
        let witness = want.witness_region.as_deref();
        table::make_strong(db, &want.name, &want.replica_regions, witness).await?;
    }
    let replicas = want.replica_regions.iter().map(|r| (Member::Replica, r));
    let witness = want.witness_region.iter().map(|r| (Member::Witness, r));
    for (member, region) in replicas.chain(witness) {
        table::wait_member(db, &want.name, member, region, true, remaining(deadline)).await?;
    }
    for region in &want.replica_regions {
        converge_replica(cfg, want, region).await?;
    }
    Ok(())
}

/// Settings DynamoDB keeps per replica, none of them propagated from the home table: point-in-time
/// recovery, deletion protection and tags (aws-controllers-k8s/community#2650: "deletionProtection
/// Enabled, tags, and contributorInsights are not propagated to the replica tables";
/// hashicorp/terraform-provider-aws#30213 / PR #43240 set protection per replica). A new replica
/// starts without protection and without point-in-time recovery.
async fn converge_replica(cfg: &Configured, want: &Desired, region: &str) -> PartResult<()> {
    let db = &cfg.clients.regional(region).dynamodb;
    let replica = table::find(db, &want.name)
        .await
        .context(|| format!("reading replica of DynamoDB table {} in {region}", want.name))?
        .ok_or_else(|| PartError {
            action: format!("reading replica of DynamoDB table {} in {region}", want.name),
            cause: Cause::Unexpected("the replica is ACTIVE in the home region's view but its table is not visible in its own region".into()),
        })?;
    if replica.deletion_protection != want.deletion_protection {
        table::set_deletion_protection(db, &want.name, want.deletion_protection).await?;
    }
    let pitr = table::point_in_time_recovery(db, &want.name)
        .await
        .context(|| format!("reading point-in-time recovery of the replica in {region}"))?;
    if pitr != want.point_in_time_recovery {
        table::set_point_in_time_recovery(db, &want.name, want.point_in_time_recovery).await?;
    }
    table::sync_tags(db, &replica.arn, &want.replica_tags()).await
}

/// The settings a table holds in one region (its home or a replica's).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RegionalSettings {
    point_in_time_recovery: bool,
    deletion_protection: bool,
}

/// What the table in `db`'s region holds, or `None` if it is not visible there (a replica still
/// being created, or removed).
async fn regional_settings(
    db: &aws_sdk_dynamodb::Client,
    name: &str,
    region: &str,
) -> PartResult<Option<RegionalSettings>> {
    let read = || format!("reading DynamoDB table {name} in {region}");
    // Both at once: each needs only the name. A table that is not there (or a replica being
    // removed, which can vanish between the two) is no replica.
    let (found, pitr) = tokio::join!(
        table::find(db, name),
        table::point_in_time_recovery(db, name)
    );
    let Some(found) = found.context(read)?.filter(|t| !table::deleting(t)) else {
        return Ok(None);
    };
    let pitr = match pitr {
        Err(err) if err.is_not_found() => return Ok(None),
        other => other.context(read)?,
    };
    Ok(Some(RegionalSettings {
        point_in_time_recovery: pitr,
        deletion_protection: found.deletion_protection,
    }))
}

/// `arn:aws:dynamodb:<region>:<account>:table/<name>` in another region.
fn in_region(arn: &str, region: &str) -> String {
    let mut parts: Vec<&str> = arn.splitn(5, ':').collect();
    if parts.len() == 5 {
        parts[3] = region;
    }
    parts.join(":")
}

/// A table with our name that another stack (or a person) made is never adopted silently.
fn ensure_ours(found: &Tags, want: &Desired) -> PartResult<()> {
    let owner = found.get(tags::STACK_KEY);
    let part = found.get(tags::PART_KEY);
    if owner == Some(&want.suffix) && part.map(String::as_str) == Some(PART) {
        return Ok(());
    }
    Err(PartError {
        action: format!("creating DynamoDB table {}", want.name),
        cause: Cause::Unexpected(format!(
            "a table with this name already exists in {} and is not owned by stack \"{}\" ({} tag is {}). Import it with `terraform import` or choose another name.",
            want.region,
            want.suffix,
            tags::STACK_KEY,
            owner.map_or("absent".to_string(), |o| format!("\"{o}\"")),
        )),
    })
}

/// What AWS holds for the table, as state. `prior` supplies what AWS cannot tell us (which tags
/// the user wrote, the order of replica regions, timeouts). `None` if the table is gone.
pub async fn observe(
    cfg: &Configured,
    name: &str,
    region: &str,
    prior: &State,
) -> PartResult<Option<State>> {
    let db = &cfg.clients.regional(region).dynamodb;
    let read = || format!("reading DynamoDB table {name} in {region}");
    // The replicas last recorded are read beside the table itself (their reads need only the
    // name), and its tags by the ARN last read, so a no-op plan waits for one round of DynamoDB
    // requests, not three.
    let expected = values::known_list(&prior.replica_regions).unwrap_or_default();
    let replica_settings = |regions: Vec<String>| {
        join_all(regions.into_iter().map(|region| async move {
            let db = &cfg.clients.regional(&region).dynamodb;
            let settings = regional_settings(db, name, &region).await;
            (region, settings)
        }))
    };
    let recorded_arn = prior.arn.as_ref_option().filter(|arn| !arn.is_empty());
    let (found, pitr, early, early_tags) = tokio::join!(
        table::find(db, name),
        table::point_in_time_recovery(db, name),
        replica_settings(expected),
        async {
            match recorded_arn {
                Some(arn) => Some(table::tags(db, arn).await),
                None => None,
            }
        },
    );
    let Some(found) = found.context(read)?.filter(|t| !table::deleting(t)) else {
        return Ok(None);
    };
    let pitr = pitr.context(read)?;
    // A replica that failed (CREATION_FAILED, REGION_DISABLED, ...) serves no standby: left out,
    // it shows in the plan as missing and the next apply reports AWS's reason again. One being
    // deleted (out of band) is missing too: the next apply waits for it to go and adds it again.
    let serving = || {
        found
            .replicas
            .iter()
            .filter(|r| !r.failed() && !r.leaving())
    };
    // Read early but no longer serving (failed, leaving, removed): neither its answer nor its
    // failure counts.
    let mut settings = early;
    let unread: Vec<String> = serving()
        .map(|r| r.region.clone())
        .filter(|r| !settings.iter().any(|(region, _)| region == r))
        .collect();
    let (all_tags, late) = tokio::join!(
        async {
            match early_tags {
                Some(Ok(tags)) if recorded_arn == Some(&found.arn) => Ok(tags),
                _ => table::tags(db, &found.arn).await.context(read),
            }
        },
        replica_settings(unread),
    );
    let all_tags = all_tags?;
    settings.extend(late);
    let mut replica_settings = Vec::new();
    for (region, answer) in settings {
        if serving().any(|r| r.region == region) {
            if let Some(s) = answer? {
                replica_settings.push((region, s));
            }
        }
    }
    let replica_settings = plan::replica_settings(replica_settings.iter().map(|(region, s)| {
        (
            region.as_str(),
            s.point_in_time_recovery,
            s.deletion_protection,
        )
    }));
    // A replica's ARN is the home table's with the replica's region: no call to each region.
    let replica_arns: Tags = serving()
        .map(|r| (r.region.clone(), in_region(&found.arn, &r.region)))
        .collect();

    let prior_regions = values::known_list(&prior.replica_regions).unwrap_or_default();
    let mut regions: Vec<String> = prior_regions
        .iter()
        .filter(|r| serving().any(|x| &x.region == *r))
        .cloned()
        .collect();
    let mut added: Vec<String> = serving()
        .map(|r| r.region.clone())
        .filter(|r| !regions.contains(r))
        .collect();
    added.sort();
    regions.extend(added);

    let prior_user_tags = values::known_map(&prior.tags).unwrap_or_default();
    let user_tags = user_tags(&all_tags, &prior_user_tags, &cfg.default_tags);
    let suffix = prior
        .environment_suffix
        .as_ref_option()
        .cloned()
        .or_else(|| all_tags.get(tags::STACK_KEY).cloned())
        .or_else(|| naming::suffix_from_session_table(name).map(str::to_owned))
        .unwrap_or_default();

    Ok(Some(State {
        id: values::string(name),
        environment_suffix: values::string(suffix),
        name: values::string(name),
        region: values::string(region),
        replica_regions: values::list(&regions),
        consistency: values::string(if found.strong { STRONG } else { EVENTUAL }),
        witness_region: found
            .witnesses
            .iter()
            .find(|w| !w.leaving())
            .map_or(Value::Null, |w| values::string(w.region.clone())),
        // The user's word, not AWS's: as configured, else its default.
        allow_data_loss: prior.allow_data_loss.or(Value::Value(false)),
        point_in_time_recovery: pitr.into(),
        deletion_protection: found.deletion_protection.into(),
        replica_settings: values::map(&replica_settings),
        environment: all_tags
            .get("Environment")
            .cloned()
            .map(values::string)
            .unwrap_or_else(|| prior.environment.clone()),
        tags: values::map_or_null(&user_tags, prior.tags.is_null()),
        tags_all: values::map(&all_tags),
        arn: values::string(found.arn.clone()),
        stream_arn: found.stream_arn.clone().into(),
        billing_mode: found.billing_mode.clone().into(),
        stream_view_type: found.stream_view_type.clone().into(),
        server_side_encryption: found.sse_enabled.into(),
        replica_arns: values::map(&replica_arns),
        timeouts: prior.timeouts.clone(),
    }))
}

/// The tags the user wrote: everything on the table except what the provider adds itself
/// (standard and ownership tags, `default_tags` with their value), unless the user wrote that
/// key too.
fn user_tags(all: &Tags, prior_user: &Tags, default_tags: &Tags) -> Tags {
    const STANDARD: [&str; 3] = ["Name", "Environment", "FailoverRole"];
    all.iter()
        .filter(|(k, v)| {
            prior_user.contains_key(*k)
                || !(STANDARD.contains(&k.as_str())
                    || k.starts_with("tap:")
                    || default_tags.get(*k) == Some(*v))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Removes replicas (all at once, each waited for), then the table. Gone already is fine.
pub async fn delete(
    cfg: &Configured,
    name: &str,
    region: &str,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let db = &cfg.clients.regional(region).dynamodb;
    let Some(found) = table::find(db, name)
        .await
        .context(|| format!("reading DynamoDB table {name} before deleting it"))?
    else {
        return Ok(());
    };
    let protected = |place: String| {
        PartError {
        action: format!("deleting DynamoDB table {name}"),
        cause: Cause::Unexpected(format!("deletion protection is on {place}. Set deletion_protection = false and apply, then destroy.")),
    }
    };
    if found.deletion_protection {
        return Err(protected(format!("in its home region {region}")));
    }
    // Each replica holds its own protection, and a protected replica cannot be removed: refuse
    // before removing anything. A failed replica (its region disabled, say) is not asked.
    for replica in found.replicas.iter().filter(|r| !r.failed()) {
        let replica_db = &cfg.clients.regional(&replica.region).dynamodb;
        let settings = regional_settings(replica_db, name, &replica.region).await?;
        if settings.is_some_and(|s| s.deletion_protection) {
            return Err(protected(format!("for its replica in {}", replica.region)));
        }
    }
    if found.strong {
        return delete_strong(db, &found, deadline).await;
    }
    let removals = found.replicas.iter().map(|r| async move {
        // One already DELETING (an interrupted destroy) is only waited for: DynamoDB no
        // longer accepts a delete of it.
        if r.status != "DELETING" {
            table::change_replica(db, name, &r.region, false).await?;
        }
        table::wait_member(
            db,
            name,
            Member::Replica,
            &r.region,
            false,
            remaining(deadline),
        )
        .await
    });
    join_all(removals)
        .await
        .into_iter()
        .collect::<PartResult<Vec<()>>>()?;
    table::delete(db, name, remaining(deadline)).await
}

/// An MRSC table: every replica and the witness go in one request (DynamoDB refuses removing any
/// alone, and DeleteTable while they exist), then the table that is regional again.
async fn delete_strong(
    db: &aws_sdk_dynamodb::Client,
    found: &TableFacts,
    deadline: Instant,
) -> PartResult<()> {
    let name = &found.name;
    let regions = |members: &[table::ReplicaFacts]| -> Vec<String> {
        members.iter().map(|m| m.region.clone()).collect()
    };
    // Already DELETING (an interrupted destroy): only waited for.
    let started = found
        .replicas
        .iter()
        .chain(&found.witnesses)
        .any(|m| m.status == "DELETING");
    if !started {
        table::dissolve_strong(
            db,
            name,
            &regions(&found.replicas),
            &regions(&found.witnesses),
        )
        .await?;
    }
    let replicas = found.replicas.iter().map(|m| (Member::Replica, m));
    let witnesses = found.witnesses.iter().map(|m| (Member::Witness, m));
    for (member, m) in replicas.chain(witnesses) {
        table::wait_member(db, name, member, &m.region, false, remaining(deadline)).await?;
    }
    table::delete(db, name, remaining(deadline)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_arn_is_the_home_arn_in_its_region() {
        assert_eq!(
            in_region(
                "arn:aws:dynamodb:us-east-1:123456789012:table/t-prod",
                "us-east-2"
            ),
            "arn:aws:dynamodb:us-east-2:123456789012:table/t-prod"
        );
    }

    #[test]
    fn user_tags_exclude_what_the_provider_adds() {
        let all = Tags::from([
            ("Name".into(), "t".into()),
            ("Environment".into(), "Production".into()),
            ("FailoverRole".into(), "Primary".into()),
            ("tap:stack".into(), "prod".into()),
            ("Team".into(), "core".into()),
            ("Owner".into(), "fx".into()),
            ("Drifted".into(), "x".into()),
        ]);
        let defaults = Tags::from([("Team".into(), "core".into())]);
        let prior = Tags::from([("Owner".into(), "fx".into())]);
        let tags = user_tags(&all, &prior, &defaults);
        assert_eq!(
            tags,
            Tags::from([
                ("Owner".into(), "fx".into()),
                ("Drifted".into(), "x".into())
            ])
        );
        // A user who writes a standard key keeps it.
        let prior = Tags::from([("Name".into(), "t".into())]);
        assert!(user_tags(&all, &prior, &defaults).contains_key("Name"));
    }
}
