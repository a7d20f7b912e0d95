//! Throwing and releasing the failover switch, and reading it, with the standby region's
//! CloudWatch and ELBv2 alone: no us-east-1 endpoint, no IAM, no Route 53 control plane, so it
//! works while us-east-1 is down ("AWS fault isolation boundaries": Route 53's control plane is
//! in us-east-1, its health checkers and name servers are not). The command line
//! (`terraform-provider-tap failover ...`) and the `tap_failover` action both run it.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm, MetricDatum, StateValue};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use tokio::time::Instant;

use super::error::{AwsError, Context, PartError};
use super::failover_switch::{self, DIMENSION, METRIC, NAMESPACE, RELEASED, THROWN};
use super::load_balancer;
use crate::naming;
use crate::role::Role;
use crate::tags::STACK_KEY;

/// How long Route 53 takes to act on the switch alarm's new state: it watches the alarm's data
/// stream, about a minute (the alarm's own period) — an estimate AWS does not publish.
pub const ROUTE53_FOLLOWS_SECONDS: u64 = 60;
/// The TTL resolvers keep an alias to a load balancer: 60 s, set by ELB, not by us.
pub const ALIAS_TTL_SECONDS: u64 = 60;
const FIRST_POLL: Duration = Duration::from_secs(1);
const MAX_POLL: Duration = Duration::from_secs(10);

/// The standby region's clients: the only endpoints the switch uses.
pub struct Standby<'a> {
    pub region: &'a str,
    pub cloudwatch: &'a aws_sdk_cloudwatch::Client,
    pub elbv2: &'a aws_sdk_elasticloadbalancingv2::Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Throw the switch: the primary leaves DNS, healthy or not.
    Engage,
    /// Release it: the primary returns once its endpoint check is healthy.
    Release,
}

impl Direction {
    fn value(self) -> f64 {
        match self {
            Direction::Engage => THROWN,
            Direction::Release => RELEASED,
        }
    }

    fn wanted(self) -> StateValue {
        match self {
            Direction::Engage => StateValue::Alarm,
            Direction::Release => StateValue::Ok,
        }
    }
}

/// How to throw it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Throw even when the standby has no healthy target (or none can be found).
    pub force: bool,
    /// The standby's target group; by default `tg-standby-<suffix>`, the one
    /// `tap_regional_stack` makes (and tags `tap:stack = <suffix>`). A `tap_dns_failover` over
    /// load balancers of the user's own names needs it given.
    pub target_group_arn: Option<String>,
    /// How long to wait for the alarm to reach its new state.
    pub timeout: Duration,
}

/// The standby's targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub group: String,
    pub healthy: usize,
    pub total: usize,
}

/// What the switch and the standby look like now.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub alarm: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: String,
    /// The standby's targets, or why they could not be read.
    pub targets: Result<Targets, String>,
}

impl Status {
    /// Whether the switch holds the primary out of DNS.
    pub fn thrown(&self) -> bool {
        self.state == StateValue::Alarm.as_str()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error(transparent)]
    Aws(#[from] PartError),
    #[error("there is no CloudWatch alarm {alarm} in {region}: the failover switch of {suffix} is not built there (a wrong suffix or standby region, a system with a routing control as its switch, or one built before the switch existed: apply it with this provider first)")]
    NoSwitch {
        alarm: String,
        region: String,
        suffix: String,
    },
    #[error("refusing to fail over to {region}: {why}. Traffic would move to a standby that cannot serve it; scale the standby up first, or force the switch (--force, or force = true in the action) to throw it anyway")]
    StandbyNotServing { region: String, why: String },
    #[error("CloudWatch alarm {alarm} ({region}) is still {state} after {waited} s, not {wanted}; the metric data was put, so the alarm may yet change: read it with `failover status`")]
    Timeout {
        alarm: String,
        region: String,
        state: String,
        wanted: String,
        waited: u64,
    },
}

/// The switch alarm's state and the standby's targets.
pub async fn status(
    standby: &Standby<'_>,
    suffix: &str,
    options: &Options,
) -> Result<Status, SwitchError> {
    let alarm = read_alarm(standby, suffix).await?;
    let targets = standby_targets(standby, suffix, options.target_group_arn.as_deref()).await?;
    Ok(Status {
        alarm: alarm.alarm_name().unwrap_or_default().to_owned(),
        state: alarm.state_value().map_or("", |s| s.as_str()).to_owned(),
        reason: alarm.state_reason().unwrap_or_default().to_owned(),
        targets,
    })
}

/// Throws (`Engage`) or releases the switch and waits, up to `options.timeout`, until its alarm
/// is ALARM or OK. Engaging first checks that the standby has a healthy target and refuses
/// unless forced. Each step is reported through `progress` as it happens.
pub async fn throw(
    standby: &Standby<'_>,
    suffix: &str,
    direction: Direction,
    options: &Options,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Status, SwitchError> {
    let before = put_checked(standby, suffix, direction, options, progress).await?;
    settle(standby, suffix, direction, options, &before, progress).await
}

/// The first half of `throw`: checks the standby (engaging) and puts the switch's new value.
/// Returns the alarm as it was before, to wait from.
pub async fn put_checked(
    standby: &Standby<'_>,
    suffix: &str,
    direction: Direction,
    options: &Options,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<MetricAlarm, SwitchError> {
    let region = standby.region;
    let before = read_alarm(standby, suffix).await?;
    let targets = standby_targets(standby, suffix, options.target_group_arn.as_deref()).await?;
    progress(&match &targets {
        Ok(t) => format!(
            "standby {region}: target group {} has {} of {} targets healthy",
            t.group, t.healthy, t.total
        ),
        Err(why) => format!("standby {region}: {why}"),
    });
    if direction == Direction::Engage {
        let why = match &targets {
            Ok(t) if t.healthy > 0 => None,
            Ok(t) => Some(format!("target group {} has no healthy target", t.group)),
            Err(why) => Some(why.clone()),
        };
        match why {
            Some(why) if !options.force => {
                return Err(SwitchError::StandbyNotServing {
                    region: region.to_owned(),
                    why,
                })
            }
            Some(_) => progress("forced: throwing the switch anyway"),
            None => {}
        }
    }
    put(standby, suffix, direction).await?;
    let verb = match direction {
        Direction::Engage => "thrown",
        Direction::Release => "released",
    };
    progress(&format!(
        "switch {verb} at {} (PutMetricData {NAMESPACE} {METRIC} {DIMENSION}={suffix} = {} in {region})",
        now(),
        direction.value()
    ));
    Ok(before)
}

/// The second half of `throw`: waits, up to `options.timeout`, until the alarm is in the state
/// the put asks for (`before`: the alarm before the put).
pub async fn settle(
    standby: &Standby<'_>,
    suffix: &str,
    direction: Direction,
    options: &Options,
    before: &MetricAlarm,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Status, SwitchError> {
    let region = standby.region;
    let alarm = before.alarm_name().unwrap_or_default().to_owned();
    let wanted = direction.wanted();
    let deadline = Instant::now() + options.timeout;
    let mut seen = before.state_value().cloned();
    let mut delay = FIRST_POLL;
    loop {
        let current = read_alarm(standby, suffix).await?;
        let state = current.state_value().cloned();
        if state.as_ref() == Some(&wanted) {
            break;
        }
        if state != seen {
            progress(&format!(
                "standby alarm {alarm} in {}: {}",
                state.as_ref().map_or("no state", |s| s.as_str()),
                current.state_reason().unwrap_or_default()
            ));
            seen = state.clone();
        }
        if Instant::now() + delay > deadline {
            return Err(SwitchError::Timeout {
                alarm,
                region: region.to_owned(),
                state: state.map_or("without a state".into(), |s| s.as_str().to_owned()),
                wanted: wanted.as_str().to_owned(),
                waited: options.timeout.as_secs(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 6 / 5).min(MAX_POLL);
        // A period that also holds an earlier THROWN breaches on Maximum: a release put in the
        // minute of the engage needs another datapoint in a later period, and missing data is
        // ignored. One more datapoint per poll is cheap and changes nothing once it is OK.
        if direction == Direction::Release {
            put(standby, suffix, direction).await?;
        }
    }
    progress(&format!("standby alarm {alarm} in {}", wanted.as_str()));
    progress(&match direction {
        Direction::Engage => format!(
            "Route 53 checkers see the primary as unhealthy within about {ROUTE53_FOLLOWS_SECONDS} s; DNS answers change within the record TTL ({ALIAS_TTL_SECONDS} s) after that"
        ),
        Direction::Release => format!(
            "Route 53 checkers see the primary as healthy within about {ROUTE53_FOLLOWS_SECONDS} s once its endpoint check passes; DNS answers change within the record TTL ({ALIAS_TTL_SECONDS} s) after that"
        ),
    });
    status(standby, suffix, options).await
}

/// Now, as AWS writes times (RFC 3339).
pub fn now() -> String {
    DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| "now".into())
}

/// The switch alarm in the standby region: the first standby's (`failover-switch-<suffix>`) or
/// a further standby's (`failover-switch-<region>-<suffix>`), asked for both in one request,
/// since the command line knows only the region. Both throw the same switch: one metric, and
/// the record check follows every standby region's alarm.
pub async fn read_alarm(standby: &Standby<'_>, suffix: &str) -> Result<MetricAlarm, SwitchError> {
    let names = [
        failover_switch::alarm_name(suffix),
        failover_switch::alarm_name_in(standby.region, suffix),
    ];
    let out = standby
        .cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| AwsError::from(e).in_region(standby.region))
        .context(|| {
            format!(
                "reading CloudWatch alarm {} ({})",
                names.join(" or "),
                standby.region
            )
        })?;
    (names.iter())
        .find_map(|name| {
            (out.metric_alarms().iter()).find(|a| a.alarm_name() == Some(name.as_str()))
        })
        .cloned()
        .ok_or_else(|| SwitchError::NoSwitch {
            alarm: names.join(" or "),
            region: standby.region.to_owned(),
            suffix: suffix.to_owned(),
        })
}

pub async fn put(
    standby: &Standby<'_>,
    suffix: &str,
    direction: Direction,
) -> Result<(), PartError> {
    let action = || {
        format!(
            "putting {} to metric {NAMESPACE} {METRIC} {DIMENSION}={suffix} ({})",
            direction.value(),
            standby.region
        )
    };
    standby
        .cloudwatch
        .put_metric_data()
        .namespace(NAMESPACE)
        .metric_data(
            MetricDatum::builder()
                .metric_name(METRIC)
                .dimensions(Dimension::builder().name(DIMENSION).value(suffix).build())
                .value(direction.value())
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsError::from(e).in_region(standby.region))
        .context(action)?;
    Ok(())
}

/// The standby's targets: in the target group given, or in `tg-standby-<suffix>` when it is
/// ours (tagged `tap:stack = <suffix>`). `Err` says why there is nothing to count.
async fn standby_targets(
    standby: &Standby<'_>,
    suffix: &str,
    given: Option<&str>,
) -> Result<Result<Targets, String>, PartError> {
    let region = standby.region;
    let arn = match given {
        Some(arn) => arn.to_owned(),
        None => {
            let name = naming::stack_part(naming::TARGET_GROUP, Role::Standby, suffix);
            let found = load_balancer::find_target_group(standby.elbv2, &name)
                .await
                .context(|| format!("reading target group {name} ({region})"))?;
            let Some(arn) = found.and_then(|g| g.target_group_arn().map(str::to_owned)) else {
                return Ok(Err(format!("there is no target group {name} in {region} (tap_regional_stack's name for the standby's; give the target group of your own standby load balancer)")));
            };
            let owner = stack_tag(standby, &arn)
                .await
                .context(|| format!("reading the tags of target group {name} ({region})"))?;
            if owner.as_deref() != Some(suffix) {
                return Ok(Err(format!("target group {name} in {region} is not the standby of {suffix} (its {STACK_KEY} tag is {owner:?}); give the standby's target group")));
            }
            arn
        }
    };
    let health = standby
        .elbv2
        .describe_target_health()
        .target_group_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::from(e).in_region(region))
        .context(|| format!("reading the target health of {arn}"))?;
    let states: Vec<_> = health
        .target_health_descriptions()
        .iter()
        .map(|d| d.target_health().and_then(|h| h.state()).cloned())
        .collect();
    Ok(Ok(Targets {
        group: arn,
        healthy: states
            .iter()
            .filter(|s| *s == &Some(TargetHealthStateEnum::Healthy))
            .count(),
        total: states.len(),
    }))
}

async fn stack_tag(standby: &Standby<'_>, arn: &str) -> Result<Option<String>, AwsError> {
    let out = standby
        .elbv2
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await?;
    Ok(out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .find(|t| t.key() == Some(STACK_KEY))
        .and_then(|t| t.value().map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_puts_what_the_alarm_reads_as_its_state() {
        let name = failover_switch::alarm_name("prod");
        let spec = failover_switch::alarm(&name, "prod", "us-east-2", "arn:aws:sns:us-east-2:1:t");
        assert!(Direction::Engage.value() >= spec.threshold);
        assert_eq!(Direction::Engage.wanted(), StateValue::Alarm);
        assert!(Direction::Release.value() < spec.threshold);
        assert_eq!(Direction::Release.wanted(), StateValue::Ok);
    }

    /// Against a port nothing listens on: the error names the alarm, its region and the
    /// transport failure, and nothing panics.
    #[tokio::test]
    async fn an_unreachable_standby_fails_naming_the_alarm() {
        let config = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatch::config::Region::new("us-east-2"))
            .endpoint_url("http://127.0.0.1:1")
            .credentials_provider(aws_credential_types::Credentials::new(
                "a", "b", None, None, "test",
            ))
            .build();
        let elb_config = aws_sdk_elasticloadbalancingv2::Config::builder()
            .behavior_version(aws_sdk_elasticloadbalancingv2::config::BehaviorVersion::latest())
            .region(aws_sdk_elasticloadbalancingv2::config::Region::new(
                "us-east-2",
            ))
            .endpoint_url("http://127.0.0.1:1")
            .build();
        let (cw, elb) = (
            aws_sdk_cloudwatch::Client::from_conf(config),
            aws_sdk_elasticloadbalancingv2::Client::from_conf(elb_config),
        );
        let standby = Standby {
            region: "us-east-2",
            cloudwatch: &cw,
            elbv2: &elb,
        };
        let options = Options {
            force: false,
            target_group_arn: None,
            timeout: Duration::from_secs(1),
        };
        let mut said = Vec::new();
        let err = throw(&standby, "prod", Direction::Engage, &options, &mut |m| {
            said.push(m.to_owned())
        })
        .await
        .expect_err("nothing listens there");
        let text = err.to_string();
        assert!(
            text.starts_with("reading CloudWatch alarm failover-switch-prod or failover-switch-us-east-2-prod (us-east-2): "),
            "{text}"
        );
        assert!(said.is_empty(), "{said:?}");
    }
}
