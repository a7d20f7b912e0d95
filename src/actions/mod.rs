//! Terraform actions (plugin protocol 6.10, Terraform 1.14+): operations a user runs on demand
//! with `terraform apply -invoke=action.<type>.<name>` or ties to a resource's lifecycle with
//! `action_trigger`. An action has a configuration schema, checks its configuration, and runs,
//! telling the user what it does as it goes. The server (src/server) serves every action in
//! `catalog`.

mod cancel;
mod failover;
mod failover_drill;
mod readiness_check;
mod switch;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tf_provider::schema::Schema;
use tf_provider::Diagnostics;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::configured::Shared;
use crate::server::served::ServedAction;

/// An action, typed by its configuration (the serde shape of its schema's block).
#[async_trait]
pub trait Action: Send + Sync + 'static {
    /// Every field a `Value`: at validation and plan time parts may still be unknown.
    type Config: DeserializeOwned + Send;

    fn schema(&self) -> Schema;
    /// Checks what is known of the configuration; Terraform calls it at validate and at plan.
    async fn validate(&self, diags: &mut Diagnostics, config: Self::Config);
    /// Runs the action on a wholly known configuration. Errors in `diags` fail the run; each
    /// `progress` message is shown to the user as it is said. When `cancel` fires (Terraform
    /// stops, or stops listening), the action ends its waits and says what it left undone.
    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: Self::Config,
        progress: &Progress,
        cancel: &CancellationToken,
    );
}

/// Where an action's progress messages go: the user's terminal, through the server's stream.
#[derive(Clone)]
pub struct Progress(mpsc::UnboundedSender<String>);

impl Progress {
    /// A sink and the messages said into it, which end when every clone of the sink is gone.
    pub fn channel() -> (Progress, mpsc::UnboundedReceiver<String>) {
        let (sender, messages) = mpsc::unbounded_channel();
        (Progress(sender), messages)
    }

    /// Nobody listening (Terraform went away) is not the action's problem: `cancel` tells it.
    pub fn say(&self, message: impl Into<String>) {
        let _ = self.0.send(message.into());
    }
}

/// Every action the provider offers, by full type name, as the server serves them. Actions
/// share the provider's configuration (`Shared`), as resources do.
pub fn catalog(shared: &Shared) -> BTreeMap<String, Arc<dyn ServedAction>> {
    let actions: [(&str, Arc<dyn ServedAction>); 3] = [
        (
            "failover",
            Arc::new(failover::Failover::new(shared.clone())),
        ),
        (
            "failover_drill",
            Arc::new(failover_drill::FailoverDrill::new(shared.clone())),
        ),
        (
            "readiness_check",
            Arc::new(readiness_check::ReadinessCheck::new(shared.clone())),
        ),
    ];
    actions
        .into_iter()
        .map(|(name, action)| (format!("tap_{name}"), action))
        .collect()
}
