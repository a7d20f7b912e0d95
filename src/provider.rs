//! The `tap` provider: its configuration block (schema, validation), `configure`, which fills
//! [`Shared`] with what every resource needs, and the registration of the resources and data
//! sources.

mod config;

use std::collections::BTreeMap;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{Diagnostics, Provider};

use crate::aws::clients::AwsClients;
use crate::aws::identity;
use crate::configured::{Configured, Shared};
use crate::data_sources::failover_readiness::FailoverReadiness;
use crate::resources::converged::Converged;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::SessionTable;
use crate::resources::trading_failover::TradingFailover;
use crate::server::served::{Catalog, ServedDataSource, ServedResource};

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
        self.shared.fill(configured);
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
