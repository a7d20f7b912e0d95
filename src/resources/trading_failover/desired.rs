//! What apply converges `tap_trading_failover` to: the planned state with every configured value
//! known, from which each part's own desired state is derived.

use tf_provider::value::Value;

use super::parts::*;
use super::schema::State;
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::schema::Endpoint;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::SessionTable;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::number::Number;
use crate::tf::values::{self, known_map};

/// A part planned from a derived configuration: its planned state (what its read starts from)
/// and its desired state (what its apply converges to).
pub struct Planned<P: Convergent> {
    pub state: P::State,
    pub want: P::Desired,
}

impl<P: Convergent> Planned<P> {
    fn new(config: &P::State, default_tags: &Tags) -> Option<Planned<P>> {
        let (state, _) = P::plan(config, None, default_tags);
        let want = P::desired(&state, default_tags)?;
        Some(Planned { state, want })
    }
}

/// An Auto Scaling minimum and desired capacity other than the configured ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub min: i64,
    pub desired: i64,
}

/// The planned state with every configured value known. Each part's own desired state is
/// derived from it at apply, once what it depends on (the instance profile, the load
/// balancers) exists.
#[derive(Debug, Clone)]
pub struct Desired {
    pub state: State,
    pub default_tags: Tags,
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let want = Desired {
            state: state.clone(),
            default_tags: default_tags.clone(),
        };
        // Every part must be derivable: a placeholder profile and the endpoints' regions are
        // all the parts need to know at this point.
        for role in Role::ALL {
            want.stack(role, "arn:aws:iam::0:instance-profile/x", None)?;
        }
        want.table()?;
        let endpoints = Role::ALL.map(|role| region_of(state, role).as_ref_option().cloned());
        let [Some(_), Some(_)] = endpoints else {
            return None;
        };
        Some(want)
    }

    pub fn suffix(&self) -> &str {
        self.state
            .environment_suffix
            .as_ref_option()
            .map_or("", String::as_str)
    }

    pub fn region(&self, role: Role) -> String {
        region_of(&self.state, role)
            .as_ref_option()
            .cloned()
            .unwrap_or_default()
    }

    pub fn desired_capacity(&self, role: Role) -> i64 {
        region_settings(&self.state, role)
            .desired_capacity
            .as_ref_option()
            .and_then(|n| n.as_i64())
            .unwrap_or(1)
    }

    pub fn standby_active(&self) -> bool {
        self.state
            .active_region
            .as_ref_option()
            .and_then(|active| Role::parse(active))
            == Some(Role::Standby)
    }

    /// The regional stack of `role`, on the shared instance profile, optionally with another
    /// capacity (a planned failover scales the standby up first).
    pub fn stack(
        &self,
        role: Role,
        profile_arn: &str,
        capacity: Option<Capacity>,
    ) -> Option<Planned<RegionalStack>> {
        let mut config = stack_config(&self.state, role);
        config.instance_profile_arn = values::string(profile_arn);
        if let Some(Capacity { min, desired }) = capacity {
            config.min_size = Value::Value(Number::from(min));
            config.desired_capacity = Value::Value(Number::from(desired));
        }
        Planned::new(&config, &self.default_tags)
    }

    pub fn table(&self) -> Option<Planned<SessionTable>> {
        Planned::new(&table_config(&self.state), &self.default_tags)
    }

    pub fn dns(&self, endpoints: [Endpoint; 2]) -> Option<Planned<DnsFailover>> {
        Planned::new(
            &dns_config(&self.state, endpoints.map(Value::Value)),
            &self.default_tags,
        )
    }

    pub fn tags(&self, part: &str, name: &str) -> Tags {
        crate::tags::merge(
            &self.default_tags,
            &crate::tags::Ownership {
                suffix: self.suffix(),
                part,
                name,
                environment: self
                    .state
                    .environment
                    .as_ref_option()
                    .map_or(crate::tags::DEFAULT_ENVIRONMENT, String::as_str),
                failover_role: Role::Primary,
            },
            &known_map(&self.state.tags).unwrap_or_default(),
        )
    }
}
