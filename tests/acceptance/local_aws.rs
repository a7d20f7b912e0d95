//! The fidelity layer closes moto's gaps that our tests depend on; these tests prove it through
//! the same Rust SDK the provider uses.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CreateReplicationGroupMemberAction,
    DeleteReplicationGroupMemberAction, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, ReplicaStatus, ReplicationGroupUpdate, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus,
};

use crate::dns_failover::serving_endpoint;
use crate::support::{
    alarm_actions, attached_internet_gateway, change_status, dns_answer, insync, nat_state, pitr,
    resolved, serving_balancer, settles, upsert, LocalAws, SETTLE_WITHIN,
};

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
    // AWS starts a new alarm in INSUFFICIENT_DATA and keeps its state across updates.
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    cw.set_alarm_state()
        .alarm_name("primary-health")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .expect("SetAlarmState");
    cw.put_metric_alarm()
        .alarm_name("primary-health")
        .namespace("AWS/Route53")
        .metric_name("HealthCheckStatus")
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(2)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm update");
    let updated = cw
        .describe_alarms()
        .alarm_names("primary-health")
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!(
        updated.metric_alarms()[0].state_value(),
        Some(&StateValue::Alarm)
    );
    assert_eq!(updated.metric_alarms()[0].evaluation_periods(), Some(2));

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

pub(crate) async fn global_table(aws: &LocalAws, name: &str) {
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
    settles("the new table", Some(TableStatus::Active), || async {
        home_table(aws, name).await.table_status().cloned()
    })
    .await;
}

/// The table as its home region (us-east-1) describes it.
pub(crate) async fn home_table(
    aws: &LocalAws,
    name: &str,
) -> aws_sdk_dynamodb::types::TableDescription {
    let out = aws
        .dynamodb("us-east-1")
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable");
    out.table().cloned().expect("a table description")
}

async fn replica_status(aws: &LocalAws, name: &str) -> Option<ReplicaStatus> {
    home_table(aws, name)
        .await
        .replicas()
        .first()
        .and_then(|r| r.replica_status().cloned())
}

pub(crate) async fn add_replica(aws: &LocalAws, name: &str, region: &str) {
    aws.dynamodb("us-east-1")
        .update_table()
        .table_name(name)
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .create(
                    CreateReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable ReplicaUpdates Create");
}

pub(crate) async fn remove_replica(aws: &LocalAws, name: &str, region: &str) {
    aws.dynamodb("us-east-1")
        .update_table()
        .table_name(name)
        .replica_updates(
            ReplicationGroupUpdate::builder()
                .delete(
                    DeleteReplicationGroupMemberAction::builder()
                        .region_name(region)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable ReplicaUpdates Delete");
}

#[tokio::test]
async fn dynamodb_replica_is_created_replicates_and_blocks_deletion() {
    let aws = LocalAws::start();
    let east1 = aws.dynamodb("us-east-1");
    let east2 = aws.dynamodb("us-east-2");
    global_table(&aws, "sessions").await;
    add_replica(&aws, "sessions", "us-east-2").await;

    assert_eq!(
        replica_status(&aws, "sessions").await,
        Some(ReplicaStatus::Creating)
    );
    settles("the replica", Some(ReplicaStatus::Active), || {
        replica_status(&aws, "sessions")
    })
    .await;
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

    remove_replica(&aws, "sessions", "us-east-2").await;
    assert_eq!(
        replica_status(&aws, "sessions").await,
        Some(ReplicaStatus::Deleting)
    );
    settles("the deleted replica", None, || {
        replica_status(&aws, "sessions")
    })
    .await;
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

/// Deletion protection and point-in-time recovery are per replica, never propagated
/// (aws-controllers-k8s/community#2650; hashicorp/terraform-provider-aws#30213): a new replica
/// starts without either, and each region's settings are its own.
#[tokio::test]
async fn dynamodb_replica_settings_are_its_own() {
    let aws = LocalAws::start();
    let east1 = aws.dynamodb("us-east-1");
    let east2 = aws.dynamodb("us-east-2");
    global_table(&aws, "sessions").await;
    east1
        .update_table()
        .table_name("sessions")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable DeletionProtectionEnabled");
    assert!(!pitr(&east1, "sessions").await);
    east1
        .update_continuous_backups()
        .table_name("sessions")
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    add_replica(&aws, "sessions", "us-east-2").await;
    settles("the replica", Some(ReplicaStatus::Active), || {
        replica_status(&aws, "sessions")
    })
    .await;
    let protected = |db: aws_sdk_dynamodb::Client| async move {
        db.describe_table()
            .table_name("sessions")
            .send()
            .await
            .expect("DescribeTable")
            .table()
            .and_then(|t| t.deletion_protection_enabled())
    };
    assert_eq!(protected(east2.clone()).await, Some(false));
    assert!(!pitr(&east2, "sessions").await);

    east2
        .update_table()
        .table_name("sessions")
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("UpdateTable DeletionProtectionEnabled in the replica's region");
    east1
        .update_table()
        .table_name("sessions")
        .deletion_protection_enabled(false)
        .send()
        .await
        .expect("UpdateTable DeletionProtectionEnabled");
    assert_eq!(protected(east2.clone()).await, Some(true));
    assert_eq!(protected(east1.clone()).await, Some(false));
}

/// `LOCALAWS_REPLICA_FAILS` ends a replica's creation in a failure status with its reason, as
/// ReplicaDescription reports it; the failed replica can still be removed.
#[tokio::test]
async fn dynamodb_replica_fails_on_request() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_REPLICA_FAILS", "us-east-2=CREATION_FAILED")]);
    global_table(&aws, "sessions").await;
    add_replica(&aws, "sessions", "us-east-2").await;
    settles(
        "the failed replica",
        Some(ReplicaStatus::CreationFailed),
        || replica_status(&aws, "sessions"),
    )
    .await;
    let home = home_table(&aws, "sessions").await;
    assert_eq!(home.table_status(), Some(&TableStatus::Active));
    let reason = home.replicas()[0]
        .replica_status_description()
        .unwrap_or_default();
    assert!(
        reason.starts_with("Failed to create replica:") && reason.contains("us-east-2"),
        "{reason}"
    );
    assert!(aws
        .dynamodb("us-east-2")
        .describe_table()
        .table_name("sessions")
        .send()
        .await
        .is_err());

    remove_replica(&aws, "sessions", "us-east-2").await;
    settles("the removed replica", None, || {
        replica_status(&aws, "sessions")
    })
    .await;
}

/// EC2 and ELB are eventually consistent: the call that names an ID a create has just returned
/// may answer that it does not exist (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
#[tokio::test]
async fn new_ec2_and_elb_ids_are_unknown_for_a_moment() {
    use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata as _;

    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "1"),
        ("LOCALAWS_NEW_ID_WINDOW_MS", "60000"),
    ]);
    let ec2 = aws.ec2("us-east-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.6.0.0/16")
        .send()
        .await
        .expect("CreateVpc");
    let vpc = vpc.vpc().and_then(|v| v.vpc_id()).unwrap().to_owned();
    let dns = || {
        ec2.modify_vpc_attribute()
            .vpc_id(&vpc)
            .enable_dns_support(
                aws_sdk_ec2::types::AttributeBooleanValue::builder()
                    .value(true)
                    .build(),
            )
            .send()
    };
    let missed = dns().await.expect_err("the new VPC is not known yet");
    assert_eq!(code(&missed).as_deref(), Some("InvalidVpcID.NotFound"));
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::message(&missed),
        Some(format!("The vpc ID '{vpc}' does not exist").as_str())
    );
    dns().await.expect("known on the next call");

    // CreateSecurityGroup names the VPC but only refers to it: it answers.
    let group = ec2
        .create_security_group()
        .group_name("g")
        .description("g")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .unwrap()
        .to_owned();
    let missed = ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .expect_err("the new group is not known yet");
    assert_eq!(code(&missed).as_deref(), Some("InvalidGroup.NotFound"));
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::message(&missed),
        Some(format!("The security group '{group}' does not exist").as_str())
    );
    let found = ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .expect("DescribeSecurityGroups");
    assert_eq!(found.security_groups().len(), 1);

    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.6.1.0/24", "us-east-1a"), ("10.6.2.0/24", "us-east-1b")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .expect("CreateSubnet naming the VPC");
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .unwrap()
                .to_owned(),
        );
    }
    let elb = aws.elbv2("us-east-1");
    let alb = elb
        .create_load_balancer()
        .name("alb-eventual")
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("CreateLoadBalancer");
    let alb = alb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let missed = elb
        .set_security_groups()
        .load_balancer_arn(&alb)
        .security_groups(&group)
        .send()
        .await
        .expect_err("the new load balancer is not known yet");
    assert_eq!(missed.code(), Some("LoadBalancerNotFound"));
    assert_eq!(
        missed.message(),
        Some("One or more load balancers not found")
    );
    let target_group = elb
        .create_target_group()
        .name("tg-eventual")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("CreateTargetGroup");
    let target_group = target_group.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    let missed = elb
        .describe_target_groups()
        .target_group_arns(&target_group)
        .send()
        .await
        .expect_err("the new target group is not known yet");
    assert_eq!(missed.code(), Some("TargetGroupNotFound"));
    assert_eq!(
        missed.message(),
        Some("One or more target groups not found")
    );
    elb.describe_target_groups()
        .target_group_arns(&target_group)
        .send()
        .await
        .expect("known on the next call");
}

pub(crate) fn code<E: aws_sdk_ec2::error::ProvideErrorMetadata>(err: &E) -> Option<String> {
    err.code().map(str::to_owned)
}

/// EC2 refuses to delete what is still in use; the fidelity layer does too, so a destroy in the
/// wrong order fails in tests as it would on AWS.
#[tokio::test]
async fn ec2_refuses_deleting_what_is_in_use_and_routes_to_lost_gateways_go_blackhole() {
    use aws_sdk_ec2::types::{DomainType, IpPermission, UserIdGroupPair};

    // SDK calls straight after each create: not what this test is about.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.7.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.7.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_owned();
    let igw = attached_internet_gateway(&ec2, &vpc).await;
    let eip = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&subnet)
        .allocation_id(eip.allocation_id().unwrap())
        .send()
        .await
        .unwrap();
    let nat = nat
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_owned();
    // One table routes to the internet gateway, one to the NAT gateway.
    let mut tables = Vec::new();
    for (igw_target, nat_target) in [(Some(&igw), None), (None, Some(&nat))] {
        let table = ec2.create_route_table().vpc_id(&vpc).send().await.unwrap();
        let table = table.route_table().unwrap().route_table_id().unwrap();
        ec2.create_route()
            .route_table_id(table)
            .destination_cidr_block("0.0.0.0/0")
            .set_gateway_id(igw_target.cloned())
            .set_nat_gateway_id(nat_target.cloned())
            .send()
            .await
            .unwrap();
        tables.push(table.to_owned());
    }
    let default_route_states = || {
        let ec2 = ec2.clone();
        let tables = tables.clone();
        async move {
            let out = ec2
                .describe_route_tables()
                .set_route_table_ids(Some(tables.clone()))
                .send()
                .await
                .unwrap();
            tables
                .iter()
                .map(|id| {
                    let table = out
                        .route_tables()
                        .iter()
                        .find(|t| t.route_table_id() == Some(id.as_str()))
                        .unwrap();
                    let route = table
                        .routes()
                        .iter()
                        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                        .unwrap();
                    route.state().unwrap().as_str().to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(default_route_states().await, ["active", "active"]);
    let group = |name: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(name)
                .vpc_id(vpc)
                .send()
                .await
                .unwrap()
                .group_id()
                .unwrap()
                .to_owned()
        }
    };
    let alb = group("alb").await;
    let instances = group("instances").await;
    ec2.authorize_security_group_ingress()
        .group_id(&instances)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&alb).build())
                .build(),
        )
        .send()
        .await
        .unwrap();

    let refused = ec2
        .delete_security_group()
        .group_id(&alb)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("DependencyViolation"));
    let refused = ec2
        .delete_subnet()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("DependencyViolation"));
    let refused = ec2
        .detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("DependencyViolation"));
    let refused = ec2.delete_vpc().vpc_id(&vpc).send().await.unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("DependencyViolation"));

    // In the right order everything goes.
    ec2.delete_security_group()
        .group_id(&instances)
        .send()
        .await
        .unwrap();
    ec2.delete_security_group()
        .group_id(&alb)
        .send()
        .await
        .unwrap();
    ec2.delete_nat_gateway()
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    // A deleting NAT gateway still holds its subnet and address, as on AWS.
    settles(
        "the deleted NAT gateway",
        Some("deleted".to_owned()),
        || nat_state(&ec2, &nat),
    )
    .await;
    // A route to a gateway that is gone is a blackhole, as on AWS.
    assert_eq!(default_route_states().await, ["active", "blackhole"]);
    ec2.delete_subnet().subnet_id(&subnet).send().await.unwrap();
    ec2.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    assert_eq!(default_route_states().await, ["blackhole", "blackhole"]);
    for table in &tables {
        ec2.delete_route_table()
            .route_table_id(table)
            .send()
            .await
            .unwrap();
    }
    ec2.delete_internet_gateway()
        .internet_gateway_id(&igw)
        .send()
        .await
        .unwrap();
    ec2.delete_vpc().vpc_id(&vpc).send().await.unwrap();
}

/// New NAT gateways are pending and new load balancers provisioning for a few reads, and a
/// repeated CreateNatGateway with the same ClientToken returns the first gateway.
#[tokio::test]
async fn async_states_and_idempotency_tokens() {
    use aws_sdk_ec2::types::{DomainType, NatGatewayState};

    // SDK calls straight after each create: not what this test is about.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.8.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let subnet = |cidr: &'static str, zone: &'static str| {
        let ec2 = ec2.clone();
        let vpc = vpc.clone();
        async move {
            ec2.create_subnet()
                .vpc_id(vpc)
                .cidr_block(cidr)
                .availability_zone(zone)
                .send()
                .await
                .unwrap()
                .subnet()
                .unwrap()
                .subnet_id()
                .unwrap()
                .to_owned()
        }
    };
    let (a, b) = (
        subnet("10.8.1.0/24", "us-east-1a").await,
        subnet("10.8.2.0/24", "us-east-1b").await,
    );
    let eip = ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .send()
        .await
        .unwrap();
    let create = || {
        ec2.create_nat_gateway()
            .subnet_id(&a)
            .allocation_id(eip.allocation_id().unwrap())
            .client_token("token-1")
            .send()
    };
    let first = create()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_owned();
    let again = create()
        .await
        .unwrap()
        .nat_gateway()
        .unwrap()
        .nat_gateway_id()
        .unwrap()
        .to_owned();
    assert_eq!(first, again, "same ClientToken, same NAT gateway");
    let mismatch = ec2
        .create_nat_gateway()
        .subnet_id(&a)
        .allocation_id(eip.allocation_id().unwrap())
        .client_token("token-1")
        .connectivity_type(aws_sdk_ec2::types::ConnectivityType::Private)
        .send()
        .await
        .expect_err("the same token with other parameters");
    assert_eq!(
        code(&mismatch).as_deref(),
        Some("IdempotentParameterMismatch")
    );
    let held = ec2
        .release_address()
        .allocation_id(eip.allocation_id().unwrap())
        .send()
        .await
        .expect_err("the NAT gateway holds the address");
    assert_eq!(code(&held).as_deref(), Some("InvalidIPAddress.InUse"));
    let state = || async {
        ec2.describe_nat_gateways()
            .nat_gateway_ids(&first)
            .send()
            .await
            .unwrap()
            .nat_gateways()[0]
            .state()
            .cloned()
    };
    assert_eq!(state().await, Some(NatGatewayState::Pending));
    settles("the NAT gateway", Some(NatGatewayState::Available), state).await;
    ec2.delete_nat_gateway()
        .nat_gateway_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(state().await, Some(NatGatewayState::Deleting));

    let elb = aws.elbv2("us-east-1");
    let created = elb
        .create_load_balancer()
        .name("alb-pending")
        .subnets(&a)
        .subnets(&b)
        .send()
        .await
        .unwrap();
    let arn = created.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let alb_state = || async {
        elb.describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
            .await
            .unwrap()
            .load_balancers()[0]
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned())
    };
    assert_eq!(alb_state().await.as_deref(), Some("provisioning"));
    settles("the ALB", Some("active".to_owned()), alb_state).await;

    // The template's own tags stay out of its launch data, as on AWS.
    let template = ec2
        .create_launch_template()
        .launch_template_name("lt-pending")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id("ami-03c3da4cfa8e8943a")
                .instance_type("t3.micro".into())
                .build(),
        )
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::LaunchTemplate)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("Team")
                        .value("fx")
                        .build(),
                )
                .build(),
        )
        .client_token("lt-pending-token")
        .send()
        .await
        .unwrap();
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_name("lt-pending")
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .expect("launch data");
    assert!(data.tag_specifications().is_empty(), "{data:?}");
    let asg = aws.autoscaling("us-east-1");
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("asg-pending")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(
                    template
                        .launch_template()
                        .unwrap()
                        .launch_template_id()
                        .unwrap(),
                )
                .build(),
        )
        .min_size(1)
        .max_size(2)
        .desired_capacity(2)
        .vpc_zone_identifier(&a)
        .send()
        .await
        .unwrap();
    let lifecycle = || async {
        asg.describe_auto_scaling_groups()
            .auto_scaling_group_names("asg-pending")
            .send()
            .await
            .unwrap()
            .auto_scaling_groups()[0]
            .instances()
            .iter()
            .map(|i| i.lifecycle_state().unwrap().as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(lifecycle().await, ["Pending", "Pending"]);
    settles("the instances", ["InService", "InService"], lifecycle).await;

    // Registered targets are `initial` before they are `healthy`.
    let tg = elb
        .create_target_group()
        .name("tg-pending")
        .protocol("HTTP".into())
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tg = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
    asg.attach_load_balancer_target_groups()
        .auto_scaling_group_name("asg-pending")
        .target_group_arns(&tg)
        .send()
        .await
        .unwrap();
    let health = || async {
        let mut states: Vec<String> = elb
            .describe_target_health()
            .target_group_arn(&tg)
            .send()
            .await
            .unwrap()
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let state = d.target_health().and_then(|h| h.state()).unwrap();
                state.as_str().to_owned()
            })
            .collect();
        states.sort();
        states
    };
    assert_eq!(health().await, ["initial", "initial"]);
    settles("the targets", ["healthy", "healthy"], health).await;

    // An instance scaled in is Terminating for a while before it leaves the group.
    asg.update_auto_scaling_group()
        .auto_scaling_group_name("asg-pending")
        .min_size(1)
        .desired_capacity(1)
        .send()
        .await
        .unwrap();
    let mut states = lifecycle().await;
    states.sort();
    assert_eq!(states, ["InService", "Terminating"]);
    settles("the scaled-in group", ["InService"], lifecycle).await;

    // A deleted load balancer's network interfaces hold its subnet for a while.
    elb.delete_load_balancer()
        .load_balancer_arn(&arn)
        .send()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + SETTLE_WITHIN;
    let mut refused = 0;
    while let Err(err) = ec2.delete_subnet().subnet_id(&b).send().await {
        assert_eq!(code(&err).as_deref(), Some("DependencyViolation"));
        refused += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "the subnet never became free"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused > 0, "the subnet was free at once");
}

/// A table is CREATING, then ACTIVE; DELETING, then gone; and refuses changes meanwhile.
#[tokio::test]
async fn dynamodb_tables_take_time_to_create_and_delete() {
    let aws = LocalAws::start();
    let db = aws.dynamodb("us-east-1");
    let created = db
        .create_table()
        .table_name("slow")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let status = |out: Option<&aws_sdk_dynamodb::types::TableDescription>| {
        out.and_then(|t| t.table_status()).cloned()
    };
    assert_eq!(
        status(created.table_description()),
        Some(TableStatus::Creating)
    );
    let refused = db
        .update_table()
        .table_name("slow")
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("ResourceInUseException"));
    let described = || async {
        db.describe_table()
            .table_name("slow")
            .send()
            .await
            .map(|out| status(out.table()))
    };
    assert_eq!(described().await.unwrap(), Some(TableStatus::Creating));
    settles("the table", Some(TableStatus::Active), || async {
        described().await.unwrap()
    })
    .await;

    let deleted = db.delete_table().table_name("slow").send().await.unwrap();
    assert_eq!(
        status(deleted.table_description()),
        Some(TableStatus::Deleting)
    );
    let listed = db.list_tables().send().await.unwrap();
    assert_eq!(listed.table_names(), ["slow"], "listed while DELETING");
    settles(
        "the deleted table",
        Some("ResourceNotFoundException".to_owned()),
        || async {
            match described().await {
                Ok(state) => {
                    assert_eq!(state, Some(TableStatus::Deleting));
                    None
                }
                Err(err) => code(&err),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn route53_changes_pend_and_used_health_checks_stay() {
    use aws_sdk_route53::types::{
        AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, HealthCheckConfig,
        HealthCheckType, ResourceRecordSet, RrType,
    };
    let aws = LocalAws::start();
    let r53 = aws.route53();
    let zone = r53
        .create_hosted_zone()
        .name("pend.tap-test.net")
        .caller_reference("zone-1")
        .send()
        .await
        .expect("CreateHostedZone");
    let zone_id = zone.hosted_zone().expect("zone").id().to_owned();
    // The zone's creation is a change of its own, pending like a record change.
    let zone_change = zone.change_info().expect("change").id().to_owned();
    let status = r53
        .get_change()
        .id(&zone_change)
        .send()
        .await
        .expect("GetChange of the zone's creation");
    assert_eq!(
        status.change_info().map(|c| c.status()),
        Some(&ChangeStatus::Pending)
    );
    let check = r53
        .create_health_check()
        .caller_reference("check-1")
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Http)
                .fully_qualified_domain_name("primary.tap-test.net")
                .resource_path("/health")
                .request_interval(10)
                .failure_threshold(3)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("CreateHealthCheck");
    let check_id = check.health_check().expect("check").id().to_owned();
    let record = ResourceRecordSet::builder()
        .name("pend.tap-test.net")
        .r#type(RrType::A)
        .set_identifier("primary")
        .weight(100)
        .health_check_id(&check_id)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id("Z2P70J7EXAMPLE")
                .dns_name("primary-1.us-east-1.elb.amazonaws.com")
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
        .build()
        .expect("record");
    let change = |action| {
        ChangeBatch::builder()
            .changes(
                Change::builder()
                    .action(action)
                    .resource_record_set(record.clone())
                    .build()
                    .expect("change"),
            )
            .build()
            .expect("batch")
    };
    let first = r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change(ChangeAction::Create))
        .send()
        .await
        .expect("ChangeResourceRecordSets");
    let first_id = first.change_info().expect("change").id().to_owned();
    assert_eq!(
        first.change_info().map(|c| c.status()),
        Some(&ChangeStatus::Pending)
    );

    // PENDING for a while, then INSYNC.
    let status = || change_status(&r53, &first_id);
    assert_eq!(status().await, ChangeStatus::Pending);
    settles("the record change", ChangeStatus::Insync, status).await;
    let unknown = r53
        .get_change()
        .id("C0NOSUCHCHANGE")
        .send()
        .await
        .expect_err("unknown change");
    assert_eq!(
        aws_sdk_route53::error::ProvideErrorMetadata::code(&unknown),
        Some("NoSuchChange")
    );

    // A health check a record uses cannot be deleted; once free, it can, once.
    let in_use = r53
        .delete_health_check()
        .health_check_id(&check_id)
        .send()
        .await
        .expect_err("in use");
    assert_eq!(
        aws_sdk_route53::error::ProvideErrorMetadata::code(&in_use),
        Some("HealthCheckInUse")
    );
    let second = r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change(ChangeAction::Delete))
        .send()
        .await
        .expect("deleting the record");
    assert_ne!(
        second.change_info().expect("change").id(),
        first_id,
        "each change has its own ID"
    );
    r53.delete_health_check()
        .health_check_id(&check_id)
        .send()
        .await
        .expect("DeleteHealthCheck");
    let again = r53
        .delete_health_check()
        .health_check_id(&check_id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(
        aws_sdk_route53::error::ProvideErrorMetadata::code(&again),
        Some("NoSuchHealthCheck")
    );
}

/// Route 53's name servers answer from a record change once it is INSYNC ("PENDING indicates
/// that the changes in this request have not propagated to all Amazon Route 53 DNS servers
/// managing the hosted zone", API_ChangeInfo): until then, from the records as they were (moto
/// answered from the new ones at once, so a failover looked a propagation faster than it is).
#[tokio::test]
async fn dns_answers_change_once_the_record_change_is_insync() {
    // Read counting (each answer and GetChange is one read of the change), so that the answer is
    // read while the change is PENDING however slow the machine.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_TIME_SCALE", "0")]);
    let r53 = aws.route53();
    let name = "app.insync.tap-test.net";
    let record = |address: &str| weighted(name, "only", 1, address, false, None);
    let zone = zone_with(&r53, "insync.tap-test.net", vec![record("192.0.2.1")]).await;
    let answer = || async { dns_answer(&r53, &zone, name).await };
    let served = |address: &str| ("NOERROR".to_owned(), vec![address.to_owned()]);
    assert_eq!(answer().await, served("192.0.2.1"));
    let change = upsert(&r53, &zone, record("192.0.2.2")).await;
    assert_eq!(answer().await, served("192.0.2.1"), "while PENDING");
    assert_eq!(
        change_status(&r53, &change).await,
        aws_sdk_route53::types::ChangeStatus::Pending
    );
    insync(&r53, &change).await;
    assert_eq!(answer().await, served("192.0.2.2"), "once INSYNC");
}

/// Route 53 refuses a public zone under `example.com` (`InvalidDomainName: <name> is reserved by
/// AWS!`, HTTP 400); a name someone can own is accepted.
#[tokio::test]
async fn route53_refuses_zones_aws_reserves() {
    use aws_sdk_route53::error::ProvideErrorMetadata;
    let aws = LocalAws::start();
    let r53 = aws.route53();
    for name in ["trading-x.example.com", "example.com."] {
        let refused = r53
            .create_hosted_zone()
            .name(name)
            .caller_reference(format!("reserved-{name}"))
            .send()
            .await
            .expect_err("a reserved name");
        assert_eq!(refused.code(), Some("InvalidDomainName"), "{name}");
        assert_eq!(
            refused.message(),
            Some(format!("{} is reserved by AWS!", name.trim_end_matches('.')).as_str())
        );
    }
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    assert!(zones.hosted_zones().is_empty(), "nothing was created");
    r53.create_hosted_zone()
        .name("trading-x.tap-test.net")
        .caller_reference("owned")
        .send()
        .await
        .expect("a name someone can own");
}

/// Removing a role from an instance profile that does not hold it is `NoSuchEntity`, as the
/// provider's teardown of a profile made without its role meets it; then the profile goes.
#[tokio::test]
async fn removing_a_role_an_instance_profile_does_not_hold_is_no_such_entity() {
    use aws_sdk_iam::error::ProvideErrorMetadata;
    let aws = LocalAws::start();
    let iam = aws.iam();
    iam.create_role()
        .role_name("ec2-x")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("CreateRole");
    iam.create_instance_profile()
        .instance_profile_name("ec2-x")
        .send()
        .await
        .expect("CreateInstanceProfile");
    let refused = iam
        .remove_role_from_instance_profile()
        .instance_profile_name("ec2-x")
        .role_name("ec2-x")
        .send()
        .await
        .expect_err("the profile holds no role");
    assert_eq!(refused.code(), Some("NoSuchEntity"));
    iam.delete_instance_profile()
        .instance_profile_name("ec2-x")
        .send()
        .await
        .expect("DeleteInstanceProfile");
}

/// With authentication enforced (moto's `INITIAL_NO_AUTH_ACTION_COUNT`), a Query-protocol service
/// refuses unknown keys in its own error format, which the SDK reads as AWS's code and message.
#[tokio::test]
async fn query_services_refuse_unknown_credentials_in_their_own_format() {
    use aws_sdk_iam::error::ProvideErrorMetadata;
    let aws = LocalAws::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let refused = aws
        .iam()
        .list_roles()
        .send()
        .await
        .expect_err("unknown keys");
    assert_eq!(refused.code(), Some("InvalidClientTokenId"));
    assert_eq!(
        refused.message(),
        Some("The security token included in the request is invalid.")
    );
}

/// Every request is checked against AWS's service model before moto sees it: one out-of-range
/// member per service, sent through the same Rust SDK the provider uses, gets that service's own
/// validation error.
#[tokio::test]
async fn requests_that_break_the_service_model_get_the_services_validation_error() {
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    fn refused<E: ProvideErrorMetadata>(err: E, code: &str, constraint: &str) {
        assert_eq!(err.code(), Some(code), "{:?}", err.message());
        let message = err.message().unwrap_or_default();
        assert!(message.contains(constraint), "{message}");
    }
    let aws = LocalAws::start();
    let err = aws
        .ec2("us-east-1")
        .describe_vpcs()
        .max_results(1)
        .send()
        .await
        .expect_err("MaxResults below 5");
    refused(err, "InvalidParameterValue", "greater than or equal to 5");
    let err = aws
        .elbv2("us-east-1")
        .create_target_group()
        .name("tg")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id("vpc-1")
        .health_check_interval_seconds(1)
        .send()
        .await
        .expect_err("interval below 5");
    refused(err, "ValidationError", "'healthCheckIntervalSeconds'");
    let err = aws
        .autoscaling("us-east-1")
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("a".repeat(300))
        .send()
        .await
        .expect_err("a name over 255 characters");
    refused(err, "ValidationError", "less than or equal to 255");
    let err = aws
        .iam()
        .create_role()
        .role_name("r".repeat(70))
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect_err("a role name over 64 characters");
    refused(err, "ValidationError", "'roleName'");
    let err = aws_sdk_sts::Client::new(&aws.sdk_config("us-east-1"))
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/deploy")
        .role_session_name("x")
        .send()
        .await
        .expect_err("a session name under 2 characters");
    refused(err, "ValidationError", "'roleSessionName'");
    let err = aws
        .dynamodb("us-east-1")
        .describe_table()
        .table_name("t".repeat(2000))
        .send()
        .await
        .expect_err("a table name over 1024 characters");
    refused(err, "ValidationException", "1 validation error detected");
    let err = aws
        .route53()
        .create_health_check()
        .caller_reference("too-many-failures")
        .health_check_config(
            aws_sdk_route53::types::HealthCheckConfig::builder()
                .r#type(aws_sdk_route53::types::HealthCheckType::Http)
                .fully_qualified_domain_name("primary.tap-test.net")
                .port(80)
                .failure_threshold(11)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect_err("a failure threshold over 10");
    refused(err, "InvalidInput", "'healthCheckConfig.failureThreshold'");
    let err = aws
        .cloudwatch("us-east-1")
        .put_metric_alarm()
        .alarm_name("none-evaluated")
        .evaluation_periods(0)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .expect_err("zero evaluation periods");
    refused(err, "InvalidParameterValue", "'evaluationPeriods'");
    let err = aws
        .sns("us-east-1")
        .tag_resource()
        .resource_arn("arn:aws:sns:us-east-1:123456789012:t")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("k".repeat(200))
                .value("v")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("a tag key over 128 characters");
    refused(err, "InvalidParameter", "less than or equal to 128");
}

/// A caller reference is used once: a zone's never again, even once the zone is deleted; a
/// health check's again only with the same settings while the check exists (the check is
/// returned, not duplicated).
#[tokio::test]
async fn route53_caller_references_are_used_once() {
    use aws_sdk_route53::error::ProvideErrorMetadata;
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    let aws = LocalAws::start();
    let r53 = aws.route53();
    let zone = |reference: &'static str| {
        r53.create_hosted_zone()
            .name("refs.tap-test.net")
            .caller_reference(reference)
            .send()
    };
    let first = zone("zone-ref").await.expect("CreateHostedZone");
    let zone_id = first.hosted_zone().expect("zone").id().to_owned();
    r53.delete_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .expect("DeleteHostedZone");
    let again = zone("zone-ref").await.expect_err("a used reference");
    assert_eq!(again.code(), Some("HostedZoneAlreadyExists"));
    let check = |reference: &'static str, threshold: i32| {
        r53.create_health_check()
            .caller_reference(reference)
            .health_check_config(
                HealthCheckConfig::builder()
                    .r#type(HealthCheckType::Http)
                    .fully_qualified_domain_name("primary.tap-test.net")
                    .port(80)
                    .failure_threshold(threshold)
                    .build()
                    .expect("config"),
            )
            .send()
    };
    let id = |out: aws_sdk_route53::operation::create_health_check::CreateHealthCheckOutput| {
        out.health_check().expect("check").id().to_owned()
    };
    let created = id(check("check-ref", 3).await.expect("CreateHealthCheck"));
    let retried = id(check("check-ref", 3)
        .await
        .expect("same reference and settings"));
    assert_eq!(created, retried, "the existing check, not a second one");
    let other = check("check-ref", 5).await.expect_err("other settings");
    assert_eq!(other.code(), Some("HealthCheckAlreadyExists"));
    r53.delete_health_check()
        .health_check_id(&created)
        .send()
        .await
        .expect("DeleteHealthCheck");
    let deleted = check("check-ref", 3)
        .await
        .expect_err("a deleted check's reference");
    assert_eq!(deleted.code(), Some("HealthCheckAlreadyExists"));
    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    assert!(checks.health_checks().is_empty(), "no duplicate was made");
}

#[tokio::test]
async fn the_time_model_settles_by_elapsed_time_not_by_reads() {
    use aws_sdk_route53::types::ChangeStatus;
    // Route 53 changes take 60 s on AWS: 5 s at a scale of 12, room for a slow first call.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_TIME_SCALE", "12")]);
    let r53 = aws.route53();
    let started = std::time::Instant::now();
    let zone = r53
        .create_hosted_zone()
        .name("timed.tap-test.net")
        .caller_reference("timed-1")
        .send()
        .await
        .expect("CreateHostedZone");
    let created = std::time::Instant::now();
    let change = zone.change_info().expect("change").id().to_owned();
    let status = || change_status(&r53, &change);
    // More reads than the read-counting mode needs (2): still pending.
    let mut pending_reads = 0;
    while pending_reads < 5 && started.elapsed() < std::time::Duration::from_millis(4500) {
        assert_eq!(status().await, ChangeStatus::Pending);
        pending_reads += 1;
    }
    assert_eq!(pending_reads, 5, "five reads within 4.5 s");
    // The clock started during the create call: between `started` and `created`.
    tokio::time::sleep(std::time::Duration::from_millis(5100).saturating_sub(created.elapsed()))
        .await;
    assert_eq!(status().await, ChangeStatus::Insync);
}

#[tokio::test]
async fn sns_email_subscriptions_stay_pending_until_their_owner_confirms() {
    let aws = LocalAws::start();
    let sns = aws.sns("us-east-1");
    let topic = sns
        .create_topic()
        .name("counted")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("arn")
        .to_owned();
    let counts = || async {
        let out = sns
            .get_topic_attributes()
            .topic_arn(&topic)
            .send()
            .await
            .expect("GetTopicAttributes");
        let attributes = out.attributes().cloned().unwrap_or_default();
        let count = |key: &str| attributes.get(key).cloned().unwrap_or_default();
        (
            count("SubscriptionsPending"),
            count("SubscriptionsConfirmed"),
        )
    };
    let listed = || async {
        sns.list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send()
            .await
            .expect("ListSubscriptionsByTopic")
            .subscriptions()
            .iter()
            .map(|s| {
                (
                    s.endpoint().unwrap_or_default().to_owned(),
                    s.subscription_arn().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(counts().await, ("0".into(), "0".into()));
    let answer = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("oncall@tap-test.net")
        .send()
        .await
        .expect("Subscribe");
    assert_eq!(answer.subscription_arn(), Some("pending confirmation"));
    assert_eq!(counts().await, ("1".into(), "0".into()));
    assert_eq!(
        listed().await,
        [("oncall@tap-test.net".into(), "PendingConfirmation".into())]
    );

    // A pending subscription cannot be unsubscribed: AWS refuses the ARN a listing shows.
    let refused = sns
        .unsubscribe()
        .subscription_arn("PendingConfirmation")
        .send()
        .await
        .expect_err("Unsubscribe of a pending subscription");
    use aws_sdk_sns::error::ProvideErrorMetadata;
    assert_eq!(refused.code(), Some("InvalidParameter"));
    assert_eq!(
        refused.message(),
        Some("Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1")
    );
    assert_eq!(counts().await, ("1".into(), "0".into()));

    // Its owner confirms: it gets its ARN, counts as confirmed and can be unsubscribed.
    assert_eq!(aws.confirm_subscriptions("oncall@tap-test.net"), 1);
    assert_eq!(counts().await, ("0".into(), "1".into()));
    let arn = listed().await[0].1.clone();
    assert!(arn.starts_with(&format!("{topic}:")), "{arn}");
    sns.unsubscribe()
        .subscription_arn(&arn)
        .send()
        .await
        .expect("Unsubscribe of a confirmed subscription");
    assert_eq!(counts().await, ("0".into(), "0".into()));
    assert_eq!(aws.confirm_subscriptions("oncall@tap-test.net"), 0);
}

/// Route 53 publishes its health checkers' ranges as an AWS-managed prefix list in every region
/// (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html);
/// moto lists none.
#[tokio::test]
async fn route53_health_checkers_have_an_aws_managed_prefix_list_in_every_region() {
    use aws_sdk_ec2::types::Filter;

    let aws = LocalAws::start();
    for region in ["us-east-1", "us-east-2", "us-west-2"] {
        let ec2 = aws.ec2(region);
        let name = format!("com.amazonaws.{region}.route53-healthchecks");
        let out = ec2
            .describe_managed_prefix_lists()
            .filters(
                Filter::builder()
                    .name("prefix-list-name")
                    .values(&name)
                    .build(),
            )
            .send()
            .await
            .expect("DescribeManagedPrefixLists");
        assert_eq!(out.prefix_lists().len(), 1, "{name} in {region}");
        let list = &out.prefix_lists()[0];
        assert_eq!(list.owner_id(), Some("AWS"), "AWS-managed");
        assert_eq!(list.address_family(), Some("IPv4"));
        let entries = ec2
            .get_managed_prefix_list_entries()
            .prefix_list_id(list.prefix_list_id().unwrap())
            .send()
            .await
            .expect("GetManagedPrefixListEntries");
        assert!(!entries.entries().is_empty(), "{name} has ranges");
    }
}

/// A group `name` of two instances in a new VPC of `region`, launched from a new template.
async fn launching_group(aws: &LocalAws, region: &str, name: &str) {
    let ec2 = aws.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let subnet = ec2
        .create_subnet()
        .vpc_id(vpc.vpc().unwrap().vpc_id().unwrap())
        .cidr_block("10.9.1.0/24")
        .availability_zone(format!("{region}a"))
        .send()
        .await
        .unwrap();
    let template = ec2
        .create_launch_template()
        .launch_template_name(format!("lt-{name}"))
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id("ami-03c3da4cfa8e8943a")
                .instance_type("t3.medium".into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.autoscaling(region)
        .create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(
                    template
                        .launch_template()
                        .unwrap()
                        .launch_template_id()
                        .unwrap(),
                )
                .build(),
        )
        .min_size(1)
        .max_size(4)
        .desired_capacity(2)
        .vpc_zone_identifier(subnet.subnet().unwrap().subnet_id().unwrap())
        .send()
        .await
        .unwrap();
}

/// An instance refresh takes time (moto: StartInstanceRefresh is not implemented), keeps the
/// preferences it was given (AWS's defaults, 90/100, without), and refuses a second one while
/// it runs with AWS's error.
#[tokio::test]
async fn instance_refreshes_take_time_and_keep_their_preferences() {
    use aws_sdk_autoscaling::types::{InstanceRefreshStatus, RefreshPreferences};

    let aws = LocalAws::start();
    launching_group(&aws, "us-east-2", "asg-refresh").await;
    let asg = aws.autoscaling("us-east-2");
    let started = asg
        .start_instance_refresh()
        .auto_scaling_group_name("asg-refresh")
        .preferences(
            RefreshPreferences::builder()
                .min_healthy_percentage(100)
                .max_healthy_percentage(200)
                .build(),
        )
        .send()
        .await
        .expect("StartInstanceRefresh");
    let err = asg
        .start_instance_refresh()
        .auto_scaling_group_name("asg-refresh")
        .send()
        .await
        .expect_err("a second refresh while one runs");
    assert_eq!(
        aws_sdk_autoscaling::error::ProvideErrorMetadata::code(&err),
        Some("InstanceRefreshInProgress")
    );
    assert_eq!(
        aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&err),
        Some("An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
    );
    let refresh = || async {
        asg.describe_instance_refreshes()
            .auto_scaling_group_name("asg-refresh")
            .instance_refresh_ids(started.instance_refresh_id().unwrap())
            .send()
            .await
            .unwrap()
            .instance_refreshes()[0]
            .clone()
    };
    let running = refresh().await;
    assert_eq!(running.status(), Some(&InstanceRefreshStatus::InProgress));
    assert!(running.end_time().is_none());
    let preferences = running.preferences().expect("preferences");
    assert_eq!(preferences.min_healthy_percentage(), Some(100));
    assert_eq!(preferences.max_healthy_percentage(), Some(200));
    settles(
        "the refresh",
        Some(InstanceRefreshStatus::Successful),
        || async { refresh().await.status().cloned() },
    )
    .await;
    let done = refresh().await;
    assert!(done.end_time().unwrap().secs() >= done.start_time().unwrap().secs());

    asg.start_instance_refresh()
        .auto_scaling_group_name("asg-refresh")
        .send()
        .await
        .expect("a new refresh once the last one ended");
    let newest = asg
        .describe_instance_refreshes()
        .auto_scaling_group_name("asg-refresh")
        .send()
        .await
        .unwrap()
        .instance_refreshes()[0]
        .clone();
    let defaults = newest.preferences().expect("preferences");
    assert_eq!(defaults.min_healthy_percentage(), Some(90));
    assert_eq!(defaults.max_healthy_percentage(), Some(100));
}

/// `LOCALAWS_FAILED_LAUNCHES` makes a group's launches fail as AWS reports them: no instance,
/// and a failed scaling activity with EC2's reason (moto: every launch succeeds, no activities).
#[tokio::test]
async fn failed_launches_show_as_failed_scaling_activities() {
    use aws_sdk_autoscaling::types::ScalingActivityStatusCode;

    let aws = LocalAws::start_with_env(&[("LOCALAWS_FAILED_LAUNCHES", "asg-no-capacity")]);
    launching_group(&aws, "us-east-1", "asg-no-capacity").await;
    let asg = aws.autoscaling("us-east-1");
    let group = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-no-capacity")
        .send()
        .await
        .unwrap();
    assert!(group.auto_scaling_groups()[0].instances().is_empty());
    let activities = asg
        .describe_scaling_activities()
        .auto_scaling_group_name("asg-no-capacity")
        .send()
        .await
        .expect("DescribeScalingActivities");
    let failed = &activities.activities()[0];
    assert_eq!(
        failed.status_code(),
        Some(&ScalingActivityStatusCode::Failed)
    );
    let message = failed.status_message().unwrap_or_default();
    assert!(
        message.starts_with("Could not launch On-Demand Instances. InsufficientInstanceCapacity")
            && message.ends_with("Launching EC2 instance failed."),
        "{message}"
    );
    assert!(failed.start_time().is_some() && failed.progress() == Some(100));
}

/// ELBv2 refuses what AWS refuses and moto accepts: an Application Load Balancer whose subnets do
/// not span two Availability Zones, and a listener certificate its region's ACM does not hold
/// (ACM is regional).
#[tokio::test]
async fn elbv2_refuses_albs_in_one_zone_and_certificates_of_other_regions_or_not_issued() {
    use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, ProtocolEnum,
    };

    let aws = LocalAws::start();
    let ec2 = aws.ec2("us-east-2");
    let elb = aws.elbv2("us-east-2");
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for (cidr, zone) in [
        ("10.9.1.0/24", "us-east-2a"),
        ("10.9.2.0/24", "us-east-2a"),
        ("10.9.3.0/24", "us-east-2b"),
    ] {
        let out = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .send()
            .await
            .unwrap();
        subnets.push(out.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    let create = |name: &'static str, ids: Vec<String>| {
        elb.create_load_balancer()
            .name(name)
            .set_subnets(Some(ids))
            .send()
    };
    let one = create("alb-one", vec![subnets[0].clone()])
        .await
        .unwrap_err();
    assert_eq!(one.code(), Some("ValidationError"));
    assert_eq!(
        one.message(),
        Some("At least two subnets in two different Availability Zones must be specified")
    );
    let same_zone = create("alb-same", vec![subnets[0].clone(), subnets[1].clone()])
        .await
        .unwrap_err();
    assert_eq!(same_zone.code(), Some("InvalidConfigurationRequest"));
    assert_eq!(
        same_zone.message(),
        Some(
            "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
        )
    );
    let names = elb.describe_load_balancers().send().await.unwrap();
    assert!(names.load_balancers().is_empty(), "nothing was created");
    let alb = create("alb-two", vec![subnets[0].clone(), subnets[2].clone()])
        .await
        .expect("two zones");
    let alb_arn = alb.load_balancers()[0].load_balancer_arn().unwrap();

    let tg = elb
        .create_target_group()
        .name("tg-two")
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg.target_groups()[0].target_group_arn().unwrap())
        .build();
    let https = |certificate: &str| {
        elb.create_listener()
            .load_balancer_arn(alb_arn)
            .protocol(ProtocolEnum::Https)
            .port(443)
            .certificates(Certificate::builder().certificate_arn(certificate).build())
            .default_actions(forward.clone())
            .send()
    };
    let elsewhere = aws.certificate_in("us-east-1", "trading-acc.tap-test.net");
    let refused = https(&elsewhere).await.unwrap_err();
    assert_eq!(refused.code(), Some("CertificateNotFound"));
    assert_eq!(
        refused.message(),
        Some(format!("Certificate '{elsewhere}' not found").as_str())
    );
    // Requested but never validated: ACM has not issued it, so no load balancer may serve it.
    let pending = aws
        .acm("us-east-2")
        .request_certificate()
        .domain_name("trading-acc.tap-test.net")
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .unwrap();
    let pending = pending.certificate_arn().unwrap();
    let refused = https(pending).await.unwrap_err();
    assert_eq!(refused.code(), Some("UnsupportedCertificate"));
    assert_eq!(
        refused.message(),
        Some(format!("The certificate '{pending}' must have a fully-qualified domain name, a supported signature, and a supported key size.").as_str())
    );
    let here = aws.certificate_in("us-east-2", "trading-acc.tap-test.net");
    let listener = https(&here).await.expect("a certificate of the region");
    let refused = elb
        .modify_listener()
        .listener_arn(listener.listeners()[0].listener_arn().unwrap())
        .certificates(Certificate::builder().certificate_arn(&elsewhere).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("CertificateNotFound"));
}

/// CloudWatch alarms cannot publish to a topic encrypted with `alias/aws/sns`, nor with a
/// customer key whose policy does not let `cloudwatch.amazonaws.com` use it; the alarm history
/// says so (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns). Through a key it
/// may use, the topic receives the alarm's notification.
#[tokio::test]
async fn alarms_publish_only_through_keys_cloudwatch_may_use() {
    let aws = LocalAws::start();
    let (sns, kms, cw) = (
        aws.sns("us-east-1"),
        aws.kms("us-east-1"),
        aws.cloudwatch("us-east-1"),
    );
    let new_key = || async {
        kms.create_key()
            .send()
            .await
            .expect("CreateKey")
            .key_metadata
            .expect("key metadata")
    };
    let admitting = new_key().await;
    let account = admitting.aws_account_id().expect("account").to_owned();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": account}}}
        ]
    });
    kms.put_key_policy()
        .key_id(admitting.key_id())
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .expect("PutKeyPolicy");
    // A new key's default policy admits only the account.
    let closed = new_key().await;
    let refused =
        "CloudWatch Alarms does not have authorization to access the SNS topic encryption key.";
    for (name, key, refusal) in [
        ("managed", "alias/aws/sns".to_owned(), true),
        ("closed", closed.arn().expect("arn").to_owned(), true),
        ("admitting", admitting.arn().expect("arn").to_owned(), false),
    ] {
        let topic = sns
            .create_topic()
            .name(name)
            .attributes("KmsMasterKeyId", key)
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn()
            .expect("arn")
            .to_owned();
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Route53")
            .metric_name("HealthCheckStatus")
            .statistic(Statistic::Minimum)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::LessThanThreshold)
            .alarm_actions(&topic)
            .send()
            .await
            .expect("PutMetricAlarm");
        cw.set_alarm_state()
            .alarm_name(name)
            .state_value(StateValue::Alarm)
            .state_reason("test")
            .send()
            .await
            .expect("SetAlarmState");
        let want = if refusal {
            (
                format!("Failed to execute action {topic}. Received error: \"{refused}\""),
                "Failed".to_owned(),
            )
        } else {
            (
                format!("Successfully executed action {topic}"),
                "Succeeded".to_owned(),
            )
        };
        assert_eq!(alarm_actions(&cw, name).await, [want], "{name}");
        // The topic holds the notification only when the action succeeded.
        let sent = aws.sns_published(&topic);
        if refusal {
            assert!(sent.is_empty(), "{name}: {sent:?}");
        } else {
            assert_eq!(sent.len(), 1, "{name}: {sent:?}");
            assert_eq!(
                sent[0]["Subject"],
                format!("ALARM: \"{name}\" in us-east-1")
            );
            let message: serde_json::Value =
                serde_json::from_str(sent[0]["Message"].as_str().expect("message"))
                    .expect("a JSON message");
            assert_eq!(
                (
                    &message["AlarmName"],
                    &message["NewStateValue"],
                    &message["OldStateValue"],
                    &message["Trigger"]["MetricName"]
                ),
                (
                    &serde_json::json!(name),
                    &serde_json::json!("ALARM"),
                    &serde_json::json!("INSUFFICIENT_DATA"),
                    &serde_json::json!("HealthCheckStatus")
                )
            );
        }
    }
    // The keys AWS services make for themselves are AWS managed, as AWS describes them.
    let managed = kms
        .describe_key()
        .key_id("alias/aws/dynamodb")
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata
        .expect("key metadata");
    assert_eq!(
        managed.key_manager(),
        Some(&aws_sdk_kms::types::KeyManagerType::Aws)
    );
    assert_eq!(
        admitting.key_manager(),
        Some(&aws_sdk_kms::types::KeyManagerType::Customer)
    );
    // Only state changes run actions; the history keeps the state updates too.
    let history = cw
        .describe_alarm_history()
        .alarm_name("managed")
        .send()
        .await
        .expect("DescribeAlarmHistory");
    assert!(history
        .alarm_history_items()
        .iter()
        .any(|i| i.history_summary() == Some("Alarm updated from INSUFFICIENT_DATA to ALARM")));
}

/// Route 53's checkers time out on a load balancer whose security group admits neither the
/// internet nor their prefix list on the check's port; once the list is admitted they succeed.
#[tokio::test]
async fn health_checkers_shut_out_by_a_security_group_report_failure() {
    use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, PrefixListId};

    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let ec2 = aws.ec2("us-east-1");
    let dns = serving_balancer(&aws, "us-east-1", "10.7", "alb-shut-out").await;
    let group = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("alb-shut-out")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_owned();
    let on_port_80 = || {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(80)
            .to_port(80)
    };
    // The corporate range only.
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            on_port_80()
                .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    ec2.revoke_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            on_port_80()
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r53 = aws.route53();
    let id = http_check(&r53, "shut-out", &dns).await;
    let status = || async {
        r53.get_health_check_status()
            .health_check_id(&id)
            .send()
            .await
            .unwrap()
            .health_check_observations()[0]
            .status_report()
            .and_then(|r| r.status())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(status().await.starts_with("Failure: Connection timed out"));
    let lists = ec2
        .describe_managed_prefix_lists()
        .filters(
            Filter::builder()
                .name("prefix-list-name")
                .values("com.amazonaws.us-east-1.route53-healthchecks")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let checkers = lists.prefix_lists()[0].prefix_list_id().unwrap().to_owned();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            on_port_80()
                .prefix_list_ids(PrefixListId::builder().prefix_list_id(checkers).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(status().await.starts_with("Success"), "{}", status().await);
}

#[tokio::test]
async fn alarms_notify_only_topics_of_their_own_region() {
    use aws_sdk_cloudwatch::error::ProvideErrorMetadata as _;
    let aws = LocalAws::start();
    let topic_in = |region: &'static str| {
        let sns = aws.sns(region);
        async move {
            sns.create_topic()
                .name("alarm-topic")
                .send()
                .await
                .expect("CreateTopic")
                .topic_arn
                .expect("topic ARN")
        }
    };
    let (elsewhere, here) = (topic_in("eu-west-1").await, topic_in("us-east-1").await);
    let cw = aws.cloudwatch("us-east-1");
    let put = |topic: String| {
        cw.put_metric_alarm()
            .alarm_name("health")
            .namespace("AWS/Route53")
            .metric_name("HealthCheckStatus")
            .statistic(Statistic::Minimum)
            .period(60)
            .evaluation_periods(3)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::LessThanThreshold)
            .alarm_actions(topic)
            .send()
    };
    let refused = put(elsewhere).await.expect_err("a topic of another region");
    assert_eq!(refused.code(), Some("ValidationError"));
    assert_eq!(
        refused.message(),
        Some("Invalid region eu-west-1 specified. Only us-east-1 is supported.")
    );
    let described = cw.describe_alarms().send().await.expect("DescribeAlarms");
    assert!(
        described.metric_alarms().is_empty(),
        "a refused alarm is not kept"
    );
    put(here.clone())
        .await
        .expect("a topic of the alarm's region");
    let described = cw.describe_alarms().send().await.expect("DescribeAlarms");
    assert_eq!(described.metric_alarms()[0].alarm_actions(), [here]);
}

/// An HTTP health check of `/health` on port 80 of `fqdn`, every 10 s, threshold 3.
async fn http_check(r53: &aws_sdk_route53::Client, reference: &str, fqdn: &str) -> String {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    r53.create_health_check()
        .caller_reference(reference)
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Http)
                .fully_qualified_domain_name(fqdn)
                .port(80)
                .resource_path("/health")
                .request_interval(10)
                .failure_threshold(3)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("CreateHealthCheck")
        .health_check()
        .expect("check")
        .id()
        .to_owned()
}

/// One weighted A record: an alias of `target` (evaluating its health) or the value `target`.
fn weighted(
    name: &str,
    id: &str,
    weight: i64,
    target: &str,
    alias: bool,
    check: Option<&str>,
) -> aws_sdk_route53::types::ResourceRecordSet {
    use aws_sdk_route53::types::{AliasTarget, ResourceRecord, ResourceRecordSet, RrType};
    let record = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .set_identifier(id)
        .weight(weight)
        .set_health_check_id(check.map(str::to_owned));
    let record = if alias {
        record.alias_target(
            AliasTarget::builder()
                .hosted_zone_id("Z35SXDOTRQ7X7K")
                .dns_name(target)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
    } else {
        record.ttl(60).resource_records(
            ResourceRecord::builder()
                .value(target)
                .build()
                .expect("value"),
        )
    };
    record.build().expect("record")
}

async fn zone_with(
    r53: &aws_sdk_route53::Client,
    name: &str,
    records: Vec<aws_sdk_route53::types::ResourceRecordSet>,
) -> String {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
    let zone = r53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("zone-{name}"))
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_owned();
    let changes = records
        .into_iter()
        .map(|r| {
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(r)
                .build()
                .expect("change")
        })
        .collect();
    let made = r53
        .change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets");
    insync(r53, made.change_info().expect("change").id()).await;
    zone
}

/// Route 53's checkers report what the load balancer answers on the check's port: 200 while its
/// target group has a healthy target, 503 once its targets fail their checks; and back.
#[tokio::test]
async fn health_checkers_see_what_the_load_balancer_serves() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let dns = serving_balancer(&aws, "us-east-1", "10.20", "alb-serves").await;
    let r53 = aws.route53();
    let id = http_check(&r53, "serves", &dns).await;
    let statuses = || async {
        let out = r53
            .get_health_check_status()
            .health_check_id(&id)
            .send()
            .await
            .expect("GetHealthCheckStatus");
        out.health_check_observations()
            .iter()
            .map(|o| {
                o.status_report()
                    .and_then(|r| r.status())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect::<Vec<_>>()
    };
    let seen = statuses().await;
    assert_eq!(seen.len(), 8, "one per default checker region: {seen:?}");
    assert!(
        seen.iter()
            .all(|s| s == "Success: HTTP Status Code 200, OK"),
        "{seen:?}"
    );
    assert_eq!(
        aws.get_text(&format!("/localaws/elb/{dns}/unhealthy"))
            .trim(),
        "1"
    );
    // The targets, then the checkers, turn after their thresholds of modelled time.
    let all = |want: &'static str| {
        let statuses = &statuses;
        move || async move { statuses().await.iter().all(|s| s == want) }
    };
    settles(
        "every checker seeing 503",
        true,
        all("Failure: HTTP Status Code 503, Service Temporarily Unavailable"),
    )
    .await;
    aws.get_text(&format!("/localaws/elb/{dns}/healthy"));
    settles(
        "every checker seeing 200",
        true,
        all("Success: HTTP Status Code 200, OK"),
    )
    .await;
}

/// A record's health check changes status only after interval x failure threshold of modelled
/// time, both ways; the load balancer's targets after their own thresholds before that.
#[tokio::test]
async fn health_check_status_changes_after_its_threshold_in_modelled_time() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_TIME_SCALE", "60"),
    ]);
    let dns = serving_balancer(&aws, "us-east-1", "10.21", "alb-timed").await;
    let r53 = aws.route53();
    let check = http_check(&r53, "timed", &dns).await;
    let name = "timed.tap-test.net";
    let zone = zone_with(
        &r53,
        name,
        vec![
            weighted(name, "primary", 100, "192.0.2.1", false, Some(&check)),
            weighted(name, "standby", 0, "192.0.2.2", false, None),
        ],
    )
    .await;
    let clock = || {
        aws.get_json("/localaws/clock")["seconds"]
            .as_f64()
            .expect("seconds")
    };
    // Each change: the first modelled second at which the answer is `want`.
    let answered_at = |want: &'static str, since: f64| {
        let (r53, zone, clock) = (&r53, &zone, &clock);
        async move {
            loop {
                let (_, data) = dns_answer(r53, zone, name).await;
                let now = clock() - since;
                if data == [want] {
                    return now;
                }
                assert!(now < 300.0, "still {data:?} after {now} modelled s");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    assert_eq!(dns_answer(&r53, &zone, name).await.1, ["192.0.2.1"]);
    let failed = clock();
    aws.get_text(&format!("/localaws/elb/{dns}/unhealthy"));
    // Targets out of service after 2 x 15 s, then 3 checks 10 s apart fail.
    let moved = answered_at("192.0.2.2", failed).await;
    assert!(
        (60.0..90.0).contains(&moved),
        "failed over after {moved} modelled s"
    );
    let recovered = clock();
    aws.get_text(&format!("/localaws/elb/{dns}/healthy"));
    let back = answered_at("192.0.2.1", recovered).await;
    assert!(
        (60.0..90.0).contains(&back),
        "failed back after {back} modelled s"
    );
}

/// A CALCULATED check is healthy while HealthThreshold of its children are: 0 always, more than
/// it has children never.
#[tokio::test]
async fn calculated_health_checks_follow_their_children() {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let dns = serving_balancer(&aws, "us-east-1", "10.22", "alb-calculated").await;
    let r53 = aws.route53();
    let child = http_check(&r53, "child", &dns).await;
    let mut records = Vec::new();
    let mut names = Vec::new();
    for threshold in [0, 1, 2] {
        let calculated = r53
            .create_health_check()
            .caller_reference(format!("calculated-{threshold}"))
            .health_check_config(
                HealthCheckConfig::builder()
                    .r#type(HealthCheckType::Calculated)
                    .child_health_checks(&child)
                    .health_threshold(threshold)
                    .build()
                    .expect("config"),
            )
            .send()
            .await
            .expect("CreateHealthCheck")
            .health_check()
            .expect("check")
            .id()
            .to_owned();
        let name = format!("needs-{threshold}.calculated.tap-test.net");
        records.push(weighted(
            &name,
            "checked",
            100,
            "192.0.2.1",
            false,
            Some(&calculated),
        ));
        records.push(weighted(&name, "fallback", 0, "192.0.2.2", false, None));
        names.push(name);
    }
    let zone = zone_with(&r53, "calculated.tap-test.net", records).await;
    let answers = || async {
        let mut out = Vec::new();
        for name in &names {
            out.push(dns_answer(&r53, &zone, name).await.1[0].clone());
        }
        out
    };
    assert_eq!(answers().await, ["192.0.2.1", "192.0.2.1", "192.0.2.2"]);
    aws.get_text(&format!("/localaws/elb/{dns}/unhealthy"));
    // The child turns after its threshold of modelled time: 0 still healthy, 1 no longer.
    settles(
        "the answers once the child is unhealthy",
        ["192.0.2.1", "192.0.2.2", "192.0.2.2"],
        answers,
    )
    .await;
}

/// A RECOVERY_CONTROL check keeps its routing control's ARN, answered without endpoint
/// settings, and is healthy only while the routing control is On (Off until a test sets it);
/// a calculated check on it and the DNS answer follow.
#[tokio::test]
async fn recovery_control_checks_follow_their_routing_control() {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/p1/routingcontrol/c1";
    let r53 = aws.route53();
    let create = |reference: &'static str, config: HealthCheckConfig| {
        let r53 = r53.clone();
        async move {
            r53.create_health_check()
                .caller_reference(reference)
                .health_check_config(config)
                .send()
                .await
                .expect("CreateHealthCheck")
                .health_check()
                .expect("check")
                .id()
                .to_owned()
        }
    };
    let control = create(
        "control",
        HealthCheckConfig::builder()
            .r#type(HealthCheckType::RecoveryControl)
            .routing_control_arn(arn)
            .build()
            .expect("config"),
    )
    .await;
    let calculated = create(
        "calculated",
        HealthCheckConfig::builder()
            .r#type(HealthCheckType::Calculated)
            .child_health_checks(&control)
            .health_threshold(1)
            .build()
            .expect("config"),
    )
    .await;
    let held = r53
        .get_health_check()
        .health_check_id(&control)
        .send()
        .await
        .expect("GetHealthCheck");
    let config = held
        .health_check()
        .and_then(|c| c.health_check_config())
        .expect("config");
    assert_eq!(config.r#type(), &HealthCheckType::RecoveryControl);
    assert_eq!(config.routing_control_arn(), Some(arn));
    assert_eq!((config.port(), config.request_interval()), (None, None));
    let zone = zone_with(
        &r53,
        "control.tap-test.net",
        vec![
            weighted(
                "www.control.tap-test.net",
                "checked",
                100,
                "192.0.2.1",
                false,
                Some(&calculated),
            ),
            weighted(
                "www.control.tap-test.net",
                "fallback",
                0,
                "192.0.2.2",
                false,
                None,
            ),
        ],
    )
    .await;
    let answer = || async { dns_answer(&r53, &zone, "www.control.tap-test.net").await.1 };
    assert_eq!(
        answer().await,
        ["192.0.2.2"],
        "a routing control never set is Off"
    );
    let set = |state: &str| {
        aws.get_json(&format!(
            "/localaws/routing-control?arn={arn}&state={state}"
        ))
    };
    assert_eq!(set("On")[arn], "On");
    assert_eq!(answer().await, ["192.0.2.1"]);
    set("Off");
    assert_eq!(answer().await, ["192.0.2.2"]);
    assert!(aws
        .get_text(&format!(
            "/localaws/routing-control?arn={arn}&state=Sideways"
        ))
        .contains("state=On|Off"));
    assert_eq!(
        answer().await,
        ["192.0.2.2"],
        "a refused state changes nothing"
    );
}

/// TestDNSAnswer for weighted alias records as Route 53 chooses them: the healthy nonzero
/// weight, the zero weight only when every other record is unhealthy, every record when all
/// are unhealthy (fail open); NXDOMAIN for a name the zone does not hold.
#[tokio::test]
async fn dns_answers_choose_weighted_alias_records_by_health() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let primary = serving_balancer(&aws, "us-east-1", "10.23", "alb-answer-primary").await;
    let standby = serving_balancer(&aws, "us-east-2", "10.24", "alb-answer-standby").await;
    let (primary_addresses, standby_addresses) =
        (resolved(&aws, &primary), resolved(&aws, &standby));
    assert_eq!(primary_addresses.len(), 2, "one per subnet");
    assert_ne!(primary_addresses, standby_addresses);
    let r53 = aws.route53();
    let name = "app.answers.tap-test.net";
    let zone = zone_with(
        &r53,
        "answers.tap-test.net",
        vec![
            weighted(name, "primary", 100, &primary, true, None),
            weighted(name, "standby", 0, &standby, true, None),
        ],
    )
    .await;
    let answer = || async { dns_answer(&r53, &zone, name).await };
    for _ in 0..5 {
        assert_eq!(
            answer().await,
            ("NOERROR".to_owned(), primary_addresses.clone())
        );
    }
    // Each change shows once the targets have failed (or passed) their thresholds.
    let addresses = || async { answer().await.1 };
    aws.get_text(&format!("/localaws/elb/{primary}/unhealthy"));
    settles(
        "zero weight once the rest is down",
        standby_addresses.clone(),
        addresses,
    )
    .await;
    aws.get_text(&format!("/localaws/elb/{standby}/unhealthy"));
    // Both unhealthy: as if all were healthy, the standby's zero weight again unused.
    settles(
        "all unhealthy: as if all were healthy",
        primary_addresses.clone(),
        addresses,
    )
    .await;
    aws.get_text(&format!("/localaws/elb/{primary}/healthy"));
    aws.get_text(&format!("/localaws/elb/{standby}/healthy"));
    settles("both healthy again", primary_addresses.clone(), addresses).await;
    let missing = dns_answer(&r53, &zone, "nothing.answers.tap-test.net").await;
    assert_eq!(missing, ("NXDOMAIN".to_owned(), vec![]));
}

/// An alias record evaluating target health, weighted (`Ok`) or failover (`Err`), to `target` in
/// the zone `zone`: a load balancer's, or the record's own for another of its names.
fn aliased(
    name: &str,
    id: &str,
    routing: Result<i64, aws_sdk_route53::types::ResourceRecordSetFailover>,
    zone: &str,
    target: &str,
) -> aws_sdk_route53::types::ResourceRecordSet {
    use aws_sdk_route53::types::{AliasTarget, ResourceRecordSet, RrType};
    let record = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .set_identifier(id)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(zone)
                .dns_name(target)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        );
    match routing {
        Ok(weight) => record.weight(weight),
        Err(failover) => record.failover(failover),
    }
    .build()
    .expect("record")
}

/// A change batch of `action` on every record given, in order.
async fn change_records(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    action: aws_sdk_route53::types::ChangeAction,
    records: Vec<aws_sdk_route53::types::ResourceRecordSet>,
) -> Result<(), String> {
    use aws_sdk_route53::types::{Change, ChangeBatch};
    let changes = records
        .into_iter()
        .map(|r| {
            Change::builder()
                .action(action.clone())
                .resource_record_set(r)
                .build()
                .expect("change")
        })
        .collect();
    let made = r53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_route53::error::DisplayErrorContext(&e)))?;
    insync(r53, made.change_info().expect("change").id()).await;
    Ok(())
}

/// Standbys in order of preference, as Route 53 builds them: the failover name's zero-weight
/// record aliases a failover group of the zone (its primary the first standby, its secondary
/// the second), which answers only when the primary is down, with the first standby while it
/// is healthy; when everything is down, the top group fails open to the primary. An alias to a
/// name of the zone needs that name first, in the same batch or before; a DELETE of a record
/// with a set identifier removes that name's record only.
#[tokio::test]
async fn dns_answers_follow_failover_groups_and_aliases_within_the_zone() {
    use aws_sdk_route53::types::{ChangeAction, ResourceRecordSetFailover as Failover};
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PENDING_READS", "0"),
    ]);
    let primary = serving_balancer(&aws, "us-east-1", "10.25", "alb-chain-primary").await;
    let first = serving_balancer(&aws, "us-east-2", "10.26", "alb-chain-first").await;
    let second = serving_balancer(&aws, "us-west-2", "10.27", "alb-chain-second").await;
    let [primary_at, first_at, second_at] = [&primary, &first, &second].map(|b| resolved(&aws, b));
    let r53 = aws.route53();
    let (name, chain) = (
        "app.chain.tap-test.net",
        "_standby-1.app.chain.tap-test.net",
    );
    let zone = zone_with(&r53, "chain.tap-test.net", Vec::new()).await;
    let top = vec![
        weighted(name, "primary", 100, &primary, true, None),
        aliased(name, "standby", Ok(0), &zone, chain),
    ];
    // A load balancer's alias names its region's ELB zone; the local AWS takes any.
    let group = vec![
        aliased(
            chain,
            "primary",
            Err(Failover::Primary),
            "Z35SXDOTRQ7X7K",
            &first,
        ),
        aliased(
            chain,
            "secondary",
            Err(Failover::Secondary),
            "Z35SXDOTRQ7X7K",
            &second,
        ),
    ];
    let refused = change_records(
        &r53,
        &zone,
        ChangeAction::Create,
        top.iter().chain(&group).cloned().collect(),
    )
    .await
    .expect_err("the alias comes before its target");
    assert!(refused.contains("InvalidChangeBatch"), "{refused}");
    assert!(
        refused.contains(&format!(
            "targets {chain}., type A in zone {zone}, but that target was not found"
        )),
        "{refused}"
    );
    let outside = change_records(
        &r53,
        &zone,
        ChangeAction::Create,
        vec![aliased(name, "standby", Ok(0), &zone, "app.elsewhere.net")],
    )
    .await
    .expect_err("outside the zone");
    assert!(
        outside.contains("does not lie within the target zone"),
        "{outside}"
    );
    change_records(
        &r53,
        &zone,
        ChangeAction::Create,
        group.iter().chain(&top).cloned().collect(),
    )
    .await
    .expect("the target first, in the same batch");
    let addresses = || async { dns_answer(&r53, &zone, name).await.1 };
    assert_eq!(addresses().await, primary_at);
    aws.get_text(&format!("/localaws/elb/{primary}/unhealthy"));
    settles("the first standby", first_at.clone(), addresses).await;
    aws.get_text(&format!("/localaws/elb/{first}/unhealthy"));
    settles("the second standby", second_at.clone(), addresses).await;
    aws.get_text(&format!("/localaws/elb/{second}/unhealthy"));
    settles("all down: the primary", primary_at.clone(), addresses).await;
    aws.get_text(&format!("/localaws/elb/{first}/healthy"));
    settles("the first standby again", first_at.clone(), addresses).await;
    // The name's `primary` goes; the chain's `primary` stays.
    change_records(&r53, &zone, ChangeAction::Delete, top)
        .await
        .expect("delete");
    let held = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .expect("ListResourceRecordSets");
    let mut left: Vec<_> = held
        .resource_record_sets()
        .iter()
        .filter_map(|r| Some((r.name().to_owned(), r.set_identifier()?.to_owned())))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            (format!("{chain}."), "primary".to_owned()),
            (format!("{chain}."), "secondary".to_owned())
        ]
    );
}

/// An alarm evaluates the data put to its metric once its period is over (ALARM when it
/// breaches, OK when it does not; no data changes nothing, as `TreatMissingData = ignore`), and
/// a CLOUDWATCH_METRIC health check follows its alarm: healthy while the alarm is new
/// (`LastKnownStatus`), out of DNS while it is in ALARM, back when it is OK.
#[tokio::test]
async fn alarms_evaluate_put_metric_data_and_alarm_checks_follow_them() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricDatum, Statistic};
    use aws_sdk_route53::types::{
        AlarmIdentifier, CloudWatchRegion, HealthCheckConfig, HealthCheckType,
        InsufficientDataHealthStatus,
    };
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let cw = aws.cloudwatch("us-west-2");
    let dimension = Dimension::builder()
        .name("Environment")
        .value("switch")
        .build();
    cw.put_metric_alarm()
        .alarm_name("switch")
        .namespace("Tap/Failover")
        .metric_name("Switch")
        .dimensions(dimension.clone())
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("ignore")
        .send()
        .await
        .expect("PutMetricAlarm");
    let r53 = aws.route53();
    let check = r53
        .create_health_check()
        .caller_reference("switch")
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::CloudwatchMetric)
                .alarm_identifier(
                    AlarmIdentifier::builder()
                        .region(CloudWatchRegion::UsWest2)
                        .name("switch")
                        .build()
                        .expect("alarm identifier"),
                )
                .insufficient_data_health_status(InsufficientDataHealthStatus::LastKnownStatus)
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("CreateHealthCheck")
        .health_check()
        .expect("check")
        .clone();
    let config = check.health_check_config().expect("config");
    assert_eq!(
        config.alarm_identifier().map(|a| a.name()),
        Some("switch"),
        "Route 53 keeps the alarm it watches"
    );
    assert_eq!(
        check
            .cloud_watch_alarm_configuration()
            .map(|c| c.metric_name()),
        Some("Switch")
    );
    let name = "app.switch.tap-test.net";
    let zone = zone_with(
        &r53,
        "switch.tap-test.net",
        vec![
            weighted(name, "primary", 100, "192.0.2.1", false, Some(check.id())),
            weighted(name, "standby", 0, "192.0.2.2", false, None),
        ],
    )
    .await;
    let state = || async {
        let out = cw
            .describe_alarms()
            .alarm_names("switch")
            .send()
            .await
            .unwrap();
        out.metric_alarms()[0]
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    };
    let answer = || async { dns_answer(&r53, &zone, name).await.1[0].clone() };
    // New: no data yet, so the check has no last known status and is healthy.
    assert_eq!(state().await, "INSUFFICIENT_DATA");
    assert_eq!(answer().await, "192.0.2.1");
    let put = |value: f64| {
        cw.put_metric_data()
            .namespace("Tap/Failover")
            .metric_data(
                MetricDatum::builder()
                    .metric_name("Switch")
                    .dimensions(dimension.clone())
                    .value(value)
                    .build(),
            )
            .send()
    };
    put(1.0).await.expect("PutMetricData");
    // Evaluated once the period is over, not at once.
    assert_eq!(state().await, "INSUFFICIENT_DATA");
    settles("the alarm after a breaching datapoint", "ALARM", state).await;
    // The primary is out of DNS: the zero-weight standby answers.
    settles(
        "the answer while the alarm is in ALARM",
        "192.0.2.2",
        answer,
    )
    .await;
    // Datapoints of another dimension are another metric: the alarm stays where it is.
    cw.put_metric_data()
        .namespace("Tap/Failover")
        .metric_data(
            MetricDatum::builder()
                .metric_name("Switch")
                .dimensions(
                    Dimension::builder()
                        .name("Environment")
                        .value("other")
                        .build(),
                )
                .value(0.0)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        state().await,
        "ALARM",
        "no data of its own: the state is kept"
    );
    assert_eq!(answer().await, "192.0.2.2");
    put(0.0).await.expect("PutMetricData");
    settles(
        "the alarm after a datapoint within the threshold",
        "OK",
        state,
    )
    .await;
    assert_eq!(answer().await, "192.0.2.1");
}

/// Route 53 publishes each health check's status as `AWS/Route53` `HealthCheckStatus`
/// (dimension `HealthCheckId`, 1 healthy, 0 unhealthy) every modelled minute, in us-east-1 only,
/// so an alarm there on that metric fires when the checkers see the endpoint fail and clears
/// when they see it recover.
#[tokio::test]
async fn route53_publishes_health_check_status_so_alarms_on_it_fire() {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let dns = serving_balancer(&aws, "us-east-1", "10.25", "alb-metric").await;
    let r53 = aws.route53();
    let check = http_check(&r53, "metric", &dns).await;
    let cw = aws.cloudwatch("us-east-1");
    cw.put_metric_alarm()
        .alarm_name("primary-down")
        .namespace("AWS/Route53")
        .metric_name("HealthCheckStatus")
        .dimensions(
            Dimension::builder()
                .name("HealthCheckId")
                .value(&check)
                .build(),
        )
        .statistic(Statistic::Minimum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::LessThanThreshold)
        .send()
        .await
        .expect("PutMetricAlarm");
    let state = || async {
        let out = cw
            .describe_alarms()
            .alarm_names("primary-down")
            .send()
            .await
            .expect("DescribeAlarms");
        out.metric_alarms()[0]
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    };
    settles("the alarm while the endpoint serves", "OK", state).await;
    let metrics = |region: &'static str| {
        let aws = &aws;
        async move {
            aws.cloudwatch(region)
                .list_metrics()
                .namespace("AWS/Route53")
                .metric_name("HealthCheckStatus")
                .send()
                .await
                .expect("ListMetrics")
                .metrics()
                .iter()
                .flat_map(|m| m.dimensions())
                .map(|d| {
                    (
                        d.name().unwrap_or("").to_owned(),
                        d.value().unwrap_or("").to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        metrics("us-east-1").await,
        [("HealthCheckId".to_owned(), check.clone())]
    );
    assert!(metrics("us-west-2").await.is_empty(), "us-east-1 only");
    aws.get_text(&format!("/localaws/elb/{dns}/unhealthy"));
    settles("the alarm once the checkers see 503", "ALARM", state).await;
    aws.get_text(&format!("/localaws/elb/{dns}/healthy"));
    settles("the alarm once the endpoint recovers", "OK", state).await;
}

/// The final portion of a load balancer's or target group's ARN: its CloudWatch dimension value
/// (`app/<name>/<id>`, `targetgroup/<name>/<id>`).
fn dimension_of(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).expect("an ARN");
    resource.strip_prefix("loadbalancer/").unwrap_or(resource)
}

/// `(datapoints, sum, minimum, maximum)` of an `AWS/ApplicationELB` metric with these
/// dimensions (ARNs), as CloudWatch holds them.
async fn elb_statistics(
    aws: &LocalAws,
    region: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
) -> (f64, f64, f64, f64) {
    let now = std::time::SystemTime::now();
    let hour = std::time::Duration::from_secs(3600);
    let out = aws
        .cloudwatch(region)
        .get_metric_statistics()
        .namespace("AWS/ApplicationELB")
        .metric_name(metric)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(name, arn)| {
                    Dimension::builder()
                        .name(*name)
                        .value(dimension_of(arn))
                        .build()
                })
                .collect(),
        ))
        .start_time((now - hour).into())
        .end_time((now + hour).into())
        .period(7200)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Sum)
        .statistics(Statistic::Minimum)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("GetMetricStatistics");
    out.datapoints().first().map_or((0.0, 0.0, 0.0, 0.0), |d| {
        (
            d.sample_count().unwrap_or_default(),
            d.sum().unwrap_or_default(),
            d.minimum().unwrap_or_default(),
            d.maximum().unwrap_or_default(),
        )
    })
}

/// The dimensions of each `AWS/ApplicationELB` `metric` a region holds (moto lists a metric of
/// several dimensions once per datum: each once here).
async fn elb_metrics(aws: &LocalAws, region: &str, metric: &str) -> Vec<Vec<(String, String)>> {
    let out = aws
        .cloudwatch(region)
        .list_metrics()
        .namespace("AWS/ApplicationELB")
        .metric_name(metric)
        .send()
        .await
        .expect("ListMetrics");
    out.metrics()
        .iter()
        .map(|m| {
            let mut dimensions: Vec<(String, String)> = m
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_owned(),
                        d.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            dimensions.sort();
            dimensions
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Clients that follow DNS: nothing flows until a test turns traffic on; then Elastic Load
/// Balancing's `RequestCount` (Sum, dimension `LoadBalancer` = `app/<name>/<id>`) is published
/// once a modelled minute, the requests of that minute, in the region of the load balancer DNS
/// answers and nowhere else, and each of the name's load balancers publishes its target group's
/// `HealthyHostCount` and `UnHealthyHostCount` (`TargetGroup`, `LoadBalancer`); when the answer
/// moves the clients follow within the alias record's 60 s TTL and the other load balancer's
/// requests stop (an alarm on them that treats missing data as not breaching goes back to OK);
/// turned off, nothing more comes.
#[tokio::test]
async fn clients_follow_dns_and_load_balancers_publish_their_request_count() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.26", "traffic-primary").await;
    let standby = serving_endpoint(&aws, "us-east-2", "10.27", "traffic-standby").await;
    let (primary_arn, primary_group, standby_arn) = (
        primary.alb_arn.clone(),
        primary.target_group_arn.clone(),
        standby.alb_arn.clone(),
    );
    let (primary, standby) = (primary.dns_name, standby.dns_name);
    let requests = |region: &'static str, arn: &str| {
        let (aws, arn) = (&aws, arn.to_owned());
        async move {
            let (count, sum, least, _) =
                elb_statistics(aws, region, "RequestCount", &[("LoadBalancer", &arn)]).await;
            (count, sum, least)
        }
    };
    let r53 = aws.route53();
    let name = "app.traffic.tap-test.net";
    let zone = zone_with(
        &r53,
        "traffic.tap-test.net",
        vec![
            weighted(name, "primary", 100, &primary, true, None),
            weighted(name, "standby", 0, &standby, true, None),
        ],
    )
    .await;
    let rate = 120.0;
    // An alarm on the primary's traffic that treats missing data as not breaching.
    let cw = aws.cloudwatch("us-east-1");
    cw.put_metric_alarm()
        .alarm_name("primary-traffic")
        .namespace("AWS/ApplicationELB")
        .metric_name("RequestCount")
        .dimensions(
            Dimension::builder()
                .name("LoadBalancer")
                .value(dimension_of(&primary_arn))
                .build(),
        )
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(10.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("notBreaching")
        .send()
        .await
        .expect("PutMetricAlarm");
    let alarm = || async {
        cw.describe_alarms()
            .alarm_names("primary-traffic")
            .send()
            .await
            .expect("DescribeAlarms")
            .metric_alarms()[0]
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default()
    };

    // Nothing flows until a test turns it on.
    aws.wait_modelled(120.0).await;
    for region in ["us-east-1", "us-east-2"] {
        for metric in ["RequestCount", "UnHealthyHostCount"] {
            assert!(elb_metrics(&aws, region, metric).await.is_empty());
        }
    }

    // On: the primary's minutes, in its region only, each the minute's requests; both load
    // balancers' host counts.
    let report = aws.traffic(name, 120);
    assert_eq!(
        report[name]["held"][0]["loadBalancer"], "alb-traffic-primary-switch",
        "{report}"
    );
    aws.wait_modelled(210.0).await;
    let pair = |name: &str, arn: &str| (name.to_owned(), dimension_of(arn).to_owned());
    assert_eq!(
        elb_metrics(&aws, "us-east-1", "RequestCount").await,
        [vec![pair("LoadBalancer", &primary_arn)]]
    );
    assert!(elb_metrics(&aws, "us-east-2", "RequestCount")
        .await
        .is_empty());
    assert_eq!(
        elb_metrics(&aws, "us-east-1", "UnHealthyHostCount").await,
        [vec![
            pair("LoadBalancer", &primary_arn),
            pair("TargetGroup", &primary_group)
        ]]
    );
    assert_eq!(
        elb_metrics(&aws, "us-east-2", "HealthyHostCount")
            .await
            .len(),
        1
    );
    let (minutes, sum, least) = requests("us-east-1", &primary_arn).await;
    assert!(minutes >= 3.0, "{minutes} datapoints in 210 modelled s");
    // A datum holds a minute's requests, or as much more as passed until it was observed.
    assert!(
        least >= rate - 1.0 && sum <= minutes * rate * 1.5,
        "{minutes} datapoints of {sum} requests, the least {least}, at {rate} a minute"
    );
    assert_eq!(alarm().await, "ALARM");
    let hosts = [
        ("TargetGroup", primary_group.as_str()),
        ("LoadBalancer", primary_arn.as_str()),
    ];
    let (_, _, least_healthy, _) =
        elb_statistics(&aws, "us-east-1", "HealthyHostCount", &hosts).await;
    let (_, _, _, most_unhealthy) =
        elb_statistics(&aws, "us-east-1", "UnHealthyHostCount", &hosts).await;
    assert_eq!((least_healthy, most_unhealthy), (1.0, 0.0));

    // The answer moves to the standby: the clients follow within the TTL; the primary's
    // requests stop once its last minute is out, the standby's come; the primary's target
    // counts as unhealthy.
    let standby_addresses = resolved(&aws, &standby);
    aws.get_text(&format!("/localaws/elb/{primary}/unhealthy"));
    settles("the answer", standby_addresses, || async {
        dns_answer(&r53, &zone, name).await.1
    })
    .await;
    let moved = aws.modelled_seconds();
    settles("the clients' answer", "us-east-2", || async {
        aws.clients_region(name)
    })
    .await;
    let followed = aws.modelled_seconds() - moved;
    assert!(
        followed <= 60.0 + 12.0,
        "followed {followed} s after DNS moved"
    );
    aws.wait_modelled(90.0).await;
    let primary_then = requests("us-east-1", &primary_arn).await;
    aws.wait_modelled(150.0).await;
    assert_eq!(
        requests("us-east-1", &primary_arn).await,
        primary_then,
        "no request reaches the primary"
    );
    let (minutes, _, least) = requests("us-east-2", &standby_arn).await;
    assert!(
        minutes >= 2.0 && least > 0.0,
        "{minutes} datapoints at the standby, the least {least}"
    );
    let (_, _, _, most_unhealthy) =
        elb_statistics(&aws, "us-east-1", "UnHealthyHostCount", &hosts).await;
    assert_eq!(most_unhealthy, 1.0);
    // Its periods without data are not breaching.
    assert_eq!(alarm().await, "OK");

    // Off: nothing more.
    assert_eq!(aws.traffic(name, 0), serde_json::json!({}));
    aws.wait_modelled(90.0).await;
    let standby_then = requests("us-east-2", &standby_arn).await;
    let hosts_then = elb_statistics(&aws, "us-east-1", "UnHealthyHostCount", &hosts).await;
    aws.wait_modelled(150.0).await;
    assert_eq!(requests("us-east-2", &standby_arn).await, standby_then);
    assert_eq!(
        elb_statistics(&aws, "us-east-1", "UnHealthyHostCount", &hosts).await,
        hosts_then
    );
}
