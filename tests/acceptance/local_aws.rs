//! The fidelity layer closes moto's gaps that our tests depend on; these tests prove it through
//! the same Rust SDK the provider uses.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CreateReplicationGroupMemberAction,
    DeleteReplicationGroupMemberAction, KeySchemaElement, KeyType, ReplicaStatus,
    ReplicationGroupUpdate, ScalarAttributeType, StreamSpecification, StreamViewType,
};

use crate::support::LocalAws;

#[tokio::test]
async fn cloudwatch_rpcv2_cbor_round_trips() {
    let aws = LocalAws::start();
    let cw = aws.cloudwatch("us-east-1");
    cw.put_metric_alarm()
        .alarm_name("primary-health")
        .namespace("AWS/Route53")
        .metric_name("HealthCheckStatus")
        .dimensions(
            Dimension::builder()
                .name("HealthCheckId")
                .value("hc-1")
                .build(),
        )
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:primary")
        .send()
        .await
        .expect("PutMetricAlarm through CBOR");

    let alarms = cw
        .describe_alarms()
        .alarm_names("primary-health")
        .send()
        .await
        .expect("DescribeAlarms through CBOR");
    let alarm = &alarms.metric_alarms()[0];
    assert_eq!(alarm.evaluation_periods(), Some(3));
    assert_eq!(alarm.threshold(), Some(1.0));
    assert_eq!(alarm.dimensions()[0].value(), Some("hc-1"));
    assert_eq!(
        alarm.alarm_actions(),
        ["arn:aws:sns:us-east-1:123456789012:primary"]
    );
    assert!(
        alarm.state_updated_timestamp().is_some(),
        "timestamps decode"
    );

    let missing = cw
        .set_alarm_state()
        .alarm_name("no-such-alarm")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .expect_err("unknown alarm");
    assert_eq!(
        aws_sdk_cloudwatch::error::ProvideErrorMetadata::code(&missing),
        Some("ResourceNotFound")
    );
}

async fn global_table(aws: &LocalAws, name: &str) {
    aws.dynamodb("us-east-1")
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sessionId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sessionId")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
}

async fn replica_status(aws: &LocalAws, name: &str) -> Option<ReplicaStatus> {
    let table = aws
        .dynamodb("us-east-1")
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable");
    table
        .table()
        .and_then(|t| t.replicas().first())
        .and_then(|r| r.replica_status().cloned())
}

#[tokio::test]
async fn dynamodb_replica_is_created_replicates_and_blocks_deletion() {
    let aws = LocalAws::start();
    let east1 = aws.dynamodb("us-east-1");
    let east2 = aws.dynamodb("us-east-2");
    global_table(&aws, "sessions").await;

    east1
        .update_table()
        .table_name("sessions")
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .create(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name("us-east-2")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable ReplicaUpdates Create");

    assert_eq!(
        replica_status(&aws, "sessions").await,
        Some(ReplicaStatus::Creating)
    );
    let mut reads = 1;
    while replica_status(&aws, "sessions").await != Some(ReplicaStatus::Active) {
        reads += 1;
        assert!(reads < 10, "replica never became ACTIVE");
    }
    let replica = east2
        .describe_table()
        .table_name("sessions")
        .send()
        .await
        .expect("the replica table exists in us-east-2");
    assert_eq!(
        replica.table().unwrap().replicas()[0].region_name(),
        Some("us-east-1"),
        "the replica lists its home region"
    );

    east1
        .put_item()
        .table_name("sessions")
        .item("sessionId", AttributeValue::S("s-1".into()))
        .item("user", AttributeValue::S("alice".into()))
        .send()
        .await
        .expect("PutItem");
    let copied = east2
        .get_item()
        .table_name("sessions")
        .key("sessionId", AttributeValue::S("s-1".into()))
        .send()
        .await
        .expect("GetItem in the replica");
    assert_eq!(
        copied.item().and_then(|i| i.get("user")),
        Some(&AttributeValue::S("alice".into()))
    );

    let refused = east1
        .delete_table()
        .table_name("sessions")
        .send()
        .await
        .expect_err("DeleteTable must be refused while a replica exists");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&refused),
        Some("ValidationException")
    );

    east1
        .update_table()
        .table_name("sessions")
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
        .expect("UpdateTable ReplicaUpdates Delete");
    assert_eq!(
        replica_status(&aws, "sessions").await,
        Some(ReplicaStatus::Deleting)
    );
    let mut reads = 1;
    while replica_status(&aws, "sessions").await.is_some() {
        reads += 1;
        assert!(reads < 10, "replica never went away");
    }
    assert!(east2
        .describe_table()
        .table_name("sessions")
        .send()
        .await
        .is_err());
    east1
        .delete_table()
        .table_name("sessions")
        .send()
        .await
        .expect("DeleteTable once the replica is gone");
}
