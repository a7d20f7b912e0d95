//! Resource identity (plugin protocol 6.9): state after apply carries each object's identity,
//! and `import { identity = {...} }` finds the same objects the import ID does, for the
//! composite and for a regional stack, followed by an empty plan.

use aws_sdk_ec2::types::Filter;
use serde_json::{json, Value};

use crate::support::{assert_nothing_left, terraform_at_least, LocalAws, Workspace};
use crate::trading_failover;

/// The account the local AWS's credentials belong to, asked of its STS.
async fn account(aws: &LocalAws) -> String {
    aws_sdk_sts::Client::new(&aws.sdk_config("us-east-1"))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity")
        .account()
        .expect("account")
        .to_owned()
}

/// The ID of the one VPC of stack `suffix` the local AWS holds in `region`.
pub(crate) async fn vpc_in(aws: &LocalAws, region: &str, suffix: &str) -> String {
    let vpcs = aws
        .ec2(region)
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:tap:stack")
                .values(suffix)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcs");
    assert_eq!(vpcs.vpcs().len(), 1, "one VPC of {suffix} in {region}");
    vpcs.vpcs()[0].vpc_id().expect("VPC ID").to_owned()
}

/// The resource `address` as `terraform show -json` has it (values, identity and its version).
fn shown(ws: &Workspace, address: &str) -> Value {
    let state = ws.state();
    state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        .cloned()
        .unwrap_or_else(|| panic!("{address} not in state: {state}"))
}

fn import_block(address: &str, identity: &str) -> String {
    format!("import {{\n  to       = {address}\n  identity = {{\n{identity}\n  }}\n}}\n")
}

/// With only an import block by `identity` in the configuration, the resource block Terraform
/// writes (`plan -generate-config-out`), left beside it for the next run.
fn generated_block(ws: &Workspace, address: &str, identity: &str) -> String {
    ws.config(&import_block(address, identity));
    ws.must(&[
        "plan",
        "-generate-config-out=generated.tf",
        "-input=false",
        "-no-color",
    ]);
    std::fs::read_to_string(ws.dir().join("generated.tf")).expect("generated.tf")
}

#[tokio::test]
async fn the_composite_is_imported_by_identity_and_state_carries_it() {
    if !terraform_at_least(12, "resource identity") {
        return;
    }
    const ADDRESS: &str = "tap_trading_failover.prod";
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let config = trading_failover::config("");
    ws.config(&config);
    ws.apply();
    let account = account(&aws).await;
    let applied = shown(&ws, ADDRESS);
    assert_eq!(
        applied["identity"],
        json!({
            "account_id": account,
            "environment_suffix": "acc",
            "primary_region": "us-east-1",
            "standby_region": "us-east-2",
        }),
        "{applied:#}"
    );
    assert_eq!(applied["identity_schema_version"], 0);

    assert_eq!(ws.run(&["state", "rm", ADDRESS]).code, 0);
    // Another account's identity is refused before anything reaches state.
    ws.config(&format!(
        "{config}\n{}",
        import_block(
            ADDRESS,
            "    environment_suffix = \"acc\"\n    account_id = \"999999999999\""
        )
    ));
    let refused = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_ne!(refused.code, 0, "{}", refused.text());
    // Terraform wraps the detail at the terminal's width.
    let said = refused
        .text()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        said.contains(&format!(
            "names AWS account 999999999999; the provider's credentials are for account {account}"
        )),
        "{said}"
    );

    // The suffix alone (regions default, account from the credentials) finds the system, and
    // Terraform writes its resource block.
    let generated = generated_block(&ws, ADDRESS, "    environment_suffix = \"acc\"");
    assert!(
        generated.contains(trading_failover::DOMAIN),
        "the domain is missing from:\n{generated}"
    );
    ws.apply();
    let imported = shown(&ws, ADDRESS);
    assert_eq!(imported["identity"], applied["identity"]);
    for (attr, region) in [
        ("primary_vpc_id", "us-east-1"),
        ("standby_vpc_id", "us-east-2"),
    ] {
        assert_eq!(
            imported["values"][attr],
            json!(vpc_in(&aws, region, "acc").await),
            "{attr}"
        );
    }
    assert_eq!(imported["values"]["parts"], applied["values"]["parts"]);
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_regional_stack_is_imported_by_region_and_suffix() {
    if !terraform_at_least(12, "resource identity") {
        return;
    }
    const ADDRESS: &str = "tap_regional_stack.standby";
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let resource = "resource \"tap_regional_stack\" \"standby\" {\n  environment_suffix = \"net\"\n  role               = \"standby\"\n}\n";
    ws.config(resource);
    ws.apply();
    let applied = shown(&ws, ADDRESS);
    assert_eq!(
        applied["identity"],
        json!({
            "account_id": account(&aws).await,
            "region": "us-east-2",
            "environment_suffix": "net",
            "role": "standby",
        }),
        "{applied:#}"
    );

    // With only the import block, Terraform writes the resource block from what was imported.
    assert_eq!(ws.run(&["state", "rm", ADDRESS]).code, 0);
    let identity = "    region             = \"us-east-2\"\n    environment_suffix = \"net\"\n    role               = \"standby\"";
    let generated = generated_block(&ws, ADDRESS, identity);
    for line in [
        "resource \"tap_regional_stack\" \"standby\" {",
        "environment_suffix",
        "\"net\"",
        "\"standby\"",
        "\"us-east-2\"",
    ] {
        assert!(
            generated.contains(line),
            "{line} missing from:\n{generated}"
        );
    }
    ws.apply();
    let imported = shown(&ws, ADDRESS);
    assert_eq!(imported["identity"], applied["identity"]);
    assert_eq!(
        imported["values"]["vpc_id"],
        json!(vpc_in(&aws, "us-east-2", "net").await)
    );
    for attr in ["public_subnet_ids", "private_subnet_ids", "nat_gateway_ids"] {
        assert_eq!(imported["values"][attr], applied["values"][attr], "{attr}");
    }
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}
