//! `tap_trading_failover` end to end: the spec's defaults asserted number by number in the
//! emulator, planned failover and failback, drift in one region repaired alone, a failure in the
//! standby region mid-create followed by a clean re-apply, import, bad input, destroy.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Filter;

use crate::support::{
    alerting_in, assert_nothing_left, assert_one_error_on, compute_leaks, dns_answer, ec2_leaks,
    percent_decode, pitr, resolved, run_drill, settles, trace_floor, LocalAws, Workspace,
};

const ADDRESS: &str = "tap_trading_failover.prod";

/// The failover name every test system answers at (a name AWS accepts: not under example.com).
pub(crate) const DOMAIN: &str = "trading-acc.tap-test.net";

pub(crate) fn config(extra: &str) -> String {
    let domain = if extra.contains("domain_name") {
        String::new()
    } else {
        format!("  domain_name = \"{DOMAIN}\"\n")
    };
    format!("resource \"tap_trading_failover\" \"prod\" {{\n  environment_suffix = \"acc\"\n{domain}{extra}\n}}\n")
}

fn tagged(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

fn tag_map(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_owned(),
                t.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The stack's VPC in a region: (id, CIDR, tags).
async fn vpc(aws: &LocalAws, region: &str) -> (String, String, BTreeMap<String, String>) {
    let vpcs = aws
        .ec2(region)
        .describe_vpcs()
        .filters(tagged("tap:stack", "acc"))
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "one VPC in {region}");
    let v = &vpcs.vpcs()[0];
    (
        v.vpc_id().unwrap_or_default().to_owned(),
        v.cidr_block().unwrap_or_default().to_owned(),
        tag_map(v.tags()),
    )
}

async fn subnet_cidrs(aws: &LocalAws, region: &str, vpc: &str) -> BTreeSet<String> {
    aws.ec2(region)
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .send()
        .await
        .expect("DescribeSubnets")
        .subnets()
        .iter()
        .map(|s| s.cidr_block().unwrap_or_default().to_owned())
        .collect()
}

/// (min, max, desired) of a region's group, and its instance IDs.
async fn group(
    aws: &LocalAws,
    region: &str,
    role: &str,
) -> Option<((i32, i32, i32), BTreeSet<String>)> {
    let out = aws
        .autoscaling(region)
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(format!("asg-{role}-acc"))
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    let g = out.auto_scaling_groups().first()?;
    assert_eq!(g.health_check_type(), Some("ELB"));
    assert_eq!(g.health_check_grace_period(), Some(300));
    Some((
        (
            g.min_size().unwrap_or(-1),
            g.max_size().unwrap_or(-1),
            g.desired_capacity().unwrap_or(-1),
        ),
        g.instances()
            .iter()
            .filter_map(|i| i.instance_id().map(str::to_owned))
            .collect(),
    ))
}

/// The load balancer security group of a region: its ID and the CIDRs open on port 80.
async fn alb_ingress(aws: &LocalAws, region: &str) -> (String, BTreeSet<String>) {
    let out = aws
        .ec2(region)
        .describe_security_groups()
        .filters(tagged("tap:stack", "acc"))
        .filters(tagged("tap:part", "alb-sg"))
        .send()
        .await
        .expect("DescribeSecurityGroups");
    assert_eq!(out.security_groups().len(), 1, "one ALB group in {region}");
    let group = &out.security_groups()[0];
    let cidrs = group
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(80))
        .flat_map(|p| p.ip_ranges())
        .filter_map(|r| r.cidr_ip().map(str::to_owned))
        .collect();
    (group.group_id().unwrap_or_default().to_owned(), cidrs)
}

/// The listener on `port` of a role's load balancer, as ELB holds it.
/// The stack's load balancer of `role` in `region`, if ELB holds it.
async fn load_balancer(
    aws: &LocalAws,
    region: &str,
    role: &str,
) -> Option<aws_sdk_elasticloadbalancingv2::types::LoadBalancer> {
    let name = format!("alb-{role}-acc");
    aws.elbv2(region)
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers()
        .iter()
        .find(|lb| lb.load_balancer_name() == Some(name.as_str()))
        .cloned()
}

pub(crate) async fn listener(
    aws: &LocalAws,
    region: &str,
    role: &str,
    port: i32,
) -> Option<aws_sdk_elasticloadbalancingv2::types::Listener> {
    let alb = load_balancer(aws, region, role)
        .await
        .unwrap_or_else(|| panic!("no load balancer in {region}"));
    aws.elbv2(region)
        .describe_listeners()
        .load_balancer_arn(alb.load_balancer_arn().unwrap_or_default())
        .send()
        .await
        .expect("DescribeListeners")
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
        .cloned()
}

/// The primary load balancer's HTTP listener.
async fn primary_listener(aws: &LocalAws) -> Option<String> {
    listener(aws, "us-east-1", "primary", 80)
        .await
        .and_then(|l| l.listener_arn().map(str::to_owned))
}

/// The inline policy of the shared instance role, as IAM holds it.
async fn role_policy(aws: &LocalAws) -> serde_json::Value {
    let policy = aws
        .iam()
        .get_role_policy()
        .role_name("ec2-acc")
        .policy_name("least-privilege")
        .send()
        .await
        .expect("GetRolePolicy");
    serde_json::from_str(&percent_decode(policy.policy_document())).expect("policy JSON")
}

/// The session table as DynamoDB describes it in its home region.
async fn home_table(aws: &LocalAws, region: &str) -> aws_sdk_dynamodb::types::TableDescription {
    aws.dynamodb(region)
        .describe_table()
        .table_name("trading-sessions-acc")
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .cloned()
        .expect("the table")
}

/// The regions of a table's replicas, sorted.
fn replica_regions(table: &aws_sdk_dynamodb::types::TableDescription) -> Vec<String> {
    let mut regions: Vec<String> = table
        .replicas()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions
}

pub(crate) async fn weights(aws: &LocalAws) -> (i64, i64) {
    let r53 = aws.route53();
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    let zone = zones
        .hosted_zones()
        .iter()
        .find(|z| z.name() == format!("{DOMAIN}."))
        .expect("the zone");
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone.id())
        .send()
        .await
        .expect("ListResourceRecordSets");
    let weight = |id: &str| {
        records
            .resource_record_sets()
            .iter()
            .find(|r| r.set_identifier() == Some(id))
            .and_then(|r| r.weight())
            .expect("weighted record")
    };
    (weight("primary"), weight("standby"))
}

#[tokio::test]
async fn defaults_reproduce_the_spec_and_fail_over_and_back() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("TF_LOG_PROVIDER", "DEBUG");
    ws.config(&config(""));
    let applied = ws.apply();
    // One apply derives each part's desired state once (the provider logs each derivation).
    for part in [
        "primary stack (tap_regional_stack)",
        "standby stack (tap_regional_stack)",
        "session table (tap_session_table)",
        "DNS failover (tap_dns_failover)",
    ] {
        let line = format!("tap_trading_failover: derived its {part}");
        assert_eq!(
            applied.stderr.matches(&line).count(),
            1,
            "{line} once in the apply's log"
        );
    }
    // The steps it logged form the graph the benchmark knows: from the region check through
    // each stack's capacity to the records.
    let (ok, chain) = trace_floor(&applied.stderr, Some(&aws));
    assert!(ok, "the trace's self-check: {chain}");
    let steps: Vec<&str> = chain
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .skip(1)
        .collect();
    assert_eq!(steps.first(), Some(&"regions"), "{chain}");
    assert_eq!(steps.last(), Some(&"records"), "{chain}");
    assert!(steps.iter().any(|s| s.starts_with("capacity@")), "{chain}");

    for (role, region, octet, desired) in [
        ("primary", "us-east-1", 0, 2),
        ("standby", "us-east-2", 1, 1),
    ] {
        let (vpc_id, cidr, tags) = vpc(&aws, region).await;
        assert_eq!(cidr, format!("10.{octet}.0.0/16"));
        let expected: BTreeSet<String> = [1, 2, 11, 12]
            .iter()
            .map(|t| format!("10.{octet}.{t}.0/24"))
            .collect();
        assert_eq!(subnet_cidrs(&aws, region, &vpc_id).await, expected);
        assert_eq!(tags["Name"], format!("vpc-{role}-acc"));
        assert_eq!(tags["Environment"], "Production");
        assert_eq!(
            tags["FailoverRole"],
            if role == "primary" {
                "Primary"
            } else {
                "Standby"
            }
        );
        let ((min, max, have), instances) = group(&aws, region, role).await.expect("group");
        assert_eq!((min, max, have), (1, 4, desired), "{role} capacity");
        assert_eq!(instances.len(), desired as usize);
        let lbs = aws
            .elbv2(region)
            .describe_load_balancers()
            .send()
            .await
            .expect("DescribeLoadBalancers");
        assert_eq!(lbs.load_balancers().len(), 1);
    }

    // DNS: interval 10, threshold 3, weights 100/0, the alarm over 3 periods.
    let checks = aws
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    // The endpoint check, and the failover switch's: one on its alarm, one for the record.
    let types: Vec<&str> = checks
        .health_checks()
        .iter()
        .filter_map(|c| c.health_check_config())
        .map(|c| c.r#type().as_str())
        .collect();
    assert_eq!(types, ["HTTP", "CLOUDWATCH_METRIC", "CALCULATED"]);
    let check = checks.health_checks()[0]
        .health_check_config()
        .expect("config");
    let values = ws.resource(ADDRESS);
    assert_eq!(
        values["parts"]["dns.record_health_check"],
        checks.health_checks()[2].id()
    );
    assert_eq!(
        values["break_glass_command"],
        "aws cloudwatch put-metric-data --region us-east-2 --namespace TAP/Failover --metric-name FailoverSwitch --dimensions EnvironmentSuffix=acc --value 1"
    );
    assert_eq!(
        (check.request_interval(), check.failure_threshold()),
        (Some(10), Some(3))
    );
    assert_eq!(check.resource_path(), Some("/health"));
    assert_eq!(weights(&aws).await, (100, 0));
    let alarms = aws
        .cloudwatch("us-east-1")
        .describe_alarms()
        .alarm_names("failover-health-check-acc")
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!(alarms.metric_alarms()[0].evaluation_periods(), Some(3));

    // The session table: key, billing, SSE, stream, PITR, replica.
    let db = aws.dynamodb("us-east-1");
    let table = db
        .describe_table()
        .table_name("trading-sessions-acc")
        .send()
        .await
        .expect("DescribeTable");
    let table = table.table().expect("table");
    assert_eq!(table.key_schema()[0].attribute_name(), "sessionId");
    assert_eq!(
        table.attribute_definitions()[0].attribute_type().as_str(),
        "S"
    );
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|m| m.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(
        table
            .sse_description()
            .and_then(|s| s.status())
            .map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert_eq!(
        table
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str()),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert_eq!(replica_regions(table), ["us-east-2"]);
    assert!(
        pitr(&db, "trading-sessions-acc").await,
        "point-in-time recovery"
    );

    // One role for both regions; DynamoDB only on this table's ARNs; "*" only where AWS has no
    // resource-level permission (PutMetricData, under a namespace condition).
    let policy = role_policy(&aws).await;
    let mut table_resources = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        if statement["Resource"] == "*" {
            assert_eq!(
                statement["Action"], "cloudwatch:PutMetricData",
                "{statement}"
            );
            assert!(statement["Condition"]["StringEquals"]["cloudwatch:namespace"].is_string());
        }
        if statement["Sid"] == "SessionTable" {
            table_resources.extend(
                statement["Resource"]
                    .as_array()
                    .expect("resources")
                    .iter()
                    .map(|r| r.as_str().unwrap_or_default().to_owned()),
            );
        }
    }
    for region in ["us-east-1", "us-east-2"] {
        let arn = format!("arn:aws:dynamodb:{region}:123456789012:table/trading-sessions-acc");
        assert!(
            table_resources.contains(&arn),
            "{arn} in {table_resources:?}"
        );
    }
    let profiles = aws
        .iam()
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    assert_eq!(
        profiles.instance_profiles().len(),
        1,
        "one profile shared by both regions"
    );

    let values = ws.resource(ADDRESS);
    assert_eq!(values["application_url"], format!("http://{DOMAIN}"));
    for attr in [
        "primary_vpc_id",
        "standby_vpc_id",
        "primary_alb_dns_name",
        "standby_alb_dns_name",
        "primary_asg_name",
        "standby_asg_name",
        "table_arn",
        "zone_id",
        "primary_topic_arn",
        "standby_topic_arn",
        "health_check_id",
    ] {
        assert!(
            values[attr].as_str().is_some_and(|v| !v.is_empty()),
            "{attr} is set: {values:#}"
        );
    }
    ws.assert_plan_empty();

    // Planned failover: the standby runs the primary's 2 instances before the weights move.
    ws.config(&config("  active_region = \"standby\""));
    let plan = ws.plan();
    assert!(plan.text().contains("planned failover"), "{}", plan.text());
    ws.apply();
    assert_eq!(weights(&aws).await, (0, 100));
    let ((_, _, standby_desired), instances) =
        group(&aws, "us-east-2", "standby").await.expect("group");
    assert_eq!((standby_desired, instances.len()), (2, 2));
    ws.assert_plan_empty();

    // Failback: the weights return, then the standby goes back to 1.
    ws.config(&config("  active_region = \"primary\""));
    ws.apply();
    assert_eq!(weights(&aws).await, (100, 0));
    let ((_, _, standby_desired), _) = group(&aws, "us-east-2", "standby").await.expect("group");
    assert_eq!(standby_desired, 1);
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Whether EC2 resolves names in `vpc` (its `enableDnsSupport`).
/// The benchmark's trace self-check on hand-made logs, as Terraform writes the provider's lines.
#[test]
fn the_trace_self_check_fails_on_an_unknown_step_or_one_begun_too_early() {
    let line = |event: &str, at: f64, fields: &str| {
        format!("2026-12-05T21:26:58.846Z [DEBUG] provider.terraform-provider-tap: {event}: at={at:.6} {fields} @module=provider.tap.terraform_provider_tap::resources::steps\n")
    };
    let regions = [
        line("step begins", 100.0, r#"after="" parent="" step=regions"#),
        line("step ends", 101.0, "step=regions"),
    ]
    .concat();
    let known = regions.clone()
        + &line("step begins", 101.5, "after=regions parent=\"\" step=table")
        + &line("step ends", 102.0, "step=table");
    assert_eq!(trace_floor(&known, None), (true, String::new()));
    let unknown = regions.clone()
        + &line(
            "step begins",
            101.5,
            "after=regions parent=\"\" step=warm-up@us-east-1",
        )
        + &line("step ends", 102.0, "step=warm-up@us-east-1");
    let (ok, out) = trace_floor(&unknown, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains("step warm-up@us-east-1 is not in the graph"),
        "{out}"
    );
    let early = regions
        + &line("step begins", 100.5, "after=regions parent=\"\" step=table")
        + &line("step ends", 102.0, "step=table");
    let (ok, out) = trace_floor(&early, None);
    assert!(!ok, "{out}");
    assert!(
        out.contains("step table began before regions, which it waits for, ended"),
        "{out}"
    );
}

async fn dns_support(aws: &LocalAws, region: &str, vpc: &str) -> bool {
    let support = aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport;
    crate::regional_stack::dns_attribute(&aws.ec2(region), vpc, support).await == Some(true)
}

#[tokio::test]
async fn drift_in_one_region_is_repaired_alone_and_import_rebuilds_state() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let before = ws.resource(ADDRESS);
    let (_, primary_instances) = group(&aws, "us-east-1", "primary").await.expect("group");

    // Out of band, in the standby region only: the group deleted, an alarm deleted.
    aws.autoscaling("us-east-2")
        .delete_auto_scaling_group()
        .auto_scaling_group_name("asg-standby-acc")
        .force_delete(true)
        .send()
        .await
        .expect("DeleteAutoScalingGroup");
    aws.cloudwatch("us-east-2")
        .delete_alarms()
        .alarm_names("failover-unhealthy-hosts-standby-acc")
        .send()
        .await
        .expect("DeleteAlarms");
    let plan = ws.plan_with_changes();
    assert!(plan.contains("standby.asg"), "{plan}");
    assert!(
        plan.contains("failover-unhealthy-hosts-standby-acc"),
        "{plan}"
    );
    ws.apply();
    assert!(
        group(&aws, "us-east-2", "standby").await.is_some(),
        "the standby group is rebuilt"
    );
    let alarm = aws
        .cloudwatch("us-east-2")
        .describe_alarms()
        .alarm_names("failover-unhealthy-hosts-standby-acc")
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!(alarm.metric_alarms().len(), 1);
    // The primary region was not touched.
    let (_, primary_after) = group(&aws, "us-east-1", "primary").await.expect("group");
    assert_eq!(primary_after, primary_instances);
    let after = ws.resource(ADDRESS);
    for attr in [
        "primary_vpc_id",
        "primary_alb_dns_name",
        "table_arn",
        "health_check_id",
        "standby_vpc_id",
    ] {
        assert_eq!(after[attr], before[attr], "{attr}");
    }
    ws.assert_plan_empty();

    // Out of band: in the primary region the ALB's ingress narrowed; in the standby region the
    // table replica's point-in-time recovery (its own, per replica) switched off. Both show in the
    // plan; apply repairs only them.
    let (alb_group, open) = alb_ingress(&aws, "us-east-1").await;
    assert_eq!(open, BTreeSet::from(["0.0.0.0/0".to_string()]));
    aws.ec2("us-east-1")
        .revoke_security_group_ingress()
        .group_id(&alb_group)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("RevokeSecurityGroupIngress");
    aws.dynamodb("us-east-2")
        .update_continuous_backups()
        .table_name("trading-sessions-acc")
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .expect("specification"),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    assert!(!pitr(&aws.dynamodb("us-east-2"), "trading-sessions-acc").await);
    // Drift stays visible after a refresh has written it into the state.
    let refreshed = ws.run(&["apply", "-refresh-only", "-auto-approve", "-input=false"]);
    assert_eq!(refreshed.code, 0, "{}", refreshed.text());
    let plan = ws.plan_with_changes();
    assert!(plan.contains("allowed_cidrs"), "{plan}");
    assert!(plan.contains("point_in_time_recovery"), "{plan}");
    assert!(plan.contains("updated in-place"), "{plan}");
    ws.apply();
    assert_eq!(
        alb_ingress(&aws, "us-east-1").await,
        (alb_group, BTreeSet::from(["0.0.0.0/0".to_string()]))
    );
    assert!(
        pitr(&aws.dynamodb("us-east-2"), "trading-sessions-acc").await,
        "the replica's point-in-time recovery repaired"
    );
    let (_, primary_after) = group(&aws, "us-east-1", "primary").await.expect("group");
    assert_eq!(primary_after, primary_instances);
    assert_eq!(ws.resource(ADDRESS)["parts"], after["parts"]);
    ws.assert_plan_empty();

    // Out of band, where the resource shows no attribute of its own: the primary's listener
    // deleted, the standby's target group health check changed and its scaling policy deleted,
    // the role's policy widened, the standby VPC's DNS resolution turned off (its instances
    // could no longer resolve DynamoDB's endpoint).
    // Each empties its entry in `parts`; apply repairs those parts alone.
    let standby_vpc = before["standby_vpc_id"].as_str().expect("standby VPC");
    aws.ec2("us-east-2")
        .modify_vpc_attribute()
        .vpc_id(standby_vpc)
        .enable_dns_support(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(false)
                .build(),
        )
        .send()
        .await
        .expect("ModifyVpcAttribute");
    assert!(!dns_support(&aws, "us-east-2", standby_vpc).await);
    let elb = aws.elbv2("us-east-1");
    let listener = primary_listener(&aws).await.expect("the HTTP listener");
    elb.delete_listener()
        .listener_arn(&listener)
        .send()
        .await
        .expect("DeleteListener");
    let standby_tg = aws
        .elbv2("us-east-2")
        .describe_target_groups()
        .names("tg-standby-acc")
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()[0]
        .target_group_arn()
        .unwrap_or_default()
        .to_owned();
    aws.elbv2("us-east-2")
        .modify_target_group()
        .target_group_arn(&standby_tg)
        .health_check_path("/")
        .send()
        .await
        .expect("ModifyTargetGroup");
    aws.autoscaling("us-east-2")
        .delete_policy()
        .auto_scaling_group_name("asg-standby-acc")
        .policy_name("cpu-standby-acc")
        .send()
        .await
        .expect("DeletePolicy");
    let widened = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
    aws.iam()
        .put_role_policy()
        .role_name("ec2-acc")
        .policy_name("least-privilege")
        .policy_document(widened)
        .send()
        .await
        .expect("PutRolePolicy");
    let plan = ws.plan_with_changes();
    for part in [
        "primary.listeners",
        "standby.target_group",
        "standby.asg",
        "instance_role",
        "standby.vpc",
    ] {
        let key = format!("\"{part}\"");
        assert!(
            // Terraform renders an emptied entry as `null`.
            plan.lines()
                .any(|l| l.trim_start_matches([' ', '-']).starts_with(&key)
                    && (l.ends_with("= null") || l.ends_with("= \"\""))),
            "{part} empty in:\n{plan}"
        );
    }
    ws.apply();
    assert!(primary_listener(&aws).await.is_some(), "listener rebuilt");
    let health_path = aws
        .elbv2("us-east-2")
        .describe_target_groups()
        .target_group_arns(&standby_tg)
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()[0]
        .health_check_path()
        .map(str::to_owned);
    assert_eq!(health_path.as_deref(), Some("/health"));
    let policies = aws
        .autoscaling("us-east-2")
        .describe_policies()
        .auto_scaling_group_name("asg-standby-acc")
        .send()
        .await
        .expect("DescribePolicies");
    assert_eq!(
        policies.scaling_policies().len(),
        1,
        "scaling policy rebuilt"
    );
    assert!(
        !role_policy(&aws).await.to_string().contains("dynamodb:*"),
        "the policy is least-privilege again"
    );
    assert!(
        dns_support(&aws, "us-east-2", standby_vpc).await,
        "DNS resolution on again"
    );
    let (_, primary_after) = group(&aws, "us-east-1", "primary").await.expect("group");
    assert_eq!(primary_after, primary_instances);
    ws.assert_plan_empty();

    // Only the listener was rebuilt; the other parts kept their IDs.
    let repaired = ws.resource(ADDRESS);
    let changed: Vec<&String> = after["parts"]
        .as_object()
        .expect("parts")
        .iter()
        .filter(|(k, v)| repaired["parts"][k.as_str()] != **v)
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, ["primary.listeners"]);

    // Import by suffix reconstructs everything: the plan is empty.
    ws.run(&["state", "rm", ADDRESS]);
    let run = ws.run(&["import", ADDRESS, "acc"]);
    assert_eq!(run.code, 0, "{}", run.text());
    ws.assert_plan_empty();
    assert_eq!(ws.resource(ADDRESS)["parts"], repaired["parts"]);

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_failure_in_the_standby_mid_create_resumes_cleanly() {
    let aws = LocalAws::start_with_faults("CreateNatGateway@us-east-2");
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0);
    assert!(failed.text().contains("InternalError"), "{}", failed.text());
    assert!(
        failed.text().contains("standby"),
        "the diagnostic names the part: {}",
        failed.text()
    );
    // What exists is in state: the primary region finished, the standby's VPC is recorded.
    let partial = ws.resource(ADDRESS);
    assert!(
        partial["primary_asg_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{partial:#}"
    );
    assert!(
        partial["standby_vpc_id"]
            .as_str()
            .is_some_and(|v| v.starts_with("vpc-")),
        "{partial:#}"
    );

    let untainted = ws.run(&["untaint", ADDRESS]);
    assert_eq!(untainted.code, 0, "{}", untainted.text());
    ws.apply();
    for region in ["us-east-1", "us-east-2"] {
        vpc(&aws, region).await;
        let nats = aws
            .ec2(region)
            .describe_nat_gateways()
            .send()
            .await
            .expect("DescribeNatGateways");
        let live = nats
            .nat_gateways()
            .iter()
            .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
            .count();
        assert_eq!(live, 1, "one NAT gateway in {region}");
        let lbs = aws
            .elbv2(region)
            .describe_load_balancers()
            .send()
            .await
            .expect("DescribeLoadBalancers");
        assert_eq!(lbs.load_balancers().len(), 1, "one ALB in {region}");
    }
    assert_eq!(
        ws.resource(ADDRESS)["standby_vpc_id"],
        partial["standby_vpc_id"],
        "the standby VPC was adopted"
    );
    assert_eq!(
        aws.route53()
            .list_health_checks()
            .send()
            .await
            .expect("ListHealthChecks")
            .health_checks()
            .len(),
        3,
        "the endpoint check and the failover switch's two"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn bad_input_is_refused_at_plan_time_on_its_attribute() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let cases = [
        ("  tags = { \"tap:stack\" = \"other\" }", "tags", "reserved prefix"),
        ("  standby {\n    region = \"us-east-1\"\n  }", "region", "another region"),
        ("  standby {\n    region = \"us-moon-1\"\n  }", "region", "not an AWS region"),
        ("  standby {\n    vpc_cidr = \"10.0.0.0/16\"\n    public_subnets = [\"10.0.1.0/24\", \"10.0.2.0/24\"]\n    private_subnets = [\"10.0.11.0/24\", \"10.0.12.0/24\"]\n  }", "vpc_cidr", "overlaps"),
        ("  primary {\n    vpc_cidr = \"10.0.0.0/33\"\n  }", "vpc_cidr", "10.0.0.0/33"),
        ("  primary {\n    public_subnets = [\"10.9.1.0/24\", \"10.0.2.0/24\"]\n  }", "public_subnets", "10.9.1.0/24"),
        ("  primary {\n    min_size = 3\n    max_size = 2\n  }", "min_size", "max_size"),
        ("  standby {\n    desired_capacity = 0\n  }", "desired_capacity", "dead primary"),
        ("  health_check {\n    interval = 20\n  }", "interval", "10 or 30"),
        ("  active_region = \"tertiary\"", "active_region", "not a role"),
        ("  domain_name = \"Bad_Domain\"", "domain_name", "not a domain name"),
        ("  domain_name = \"trading-acc.example.com\"", "domain_name", "is reserved by AWS!"),
        ("  alarm_emails = [\"not-an-address\"]", "alarm_emails", "e-mail"),
        ("  primary {\n    nat_mode = \"sometimes\"\n  }", "nat_mode", "sometimes"),
        ("  primary {\n    public_subnets = [\"10.0.1.0/24\"]\n    private_subnets = [\"10.0.11.0/24\"]\n  }", "public_subnets", "at least two availability zones"),
        ("  standby {\n    certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/1f2e\"\n  }\n  primary {\n    certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/3a4b\"\n  }", "certificate_arn", "ACM certificates are regional"),
        ("  session_table {\n    consistency = \"strong\"\n  }", "consistency", "needs `witness_region`"),
        ("  session_table {\n    consistency = \"strong\"\n    witness_region = \"eu-west-1\"\n  }", "witness_region", "within one Region set"),
        ("  standby {\n    region = \"us-west-1\"\n  }\n  session_table {\n    consistency = \"strong\"\n    witness_region = \"us-west-2\"\n  }", "region", "Unsupported Region(s)"),
        ("  session_table {\n    witness_region = \"us-west-2\"\n  }", "witness_region", "strongly consistent (MRSC) global table only"),
    ];
    for (body, attribute, message) in cases {
        ws.assert_refused(&config(body), attribute, message);
    }
    // HTTPS on one side only fails over to nothing; an HTTP check of listeners that redirect
    // sees only the redirect.
    let primary_cert = "arn:aws:acm:us-east-1:123456789012:certificate/3a4b";
    let standby_cert = "arn:aws:acm:us-east-2:123456789012:certificate/1f2e";
    let https = [
        (
            format!("  domain_name = \"trading-acc.tap-test.net\"\n  primary {{\n    certificate_arn = \"{primary_cert}\"\n  }}"),
            "certificate_arn",
            "the standby has no certificate_arn",
        ),
        (
            format!("  domain_name = \"trading-acc.tap-test.net\"\n  primary {{\n    certificate_arn = \"{primary_cert}\"\n  }}\n  standby {{\n    certificate_arn = \"{standby_cert}\"\n  }}\n  health_check {{\n    protocol = \"HTTP\"\n  }}"),
            "protocol",
            "301 redirect",
        ),
        (
            "  domain_name = \"trading-acc.tap-test.net\"\n  health_check {\n    protocol = \"HTTPS\"\n  }".to_owned(),
            "protocol",
            "no HTTPS listener",
        ),
    ];
    for (body, attribute, message) in &https {
        ws.assert_refused(&config(body), attribute, message);
    }
    ws.config(&format!("resource \"tap_trading_failover\" \"prod\" {{\n  environment_suffix = \"Way_Too_Long_For_Every_Name\"\n  domain_name = \"{DOMAIN}\"\n}}\n"));
    let errors = ws.plan_errors();
    assert_eq!(
        errors.len(),
        1,
        "the suffix error is reported once: {errors:#?}"
    );
    assert!(
        errors[0]["snippet"]["code"]
            .as_str()
            .unwrap_or_default()
            .contains("environment_suffix"),
        "not on environment_suffix: {:#}",
        errors[0]
    );
    assert!(
        errors[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not a valid environment suffix"),
        "{:#}",
        errors[0]
    );
    assert_nothing_left(&aws).await;
}

/// The failover name as a configuration line, for tests that write it themselves.
const DOMAIN_LINE: &str = "  domain_name = \"trading-acc.tap-test.net\"";

#[tokio::test]
async fn desired_capacity_is_left_to_the_scaling_policy_and_failover_scales_to_the_live_primary() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(DOMAIN_LINE));
    ws.apply();

    // Target tracking scales the primary out under load (SetDesiredCapacity, as the policy
    // does): not drift, and an unrelated apply leaves it.
    aws.autoscaling("us-east-1")
        .set_desired_capacity()
        .auto_scaling_group_name("asg-primary-acc")
        .desired_capacity(3)
        .send()
        .await
        .expect("SetDesiredCapacity");
    // The live capacity comes from the read of the group that finds its drift: a refresh
    // reads each region's group once.
    let group_reads = || {
        aws.get_json("/localaws/requests")["autoscaling DescribeAutoScalingGroups"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = group_reads();
    ws.assert_plan_empty();
    assert_eq!(group_reads() - before, 2, "one read per region");
    let tagged = format!("{DOMAIN_LINE}\n  tags = {{ Team = \"fx\" }}");
    ws.config(&config(&tagged));
    ws.apply();
    let (primary, _) = group(&aws, "us-east-1", "primary").await.expect("group");
    assert_eq!(
        primary,
        (1, 4, 3),
        "the policy's capacity survives the apply"
    );
    ws.assert_plan_empty();

    // Planned failover: the standby runs what the primary runs now, and keeps its minimum
    // there so its own policy cannot scale it in before failback.
    ws.config(&config(&format!("{tagged}\n  active_region = \"standby\"")));
    ws.apply();
    let (standby, instances) = group(&aws, "us-east-2", "standby").await.expect("group");
    assert_eq!((standby, instances.len()), ((3, 4, 3), 3));
    ws.assert_plan_empty();

    // Imported while failed over, into a fresh state: the standby's raised floor is the
    // failover's, not its configuration; the user's tags come back from what AWS holds, and
    // the plan is empty (`pending_alarm_emails` known, not to be read again).
    let before = ws.resource(ADDRESS);
    ws.run(&["state", "rm", ADDRESS]);
    let run = ws.run(&["import", ADDRESS, "acc"]);
    assert_eq!(run.code, 0, "{}", run.text());
    let imported = ws.resource(ADDRESS);
    assert_eq!(imported["tags"], serde_json::json!({ "Team": "fx" }));
    assert_eq!(
        imported["pending_alarm_emails"],
        before["pending_alarm_emails"]
    );
    ws.assert_plan_empty();
    assert_eq!(ws.resource(ADDRESS)["standby"], before["standby"]);
    let (standby, _) = group(&aws, "us-east-2", "standby").await.expect("group");
    assert_eq!(standby, (3, 4, 3), "the import changed nothing");

    // Failback restores the configured minimum and capacity of the standby.
    ws.config(&config(&format!("{tagged}\n  active_region = \"primary\"")));
    ws.apply();
    let (standby, _) = group(&aws, "us-east-2", "standby").await.expect("group");
    assert_eq!(standby, (1, 4, 1));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The instance refreshes a region's group ran, newest first.
async fn refreshes(
    aws: &LocalAws,
    region: &str,
    role: &str,
) -> Vec<aws_sdk_autoscaling::types::InstanceRefresh> {
    aws.autoscaling(region)
        .describe_instance_refreshes()
        .auto_scaling_group_name(format!("asg-{role}-acc"))
        .send()
        .await
        .expect("DescribeInstanceRefreshes")
        .instance_refreshes()
        .to_vec()
}

#[tokio::test]
async fn instance_refreshes_launch_first_and_run_in_the_standby_before_the_primary() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(DOMAIN_LINE));
    ws.apply();

    // A new instance type: a new launch template version in both regions.
    ws.config(&config(&format!(
        "{DOMAIN_LINE}\n  primary {{\n    instance_type = \"t3.large\"\n  }}\n  standby {{\n    instance_type = \"t3.large\"\n  }}"
    )));
    ws.apply();
    let (standby, primary) = (
        refreshes(&aws, "us-east-2", "standby").await,
        refreshes(&aws, "us-east-1", "primary").await,
    );
    assert_eq!((standby.len(), primary.len()), (1, 1));
    for refresh in [&standby[0], &primary[0]] {
        let preferences = refresh.preferences().expect("preferences");
        assert_eq!(
            (
                preferences.min_healthy_percentage(),
                preferences.max_healthy_percentage()
            ),
            (Some(100), Some(200)),
            "launch before terminate"
        );
        assert_eq!(
            refresh.status(),
            Some(&aws_sdk_autoscaling::types::InstanceRefreshStatus::Successful)
        );
    }
    let at = |t: Option<&aws_smithy_types::DateTime>| {
        let t = t.expect("timestamp");
        (t.secs(), t.subsec_nanos())
    };
    assert!(
        at(standby[0].end_time()) <= at(primary[0].start_time()),
        "the standby's refresh ended ({:?}) before the primary's began ({:?})",
        standby[0].end_time(),
        primary[0].start_time()
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// With a certificate in each region: the application URL is HTTPS, both load balancers serve
/// it with a TLS 1.2+ policy (set back when changed out of band), and Route 53 checks the
/// primary over HTTPS:443, not through the HTTP listener that only redirects.
#[tokio::test]
async fn https_in_both_regions_is_health_checked_over_https_with_a_modern_tls_policy() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let domain = "trading-acc.tap-test.net";
    let primary_cert = aws.certificate_in("us-east-1", domain);
    let standby_cert = aws.certificate_in("us-east-2", domain);
    ws.config(&config(&format!(
        "  domain_name = \"{domain}\"\n  primary {{\n    certificate_arn = \"{primary_cert}\"\n    nat_mode = \"none\"\n  }}\n  standby {{\n    certificate_arn = \"{standby_cert}\"\n    nat_mode = \"none\"\n  }}"
    )));
    ws.apply();
    assert_eq!(
        ws.resource(ADDRESS)["application_url"],
        format!("https://{domain}")
    );
    let https_listener = |region: &'static str, role: &'static str| {
        let aws = &aws;
        async move {
            listener(aws, region, role, 443)
                .await
                .unwrap_or_else(|| panic!("no HTTPS listener in {region}"))
        }
    };
    for (region, role, cert) in [
        ("us-east-1", "primary", &primary_cert),
        ("us-east-2", "standby", &standby_cert),
    ] {
        let listener = https_listener(region, role).await;
        assert_eq!(
            listener.ssl_policy(),
            Some("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"),
            "{role}: TLS 1.2 minimum, not the API default ELBSecurityPolicy-2016-08"
        );
        assert_eq!(
            listener.certificates()[0].certificate_arn(),
            Some(cert.as_str())
        );
    }
    let checks = aws
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    let endpoint = checks
        .health_checks()
        .iter()
        .filter_map(|c| c.health_check_config())
        .find(|c| c.fully_qualified_domain_name().is_some())
        .expect("the endpoint check");
    assert_eq!(endpoint.r#type().as_str(), "HTTPS");
    assert_eq!(endpoint.port(), Some(443));
    ws.assert_plan_empty();

    // Out of band: the standby's listener back on the API default policy.
    let listener = https_listener("us-east-2", "standby").await;
    aws.elbv2("us-east-2")
        .modify_listener()
        .listener_arn(listener.listener_arn().unwrap_or_default())
        .ssl_policy("ELBSecurityPolicy-2016-08")
        .send()
        .await
        .expect("ModifyListener");
    let plan = ws.plan_with_changes();
    assert!(plan.contains("standby.listeners"), "{plan}");
    ws.apply();
    assert_eq!(
        https_listener("us-east-2", "standby").await.ssl_policy(),
        Some("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn any_two_regions_work_with_only_the_health_alarm_its_topic_and_key_in_us_east_1() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let regions = "  primary { region = \"eu-west-1\" }\n  standby { region = \"eu-central-1\" }\n  alarm_emails = [\"oncall@tap-test.net\"]\n";
    ws.config(&config(regions));
    ws.apply();
    for region in ["eu-west-1", "eu-central-1"] {
        vpc(&aws, region).await;
    }

    // us-east-1 holds the health-check alarm, the topic it notifies and that topic's key: no
    // network, compute or table.
    let east = "us-east-1";
    assert!(ec2_leaks(&aws.ec2(east)).await.is_empty());
    assert!(compute_leaks(&aws, east).await.is_empty());
    let tables = aws
        .dynamodb(east)
        .list_tables()
        .send()
        .await
        .expect("ListTables");
    assert!(tables.table_names().is_empty());
    let topic_name = "health-check-failover-notifications-acc";
    let mut held = alerting_in(&aws, east).await;
    held.retain(|h| !h.starts_with("KMS key "));
    held.sort();
    let topic_arn = format!("arn:aws:sns:{east}:123456789012:{topic_name}");
    assert_eq!(
        held,
        [
            format!("KMS alias alias/{topic_name} in {east}"),
            format!("alarm failover-health-check-acc in {east}"),
            format!("topic {topic_arn}"),
        ]
    );
    let alarm = aws
        .cloudwatch(east)
        .describe_alarms()
        .alarm_names("failover-health-check-acc")
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!(
        alarm.metric_alarms()[0].alarm_actions(),
        std::slice::from_ref(&topic_arn)
    );
    let sns = aws.sns(east);
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(&topic_arn)
        .send()
        .await
        .expect("GetTopicAttributes");
    let key = attributes.attributes().expect("attributes")["KmsMasterKeyId"].clone();
    let key = aws
        .kms(east)
        .describe_key()
        .key_id(key)
        .send()
        .await
        .expect("DescribeKey");
    assert_eq!(
        key.key_metadata().and_then(|k| k.key_manager()),
        Some(&aws_sdk_kms::types::KeyManagerType::Customer)
    );
    let subscribed = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .expect("ListSubscriptionsByTopic");
    let endpoints: Vec<_> = subscribed
        .subscriptions()
        .iter()
        .filter_map(|s| s.endpoint())
        .collect();
    assert_eq!(endpoints, ["oncall@tap-test.net"]);
    let values = ws.resource(ADDRESS);
    assert_eq!(values["parts"]["dns.health_check_topic"], topic_arn);
    ws.assert_plan_empty();

    // Readiness reads the us-east-1 topic like the others: unconfirmed, then confirmed.
    let readiness = "data \"tap_failover_readiness\" \"eu\" {\n  environment_suffix = tap_trading_failover.prod.id\n  depends_on = [tap_trading_failover.prod]\n}\n";
    ws.config(&format!("{}{readiness}", config(regions)));
    ws.apply();
    let unconfirmed = || {
        ws.resource("data.tap_failover_readiness.eu")["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["part"] == "notifications")
            .filter_map(|f| f["message"].as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let found = unconfirmed();
    let unheard: Vec<_> = found
        .iter()
        .filter(|m| m.contains("has no confirmed subscription"))
        .collect();
    assert_eq!(unheard.len(), 3, "{found:?}");
    assert!(unheard.iter().any(|m| m.contains(&topic_arn)), "{found:?}");
    assert!(
        found.iter().any(|m| m.contains("(health-check)")),
        "{found:?}"
    );
    assert_eq!(aws.confirm_subscriptions("oncall@tap-test.net"), 3);
    let run = ws.run(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(unconfirmed().is_empty(), "{:?}", unconfirmed());
    ws.config(&config(regions));

    // Import with the regions rebuilds the same state, the us-east-1 topic included.
    ws.run(&["state", "rm", ADDRESS]);
    let run = ws.run(&["import", ADDRESS, "acc/eu-west-1/eu-central-1"]);
    assert_eq!(run.code, 0, "{}", run.text());
    ws.assert_plan_empty();
    assert_eq!(
        ws.resource(ADDRESS)["parts"]["dns.health_check_topic"],
        topic_arn
    );

    // Failover and back, as anywhere.
    let standby = format!("{regions}  active_region = \"standby\"\n");
    ws.config(&config(&standby));
    ws.apply();
    assert_eq!(weights(&aws).await, (0, 100));
    ws.assert_plan_empty();
    ws.config(&config(regions));
    ws.apply();
    assert_eq!(weights(&aws).await, (100, 0));
    ws.assert_plan_empty();

    the_switch_in_the_standby_region_moves_dns_and_back(&aws, &ws).await;

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The eu-west-1 + eu-central-1 system's failover switch: its alarm in eu-central-1 alone, the
/// check following it reads it there; thrown with the binary, DNS answers the standby, released,
/// the primary.
async fn the_switch_in_the_standby_region_moves_dns_and_back(aws: &LocalAws, ws: &Workspace) {
    let switch = "failover-switch-acc";
    for (region, held) in [("eu-central-1", 1), ("eu-west-1", 0), ("us-east-1", 0)] {
        let alarms = aws
            .cloudwatch(region)
            .describe_alarms()
            .alarm_names(switch)
            .send()
            .await
            .expect("DescribeAlarms");
        assert_eq!(alarms.metric_alarms().len(), held, "{switch} in {region}");
    }
    let r53 = aws.route53();
    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    let followed: Vec<_> = checks
        .health_checks()
        .iter()
        .filter_map(|c| c.health_check_config()?.alarm_identifier())
        .map(|a| (a.name().to_owned(), a.region().as_str().to_owned()))
        .collect();
    assert_eq!(followed, [(switch.to_owned(), "eu-central-1".to_owned())]);

    let values = ws.resource(ADDRESS);
    let zone = values["zone_id"].as_str().expect("zone_id").to_owned();
    let [primary_ips, standby_ips] = ["primary_alb_dns_name", "standby_alb_dns_name"]
        .map(|key| crate::support::resolved(aws, values[key].as_str().expect(key)));
    assert_ne!(primary_ips, standby_ips);
    let answer = || async { crate::support::dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the answer before the switch", primary_ips.clone(), answer).await;
    let group = values["parts"]["standby.target_group"]
        .as_str()
        .expect("the standby's target group");
    let command =
        |verb| crate::failover_switch::throw_switch(aws, verb, "acc", "eu-central-1", group);
    let thrown = command("engage");
    assert_eq!(thrown.code, 0, "{}", thrown.text());
    let alarm = aws
        .cloudwatch("eu-central-1")
        .describe_alarms()
        .alarm_names(switch)
        .send()
        .await
        .expect("DescribeAlarms");
    assert_eq!(
        alarm.metric_alarms()[0].state_value().map(|s| s.as_str()),
        Some("ALARM"),
        "thrown in the standby region"
    );
    settles("the answer once the switch is thrown", standby_ips, answer).await;
    let released = command("release");
    assert_eq!(released.code, 0, "{}", released.text());
    settles(
        "the answer once the switch is released",
        primary_ips,
        answer,
    )
    .await;
}

#[tokio::test]
async fn a_standby_region_the_account_has_not_enabled_fails_before_anything_is_made() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let ws = Workspace::new(&aws);
    ws.config(&config("  standby { region = \"af-south-1\" }\n"));
    ws.assert_apply_fails_saying(&[
        "choosing availability zones of af-south-1",
        "aws account enable-region --region-name af-south-1",
    ]);
    // Once, on the standby's region: the read-back after the failure, refused there too, adds
    // no diagnostic.
    let errors = ws.apply_error_diagnostics();
    assert!(
        errors[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the account has not enabled af-south-1")),
        "{errors:?}"
    );
    assert_one_error_on(&errors, "standby { region = \"af-south-1\" }");
    // Not even the session table in the primary region, which is made beside the stacks.
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn too_few_zones_for_the_instance_type_in_either_region_fail_before_anything_is_made() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let cidrs = |base: u8| {
        (1..=6)
            .map(|i| format!("\"10.0.{}.0/24\"", base + i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    ws.config(&config(&format!(
        "  primary {{\n    public_subnets  = [{}]\n    private_subnets = [{}]\n  }}\n",
        cidrs(0),
        cidrs(10)
    )));
    ws.assert_apply_fails_saying(&[
        "Zones of us-east-1 that offer t3.medium: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f",
    ]);
    assert_nothing_left(&aws).await;
}

/// Requests the local AWS served per region ("ec2 DescribeVpcs" counts), from its outage switch's
/// ledger, which counts every request by the region whose endpoint it reaches.
fn served(aws: &LocalAws) -> BTreeMap<String, BTreeMap<String, u64>> {
    serde_json::from_value(aws.get_json("/localaws/outage")["served"].clone()).expect("served")
}

/// What `after` counts beyond `before` in `region`.
fn served_since(
    before: &BTreeMap<String, BTreeMap<String, u64>>,
    after: &BTreeMap<String, BTreeMap<String, u64>>,
    region: &str,
) -> BTreeMap<String, u64> {
    let none = BTreeMap::new();
    let was = before.get(region).unwrap_or(&none);
    after
        .get(region)
        .unwrap_or(&none)
        .iter()
        .filter_map(|(call, n)| {
            let more = n - was.get(call).copied().unwrap_or(0);
            (more > 0).then(|| (call.clone(), more))
        })
        .collect()
}

/// #19: a planned move of `active_region` touches Route 53 and the standby region only. With
/// `-refresh=false` (a refresh reads every part, the primary's too, by design). The default
/// regions put the primary in us-east-1, where Route 53's control plane is: its calls are
/// left out of the count. The provider is configured as the README tells an operator to while
/// us-east-1 is down: without the credentials check, which asks STS in the provider's region.
#[tokio::test]
async fn a_plan_changing_only_active_region_makes_no_request_to_the_primary_region() {
    moving_only_active_region_calls_route53_and_that_standby("", "standby", "us-east-2").await;
}

const FURTHER_STANDBY: &str =
    "  additional_standby {\n    region   = \"us-west-2\"\n    nat_mode = \"none\"\n  }\n";

/// The same with a further standby (us-west-2): the move to the first standby makes no
/// request to the further standby's region either.
#[tokio::test]
async fn with_a_further_standby_moving_to_the_first_calls_only_route53_and_its_region() {
    moving_only_active_region_calls_route53_and_that_standby(
        FURTHER_STANDBY,
        "standby",
        "us-east-2",
    )
    .await;
}

/// #20: the move to a further standby (`active_region = "us-west-2"`) is as fast: only Route 53
/// and us-west-2 are called, neither the primary's region nor the first standby's (both may be
/// the ones having the bad day), and the state it leaves re-plans empty.
#[tokio::test]
async fn moving_only_active_region_to_a_further_standby_calls_only_route53_and_its_region() {
    moving_only_active_region_calls_route53_and_that_standby(
        FURTHER_STANDBY,
        "us-west-2",
        "us-west-2",
    )
    .await;
}

/// Moves `active_region` alone to `target` (a standby in `region`) with `-refresh=false` and
/// counts the requests: none to any region but `region` (Route 53's aside), and there only the
/// group's capacity, its tag and the standby-traffic alarm are written.
async fn moving_only_active_region_calls_route53_and_that_standby(
    further: &str,
    target: &str,
    region: &str,
) {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let provider =
        "provider \"tap\" {\n  max_retries = 0\n  skip_credentials_validation = true\n}\n\n";
    ws.config_raw(&format!("{provider}{}", config(further)));
    ws.apply();
    ws.config_raw(&format!(
        "{provider}{}",
        config(&format!("  active_region = \"{target}\"\n{further}"))
    ));
    let before = served(&aws);
    for args in [
        &["plan", "-refresh=false", "-no-color", "-out=move.tfplan"][..],
        &["apply", "-no-color", "move.tfplan"][..],
    ] {
        let run = ws.run(args);
        assert_eq!(run.code, 0, "{}", run.text());
    }
    let after = served(&aws);
    for other in ["us-east-1", "us-east-2", "us-west-2"] {
        if other == region {
            continue;
        }
        let mut served = served_since(&before, &after, other);
        served.retain(|call, _| !call.starts_with("route53 "));
        assert_eq!(served, BTreeMap::new(), "requests to {other}");
    }
    // #22: in the standby region it writes only the group's capacity (and the tag recording
    // it) and the standby-traffic alarm; the rest of the stack is as the refresh found it.
    assert_eq!(
        writes_in(&before, &after, region),
        BTreeSet::from([
            "autoscaling CreateOrUpdateTags".to_owned(),
            "autoscaling UpdateAutoScalingGroup".to_owned(),
            "monitoring PutMetricAlarm".to_owned(),
        ]),
        "writes to the standby region"
    );
    // What the local AWS holds: the standby runs the primary's capacity, and Route 53 answers
    // with its load balancer.
    let ((_, _, primary_desired), _) = group(&aws, "us-east-1", "primary").await.expect("group");
    let ((min, _, desired), _) = group(&aws, region, "standby").await.expect("group");
    assert_eq!((min, desired), (primary_desired, primary_desired));
    let state = ws.resource(ADDRESS);
    let zone = state["zone_id"].as_str().expect("zone").to_owned();
    let alb = state["standby_alb_dns_names"][region]
        .as_str()
        .expect("the standby's load balancer")
        .to_owned();
    let r53 = aws.route53();
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the standby moved to", resolved(&aws, &alb), answer).await;
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// #22: the whole system's destroy does not drain what it deletes: once no record routes to a
/// region, its target group's deregistration delay is 0 before its instances are terminated
/// (the local AWS records the delay each waited), and nothing is left.
#[tokio::test]
async fn destroy_terminates_the_instances_without_draining_once_no_record_routes_to_them() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let before = aws.drained().len();
    ws.destroy();
    let drained = aws.drained().split_off(before);
    let groups: BTreeSet<&str> = drained.iter().map(|(group, _)| group.as_str()).collect();
    assert_eq!(
        groups,
        BTreeSet::from(["asg-primary-acc", "asg-standby-acc"])
    );
    assert!(drained.iter().all(|(_, delay)| *delay == 0), "{drained:?}");
    assert_nothing_left(&aws).await;
}

/// An instance type a region does not offer in any zone (c7gn.medium: us-east-1 but not
/// eu-central-1, in the offerings data): refused at apply before anything is made in either
/// region, naming the type, the region and that no zone offers it, on the standby's
/// `instance_type`.
#[tokio::test]
async fn an_instance_type_the_standby_region_does_not_offer_fails_before_anything_is_made() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  primary { instance_type = \"c7gn.medium\" }\n  standby {\n    region        = \"eu-central-1\"\n    instance_type = \"c7gn.medium\"\n  }\n",
    ));
    ws.assert_apply_fails_saying(&[
        "choosing availability zones of eu-central-1 for c7gn.medium",
        "Zones of eu-central-1 that offer c7gn.medium: none",
    ]);
    // On the standby's instance_type, not the primary's, which us-east-1 offers.
    let errors = ws.apply_error_diagnostics();
    assert_one_error_on(&errors, "instance_type = \"c7gn.medium\"");
    assert_nothing_left(&aws).await;
}

/// A public zone for the test systems, as a user gives it (`hosted_zone_id`); its ID.
pub(crate) async fn given_zone(aws: &LocalAws) -> String {
    let zone = aws
        .route53()
        .create_hosted_zone()
        .name("tap-test.net")
        .caller_reference("users-zone")
        .send()
        .await
        .expect("CreateHostedZone");
    let id = zone.hosted_zone().expect("the zone").id();
    id.rsplit('/').next().unwrap_or(id).to_owned()
}

/// The CNAME records of a zone: (name, value).
async fn cnames(aws: &LocalAws, zone: &str) -> Vec<(String, String)> {
    aws.route53()
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("ListResourceRecordSets")
        .resource_record_sets()
        .iter()
        .filter(|r| r.r#type().as_str() == "CNAME")
        .map(|r| {
            (
                r.name().to_owned(),
                r.resource_records()
                    .first()
                    .map(|v| v.value().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

async fn delete_cname(aws: &LocalAws, zone: &str, name: &str, value: &str) {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap();
    let change = Change::builder()
        .action(ChangeAction::Delete)
        .resource_record_set(set)
        .build()
        .unwrap();
    aws.route53()
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .expect("deleting the validation record");
}

/// HTTPS as `tls = "auto"` leaves it: the application URL is https://, the zone holds one
/// validation record, and each region's HTTPS listener serves the certificate `parts` records.
/// That record (name, value).
async fn serves_its_certificates(
    aws: &LocalAws,
    zone: &str,
    state: &serde_json::Value,
) -> (String, String) {
    serve_their_certificates(
        aws,
        zone,
        state,
        &[("us-east-1", "primary"), ("us-east-2", "standby")],
    )
    .await
}

/// Each (region, `parts` prefix) stack's load balancer serves HTTPS with the certificate of its
/// region the state records, issued, all validated by the zone's one record.
async fn serve_their_certificates(
    aws: &LocalAws,
    zone: &str,
    state: &serde_json::Value,
    stacks: &[(&str, &str)],
) -> (String, String) {
    assert_eq!(state["application_url"], format!("https://{DOMAIN}"));
    let records = cnames(aws, zone).await;
    assert_eq!(records.len(), 1, "one validation record: {records:?}");
    for (region, prefix) in stacks {
        // Every standby's load balancer is named as the first standby's.
        let role = prefix.split('.').next().unwrap_or(prefix);
        let https = listener(aws, region, role, 443)
            .await
            .unwrap_or_else(|| panic!("no HTTPS listener in {region}"));
        let served = https.certificates()[0]
            .certificate_arn()
            .unwrap_or_default();
        assert_eq!(
            Some(served),
            state["parts"][format!("{prefix}.certificate")].as_str()
        );
        let certificate = aws
            .acm(region)
            .describe_certificate()
            .certificate_arn(served)
            .send()
            .await
            .expect("DescribeCertificate")
            .certificate
            .expect("the certificate");
        assert_eq!(
            certificate.status().map(|s| s.as_str()),
            Some("ISSUED"),
            "{region}"
        );
    }
    records[0].clone()
}

/// Whether both stacks' load balancers appear within two minutes.
async fn both_load_balancers_exist(aws: &LocalAws) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let (primary, standby) = tokio::join!(
            load_balancer(aws, "us-east-1", "primary"),
            load_balancer(aws, "us-east-2", "standby"),
        );
        if primary.is_some() && standby.is_some() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    false
}

/// Nothing left but the user's zone, which holds no validation record any more; no certificate
/// in any region a test builds in.
pub(crate) async fn nothing_left_beside(aws: &LocalAws, zone: &str) {
    for region in ["us-east-1", "us-east-2", "us-west-2"] {
        let left = crate::support::certificates_in(aws, region).await;
        assert!(left.is_empty(), "certificates left in {region}: {left:?}");
    }
    assert_eq!(cnames(aws, zone).await, [], "the validation record is gone");
    aws.route53()
        .delete_hosted_zone()
        .id(zone)
        .send()
        .await
        .expect("the user's zone, empty again");
    assert_nothing_left(aws).await;
}

/// With a zone that answers publicly, `tls` defaults to `auto`: the provider requests a
/// certificate in each region, validates both through one CNAME record in the zone while the
/// stacks are built (each load balancer is made before ACM issues its certificate), and both
/// load balancers serve HTTPS:443 with their own region's issued certificate, HTTP redirected;
/// Route 53 checks HTTPS:443. The validation record deleted out of band is drift that the apply
/// repairs. Destroy leaves no certificate and no record.
#[tokio::test]
async fn with_a_zone_certificates_are_obtained_validated_and_served_in_both_regions() {
    use aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum;

    let aws = LocalAws::start();
    let zone = given_zone(&aws).await;
    let ws = Workspace::new(&aws);
    let system = |active: &str| {
        config(&format!(
            "  hosted_zone_id = \"{zone}\"\n  active_region = \"{active}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}"
        ))
    };
    ws.config(&system("primary"));
    // The zone answers publicly only once both load balancers exist, so ACM issues nothing
    // before: the apply completes only because it builds the stacks while ACM validates.
    let stacks_first = std::thread::scope(|s| {
        let delegator = s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let seen = runtime.block_on(both_load_balancers_exist(&aws));
            aws.delegate(&zone);
            seen
        });
        ws.apply();
        delegator.join().expect("the delegating thread")
    });
    assert!(
        stacks_first,
        "no load balancer was made before ACM could validate"
    );
    let state = ws.resource(ADDRESS);
    assert_eq!(state["tls"], "auto");
    let validation = serves_its_certificates(&aws, &zone, &state).await;
    for (region, role) in [("us-east-1", "primary"), ("us-east-2", "standby")] {
        let https = listener(&aws, region, role, 443)
            .await
            .unwrap_or_else(|| panic!("no HTTPS listener in {region}"));
        assert_eq!(
            https.ssl_policy(),
            Some("ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09")
        );
        let arn = https.certificates()[0]
            .certificate_arn()
            .unwrap_or_default();
        assert!(arn.starts_with(&format!("arn:aws:acm:{region}:")), "{arn}");
        let certificate = aws
            .acm(region)
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("DescribeCertificate");
        let certificate = certificate.certificate().expect("the certificate");
        assert_eq!(certificate.domain_name(), Some(DOMAIN));
        assert_eq!(certificate.status().map(|s| s.as_str()), Some("ISSUED"));
        // ACM validated it while the stack was built: the load balancer predates the issue.
        let alb_created = load_balancer(&aws, region, role)
            .await
            .expect("the load balancer")
            .created_time()
            .expect("CreatedTime")
            .as_secs_f64();
        let issued = certificate.issued_at().expect("IssuedAt").as_secs_f64();
        assert!(
            alb_created < issued,
            "{role}: ALB made at {alb_created}, certificate issued at {issued}"
        );
        let record = certificate.domain_validation_options()[0]
            .resource_record()
            .expect("its validation record");
        assert_eq!(
            validation,
            (record.name().to_owned(), record.value().to_owned())
        );
        let http = listener(&aws, region, role, 80)
            .await
            .expect("HTTP listener");
        assert_eq!(
            http.default_actions()[0].r#type(),
            Some(&ActionTypeEnum::Redirect),
            "{role}: HTTP redirects to HTTPS"
        );
    }
    let checks = aws
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    let endpoint = checks
        .health_checks()
        .iter()
        .filter_map(|c| c.health_check_config())
        .find(|c| c.fully_qualified_domain_name().is_some())
        .expect("the endpoint check");
    assert_eq!(endpoint.r#type().as_str(), "HTTPS");
    assert_eq!(endpoint.port(), Some(443));
    ws.assert_plan_empty();

    // ACM renews the certificates only while the validation record stays: deleted out of band,
    // it is drift, and the apply writes it again.
    let (name, value) = validation;
    delete_cname(&aws, &zone, &name, &value).await;
    let plan = ws.plan_with_changes();
    assert!(plan.contains("tls.validation_record"), "{plan}");
    ws.apply();
    assert_eq!(cnames(&aws, &zone).await, [(name, value)]);
    ws.assert_plan_empty();

    // A planned failover: the standby, which now takes the traffic, still serves HTTPS with
    // its own certificate.
    ws.config(&system("standby"));
    ws.apply();
    let standby = listener(&aws, "us-east-2", "standby", 443)
        .await
        .expect("the standby's HTTPS listener after failover");
    assert_eq!(
        standby.certificates()[0].certificate_arn(),
        state["parts"]["standby.certificate"].as_str()
    );
    let records = aws
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .expect("ListResourceRecordSets");
    let standby_weight = records
        .resource_record_sets()
        .iter()
        .find(|r| r.set_identifier() == Some("standby"))
        .and_then(|r| r.weight());
    assert_eq!(standby_weight, Some(100), "traffic goes to the standby");
    ws.assert_plan_empty();

    ws.destroy();
    nothing_left_beside(&aws, &zone).await;
}

/// Without `hosted_zone_id`, `tls = "auto"` is refused on create, on `tls`, with nothing made:
/// the zone the certificates would be validated in answers only once delegated, after the
/// create. Created with `off`, it is turned on in place: before the delegation the update fails
/// within its timeout naming the zone's name servers; once delegated, the certificates are
/// validated in the same zone and served in both regions. Destroy deletes the validation record
/// before the zone (Route 53 deletes only an empty zone).
#[tokio::test]
async fn tls_is_turned_on_in_a_created_zone_once_it_is_delegated() {
    use crate::support::assert_one_error_on;

    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let system = |tls: &str, timeouts: &str| {
        config(&format!(
            "  tls = \"{tls}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}{timeouts}"
        ))
    };
    ws.config(&system("auto", ""));
    let errors = ws.plan_errors();
    let refusal = assert_one_error_on(&errors, "tls = \"auto\"");
    assert!(
        refusal["detail"]
            .as_str()
            .is_some_and(|d| d.contains("delegate the name to the `name_servers` it outputs")),
        "{refusal}"
    );
    assert_nothing_left(&aws).await;

    ws.config(&system("off", ""));
    ws.apply();
    let created = ws.resource(ADDRESS);
    let zone = created["zone_id"].as_str().expect("zone_id").to_owned();
    let servers: Vec<String> = created["name_servers"]
        .as_array()
        .expect("name_servers")
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    assert!(!servers.is_empty());

    ws.config(&system("auto", "\n  timeouts {\n    update = \"20s\"\n  }"));
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0);
    let text = failed.text().replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "still PENDING_VALIDATION".to_owned(),
        format!("hosted zone {zone} ({DOMAIN})"),
        format!("must delegate {DOMAIN} to {}", servers.join(", ")),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }

    aws.delegate(&zone);
    ws.config(&system("auto", ""));
    ws.apply();
    let state = ws.resource(ADDRESS);
    assert_eq!(
        state["zone_id"],
        zone.as_str(),
        "the zone the parent delegates to stays"
    );
    serves_its_certificates(&aws, &zone, &state).await;
    ws.assert_plan_empty();

    ws.destroy();
    for region in ["us-east-1", "us-east-2"] {
        let left = crate::support::certificates_in(&aws, region).await;
        assert!(left.is_empty(), "certificates left in {region}: {left:?}");
    }
    assert_nothing_left(&aws).await;
}

/// A zone that does not answer publicly: ACM never sees the record, and the apply fails within
/// its timeout naming the record and the zone's delegation; destroy then leaves nothing. With
/// `tls = "off"` the plan warns that traffic is not encrypted.
#[tokio::test]
async fn an_undelegated_zone_fails_clearly_and_tls_off_warns() {
    let aws = LocalAws::start();
    let zone = given_zone(&aws).await;
    let ws = Workspace::new(&aws);
    ws.config(&config(&format!(
        "  hosted_zone_id = \"{zone}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}\n  timeouts {{\n    create = \"20s\"\n  }}"
    )));
    let started = std::time::Instant::now();
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0);
    let text = failed.text().replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "still PENDING_VALIDATION",
        "acm-validations.aws",
        &format!("hosted zone {zone} (tap-test.net)"),
        "must delegate tap-test.net",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "failed only after {:?}",
        started.elapsed()
    );
    ws.destroy();
    nothing_left_beside(&aws, &zone).await;

    ws.config(&config(&format!(
        "  hosted_zone_id = \"{zone}\"\n  tls = \"off\""
    )));
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(plan.code, 0, "{}", plan.text());
    let text = plan.text().replace('│', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("traffic is not encrypted"), "{text}");
}

/// The alarm names CloudWatch holds in `region`.
async fn alarm_names(aws: &LocalAws, region: &str) -> Vec<String> {
    aws.cloudwatch(region)
        .describe_alarms()
        .send()
        .await
        .expect("DescribeAlarms")
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_owned))
        .collect()
}

/// `session_table { consistency = "strong" }`: the table is an MRSC group of the two stack
/// regions and a witness, made in one request; no ReplicationLatency alarm (DynamoDB publishes
/// no such metric for MRSC); the system re-plans empty and fails over; a change back to eventual
/// is refused on its attribute until `allow_data_loss`, and then the table is made again,
/// eventual and empty, with its alarm. Destroy leaves nothing in any of the three regions.
#[tokio::test]
async fn a_strongly_consistent_session_table_applies_fails_over_and_is_replaced_only_when_allowed()
{
    use aws_sdk_dynamodb::types::{AttributeValue, MultiRegionConsistency};

    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let system = |table: &str, active: &str| {
        config(&format!(
            "{DOMAIN_LINE}\n  active_region = \"{active}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}\n  session_table {{\n{table}\n  }}"
        ))
    };
    let strong = "    consistency    = \"strong\"\n    witness_region = \"us-west-2\"";
    ws.config(&system(strong, "primary"));
    ws.apply();
    let table_name = "trading-sessions-acc";
    let describe = || home_table(&aws, "us-east-1");
    let table = describe().await;
    assert_eq!(
        table.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong)
    );
    assert_eq!(replica_regions(&table), ["us-east-2"]);
    let witnesses: Vec<_> = table
        .global_table_witnesses()
        .iter()
        .filter_map(|w| w.region_name())
        .collect();
    assert_eq!(witnesses, ["us-west-2"]);
    for region in ["us-east-1", "us-east-2"] {
        let names = alarm_names(&aws, region).await;
        assert!(
            !names.iter().any(|n| n.contains("replication-latency")),
            "{region}: {names:?}"
        );
    }
    // The instances reach the table in their own regions; the witness holds no table.
    let policy = role_policy(&aws).await.to_string();
    for region in ["us-east-1", "us-east-2"] {
        assert!(
            policy.contains(&format!("arn:aws:dynamodb:{region}:")),
            "{policy}"
        );
    }
    assert!(!policy.contains("us-west-2"), "{policy}");
    let state = ws.resource(ADDRESS);
    assert_eq!(state["session_table"]["consistency"], "strong");
    ws.assert_plan_empty();

    ws.config(&system(strong, "standby"));
    ws.apply();
    assert_eq!(weights(&aws).await, (0, 100));
    ws.assert_plan_empty();

    aws.dynamodb("us-east-1")
        .put_item()
        .table_name(table_name)
        .item("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("PutItem");
    ws.config(&system("    consistency = \"eventual\"", "standby"));
    let errors = ws.plan_errors();
    let refusal = crate::support::assert_one_error_on(&errors, "consistency = \"eventual\"");
    assert!(
        refusal["detail"]
            .as_str()
            .is_some_and(|d| d.contains("allow_data_loss = true")),
        "{refusal}"
    );
    assert_eq!(
        describe().await.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong),
        "nothing changed"
    );

    ws.config(&system(
        "    consistency     = \"eventual\"\n    allow_data_loss = true",
        "standby",
    ));
    ws.apply();
    let table = describe().await;
    assert_ne!(
        table.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong)
    );
    assert!(table.global_table_witnesses().is_empty());
    let item = aws
        .dynamodb("us-east-1")
        .get_item()
        .table_name(table_name)
        .key("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("GetItem");
    assert!(item.item().is_none(), "made again, empty");
    let names = alarm_names(&aws, "us-east-1").await;
    assert!(
        names.iter().any(|n| n.contains("replication-latency")),
        "{names:?}"
    );
    ws.assert_plan_empty();

    ws.destroy();
    let left = aws
        .dynamodb("us-west-2")
        .list_tables()
        .send()
        .await
        .expect("ListTables");
    assert!(left.table_names().is_empty());
    assert_nothing_left(&aws).await;
}

/// The writes (no Describe, List or Get) counted in `region` between two `served` readings.
fn writes_in(
    before: &BTreeMap<String, BTreeMap<String, u64>>,
    after: &BTreeMap<String, BTreeMap<String, u64>>,
    region: &str,
) -> BTreeSet<String> {
    served_since(before, after, region)
        .into_keys()
        .filter(|call| {
            let operation = call.split(' ').nth(1).unwrap_or_default();
            !["Describe", "List", "Get"]
                .iter()
                .any(|read| operation.starts_with(read))
        })
        .collect()
}

/// Writes to a regional stack's services (network, load balancer, compute).
fn stack_writes(writes: &BTreeSet<String>) -> Vec<&String> {
    writes
        .iter()
        .filter(|call| {
            ["ec2 ", "elasticloadbalancing ", "autoscaling "]
                .iter()
                .any(|service| call.starts_with(service))
        })
        .collect()
}

/// The parts of the findings `data.tap_failover_readiness.tri` has of the further standby in
/// `region`.
fn further_standby_findings(ws: &Workspace, region: &str) -> Vec<String> {
    let prefix = format!("further standby {region}: ");
    ws.resource("data.tap_failover_readiness.tri")["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(&prefix))
        })
        .map(|f| f["part"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// #20: a further standby (`additional_standby`) added to a running two-region system gets its
/// stack on the shared role, a table replica, its alarms and the second place in Route 53's
/// chain, touching no other region's stack; Route 53 answers with it once the primary and the
/// first standby are down, and first after a planned failover to it (`active_region` = its
/// region); removed, its region is empty again and nothing else's stack is touched; the system
/// destroys clean.
#[tokio::test]
async fn a_further_standby_is_added_and_removed_touching_only_its_region() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let two_regions = ws.resource(ADDRESS);

    let further = "  additional_standby {\n    region = \"us-west-2\"\n  }\n";
    ws.config(&config(further));
    let plan = ws.plan_with_changes();
    assert!(
        plan.contains("adding standby us-west-2: its regional stack"),
        "{plan}"
    );
    let before = served(&aws);
    ws.apply();
    let after = served(&aws);
    ws.assert_plan_empty();
    let writes = writes_in(&before, &after, "us-east-1");
    assert_eq!(
        stack_writes(&writes),
        Vec::<&String>::new(),
        "stack writes in us-east-1 adding us-west-2 (all writes: {writes:?})"
    );
    // Nothing at all in the first standby's region: its alarms keep their names.
    assert_eq!(
        writes_in(&before, &after, "us-east-2"),
        BTreeSet::new(),
        "writes in us-east-2 adding us-west-2"
    );
    let (_, cidr, tags) = vpc(&aws, "us-west-2").await;
    assert_eq!(cidr, "10.2.0.0/16", "the lowest /16 no other region has");
    assert_eq!(tags["FailoverRole"], "Standby");
    assert_eq!(
        crate::support::tables_in(&aws, "us-west-2").await,
        ["trading-sessions-acc"],
        "the table's replica"
    );
    let policy = role_policy(&aws).await.to_string();
    assert!(
        policy.contains("arn:aws:dynamodb:us-west-2:123456789012:table/trading-sessions-acc"),
        "{policy}"
    );
    let state = ws.resource(ADDRESS);
    assert_eq!(state["primary_vpc_id"], two_regions["primary_vpc_id"]);
    assert_eq!(state["standby_vpc_id"], two_regions["standby_vpc_id"]);
    let further_alb = state["standby_alb_dns_names"]["us-west-2"]
        .as_str()
        .expect("the further standby's load balancer")
        .to_owned();
    assert!(further_alb.contains("us-west-2"), "{further_alb}");
    assert!(state["parts"]["standby.us-west-2.asg"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert!(state["parts"]["dns.standby_topic.us-west-2"]
        .as_str()
        .is_some_and(|arn| arn.contains(":us-west-2:")));
    for name in [
        "failover-standby-traffic-us-west-2-acc",
        "failover-unhealthy-hosts-standby-us-west-2-acc",
    ] {
        assert!(
            alarm_names(&aws, "us-west-2")
                .await
                .contains(&name.to_owned()),
            "{name}"
        );
    }

    // Route 53 answers in order of preference: the primary, the first standby, the further one.
    let r53 = aws.route53();
    let zone = state["zone_id"].as_str().expect("zone").to_owned();
    let dns_names = [
        state["primary_alb_dns_name"]
            .as_str()
            .expect("primary")
            .to_owned(),
        state["standby_alb_dns_name"]
            .as_str()
            .expect("standby")
            .to_owned(),
        further_alb.clone(),
    ];
    let [primary_at, first_at, further_at] = dns_names.clone().map(|d| resolved(&aws, &d));
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the primary", primary_at.clone(), answer).await;
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", dns_names[0]));
    settles("the first standby", first_at, answer).await;
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", dns_names[1]));
    settles("the further standby", further_at.clone(), answer).await;
    for d in &dns_names[..2] {
        aws.get_text(&format!("/localaws/elb/{d}/healthy"));
    }
    settles("the primary again", primary_at.clone(), answer).await;

    // A planned failover to the further standby, named by its region: it runs what the primary
    // runs (2), keeps its minimum there, and answers first; failback scales it back to 1.
    ws.config(&config(&format!(
        "{further}  active_region = \"us-west-2\"\n"
    )));
    ws.apply();
    ws.assert_plan_empty();
    let (capacity, _) = group(&aws, "us-west-2", "standby").await.expect("group");
    assert_eq!(capacity, (2, 4, 2));
    settles("the further standby, active", further_at, answer).await;
    ws.config(&config(further));
    ws.apply();
    ws.assert_plan_empty();
    settles("failed back", primary_at, answer).await;
    let (capacity, _) = group(&aws, "us-west-2", "standby").await.expect("group");
    assert_eq!(capacity, (1, 4, 1));

    // Removed: only us-west-2's parts go (its replica, then its stack).
    ws.config(&config(""));
    let plan = ws.plan_with_changes();
    assert!(
        plan.contains("removing standby us-west-2: its place"),
        "{plan}"
    );
    let before = served(&aws);
    ws.apply();
    let after = served(&aws);
    ws.assert_plan_empty();
    for region in ["us-east-1", "us-east-2"] {
        let writes = writes_in(&before, &after, region);
        assert_eq!(
            stack_writes(&writes),
            Vec::<&String>::new(),
            "stack writes in {region} removing us-west-2 (all writes: {writes:?})"
        );
    }
    assert!(crate::support::tables_in(&aws, "us-west-2")
        .await
        .is_empty());
    assert!(ec2_leaks(&aws.ec2("us-west-2")).await.is_empty());
    assert!(compute_leaks(&aws, "us-west-2").await.is_empty());
    assert_eq!(alerting_in(&aws, "us-west-2").await, Vec::<String>::new());
    let state = ws.resource(ADDRESS);
    assert_eq!(state["standby_vpc_id"], two_regions["standby_vpc_id"]);

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// #20: a system of three regions from the start (a further standby beside the two) re-plans
/// empty, has its further standby judged by readiness, is imported again by its suffix and two
/// first regions, fails over by health to each standby in turn and by the switch thrown from the
/// further standby's region, and destroy leaves nothing in any of them.
#[tokio::test]
async fn a_system_with_a_further_standby_applies_replans_empty_fails_over_to_each_standby_and_destroys_clean(
) {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let regions = "  primary { region = \"eu-west-1\" }\n  standby { region = \"eu-central-1\" }\n  additional_standby {\n    region = \"us-west-2\"\n    nat_mode = \"none\"\n  }\n";
    ws.config(&config(regions));
    ws.apply();
    ws.assert_plan_empty();
    for region in ["eu-west-1", "eu-central-1", "us-west-2"] {
        vpc(&aws, region).await;
        assert_eq!(
            crate::support::tables_in(&aws, region).await,
            ["trading-sessions-acc"],
            "the table in {region}"
        );
    }
    let state = ws.resource(ADDRESS);
    assert_eq!(state["additional_standby"][0]["vpc_cidr"], "10.2.0.0/16");
    assert!(state["parts"]["dns.health_check_topic"]
        .as_str()
        .is_some_and(|arn| arn.contains(":us-east-1:")));

    // Readiness judges the further standby too: nothing wrong but its topic's subscribers
    // (alarm_emails is empty), until its group is scaled to 0.
    let readiness = "data \"tap_failover_readiness\" \"tri\" {\n  environment_suffix = tap_trading_failover.prod.id\n  depends_on = [tap_trading_failover.prod]\n}\n";
    ws.config(&format!("{}{readiness}", config(regions)));
    ws.apply();
    let further_findings = || further_standby_findings(&ws, "us-west-2");
    assert_eq!(further_findings(), ["notifications"]);
    aws.autoscaling("us-west-2")
        .update_auto_scaling_group()
        .auto_scaling_group_name("asg-standby-acc")
        .min_size(0)
        .desired_capacity(0)
        .send()
        .await
        .expect("UpdateAutoScalingGroup");
    let run = ws.run(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(further_findings(), ["standby capacity", "notifications"]);
    ws.config(&config(regions));
    ws.apply();

    // Import finds the further standby through the DNS part's chain and rebuilds the state.
    ws.run(&["state", "rm", ADDRESS]);
    let run = ws.run(&["import", ADDRESS, "acc/eu-west-1/eu-central-1"]);
    assert_eq!(run.code, 0, "{}", run.text());
    ws.assert_plan_empty();
    let imported = ws.resource(ADDRESS);
    assert_eq!(imported["parts"], state["parts"]);
    assert_eq!(imported["additional_standby"][0]["region"], "us-west-2");

    fails_over_to_each_standby_in_turn(&aws, &imported).await;
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The eu-west-1 + eu-central-1 + us-west-2 system's DNS as Route 53 answers it: the primary's
/// application failing, the first standby; the first's failing too, the further standby; the
/// primary healed, the primary again; the switch thrown from the further standby's region with
/// the first still failing, the further standby; released and the first healed, the primary.
async fn fails_over_to_each_standby_in_turn(aws: &LocalAws, state: &serde_json::Value) {
    let zone = state["zone_id"].as_str().expect("zone_id").to_owned();
    let dns_name = |value: &serde_json::Value| value.as_str().expect("a DNS name").to_owned();
    let (primary, first, further) = (
        dns_name(&state["primary_alb_dns_name"]),
        dns_name(&state["standby_alb_dns_name"]),
        dns_name(&state["standby_alb_dns_names"]["us-west-2"]),
    );
    let [primary_ips, first_ips, further_ips] =
        [&primary, &first, &further].map(|n| resolved(aws, n));
    assert!(
        primary_ips != first_ips && first_ips != further_ips && primary_ips != further_ips,
        "each load balancer answers with its own addresses"
    );
    let r53 = aws.route53();
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    let application = |dns: &str, verdict: &str| {
        aws.get_text(&format!("/localaws/elb/{dns}/{verdict}"));
    };
    settles("the primary", primary_ips.clone(), answer).await;
    application(&primary, "unhealthy");
    settles("the first standby, the primary failing", first_ips, answer).await;
    application(&first, "unhealthy");
    settles(
        "the further standby, the first failing too",
        further_ips.clone(),
        answer,
    )
    .await;
    application(&primary, "healthy");
    settles("the primary, healed", primary_ips.clone(), answer).await;

    let group = state["parts"]["standby.us-west-2.target_group"]
        .as_str()
        .expect("the further standby's target group");
    let command = |verb| crate::failover_switch::throw_switch(aws, verb, "acc", "us-west-2", group);
    let thrown = command("engage");
    assert_eq!(thrown.code, 0, "{}", thrown.text());
    settles(
        "the further standby, the switch thrown there",
        further_ips,
        answer,
    )
    .await;
    let released = command("release");
    assert_eq!(released.code, 0, "{}", released.text());
    application(&first, "healthy");
    settles("the primary, released", primary_ips, answer).await;
}

/// #20: a strongly consistent (MRSC) table over three replicas, the primary's and both
/// standbys' regions (one MRSC Region set, no witness), applies, re-plans empty, publishes no
/// replication-latency alarm in any region, refuses at plan to move a standby to another Region
/// (its membership is frozen), and destroys clean.
#[tokio::test]
async fn a_strong_table_over_three_replicas_spans_the_primary_and_two_standbys() {
    use aws_sdk_dynamodb::types::MultiRegionConsistency;

    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let system = |further: &str| {
        config(&format!("  primary {{\n    region   = \"eu-west-1\"\n    nat_mode = \"none\"\n  }}\n  standby {{\n    region   = \"eu-west-2\"\n    nat_mode = \"none\"\n  }}\n  additional_standby {{\n    region   = \"{further}\"\n    nat_mode = \"none\"\n  }}\n  session_table {{\n    consistency = \"strong\"\n  }}\n"))
    };
    ws.config(&system("eu-west-3"));
    ws.apply();
    ws.assert_plan_empty();
    let table = home_table(&aws, "eu-west-1").await;
    assert_eq!(
        table.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong)
    );
    assert_eq!(replica_regions(&table), ["eu-west-2", "eu-west-3"]);
    assert!(table.global_table_witnesses().is_empty());
    let regions = ["eu-west-1", "eu-west-2", "eu-west-3"];
    let policy = role_policy(&aws).await.to_string();
    for region in regions {
        let names = alarm_names(&aws, region).await;
        assert!(
            !names.iter().any(|n| n.contains("replication-latency")),
            "{region}: {names:?}"
        );
        assert!(
            policy.contains(&format!("arn:aws:dynamodb:{region}:")),
            "{policy}"
        );
    }
    // The group's Regions are frozen: moving the further standby to another Region of the set
    // would remake the table, refused at plan without allow_data_loss.
    ws.config(&system("eu-central-1"));
    let errors = ws.plan_errors();
    assert!(
        errors.iter().any(|e| e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nor the Regions of a strongly consistent (MRSC) one"))),
        "{errors:#?}"
    );
    ws.config(&system("eu-west-3"));
    ws.destroy();
    // The shared leak check looks in every region the system touched, these two too.
    let checked = crate::support::regions_to_check(&aws);
    for region in ["eu-west-2", "eu-west-3"] {
        assert!(checked.iter().any(|c| c == region), "{checked:?}");
    }
    assert_nothing_left(&aws).await;
}

/// #20: the failover drill (Terraform 1.14+) on a system with a further standby, run from each
/// standby region: the switch alarm there (the first standby's, then the further standby's own)
/// takes the primary out of DNS, Route 53's chain answers with the first standby, and the alarm
/// notified its region's topic; released, DNS answers the primary again and each switch alarm
/// is OK.
#[tokio::test]
async fn the_drill_moves_a_system_with_a_further_standby_to_its_first_standby_and_back() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_TIME_SCALE", "20"),
    ]);
    let ws = Workspace::new(&aws);
    if !crate::support::terraform_at_least(14, "actions") {
        return;
    }
    let system = config(
        "  additional_standby {\n    region   = \"us-west-2\"\n    nat_mode = \"none\"\n  }\n",
    );
    let drill = |name: &str, region: &str, part: &str| {
        format!("action \"tap_failover_drill\" \"{name}\" {{\n  config {{\n    environment_suffix = \"acc\"\n    standby_region     = \"{region}\"\n    hosted_zone_id     = tap_trading_failover.prod.zone_id\n    record_name        = \"{DOMAIN}\"\n    health_check_id    = tap_trading_failover.prod.health_check_id\n    target_group_arn   = tap_trading_failover.prod.parts[\"{part}.target_group\"]\n    timeout_seconds    = 60\n    poll_seconds       = 0.02\n  }}\n}}\n")
    };
    ws.config(&format!(
        "{system}{}{}",
        drill("first", "us-east-2", "standby"),
        drill("further", "us-west-2", "standby.us-west-2")
    ));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let zone = state["zone_id"].as_str().expect("zone").to_owned();
    let primary_at = resolved(
        &aws,
        state["primary_alb_dns_name"].as_str().expect("primary"),
    );
    let r53 = aws.route53();
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the primary", primary_at.clone(), answer).await;

    for (action, region, alarm) in [
        ("first", "us-east-2", "failover-switch-acc"),
        ("further", "us-west-2", "failover-switch-us-west-2-acc"),
    ] {
        let published = aws.published_for_alarm(region, alarm).await;
        let (said, summary) = run_drill(&ws, action);
        assert!(
            said.contains(&format!(
                "Route 53 holds the primary unhealthy (alarm {alarm} in ALARM)"
            )),
            "{said}"
        );
        assert!(
            summary.contains("standby targets healthy 1 of 1, alarm notified yes"),
            "{action}: {summary}"
        );
        // What the drill says it saw, SNS holds.
        assert!(
            aws.published_for_alarm(region, alarm).await > published,
            "{action}: {alarm} published nothing"
        );
        settles("the primary after the drill", primary_at.clone(), answer).await;
        let switch = aws.alarm(region, alarm).await;
        assert_eq!(
            switch.state_value().map(|s| s.as_str()),
            Some("OK"),
            "{alarm}"
        );
    }
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// `tls = "auto"` with a further standby: each of the three load balancers serves HTTPS with
/// its own region's certificate, validated by the zone's one record. Removing the further
/// standby deletes its certificate with its stack, and leaves the record and the others'.
#[tokio::test]
async fn tls_auto_serves_a_further_standby_and_its_removal_takes_its_certificate() {
    let aws = LocalAws::start();
    let zone = given_zone(&aws).await;
    aws.delegate(&zone);
    let ws = Workspace::new(&aws);
    let system = |further: &str| {
        config(&format!(
            "  hosted_zone_id = \"{zone}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}\n{further}"
        ))
    };
    let further =
        "  additional_standby {\n    region   = \"us-west-2\"\n    nat_mode = \"none\"\n  }\n";
    ws.config(&system(further));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let three = [
        ("us-east-1", "primary"),
        ("us-east-2", "standby"),
        ("us-west-2", "standby.us-west-2"),
    ];
    let record = serve_their_certificates(&aws, &zone, &state, &three).await;
    ws.assert_plan_empty();

    // Readiness judges the further standby's HTTPS: fine (only its topic's subscribers are
    // missing: alarm_emails is empty), until its HTTPS listener goes.
    let readiness = "data \"tap_failover_readiness\" \"tri\" {\n  environment_suffix = tap_trading_failover.prod.id\n  hosted_zone_id     = tap_trading_failover.prod.zone_id\n  depends_on         = [tap_trading_failover.prod]\n}\n";
    ws.config(&format!("{}{readiness}", system(further)));
    ws.apply();
    let further_findings = || further_standby_findings(&ws, "us-west-2");
    let data = || ws.resource("data.tap_failover_readiness.tri");
    assert_eq!(
        data()["standby_regions"],
        serde_json::json!(["us-east-2", "us-west-2"])
    );
    assert_eq!(further_findings(), ["notifications"], "{}", data());
    let https = listener(&aws, "us-west-2", "standby", 443)
        .await
        .expect("the HTTPS listener");
    aws.elbv2("us-west-2")
        .delete_listener()
        .listener_arn(https.listener_arn().unwrap_or_default())
        .send()
        .await
        .expect("DeleteListener");
    let run = ws.run(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(further_findings(), ["notifications", "entry"], "{}", data());

    ws.config(&system(""));
    ws.apply();
    let left = crate::support::certificates_in(&aws, "us-west-2").await;
    assert!(
        left.is_empty(),
        "the removed standby's certificate: {left:?}"
    );
    assert!(load_balancer(&aws, "us-west-2", "standby").await.is_none());
    let state = ws.resource(ADDRESS);
    assert_eq!(serves_its_certificates(&aws, &zone, &state).await, record);
    ws.assert_plan_empty();
    ws.destroy();
    nothing_left_beside(&aws, &zone).await;
}

/// A running system in a zone that answers (`hosted_zone_id`, delegated) turned from
/// `tls = "off"` to `auto` in one apply: the certificates reach both load balancers' listeners
/// although no stack setting of the plan changed (an update leaves alone only the stacks it
/// does not change, and under `auto` their certificates come at apply). Turned off again, the
/// HTTPS listeners, the certificates and their validation record go in that apply: nothing is
/// left for a destroy that no longer knows of them. Neither change takes the primary out of DNS:
/// Route 53 never holds a check of ours unhealthy while the protocol it checks changes (the
/// turn-off checks plain HTTP before the HTTPS listeners go).
#[tokio::test]
async fn tls_turned_on_reaches_both_listeners_in_one_apply_and_turned_off_takes_them_away() {
    let aws = LocalAws::start();
    let zone = given_zone(&aws).await;
    aws.delegate(&zone);
    let ws = Workspace::new(&aws);
    ws.config(&in_zone_with_tls(&zone, "off"));
    ws.apply();
    let since = std::time::SystemTime::now();
    ws.config(&in_zone_with_tls(&zone, "auto"));
    ws.apply();
    let state = ws.resource(ADDRESS);
    serves_its_certificates(&aws, &zone, &state).await;
    ws.assert_plan_empty();
    eprintln!(
        "DEBUG after on: {:?} parts {}",
        aws.lowest_health_check_status_since(since).await,
        state["parts"]
    );

    ws.config(&in_zone_with_tls(&zone, "off"));
    ws.apply();
    ws.assert_plan_empty();
    tls_is_gone(&aws, &ws, &zone).await;
    let lowest = aws.lowest_health_check_status_since(since).await;
    let record_check = ws.resource(ADDRESS)["parts"]["dns.record_health_check"]
        .as_str()
        .expect("the record check")
        .to_owned();
    assert!(lowest.contains_key(&record_check), "{lowest:?}");
    assert!(
        lowest.values().all(|&status| status == 1.0),
        "a check went unhealthy while TLS was turned on or off: {lowest:?}"
    );
    ws.destroy();
    nothing_left_beside(&aws, &zone).await;
}

/// A system without NAT gateways in the user's zone `zone`, with `tls`.
fn in_zone_with_tls(zone: &str, tls: &str) -> String {
    config(&format!(
        "  hosted_zone_id = \"{zone}\"\n  tls = \"{tls}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}"
    ))
}

/// A system serving `tls = "auto"` in a delegated zone of the user's, turned off by an apply
/// in which the call `fault` fails once (`/localaws/fail-once`): the workspace, the zone and the
/// failed apply's output.
async fn tls_turned_off_failing_once(aws: &LocalAws, fault: &str) -> (Workspace, String, String) {
    let zone = given_zone(aws).await;
    aws.delegate(&zone);
    let ws = Workspace::new(aws);
    ws.config(&in_zone_with_tls(&zone, "auto"));
    ws.apply();
    serves_its_certificates(aws, &zone, &ws.resource(ADDRESS)).await;

    ws.config(&in_zone_with_tls(&zone, "off"));
    aws.get_json(&format!(
        "/localaws/fail-once?key={}",
        fault.replace(' ', "%20").replace('/', "%2F")
    ));
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0, "{}", failed.text());
    (ws, zone, failed.text())
}

/// After a turn-off that failed, the saved state's `parts` entry `part` makes the next plan
/// not empty; its apply takes away what is left, and destroy leaves nothing.
async fn the_next_apply_finishes_turning_tls_off(
    aws: &LocalAws,
    ws: &Workspace,
    zone: &str,
    part: &str,
) {
    let plan = ws.plan_with_changes();
    assert!(plan.contains(part), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    tls_is_gone(aws, ws, zone).await;
    ws.destroy();
    nothing_left_beside(aws, zone).await;
}

/// `tls = "auto"` turned off by an apply that fails midway (the standby's HTTPS listener
/// refuses to go): the state it saves still records the certificates, so the next plan is not
/// empty, and the next apply takes away the listener, the certificates and their validation
/// record. Unless the state lists them, the certificates are orphans: a state with
/// `tls = "off"` did not look for them, and destroy left them.
#[tokio::test]
async fn tls_turned_off_by_an_apply_that_fails_midway_is_finished_by_the_next() {
    let aws = LocalAws::start();
    let (ws, zone, failed) = tls_turned_off_failing_once(&aws, "DeleteListener@us-east-2").await;
    assert!(failed.contains("InternalFailure"), "{failed}");
    assert!(
        listener(&aws, "us-east-2", "standby", 443).await.is_some(),
        "the standby still serves HTTPS"
    );
    let saved = ws.resource(ADDRESS);
    assert!(
        saved["parts"]["standby.certificate"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:acm:us-east-2:")),
        "{:#}",
        saved["parts"]
    );
    the_next_apply_finishes_turning_tls_off(&aws, &ws, &zone, "standby.certificate").await;
}

/// `tls = "auto"` turned off by an apply that deletes the certificates and then fails to delete
/// their validation record: the saved state still names the record (found by the name the
/// state recorded, the certificates that named it being gone), so the next plan is not empty
/// and its apply deletes it. Unless the state names it, it is an orphan in the user's zone (and
/// in a zone the system created, a zone Route 53 refuses to delete).
#[tokio::test]
async fn a_validation_record_whose_certificates_are_gone_is_still_deleted() {
    let aws = LocalAws::start();
    let (ws, zone, failed) = tls_turned_off_failing_once(&aws, "POST hostedzone/rrset").await;
    assert!(
        failed.contains("deleting ACM validation record"),
        "{failed}"
    );
    for region in ["us-east-1", "us-east-2"] {
        let left = crate::support::certificates_in(&aws, region).await;
        assert!(left.is_empty(), "certificates left in {region}: {left:?}");
    }
    let record = cnames(&aws, &zone).await;
    assert_eq!(record.len(), 1, "the record, still there: {record:?}");
    let saved = ws.resource(ADDRESS);
    assert_eq!(
        saved["parts"]["tls.validation_record"].as_str(),
        Some(record[0].0.as_str()),
        "{:#}",
        saved["parts"]
    );
    the_next_apply_finishes_turning_tls_off(&aws, &ws, &zone, "tls.validation_record").await;
}

/// A certificate of the user's for the same domain (in us-east-1, where CloudFront's live)
/// validates through the very record ACM gave the system's certificates: turning TLS off
/// deletes the system's certificates and leaves that record, without which ACM cannot renew the
/// user's, and the state no longer claims it (the next plan is empty); turned on again and
/// destroyed, the same.
#[tokio::test]
async fn tls_off_and_destroy_leave_the_validation_record_another_certificate_needs() {
    let aws = LocalAws::start();
    let zone = given_zone(&aws).await;
    aws.delegate(&zone);
    let acm = aws.acm("us-east-1");
    let requested = acm
        .request_certificate()
        .domain_name(DOMAIN)
        .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
        .send()
        .await
        .expect("RequestCertificate");
    let users = requested.certificate_arn().expect("its ARN").to_owned();
    let ws = Workspace::new(&aws);
    ws.config(&in_zone_with_tls(&zone, "auto"));
    ws.apply();
    let record = cnames(&aws, &zone).await;
    assert_eq!(record.len(), 1, "{record:?}");
    let described = (acm
        .describe_certificate()
        .certificate_arn(&users)
        .send()
        .await)
        .expect("DescribeCertificate");
    let named = (described.certificate())
        .and_then(|c| c.domain_validation_options().first()?.resource_record())
        .map(|r| r.name().to_owned());
    assert_eq!(
        named.as_deref(),
        Some(record[0].0.as_str()),
        "the same record"
    );

    ws.config(&in_zone_with_tls(&zone, "off"));
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        cnames(&aws, &zone).await,
        record,
        "kept for the user's certificate"
    );
    assert_eq!(
        crate::support::certificates_in(&aws, "us-east-2").await,
        Vec::<String>::new()
    );
    let parts = ws.resource(ADDRESS)["parts"].clone();
    assert!(
        (parts["tls.validation_record"].as_str()).is_none_or(str::is_empty),
        "not the system's any more: {parts:#}"
    );

    ws.config(&in_zone_with_tls(&zone, "auto"));
    ws.apply();
    ws.destroy();
    assert_eq!(
        cnames(&aws, &zone).await,
        record,
        "the record the user's certificate needs"
    );
    assert_eq!(
        crate::support::certificates_in(&aws, "us-east-1").await,
        [users]
    );
    assert_eq!(
        crate::support::certificates_in(&aws, "us-east-2").await,
        Vec::<String>::new()
    );
}

/// No HTTPS listener, certificate nor validation record is left, and the system answers on
/// plain HTTP.
async fn tls_is_gone(aws: &LocalAws, ws: &Workspace, zone: &str) {
    for (region, role) in [("us-east-1", "primary"), ("us-east-2", "standby")] {
        assert!(listener(aws, region, role, 443).await.is_none(), "{region}");
        let left = crate::support::certificates_in(aws, region).await;
        assert!(left.is_empty(), "certificates left in {region}: {left:?}");
    }
    assert_eq!(cnames(aws, zone).await, [], "the validation record");
    assert_eq!(
        ws.resource(ADDRESS)["application_url"],
        format!("http://{DOMAIN}")
    );
}
