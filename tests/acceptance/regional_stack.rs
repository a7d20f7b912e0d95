//! `tap_regional_stack` (network slice) end to end, asserted on what the local AWS holds.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_autoscaling::types::LifecycleState;
use aws_sdk_ec2::types::{Filter, VpcAttributeName};
use aws_sdk_ec2::Client;

use crate::support::{
    assert_nothing_left, assert_one_error_on, lists_with_null_items, nat_state, percent_decode,
    settles, LocalAws, Workspace,
};

const ADDRESS: &str = "tap_regional_stack.primary";

fn config(extra: &str) -> String {
    format!("resource \"tap_regional_stack\" \"primary\" {{\n  environment_suffix = \"net\"\n{extra}\n}}\n")
}

fn by_vpc(vpc: &str) -> Filter {
    Filter::builder().name("vpc-id").values(vpc).build()
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// (cidr, zone, public IP on launch) of every subnet in the VPC.
async fn subnets(ec2: &Client, vpc: &str) -> BTreeSet<(String, String, bool)> {
    ec2.describe_subnets()
        .filters(by_vpc(vpc))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .map(|s| {
            (
                s.cidr_block().unwrap().to_owned(),
                s.availability_zone().unwrap().to_owned(),
                s.map_public_ip_on_launch().unwrap_or(false),
            )
        })
        .collect()
}

async fn live_nats(ec2: &Client, vpc: &str) -> Vec<aws_sdk_ec2::types::NatGateway> {
    ec2.describe_nat_gateways()
        .filter(by_vpc(vpc))
        .send()
        .await
        .unwrap()
        .nat_gateways()
        .iter()
        .filter(|n| n.state().is_some_and(|s| s.as_str() == "available"))
        .cloned()
        .collect()
}

/// The default route target of the route table associated with `subnet`.
async fn default_route(ec2: &Client, vpc: &str, subnet: &str) -> Option<String> {
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc(vpc))
        .send()
        .await
        .unwrap();
    let table = tables.route_tables().iter().find(|t| {
        t.associations()
            .iter()
            .any(|a| a.subnet_id() == Some(subnet))
    })?;
    table
        .routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .and_then(|r| r.gateway_id().or(r.nat_gateway_id()))
        .map(str::to_owned)
}

/// (port, source) ingress rules of a security group.
async fn ingress(ec2: &Client, group: &str) -> BTreeSet<(i32, String)> {
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    let mut rules = BTreeSet::new();
    for p in out.security_groups()[0].ip_permissions() {
        for r in p.ip_ranges() {
            rules.insert((p.from_port().unwrap(), r.cidr_ip().unwrap().to_owned()));
        }
        for g in p.user_id_group_pairs() {
            rules.insert((p.from_port().unwrap(), g.group_id().unwrap().to_owned()));
        }
    }
    rules
}

/// The ports a group opens to Route 53's health checkers: rules naming the region's
/// AWS-managed `route53-healthchecks` prefix list.
async fn health_checker_ports(ec2: &Client, region: &str, group: &str) -> BTreeSet<i32> {
    let lists = ec2
        .describe_managed_prefix_lists()
        .filters(
            Filter::builder()
                .name("prefix-list-name")
                .values(format!("com.amazonaws.{region}.route53-healthchecks"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let checkers = lists.prefix_lists()[0].prefix_list_id().unwrap().to_owned();
    let out = ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    out.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| {
            p.prefix_list_ids()
                .iter()
                .any(|l| l.prefix_list_id() == Some(checkers.as_str()))
        })
        .map(|p| p.from_port().unwrap())
        .collect()
}

fn ids(state: &serde_json::Value, attr: &str) -> Vec<String> {
    state[attr]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A VPC's DNS attribute (`enableDnsSupport` or `enableDnsHostnames`) as EC2 holds it.
pub async fn dns_attribute(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    attribute: VpcAttributeName,
) -> Option<bool> {
    let out = ec2
        .describe_vpc_attribute()
        .vpc_id(vpc)
        .attribute(attribute)
        .send()
        .await
        .expect("DescribeVpcAttribute");
    out.enable_dns_support()
        .or(out.enable_dns_hostnames())
        .and_then(|v| v.value())
}

#[tokio::test]
async fn creates_the_spec_network_and_destroys_everything() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let ec2 = aws.ec2("us-east-1");
    let state = ws.resource(ADDRESS);
    let vpc_id = state["vpc_id"].as_str().unwrap();

    let vpc = ec2.describe_vpcs().vpc_ids(vpc_id).send().await.unwrap();
    let vpc = &vpc.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(tag(vpc.tags(), "Name"), Some("vpc-primary-net"));
    assert_eq!(tag(vpc.tags(), "Environment"), Some("Production"));
    assert_eq!(tag(vpc.tags(), "FailoverRole"), Some("Primary"));
    assert_eq!(tag(vpc.tags(), "tap:stack"), Some("net"));
    for attribute in [
        VpcAttributeName::EnableDnsSupport,
        VpcAttributeName::EnableDnsHostnames,
    ] {
        let on = dns_attribute(&ec2, vpc_id, attribute.clone()).await;
        assert_eq!(on, Some(true), "{attribute:?}");
    }

    let expected: BTreeSet<(String, String, bool)> = [
        ("10.0.1.0/24", "us-east-1a", true),
        ("10.0.2.0/24", "us-east-1b", true),
        ("10.0.11.0/24", "us-east-1a", false),
        ("10.0.12.0/24", "us-east-1b", false),
    ]
    .iter()
    .map(|(c, z, p)| (c.to_string(), z.to_string(), *p))
    .collect();
    assert_eq!(subnets(&ec2, vpc_id).await, expected);

    let igw = state["internet_gateway_id"].as_str().unwrap();
    let gateways = ec2
        .describe_internet_gateways()
        .internet_gateway_ids(igw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        gateways.internet_gateways()[0].attachments()[0].vpc_id(),
        Some(vpc_id)
    );
    for subnet in ids(&state, "public_subnet_ids") {
        assert_eq!(
            default_route(&ec2, vpc_id, &subnet).await.as_deref(),
            Some(igw)
        );
    }
    let nats = live_nats(&ec2, vpc_id).await;
    assert_eq!(nats.len(), 1, "nat_mode single");
    assert_eq!(
        nats[0].subnet_id(),
        Some(ids(&state, "public_subnet_ids")[0].as_str())
    );
    for subnet in ids(&state, "private_subnet_ids") {
        assert_eq!(
            default_route(&ec2, vpc_id, &subnet).await.as_deref(),
            nats[0].nat_gateway_id()
        );
    }

    let alb_sg = state["alb_security_group_id"].as_str().unwrap();
    let instance_sg = state["instance_security_group_id"].as_str().unwrap();
    assert_eq!(
        ingress(&ec2, alb_sg).await,
        BTreeSet::from([(80, "0.0.0.0/0".to_string())])
    );
    assert_eq!(
        ingress(&ec2, instance_sg).await,
        BTreeSet::from([(80, alb_sg.to_string())]),
        "instances are reachable from the ALB's group only"
    );

    assert_compute(&aws, &state).await;
    ws.assert_plan_empty();
    let before = aws.drained().len();
    ws.destroy();
    // Alone, the stack cannot know whether DNS still answers with its load balancer: its
    // instances drain for the target group's delay, left as it was (#22).
    let drained = aws.drained().split_off(before);
    assert!(!drained.is_empty(), "the group's instances were scaled in");
    assert_eq!(
        drained,
        vec![("asg-primary-net".to_owned(), 300); drained.len()]
    );
    assert_nothing_left(&aws).await;
}

/// Every ID a create returns is unknown to the next two calls naming it, for up to a minute (EC2
/// and ELB eventual consistency): the first apply still succeeds and builds everything.
#[tokio::test]
async fn new_ids_not_yet_visible_are_waited_for() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "2"),
        ("LOCALAWS_NEW_ID_WINDOW_MS", "60000"),
    ]);
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let ec2 = aws.ec2("us-east-1");
    let vpc_id = state["vpc_id"].as_str().unwrap();
    assert_eq!(
        dns_attribute(&ec2, vpc_id, VpcAttributeName::EnableDnsHostnames).await,
        Some(true)
    );
    assert_eq!(subnets(&ec2, vpc_id).await.len(), 4);
    assert_eq!(
        ingress(&ec2, state["alb_security_group_id"].as_str().unwrap()).await,
        BTreeSet::from([(80, "0.0.0.0/0".to_string())])
    );
    assert_compute(&aws, &state).await;
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// A new instance profile is unknown to Auto Scaling for a while (IAM eventual consistency):
/// CreateAutoScalingGroup is refused with "Invalid IAM Instance Profile" and retried, as
/// hashicorp/aws does, until the group is created.
#[tokio::test]
async fn a_new_instance_profile_is_waited_for() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_PROFILE_PROPAGATION", "20")]);
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let creates = aws.get_json("/localaws/requests")["autoscaling CreateAutoScalingGroup"].clone();
    assert!(
        creates.as_u64().is_some_and(|n| n >= 2),
        "refused at least once, then retried: {creates}"
    );
    assert_compute(&aws, &ws.resource(ADDRESS)).await;
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The load balancer, launch template, Auto Scaling group and IAM role of the default stack.
async fn assert_compute(aws: &LocalAws, state: &serde_json::Value) {
    let elb = aws.elbv2("us-east-1");
    let albs = elb
        .describe_load_balancers()
        .names("alb-primary-net")
        .send()
        .await
        .unwrap();
    let alb = &albs.load_balancers()[0];
    assert_eq!(alb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    assert_eq!(
        alb.security_groups(),
        [state["alb_security_group_id"].as_str().unwrap().to_owned()]
    );
    let mut alb_subnets: Vec<String> = alb
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_owned))
        .collect();
    alb_subnets.sort();
    let mut public = ids(state, "public_subnet_ids");
    public.sort();
    assert_eq!(alb_subnets, public, "the ALB is in the public subnets");
    assert_eq!(state["alb_dns_name"], alb.dns_name().unwrap());

    let groups = elb
        .describe_target_groups()
        .names("tg-primary-net")
        .send()
        .await
        .unwrap();
    let tg = &groups.target_groups()[0];
    assert_eq!(tg.health_check_path(), Some("/health"));
    assert_eq!(tg.port(), Some(80));
    assert_eq!(tg.protocol().map(|p| p.as_str()), Some("HTTP"));
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(alb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1);
    let http = &listeners.listeners()[0];
    assert_eq!(http.port(), Some(80));
    assert_eq!(
        http.default_actions()[0].target_group_arn(),
        tg.target_group_arn()
    );

    let ec2 = aws.ec2("us-east-1");
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_name("lt-primary-net")
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    assert_eq!(data.instance_type().map(|t| t.as_str()), Some("t3.medium"));
    assert_eq!(
        data.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required"),
        "IMDSv2"
    );
    assert_eq!(
        data.block_device_mappings()[0]
            .ebs()
            .and_then(|e| e.encrypted()),
        Some(true),
        "encrypted root volume"
    );
    assert!(data.image_id().is_some_and(|i| i.starts_with("ami-")));
    assert_eq!(
        data.iam_instance_profile().and_then(|p| p.arn()),
        state["instance_profile_arn"].as_str()
    );
    assert_eq!(
        data.security_group_ids(),
        [state["instance_security_group_id"]
            .as_str()
            .unwrap()
            .to_owned()]
    );

    let asg = aws.autoscaling("us-east-1");
    let found = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-primary-net")
        .send()
        .await
        .unwrap();
    let group = &found.auto_scaling_groups()[0];
    assert_eq!(
        (group.min_size(), group.max_size(), group.desired_capacity()),
        (Some(1), Some(4), Some(2))
    );
    assert_eq!(group.health_check_type(), Some("ELB"));
    assert_eq!(group.health_check_grace_period(), Some(300));
    assert_eq!(
        group.target_group_arns(),
        [tg.target_group_arn().unwrap().to_owned()]
    );
    let mut zones: Vec<String> = group
        .vpc_zone_identifier()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    zones.sort();
    let mut private = ids(state, "private_subnet_ids");
    private.sort();
    assert_eq!(zones, private, "instances run in the private subnets");
    assert_eq!(group.instances().len(), 2);
    let policies = asg
        .describe_policies()
        .auto_scaling_group_name("asg-primary-net")
        .send()
        .await
        .unwrap();
    let tracking = policies.scaling_policies()[0]
        .target_tracking_configuration()
        .unwrap();
    assert_eq!(tracking.target_value(), Some(70.0));

    let iam = aws.iam();
    let role = iam
        .get_role()
        .role_name("ec2-primary-net")
        .send()
        .await
        .unwrap();
    let trust = role
        .role()
        .unwrap()
        .assume_role_policy_document()
        .unwrap_or_default()
        .to_owned();
    assert!(trust.contains("ec2.amazonaws.com"), "{trust}");
    let policy = iam
        .get_role_policy()
        .role_name("ec2-primary-net")
        .policy_name("least-privilege")
        .send()
        .await
        .unwrap();
    let document = policy.policy_document();
    let decoded: String = percent_decode(document);
    let parsed: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    for statement in parsed["Statement"].as_array().unwrap() {
        if statement["Resource"] == "*" {
            assert_eq!(
                statement["Action"], "cloudwatch:PutMetricData",
                "only metrics use *, under a namespace condition"
            );
            assert!(statement["Condition"]["StringEquals"]["cloudwatch:namespace"].is_string());
        }
    }
}

#[tokio::test]
async fn updates_nat_mode_ingress_and_tags_in_place() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let ec2 = aws.ec2("us-east-1");
    let before = ws.resource(ADDRESS);
    let vpc_id = before["vpc_id"].as_str().unwrap().to_owned();

    let certificate = aws.certificate("trading.example.com");
    ws.config(&config(&format!(
        r##"  nat_mode         = "per_az"
  desired_capacity = 3
  instance_type    = "t3.large"
  allowed_cidrs    = ["203.0.113.0/24"]
  certificate_arn  = "{certificate}"
  app_port         = 8080
  health_check_interval = 30
  healthy_threshold     = 3
  user_data        = "#!/bin/bash\necho updated"
  tags             = {{ Team = "fx" }}"##
    )));
    let plan = ws.plan_with_changes();
    assert!(
        plan.contains("updated in-place") && !plan.contains("must be replaced"),
        "{plan}"
    );
    ws.apply();
    let after = ws.resource(ADDRESS);
    assert_eq!(after["vpc_id"], before["vpc_id"]);
    assert_eq!(after["public_subnet_ids"], before["public_subnet_ids"]);
    let nats = live_nats(&ec2, &vpc_id).await;
    assert_eq!(nats.len(), 2, "one NAT gateway per zone");
    let private = ids(&after, "private_subnet_ids");
    let routes: BTreeSet<Option<String>> = [
        default_route(&ec2, &vpc_id, &private[0]).await,
        default_route(&ec2, &vpc_id, &private[1]).await,
    ]
    .into();
    assert_eq!(
        routes.len(),
        2,
        "each private subnet routes through its own zone's NAT"
    );
    let alb_sg = after["alb_security_group_id"].as_str().unwrap();
    assert_eq!(
        ingress(&ec2, alb_sg).await,
        BTreeSet::from([
            (80, "203.0.113.0/24".to_string()),
            (443, "203.0.113.0/24".to_string())
        ])
    );
    let instance_sg = after["instance_security_group_id"].as_str().unwrap();
    assert_eq!(
        ingress(&ec2, instance_sg).await,
        BTreeSet::from([(8080, alb_sg.to_string())])
    );
    let vpc = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.unwrap();
    assert_eq!(tag(vpc.vpcs()[0].tags(), "Team"), Some("fx"));
    let found = aws
        .autoscaling("us-east-1")
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-primary-net")
        .send()
        .await
        .unwrap();
    let group = &found.auto_scaling_groups()[0];
    assert_eq!(group.desired_capacity(), Some(3));
    assert_eq!(
        group.launch_template().and_then(|t| t.version()),
        Some("2"),
        "a new launch template version"
    );
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_name("lt-primary-net")
        .versions("$Default")
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .unwrap();
    assert_eq!(data.instance_type().map(|t| t.as_str()), Some("t3.large"));
    assert_eq!(
        after["launch_template_id"], before["launch_template_id"],
        "same template, new version"
    );
    let user_data = aws_smithy_types::base64::decode(data.user_data().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(user_data).unwrap(),
        "#!/bin/bash\necho updated"
    );
    let groups = aws
        .elbv2("us-east-1")
        .describe_target_groups()
        .names("tg-primary-net")
        .send()
        .await
        .unwrap();
    let tg = &groups.target_groups()[0];
    assert_eq!(tg.health_check_interval_seconds(), Some(30));
    assert_eq!(tg.healthy_threshold_count(), Some(3));
    let listeners = aws
        .elbv2("us-east-1")
        .describe_listeners()
        .load_balancer_arn(after["alb_arn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let mut ports: Vec<(i32, String)> = listeners
        .listeners()
        .iter()
        .map(|l| {
            (
                l.port().unwrap(),
                l.default_actions()[0].r#type().unwrap().as_str().to_owned(),
            )
        })
        .collect();
    ports.sort();
    assert_eq!(
        ports,
        [(80, "redirect".to_string()), (443, "forward".to_string())]
    );
    ws.assert_plan_empty();

    ws.config(&config(r#"  nat_mode = "none""#));
    ws.apply();
    assert!(live_nats(&ec2, &vpc_id).await.is_empty());
    assert_eq!(default_route(&ec2, &vpc_id, &private[0]).await, None);
    let addresses = ec2.describe_addresses().send().await.unwrap();
    assert!(
        addresses.addresses().is_empty(),
        "elastic IPs released with their NAT gateways"
    );
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn parts_deleted_out_of_band_are_rebuilt_alone() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(r#"  nat_mode = "none""#));
    ws.apply();
    let ec2 = aws.ec2("us-east-1");
    let before = ws.resource(ADDRESS);
    let vpc_id = before["vpc_id"].as_str().unwrap().to_owned();

    // The ASG (with its instances), the HTTP listener, the launch template and the second
    // private subnet, deleted out of band.
    let asg = aws.autoscaling("us-east-1");
    asg.delete_auto_scaling_group()
        .auto_scaling_group_name("asg-primary-net")
        .force_delete(true)
        .send()
        .await
        .unwrap();
    let elb = aws.elbv2("us-east-1");
    let alb_arn = before["alb_arn"].as_str().unwrap();
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await
        .unwrap();
    elb.delete_listener()
        .listener_arn(listeners.listeners()[0].listener_arn().unwrap())
        .send()
        .await
        .unwrap();
    ec2.delete_launch_template()
        .launch_template_name("lt-primary-net")
        .send()
        .await
        .unwrap();
    let private = ids(&before, "private_subnet_ids");
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc(&vpc_id))
        .send()
        .await
        .unwrap();
    for table in tables.route_tables() {
        for association in table.associations() {
            if association.subnet_id() == Some(private[1].as_str()) {
                ec2.disassociate_route_table()
                    .association_id(association.route_table_association_id().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    ec2.delete_subnet()
        .subnet_id(&private[1])
        .send()
        .await
        .unwrap();

    ws.plan_updating(&[
        "private_subnet_ids",
        "launch_template_id",
        "asg_name",
        "listener_arns",
    ]);
    ws.apply();
    let after = ws.resource(ADDRESS);
    assert_eq!(after["vpc_id"], before["vpc_id"], "the VPC is untouched");
    assert_eq!(after["alb_arn"], before["alb_arn"], "the ALB is untouched");
    assert_eq!(after["public_subnet_ids"], before["public_subnet_ids"]);
    assert_eq!(
        after["instance_security_group_id"],
        before["instance_security_group_id"]
    );
    assert_eq!(ids(&after, "private_subnet_ids")[0], private[0]);
    assert_ne!(ids(&after, "private_subnet_ids")[1], private[1]);
    assert!(subnets(&ec2, &vpc_id).await.contains(&(
        "10.0.12.0/24".into(),
        "us-east-1b".into(),
        false
    )));
    let found = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-primary-net")
        .send()
        .await
        .unwrap();
    assert_eq!(
        found.auto_scaling_groups()[0].instances().len(),
        2,
        "the group is back with its capacity"
    );
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1, "the HTTP listener is back");
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_failed_create_resumes_without_duplicates() {
    let aws = LocalAws::start_with_faults("CreateNatGateway");
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0);
    assert!(
        failed
            .text()
            .contains("creating NAT gateway nat-1-primary-net")
            || failed.text().contains("nat-primary-net"),
        "{}",
        failed.text()
    );
    assert!(failed.text().contains("InternalError"), "{}", failed.text());
    // What was made before the failure is in state, not orphaned.
    let partial = ws.resource(ADDRESS);
    assert!(partial["vpc_id"]
        .as_str()
        .is_some_and(|v| v.starts_with("vpc-")));
    assert_eq!(
        lists_with_null_items(&partial),
        Vec::<String>::new(),
        "{partial:#}"
    );

    let untainted = ws.run(&["untaint", ADDRESS]);
    assert_eq!(untainted.code, 0, "{}", untainted.text());
    ws.apply();
    let ec2 = aws.ec2("us-east-1");
    let vpcs = ec2.describe_vpcs().send().await.unwrap();
    assert_eq!(
        vpcs.vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .count(),
        1,
        "one VPC"
    );
    let vpc_id = ws.resource(ADDRESS)["vpc_id"].as_str().unwrap().to_owned();
    assert_eq!(
        vpc_id,
        partial["vpc_id"].as_str().unwrap(),
        "the VPC of the failed apply was adopted"
    );
    assert_eq!(subnets(&ec2, &vpc_id).await.len(), 4);
    assert_eq!(live_nats(&ec2, &vpc_id).await.len(), 1);
    let albs = aws
        .elbv2("us-east-1")
        .describe_load_balancers()
        .send()
        .await
        .unwrap();
    assert_eq!(albs.load_balancers().len(), 1, "one ALB");
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn imports_by_region_suffix_and_role() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(
        r#"  vpc_cidr        = "10.5.0.0/16"
  public_subnets  = ["10.5.1.0/24", "10.5.2.0/24"]
  private_subnets = ["10.5.11.0/24", "10.5.12.0/24"]
  nat_mode        = "per_az"
  allowed_cidrs   = ["198.51.100.0/24"]"#,
    ));
    ws.apply();
    let before = ws.resource(ADDRESS);
    assert_eq!(ws.run(&["state", "rm", ADDRESS]).code, 0);
    let bad = ws.run(&["import", "-no-color", ADDRESS, "net-primary"]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.text().contains("<region>/<environment_suffix>/<role>"),
        "{}",
        bad.text()
    );
    let imported = ws.run(&["import", "-no-color", ADDRESS, "us-east-1/net/primary"]);
    assert_eq!(imported.code, 0, "{}", imported.text());
    ws.assert_plan_empty();
    let after = ws.resource(ADDRESS);
    for attr in [
        "vpc_id",
        "public_subnet_ids",
        "private_subnet_ids",
        "nat_gateway_ids",
        "alb_security_group_id",
    ] {
        assert_eq!(after[attr], before[attr], "{attr}");
    }
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn bad_input_is_refused_at_plan_time_on_its_attribute() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let cases = [
        (r#"role = "backup""#, "role", "primary"),
        (r#"region = "eu-north-9""#, "region", "not an AWS region"),
        (
            r#"region = "us-gov-west-1""#,
            "region",
            "commercial partition only",
        ),
        (r#"vpc_cidr = "10.0.0.0/8""#, "vpc_cidr", "/16 to /28"),
        (r#"vpc_cidr = "10.0.0.1/16""#, "vpc_cidr", "host bits"),
        (
            r#"public_subnets = ["10.0.1.0/24", "10.9.2.0/24"]"#,
            "public_subnets",
            "outside the VPC",
        ),
        (
            r#"private_subnets = ["10.0.1.0/25", "10.0.12.0/24"]"#,
            "private_subnets",
            "overlaps",
        ),
        (
            r#"private_subnets = ["10.0.11.0/24"]"#,
            "private_subnets",
            "as many private subnets",
        ),
        (r#"nat_mode = "shared""#, "nat_mode", "per_az"),
        (
            r#"allowed_cidrs = ["the internet"]"#,
            "allowed_cidrs",
            "CIDR",
        ),
        (r#"app_port = 0"#, "app_port", "1 to 65535"),
        (
            r#"certificate_arn = "my-cert""#,
            "certificate_arn",
            "ACM certificate ARN",
        ),
        (
            r#"public_subnets = ["10.0.1.0/24"]
  private_subnets = ["10.0.11.0/24"]"#,
            "public_subnets",
            "at least two availability zones",
        ),
        (
            r#"public_subnets = ["10.0.1.0/28", "10.0.2.0/24"]"#,
            "public_subnets",
            "/27 or larger",
        ),
        (
            r#"certificate_arn = "arn:aws:acm:us-west-2:123456789012:certificate/1f2e""#,
            "certificate_arn",
            "ACM certificates are regional",
        ),
    ];
    for (line, attribute, message) in cases {
        ws.assert_refused(&config(&format!("  {line}")), attribute, message);
    }
    let many: Vec<String> = (0..31).map(|i| format!("\"198.51.{i}.0/24\"")).collect();
    ws.assert_refused(
        &config(&format!(
            "  certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/1f2e\"\n  allowed_cidrs = [{}]",
            many.join(", ")
        )),
        "allowed_cidrs",
        "62 inbound rules",
    );
    ws.assert_refused(
        &config(r#"  user_data = format("%16385s", "x")"#),
        "user_data",
        "16385 bytes",
    );
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn settings_changed_out_of_band_show_in_the_plan_and_are_repaired() {
    use aws_sdk_ec2::types::{AttributeBooleanValue, IpPermission, IpRange};

    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(r#"  nat_mode = "none""#));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let elb = aws.elbv2("us-east-1");
    let ec2 = aws.ec2("us-east-1");
    elb.modify_target_group()
        .target_group_arn(state["target_group_arn"].as_str().unwrap())
        .health_check_interval_seconds(60)
        .send()
        .await
        .unwrap();
    let alb_sg = state["alb_security_group_id"].as_str().unwrap();
    ec2.revoke_security_group_ingress()
        .group_id(alb_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let vpc_id = state["vpc_id"].as_str().unwrap();
    ec2.modify_vpc_attribute()
        .vpc_id(vpc_id)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(false).build())
        .send()
        .await
        .unwrap();

    ws.plan_updating(&["health_check_interval", "allowed_cidrs", "vpc_id"]);
    ws.apply();
    let groups = elb
        .describe_target_groups()
        .names("tg-primary-net")
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.target_groups()[0].health_check_interval_seconds(),
        Some(15)
    );
    assert_eq!(
        ingress(&ec2, alb_sg).await,
        BTreeSet::from([(80, "0.0.0.0/0".to_string())])
    );
    assert_eq!(
        dns_attribute(&ec2, vpc_id, VpcAttributeName::EnableDnsHostnames).await,
        Some(true)
    );
    assert_eq!(ws.resource(ADDRESS)["vpc_id"], vpc_id);
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_stack_built_again_after_a_destroy_gets_a_new_nat_gateway() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    // A regression would wait for the deleted gateway forever; fail fast instead.
    ws.config(&config("  timeouts {\n    create = \"2m\"\n  }"));
    ws.apply();
    ws.destroy();
    ws.apply();
    let vpc_id = ws.resource(ADDRESS)["vpc_id"].as_str().unwrap().to_owned();
    assert_eq!(live_nats(&aws.ec2("us-east-1"), &vpc_id).await.len(), 1);
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Deletes the stack's NAT gateway `nat` out of band and waits until it is gone; returns its
/// elastic IP's allocation, which the deletion keeps.
async fn delete_nat_gateway(ec2: &Client, vpc_id: &str, nat: &str) -> String {
    let eip = live_nats(ec2, vpc_id).await[0].nat_gateway_addresses()[0]
        .allocation_id()
        .expect("allocation")
        .to_owned();
    ec2.delete_nat_gateway()
        .nat_gateway_id(nat)
        .send()
        .await
        .expect("DeleteNatGateway");
    settles(
        "the deleted NAT gateway",
        Some("deleted".to_owned()),
        || nat_state(ec2, nat),
    )
    .await;
    eip
}

/// The id of the stack's route table named `name`, with the ids of its subnet associations.
async fn route_table(ec2: &Client, vpc_id: &str, name: &str) -> Option<(String, Vec<String>)> {
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc(vpc_id))
        .send()
        .await
        .expect("DescribeRouteTables");
    tables
        .route_tables()
        .iter()
        .find(|t| tag(t.tags(), "Name") == Some(name))
        .map(|t| {
            let id = t.route_table_id().expect("id").to_owned();
            let associations = t
                .associations()
                .iter()
                .filter_map(|a| a.route_table_association_id().map(str::to_owned))
                .collect();
            (id, associations)
        })
}

#[tokio::test]
async fn a_nat_gateway_and_route_table_rebuilt_in_place_are_new_live_objects() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    // A reused ClientToken answers with the deleted object, which never becomes available or
    // visible: fail in minutes, not the default half hour.
    ws.config(&config("  timeouts {\n    update = \"3m\"\n  }"));
    ws.apply();
    let before = ws.resource(ADDRESS);
    let vpc_id = before["vpc_id"].as_str().expect("vpc").to_owned();
    let private = ids(&before, "private_subnet_ids");
    let ec2 = aws.ec2("us-east-1");

    // Out of band: the NAT gateway deleted (its elastic IP kept, as AWS keeps it) and the first
    // private route table disassociated and deleted. Same VPC, subnet and address: a token
    // derived from them alone is one AWS has already answered.
    let nat = ids(&before, "nat_gateway_ids")[0].clone();
    let eip = delete_nat_gateway(&ec2, &vpc_id, &nat).await;
    let (table, associations) = route_table(&ec2, &vpc_id, "private-rt-1-primary-net")
        .await
        .expect("private-rt-1");
    for association in associations {
        ec2.disassociate_route_table()
            .association_id(association)
            .send()
            .await
            .expect("DisassociateRouteTable");
    }
    ec2.delete_route_table()
        .route_table_id(&table)
        .send()
        .await
        .expect("DeleteRouteTable");

    ws.plan_updating(&["nat_gateway_ids"]);
    ws.apply();
    let nats = live_nats(&ec2, &vpc_id).await;
    assert_eq!(nats.len(), 1, "one live NAT gateway");
    let new_nat = nats[0].nat_gateway_id().expect("nat").to_owned();
    assert_ne!(new_nat, nat, "a new NAT gateway, not the deleted one");
    assert_eq!(
        nats[0].nat_gateway_addresses()[0].allocation_id(),
        Some(eip.as_str()),
        "on the kept elastic IP"
    );
    assert_eq!(
        ids(&ws.resource(ADDRESS), "nat_gateway_ids"),
        [new_nat.as_str()]
    );
    let (new_table, _) = route_table(&ec2, &vpc_id, "private-rt-1-primary-net")
        .await
        .expect("private-rt-1 rebuilt");
    assert_ne!(new_table, table, "a new route table, not the deleted one");
    for subnet in &private {
        assert_eq!(
            default_route(&ec2, &vpc_id, subnet).await.as_deref(),
            Some(new_nat.as_str()),
            "{subnet} routes through the new NAT gateway"
        );
    }
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Default routes of the stack's route tables: (table's Name tag, target) of each 0.0.0.0/0.
async fn default_routes(aws: &LocalAws, vpc_id: &str) -> BTreeMap<String, String> {
    let tables = aws
        .ec2("us-east-1")
        .describe_route_tables()
        .filters(by_vpc(vpc_id))
        .send()
        .await
        .expect("DescribeRouteTables");
    tables
        .route_tables()
        .iter()
        .flat_map(|t| {
            let name = tag(t.tags(), "Name").unwrap_or_default().to_owned();
            t.routes()
                .iter()
                .filter(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                .map(move |r| {
                    let target = r.gateway_id().or(r.nat_gateway_id()).unwrap_or_default();
                    (name.clone(), target.to_owned())
                })
        })
        .collect()
}

#[tokio::test]
async fn default_routes_deleted_out_of_band_are_restored() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let before = ws.resource(ADDRESS);
    let vpc_id = before["vpc_id"].as_str().expect("vpc").to_owned();
    let routes = default_routes(&aws, &vpc_id).await;
    let igw = before["internet_gateway_id"].as_str().expect("igw");
    let nat = ids(&before, "nat_gateway_ids")[0].clone();
    assert_eq!(routes["public-rt-primary-net"], igw);
    assert_eq!(routes["private-rt-1-primary-net"], nat);
    assert_eq!(routes["private-rt-2-primary-net"], nat);

    // Out of band: the public route to the internet and one private route to the NAT deleted.
    let ec2 = aws.ec2("us-east-1");
    let tables = ec2
        .describe_route_tables()
        .filters(by_vpc(&vpc_id))
        .send()
        .await
        .expect("DescribeRouteTables");
    for table in tables.route_tables() {
        let name = tag(table.tags(), "Name").unwrap_or_default();
        if name == "public-rt-primary-net" || name == "private-rt-2-primary-net" {
            ec2.delete_route()
                .route_table_id(table.route_table_id().expect("id"))
                .destination_cidr_block("0.0.0.0/0")
                .send()
                .await
                .expect("DeleteRoute");
        }
    }
    assert_eq!(default_routes(&aws, &vpc_id).await.len(), 1);

    ws.plan_updating(&["internet_gateway_id", "nat_gateway_ids"]);
    ws.apply();
    assert_eq!(default_routes(&aws, &vpc_id).await, routes);
    let after = ws.resource(ADDRESS);
    for attr in [
        "internet_gateway_id",
        "nat_gateway_ids",
        "alb_arn",
        "asg_name",
    ] {
        assert_eq!(after[attr], before[attr], "{attr} kept");
    }
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn gateways_load_balancer_policy_and_profile_lost_out_of_band_are_rebuilt_alone() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let before = ws.resource(ADDRESS);
    let vpc_id = before["vpc_id"].as_str().expect("vpc").to_owned();
    let ec2 = aws.ec2("us-east-1");
    let elb = aws.elbv2("us-east-1");
    let asg = aws.autoscaling("us-east-1");
    let iam = aws.iam();

    // Out of band, in an order AWS accepts: the load balancer, the NAT gateway and then its
    // elastic IP, the internet gateway (detached, then deleted), the scaling policy, the role
    // taken out of the instance profile, and the VPC's Name tag changed.
    elb.delete_load_balancer()
        .load_balancer_arn(before["alb_arn"].as_str().expect("alb"))
        .send()
        .await
        .expect("DeleteLoadBalancer");
    let nat = ids(&before, "nat_gateway_ids")[0].clone();
    let eip = delete_nat_gateway(&ec2, &vpc_id, &nat).await;
    ec2.release_address()
        .allocation_id(&eip)
        .send()
        .await
        .expect("ReleaseAddress");
    let igw = before["internet_gateway_id"]
        .as_str()
        .expect("igw")
        .to_owned();
    ec2.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("DetachInternetGateway");
    ec2.delete_internet_gateway()
        .internet_gateway_id(&igw)
        .send()
        .await
        .expect("DeleteInternetGateway");
    asg.delete_policy()
        .auto_scaling_group_name("asg-primary-net")
        .policy_name("cpu-primary-net")
        .send()
        .await
        .expect("DeletePolicy");
    iam.remove_role_from_instance_profile()
        .instance_profile_name("ec2-primary-net")
        .role_name("ec2-primary-net")
        .send()
        .await
        .expect("RemoveRoleFromInstanceProfile");
    ec2.create_tags()
        .resources(&vpc_id)
        .tags(
            aws_sdk_ec2::types::Tag::builder()
                .key("Name")
                .value("renamed")
                .build(),
        )
        .send()
        .await
        .expect("CreateTags");

    ws.plan_updating(&[
        "alb_arn",
        "nat_gateway_ids",
        "internet_gateway_id",
        "cpu_target",
        "instance_profile_arn",
        "tags_all",
    ]);
    ws.apply();
    let after = ws.resource(ADDRESS);
    for attr in [
        "vpc_id",
        "public_subnet_ids",
        "private_subnet_ids",
        "alb_security_group_id",
        "instance_security_group_id",
        "target_group_arn",
        "launch_template_id",
        "asg_name",
        "instance_profile_arn",
    ] {
        assert_eq!(after[attr], before[attr], "{attr} untouched");
    }

    // What the emulator holds again.
    let nats = live_nats(&ec2, &vpc_id).await;
    assert_eq!(nats.len(), 1, "one NAT gateway again");
    let new_nat = nats[0].nat_gateway_id().expect("nat").to_owned();
    assert_ne!(new_nat, nat);
    let new_eip = nats[0].nat_gateway_addresses()[0]
        .allocation_id()
        .expect("allocation");
    assert_ne!(new_eip, eip, "a new elastic IP");
    let gateways = ec2
        .describe_internet_gateways()
        .filters(
            Filter::builder()
                .name("attachment.vpc-id")
                .values(&vpc_id)
                .build(),
        )
        .send()
        .await
        .expect("DescribeInternetGateways");
    assert_eq!(gateways.internet_gateways().len(), 1);
    let new_igw = gateways.internet_gateways()[0]
        .internet_gateway_id()
        .expect("igw");
    let routes = default_routes(&aws, &vpc_id).await;
    assert_eq!(routes["public-rt-primary-net"], new_igw);
    assert_eq!(routes["private-rt-1-primary-net"], new_nat);
    assert_eq!(routes["private-rt-2-primary-net"], new_nat);
    let albs = elb
        .describe_load_balancers()
        .names("alb-primary-net")
        .send()
        .await
        .expect("DescribeLoadBalancers");
    let alb_arn = albs.load_balancers()[0].load_balancer_arn().expect("arn");
    assert_eq!(after["alb_arn"].as_str(), Some(alb_arn));
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await
        .expect("DescribeListeners");
    assert_eq!(listeners.listeners().len(), 1, "the HTTP listener is back");
    let policies = asg
        .describe_policies()
        .auto_scaling_group_name("asg-primary-net")
        .send()
        .await
        .expect("DescribePolicies");
    assert_eq!(
        policies.scaling_policies()[0]
            .target_tracking_configuration()
            .and_then(|c| c.target_value()),
        Some(70.0)
    );
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("ec2-primary-net")
        .send()
        .await
        .expect("GetInstanceProfile");
    assert_eq!(
        profile.instance_profile().expect("profile").roles()[0].role_name(),
        "ec2-primary-net"
    );
    let vpcs = ec2
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(tag(vpcs.vpcs()[0].tags(), "Name"), Some("vpc-primary-net"));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn route53_health_checkers_are_let_in_when_the_allowed_cidrs_are_restricted() {
    use aws_sdk_ec2::types::{IpPermission, PrefixListId};

    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let restricted = r#"  nat_mode      = "none"
  allowed_cidrs = ["203.0.113.0/24"]"#;
    ws.config(&config(restricted));
    ws.apply();
    let ec2 = aws.ec2("us-east-1");
    let state = ws.resource(ADDRESS);
    let alb_sg = state["alb_security_group_id"].as_str().unwrap().to_owned();
    assert_eq!(
        health_checker_ports(&ec2, "us-east-1", &alb_sg).await,
        BTreeSet::from([80]),
        "Route 53 checks HTTP:80 and must get through a restricted group"
    );

    // Revoked out of band: the plan shows the group, the next apply lets the checkers in again.
    let rules = ec2
        .describe_security_groups()
        .group_ids(&alb_sg)
        .send()
        .await
        .unwrap();
    let checkers = rules.security_groups()[0]
        .ip_permissions()
        .iter()
        .find_map(|p| p.prefix_list_ids().first()?.prefix_list_id())
        .unwrap()
        .to_owned();
    ec2.revoke_security_group_ingress()
        .group_id(&alb_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .prefix_list_ids(PrefixListId::builder().prefix_list_id(checkers).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    ws.plan_updating(&["alb_security_group_id"]);
    ws.apply();
    assert_eq!(
        health_checker_ports(&ec2, "us-east-1", &alb_sg).await,
        BTreeSet::from([80])
    );
    ws.assert_plan_empty();

    // With a certificate Route 53 checks HTTPS:443 (HTTP:80 only redirects).
    let certificate = aws.certificate("trading-acc.tap-test.net");
    ws.config(&config(&format!(
        "{restricted}\n  certificate_arn = \"{certificate}\""
    )));
    ws.apply();
    assert_eq!(
        health_checker_ports(&ec2, "us-east-1", &alb_sg).await,
        BTreeSet::from([443])
    );
    ws.assert_plan_empty();

    // Open to all: the checkers need no rule of their own.
    ws.config(&config(r#"  nat_mode = "none""#));
    ws.apply();
    assert!(health_checker_ports(&ec2, "us-east-1", &alb_sg)
        .await
        .is_empty());
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// AWS reports a launch that fails only as a failed scaling activity; the capacity wait ends at
/// once with its reason instead of running out its timeout, and state keeps what was built.
#[tokio::test]
async fn failed_launches_end_the_capacity_wait_with_aws_reason() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_FAILED_LAUNCHES", "asg-primary-net")]);
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  nat_mode = \"none\"\n  timeouts {\n    create = \"5m\"\n  }",
    ));
    let started = std::time::Instant::now();
    let run = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(run.code, 0, "the apply must fail:\n{}", run.text());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "failed after {:?}, not at once:\n{}",
        started.elapsed(),
        run.text()
    );
    let text = run.text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Error: tap_regional_stack: waiting for Auto Scaling group asg-primary-net to reach its capacity")
            && text.contains("a scaling activity failed: Could not launch On-Demand Instances. InsufficientInstanceCapacity")
            && text.contains("Launching EC2 instance failed."),
        "{text}"
    );

    let state = ws.resource(ADDRESS);
    for attr in ["vpc_id", "alb_arn", "launch_template_id"] {
        assert!(
            state[attr].as_str().is_some_and(|v| !v.is_empty()),
            "{attr} kept in state: {state:#}"
        );
    }
    assert_eq!(state["asg_name"], "asg-primary-net");
    let vpc = aws
        .ec2("us-east-1")
        .describe_vpcs()
        .vpc_ids(state["vpc_id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(vpc.vpcs().len(), 1);
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Five or six zones' worth of subnets in us-east-1, whose us-east-1e offers no t3 type (moto's
/// offerings data, as on AWS).
fn zones_config(count: u8) -> String {
    let cidrs = |base: u8| {
        (1..=count)
            .map(|i| format!("\"10.0.{}.0/24\"", base + i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    config(&format!(
        "  public_subnets   = [{}]\n  private_subnets  = [{}]\n  max_size         = {count}\n  desired_capacity = {count}",
        cidrs(0),
        cidrs(10)
    ))
}

#[tokio::test]
async fn subnets_go_only_to_zones_that_offer_the_instance_type() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&zones_config(5));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let vpc_id = state["vpc_id"].as_str().unwrap();
    let zones: BTreeSet<String> = subnets(&aws.ec2("us-east-1"), vpc_id)
        .await
        .into_iter()
        .map(|(_, zone, _)| zone)
        .collect();
    let offering: BTreeSet<String> = ["a", "b", "c", "d", "f"]
        .iter()
        .map(|z| format!("us-east-1{z}"))
        .collect();
    assert_eq!(zones, offering, "us-east-1e offers no t3.medium");
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn too_few_zones_offering_the_instance_type_fail_before_anything_is_made() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&zones_config(6));
    ws.assert_apply_fails_saying(&[
        "choosing availability zones of us-east-1 for t3.medium",
        "needs 6 zones",
        "Zones of us-east-1 that offer t3.medium: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f",
    ]);
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_fails_saying_to_enable_it() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  region          = \"af-south-1\"\n  vpc_cidr        = \"10.7.0.0/16\"\n  public_subnets  = [\"10.7.1.0/24\", \"10.7.2.0/24\"]\n  private_subnets = [\"10.7.11.0/24\", \"10.7.12.0/24\"]",
    ));
    ws.assert_apply_fails_saying(&[
        "choosing availability zones of af-south-1",
        "AuthFailure",
        "the account has not enabled af-south-1",
        "aws account enable-region --region-name af-south-1",
    ]);
    // Summary and detail read as one sentence, each part once: "<type>: <verb> <object>" then
    // "<AWS code>: <message>", not the action again.
    // One diagnostic, on the region's line: the read-back after the failure, refused too, adds
    // none.
    let errors = ws.apply_error_diagnostics();
    assert_eq!(
        errors[0]["summary"],
        "tap_regional_stack: choosing availability zones of af-south-1 for t3.medium"
    );
    let detail = errors[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("AuthFailure: "), "{detail}");
    assert!(!detail.contains("choosing availability zones"), "{detail}");
    assert_one_error_on(&errors, "region          = \"af-south-1\"");
    assert_nothing_left(&aws).await;
}

/// eu-west-1b offers no m8idn.large (moto's offerings data); eu-west-1a and eu-west-1c do.
#[tokio::test]
async fn an_instance_type_the_stacks_zones_do_not_offer_is_refused_before_anything_changes() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let stack = |instance_type: &str| {
        config(&format!(
            "  region          = \"eu-west-1\"\n  vpc_cidr        = \"10.8.0.0/16\"\n  public_subnets  = [\"10.8.1.0/24\", \"10.8.2.0/24\"]\n  private_subnets = [\"10.8.11.0/24\", \"10.8.12.0/24\"]\n  instance_type   = \"{instance_type}\""
        ))
    };
    ws.config(&stack("t3.medium"));
    ws.apply();
    let template = ws.resource(ADDRESS)["launch_template_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.config(&stack("m8idn.large"));
    ws.assert_apply_fails_saying(&[
        "choosing availability zones of eu-west-1 for m8idn.large",
        "m8idn.large is not offered in eu-west-1b",
        "Zones of eu-west-1 that offer m8idn.large: eu-west-1a, eu-west-1c",
    ]);
    let errors = ws.apply_error_diagnostics();
    assert_one_error_on(&errors, "instance_type   = \"m8idn.large\"");
    let versions = aws
        .ec2("eu-west-1")
        .describe_launch_template_versions()
        .launch_template_id(&template)
        .send()
        .await
        .unwrap();
    let types: Vec<&str> = versions
        .launch_template_versions()
        .iter()
        .filter_map(|v| v.launch_template_data()?.instance_type())
        .map(|t| t.as_str())
        .collect();
    assert_eq!(types, ["t3.medium"], "the launch template is unchanged");
    ws.config(&stack("t3.medium"));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// A Graviton instance type (t4g: arm64) in a region other than us-east-1: the default AMI is
/// the region's Amazon Linux 2023 for arm64 (an x86_64 one cannot launch there: the local AWS
/// refuses the pair as EC2 does), its instances run, and the state records the AMI. Changing to
/// an x86_64 type later brings an x86_64 image (the arm64 one could not launch); a change within
/// the architecture keeps the image.
#[tokio::test]
async fn a_graviton_type_gets_an_arm64_image_and_a_change_of_architecture_a_new_one() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let with_type = |instance_type: &str| {
        config(&format!(
            "  region        = \"eu-west-1\"\n  instance_type = \"{instance_type}\""
        ))
    };
    ws.config(&with_type("t4g.small"));
    ws.apply();
    let arm = running_image(&aws, &ws, "t4g.small").await;
    assert_eq!(arm.architecture().map(|a| a.as_str()), Some("arm64"));
    ws.assert_plan_empty();

    ws.config(&with_type("t3.small"));
    ws.apply();
    let x86 = running_image(&aws, &ws, "t3.small").await;
    assert_eq!(x86.architecture().map(|a| a.as_str()), Some("x86_64"));
    ws.assert_plan_empty();

    ws.config(&with_type("t3.medium"));
    ws.apply();
    let kept = running_image(&aws, &ws, "t3.medium").await;
    assert_eq!(kept.image_id(), x86.image_id());
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The Amazon Linux 2023 image of the stack's launch template, asserted to be the state's
/// `ami_id` and to be what every instance of the group runs as `instance_type`.
async fn running_image(
    aws: &LocalAws,
    ws: &Workspace,
    instance_type: &str,
) -> aws_sdk_ec2::types::Image {
    let state = ws.resource(ADDRESS);
    let ec2 = aws.ec2("eu-west-1");
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(state["launch_template_id"].as_str().expect("template"))
        .versions("$Default")
        .send()
        .await
        .expect("DescribeLaunchTemplateVersions");
    let data = versions.launch_template_versions()[0]
        .launch_template_data()
        .expect("template data");
    assert_eq!(
        data.instance_type().map(|t| t.as_str()),
        Some(instance_type)
    );
    let image = data.image_id().expect("image").to_owned();
    assert_eq!(state["ami_id"], image);
    let images = ec2
        .describe_images()
        .image_ids(&image)
        .send()
        .await
        .expect("DescribeImages");
    let described = images.images()[0].clone();
    assert!(
        described
            .name()
            .is_some_and(|n| n.starts_with("al2023-ami-2023")),
        "{described:?}"
    );
    let groups = aws
        .autoscaling("eu-west-1")
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(state["asg_name"].as_str().expect("group"))
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    // Those the refresh replaced may still be terminating.
    let instances = groups.auto_scaling_groups()[0].instances();
    let in_service: Vec<_> = instances
        .iter()
        .filter(|i| i.lifecycle_state() == Some(&LifecycleState::InService))
        .collect();
    assert!(!in_service.is_empty(), "{instances:?}");
    assert!(
        in_service
            .iter()
            .all(|i| i.instance_type() == Some(instance_type)),
        "{instances:?}"
    );
    described
}

/// #22: the listeners are made while the load balancer is still provisioning (CreateListener
/// needs the load balancer and the target group, not the load balancer `active`), so they are
/// off the apply's critical path. Every asynchronous state is held: the load balancer stays
/// provisioning until the listener is seen, then the apply finishes.
#[tokio::test]
async fn listeners_are_created_while_the_load_balancer_is_still_provisioning() {
    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerStateEnum;
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    aws.get_text("/localaws/pending/hold");
    let apply = ws.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let elb = aws.elbv2("us-east-1");
    let state_when_listened = || async {
        let out = elb
            .describe_load_balancers()
            .names("alb-primary-net")
            .send()
            .await
            .ok()?;
        let alb = out.load_balancers().first()?;
        let listeners = elb
            .describe_listeners()
            .load_balancer_arn(alb.load_balancer_arn()?)
            .send()
            .await
            .ok()?;
        let listened = listeners.listeners().iter().any(|l| l.port() == Some(80));
        listened.then(|| alb.state()?.code().cloned())?
    };
    settles(
        "the load balancer's state once its listener exists",
        Some(LoadBalancerStateEnum::Provisioning),
        state_when_listened,
    )
    .await;
    aws.get_text("/localaws/pending/release");
    let run = apply
        .wait_within(std::time::Duration::from_secs(120))
        .expect("the apply finished once the states were released");
    assert_eq!(run.code, 0, "{}", run.text());
    ws.destroy();
    assert_nothing_left(&aws).await;
}
