//! `tap_failover`: throws or releases the data-plane failover switch from Terraform
//! (`terraform apply -refresh=false -invoke=action.tap_failover.<name>`). It calls only the
//! standby region's CloudWatch and ELB (`aws::switch_throw`), so it works while us-east-1, and
//! with it the Route 53 control plane, is down; the command line does the same without Terraform.

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::Value;
use tf_provider::Diagnostics;
use tokio_util::sync::CancellationToken;

use super::cancel::unless_cancelled;
use super::switch::{self, StandbyClients};
use super::{Action, Progress};
use crate::aws::switch_throw::{self, Direction};
use crate::configured::Shared;
use crate::tf::number::Number;
use crate::tf::schema::{named, optional, required};

/// How long the action waits for the switch's alarm unless told otherwise: CloudWatch
/// evaluates one-minute periods, so a few of them with room for its publishing delay.
const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    pub environment_suffix: Value<String>,
    pub standby_region: Value<String>,
    pub engage: Value<bool>,
    pub force: Value<bool>,
    pub target_group_arn: Value<String>,
    pub timeout_seconds: Value<Number>,
}

pub struct Failover {
    shared: Shared,
}

impl Failover {
    pub fn new(shared: Shared) -> Self {
        Failover { shared }
    }
}

fn schema() -> Schema {
    let attributes = [
        ("engage", required(AttributeType::Bool, "`true` throws the switch (the standby takes the traffic and keeps it, even when the primary recovers); `false` releases it (the primary returns once it is healthy).")),
        ("force", optional(AttributeType::Bool, "Throw the switch even when the standby has no healthy target. Default `false`: the action refuses, because failing over to a standby that cannot serve makes the outage worse.")),
        ("timeout_seconds", optional(AttributeType::Number, "How long to wait for the switch's alarm to reach ALARM (engage) or OK (release). Default 600.")),
    ];
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown("Throws or releases the data-plane failover switch of a `tap_trading_failover` or `tap_dns_failover`: one `PutMetricData` in the standby region, then a wait until the switch's alarm agrees. It calls only the standby region's CloudWatch and Elastic Load Balancing, never us-east-1, IAM or the Route 53 control plane, so it works while us-east-1 is down. Run it with `terraform apply -refresh=false -invoke=action.tap_failover.<name>` (`-refresh=false`: a refresh would call the primary region), with a state backend outside us-east-1. Configuring the provider asks STS in the provider's `region` once and, when it does not answer, in us-east-2 (us-east-1 for a provider in us-east-2), unless `skip_credentials_validation = true`: for a system with no stack in us-east-1, set the provider's `region` to the standby region, so that nothing asks us-east-1, and `standby_region` to it too (it defaults to us-east-2). Before throwing, it checks that the standby has healthy targets and refuses when it has none unless `force` is set. Needs Terraform 1.14 or later; without Terraform, `terraform-provider-tap failover engage` does the same."),
            attributes: named(attributes)
                .into_iter()
                .chain(switch::attributes("before the switch is thrown"))
                .collect(),
            ..Default::default()
        },
    }
}

#[async_trait]
impl Action for Failover {
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
        let direction = match config.engage {
            Value::Value(false) => Direction::Release,
            _ => Direction::Engage,
        };
        let options = switch::options(
            &config.force,
            &config.target_group_arn,
            &config.timeout_seconds,
            DEFAULT_TIMEOUT_SECONDS,
        );
        let standby = clients.standby();
        let mut say = |message: &str| progress.say(message);
        let stopped = (
            "tap_failover stopped",
            format!("Terraform stopped the action before the switch of {suffix} in {region} was confirmed; check it with `terraform-provider-tap failover status --suffix {suffix} --standby-region {region}`."),
        );
        let work = switch_throw::throw(&standby, &suffix, direction, &options, &mut say);
        let Some(thrown) = unless_cancelled(diags, cancel, stopped, work).await else {
            return;
        };
        if let Err(err) = thrown {
            diags.root_error(
                format!("tap_failover of {suffix} in {region}"),
                err.to_string(),
            );
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
        let action = Failover::new(Shared::default());
        let mut diags = Diagnostics::default();
        let config = decode(serde_json::json!({
            "environment_suffix": "Bad Suffix", "standby_region": "mars-1", "engage": true,
            "timeout_seconds": 0,
        }));
        action.validate(&mut diags, config).await;
        let paths: Vec<String> = (diags.errors.iter())
            .map(|d| format!("{:?}", d.attribute))
            .collect();
        assert_eq!(diags.errors.len(), 3, "{paths:?}");
        for attribute in ["environment_suffix", "standby_region", "timeout_seconds"] {
            assert!(
                paths.iter().any(|p| p.contains(attribute)),
                "{attribute}: {paths:?}"
            );
        }
    }

    #[test]
    fn the_standby_region_defaults_to_the_standby_role() {
        let config = decode(serde_json::json!({"environment_suffix": "prod", "engage": true}));
        assert_eq!(switch::standby_region(&config.standby_region), "us-east-2");
        assert!(config.force.is_null());
    }
}
