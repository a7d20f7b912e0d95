//! Reliability: the whole system converges through transient AWS faults, with nothing
//! duplicated and nothing left behind.

use std::collections::BTreeMap;

use crate::support::{alerting_in, assert_nothing_left, LocalAws, Workspace};

const SYSTEM: &str = r#"provider "tap" {
  max_retries = 10
}

resource "tap_trading_failover" "prod" {
  environment_suffix = "acc"
  domain_name        = "trading-acc.tap-test.net"
  alarm_emails       = ["oncall@example.com"]
}
"#;

/// How many objects of each kind the emulator holds, per region and globally: every kind the
/// provider creates.
async fn census(aws: &LocalAws) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for region in ["us-east-1", "us-east-2"] {
        let mut count = |kind: &str, n: usize| {
            counts.insert(format!("{region} {kind}"), n);
        };
        let ec2 = aws.ec2(region);
        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        let ours: Vec<String> = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .filter_map(|v| v.vpc_id().map(str::to_owned))
            .collect();
        let in_ours = |vpc: Option<&str>| vpc.is_some_and(|v| ours.iter().any(|o| o == v));
        count("VPCs", ours.len());
        let subnets = ec2
            .describe_subnets()
            .send()
            .await
            .expect("DescribeSubnets");
        count(
            "subnets",
            subnets
                .subnets()
                .iter()
                .filter(|s| in_ours(s.vpc_id()))
                .count(),
        );
        let tables = ec2
            .describe_route_tables()
            .send()
            .await
            .expect("DescribeRouteTables");
        count(
            "route tables",
            tables
                .route_tables()
                .iter()
                .filter(|t| in_ours(t.vpc_id()))
                .filter(|t| !t.associations().iter().any(|a| a.main() == Some(true)))
                .count(),
        );
        let gateways = ec2
            .describe_internet_gateways()
            .send()
            .await
            .expect("DescribeInternetGateways");
        let attached_elsewhere = |g: &aws_sdk_ec2::types::InternetGateway| {
            g.attachments().iter().any(|a| !in_ours(a.vpc_id()))
        };
        count(
            "internet gateways",
            gateways
                .internet_gateways()
                .iter()
                .filter(|g| !attached_elsewhere(g))
                .count(),
        );
        let groups = ec2
            .describe_security_groups()
            .send()
            .await
            .expect("DescribeSecurityGroups");
        count(
            "security groups",
            groups
                .security_groups()
                .iter()
                .filter(|g| in_ours(g.vpc_id()) && g.group_name() != Some("default"))
                .count(),
        );
        let addresses = ec2
            .describe_addresses()
            .send()
            .await
            .expect("DescribeAddresses");
        count("elastic IPs", addresses.addresses().len());
        let nats = ec2
            .describe_nat_gateways()
            .send()
            .await
            .expect("DescribeNatGateways");
        count(
            "NAT gateways",
            nats.nat_gateways()
                .iter()
                .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
                .count(),
        );
        let templates = ec2
            .describe_launch_templates()
            .send()
            .await
            .expect("DescribeLaunchTemplates");
        count("launch templates", templates.launch_templates().len());
        let versions: usize = {
            let mut n = 0;
            for t in templates.launch_templates() {
                n += ec2
                    .describe_launch_template_versions()
                    .launch_template_id(t.launch_template_id().unwrap_or_default())
                    .send()
                    .await
                    .expect("DescribeLaunchTemplateVersions")
                    .launch_template_versions()
                    .len();
            }
            n
        };
        count("launch template versions", versions);
        let instances = ec2
            .describe_instances()
            .send()
            .await
            .expect("DescribeInstances");
        count(
            "instances",
            instances
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| {
                    i.state()
                        .and_then(|s| s.name())
                        .is_none_or(|n| !matches!(n.as_str(), "terminated" | "shutting-down"))
                })
                .count(),
        );
        let elb = aws.elbv2(region);
        let lbs = elb
            .describe_load_balancers()
            .send()
            .await
            .expect("DescribeLoadBalancers");
        count("load balancers", lbs.load_balancers().len());
        let mut listeners = 0;
        for lb in lbs.load_balancers() {
            listeners += elb
                .describe_listeners()
                .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default())
                .send()
                .await
                .expect("DescribeListeners")
                .listeners()
                .len();
        }
        count("listeners", listeners);
        let target_groups = elb
            .describe_target_groups()
            .send()
            .await
            .expect("DescribeTargetGroups");
        count("target groups", target_groups.target_groups().len());
        let asg = aws.autoscaling(region);
        let groups = asg
            .describe_auto_scaling_groups()
            .send()
            .await
            .expect("DescribeAutoScalingGroups");
        count("Auto Scaling groups", groups.auto_scaling_groups().len());
        let policies = asg
            .describe_policies()
            .send()
            .await
            .expect("DescribePolicies");
        count("scaling policies", policies.scaling_policies().len());
        // Alarms, topics, keys and aliases: as the leak check lists them.
        let alerting = alerting_in(aws, region).await;
        for (kind, prefix) in [
            ("alarms", "alarm "),
            ("topics", "topic "),
            ("KMS keys", "KMS key "),
            ("KMS aliases", "KMS alias "),
        ] {
            count(
                kind,
                alerting.iter().filter(|l| l.starts_with(prefix)).count(),
            );
        }
        let subscriptions = aws
            .sns(region)
            .list_subscriptions()
            .send()
            .await
            .expect("ListSubscriptions");
        count("subscriptions", subscriptions.subscriptions().len());
        let tables = aws
            .dynamodb(region)
            .list_tables()
            .send()
            .await
            .expect("ListTables");
        count("tables", tables.table_names().len());
    }
    let r53 = aws.route53();
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    counts.insert("hosted zones".into(), zones.hosted_zones().len());
    let mut records = 0;
    for zone in zones.hosted_zones() {
        let sets = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone.id())
            .send()
            .await
            .expect("ListResourceRecordSets");
        records += sets
            .resource_record_sets()
            .iter()
            .filter(|r| !matches!(r.r#type().as_str(), "SOA" | "NS"))
            .count();
    }
    counts.insert("records".into(), records);
    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    counts.insert("health checks".into(), checks.health_checks().len());
    let iam = aws.iam();
    let roles = iam.list_roles().send().await.expect("ListRoles");
    counts.insert("IAM roles".into(), roles.roles().len());
    let profiles = iam
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    counts.insert(
        "instance profiles".into(),
        profiles.instance_profiles().len(),
    );
    counts
}

/// Asserts the census holds what a fault-free apply of `SYSTEM` makes, kind by kind.
async fn assert_census(aws: &LocalAws, context: &str) {
    let expected = expected_census();
    let counted = census(aws).await;
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(kind, want)| counted.get(*kind) != Some(want))
        .map(|(kind, want)| {
            format!(
                "{kind}: {} (expected {want})",
                counted.get(kind).copied().unwrap_or(0)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{context}: {wrong:?}\nfull census: {counted:?}"
    );
}

/// What an apply of `SYSTEM` makes, kind by kind, in each region and globally: per region a VPC
/// with two public and two private subnets, a public and two private route tables, a gateway,
/// one NAT gateway and its address, the ALB and instance security groups, the ALB with one
/// listener and target group, a launch template (one version), the group with one scaling
/// policy, the session table's replica, and the region's alarm topic (its key and alias) with
/// one e-mail subscription; the primary runs two instances, the standby one. The primary
/// region (us-east-1) also holds the health check's alarm; one role and instance profile, one
/// zone with its two weighted records and three health checks (the endpoint's, the failover
/// switch's and the calculated one the primary record uses); the standby region also holds the
/// switch's alarm.
fn expected_census() -> BTreeMap<String, usize> {
    let per_region = [
        ("VPCs", 1),
        ("subnets", 4),
        ("route tables", 3),
        ("internet gateways", 1),
        ("NAT gateways", 1),
        ("elastic IPs", 1),
        ("security groups", 2),
        ("load balancers", 1),
        ("listeners", 1),
        ("target groups", 1),
        ("launch templates", 1),
        ("launch template versions", 1),
        ("Auto Scaling groups", 1),
        ("scaling policies", 1),
        ("tables", 1),
        ("topics", 1),
        ("subscriptions", 1),
        ("KMS keys", 1),
        ("KMS aliases", 1),
    ];
    let mut expected = BTreeMap::new();
    for region in ["us-east-1", "us-east-2"] {
        for (kind, n) in per_region {
            expected.insert(format!("{region} {kind}"), n);
        }
    }
    for (kind, n) in [
        ("us-east-1 instances", 2),
        ("us-east-2 instances", 1),
        ("us-east-1 alarms", 3),
        ("us-east-2 alarms", 3),
        ("hosted zones", 1),
        ("records", 2),
        ("health checks", 3),
        ("IAM roles", 1),
        ("instance profiles", 1),
    ] {
        expected.insert(kind.to_owned(), n);
    }
    expected
}

/// One machine-readable line per seed or crash point, read by `tools/reliability-report.py`,
/// which writes docs/RELIABILITY.md's tables from them.
fn print_result(result: serde_json::Value) {
    println!("RELIABILITY-RESULT {result}");
}

/// Faults injected so far, by kind (`/localaws/faults` counts them by kind and service).
fn faults_by_kind(aws: &LocalAws) -> BTreeMap<String, u64> {
    let injected: serde_json::Value = aws.get_json("/localaws/faults");
    injected
        .as_object()
        .expect("counts by kind")
        .iter()
        .map(|(kind, by_service)| {
            let n = by_service
                .as_object()
                .expect("counts by service")
                .values()
                .filter_map(|n| n.as_u64())
                .sum();
            (kind.clone(), n)
        })
        .collect()
}

/// Seeds of the lost-response faults: two in `make test`, more in `make test-reliability`
/// (`TAP_LOST_SEEDS="1 2 3 4 5 6 7 8 9 10"`).
fn lost_seeds() -> Vec<String> {
    std::env::var("TAP_LOST_SEEDS")
        .unwrap_or_else(|_| "3 11".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn one_create_answer_in_ten_lost_still_makes_exactly_one_of_each() {
    for seed in lost_seeds() {
        converges_through_lost_answers(&seed).await;
    }
}

async fn converges_through_lost_answers(seed: &str) {
    let aws =
        LocalAws::start_with_env(&[("LOCALAWS_LOST_RATE", "0.1"), ("LOCALAWS_LOST_SEED", seed)]);
    let ws = Workspace::new(&aws).env("TF_LOG_PROVIDER", "DEBUG");
    ws.config_raw(SYSTEM);
    ws.apply();
    let lost: serde_json::Value = aws.get_json("/localaws/lost");
    let count = lost.as_array().expect("lost calls").len();
    assert!(count >= 3, "seed {seed}: answers were lost: {lost}");
    assert_census(
        &aws,
        &format!("seed {seed}: after {count} lost answers {lost}"),
    )
    .await;
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
    print_result(serde_json::json!({
        "suite": "lost",
        "seed": seed,
        "rate": 0.1,
        "lost_in_apply": count,
        "lost": aws.get_json("/localaws/lost"),
        "census": "expected count of every kind",
        "plan": "empty",
        "left": "nothing",
    }));
}

/// Seeds of the fault sequence: one in `make test`, more in `make test-reliability`
/// (`TAP_FAULT_SEEDS="1 2 3"`).
fn seeds() -> Vec<String> {
    std::env::var("TAP_FAULT_SEEDS")
        .unwrap_or_else(|_| "7".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn one_request_in_ten_failing_still_converges_without_duplicates() {
    for seed in seeds() {
        converges_through_faults(&seed).await;
    }
}

async fn converges_through_faults(seed: &str) {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_FAULT_RATE", "0.1"),
        ("LOCALAWS_FAULT_SEED", seed),
    ]);
    let ws = Workspace::new(&aws).env("TF_LOG_PROVIDER", "DEBUG");
    ws.config_raw(SYSTEM);
    let run = ws.apply();
    aws.get_json("/localaws/faults/pause");
    assert_census(&aws, &format!("seed {seed}: after an apply through faults")).await;
    let in_apply = faults_by_kind(&aws);
    let total: u64 = in_apply.values().sum();
    assert!(
        total >= 10,
        "seed {seed}: faults were injected: {in_apply:?}"
    );
    // Retries are bounded and say which AWS error they retry.
    assert!(
        run.stderr.contains("RequestLimitExceeded") || run.stderr.contains("Throttling"),
        "seed {seed}: retried throttling is visible in the debug log"
    );
    aws.get_json("/localaws/faults/resume");
    ws.assert_plan_empty();
    ws.destroy();
    aws.get_json("/localaws/faults/pause");
    assert_nothing_left(&aws).await;
    print_result(serde_json::json!({
        "suite": "faults",
        "seed": seed,
        "rate": 0.1,
        "faults_in_apply": in_apply,
        "faults_in_all": faults_by_kind(&aws),
        "log": aws.get_json("/localaws/faults/log"),
        "census": "expected count of every kind",
        "plan": "empty",
        "left": "nothing",
    }));
}

/// After how many AWS requests the provider is killed (below the ~270 an apply makes): two in
/// `make test`, many in `make test-reliability` (`TAP_CRASH_POINTS="10 20 30"`).
fn crash_points() -> Vec<usize> {
    std::env::var("TAP_CRASH_POINTS")
        .unwrap_or_else(|_| "40 160".into())
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_provider_killed_mid_apply_or_mid_destroy_loses_nothing() {
    for point in crash_points() {
        killed_and_rerun(point).await;
    }
}

/// Arms a SIGKILL of the provider after `point` requests, runs `args`, and says whether the
/// provider was killed (a command that finished first was not).
fn run_killed(aws: &LocalAws, ws: &Workspace, point: usize, args: &[&str]) -> bool {
    aws.get_text(&format!("/localaws/crash/{point}"));
    let run = ws.run(args);
    // A command that needed fewer requests must not leave the crash armed for the next one.
    aws.get_text("/localaws/crash/disarm");
    let killed = !aws.get_text("/localaws/crash").is_empty();
    if killed {
        assert_ne!(
            run.code,
            0,
            "a killed provider fails the command: {}",
            run.text()
        );
    } else {
        assert_eq!(run.code, 0, "{}", run.text());
    }
    killed
}

async fn killed_and_rerun(point: usize) {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config_raw(SYSTEM);
    let apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
    // An apply of the system makes about 270 requests: every point below that is a real kill.
    assert!(
        run_killed(&aws, &ws, point, &apply),
        "killed after {point} requests"
    );
    ws.apply();
    assert_census(&aws, &format!("killed after {point} requests, then re-run")).await;
    ws.assert_plan_empty();
    // Destroy makes fewer requests; kill it a third of the way into the same count.
    let destroy = ["destroy", "-auto-approve", "-input=false", "-no-color"];
    assert!(
        run_killed(&aws, &ws, point / 3 + 1, &destroy),
        "destroy killed"
    );
    ws.destroy();
    assert_nothing_left(&aws).await;
    print_result(serde_json::json!({
        "suite": "crash",
        "point": point,
        "destroy_point": point / 3 + 1,
        "apply": "killed, re-run: expected count of every kind",
        "plan": "empty",
        "destroy": "killed, re-run",
        "left": "nothing",
    }));
}

#[tokio::test]
async fn a_part_that_never_becomes_ready_times_out_then_finishes_with_more_time() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    // Everything asynchronous hangs: NAT gateways stay pending, load balancers provisioning.
    aws.get_text("/localaws/pending/hold");
    ws.config_raw(&SYSTEM.replace(
        "  alarm_emails       = [\"oncall@example.com\"]\n",
        "  alarm_emails       = [\"oncall@example.com\"]\n  timeouts {\n    create = \"8s\"\n  }\n",
    ));
    let started = std::time::Instant::now();
    let failed = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let took = started.elapsed();
    assert_ne!(failed.code, 0, "{}", failed.text());
    let text = failed.text().replace('\n', " ");
    assert!(text.contains("still not ready after"), "{text}");
    assert!(text.contains("`timeouts.create` is 8s"), "{text}");
    assert!(
        ["pending", "provisioning", "CREATING", "Pending"]
            .iter()
            .any(|state| text.contains(&format!("last state: {state}"))),
        "the diagnostic names the part and the state it was stuck in: {text}"
    );
    assert!(
        took < std::time::Duration::from_secs(60),
        "apply gave up within its timeout (took {took:?})"
    );
    // What was created is in state.
    let partial = ws.resource("tap_trading_failover.prod");
    assert!(
        partial["primary_vpc_id"]
            .as_str()
            .is_some_and(|v| v.starts_with("vpc-")),
        "{partial:#}"
    );

    // With time to finish (AWS settles again), the same apply completes on what exists.
    aws.get_text("/localaws/pending/release");
    ws.config_raw(SYSTEM);
    assert_eq!(ws.run(&["untaint", "tap_trading_failover.prod"]).code, 0);
    ws.apply();
    assert_census(&aws, "after resuming").await;
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn trace_logs_carry_no_credentials() {
    let aws = LocalAws::start();
    let secret = "tapCanarySecretKey0123456789abcdefABCDEF";
    let token = "tapCanarySessionToken0123456789";
    let ws = Workspace::new(&aws)
        .env("TF_LOG_PROVIDER", "TRACE")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_SESSION_TOKEN", token);
    ws.config("resource \"tap_session_table\" \"sessions\" {\n  environment_suffix = \"acc\"\n}\n");
    let run = ws.apply();
    assert!(
        run.stderr.contains("DynamoDB_20120810.CreateTable") || run.stderr.len() > 10_000,
        "the trace log was captured"
    );
    for canary in [secret, token] {
        assert!(
            !run.stderr.contains(canary) && !run.stdout.contains(canary),
            "a credential reached the logs"
        );
    }
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The lost-response fault: a create's answer is lost after the emulator made the object, and
/// which creates lose theirs is a function of the seed and the call's number alone.
#[tokio::test]
async fn lost_answers_follow_the_seed_and_leave_the_object_made() {
    async fn lose(seed: &str) -> (serde_json::Value, usize, usize) {
        let aws = LocalAws::start_with_env(&[
            ("LOCALAWS_LOST_RATE", "0.5"),
            ("LOCALAWS_LOST_SEED", seed),
        ]);
        let ec2 = aws.ec2("us-east-1");
        let mut answered = 0;
        for i in 0..12 {
            let made = ec2
                .create_vpc()
                .cidr_block(format!("10.{i}.0.0/16"))
                .send()
                .await;
            answered += usize::from(made.is_ok());
        }
        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        let made = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .count();
        (aws.get_json("/localaws/lost"), answered, made)
    }
    let (lost, answered, made) = lose("5").await;
    let count = lost.as_array().expect("lost calls").len();
    assert!(count > 0 && count < 12, "about half lost: {lost}");
    assert_eq!(answered, 12 - count, "a lost answer fails the call: {lost}");
    assert_eq!(made, 12, "every call made its VPC, answered or not");
    assert_eq!(lose("5").await.0, lost, "the same seed, the same faults");
    assert_ne!(lose("6").await.0, lost, "another seed, other faults");
}

/// Transient faults follow the seed and the request, not the order in which requests arrive:
/// the same calls sent one after the other, in reverse, and all at once get the same faults.
#[tokio::test]
async fn faults_follow_the_seed_and_the_request_not_the_arrival_order() {
    const NAMES: [&str; 12] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
        "juliett", "kilo", "lima",
    ];
    async fn send(aws: &LocalAws, region: &str, name: &str) {
        // A call the SDK gives up on is still in the log: only the faults are compared.
        let _ = aws.sns(region).create_topic().name(name).send().await;
    }
    async fn faults(seed: &str, order: &str) -> serde_json::Value {
        let aws = LocalAws::start_with_env(&[
            ("LOCALAWS_FAULT_RATE", "0.3"),
            ("LOCALAWS_FAULT_SEED", seed),
        ]);
        let calls: Vec<(&str, &str)> = ["us-east-1", "us-east-2"]
            .into_iter()
            .flat_map(|region| NAMES.map(|name| (region, name)))
            .collect();
        match order {
            "forward" => {
                for (region, name) in &calls {
                    send(&aws, region, name).await;
                }
            }
            "reverse" => {
                for (region, name) in calls.iter().rev() {
                    send(&aws, region, name).await;
                }
            }
            _ => {
                futures::future::join_all(calls.iter().map(|(r, n)| send(&aws, r, n))).await;
            }
        }
        aws.get_json("/localaws/faults/log")
    }
    let forward = faults("7", "forward").await;
    let count = forward.as_array().expect("fault log").len();
    assert!(count > 0, "faults were injected: {forward}");
    assert_eq!(faults("7", "reverse").await, forward, "reverse order");
    assert_eq!(faults("7", "concurrent").await, forward, "all at once");
    assert_ne!(faults("8", "forward").await, forward, "another seed");
}

/// A seed gives the same faults on two applies of the same configuration (with pending states
/// settled by reads, so that the requests do not depend on how fast the machine is).
#[tokio::test]
async fn a_seed_gives_the_same_faults_on_two_applies() {
    async fn apply(seed: &str) -> serde_json::Value {
        let aws = LocalAws::start_with_env(&[
            ("LOCALAWS_FAULT_RATE", "0.2"),
            ("LOCALAWS_FAULT_SEED", seed),
            ("LOCALAWS_TIME_SCALE", "0"),
        ]);
        let ws = Workspace::new(&aws);
        ws.config_raw(
            "provider \"tap\" {\n  max_retries = 10\n}\n\nresource \"tap_session_table\" \"sessions\" {\n  environment_suffix = \"acc\"\n}\n",
        );
        ws.apply();
        aws.get_json("/localaws/faults/log")
    }
    let first = apply("5").await;
    assert!(
        !first.as_array().expect("fault log").is_empty(),
        "faults were injected"
    );
    assert_eq!(apply("5").await, first, "the same seed, the same faults");
}
