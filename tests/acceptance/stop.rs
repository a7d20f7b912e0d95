//! Terraform's stop (Ctrl-C) during an apply: the provider's waits end at once, the apply fails
//! with a diagnostic, state keeps what was made, and a destroy then leaves nothing.

use std::time::{Duration, Instant};

use crate::identity::vpc_in;
use crate::support::{
    assert_nothing_left, lists_with_null_items, running, settles, LocalAws, Workspace,
};

const STACK: &str =
    "resource \"tap_regional_stack\" \"primary\" {\n  environment_suffix = \"stop\"\n}\n";

/// Whether the stack's NAT gateway exists and is pending: the apply is in a wait.
async fn nat_pending(aws: &LocalAws) -> bool {
    let out = aws
        .ec2("us-east-1")
        .describe_nat_gateways()
        .send()
        .await
        .expect("DescribeNatGateways");
    out.nat_gateways()
        .iter()
        .any(|n| n.state().is_some_and(|s| s.as_str() == "pending"))
}

#[tokio::test]
async fn terraforms_stop_ends_the_waits_and_state_keeps_what_was_made() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(STACK);
    // Nothing asynchronous settles: without the stop, the apply would wait out its timeout.
    aws.get_text("/localaws/pending/hold");
    let apply = ws.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    settles("the NAT gateway pending", true, || nat_pending(&aws)).await;
    let plugins = apply.plugins();
    assert_eq!(plugins.len(), 1, "one provider plugin running: {plugins:?}");

    apply.interrupt();
    let stopped = Instant::now();
    let run = apply
        .wait_within(Duration::from_secs(30))
        .expect("Terraform ended within 30 s of the stop");
    let took = stopped.elapsed();
    assert_ne!(run.code, 0, "{}", run.text());
    let text = run.text().replace('\n', " ");
    assert!(
        text.contains("Terraform stopped the run while this waited (last state: "),
        "the diagnostic says what the wait was for: {text}"
    );
    assert!(
        !running(plugins[0]),
        "the provider ended with Terraform (took {took:?})"
    );

    // State has the stack, with the VPC the local AWS holds.
    let partial = ws.resource("tap_regional_stack.primary");
    assert_eq!(
        partial["vpc_id"].as_str(),
        Some(vpc_in(&aws, "us-east-1", "stop").await.as_str()),
        "{partial:#}"
    );
    assert_eq!(
        lists_with_null_items(&partial),
        Vec::<String>::new(),
        "{partial:#}"
    );

    // AWS settles again; the destroy finds everything through state and leaves nothing.
    aws.get_text("/localaws/pending/release");
    ws.destroy();
    assert_nothing_left(&aws).await;
}
