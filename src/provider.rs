//! The `tap` provider: its configuration block, and the AWS clients and default tags it hands to
//! every resource once Terraform has configured it.

mod config;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{Diagnostics, Provider};

use crate::aws::clients::AwsClients;
use crate::aws::error::{Context, PartResult};
use crate::aws::identity;
use crate::data_sources::failover_readiness::FailoverReadiness;
use crate::resources::converged::Converged;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::SessionTable;
use crate::resources::trading_failover::TradingFailover;
use crate::server::served::{Catalog, ServedDataSource, ServedResource};
use crate::tags::Tags;

/// What resources need from the provider configuration.
pub struct Configured {
    pub clients: AwsClients,
    pub default_tags: Tags,
    /// Learned when the credentials were checked; None when that check was skipped.
    pub account_id: Option<String>,
}

impl Configured {
    /// The account the credentials belong to: the one learned at configure, else asked of STS.
    pub async fn account_id(&self) -> PartResult<String> {
        if let Some(account) = &self.account_id {
            return Ok(account.clone());
        }
        let identity = self
            .clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .context(|| "reading the AWS account ID (STS GetCallerIdentity)".into())?;
        Ok(identity.account().unwrap_or_default().to_owned())
    }
}

/// Filled by `configure`, which Terraform calls after the resources were listed.
#[derive(Default, Clone)]
pub struct Shared(Arc<OnceLock<Configured>>);

impl Shared {
    /// The configured provider, or an error diagnostic if Terraform has not configured it.
    pub fn get(&self, diags: &mut Diagnostics) -> Option<&Configured> {
        let configured = self.0.get();
        if configured.is_none() {
            diags.root_error(
                "Provider not configured",
                "The tap provider was used before Terraform configured it. This is a bug in the provider or in the Terraform version calling it.",
            );
        }
        configured
    }
}

#[derive(Default)]
pub struct TapProvider {
    shared: Shared,
}

#[async_trait]
impl Provider for TapProvider {
    type Config<'a> = config::ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(config::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        config::validate(diags, &config);
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()> {
        let settings = config::settings(diags, &config)?;
        let clients = AwsClients::load(&settings).await;
        let account_id = if config::validates_credentials(&config) {
            let role = settings.assume_role.as_ref().map(|r| r.role_arn.as_str());
            match identity::check(&clients, role).await {
                Ok(identity) => Some(identity.account),
                Err(problem) => {
                    diags.root_error(problem.summary, problem.detail);
                    return None;
                }
            }
        } else {
            None
        };
        let configured = Configured {
            clients,
            default_tags: config::default_tags(&config),
            account_id,
        };
        // Terraform configures a provider process once; a second call keeps the first clients.
        let _ = self.shared.0.set(configured);
        Some(())
    }
}

impl TapProvider {
    /// The provider with its resources, data sources, actions and list resources, as the plugin server serves them.
    pub fn catalog(self) -> Catalog {
        let resource = |r: Box<dyn ServedResource>| r;
        let resources = [
            (
                "dns_failover",
                resource(Box::new(Converged::<DnsFailover>::new(self.shared.clone()))),
            ),
            (
                "session_table",
                resource(Box::new(Converged::<SessionTable>::new(
                    self.shared.clone(),
                ))),
            ),
            (
                "regional_stack",
                resource(Box::new(Converged::<RegionalStack>::new(
                    self.shared.clone(),
                ))),
            ),
            (
                "trading_failover",
                resource(Box::new(Converged::<TradingFailover>::new(
                    self.shared.clone(),
                ))),
            ),
        ];
        let data_sources: [(&str, Box<dyn ServedDataSource>); 1] = [(
            "failover_readiness",
            Box::new(FailoverReadiness::new(self.shared.clone())),
        )];
        Catalog {
            resources: typed(resources),
            data_sources: typed(data_sources),
            actions: crate::actions::catalog(&self.shared),
            list_resources: crate::list_resources::catalog(&self.shared),
            provider: Box::new(self),
        }
    }
}

/// Full type names: the provider's name, an underscore, the short name.
fn typed<T, const N: usize>(items: [(&str, T); N]) -> BTreeMap<String, T> {
    items
        .into_iter()
        .map(|(name, item)| (format!("tap_{name}"), item))
        .collect()
}
