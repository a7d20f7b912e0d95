//! `tap_dns_failover` end to end against load balancers made through the SDK: create, re-plan,
//! planned failover and back, drift, a health-check replacement, import, a zone of the user's,
//! bad input and destroy, each checked against what the local AWS holds.

use std::collections::HashMap;

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};

use crate::support::{
    alarm_actions, alerting_in, alerting_leaks, assert_refused_once, dns_answer, resolved,
    serving_balancer, settles, upsert_record, LocalAws, Workspace,
};

const ADDRESS: &str = "tap_dns_failover.dns";
const DOMAIN: &str = "trading-acc.tap-test.net";

/// What a `primary { }` / `standby { }` block needs, read from a load balancer we made.
pub(crate) struct Endpoint {
    pub(crate) region: &'static str,
    pub(crate) dns_name: String,
    pub(crate) zone_id: String,
    pub(crate) alb_arn: String,
    pub(crate) target_group_arn: String,
}

impl Endpoint {
    pub(crate) fn block(&self, role: &str) -> String {
        format!(
            "  {role} {{\n    region = \"{}\"\n    alb_dns_name = \"{}\"\n    alb_zone_id = \"{}\"\n    alb_arn = \"{}\"\n    target_group_arn = \"{}\"\n  }}\n",
            self.region, self.dns_name, self.zone_id, self.alb_arn, self.target_group_arn
        )
    }
}

/// A VPC, two subnets, a load balancer and a target group: what `tap_regional_stack` would
/// give the DNS failover, without the minutes it takes.
async fn load_balancer(aws: &LocalAws, region: &'static str, role: &str) -> Endpoint {
    let ec2 = aws.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .and_then(|v| v.vpc_id().map(str::to_owned))
        .expect("VPC ID");
    let zones = ec2
        .describe_availability_zones()
        .send()
        .await
        .expect("DescribeAvailabilityZones");
    let mut subnets = Vec::new();
    for (i, zone) in zones.availability_zones().iter().take(2).enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.9.{i}.0/24"))
            .availability_zone(zone.zone_name().unwrap_or_default())
            .send()
            .await
            .expect("CreateSubnet");
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id().map(str::to_owned))
                .expect("subnet ID"),
        );
    }
    let elb = aws.elbv2(region);
    let lb = elb
        .create_load_balancer()
        .name(format!("alb-{role}-acc"))
        .set_subnets(Some(subnets))
        .send()
        .await
        .expect("CreateLoadBalancer");
    let lb = lb.load_balancers().first().expect("load balancer").clone();
    let tg = elb
        .create_target_group()
        .name(format!("tg-{role}-acc"))
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("CreateTargetGroup");
    let tg = tg.target_groups()[0].clone();
    let forward = aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
        .target_group_arn(tg.target_group_arn().unwrap_or_default())
        .build();
    elb.create_listener()
        .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default())
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(forward)
        .send()
        .await
        .expect("CreateListener");
    Endpoint {
        region,
        dns_name: lb.dns_name().unwrap_or_default().to_owned(),
        zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_owned(),
        alb_arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
        target_group_arn: tg.target_group_arn().unwrap_or_default().to_owned(),
    }
}

pub(crate) struct Stack {
    pub(crate) aws: LocalAws,
    pub(crate) ws: Workspace,
    primary: Endpoint,
    standby: Endpoint,
}

impl Stack {
    pub(crate) async fn start() -> Stack {
        Stack::start_in(LocalAws::start(), ["us-east-1", "us-east-2"]).await
    }

    /// Load balancers in `regions` (primary, standby) of `aws`.
    async fn start_in(aws: LocalAws, regions: [&'static str; 2]) -> Stack {
        let primary = load_balancer(&aws, regions[0], "primary").await;
        let standby = load_balancer(&aws, regions[1], "standby").await;
        Stack::over(aws, primary, standby)
    }

    /// A workspace of `aws` over these two endpoints.
    fn over(aws: LocalAws, primary: Endpoint, standby: Endpoint) -> Stack {
        Stack {
            ws: Workspace::new(&aws),
            aws,
            primary,
            standby,
        }
    }

    fn body(&self, extra: &str) -> String {
        let domain = if extra.contains("domain_name") {
            String::new()
        } else {
            format!("  domain_name = \"{DOMAIN}\"\n")
        };
        format!(
            "resource \"tap_dns_failover\" \"dns\" {{\n  environment_suffix = \"acc\"\n{domain}{extra}\n{}{}}}\n",
            self.primary.block("primary"),
            self.standby.block("standby")
        )
    }

    /// The addresses DNS answers for the primary and for the standby load balancer.
    fn addresses(&self) -> (Vec<String>, Vec<String>) {
        (
            resolved(&self.aws, &self.primary.dns_name),
            resolved(&self.aws, &self.standby.dns_name),
        )
    }

    pub(crate) fn config(&self, extra: &str) {
        self.ws.config(&self.body(extra));
    }

    /// Applies with the records in `trade.tap-test.org` of a zone someone else made; its ID.
    pub(crate) async fn apply_in_users_zone(&self) -> String {
        let zone = (self.aws.route53().create_hosted_zone())
            .name("tap-test.org")
            .caller_reference("someone-else")
            .send()
            .await
            .expect("CreateHostedZone");
        let zone_id = (zone.hosted_zone().expect("zone").id().rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        self.config(&format!(
            "  hosted_zone_id = \"{zone_id}\"\n  domain_name = \"trade.tap-test.org\"\n"
        ));
        self.ws.apply();
        zone_id
    }

    async fn zone_id(&self) -> String {
        let zones = self
            .aws
            .route53()
            .list_hosted_zones()
            .send()
            .await
            .expect("ListHostedZones");
        let zone = zones
            .hosted_zones()
            .iter()
            .find(|z| z.name() == format!("{DOMAIN}."))
            .expect("the hosted zone");
        zone.id().rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// Weight and health check of each weighted record, by set identifier.
    async fn records(&self, zone: &str) -> HashMap<String, (i64, Option<String>, String)> {
        let out = self
            .aws
            .route53()
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .send()
            .await
            .expect("ListResourceRecordSets");
        out.resource_record_sets()
            .iter()
            .filter(|r| r.r#type() == &RrType::A && r.set_identifier().is_some())
            .map(|r| {
                let alias = r.alias_target().expect("alias target");
                assert!(alias.evaluate_target_health(), "{r:?}");
                assert_eq!(r.name(), format!("{DOMAIN}."));
                (
                    r.set_identifier().unwrap_or_default().to_owned(),
                    (
                        r.weight().expect("weight"),
                        r.health_check_id().map(str::to_owned),
                        alias.dns_name().trim_end_matches('.').to_owned(),
                    ),
                )
            })
            .collect()
    }

    async fn weights(&self, zone: &str) -> (i64, i64) {
        let records = self.records(zone).await;
        (records["primary"].0, records["standby"].0)
    }

    async fn alarm(
        &self,
        region: &str,
        name: &str,
    ) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
        self.aws
            .cloudwatch(region)
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .expect("DescribeAlarms")
            .metric_alarms()
            .first()
            .cloned()
    }

    /// The endpoint (HTTP/HTTPS) health checks; the failover switch's are not among them.
    async fn health_checks(&self) -> Vec<aws_sdk_route53::types::HealthCheck> {
        self.aws
            .route53()
            .list_health_checks()
            .send()
            .await
            .expect("ListHealthChecks")
            .health_checks()
            .iter()
            .filter(|c| {
                c.health_check_config()
                    .is_some_and(|c| c.r#type().as_str().starts_with("HTTP"))
            })
            .cloned()
            .collect()
    }

    /// The checks the primary record's (calculated) health check watches.
    async fn record_check_children(&self, zone: &str) -> Vec<String> {
        let record_check = self.records(zone).await["primary"]
            .1
            .clone()
            .expect("the primary record has a health check");
        let check = self
            .aws
            .route53()
            .get_health_check()
            .health_check_id(&record_check)
            .send()
            .await
            .expect("GetHealthCheck");
        let config = check
            .health_check()
            .and_then(|c| c.health_check_config())
            .expect("config");
        assert_eq!(config.r#type().as_str(), "CALCULATED");
        config.child_health_checks().to_vec()
    }
}

fn dimensions(alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> HashMap<String, String> {
    alarm
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_owned(),
                d.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn create_fail_over_and_back_then_destroy() {
    let stack = Stack::start().await;
    stack.config(
        "  alarm_emails = [\"oncall@example.com\"]\n  table_name = \"trading-sessions-acc\"\n",
    );
    stack.ws.apply();
    let zone = stack.zone_id().await;

    // The health check: HTTP on the primary, /health, every 10 s, 3 failures.
    let checks = stack.health_checks().await;
    assert_eq!(checks.len(), 1, "{checks:?}");
    let check = &checks[0];
    let config = check.health_check_config().expect("config");
    assert_eq!(config.r#type().as_str(), "HTTP");
    assert_eq!(
        config.fully_qualified_domain_name(),
        Some(stack.primary.dns_name.as_str())
    );
    assert_eq!(config.resource_path(), Some("/health"));
    assert_eq!(config.port(), Some(80));
    assert_eq!(config.request_interval(), Some(10));
    assert_eq!(config.failure_threshold(), Some(3));
    assert_eq!(config.measure_latency(), Some(true));

    // Both weighted records, the record check (the endpoint check AND the switch) on the
    // primary only.
    let records = stack.records(&zone).await;
    let record_check = stack.ws.resource(ADDRESS)["record_health_check_id"]
        .as_str()
        .expect("record_health_check_id")
        .to_owned();
    assert_eq!(
        records["primary"],
        (
            100,
            Some(record_check.clone()),
            stack.primary.dns_name.clone()
        )
    );
    assert!(stack
        .record_check_children(&zone)
        .await
        .contains(&check.id().to_owned()));
    assert_eq!(
        records["standby"],
        (0, None, stack.standby.dns_name.clone())
    );

    // Topics in both regions, encrypted, with the subscription and a policy for CloudWatch.
    let mut topic_arns = HashMap::new();
    for (role, region) in [("primary", "us-east-1"), ("standby", "us-east-2")] {
        let sns = stack.aws.sns(region);
        let topics = sns.list_topics().send().await.expect("ListTopics");
        let arn = topics
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|a| a.ends_with(&format!(":{role}-failover-notifications-acc")))
            .unwrap_or_else(|| panic!("{role} topic in {region}"))
            .to_owned();
        let attributes = sns
            .get_topic_attributes()
            .topic_arn(&arn)
            .send()
            .await
            .expect("GetTopicAttributes");
        let attributes = attributes.attributes().expect("attributes");
        assert!(
            attributes["KmsMasterKeyId"].starts_with(&format!("arn:aws:kms:{region}:")),
            "a key of the topic's region: {}",
            attributes["KmsMasterKeyId"]
        );
        assert!(
            attributes["Policy"].contains("cloudwatch.amazonaws.com"),
            "{}",
            attributes["Policy"]
        );
        let subscriptions = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .send()
            .await
            .expect("ListSubscriptionsByTopic");
        let emails: Vec<_> = subscriptions
            .subscriptions()
            .iter()
            .map(|s| (s.protocol(), s.endpoint()))
            .collect();
        assert_eq!(emails, [(Some("email"), Some("oncall@example.com"))]);
        topic_arns.insert(role, arn);
    }

    // The alarms: metric, statistic, dimensions, periods and actions.
    let health = stack
        .alarm("us-east-1", "failover-health-check-acc")
        .await
        .expect("health-check alarm");
    assert_eq!(
        (health.namespace(), health.metric_name()),
        (Some("AWS/Route53"), Some("HealthCheckStatus"))
    );
    assert_eq!(health.statistic().map(|s| s.as_str()), Some("Minimum"));
    assert_eq!(
        health.comparison_operator().map(|c| c.as_str()),
        Some("LessThanThreshold")
    );
    assert_eq!(
        (
            health.threshold(),
            health.evaluation_periods(),
            health.period()
        ),
        (Some(1.0), Some(3), Some(60))
    );
    assert_eq!(
        dimensions(&health),
        HashMap::from([("HealthCheckId".into(), check.id().to_owned())])
    );
    assert_eq!(health.alarm_actions(), [topic_arns["primary"].clone()]);
    // Route 53 publishes HealthCheckStatus each minute: the new alarm leaves INSUFFICIENT_DATA
    // for OK while the primary is healthy, without notifying "primary down".
    settles("the health-check alarm", Some("OK".to_owned()), || async {
        let alarm = stack.alarm("us-east-1", "failover-health-check-acc").await;
        alarm.and_then(|a| a.state_value().map(|s| s.as_str().to_owned()))
    })
    .await;

    let traffic = stack
        .alarm("us-east-2", "failover-standby-traffic-acc")
        .await
        .expect("standby-traffic alarm");
    assert_eq!(traffic.metric_name(), Some("RequestCount"));
    assert_eq!(traffic.alarm_actions(), [topic_arns["standby"].clone()]);
    assert_eq!(traffic.actions_enabled(), Some(true));
    let lb_dimension = stack
        .standby
        .alb_arn
        .split_once(":loadbalancer/")
        .expect("ALB ARN")
        .1;
    assert_eq!(dimensions(&traffic)["LoadBalancer"], lb_dimension);

    for (role, region, endpoint) in [
        ("primary", "us-east-1", &stack.primary),
        ("standby", "us-east-2", &stack.standby),
    ] {
        let hosts = stack
            .alarm(region, &format!("failover-unhealthy-hosts-{role}-acc"))
            .await
            .expect("unhealthy-hosts alarm");
        assert_eq!(hosts.metric_name(), Some("UnHealthyHostCount"));
        assert_eq!(hosts.evaluation_periods(), Some(3));
        let dims = dimensions(&hosts);
        assert!(
            endpoint.target_group_arn.ends_with(&dims["TargetGroup"]),
            "{dims:?}"
        );
        assert!(
            endpoint.alb_arn.ends_with(&dims["LoadBalancer"]),
            "{dims:?}"
        );
        assert_eq!(hosts.alarm_actions(), [topic_arns[role].clone()]);
    }
    let latency = stack
        .alarm("us-east-1", "failover-replication-latency-acc")
        .await
        .expect("replication alarm");
    assert_eq!(
        (latency.namespace(), latency.metric_name()),
        (Some("AWS/DynamoDB"), Some("ReplicationLatency"))
    );
    assert_eq!(
        dimensions(&latency),
        HashMap::from([
            ("TableName".into(), "trading-sessions-acc".into()),
            ("ReceivingRegion".into(), "us-east-2".into())
        ])
    );
    stack.ws.assert_plan_empty();
    // State from before the us-east-1 topic existed upgrades without a change.
    stack.ws.edit_state(|attributes| {
        attributes.remove("health_check_topic_arn");
        attributes.remove("health_check_topic_key_arn");
    });
    stack.ws.assert_plan_empty();

    // A system built by the provider before the switch: the primary record on the endpoint
    // check, no switch alarm or checks, and a state without their attributes. It upgrades in
    // place with a plan that names the health-check change and replaces nothing.
    let r53 = stack.aws.route53();
    let endpoint_check = check.id().to_owned();
    let switch_check = stack.ws.resource(ADDRESS)["switch_health_check_id"]
        .as_str()
        .expect("switch_health_check_id")
        .to_owned();
    let record = ResourceRecordSet::builder()
        .name(DOMAIN)
        .r#type(RrType::A)
        .set_identifier("primary")
        .weight(100)
        .health_check_id(&endpoint_check)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&stack.primary.zone_id)
                .dns_name(&stack.primary.dns_name)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
        .build()
        .expect("record");
    upsert_record(&r53, &zone, record).await;
    for id in [&record_check, &switch_check] {
        r53.delete_health_check()
            .health_check_id(id)
            .send()
            .await
            .expect("DeleteHealthCheck");
    }
    stack
        .aws
        .cloudwatch("us-east-2")
        .delete_alarms()
        .alarm_names("failover-switch-acc")
        .send()
        .await
        .expect("DeleteAlarms");
    stack.ws.edit_state(|attributes| {
        for added in [
            "switch_health_check_id",
            "record_health_check_id",
            "break_glass_command",
            "release_command",
        ] {
            attributes.remove(added);
        }
        attributes["alarms"]
            .as_object_mut()
            .expect("alarms")
            .remove("failover-switch-acc");
        let primary = attributes["records"]["primary"]
            .as_str()
            .expect("primary record")
            .replace(&record_check, &endpoint_check);
        attributes["records"]["primary"] = primary.into();
    });
    let plan = stack.ws.plan_updating(&[
        "record_health_check_id",
        "switch_health_check_id",
        "break_glass_command",
        "failover-switch-acc",
    ]);
    assert!(
        !plan.contains("~ health_check_id") && !plan.contains("~ zone_id"),
        "the endpoint check and the zone stay: {plan}"
    );
    stack.ws.apply();
    let record_check = stack.ws.resource(ADDRESS)["record_health_check_id"]
        .as_str()
        .expect("record_health_check_id")
        .to_owned();
    assert_eq!(
        stack.records(&zone).await["primary"].1.as_deref(),
        Some(record_check.as_str())
    );
    assert!(stack
        .record_check_children(&zone)
        .await
        .contains(&endpoint_check));
    assert_eq!(
        stack.health_checks().await[0].id(),
        endpoint_check,
        "the endpoint check was kept"
    );
    stack.ws.assert_plan_empty();

    // Planned failover and back, each one batch; the standby-traffic alarm is silenced meanwhile.
    stack.config("  alarm_emails = [\"oncall@example.com\"]\n  table_name = \"trading-sessions-acc\"\n  active_region = \"standby\"\n");
    stack.ws.apply();
    assert_eq!(stack.weights(&zone).await, (0, 100));
    let traffic = stack
        .alarm("us-east-2", "failover-standby-traffic-acc")
        .await
        .expect("standby-traffic alarm");
    assert_eq!(traffic.actions_enabled(), Some(false));
    stack.ws.assert_plan_empty();
    stack.config("  alarm_emails = [\"oncall@example.com\"]\n  table_name = \"trading-sessions-acc\"\n  active_region = \"primary\"\n");
    stack.ws.apply();
    assert_eq!(stack.weights(&zone).await, (100, 0));
    stack.ws.assert_plan_empty();

    // Dropping the table and the (confirmed) address removes that alarm and the subscriptions.
    assert_eq!(stack.aws.confirm_subscriptions("oncall@example.com"), 2);
    stack.config("");
    stack.ws.apply();
    assert!(stack
        .alarm("us-east-1", "failover-replication-latency-acc")
        .await
        .is_none());
    let subscriptions = stack
        .aws
        .sns("us-east-1")
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arns["primary"])
        .send()
        .await
        .expect("ListSubscriptionsByTopic");
    assert!(subscriptions.subscriptions().is_empty());
    stack.ws.assert_plan_empty();

    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

#[tokio::test]
async fn drift_is_repaired_an_interval_change_replaces_the_check_and_import_rebuilds_state() {
    let stack = Stack::start().await;
    stack.config("");
    stack.ws.apply();
    let zone = stack.zone_id().await;
    let check_id = stack.health_checks().await[0].id().to_owned();
    let r53 = stack.aws.route53();

    // Out of band: the health-check alarm deleted, the threshold raised, the standby weighted up.
    stack
        .aws
        .cloudwatch("us-east-1")
        .delete_alarms()
        .alarm_names("failover-health-check-acc")
        .send()
        .await
        .expect("DeleteAlarms");
    r53.update_health_check()
        .health_check_id(&check_id)
        .failure_threshold(7)
        .send()
        .await
        .expect("UpdateHealthCheck");
    let standby = ResourceRecordSet::builder()
        .name(DOMAIN)
        .r#type(RrType::A)
        .set_identifier("standby")
        .weight(50)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&stack.standby.zone_id)
                .dns_name(&stack.standby.dns_name)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
        .build()
        .expect("record");
    upsert_record(&r53, &zone, standby).await;
    let plan = stack.ws.plan_with_changes();
    for drift in [
        "failover-health-check-acc",
        "failure_threshold",
        "weight 50",
    ] {
        assert!(plan.contains(drift), "plan does not show {drift}:\n{plan}");
    }
    stack.ws.apply();
    assert!(stack
        .alarm("us-east-1", "failover-health-check-acc")
        .await
        .is_some());
    let checks = stack.health_checks().await;
    assert_eq!(
        checks[0]
            .health_check_config()
            .and_then(|c| c.failure_threshold()),
        Some(3)
    );
    assert_eq!(stack.weights(&zone).await, (100, 0));
    stack.ws.assert_plan_empty();

    // Out of band: the record check made to need one healthy child, so the switch alone would
    // no longer take the primary out. The plan shows it; apply puts both back.
    let record_check = stack.records(&zone).await["primary"].1.clone().unwrap();
    r53.update_health_check()
        .health_check_id(&record_check)
        .health_threshold(1)
        .send()
        .await
        .expect("UpdateHealthCheck");
    let plan = stack.ws.plan_with_changes();
    assert!(plan.contains("record_health_check_id"), "{plan}");
    stack.ws.apply();
    let repaired = r53
        .get_health_check()
        .health_check_id(&record_check)
        .send()
        .await
        .expect("GetHealthCheck");
    assert_eq!(
        repaired
            .health_check()
            .and_then(|c| c.health_check_config())
            .and_then(|c| c.health_threshold()),
        Some(2),
        "repaired in place"
    );
    stack.ws.assert_plan_empty();

    // Interval 30: a new health check, said so in the plan; the record and alarm move to it.
    stack.config("  health_check {\n    interval = 30\n  }\n");
    let plan = stack.ws.plan();
    assert!(
        plan.text()
            .contains("cannot change a health check's interval"),
        "{}",
        plan.text()
    );
    stack.ws.apply();
    let checks = stack.health_checks().await;
    assert_eq!(
        checks.len(),
        1,
        "the old health check is deleted: {checks:?}"
    );
    let new_id = checks[0].id().to_owned();
    assert_ne!(new_id, check_id);
    assert_eq!(
        checks[0]
            .health_check_config()
            .and_then(|c| c.request_interval()),
        Some(30)
    );
    assert!(
        stack.record_check_children(&zone).await.contains(&new_id),
        "the record check watches the new check"
    );
    let health = stack
        .alarm("us-east-1", "failover-health-check-acc")
        .await
        .expect("alarm");
    assert_eq!(dimensions(&health)["HealthCheckId"], new_id);
    stack.ws.assert_plan_empty();

    // Import by suffix reconstructs the state: the next plan is empty.
    let before = stack.ws.resource(ADDRESS);
    stack.ws.run(&["state", "rm", ADDRESS]);
    let run = stack.ws.run(&["import", ADDRESS, "acc"]);
    assert_eq!(run.code, 0, "{}", run.text());
    stack.ws.assert_plan_empty();
    let after = stack.ws.resource(ADDRESS);
    for attr in [
        "zone_id",
        "health_check_id",
        "primary_topic_arn",
        "standby_topic_arn",
        "switch_health_check_id",
        "record_health_check_id",
        "records",
        "alarms",
    ] {
        assert_eq!(after[attr], before[attr], "{attr}");
    }

    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

#[tokio::test]
async fn records_in_a_zone_of_the_users_leave_the_zone_in_place() {
    let stack = Stack::start().await;
    let r53 = stack.aws.route53();
    let zone_id = stack.apply_in_users_zone().await;
    let zones = r53
        .list_hosted_zones()
        .send()
        .await
        .expect("ListHostedZones");
    assert_eq!(
        zones.hosted_zones().len(),
        1,
        "no zone of our own: {zones:?}"
    );
    assert_eq!(stack.ws.resource(ADDRESS)["zone_id"], zone_id.as_str());
    stack.ws.assert_plan_empty();
    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, Some(&zone_id)).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
    let left = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .expect("ListResourceRecordSets");
    assert!(
        left.resource_record_sets()
            .iter()
            .all(|r| r.set_identifier().is_none()),
        "weighted records left: {left:?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_at_plan_time_on_its_attribute() {
    let stack = Stack::start().await;
    let cases = [
        (
            "  health_check {\n    interval = 20\n  }\n",
            "interval",
            "10 or 30",
        ),
        (
            "  health_check {\n    failure_threshold = 11\n  }\n",
            "failure_threshold",
            "1 to 10",
        ),
        (
            "  health_check {\n    regions = [\"us-east-1\", \"eu-west-1\"]\n  }\n",
            "regions",
            "at least 3",
        ),
        (
            "  domain_name = \"not a domain\"\n",
            "domain_name",
            "not a domain name",
        ),
        (
            "  active_region = \"elsewhere\"\n",
            "active_region",
            "neither a role nor a standby's region",
        ),
        (
            "  alarm_emails = [\"oncall\"]\n",
            "alarm_emails",
            "not an e-mail",
        ),
        ("  alarm_period = 90\n", "alarm_period", "multiple of 60"),
        (
            "  health_check {\n    protocol = \"TCP\"\n  }\n",
            "protocol",
            "HTTP",
        ),
    ];
    for (extra, attribute, message) in cases {
        stack
            .ws
            .assert_refused(&stack.body(extra), attribute, message);
    }
    // Both endpoints in one region.
    stack.ws.config(&format!(
        "resource \"tap_dns_failover\" \"dns\" {{\n  environment_suffix = \"acc\"\n  domain_name = \"{DOMAIN}\"\n{}{}}}\n",
        stack.primary.block("primary"),
        stack.primary.block("standby")
    ));
    let errors = stack.ws.plan_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("another region"),
        "{:#}",
        errors[0]
    );
    // On standby.region: the `region` line of the second block.
    let main_tf = std::fs::read_to_string(stack.ws.dir().join("main.tf")).unwrap();
    let lines: Vec<&str> = main_tf.lines().collect();
    let standby = lines.iter().position(|l| l.trim() == "standby {").unwrap();
    let region_line = standby
        + lines[standby..]
            .iter()
            .position(|l| l.trim_start().starts_with("region"))
            .unwrap()
        + 1;
    assert_eq!(
        errors[0]["range"]["start"]["line"], region_line,
        "not on standby.region: {:#}",
        errors[0]
    );
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "a refused plan created {leaks:?}");
}

#[tokio::test]
async fn a_health_check_or_topic_deleted_out_of_band_is_rebuilt() {
    let stack = Stack::start().await;
    stack.config("  alarm_emails = [\"oncall@example.com\"]\n");
    stack.ws.apply();
    let zone = stack.zone_id().await;
    let old_check = stack.health_checks().await[0].id().to_owned();
    let topic = stack.ws.resource(ADDRESS)["standby_topic_arn"]
        .as_str()
        .expect("topic")
        .to_owned();

    // Out of band: the records lose their health check (Route 53 refuses to delete one in
    // use), the check is deleted, and the standby topic with its subscription.
    let r53 = stack.aws.route53();
    let mut primary = stack.records(&zone).await["primary"].clone();
    primary.1 = None;
    let record = ResourceRecordSet::builder()
        .name(DOMAIN)
        .r#type(RrType::A)
        .set_identifier("primary")
        .weight(primary.0)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&stack.primary.zone_id)
                .dns_name(&primary.2)
                .evaluate_target_health(true)
                .build()
                .expect("alias"),
        )
        .build()
        .expect("record");
    upsert_record(&r53, &zone, record).await;
    r53.delete_health_check()
        .health_check_id(&old_check)
        .send()
        .await
        .expect("DeleteHealthCheck");
    stack
        .aws
        .sns("us-east-2")
        .delete_topic()
        .topic_arn(&topic)
        .send()
        .await
        .expect("DeleteTopic");

    let plan = stack.ws.plan_with_changes();
    assert!(plan.contains("health_check_id"), "{plan}");
    assert!(plan.contains("standby_topic_arn"), "{plan}");
    stack.ws.apply();
    let checks = stack.health_checks().await;
    assert_eq!(checks.len(), 1);
    assert_ne!(checks[0].id(), old_check, "a new health check");
    assert!(
        stack
            .record_check_children(&zone)
            .await
            .contains(&checks[0].id().to_owned()),
        "the primary record's check watches it"
    );
    let alarm = stack
        .alarm("us-east-1", "failover-health-check-acc")
        .await
        .expect("alarm");
    assert_eq!(dimensions(&alarm)["HealthCheckId"], checks[0].id());
    let subscriptions = stack
        .aws
        .sns("us-east-2")
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .expect("the standby topic is back");
    assert_eq!(subscriptions.subscriptions().len(), 1);
    stack.ws.assert_plan_empty();
    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

#[tokio::test]
async fn an_email_subscribed_out_of_band_shows_in_the_plan_and_is_removed() {
    let stack = Stack::start().await;
    stack.config("");
    stack.ws.apply();
    let topic = stack.ws.resource(ADDRESS)["primary_topic_arn"]
        .as_str()
        .expect("topic")
        .to_owned();
    let sns = stack.aws.sns("us-east-1");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("intruder@example.com")
        .send()
        .await
        .expect("Subscribe");
    // Pending, it would expire by itself; confirmed, it is drift.
    assert_eq!(stack.aws.confirm_subscriptions("intruder@example.com"), 1);

    let plan = stack.ws.plan_with_changes();
    assert!(plan.contains("intruder@example.com"), "{plan}");
    stack.ws.apply();
    let left = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .expect("ListSubscriptionsByTopic");
    assert!(left.subscriptions().is_empty(), "{left:?}");
    stack.ws.assert_plan_empty();
}

#[tokio::test]
async fn a_hosted_zone_deleted_out_of_band_is_rebuilt_with_its_records() {
    let stack = Stack::start().await;
    stack.config("");
    stack.ws.apply();
    let zone = stack.zone_id().await;
    let before = stack.ws.resource(ADDRESS);
    let records = stack.records(&zone).await;

    // Out of band: the weighted records deleted (Route 53 refuses to delete a zone that holds
    // any), then the zone.
    let r53 = stack.aws.route53();
    let sets = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .expect("ListResourceRecordSets");
    let deletes: Vec<Change> = sets
        .resource_record_sets()
        .iter()
        .filter(|r| r.set_identifier().is_some())
        .map(|r| {
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(r.clone())
                .build()
                .expect("change")
        })
        .collect();
    assert_eq!(deletes.len(), 2);
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(deletes))
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets");
    r53.delete_hosted_zone()
        .id(&zone)
        .send()
        .await
        .expect("DeleteHostedZone");

    stack.ws.plan_updating(&["zone_id", "records"]);
    stack.ws.apply();
    let new_zone = stack.zone_id().await;
    assert_ne!(new_zone, zone, "a new zone");
    assert_eq!(
        stack.records(&new_zone).await,
        records,
        "both records again"
    );
    let after = stack.ws.resource(ADDRESS);
    assert_eq!(after["zone_id"].as_str(), Some(new_zone.as_str()));
    for attr in ["health_check_id", "primary_topic_arn", "standby_topic_arn"] {
        assert_eq!(after[attr], before[attr], "{attr} untouched");
    }
    stack.ws.assert_plan_empty();
    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// The ARN of a role's topic, and the KMS key SNS holds for it.
async fn topic_and_key(aws: &LocalAws, role: &str, region: &str) -> (String, String) {
    let sns = aws.sns(region);
    let topics = sns.list_topics().send().await.expect("ListTopics");
    let topic = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.ends_with(&format!(":{role}-failover-notifications-acc")))
        .unwrap_or_else(|| panic!("{role} topic in {region}"))
        .to_owned();
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .expect("GetTopicAttributes");
    let key = attributes.attributes().expect("attributes")["KmsMasterKeyId"].clone();
    (topic, key)
}

async fn key_state(aws: &LocalAws, region: &str, key: &str) -> aws_sdk_kms::types::KeyMetadata {
    aws.kms(region)
        .describe_key()
        .key_id(key)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata
        .expect("key metadata")
}

/// Whether a key policy lets `cloudwatch.amazonaws.com` use kms:Decrypt and kms:GenerateDataKey*.
async fn admits_cloudwatch(aws: &LocalAws, region: &str, key: &str) -> bool {
    let policy = aws
        .kms(region)
        .get_key_policy()
        .key_id(key)
        .policy_name("default")
        .send()
        .await
        .expect("GetKeyPolicy");
    let policy: serde_json::Value =
        serde_json::from_str(policy.policy().expect("policy")).expect("policy JSON");
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .any(|s| {
            s["Effect"] == "Allow"
                && s["Principal"]["Service"] == "cloudwatch.amazonaws.com"
                && s["Action"] == serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey*"])
        })
}

/// CloudWatch alarms cannot publish to a topic encrypted with `alias/aws/sns`
/// (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns): each topic gets a key of
/// its region that CloudWatch may use, or the user's; alarms then really notify, an unusable key
/// is replaced, and destroy schedules the keys made for the topics for deletion.
#[tokio::test]
async fn alarm_topics_are_encrypted_with_keys_cloudwatch_can_use() {
    let stack = Stack::start().await;
    let domain = "  domain_name = \"alarms-acc.tap-test.net\"\n";
    stack.config(domain);
    stack.ws.apply();
    let mut made = Vec::new();
    for (role, region, alarm) in [
        ("primary", "us-east-1", "failover-health-check-acc"),
        (
            "standby",
            "us-east-2",
            "failover-unhealthy-hosts-standby-acc",
        ),
    ] {
        let (topic, key) = topic_and_key(&stack.aws, role, region).await;
        let meta = key_state(&stack.aws, region, &key).await;
        assert_eq!(
            meta.key_manager(),
            Some(&aws_sdk_kms::types::KeyManagerType::Customer)
        );
        assert_eq!(
            meta.key_state(),
            Some(&aws_sdk_kms::types::KeyState::Enabled)
        );
        assert!(admits_cloudwatch(&stack.aws, region, &key).await, "{key}");
        let aliases = stack
            .aws
            .kms(region)
            .list_aliases()
            .key_id(meta.key_id())
            .send()
            .await
            .expect("ListAliases");
        assert_eq!(
            aliases.aliases()[0].alias_name(),
            Some(format!("alias/{role}-failover-notifications-acc").as_str())
        );
        // An alarm that changes state publishes through the key. The health-check alarm may
        // already have notified (OK once Route 53's first HealthCheckStatus arrived), and may
        // notify again when its next evaluation ends what SetAlarmState set, as on AWS: every
        // notification must have succeeded, and one more must be there.
        let cw = stack.aws.cloudwatch(region);
        let before = alarm_actions(&cw, alarm).await.len();
        cw.set_alarm_state()
            .alarm_name(alarm)
            .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
            .state_reason("test")
            .send()
            .await
            .expect("SetAlarmState");
        let succeeded = (
            format!("Successfully executed action {topic}"),
            "Succeeded".to_owned(),
        );
        let after = alarm_actions(&cw, alarm).await;
        assert!(after.len() > before, "{after:?}");
        assert!(after.iter().all(|action| action == &succeeded), "{after:?}");
        made.push((region, meta.key_id().to_owned()));
    }

    // The alarms do not cry wolf: no data from a new or replaced health check is not "down",
    // and only traffic that keeps reaching the standby, minute after minute, is a failover.
    let health = stack
        .alarm("us-east-1", "failover-health-check-acc")
        .await
        .expect("health-check alarm");
    assert_eq!(health.treat_missing_data(), Some("missing"));
    let traffic = stack
        .alarm("us-east-2", "failover-standby-traffic-acc")
        .await
        .expect("standby-traffic alarm");
    assert_eq!(
        (
            traffic.statistic().map(|s| s.as_str()),
            traffic.comparison_operator().map(|c| c.as_str()),
            traffic.threshold(),
            traffic.period(),
            traffic.evaluation_periods(),
            traffic.treat_missing_data(),
        ),
        (
            Some("Sum"),
            Some("GreaterThanThreshold"),
            Some(10.0),
            Some(60),
            Some(5),
            Some("notBreaching")
        )
    );
    stack.ws.assert_plan_empty();

    // A key disabled out of band shows in the plan; apply gives the topic a new one and leaves
    // the disabled one to be deleted.
    let (standby_region, disabled) = made[1].clone();
    stack
        .aws
        .kms(standby_region)
        .disable_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("DisableKey");
    stack.ws.plan_updating(&["standby_topic_key_arn"]);
    stack.ws.apply();
    let (_, replacement) = topic_and_key(&stack.aws, "standby", standby_region).await;
    assert!(!replacement.ends_with(&disabled), "{replacement}");
    assert!(admits_cloudwatch(&stack.aws, standby_region, &replacement).await);
    assert_eq!(
        key_state(&stack.aws, standby_region, &disabled)
            .await
            .key_state(),
        Some(&aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    made[1].1 = key_state(&stack.aws, standby_region, &replacement)
        .await
        .key_id()
        .to_owned();
    stack.ws.assert_plan_empty();

    // The AWS-managed key is refused at plan, with the reason; the user's own key is used as is.
    let with_standby_key = |key: &str| {
        stack.body(domain).replace(
            "    region = \"us-east-2\"\n",
            &format!("    region = \"us-east-2\"\n    kms_key_arn = \"{key}\"\n"),
        )
    };
    stack.ws.assert_refused(
        &with_standby_key("alias/aws/sns"),
        "kms_key_arn",
        "CloudWatch alarms cannot publish to a topic encrypted with it",
    );
    stack.ws.assert_refused(
        &with_standby_key(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        "kms_key_arn",
        "SNS encrypts a topic only with a key of the topic's region",
    );
    let users = stack
        .aws
        .kms(standby_region)
        .create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata
        .expect("key metadata");
    let users_arn = users.arn().expect("arn").to_owned();
    stack.ws.config(&with_standby_key(&users_arn));
    stack.ws.apply();
    assert_eq!(
        topic_and_key(&stack.aws, "standby", standby_region).await.1,
        users_arn
    );
    stack.ws.assert_plan_empty();

    // Destroy schedules the keys made for the topics for deletion and leaves the user's alone.
    stack.ws.destroy();
    for (region, key) in &made {
        assert_eq!(
            key_state(&stack.aws, region, key).await.key_state(),
            Some(&aws_sdk_kms::types::KeyState::PendingDeletion),
            "{key} in {region}"
        );
    }
    assert_eq!(
        key_state(&stack.aws, standby_region, users.key_id())
            .await
            .key_state(),
        Some(&aws_sdk_kms::types::KeyState::Enabled)
    );
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert_eq!(
        leaks,
        [format!("KMS key {} in {standby_region}", users.key_id())],
        "only the user's key is left"
    );
}

/// (endpoint, subscription ARN as listed) of each subscription of a topic.
async fn subscriptions(aws: &LocalAws, region: &str, topic: &str) -> Vec<(String, String)> {
    aws.sns(region)
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .expect("ListSubscriptionsByTopic")
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.endpoint().unwrap_or_default().to_owned(),
                s.subscription_arn().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_email_pending_confirmation_is_there_and_is_left_to_expire_when_removed() {
    const ONCALL: &str = "oncall@tap-test.net";
    const NEW: &str = "new@tap-test.net";
    let stack = Stack::start().await;
    let emails = |list: &[&str]| {
        let quoted: Vec<String> = list.iter().map(|e| format!("\"{e}\"")).collect();
        format!(
            "  domain_name = \"trading-acc.tap-test.net\"\n  alarm_emails = [{}]\n",
            quoted.join(", ")
        )
    };
    let topics = |ws: &Workspace| {
        let values = ws.resource(ADDRESS);
        [("us-east-1", "primary"), ("us-east-2", "standby")].map(|(region, role)| {
            let arn = values[format!("{role}_topic_arn")].as_str().expect("topic");
            (region, arn.to_owned())
        })
    };
    let pending_in_state = |ws: &Workspace| ws.resource(ADDRESS)["pending_alarm_emails"].clone();
    let refresh = |ws: &Workspace| {
        let run = ws.run(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
        assert_eq!(run.code, 0, "{}", run.text());
    };

    // Applied: both topics hold the address pending; it is what was asked for, so no diff.
    stack.config(&emails(&[ONCALL]));
    stack.ws.apply();
    for (region, topic) in topics(&stack.ws) {
        assert_eq!(
            subscriptions(&stack.aws, region, &topic).await,
            [(ONCALL.to_owned(), "PendingConfirmation".to_owned())]
        );
    }
    assert_eq!(
        stack.ws.resource(ADDRESS)["alarm_emails"],
        serde_json::json!([ONCALL])
    );
    assert_eq!(pending_in_state(&stack.ws), serde_json::json!([ONCALL]));
    stack.ws.assert_plan_empty();

    // Its owner confirms both: still no diff, and nothing pending after a refresh.
    assert_eq!(stack.aws.confirm_subscriptions(ONCALL), 2);
    stack.ws.assert_plan_empty();
    refresh(&stack.ws);
    assert_eq!(pending_in_state(&stack.ws), serde_json::json!([]));

    // A second address, removed while it is still pending: the plan says it expires by itself,
    // apply does not try to unsubscribe it (SNS refuses), and the next plan is empty.
    stack.config(&emails(&[ONCALL, NEW]));
    stack.ws.apply();
    stack.config(&emails(&[ONCALL]));
    let plan = stack.ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.text()
            .contains(&format!("{NEW} has not confirmed the subscription yet"))
            && plan.text().contains("expires by itself"),
        "{}",
        plan.text()
    );
    stack.ws.apply();
    for (region, topic) in topics(&stack.ws) {
        let held = subscriptions(&stack.aws, region, &topic).await;
        assert!(
            held.contains(&(NEW.to_owned(), "PendingConfirmation".to_owned())),
            "{region}: {held:?}"
        );
    }
    assert_eq!(
        stack.ws.resource(ADDRESS)["alarm_emails"],
        serde_json::json!([ONCALL])
    );
    assert_eq!(pending_in_state(&stack.ws), serde_json::json!([NEW]));
    stack.ws.assert_plan_empty();

    // Confirmed after all, it is a subscription nobody asked for: shown, then unsubscribed.
    assert_eq!(stack.aws.confirm_subscriptions(NEW), 2);
    assert!(stack.ws.plan_with_changes().contains(NEW));
    stack.ws.apply();
    for (region, topic) in topics(&stack.ws) {
        let held: Vec<String> = subscriptions(&stack.aws, region, &topic)
            .await
            .into_iter()
            .map(|(endpoint, _)| endpoint)
            .collect();
        assert_eq!(held, [ONCALL], "{region}");
    }
    stack.ws.assert_plan_empty();
    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// A load balancer with a healthy target whose security group admits Route 53's checkers: the
/// endpoint check on it is healthy.
pub(crate) async fn serving_endpoint(
    aws: &LocalAws,
    region: &'static str,
    cidr: &str,
    role: &str,
) -> Endpoint {
    let name = format!("alb-{role}-switch");
    let dns_name = serving_balancer(aws, region, cidr, &name).await;
    let elb = aws.elbv2(region);
    let lb = elb
        .describe_load_balancers()
        .names(&name)
        .send()
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers()[0]
        .clone();
    let alb_arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
    let tg = elb
        .describe_target_groups()
        .load_balancer_arn(&alb_arn)
        .send()
        .await
        .expect("DescribeTargetGroups")
        .target_groups()[0]
        .clone();
    Endpoint {
        region,
        dns_name,
        zone_id: lb.canonical_hosted_zone_id().unwrap_or_default().to_owned(),
        alb_arn,
        target_group_arn: tg.target_group_arn().unwrap_or_default().to_owned(),
    }
}

/// The `--flag value` pairs of an AWS CLI command.
fn cli_flags(command: &str) -> HashMap<String, String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].starts_with("--"))
        .map(|w| (w[0].trim_start_matches("--").to_owned(), w[1].to_owned()))
        .collect()
}

/// Runs `aws cloudwatch put-metric-data ...` through the SDK, with nothing but what the
/// command says: its region's CloudWatch is the only endpoint called.
async fn run_put_metric_data(aws: &LocalAws, command: &str) -> String {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    assert!(
        command.starts_with("aws cloudwatch put-metric-data "),
        "{command}"
    );
    let flags = cli_flags(command);
    let (name, value) = flags["dimensions"].split_once('=').expect("Name=Value");
    aws.cloudwatch(&flags["region"])
        .put_metric_data()
        .namespace(&flags["namespace"])
        .metric_data(
            MetricDatum::builder()
                .metric_name(&flags["metric-name"])
                .dimensions(Dimension::builder().name(name).value(value).build())
                .value(flags["value"].parse().expect("a number"))
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData");
    flags["region"].clone()
}

/// The failover switch: apply builds the switch alarm in the standby region, a CLOUDWATCH_METRIC
/// check on it and a CALCULATED record check of both checks; the break-glass command (one
/// PutMetricData in the standby region) moves DNS to the standby within the modelled detection
/// time though the primary is healthy, and it stays there until the release command; destroy
/// leaves nothing.
#[tokio::test]
async fn the_switch_fails_over_with_one_standby_call_and_holds_until_released() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.31", "primary").await;
    let standby = serving_endpoint(&aws, "us-east-2", "10.32", "standby").await;
    let stack = Stack::over(aws, primary, standby);
    stack.config("");
    stack.ws.apply();
    let state = stack.ws.resource(ADDRESS);
    let (endpoint_check, switch_check, record_check) = (
        state["health_check_id"].as_str().unwrap().to_owned(),
        state["switch_health_check_id"].as_str().unwrap().to_owned(),
        state["record_health_check_id"].as_str().unwrap().to_owned(),
    );

    // What Route 53 and CloudWatch hold.
    let checks = health_checks(&stack.aws).await;
    assert_eq!(checks.len(), 3, "{checks:?}");
    let switch = checks[&switch_check].health_check_config().expect("config");
    assert_eq!(switch.r#type().as_str(), "CLOUDWATCH_METRIC");
    let alarm = switch.alarm_identifier().expect("alarm identifier");
    assert_eq!(
        (alarm.region().as_str(), alarm.name()),
        ("us-east-2", "failover-switch-acc")
    );
    assert_eq!(
        switch.insufficient_data_health_status().map(|s| s.as_str()),
        Some("LastKnownStatus")
    );
    let record = checks[&record_check].health_check_config().expect("config");
    assert_all_of(record, &[&endpoint_check, &switch_check]);
    let zone = stack.zone_id().await;
    assert_eq!(
        stack.records(&zone).await["primary"].1.as_deref(),
        Some(record_check.as_str())
    );
    let alarm = stack
        .alarm("us-east-2", "failover-switch-acc")
        .await
        .expect("the switch alarm in the standby region");
    assert_eq!(
        (alarm.namespace(), alarm.metric_name(), alarm.period()),
        (Some("TAP/Failover"), Some("FailoverSwitch"), Some(60))
    );
    assert_eq!(alarm.treat_missing_data(), Some("ignore"));
    assert!(stack
        .alarm("us-east-1", "failover-switch-acc")
        .await
        .is_none());
    stack.ws.assert_plan_empty();

    // Healthy primary: DNS answers with its addresses.
    let r53 = stack.aws.route53();
    let (primary_ips, standby_ips) = stack.addresses();
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the answer before the switch", primary_ips.clone(), answer).await;

    // Throw it: the command from state, through the SDK, in the standby region only.
    let clock = || {
        stack.aws.get_json("/localaws/clock")["seconds"]
            .as_f64()
            .unwrap()
    };
    let thrown_at = clock();
    let command = state["break_glass_command"].as_str().unwrap();
    assert_eq!(run_put_metric_data(&stack.aws, command).await, "us-east-2");
    settles(
        "the answer once the switch is thrown",
        standby_ips.clone(),
        answer,
    )
    .await;
    let detected = clock() - thrown_at;
    // The alarm's one-minute period, then Route 53 following it; never at once.
    assert!(
        (60.0..=180.0).contains(&detected),
        "moved after {detected} modelled seconds"
    );
    // The primary is healthy all along: only the switch keeps it out.
    let observations = r53
        .get_health_check_status()
        .health_check_id(&endpoint_check)
        .send()
        .await
        .expect("GetHealthCheckStatus");
    assert!(observations.health_check_observations().iter().all(|o| o
        .status_report()
        .and_then(|r| r.status())
        .is_some_and(|s| s.starts_with("Success"))));
    // Latched: minutes (modelled) later with no more data, still the standby.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(answer().await, standby_ips);
    assert_eq!(
        stack
            .alarm("us-east-2", "failover-switch-acc")
            .await
            .and_then(|a| a.state_value().map(|s| s.as_str().to_owned())),
        Some("ALARM".into())
    );
    // Throwing the switch is not drift: the plan stays empty.
    stack.ws.assert_plan_empty();

    // Release: traffic returns to the primary.
    let release = state["release_command"].as_str().unwrap();
    assert_eq!(run_put_metric_data(&stack.aws, release).await, "us-east-2");
    settles(
        "the answer once the switch is released",
        primary_ips,
        answer,
    )
    .await;

    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// A standby region the account has not enabled: one diagnostic, on `standby.region`, explained
/// as the stacks explain theirs; asked before anything is made (the zone and the health checks
/// are global, made beside the regions' topics), so nothing is left anywhere.
#[tokio::test]
async fn a_region_the_account_has_not_enabled_fails_once_before_anything_is_made() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_DISABLED_REGIONS", "af-south-1")]);
    let primary = load_balancer(&aws, "eu-west-1", "primary").await;
    // What a load balancer there would be: nothing in af-south-1 answers to make one.
    let elb = "arn:aws:elasticloadbalancing:af-south-1:123456789012";
    let standby = Endpoint {
        region: "af-south-1",
        dns_name: "alb-standby-1234567890.af-south-1.elb.amazonaws.com".into(),
        zone_id: "Z268VQBMOI5EKX".into(),
        alb_arn: format!("{elb}:loadbalancer/app/alb-standby/0123456789abcdef"),
        target_group_arn: format!("{elb}:targetgroup/tg-standby/0123456789abcdef"),
    };
    let stack = Stack::over(aws, primary, standby);
    stack.config("");
    let errors = stack.ws.apply_error_diagnostics();
    let summary = assert_refused_once(&errors, "af-south-1", "region = \"af-south-1\"");
    assert_eq!(
        summary,
        "tap_dns_failover: checking that af-south-1 accepts the credentials"
    );
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left behind: {leaks:?}");
}

/// The standby region disabled by the account after apply: the refresh fails with one
/// diagnostic on `standby.region`, explained though the refused read did not say where it went
/// (the provider asks each region which refuses), and keeps the state; enabled again, nothing
/// to change, and destroy leaves nothing.
#[tokio::test]
async fn a_region_disabled_after_apply_fails_the_refresh_on_its_attribute_keeping_state() {
    let stack = Stack::start_in(LocalAws::start(), ["eu-west-1", "eu-central-1"]).await;
    let (aws, ws) = (&stack.aws, &stack.ws);
    stack.config("");
    ws.apply();
    let topic = ws.resource(ADDRESS)["standby_topic_arn"].clone();

    aws.get_json("/localaws/disabled/eu-central-1");
    let errors = ws.error_diagnostics(&["plan", "-input=false", "-json"]);
    assert_refused_once(&errors, "eu-central-1", "region = \"eu-central-1\"");
    assert_eq!(
        ws.resource(ADDRESS)["standby_topic_arn"],
        topic,
        "state kept"
    );

    aws.get_json("/localaws/disabled/eu-central-1/end");
    ws.assert_plan_empty();
    ws.destroy();
    let leaks = alerting_leaks(aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

const ROUTING_CONTROL: &str =
    "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b2c3d/routingcontrol/4e5f6a7b";

/// Sets the routing control's state, as the user's ARC cluster would.
fn set_routing_control(aws: &LocalAws, state: &str) {
    aws.get_json(&format!(
        "/localaws/routing-control?arn={ROUTING_CONTROL}&state={state}"
    ));
}

/// A CALCULATED check healthy only while every one of `children` is.
pub(crate) fn assert_all_of(config: &aws_sdk_route53::types::HealthCheckConfig, children: &[&str]) {
    assert_eq!(config.r#type().as_str(), "CALCULATED");
    let mut have = config.child_health_checks().to_vec();
    have.sort();
    let mut want: Vec<String> = children.iter().map(|c| c.to_string()).collect();
    want.sort();
    assert_eq!(have, want);
    assert_eq!(config.health_threshold(), Some(children.len() as i32));
}

/// The health checks Route 53 holds, by ID.
pub(crate) async fn health_checks(
    aws: &LocalAws,
) -> HashMap<String, aws_sdk_route53::types::HealthCheck> {
    aws.route53()
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks")
        .health_checks()
        .iter()
        .map(|c| (c.id().to_owned(), c.clone()))
        .collect()
}

#[tokio::test]
async fn a_routing_control_of_the_users_is_the_switch_and_moves_dns() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.41", "primary").await;
    let standby = serving_endpoint(&aws, "us-east-2", "10.42", "standby").await;
    let stack = Stack::over(aws, primary, standby);
    // Not a routing control's ARN: refused at plan on the attribute, nothing made.
    stack.ws.assert_refused(
        &stack.body("  switch_routing_control_arn = \"arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b2c3d\"\n"),
        "switch_routing_control_arn",
        "not the ARN of an ARC routing control",
    );
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "a refused plan created {leaks:?}");

    set_routing_control(&stack.aws, "On");
    stack.config(&format!(
        "  switch_routing_control_arn = \"{ROUTING_CONTROL}\"\n"
    ));
    stack.ws.apply();
    let state = stack.ws.resource(ADDRESS);
    let id = |attr: &str| state[attr].as_str().unwrap().to_owned();
    let (endpoint_check, switch_check, record_check) = (
        id("health_check_id"),
        id("switch_health_check_id"),
        id("record_health_check_id"),
    );
    let checks = health_checks(&stack.aws).await;
    assert_eq!(checks.len(), 3, "{checks:?}");
    let switch = checks[&switch_check].health_check_config().expect("config");
    assert_eq!(switch.r#type().as_str(), "RECOVERY_CONTROL");
    assert_eq!(switch.routing_control_arn(), Some(ROUTING_CONTROL));
    let record = checks[&record_check].health_check_config().expect("config");
    assert_all_of(record, &[&endpoint_check, &switch_check]);
    let zone = stack.zone_id().await;
    assert_eq!(
        stack.records(&zone).await["primary"].1.as_deref(),
        Some(record_check.as_str())
    );
    // The routing control is the switch: no alarm pretends to be one.
    assert!(stack
        .alarm("us-east-2", "failover-switch-acc")
        .await
        .is_none());
    assert!(id("break_glass_command").starts_with(&format!("aws route53-recovery-cluster update-routing-control-state --routing-control-arn {ROUTING_CONTROL} --routing-control-state Off ")));
    assert!(id("release_command").contains("--routing-control-state On "));
    stack.ws.assert_plan_empty();

    // Off: the primary leaves DNS though it is healthy; On: it returns.
    let r53 = stack.aws.route53();
    let (primary_ips, standby_ips) = stack.addresses();
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the answer while On", primary_ips.clone(), answer).await;
    set_routing_control(&stack.aws, "Off");
    settles("the answer once Off", standby_ips, answer).await;
    stack.ws.assert_plan_empty();
    set_routing_control(&stack.aws, "On");
    settles("the answer once On again", primary_ips.clone(), answer).await;
    stack.ws.assert_plan_empty();

    // Back to the alarm: Route 53 cannot change a check's type, so the switch check is
    // replaced and the record check re-pointed in place; the endpoint check stays.
    stack.config("");
    stack.ws.apply();
    let after = stack.ws.resource(ADDRESS);
    let id = |attr: &str| after[attr].as_str().unwrap().to_owned();
    assert_eq!(id("health_check_id"), endpoint_check);
    assert_eq!(id("record_health_check_id"), record_check);
    assert_ne!(id("switch_health_check_id"), switch_check);
    let checks = health_checks(&stack.aws).await;
    assert_eq!(
        checks.len(),
        3,
        "the routing-control check is gone: {checks:?}"
    );
    let switch = checks[&id("switch_health_check_id")]
        .health_check_config()
        .expect("config");
    assert_eq!(switch.r#type().as_str(), "CLOUDWATCH_METRIC");
    assert_all_of(
        checks[&record_check].health_check_config().expect("config"),
        &[&endpoint_check, &id("switch_health_check_id")],
    );
    assert!(stack
        .alarm("us-east-2", "failover-switch-acc")
        .await
        .is_some());
    stack.ws.assert_plan_empty();
    settles("the answer on the alarm switch", primary_ips, answer).await;

    stack.ws.destroy();
    let leaks = alerting_leaks(&stack.aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// A DNS failover over `primary` and `standbys` (in order of preference).
fn with_standbys(primary: &Endpoint, standbys: &[&Endpoint], extra: &str) -> String {
    let blocks: String = standbys.iter().map(|s| s.block("standby")).collect();
    format!(
        "resource \"tap_dns_failover\" \"dns\" {{\n  environment_suffix = \"acc\"\n  domain_name = \"{DOMAIN}\"\n{extra}\n{}{blocks}}}\n",
        primary.block("primary")
    )
}

/// Alarm names of one region, sorted.
async fn alarm_names(aws: &LocalAws, region: &str) -> Vec<String> {
    let mut names: Vec<String> = (aws.cloudwatch(region).describe_alarms().send().await)
        .expect("DescribeAlarms")
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Standbys in order of preference: a second standby is added in place (a failover group in
/// the zone, its topic and alarms named with its region; the first standby's alarms as they
/// were); Route 53 answers with the primary, then, as each fails, the first standby, then the
/// second; `active_region` naming the second puts it first; removing it in place removes its
/// records, topic and alarms; destroy leaves nothing.
#[tokio::test]
async fn standbys_take_over_in_order_and_are_added_and_removed_in_place() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_NEW_ID_MISSES", "0")]);
    let primary = serving_endpoint(&aws, "us-east-1", "10.41", "primary").await;
    let first = serving_endpoint(&aws, "us-east-2", "10.42", "first").await;
    let second = serving_endpoint(&aws, "us-west-2", "10.43", "second").await;
    let ws = Workspace::new(&aws);
    ws.config(&with_standbys(&primary, &[&first], ""));
    ws.apply();
    let two_regions = alarm_names(&aws, "us-east-2").await;
    assert!(two_regions.contains(&"failover-standby-traffic-acc".to_owned()));

    // Added in place.
    ws.config(&with_standbys(&primary, &[&first, &second], ""));
    let plan = ws.plan_updating(&["standby"]);
    assert!(plan.contains("1 to change"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    let state = ws.resource(ADDRESS);
    let topics = state["standby_topic_arns"].as_object().expect("topics");
    assert_eq!(topics.len(), 2, "{topics:?}");
    assert!(topics["us-west-2"]
        .as_str()
        .unwrap()
        .contains(":us-west-2:"));
    let sns = aws
        .sns("us-west-2")
        .list_topics()
        .send()
        .await
        .expect("ListTopics");
    assert_eq!(
        sns.topics().len(),
        1,
        "one topic in the second standby's region"
    );
    assert_eq!(alarm_names(&aws, "us-east-2").await, two_regions);
    for (region, name) in [
        ("us-west-2", "failover-standby-traffic-us-west-2-acc"),
        (
            "us-west-2",
            "failover-unhealthy-hosts-standby-us-west-2-acc",
        ),
        ("us-west-2", "failover-switch-us-west-2-acc"),
        ("us-east-2", "failover-switch-acc"),
    ] {
        assert!(
            alarm_names(&aws, region).await.contains(&name.to_owned()),
            "{name} in {region}"
        );
    }
    let r53 = aws.route53();
    let zone = state["zone_id"].as_str().unwrap().to_owned();
    let held = (r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await)
        .expect("ListResourceRecordSets");
    let chain: Vec<(String, String)> = held
        .resource_record_sets()
        .iter()
        .filter(|r| r.failover().is_some())
        .map(|r| {
            let alias = r.alias_target().expect("alias");
            assert!(alias.evaluate_target_health());
            (
                r.failover().unwrap().as_str().to_owned(),
                alias.dns_name().trim_end_matches('.').to_owned(),
            )
        })
        .collect();
    assert_eq!(
        chain,
        [
            ("PRIMARY".to_owned(), first.dns_name.clone()),
            ("SECONDARY".to_owned(), second.dns_name.clone())
        ]
    );

    // Route 53 answers in order of preference.
    let [primary_at, first_at, second_at] =
        [&primary, &first, &second].map(|e| resolved(&aws, &e.dns_name));
    let answer = || async { dns_answer(&r53, &zone, DOMAIN).await.1 };
    settles("the primary", primary_at.clone(), answer).await;
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", primary.dns_name));
    settles("the first standby", first_at.clone(), answer).await;
    aws.get_text(&format!("/localaws/elb/{}/unhealthy", first.dns_name));
    settles("the second standby", second_at.clone(), answer).await;
    for e in [&primary, &first] {
        aws.get_text(&format!("/localaws/elb/{}/healthy", e.dns_name));
    }
    settles("the primary again", primary_at.clone(), answer).await;

    // A planned failover to the second standby: it goes first.
    ws.config(&with_standbys(
        &primary,
        &[&first, &second],
        "  active_region = \"us-west-2\"\n",
    ));
    ws.apply();
    ws.assert_plan_empty();
    settles("the second standby, active", second_at.clone(), answer).await;
    ws.config(&with_standbys(&primary, &[&first, &second], ""));
    ws.apply();
    settles("failed back", primary_at, answer).await;

    // Removed in place: its records, topic and alarms go.
    ws.config(&with_standbys(&primary, &[&first], ""));
    ws.plan_updating(&["standby"]);
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(alerting_in(&aws, "us-west-2").await, Vec::<String>::new());
    assert_eq!(alarm_names(&aws, "us-east-2").await, two_regions);
    let held = (r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await)
        .expect("ListResourceRecordSets");
    assert!(held
        .resource_record_sets()
        .iter()
        .all(|r| r.failover().is_none()));

    ws.destroy();
    let leaks = alerting_leaks(&aws, None).await;
    assert!(leaks.is_empty(), "left after destroy: {leaks:?}");
}

/// A state version 1 wrote (its one standby a block, no topics by region) is upgraded by
/// Terraform's UpgradeResourceState: the plan is empty, nothing is replaced, and the next apply
/// writes version 2.
#[tokio::test]
async fn a_state_of_version_1_upgrades_with_an_empty_plan() {
    let stack = Stack::start().await;
    stack.config("");
    stack.ws.apply();
    let zone_before = stack.ws.resource(ADDRESS)["zone_id"].clone();
    let path = stack.ws.dir().join("terraform.tfstate");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("JSON");
    state["serial"] = (state["serial"].as_u64().expect("serial") + 1).into();
    let instance = &mut state["resources"][0]["instances"][0];
    assert_eq!(instance["schema_version"], 2);
    instance["schema_version"] = 1.into();
    let attributes = instance["attributes"].as_object_mut().expect("attributes");
    let standby = attributes["standby"][0].clone();
    attributes.insert("standby".into(), standby);
    attributes.remove("standby_topic_arns");
    attributes.remove("standby_topic_key_arns");
    std::fs::write(&path, state.to_string()).expect("writing the state");

    stack.ws.assert_plan_empty();
    stack.ws.apply();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("JSON");
    let instance = &state["resources"][0]["instances"][0];
    assert_eq!(instance["schema_version"], 2);
    assert_eq!(
        instance["attributes"]["standby"][0]["region"], "us-east-2",
        "{instance:#}"
    );
    assert_eq!(instance["attributes"]["zone_id"], zone_before);
    stack.ws.destroy();
}
