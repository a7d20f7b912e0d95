//! `tap_session_table`: its state and schema.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{self, Value};

use crate::tf::schema::{
    computed, named, optional, required, string_list, string_map, with_default,
};
use crate::tf::timeouts::{self, TimeoutDefaults, Timeouts};
use crate::tf::values::{StringList, StringMap};

/// hashicorp/aws: table create 30m, update 60m (replicas 30m each), delete 10m. Our delete also
/// removes every replica first, so it gets the replica budget too.
pub const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(30 * 60),
    update: Duration::from_secs(60 * 60),
    delete: Duration::from_secs(30 * 60),
};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub name: Value<String>,
    pub region: Value<String>,
    pub replica_regions: StringList,
    pub consistency: Value<String>,
    pub witness_region: Value<String>,
    pub allow_data_loss: Value<bool>,
    pub point_in_time_recovery: Value<bool>,
    pub deletion_protection: Value<bool>,
    pub environment: Value<String>,
    pub tags: StringMap,
    pub tags_all: StringMap,
    pub arn: Value<String>,
    pub stream_arn: Value<String>,
    pub replica_arns: StringMap,
    pub replica_settings: StringMap,
    pub billing_mode: Value<String>,
    pub stream_view_type: Value<String>,
    pub server_side_encryption: Value<bool>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown(
                "The session store of the failover system: a DynamoDB global table (version 2019.11.21) keyed by `sessionId`, on-demand, encrypted, with a NEW_AND_OLD_IMAGES stream, point-in-time recovery, and replicas in the standby regions.",
            ),
            attributes: named([
                ("id", computed(AttributeType::String, "The table name.")),
                ("environment_suffix", required(AttributeType::String, "Suffix carried by every name, e.g. `prod`: 1–20 lowercase letters, digits and hyphens. It names the table unless `name` is set, so changing it then replaces the table.")),
                ("name", with_default(AttributeType::String, "Table name. Default `trading-sessions-<environment_suffix>`. Changing it replaces the table.")),
                ("region", with_default(AttributeType::String, "Home region of the table. Default `us-east-1`. Changing it replaces the table.")),
                ("replica_regions", with_default(string_list(), "Regions holding a replica. Default `[\"us-east-2\"]` (or `[\"us-east-1\"]` when the home region is `us-east-2`). Updated in place.")),
                ("consistency", with_default(AttributeType::String, "`eventual` (default): multi-Region eventual consistency (MREC), replicas may be added and removed. `strong`: multi-Region strong consistency (MRSC, zero RPO): exactly three Regions, the home region plus two `replica_regions`, or one and `witness_region`, all in one of the Region sets DynamoDB supports for MRSC (US: us-east-1, us-east-2, us-west-2; EU: eu-west-1, eu-west-2, eu-west-3, eu-central-1; AP: ap-northeast-1, ap-northeast-2, ap-northeast-3); writes are slower and a concurrent write to the same item in another Region fails with `ReplicatedWriteConflictException`. DynamoDB cannot convert a table, nor change a strong table's Regions: changing either replaces the table and loses its items, so it needs `allow_data_loss`.")),
                ("witness_region", optional(AttributeType::String, "With `consistency = \"strong\"` and one replica: the Region of the MRSC witness, which holds no table and serves no reads or writes. Changing it replaces the table (`allow_data_loss`).")),
                ("allow_data_loss", with_default(AttributeType::Bool, "Lets a change DynamoDB cannot make in place replace the table, which is deleted in every Region and made again empty, losing every item: a change of `consistency`, or of a strong table's `replica_regions` or `witness_region`. Default `false`: such a change is refused at plan, naming the attribute.")),
                ("point_in_time_recovery", with_default(AttributeType::Bool, "Point-in-time recovery in every region. Default `true`.")),
                ("deletion_protection", with_default(AttributeType::Bool, "Refuse to delete the table while on. Default `false`: the stack is destroyable.")),
                ("environment", with_default(AttributeType::String, "Value of the `Environment` tag. Default `Production`.")),
                ("tags", optional(string_map(), "Tags for the table and its replicas, on top of the provider's `default_tags`.")),
                ("tags_all", computed(string_map(), "Every tag on the table: `default_tags`, `Name`, `Environment`, `FailoverRole`, the ownership tags and `tags`.")),
                ("arn", computed(AttributeType::String, "ARN of the table in its home region.")),
                ("stream_arn", computed(AttributeType::String, "ARN of the table's latest stream.")),
                ("replica_arns", computed(string_map(), "ARN of each replica, by region.")),
                ("replica_settings", computed(string_map(), "What each replica holds for itself (DynamoDB does not propagate it from the home table), as `<region>.point_in_time_recovery` and `<region>.deletion_protection`: set from `point_in_time_recovery` and `deletion_protection`; a change made outside Terraform on a replica shows here and is repaired.")),
                ("billing_mode", computed(AttributeType::String, "Always `PAY_PER_REQUEST`; a change made outside Terraform shows in the plan and is repaired.")),
                ("stream_view_type", computed(AttributeType::String, "Always `NEW_AND_OLD_IMAGES` (global tables replicate through it); drift is repaired.")),
                ("server_side_encryption", computed(AttributeType::Bool, "Always `true`; drift is repaired.")),
]),
            blocks: named([
                ("timeouts", timeouts::block(TIMEOUTS)),
]),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fields_match_schema_attributes() {
        crate::tf::schema::assert_state_matches_schema::<super::State>(&super::schema());
    }
}
