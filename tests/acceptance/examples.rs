//! The root-module examples really run: applied against the local AWS, re-planned clean, and
//! destroyed without leftovers.

use crate::support::{
    assert_nothing_left, project_root, python, quickstart_applied, LocalAws, Workspace,
};

#[tokio::test]
async fn the_three_region_composition_applies_and_destroys() {
    three_regions_apply_and_destroy("custom-topology", "tap_dns_failover.main").await;
}

/// The one-resource three-region system builds what the composition of sub-resources builds:
/// the same regions, replicas, failover order and one shared profile.
#[tokio::test]
async fn the_one_resource_three_region_system_applies_and_destroys() {
    three_regions_apply_and_destroy("three-regions", "tap_trading_failover.tri").await;
}

/// `example` applied, checked and destroyed; readiness is read after `dns` (the resource whose
/// DNS failover it judges).
async fn three_regions_apply_and_destroy(example: &str, dns: &str) {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("TF_VAR_domain", "trading-tri.tap-test.net");
    ws.example(example);
    ws.apply();
    for region in ["us-east-1", "us-east-2", "us-west-2"] {
        let vpcs = aws
            .ec2(region)
            .describe_vpcs()
            .send()
            .await
            .expect("DescribeVpcs");
        let ours = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .count();
        assert_eq!(ours, 1, "one VPC in {region}");
    }
    let table = aws
        .dynamodb("us-east-1")
        .describe_table()
        .table_name("trading-sessions-tri")
        .send()
        .await
        .expect("DescribeTable");
    let mut replicas: Vec<_> = table
        .table()
        .expect("table")
        .replicas()
        .iter()
        .filter_map(|r| r.region_name())
        .collect();
    replicas.sort();
    assert_eq!(replicas, ["us-east-2", "us-west-2"]);
    let zones = aws
        .route53()
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    assert_eq!(
        zones.hosted_zones().len(),
        1,
        "one failover name for three regions"
    );
    let records = aws
        .route53()
        .list_resource_record_sets()
        .hosted_zone_id(zones.hosted_zones()[0].id())
        .send()
        .await
        .expect("ListResourceRecordSets");
    let mut order: Vec<(String, String)> = records
        .resource_record_sets()
        .iter()
        .filter_map(|r| {
            let target = r.alias_target()?.dns_name();
            Some((r.failover()?.as_str().to_owned(), target.to_owned()))
        })
        .collect();
    order.sort();
    let regions: Vec<(&str, bool)> = order
        .iter()
        .map(|(member, target)| (member.as_str(), target.contains("us-east-2")))
        .collect();
    assert_eq!(
        regions,
        [("PRIMARY", true), ("SECONDARY", false)],
        "us-east-2 first, then us-west-2: {order:?}"
    );
    let profiles = aws
        .iam()
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    assert_eq!(
        profiles.instance_profiles().len(),
        1,
        "one profile for three regions"
    );
    ws.assert_plan_empty();
    // Readiness follows the chain: it finds both standbys in order and judges the first, whose
    // alarms carry its region's name.
    std::fs::write(
        ws.dir().join("readiness.tf"),
        format!("data \"tap_failover_readiness\" \"tri\" {{\n  environment_suffix = \"tri\"\n  depends_on         = [{dns}]\n}}\n"),
    )
    .expect("writing readiness.tf");
    ws.apply();
    let readiness = ws.resource("data.tap_failover_readiness.tri");
    assert_eq!(
        readiness["standby_regions"],
        serde_json::json!(["us-east-2", "us-west-2"])
    );
    assert_eq!(readiness["standby_region"], "us-east-2");
    // Nothing is found wrong but what the example leaves to its user: no one subscribed to the
    // topics of the primary and the first standby (alarm_emails is empty).
    let findings: Vec<&str> = readiness["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["part"] != "notifications"
                || !f["message"].as_str().is_some_and(|m| {
                    m.ends_with("has no confirmed subscription: its alarms reach nobody.")
                })
        })
        .map(|f| f["message"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(findings, Vec::<&str>::new(), "{readiness:#}");
    std::fs::remove_file(ws.dir().join("readiness.tf")).expect("removing readiness.tf");
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn the_quickstart_applies_with_default_tags_fails_over_and_destroys() {
    // The demo's time model (tools/demo.sh): AWS's durations / 120.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_TIME_SCALE", "120")]);
    let ws = Workspace::new(&aws).env("TF_VAR_domain_name", "trading-demo.tap-test.net");
    ws.example("quickstart");
    let run = ws.apply();
    let standby = quickstart_applied(&aws, &run).await;
    assert!(
        standby
            .tags()
            .iter()
            .any(|t| t.key() == Some("Project") && t.value() == Some("trading-failover")),
        "default_tags reach every part: {:?}",
        standby.tags()
    );
    ws.assert_plan_empty();
    demo_fails_over_and_back(&aws, &ws);
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The demo's failover (`make demo`'s last part, tools/failover_demo.py): Route 53's answer for
/// the application's name moves to the standby's load balancer once the primary's targets fail,
/// and back after they recover, in under a second of real time per modelled minute.
fn demo_fails_over_and_back(aws: &LocalAws, ws: &Workspace) {
    let stack = ws.resource("tap_trading_failover.demo");
    let alb = |role: &str| {
        stack[format!("{role}_alb_dns_name")]
            .as_str()
            .expect("ALB DNS name")
            .to_owned()
    };
    let out = std::process::Command::new(python())
        .arg(project_root().join("tools/failover_demo.py"))
        .args([
            "trading-demo.tap-test.net",
            &alb("primary"),
            &alb("standby"),
        ])
        .env("AWS_ENDPOINT_URL", &aws.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("running tools/failover_demo.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_suffix(" load balancer)"))
        .filter_map(|l| l.rsplit_once('(').map(|(_, role)| role))
        .collect();
    assert_eq!(answers, ["primary", "standby", "primary"], "{text}");
    // "...; 1.2 s real for 2.5 modelled minutes"
    let figures: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (real, minutes) = (figures[figures.len() - 2], figures[figures.len() - 1]);
    assert!(minutes > 0.5 && real < minutes, "{text}");
}
