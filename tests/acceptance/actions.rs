//! Actions (plugin protocol 6.10, Terraform 1.14+): `terraform apply -invoke` runs
//! `tap_readiness_check`, whose progress messages reach the user and whose exit status follows
//! what the local AWS holds: a stack that is not there, a ready one, one whose standby was
//! scaled to nothing.

use crate::support::{assert_nothing_left, terraform_at_least, LocalAws, Workspace};

const STACK: &str = r#"resource "tap_trading_failover" "prod" {
  environment_suffix = "acc"
  domain_name        = "trading-acc.tap-test.net"
  alarm_emails       = ["oncall@example.com"]
}
"#;

fn check(suffix: &str) -> String {
    format!(
        "action \"tap_readiness_check\" \"x\" {{\n  config {{\n    environment_suffix = \"{suffix}\"\n    rto_seconds        = 120\n  }}\n}}\n"
    )
}

/// `terraform apply -invoke=action.tap_readiness_check.x`: (exit code, output on one line).
fn invoke(ws: &Workspace) -> (i32, String) {
    let run = ws.run(&[
        "apply",
        "-invoke=action.tap_readiness_check.x",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    // Terraform wraps long lines at the terminal's width.
    let text = run.text().split_whitespace().collect::<Vec<_>>().join(" ");
    (run.code, text)
}

#[tokio::test]
async fn the_readiness_check_streams_its_findings_and_fails_when_failover_would_not_work() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    if !terraform_at_least(14, "actions") {
        return;
    }
    // Nothing of stack "ghost" exists: the check says what it looked for, and fails.
    ws.config(&check("ghost"));
    let (code, said) = invoke(&ws);
    assert_ne!(code, 0, "{said}");
    for part in [
        "locating stack ghost",
        "reading the standby capacity",
        "Stack ghost is not ready to fail over",
    ] {
        assert!(said.contains(part), "{part:?} missing from: {said}");
    }

    ws.config(&format!("{STACK}\n{}", check("acc")));
    ws.apply();
    assert!(aws.confirm_subscriptions("oncall@example.com") > 0);
    let (code, said) = invoke(&ws);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("stack acc: 0 error(s), 0 warning(s); failover would take about 100 s"),
        "{said}"
    );

    // Out of band, the standby loses its capacity: the check names it and fails.
    let asg = aws.autoscaling("us-east-2");
    asg.update_auto_scaling_group()
        .auto_scaling_group_name("asg-standby-acc")
        .min_size(0)
        .desired_capacity(0)
        .send()
        .await
        .expect("UpdateAutoScalingGroup");
    let groups = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-standby-acc")
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    assert_eq!(groups.auto_scaling_groups()[0].desired_capacity(), Some(0));
    let (code, said) = invoke(&ws);
    assert_ne!(code, 0, "{said}");
    assert!(said.contains("error in standby capacity:"), "{said}");
    assert!(
        said.contains("Stack acc is not ready to fail over"),
        "{said}"
    );
    // The action changed nothing: the standby is still at 0.
    let groups = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("asg-standby-acc")
        .send()
        .await
        .expect("DescribeAutoScalingGroups");
    assert_eq!(groups.auto_scaling_groups()[0].desired_capacity(), Some(0));

    ws.config(STACK);
    ws.destroy();
    assert_nothing_left(&aws).await;
}
