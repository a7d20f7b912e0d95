//! Would failover work right now? Pure judgement of what AWS holds (`Facts`) against what the
//! stack should be (`Expect`): one finding per problem, each with a one-line fix.

use crate::aws::alarms::AlarmFacts;
use crate::aws::auto_scaling::Capacity;
use crate::aws::certificate::CertificateFacts;
use crate::aws::health_check::HealthCheckFacts;
use crate::aws::security_groups::{Rules, Source};
use crate::aws::session_table::TableFacts;
use crate::aws::switch_checks;
use crate::aws::switch_drill::Summary as DrillSummary;
use crate::aws::topics::TopicFacts;
use crate::aws::weighted_records::WeightedRecord;
use crate::role::Role;

/// Route 53 answers an alias to a load balancer with the balancer's TTL: 60 seconds.
pub const ALIAS_TTL_SECONDS: f64 = 60.0;

/// Route 53's health check as the stack creates it by default, for the estimate when there is
/// no health check to read.
const DEFAULT_INTERVAL: i32 = 10;
const DEFAULT_THRESHOLD: i32 = 3;

/// What the stack should be. The settings are the user's expectations: `None` when not given,
/// and then whatever the stack holds is fine.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    pub suffix: String,
    pub standby_region: String,
    pub standby_active: Option<bool>,
    pub interval: Option<i32>,
    pub failure_threshold: Option<i32>,
    pub rto_seconds: Option<f64>,
    pub latency_threshold_ms: f64,
    /// The last drill's summary, when the user passes it in.
    pub last_drill: Option<DrillSummary>,
}

/// An argument the user gave, against what the data source found the stack to be.
pub struct Given<'a> {
    pub argument: &'static str,
    pub given: Option<&'a str>,
    pub found: Option<&'a str>,
}

/// Each given argument that is not what the stack is: the user is looking at another system
/// than the one they think.
pub fn differences(given: &[Given]) -> Vec<Finding> {
    given
        .iter()
        .filter_map(|g| match (g.given, g.found) {
            (Some(given), Some(found)) if given.trim_end_matches('.') != found => Some(error(
                "expectations",
                format!("{} is {given} here, but the stack's is {found}.", g.argument),
                &format!("set {} to {found}, or leave it out: the data source finds it from environment_suffix.", g.argument),
            )),
            _ => None,
        })
        .collect()
}

/// What AWS holds; `None` where the object does not exist.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub standby: Option<Capacity>,
    pub health_check: Option<HealthCheckFacts>,
    /// The failover switch's calculated check, when the primary record uses it.
    pub record_check: Option<switch_checks::Facts>,
    /// (checker region, status text) from Route 53.
    pub checker_status: Vec<(String, String)>,
    pub table: Option<TableFacts>,
    pub replication_latency_ms: Option<f64>,
    /// `None` when the hosted zone is missing.
    pub records: Option<Vec<WeightedRecord>>,
    pub health_check_alarm: Option<AlarmFacts>,
    /// Other alarms by name.
    pub alarms: Vec<(String, Option<AlarmFacts>)>,
    /// Each role's topic.
    pub topics: Vec<(String, Option<TopicFacts>)>,
    /// Topics encrypted with a key CloudWatch alarms cannot use.
    pub unusable_topic_keys: Vec<String>,
    pub entry: Entry,
    /// The standby replica's own (point-in-time recovery, deletion protection): they are per
    /// replica, not copied from the home table.
    pub replica_protection: Option<(bool, bool)>,
    /// The home table's point-in-time recovery.
    pub home_pitr: Option<bool>,
    /// The switch alarms the record check follows, one per standby region.
    pub switch_alarms: Vec<SwitchAlarm>,
}

/// A switch alarm a child of the record check follows; `found`: `None` when it does not exist.
#[derive(Debug, Clone)]
pub struct SwitchAlarm {
    pub region: String,
    pub name: String,
    pub found: Option<AlarmFacts>,
}

/// How clients and Route 53's checkers get into each load balancer.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// Whether each role's (primary, standby) load balancer listens on 443; `None` when missing.
    pub https: [Option<bool>; 2],
    /// The ingress rules of the primary load balancer's security groups.
    pub primary_ingress: Option<Rules>,
    /// The primary region's `com.amazonaws.<region>.route53-healthchecks` prefix list.
    pub checkers_prefix_list: Option<String>,
    /// The ACM certificate each role's HTTPS listener serves: `None` without one; the AWS error
    /// when ACM would not describe it.
    pub certificates: [Option<Result<CertificateFacts, String>>; 2],
    /// When these were read, in seconds since the Unix epoch.
    pub read_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// `error` (failover would not work) or `warning`.
    pub severity: &'static str,
    pub part: &'static str,
    pub message: String,
    pub fix: String,
}

fn error(part: &'static str, message: String, fix: &str) -> Finding {
    Finding {
        severity: "error",
        part,
        message,
        fix: fix.into(),
    }
}

fn warning(part: &'static str, message: String, fix: &str) -> Finding {
    Finding {
        severity: "warning",
        ..error(part, message, fix)
    }
}

const APPLY: &str = "run terraform apply: the provider restores what it configured.";

/// Detection (interval × threshold), plus one more interval when the primary record's check is
/// the switch's CALCULATED check (it turns when Route 53 next aggregates its children's statuses,
/// which arrive with their checkers' next round: an estimate, AWS publishes no figure), plus the
/// alias TTL that resolvers may still serve.
pub fn estimated_failover_seconds(expect: &Expect, facts: &Facts) -> f64 {
    let check = facts.health_check.as_ref();
    let (interval, threshold) = check.map_or(
        (
            expect.interval.unwrap_or(DEFAULT_INTERVAL),
            expect.failure_threshold.unwrap_or(DEFAULT_THRESHOLD),
        ),
        |c| (c.spec.interval, c.spec.failure_threshold),
    );
    let calculated = if through_switch(facts) { interval } else { 0 };
    f64::from(interval * threshold + calculated) + ALIAS_TTL_SECONDS
}

/// Whether the primary record reaches the endpoint check through the switch's calculated check.
fn through_switch(facts: &Facts) -> bool {
    let primary =
        (facts.records.iter().flatten()).find(|r| r.set_identifier == Role::Primary.as_str());
    let ours = facts.health_check.as_ref().map(|c| c.id.as_str());
    primary.is_some_and(|p| switch_includes(facts, p.health_check_id.as_deref(), ours))
}

/// Each switch alarm: thrown, it keeps the primary out of DNS until it is released in its own
/// region (metrics are regional), which is easy to forget after throwing it from a further
/// standby's region; missing, the switch cannot be thrown there.
fn switch(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    for alarm in &facts.switch_alarms {
        let (name, region) = (&alarm.name, &alarm.region);
        match &alarm.found {
            None => out.push(warning(
                "switch",
                format!("switch alarm {name} in {region} does not exist: the failover switch cannot be thrown there."),
                APPLY,
            )),
            Some(found) if found.state == "ALARM" => out.push(warning(
                "switch",
                format!("the failover switch is thrown in {region} (alarm {name} in ALARM): Route 53 keeps the primary out of DNS, healthy or not, until it is released there."),
                &format!("once the failover is over, release it in {region}: terraform-provider-tap failover release --suffix {} --standby-region {region} (or the tap_failover action with engage = false).", expect.suffix),
            )),
            Some(_) => {}
        }
    }
}

/// What the last drill (`tap_failover_drill`) found: its failures, and its measured switch time
/// against the recovery time objective.
fn last_drill(expect: &Expect, out: &mut Vec<Finding>) {
    let Some(drill) = &expect.last_drill else {
        return;
    };
    let fix = "fix what it names, then run tap_failover_drill again and pass its summary.";
    for failure in drill.failures() {
        out.push(error(
            "drill",
            format!("the last drill found that {failure}."),
            fix,
        ));
    }
    if let Some(rto) = expect.rto_seconds {
        if drill.switch_seconds > rto {
            out.push(error("drill", format!("the last drill took {:.1} s until DNS answered the standby, above the {rto} s target.", drill.switch_seconds), "lower the switch alarm's or the health check's settings, or raise rto_seconds to what the drill measured."));
        }
    }
}

/// What a standby after the first needs to take traffic when Route 53 reaches it in the chain:
/// its capacity, its replica and that replica's protection, its alarms and its topic; each
/// message names the standby.
pub fn evaluate_further(expect: &Expect, facts: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    standby(expect, facts, &mut out);
    if let Some(table) = &facts.table {
        replica(expect, table, &mut out);
    }
    replica_protection(expect, facts, &mut out);
    alarms_and_topics(facts, &mut out);
    https_on_both_sides(facts, &mut out);
    certificates(facts, &mut out);
    out.into_iter()
        .map(|f| Finding {
            message: format!("further standby {}: {}", expect.standby_region, f.message),
            ..f
        })
        .collect()
}

pub fn evaluate(expect: &Expect, facts: &Facts) -> Vec<Finding> {
    let mut findings = Vec::new();
    standby(expect, facts, &mut findings);
    health_check(expect, facts, &mut findings);
    table(expect, facts, &mut findings);
    records(expect, facts, &mut findings);
    alerting(facts, &mut findings);
    entry(facts, &mut findings);
    certificates(facts, &mut findings);
    replica_protection(expect, facts, &mut findings);
    switch(expect, facts, &mut findings);
    last_drill(expect, &mut findings);
    let estimate = estimated_failover_seconds(expect, facts);
    if let Some(rto) = expect.rto_seconds {
        if estimate > rto {
            findings.push(error("failover time", format!("failover takes about {estimate} s (interval × failure threshold, one more interval through the switch's calculated check, + {ALIAS_TTL_SECONDS} s alias TTL), above the {rto} s target."), "lower health_check.failure_threshold or use interval 10."));
        }
    }
    findings
}

/// Route 53's checkers must reach the primary (else it looks down for good and the standby takes
/// everything), and both sides must serve what the health check and clients ask for.
fn entry(facts: &Facts, out: &mut Vec<Finding>) {
    let part = "entry";
    let e = &facts.entry;
    if let (Some(rules), Some(check)) = (&e.primary_ingress, &facts.health_check) {
        let port = check.spec.port;
        let admitted = rules.iter().any(|(p, source)| {
            *p == port
                && match source {
                    Source::Cidr(cidr) => cidr == "0.0.0.0/0",
                    Source::PrefixList(id) => e.checkers_prefix_list.as_ref() == Some(id),
                    Source::Group(_) => false,
                }
        });
        if !admitted {
            out.push(error(part, format!("the primary load balancer's security group admits neither 0.0.0.0/0 nor Route 53's health checkers (prefix list com.amazonaws.<region>.route53-healthchecks) on port {port}: the checkers see the primary down for good and Route 53 sends everything to the standby."), APPLY));
        }
    }
    https_on_both_sides(facts, out);
    if let (Some(true), Some(check)) = (e.https[0], &facts.health_check) {
        if !check.spec.https {
            out.push(error(part, format!("the health check asks HTTP:{} of a load balancer that redirects HTTP to HTTPS: the 301 counts as healthy, so the check never sees the application fail.", check.spec.port), "use health_check protocol HTTPS on port 443 and apply."));
        }
    }
}

/// HTTPS on the primary and the standby, or on neither.
fn https_on_both_sides(facts: &Facts, out: &mut Vec<Finding>) {
    if let [Some(primary), Some(standby)] = facts.entry.https {
        if primary != standby {
            let (with, without) = if primary {
                (Role::Primary, Role::Standby)
            } else {
                (Role::Standby, Role::Primary)
            };
            out.push(error("entry", format!("only the {with} load balancer serves HTTPS: when traffic is on the {without}, HTTPS clients are refused."), "give both regions a certificate_arn (or neither) and apply."));
        }
    }
}

/// How long before a certificate expires readiness warns.
const EXPIRY_WARNING_SECONDS: i64 = 30 * 24 * 3600;

/// Each region's load balancer must serve a certificate clients accept on the day traffic moves
/// there: issued, and not about to expire. ACM renews a DNS-validated certificate it issued while
/// the certificate is in use and its validation record stays in the zone; it never renews an
/// imported one (https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html).
fn certificates(facts: &Facts, out: &mut Vec<Finding>) {
    let part = "certificates";
    for (role, read) in Role::ALL.into_iter().zip(&facts.entry.certificates) {
        let c = match read {
            None => continue,
            Some(Err(refusal)) => {
                out.push(warning(part, format!("the {role} load balancer's certificate could not be read, so its status and expiry are unknown: {refusal}."), "allow acm:DescribeCertificate to the caller of this data source (docs/deployer-policy-tls.json has it)."));
                continue;
            }
            Some(Ok(c)) => c,
        };
        let renew = if c.imported {
            "ACM never renews an imported certificate: import the renewed one onto the same ARN (ImportCertificate with CertificateArn)."
        } else {
            "ACM renews it only while its DNS validation record stays in the zone: check the record (with tls = \"auto\", terraform apply restores it, or obtains a new certificate)."
        };
        if !c.issued() {
            out.push(error(part, format!("the {role} load balancer serves certificate {}, which is {}: clients refuse the connection whenever traffic is on the {role}.", c.arn, c.status), renew));
        } else if let Some(left) = c
            .not_after
            .map(|t| t - facts.entry.read_at)
            .filter(|left| *left < EXPIRY_WARNING_SECONDS)
        {
            let day = aws_smithy_types::DateTime::from_secs(c.not_after.unwrap_or_default())
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default();
            out.push(warning(
                part,
                format!(
                    "the {role} load balancer's certificate {} expires in {} days ({day}).",
                    c.arn,
                    left / 86_400
                ),
                renew,
            ));
        }
    }
}

/// The standby's copy of the sessions keeps its own recovery and protection.
fn replica_protection(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    let part = "session table";
    let Some((pitr, protected)) = facts.replica_protection else {
        return;
    };
    let region = &expect.standby_region;
    if !pitr && facts.home_pitr == Some(true) {
        out.push(warning(part, format!("the replica in {region} has no point-in-time recovery: the standby's copy of the sessions cannot be restored."), APPLY));
    }
    let home_protected = facts.table.as_ref().is_some_and(|t| t.deletion_protection);
    if home_protected && !protected {
        out.push(warning(part, format!("the replica in {region} has no deletion protection, unlike the home table: it can be deleted with the standby's sessions."), APPLY));
    }
}

fn standby(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    let part = "standby capacity";
    let group = format!("asg-standby-{}", expect.suffix);
    let Some(capacity) = facts.standby.filter(|c| c.desired.is_some()) else {
        out.push(error(
            part,
            format!(
                "the standby Auto Scaling group {group} or its target group does not exist in {}.",
                expect.standby_region
            ),
            APPLY,
        ));
        return;
    };
    if capacity.desired == Some(0) {
        out.push(error(
            part,
            format!("{group} is scaled to 0: there is nothing to fail over to."),
            "set the standby desired_capacity to 1 or more and apply.",
        ));
    } else if capacity.healthy_targets == 0 {
        out.push(error(part, "no healthy target behind the standby load balancer: with evaluate-target-health, Route 53 treats the standby as down and keeps answering with the primary.".into(), "check the standby instances' /health and their security groups."));
    } else if capacity.in_service < capacity.desired.unwrap_or(0) as usize {
        out.push(warning(part, format!("{} of {} standby instances are InService.", capacity.in_service, capacity.desired.unwrap_or(0)), "wait for the scaling activity, or look at its failure in the Auto Scaling activity history."));
    }
}

fn health_check(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    let part = "health check";
    let Some(check) = &facts.health_check else {
        out.push(error(
            part,
            format!(
                "no Route 53 health check of stack {} watches the primary.",
                expect.suffix
            ),
            APPLY,
        ));
        return;
    };
    if check.disabled {
        out.push(error(part, format!("health check {} is disabled: Route 53 then counts the primary as healthy and never fails over.", check.id), APPLY));
    }
    let interval = expect.interval.unwrap_or(check.spec.interval);
    let threshold = expect
        .failure_threshold
        .unwrap_or(check.spec.failure_threshold);
    if (check.spec.interval, check.spec.failure_threshold) != (interval, threshold) {
        out.push(warning(part, format!("health check {} checks every {} s with threshold {}; the stack is configured for {interval} s and {threshold}.", check.id, check.spec.interval, check.spec.failure_threshold), APPLY));
    }
    let failing: Vec<&str> = facts
        .checker_status
        .iter()
        .filter(|(_, status)| status.starts_with("Failure"))
        .map(|(region, _)| region.as_str())
        .collect();
    if !failing.is_empty() {
        out.push(warning(
            part,
            format!(
                "Route 53 checkers in {} see the primary failing.",
                failing.join(", ")
            ),
            "look at the primary load balancer and its targets.",
        ));
    }
}

fn table(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    let part = "session table";
    let Some(table) = &facts.table else {
        out.push(error(
            part,
            format!(
                "the session table trading-sessions-{} does not exist.",
                expect.suffix
            ),
            APPLY,
        ));
        return;
    };
    if table.status != "ACTIVE" {
        out.push(error(
            part,
            format!("table {} is {}.", table.name, table.status),
            "wait for it to become ACTIVE.",
        ));
    }
    replica(expect, table, out);
    // An MRSC write needs two of the three Regions: with the witness gone, losing one replica
    // Region stops every strongly consistent write.
    for witness in table.witnesses.iter().filter(|w| w.status != "ACTIVE") {
        out.push(error(
            part,
            format!(
                "the MRSC witness of table {} in {} is {}: should a replica Region fail now, the table takes no more writes.",
                table.name, witness.region, witness.status
            ),
            "wait for it to become ACTIVE; a witness that is gone comes back only with the table made again (session_table.allow_data_loss).",
        ));
    }
    if let Some(latency) = facts.replication_latency_ms {
        if latency > expect.latency_threshold_ms {
            out.push(warning(part, format!("replication to {} lags {latency:.0} ms: a failover now loses the most recent sessions.", expect.standby_region), "look at the table's write load and the replica's throttling."));
        }
    }
}

/// The table's replica in the standby's region, active.
fn replica(expect: &Expect, table: &TableFacts, out: &mut Vec<Finding>) {
    let part = "session table";
    match table
        .replicas
        .iter()
        .find(|r| r.region == expect.standby_region)
    {
        None => out.push(error(
            part,
            format!(
                "table {} has no replica in {}: after a failover the standby has no sessions.",
                table.name, expect.standby_region
            ),
            APPLY,
        )),
        Some(replica) if replica.status != "ACTIVE" => out.push(error(
            part,
            format!(
                "the replica in {} is {}.",
                expect.standby_region, replica.status
            ),
            "wait for it to become ACTIVE.",
        )),
        Some(_) => {}
    }
}

fn records(expect: &Expect, facts: &Facts, out: &mut Vec<Finding>) {
    let part = "records";
    let Some(records) = &facts.records else {
        out.push(error(
            part,
            "the hosted zone of the failover name does not exist.".into(),
            APPLY,
        ));
        return;
    };
    let find = |role: Role| records.iter().find(|r| r.set_identifier == role.as_str());
    let (Some(primary), Some(standby)) = (find(Role::Primary), find(Role::Standby)) else {
        out.push(error(
            part,
            "the weighted records primary and standby are not both there.".into(),
            APPLY,
        ));
        return;
    };
    let our_check = facts.health_check.as_ref().map(|c| c.id.as_str());
    let uses = primary.health_check_id.as_deref();
    if uses.is_none() || (uses != our_check && !switch_includes(facts, uses, our_check)) {
        out.push(error(part, format!("the primary record uses health check {uses:?}, which neither is nor includes the stack's {our_check:?}: Route 53 cannot see the primary fail."), APPLY));
    }
    // Without an expected active region, either one taking all traffic is a configuration.
    let weights = (primary.weight, standby.weight);
    let want = match expect.standby_active {
        Some(true) => (0, 100),
        Some(false) => (100, 0),
        None if weights == (0, 100) => weights,
        None => (100, 0),
    };
    if weights != want {
        out.push(error(part, format!("weights are primary {} / standby {}, not {} / {} as configured: they were changed outside Terraform.", primary.weight, standby.weight, want.0, want.1), APPLY));
    }
    if !standby.evaluate_target_health || !primary.evaluate_target_health {
        out.push(warning(part, "evaluate-target-health is off on a record: Route 53 may send traffic to a load balancer without healthy targets.".into(), APPLY));
    }
}

/// Whether `uses` is the switch's calculated check, watching the endpoint check `ours`.
fn switch_includes(facts: &Facts, uses: Option<&str>, ours: Option<&str>) -> bool {
    let (Some(check), Some(ours)) = (&facts.record_check, ours) else {
        return false;
    };
    Some(check.id.as_str()) == uses
        && !check.overridden
        && matches!(&check.spec, Some(switch_checks::Spec::AllOf(children)) if children.iter().any(|c| c == ours))
}

fn alerting(facts: &Facts, out: &mut Vec<Finding>) {
    let Some(alarm) = &facts.health_check_alarm else {
        out.push(error(
            "alarms",
            "the health-check alarm does not exist: nobody learns that the primary is down.".into(),
            APPLY,
        ));
        return;
    };
    if alarm.spec.actions.is_empty() || !alarm.spec.actions_enabled {
        out.push(error(
            "alarms",
            format!(
                "alarm {} notifies nobody: its actions are removed or disabled.",
                alarm.spec.name
            ),
            APPLY,
        ));
    }
    alarms_and_topics(facts, out);
}

/// The alarms besides the health check's, the topics they notify, and those topics' keys and
/// subscriptions.
fn alarms_and_topics(facts: &Facts, out: &mut Vec<Finding>) {
    for (name, found) in &facts.alarms {
        match found {
            None => out.push(warning(
                "alarms",
                format!("alarm {name} does not exist."),
                APPLY,
            )),
            Some(a) if a.spec.actions.is_empty() => out.push(warning(
                "alarms",
                format!("alarm {name} has no action."),
                APPLY,
            )),
            Some(_) => {}
        }
    }
    for (role, topic) in &facts.topics {
        match topic {
            None => out.push(error(
                "notifications",
                format!("the {role} alarm topic does not exist."),
                APPLY,
            )),
            Some(t) if t.confirmed == 0 => out.push(error(
                "notifications",
                format!(
                    "topic {} has no confirmed subscription: its alarms reach nobody.",
                    t.arn
                ),
                "add an address to alarm_emails, apply, and confirm the e-mail SNS sends.",
            )),
            Some(_) => {}
        }
    }
    for arn in &facts.unusable_topic_keys {
        out.push(error(
            "notifications",
            format!("topic {arn} is encrypted with a KMS key CloudWatch alarms cannot use (AWS-managed such as alias/aws/sns, disabled, pending deletion, or a policy that does not let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*): its alarms never publish."),
            "run terraform apply: the provider gives the topic a key CloudWatch can use; with kms_key_arn, let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey* in that key's policy.",
        ));
    }
    pending_subscriptions(facts, out);
}

/// Subscriptions whose owner has not clicked the link in SNS's confirmation e-mail: until then
/// their alarms reach nobody, and after 48 hours SNS deletes them.
fn pending_subscriptions(facts: &Facts, out: &mut Vec<Finding>) {
    let pending: Vec<String> = facts
        .topics
        .iter()
        .filter_map(|(role, topic)| Some((role, topic.as_ref()?)))
        .flat_map(|(role, t)| t.pending.iter().map(move |e| format!("{e} ({role})")))
        .collect();
    if pending.is_empty() {
        return;
    }
    out.push(warning(
        "notifications",
        format!(
            "{} subscription{} pending confirmation: {}.",
            pending.len(),
            if pending.len() == 1 { "" } else { "s" },
            pending.join(", ")
        ),
        "confirm from the e-mail \"AWS Notification - Subscription Confirmation\" each address received; SNS deletes a subscription unconfirmed after 48 hours, and the next apply subscribes the address again.",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::alarms::AlarmSpec;
    use crate::aws::health_check::HealthCheckSpec;
    use crate::aws::session_table::ReplicaFacts;

    fn expect() -> Expect {
        Expect {
            suffix: "prod".into(),
            standby_region: "us-east-2".into(),
            standby_active: Some(false),
            interval: Some(10),
            failure_threshold: Some(3),
            rto_seconds: None,
            latency_threshold_ms: 60_000.0,
            last_drill: None,
        }
    }

    fn record(id: &str, weight: i64, check: Option<&str>) -> WeightedRecord {
        WeightedRecord {
            set_identifier: id.into(),
            weight,
            alias_dns_name: format!("alb-{id}"),
            alias_zone_id: "Z".into(),
            health_check_id: check.map(str::to_owned),
            evaluate_target_health: true,
        }
    }

    fn alarm(actions: &[&str]) -> AlarmFacts {
        AlarmFacts {
            arn: "arn".into(),
            state: "OK".into(),
            spec: AlarmSpec {
                name: "failover-health-check-prod".into(),
                description: String::new(),
                namespace: "AWS/Route53".into(),
                metric: "HealthCheckStatus".into(),
                statistic: "Minimum".into(),
                comparison: "<",
                threshold: 1.0,
                evaluation_periods: 3,
                period: 60,
                dimensions: Vec::new(),
                actions: actions.iter().map(|a| (*a).to_owned()).collect(),
                actions_enabled: true,
                treat_missing_data: "breaching",
            },
        }
    }

    fn healthy() -> Facts {
        let topic = |role: &str| TopicFacts {
            arn: format!("arn:aws:sns:us-east-1:1:{role}"),
            kms_key: None,
            policy: None,
            emails: ["oncall@example.com".to_owned()].into(),
            pending: Default::default(),
            confirmed: 1,
        };
        Facts {
            standby: Some(Capacity {
                desired: Some(1),
                in_service: 1,
                healthy_targets: 1,
            }),
            health_check: Some(HealthCheckFacts {
                id: "hc".into(),
                version: 1,
                disabled: false,
                spec: HealthCheckSpec {
                    https: false,
                    fqdn: "alb-primary".into(),
                    port: 80,
                    path: "/health".into(),
                    interval: 10,
                    failure_threshold: 3,
                    regions: Vec::new(),
                    measure_latency: true,
                },
            }),
            checker_status: vec![("us-east-1".into(), "Success: HTTP Status Code 200".into())],
            table: Some(TableFacts {
                name: "trading-sessions-prod".into(),
                arn: "arn".into(),
                status: "ACTIVE".into(),
                stream_arn: None,
                stream_view_type: None,
                billing_mode: None,
                sse_enabled: true,
                deletion_protection: false,
                replicas: vec![ReplicaFacts {
                    region: "us-east-2".into(),
                    status: "ACTIVE".into(),
                    status_description: None,
                }],
                strong: false,
                witnesses: Vec::new(),
            }),
            replication_latency_ms: Some(120.0),
            records: Some(vec![
                record("primary", 100, Some("hc")),
                record("standby", 0, None),
            ]),
            health_check_alarm: Some(alarm(&["arn:aws:sns:us-east-1:1:primary"])),
            alarms: Vec::new(),
            topics: vec![
                ("primary".into(), Some(topic("primary"))),
                ("standby".into(), Some(topic("standby"))),
            ],
            unusable_topic_keys: Vec::new(),
            ..Default::default()
        }
    }

    /// What readiness expects of a further standby in us-west-2, and its facts: healthy, with
    /// its own topic only, and no replica there yet.
    fn further_standby() -> (Expect, Facts) {
        let further = Expect {
            standby_region: "us-west-2".into(),
            ..expect()
        };
        let mut facts = Facts {
            health_check: None,
            records: None,
            ..healthy()
        };
        facts.topics.retain(|(role, _)| role == "standby");
        (further, facts)
    }

    fn with_replica_in_us_west_2(facts: &mut Facts) {
        if let Some(table) = facts.table.as_mut() {
            table.replicas.push(ReplicaFacts {
                region: "us-west-2".into(),
                status: "ACTIVE".into(),
                status_description: None,
            });
        }
    }

    /// A further standby is judged on its own capacity, replica and topic, each finding naming
    /// it; the primary's health check and records are the first standby's judgement, not its.
    #[test]
    fn a_further_standby_is_judged_on_its_own_parts_and_named() {
        let (further, mut facts) = further_standby();
        let found = evaluate_further(&further, &facts);
        let parts: Vec<&str> = found.iter().map(|f| f.part).collect();
        assert_eq!(
            parts,
            ["session table"],
            "no replica in us-west-2: {found:?}"
        );
        assert!(found[0].message.starts_with("further standby us-west-2: "));
        with_replica_in_us_west_2(&mut facts);
        assert_eq!(evaluate_further(&further, &facts), Vec::new());
        facts.standby = Some(Capacity {
            desired: Some(0),
            in_service: 0,
            healthy_targets: 0,
        });
        facts.topics = vec![("standby".into(), None)];
        let parts: Vec<&str> = evaluate_further(&further, &facts)
            .iter()
            .map(|f| f.part)
            .collect();
        assert_eq!(parts, ["standby capacity", "notifications"]);
    }

    /// A further standby serves HTTPS when the primary does, with a certificate clients accept.
    #[test]
    fn a_further_standby_is_judged_on_its_https_and_certificate() {
        let (further, mut facts) = further_standby();
        with_replica_in_us_west_2(&mut facts);
        facts.entry.https = [Some(true), Some(true)];
        facts.entry.certificates[1] = Some(Ok(CertificateFacts {
            arn: "arn:aws:acm:us-west-2:1:certificate/w".into(),
            domain_name: "trading.example.net".into(),
            status: "ISSUED".into(),
            not_after: Some(facts.entry.read_at + 365 * 86_400),
            imported: false,
        }));
        assert_eq!(evaluate_further(&further, &facts), Vec::new());
        if let Some(Ok(c)) = facts.entry.certificates[1].as_mut() {
            c.status = "PENDING_VALIDATION".into();
        }
        facts.entry.https = [Some(true), Some(false)];
        let found = evaluate_further(&further, &facts);
        let parts: Vec<&str> = found.iter().map(|f| f.part).collect();
        assert_eq!(parts, ["entry", "certificates"], "{found:?}");
        assert!(found
            .iter()
            .all(|f| f.message.starts_with("further standby us-west-2: ")));
    }

    fn errors(facts: &Facts) -> Vec<&'static str> {
        errors_for(&expect(), facts)
    }

    fn errors_for(expect: &Expect, facts: &Facts) -> Vec<&'static str> {
        evaluate(expect, facts)
            .into_iter()
            .filter(|f| f.severity == "error")
            .map(|f| f.part)
            .collect()
    }

    #[test]
    fn the_primary_record_may_use_the_switch_check_only_while_it_watches_the_endpoint() {
        let through = |children: &[&str], overridden| {
            let mut f = healthy();
            f.records = Some(vec![
                record("primary", 100, Some("calc")),
                record("standby", 0, None),
            ]);
            f.record_check = Some(switch_checks::Facts {
                id: "calc".into(),
                kind: switch_checks::Kind::Primary,
                spec: Some(switch_checks::Spec::all_of(
                    children.iter().map(|c| c.to_string()).collect(),
                )),
                overridden,
            });
            errors(&f)
        };
        assert!(through(&["switch", "hc"], false).is_empty());
        assert_eq!(through(&["switch", "other"], false), ["records"]);
        assert_eq!(through(&["switch", "hc"], true), ["records"]);
        let mut f = healthy();
        f.records = Some(vec![
            record("primary", 100, Some("calc")),
            record("standby", 0, None),
        ]);
        assert_eq!(errors(&f), ["records"], "a check that is not the switch's");
    }

    #[test]
    fn through_the_switchs_calculated_check_the_estimate_has_one_more_interval() {
        let mut f = healthy();
        f.records = Some(vec![
            record("primary", 100, Some("calc")),
            record("standby", 0, None),
        ]);
        f.record_check = Some(switch_checks::Facts {
            id: "calc".into(),
            kind: switch_checks::Kind::Primary,
            spec: Some(switch_checks::Spec::all_of(vec![
                "switch".into(),
                "hc".into(),
            ])),
            overridden: false,
        });
        // 10 s × 3, one more 10 s for the calculated check, 60 s alias TTL.
        assert_eq!(estimated_failover_seconds(&expect(), &f), 100.0);
        f.health_check.as_mut().unwrap().spec.interval = 30;
        assert_eq!(estimated_failover_seconds(&expect(), &f), 180.0);
        f.record_check.as_mut().unwrap().overridden = true;
        assert_eq!(
            estimated_failover_seconds(&expect(), &f),
            150.0,
            "not through the switch"
        );
    }

    /// A switch thrown in any standby region, or an alarm a switch check follows that is gone,
    /// is a warning naming the region; a released one says nothing.
    #[test]
    fn a_thrown_or_missing_switch_alarm_is_a_warning_naming_its_region() {
        let switch = |region: &str, state: Option<&str>| SwitchAlarm {
            region: region.into(),
            name: format!("failover-switch-{region}-prod"),
            found: state.map(|state| AlarmFacts {
                state: state.into(),
                ..alarm(&["arn:aws:sns:us-east-2:1:standby"])
            }),
        };
        let mut f = healthy();
        f.switch_alarms = vec![
            switch("us-east-2", Some("OK")),
            switch("us-west-2", Some("INSUFFICIENT_DATA")),
        ];
        assert!(evaluate(&expect(), &f).is_empty());
        f.switch_alarms = vec![
            switch("us-east-2", Some("OK")),
            switch("us-west-2", Some("ALARM")),
        ];
        let found = evaluate(&expect(), &f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].severity, found[0].part), ("warning", "switch"));
        assert!(
            found[0].message.contains("thrown in us-west-2"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].fix.contains("--standby-region us-west-2"),
            "{}",
            found[0].fix
        );
        f.switch_alarms = vec![switch("us-east-2", None)];
        let found = evaluate(&expect(), &f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.starts_with(
            "switch alarm failover-switch-us-east-2-prod in us-east-2 does not exist"
        ));
    }

    #[test]
    fn the_last_drills_failures_and_a_switch_time_above_the_rto_are_errors() {
        let drill = |line: &str| Expect {
            rto_seconds: Some(120.0),
            last_drill: DrillSummary::parse(line),
            ..expect()
        };
        let good = drill("detection 60.2 s, standby answering 61.0 s, return 60.5 s, standby targets healthy 2 of 2, alarm notified yes");
        assert!(errors_for(&good, &healthy()).is_empty());
        let bad = drill("detection 60.2 s, standby answering 130.0 s, return 60.5 s, standby targets healthy 0 of 2, alarm notified no");
        assert_eq!(errors_for(&bad, &healthy()), ["drill", "drill", "drill"]);
    }

    #[test]
    fn a_healthy_stack_is_ready_and_fails_over_in_90_seconds() {
        assert!(evaluate(&expect(), &healthy()).is_empty());
        assert_eq!(estimated_failover_seconds(&expect(), &healthy()), 90.0);
    }

    #[test]
    fn shut_out_checkers_https_on_one_side_and_a_blind_check_are_entry_errors() {
        let open = |port| Rules::from([(port, Source::Cidr("0.0.0.0/0".into()))]);
        let mut f = healthy();
        f.entry.primary_ingress = Some(open(80));
        assert!(errors(&f).is_empty());
        f.entry.primary_ingress = Some(Rules::from([(80, Source::Cidr("10.0.0.0/8".into()))]));
        assert_eq!(errors(&f), ["entry"]);
        f.entry.checkers_prefix_list = Some("pl-checkers".into());
        f.entry.primary_ingress = Some(Rules::from([
            (80, Source::Cidr("10.0.0.0/8".into())),
            (80, Source::PrefixList("pl-checkers".into())),
        ]));
        assert!(
            errors(&f).is_empty(),
            "the checkers' prefix list lets them in"
        );
        let mut f = healthy();
        f.entry.https = [Some(true), Some(false)];
        let found = evaluate(&expect(), &f);
        assert!(
            found.iter().any(|x| x
                .message
                .contains("only the primary load balancer serves HTTPS")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|x| x.message.contains("301 counts as healthy")),
            "{found:?}"
        );
        f.entry.https = [Some(true), Some(true)];
        if let Some(check) = &mut f.health_check {
            check.spec.https = true;
            check.spec.port = 443;
        }
        assert!(errors(&f).is_empty());
    }

    /// A certificate not issued is an error on `certificates`; one expiring within 30 days a
    /// warning whose fix says who renews it; one ACM would not describe a warning; a certificate
    /// with two months left, nothing.
    #[test]
    fn certificates_not_issued_or_expiring_within_30_days_are_found() {
        const DAY: i64 = 86_400;
        let judged = |status: &str, days_left: i64, imported: bool| {
            let mut f = healthy();
            f.entry.read_at = 1_800_000_000;
            f.entry.certificates[1] = Some(Ok(CertificateFacts {
                arn: "arn:aws:acm:us-east-2:1:certificate/s".into(),
                domain_name: "trading.example.net".into(),
                status: status.into(),
                not_after: Some(f.entry.read_at + days_left * DAY + 60),
                imported,
            }));
            evaluate(&expect(), &f)
                .into_iter()
                .map(|x| (x.severity, x.part, x.message, x.fix))
                .collect::<Vec<_>>()
        };
        assert_eq!(judged("ISSUED", 60, false), []);
        let soon = judged("ISSUED", 10, true);
        assert_eq!((soon[0].0, soon[0].1), ("warning", "certificates"));
        assert!(soon[0].2.contains("the standby load balancer's certificate arn:aws:acm:us-east-2:1:certificate/s expires in 10 days (2027-"), "{soon:?}");
        assert!(soon[0].3.contains("never renews an imported"), "{soon:?}");
        let issued_by_acm = judged("ISSUED", 29, false);
        assert!(
            issued_by_acm[0].3.contains("DNS validation record"),
            "{issued_by_acm:?}"
        );
        let expired = judged("EXPIRED", -1, false);
        assert_eq!((expired[0].0, expired[0].1), ("error", "certificates"));
        assert!(expired[0].2.contains("which is EXPIRED"), "{expired:?}");

        let mut f = healthy();
        f.entry.certificates[0] = Some(Err("AccessDeniedException: not authorized".into()));
        let unread = evaluate(&expect(), &f);
        assert_eq!(
            (unread[0].severity, unread[0].part),
            ("warning", "certificates")
        );
        assert!(unread[0].message.contains("primary"), "{unread:?}");
    }

    /// A strong table's witness must be ACTIVE: without it, a Regional failure stops writes.
    #[test]
    fn an_mrsc_witness_not_active_is_a_table_error() {
        let witnessed = |status: &str| {
            let mut f = healthy();
            if let Some(t) = f.table.as_mut() {
                t.strong = true;
                t.witnesses = vec![ReplicaFacts {
                    region: "us-west-2".into(),
                    status: status.into(),
                    status_description: None,
                }];
            }
            errors(&f)
        };
        assert!(witnessed("ACTIVE").is_empty());
        assert_eq!(witnessed("DELETING"), ["session table"]);
    }

    #[test]
    fn a_replica_without_recovery_or_protection_is_a_warning() {
        let mut f = healthy();
        f.home_pitr = Some(true);
        f.replica_protection = Some((true, false));
        assert!(evaluate(&expect(), &f).is_empty());
        f.replica_protection = Some((false, false));
        if let Some(t) = &mut f.table {
            t.deletion_protection = true;
        }
        let found = evaluate(&expect(), &f);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found
            .iter()
            .all(|x| x.severity == "warning" && x.part == "session table"));
    }

    #[test]
    fn each_fault_is_an_error_on_its_part() {
        let mut f = healthy();
        f.standby = Some(Capacity {
            desired: Some(0),
            in_service: 0,
            healthy_targets: 0,
        });
        assert_eq!(errors(&f), ["standby capacity"]);
        let mut f = healthy();
        f.standby = Some(Capacity {
            desired: Some(1),
            in_service: 1,
            healthy_targets: 0,
        });
        assert_eq!(errors(&f), ["standby capacity"]);
        let mut f = healthy();
        f.table.as_mut().unwrap().replicas.clear();
        assert_eq!(errors(&f), ["session table"]);
        let mut f = healthy();
        f.health_check_alarm = Some(alarm(&[]));
        assert_eq!(errors(&f), ["alarms"]);
        let mut f = healthy();
        f.health_check.as_mut().unwrap().disabled = true;
        assert_eq!(errors(&f), ["health check"]);
        let mut f = healthy();
        f.topics[1].1.as_mut().unwrap().confirmed = 0;
        assert_eq!(errors(&f), ["notifications"]);
        let mut f = healthy();
        f.unusable_topic_keys = vec!["arn:aws:sns:us-east-2:1:standby".into()];
        assert_eq!(errors(&f), ["notifications"]);
        let mut f = healthy();
        f.records = Some(vec![
            record("primary", 50, Some("hc")),
            record("standby", 50, None),
        ]);
        assert_eq!(errors(&f), ["records"]);
    }

    #[test]
    fn without_expectations_what_the_stack_holds_is_judged_on_its_own() {
        let e = Expect {
            standby_active: None,
            interval: None,
            failure_threshold: None,
            ..expect()
        };
        let mut f = healthy();
        f.health_check.as_mut().unwrap().spec.interval = 30;
        f.records = Some(vec![
            record("primary", 0, Some("hc")),
            record("standby", 100, None),
        ]);
        assert!(evaluate(&e, &f).is_empty());
        assert_eq!(estimated_failover_seconds(&e, &f), 150.0);
        f.records = Some(vec![
            record("primary", 50, Some("hc")),
            record("standby", 50, None),
        ]);
        assert_eq!(errors_for(&e, &f), ["records"]);
    }

    #[test]
    fn a_given_argument_unlike_the_stack_is_an_error() {
        let found = differences(&[
            Given {
                argument: "standby_region",
                given: Some("us-west-2"),
                found: Some("us-east-2"),
            },
            Given {
                argument: "domain_name",
                given: Some("trading.tap-test.net."),
                found: Some("trading.tap-test.net"),
            },
            Given {
                argument: "primary_region",
                given: None,
                found: Some("us-east-1"),
            },
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].severity, found[0].part),
            ("error", "expectations")
        );
        assert_eq!(
            found[0].message,
            "standby_region is us-west-2 here, but the stack's is us-east-2."
        );
    }

    #[test]
    fn pending_subscriptions_are_counted_with_their_fix() {
        let mut f = healthy();
        for (_, topic) in &mut f.topics {
            let t = topic.as_mut().unwrap();
            t.pending = ["new@tap-test.net".to_owned()].into();
        }
        let found = evaluate(&expect(), &f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, "warning");
        assert_eq!(
            found[0].message,
            "2 subscriptions pending confirmation: new@tap-test.net (primary), new@tap-test.net (standby)."
        );
        assert!(found[0].fix.starts_with("confirm from the e-mail"));
    }

    #[test]
    fn a_planned_failover_expects_the_weights_reversed_and_rto_is_checked() {
        let mut e = expect();
        e.standby_active = Some(true);
        let found: Vec<_> = evaluate(&e, &healthy())
            .into_iter()
            .map(|f| f.part)
            .collect();
        assert_eq!(found, ["records"]);
        let mut e = expect();
        e.rto_seconds = Some(60.0);
        let found: Vec<_> = evaluate(&e, &healthy())
            .into_iter()
            .map(|f| f.part)
            .collect();
        assert_eq!(found, ["failover time"]);
    }
}
