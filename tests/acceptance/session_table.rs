//! `tap_session_table` end to end: create, re-plan, update in place, drift, import, bad input,
//! destroy, each checked against what the local AWS holds.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{DeleteReplicationGroupMemberAction, ReplicationGroupUpdate};
use aws_sdk_dynamodb::Client;

use crate::support::{
    assert_nothing_left, assert_one_error_on, assert_refused_once, pitr, settles, LocalAws,
    Workspace,
};

const TABLE: &str = "trading-sessions-acc";
const ADDRESS: &str = "tap_session_table.sessions";

fn config(extra: &str) -> String {
    format!("resource \"tap_session_table\" \"sessions\" {{\n  environment_suffix = \"acc\"\n{extra}\n}}\n")
}

async fn tags(db: &Client, name: &str) -> HashMap<String, String> {
    let arn = db
        .describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .and_then(|t| t.table_arn().map(str::to_owned))
        .expect("table ARN");
    db.list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("ListTagsOfResource")
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

async fn replica_regions(db: &Client, name: &str) -> Vec<String> {
    db.describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .map(|t| {
            t.replicas()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn creates_the_spec_table_with_its_replica_and_destroys_everything() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();

    let east1 = aws.dynamodb("us-east-1");
    let table = east1
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("table exists in us-east-1");
    let table = table.table().unwrap();
    let key = &table.key_schema()[0];
    assert_eq!(key.attribute_name(), "sessionId");
    assert_eq!(key.key_type().as_str(), "HASH");
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
    let stream = table.stream_specification().expect("stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type().map(|v| v.as_str()),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert_eq!(table.deletion_protection_enabled(), Some(false));
    assert_eq!(replica_regions(&east1, TABLE).await, ["us-east-2"]);
    assert_eq!(
        table.replicas()[0].replica_status().map(|s| s.as_str()),
        Some("ACTIVE")
    );
    assert!(pitr(&east1, TABLE).await, "PITR on in the home region");

    let east2 = aws.dynamodb("us-east-2");
    assert!(pitr(&east2, TABLE).await, "PITR on in the replica region");
    let home_tags = tags(&east1, TABLE).await;
    assert_eq!(home_tags["Name"], TABLE);
    assert_eq!(home_tags["Environment"], "Production");
    assert_eq!(home_tags["FailoverRole"], "Primary");
    assert_eq!(home_tags["tap:stack"], "acc");
    assert_eq!(tags(&east2, TABLE).await["FailoverRole"], "Standby");

    let state = ws.resource(ADDRESS);
    assert_eq!(state["arn"], table.table_arn().unwrap());
    assert!(state["replica_arns"]["us-east-2"]
        .as_str()
        .is_some_and(|a| a.contains(":us-east-2:")));

    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn updates_in_place_and_adds_and_removes_replicas() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let arn_before = ws.resource(ADDRESS)["arn"].clone();

    ws.config(&config(
        r#"  point_in_time_recovery = false
  deletion_protection    = true
  environment            = "Staging"
  replica_regions        = ["us-east-2", "us-west-2"]
  tags                   = { Team = "fx" }"#,
    ));
    let plan = ws.plan_with_changes();
    assert!(plan.contains("updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    ws.apply();

    let east1 = aws.dynamodb("us-east-1");
    let table = east1
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let table = table.table().unwrap();
    assert_eq!(
        table.table_arn(),
        arn_before.as_str(),
        "same table, not replaced"
    );
    assert_eq!(table.deletion_protection_enabled(), Some(true));
    assert!(!pitr(&east1, TABLE).await);
    assert!(!pitr(&aws.dynamodb("us-west-2"), TABLE).await);
    let mut regions = replica_regions(&east1, TABLE).await;
    regions.sort();
    assert_eq!(regions, ["us-east-2", "us-west-2"]);
    let home_tags = tags(&east1, TABLE).await;
    assert_eq!(home_tags["Team"], "fx");
    assert_eq!(home_tags["Environment"], "Staging");
    assert_eq!(tags(&aws.dynamodb("us-west-2"), TABLE).await["Team"], "fx");
    ws.assert_plan_empty();

    // Deletion protection makes destroy fail, and the table stays in state and in AWS.
    let refused = ws.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.text().contains("deletion protection is on"),
        "{}",
        refused.text()
    );
    assert!(
        !refused.text().contains("stack backtrace"),
        "{}",
        refused.text()
    );
    assert_eq!(ws.resource(ADDRESS)["name"], TABLE);

    ws.config(&config(r#"  replica_regions = ["us-west-2"]"#));
    ws.apply();
    assert_eq!(replica_regions(&east1, TABLE).await, ["us-west-2"]);
    assert!(aws
        .dynamodb("us-east-2")
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .is_err());
    assert!(pitr(&east1, TABLE).await);
    assert_eq!(tags(&east1, TABLE).await.get("Team"), None);
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn drift_is_detected_and_repaired() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let east1 = aws.dynamodb("us-east-1");

    // A replica removed out of band.
    east1
        .update_table()
        .table_name(TABLE)
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
        .unwrap();
    settles("the removed replica", Vec::<String>::new(), || {
        replica_regions(&east1, TABLE)
    })
    .await;
    let plan = ws.plan_with_changes();
    assert!(plan.contains("replica_regions"), "{plan}");
    assert!(plan.contains("updated in-place"), "{plan}");
    ws.apply();
    assert_eq!(replica_regions(&east1, TABLE).await, ["us-east-2"]);
    ws.assert_plan_empty();

    // Settings changed out of band.
    east1
        .update_continuous_backups()
        .table_name(TABLE)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let plan = ws.plan_with_changes();
    assert!(plan.contains("point_in_time_recovery"), "{plan}");
    ws.apply();
    assert!(pitr(&east1, TABLE).await);

    // The whole table deleted out of band: replica first (AWS refuses otherwise), then table.
    aws.dynamodb("us-east-2")
        .delete_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    east1.delete_table().table_name(TABLE).send().await.unwrap();
    let plan = ws.plan_with_changes();
    assert!(plan.contains("will be created"), "{plan}");
    ws.apply();
    assert_eq!(replica_regions(&east1, TABLE).await, ["us-east-2"]);
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Whether the table in `db`'s region has deletion protection on.
async fn protected(db: &Client, name: &str) -> bool {
    db.describe_table()
        .table_name(name)
        .send()
        .await
        .expect("DescribeTable")
        .table()
        .and_then(|t| t.deletion_protection_enabled())
        .unwrap_or(false)
}

async fn set_protection(db: &Client, name: &str, enabled: bool) {
    db.update_table()
        .table_name(name)
        .deletion_protection_enabled(enabled)
        .send()
        .await
        .expect("UpdateTable DeletionProtectionEnabled");
}

#[tokio::test]
async fn the_replica_holds_its_own_protection_and_recovery() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config("  deletion_protection = true"));
    ws.apply();
    let east2 = aws.dynamodb("us-east-2");
    // Per replica in DynamoDB, not propagated from the home table.
    assert!(protected(&east2, TABLE).await, "the replica is protected");
    assert!(
        pitr(&east2, TABLE).await,
        "the replica has point-in-time recovery"
    );

    // Both switched off on the replica alone, out of band.
    set_protection(&east2, TABLE, false).await;
    east2
        .update_continuous_backups()
        .table_name(TABLE)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let plan = ws.plan_updating(&["replica_settings"]);
    for key in [
        "\"us-east-2.point_in_time_recovery\"",
        "\"us-east-2.deletion_protection\"",
    ] {
        assert!(
            plan.lines()
                .any(|l| l.contains(key) && l.contains("\"false\" -> \"true\"")),
            "{key} repaired in the plan:\n{plan}"
        );
    }
    ws.apply();
    assert!(
        protected(&east2, TABLE).await,
        "the replica's protection repaired"
    );
    assert!(pitr(&east2, TABLE).await, "the replica's recovery repaired");
    assert!(protected(&aws.dynamodb("us-east-1"), TABLE).await);
    ws.assert_plan_empty();

    // Protection off in the configuration, then on again for the replica alone, out of band:
    // destroy is refused, naming the replica, and removes nothing.
    ws.config(&config(""));
    ws.apply();
    assert!(
        !protected(&east2, TABLE).await,
        "the replica's protection lifted"
    );
    set_protection(&east2, TABLE, true).await;
    let refused = ws.run(&["destroy", "-auto-approve", "-no-color"]);
    assert_ne!(refused.code, 0);
    // Terraform wraps diagnostics: compare words.
    let words = refused
        .text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("deletion protection is on for its replica in us-east-2"),
        "{words}"
    );
    assert_eq!(
        replica_regions(&aws.dynamodb("us-east-1"), TABLE).await,
        ["us-east-2"]
    );
    assert_eq!(ws.resource(ADDRESS)["name"], TABLE);

    ws.apply();
    assert!(!protected(&east2, TABLE).await);
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_failed_replica_ends_the_apply_at_once_with_its_reason() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_REPLICA_FAILS", "us-east-2=CREATION_FAILED")]);
    let ws = Workspace::new(&aws);
    // A long create budget: only a wait that ends on the failure finishes in time.
    ws.config(&config("  timeouts {\n    create = \"5m\"\n  }"));
    let started = std::time::Instant::now();
    let failed = ws.run(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(120),
        "the wait ran on after the replica failed: {:?}",
        started.elapsed()
    );
    let text = failed.text();
    assert!(text.contains("replica of DynamoDB table"), "{text}");
    assert!(text.contains("us-east-2"), "{text}");
    assert!(text.contains("CREATION_FAILED"), "{text}");
    assert!(text.contains("Failed to create replica"), "{text}");
    assert!(!text.contains("still not ready"), "{text}");

    // The table is in state (tainted, as Terraform marks a failed create) and in AWS; the failed
    // replica is not counted as one.
    assert_eq!(ws.resource(ADDRESS)["name"], TABLE);
    assert_eq!(
        ws.resource(ADDRESS)["replica_regions"],
        serde_json::json!([])
    );
    assert_eq!(
        replica_regions(&aws.dynamodb("us-east-1"), TABLE).await,
        ["us-east-2"]
    );

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn imports_by_table_name() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config("  tags = { Team = \"fx\" }"));
    ws.apply();
    let before = ws.resource(ADDRESS);

    let removed = ws.run(&["state", "rm", ADDRESS]);
    assert_eq!(removed.code, 0, "{}", removed.text());
    let imported = ws.run(&["import", "-no-color", ADDRESS, TABLE]);
    assert_eq!(imported.code, 0, "{}", imported.text());
    ws.assert_plan_empty();
    let after = ws.resource(ADDRESS);
    for attr in [
        "arn",
        "stream_arn",
        "replica_regions",
        "tags",
        "tags_all",
        "environment_suffix",
    ] {
        assert_eq!(after[attr], before[attr], "{attr} after import");
    }

    let missing = ws.run(&[
        "import",
        "-no-color",
        "tap_session_table.other",
        "no-such-table",
    ]);
    assert_ne!(missing.code, 0);
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn bad_input_is_refused_at_plan_time_on_its_attribute() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let cases = [
        (
            r#"environment_suffix = "Prod_1""#,
            "environment_suffix",
            "lowercase letters",
        ),
        (
            r#"environment_suffix = "a-very-long-suffix-over-limit""#,
            "environment_suffix",
            "1 to 20",
        ),
        (
            r#"environment_suffix = "acc"
  region = "us-east-7""#,
            "region",
            "not an AWS region",
        ),
        (
            r#"environment_suffix = "acc"
  replica_regions = ["us-east-1"]"#,
            "replica_regions",
            "home region",
        ),
        (
            r#"environment_suffix = "acc"
  replica_regions = ["us-east-2", "us-east-2"]"#,
            "replica_regions",
            "listed twice",
        ),
        (
            r#"environment_suffix = "acc"
  name = "x""#,
            "name",
            "DynamoDB table name",
        ),
        (
            r#"environment_suffix = "acc"
  tags = { "tap:stack" = "other" }"#,
            "tags",
            "reserved prefix",
        ),
        (
            r#"environment_suffix = "acc"
  timeouts {
    create = "soon"
  }"#,
            "create",
            "not a duration",
        ),
    ];
    for (body, attribute, message) in cases {
        ws.assert_refused(
            &format!(
                "resource \"tap_session_table\" \"bad\" {{
  {body}
}}
"
            ),
            attribute,
            message,
        );
    }
    assert_nothing_left(&aws).await;
}

/// A home region the account has not enabled: one diagnostic, on the region's line, explaining
/// how to enable it, not a second one from the read-back; nothing made.
#[tokio::test]
async fn a_region_the_account_has_not_enabled_fails_once_saying_to_enable_it() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  region          = \"af-south-1\"\n  replica_regions = [\"eu-west-1\"]",
    ));
    let errors = ws.apply_error_diagnostics();
    assert_eq!(
        errors[0]["summary"],
        format!("tap_session_table: reading DynamoDB table {TABLE}")
    );
    assert_one_error_on(&errors, "region          = \"af-south-1\"");
    let detail = errors[0]["detail"].as_str().unwrap_or_default();
    for says in [
        "UnrecognizedClientException: ",
        "the account has not enabled af-south-1",
        "aws account enable-region --region-name af-south-1",
    ] {
        assert!(detail.contains(says), "{says:?} missing: {detail}");
    }
    assert_nothing_left(&aws).await;
}

/// A replica region the account has not enabled: one diagnostic, on that region in
/// `replica_regions`, explained as the home region's is; asked before anything is made, so no
/// table is left in the home region either.
#[tokio::test]
async fn a_replica_region_the_account_has_not_enabled_fails_once_before_anything_is_made() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  region          = \"eu-west-1\"\n  replica_regions = [\n    \"eu-central-1\",\n    \"af-south-1\",\n  ]",
    ));
    let errors = ws.apply_error_diagnostics();
    let summary = assert_refused_once(&errors, "af-south-1", "\"af-south-1\",");
    assert_eq!(
        summary,
        "tap_session_table: checking that af-south-1 accepts the credentials"
    );
    assert_nothing_left(&aws).await;
}

/// A replica region the account disables after apply: the refresh fails with one diagnostic on
/// that region in `replica_regions`, explained, and keeps the state; enabled again, nothing to
/// change, and destroy leaves nothing.
#[tokio::test]
async fn a_replica_region_disabled_after_apply_fails_the_refresh_on_its_attribute_keeping_state() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(
        "  region          = \"eu-west-1\"\n  replica_regions = [\"eu-central-1\"]",
    ));
    ws.apply();
    let arn = ws.resource(ADDRESS)["arn"].clone();

    aws.get_json("/localaws/disabled/eu-central-1");
    let errors = ws.error_diagnostics(&["plan", "-input=false", "-json"]);
    let summary = assert_refused_once(
        &errors,
        "eu-central-1",
        "replica_regions = [\"eu-central-1\"]",
    );
    assert!(summary.contains("in eu-central-1"), "{summary}");
    assert_eq!(ws.resource(ADDRESS)["arn"], arn, "state kept");

    aws.get_json("/localaws/disabled/eu-central-1/end");
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// A strongly consistent (MRSC) table, two replicas' worth of Regions with a witness: made in one
/// request, re-planned empty, read back, and destroyed in every Region.
#[tokio::test]
async fn a_strong_table_with_a_witness_applies_replans_empty_and_destroys_clean() {
    use aws_sdk_dynamodb::types::{MultiRegionConsistency, WitnessStatus};
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(
        r#"  consistency     = "strong"
  replica_regions = ["us-east-2"]
  witness_region  = "us-west-2""#,
    ));
    ws.apply();

    let east1 = aws.dynamodb("us-east-1");
    let table = east1
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .expect("DescribeTable");
    let table = table.table().unwrap();
    assert_eq!(
        table.multi_region_consistency(),
        Some(&MultiRegionConsistency::Strong)
    );
    assert_eq!(replica_regions(&east1, TABLE).await, ["us-east-2"]);
    assert_eq!(
        table.replicas()[0].replica_status().map(|s| s.as_str()),
        Some("ACTIVE")
    );
    let witnesses: Vec<_> = table
        .global_table_witnesses()
        .iter()
        .map(|w| (w.region_name(), w.witness_status()))
        .collect();
    assert_eq!(
        witnesses,
        [(Some("us-west-2"), Some(&WitnessStatus::Active))]
    );
    assert!(
        pitr(&aws.dynamodb("us-east-2"), TABLE).await,
        "the replica's own PITR"
    );
    let state = ws.resource(ADDRESS);
    assert_eq!(state["consistency"], "strong");
    assert_eq!(state["witness_region"], "us-west-2");

    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Changing the consistency of an existing table would replace it and lose its items: refused at
/// plan on `consistency` until `allow_data_loss` lets it, with nothing changed meanwhile; then the
/// plan says the items go, and the table is made again strong, and empty.
#[tokio::test]
async fn changing_consistency_needs_allow_data_loss_and_then_replaces_the_table_empty() {
    use aws_sdk_dynamodb::types::{AttributeValue, MultiRegionConsistency};
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(&config(""));
    ws.apply();
    let east1 = aws.dynamodb("us-east-1");
    east1
        .put_item()
        .table_name(TABLE)
        .item("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("PutItem");
    let consistency = |east1: aws_sdk_dynamodb::Client| async move {
        east1
            .describe_table()
            .table_name(TABLE)
            .send()
            .await
            .expect("DescribeTable")
            .table()
            .and_then(|t| t.multi_region_consistency().cloned())
    };

    let strong = r#"  consistency     = "strong"
  replica_regions = ["us-east-2", "us-west-2"]"#;
    ws.config(&config(strong));
    let errors = ws.plan_errors();
    let refusal = crate::support::assert_one_error_on(&errors, r#"consistency     = "strong""#);
    assert!(
        refusal["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Every item it holds (all sessions) is lost")
                && d.contains("allow_data_loss = true")),
        "{refusal}"
    );
    assert_ne!(
        consistency(east1.clone()).await,
        Some(MultiRegionConsistency::Strong),
        "nothing changed"
    );

    ws.config(&config(&format!("{strong}\n  allow_data_loss = true")));
    let plan = ws.plan_with_changes();
    assert!(plan.contains("forces replacement"), "{plan}");
    let run = ws.plan();
    assert!(
        run.text()
            .contains("Every item it holds (all sessions) is lost"),
        "{}",
        run.text()
    );
    ws.apply();
    assert_eq!(
        consistency(east1.clone()).await,
        Some(MultiRegionConsistency::Strong)
    );
    let item = east1
        .get_item()
        .table_name(TABLE)
        .key("sessionId", AttributeValue::S("s1".into()))
        .send()
        .await
        .expect("GetItem");
    assert!(item.item().is_none(), "made again, empty");
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_strong_table_aws_would_refuse_is_refused_at_plan_time_on_its_attribute() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let cases = [
        (
            r#"consistency = "strong"
  replica_regions = ["us-east-2"]"#,
            "replica_regions",
            "exactly three Regions",
        ),
        (
            r#"consistency = "strong"
  region          = "eu-west-1"
  replica_regions = ["eu-west-2", "eu-west-3"]
  witness_region  = "eu-central-1""#,
            "replica_regions",
            "exactly three Regions",
        ),
        (
            r#"consistency = "strong"
  replica_regions = ["eu-west-1"]
  witness_region  = "us-east-2""#,
            "replica_regions",
            "within one Region set",
        ),
        (
            r#"consistency = "strong"
  replica_regions = ["us-west-1"]
  witness_region  = "us-east-2""#,
            "replica_regions",
            "Unsupported Region(s)",
        ),
        (
            r#"consistency = "strong"
  replica_regions = ["us-east-2"]
  witness_region  = "sa-east-1""#,
            "witness_region",
            "Unsupported Region(s)",
        ),
        (
            r#"consistency = "strong"
  replica_regions = ["us-east-2"]
  witness_region  = "us-east-1""#,
            "witness_region",
            "third Region",
        ),
        (
            r#"consistency = "strong"
  region          = "us-west-1"
  replica_regions = ["us-east-2"]
  witness_region  = "us-west-2""#,
            "region",
            "Unsupported Region(s)",
        ),
        (
            r#"witness_region = "us-west-2""#,
            "witness_region",
            "strongly consistent (MRSC) global table only",
        ),
        (
            r#"consistency = "linear""#,
            "consistency",
            "not a consistency",
        ),
    ];
    for (body, attribute, message) in cases {
        ws.assert_refused(
            &format!(
                "resource \"tap_session_table\" \"bad\" {{
  environment_suffix = \"acc\"
  {body}
}}
"
            ),
            attribute,
            message,
        );
    }
    assert_nothing_left(&aws).await;
}
