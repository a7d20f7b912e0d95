//! What apply converges `tap_dns_failover` to: the planned state with every value known, and
//! the records and alarms it makes, computed the same way for plans and for apply.

use tf_provider::value::Value;

use super::schema::{self, Endpoint, State};
use crate::aws::alarms::AlarmSpec;
use crate::aws::failover_switch;
use crate::aws::health_check::HealthCheckSpec;
use crate::aws::route53;
use crate::aws::standby_chain::{self, ChainRecord};
use crate::aws::switch_checks::{Kind as SwitchCheckKind, Spec as SwitchCheckSpec};
use crate::aws::topic_key;
use crate::aws::weighted_records::WeightedRecord;
use crate::naming;
use crate::role::Role;
use crate::tags::{self, Ownership, Tags};
use crate::tf::number::whole;
use crate::tf::values::{known_list, known_map};

/// Route 53 publishes health-check metrics only in us-east-1, so the health-check alarm lives
/// there
/// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-check-status.html).
pub const METRICS_REGION: &str = "us-east-1";

/// An alarm topic: one in each stack region for that region's alarms, and one in us-east-1 for
/// the health-check alarm when neither stack is there, because an alarm notifies only topics
/// of its own region (PutMetricAlarm: "Invalid region <r> specified. Only us-east-1 is
/// supported.").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmTopic {
    Primary,
    /// A standby's, by its place in the order of preference.
    Standby(usize),
    HealthCheck,
}

impl AlarmTopic {
    /// The role whose alarms it carries: the us-east-1 topic carries the alarm on the
    /// primary's health, so it counts as the primary's.
    pub fn role(self) -> Role {
        match self {
            AlarmTopic::Primary | AlarmTopic::HealthCheck => Role::Primary,
            AlarmTopic::Standby(_) => Role::Standby,
        }
    }

    /// How names and messages call it: every standby's topic has one name, each in its region.
    pub fn label(self) -> &'static str {
        match self {
            AlarmTopic::Primary | AlarmTopic::Standby(_) => self.role().as_str(),
            AlarmTopic::HealthCheck => "health-check",
        }
    }

    /// The topics of a system with its stacks in these regions.
    pub fn all(primary_region: &str, standby_regions: &[&str]) -> Vec<AlarmTopic> {
        let mut all = vec![AlarmTopic::Primary];
        all.extend((0..standby_regions.len()).map(AlarmTopic::Standby));
        if primary_region != METRICS_REGION && !standby_regions.contains(&METRICS_REGION) {
            all.push(AlarmTopic::HealthCheck);
        }
        all
    }
}

/// Each alarm topic's ARN; `health_check` only where that topic exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicArns {
    pub primary: String,
    /// The standbys' in order of preference.
    pub standbys: Vec<String>,
    pub health_check: Option<String>,
}

impl TopicArns {
    /// The ARNs of `topics` (`Desired::alarm_topics`), in that order.
    pub fn of_topics(topics: &[AlarmTopic], arns: Vec<String>) -> TopicArns {
        let mut all = TopicArns::default();
        for (topic, arn) in topics.iter().zip(arns) {
            match topic {
                AlarmTopic::Primary => all.primary = arn,
                AlarmTopic::Standby(_) => all.standbys.push(arn),
                AlarmTopic::HealthCheck => all.health_check = Some(arn),
            }
        }
        all
    }

    /// The topic's ARN; `None` for a topic not made (yet): an alarm never notifies "".
    fn of(&self, topic: AlarmTopic) -> Option<String> {
        match topic {
            AlarmTopic::Primary => Some(self.primary.clone()),
            AlarmTopic::Standby(i) => self.standbys.get(i).cloned(),
            AlarmTopic::HealthCheck => self.health_check.clone(),
        }
    }
}

/// What a prior apply recorded of a system that exists: enough to move its weights without
/// reading anything else.
pub struct Recorded {
    pub zone_id: String,
    /// The endpoint check.
    pub health_check_id: String,
    /// The check of the primary record: the endpoint check and the switch check.
    pub record_check_id: String,
    pub topics: TopicArns,
}

/// The standby-traffic alarm fires when the standby load balancer gets more than this many
/// requests a minute (ALB metrics exclude health-check requests) in each of this many
/// consecutive minutes: traffic that has moved, not a stray request.
const STANDBY_TRAFFIC_PER_MINUTE: f64 = 10.0;
const STANDBY_TRAFFIC_MINUTES: i32 = 5;

/// `arn:...:loadbalancer/app/name/id` → `app/name/id`, the CloudWatch `LoadBalancer` dimension;
/// `arn:...:targetgroup/name/id` → `targetgroup/name/id`, the `TargetGroup` dimension.
fn metric_dimension(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    resource
        .strip_prefix("loadbalancer/")
        .unwrap_or(resource)
        .to_owned()
}

/// One load balancer, every value known.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSpec {
    pub region: String,
    pub alb_dns_name: String,
    pub alb_zone_id: String,
    pub alb_arn: String,
    pub target_group_arn: String,
    /// The user's key for this region's topic; `None`: a key made for it.
    pub kms_key_arn: Option<String>,
}

impl EndpointSpec {
    pub fn from_state(endpoint: &Value<Endpoint>) -> Option<EndpointSpec> {
        let e = endpoint.as_ref_option()?;
        Some(EndpointSpec {
            region: e.region.as_ref_option()?.clone(),
            alb_dns_name: e
                .alb_dns_name
                .as_ref_option()?
                .trim_end_matches('.')
                .to_owned(),
            alb_zone_id: e.alb_zone_id.as_ref_option()?.clone(),
            alb_arn: e.alb_arn.as_ref_option()?.clone(),
            target_group_arn: e.target_group_arn.as_ref_option()?.clone(),
            kms_key_arn: match &e.kms_key_arn {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
        })
    }
}

/// The planned state with every value known: what apply converges AWS to.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub domain_name: String,
    pub hosted_zone_id: Option<String>,
    pub primary: EndpointSpec,
    /// The first standby in order of preference: the one a two-region system has, and the
    /// region of the failover switch.
    pub standby: EndpointSpec,
    /// The other standbys, in order of preference.
    pub more_standbys: Vec<EndpointSpec>,
    pub health_check: HealthCheckSpec,
    /// The standby that takes the traffic instead of the primary (`active_region`), by its
    /// place in the order of preference.
    pub active_standby: Option<usize>,
    pub alarm_emails: Vec<String>,
    pub table_name: Option<String>,
    pub alarm_period: i32,
    pub alarm_evaluation_periods: i32,
    pub replication_latency_threshold: f64,
    pub environment: String,
    pub user_tags: Tags,
    pub default_tags: Tags,
    /// The user's ARC routing control, the switch instead of the switch alarm.
    pub routing_control: Option<String>,
    /// Whether a read brings back the health check's tags as `tags_all`; `tap_trading_failover`
    /// shows its primary VPC's instead, so it saves the request.
    pub read_tags: bool,
    /// The regions of standbys an update removes: their topics and alarms go.
    pub removed_standbys: Vec<String>,
}

/// The alarms' names, by what they watch.
pub struct AlarmNames {
    pub health_check: String,
    pub standby_traffic: String,
    pub replication_latency: String,
    pub unhealthy_hosts: [String; 2],
    pub switch: String,
}

impl AlarmNames {
    pub fn of(suffix: &str) -> AlarmNames {
        AlarmNames {
            health_check: naming::alarm("health-check", suffix),
            standby_traffic: naming::alarm("standby-traffic", suffix),
            replication_latency: naming::alarm("replication-latency", suffix),
            unhealthy_hosts: Role::ALL.map(|role| naming::unhealthy_hosts_alarm(role, suffix)),
            switch: failover_switch::alarm_name(suffix),
        }
    }

    /// The names of one standby's alarms (its traffic, its unhealthy hosts, its switch, the
    /// table's replication to it) in a system of several: each carries the standby's region,
    /// since the replication alarms all live in the primary region and `alarms` is keyed by
    /// name.
    pub fn of_standby(suffix: &str, region: &str) -> AlarmNames {
        let names = AlarmNames::of(suffix);
        let [primary_hosts, _] = names.unhealthy_hosts;
        AlarmNames {
            standby_traffic: naming::alarm(&format!("standby-traffic-{region}"), suffix),
            replication_latency: naming::alarm(&format!("replication-latency-{region}"), suffix),
            unhealthy_hosts: [
                primary_hosts,
                naming::alarm(&format!("unhealthy-hosts-standby-{region}"), suffix),
            ],
            switch: failover_switch::alarm_name_in(region, suffix),
            ..names
        }
    }
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let primary = EndpointSpec::from_state(&state.primary)?;
        let standbys = schema::standbys(state)
            .map(EndpointSpec::from_state)
            .collect::<Option<Vec<_>>>()?;
        let (standby, more_standbys) = standbys.split_first()?;
        let (standby, more_standbys) = (standby.clone(), more_standbys.to_vec());
        let check = state.health_check.as_ref_option()?;
        Some(Desired {
            suffix: state.environment_suffix.as_ref_option()?.clone(),
            domain_name: state
                .domain_name
                .as_ref_option()?
                .trim_end_matches('.')
                .to_owned(),
            hosted_zone_id: match &state.hosted_zone_id {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            health_check: HealthCheckSpec {
                https: check.protocol.as_ref_option()? == "HTTPS",
                fqdn: primary.alb_dns_name.clone(),
                port: whole(&check.port)? as i32,
                path: check.path.as_ref_option()?.clone(),
                interval: whole(&check.interval)? as i32,
                failure_threshold: whole(&check.failure_threshold)? as i32,
                regions: known_list(&check.regions)?,
                measure_latency: *check.measure_latency.as_ref_option()?,
            },
            active_standby: active_standby(state.active_region.as_ref_option()?, &standbys),
            primary,
            standby,
            more_standbys,
            alarm_emails: known_list(&state.alarm_emails)?,
            table_name: match &state.table_name {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            alarm_period: whole(&state.alarm_period)? as i32,
            alarm_evaluation_periods: whole(&state.alarm_evaluation_periods)? as i32,
            replication_latency_threshold: state.replication_latency_threshold.as_ref_option()?.0,
            environment: state.environment.as_ref_option()?.clone(),
            user_tags: known_map(&state.tags)?,
            default_tags: default_tags.clone(),
            routing_control: match &state.switch_routing_control_arn {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            read_tags: true,
            removed_standbys: Vec::new(),
        })
    }

    /// This desired state pointing at other load balancers, where given (a composite learns
    /// them at apply); each topic keeps its key.
    pub fn pointing_at(
        mut self,
        primary: Option<EndpointSpec>,
        standbys: Vec<Option<EndpointSpec>>,
    ) -> Desired {
        let slots = std::iter::once(&mut self.primary)
            .chain(std::iter::once(&mut self.standby))
            .chain(&mut self.more_standbys);
        for (slot, given) in slots.zip(std::iter::once(primary).chain(standbys)) {
            if let Some(e) = given {
                *slot = EndpointSpec {
                    alb_dns_name: e.alb_dns_name.trim_end_matches('.').to_owned(),
                    kms_key_arn: slot.kms_key_arn.take(),
                    ..e
                };
            }
        }
        self.health_check.fqdn = self.primary.alb_dns_name.clone();
        self
    }

    fn tags(&self, part: &str, name: &str, role: Role) -> Tags {
        tags::merge(
            &self.default_tags,
            &Ownership {
                suffix: &self.suffix,
                part,
                name,
                environment: &self.environment,
                failover_role: role,
            },
            &self.user_tags,
        )
    }

    pub fn zone_tags(&self) -> Tags {
        self.tags("dns-zone", &self.domain_name, Role::Primary)
    }

    pub fn health_check_tags(&self) -> Tags {
        self.tags(
            "health-check",
            &naming::health_check(&self.suffix),
            Role::Primary,
        )
    }

    /// Every standby, in order of preference.
    pub fn standbys(&self) -> impl Iterator<Item = &EndpointSpec> {
        std::iter::once(&self.standby).chain(&self.more_standbys)
    }

    /// A standby by its place in the order of preference.
    fn nth_standby(&self, i: usize) -> Option<&EndpointSpec> {
        self.standbys().nth(i)
    }

    pub fn standby_active(&self) -> bool {
        self.active_standby.is_some()
    }

    pub fn alarm_topics(&self) -> Vec<AlarmTopic> {
        let regions: Vec<&str> = self.standbys().map(|s| s.region.as_str()).collect();
        AlarmTopic::all(&self.primary.region, &regions)
    }

    pub fn topic_region(&self, topic: AlarmTopic) -> &str {
        match topic {
            AlarmTopic::Primary => &self.primary.region,
            AlarmTopic::Standby(i) => self.nth_standby(i).map_or("", |s| s.region.as_str()),
            AlarmTopic::HealthCheck => METRICS_REGION,
        }
    }

    /// How a topic is named where an address only some topics hold is marked: its label, with
    /// the region for a standby of several.
    pub fn topic_holder(&self, topic: AlarmTopic) -> String {
        match topic {
            AlarmTopic::Standby(_) if !self.more_standbys.is_empty() => {
                format!("{} {}", topic.label(), self.topic_region(topic))
            }
            _ => topic.label().to_owned(),
        }
    }

    /// The user's key for a topic; `None`: a key made for it.
    pub fn topic_user_key(&self, topic: AlarmTopic) -> Option<&String> {
        match topic {
            AlarmTopic::Primary => self.primary.kms_key_arn.as_ref(),
            AlarmTopic::Standby(i) => self.nth_standby(i)?.kms_key_arn.as_ref(),
            AlarmTopic::HealthCheck => None,
        }
    }

    pub fn topic_name(&self, topic: AlarmTopic) -> String {
        naming::topic(topic.label(), &self.suffix)
    }

    pub fn topic_tags(&self, topic: AlarmTopic) -> Tags {
        let name = self.topic_name(topic);
        self.tags("alarm-topic", &name, topic.role())
    }

    /// The key made for a topic is named after it.
    pub fn topic_key_tags(&self, topic: AlarmTopic) -> Tags {
        let name = self.topic_name(topic);
        self.tags(topic_key::PART, &name, topic.role())
    }

    pub fn alarm_tags(&self, name: &str, role: Role) -> Tags {
        self.tags("alarm", name, role)
    }

    pub fn alarm_names(&self) -> AlarmNames {
        AlarmNames::of(&self.suffix)
    }

    /// The topic in the region that receives Route 53's metrics.
    fn metrics_topic(&self) -> AlarmTopic {
        if self.primary.region == METRICS_REGION {
            return AlarmTopic::Primary;
        }
        self.standbys()
            .position(|s| s.region == METRICS_REGION)
            .map_or(AlarmTopic::HealthCheck, AlarmTopic::Standby)
    }

    /// The standbys' places in the order Route 53 tries them: the active one first.
    fn standby_order(&self) -> Vec<usize> {
        let n = 1 + self.more_standbys.len();
        let first = self.active_standby.filter(|&i| i < n);
        first
            .into_iter()
            .chain((0..n).filter(|&i| Some(i) != first))
            .collect()
    }

    /// The standbys' failover chain in the zone `zone_id`, when there are several.
    pub fn chain(&self, zone_id: &str) -> Vec<ChainRecord> {
        let standbys: Vec<(String, String)> = self
            .standby_order()
            .into_iter()
            .filter_map(|i| self.nth_standby(i))
            .map(|s| (s.alb_dns_name.clone(), s.alb_zone_id.clone()))
            .collect();
        standby_chain::chain(&self.domain_name, route53::bare_id(zone_id), &standbys)
    }

    /// ` in <region>` for a further standby (the `i`th, from 1); nothing for the first.
    fn in_region(i: usize, standby: &EndpointSpec) -> String {
        match i {
            0 => String::new(),
            _ => format!(" in {}", standby.region),
        }
    }

    /// The name of the traffic alarm of the standby `active_region` names (the first standby's
    /// when it names the primary): the one alarm a planned move changes.
    pub fn active_traffic_alarm(&self) -> String {
        let i = self.active_standby.unwrap_or(0);
        self.nth_standby(i)
            .map(|standby| self.standby_alarm_names(i, standby).standby_traffic)
            .unwrap_or_else(|| self.alarm_names().standby_traffic)
    }

    /// The names of the `i`th standby's alarms: the first standby's are a two-region system's
    /// whatever follows it, so adding or removing a further standby leaves them be; a further
    /// standby's carry its region.
    fn standby_alarm_names(&self, i: usize, standby: &EndpointSpec) -> AlarmNames {
        match i {
            0 => self.alarm_names(),
            _ => AlarmNames::of_standby(&self.suffix, &standby.region),
        }
    }

    /// The switch's health checks, each with the kind it is found by: one on the user's
    /// routing control (ARC's cluster already answers in five regions); else one on each
    /// standby region's switch alarm, so that the switch can be thrown from any standby region
    /// while another is impaired too.
    pub fn switch_checks(&self) -> Vec<(SwitchCheckKind, SwitchCheckSpec)> {
        if let Some(arn) = &self.routing_control {
            let spec = SwitchCheckSpec::RoutingControl { arn: arn.clone() };
            return vec![(SwitchCheckKind::Switch(None), spec)];
        }
        (self.standbys().enumerate())
            .map(|(i, standby)| {
                let spec = SwitchCheckSpec::Alarm {
                    region: standby.region.clone(),
                    name: self.standby_alarm_names(i, standby).switch,
                };
                (
                    SwitchCheckKind::Switch((i > 0).then(|| standby.region.clone())),
                    spec,
                )
            })
            .collect()
    }

    /// The primary record's health check: the endpoint check AND every switch check, so that
    /// throwing any one switch takes the primary out of DNS.
    pub fn record_check(&self, endpoint_check: &str, switch_checks: &[String]) -> SwitchCheckSpec {
        let children = std::iter::once(endpoint_check.to_owned()).chain(switch_checks.to_vec());
        SwitchCheckSpec::all_of(children.collect())
    }

    /// Both weighted records, `primary` carrying the health check `health_check_id` (the
    /// record check); `standby` aliases the active standby, or the standbys' chain in the zone
    /// `zone_id` when there are several.
    pub fn records(&self, zone_id: &str, health_check_id: &str) -> Vec<WeightedRecord> {
        let (primary_weight, standby_weight) = if self.standby_active() {
            (0, 100)
        } else {
            (100, 0)
        };
        let (standby_dns, standby_zone) = match self.chain(zone_id).first() {
            Some(group) => (group.name.clone(), route53::bare_id(zone_id).to_owned()),
            None => (
                self.standby.alb_dns_name.clone(),
                self.standby.alb_zone_id.clone(),
            ),
        };
        vec![
            WeightedRecord {
                set_identifier: Role::Primary.as_str().to_owned(),
                weight: primary_weight,
                alias_dns_name: self.primary.alb_dns_name.clone(),
                alias_zone_id: self.primary.alb_zone_id.clone(),
                health_check_id: Some(health_check_id.to_owned()),
                evaluate_target_health: true,
            },
            WeightedRecord {
                set_identifier: Role::Standby.as_str().to_owned(),
                weight: standby_weight,
                alias_dns_name: standby_dns,
                alias_zone_id: standby_zone,
                health_check_id: None,
                evaluate_target_health: true,
            },
        ]
    }

    /// The `records` map: the weighted records by set identifier, the chain's by group.
    pub fn record_summaries(&self, zone_id: &str, health_check_id: &str) -> Tags {
        let chain = self.chain(zone_id);
        self.records(zone_id, health_check_id)
            .iter()
            .map(|r| (r.set_identifier.clone(), record_summary(r)))
            .chain(chain.iter().map(|r| (r.key(), r.summary())))
            .collect()
    }

    /// Every alarm with the region it lives in; `None` if a topic they notify is missing.
    pub fn alarms(
        &self,
        health_check_id: &str,
        topics: &TopicArns,
    ) -> Option<Vec<(String, AlarmSpec)>> {
        let names = self.alarm_names();
        let base = |name: &str, namespace: &str, metric: &str, statistic: &str| AlarmSpec {
            name: name.to_owned(),
            description: String::new(),
            namespace: namespace.into(),
            metric: metric.into(),
            statistic: statistic.into(),
            comparison: ">",
            threshold: 0.0,
            evaluation_periods: self.alarm_evaluation_periods,
            period: self.alarm_period,
            dimensions: Vec::new(),
            actions: Vec::new(),
            actions_enabled: true,
            treat_missing_data: "notBreaching",
        };
        let mut alarms = vec![(
            METRICS_REGION.to_owned(),
            AlarmSpec {
                description: format!("The Route 53 health check on the primary ({}) reports it down: Route 53 is moving traffic to the standby.", self.primary.alb_dns_name),
                comparison: "<",
                threshold: 1.0,
                dimensions: vec![("HealthCheckId".into(), health_check_id.into())],
                actions: vec![topics.of(self.metrics_topic())?],
                // Route 53 publishes HealthCheckStatus every minute while the check exists and is
                // enabled, 0 when the primary is down; no data means a check too new to have
                // reported, disabled, or replaced, never a primary that is down. "breaching" would
                // e-mail "primary down" on every create and replacement; "missing" leaves the alarm
                // in INSUFFICIENT_DATA (no notification) until data comes, where "notBreaching"
                // would also show a disabled check as OK.
                treat_missing_data: "missing",
                ..base(&names.health_check, "AWS/Route53", "HealthCheckStatus", "Minimum")
            },
        )];
        let standbys: Vec<(usize, &EndpointSpec, AlarmNames)> = self
            .standbys()
            .enumerate()
            .map(|(i, s)| (i, s, self.standby_alarm_names(i, s)))
            .collect();
        for (i, standby, names) in &standbys {
            alarms.push((
                standby.region.clone(),
                AlarmSpec {
                    description: format!("Requests reached the standby load balancer{} while the primary should take all traffic: Route 53 has failed over. Raised in {} so it notifies even when {METRICS_REGION} is down. Silenced while active_region is {}.", Self::in_region(*i, standby), standby.region, if *i == 0 { "standby" } else { &standby.region }),
                    // A stray request (a scanner, someone curl-ing the internet-facing standby) is
                    // one minute of a few requests; traffic Route 53 has moved keeps coming, minute
                    // after minute. Per-minute periods whatever `alarm_period`: this alarm is the
                    // one that still speaks when us-east-1 is down, it must not wait long.
                    comparison: ">",
                    threshold: STANDBY_TRAFFIC_PER_MINUTE,
                    period: 60,
                    evaluation_periods: STANDBY_TRAFFIC_MINUTES,
                    dimensions: vec![("LoadBalancer".into(), metric_dimension(&standby.alb_arn))],
                    actions: vec![topics.of(AlarmTopic::Standby(*i))?],
                    actions_enabled: self.active_standby != Some(*i),
                    ..base(&names.standby_traffic, "AWS/ApplicationELB", "RequestCount", "Sum")
                },
            ));
        }
        let primary_hosts = (
            &self.primary,
            AlarmTopic::Primary,
            names.unhealthy_hosts[0].clone(),
        );
        let standby_hosts = standbys.iter().map(|(i, standby, names)| {
            (
                *standby,
                AlarmTopic::Standby(*i),
                names.unhealthy_hosts[1].clone(),
            )
        });
        for (endpoint, topic, name) in std::iter::once(primary_hosts).chain(standby_hosts) {
            alarms.push((
                endpoint.region.clone(),
                AlarmSpec {
                    description: format!(
                        "Targets of the {}{} load balancer fail their health checks.",
                        topic.role(),
                        match topic {
                            AlarmTopic::Standby(i) => Self::in_region(i, endpoint),
                            _ => String::new(),
                        }
                    ),
                    dimensions: vec![
                        (
                            "TargetGroup".into(),
                            metric_dimension(&endpoint.target_group_arn),
                        ),
                        ("LoadBalancer".into(), metric_dimension(&endpoint.alb_arn)),
                    ],
                    actions: vec![topics.of(topic)?],
                    ..base(&name, "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum")
                },
            ));
        }
        // A routing control is the switch: an alarm no check follows would only mislead.
        if self.routing_control.is_none() {
            for (i, standby, names) in &standbys {
                alarms.push((
                    standby.region.clone(),
                    failover_switch::alarm(
                        &names.switch,
                        &self.suffix,
                        &standby.region,
                        &topics.of(AlarmTopic::Standby(*i))?,
                    ),
                ));
            }
        }
        if let Some(table) = &self.table_name {
            for (_, standby, names) in &standbys {
                alarms.push((
                    self.primary.region.clone(),
                    AlarmSpec {
                        description: format!("Writes to {table} take too long to reach {}: a failover now would lose recent sessions.", standby.region),
                        threshold: self.replication_latency_threshold,
                        dimensions: vec![
                            ("TableName".into(), table.clone()),
                            ("ReceivingRegion".into(), standby.region.clone()),
                        ],
                        actions: vec![topics.of(AlarmTopic::Primary)?],
                        ..base(&names.replication_latency, "AWS/DynamoDB", "ReplicationLatency", "Average")
                    },
                ));
            }
        }
        Some(alarms)
    }

    pub fn alarm_summaries(&self, health_check_id: &str, topics: &TopicArns) -> Option<Tags> {
        let alarms = self.alarms(health_check_id, topics)?;
        Some(
            alarms
                .into_iter()
                .map(|(region, spec)| (spec.name.clone(), format!("{region}: {}", spec.summary())))
                .collect(),
        )
    }

    /// Every (region, alarm name) this stack may have created, wanted now or not.
    /// Each standby's under both namings (a standby that moves up or down the order of
    /// preference, or the first standby of a system built before its names stayed put, is
    /// renamed); and those of the standbys an update removes.
    pub fn every_alarm(&self) -> Vec<(String, String)> {
        let names = self.alarm_names();
        let [primary_hosts, _] = &names.unhealthy_hosts;
        let mut every = vec![
            (METRICS_REGION.to_owned(), names.health_check.clone()),
            (self.primary.region.clone(), primary_hosts.clone()),
            (self.standby.region.clone(), names.switch.clone()),
        ];
        let regions = (self.standbys().map(|s| &s.region)).chain(&self.removed_standbys);
        for region in regions {
            for names in [&names, &AlarmNames::of_standby(&self.suffix, region)] {
                every.extend([
                    (region.clone(), names.standby_traffic.clone()),
                    (region.clone(), names.unhealthy_hosts[1].clone()),
                    (region.clone(), names.switch.clone()),
                    (
                        self.primary.region.clone(),
                        names.replication_latency.clone(),
                    ),
                ]);
            }
        }
        every.sort();
        every.dedup();
        every
    }
}

/// The standby `active_region` names (`standby`, the first, or a standby's region), by its
/// place among `standbys`; `None` for the primary.
fn active_standby(active: &str, standbys: &[EndpointSpec]) -> Option<usize> {
    match Role::parse(active) {
        Some(Role::Primary) => None,
        Some(Role::Standby) => Some(0),
        None => standbys.iter().position(|s| s.region == active),
    }
}

pub fn record_summary(r: &WeightedRecord) -> String {
    format!(
        "weight {} to {} (zone {}){}{}",
        r.weight,
        r.alias_dns_name.to_ascii_lowercase(),
        r.alias_zone_id,
        r.health_check_id
            .as_deref()
            .map(|id| format!(", health check {id}"))
            .unwrap_or_default(),
        if r.evaluate_target_health {
            ", evaluates target health"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{arns, config, endpoint};
    use super::super::plan::plan;
    use super::super::schema::one_standby;
    use super::*;
    use crate::regions;
    use crate::tf::values;

    #[test]
    fn every_region_a_standby_may_be_in_has_alarms_route53_follows() {
        let followed = aws_sdk_route53::types::CloudWatchRegion::values();
        for region in regions::KNOWN {
            assert!(followed.contains(region), "{region}");
        }
    }

    #[test]
    fn without_a_stack_in_us_east_1_the_health_alarm_gets_a_topic_there() {
        let mut c = config();
        c.primary = endpoint("eu-west-1", "primary");
        c.standby = one_standby(endpoint("eu-central-1", "standby"));
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(planned.health_check_topic_arn.is_unknown());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(
            want.alarm_topics(),
            [
                AlarmTopic::Primary,
                AlarmTopic::Standby(0),
                AlarmTopic::HealthCheck
            ]
        );
        assert_eq!(want.topic_region(AlarmTopic::HealthCheck), METRICS_REGION);
        assert_eq!(
            want.topic_name(AlarmTopic::HealthCheck),
            "health-check-failover-notifications-prod"
        );
        assert_eq!(
            want.alarms("hc-1", &arns()),
            None,
            "no alarm without the us-east-1 topic it notifies"
        );
        let topics = TopicArns {
            health_check: Some("h".into()),
            ..arns()
        };
        let alarms = want.alarms("hc-1", &topics).unwrap();
        assert_eq!(alarms[0].0, METRICS_REGION);
        assert_eq!(alarms[0].1.actions, ["h"]);
        assert!(alarms[1..]
            .iter()
            .all(|(region, a)| region != METRICS_REGION && a.actions != ["h"]));

        // With a stack in us-east-1 there is no such topic, and older state (null) plans empty.
        let (planned, _) = plan(&config(), None, &Tags::new());
        assert!(planned.health_check_topic_arn.is_null());
        assert!(planned.health_check_topic_key_arn.is_null());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(want.alarm_topics().len(), 2);
    }

    /// The two-region desired state with two more standbys, in us-west-2 then eu-west-1.
    fn with_three_standbys(active: Option<usize>) -> Desired {
        let mut c = config();
        c.table_name = values::string("trading-sessions-prod");
        let (planned, _) = plan(&c, None, &Tags::new());
        let mut want = Desired::from_state(&planned, &Tags::new()).unwrap();
        want.more_standbys = [("us-west-2", "reserve"), ("eu-west-1", "far")]
            .map(|(region, role)| EndpointSpec::from_state(&endpoint(region, role)).unwrap())
            .to_vec();
        want.active_standby = active;
        want
    }

    /// Several standbys: the `standby` record aliases the first group of the chain in the
    /// zone, the chain tries them in order of preference, and an active standby goes first.
    #[test]
    fn standbys_are_tried_in_order_of_preference_the_active_one_first() {
        let want = with_three_standbys(None);
        let records = want.records("/hostedzone/Z1", "rc-1");
        assert_eq!((records[0].weight, records[1].weight), (100, 0));
        assert_eq!(
            (
                records[1].alias_dns_name.as_str(),
                records[1].alias_zone_id.as_str()
            ),
            ("_standby-1.trading-prod.tap-test.net", "Z1")
        );
        let targets = |want: &Desired| -> Vec<(String, String)> {
            want.chain("Z1")
                .iter()
                .map(|r| (r.key(), r.alias_dns_name.clone()))
                .collect()
        };
        let row = |k: &str, dns: &str| (k.to_owned(), dns.to_owned());
        assert_eq!(
            targets(&want),
            [
                row(
                    "_standby-1/primary",
                    "alb-standby-1.us-east-2.elb.amazonaws.com"
                ),
                row(
                    "_standby-1/secondary",
                    "_standby-2.trading-prod.tap-test.net"
                ),
                row(
                    "_standby-2/primary",
                    "alb-reserve-1.us-west-2.elb.amazonaws.com"
                ),
                row(
                    "_standby-2/secondary",
                    "alb-far-1.eu-west-1.elb.amazonaws.com"
                ),
            ]
        );
        let failed_over = with_three_standbys(Some(2));
        let records = failed_over.records("Z1", "rc-1");
        assert_eq!((records[0].weight, records[1].weight), (0, 100));
        assert_eq!(
            targets(&failed_over),
            [
                row(
                    "_standby-1/primary",
                    "alb-far-1.eu-west-1.elb.amazonaws.com"
                ),
                row(
                    "_standby-1/secondary",
                    "_standby-2.trading-prod.tap-test.net"
                ),
                row(
                    "_standby-2/primary",
                    "alb-standby-1.us-east-2.elb.amazonaws.com"
                ),
                row(
                    "_standby-2/secondary",
                    "alb-reserve-1.us-west-2.elb.amazonaws.com"
                ),
            ]
        );
        assert_eq!(want.record_summaries("Z1", "rc-1").len(), 2 + 4);
    }

    /// Each standby has its topic, its traffic and unhealthy-host alarms and the table's
    /// replication alarm, a further standby's named with its region; only the active standby's
    /// traffic alarm is silenced; the switch stays in the first standby's region.
    #[test]
    fn each_standby_has_its_alarms_a_further_one_named_with_its_region() {
        let want = with_three_standbys(Some(1));
        assert_eq!(
            want.alarm_topics(),
            [
                AlarmTopic::Primary,
                AlarmTopic::Standby(0),
                AlarmTopic::Standby(1),
                AlarmTopic::Standby(2)
            ]
        );
        assert_eq!(want.topic_region(AlarmTopic::Standby(2)), "eu-west-1");
        let topics = TopicArns {
            primary: "p".into(),
            standbys: vec!["s0".into(), "s1".into(), "s2".into()],
            health_check: None,
        };
        let alarms = want.alarms("hc-1", &topics).unwrap();
        let named = |name: &str| {
            alarms
                .iter()
                .find(|(_, a)| a.name == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        for (region, named_as, topic, silenced) in [
            ("us-east-2", "", "s0", false),
            ("us-west-2", "-us-west-2", "s1", true),
            ("eu-west-1", "-eu-west-1", "s2", false),
        ] {
            let (at, traffic) = named(&format!("failover-standby-traffic{named_as}-prod"));
            assert_eq!((at.as_str(), traffic.actions_enabled), (region, !silenced));
            assert_eq!(traffic.actions, [topic]);
            let (at, hosts) = named(&format!("failover-unhealthy-hosts-standby{named_as}-prod"));
            assert_eq!(
                (at.as_str(), hosts.actions.as_slice()),
                (region, &[topic.to_owned()][..])
            );
            let (at, latency) = named(&format!("failover-replication-latency{named_as}-prod"));
            assert_eq!(at, "us-east-1");
            assert!(latency
                .dimensions
                .contains(&("ReceivingRegion".into(), region.into())));
            // One switch metric; an alarm on it in every standby region, so that any of them
            // can throw it.
            let (at, switch) = named(&format!("failover-switch{named_as}-prod"));
            assert_eq!(
                (at.as_str(), switch.actions.as_slice()),
                (region, &[topic.to_owned()][..])
            );
            assert_eq!(
                switch.dimensions,
                [("EnvironmentSuffix".to_owned(), "prod".to_owned())]
            );
        }
        assert_eq!(alarms.len(), 1 + 3 + 4 + 3 + 3);
        // A check on each, all children of the record check.
        let checks = want.switch_checks();
        assert_eq!(
            checks
                .iter()
                .map(|(kind, _)| kind.clone())
                .collect::<Vec<_>>(),
            [None, Some("us-west-2"), Some("eu-west-1")]
                .map(|r| SwitchCheckKind::Switch(r.map(str::to_owned)))
        );
        for (_, spec) in &checks {
            let SwitchCheckSpec::Alarm { region, name } = spec else {
                panic!("{spec:?}")
            };
            assert_eq!(&named(name).0, region);
        }
        assert_eq!(
            want.record_check("hc-1", &["s-1".into(), "s-2".into(), "s-3".into()]),
            SwitchCheckSpec::AllOf(vec![
                "hc-1".into(),
                "s-1".into(),
                "s-2".into(),
                "s-3".into()
            ])
        );
        let every = want.every_alarm();
        for (_, alarm) in &alarms {
            assert!(
                every.iter().any(|(_, name)| *name == alarm.name),
                "{}",
                alarm.name
            );
        }
        assert!(
            every.contains(&("us-west-2".into(), "failover-standby-traffic-prod".into())),
            "the first standby's name too, should us-west-2 move up the order"
        );
        assert!(
            every.contains(&(
                "us-east-2".into(),
                "failover-standby-traffic-us-east-2-prod".into()
            )),
            "the name a system built before the first standby's names stayed put gave it"
        );
    }

    /// Further standbys change nothing of the first standby's alarms (names, descriptions,
    /// settings): adding or removing one writes no alarm in the first standby's region.
    #[test]
    fn further_standbys_leave_the_first_standbys_alarms_as_they_are() {
        let mut c = config();
        c.table_name = values::string("trading-sessions-prod");
        let (planned, _) = plan(&c, None, &Tags::new());
        let two = Desired::from_state(&planned, &Tags::new()).unwrap();
        let three = with_three_standbys(None);
        let topics = |n: usize| TopicArns {
            primary: "p".into(),
            standbys: (0..n).map(|i| format!("s{i}")).collect(),
            health_check: None,
        };
        let first_standbys = |want: &Desired, n: usize| {
            let mut alarms: Vec<(String, AlarmSpec)> = want
                .alarms("hc-1", &topics(n))
                .unwrap()
                .into_iter()
                .filter(|(region, a)| {
                    region == "us-east-2"
                        || a.dimensions
                            .contains(&("ReceivingRegion".into(), "us-east-2".into()))
                })
                .collect();
            alarms.sort_by(|a, b| a.1.name.cmp(&b.1.name));
            alarms
        };
        let before = first_standbys(&two, 1);
        assert_eq!(before.len(), 4, "traffic, hosts, switch, replication");
        assert_eq!(first_standbys(&three, 3), before);
    }

    #[test]
    fn planned_failover_moves_the_weights_and_silences_the_traffic_alarm() {
        let mut c = config();
        c.active_region = values::string("standby");
        c.table_name = values::string("trading-sessions-prod");
        let (planned, _) = plan(&c, None, &Tags::new());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        let records = want.records("Z1", "hc-1");
        assert_eq!((records[0].weight, records[1].weight), (0, 100));
        let alarms = want.alarms("hc-1", &arns()).unwrap();
        assert!(!alarms[1].1.actions_enabled);
        assert_eq!(alarms.len(), 6);
        assert_eq!(
            alarms[5].1.dimensions[1],
            ("ReceivingRegion".to_owned(), "us-east-2".to_owned())
        );
    }
}
