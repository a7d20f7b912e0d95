//! What the server serves: the provider's configuration, its resources, data sources and
//! actions, behind object-safe traits that speak the wire's `DynamicValue`. Blanket implementations
//! decode requests into the serde types of tf-provider's typed `Provider`, `Resource` and
//! `DataSource` traits and encode their answers, so resources keep implementing those. A
//! resource also says what import needs: what identifies its objects, and the configuration of
//! an imported one (`Importable`).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, DataSource, Diagnostics, Provider, Resource};
use tokio_util::sync::CancellationToken;

use super::proto::tfplugin6::DynamicValue;
use super::values::{decode, decode_private, encode, encode_private, explained, is_null, null};
use crate::actions::{Action, Progress};
use crate::list_resources::ListResource;
use crate::tf::identity::{Identity, IdentitySchema};

/// Everything the provider offers, by full type name (`tap_session_table`).
pub struct Catalog {
    pub provider: Box<dyn ServedProvider>,
    pub resources: BTreeMap<String, Box<dyn ServedResource>>,
    pub data_sources: BTreeMap<String, Box<dyn ServedDataSource>>,
    /// Shared with the task that runs an invocation while the server streams its progress.
    pub actions: BTreeMap<String, Arc<dyn ServedAction>>,
    /// Named like the resource types whose objects they find.
    pub list_resources: BTreeMap<String, ListResource>,
}

#[async_trait]
pub trait ServedProvider: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>);
    async fn configure(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Option<&DynamicValue>,
    );
}

#[async_trait]
impl<T: Provider> ServedProvider for T {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        Provider::schema(self, diags)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>) {
        let Some(config) = decode(diags, "provider configuration", config) else {
            return;
        };
        let result = Provider::validate(self, diags, config).await;
        explained(diags, result, "Validating the provider configuration");
    }

    async fn configure(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Option<&DynamicValue>,
    ) {
        let Some(config) = decode(diags, "provider configuration", config) else {
            return;
        };
        let result = Provider::configure(self, diags, terraform_version, config).await;
        explained(diags, result, "Configuring the provider");
    }
}

/// A state (or planned state), the private data Terraform keeps beside it, and the identity of
/// the object it describes (None while that is unknown or the object is gone).
pub struct Stored {
    pub state: DynamicValue,
    pub private: Vec<u8>,
    pub identity: Option<DynamicValue>,
}

pub struct Planned {
    pub stored: Stored,
    pub requires_replace: Vec<AttributePath>,
}

/// The values of a PlanResourceChange or ApplyResourceChange request: `after` is the proposed
/// state when planning and the planned state when applying.
pub struct Change<'r> {
    pub prior: &'r DynamicValue,
    pub after: &'r DynamicValue,
    pub config: &'r DynamicValue,
    pub private: &'r [u8],
}

/// What identifies a resource's objects (Terraform keeps it beside the state and imports by
/// it), and what configuration an imported object's state stands for.
#[async_trait]
pub trait Importable: Resource {
    fn identity_schema(&self) -> IdentitySchema;
    /// The identity of the object `state` describes; None while some of it is unknown.
    fn identity(&self, diags: &mut Diagnostics, state: &Self::State<'_>) -> Option<Identity>;
    /// The import ID of the object `identity` names, or an error saying why there is none.
    async fn import_id(&self, diags: &mut Diagnostics, identity: &Identity) -> Option<String>;
    /// `state` with the values the provider chose itself cleared, as a configuration that would
    /// leave it to choose them again (read-only attributes are cleared by the server).
    fn config_from_state<'a>(&self, state: Self::State<'a>) -> Self::State<'a>;
}

#[async_trait]
pub trait ServedResource: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    fn identity_schema(&self) -> IdentitySchema;
    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>);
    /// A null state when the object is gone.
    async fn read(
        &self,
        diags: &mut Diagnostics,
        state: Option<&DynamicValue>,
        private: &[u8],
    ) -> Option<Stored>;
    async fn plan_create(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored>;
    async fn plan_update(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Planned>;
    async fn plan_destroy(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Vec<u8>>;
    async fn create(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored>;
    async fn update(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored>;
    /// Some(()) only when the object is gone; otherwise an error says why, which keeps it in
    /// Terraform's state.
    async fn destroy(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<()>;
    /// By import ID, or by identity when Terraform sends one (the ID is then empty).
    async fn import(
        &self,
        diags: &mut Diagnostics,
        id: String,
        identity: Option<&DynamicValue>,
    ) -> Option<Stored>;
    /// The configuration `state` stands for, as a JSON object of the schema's type.
    fn config_from_state(
        &self,
        diags: &mut Diagnostics,
        state: &DynamicValue,
    ) -> Option<serde_json::Value>;
}

/// tf-provider's resources take provider metadata; we declare no `provider_meta` schema, so
/// Terraform never sends any and they get null.
fn no_meta<'a, M: serde::Deserialize<'a>>(diags: &mut Diagnostics) -> Option<M> {
    decode(diags, "provider metadata", None)
}

fn stored<'a, T: Importable>(
    resource: &T,
    diags: &mut Diagnostics,
    state: &T::State<'a>,
    private: &T::PrivateState<'a>,
) -> Option<Stored> {
    let identity = match resource.identity(diags, state) {
        Some(identity) => Some(encode(diags, &identity)?),
        None => None,
    };
    Some(Stored {
        state: encode(diags, state)?,
        private: encode_private(diags, private)?,
        identity,
    })
}

#[async_trait]
impl<T: Importable> ServedResource for T {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        Resource::schema(self, diags)
    }

    fn identity_schema(&self) -> IdentitySchema {
        Importable::identity_schema(self)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>) {
        let Some(config) = decode(diags, "configuration", config) else {
            return;
        };
        let result = Resource::validate(self, diags, config).await;
        explained(diags, result, "Validating the configuration");
    }

    async fn read(
        &self,
        diags: &mut Diagnostics,
        state: Option<&DynamicValue>,
        private: &[u8],
    ) -> Option<Stored> {
        let state = decode(diags, "current state", state)?;
        let private = decode_private(diags, private)?;
        let meta = no_meta(diags)?;
        match Resource::read(self, diags, state, private, meta).await {
            Some((state, private)) => stored(self, diags, &state, &private),
            // Gone, unless an error says the read itself failed.
            None if diags.errors.is_empty() => Some(Stored {
                state: null(),
                private: Vec::new(),
                identity: None,
            }),
            None => None,
        }
    }

    async fn plan_create(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored> {
        let proposed = decode(diags, "proposed new state", Some(change.after))?;
        let config = decode(diags, "configuration", Some(change.config))?;
        let meta = no_meta(diags)?;
        let result = Resource::plan_create(self, diags, proposed, config, meta).await;
        let (state, private) = explained(diags, result, "Planning the create")?;
        stored(self, diags, &state, &private)
    }

    async fn plan_update(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Planned> {
        let prior = decode(diags, "prior state", Some(change.prior))?;
        let proposed = decode(diags, "proposed new state", Some(change.after))?;
        let config = decode(diags, "configuration", Some(change.config))?;
        let private = decode_private(diags, change.private)?;
        let meta = no_meta(diags)?;
        let result =
            Resource::plan_update(self, diags, prior, proposed, config, private, meta).await;
        let (state, private, requires_replace) = explained(diags, result, "Planning the update")?;
        Some(Planned {
            stored: stored(self, diags, &state, &private)?,
            requires_replace,
        })
    }

    async fn plan_destroy(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Vec<u8>> {
        let prior = decode(diags, "prior state", Some(change.prior))?;
        let private = decode_private(diags, change.private)?;
        let meta = no_meta(diags)?;
        let result = Resource::plan_destroy(self, diags, prior, private, meta).await;
        let private = explained(diags, result, "Planning the destroy")?;
        encode_private(diags, &private)
    }

    async fn create(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored> {
        let planned = decode(diags, "planned state", Some(change.after))?;
        let config = decode(diags, "configuration", Some(change.config))?;
        let private = decode_private(diags, change.private)?;
        let meta = no_meta(diags)?;
        let result = Resource::create(self, diags, planned, config, private, meta).await;
        let (state, private) = explained(diags, result, "Creating")?;
        stored(self, diags, &state, &private)
    }

    async fn update(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<Stored> {
        let prior = decode(diags, "prior state", Some(change.prior))?;
        let planned = decode(diags, "planned state", Some(change.after))?;
        let config = decode(diags, "configuration", Some(change.config))?;
        let private = decode_private(diags, change.private)?;
        let meta = no_meta(diags)?;
        let result = Resource::update(self, diags, prior, planned, config, private, meta).await;
        let (state, private) = explained(diags, result, "Updating")?;
        stored(self, diags, &state, &private)
    }

    async fn destroy(&self, diags: &mut Diagnostics, change: Change<'_>) -> Option<()> {
        let prior = decode(diags, "prior state", Some(change.prior))?;
        let private = decode_private(diags, change.private)?;
        let meta = no_meta(diags)?;
        let result = Resource::destroy(self, diags, prior, private, meta).await;
        explained(diags, result, "Destroying")
    }

    async fn import(
        &self,
        diags: &mut Diagnostics,
        id: String,
        identity: Option<&DynamicValue>,
    ) -> Option<Stored> {
        let id = if is_null(identity) {
            id
        } else {
            let identity = decode(diags, "identity", identity)?;
            self.import_id(diags, &identity).await?
        };
        let result = Resource::import(self, diags, id).await;
        let (state, private) = explained(diags, result, "Importing")?;
        stored(self, diags, &state, &private)
    }

    fn config_from_state(
        &self,
        diags: &mut Diagnostics,
        state: &DynamicValue,
    ) -> Option<serde_json::Value> {
        let state = decode(diags, "state", Some(state))?;
        let config = encode(diags, &Importable::config_from_state(self, state))?;
        // A state is wholly known, so its msgpack reads as plain JSON values.
        decode(diags, "generated configuration", Some(&config))
    }
}

#[async_trait]
pub trait ServedDataSource: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>);
    async fn read(
        &self,
        diags: &mut Diagnostics,
        config: Option<&DynamicValue>,
    ) -> Option<DynamicValue>;
}

#[async_trait]
impl<T: DataSource> ServedDataSource for T {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        DataSource::schema(self, diags)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>) {
        let Some(config) = decode(diags, "configuration", config) else {
            return;
        };
        let result = DataSource::validate(self, diags, config).await;
        explained(diags, result, "Validating the configuration");
    }

    async fn read(
        &self,
        diags: &mut Diagnostics,
        config: Option<&DynamicValue>,
    ) -> Option<DynamicValue> {
        let config = decode(diags, "configuration", config)?;
        let meta = no_meta(diags)?;
        let result = DataSource::read(self, diags, config, meta).await;
        let state = explained(diags, result, "Reading the data source")?;
        encode(diags, &state)
    }
}

#[async_trait]
pub trait ServedAction: Send + Sync {
    fn schema(&self) -> Schema;
    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>);
    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: Option<&DynamicValue>,
        progress: &Progress,
        cancel: &CancellationToken,
    );
}

#[async_trait]
impl<T: Action> ServedAction for T {
    fn schema(&self) -> Schema {
        Action::schema(self)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Option<&DynamicValue>) {
        if let Some(config) = decode(diags, "action configuration", config) {
            Action::validate(self, diags, config).await;
        }
    }

    async fn invoke(
        &self,
        diags: &mut Diagnostics,
        config: Option<&DynamicValue>,
        progress: &Progress,
        cancel: &CancellationToken,
    ) {
        if let Some(config) = decode(diags, "action configuration", config) {
            Action::invoke(self, diags, config, progress, cancel).await;
        }
    }
}
