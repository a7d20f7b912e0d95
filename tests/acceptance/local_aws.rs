//! The fidelity layer closes moto's gaps that our tests depend on; these tests prove it through
//! the same Rust SDK the provider uses.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CreateReplicationGroupMemberAction,
    DeleteReplicationGroupMemberAction, KeySchemaElement, KeyType, ReplicaStatus,
    ReplicationGroupUpdate, ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus,
};

use crate::support::{nat_state, settles, LocalAws};

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
    settles("the new table", Some(TableStatus::Active), || async {
        home_table(aws, name).await.table_status().cloned()
    })
    .await;
}

/// The table as its home region (us-east-1) describes it.
async fn home_table(aws: &LocalAws, name: &str) -> aws_sdk_dynamodb::types::TableDescription {
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

fn code<E: aws_sdk_ec2::error::ProvideErrorMetadata>(err: &E) -> Option<String> {
    err.code().map(str::to_owned)
}

/// EC2 refuses to delete what is still in use; the fidelity layer does too, so a destroy in the
/// wrong order fails in tests as it would on AWS.
#[tokio::test]
async fn ec2_refuses_deleting_what_is_in_use_and_routes_to_lost_gateways_go_blackhole() {
    use aws_sdk_ec2::types::{DomainType, IpPermission, UserIdGroupPair};

    let aws = LocalAws::start();
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
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
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

    let aws = LocalAws::start();
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
    let mut refused = 0;
    while let Err(err) = ec2.delete_subnet().subnet_id(&b).send().await {
        assert_eq!(code(&err).as_deref(), Some("DependencyViolation"));
        refused += 1;
        assert!(refused < 10, "the subnet never became free");
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
        .name("pend.example.com")
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
                .fully_qualified_domain_name("primary.example.com")
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
        .name("pend.example.com")
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

    // PENDING for the next two GetChange calls, then INSYNC.
    let mut seen = Vec::new();
    for _ in 0..3 {
        let status = r53
            .get_change()
            .id(&first_id)
            .send()
            .await
            .expect("GetChange");
        seen.push(status.change_info().expect("change").status().clone());
    }
    assert_eq!(
        seen,
        [
            ChangeStatus::Pending,
            ChangeStatus::Pending,
            ChangeStatus::Insync
        ]
    );
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

#[tokio::test]
async fn the_time_model_settles_by_elapsed_time_not_by_reads() {
    use aws_sdk_route53::types::ChangeStatus;
    // Route 53 changes take 60 s on AWS: 5 s at a scale of 12, room for a slow first call.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_TIME_SCALE", "12")]);
    let r53 = aws.route53();
    let started = std::time::Instant::now();
    let zone = r53
        .create_hosted_zone()
        .name("timed.example.com")
        .caller_reference("timed-1")
        .send()
        .await
        .expect("CreateHostedZone");
    let created = std::time::Instant::now();
    let change = zone.change_info().expect("change").id().to_owned();
    let status = || async {
        r53.get_change()
            .id(&change)
            .send()
            .await
            .expect("GetChange")
            .change_info()
            .expect("change")
            .status()
            .clone()
    };
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
