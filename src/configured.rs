//! What `configure` hands every resource and data source: the AWS clients, the default tags and
//! the account. The provider fills it once; resources read it. It sits below both, so resources
//! never import the provider that registers them.

use std::sync::{Arc, OnceLock};

use tf_provider::Diagnostics;

use crate::aws::clients::AwsClients;
use crate::aws::error::{Context, PartResult};
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

/// The provider's configuration, shared by every resource and data source: filled by
/// `configure`, which Terraform calls after the resources were listed.
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

    /// Terraform configures a provider process once; a second call keeps the first clients.
    pub fn fill(&self, configured: Configured) {
        let _ = self.0.set(configured);
    }
}
