//! `tap_dns_failover`: Route 53 weighted failover between two load balancers, with the health
//! check, SNS topics and CloudWatch alarms that watch it.

mod apply;
pub mod desired;
#[cfg(test)]
mod fixtures;
mod import;
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
use crate::aws::identity::accepted_in;
use crate::configured::Configured;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::identity::{self, Identity, IdentityAttribute, ENVIRONMENT_SUFFIX};
use crate::tf::timeouts::{TimeoutDefaults, Timeouts};

pub struct DnsFailover;

impl DnsFailover {
    /// Converges a system whose regions were checked already: `tap_trading_failover` checks
    /// both before it makes anything.
    pub async fn converge_checked(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::converge(cfg, want, timeout).await
    }

    /// Converges all but the records of a system whose regions were checked already (see
    /// `apply::converge_all_but_records`).
    pub async fn converge_all_but_records(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::converge_all_but_records(cfg, want, timeout).await
    }

    /// Moves the weights of a system that exists, by the IDs a prior apply recorded (see
    /// `apply::converge_move`).
    pub async fn converge_move(
        cfg: &Configured,
        want: &desired::Desired,
        recorded: &desired::Recorded,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::converge_move(cfg, want, recorded, timeout).await
    }

    /// The records' and the standby-traffic alarm's summaries after a move (see
    /// `apply::observe_move`).
    pub async fn observe_move(
        cfg: &Configured,
        want: &desired::Desired,
        recorded: &desired::Recorded,
    ) -> Result<(Tags, Option<(String, String)>), PartError> {
        apply::observe_move(cfg, want, recorded).await
    }
}

#[async_trait]
impl Convergent for DnsFailover {
    type State = schema::State;
    type Desired = desired::Desired;

    const TYPE: &'static str = "tap_dns_failover";
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

    fn plan_warnings(
        prior: &schema::State,
        planned: &schema::State,
    ) -> Vec<(AttributePath, String)> {
        plan::warnings(prior, planned)
    }

    fn desired(state: &schema::State, default_tags: &Tags) -> Option<desired::Desired> {
        desired::Desired::from_state(state, default_tags)
    }

    fn desired_update(
        prior: &schema::State,
        planned: &schema::State,
        default_tags: &Tags,
    ) -> Option<desired::Desired> {
        let mut want = desired::Desired::from_state(planned, default_tags)?;
        let kept: Vec<String> = want.standbys().map(|s| s.region.clone()).collect();
        want.removed_standbys = schema::standbys(prior)
            .filter_map(|s| s.as_ref_option()?.region.as_ref_option().cloned())
            .filter(|region| !kept.contains(region))
            .collect();
        Some(want)
    }

    fn regions(want: &desired::Desired) -> Vec<(String, AttributePath)> {
        let primary = (
            want.primary.region.clone(),
            AttributePath::new(Role::Primary.as_str()).attribute("region"),
        );
        let standbys = want.standbys().enumerate().map(|(i, s)| {
            (
                s.region.clone(),
                AttributePath::new(Role::Standby.as_str())
                    .index(i as i64)
                    .attribute("region"),
            )
        });
        std::iter::once(primary).chain(standbys).collect()
    }

    fn timeouts(state: &schema::State) -> &Value<Timeouts> {
        &state.timeouts
    }

    /// Both regions accept the credentials before anything is made: the zone and the health
    /// checks are global and made beside the regions' topics, so a region the account has not
    /// enabled would leave them behind.
    async fn converge(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        let regions = std::iter::once(&want.primary)
            .chain(want.standbys())
            .map(|e| e.region.as_str());
        accepted_in(&cfg.clients, regions).await?;
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

    /// The ID is the environment suffix, or `<suffix>/<hosted_zone_id>` for records in a zone
    /// the resource did not create.
    async fn import(cfg: &Configured, id: &str) -> Result<Option<schema::State>, PartError> {
        import::import(cfg, id).await
    }

    const IDENTITY: &'static [IdentityAttribute] = &[
        ENVIRONMENT_SUFFIX,
        IdentityAttribute {
            name: "hosted_zone_id",
            required_for_import: false,
            description: "The hosted zone given as `hosted_zone_id`; left out when the provider created the zone.",
        },
    ];

    fn identity(state: &schema::State) -> Option<Identity> {
        identity::known([
            (ENVIRONMENT_SUFFIX.name, state.environment_suffix.clone()),
            ("hosted_zone_id", state.hosted_zone_id.clone()),
        ])
    }

    /// `<environment_suffix>`, or `<environment_suffix>/<hosted_zone_id>` for a given zone.
    fn import_id(identity: &Identity) -> String {
        let suffix = identity::or(identity, ENVIRONMENT_SUFFIX.name, "");
        match identity::get(identity, "hosted_zone_id") {
            Some(zone) => format!("{suffix}/{zone}"),
            None => suffix.to_owned(),
        }
    }
}
