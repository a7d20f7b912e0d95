//! What apply converges `tap_session_table` to: the planned state with every value known.

use super::schema::State;
use crate::role::Role;
use crate::tags::{self, Ownership, Tags};
use crate::tf::values::{known_list, known_map};
use tf_provider::value::Value;

pub const PART: &str = "session-table";
pub const EVENTUAL: &str = "eventual";
pub const STRONG: &str = "strong";

/// The planned state with every value known: what apply converges AWS to.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub suffix: String,
    pub name: String,
    pub region: String,
    pub replica_regions: Vec<String>,
    /// Multi-Region strong consistency (MRSC) rather than eventual.
    pub strong: bool,
    pub witness_region: Option<String>,
    pub point_in_time_recovery: bool,
    pub deletion_protection: bool,
    pub environment: String,
    pub user_tags: Tags,
    pub default_tags: Tags,
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        Some(Desired {
            suffix: state.environment_suffix.as_ref_option()?.clone(),
            name: state.name.as_ref_option()?.clone(),
            region: state.region.as_ref_option()?.clone(),
            replica_regions: known_list(&state.replica_regions)?,
            strong: state.consistency.as_ref_option()? == STRONG,
            witness_region: match &state.witness_region {
                Value::Unknown => return None,
                other => other.as_ref_option().cloned(),
            },
            point_in_time_recovery: *state.point_in_time_recovery.as_ref_option()?,
            deletion_protection: *state.deletion_protection.as_ref_option()?,
            environment: state.environment.as_ref_option()?.clone(),
            user_tags: known_map(&state.tags)?,
            default_tags: default_tags.clone(),
        })
    }

    fn tags_for(&self, role: Role) -> Tags {
        tags::merge(
            &self.default_tags,
            &Ownership {
                suffix: &self.suffix,
                part: PART,
                name: &self.name,
                environment: &self.environment,
                failover_role: role,
            },
            &self.user_tags,
        )
    }

    pub fn home_tags(&self) -> Tags {
        self.tags_for(Role::Primary)
    }

    pub fn replica_tags(&self) -> Tags {
        self.tags_for(Role::Standby)
    }
}
