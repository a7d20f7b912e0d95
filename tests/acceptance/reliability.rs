//! Reliability: the whole system converges through transient AWS faults, with nothing
//! duplicated and nothing left behind.

use crate::support::{assert_nothing_left, LocalAws, Workspace};

const SYSTEM: &str = r#"provider "tap" {
  max_retries = 10
}

resource "tap_trading_failover" "prod" {
  environment_suffix = "acc"
  domain_name        = "trading-acc.tap-test.net"
  alarm_emails       = ["oncall@example.com"]
}
"#;

/// How many objects of each kind the emulator holds, per region and globally.
async fn census(aws: &LocalAws) -> Vec<(String, usize)> {
    let mut counts = Vec::new();
    for region in ["us-east-1", "us-east-2"] {
        let ec2 = aws.ec2(region);
        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        counts.push((
            format!("{region} VPCs"),
            vpcs.vpcs()
                .iter()
                .filter(|v| v.is_default() != Some(true))
                .count(),
        ));
        let nats = ec2
            .describe_nat_gateways()
            .send()
            .await
            .expect("DescribeNatGateways");
        let live = nats
            .nat_gateways()
            .iter()
            .filter(|n| n.state().map(|s| s.as_str()) != Some("deleted"))
            .count();
        counts.push((format!("{region} NAT gateways"), live));
        let lbs = aws
            .elbv2(region)
            .describe_load_balancers()
            .send()
            .await
            .expect("DescribeLoadBalancers");
        counts.push((
            format!("{region} load balancers"),
            lbs.load_balancers().len(),
        ));
        let groups = aws
            .autoscaling(region)
            .describe_auto_scaling_groups()
            .send()
            .await
            .expect("DescribeAutoScalingGroups");
        counts.push((
            format!("{region} Auto Scaling groups"),
            groups.auto_scaling_groups().len(),
        ));
        let topics = aws
            .sns(region)
            .list_topics()
            .send()
            .await
            .expect("ListTopics");
        counts.push((format!("{region} topics"), topics.topics().len()));
        let tables = aws
            .dynamodb(region)
            .list_tables()
            .send()
            .await
            .expect("ListTables");
        counts.push((format!("{region} tables"), tables.table_names().len()));
    }
    let r53 = aws.route53();
    counts.push((
        "hosted zones".into(),
        r53.list_hosted_zones()
            .send()
            .await
            .expect("ListHostedZones")
            .hosted_zones()
            .len(),
    ));
    counts.push((
        "health checks".into(),
        r53.list_health_checks()
            .send()
            .await
            .expect("ListHealthChecks")
            .health_checks()
            .len(),
    ));
    counts.push((
        "IAM roles".into(),
        aws.iam()
            .list_roles()
            .send()
            .await
            .expect("ListRoles")
            .roles()
            .len(),
    ));
    counts
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
    for (what, count) in census(&aws).await {
        assert_eq!(
            count, 1,
            "seed {seed}: {what}: exactly one after an apply through faults"
        );
    }
    let injected: serde_json::Value = aws.get_json("/localaws/faults");
    let total: u64 = injected
        .as_object()
        .expect("counts by kind")
        .values()
        .flat_map(|by_service| by_service.as_object().expect("counts by service").values())
        .filter_map(|n| n.as_u64())
        .sum();
    assert!(total >= 10, "seed {seed}: faults were injected: {injected}");
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
    eprintln!("seed {seed}: converged through {total} injected faults: {injected}");
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
    for (what, count) in census(&aws).await {
        assert_eq!(
            count, 1,
            "killed after {point} requests: {what}: exactly one after the re-run"
        );
    }
    ws.assert_plan_empty();
    // Destroy makes fewer requests; kill it a third of the way into the same count.
    let destroy = ["destroy", "-auto-approve", "-input=false", "-no-color"];
    assert!(
        run_killed(&aws, &ws, point / 3 + 1, &destroy),
        "destroy killed"
    );
    ws.destroy();
    assert_nothing_left(&aws).await;
    eprintln!("crash point {point}: apply and destroy killed, both converged on the re-run");
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
    for (what, count) in census(&aws).await {
        assert_eq!(count, 1, "{what}: exactly one after resuming");
    }
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
