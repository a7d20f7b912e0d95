//! The `tfplugin6.Provider` service: each RPC decodes its request, hands it to the provider's
//! configuration, resources, data sources or actions (`served`), and answers with their
//! diagnostics. Failures become error diagnostics; nothing here panics on what a client sends.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use futures::{stream, Stream, StreamExt};
use tf_provider::schema::Schema;
use tf_provider::Diagnostics;
use tokio::sync::oneshot;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::generated_config::without_read_only;
use super::proto::tfplugin6 as tf;
use super::proto::tfplugin6::provider_server::Provider;
use super::schema::{identity_schema, schema};
use super::served::{Catalog, Change, ServedAction, ServedDataSource, ServedResource, Stored};
use super::values::{attribute_path, decode, diagnostics, encode, is_null, null};
use crate::actions::Progress;
use crate::aws::wait;
use crate::list_resources::{self, Filter, ListResource};
use crate::tf::identity::IdentitySchema;

pub struct ProviderService {
    catalog: Catalog,
    /// Schemas are fixed for the life of the process: computed once, with their diagnostics.
    schemas: Schemas,
    /// Fired by StopProvider: running actions and resource applies end their waits.
    stopping: CancellationToken,
}

/// A server stream of events, or of errors Terraform shows as diagnostics.
type Events<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

struct Schemas {
    provider: Option<Schema>,
    resources: BTreeMap<String, Schema>,
    identities: BTreeMap<String, IdentitySchema>,
    data_sources: BTreeMap<String, Schema>,
    actions: BTreeMap<String, Schema>,
    list_resources: BTreeMap<String, Schema>,
    diags: Diagnostics,
}

impl Schemas {
    fn of(catalog: &Catalog) -> Schemas {
        let mut diags = Diagnostics::default();
        let provider = catalog.provider.schema(&mut diags);
        let resources = catalog
            .resources
            .iter()
            .filter_map(|(name, r)| Some((name.clone(), r.schema(&mut diags)?)))
            .collect();
        let identities = (catalog.resources.iter())
            .map(|(name, r)| (name.clone(), r.identity_schema()))
            .collect();
        let data_sources = catalog
            .data_sources
            .iter()
            .filter_map(|(name, d)| Some((name.clone(), d.schema(&mut diags)?)))
            .collect();
        let actions = (catalog.actions.iter())
            .map(|(name, a)| (name.clone(), a.schema()))
            .collect();
        let list_resources = (catalog.list_resources.iter())
            .map(|(name, l)| (name.clone(), l.schema()))
            .collect();
        Schemas {
            provider,
            resources,
            identities,
            data_sources,
            actions,
            list_resources,
            diags,
        }
    }
}

impl ProviderService {
    pub fn new(catalog: Catalog) -> Self {
        let schemas = Schemas::of(&catalog);
        ProviderService {
            catalog,
            schemas,
            stopping: CancellationToken::new(),
        }
    }

    fn resource(&self, diags: &mut Diagnostics, name: &str) -> Option<&dyn ServedResource> {
        let found = self.catalog.resources.get(name).map(|r| &**r);
        if found.is_none() {
            unknown_type(diags, "resource", name);
        }
        found
    }

    fn data_source(&self, diags: &mut Diagnostics, name: &str) -> Option<&dyn ServedDataSource> {
        let found = self.catalog.data_sources.get(name).map(|r| &**r);
        if found.is_none() {
            unknown_type(diags, "data source", name);
        }
        found
    }

    fn list_resource(&self, diags: &mut Diagnostics, name: &str) -> Option<&ListResource> {
        let found = self.catalog.list_resources.get(name);
        if found.is_none() {
            unknown_type(diags, "list resource", name);
        }
        found
    }

    /// The events of a listing: one per object found (with its state when `with_objects`, read
    /// by importing it by its identity), at most `limit`; any diagnostics in a last event.
    async fn listed(
        &self,
        diags: &mut Diagnostics,
        request: tf::list_resource::Request,
    ) -> Vec<tf::list_resource::Event> {
        let Some(list) = self.list_resource(diags, &request.type_name) else {
            return Vec::new();
        };
        let Some(filter) = decode::<Filter>(diags, "list configuration", request.config.as_ref())
        else {
            return Vec::new();
        };
        let Some(found) = list.list(diags, &filter).await else {
            return Vec::new();
        };
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let mut events = Vec::new();
        for found in found.into_iter().take(limit) {
            let Some(identity) = encode(diags, &found.identity) else {
                break;
            };
            let resource_object = if request.include_resource_object {
                let Some(resource) = self.resource(diags, &request.type_name) else {
                    break;
                };
                match resource.import(diags, String::new(), Some(&identity)).await {
                    Some(imported) => Some(imported.state),
                    None => break,
                }
            } else {
                None
            };
            events.push(tf::list_resource::Event {
                identity: identity_data(Some(identity)),
                display_name: found.display_name,
                resource_object,
                diagnostic: Vec::new(),
            });
        }
        events
    }

    fn action(&self, diags: &mut Diagnostics, name: &str) -> Option<Arc<dyn ServedAction>> {
        let found = self.catalog.actions.get(name).cloned();
        if found.is_none() {
            unknown_type(diags, "action", name);
        }
        found
    }
}

fn unknown_type(diags: &mut Diagnostics, kind: &str, name: &str) {
    diags.root_error(
        format!("Unknown {kind} type {name}"),
        format!("The tap provider has no {kind} type named \"{name}\"."),
    );
}

/// What this server supports beyond the 6.0 core, as the protocol asks servers to say. Resource
/// identity, list resources and actions have no capability: clients learn them from the
/// schemas. Moving state between resource types is not served.
fn capabilities() -> tf::ServerCapabilities {
    tf::ServerCapabilities {
        // Resources see their destroy at plan time.
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
        generate_resource_config: true,
    }
}

fn split(
    stored: Option<Stored>,
) -> (
    Option<tf::DynamicValue>,
    Vec<u8>,
    Option<tf::ResourceIdentityData>,
) {
    match stored {
        Some(Stored {
            state,
            private,
            identity,
        }) => (Some(state), private, identity_data(identity)),
        None => (None, Vec::new(), None),
    }
}

fn identity_data(identity: Option<tf::DynamicValue>) -> Option<tf::ResourceIdentityData> {
    identity.map(|data| tf::ResourceIdentityData {
        identity_data: Some(data),
    })
}

/// Stored JSON (state or identity) of `type_name` passed through when written at the version
/// we serve, as no schema or identity has changed version yet; any other version is refused.
fn unchanged_version(
    diags: &mut Diagnostics,
    what: &str,
    type_name: &str,
    stored: i64,
    current: Option<i64>,
    json: Vec<u8>,
) -> Option<tf::DynamicValue> {
    let summary = format!("Cannot upgrade the {what} of {type_name}");
    match current {
        None => unknown_type(diags, "resource", type_name),
        Some(_) if json.is_empty() => diags.root_error(
            summary,
            format!("The {what} is in the legacy flatmap format, which this provider never wrote."),
        ),
        Some(current) if current != stored => diags.root_error(
            summary,
            format!("The {what} was written with version {stored}; this provider knows only version {current}."),
        ),
        Some(_) => {
            return Some(tf::DynamicValue {
                msgpack: Vec::new(),
                json,
            })
        }
    }
    None
}

/// A resource's stored state at the served version: an earlier version's brought there one step
/// at a time (`resources::upgrades`), else as `unchanged_version` has it.
fn upgraded_state(
    diags: &mut Diagnostics,
    type_name: &str,
    stored: i64,
    current: Option<i64>,
    json: Vec<u8>,
) -> Option<tf::DynamicValue> {
    let Some(current) = current.filter(|&c| stored < c && !json.is_empty()) else {
        return unchanged_version(diags, "state", type_name, stored, current, json);
    };
    let upgraded = serde_json::from_slice(&json)
        .map_err(|e| format!("the stored state is not JSON: {e}"))
        .and_then(|state| {
            (stored..current).try_fold(state, |state, version| {
                crate::resources::upgrades::step(type_name, version, state)
            })
        })
        .and_then(|state| serde_json::to_vec(&state).map_err(|e| e.to_string()));
    match upgraded {
        Ok(json) => Some(tf::DynamicValue {
            msgpack: Vec::new(),
            json,
        }),
        Err(why) => {
            diags.root_error(
                format!("Cannot upgrade the state of {type_name}"),
                format!("The state was written with version {stored}; this provider serves version {current}: {why}."),
            );
            None
        }
    }
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl Provider for ProviderService {
    async fn get_metadata(
        &self,
        _request: Request<tf::get_metadata::Request>,
    ) -> Answer<tf::get_metadata::Response> {
        Ok(Response::new(tf::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: diagnostics(self.schemas.diags.clone()),
            data_sources: (self.schemas.data_sources.keys())
                .map(|type_name| tf::get_metadata::DataSourceMetadata {
                    type_name: type_name.clone(),
                })
                .collect(),
            resources: (self.schemas.resources.keys())
                .map(|type_name| tf::get_metadata::ResourceMetadata {
                    type_name: type_name.clone(),
                })
                .collect(),
            list_resources: (self.schemas.list_resources.keys())
                .map(|type_name| tf::get_metadata::ListResourceMetadata {
                    type_name: type_name.clone(),
                })
                .collect(),
            actions: (self.schemas.actions.keys())
                .map(|type_name| tf::get_metadata::ActionMetadata {
                    type_name: type_name.clone(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<tf::get_provider_schema::Request>,
    ) -> Answer<tf::get_provider_schema::Response> {
        let all = |schemas: &BTreeMap<String, Schema>| {
            (schemas.iter())
                .map(|(name, s)| (name.clone(), schema(s)))
                .collect()
        };
        Ok(Response::new(tf::get_provider_schema::Response {
            provider: self.schemas.provider.as_ref().map(schema),
            resource_schemas: all(&self.schemas.resources),
            data_source_schemas: all(&self.schemas.data_sources),
            diagnostics: diagnostics(self.schemas.diags.clone()),
            server_capabilities: Some(capabilities()),
            list_resource_schemas: all(&self.schemas.list_resources),
            action_schemas: (self.schemas.actions.iter())
                .map(|(name, s)| {
                    let action = tf::ActionSchema {
                        schema: Some(schema(s)),
                    };
                    (name.clone(), action)
                })
                .collect(),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<tf::get_functions::Request>,
    ) -> Answer<tf::get_functions::Response> {
        Ok(Response::new(tf::get_functions::Response::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<tf::validate_provider_config::Request>,
    ) -> Answer<tf::validate_provider_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        (self.catalog.provider)
            .validate(&mut diags, request.config.as_ref())
            .await;
        Ok(Response::new(tf::validate_provider_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<tf::configure_provider::Request>,
    ) -> Answer<tf::configure_provider::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        (self.catalog.provider)
            .configure(
                &mut diags,
                request.terraform_version,
                request.config.as_ref(),
            )
            .await;
        Ok(Response::new(tf::configure_provider::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<tf::validate_resource_config::Request>,
    ) -> Answer<tf::validate_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(resource) = self.resource(&mut diags, &request.type_name) {
            resource.validate(&mut diags, request.config.as_ref()).await;
        }
        Ok(Response::new(tf::validate_resource_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<tf::validate_data_resource_config::Request>,
    ) -> Answer<tf::validate_data_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(data_source) = self.data_source(&mut diags, &request.type_name) {
            data_source
                .validate(&mut diags, request.config.as_ref())
                .await;
        }
        Ok(Response::new(tf::validate_data_resource_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<tf::upgrade_resource_state::Request>,
    ) -> Answer<tf::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let current = (self.schemas.resources.get(&request.type_name)).map(|s| s.version);
        let upgraded = upgraded_state(
            &mut diags,
            &request.type_name,
            request.version,
            current,
            request.raw_state.map(|raw| raw.json).unwrap_or_default(),
        );
        Ok(Response::new(tf::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<tf::get_resource_identity_schemas::Request>,
    ) -> Answer<tf::get_resource_identity_schemas::Response> {
        Ok(Response::new(tf::get_resource_identity_schemas::Response {
            identity_schemas: (self.schemas.identities.iter())
                .map(|(name, identity)| (name.clone(), identity_schema(identity)))
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<tf::upgrade_resource_identity::Request>,
    ) -> Answer<tf::upgrade_resource_identity::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let current = (self.schemas.identities.get(&request.type_name)).map(|i| i.version);
        let upgraded = unchanged_version(
            &mut diags,
            "identity",
            &request.type_name,
            request.version,
            current,
            request.raw_identity.map(|raw| raw.json).unwrap_or_default(),
        );
        Ok(Response::new(tf::upgrade_resource_identity::Response {
            upgraded_identity: identity_data(upgraded),
            diagnostics: diagnostics(diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<tf::read_resource::Request>,
    ) -> Answer<tf::read_resource::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let read = match self.resource(&mut diags, &request.type_name) {
            Some(resource) => {
                (resource.read(&mut diags, request.current_state.as_ref(), &request.private)).await
            }
            None => None,
        };
        let (new_state, private, new_identity) = split(read);
        Ok(Response::new(tf::read_resource::Response {
            new_state,
            diagnostics: diagnostics(diags),
            private,
            new_identity,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<tf::plan_resource_change::Request>,
    ) -> Answer<tf::plan_resource_change::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let (prior, proposed, config) = (
            request.prior_state.unwrap_or_else(null),
            request.proposed_new_state.unwrap_or_else(null),
            request.config.unwrap_or_else(null),
        );
        let change = Change {
            prior: &prior,
            after: &proposed,
            config: &config,
            private: &request.prior_private,
        };
        let mut response = tf::plan_resource_change::Response::default();
        if let Some(resource) = self.resource(&mut diags, &request.type_name) {
            match (is_null(Some(&prior)), is_null(Some(&proposed))) {
                (true, false) => {
                    let planned = resource.plan_create(&mut diags, change).await;
                    (
                        response.planned_state,
                        response.planned_private,
                        response.planned_identity,
                    ) = split(planned);
                }
                (false, false) => {
                    if let Some(planned) = resource.plan_update(&mut diags, change).await {
                        (
                            response.planned_state,
                            response.planned_private,
                            response.planned_identity,
                        ) = split(Some(planned.stored));
                        response.requires_replace = (planned.requires_replace.into_iter())
                            .filter_map(attribute_path)
                            .collect();
                    }
                }
                (false, true) => {
                    response.planned_state = Some(null());
                    if let Some(private) = resource.plan_destroy(&mut diags, change).await {
                        response.planned_private = private;
                    }
                }
                (true, true) => diags.root_error(
                    format!("Nothing to plan for {}", request.type_name),
                    "Terraform asked to plan a change from no object to no object.",
                ),
            }
        }
        response.diagnostics = diagnostics(diags);
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<tf::apply_resource_change::Request>,
    ) -> Answer<tf::apply_resource_change::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let (prior, planned, config) = (
            request.prior_state.unwrap_or_else(null),
            request.planned_state.unwrap_or_else(null),
            request.config.unwrap_or_else(null),
        );
        let change = Change {
            prior: &prior,
            after: &planned,
            config: &config,
            private: &request.planned_private,
        };
        let mut response = tf::apply_resource_change::Response::default();
        if let Some(resource) = self.resource(&mut diags, &request.type_name) {
            let applying = async {
                match (is_null(Some(&prior)), is_null(Some(&planned))) {
                    (true, false) => {
                        (response.new_state, response.private, response.new_identity) =
                            split(resource.create(&mut diags, change).await);
                    }
                    (false, false) => {
                        (response.new_state, response.private, response.new_identity) =
                            split(resource.update(&mut diags, change).await);
                    }
                    (false, true) => {
                        // With an error, Terraform keeps the prior state whatever we answer.
                        resource.destroy(&mut diags, change).await;
                        response.new_state = Some(null());
                    }
                    (true, true) => diags.root_error(
                        format!("Nothing to apply for {}", request.type_name),
                        "Terraform asked to apply a change from no object to no object.",
                    ),
                }
            };
            // Terraform's stop ends the operation's waits; it still answers with what it made.
            wait::stoppable(&self.stopping, applying).await;
        }
        response.diagnostics = diagnostics(diags);
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<tf::import_resource_state::Request>,
    ) -> Answer<tf::import_resource_state::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let imported = match self.resource(&mut diags, &request.type_name) {
            Some(resource) => {
                let identity = (request.identity.as_ref()).and_then(|i| i.identity_data.as_ref());
                resource.import(&mut diags, request.id, identity).await
            }
            None => None,
        };
        let imported_resources = imported
            .map(|imported| {
                let (state, private, identity) = split(Some(imported));
                tf::import_resource_state::ImportedResource {
                    type_name: request.type_name,
                    state,
                    private,
                    identity,
                }
            })
            .into_iter()
            .collect();
        Ok(Response::new(tf::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn generate_resource_config(
        &self,
        request: Request<tf::generate_resource_config::Request>,
    ) -> Answer<tf::generate_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let schema = self.schemas.resources.get(&request.type_name);
        let config = match (self.resource(&mut diags, &request.type_name), schema) {
            (Some(resource), Some(schema)) => {
                let state = request.state.unwrap_or_else(null);
                match resource.config_from_state(&mut diags, &state) {
                    Some(mut config) => {
                        without_read_only(&schema.block, &mut config);
                        encode(&mut diags, &config)
                    }
                    None => None,
                }
            }
            _ => None,
        };
        Ok(Response::new(tf::generate_resource_config::Response {
            config,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<tf::read_data_source::Request>,
    ) -> Answer<tf::read_data_source::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let state = match self.data_source(&mut diags, &request.type_name) {
            Some(data_source) => data_source.read(&mut diags, request.config.as_ref()).await,
            None => None,
        };
        Ok(Response::new(tf::read_data_source::Response {
            state,
            diagnostics: diagnostics(diags),
        }))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<tf::validate_list_resource_config::Request>,
    ) -> Answer<tf::validate_list_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        if self.list_resource(&mut diags, &request.type_name).is_some() {
            let config = request.config.as_ref();
            if let Some(filter) = decode::<Filter>(&mut diags, "list configuration", config) {
                list_resources::validate(&mut diags, &filter);
            }
        }
        Ok(Response::new(tf::validate_list_resource_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    type ListResourceStream = Events<tf::list_resource::Event>;

    /// An error (the search failed, or an object could not be read) ends the listing: its
    /// event carries the diagnostic, which Terraform shows on the list block.
    async fn list_resource(
        &self,
        request: Request<tf::list_resource::Request>,
    ) -> Answer<Self::ListResourceStream> {
        let mut diags = Diagnostics::default();
        let mut events = self.listed(&mut diags, request.into_inner()).await;
        if !(diags.errors.is_empty() && diags.warnings.is_empty()) {
            events.push(tf::list_resource::Event {
                diagnostic: diagnostics(diags),
                ..Default::default()
            });
        }
        Ok(Response::new(Box::pin(stream::iter(
            events.into_iter().map(Ok),
        ))))
    }

    async fn validate_action_config(
        &self,
        request: Request<tf::validate_action_config::Request>,
    ) -> Answer<tf::validate_action_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(action) = self.action(&mut diags, &request.type_name) {
            action.validate(&mut diags, request.config.as_ref()).await;
        }
        Ok(Response::new(tf::validate_action_config::Response {
            diagnostics: diagnostics(diags),
        }))
    }

    /// Our actions change nothing Terraform plans: planning one checks its configuration again,
    /// now with the values other objects gave it.
    async fn plan_action(
        &self,
        request: Request<tf::plan_action::Request>,
    ) -> Answer<tf::plan_action::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(action) = self.action(&mut diags, &request.action_type) {
            action.validate(&mut diags, request.config.as_ref()).await;
        }
        Ok(Response::new(tf::plan_action::Response {
            diagnostics: diagnostics(diags),
            deferred: None,
        }))
    }

    type InvokeActionStream = Events<tf::invoke_action::Event>;

    /// The action runs in its own task; its progress messages stream out as they are said,
    /// then one completed event carries its diagnostics. Terraform going away (the stream
    /// dropped) or stopping cancels the run.
    async fn invoke_action(
        &self,
        request: Request<tf::invoke_action::Request>,
    ) -> Answer<Self::InvokeActionStream> {
        let request = request.into_inner();
        let mut diags = Diagnostics::default();
        let Some(action) = self.action(&mut diags, &request.action_type) else {
            return Ok(Response::new(Box::pin(stream::iter([Ok(completed(
                diags,
            ))]))));
        };
        let cancel = self.stopping.child_token();
        let (progress, messages) = Progress::channel();
        let (done, finished) = oneshot::channel();
        let run = cancel.clone();
        tokio::spawn(async move {
            let mut diags = Diagnostics::default();
            (action.invoke(&mut diags, request.config.as_ref(), &progress, &run)).await;
            drop(progress);
            let _ = done.send(diags);
        });
        let cancel_when_dropped = cancel.drop_guard();
        let said = UnboundedReceiverStream::new(messages).map(|message| {
            event(tf::invoke_action::event::Type::Progress(
                tf::invoke_action::event::Progress { message },
            ))
        });
        let end = stream::once(async move {
            let diags = finished.await.unwrap_or_else(|_| {
                let mut diags = Diagnostics::default();
                diags.root_error(
                    format!("{} stopped unexpectedly", request.action_type),
                    "The action ended without reporting its outcome; this is a bug in the provider.",
                );
                diags
            });
            drop(cancel_when_dropped);
            completed(diags)
        });
        Ok(Response::new(Box::pin(said.chain(end).map(Ok))))
    }

    /// Terraform's interrupt: in-flight resource operations stop waiting for AWS and fail with
    /// what they created recorded; running actions are told to stop waiting and say what they
    /// left undone.
    /// Terraform then starts nothing new and shuts the plugin down.
    async fn stop_provider(
        &self,
        _request: Request<tf::stop_provider::Request>,
    ) -> Answer<tf::stop_provider::Response> {
        tracing::info!(
            "Terraform is stopping; in-flight operations end their waits and record what they made"
        );
        self.stopping.cancel();
        Ok(Response::new(tf::stop_provider::Response::default()))
    }
}

fn event(kind: tf::invoke_action::event::Type) -> tf::invoke_action::Event {
    tf::invoke_action::Event { r#type: Some(kind) }
}

fn completed(diags: Diagnostics) -> tf::invoke_action::Event {
    event(tf::invoke_action::event::Type::Completed(
        tf::invoke_action::event::Completed {
            diagnostics: diagnostics(diags),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_of_the_served_version_passes_through() {
        let mut diags = Diagnostics::default();
        let json = br#"{"environment_suffix":"prod"}"#.to_vec();
        let upgraded = unchanged_version(&mut diags, "identity", "tap_x", 0, Some(0), json.clone());
        assert_eq!(upgraded.map(|v| v.json), Some(json));
        assert!(diags.errors.is_empty());
    }

    #[test]
    fn an_earlier_state_version_is_upgraded_step_by_step_or_refused() {
        let mut diags = Diagnostics::default();
        let json = br#"{"standby":{"region":"us-east-2"}}"#.to_vec();
        let upgraded = upgraded_state(&mut diags, "tap_dns_failover", 1, Some(2), json.clone())
            .expect("upgraded");
        let state: serde_json::Value = serde_json::from_slice(&upgraded.json).expect("JSON");
        assert_eq!(state["standby"][0]["region"], "us-east-2");
        assert!(diags.errors.is_empty());
        assert!(upgraded_state(&mut diags, "tap_session_table", 0, Some(1), json).is_none());
        assert!(
            diags.errors[0].detail.contains("no upgrade from version 0"),
            "{:?}",
            diags.errors
        );
    }

    #[test]
    fn another_version_an_unknown_type_or_flatmap_is_refused() {
        for (current, json, says) in [
            (Some(1), b"{}".to_vec(), "written with version 0"),
            (None, b"{}".to_vec(), "no resource type named"),
            (Some(0), Vec::new(), "legacy flatmap"),
        ] {
            let mut diags = Diagnostics::default();
            assert!(unchanged_version(&mut diags, "identity", "tap_x", 0, current, json).is_none());
            assert!(diags.errors[0].detail.contains(says), "{:?}", diags.errors);
        }
    }

    /// Says two things, then either ends with a warning or waits to be cancelled.
    struct Talker;

    #[derive(serde::Deserialize)]
    struct Wait {
        wait: bool,
    }

    #[async_trait::async_trait]
    impl crate::actions::Action for Talker {
        type Config = Wait;

        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Default::default(),
            }
        }

        async fn validate(&self, _diags: &mut Diagnostics, _config: Wait) {}

        async fn invoke(
            &self,
            diags: &mut Diagnostics,
            config: Wait,
            progress: &Progress,
            cancel: &CancellationToken,
        ) {
            progress.say("one");
            progress.say("two");
            if config.wait {
                cancel.cancelled().await;
                diags.root_error("cancelled", "");
            } else {
                diags.root_warning("done", "");
            }
        }
    }

    fn service() -> ProviderService {
        let mut catalog = crate::provider::TapProvider::default().catalog();
        catalog.actions = BTreeMap::from([(
            "tap_talker".to_owned(),
            Arc::new(Talker) as Arc<dyn ServedAction>,
        )]);
        ProviderService::new(catalog)
    }

    fn invoke(action: &str, wait: bool) -> Request<tf::invoke_action::Request> {
        let mut diags = Diagnostics::default();
        Request::new(tf::invoke_action::Request {
            action_type: action.to_owned(),
            config: encode(&mut diags, &serde_json::json!({ "wait": wait })),
            client_capabilities: None,
        })
    }

    /// Each event as text: `progress: ...` or `completed: <severity> <summary>, ...`.
    async fn events(stream: <ProviderService as Provider>::InvokeActionStream) -> Vec<String> {
        use tf::invoke_action::event::Type;
        let events: Vec<_> = stream.collect().await;
        (events.into_iter())
            .map(|e| match e.expect("event").r#type.expect("type") {
                Type::Progress(p) => format!("progress: {}", p.message),
                Type::Completed(c) => {
                    let diags: Vec<_> = (c.diagnostics.iter())
                        .map(|d| format!("{} {}", d.severity, d.summary))
                        .collect();
                    format!("completed: {}", diags.join(", "))
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn progress_streams_in_order_then_one_completed_event() {
        let service = service();
        let stream = service.invoke_action(invoke("tap_talker", false)).await;
        let warning = tf::diagnostic::Severity::Warning as i32;
        assert_eq!(
            events(stream.unwrap().into_inner()).await,
            [
                "progress: one".to_owned(),
                "progress: two".to_owned(),
                format!("completed: {warning} done")
            ]
        );
    }

    #[tokio::test]
    async fn stop_provider_cancels_a_running_action() {
        let service = service();
        let stream = service.invoke_action(invoke("tap_talker", true)).await;
        let stream = stream.unwrap().into_inner();
        let collected = tokio::spawn(events(stream));
        let stop = Request::new(tf::stop_provider::Request {});
        service.stop_provider(stop).await.unwrap();
        let error = tf::diagnostic::Severity::Error as i32;
        let said = tokio::time::timeout(std::time::Duration::from_secs(10), collected).await;
        assert_eq!(
            said.expect("the action ended").unwrap().last(),
            Some(&format!("completed: {error} cancelled"))
        );
    }

    #[tokio::test]
    async fn an_unknown_action_completes_with_an_error() {
        let service = service();
        let stream = service.invoke_action(invoke("tap_nothing", false)).await;
        let said = events(stream.unwrap().into_inner()).await;
        let error = tf::diagnostic::Severity::Error as i32;
        assert_eq!(
            said,
            [format!(
                "completed: {error} Unknown action type tap_nothing"
            )]
        );
    }
}
