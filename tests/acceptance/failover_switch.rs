//! Failing over while us-east-1 is down: the emulator's regional outage, and the provider binary's
//! `failover` command throwing the switch with the standby region alone, asserted on what the
//! local AWS served and answers.

use std::collections::HashMap;
use std::process::Command;

use aws_sdk_route53::types::HealthCheck;

use crate::dns_failover::{assert_all_of, health_checks, serving_endpoint, Endpoint};
use crate::support::{
    alerting_leaks, resolved, run_drill, settles, upsert_record, LocalAws, Run, Workspace,
};

const SUFFIX: &str = "brk";
const DOMAIN: &str = "trading-brk.tap-test.net";
const ALARM: &str = "failover-switch-brk";

/// The outage report: regions down, and per region the requests refused and served.
fn outage(aws: &LocalAws, path: &str) -> serde_json::Value {
    aws.get_json(&format!("/localaws/outage{path}"))
}

/// How many requests to `region` the emulator answered (`served`) or reset (`refused`).
fn count(report: &serde_json::Value, kind: &str, region: &str) -> u64 {
    report[kind][region]
        .as_object()
        .map_or(0, |ops| ops.values().filter_map(|n| n.as_u64()).sum())
}

/// What Route 53's name servers answer for `name` (its data plane, not TestDNSAnswer): the
/// response code and the sorted record data.
fn dns(aws: &LocalAws, zone: &str, name: &str) -> (String, Vec<String>) {
    let answer = aws.get_json(&format!(
        "/localaws/dns-answer?hostedzoneid={zone}&recordname={name}&recordtype=A"
    ));
    let mut data: Vec<String> = answer["RecordData"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    data.sort();
    (
        answer["ResponseCode"].as_str().unwrap_or("").to_owned(),
        data,
    )
}

/// The system the switch fails over: `tap_dns_failover` over the two load balancers.
fn dns_failover(primary: &Endpoint, standby: &Endpoint) -> String {
    dns_failover_over(primary, &[standby])
}

/// `tap_dns_failover` over `primary` and `standbys`, in order of preference.
fn dns_failover_over(primary: &Endpoint, standbys: &[&Endpoint]) -> String {
    let blocks: String = standbys.iter().map(|s| s.block("standby")).collect();
    format!(
        "resource \"tap_dns_failover\" \"dns\" {{\n  environment_suffix = \"{SUFFIX}\"\n  domain_name = \"{DOMAIN}\"\n{}{blocks}}}\n",
        primary.block("primary"),
    )
}

/// Applies the workspace and waits until DNS answers the primary: the zone's ID, and the
/// primary's and the standby's addresses.
async fn apply_answering_primary(
    aws: &LocalAws,
    ws: &Workspace,
    primary: &Endpoint,
    standby: &Endpoint,
) -> (String, Vec<String>, Vec<String>) {
    ws.apply();
    let zone = aws
        .route53()
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones")
        .hosted_zones()
        .iter()
        .find(|z| z.name() == format!("{DOMAIN}."))
        .map(|z| z.id().rsplit('/').next().unwrap_or_default().to_owned())
        .expect("the hosted zone");
    let (primary_ips, standby_ips) = (
        resolved(aws, &primary.dns_name),
        resolved(aws, &standby.dns_name),
    );
    let answer = || async { dns(aws, &zone, DOMAIN).1 };
    settles("the answer before the outage", primary_ips.clone(), answer).await;
    (zone, primary_ips, standby_ips)
}

/// The provider binary as an operator runs it: no Terraform, the standard credential chain
/// from the environment, AWS_REGION left at us-east-1 as a shell in that region would have it.
pub(crate) fn failover(aws: &LocalAws, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tap"))
        .arg("failover")
        .args(args)
        .env("AWS_ENDPOINT_URL", &aws.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("running the provider binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `failover <verb>` (`engage` or `release`) of system `suffix`'s switch in `region`, checking
/// the standby targets of `group`, within 60 s.
pub(crate) fn throw_switch(
    aws: &LocalAws,
    verb: &str,
    suffix: &str,
    region: &str,
    group: &str,
) -> Run {
    let args = [
        verb,
        "--suffix",
        suffix,
        "--standby-region",
        region,
        "--target-group-arn",
        group,
        "--timeout",
        "60",
    ];
    failover(aws, &args)
}

/// The state of the switch's alarm in `region`.
async fn alarm_state(aws: &LocalAws, region: &str) -> String {
    alarm_state_of(aws, region, ALARM).await
}

/// The state of alarm `name` in `region`; empty when CloudWatch holds no such alarm.
async fn alarm_state_of(aws: &LocalAws, region: &str, name: &str) -> String {
    (aws.find_alarm(region, name).await)
        .and_then(|a| a.state_value().map(|s| s.as_str().to_owned()))
        .unwrap_or_default()
}

/// The application behind the standby load balancer at `dns_name` fails (`unhealthy`) or
/// recovers (`healthy`); returns once its group's target reads so.
async fn turn_standby_targets(aws: &LocalAws, dns_name: &str, group: &str, verdict: &str) {
    aws.get_text(&format!("/localaws/elb/{dns_name}/{verdict}"));
    settles("the standby's target", verdict, || target_state(aws, group)).await;
}

async fn target_state(aws: &LocalAws, group: &str) -> String {
    aws.elbv2("us-east-2")
        .describe_target_health()
        .target_group_arn(group)
        .send()
        .await
        .expect("DescribeTargetHealth")
        .target_health_descriptions()
        .first()
        .and_then(|d| d.target_health().and_then(|h| h.state()))
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// The emulator's outage: with us-east-1 down, every request signed for it and every IAM and
/// Route 53 request (whatever region it is signed for) gets no answer at all, a region listed
/// at start is down too, other regions answer, and Route 53's data plane still answers DNS.
#[tokio::test]
async fn a_region_that_is_down_answers_nothing_but_route53_keeps_answering() {
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
    let aws = LocalAws::start_with_env(&[("LOCALAWS_UNREACHABLE_REGIONS", "us-west-2")]);
    let r53 = aws.route53();
    let zone = r53
        .create_hosted_zone()
        .name("outage.tap-test.net")
        .caller_reference("outage")
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .expect("zone")
        .id()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let record = ResourceRecordSet::builder()
        .name("www.outage.tap-test.net")
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.7")
                .build()
                .expect("record"),
        )
        .build()
        .expect("record set");
    upsert_record(&r53, &zone, record).await;

    assert_eq!(outage(&aws, "")["down"], serde_json::json!(["us-west-2"]));
    assert_eq!(
        outage(&aws, "/us-east-1")["down"],
        serde_json::json!(["us-east-1", "us-west-2"])
    );
    let before = outage(&aws, "");
    let iam_signed_elsewhere = aws_sdk_iam::Client::new(&aws.sdk_config("us-east-2"));
    let r53_signed_elsewhere = aws_sdk_route53::Client::new(&aws.sdk_config("us-east-2"));
    let no_answer = [
        (
            "EC2 us-east-1",
            aws.ec2("us-east-1")
                .describe_vpcs()
                .send()
                .await
                .map_or_else(|e| e.raw_response().is_none(), |_| false),
        ),
        (
            "EC2 us-west-2",
            aws.ec2("us-west-2")
                .describe_vpcs()
                .send()
                .await
                .map_or_else(|e| e.raw_response().is_none(), |_| false),
        ),
        (
            "IAM",
            iam_signed_elsewhere
                .list_users()
                .send()
                .await
                .map_or_else(|e| e.raw_response().is_none(), |_| false),
        ),
        (
            "Route 53",
            r53_signed_elsewhere
                .list_hosted_zones()
                .send()
                .await
                .map_or_else(|e| e.raw_response().is_none(), |_| false),
        ),
        (
            "TestDNSAnswer",
            r53.test_dns_answer()
                .hosted_zone_id(&zone)
                .record_name("www.outage.tap-test.net")
                .record_type(RrType::A)
                .send()
                .await
                .map_or_else(|e| e.raw_response().is_none(), |_| false),
        ),
    ];
    for (what, failed_without_answer) in no_answer {
        assert!(failed_without_answer, "{what} must get no response at all");
    }
    let after = outage(&aws, "");
    assert_eq!(
        count(&after, "refused", "us-east-1") - count(&before, "refused", "us-east-1"),
        4,
        "{after}"
    );
    assert_eq!(
        count(&after, "served", "us-east-1"),
        count(&before, "served", "us-east-1"),
        "{after}"
    );
    // Other regions answer; STS is regional.
    aws.ec2("us-east-2")
        .describe_vpcs()
        .send()
        .await
        .expect("EC2 in us-east-2");
    aws_sdk_sts::Client::new(&aws.sdk_config("us-east-2"))
        .get_caller_identity()
        .send()
        .await
        .expect("STS in us-east-2");
    // Route 53's name servers are not in us-east-1.
    assert_eq!(
        dns(&aws, &zone, "www.outage.tap-test.net"),
        ("NOERROR".to_owned(), vec!["192.0.2.7".to_owned()])
    );
    assert_eq!(
        dns(&aws, &zone, "nothing.outage.tap-test.net").0,
        "NXDOMAIN"
    );

    assert_eq!(
        outage(&aws, "/us-east-1/end")["down"],
        serde_json::json!(["us-west-2"])
    );
    r53.list_hosted_zones()
        .send()
        .await
        .expect("Route 53 is back");
}

/// With us-east-1 taken away, `terraform-provider-tap failover engage` throws the switch with
/// the standby region alone (the emulator serves not one us-east-1 request meanwhile) after
/// refusing while the standby has no healthy target; the alarm goes ALARM and DNS answers the
/// standby though the primary is healthy. With us-east-1 back, `failover release` returns
/// traffic to the primary, and destroy leaves nothing.
#[tokio::test]
async fn the_command_fails_over_with_us_east_1_down_and_releases_when_it_is_back() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.41", "primary").await;
    let standby: Endpoint = serving_endpoint(&aws, "us-east-2", "10.42", "standby").await;
    let ws = Workspace::new(&aws);
    ws.config(&dns_failover(&primary, &standby));
    let (zone, primary_ips, standby_ips) =
        apply_answering_primary(&aws, &ws, &primary, &standby).await;
    let answer = || async { dns(&aws, &zone, DOMAIN).1 };
    let group = standby.target_group_arn.as_str();
    let engage = [
        "engage",
        "--suffix",
        SUFFIX,
        "--standby-region",
        "us-east-2",
        "--target-group-arn",
        group,
        "--timeout",
        "60",
    ];

    // us-east-1 goes away.
    outage(&aws, "/us-east-1");
    let before = outage(&aws, "");

    // A standby without a healthy target: refused, nothing put, the alarm stays OK.
    turn_standby_targets(&aws, &standby.dns_name, group, "unhealthy").await;
    let refused = failover(&aws, &engage);
    assert_eq!(refused.code, 1, "{}", refused.text());
    assert!(
        refused
            .stderr
            .contains("refusing to fail over to us-east-2")
            && refused.stderr.contains("has no healthy target")
            && refused.stderr.contains("--force"),
        "{}",
        refused.text()
    );
    assert_ne!(alarm_state(&aws, "us-east-2").await, "ALARM");
    turn_standby_targets(&aws, &standby.dns_name, group, "healthy").await;

    // Thrown with us-east-1 down.
    let thrown = failover(&aws, &engage);
    assert_eq!(thrown.code, 0, "{}", thrown.text());
    for says in [
        "has 1 of 1 targets healthy",
        "switch thrown at ",
        &format!("standby alarm {ALARM} in ALARM"),
        "Route 53 checkers see the primary as unhealthy within about 60 s",
        "switch thrown: the primary is kept out of DNS",
    ] {
        assert!(
            thrown.stdout.contains(says),
            "{says:?} missing:\n{}",
            thrown.text()
        );
    }
    let during = outage(&aws, "");
    assert_eq!(during["down"], serde_json::json!(["us-east-1"]));
    assert_eq!(
        (
            count(&during, "served", "us-east-1"),
            count(&during, "refused", "us-east-1")
        ),
        (
            count(&before, "served", "us-east-1"),
            count(&before, "refused", "us-east-1")
        ),
        "the command must not even try us-east-1: {during}"
    );
    assert!(count(&during, "served", "us-east-2") > count(&before, "served", "us-east-2"));
    assert_eq!(alarm_state(&aws, "us-east-2").await, "ALARM");
    settles("the answer once the switch is thrown", standby_ips, answer).await;
    let status = failover(
        &aws,
        &[
            "status",
            "--suffix",
            SUFFIX,
            "--standby-region",
            "us-east-2",
            "--target-group-arn",
            group,
        ],
    );
    assert_eq!(status.code, 0, "{}", status.text());
    assert!(
        status.stdout.contains(&format!("alarm {ALARM} ALARM")),
        "{}",
        status.text()
    );

    // us-east-1 back: released, traffic returns to the primary.
    outage(&aws, "/us-east-1/end");
    let released = failover(
        &aws,
        &[
            "release",
            "--suffix",
            SUFFIX,
            "--standby-region",
            "us-east-2",
            "--target-group-arn",
            group,
            "--timeout",
            "60",
        ],
    );
    assert_eq!(released.code, 0, "{}", released.text());
    assert!(
        released.stdout.contains("switch released at "),
        "{}",
        released.text()
    );
    assert_eq!(alarm_state(&aws, "us-east-2").await, "OK");
    settles(
        "the answer once the switch is released",
        primary_ips,
        answer,
    )
    .await;

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// The ID of the CLOUDWATCH_METRIC check that follows alarm `name` in `region`.
fn check_on_alarm(
    checks: &HashMap<String, HealthCheck>,
    region: &str,
    name: &str,
) -> Option<String> {
    checks
        .values()
        .find(|c| {
            c.health_check_config()
                .and_then(|config| config.alarm_identifier())
                .is_some_and(|a| (a.region().as_str(), a.name()) == (region, name))
        })
        .map(|c| c.id().to_owned())
}

/// The record check `id` as Route 53 holds it: healthy only while all of `children` are.
fn assert_record_check(checks: &HashMap<String, HealthCheck>, id: &str, children: &[&str]) {
    let config = checks[id].health_check_config().expect("the record check");
    assert_all_of(config, children);
}

/// With two standbys the switch has an alarm and a check in each standby region, all children of
/// the record check: with us-east-1 and the first standby's region both down (and the first
/// standby's application failing), the command throws it from the second standby's region,
/// calling no other region, and DNS answers with the second standby; released, the primary
/// returns; removing the second standby removes its alarm and check, nothing else.
#[tokio::test]
async fn with_two_standbys_the_switch_is_thrown_from_the_second_while_the_first_is_down() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.71", "primary").await;
    let first = serving_endpoint(&aws, "us-east-2", "10.72", "first").await;
    let second = serving_endpoint(&aws, "us-west-2", "10.73", "second").await;
    let ws = Workspace::new(&aws);
    ws.config(&dns_failover_over(&primary, &[&first, &second]));
    let (zone, primary_ips, _) = apply_answering_primary(&aws, &ws, &primary, &first).await;
    ws.assert_plan_empty();
    let state = ws.resource("tap_dns_failover.dns");
    let further_alarm = format!("failover-switch-us-west-2-{SUFFIX}");

    // What Route 53 and CloudWatch hold: a switch alarm in each standby region, a check on
    // each, and the record check on both and on the endpoint check.
    for (region, name) in [("us-east-2", ALARM), ("us-west-2", &further_alarm)] {
        let state = alarm_state_of(&aws, region, name).await;
        assert!(
            ["OK", "INSUFFICIENT_DATA"].contains(&state.as_str()),
            "{name}: {state:?}"
        );
    }
    let checks = health_checks(&aws).await;
    let first_switch = check_on_alarm(&checks, "us-east-2", ALARM).expect("the first's check");
    let second_switch =
        check_on_alarm(&checks, "us-west-2", &further_alarm).expect("the second's check");
    assert_eq!(state["switch_health_check_id"], first_switch.as_str());
    let record_check = state["record_health_check_id"].as_str().unwrap();
    let endpoint_check = state["health_check_id"].as_str().unwrap();
    assert_record_check(
        &checks,
        record_check,
        &[endpoint_check, &first_switch, &second_switch],
    );

    // The first standby's region and us-east-1 go down, and so does the first standby's
    // application: the primary, healthy, still answers.
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", first.dns_name));
    outage(&aws, "/us-east-1");
    outage(&aws, "/us-east-2");
    let before = outage(&aws, "");
    let answer = || async { dns(&aws, &zone, DOMAIN).1 };
    assert_eq!(answer().await, primary_ips);

    // Thrown from the second standby's region.
    let second_group = second.target_group_arn.as_str();
    let args = |verb: &'static str| {
        [
            verb,
            "--suffix",
            SUFFIX,
            "--standby-region",
            "us-west-2",
            "--target-group-arn",
            second_group,
            "--timeout",
            "60",
        ]
    };
    let thrown = failover(&aws, &args("engage"));
    assert_eq!(thrown.code, 0, "{}", thrown.text());
    assert!(
        thrown
            .stdout
            .contains(&format!("standby alarm {further_alarm} in ALARM")),
        "{}",
        thrown.text()
    );
    let during = outage(&aws, "");
    for region in ["us-east-1", "us-east-2"] {
        assert_eq!(
            (
                count(&during, "served", region),
                count(&during, "refused", region)
            ),
            (
                count(&before, "served", region),
                count(&before, "refused", region)
            ),
            "the command must not even try {region}: {during}"
        );
    }
    let second_ips = resolved(&aws, &second.dns_name);
    settles("the second standby, switch thrown", second_ips, answer).await;

    // Both regions back: readiness says where the switch is thrown, and how to release it.
    outage(&aws, "/us-east-1/end");
    outage(&aws, "/us-east-2/end");
    aws.get_text(&format!("/localaws/elb/{}/healthy", first.dns_name));
    let readiness = format!("data \"tap_failover_readiness\" \"r\" {{\n  environment_suffix = \"{SUFFIX}\"\n  depends_on = [tap_dns_failover.dns]\n}}\n");
    ws.config(&format!(
        "{}{readiness}",
        dns_failover_over(&primary, &[&first, &second])
    ));
    ws.apply();
    let switch_findings = || -> Vec<serde_json::Value> {
        let found = ws.resource("data.tap_failover_readiness.r")["findings"].clone();
        (found.as_array().expect("findings").iter())
            .filter(|f| f["part"] == "switch")
            .cloned()
            .collect()
    };
    let thrown_finding = switch_findings();
    assert_eq!(thrown_finding.len(), 1, "{thrown_finding:#?}");
    assert!(
        thrown_finding[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("thrown in us-west-2")),
        "{thrown_finding:#?}"
    );

    // Released from the same region: the primary returns, and readiness has nothing to say.
    let released = failover(&aws, &args("release"));
    assert_eq!(released.code, 0, "{}", released.text());
    settles("the primary, released", primary_ips, answer).await;
    ws.apply();
    assert_eq!(switch_findings(), Vec::<serde_json::Value>::new());
    ws.config(&dns_failover_over(&primary, &[&first, &second]));
    ws.assert_plan_empty();

    // The second's check inverted out of band (a switch that would hold the primary out while
    // released): the plan shows the record check changing, and the apply puts it right.
    (aws.route53().update_health_check())
        .health_check_id(&second_switch)
        .inverted(true)
        .send()
        .await
        .expect("UpdateHealthCheck");
    let plan = ws.plan_updating(&["record_health_check_id"]);
    assert!(plan.contains("1 to change"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let inverted = health_checks(&aws).await[&second_switch]
        .health_check_config()
        .and_then(|c| c.inverted());
    assert_eq!(inverted, Some(false));

    // The second standby removed: its alarm and check go; the record check stays, on the rest.
    ws.config(&dns_failover(&primary, &first));
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(alarm_state_of(&aws, "us-west-2", &further_alarm).await, "");
    assert_ne!(alarm_state(&aws, "us-east-2").await, "");
    let checks = health_checks(&aws).await;
    assert!(check_on_alarm(&checks, "us-west-2", &further_alarm).is_none());
    let state = ws.resource("tap_dns_failover.dns");
    assert_eq!(state["record_health_check_id"], record_check);
    assert_eq!(state["health_check_id"], endpoint_check);
    assert_record_check(&checks, record_check, &[endpoint_check, &first_switch]);
    assert_eq!(checks.len(), 3, "{checks:?}");

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// Without arguments the binary says what it is and how the failover command is used; with bad
/// ones it says what is wrong, and exits 1, without touching AWS.
#[test]
fn the_binary_explains_itself_and_refuses_bad_command_lines() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_terraform-provider-tap"))
            .args(args)
            .env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .output()
            .expect("running the provider binary")
    };
    let bare = run(&[]);
    let text = String::from_utf8_lossy(&bare.stderr);
    assert_eq!(bare.status.code(), Some(1));
    assert!(
        text.contains("plugin for Terraform")
            && text.contains("terraform-provider-tap failover engage"),
        "{text}"
    );
    let bad = run(&["failover", "engage", "--suffix", "prod"]);
    let text = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text.starts_with("--standby-region is required"), "{text}");
}

/// A `tap_failover` action of the stack's standby in us-east-2, on the target group given or,
/// without one, on the one the provider finds by default.
fn failover_action(
    name: &str,
    standby_region: &str,
    engage: bool,
    target_group_arn: Option<&str>,
) -> String {
    let group = target_group_arn
        .map(|arn| format!("    target_group_arn = \"{arn}\"\n"))
        .unwrap_or_default();
    format!(
        "action \"tap_failover\" \"{name}\" {{\n  config {{\n    environment_suffix = \"{SUFFIX}\"\n    standby_region = \"{standby_region}\"\n    engage = {engage}\n{group}    timeout_seconds = 60\n  }}\n}}\n"
    )
}

/// `terraform apply -refresh=false -invoke=action.tap_failover.<name>`: its exit code and its
/// output on one line (Terraform wraps long lines at the terminal's width).
fn invoke_failover(ws: &Workspace, name: &str) -> (i32, String) {
    let run = ws.run(&[
        "apply",
        "-refresh=false",
        &format!("-invoke=action.tap_failover.{name}"),
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let text = run.text().split_whitespace().collect::<Vec<_>>().join(" ");
    (run.code, text)
}

/// The `tap_failover` action (Terraform 1.14+) does what the command does, from Terraform:
/// with us-east-1 down, `terraform apply -refresh=false -invoke` throws the switch with the
/// standby region alone, its progress reaches the user, and DNS answers the standby; with
/// us-east-1 back, the release action returns traffic to the primary.
#[tokio::test]
async fn the_action_fails_over_with_us_east_1_down_and_releases_when_it_is_back() {
    // Configuring the provider must not ask STS in us-east-1 while it is down.
    let provider =
        "provider \"tap\" {\n  max_retries = 0\n  skip_credentials_validation = true\n}\n";
    the_action_fails_over_while_us_east_1_is_down(
        ["us-east-1", "us-east-2"],
        ["10.43", "10.44"],
        provider,
    )
    .await;
}

/// The same in a system with no part in us-east-1 but the health-check alarm and its topic
/// (eu-west-1 + eu-central-1), with the provider configured as the docs say for it: its region
/// the standby's, so the credential check asks STS there and nothing asks us-east-1.
#[tokio::test]
async fn the_action_fails_over_an_eu_system_with_us_east_1_down_and_releases_when_it_is_back() {
    let provider = "provider \"tap\" {\n  region = \"eu-central-1\"\n}\n";
    the_action_fails_over_while_us_east_1_is_down(
        ["eu-west-1", "eu-central-1"],
        ["10.45", "10.46"],
        provider,
    )
    .await;
}

/// A DNS failover between load balancers in `regions` (primary, standby; VPCs `cidrs`), applied
/// with `provider`; then, us-east-1 down, the engage action: the standby's alarm in ALARM, DNS
/// answers the standby, and no request to us-east-1 at all; us-east-1 back, the release action:
/// the alarm OK and DNS answers the primary; destroy leaves nothing.
async fn the_action_fails_over_while_us_east_1_is_down(
    regions: [&'static str; 2],
    cidrs: [&str; 2],
    provider: &str,
) {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ws = Workspace::new(&aws);
    if !crate::support::terraform_at_least(14, "actions") {
        return;
    }
    let [primary_region, standby_region] = regions;
    let primary = serving_endpoint(&aws, primary_region, cidrs[0], "primary").await;
    let standby: Endpoint = serving_endpoint(&aws, standby_region, cidrs[1], "standby").await;
    let action = |name: &str, engage: bool| {
        failover_action(
            name,
            standby_region,
            engage,
            Some(&standby.target_group_arn),
        )
    };
    ws.config_raw(&format!(
        "{provider}\n{}{}{}",
        dns_failover(&primary, &standby),
        action("engage", true),
        action("release", false),
    ));
    let (zone, primary_ips, standby_ips) =
        apply_answering_primary(&aws, &ws, &primary, &standby).await;
    let answer = || async { dns(&aws, &zone, DOMAIN).1 };
    let invoke = |name: &str| invoke_failover(&ws, name);

    outage(&aws, "/us-east-1");
    let before = outage(&aws, "");
    let (code, said) = invoke("engage");
    assert_eq!(code, 0, "{said}");
    for says in [
        "has 1 of 1 targets healthy",
        "switch thrown at ",
        &format!("standby alarm {ALARM} in ALARM"),
    ] {
        assert!(said.contains(says), "{says:?} missing: {said}");
    }
    let during = outage(&aws, "");
    assert_eq!(
        (
            count(&during, "served", "us-east-1"),
            count(&during, "refused", "us-east-1")
        ),
        (
            count(&before, "served", "us-east-1"),
            count(&before, "refused", "us-east-1")
        ),
        "the action must not even try us-east-1: {during}"
    );
    assert!(
        count(&during, "served", standby_region) > count(&before, "served", standby_region),
        "{during}"
    );
    assert_eq!(alarm_state(&aws, standby_region).await, "ALARM");
    settles("the answer once the switch is thrown", standby_ips, answer).await;

    outage(&aws, "/us-east-1/end");
    let (code, said) = invoke("release");
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("switch released at "), "{said}");
    assert_eq!(alarm_state(&aws, standby_region).await, "OK");
    settles(
        "the answer once the switch is released",
        primary_ips,
        answer,
    )
    .await;

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// Whether a health check watches an endpoint (the stack's HTTP(S) check on the primary), not
/// other checks or an alarm.
fn endpoint_check(config: &aws_sdk_route53::types::HealthCheckConfig) -> bool {
    use aws_sdk_route53::types::HealthCheckType;
    matches!(
        config.r#type(),
        HealthCheckType::Http | HealthCheckType::Https
    )
}

/// The number after `label` in the drill's summary line, in seconds.
fn seconds_after(summary: &str, label: &str) -> f64 {
    let rest = summary
        .split_once(label)
        .unwrap_or_else(|| panic!("{label:?} missing: {summary}"))
        .1;
    let number: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number
        .parse()
        .unwrap_or_else(|_| panic!("{label:?}: {summary}"))
}

/// The `tap_failover_drill` action (Terraform 1.14+) under the time model: it throws the switch,
/// reports Route 53's detection, the standby answering and the return to the primary, each
/// within one health-check interval of what the model's settings give (the switch alarm's
/// period: it goes to ALARM, then OK, once the period holding the put is over; Route 53 follows
/// the alarm), checks that the standby's targets were healthy and the alarm notified its topic,
/// and leaves the system as it was: switch released, DNS answering the primary.
#[tokio::test]
async fn the_drill_reports_the_models_times_and_leaves_the_system_as_it_was() {
    let aws = LocalAws::start_with_env(&[
        ("LOCALAWS_NEW_ID_MISSES", "0"),
        ("LOCALAWS_TIME_SCALE", "20"),
    ]);
    let ws = Workspace::new(&aws);
    if !crate::support::terraform_at_least(14, "actions") {
        return;
    }
    let primary = serving_endpoint(&aws, "us-east-1", "10.45", "primary").await;
    let standby: Endpoint = serving_endpoint(&aws, "us-east-2", "10.46", "standby").await;
    ws.config(&format!(
        "{}action \"tap_failover_drill\" \"drill\" {{\n  config {{\n    environment_suffix = \"{SUFFIX}\"\n    standby_region = \"us-east-2\"\n    hosted_zone_id = tap_dns_failover.dns.zone_id\n    record_name = \"{DOMAIN}\"\n    health_check_id = tap_dns_failover.dns.health_check_id\n    target_group_arn = \"{}\"\n    timeout_seconds = 60\n    poll_seconds = 0.02\n  }}\n}}\n",
        dns_failover(&primary, &standby),
        standby.target_group_arn
    ));
    let (zone, primary_ips, _) = apply_answering_primary(&aws, &ws, &primary, &standby).await;

    // The model's settings, as the local AWS holds them.
    let switch = aws
        .cloudwatch("us-east-2")
        .describe_alarms()
        .alarm_names(ALARM)
        .send()
        .await
        .expect("DescribeAlarms");
    let switch = &switch.metric_alarms()[0];
    let alarm_after = f64::from(switch.period().unwrap_or_default())
        * f64::from(
            switch
                .datapoints_to_alarm()
                .or(switch.evaluation_periods())
                .unwrap_or(1),
        );
    let r53 = aws.route53();
    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    let interval = checks
        .health_checks()
        .iter()
        .filter_map(|c| c.health_check_config())
        .find(|c| endpoint_check(c))
        .and_then(|c| c.request_interval())
        .map(f64::from)
        .expect("the endpoint check's interval");
    let scale = aws.get_json("/localaws/clock")["scale"]
        .as_f64()
        .expect("scale");

    let published = aws.published_for_alarm("us-east-2", ALARM).await;
    let (said, summary) = run_drill(&ws, "drill");
    for says in [
        "see the primary healthy (health check ",
        "switch thrown at ",
        "switch released at ",
        &format!("alarm {ALARM} notified: Successfully executed action"),
    ] {
        assert!(said.contains(says), "{says:?} missing: {said}");
    }
    assert!(
        summary.contains("standby targets healthy 1 of 1, alarm notified yes"),
        "{summary}"
    );
    // What the drill says it saw, SNS holds.
    assert!(
        aws.published_for_alarm("us-east-2", ALARM).await > published,
        "{ALARM} published nothing"
    );
    for label in ["detection", "standby answering", "return"] {
        let modelled = seconds_after(&summary, label) * scale;
        assert!(
            (modelled - alarm_after).abs() <= interval,
            "{label}: {modelled} modelled s, the model gives {alarm_after} s within {interval} s: {summary}"
        );
    }

    // As it was: the switch released, DNS on the primary, Route 53's answer too.
    assert_eq!(alarm_state(&aws, "us-east-2").await, "OK");
    assert_eq!(dns(&aws, &zone, DOMAIN).1, primary_ips);
    assert_eq!(
        crate::support::dns_answer(&r53, &zone, DOMAIN).await.1,
        primary_ips
    );

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// Route 53's data plane fails over by itself and comes back, unless the switch holds it: with
/// clients following DNS and the primary's targets made unhealthy, TestDNSAnswer answers the
/// standby within the modelled detection time (the targets' unhealthy threshold, through
/// evaluate-target-health, or the endpoint check's interval × threshold, whichever is first),
/// the health-check alarm in us-east-1 fires from the HealthCheckStatus Route 53 publishes,
/// notifying its topic, the primary's unhealthy-hosts alarm fires from the host counts its load
/// balancer publishes, and the standby-traffic alarm in the standby region fires from the
/// RequestCount the standby load balancer publishes once the clients reach it, its topic
/// receiving the notification; when the targets recover, traffic returns to the primary and the
/// alarms clear. With the switch thrown, a primary that fails and recovers
/// stays out of DNS until the switch is released.
#[tokio::test]
async fn an_unhealthy_primary_fails_over_alarms_and_returns_unless_the_switch_is_thrown() {
    use aws_sdk_cloudwatch::types::HistoryItemType;
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.47", "primary").await;
    let standby: Endpoint = serving_endpoint(&aws, "us-east-2", "10.48", "standby").await;
    let ws = Workspace::new(&aws);
    ws.config(&dns_failover(&primary, &standby));
    let (zone, primary_ips, standby_ips) =
        apply_answering_primary(&aws, &ws, &primary, &standby).await;
    let r53 = aws.route53();
    let answer = || async { crate::support::dns_answer(&r53, &zone, DOMAIN).await.1 };
    let clock = || {
        aws.get_json("/localaws/clock")["seconds"]
            .as_f64()
            .expect("seconds")
    };

    // The model's settings: the endpoint check's, and the primary target group's.
    let checks = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks");
    let endpoint = checks
        .health_checks()
        .iter()
        .find(|c| c.health_check_config().is_some_and(endpoint_check))
        .expect("the endpoint check");
    let config = endpoint.health_check_config().expect("config");
    let interval = f64::from(config.request_interval().unwrap_or_default());
    let check_detects = interval * f64::from(config.failure_threshold().unwrap_or_default());
    let groups = aws
        .elbv2("us-east-1")
        .describe_target_groups()
        .target_group_arns(&primary.target_group_arn)
        .send()
        .await
        .expect("DescribeTargetGroups");
    let group = &groups.target_groups()[0];
    let targets_detect = f64::from(group.health_check_interval_seconds().unwrap_or_default())
        * f64::from(group.unhealthy_threshold_count().unwrap_or_default());
    let detection = targets_detect.min(check_detects);

    let health_alarm = || async {
        alarm_state_of(
            &aws,
            "us-east-1",
            &format!("failover-health-check-{SUFFIX}"),
        )
        .await
    };
    settles("the health-check alarm before", "OK", health_alarm).await;
    let traffic_alarm = || async {
        alarm_state_of(
            &aws,
            "us-east-2",
            &format!("failover-standby-traffic-{SUFFIX}"),
        )
        .await
    };
    let standby_topic = aws
        .sns("us-east-2")
        .list_topics()
        .send()
        .await
        .expect("ListTopics")
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":standby-failover-notifications-{SUFFIX}")))
        .expect("the standby topic")
        .to_owned();
    // Clients follow DNS, 600 requests a minute: all reach the primary.
    let report = aws.traffic(DOMAIN, 600);
    assert_eq!(report[DOMAIN]["held"][0]["region"], "us-east-1", "{report}");
    aws.wait_modelled(120.0).await;
    assert_ne!(traffic_alarm().await, "ALARM");

    // The primary's targets fail: Route 53 moves the answer, the alarm fires and notifies.
    let failed = clock();
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", primary.dns_name));
    settles(
        "the answer once the primary fails",
        standby_ips.clone(),
        answer,
    )
    .await;
    let moved = clock() - failed;
    assert!(
        moved <= detection + interval,
        "moved after {moved} modelled s; the model detects in {detection} s"
    );
    settles("the health-check alarm", "ALARM", health_alarm).await;
    let history = aws
        .cloudwatch("us-east-1")
        .describe_alarm_history()
        .alarm_name(format!("failover-health-check-{SUFFIX}"))
        .history_item_type(HistoryItemType::Action)
        .send()
        .await
        .expect("DescribeAlarmHistory");
    assert!(
        history.alarm_history_items().iter().any(|i| i
            .history_summary()
            .is_some_and(|s| s.starts_with("Successfully executed action"))),
        "{history:?}"
    );
    // The primary's load balancer counts its target unhealthy: its alarm fires.
    let hosts_alarm = || async {
        alarm_state_of(
            &aws,
            "us-east-1",
            &format!("failover-unhealthy-hosts-primary-{SUFFIX}"),
        )
        .await
    };
    settles("the primary's unhealthy-hosts alarm", "ALARM", hosts_alarm).await;
    // The clients follow the answer to the standby; its traffic alarm fires in us-east-2 and
    // the standby topic holds the notification.
    settles("the standby-traffic alarm", "ALARM", traffic_alarm).await;
    let alarmed: Vec<serde_json::Value> = aws
        .sns_published(&standby_topic)
        .iter()
        .filter_map(|m| m["Message"].as_str())
        .filter_map(|m| serde_json::from_str(m).ok())
        .filter(|m: &serde_json::Value| {
            m["AlarmName"] == format!("failover-standby-traffic-{SUFFIX}")
                && m["NewStateValue"] == "ALARM"
        })
        .collect();
    assert_eq!(alarmed.len(), 1, "{:?}", aws.sns_published(&standby_topic));
    assert_eq!(alarmed[0]["Trigger"]["MetricName"], "RequestCount");

    // They recover: traffic returns, the alarms clear.
    aws.get_text(&format!("/localaws/elb/{}/healthy", primary.dns_name));
    settles(
        "the answer once the primary recovers",
        primary_ips.clone(),
        answer,
    )
    .await;
    settles("the health-check alarm after", "OK", health_alarm).await;
    settles("the clients' answer", "us-east-1", || async {
        aws.clients_region(DOMAIN)
    })
    .await;
    settles("the standby-traffic alarm after", "OK", traffic_alarm).await;
    settles(
        "the primary's unhealthy-hosts alarm after",
        "OK",
        hosts_alarm,
    )
    .await;

    // Thrown, the switch holds the primary out through a failure and a recovery.
    let group_arn = standby.target_group_arn.as_str();
    let common = [
        "--suffix",
        SUFFIX,
        "--standby-region",
        "us-east-2",
        "--target-group-arn",
        group_arn,
        "--timeout",
        "60",
    ];
    let thrown = failover(&aws, &[&["engage"][..], &common[..]].concat());
    assert_eq!(thrown.code, 0, "{}", thrown.text());
    settles(
        "the answer once the switch is thrown",
        standby_ips.clone(),
        answer,
    )
    .await;
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", primary.dns_name));
    let since = clock();
    while clock() - since < check_detects + targets_detect + interval {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    aws.get_text(&format!("/localaws/elb/{}/healthy", primary.dns_name));
    let recovered = clock();
    while clock() - recovered < 2.0 * (check_detects + targets_detect) {
        assert_eq!(
            answer().await,
            standby_ips,
            "the switch must hold the primary out"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let released = failover(&aws, &[&["release"][..], &common[..]].concat());
    assert_eq!(released.code, 0, "{}", released.text());
    settles(
        "the answer once the switch is released",
        primary_ips,
        answer,
    )
    .await;

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// Without a target group, the command and the `tap_failover` action find the standby's own:
/// `tg-standby-<suffix>`, the group `tap_regional_stack` makes and tags `tap:stack = <suffix>`.
/// The command refuses while that group's target is unhealthy and engages once it is healthy,
/// naming the group each time; the action engages on it too; both release.
#[tokio::test]
async fn without_a_target_group_the_command_and_the_action_check_the_standby_stacks_own() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.49", "primary").await;
    let ws = Workspace::new(&aws);
    let stack = format!(
        "resource \"tap_regional_stack\" \"standby\" {{\n  environment_suffix = \"{SUFFIX}\"\n  role = \"standby\"\n}}\n"
    );
    ws.config(&stack);
    ws.apply();
    let made = ws.resource("tap_regional_stack.standby");
    let text = |key: &str| made[key].as_str().expect(key).to_owned();
    let standby = Endpoint {
        region: "us-east-2",
        dns_name: text("alb_dns_name"),
        zone_id: text("alb_zone_id"),
        alb_arn: text("alb_arn"),
        target_group_arn: text("target_group_arn"),
    };
    let actions = if crate::support::terraform_at_least(14, "actions") {
        failover_action("engage", "us-east-2", true, None)
            + &failover_action("release", "us-east-2", false, None)
    } else {
        String::new()
    };
    ws.config(&format!(
        "{stack}{}{actions}",
        dns_failover(&primary, &standby)
    ));
    let (zone, primary_ips, standby_ips) =
        apply_answering_primary(&aws, &ws, &primary, &standby).await;
    let answer = || async { dns(&aws, &zone, DOMAIN).1 };

    // The group the local AWS holds under the standby stack's name, with the stack's tag.
    let elb = aws.elbv2("us-east-2");
    let group = elb
        .describe_target_groups()
        .names(format!("tg-standby-{SUFFIX}"))
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_owned();
    let tags = elb
        .describe_tags()
        .resource_arns(&group)
        .send()
        .await
        .expect("DescribeTags");
    assert!(
        tags.tag_descriptions()
            .iter()
            .flat_map(|d| d.tags())
            .any(|t| t.key() == Some("tap:stack") && t.value() == Some(SUFFIX)),
        "{tags:?}"
    );
    let common = ["--suffix", SUFFIX, "--standby-region", "us-east-2"];
    let engage = [&["engage"][..], &common[..], &["--timeout", "60"][..]].concat();

    // Its target unhealthy: refused, naming that group.
    turn_standby_targets(&aws, &standby.dns_name, &group, "unhealthy").await;
    let says = |args: &[&str], code: i32, text: &str| {
        let run = failover(&aws, args);
        assert!(
            run.code == code && run.text().contains(text),
            "exit {code} saying {text:?} wanted:\n{}",
            run.text()
        );
    };
    says(
        &engage,
        1,
        &format!("target group {group} has no healthy target"),
    );
    assert_ne!(alarm_state(&aws, "us-east-2").await, "ALARM");

    // Healthy again: engaged on that group; DNS answers the standby; released.
    turn_standby_targets(&aws, &standby.dns_name, &group, "healthy").await;
    let healthy = format!("target group {group} has 1 of 1 targets healthy");
    says(&engage, 0, &healthy);
    assert_eq!(alarm_state(&aws, "us-east-2").await, "ALARM");
    settles(
        "the answer once the switch is thrown",
        standby_ips.clone(),
        answer,
    )
    .await;
    says(
        &[&["release"][..], &common[..], &["--timeout", "60"][..]].concat(),
        0,
        "switch released at ",
    );
    settles(
        "the answer once the switch is released",
        primary_ips.clone(),
        answer,
    )
    .await;

    // The action, without a target group, engages on the same one.
    if !actions.is_empty() {
        let (code, said) = invoke_failover(&ws, "engage");
        assert_eq!(code, 0, "{said}");
        assert!(said.contains(&healthy), "{said}");
        assert_eq!(alarm_state(&aws, "us-east-2").await, "ALARM");
        settles(
            "the answer once the action throws the switch",
            standby_ips,
            answer,
        )
        .await;
        let (code, said) = invoke_failover(&ws, "release");
        assert_eq!(code, 0, "{said}");
        settles(
            "the answer once the action releases the switch",
            primary_ips,
            answer,
        )
        .await;
    }

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}
