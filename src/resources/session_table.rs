//! `tap_session_table`: the DynamoDB global table of sessions, as its own resource.

mod apply;
mod plan;
mod schema;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use crate::aws::error::PartError;
use crate::provider::Shared;
use crate::tf::timeouts::{self, Operation};
use plan::Desired;
use schema::{State, TIMEOUTS};

pub struct SessionTableResource {
    shared: Shared,
}

impl SessionTableResource {
    pub fn new(shared: Shared) -> Self {
        SessionTableResource { shared }
    }
}

fn report(diags: &mut Diagnostics, err: &PartError) {
    diags.root_error(
        format!("tap_session_table: {}", err.action),
        err.to_string(),
    );
}

/// The identity of a table in state: name and home region, when known.
fn identity(state: &State) -> Option<(String, String)> {
    Some((
        state.name.as_ref_option()?.clone(),
        state.region.as_ref_option()?.clone(),
    ))
}

#[async_trait]
impl Resource for SessionTableResource {
    type State<'a> = State;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: State) -> Option<()> {
        plan::validate(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let Some((name, region)) = identity(&state) else {
            return Some((state, private_state));
        };
        match apply::observe(cfg, &name, &region, &state).await {
            Ok(Some(observed)) => Some((observed, private_state)),
            Ok(None) => {
                tracing::warn!(
                    "DynamoDB table {name} in {region} is gone; planning to create it again"
                );
                None
            }
            Err(err) => {
                report(diags, &err);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        _proposed: State,
        config: State,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let (planned, _) = plan::plan(&config, None, &cfg.default_tags);
        Some((planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: State,
        _proposed: State,
        config: State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty, Vec<AttributePath>)> {
        let cfg = self.shared.get(diags)?;
        let (planned, replace) = plan::plan(&config, Some(&prior), &cfg.default_tags);
        Some((planned, private_state, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: State,
        _config: State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let timeout = timeouts::get(&planned.timeouts, Operation::Create, TIMEOUTS);
        self.converge(diags, cfg, planned, timeout)
            .await
            .map(|state| (state, private_state))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: State,
        planned: State,
        _config: State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let timeout = timeouts::get(&planned.timeouts, Operation::Update, TIMEOUTS);
        self.converge(diags, cfg, planned, timeout)
            .await
            .map(|state| (state, private_state))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: State,
        _private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let cfg = self.shared.get(diags)?;
        let Some((name, region)) = identity(&prior) else {
            return Some(());
        };
        let timeout = timeouts::get(&prior.timeouts, Operation::Delete, TIMEOUTS);
        match apply::delete(cfg, &name, &region, timeout).await {
            Ok(()) => Some(()),
            Err(err) => {
                // An error diagnostic is what keeps the object in state (see tf-provider notes).
                report(diags, &err);
                None
            }
        }
    }

    async fn import<'a>(&self, diags: &mut Diagnostics, id: String) -> Option<(State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let (region, name) = match id.split_once('/') {
            Some((region, name)) => (region.to_owned(), name.to_owned()),
            None => (crate::regions::PRIMARY_DEFAULT.to_owned(), id.clone()),
        };
        let prior = State {
            timeouts: Value::Null,
            ..Default::default()
        };
        match apply::observe(cfg, &name, &region, &prior).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(
                    "Cannot import tap_session_table",
                    format!("No DynamoDB table \"{name}\" in {region}. The import ID is the table name, or <region>/<name> for a table outside us-east-1."),
                );
                None
            }
            Err(err) => {
                report(diags, &err);
                None
            }
        }
    }
}

impl SessionTableResource {
    /// Converges AWS to `planned` and reads back what AWS holds. On failure the state still
    /// records the table if it exists, so nothing is orphaned.
    async fn converge(
        &self,
        diags: &mut Diagnostics,
        cfg: &crate::provider::Configured,
        planned: State,
        timeout: std::time::Duration,
    ) -> Option<State> {
        let Some(want) = Desired::from_state(&planned, &cfg.default_tags) else {
            diags.root_error(
                "tap_session_table: values still unknown at apply",
                "Terraform passed unknown values to apply; this is a bug in the provider.",
            );
            return None;
        };
        let result = apply::converge(cfg, &want, timeout).await;
        if let Err(err) = &result {
            report(diags, err);
        }
        match apply::observe(cfg, &want.name, &want.region, &planned).await {
            Ok(observed) => observed,
            Err(err) => {
                report(diags, &err);
                None
            }
        }
    }
}
