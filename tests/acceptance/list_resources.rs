//! List resources for `terraform query` (plugin protocol 6.10, Terraform 1.14+): stacks built
//! in one workspace are found in another by their ownership tags; the configuration
//! `-generate-config-out` writes imports them and then plans empty; `limit` and the `config`
//! filter narrow the listing; a failed search comes back as a diagnostic.

use serde_json::Value;

use crate::identity::vpc_in;
use crate::support::terraform_at_least;
use crate::support::{assert_nothing_left, LocalAws, Workspace};

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
/// messages, the error diagnostics).
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
        .filter(|l| l["@level"] == "error")
        .map(|l| l["diagnostic"].clone())
        .collect();
    (run.code, found, errors)
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
    let (code, found, errors) = query(&finder, all, &["-generate-config-out=found.tf"]);
    assert_eq!((code, &errors), (0, &vec![]), "{found:#?}");
    let generated = std::fs::read_to_string(finder.dir().join("found.tf")).expect("found.tf");
    assert_eq!(generated.matches("import {").count(), 2, "{generated}");
    std::fs::remove_file(finder.dir().join("main.tfquery.hcl")).expect("removing the query");
    let applied = finder.apply();
    assert!(
        applied
            .stdout
            .contains("2 imported, 0 added, 0 changed, 0 destroyed"),
        "{}",
        applied.stdout
    );
    finder.assert_plan_empty();
    let state = finder.state();
    let mut vpcs: Vec<String> = state["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            r["values"]["vpc_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
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
