//! `tap_session_table`: the DynamoDB global table of sessions, as its own resource.

mod apply;
pub mod desired;
#[cfg(test)]
mod fixtures;
mod plan;
pub mod schema;
mod validate;

use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::converged::Convergent;
use crate::aws::error::PartError;
use crate::configured::Configured;
use crate::tags::Tags;
use crate::tf::identity::{self, Identity, IdentityAttribute};
use crate::tf::timeouts::{TimeoutDefaults, Timeouts};

pub struct SessionTable;

#[async_trait]
impl Convergent for SessionTable {
    type State = schema::State;
    type Desired = desired::Desired;

    const TYPE: &'static str = "tap_session_table";
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

    fn replace_warnings(replace: &[AttributePath]) -> Vec<(AttributePath, String)> {
        plan::replace_warnings(replace)
    }

    fn plan_refusals(
        _prior: Option<&schema::State>,
        planned: &schema::State,
        replace: &[AttributePath],
    ) -> Vec<(AttributePath, String)> {
        plan::refusals(planned, replace)
    }

    fn desired(state: &schema::State, default_tags: &Tags) -> Option<desired::Desired> {
        desired::Desired::from_state(state, default_tags)
    }

    fn regions(want: &desired::Desired) -> Vec<(String, AttributePath)> {
        let replicas = want.replica_regions.iter().zip(0i64..).map(|(region, i)| {
            (
                region.clone(),
                AttributePath::new("replica_regions").index(i),
            )
        });
        std::iter::once((want.region.clone(), AttributePath::new("region")))
            .chain(replicas)
            .collect()
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
        apply::observe(cfg, &want.name, &want.region, prior).await
    }

    async fn delete(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::delete(cfg, &want.name, &want.region, timeout).await
    }

    /// The ID is the table name, or `<region>/<name>` outside us-east-1.
    async fn import(cfg: &Configured, id: &str) -> Result<Option<schema::State>, PartError> {
        let (region, name) = id
            .split_once('/')
            .unwrap_or((crate::role::Role::Primary.default_region(), id));
        apply::observe(cfg, name, region, &schema::State::default()).await
    }

    const IDENTITY: &'static [IdentityAttribute] = &[
        IdentityAttribute {
            name: "name",
            required_for_import: true,
            description: "Name of the table.",
        },
        IdentityAttribute {
            name: "region",
            required_for_import: false,
            description: "Home region of the table. Default `us-east-1`.",
        },
    ];

    fn identity(state: &schema::State) -> Option<Identity> {
        identity::known([
            ("name", state.name.clone()),
            ("region", state.region.clone()),
        ])
    }

    /// `<region>/<name>`.
    fn import_id(identity: &Identity) -> String {
        format!(
            "{}/{}",
            identity::or(
                identity,
                "region",
                crate::role::Role::Primary.default_region()
            ),
            identity::or(identity, "name", ""),
        )
    }
}
