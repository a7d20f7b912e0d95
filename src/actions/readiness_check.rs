//! `tap_readiness_check`: the `tap_failover_readiness` data source's judgement as an action,
//! run on demand (`terraform apply -invoke=action.tap_readiness_check.<name>`): it says what it
//! reads and each finding as progress, and fails when failover would not work.

use async_trait::async_trait;
use tf_provider::schema::{AttributeConstraint, Description, Schema};
use tf_provider::{DataSource, Diagnostics};
use tokio_util::sync::CancellationToken;

use super::cancel::unless_cancelled;
use super::{Action, Progress};
use crate::configured::Shared;
use crate::data_sources::failover_readiness::{self, assess, FailoverReadiness, State};

pub struct ReadinessCheck {
    shared: Shared,
}

impl ReadinessCheck {
    pub fn new(shared: Shared) -> Self {
        ReadinessCheck { shared }
    }
}

/// The data source's arguments: the same stack and expectations, without what it computes.
fn schema() -> Schema {
    let mut schema = failover_readiness::schema();
    let block = &mut schema.block;
    block.description = Description::markdown("Checks whether failover of a stack would work right now, as the `tap_failover_readiness` data source does, on demand: each thing it reads and each finding is shown as it goes, and the run fails when any finding is an error. The arguments are the data source's.");
    block
        .attributes
        .retain(|_, a| !matches!(a.constraint, AttributeConstraint::Computed));
    for attribute in block.attributes.values_mut() {
        if matches!(attribute.constraint, AttributeConstraint::OptionalComputed) {
            attribute.constraint = AttributeConstraint::Optional;
        }
    }
    schema
}

#[async_trait]
impl Action for ReadinessCheck {
    type Config = State;

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, diags: &mut Diagnostics, config: State) {
        let readiness = FailoverReadiness::new(self.shared.clone());
        DataSource::validate(&readiness, diags, config).await;
    }

    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: State,
        progress: &Progress,
        cancel: &CancellationToken,
    ) {
        let Some(cfg) = self.shared.get(diags) else {
            return;
        };
        let suffix = config.environment_suffix.as_ref_option().cloned();
        let suffix = suffix.unwrap_or_default();
        let step = |message: String| progress.say(message);
        let stopped = (
            "tap_readiness_check stopped",
            format!("Terraform stopped the check of stack {suffix} before it finished; it changes nothing, so nothing was left half done."),
        );
        let work = assess(cfg, config, &step);
        let Some(assessed) = unless_cancelled(diags, cancel, stopped, work).await else {
            return;
        };
        let state = match assessed {
            Ok(state) => state,
            Err(err) => {
                let (summary, detail) = err.diagnostic("tap_readiness_check");
                diags.root_error(summary, detail);
                return;
            }
        };
        let findings = state.findings.as_ref_option().cloned().unwrap_or_default();
        for f in &findings {
            progress.say(format!(
                "{} in {}: {} Fix: {}",
                f.severity, f.part, f.message, f.fix
            ));
        }
        let errors: Vec<&str> = (findings.iter())
            .filter(|f| f.severity == "error")
            .map(|f| f.message.as_str())
            .collect();
        let estimate = (state.estimated_failover_seconds.as_ref_option()).map_or(0.0, |n| n.0);
        progress.say(format!(
            "stack {suffix}: {} error(s), {} warning(s); failover would take about {estimate} s",
            errors.len(),
            findings.len() - errors.len(),
        ));
        if !errors.is_empty() {
            diags.root_error(
                format!("Stack {suffix} is not ready to fail over"),
                format!("Failover would not work: {}", errors.join(" ")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_are_the_data_sources_without_what_it_computes() {
        let schema = schema();
        let attributes = &schema.block.attributes;
        assert!(matches!(
            attributes["environment_suffix"].constraint,
            AttributeConstraint::Required
        ));
        assert!(matches!(
            attributes["primary_region"].constraint,
            AttributeConstraint::Optional
        ));
        for computed in ["id", "ready", "findings", "estimated_failover_seconds"] {
            assert!(!attributes.contains_key(computed), "{computed}");
        }
    }

    #[test]
    fn a_configuration_without_the_computed_attributes_decodes() {
        let config: State = rmp_serde::from_slice(
            &rmp_serde::to_vec_named(&serde_json::json!({"environment_suffix": "prod"})).unwrap(),
        )
        .unwrap();
        assert_eq!(config.environment_suffix.as_ref_option().unwrap(), "prod");
        assert!(config.findings.is_null());
    }
}
