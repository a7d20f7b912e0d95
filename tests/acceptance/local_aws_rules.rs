//! The semantic rules the local AWS enforces as AWS does (localaws/RULES.md): each test asserts
//! AWS's own error code for a call AWS refuses.

use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_dynamodb::types::{BillingMode, TableStatus};
use aws_sdk_ec2::types::{Filter, InstanceStateName, RequestLaunchTemplateData};

use crate::local_aws::{add_replica, code, global_table, home_table, remove_replica};
use crate::support::{
    attached_internet_gateway, nat_state, settles, upsert, LocalAws, SETTLE_WITHIN,
};

/// Retries `call` while it fails with `refused_with`, polling against time; how many times it
/// was refused.
async fn refused_until_it_passes<T, E, F, Fut>(what: &str, refused_with: &str, mut call: F) -> u32
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + SETTLE_WITHIN;
    let mut refused = 0;
    while let Err(err) = call().await {
        assert_eq!(code(&err).as_deref(), Some(refused_with), "{what}: {err:?}");
        refused += 1;
        assert!(Instant::now() < deadline, "{what}: still refused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    refused
}

/// A VPC with a subnet in each of two zones of us-east-1.
async fn network(aws: &LocalAws, cidr: u8) -> (String, String, String) {
    network_in(aws, cidr, ["us-east-1a", "us-east-1b"]).await
}

/// A VPC with a subnet in each of two given zones of us-east-1.
async fn network_in(aws: &LocalAws, cidr: u8, zones: [&str; 2]) -> (String, String, String) {
    let ec2 = aws.ec2("us-east-1");
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{cidr}.0.0/16"))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
    let mut subnets = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.{cidr}.{}.0/24", i + 1))
            .availability_zone(*zone)
            .send()
            .await
            .unwrap();
        subnets.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
    }
    (vpc, subnets.remove(0), subnets.remove(0))
}

async fn template(aws: &LocalAws, name: &str, data: RequestLaunchTemplateData) -> String {
    aws.ec2("us-east-1")
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(data)
        .send()
        .await
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned()
}

fn plain_instances() -> RequestLaunchTemplateData {
    RequestLaunchTemplateData::builder()
        .image_id("ami-03c3da4cfa8e8943a")
        .instance_type("t3.micro".into())
        .build()
}

fn from_template(id: &str) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification::builder()
        .launch_template_id(id)
        .build()
}

#[tokio::test]
async fn auto_scaling_keeps_desired_capacity_between_min_and_max() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (_, subnet, _) = network(&aws, 20).await;
    let lt = template(&aws, "lt-bounds", plain_instances()).await;
    let asg = aws.autoscaling("us-east-1");
    let create = |min: i32, max: i32, desired: i32| {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name("asg-bounds")
            .launch_template(from_template(&lt))
            .min_size(min)
            .max_size(max)
            .desired_capacity(desired)
            .vpc_zone_identifier(&subnet)
            .send()
    };
    for (min, max, desired, message) in [
        (
            1,
            2,
            3,
            "Desired capacity:3 must be between the specified min size:1 and max size:2",
        ),
        (
            2,
            3,
            1,
            "Desired capacity:1 must be between the specified min size:2 and max size:3",
        ),
        (
            3,
            2,
            2,
            "Max bound, 2, must be greater than or equal to min bound, 3",
        ),
    ] {
        let err = create(min, max, desired).await.expect_err(message);
        assert_eq!(code(&err).as_deref(), Some("ValidationError"));
        assert_eq!(
            aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&err),
            Some(message)
        );
    }
    let groups = asg.describe_auto_scaling_groups().send().await.unwrap();
    assert!(
        groups.auto_scaling_groups().is_empty(),
        "nothing was created"
    );

    create(1, 2, 1).await.expect("sizes in bounds");
    let update = asg
        .update_auto_scaling_group()
        .auto_scaling_group_name("asg-bounds")
        .desired_capacity(3)
        .send()
        .await
        .expect_err("desired above the group's max");
    assert_eq!(code(&update).as_deref(), Some("ValidationError"));
    let update = asg
        .update_auto_scaling_group()
        .auto_scaling_group_name("asg-bounds")
        .min_size(3)
        .send()
        .await
        .expect_err("min above the group's max");
    assert_eq!(code(&update).as_deref(), Some("ValidationError"));
    asg.update_auto_scaling_group()
        .auto_scaling_group_name("asg-bounds")
        .max_size(3)
        .desired_capacity(3)
        .send()
        .await
        .expect("desired within the new bounds");
    let group = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-bounds")
        .send()
        .await
        .unwrap();
    let group = &group.auto_scaling_groups()[0];
    assert_eq!(
        (group.min_size(), group.max_size(), group.desired_capacity()),
        (Some(1), Some(3), Some(3))
    );
}

#[tokio::test]
async fn a_new_instance_profile_is_unknown_to_ec2_and_auto_scaling_for_a_while() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_PROFILE_PROPAGATION", "2"),
    ]);
    let (_, subnet, _) = network(&aws, 21).await;
    let profile = aws
        .iam()
        .create_instance_profile()
        .instance_profile_name("fresh")
        .send()
        .await
        .unwrap();
    let arn = profile.instance_profile().unwrap().arn().to_owned();
    let data = RequestLaunchTemplateData::builder()
        .image_id("ami-03c3da4cfa8e8943a")
        .instance_type("t3.micro".into())
        .iam_instance_profile(
            aws_sdk_ec2::types::LaunchTemplateIamInstanceProfileSpecificationRequest::builder()
                .arn(&arn)
                .build(),
        )
        .build();
    let lt = template(&aws, "lt-fresh", data).await;
    let asg = aws.autoscaling("us-east-1");
    let create = || {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name("asg-fresh")
            .launch_template(from_template(&lt))
            .min_size(1)
            .max_size(1)
            .vpc_zone_identifier(&subnet)
            .send()
    };
    let err = create().await.expect_err("the profile is not known yet");
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));
    let message = aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&err).unwrap();
    assert!(
        message.starts_with("You must use a valid fully-formed launch template.")
            && message.contains("Invalid IAM Instance Profile"),
        "{message}"
    );
    let run = aws
        .ec2("us-east-1")
        .run_instances()
        .image_id("ami-03c3da4cfa8e8943a")
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("fresh")
                .build(),
        )
        .send()
        .await
        .expect_err("RunInstances does not know it yet either");
    assert_eq!(code(&run).as_deref(), Some("InvalidParameterValue"));

    let refused =
        refused_until_it_passes("CreateAutoScalingGroup", "ValidationError", create).await;
    assert!(refused > 0);
}

/// The status messages of the group's failed scaling activities, newest first.
async fn failed_activities(asg: &aws_sdk_autoscaling::Client, group: &str) -> Vec<String> {
    let activities = asg
        .describe_scaling_activities()
        .auto_scaling_group_name(group)
        .send()
        .await
        .expect("DescribeScalingActivities");
    activities
        .activities()
        .iter()
        .filter(|a| a.status_code().map(|c| c.as_str()) == Some("Failed"))
        .filter_map(|a| a.status_message().map(str::to_owned))
        .collect()
}

/// us-east-1e offers none of the t3 types (moto's offerings data, as on AWS: the zone predates
/// Nitro); us-east-1a offers them.
#[tokio::test]
async fn launches_in_a_zone_that_does_not_offer_the_instance_type_are_refused() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (_, offering, lacking) = network_in(&aws, 22, ["us-east-1a", "us-east-1e"]).await;
    let ec2 = aws.ec2("us-east-1");
    let run = |subnet: &str| {
        ec2.run_instances()
            .image_id("ami-03c3da4cfa8e8943a")
            .instance_type("t3.micro".into())
            .min_count(1)
            .max_count(1)
            .subnet_id(subnet)
            .send()
    };
    let err = run(&lacking).await.expect_err("t3.micro in us-east-1e");
    assert_eq!(code(&err).as_deref(), Some("Unsupported"));
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::message(&err),
        Some(
            "Your requested instance type (t3.micro) is not supported in your requested \
             Availability Zone (us-east-1e). Please retry your request by not specifying an \
             Availability Zone or choosing us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f."
        )
    );
    run(&offering).await.expect("t3.micro in us-east-1a");
    let lt = template(&aws, "lt-zones", plain_instances()).await;
    let err = ec2
        .run_instances()
        .launch_template(
            aws_sdk_ec2::types::LaunchTemplateSpecification::builder()
                .launch_template_id(&lt)
                .build(),
        )
        .min_count(1)
        .max_count(1)
        .subnet_id(&lacking)
        .send()
        .await
        .expect_err("the template's t3.micro in us-east-1e");
    assert_eq!(code(&err).as_deref(), Some("Unsupported"));

    let asg = aws.autoscaling("us-east-1");
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("asg-zones")
        .launch_template(from_template(&lt))
        .min_size(2)
        .max_size(2)
        .vpc_zone_identifier(format!("{offering},{lacking}"))
        .send()
        .await
        .expect("the group itself is accepted");
    let failed = failed_activities(&asg, "asg-zones").await;
    assert_eq!(failed.len(), 1, "the launch in us-east-1e: {failed:?}");
    assert!(
        failed[0].starts_with(
            "Could not launch On-Demand Instances. Unsupported - Your requested instance type \
             (t3.micro) is not supported in your requested Availability Zone (us-east-1e)."
        ),
        "{}",
        failed[0]
    );
}

/// The newest Amazon Linux 2023 image of `arch` in us-east-1 (moto's public images).
async fn al2023(aws: &LocalAws, arch: &str) -> String {
    let images = aws
        .ec2("us-east-1")
        .describe_images()
        .owners("amazon")
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("name")
                .values(format!("al2023-ami-2023*-{arch}"))
                .build(),
        )
        .send()
        .await
        .expect("DescribeImages");
    let image = images.images().first().expect("an AL2023 image");
    assert_eq!(image.architecture().map(|a| a.as_str()), Some(arch));
    image.image_id().expect("image ID").to_owned()
}

/// A Graviton type (t4g: arm64) with an x86_64 image is refused by RunInstances and by
/// CreateAutoScalingGroup, and a group whose template turns to such a pair fails its launches;
/// the arm64 image launches.
#[tokio::test]
async fn an_image_of_another_architecture_than_the_instance_type_is_refused() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (_, subnet, _) = network_in(&aws, 23, ["us-east-1a", "us-east-1b"]).await;
    let (x86, arm) = (al2023(&aws, "x86_64").await, al2023(&aws, "arm64").await);
    let sentence = "The architecture 'arm64' of the specified instance type does not match the \
                    architecture 'x86_64' of the specified AMI. Specify an instance type and an AMI \
                    that have matching architectures, and try again. You can use \
                    'describe-instance-types' or 'describe-images' to discover the architecture of \
                    the instance type or AMI.";
    let ec2 = aws.ec2("us-east-1");
    let run = |image: &str| {
        ec2.run_instances()
            .image_id(image)
            .instance_type("t4g.small".into())
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet)
            .send()
    };
    let err = run(&x86).await.expect_err("t4g.small with an x86_64 image");
    assert_eq!(code(&err).as_deref(), Some("InvalidParameterValue"));
    assert_eq!(
        aws_sdk_ec2::error::ProvideErrorMetadata::message(&err),
        Some(sentence)
    );
    run(&arm).await.expect("t4g.small with an arm64 image");

    let graviton = |image: &str| {
        RequestLaunchTemplateData::builder()
            .image_id(image)
            .instance_type("t4g.small".into())
            .build()
    };
    let mismatched = template(&aws, "lt-x86-on-arm", graviton(&x86)).await;
    let asg = aws.autoscaling("us-east-1");
    let group = |name: &'static str, lt: &str| {
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_template(from_template(lt))
            .min_size(1)
            .max_size(2)
            .vpc_zone_identifier(&subnet)
            .send()
    };
    let err = group("asg-x86-on-arm", &mismatched)
        .await
        .expect_err("a group of t4g.small with an x86_64 image");
    assert_eq!(code(&err).as_deref(), Some("ValidationError"));
    assert_eq!(
        aws_sdk_autoscaling::error::ProvideErrorMetadata::message(&err),
        Some(format!("You must use a valid fully-formed launch template. {sentence}").as_str())
    );

    // A matching group, whose template's default version then turns to the x86_64 image.
    let lt = template(&aws, "lt-arm", graviton(&arm)).await;
    group("asg-arm", &lt).await.expect("t4g.small with arm64");
    ec2.create_launch_template_version()
        .launch_template_id(&lt)
        .launch_template_data(graviton(&x86))
        .send()
        .await
        .expect("CreateLaunchTemplateVersion");
    ec2.modify_launch_template()
        .launch_template_id(&lt)
        .default_version("2")
        .send()
        .await
        .expect("ModifyLaunchTemplate");
    asg.set_desired_capacity()
        .auto_scaling_group_name("asg-arm")
        .desired_capacity(2)
        .send()
        .await
        .expect("SetDesiredCapacity");
    let failed = failed_activities(&asg, "asg-arm").await;
    assert_eq!(
        failed,
        [format!("{sentence} Launching EC2 instance failed.")],
        "the second launch"
    );
}

#[tokio::test]
async fn detaching_an_internet_gateway_waits_for_every_public_address() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let elb = aws.elbv2("us-east-1");
    let (vpc, a, b) = network(&aws, 22).await;
    let igw = attached_internet_gateway(&ec2, &vpc).await;
    let balancer = |name: &'static str, scheme| {
        elb.create_load_balancer()
            .name(name)
            .scheme(scheme)
            .subnets(&a)
            .subnets(&b)
            .send()
    };
    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum;
    let internal = balancer("internal", LoadBalancerSchemeEnum::Internal)
        .await
        .unwrap();
    let public = balancer("public", LoadBalancerSchemeEnum::InternetFacing)
        .await
        .unwrap();
    let detach = || {
        ec2.detach_internet_gateway()
            .internet_gateway_id(&igw)
            .vpc_id(&vpc)
            .send()
    };
    let err = detach()
        .await
        .expect_err("the internet-facing ALB maps public addresses");
    assert_eq!(code(&err).as_deref(), Some("DependencyViolation"));
    assert!(
        format!("{err:?}").contains("mapped public address"),
        "{err:?}"
    );

    elb.delete_load_balancer()
        .load_balancer_arn(public.load_balancers()[0].load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    // Its network interfaces linger; the internal ALB never held a public address.
    let refused =
        refused_until_it_passes("DetachInternetGateway", "DependencyViolation", detach).await;
    assert!(
        refused > 0,
        "the deleted ALB's interfaces were released at once"
    );
    let left = elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(
        left.load_balancers()[0].load_balancer_arn(),
        internal.load_balancers()[0].load_balancer_arn()
    );
}

#[tokio::test]
async fn network_interfaces_are_found_by_their_public_address() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let (_, subnet, _) = network(&aws, 25).await;
    let eni = ec2
        .create_network_interface()
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap();
    let eni = eni
        .network_interface()
        .unwrap()
        .network_interface_id()
        .unwrap();
    let eip = ec2.allocate_address().send().await.unwrap();
    let (ip, allocation) = (eip.public_ip().unwrap(), eip.allocation_id().unwrap());
    ec2.associate_address()
        .allocation_id(allocation)
        .network_interface_id(eni)
        .send()
        .await
        .unwrap();
    let found = |name: &'static str, value: &str| {
        ec2.describe_network_interfaces()
            .filters(Filter::builder().name(name).values(value).build())
            .send()
    };
    for (name, value, want) in [
        ("association.public-ip", ip, vec![eni]),
        ("association.allocation-id", allocation, vec![eni]),
        ("association.public-ip", "192.0.2.1", vec![]),
    ] {
        let out = found(name, value).await.expect(name);
        let ids: Vec<_> = out
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id())
            .collect();
        assert_eq!(ids, want, "{name} = {value}");
    }
}

#[tokio::test]
async fn scaled_in_instances_shut_down_holding_their_subnet_and_groups() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let (vpc, subnet, _) = network(&aws, 23).await;
    let group = ec2
        .create_security_group()
        .group_name("instances")
        .description("instances")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let group = group.group_id().unwrap().to_owned();
    let data = RequestLaunchTemplateData::builder()
        .image_id("ami-03c3da4cfa8e8943a")
        .instance_type("t3.micro".into())
        .security_group_ids(&group)
        .build();
    let lt = template(&aws, "lt-shutdown", data).await;
    let asg = aws.autoscaling("us-east-1");
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("asg-shutdown")
        .launch_template(from_template(&lt))
        .min_size(0)
        .max_size(1)
        .desired_capacity(1)
        .vpc_zone_identifier(&subnet)
        .send()
        .await
        .unwrap();
    let states = || async {
        let out = ec2.describe_instances().send().await.unwrap();
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.state().and_then(|s| s.name()).cloned())
            .collect::<Vec<_>>()
    };
    assert_eq!(states().await, [InstanceStateName::Running]);
    asg.update_auto_scaling_group()
        .auto_scaling_group_name("asg-shutdown")
        .desired_capacity(0)
        .send()
        .await
        .unwrap();
    assert_eq!(states().await, [InstanceStateName::ShuttingDown]);
    let err = ec2
        .delete_security_group()
        .group_id(&group)
        .send()
        .await
        .expect_err("the shutting-down instance uses the group");
    assert_eq!(code(&err).as_deref(), Some("DependencyViolation"));
    let refused = refused_until_it_passes("DeleteSubnet", "DependencyViolation", || {
        ec2.delete_subnet().subnet_id(&subnet).send()
    })
    .await;
    assert!(refused > 0);
    assert_eq!(states().await, [InstanceStateName::Terminated]);
    ec2.delete_security_group()
        .group_id(&group)
        .send()
        .await
        .expect("free once the instance is terminated");
}

/// Auto Scaling terminates a scaled-in instance once its target group's deregistration delay
/// has passed (300 s by default), even with no connections; a group whose delay was set to 0
/// lets it go after its termination alone.
#[tokio::test]
async fn scaled_in_instances_wait_their_target_groups_deregistration_delay() {
    use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetGroupAttribute};
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (vpc, subnet, _) = network(&aws, 26).await;
    let lt = template(&aws, "lt-drain", plain_instances()).await;
    let (elb, asg) = (aws.elbv2("us-east-1"), aws.autoscaling("us-east-1"));
    for (name, delay) in [("slow", None), ("quick", Some("0"))] {
        let tg = elb
            .create_target_group()
            .name(format!("tg-{name}"))
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        let tg = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
        if let Some(delay) = delay {
            elb.modify_target_group_attributes()
                .target_group_arn(&tg)
                .attributes(
                    TargetGroupAttribute::builder()
                        .key("deregistration_delay.timeout_seconds")
                        .value(delay)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        asg.create_auto_scaling_group()
            .auto_scaling_group_name(format!("asg-{name}"))
            .launch_template(from_template(&lt))
            .min_size(0)
            .max_size(1)
            .desired_capacity(1)
            .vpc_zone_identifier(&subnet)
            .target_group_arns(tg)
            .send()
            .await
            .unwrap();
    }
    let started = aws.modelled_seconds();
    for name in ["asg-slow", "asg-quick"] {
        asg.update_auto_scaling_group()
            .auto_scaling_group_name(name)
            .desired_capacity(0)
            .send()
            .await
            .unwrap();
    }
    let instances = |name: &'static str| {
        let asg = asg.clone();
        async move {
            let out = asg
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(name)
                .send()
                .await
                .unwrap();
            out.auto_scaling_groups()[0].instances().len()
        }
    };
    settles("asg-quick's instances", 0, || instances("asg-quick")).await;
    let quick = aws.modelled_seconds() - started;
    assert!(quick < 300.0, "without a delay: gone after {quick} s");
    assert_eq!(instances("asg-slow").await, 1, "draining for 300 s");
    settles("asg-slow's instances", 0, || instances("asg-slow")).await;
    let slow = aws.modelled_seconds() - started;
    assert!(slow >= 300.0, "with the default delay: gone after {slow} s");
    assert_eq!(
        aws.drained(),
        [("asg-slow".to_owned(), 300), ("asg-quick".to_owned(), 0)]
    );
}

#[tokio::test]
async fn update_table_is_refused_while_a_replica_is_created_or_deleted() {
    let aws = LocalAws::start();
    global_table(&aws, "busy").await;
    add_replica(&aws, "busy", "us-east-2").await;
    let update = |region: &'static str| {
        let db = aws.dynamodb(region);
        async move {
            db.update_table()
                .table_name("busy")
                .billing_mode(BillingMode::PayPerRequest)
                .deletion_protection_enabled(true)
                .send()
                .await
        }
    };
    for region in ["us-east-1", "us-east-2"] {
        let err = update(region).await.expect_err("the table is UPDATING");
        assert_eq!(
            aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err),
            Some("ResourceInUseException"),
            "{region}"
        );
        let status = aws
            .dynamodb(region)
            .describe_table()
            .table_name("busy")
            .send()
            .await
            .unwrap();
        assert_eq!(
            status.table().and_then(|t| t.table_status()),
            Some(&TableStatus::Updating),
            "{region}"
        );
    }
    settles("the table", Some(TableStatus::Active), || async {
        home_table(&aws, "busy").await.table_status().cloned()
    })
    .await;
    update("us-east-2")
        .await
        .expect("the replica's own setting, once ACTIVE");

    remove_replica(&aws, "busy", "us-east-2").await;
    let err = update("us-east-1")
        .await
        .expect_err("a replica is being deleted");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err),
        Some("ResourceInUseException")
    );
}

#[tokio::test]
async fn one_objects_reads_do_not_settle_another() {
    use aws_sdk_ec2::types::DomainType;
    // NAT gateways take 90 s on AWS: 3 s at a scale of 30.
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_TIME_SCALE", "30"),
    ]);
    let ec2 = aws.ec2("us-east-1");
    let (_, a, b) = network(&aws, 24).await;
    let nat = |subnet: String| {
        let ec2 = ec2.clone();
        async move {
            let eip = ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .send()
                .await
                .unwrap();
            let eip = eip.allocation_id().unwrap().to_owned();
            let created = ec2
                .create_nat_gateway()
                .subnet_id(subnet)
                .allocation_id(&eip)
                .send()
                .await
                .unwrap();
            (
                created
                    .nat_gateway()
                    .unwrap()
                    .nat_gateway_id()
                    .unwrap()
                    .to_owned(),
                eip,
            )
        }
    };
    let state = |id: String| {
        let ec2 = ec2.clone();
        async move { crate::support::nat_state(&ec2, &id).await }
    };
    let (first, _) = nat(a).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (second, second_eip) = nat(b).await;
    settles(
        "the first NAT gateway",
        Some("available".to_owned()),
        || state(first.clone()),
    )
    .await;
    assert_eq!(state(second.clone()).await.as_deref(), Some("pending"));
    // Refused calls about the second gateway's address hurry nothing.
    for _ in 0..20 {
        let err = ec2
            .release_address()
            .allocation_id(&second_eip)
            .send()
            .await
            .expect_err("the pending NAT gateway holds its address");
        assert_eq!(code(&err).as_deref(), Some("InvalidIPAddress.InUse"));
    }
    assert_eq!(state(second.clone()).await.as_deref(), Some("pending"));
    settles(
        "the second NAT gateway",
        Some("available".to_owned()),
        || state(second.clone()),
    )
    .await;
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_refuses_every_request() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let ec2 = aws
        .ec2("af-south-1")
        .describe_availability_zones()
        .send()
        .await
        .expect_err("EC2 in af-south-1");
    assert_eq!(code(&ec2).as_deref(), Some("AuthFailure"));
    let dynamodb = aws
        .dynamodb("af-south-1")
        .list_tables()
        .send()
        .await
        .expect_err("DynamoDB in af-south-1");
    assert_eq!(
        code(&dynamodb).as_deref(),
        Some("UnrecognizedClientException")
    );
    let sns = aws
        .sns("af-south-1")
        .list_topics()
        .send()
        .await
        .expect_err("SNS in af-south-1");
    assert_eq!(code(&sns).as_deref(), Some("InvalidClientTokenId"));
    let sts = aws_sdk_sts::Client::new(&aws.sdk_config("af-south-1"))
        .get_caller_identity()
        .send()
        .await
        .expect_err("STS in af-south-1");
    assert_eq!(code(&sts).as_deref(), Some("InvalidClientTokenId"));
    aws.ec2("us-east-1")
        .describe_availability_zones()
        .send()
        .await
        .expect("an enabled region answers");

    // Disabled after use: what is there stays, out of reach until the region is enabled again.
    let db = aws.dynamodb("eu-west-1");
    db.create_table()
        .table_name("kept")
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    let listed = aws.get_json("/localaws/disabled/eu-west-1");
    assert_eq!(
        listed["disabled"],
        serde_json::json!(["af-south-1", "eu-west-1"])
    );
    let refused = db
        .describe_table()
        .table_name("kept")
        .send()
        .await
        .expect_err("DynamoDB in a region disabled after use");
    assert_eq!(
        code(&refused).as_deref(),
        Some("UnrecognizedClientException")
    );
    aws.get_json("/localaws/disabled/eu-west-1/end");
    db.describe_table()
        .table_name("kept")
        .send()
        .await
        .expect("enabled again, the table is there");
}

/// Every EC2 call that takes a ClientToken answers a repeat with its first answer (one object,
/// however often the call is sent) and refuses the token with other parameters
/// (`IdempotentParameterMismatch`); a token is the region's own.
#[tokio::test]
async fn ec2_client_tokens_make_one_object_and_refuse_other_parameters() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ec2 = aws.ec2("us-east-1");
    let (vpc, _, _) = network(&aws, 31).await;
    let route_table = |vpc: String, token: &'static str| {
        let ec2 = ec2.clone();
        async move {
            ec2.create_route_table()
                .vpc_id(vpc)
                .client_token(token)
                .send()
                .await
        }
    };
    let id = |out: aws_sdk_ec2::operation::create_route_table::CreateRouteTableOutput| {
        out.route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_owned()
    };
    let first = id(route_table(vpc.clone(), "rt-token").await.unwrap());
    let again = id(route_table(vpc.clone(), "rt-token").await.unwrap());
    assert_eq!(
        first, again,
        "the same token and parameters: the same route table"
    );
    let tables = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tables.route_tables().len(),
        2,
        "the main table and one more"
    );
    // Deleted, the table stays the token's answer: AWS keeps a token "for at least 24 hours
    // after the termination" of what it made, and a repeat makes nothing new.
    ec2.delete_route_table()
        .route_table_id(&first)
        .send()
        .await
        .unwrap();
    let after_delete = id(route_table(vpc.clone(), "rt-token").await.unwrap());
    assert_eq!(
        after_delete, first,
        "the deleted table's token answers with it"
    );
    let gone = ec2
        .describe_route_tables()
        .route_table_ids(&first)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone).as_deref(), Some("InvalidRouteTableID.NotFound"));
    let (other_vpc, _, _) = network(&aws, 32).await;
    let mismatch = route_table(other_vpc, "rt-token").await.unwrap_err();
    assert_eq!(
        code(&mismatch).as_deref(),
        Some("IdempotentParameterMismatch")
    );

    // The same token in another region is another request.
    let east2 = aws.ec2("us-east-2");
    let vpc2 = east2
        .create_vpc()
        .cidr_block("10.33.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc2 = vpc2.vpc().unwrap().vpc_id().unwrap().to_owned();
    let there = east2
        .create_route_table()
        .vpc_id(&vpc2)
        .client_token("rt-token")
        .send()
        .await
        .expect("the token is unused in us-east-2");
    assert_ne!(id(there), first);

    let data = |instance_type: &str| {
        RequestLaunchTemplateData::builder()
            .image_id("ami-03c3da4cfa8e8943a")
            .instance_type(instance_type.into())
            .build()
    };
    let lt = template(&aws, "lt-tokens", data("t3.micro")).await;
    let version = |instance_type: &'static str| {
        let (ec2, lt) = (ec2.clone(), lt.clone());
        async move {
            ec2.create_launch_template_version()
                .launch_template_id(lt)
                .launch_template_data(data(instance_type))
                .client_token("lt-version-token")
                .send()
                .await
        }
    };
    let number = |out: aws_sdk_ec2::operation::create_launch_template_version::CreateLaunchTemplateVersionOutput| {
        out.launch_template_version().unwrap().version_number().unwrap()
    };
    assert_eq!(number(version("t3.small").await.unwrap()), 2);
    assert_eq!(
        number(version("t3.small").await.unwrap()),
        2,
        "no version 3"
    );
    let mismatch = version("t3.large").await.unwrap_err();
    assert_eq!(
        code(&mismatch).as_deref(),
        Some("IdempotentParameterMismatch")
    );
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(&lt)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.launch_template_versions().len(), 2);

    let make_default = |number: &'static str| {
        ec2.modify_launch_template()
            .launch_template_id(&lt)
            .default_version(number)
            .client_token("lt-default-token")
            .send()
    };
    make_default("2").await.expect("ModifyLaunchTemplate");
    make_default("2")
        .await
        .expect("the same token and parameters");
    let mismatch = make_default("1").await.unwrap_err();
    assert_eq!(
        code(&mismatch).as_deref(),
        Some("IdempotentParameterMismatch")
    );
}

/// ELBv2's creates are idempotent by their settings (the same call answers with the object it
/// made); the same name or port with other settings is refused.
#[tokio::test]
async fn elbv2_creates_repeated_with_the_same_settings_answer_with_the_object() {
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};

    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (vpc, a, b) = network(&aws, 34).await;
    let elb = aws.elbv2("us-east-1");
    let target_group = |port: i32| {
        elb.create_target_group()
            .name("tg-same")
            .protocol(ProtocolEnum::Http)
            .port(port)
            .vpc_id(&vpc)
            .send()
    };
    let tg_arn = |out: aws_sdk_elasticloadbalancingv2::operation::create_target_group::CreateTargetGroupOutput| {
        out.target_groups()[0].target_group_arn().unwrap().to_owned()
    };
    let tg = tg_arn(target_group(8080).await.unwrap());
    assert_eq!(tg_arn(target_group(8080).await.unwrap()), tg);
    let other = target_group(9090).await.unwrap_err();
    assert_eq!(code(&other).as_deref(), Some("DuplicateTargetGroupName"));

    let balancer = || {
        elb.create_load_balancer()
            .name("alb-same")
            .subnets(&a)
            .subnets(&b)
            .send()
    };
    let lb = balancer().await.unwrap().load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let again = balancer().await.unwrap();
    assert_eq!(
        again.load_balancers()[0].load_balancer_arn(),
        Some(lb.as_str())
    );
    let listener = |action: Action| {
        elb.create_listener()
            .load_balancer_arn(&lb)
            .protocol(ProtocolEnum::Http)
            .port(80)
            .default_actions(action)
            .send()
    };
    let forward = Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(&tg)
        .build();
    let first = listener(forward.clone()).await.unwrap().listeners()[0]
        .listener_arn()
        .unwrap()
        .to_owned();
    let repeated = listener(forward).await.unwrap();
    assert_eq!(repeated.listeners()[0].listener_arn(), Some(first.as_str()));
    let fixed = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            aws_sdk_elasticloadbalancingv2::types::FixedResponseActionConfig::builder()
                .status_code("503")
                .build(),
        )
        .build();
    let other = listener(fixed).await.unwrap_err();
    assert_eq!(code(&other).as_deref(), Some("DuplicateListener"));
}

#[tokio::test]
async fn deleting_a_launch_template_that_is_not_there_is_not_found() {
    let aws = LocalAws::start();
    let ec2 = aws.ec2("us-east-1");
    let err = ec2
        .delete_launch_template()
        .launch_template_name("lt-never-made")
        .send()
        .await
        .expect_err("nothing to delete");
    assert_eq!(
        code(&err).as_deref(),
        Some("InvalidLaunchTemplateName.NotFoundException"),
        "{err:?}"
    );
    template(&aws, "lt-made", plain_instances()).await;
    ec2.delete_launch_template()
        .launch_template_name("lt-made")
        .send()
        .await
        .expect("deleting the template by its name");
}

#[tokio::test]
async fn a_deleted_nat_gateway_gives_its_elastic_ip_back_for_a_new_one() {
    let aws = LocalAws::start();
    let ec2 = aws.ec2("us-east-1");
    let (_, subnet, _) = network(&aws, 34).await;
    let allocation = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap()
        .allocation_id()
        .unwrap()
        .to_owned();
    let nat = |token: &'static str| {
        let (ec2, subnet, allocation) = (ec2.clone(), subnet.clone(), allocation.clone());
        async move {
            ec2.create_nat_gateway()
                .subnet_id(subnet)
                .allocation_id(allocation)
                .client_token(token)
                .send()
                .await
                .map(|out| {
                    out.nat_gateway()
                        .unwrap()
                        .nat_gateway_id()
                        .unwrap()
                        .to_owned()
                })
        }
    };
    let association = || async {
        ec2.describe_addresses()
            .allocation_ids(&allocation)
            .send()
            .await
            .unwrap()
            .addresses()[0]
            .association_id()
            .map(str::to_owned)
    };
    let first = nat("first").await.unwrap();
    settles(
        "the first NAT gateway",
        Some("available".to_owned()),
        || nat_state(&ec2, &first),
    )
    .await;
    assert!(
        association().await.is_some(),
        "the gateway holds its address"
    );
    ec2.delete_nat_gateway()
        .nat_gateway_id(&first)
        .send()
        .await
        .unwrap();
    settles(
        "the deleted NAT gateway",
        Some("deleted".to_owned()),
        || nat_state(&ec2, &first),
    )
    .await;
    assert_eq!(association().await, None, "disassociated, not released");
    let second = nat("second")
        .await
        .expect("the address is free for a new gateway");
    assert_ne!(second, first);
    settles(
        "the second NAT gateway",
        Some("available".to_owned()),
        || nat_state(&ec2, &second),
    )
    .await;
    assert!(association().await.is_some());
}

/// The status of an ACM certificate and its first validation record (name, value).
async fn certificate_status(
    acm: &aws_sdk_acm::Client,
    arn: &str,
) -> (String, Option<(String, String)>) {
    let out = acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .expect("DescribeCertificate");
    let certificate = out.certificate().expect("a certificate");
    let record = certificate
        .domain_validation_options()
        .first()
        .and_then(|o| o.resource_record())
        .map(|r| (r.name().to_owned(), r.value().to_owned()));
    (
        certificate
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        record,
    )
}

/// A DNS-validated certificate is PENDING_VALIDATION until its CNAME is in a zone that answers
/// on the internet, then ISSUED a moment later, with IssuedAt from then on; the record is the same
/// for the name in every region (ACM user guide, "DNS validation").
#[tokio::test]
async fn acm_issues_a_dns_validated_certificate_only_once_its_record_is_in_a_delegated_zone() {
    use aws_sdk_acm::types::ValidationMethod;
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};

    let aws = LocalAws::start();
    let zone = aws
        .route53()
        .create_hosted_zone()
        .name("tap-test.net")
        .caller_reference("acm-zone")
        .send()
        .await
        .expect("CreateHostedZone");
    let zone = zone.hosted_zone().expect("zone").id().to_owned();
    let mut certificates = Vec::new();
    for region in ["us-east-1", "us-east-2"] {
        let acm = aws.acm(region);
        let arn = acm
            .request_certificate()
            .domain_name("trading-acc.tap-test.net")
            .validation_method(ValidationMethod::Dns)
            .send()
            .await
            .expect("RequestCertificate")
            .certificate_arn()
            .expect("an ARN")
            .to_owned();
        certificates.push((acm, arn));
    }
    let (status, record) = certificate_status(&certificates[0].0, &certificates[0].1).await;
    assert_eq!(status, "PENDING_VALIDATION");
    let (name, value) = record.expect("a validation record");
    let (_, other) = certificate_status(&certificates[1].0, &certificates[1].1).await;
    assert_eq!(
        other,
        Some((name.clone(), value.clone())),
        "one record in every region"
    );

    upsert(
        &aws.route53(),
        &zone,
        ResourceRecordSet::builder()
            .name(&name)
            .r#type(RrType::Cname)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(&value).build().unwrap())
            .build()
            .unwrap(),
    )
    .await;
    // The zone does not answer publicly yet: ACM cannot see the record, however long it looks.
    aws.wait_modelled(300.0).await;
    for (acm, arn) in &certificates {
        assert_eq!(
            certificate_status(acm, arn).await.0,
            "PENDING_VALIDATION",
            "{arn} with its zone undelegated"
        );
    }

    aws.delegate(&zone);
    assert_eq!(
        certificate_status(&certificates[0].0, &certificates[0].1)
            .await
            .0,
        "PENDING_VALIDATION",
        "issued a moment after ACM sees the record, not at once"
    );
    for (acm, arn) in &certificates {
        let pending = acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("DescribeCertificate");
        let pending = pending.certificate().expect("a certificate");
        assert_eq!(pending.issued_at(), None, "not issued yet: no IssuedAt");
        settles(arn, "ISSUED", || async {
            certificate_status(acm, arn).await.0
        })
        .await;
        let issued = acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("DescribeCertificate");
        let issued = issued.certificate().expect("a certificate");
        let (created, at) = (
            issued.created_at().expect("CreatedAt"),
            issued.issued_at().expect("IssuedAt once issued"),
        );
        assert!(
            at.as_secs_f64() > created.as_secs_f64(),
            "issued after it was requested"
        );
    }
}

/// A certificate a listener uses cannot be deleted (`ResourceInUseException`) and names the load
/// balancer in `InUseBy`; once the listener is gone it can (API_DeleteCertificate).
#[tokio::test]
async fn a_certificate_a_listener_uses_cannot_be_deleted() {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, ProtocolEnum,
    };

    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let (vpc, a, b) = network(&aws, 36).await;
    let elb = aws.elbv2("us-east-1");
    let tg = elb
        .create_target_group()
        .name("tg-tls")
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tg = tg.target_groups()[0].target_group_arn().unwrap().to_owned();
    let lb = elb
        .create_load_balancer()
        .name("alb-tls")
        .subnets(&a)
        .subnets(&b)
        .send()
        .await
        .unwrap();
    let lb = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    let certificate = aws.certificate_in("us-east-1", "trading-acc.tap-test.net");
    let listener = elb
        .create_listener()
        .load_balancer_arn(&lb)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .certificates(Certificate::builder().certificate_arn(&certificate).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&tg)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let listener = listener.listeners()[0].listener_arn().unwrap().to_owned();

    let acm = aws.acm("us-east-1");
    let in_use = acm
        .describe_certificate()
        .certificate_arn(&certificate)
        .send()
        .await
        .unwrap();
    assert_eq!(in_use.certificate().unwrap().in_use_by(), [lb.as_str()]);
    let refused = acm
        .delete_certificate()
        .certificate_arn(&certificate)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&refused).as_deref(), Some("ResourceInUseException"));
    assert_eq!(
        crate::support::certificates_in(&aws, "us-east-1").await,
        [certificate.as_str()]
    );

    elb.delete_listener()
        .listener_arn(&listener)
        .send()
        .await
        .unwrap();
    acm.delete_certificate()
        .certificate_arn(&certificate)
        .send()
        .await
        .expect("a certificate no listener uses");
    assert!(crate::support::certificates_in(&aws, "us-east-1")
        .await
        .is_empty());
}
