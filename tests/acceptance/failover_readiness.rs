//! `tap_failover_readiness` against a real stack: ready when healthy, and each fault that would
//! break failover (standby scaled to 0, replica deleted, alarm action removed, health check
//! disabled, no confirmed subscription, weights changed out of band) makes it not ready with
//! the finding on the right part. `terraform apply` then repairs the stack and it is ready again.

use aws_sdk_dynamodb::types::{DeleteReplicationGroupMemberAction, ReplicationGroupUpdate};
use aws_sdk_route53::types::{AliasTarget, ResourceRecordSet, RrType};

use crate::support::{assert_nothing_left, upsert_record, LocalAws, Workspace};

const DATA: &str = "data.tap_failover_readiness.prod";

const CONFIG: &str = r#"resource "tap_trading_failover" "prod" {
  environment_suffix = "acc"
  domain_name        = "trading-acc.tap-test.net"
  alarm_emails       = ["oncall@example.com"]
}

data "tap_failover_readiness" "prod" {
  environment_suffix = tap_trading_failover.prod.id
  domain_name        = tap_trading_failover.prod.domain_name
  rto_seconds        = 120
  depends_on         = [tap_trading_failover.prod]
}
"#;

/// (ready, parts of the error findings) as the data source last read them.
fn readiness(ws: &Workspace) -> (bool, Vec<String>) {
    readiness_of(ws, DATA)
}

fn readiness_of(ws: &Workspace, address: &str) -> (bool, Vec<String>) {
    let values = ws.resource(address);
    let errors = values["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["part"].as_str().unwrap_or_default().to_owned())
        .collect();
    (values["ready"].as_bool().expect("ready"), errors)
}

fn refresh(ws: &Workspace) {
    let run = ws.run(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(run.code, 0, "{}", run.text());
}

async fn zone_id(aws: &LocalAws) -> String {
    let zones = aws
        .route53()
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    zones.hosted_zones()[0].id().to_owned()
}

/// The messages of the findings on `part`.
fn messages(ws: &Workspace, part: &str) -> Vec<String> {
    ws.resource(DATA)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["part"] == part)
        .map(|f| f["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The on-call address confirms what SNS sent it, and the data source reads again.
fn confirm(aws: &LocalAws, ws: &Workspace) {
    if aws.confirm_subscriptions("oncall@example.com") > 0 {
        refresh(ws);
    }
}

#[tokio::test]
async fn ready_when_healthy_and_each_fault_is_found_then_repaired() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(CONFIG);
    ws.apply();
    // Until the on-call address confirms, the alarms reach nobody.
    let (ready, _) = readiness(&ws);
    assert!(!ready, "{:#}", ws.resource(DATA));
    assert!(
        messages(&ws, "notifications")
            .iter()
            .any(|m| m.starts_with("2 subscriptions pending confirmation")),
        "{:#}",
        ws.resource(DATA)
    );
    confirm(&aws, &ws);
    assert_eq!(readiness(&ws), (true, vec![]), "{:#}", ws.resource(DATA));
    assert_eq!(ws.resource(DATA)["findings"], serde_json::json!([]));
    // 10 s × 3, one more interval through the switch's calculated check, 60 s alias TTL.
    assert_eq!(ws.resource(DATA)["estimated_failover_seconds"], 100);

    let check_id = aws
        .route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks")
        .health_checks()[0]
        .id()
        .to_owned();
    let standby_topic = ws.resource("tap_trading_failover.prod")["standby_topic_arn"]
        .as_str()
        .expect("topic")
        .to_owned();

    for (fault, part) in [
        ("standby scaled to 0", "standby capacity"),
        ("replica deleted", "session table"),
        ("alarm action removed", "alarms"),
        ("health check disabled", "health check"),
        ("no confirmed subscription", "notifications"),
        ("weights changed", "records"),
        ("health checkers shut out", "entry"),
    ] {
        match fault {
            "standby scaled to 0" => {
                aws.autoscaling("us-east-2")
                    .update_auto_scaling_group()
                    .auto_scaling_group_name("asg-standby-acc")
                    .min_size(0)
                    .desired_capacity(0)
                    .send()
                    .await
                    .expect("UpdateAutoScalingGroup");
            }
            "replica deleted" => {
                aws.dynamodb("us-east-1")
                    .update_table()
                    .table_name("trading-sessions-acc")
                    .replica_updates(
                        ReplicationGroupUpdate::builder()
                            .delete(
                                DeleteReplicationGroupMemberAction::builder()
                                    .region_name("us-east-2")
                                    .build()
                                    .expect("action"),
                            )
                            .build(),
                    )
                    .send()
                    .await
                    .expect("UpdateTable");
            }
            "alarm action removed" => {
                let cw = aws.cloudwatch("us-east-1");
                let alarms = cw
                    .describe_alarms()
                    .alarm_names("failover-health-check-acc")
                    .send()
                    .await
                    .expect("DescribeAlarms");
                let a = &alarms.metric_alarms()[0];
                cw.put_metric_alarm()
                    .alarm_name("failover-health-check-acc")
                    .set_namespace(a.namespace().map(str::to_owned))
                    .set_metric_name(a.metric_name().map(str::to_owned))
                    .set_dimensions(Some(a.dimensions().to_vec()))
                    .set_statistic(a.statistic().cloned())
                    .set_period(a.period())
                    .set_evaluation_periods(a.evaluation_periods())
                    .set_threshold(a.threshold())
                    .set_comparison_operator(a.comparison_operator().cloned())
                    .send()
                    .await
                    .expect("PutMetricAlarm without actions");
            }
            "health check disabled" => {
                aws.route53()
                    .update_health_check()
                    .health_check_id(&check_id)
                    .disabled(true)
                    .send()
                    .await
                    .expect("UpdateHealthCheck");
            }
            "no confirmed subscription" => {
                let sns = aws.sns("us-east-2");
                let subscriptions = sns
                    .list_subscriptions_by_topic()
                    .topic_arn(&standby_topic)
                    .send()
                    .await
                    .expect("ListSubscriptionsByTopic");
                for s in subscriptions.subscriptions() {
                    sns.unsubscribe()
                        .subscription_arn(s.subscription_arn().unwrap_or_default())
                        .send()
                        .await
                        .expect("Unsubscribe");
                }
            }
            "health checkers shut out" => {
                let ec2 = aws.ec2("us-east-1");
                let groups = ec2
                    .describe_security_groups()
                    .filters(
                        aws_sdk_ec2::types::Filter::builder()
                            .name("group-name")
                            .values("alb-sg-primary-acc")
                            .build(),
                    )
                    .send()
                    .await
                    .expect("DescribeSecurityGroups");
                let group = groups.security_groups()[0]
                    .group_id()
                    .expect("id")
                    .to_owned();
                ec2.revoke_security_group_ingress()
                    .group_id(&group)
                    .ip_protocol("tcp")
                    .from_port(80)
                    .to_port(80)
                    .cidr_ip("0.0.0.0/0")
                    .send()
                    .await
                    .expect("RevokeSecurityGroupIngress");
            }
            _ => {
                let stack = ws.resource("tap_trading_failover.prod");
                let standby = ResourceRecordSet::builder()
                    .name("trading-acc.tap-test.net")
                    .r#type(RrType::A)
                    .set_identifier("standby")
                    .weight(100)
                    .alias_target(
                        AliasTarget::builder()
                            .hosted_zone_id("Z2P70J7EXAMPLE")
                            .dns_name(stack["standby_alb_dns_name"].as_str().unwrap_or_default())
                            .evaluate_target_health(true)
                            .build()
                            .expect("alias"),
                    )
                    .build()
                    .expect("record");
                upsert_record(&aws.route53(), &zone_id(&aws).await, standby).await;
            }
        }
        refresh(&ws);
        let (ready, errors) = readiness(&ws);
        assert!(!ready, "{fault}: still ready: {:#}", ws.resource(DATA));
        assert!(
            errors.iter().any(|p| p == part),
            "{fault}: no {part} error in {errors:?}"
        );
        // The provider repairs what it configured (a new subscription waits for its owner);
        // then failover would work again.
        ws.apply();
        confirm(&aws, &ws);
        assert_eq!(
            readiness(&ws),
            (true, vec![]),
            "{fault} after apply: {:#}",
            ws.resource(DATA)
        );
    }

    // The standby's copy of the sessions keeps its own recovery: turned off there, it is a
    // warning on the session table (failover still works), and apply turns it on again.
    aws.dynamodb("us-east-2")
        .update_continuous_backups()
        .table_name("trading-sessions-acc")
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    refresh(&ws);
    assert!(
        messages(&ws, "session table")
            .iter()
            .any(|m| m.contains("replica in us-east-2 has no point-in-time recovery")),
        "{:#}",
        ws.resource(DATA)
    );
    ws.apply();
    assert_eq!(readiness(&ws), (true, vec![]));
    assert!(messages(&ws, "session table").is_empty());

    // An RTO below the estimate is itself a finding.
    ws.config(&CONFIG.replace("rto_seconds        = 120", "rto_seconds        = 60"));
    ws.apply();
    assert_eq!(readiness(&ws), (false, vec!["failover time".to_owned()]));

    // The documented guard: a postcondition that fails the plan while failover would not work.
    ws.config(&format!(
        "{}\n{}",
        CONFIG.split("data ").next().unwrap_or_default(),
        r#"data "tap_failover_readiness" "guard" {
  environment_suffix = "acc"
  domain_name        = "trading-acc.tap-test.net"
  lifecycle {
    postcondition {
      condition     = self.ready
      error_message = join("; ", [for f in self.findings : "${f.part}: ${f.message}" if f.severity == "error"])
    }
  }
}
"#
    ));
    ws.assert_plan_empty();
    aws.autoscaling("us-east-2")
        .update_auto_scaling_group()
        .auto_scaling_group_name("asg-standby-acc")
        .min_size(0)
        .desired_capacity(0)
        .send()
        .await
        .expect("UpdateAutoScalingGroup");
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(plan.code, 0, "the plan must fail: {}", plan.text());
    assert!(plan.text().contains("standby capacity"), "{}", plan.text());

    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn a_stack_is_found_from_its_suffix_alone_whatever_its_domain_and_regions() {
    const FOUND: &str = "data.tap_failover_readiness.found";
    const EXPECTED: &str = "data.tap_failover_readiness.expected";
    let stack = r#"resource "tap_trading_failover" "west" {
  environment_suffix = "west"
  domain_name        = "trading-west.tap-test.net"
  alarm_emails       = ["oncall@tap-test.net"]
  primary {
    region = "us-west-2"
  }
  standby {
    region = "us-east-1"
  }
}

data "tap_failover_readiness" "found" {
  environment_suffix = tap_trading_failover.west.id
  depends_on         = [tap_trading_failover.west]
}
"#;
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    ws.config(stack);
    ws.apply();
    // The composite shows the addresses waiting for confirmation, and plans nothing for them.
    assert_eq!(
        ws.resource("tap_trading_failover.west")["pending_alarm_emails"],
        serde_json::json!(["oncall@tap-test.net"])
    );
    ws.assert_plan_empty();
    assert_eq!(aws.confirm_subscriptions("oncall@tap-test.net"), 2);
    refresh(&ws);
    assert_eq!(
        readiness_of(&ws, FOUND),
        (true, vec![]),
        "{:#}",
        ws.resource(FOUND)
    );
    let found = ws.resource(FOUND);
    assert_eq!(found["findings"], serde_json::json!([]));
    assert_eq!(found["domain_name"], "trading-west.tap-test.net");
    assert_eq!(found["primary_region"], "us-west-2");
    assert_eq!(found["standby_region"], "us-east-1");
    assert_eq!(found["active_region"], "primary");
    assert_eq!(
        (&found["health_check_interval"], &found["failure_threshold"]),
        (&serde_json::json!(10), &serde_json::json!(3))
    );

    // Arguments are expectations: one unlike the stack is an error on its own.
    ws.config(&format!(
        "{stack}\n{}",
        r#"data "tap_failover_readiness" "expected" {
  environment_suffix = tap_trading_failover.west.id
  domain_name        = "trading-west.tap-test.net"
  primary_region     = "us-west-2"
  standby_region     = "us-east-2"
  depends_on         = [tap_trading_failover.west]
}
"#
    ));
    ws.apply();
    assert_eq!(
        readiness_of(&ws, EXPECTED),
        (false, vec!["expectations".to_owned()]),
        "{:#}",
        ws.resource(EXPECTED)
    );
    let finding = &ws.resource(EXPECTED)["findings"][0];
    assert_eq!(
        finding["message"],
        "standby_region is us-east-2 here, but the stack's is us-east-1."
    );

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The certificates each load balancer serves: none found while they are issued with a year to
/// go; one re-imported with ten days left is a warning whose fix says ACM will not renew it; once
/// it has expired, an error, and the system is not ready.
#[tokio::test]
async fn a_certificate_expiring_within_30_days_is_a_warning_and_an_expired_one_an_error() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws);
    let domain = "trading-acc.tap-test.net";
    let primary = aws.certificate_in("us-east-1", domain);
    let standby = aws.certificate_in("us-east-2", domain);
    ws.config(&format!(
        r#"resource "tap_trading_failover" "prod" {{
  environment_suffix = "acc"
  domain_name        = "{domain}"
  alarm_emails       = ["oncall@example.com"]
  primary {{
    certificate_arn = "{primary}"
    nat_mode        = "none"
  }}
  standby {{
    certificate_arn = "{standby}"
    nat_mode        = "none"
  }}
}}

data "tap_failover_readiness" "prod" {{
  environment_suffix = tap_trading_failover.prod.id
  depends_on         = [tap_trading_failover.prod]
}}
"#
    ));
    ws.apply();
    confirm(&aws, &ws);
    assert_eq!(readiness(&ws), (true, vec![]), "{:#}", ws.resource(DATA));
    assert_eq!(messages(&ws, "certificates"), Vec::<String>::new());

    // Renewed by hand onto the same ARN, as imported certificates are, but for ten days less
    // an hour: 9 whole days left, whichever way the certificate's and the read's seconds round.
    aws.import_certificate("us-east-2", domain, 10 * 86_400 - 3_600, Some(&standby));
    refresh(&ws);
    assert_eq!(readiness(&ws), (true, vec![]), "{:#}", ws.resource(DATA));
    let warning = &ws.resource(DATA)["findings"][0];
    assert_eq!(
        (&warning["severity"], &warning["part"]),
        (&"warning".into(), &"certificates".into())
    );
    let message = warning["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "the standby load balancer's certificate {standby} expires in 9 days ("
        )),
        "{message}"
    );
    assert!(
        warning["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("never renews an imported certificate"),
        "{warning}"
    );

    aws.import_certificate("us-east-2", domain, 2, Some(&standby));
    std::thread::sleep(std::time::Duration::from_secs(3));
    refresh(&ws);
    assert_eq!(
        readiness(&ws),
        (false, vec!["certificates".to_owned()]),
        "{:#}",
        ws.resource(DATA)
    );
    assert_eq!(
        messages(&ws, "certificates"),
        [format!("the standby load balancer serves certificate {standby}, which is EXPIRED: clients refuse the connection whenever traffic is on the standby.")]
    );

    ws.destroy();
    assert_nothing_left(&aws).await;
}
