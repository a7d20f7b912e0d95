//! The DynamoDB global table (version 2019.11.21) that holds trading sessions: create, find,
//! update, delete and wait, for the table and for each replica.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalTableWitnessGroupMemberAction,
    CreateReplicationGroupMemberAction, DeleteGlobalTableWitnessGroupMemberAction,
    DeleteReplicationGroupMemberAction, GlobalTableWitnessGroupUpdate, KeySchemaElement, KeyType,
    MultiRegionConsistency, PointInTimeRecoverySpecification, PointInTimeRecoveryStatus,
    ReplicaStatus, ReplicationGroupUpdate, ScalarAttributeType, SseSpecification,
    StreamSpecification, StreamViewType, TableDescription, TableStatus, Tag,
};
use aws_sdk_dynamodb::Client;
use tokio::time::Instant;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::retry;
use super::wait::{self, Poll};
use crate::tags::Tags;

pub const PARTITION_KEY: &str = "sessionId";

/// The Region sets of an MRSC global table: its replicas and witness all belong to one ("The
/// witness must be in a different Region than the replicas and within the same Region set",
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateGlobalTableWitnessGroupMemberAction.html,
/// and the same list in AWS::DynamoDB::GlobalTable GlobalTableWitness). A third-party log saw
/// AWS accept a table across two sets (design/issue-20-mrsc.md); AWS's documentation wins.
pub const MRSC_REGION_SETS: &[(&str, &[&str])] = &[
    ("US", &["us-east-1", "us-east-2", "us-west-2"]),
    (
        "EU",
        &["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
    ),
    (
        "AP",
        &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
    ),
];

/// The MRSC Region set `region` belongs to, if any.
pub fn mrsc_region_set(region: &str) -> Option<&'static str> {
    MRSC_REGION_SETS
        .iter()
        .find(|(_, regions)| regions.contains(&region))
        .map(|(set, _)| *set)
}

/// DynamoDB refuses concurrent control-plane changes with these codes; they clear by themselves.
/// "LimitExceededException: Subscriber limit exceeded: Only 10 tables can be created, updated, or
/// deleted simultaneously" and "ResourceInUseException: Table is being updated".
const BUSY: &[&str] = &["LimitExceededException", "ResourceInUseException"];
/// "ContinuousBackupsUnavailableException: Backups are being enabled for the table" right after
/// the table or its replica becomes ACTIVE.
const BACKUPS_NOT_READY: &[&str] = &["ContinuousBackupsUnavailableException"];
/// How long to keep retrying a busy table before reporting the conflict (hashicorp/aws: 20m for
/// replica updates; ours are smaller steps).
const BUSY_RETRY: Duration = Duration::from_secs(300);

/// What the user asked for.
pub struct TableSpec<'a> {
    pub name: &'a str,
    pub deletion_protection: bool,
    pub tags: &'a Tags,
}

/// What AWS holds, reduced to what the resource reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TableFacts {
    pub name: String,
    pub arn: String,
    pub status: String,
    pub stream_arn: Option<String>,
    pub stream_view_type: Option<String>,
    pub billing_mode: Option<String>,
    pub sse_enabled: bool,
    pub deletion_protection: bool,
    pub replicas: Vec<ReplicaFacts>,
    /// Multi-Region strong consistency (MRSC); DescribeTable omits the mode otherwise.
    pub strong: bool,
    /// The MRSC witness (at most one), with its WitnessStatus.
    pub witnesses: Vec<ReplicaFacts>,
}

/// A member of a global table other than the home table: a replica, or an MRSC witness.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Member {
    Replica,
    Witness,
}

impl Member {
    fn of(self, table: &TableFacts) -> &[ReplicaFacts] {
        match self {
            Member::Replica => &table.replicas,
            Member::Witness => &table.witnesses,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Member::Replica => "replica",
            Member::Witness => "witness",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaFacts {
    pub region: String,
    pub status: String,
    /// AWS's reason for the status (ReplicaStatusDescription), mostly for the failed ones.
    pub status_description: Option<String>,
}

/// Replica statuses that never become ACTIVE by themselves (ReplicaDescription,
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ReplicaDescription.html):
/// creation failed, the Region is disabled, or the table's KMS key is inaccessible. Waiting on
/// them only runs out the timeout (hashicorp/terraform-provider-aws#46228).
const REPLICA_FAILED: &[ReplicaStatus] = &[
    ReplicaStatus::CreationFailed,
    ReplicaStatus::RegionDisabled,
    ReplicaStatus::InaccessibleEncryptionCredentials,
];

impl ReplicaFacts {
    pub fn failed(&self) -> bool {
        REPLICA_FAILED.iter().any(|f| f.as_str() == self.status)
    }

    /// Being deleted: DynamoDB takes a replica in its region again only once it is gone.
    pub fn leaving(&self) -> bool {
        self.status == ReplicaStatus::Deleting.as_str()
    }
}

fn facts(table: &TableDescription) -> TableFacts {
    TableFacts {
        name: table.table_name().unwrap_or_default().to_owned(),
        arn: table.table_arn().unwrap_or_default().to_owned(),
        status: table
            .table_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        stream_arn: table.latest_stream_arn().map(str::to_owned),
        stream_view_type: table
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str().to_owned()),
        billing_mode: table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str().to_owned()),
        sse_enabled: table
            .sse_description()
            .and_then(|d| d.status())
            .is_some_and(|s| s.as_str() == "ENABLED"),
        deletion_protection: table.deletion_protection_enabled().unwrap_or(false),
        replicas: table
            .replicas()
            .iter()
            .map(|r| ReplicaFacts {
                region: r.region_name().unwrap_or_default().to_owned(),
                status: r
                    .replica_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_description: r.replica_status_description().map(str::to_owned),
            })
            .collect(),
        strong: table.multi_region_consistency() == Some(&MultiRegionConsistency::Strong),
        witnesses: table
            .global_table_witnesses()
            .iter()
            .map(|w| ReplicaFacts {
                region: w.region_name().unwrap_or_default().to_owned(),
                status: w
                    .witness_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                status_description: None,
            })
            .collect(),
    }
}

fn aws_tags(tags: &Tags) -> Result<Vec<Tag>, Cause> {
    tags.iter()
        .map(|(k, v)| built(Tag::builder().key(k).value(v).build()))
        .collect()
}

/// Creates the table: on-demand, `sessionId` string key, SSE, NEW_AND_OLD_IMAGES stream.
pub async fn create(db: &Client, spec: &TableSpec<'_>) -> PartResult<()> {
    let action = || format!("creating DynamoDB table {}", spec.name);
    let request = (|| -> Result<_, Cause> {
        Ok(db
            .create_table()
            .table_name(spec.name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(built(
                AttributeDefinition::builder()
                    .attribute_name(PARTITION_KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build(),
            )?)
            .key_schema(built(
                KeySchemaElement::builder()
                    .attribute_name(PARTITION_KEY)
                    .key_type(KeyType::Hash)
                    .build(),
            )?)
            .sse_specification(SseSpecification::builder().enabled(true).build())
            .stream_specification(built(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build(),
            )?)
            .deletion_protection_enabled(spec.deletion_protection)
            .set_tags(Some(aws_tags(spec.tags)?)))
    })()
    .context(action)?;
    tracing::info!("{}", action());
    let deadline = Instant::now() + BUSY_RETRY;
    let what = action();
    retry::on_codes(&what, &["LimitExceededException"], deadline, || {
        retry::create_once(
            &what,
            &["ResourceInUseException"],
            || async { Ok(find(db, spec.name).await?.map(|_| ())) },
            || {
                let request = request.clone();
                async move { send_once!(request, aws_sdk_dynamodb).await.map(|_| ()) }
            },
        )
    })
    .await
    .context(action)
}

/// The table, or `None` if it does not exist. As the table's first call in its region, it also
/// says when the account has not enabled the region.
pub async fn find(db: &Client, name: &str) -> Result<Option<TableFacts>, AwsError> {
    tracing::debug!("reading DynamoDB table {name} in {}", region_of(db));
    match db.describe_table().table_name(name).send().await {
        Ok(out) => Ok(out
            .table()
            .filter(|t| t.table_name() == Some(name))
            .map(facts)),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err.in_region(&region_of(db)))
            }
        }
    }
}

/// Whether the table is on its way out: it keeps its name until it is gone.
pub fn deleting(table: &TableFacts) -> bool {
    table.status == TableStatus::Deleting.as_str()
}

pub async fn wait_deleted(db: &Client, name: &str, timeout: Duration) -> PartResult<()> {
    wait::until_gone(timeout, || find(db, name))
        .await
        .context(|| format!("waiting for DynamoDB table {name} to be deleted"))
}

pub async fn wait_active(db: &Client, name: &str, timeout: Duration) -> PartResult<TableFacts> {
    wait::until(timeout, || async {
        Ok(match find(db, name).await? {
            Some(t) if t.status == TableStatus::Active.as_str() => Poll::Ready(t),
            Some(t) => Poll::Pending(t.status),
            // Just created: DescribeTable may not see it yet.
            None => Poll::Pending("not visible yet".into()),
        })
    })
    .await
    .context(|| format!("waiting for DynamoDB table {name} to become ACTIVE"))
}

pub async fn point_in_time_recovery(db: &Client, name: &str) -> Result<bool, AwsError> {
    let out = db
        .describe_continuous_backups()
        .table_name(name)
        .send()
        .await?;
    Ok(out
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled))
}

/// Turns point-in-time recovery on or off for the table in `db`'s region.
pub async fn set_point_in_time_recovery(db: &Client, name: &str, enabled: bool) -> PartResult<()> {
    let action = || {
        format!(
            "{} point-in-time recovery on DynamoDB table {name} in {}",
            if enabled { "enabling" } else { "disabling" },
            region_of(db)
        )
    };
    let spec = built(
        PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(enabled)
            .build(),
    )
    .context(action)?;
    let deadline = Instant::now() + BUSY_RETRY;
    retry::on_codes(&action(), BACKUPS_NOT_READY, deadline, || {
        let request = db
            .update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(spec.clone());
        async move { request.send().await.map(|_| ()) }
    })
    .await
    .context(action)
}

/// Billing, stream and encryption as the spec fixes them; each repaired with its own UpdateTable
/// because DynamoDB accepts one kind of change per call.
pub const BILLING_MODE: &str = "PAY_PER_REQUEST";
pub const STREAM_VIEW_TYPE: &str = "NEW_AND_OLD_IMAGES";

pub async fn repair_settings(db: &Client, current: &TableFacts) -> PartResult<()> {
    let name = current.name.as_str();
    if current.billing_mode.as_deref() != Some(BILLING_MODE) {
        update(db, name, "setting on-demand billing on", |r| {
            r.billing_mode(BillingMode::PayPerRequest)
        })
        .await?;
    }
    if current.stream_view_type.as_deref() != Some(STREAM_VIEW_TYPE) {
        let stream = built(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build(),
        )
        .context(|| format!("enabling the stream on DynamoDB table {name}"))?;
        if current.stream_view_type.is_some() {
            // A stream's view type cannot change in place: disable, then enable.
            let off = built(StreamSpecification::builder().stream_enabled(false).build())
                .context(|| format!("disabling the stream on DynamoDB table {name}"))?;
            update(db, name, "disabling the stream on", |r| {
                r.stream_specification(off.clone())
            })
            .await?;
        }
        update(db, name, "enabling the NEW_AND_OLD_IMAGES stream on", |r| {
            r.stream_specification(stream.clone())
        })
        .await?;
    }
    if !current.sse_enabled {
        update(db, name, "enabling encryption on", |r| {
            r.sse_specification(SseSpecification::builder().enabled(true).build())
        })
        .await?;
    }
    Ok(())
}

/// One UpdateTable call, retried while the table is busy with another change.
async fn update(
    db: &Client,
    name: &str,
    what: &str,
    configure: impl Fn(
        aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder,
    )
        -> aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder,
) -> PartResult<()> {
    let action = || format!("{what} DynamoDB table {name}");
    tracing::info!("{}", action());
    let deadline = Instant::now() + BUSY_RETRY;
    retry::on_codes(&action(), BUSY, deadline, || {
        let request = configure(db.update_table().table_name(name));
        async move { request.send().await.map(|_| ()) }
    })
    .await
    .context(action)
}

pub async fn set_deletion_protection(db: &Client, name: &str, enabled: bool) -> PartResult<()> {
    let what = format!("setting deletion protection to {enabled} on");
    update(db, name, &what, |r| r.deletion_protection_enabled(enabled)).await
}

/// Asks DynamoDB to add (or remove) the replica in `region`.
pub async fn change_replica(db: &Client, name: &str, region: &str, add: bool) -> PartResult<()> {
    let action = || {
        format!(
            "{} replica of DynamoDB table {name} in {region}",
            if add { "creating" } else { "deleting" }
        )
    };
    let replica_update = if add {
        ReplicationGroupUpdate::builder()
            .create(
                built(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build(),
                )
                .context(action)?,
            )
            .build()
    } else {
        ReplicationGroupUpdate::builder()
            .delete(
                built(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build(),
                )
                .context(action)?,
            )
            .build()
    };
    let what = format!(
        "{} replica in {region} of",
        if add { "creating the" } else { "deleting the" }
    );
    update(db, name, &what, |r| {
        r.replica_updates(replica_update.clone())
    })
    .await
}

/// Waits until the replica (or witness) in `region` is ACTIVE (`present`) or gone (`!present`),
/// as the home table reports it.
pub async fn wait_member(
    db: &Client,
    name: &str,
    member: Member,
    region: &str,
    present: bool,
    timeout: Duration,
) -> PartResult<()> {
    wait::until(timeout, || async {
        let table = find(db, name).await?;
        let replica = table
            .as_ref()
            .and_then(|t| member.of(t).iter().find(|r| r.region == region));
        Ok(match (present, replica) {
            (true, Some(r)) if r.status == "ACTIVE" => Poll::Ready(()),
            (true, Some(r)) if r.failed() => {
                return Err(AwsError {
                    code: None,
                    message: format!(
                        "the {} is {}: {}",
                        member.noun(),
                        r.status,
                        r.status_description.as_deref().unwrap_or("no reason given")
                    ),
                })
            }
            (true, Some(r)) => Poll::Pending(r.status.clone()),
            (true, None) => Poll::Pending("not listed yet".into()),
            (false, None) => Poll::Ready(()),
            (false, Some(r)) => Poll::Pending(r.status.clone()),
        })
    })
    .await
    .context(|| {
        format!(
            "waiting for the {} of DynamoDB table {name} in {region} to {}",
            member.noun(),
            if present {
                "become ACTIVE"
            } else {
                "be deleted"
            }
        )
    })
}

/// Makes the (empty) table an MRSC global table: one UpdateTable creating every replica and the
/// witness with MultiRegionConsistency=STRONG, as AWS requires (design/issue-20-mrsc.md).
pub async fn make_strong(
    db: &Client,
    name: &str,
    replicas: &[String],
    witness: Option<&str>,
) -> PartResult<()> {
    let action = || format!("making DynamoDB table {name} strongly consistent across Regions");
    let replica_updates = replicas
        .iter()
        .map(|region| {
            let create = CreateReplicationGroupMemberAction::builder()
                .region_name(region)
                .build();
            Ok(ReplicationGroupUpdate::builder()
                .create(built(create)?)
                .build())
        })
        .collect::<Result<Vec<_>, Cause>>()
        .context(action)?;
    let witness_update = witness
        .map(|region| {
            let create = CreateGlobalTableWitnessGroupMemberAction::builder()
                .region_name(region)
                .build();
            Ok::<_, Cause>(
                GlobalTableWitnessGroupUpdate::builder()
                    .create(built(create)?)
                    .build(),
            )
        })
        .transpose()
        .context(action)?;
    update(db, name, "making strongly consistent (MRSC)", |r| {
        r.multi_region_consistency(MultiRegionConsistency::Strong)
            .set_replica_updates(Some(replica_updates.clone()))
            .set_global_table_witness_updates(witness_update.clone().map(|w| vec![w]))
    })
    .await
}

/// Dissolves an MRSC group: one UpdateTable deleting every replica and the witness together, the
/// only membership change AWS accepts on it (design/issue-20-mrsc.md).
pub async fn dissolve_strong(
    db: &Client,
    name: &str,
    replicas: &[String],
    witnesses: &[String],
) -> PartResult<()> {
    let action = || format!("removing the replicas and witness of DynamoDB table {name}");
    let replica_updates = replicas
        .iter()
        .map(|region| {
            let delete = DeleteReplicationGroupMemberAction::builder()
                .region_name(region)
                .build();
            Ok(ReplicationGroupUpdate::builder()
                .delete(built(delete)?)
                .build())
        })
        .collect::<Result<Vec<_>, Cause>>()
        .context(action)?;
    let witness_updates = witnesses
        .iter()
        .map(|region| {
            let delete = DeleteGlobalTableWitnessGroupMemberAction::builder()
                .region_name(region)
                .build();
            Ok(GlobalTableWitnessGroupUpdate::builder()
                .delete(built(delete)?)
                .build())
        })
        .collect::<Result<Vec<_>, Cause>>()
        .context(action)?;
    update(db, name, "removing every replica and the witness of", |r| {
        r.set_replica_updates(Some(replica_updates.clone()))
            // A group of three replicas has no witness, and an empty list is refused.
            .set_global_table_witness_updates(
                Some(witness_updates.clone()).filter(|w| !w.is_empty()),
            )
    })
    .await
}

pub async fn tags(db: &Client, arn: &str) -> Result<Tags, AwsError> {
    let mut tags = Tags::new();
    let mut next: Option<String> = None;
    loop {
        let out = db
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(next.take())
            .send()
            .await?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        match out.next_token() {
            Some(token) => next = Some(token.to_owned()),
            None => return Ok(tags),
        }
    }
}

/// Makes the tags on `arn` exactly `want`.
pub async fn sync_tags(db: &Client, arn: &str, want: &Tags) -> PartResult<()> {
    let action = || format!("tagging DynamoDB table {arn}");
    let have = tags(db, arn).await.context(action)?;
    let changes = crate::tags::diff(&have, want);
    if !changes.stale.is_empty() {
        db.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(changes.stale))
            .send()
            .await
            .context(action)?;
    }
    if !changes.changed.is_empty() {
        db.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(aws_tags(&changes.changed).context(action)?))
            .send()
            .await
            .context(action)?;
    }
    Ok(())
}

/// Deletes the table and waits until DynamoDB no longer knows it. Already gone is success.
pub async fn delete(db: &Client, name: &str, timeout: Duration) -> PartResult<()> {
    let action = || format!("deleting DynamoDB table {name}");
    // A delete that was interrupted (a killed provider) left it DELETING: DeleteTable would
    // answer ResourceInUseException until it is gone, so wait for that instead.
    match find(db, name).await.context(action)? {
        None => return Ok(()),
        Some(table) if deleting(&table) => return wait_deleted(db, name, timeout).await,
        Some(_) => {}
    }
    tracing::info!("{}", action());
    let deadline = Instant::now() + timeout;
    let result = retry::on_codes(&action(), BUSY, deadline, || {
        let request = db.delete_table().table_name(name);
        async move { request.send().await.map(|_| ()) }
    })
    .await;
    match result {
        Err(err) if err.is_not_found() => return Ok(()),
        other => other.context(action)?,
    }
    wait_deleted(db, name, timeout).await
}

fn region_of(db: &Client) -> String {
    db.config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "its region".into())
}
