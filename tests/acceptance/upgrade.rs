//! An upgrade as users make it: a system applied by the provider of an earlier commit (built from
//! git by `earlier_provider`), then planned and applied by today's.

use std::collections::{BTreeMap, BTreeSet};

use crate::earlier_provider::{provider_dir, BEFORE_THE_SWITCH};
use crate::support::{
    alerting_leaks, assert_nothing_left, compute_leaks, ec2_leaks, tables_in, today_provider_dir,
    LocalAws, Workspace, REGIONS,
};
use crate::trading_failover::config;

const ADDRESS: &str = "tap_trading_failover.prod";

/// Every object of ours the emulator holds, named with its region.
async fn inventory(aws: &LocalAws) -> BTreeSet<String> {
    let mut held: BTreeSet<String> = alerting_leaks(aws, None).await.into_iter().collect();
    for region in REGIONS {
        held.extend(
            tables_in(aws, region)
                .await
                .into_iter()
                .map(|t| format!("table {t} in {region}")),
        );
        let mut parts = ec2_leaks(&aws.ec2(region)).await;
        parts.extend(compute_leaks(aws, region).await);
        held.extend(parts.into_iter().map(|p| format!("{p} in {region}")));
    }
    let r53 = aws.route53();
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    for zone in zones.hosted_zones() {
        let records = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone.id())
            .send()
            .await
            .expect("ListResourceRecordSets");
        held.extend(records.resource_record_sets().iter().map(|r| {
            format!(
                "record {} {} {}",
                r.name(),
                r.r#type().as_str(),
                r.set_identifier().unwrap_or_default()
            )
        }));
    }
    let roles = aws.iam().list_roles().send().await.expect("ListRoles");
    held.extend(
        roles
            .roles()
            .iter()
            .map(|r| format!("role {}", r.role_name())),
    );
    held
}

/// A string-valued map attribute of a state or plan value, as (key, value) pairs; null values
/// (parts an older state names but does not hold) are left out.
fn string_map(value: &serde_json::Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// The top-level attributes a planned update changes: different after, or unknown until apply.
fn changed_attributes(change: &serde_json::Value) -> BTreeSet<String> {
    let (before, after) = (&change["before"], &change["after"]);
    let unknown = &change["after_unknown"];
    let names = before
        .as_object()
        .into_iter()
        .chain(after.as_object())
        .flat_map(|m| m.keys());
    names
        .filter(|k| before[k.as_str()] != after[k.as_str()] || unknown[k.as_str()] == true)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_system_built_before_the_switch_upgrades_in_place_and_gains_it() {
    let earlier = provider_dir(BEFORE_THE_SWITCH);
    // EC2's eventual consistency off: the earlier provider predates its waits for a
    // just-created ID (2e1c2aa), and what is tested here is the upgrade, not that build's create.
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let ws = Workspace::with_provider(&aws, &earlier);
    ws.config(&config(""));
    ws.apply();
    let built = ws.resource(ADDRESS);
    let before = inventory(&aws).await;

    // Today's provider plans an update in place, of exactly these attributes.
    ws.use_provider(&today_provider_dir());
    let planned = ws.run(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-out=upgrade.tfplan",
    ]);
    assert_eq!(planned.code, 2, "expected an update:\n{}", planned.text());
    let text = planned.stdout;
    assert!(
        !text.contains("must be replaced") && !text.contains("-/+"),
        "{text}"
    );
    let shown = ws.must(&["show", "-json", "upgrade.tfplan"]);
    let plan: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    let changes = plan["resource_changes"]
        .as_array()
        .expect("resource_changes");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let change = &changes[0]["change"];
    assert_eq!(change["actions"], serde_json::json!(["update"]), "{text}");
    let expected: BTreeSet<String> = [
        // The switch alarm joins; the health-check alarm treats missing data as missing and the
        // standby-traffic alarm wants traffic that persists (55581ac).
        "alarms",
        // The switch's two checks (9aa5fdc) and a KMS key per alarm topic (b3a6437) are made at
        // apply; every other part keeps its ID (asserted after the apply).
        "parts",
        // The primary record moves to the switch's calculated check.
        "records",
        // Attributes added since, read from AWS at apply (612fb74, 4e0aead).
        "primary_running_capacity",
        "pending_alarm_emails",
        // Added since, known at plan: `off` without hosted_zone_id (issue #25).
        "tls",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(changed_attributes(change), expected, "{text}");
    let (was, will) = (
        string_map(&change["before"]["alarms"]),
        string_map(&change["after"]["alarms"]),
    );
    let alarms_changed: BTreeSet<&str> = was
        .keys()
        .chain(will.keys())
        .filter(|k| was.get(*k) != will.get(*k))
        .map(String::as_str)
        .collect();
    assert_eq!(
        alarms_changed,
        BTreeSet::from([
            "failover-health-check-acc",
            "failover-standby-traffic-acc",
            "failover-switch-acc"
        ]),
        "{text}"
    );
    assert!(!was.contains_key("failover-switch-acc"));
    assert!(will["failover-health-check-acc"].contains("missing data missing"));
    assert!(will["failover-standby-traffic-acc"].contains("Sum > 10 for 5x60s"));
    assert!(will["failover-switch-acc"]
        .starts_with("us-east-2: TAP/Failover FailoverSwitch{EnvironmentSuffix=acc}"));
    // The break-glass commands are known from the configuration alone.
    assert_eq!(
        change["after"]["break_glass_command"],
        "aws cloudwatch put-metric-data --region us-east-2 --namespace TAP/Failover --metric-name FailoverSwitch --dimensions EnvironmentSuffix=acc --value 1"
    );
    assert!(change["after"]["release_command"]
        .as_str()
        .is_some_and(|c| c.contains("--region us-east-2") && c.contains("--value 0")));

    ws.must(&["apply", "-input=false", "-no-color", "upgrade.tfplan"]);
    let upgraded = ws.resource(ADDRESS);

    // Every part the earlier provider made keeps its ID; the new ones are exactly these.
    let (old_parts, new_parts) = (string_map(&built["parts"]), string_map(&upgraded["parts"]));
    for (part, id) in &old_parts {
        assert_eq!(new_parts.get(part), Some(id), "{part} kept");
    }
    let added: BTreeSet<&str> = new_parts
        .keys()
        .filter(|k| !old_parts.contains_key(*k))
        .map(String::as_str)
        .collect();
    assert_eq!(
        added,
        BTreeSet::from([
            "dns.primary_topic_key",
            "dns.record_health_check",
            "dns.standby_topic_key",
            "dns.switch_health_check"
        ])
    );
    let endpoint_check = &old_parts["dns.health_check"];
    assert_eq!(upgraded["health_check_id"], endpoint_check.as_str());

    // In the emulator: nothing in either region made or deleted but the switch's alarm and checks
    // and the topics' keys.
    let after = inventory(&aws).await;
    let key_id = |part: &str| {
        new_parts[part]
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    let expected_new: BTreeSet<String> = [
        "alarm failover-switch-acc in us-east-2".to_owned(),
        format!("health check {}", new_parts["dns.switch_health_check"]),
        format!("health check {}", new_parts["dns.record_health_check"]),
        format!("KMS key {} in us-east-1", key_id("dns.primary_topic_key")),
        format!("KMS key {} in us-east-2", key_id("dns.standby_topic_key")),
        "KMS alias alias/primary-failover-notifications-acc in us-east-1".to_owned(),
        "KMS alias alias/standby-failover-notifications-acc in us-east-2".to_owned(),
    ]
    .into();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(gone.is_empty(), "deleted by the upgrade: {gone:?}");
    let made: BTreeSet<String> = after.difference(&before).cloned().collect();
    assert_eq!(made, expected_new);

    // The earlier topics stay, now encrypted with their new keys.
    for (region, role) in [("us-east-1", "primary"), ("us-east-2", "standby")] {
        let topic = &new_parts[&format!("dns.{role}_topic")];
        let attributes = aws
            .sns(region)
            .get_topic_attributes()
            .topic_arn(topic)
            .send()
            .await
            .expect("GetTopicAttributes");
        assert_eq!(
            attributes
                .attributes()
                .and_then(|a| a.get("KmsMasterKeyId")),
            Some(&new_parts[&format!("dns.{role}_topic_key")]),
            "{topic}"
        );
    }

    // The switch as AWS holds it (its alarm, in us-east-2 alone, is in the inventory above): a
    // check on that alarm, and the primary record on a calculated check of the endpoint check and
    // the switch check.
    let switch = "failover-switch-acc";
    let r53 = aws.route53();
    let config_of = |id: &str| {
        let r53 = r53.clone();
        let id = id.to_owned();
        async move {
            r53.get_health_check()
                .health_check_id(id)
                .send()
                .await
                .expect("GetHealthCheck")
                .health_check
                .and_then(|c| c.health_check_config)
                .expect("health check config")
        }
    };
    let switch_check = config_of(&new_parts["dns.switch_health_check"]).await;
    let alarm = switch_check.alarm_identifier().expect("alarm identifier");
    assert_eq!(
        (alarm.name(), alarm.region().as_str()),
        (switch, "us-east-2")
    );
    let record_check = config_of(&new_parts["dns.record_health_check"]).await;
    assert_eq!(record_check.r#type().as_str(), "CALCULATED");
    let children: BTreeSet<&str> = record_check
        .child_health_checks()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        children,
        BTreeSet::from([
            endpoint_check.as_str(),
            new_parts["dns.switch_health_check"].as_str()
        ])
    );
    let records = r53
        .list_resource_record_sets()
        .hosted_zone_id(&new_parts["dns.zone"])
        .send()
        .await
        .expect("ListResourceRecordSets");
    let checks: BTreeMap<&str, Option<&str>> = records
        .resource_record_sets()
        .iter()
        .filter_map(|r| Some((r.set_identifier()?, r.health_check_id())))
        .collect();
    assert_eq!(
        checks,
        BTreeMap::from([
            (
                "primary",
                Some(new_parts["dns.record_health_check"].as_str())
            ),
            ("standby", None)
        ])
    );
    // The standby record did not change at all.
    let (old_records, new_records) = (
        string_map(&built["records"]),
        string_map(&upgraded["records"]),
    );
    assert_eq!(old_records["standby"], new_records["standby"]);

    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}
