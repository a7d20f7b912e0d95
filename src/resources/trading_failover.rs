//! `tap_trading_failover`: the whole failover system from one resource. Orchestration only:
//! every part is planned, converged, read and deleted by the code of its own resource type.

mod apply;
mod desired;
#[cfg(test)]
mod fixtures;
mod parts;
mod plan;
pub mod schema;
mod tls;
mod validate;

use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::converged::Convergent;
use crate::aws::error::PartError;
use crate::configured::Configured;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::identity::{self, Identity, IdentityAttribute, ENVIRONMENT_SUFFIX};
use crate::tf::timeouts::{TimeoutDefaults, Timeouts};

pub struct TradingFailover;

#[async_trait]
impl Convergent for TradingFailover {
    type State = schema::State;
    type Desired = desired::Desired;

    const TYPE: &'static str = "tap_trading_failover";
    const TIMEOUTS: TimeoutDefaults = schema::TIMEOUTS;

    fn schema() -> Schema {
        schema::schema()
    }

    fn validate(diags: &mut Diagnostics, config: &schema::State) {
        validate::validate(diags, config);
    }

    fn plan(
        config: &schema::State,
        prior: Option<&schema::State>,
        default_tags: &Tags,
    ) -> (schema::State, Vec<AttributePath>) {
        plan::plan(config, prior, default_tags)
    }

    fn plan_refusals(
        prior: Option<&schema::State>,
        planned: &schema::State,
        _replace: &[AttributePath],
    ) -> Vec<(AttributePath, String)> {
        match prior {
            None => plan::create_refusals(planned),
            Some(prior) => {
                let mut refused = plan::table_refusals(prior, planned);
                refused.extend(plan::additional_refusals(prior, planned));
                refused
            }
        }
    }

    fn plan_warnings(
        prior: &schema::State,
        planned: &schema::State,
    ) -> Vec<(AttributePath, String)> {
        plan::warnings(prior, planned)
    }

    fn desired(state: &schema::State, default_tags: &Tags) -> Option<desired::Desired> {
        desired::Desired::from_state(state, default_tags)
    }

    fn regions(want: &desired::Desired) -> Vec<(String, AttributePath)> {
        let additional = want
            .additional_regions()
            .into_iter()
            .enumerate()
            .map(|(i, region)| {
                let block = AttributePath::new("additional_standby").index(i as i64);
                (region, block.attribute("region"))
            });
        Role::ALL
            .into_iter()
            .map(|role| {
                (
                    want.region(role),
                    AttributePath::new(role.as_str()).attribute("region"),
                )
            })
            .chain(additional)
            .collect()
    }

    /// A planned failover and nothing else converges the move only (`Desired::failing_over`).
    fn desired_update(
        prior: &schema::State,
        planned: &schema::State,
        default_tags: &Tags,
    ) -> Option<desired::Desired> {
        desired::Desired::from_state(planned, default_tags).map(|d| {
            d.failing_over(prior)
                .removing_standbys_of(prior)
                .dropping_certificates_of(prior)
                .checking_http_first_after(prior)
                .leaving_unchanged_stacks_of(prior)
                .replacing_table(!plan::table_replaced(prior, planned).is_empty())
        })
    }

    fn timeouts(state: &schema::State) -> &Value<Timeouts> {
        &state.timeouts
    }

    async fn converge(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::converge(cfg, want, timeout).await
    }

    async fn observe(
        cfg: &Configured,
        want: &desired::Desired,
        prior: &schema::State,
    ) -> Result<Option<schema::State>, PartError> {
        apply::observe(cfg, want, prior).await
    }

    async fn delete(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::delete(cfg, want, timeout).await
    }

    /// The ID is the environment suffix, or `<suffix>/<primary_region>/<standby_region>`.
    async fn import(cfg: &Configured, id: &str) -> Result<Option<schema::State>, PartError> {
        apply::import(cfg, id).await
    }

    const IDENTITY: &'static [IdentityAttribute] = &[
        ENVIRONMENT_SUFFIX,
        IdentityAttribute {
            name: "primary_region",
            required_for_import: false,
            description: "Region of the primary stack. Default `us-east-1`.",
        },
        IdentityAttribute {
            name: "standby_region",
            required_for_import: false,
            description: "Region of the standby stack. Default `us-east-2`.",
        },
    ];

    fn identity(state: &schema::State) -> Option<Identity> {
        let region = |block: &Value<schema::Region>| match block {
            Value::Value(r) => r.region.clone(),
            Value::Null => Value::Null,
            Value::Unknown => Value::Unknown,
        };
        identity::known([
            (ENVIRONMENT_SUFFIX.name, state.environment_suffix.clone()),
            ("primary_region", region(&state.primary)),
            ("standby_region", region(&state.standby)),
        ])
    }

    /// `<environment_suffix>/<primary_region>/<standby_region>`.
    fn import_id(identity: &Identity) -> String {
        format!(
            "{}/{}/{}",
            identity::or(identity, ENVIRONMENT_SUFFIX.name, ""),
            identity::or(identity, "primary_region", Role::Primary.default_region()),
            identity::or(identity, "standby_region", Role::Standby.default_region()),
        )
    }
}
