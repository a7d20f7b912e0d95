//! `tap_failover_drill`: a rehearsal of the failover switch from Terraform
//! (`terraform apply -invoke=action.tap_failover_drill.<name>`, us-east-1 up). It throws the
//! switch, times Route 53's detection and the standby's answer, checks the standby and the
//! alarm's notification, releases, times the return (`aws::switch_drill`), and says each time as
//! it is measured and in a last summary line. Out of time or cancelled, it releases the switch
//! before it ends.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};
use tokio_util::sync::CancellationToken;

use super::cancel::unless_cancelled;
use super::switch::{self, StandbyClients};
use super::{Action, Progress};
use crate::aws::switch_drill::{self, Record, Settings};
use crate::configured::Shared;
use crate::tf::diag::invalid;
use crate::tf::number::{whole, Number};
use crate::tf::schema::{named, optional, required};

/// The whole drill's limit unless told otherwise: two alarm periods and two DNS changes on AWS,
/// with room.
const DEFAULT_TIMEOUT_SECONDS: u64 = 900;
/// How often the drill reads the alarm and TestDNSAnswer unless told otherwise: a fraction of
/// Route 53's shortest check interval (10 s), without flooding TestDNSAnswer (a development API).
const DEFAULT_POLL_SECONDS: f64 = 2.0;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub environment_suffix: Value<String>,
    pub standby_region: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub record_name: Value<String>,
    pub health_check_id: Value<String>,
    pub target_group_arn: Value<String>,
    pub timeout_seconds: Value<Number>,
    pub poll_seconds: Value<Number>,
}

pub struct FailoverDrill {
    shared: Shared,
}

impl FailoverDrill {
    pub fn new(shared: Shared) -> Self {
        FailoverDrill { shared }
    }
}

fn schema() -> Schema {
    let attributes = [
        ("hosted_zone_id", required(AttributeType::String, "The hosted zone of the failover records (`zone_id` of `tap_dns_failover` or `tap_trading_failover`), read with TestDNSAnswer.")),
        ("record_name", required(AttributeType::String, "The name the weighted records answer (the stack's `domain_name`).")),
        ("health_check_id", optional(AttributeType::String, "The primary's endpoint health check (`health_check_id`): read with GetHealthCheckStatus first, and the drill refuses when Route 53's checkers already see the primary down.")),
        ("timeout_seconds", optional(AttributeType::Number, "How long each half of the drill (over to the standby, back to the primary) may take. Default 900. Past it, or when Terraform stops it, the drill releases the switch and fails.")),
        ("poll_seconds", optional(AttributeType::Number, "How often the drill reads the switch alarm and TestDNSAnswer while timing, in seconds: the precision of its times. Default 2.")),
    ];
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown("A failover drill: throws the data-plane failover switch of a `tap_trading_failover` or `tap_dns_failover` (as `tap_failover` does), measures how long until Route 53 holds the primary unhealthy (the switch alarm it follows is in ALARM) and until TestDNSAnswer answers the standby, checks that the standby's targets are healthy and that the alarm notified its topic, releases the switch and measures how long until DNS answers the primary again. Each time is shown as it is measured, and the last line sums the drill up (give that line to `tap_failover_readiness` as `last_drill`). It reads the Route 53 control plane, so run it while us-east-1 is up: `terraform apply -invoke=action.tap_failover_drill.<name>`. It refuses to start with the switch already thrown or the primary already down, and when it runs out of time or Terraform stops it, it releases the switch before it ends. Needs Terraform 1.14 or later."),
            attributes: named(attributes)
                .into_iter()
                .chain(switch::attributes("before and during the drill"))
                .collect(),
            ..Default::default()
        },
    }
}

fn poll(config: &Config) -> Duration {
    let seconds = config
        .poll_seconds
        .as_ref_option()
        .map_or(DEFAULT_POLL_SECONDS, |n| n.0);
    Duration::from_secs_f64(seconds)
}

#[async_trait]
impl Action for FailoverDrill {
    type Config = Config;

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Config) {
        let seconds = ("timeout_seconds", &config.timeout_seconds);
        switch::validate(
            diags,
            &config.environment_suffix,
            &config.standby_region,
            seconds,
        );
        if let Value::Value(n) = &config.poll_seconds {
            if !(0.01..=60.0).contains(&n.0) {
                invalid(
                    diags,
                    AttributePath::new("poll_seconds"),
                    "poll_seconds must be between 0.01 and 60.",
                );
            }
        }
        if let (Some(timeout), Value::Value(n)) =
            (whole(&config.timeout_seconds), &config.poll_seconds)
        {
            if (timeout as f64) < n.0 {
                invalid(
                    diags,
                    AttributePath::new("poll_seconds"),
                    "poll_seconds must be shorter than timeout_seconds.",
                );
            }
        }
    }

    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: Config,
        progress: &Progress,
        cancel: &CancellationToken,
    ) {
        let Some(cfg) = self.shared.get(diags) else {
            return;
        };
        let suffix = config.environment_suffix.as_ref_option().cloned();
        let suffix = suffix.unwrap_or_default();
        let clients = StandbyClients::new(cfg, switch::standby_region(&config.standby_region));
        let region = clients.region.clone();
        let settings = Settings {
            options: switch::options(
                &Value::Value(false),
                &config.target_group_arn,
                &config.timeout_seconds,
                DEFAULT_TIMEOUT_SECONDS,
            ),
            poll: poll(&config),
        };
        let zone = config
            .hosted_zone_id
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let name = config
            .record_name
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let check = config.health_check_id.as_ref_option().cloned();
        let record = Record {
            route53: &cfg.clients.route53,
            zone_id: &zone,
            name: &name,
            endpoint_check: check.as_deref(),
        };
        let standby = clients.standby();
        let mut thrown = false;
        let ran = {
            let mut say = |message: &str| progress.say(message);
            let stopped = (
                "tap_failover_drill stopped",
                format!("Terraform stopped the drill of {suffix} before it ended."),
            );
            let work =
                switch_drill::run(&standby, &record, &suffix, &settings, &mut say, &mut thrown);
            unless_cancelled(diags, cancel, stopped, work).await
        };
        if thrown {
            // Stopped, out of time or failed with the switch thrown: leave the system as it was.
            match switch_drill::release_after(&standby, &suffix).await {
                Ok(()) => progress.say(format!(
                    "switch released at {} after the drill stopped: DNS returns to the primary once alarm {} is OK",
                    crate::aws::switch_throw::now(),
                    crate::aws::failover_switch::alarm_name(&suffix)
                )),
                Err(err) => diags.root_error(
                    format!("tap_failover_drill left the switch of {suffix} thrown"),
                    format!("{err}. Release it: terraform-provider-tap failover release --suffix {suffix} --standby-region {region}"),
                ),
            }
        }
        let Some(ran) = ran else {
            return;
        };
        match ran {
            Ok(summary) => {
                progress.say(format!("drill summary: {}", summary.line()));
                let failures = summary.failures();
                if !failures.is_empty() {
                    diags.root_error(
                        format!("tap_failover_drill of {suffix}: the failover would not serve as it should"),
                        format!("{}. Measured: {}.", failures.join("; "), summary.line()),
                    );
                }
            }
            Err(err) => diags.root_error(
                format!("tap_failover_drill of {suffix} in {region}"),
                err.to_string(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: serde_json::Value) -> Config {
        rmp_serde::from_slice(&rmp_serde::to_vec_named(&json).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn bad_arguments_are_refused_on_their_attribute() {
        let action = FailoverDrill::new(Shared::default());
        let mut diags = Diagnostics::default();
        let config = decode(serde_json::json!({
            "environment_suffix": "Bad Suffix", "standby_region": "mars-1",
            "hosted_zone_id": "Z1", "record_name": "app.example.net",
            "timeout_seconds": 0, "poll_seconds": 0,
        }));
        action.validate(&mut diags, config).await;
        let paths: Vec<String> = (diags.errors.iter())
            .map(|d| format!("{:?}", d.attribute))
            .collect();
        for attribute in [
            "environment_suffix",
            "standby_region",
            "timeout_seconds",
            "poll_seconds",
        ] {
            assert!(
                paths.iter().any(|p| p.contains(attribute)),
                "{attribute}: {paths:?}"
            );
        }
    }

    #[test]
    fn the_poll_defaults_to_two_seconds() {
        let config = decode(serde_json::json!({"environment_suffix": "prod"}));
        assert_eq!(poll(&config), Duration::from_secs(2));
    }
}
