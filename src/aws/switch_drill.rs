//! The failover drill: throws the switch (`switch_throw`), times how long until the alarm Route 53
//! follows is in ALARM (Route 53 then holds the primary unhealthy: a CLOUDWATCH_METRIC check "is
//! considered unhealthy" while its alarm is in ALARM, API_HealthCheckConfig) and until
//! TestDNSAnswer answers the standby, checks that the standby's targets are healthy and that the
//! alarm notified its topic, releases the switch and times the return to the primary. Unlike the
//! switch itself it reads the Route 53 control plane (TestDNSAnswer, GetHealthCheckStatus): a
//! drill runs while us-east-1 is up. GetHealthCheckStatus cannot read a CALCULATED check (its API
//! reference), so it is asked only about the endpoint check, before the drill.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{HistoryItemType, StateValue};
use aws_sdk_route53::types::RrType;
use aws_smithy_types::DateTime;
use tokio::time::Instant;

use super::error::{AwsError, Context};
use super::switch_throw::{self, Direction, Options, Standby, SwitchError};

/// The record the drill watches, and Route 53's client (its control plane, in us-east-1).
pub struct Record<'a> {
    pub route53: &'a aws_sdk_route53::Client,
    pub zone_id: &'a str,
    pub name: &'a str,
    /// The primary's endpoint check, read before the drill: a primary already down would make
    /// the drill measure nothing.
    pub endpoint_check: Option<&'a str>,
}

/// How to run it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub options: Options,
    /// How often to read the alarm and TestDNSAnswer while timing.
    pub poll: Duration,
}

/// What a drill measured, in seconds from the put that threw (or released) the switch.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Until the switch alarm is in ALARM: Route 53 holds the primary unhealthy.
    pub detection_seconds: f64,
    /// Until TestDNSAnswer answers the standby.
    pub switch_seconds: f64,
    /// From the release until TestDNSAnswer answers the primary again.
    pub return_seconds: f64,
    /// The standby's healthy targets, and all, while it held the traffic.
    pub standby_targets: (usize, usize),
    /// Whether the switch alarm notified its topic (an action that succeeded) when it fired.
    pub notified: bool,
}

impl Summary {
    /// The one line the action ends with, and that `tap_failover_readiness` takes back
    /// (`last_drill`).
    pub fn line(&self) -> String {
        format!(
            "detection {:.1} s, standby answering {:.1} s, return {:.1} s, standby targets healthy {} of {}, alarm notified {}",
            self.detection_seconds,
            self.switch_seconds,
            self.return_seconds,
            self.standby_targets.0,
            self.standby_targets.1,
            if self.notified { "yes" } else { "no" },
        )
    }

    /// The summary back from its `line` (a user passes it to `tap_failover_readiness`); `None`
    /// when the text is not one.
    pub fn parse(line: &str) -> Option<Summary> {
        let line = line.trim().trim_start_matches("drill summary:").trim();
        let after = |label: &str| line.split_once(label).map(|(_, rest)| rest.trim_start());
        let seconds =
            |label: &str| -> Option<f64> { after(label)?.split_once(" s")?.0.parse().ok() };
        let mut targets = after("standby targets healthy ")?.split(|c: char| !c.is_ascii_digit());
        let healthy = targets.next()?.parse().ok()?;
        let total = targets.find(|t| !t.is_empty())?.parse().ok()?;
        Some(Summary {
            detection_seconds: seconds("detection ")?,
            switch_seconds: seconds("standby answering ")?,
            return_seconds: seconds("return ")?,
            standby_targets: (healthy, total),
            notified: match after("alarm notified ")?.split([',', ' ']).next()? {
                "yes" => true,
                "no" => false,
                _ => return None,
            },
        })
    }

    /// Why the drill failed although it ran to the end, if it did.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.standby_targets.0 == 0 {
            out.push("the standby had no healthy target while it held the traffic".to_owned());
        }
        if !self.notified {
            out.push("the switch alarm did not notify its topic".to_owned());
        }
        out
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error(transparent)]
    Switch(#[from] SwitchError),
    #[error(transparent)]
    Aws(#[from] super::error::PartError),
    #[error("the switch of {suffix} is already thrown (alarm {alarm} in ALARM): a drill starts from a released switch; release it first (tap_failover with engage = false)")]
    AlreadyThrown { suffix: String, alarm: String },
    #[error("TestDNSAnswer for {name} in zone {zone} answers {code} with no address: there is no primary answer to fail over from")]
    NoAnswer {
        name: String,
        zone: String,
        code: String,
    },
    #[error("Route 53's checkers already see the primary as unhealthy (health check {check}: {status}): a drill would measure nothing; fix the primary first")]
    PrimaryDown { check: String, status: String },
    #[error("{what} did not happen within {waited} s")]
    TooLong { what: String, waited: u64 },
}

/// Runs a drill: throws, times, checks, releases, times the return. Errors after the throw
/// leave the switch thrown: the caller releases it (`release_after`).
pub async fn run(
    standby: &Standby<'_>,
    record: &Record<'_>,
    suffix: &str,
    settings: &Settings,
    progress: &mut (dyn FnMut(&str) + Send),
    thrown: &mut bool,
) -> Result<Summary, DrillError> {
    let before = switch_throw::status(standby, suffix, &settings.options).await?;
    // The standby region's switch alarm: the first standby's, or a further standby's.
    let alarm = before.alarm.clone();
    if before.thrown() {
        return Err(DrillError::AlreadyThrown {
            suffix: suffix.to_owned(),
            alarm,
        });
    }
    if let Some(check) = record.endpoint_check {
        let seen = checkers(record.route53, check).await?;
        let healthy = seen.iter().filter(|s| s.starts_with("Success")).count();
        progress(&format!(
            "Route 53 checkers: {healthy} of {} see the primary healthy (health check {check})",
            seen.len()
        ));
        if !seen.is_empty() && healthy == 0 {
            return Err(DrillError::PrimaryDown {
                check: check.to_owned(),
                status: seen[0].clone(),
            });
        }
    }
    let primary = answer(record).await?;
    if primary.is_empty() {
        let code = answer_code(record).await?;
        return Err(DrillError::NoAnswer {
            name: record.name.to_owned(),
            zone: record.zone_id.to_owned(),
            code,
        });
    }
    progress(&format!(
        "TestDNSAnswer: {} answers {} (the primary)",
        record.name,
        primary.join(" ")
    ));

    let since = SystemTime::now();
    let engage = Direction::Engage;
    switch_throw::put_checked(standby, suffix, engage, &settings.options, progress).await?;
    *thrown = true;
    let start = Instant::now();
    let (detection, switch) = until_both(
        standby,
        record,
        (suffix, &alarm),
        settings,
        StateValue::Alarm,
        |answer| !answer.is_empty() && answer != primary.as_slice(),
        None,
    )
    .await?;
    let detection_seconds = (detection - start).as_secs_f64();
    let switch_seconds = (switch - start).as_secs_f64();
    progress(&format!(
        "Route 53 holds the primary unhealthy (alarm {alarm} in ALARM) after {detection_seconds:.1} s"
    ));
    progress(&format!(
        "TestDNSAnswer answers the standby ({}) after {switch_seconds:.1} s",
        answer(record).await?.join(" ")
    ));
    let during = switch_throw::status(standby, suffix, &settings.options).await?;
    let standby_targets = match &during.targets {
        Ok(t) => (t.healthy, t.total),
        Err(_) => (0, 0),
    };
    progress(&match &during.targets {
        Ok(t) => format!(
            "standby {}: target group {} has {} of {} targets healthy",
            standby.region, t.group, t.healthy, t.total
        ),
        Err(why) => format!("standby {}: {why}", standby.region),
    });
    let notified = notified(standby, &alarm, since).await?;
    progress(&match &notified {
        Some(summary) => format!("alarm {alarm} notified: {summary}"),
        None => format!("alarm {alarm} has not notified its topic since the switch was thrown"),
    });

    let release = Direction::Release;
    switch_throw::put_checked(standby, suffix, release, &settings.options, progress).await?;
    let start = Instant::now();
    let (_, back) = until_both(
        standby,
        record,
        (suffix, &alarm),
        settings,
        StateValue::Ok,
        |answer| answer == primary.as_slice(),
        Some(release),
    )
    .await?;
    *thrown = false;
    let return_seconds = (back - start).as_secs_f64();
    progress(&format!(
        "TestDNSAnswer answers the primary again after {return_seconds:.1} s"
    ));
    Ok(Summary {
        detection_seconds,
        switch_seconds,
        return_seconds,
        standby_targets,
        notified: notified.is_some(),
    })
}

/// Releases the switch after a drill that stopped with it thrown: one put, no wait (the caller
/// is out of time or cancelled).
pub async fn release_after(standby: &Standby<'_>, suffix: &str) -> Result<(), SwitchError> {
    switch_throw::put(standby, suffix, Direction::Release).await?;
    Ok(())
}

/// Polls the switch alarm (of the suffix, by its name) and TestDNSAnswer until the alarm is
/// `state` and the answer `arrived`; when each first was. `repeat` puts that direction's value again every minute meanwhile (a
/// release put in a period that also holds the throw would not clear it).
async fn until_both(
    standby: &Standby<'_>,
    record: &Record<'_>,
    (suffix, alarm_name): (&str, &str),
    settings: &Settings,
    state: StateValue,
    arrived: impl Fn(&[String]) -> bool,
    repeat: Option<Direction>,
) -> Result<(Instant, Instant), DrillError> {
    let start = Instant::now();
    let deadline = start + settings.options.timeout;
    let (mut alarm_at, mut answer_at) = (None, None);
    let mut last_put = start;
    loop {
        if alarm_at.is_none() {
            let alarm = switch_throw::read_alarm(standby, suffix).await?;
            if alarm.state_value() == Some(&state) {
                alarm_at = Some(Instant::now());
            }
        }
        if answer_at.is_none() && arrived(answer(record).await?.as_slice()) {
            answer_at = Some(Instant::now());
        }
        if let (Some(a), Some(b)) = (alarm_at, answer_at) {
            return Ok((a, b));
        }
        if Instant::now() >= deadline {
            let what = match alarm_at {
                None => format!("alarm {alarm_name} in {}", state.as_str()),
                Some(_) => format!("TestDNSAnswer's change for {}", record.name),
            };
            return Err(DrillError::TooLong {
                what,
                waited: settings.options.timeout.as_secs(),
            });
        }
        if let Some(direction) = repeat {
            if last_put.elapsed() >= Duration::from_secs(60) {
                switch_throw::put(standby, suffix, direction).await?;
                last_put = Instant::now();
            }
        }
        tokio::time::sleep(settings.poll).await;
    }
}

/// TestDNSAnswer's addresses for the record, sorted.
async fn answer(record: &Record<'_>) -> Result<Vec<String>, DrillError> {
    let out = test_dns_answer(record).await?;
    let mut data = out.record_data().to_vec();
    data.sort();
    Ok(data)
}

async fn answer_code(record: &Record<'_>) -> Result<String, DrillError> {
    Ok(test_dns_answer(record).await?.response_code().to_owned())
}

async fn test_dns_answer(
    record: &Record<'_>,
) -> Result<aws_sdk_route53::operation::test_dns_answer::TestDnsAnswerOutput, DrillError> {
    Ok(record
        .route53
        .test_dns_answer()
        .hosted_zone_id(record.zone_id)
        .record_name(record.name)
        .record_type(RrType::A)
        .send()
        .await
        .map_err(AwsError::from)
        .context(|| {
            format!(
                "TestDNSAnswer for {} in zone {}",
                record.name, record.zone_id
            )
        })?)
}

/// Each checker's status text for an endpoint check.
async fn checkers(
    route53: &aws_sdk_route53::Client,
    check: &str,
) -> Result<Vec<String>, DrillError> {
    let out = route53
        .get_health_check_status()
        .health_check_id(check)
        .send()
        .await
        .map_err(AwsError::from)
        .context(|| format!("reading the status of Route 53 health check {check}"))?;
    Ok(out
        .health_check_observations()
        .iter()
        .filter_map(|o| o.status_report().and_then(|r| r.status()))
        .map(str::to_owned)
        .collect())
}

/// The summary of the alarm's first action that succeeded since `since`, if any.
async fn notified(
    standby: &Standby<'_>,
    alarm: &str,
    since: SystemTime,
) -> Result<Option<String>, DrillError> {
    let out = standby
        .cloudwatch
        .describe_alarm_history()
        .alarm_name(alarm)
        .history_item_type(HistoryItemType::Action)
        .start_date(DateTime::from(since))
        .send()
        .await
        .map_err(|e| AwsError::from(e).in_region(standby.region))
        .context(|| {
            format!(
                "reading the history of CloudWatch alarm {alarm} ({})",
                standby.region
            )
        })?;
    Ok(out
        .alarm_history_items()
        .iter()
        .filter_map(|i| i.history_summary())
        .find(|s| s.starts_with("Successfully executed action"))
        .map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Summary {
        Summary {
            detection_seconds: 61.04,
            switch_seconds: 61.5,
            return_seconds: 60.0,
            standby_targets: (2, 2),
            notified: true,
        }
    }

    #[test]
    fn the_summary_line_says_each_time_and_check() {
        assert_eq!(
            summary().line(),
            "detection 61.0 s, standby answering 61.5 s, return 60.0 s, standby targets healthy 2 of 2, alarm notified yes"
        );
        assert!(summary().failures().is_empty());
    }

    #[test]
    fn the_summary_line_parses_back_and_other_text_does_not() {
        let line = summary().line();
        let back = Summary::parse(&format!("drill summary: {line}")).expect("parses");
        assert_eq!(back.line(), line);
        assert_eq!(back.standby_targets, (2, 2));
        assert!(back.notified);
        assert_eq!(Summary::parse("detection fast"), None);
        assert_eq!(
            Summary::parse(&line.replace("notified yes", "notified maybe")),
            None
        );
    }

    #[test]
    fn a_standby_without_healthy_targets_or_a_silent_alarm_fails_the_drill() {
        let s = Summary {
            standby_targets: (0, 2),
            notified: false,
            ..summary()
        };
        assert_eq!(s.failures().len(), 2, "{:?}", s.failures());
    }
}
