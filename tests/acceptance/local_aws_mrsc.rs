//! The local AWS's DynamoDB multi-Region strong consistency (localaws/dynamodb_mrsc.py): each
//! rule AWS applies, through the SDK the provider uses.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeValue, CreateGlobalTableWitnessGroupMemberAction, CreateReplicationGroupMemberAction,
    DeleteGlobalTableWitnessGroupMemberAction, DeleteReplicationGroupMemberAction,
    GlobalTableWitnessGroupUpdate, MultiRegionConsistency, ReplicaStatus, ReplicationGroupUpdate,
    TableStatus, WitnessStatus,
};

use crate::local_aws::{add_replica, global_table, home_table};
use crate::support::{settles, LocalAws};

fn create_replica(region: &str) -> ReplicationGroupUpdate {
    ReplicationGroupUpdate::builder()
        .create(
            CreateReplicationGroupMemberAction::builder()
                .region_name(region)
                .build()
                .unwrap(),
        )
        .build()
}

fn create_witness(region: &str) -> GlobalTableWitnessGroupUpdate {
    GlobalTableWitnessGroupUpdate::builder()
        .create(
            CreateGlobalTableWitnessGroupMemberAction::builder()
                .region_name(region)
                .build()
                .unwrap(),
        )
        .build()
}

/// One UpdateTable in us-east-1 asking for MRSC with these replicas and witness; the error code
/// and message when refused.
async fn make_strong(
    aws: &LocalAws,
    name: &str,
    replicas: &[&str],
    witness: Option<&str>,
    consistency: Option<MultiRegionConsistency>,
) -> Result<(), (String, String)> {
    let mut request = aws
        .dynamodb("us-east-1")
        .update_table()
        .table_name(name)
        .set_multi_region_consistency(consistency);
    for region in replicas {
        request = request.replica_updates(create_replica(region));
    }
    if let Some(region) = witness {
        request = request.global_table_witness_updates(create_witness(region));
    }
    request.send().await.map(|_| ()).map_err(|err| {
        (
            err.code().unwrap_or_default().to_owned(),
            err.message().unwrap_or_default().to_owned(),
        )
    })
}

async fn witness_status(aws: &LocalAws, name: &str) -> Vec<(String, Option<WitnessStatus>)> {
    home_table(aws, name)
        .await
        .global_table_witnesses()
        .iter()
        .map(|w| {
            (
                w.region_name().unwrap_or_default().to_owned(),
                w.witness_status().cloned(),
            )
        })
        .collect()
}

/// Each replica's Region and status as the home table's DescribeTable gives them.
async fn replica_status(aws: &LocalAws, name: &str) -> Vec<(String, Option<ReplicaStatus>)> {
    home_table(aws, name)
        .await
        .replicas()
        .iter()
        .map(|r| {
            (
                r.region_name().unwrap_or_default().to_owned(),
                r.replica_status().cloned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_mrsc_table_is_made_in_one_update_replicates_at_once_and_is_dissolved_in_one() {
    let aws = LocalAws::start();
    global_table(&aws, "strong").await;
    make_strong(
        &aws,
        "strong",
        &["us-east-2"],
        Some("us-west-2"),
        Some(MultiRegionConsistency::Strong),
    )
    .await
    .expect("two replicas and a witness");
    let table = home_table(&aws, "strong").await;
    assert_eq!(
        table.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong)
    );
    assert_eq!(
        witness_status(&aws, "strong").await,
        [("us-west-2".into(), Some(WitnessStatus::Creating))]
    );
    assert_eq!(
        replica_status(&aws, "strong").await,
        [("us-east-2".into(), Some(ReplicaStatus::Creating))]
    );
    settles(
        "the witness",
        vec![("us-west-2".to_owned(), Some(WitnessStatus::Active))],
        || witness_status(&aws, "strong"),
    )
    .await;
    settles(
        "the replica",
        vec![("us-east-2".to_owned(), Some(ReplicaStatus::Active))],
        || replica_status(&aws, "strong"),
    )
    .await;
    settles("the table", Some(TableStatus::Active), || async {
        home_table(&aws, "strong").await.table_status().cloned()
    })
    .await;
    let replica = aws
        .dynamodb("us-east-2")
        .describe_table()
        .table_name("strong")
        .send()
        .await
        .expect("the replica is a table in its region");
    assert_eq!(
        replica.table().and_then(|t| t.multi_region_consistency()),
        Some(&MultiRegionConsistency::Strong)
    );
    let witness = aws
        .dynamodb("us-west-2")
        .describe_table()
        .table_name("strong")
        .send()
        .await
        .expect_err("a witness holds no table");
    assert_eq!(witness.code(), Some("ResourceNotFoundException"));

    aws.dynamodb("us-east-1")
        .put_item()
        .table_name("strong")
        .item("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("PutItem");
    let read = aws
        .dynamodb("us-east-2")
        .get_item()
        .table_name("strong")
        .key("sessionId", AttributeValue::S("s1".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    assert!(
        read.item().is_some(),
        "a strongly consistent read sees the write at once"
    );

    let more = aws
        .dynamodb("us-east-1")
        .update_table()
        .table_name("strong")
        .replica_updates(create_replica("eu-west-1"))
        .send()
        .await
        .expect_err("membership is frozen");
    assert_eq!(
        more.message(),
        Some("Cannot add replicas to a global table with strong MultiRegionConsistency")
    );
    for region in ["us-east-1", "us-east-2"] {
        let err = aws
            .dynamodb(region)
            .delete_table()
            .table_name("strong")
            .send()
            .await
            .expect_err("a member of an MRSC group cannot be deleted alone");
        assert_eq!(err.code(), Some("ValidationException"), "{region}");
    }
    let replica_only = aws
        .dynamodb("us-east-1")
        .update_table()
        .table_name("strong")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name("us-east-2")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("the witness must go in the same request");
    assert_eq!(
        replica_only.message(),
        Some("Update table delete operation does not include all witnesses.")
    );

    aws.dynamodb("us-east-1")
        .update_table()
        .table_name("strong")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name("us-east-2")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .global_table_witness_updates(
            GlobalTableWitnessGroupUpdate::builder()
                .delete(
                    DeleteGlobalTableWitnessGroupMemberAction::builder()
                        .region_name("us-west-2")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("every replica and the witness together");
    assert_eq!(
        (
            replica_status(&aws, "strong").await,
            witness_status(&aws, "strong").await
        ),
        (
            vec![("us-east-2".to_owned(), Some(ReplicaStatus::Deleting))],
            vec![("us-west-2".to_owned(), Some(WitnessStatus::Deleting))]
        ),
        "each member DELETING until it is gone"
    );
    settles("the dissolved group", (0, 0, None), || async {
        let t = home_table(&aws, "strong").await;
        (
            t.replicas().len(),
            t.global_table_witnesses().len(),
            t.multi_region_consistency().cloned(),
        )
    })
    .await;
    aws.dynamodb("us-east-1")
        .delete_table()
        .table_name("strong")
        .send()
        .await
        .expect("a regional table again");
}

/// Replica Regions, witness Region, consistency asked for, and AWS's message.
type Refusal = (
    &'static [&'static str],
    Option<&'static str>,
    Option<MultiRegionConsistency>,
    &'static str,
);

#[tokio::test]
async fn mrsc_requests_aws_refuses_are_refused() {
    let aws = LocalAws::start();
    global_table(&aws, "t").await;
    let strong = Some(MultiRegionConsistency::Strong);
    let refusals: [Refusal; 7] = [
        (
            &["us-east-2"],
            None,
            strong.clone(),
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.",
        ),
        (
            &["us-east-2", "us-west-2"],
            Some("eu-west-1"),
            strong.clone(),
            "Unsupported replica count for global tables with MultiRegionConsistency set to STRONG.",
        ),
        (
            &["us-west-1"],
            Some("us-east-2"),
            strong.clone(),
            "Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [us-west-1].",
        ),
        (
            &["eu-west-1"],
            Some("us-east-2"),
            strong.clone(),
            "The replicas and witness of a global table with MultiRegionConsistency set to STRONG must be within one Region set.",
        ),
        (
            &["us-east-2"],
            Some("us-west-2"),
            None,
            "MultiRegionConsistency must be set as STRONG when GlobalTableWitnessUpdates parameter is present.",
        ),
        (
            &["us-east-2"],
            Some("us-east-1"),
            strong.clone(),
            "Cannot add a witness in the same region as an existing replica when creating a global table with MultiRegionConsistency set to STRONG.",
        ),
        (
            &["us-east-2"],
            Some("us-east-2"),
            strong.clone(),
            "Cannot target multiple regions with the same action",
        ),
    ];
    for (replicas, witness, consistency, message) in refusals {
        let (code, got) = make_strong(&aws, "t", replicas, witness, consistency)
            .await
            .expect_err(message);
        assert_eq!(
            (code.as_str(), got.as_str()),
            ("ValidationException", message)
        );
    }
    assert!(
        home_table(&aws, "t").await.replicas().is_empty(),
        "a refused request changes nothing"
    );

    aws.dynamodb("us-east-1")
        .put_item()
        .table_name("t")
        .item("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("PutItem");
    let (code, _) = make_strong(&aws, "t", &["us-east-2"], Some("us-west-2"), strong.clone())
        .await
        .expect_err("the table holds an item");
    assert_eq!(code, "ValidationException");

    global_table(&aws, "eventual").await;
    add_replica(&aws, "eventual", "us-east-2").await;
    settles("the replica", Some(TableStatus::Active), || async {
        home_table(&aws, "eventual").await.table_status().cloned()
    })
    .await;
    let (_, message) = make_strong(&aws, "eventual", &["us-west-2"], None, strong)
        .await
        .expect_err("an eventually consistent global table cannot be converted");
    assert_eq!(
        message,
        "MultiRegionConsistency parameter is unsupported on existing global table"
    );
}
