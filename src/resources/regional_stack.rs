//! `tap_regional_stack`: one region of the failover system: its network (VPC, subnets,
//! gateways, routes, security groups), its load balancer (ALB, target group, listeners) and its
//! compute (launch template, Auto Scaling group and policy, the instances' IAM role).

mod apply;
pub mod desired;
#[cfg(test)]
mod fixtures;
mod plan;
mod read;
pub mod schema;
mod validate;

use std::time::Duration;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::converged::Convergent;
use crate::aws::error::{Cause, PartError};
use crate::configured::Configured;
use crate::role::Role;
use crate::tags::{self, Tags};
use crate::tf::identity::{self, Identity, IdentityAttribute, ENVIRONMENT_SUFFIX};
use crate::tf::timeouts::{TimeoutDefaults, Timeouts};
use crate::tf::values::{self, known_map};

pub use read::Routing;

pub struct RegionalStack;

impl RegionalStack {
    /// Converges the stack; an instance refresh waits for `refresh_after`, the HTTPS listener
    /// for `certificate_issued` (see `apply::converge_after`).
    pub async fn converge_after(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
        refresh_after: impl std::future::Future<Output = Result<(), PartError>>,
        certificate_issued: Option<crate::aws::wait::Gate>,
    ) -> Result<(), PartError> {
        apply::converge_after(cfg, want, timeout, refresh_after, certificate_issued).await
    }

    /// Fails when the stack's region cannot hold it (see `apply::zones`); creates nothing.
    pub async fn check_zones(cfg: &Configured, want: &desired::Desired) -> Result<(), PartError> {
        apply::zones(cfg, want).await.map(|_| ())
    }

    /// The stack as AWS holds it (`observe`), and the capacity its group runs now.
    pub async fn observe_running(
        cfg: &Configured,
        want: &desired::Desired,
        prior: &schema::State,
    ) -> Result<(Option<schema::State>, Option<i32>), PartError> {
        read::observe_running(cfg, want, prior).await
    }

    /// What routes to the stack (its load balancer and target group), read alone.
    pub async fn routing(
        cfg: &Configured,
        want: &desired::Desired,
    ) -> Result<Option<Routing>, PartError> {
        read::routing(cfg, want).await
    }

    /// Deletes the stack of a system going as a whole: its load balancer, and its instances
    /// without draining, go once `unrouted` (see `apply::delete_when`).
    pub async fn delete_when(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
        unrouted: impl std::future::Future<Output = Result<(), PartError>>,
    ) -> Result<(), PartError> {
        apply::delete_when(cfg, want, timeout, unrouted).await
    }
}

#[async_trait]
impl Convergent for RegionalStack {
    type State = schema::State;
    type Desired = desired::Desired;

    const TYPE: &'static str = "tap_regional_stack";
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

    fn desired(state: &schema::State, default_tags: &Tags) -> Option<desired::Desired> {
        desired::Desired::from_state(state, default_tags)
    }

    fn regions(want: &desired::Desired) -> Vec<(String, AttributePath)> {
        vec![(want.region.clone(), AttributePath::new("region"))]
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
        read::observe(cfg, want, prior).await
    }

    async fn delete(
        cfg: &Configured,
        want: &desired::Desired,
        timeout: Duration,
    ) -> Result<(), PartError> {
        apply::delete(cfg, want, timeout).await
    }

    /// The ID is `<region>/<environment_suffix>/<role>`. Settings the VPC does not record
    /// (subnet CIDRs, NAT mode, ingress) come back as their defaults; the first plan shows any
    /// difference from the configuration. The user's tags are the VPC's (`tags::users`).
    async fn import(cfg: &Configured, id: &str) -> Result<Option<schema::State>, PartError> {
        let parts: Vec<&str> = id.split('/').collect();
        let [region, suffix, role] = parts[..] else {
            return Err(PartError {
                action: format!("importing \"{id}\""),
                cause: Cause::Unexpected("the import ID is <region>/<environment_suffix>/<role>, e.g. us-east-1/prod/primary".into()),
            });
        };
        let config = schema::State {
            environment_suffix: values::string(suffix),
            role: values::string(role),
            region: values::string(region),
            ..Default::default()
        };
        let (planned, _) = plan::plan(&config, None, &cfg.default_tags);
        let Some(want) = desired::Desired::from_state(&planned, &cfg.default_tags) else {
            return Ok(None);
        };
        let mut observed = read::observe(cfg, &want, &planned).await?;
        if let Some(state) = observed.as_mut() {
            let held = known_map(&state.tags_all).unwrap_or_default();
            state.tags = values::map_or_null(&tags::users(&held, &cfg.default_tags), true);
        }
        Ok(observed)
    }

    const IDENTITY: &'static [IdentityAttribute] = &[
        IdentityAttribute {
            name: "region",
            required_for_import: true,
            description: "Region of the stack.",
        },
        ENVIRONMENT_SUFFIX,
        IdentityAttribute {
            name: "role",
            required_for_import: false,
            description: "`primary` or `standby`. Default `primary`.",
        },
    ];

    fn identity(state: &schema::State) -> Option<Identity> {
        identity::known([
            ("region", state.region.clone()),
            (ENVIRONMENT_SUFFIX.name, state.environment_suffix.clone()),
            ("role", state.role.clone()),
        ])
    }

    /// `<region>/<environment_suffix>/<role>`.
    fn import_id(identity: &Identity) -> String {
        format!(
            "{}/{}/{}",
            identity::or(identity, "region", ""),
            identity::or(identity, ENVIRONMENT_SUFFIX.name, ""),
            identity::or(identity, "role", Role::Primary.as_str()),
        )
    }

    /// A profile the stack made itself (it has a role name) is left out: given in the
    /// configuration, it would read as the user's, which the stack never deletes.
    fn config_from_state(mut state: schema::State) -> schema::State {
        if state.instance_role_name.is_value() {
            state.instance_profile_arn = Value::Null;
        }
        state
    }
}
