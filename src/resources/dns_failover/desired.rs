//! What apply converges `tap_dns_failover` to: the planned state with every value known, and
//! the records and alarms it makes, computed the same way for plans and for apply.

use tf_provider::value::Value;

use super::schema::{Endpoint, State};
use crate::aws::alarms::AlarmSpec;
use crate::aws::failover_switch;
use crate::aws::health_check::HealthCheckSpec;
use crate::aws::switch_checks::Spec as SwitchCheckSpec;
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
    Standby,
    HealthCheck,
}

impl AlarmTopic {
    /// The topic in a role's region.
    pub fn of_role(role: Role) -> AlarmTopic {
        match role {
            Role::Primary => AlarmTopic::Primary,
            Role::Standby => AlarmTopic::Standby,
        }
    }

    /// The role whose alarms it carries: the us-east-1 topic carries the alarm on the
    /// primary's health, so it counts as the primary's.
    pub fn role(self) -> Role {
        match self {
            AlarmTopic::Primary | AlarmTopic::HealthCheck => Role::Primary,
            AlarmTopic::Standby => Role::Standby,
        }
    }

    /// How names and messages call it.
    pub fn label(self) -> &'static str {
        match self {
            AlarmTopic::Primary | AlarmTopic::Standby => self.role().as_str(),
            AlarmTopic::HealthCheck => "health-check",
        }
    }

    /// The topics of a system with its stacks in these regions.
    pub fn all(primary_region: &str, standby_region: &str) -> Vec<AlarmTopic> {
        let mut all = vec![AlarmTopic::Primary, AlarmTopic::Standby];
        if primary_region != METRICS_REGION && standby_region != METRICS_REGION {
            all.push(AlarmTopic::HealthCheck);
        }
        all
    }
}

/// Each alarm topic's ARN; `health_check` only where that topic exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicArns {
    pub primary: String,
    pub standby: String,
    pub health_check: Option<String>,
}

impl TopicArns {
    /// The topic's ARN; `None` for a health-check topic not made (yet): an alarm never notifies "".
    fn of(&self, topic: AlarmTopic) -> Option<String> {
        match topic {
            AlarmTopic::Primary => Some(self.primary.clone()),
            AlarmTopic::Standby => Some(self.standby.clone()),
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
    pub standby: EndpointSpec,
    pub health_check: HealthCheckSpec,
    pub standby_active: bool,
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
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let primary = EndpointSpec::from_state(&state.primary)?;
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
            primary,
            standby: EndpointSpec::from_state(&state.standby)?,
            standby_active: Role::parse(state.active_region.as_ref_option()?)
                == Some(Role::Standby),
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
        })
    }

    /// This desired state pointing at other load balancers, where given (a composite learns
    /// them at apply); each topic keeps its key.
    pub fn pointing_at(mut self, endpoints: [Option<EndpointSpec>; 2]) -> Desired {
        let [primary, standby] = endpoints;
        for (slot, given) in [(&mut self.primary, primary), (&mut self.standby, standby)] {
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

    pub fn endpoint(&self, role: Role) -> &EndpointSpec {
        match role {
            Role::Primary => &self.primary,
            Role::Standby => &self.standby,
        }
    }

    pub fn alarm_topics(&self) -> Vec<AlarmTopic> {
        AlarmTopic::all(&self.primary.region, &self.standby.region)
    }

    pub fn topic_region(&self, topic: AlarmTopic) -> &str {
        match topic {
            AlarmTopic::Primary => &self.primary.region,
            AlarmTopic::Standby => &self.standby.region,
            AlarmTopic::HealthCheck => METRICS_REGION,
        }
    }

    /// The user's key for a topic; `None`: a key made for it.
    pub fn topic_user_key(&self, topic: AlarmTopic) -> Option<&String> {
        match topic {
            AlarmTopic::Primary => self.primary.kms_key_arn.as_ref(),
            AlarmTopic::Standby => self.standby.kms_key_arn.as_ref(),
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
            AlarmTopic::Primary
        } else if self.standby.region == METRICS_REGION {
            AlarmTopic::Standby
        } else {
            AlarmTopic::HealthCheck
        }
    }

    /// The switch's health check: it follows the user's routing control, or the switch alarm
    /// in the standby region.
    pub fn switch_check(&self) -> SwitchCheckSpec {
        match &self.routing_control {
            Some(arn) => SwitchCheckSpec::RoutingControl { arn: arn.clone() },
            None => SwitchCheckSpec::Alarm {
                region: self.standby.region.clone(),
                name: failover_switch::alarm_name(&self.suffix),
            },
        }
    }

    /// The primary record's health check: the endpoint check AND the switch check.
    pub fn record_check(&self, endpoint_check: &str, switch_check: &str) -> SwitchCheckSpec {
        SwitchCheckSpec::all_of(vec![endpoint_check.to_owned(), switch_check.to_owned()])
    }

    /// Both weighted records, `primary` carrying the health check `health_check_id` (the
    /// record check).
    pub fn records(&self, health_check_id: &str) -> Vec<WeightedRecord> {
        let (primary_weight, standby_weight) = if self.standby_active {
            (0, 100)
        } else {
            (100, 0)
        };
        [
            (Role::Primary, primary_weight),
            (Role::Standby, standby_weight),
        ]
        .into_iter()
        .map(|(role, weight)| {
            let endpoint = self.endpoint(role);
            WeightedRecord {
                set_identifier: role.as_str().to_owned(),
                weight,
                alias_dns_name: endpoint.alb_dns_name.clone(),
                alias_zone_id: endpoint.alb_zone_id.clone(),
                health_check_id: (role == Role::Primary).then(|| health_check_id.to_owned()),
                evaluate_target_health: true,
            }
        })
        .collect()
    }

    pub fn record_summaries(&self, health_check_id: &str) -> Tags {
        self.records(health_check_id)
            .iter()
            .map(|r| (r.set_identifier.clone(), record_summary(r)))
            .collect()
    }

    /// Every alarm with the region it lives in; `None` if a topic they notify is missing.
    pub fn alarms(
        &self,
        health_check_id: &str,
        topics: &TopicArns,
    ) -> Option<Vec<(String, AlarmSpec)>> {
        let names = self.alarm_names();
        let topic = |role: Role| topics.of(AlarmTopic::of_role(role));
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
        alarms.push((
            self.standby.region.clone(),
            AlarmSpec {
                description: format!("Requests reached the standby load balancer while the primary should take all traffic: Route 53 has failed over. Raised in {} so it notifies even when {METRICS_REGION} is down. Silenced while active_region is standby.", self.standby.region),
                // A stray request (a scanner, someone curl-ing the internet-facing standby) is one
                // minute of a few requests; traffic Route 53 has moved keeps coming, minute after
                // minute. Per-minute periods whatever `alarm_period`: this alarm is the one that
                // still speaks when us-east-1 is down, it must not wait long.
                comparison: ">",
                threshold: STANDBY_TRAFFIC_PER_MINUTE,
                period: 60,
                evaluation_periods: STANDBY_TRAFFIC_MINUTES,
                dimensions: vec![("LoadBalancer".into(), metric_dimension(&self.standby.alb_arn))],
                actions: vec![topic(Role::Standby)?],
                actions_enabled: !self.standby_active,
                ..base(&names.standby_traffic, "AWS/ApplicationELB", "RequestCount", "Sum")
            },
        ));
        for (role, name) in Role::ALL.into_iter().zip(&names.unhealthy_hosts) {
            let endpoint = self.endpoint(role);
            alarms.push((
                endpoint.region.clone(),
                AlarmSpec {
                    description: format!(
                        "Targets of the {role} load balancer fail their health checks."
                    ),
                    dimensions: vec![
                        (
                            "TargetGroup".into(),
                            metric_dimension(&endpoint.target_group_arn),
                        ),
                        ("LoadBalancer".into(), metric_dimension(&endpoint.alb_arn)),
                    ],
                    actions: vec![topic(role)?],
                    ..base(name, "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum")
                },
            ));
        }
        // A routing control is the switch: an alarm no check follows would only mislead.
        if self.routing_control.is_none() {
            alarms.push((
                self.standby.region.clone(),
                failover_switch::alarm(&self.suffix, &self.standby.region, &topic(Role::Standby)?),
            ));
        }
        if let Some(table) = &self.table_name {
            alarms.push((
                self.primary.region.clone(),
                AlarmSpec {
                    description: format!("Writes to {table} take too long to reach {}: a failover now would lose recent sessions.", self.standby.region),
                    threshold: self.replication_latency_threshold,
                    dimensions: vec![
                        ("TableName".into(), table.clone()),
                        ("ReceivingRegion".into(), self.standby.region.clone()),
                    ],
                    actions: vec![topic(Role::Primary)?],
                    ..base(&names.replication_latency, "AWS/DynamoDB", "ReplicationLatency", "Average")
                },
            ));
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
    pub fn every_alarm(&self) -> Vec<(String, String)> {
        let names = self.alarm_names();
        let [primary_hosts, standby_hosts] = names.unhealthy_hosts;
        vec![
            (METRICS_REGION.to_owned(), names.health_check),
            (self.standby.region.clone(), names.standby_traffic),
            (self.primary.region.clone(), primary_hosts),
            (self.standby.region.clone(), standby_hosts),
            (self.primary.region.clone(), names.replication_latency),
            (self.standby.region.clone(), names.switch),
        ]
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
        c.standby = endpoint("eu-central-1", "standby");
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(planned.health_check_topic_arn.is_unknown());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        assert_eq!(
            want.alarm_topics(),
            [
                AlarmTopic::Primary,
                AlarmTopic::Standby,
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

    #[test]
    fn planned_failover_moves_the_weights_and_silences_the_traffic_alarm() {
        let mut c = config();
        c.active_region = values::string("standby");
        c.table_name = values::string("trading-sessions-prod");
        let (planned, _) = plan(&c, None, &Tags::new());
        let want = Desired::from_state(&planned, &Tags::new()).unwrap();
        let records = want.records("hc-1");
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
