//! List resources for `terraform query` (plugin protocol 6.10, Terraform 1.14+): what one
//! workspace built is found in another by its ownership marks, each type on its own (a failover
//! system's parts are the system's, not offered alone); the configuration
//! `-generate-config-out` writes imports them and then plans empty; `limit` and the `config`
//! filter narrow the listing; a failed search comes back as a diagnostic.

use serde_json::Value;

use crate::dns_failover;
use crate::identity::vpc_in;
use crate::support::terraform_at_least;
use crate::support::{alerting_leaks, assert_nothing_left, LocalAws, Workspace};

const STACKS: &str = r#"resource "tap_regional_stack" "a" {
  environment_suffix = "qa"
  role               = "primary"
}

resource "tap_regional_stack" "b" {
  environment_suffix = "qb"
  role               = "standby"
}
"#;

/// `terraform query -json` with `list` as the only query file: (exit code, the found results'
/// messages, the error and warning diagnostics).
fn query(ws: &Workspace, list: &str, extra: &[&str]) -> (i32, Vec<Value>, Vec<Value>) {
    std::fs::write(ws.dir().join("main.tfquery.hcl"), list).expect("writing the query file");
    let mut args = vec!["query", "-json", "-no-color"];
    args.extend_from_slice(extra);
    let run = ws.run(&args);
    let lines: Vec<Value> = (run.stdout.lines())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let found = (lines.iter())
        .filter(|l| l["type"] == "list_resource_found")
        .map(|l| l["list_resource_found"].clone())
        .collect();
    let errors = (lines.iter())
        .filter(|l| l["@level"] == "error" || l["@level"] == "warn")
        .map(|l| l["diagnostic"].clone())
        // Every run in the harness has it (the built provider is a development override).
        .filter(|d| d["summary"] != "Provider development overrides are in effect")
        .collect();
    (run.code, found, errors)
}

/// `list "<kind>" "<name>"` with the provider, then `body` (a `limit` or a `config` block).
fn list_block(kind: &str, name: &str, body: &str) -> String {
    format!("list \"{kind}\" \"{name}\" {{\n  provider = tap\n{body}}}\n")
}

/// Applies the import and resource blocks `terraform query -generate-config-out` writes for
/// `list`: they import `count` objects and add nothing, and the next plan is empty.
fn import_what_is_found(finder: &Workspace, list: &str, count: usize) {
    let (code, found, errors) = query(finder, list, &["-generate-config-out=found.tf"]);
    assert_eq!((code, &errors), (0, &vec![]), "{found:#?}");
    let generated = std::fs::read_to_string(finder.dir().join("found.tf")).expect("found.tf");
    assert_eq!(generated.matches("import {").count(), count, "{generated}");
    std::fs::remove_file(finder.dir().join("main.tfquery.hcl")).expect("removing the query");
    let applied = finder.apply();
    let summary = format!("{count} imported, 0 added, 0 changed, 0 destroyed");
    assert!(applied.stdout.contains(&summary), "{}", applied.stdout);
    finder.assert_plan_empty();
}

/// The values of every resource of `kind` in the workspace's state.
fn in_state(ws: &Workspace, kind: &str) -> Vec<Value> {
    let state = ws.state();
    (state["values"]["root_module"]["resources"].as_array())
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == kind)
        .map(|r| r["values"].clone())
        .collect()
}

fn display_names(found: &[Value]) -> Vec<&str> {
    found
        .iter()
        .map(|f| f["display_name"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn stacks_built_elsewhere_are_listed_imported_and_plan_empty() {
    let aws = LocalAws::start();
    let builder = Workspace::new(&aws);
    if !terraform_at_least(14, "list resources") {
        return;
    }
    builder.config(STACKS);
    builder.apply();

    // Another workspace, with nothing in its state, finds both.
    let finder = Workspace::new(&aws);
    finder.config("");
    let all = "list \"tap_regional_stack\" \"all\" {\n  provider = tap\n}\n";
    let (code, found, errors) = query(&finder, all, &[]);
    assert_eq!((code, &errors), (0, &vec![]), "{found:#?}");
    assert_eq!(
        display_names(&found),
        [
            "qa primary stack in us-east-1",
            "qb standby stack in us-east-2"
        ]
    );
    assert_eq!(found[1]["identity"]["role"], "standby");
    assert_eq!(found[1]["identity"]["region"], "us-east-2");

    // `limit` and the filter narrow it.
    let limited = "list \"tap_regional_stack\" \"all\" {\n  provider = tap\n  limit    = 1\n}\n";
    let (code, found, _) = query(&finder, limited, &[]);
    assert_eq!(
        (code, display_names(&found)),
        (0, vec!["qa primary stack in us-east-1"])
    );
    let by_suffix = "list \"tap_regional_stack\" \"qb\" {\n  provider = tap\n  config {\n    environment_suffix = \"qb\"\n  }\n}\n";
    let (code, found, _) = query(&finder, by_suffix, &[]);
    assert_eq!(
        (code, display_names(&found)),
        (0, vec!["qb standby stack in us-east-2"])
    );
    let by_region = "list \"tap_regional_stack\" \"east1\" {\n  provider = tap\n  config {\n    regions = [\"us-east-1\"]\n  }\n}\n";
    let (code, found, _) = query(&finder, by_region, &[]);
    assert_eq!(
        (code, display_names(&found)),
        (0, vec!["qa primary stack in us-east-1"])
    );

    // Terraform writes import and resource blocks for what it found; applied, they import both
    // stacks (the same VPCs the local AWS holds), and the next plan is empty.
    import_what_is_found(&finder, all, 2);
    let mut vpcs: Vec<String> = (in_state(&finder, "tap_regional_stack").iter())
        .map(|v| v["vpc_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    vpcs.sort();
    let mut held = vec![
        vpc_in(&aws, "us-east-1", "qa").await,
        vpc_in(&aws, "us-east-2", "qb").await,
    ];
    held.sort();
    assert_eq!(vpcs, held);

    // The finder now manages both; destroying there leaves nothing.
    finder.destroy();
    assert_nothing_left(&aws).await;
}

const SYSTEMS: &str = r#"resource "tap_trading_failover" "a" {
  environment_suffix = "qa"
  domain_name        = "trading-qa.tap-test.net"
}

resource "tap_trading_failover" "b" {
  environment_suffix = "qb"
  domain_name        = "trading-qb.tap-test.net"
}
"#;

#[tokio::test]
async fn failover_systems_built_elsewhere_are_listed_imported_and_plan_empty() {
    let aws = LocalAws::start();
    let builder = Workspace::new(&aws);
    if !terraform_at_least(14, "list resources") {
        return;
    }
    builder.config(SYSTEMS);
    builder.apply();

    let finder = Workspace::new(&aws);
    finder.config("");
    let all = list_block("tap_trading_failover", "all", "");
    let (code, found, errors) = query(&finder, &all, &[]);
    assert_eq!((code, &errors), (0, &vec![]), "{found:#?}");
    assert_eq!(
        display_names(&found),
        [
            "qa: us-east-1 (primary), us-east-2 (standby)",
            "qb: us-east-1 (primary), us-east-2 (standby)"
        ]
    );
    assert_eq!(found[1]["identity"]["environment_suffix"], "qb");
    assert_eq!(found[1]["identity"]["standby_region"], "us-east-2");

    // A system's stacks, table and DNS failover are its own: none is offered alone.
    for kind in [
        "tap_regional_stack",
        "tap_session_table",
        "tap_dns_failover",
    ] {
        let (code, found, errors) = query(&finder, &list_block(kind, "parts", ""), &[]);
        assert_eq!(
            (code, display_names(&found), &errors),
            (0, vec![], &vec![]),
            "{kind}"
        );
    }

    // `limit` and the filter narrow it.
    let limited = list_block("tap_trading_failover", "all", "  limit    = 1\n");
    let (code, found, _) = query(&finder, &limited, &[]);
    assert_eq!((code, found.len()), (0, 1));
    assert_eq!(found[0]["identity"]["environment_suffix"], "qa");
    let by_suffix = list_block(
        "tap_trading_failover",
        "qb",
        "  config {\n    environment_suffix = \"qb\"\n  }\n",
    );
    let (code, found, _) = query(&finder, &by_suffix, &[]);
    assert_eq!((code, found.len()), (0, 1));
    assert_eq!(found[0]["identity"]["environment_suffix"], "qb");

    // Imported in the finder: both systems, on the VPCs the local AWS holds.
    import_what_is_found(&finder, &all, 2);
    let mut vpcs: Vec<(String, String)> = in_state(&finder, "tap_trading_failover")
        .iter()
        .map(|v| {
            let id = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
            (id("primary_vpc_id"), id("standby_vpc_id"))
        })
        .collect();
    vpcs.sort();
    let mut held = Vec::new();
    for suffix in ["qa", "qb"] {
        held.push((
            vpc_in(&aws, "us-east-1", suffix).await,
            vpc_in(&aws, "us-east-2", suffix).await,
        ));
    }
    held.sort();
    assert_eq!(vpcs, held);
    finder.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_session_table_is_listed_once_without_its_replica_and_imported() {
    let aws = LocalAws::start();
    let builder = Workspace::new(&aws);
    if !terraform_at_least(14, "list resources") {
        return;
    }
    builder.config("resource \"tap_session_table\" \"s\" {\n  environment_suffix = \"st\"\n}\n");
    builder.apply();

    let finder = Workspace::new(&aws);
    finder.config("");
    let all = list_block("tap_session_table", "all", "");
    let (code, found, errors) = query(&finder, &all, &[]);
    assert_eq!((code, &errors), (0, &vec![]), "{found:#?}");
    assert_eq!(display_names(&found), ["trading-sessions-st in us-east-1"]);
    assert_eq!(found[0]["identity"]["name"], "trading-sessions-st");
    assert_eq!(found[0]["identity"]["region"], "us-east-1");

    import_what_is_found(&finder, &all, 1);
    let held = aws
        .dynamodb("us-east-1")
        .describe_table()
        .table_name("trading-sessions-st")
        .send()
        .await
        .expect("DescribeTable");
    let arn = held.table().and_then(|t| t.table_arn()).expect("table ARN");
    assert_eq!(in_state(&finder, "tap_session_table")[0]["arn"], arn);
    finder.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_dns_failover_in_a_zone_of_the_users_is_listed_and_imported() {
    let stack = dns_failover::Stack::start().await;
    if !terraform_at_least(14, "list resources") {
        return;
    }
    let zone_id = stack.apply_in_users_zone().await;

    let finder = Workspace::new(&stack.aws);
    finder.config("");
    let all = list_block("tap_dns_failover", "all", "");
    let (code, found, problems) = query(&finder, &all, &[]);
    assert_eq!((code, &problems), (0, &vec![]), "{found:#?}");
    assert_eq!(display_names(&found), ["acc: trade.tap-test.org"]);
    assert_eq!(found[0]["identity"]["environment_suffix"], "acc");
    assert_eq!(found[0]["identity"]["hosted_zone_id"], zone_id.as_str());

    import_what_is_found(&finder, &all, 1);
    assert_eq!(
        in_state(&finder, "tap_dns_failover")[0]["zone_id"],
        zone_id.as_str()
    );
    // Destroyed from the finder: the records and alerting go, the user's zone stays.
    finder.destroy();
    let leaks = alerting_leaks(&stack.aws, Some(&zone_id)).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

#[tokio::test]
async fn a_failed_search_is_a_diagnostic_and_a_bad_filter_is_refused() {
    // EC2 fails the first DescribeVpcs, as AWS may: the provider does not retry (max_retries 0).
    let aws = LocalAws::start_with_faults("DescribeVpcs");
    let ws = Workspace::new(&aws);
    if !terraform_at_least(14, "list resources") {
        return;
    }
    ws.config("");
    let bad = "list \"tap_regional_stack\" \"x\" {\n  provider = tap\n  config {\n    regions = [\"us-north-9\"]\n  }\n}\n";
    let (code, _, errors) = query(&ws, bad, &[]);
    assert_ne!(code, 0);
    assert!(
        errors
            .iter()
            .any(|e| e["summary"] == "Invalid value for regions[0]"),
        "{errors:#?}"
    );

    let all = "list \"tap_regional_stack\" \"x\" {\n  provider = tap\n}\n";
    let (code, _, errors) = query(&ws, all, &[]);
    assert_ne!(code, 0);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0]["summary"],
        "Cannot list: searching us-east-1 for the provider's VPCs (EC2 DescribeVpcs)"
    );
    assert!(
        errors[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("InternalError"),
        "{errors:#?}"
    );
    // The failure was once: the next search lists (nothing) and succeeds.
    let (code, found, errors) = query(&ws, all, &[]);
    assert_eq!((code, found.len(), errors.len()), (0, 0, 0));
}

#[tokio::test]
async fn every_list_resources_failed_search_is_a_diagnostic() {
    // The first of each call fails, as AWS may: the provider does not retry (max_retries 0).
    let aws =
        LocalAws::start_with_faults("DescribeVpcs@us-east-2,ListTables@us-east-2,GET healthcheck");
    let ws = Workspace::new(&aws);
    if !terraform_at_least(14, "list resources") {
        return;
    }
    ws.config("");
    let failed = |kind: &str| {
        let (code, found, errors) = query(&ws, &list_block(kind, "x", ""), &[]);
        assert_ne!(code, 0, "{kind}");
        assert_eq!((found.len(), errors.len()), (0, 1), "{kind}: {errors:#?}");
        let detail = errors[0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("Internal"), "{kind}: {detail}");
        errors[0]["summary"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(
        failed("tap_trading_failover"),
        "Cannot list: searching us-east-2 for the provider's VPCs (EC2 DescribeVpcs)"
    );
    assert_eq!(
        failed("tap_session_table"),
        "Cannot list: searching us-east-2 for the provider's session tables (DynamoDB ListTables)"
    );
    assert_eq!(
        failed("tap_dns_failover"),
        "Cannot list: searching Route 53 for the provider's health checks (ListHealthChecks)"
    );
}
