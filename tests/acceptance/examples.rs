//! The root-module examples really run: applied against the local AWS, re-planned clean, and
//! destroyed without leftovers.

use crate::support::{assert_nothing_left, LocalAws, Workspace};

#[tokio::test]
async fn the_three_region_composition_applies_and_destroys() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("TF_VAR_domain", "trading-tri.tap-test.net");
    ws.example("three-regions");
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
        2,
        "the main and the reserve failover names"
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
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn the_quickstart_applies_with_default_tags_and_destroys() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("TF_VAR_domain_name", "trading-demo.tap-test.net");
    ws.example("quickstart");
    let run = ws.apply();
    assert!(
        run.stdout
            .contains("application_url = \"http://trading-demo.tap-test.net\""),
        "{}",
        run.stdout
    );
    let vpcs = aws
        .ec2("us-east-2")
        .describe_vpcs()
        .send()
        .await
        .expect("DescribeVpcs");
    let standby = vpcs
        .vpcs()
        .iter()
        .find(|v| v.is_default() != Some(true))
        .expect("standby VPC");
    assert!(
        standby
            .tags()
            .iter()
            .any(|t| t.key() == Some("Project") && t.value() == Some("trading-failover")),
        "default_tags reach every part: {:?}",
        standby.tags()
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}
