//! The Terraform side every resource shares. A resource describes how to plan, converge, read
//! and delete its parts (a `Convergent`); `Converged` turns that into tf-provider's `Resource`:
//! create and update both converge AWS to the plan and read back what AWS holds, so a failed
//! or interrupted apply resumes on the next one, and state never claims more than AWS has.

use std::marker::PhantomData;
use std::time::Duration;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tf_provider::schema::Schema;
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, AttributePathStep, Diagnostics, Resource};

use crate::aws::error::{Cause, PartError};
use crate::aws::identity::refused_in;
use crate::configured::{Configured, Shared};
use crate::server::served::Importable;
use crate::tags::Tags;
use crate::tf::diag::invalid;
use crate::tf::duration;
use crate::tf::identity::{self, Identity, IdentityAttribute, IdentitySchema, ACCOUNT_ID};
use crate::tf::timeouts::{self, Operation, TimeoutDefaults, Timeouts};

#[async_trait]
pub trait Convergent: Send + Sync + 'static {
    type State: Serialize + DeserializeOwned + Clone + Default + Send + Sync;
    /// The plan with every value known.
    type Desired: Send + Sync;

    /// The resource type, for diagnostics (`tap_session_table`).
    const TYPE: &'static str;
    const TIMEOUTS: TimeoutDefaults;

    fn schema() -> Schema;
    fn validate(diags: &mut Diagnostics, config: &Self::State);
    /// Planned state and the attributes that force replacement.
    fn plan(
        config: &Self::State,
        prior: Option<&Self::State>,
        default_tags: &Tags,
    ) -> (Self::State, Vec<AttributePath>);
    /// What a replacement loses that "forces replacement" alone does not say, as warnings on the
    /// attributes that force it.
    fn replace_warnings(_replace: &[AttributePath]) -> Vec<(AttributePath, String)> {
        Vec::new()
    }

    /// What the plan refuses although the configuration is valid, knowing the prior state
    /// (`None` on create) and what forces replacement: errors on attributes.
    fn plan_refusals(
        _prior: Option<&Self::State>,
        _planned: &Self::State,
        _replace: &[AttributePath],
    ) -> Vec<(AttributePath, String)> {
        Vec::new()
    }

    /// What an update does that the plan alone does not say, as warnings on attributes.
    fn plan_warnings(_prior: &Self::State, _planned: &Self::State) -> Vec<(AttributePath, String)> {
        Vec::new()
    }
    fn desired(state: &Self::State, default_tags: &Tags) -> Option<Self::Desired>;
    /// The regions the configuration names, each with its attribute: a region that refuses the
    /// credentials is reported on the attribute that chose it.
    fn regions(_want: &Self::Desired) -> Vec<(String, AttributePath)> {
        Vec::new()
    }

    /// What an update converges to: `desired` of the planned state, unless the resource can do
    /// less knowing the prior state.
    fn desired_update(
        _prior: &Self::State,
        planned: &Self::State,
        default_tags: &Tags,
    ) -> Option<Self::Desired> {
        Self::desired(planned, default_tags)
    }
    fn timeouts(state: &Self::State) -> &Value<Timeouts>;

    async fn converge(
        cfg: &Configured,
        want: &Self::Desired,
        timeout: Duration,
    ) -> Result<(), PartError>;
    /// What AWS holds, or `None` if the resource is gone.
    async fn observe(
        cfg: &Configured,
        want: &Self::Desired,
        prior: &Self::State,
    ) -> Result<Option<Self::State>, PartError>;
    async fn delete(
        cfg: &Configured,
        want: &Self::Desired,
        timeout: Duration,
    ) -> Result<(), PartError>;
    /// The state of an existing object named by an import ID; the error explains the ID format.
    async fn import(cfg: &Configured, id: &str) -> Result<Option<Self::State>, PartError>;

    /// What identifies an object besides its account (`crate::tf::identity`).
    const IDENTITY: &'static [IdentityAttribute];
    /// The identity (without the account) of the object `state` describes; None while unknown.
    fn identity(state: &Self::State) -> Option<Identity>;
    /// The import ID of the object `identity` names: the same object `import` finds. The
    /// identity holds every required attribute.
    fn import_id(identity: &Identity) -> String;
    /// The configuration an imported `state` stands for: the values the provider chose itself
    /// (not its defaults) cleared, so that a generated configuration leaves them to it again.
    fn config_from_state(state: Self::State) -> Self::State {
        state
    }
}

pub struct Converged<P> {
    shared: Shared,
    part: PhantomData<P>,
}

impl<P> Converged<P> {
    pub fn new(shared: Shared) -> Self {
        Converged {
            shared,
            part: PhantomData,
        }
    }
}

fn report<P: Convergent>(diags: &mut Diagnostics, err: &PartError) {
    let (summary, detail) = err.diagnostic(P::TYPE);
    diags.root_error(summary, detail);
}

/// The attribute an error is about: for a setting AWS cannot honour in a region, that setting
/// beside the attribute naming the region (`instance_type`, `standby.instance_type`); for a
/// region's refusal of the credentials, the attribute that named the region. The error says
/// which region when the refused call was the region's first (`AwsError::in_region`); otherwise
/// each region the configuration names is asked (`refused_in`, on this error path only), and
/// the error is explained as the one that refuses.
async fn blame<P: Convergent>(
    cfg: &Configured,
    want: &P::Desired,
    err: PartError,
) -> (PartError, Option<AttributePath>) {
    if let Cause::Setting {
        attribute, region, ..
    } = &err.cause
    {
        let path = P::regions(want)
            .into_iter()
            .find(|(named, _)| named == region)
            .and_then(|(_, path)| beside(path, attribute));
        return (err, path);
    }
    if !err.is_region_refused() {
        return (err, None);
    }
    let regions = P::regions(want);
    if let Some((_, path)) = regions.iter().find(|(region, _)| err.refused_by(region)) {
        return (err, Some(path.clone()));
    }
    for (region, path) in regions {
        if refused_in(&cfg.clients, &region).await.is_some() {
            return (err.in_region(&region), Some(path));
        }
    }
    (err, None)
}

/// `attribute` in the block that holds the attribute at `path` (`primary.region` ->
/// `primary.instance_type`); none when `path` ends in a list index.
fn beside(mut path: AttributePath, attribute: &'static str) -> Option<AttributePath> {
    match path.steps.pop() {
        Some(AttributePathStep::Attribute(_)) => Some(path.attribute(attribute)),
        _ => None,
    }
}

/// Reports `P::plan_refusals` as errors; whether the plan may go on (nothing refused).
fn refuse<P: Convergent>(
    diags: &mut Diagnostics,
    prior: Option<&P::State>,
    planned: &P::State,
    replace: &[AttributePath],
) -> bool {
    let refusals = P::plan_refusals(prior, planned, replace);
    let clear = refusals.is_empty();
    for (path, detail) in refusals {
        invalid(diags, path, detail);
    }
    clear
}

/// The error, on the attribute that named the region when a region refused the credentials
/// (`blame`), else on the resource. A wait that ran out names the timeout it ran out of
/// (`within`): the wait itself only knew the budget left when it started, which is less than
/// what the user configured.
fn report_blamed<P: Convergent>(
    diags: &mut Diagnostics,
    (err, path): (PartError, Option<AttributePath>),
    within: Option<(Operation, Duration)>,
) {
    let (summary, mut detail) = err.diagnostic(P::TYPE);
    if let (Cause::Timeout { .. }, Some((op, timeout))) = (&err.cause, within) {
        detail.push_str(&format!(
            " (`timeouts.{}` is {})",
            op.key(),
            duration::display(timeout)
        ));
    }
    match path {
        Some(path) => diags.error(summary, detail, path),
        None => diags.root_error(summary, detail),
    }
}

fn unknown_at_apply<P: Convergent>(diags: &mut Diagnostics) {
    diags.root_error(
        format!("{}: values still unknown at apply", P::TYPE),
        "Terraform passed unknown values to apply; this is a bug in the provider.",
    );
}

impl<P: Convergent> Converged<P> {
    async fn apply(
        &self,
        diags: &mut Diagnostics,
        prior: Option<&P::State>,
        planned: P::State,
        op: Operation,
    ) -> Option<P::State> {
        let cfg = self.shared.get(diags)?;
        let want = match prior {
            Some(prior) => P::desired_update(prior, &planned, &cfg.default_tags),
            None => P::desired(&planned, &cfg.default_tags),
        };
        let Some(want) = want else {
            unknown_at_apply::<P>(diags);
            return None;
        };
        let timeout = timeouts::get(P::timeouts(&planned), op, P::TIMEOUTS);
        let converged = P::converge(cfg, &want, timeout).await;
        let refused = converged.as_ref().is_err_and(PartError::is_region_refused);
        if let Err(err) = converged {
            let blamed = blame::<P>(cfg, &want, err).await;
            report_blamed::<P>(diags, blamed, Some((op, timeout)));
        }
        // Whatever happened, state records what exists, so nothing is orphaned.
        match P::observe(cfg, &want, &planned).await {
            Ok(observed) => observed,
            Err(err) => {
                // A region that refused the apply refuses its read-back too: said once, by the
                // apply's diagnostic, which explains the refusal.
                if !(err.is_region_refused() && refused) {
                    report::<P>(diags, &err);
                }
                None
            }
        }
    }
}

#[async_trait]
impl<P: Convergent> Resource for Converged<P> {
    type State<'a> = P::State;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(P::schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: P::State) -> Option<()> {
        P::validate(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: P::State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(P::State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let Some(want) = P::desired(&state, &cfg.default_tags) else {
            return Some((state, private_state));
        };
        match P::observe(cfg, &want, &state).await {
            Ok(Some(observed)) => Some((observed, private_state)),
            Ok(None) => {
                tracing::warn!("{} is gone from AWS; planning to create it again", P::TYPE);
                None
            }
            Err(err) => {
                // State is kept: a refresh that cannot read says so and forgets nothing.
                let blamed = blame::<P>(cfg, &want, err).await;
                report_blamed::<P>(diags, blamed, None);
                Some((state, private_state))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        _proposed: P::State,
        config: P::State,
        _meta: ValueEmpty,
    ) -> Option<(P::State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        let (planned, _) = P::plan(&config, None, &cfg.default_tags);
        refuse::<P>(diags, None, &planned, &[]).then(|| (planned, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: P::State,
        _proposed: P::State,
        config: P::State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(P::State, ValueEmpty, Vec<AttributePath>)> {
        let cfg = self.shared.get(diags)?;
        let (planned, replace) = P::plan(&config, Some(&prior), &cfg.default_tags);
        if !refuse::<P>(diags, Some(&prior), &planned, &replace) {
            return None;
        }
        if replace.is_empty() {
            for (path, detail) in P::plan_warnings(&prior, &planned) {
                diags.warning(format!("{}: what this update does", P::TYPE), detail, path);
            }
        }
        for (path, detail) in P::replace_warnings(&replace) {
            diags.warning(
                format!("{}: what this replacement loses", P::TYPE),
                detail,
                path,
            );
        }
        Some((planned, private_state, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: P::State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(private_state)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: P::State,
        _config: P::State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(P::State, ValueEmpty)> {
        self.apply(diags, None, planned, Operation::Create)
            .await
            .map(|state| (state, private_state))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: P::State,
        planned: P::State,
        _config: P::State,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(P::State, ValueEmpty)> {
        self.apply(diags, Some(&prior), planned, Operation::Update)
            .await
            .map(|state| (state, private_state))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: P::State,
        _private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let cfg = self.shared.get(diags)?;
        let Some(want) = P::desired(&prior, &cfg.default_tags) else {
            unknown_at_apply::<P>(diags);
            return None;
        };
        let timeout = timeouts::get(P::timeouts(&prior), Operation::Delete, P::TIMEOUTS);
        match P::delete(cfg, &want, timeout).await {
            Ok(()) => Some(()),
            Err(err) => {
                // The error diagnostic is what keeps the object in state.
                let blamed = blame::<P>(cfg, &want, err).await;
                report_blamed::<P>(diags, blamed, Some((Operation::Delete, timeout)));
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(P::State, ValueEmpty)> {
        let cfg = self.shared.get(diags)?;
        match P::import(cfg, &id).await {
            Ok(Some(state)) => Some((state, ValueEmpty::default())),
            Ok(None) => {
                diags.root_error(
                    format!("Cannot import {}", P::TYPE),
                    format!("Nothing found in AWS for import ID \"{id}\"."),
                );
                None
            }
            Err(err) => {
                report::<P>(diags, &err);
                None
            }
        }
    }
}

#[async_trait]
impl<P: Convergent> Importable for Converged<P> {
    fn identity_schema(&self) -> IdentitySchema {
        identity::schema(P::IDENTITY)
    }

    /// The account is the one learned when the credentials were checked; with that check
    /// skipped it is left null rather than asking STS on every read.
    fn identity(&self, diags: &mut Diagnostics, state: &P::State) -> Option<Identity> {
        let cfg = self.shared.get(diags)?;
        let mut identity = P::identity(state)?;
        let account = cfg.account_id.clone().map_or(Value::Null, Value::Value);
        identity.insert(ACCOUNT_ID.to_owned(), account);
        Some(identity)
    }

    async fn import_id(&self, diags: &mut Diagnostics, identity: &Identity) -> Option<String> {
        let cfg = self.shared.get(diags)?;
        let summary = format!("Cannot import {} by identity", P::TYPE);
        let missing = identity::missing(&self.identity_schema(), identity);
        if !missing.is_empty() {
            diags.root_error(
                summary,
                format!("The identity has no {}.", missing.join(", ")),
            );
            return None;
        }
        if let Some(wanted) = identity::get(identity, ACCOUNT_ID) {
            let ours = match cfg.account_id().await {
                Ok(ours) => ours,
                Err(err) => {
                    report::<P>(diags, &err);
                    return None;
                }
            };
            if wanted != ours {
                diags.root_error(
                    summary,
                    format!("The identity names AWS account {wanted}; the provider's credentials are for account {ours}."),
                );
                return None;
            }
        }
        Some(P::import_id(identity))
    }

    fn config_from_state<'a>(&self, state: Self::State<'a>) -> Self::State<'a> {
        P::config_from_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_is_reported_beside_the_region_that_names_it() {
        assert_eq!(
            beside(AttributePath::new("region"), "instance_type"),
            Some(AttributePath::new("instance_type"))
        );
        assert_eq!(
            beside(
                AttributePath::new("standby").attribute("region"),
                "instance_type"
            ),
            Some(AttributePath::new("standby").attribute("instance_type"))
        );
        assert_eq!(
            beside(AttributePath::new("replica_regions").index(0), "x"),
            None
        );
    }
}
