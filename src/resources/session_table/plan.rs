//! Plan mapping for `tap_session_table`: defaults, and what an update replaces.

use tf_provider::value::Value;
use tf_provider::AttributePath;

use super::desired::{Desired, EVENTUAL, STRONG};
use super::schema::State;
use crate::aws::session_table as table;
use crate::naming;
use crate::role::Role;
use crate::tags::{Tags, DEFAULT_ENVIRONMENT};
use crate::tf::values::{self, known_list};

/// The planned state: the configuration with defaults filled in. With a prior state, the
/// computed attributes carry over unless the table is replaced; the second value lists the
/// attributes that force replacement.
pub fn plan(
    config: &State,
    prior: Option<&State>,
    default_tags: &Tags,
) -> (State, Vec<AttributePath>) {
    let mut planned = config.clone();
    if planned.name.is_null() {
        planned.name = config
            .environment_suffix
            .as_ref()
            .map(|s| naming::session_table(s));
    }
    if planned.region.is_null() {
        planned.region = values::string(Role::Primary.default_region());
    }
    if planned.replica_regions.is_null() {
        planned.replica_regions = planned.region.as_ref().map(|home| {
            let standby = if home == Role::Standby.default_region() {
                Role::Primary.default_region()
            } else {
                Role::Standby.default_region()
            };
            vec![values::string(standby)]
        });
    }
    planned.consistency = config.consistency.clone().or(values::string(EVENTUAL));
    planned.allow_data_loss = config.allow_data_loss.or(Value::Value(false));
    planned.point_in_time_recovery = config.point_in_time_recovery.or(Value::Value(true));
    planned.deletion_protection = config.deletion_protection.or(Value::Value(false));
    planned.environment = config
        .environment
        .clone()
        .or(values::string(DEFAULT_ENVIRONMENT));
    // Fixed by the spec; planning them makes out-of-band changes visible as a diff.
    planned.billing_mode = values::string(table::BILLING_MODE);
    planned.stream_view_type = values::string(table::STREAM_VIEW_TYPE);
    planned.server_side_encryption = Value::Value(true);
    planned.tags_all = tags_all(&planned, default_tags).map_or(Value::Unknown, |t| values::map(&t));
    planned.replica_settings = match (
        known_list(&planned.replica_regions),
        planned.point_in_time_recovery.as_ref_option(),
        planned.deletion_protection.as_ref_option(),
    ) {
        (Some(regions), Some(&pitr), Some(&protection)) => values::map(&replica_settings(
            regions.iter().map(|r| (r.as_str(), pitr, protection)),
        )),
        _ => Value::Unknown,
    };

    let replace: Vec<AttributePath> = match prior {
        Some(prior) => replaced(prior, &planned),
        None => Vec::new(),
    };
    match prior {
        Some(prior) if replace.is_empty() => {
            planned.id = prior.id.clone();
            planned.arn = prior.arn.clone();
            planned.stream_arn = prior.stream_arn.clone();
            planned.replica_arns = if prior.replica_regions == planned.replica_regions {
                prior.replica_arns.clone()
            } else {
                Value::Unknown
            };
        }
        _ => {
            planned.id = planned.name.clone();
            planned.arn = Value::Unknown;
            planned.stream_arn = Value::Unknown;
            planned.replica_arns = Value::Unknown;
        }
    }
    (planned, replace)
}

/// `replica_settings`: (region, point-in-time recovery, deletion protection) of each replica,
/// keyed `<region>.<setting>`, so drift on one replica shows in the plan under its region.
pub fn replica_settings<'a>(replicas: impl IntoIterator<Item = (&'a str, bool, bool)>) -> Tags {
    replicas
        .into_iter()
        .flat_map(|(region, pitr, protection)| {
            [
                (format!("{region}.point_in_time_recovery"), pitr.to_string()),
                (
                    format!("{region}.deletion_protection"),
                    protection.to_string(),
                ),
            ]
        })
        .collect()
}

/// The attributes whose change replaces the table: its name and home, its consistency mode
/// (DynamoDB cannot change it), and the Regions of a strong table (DynamoDB freezes an MRSC
/// group's membership: "Cannot add replicas to a global table with strong MultiRegionConsistency").
fn replaced(prior: &State, planned: &State) -> Vec<AttributePath> {
    let strong = prior.consistency.as_ref_option().map(String::as_str) == Some(STRONG);
    let mut replace: Vec<&str> = Vec::new();
    if changed(&prior.name, &planned.name) {
        replace.push("name");
    }
    if changed(&prior.region, &planned.region) {
        replace.push("region");
    }
    // A state written before `consistency` existed holds an eventual table.
    let prior_consistency = prior.consistency.clone().or(values::string(EVENTUAL));
    if changed(&prior_consistency, &planned.consistency) {
        replace.push("consistency");
    }
    if strong
        && (planned.replica_regions.is_unknown()
            || prior.replica_regions != planned.replica_regions)
    {
        replace.push("replica_regions");
    }
    if strong
        && (planned.witness_region.is_unknown() || prior.witness_region != planned.witness_region)
    {
        replace.push("witness_region");
    }
    replace.into_iter().map(AttributePath::new).collect()
}

/// What DynamoDB cannot change in place, so that the table is replaced, empty.
const LOSES_ITEMS: &str = "DynamoDB cannot change a global table's consistency mode, nor the Regions of a strongly consistent (MRSC) one: the table is deleted in every Region and made again, empty. Every item it holds (all sessions) is lost.";

/// The paths among `replace` whose replacement loses the table's items, each with why.
fn losing_items(replace: &[AttributePath]) -> Vec<(AttributePath, String)> {
    replace
        .iter()
        .filter(|path| {
            ["consistency", "replica_regions", "witness_region"]
                .iter()
                .any(|attr| **path == AttributePath::new(*attr))
        })
        .map(|path| (path.clone(), LOSES_ITEMS.to_owned()))
        .collect()
}

/// What a replacement loses that the plan's "forces replacement" does not say.
pub fn replace_warnings(replace: &[AttributePath]) -> Vec<(AttributePath, String)> {
    losing_items(replace)
}

/// A replacement that loses the items, unless `allow_data_loss` lets it.
pub fn refusals(planned: &State, replace: &[AttributePath]) -> Vec<(AttributePath, String)> {
    if planned.allow_data_loss == Value::Value(true) {
        return Vec::new();
    }
    losing_items(replace)
        .into_iter()
        .map(|(path, why)| {
            (
                path,
                format!("{why} Set `allow_data_loss = true` to replace it all the same, or keep the table as it is."),
            )
        })
        .collect()
}

/// A change only counts when both sides are known; unknown means "decided at apply".
fn changed(prior: &Value<String>, planned: &Value<String>) -> bool {
    planned.is_unknown() || prior != planned
}

/// Every tag the home table will carry, if everything it depends on is known.
pub fn tags_all(state: &State, default_tags: &Tags) -> Option<Tags> {
    let desired = Desired::from_state(state, default_tags)?;
    Some(desired.home_tags())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{config, error_paths};
    use super::*;
    use crate::tf::values::known_map;
    use std::collections::BTreeMap;

    #[test]
    fn defaults_follow_the_spec() {
        let (planned, replace) = plan(&config("prod"), None, &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(planned.name, values::string("trading-sessions-prod"));
        assert_eq!(planned.id, planned.name);
        assert_eq!(planned.region, values::string("us-east-1"));
        assert_eq!(planned.replica_regions, values::list(&["us-east-2".into()]));
        assert_eq!(planned.point_in_time_recovery, Value::Value(true));
        assert_eq!(planned.deletion_protection, Value::Value(false));
        assert_eq!(
            known_map(&planned.replica_settings),
            Some(Tags::from([
                ("us-east-2.deletion_protection".into(), "false".into()),
                ("us-east-2.point_in_time_recovery".into(), "true".into()),
            ])),
            "each replica holds both settings for itself"
        );
        let tags = known_map(&planned.tags_all).unwrap();
        assert_eq!(tags["Environment"], "Production");
        assert_eq!(tags["FailoverRole"], "Primary");
        assert_eq!(tags["Name"], "trading-sessions-prod");
        assert!(planned.arn.is_unknown() && planned.replica_arns.is_unknown());
    }

    #[test]
    fn standby_home_gets_the_primary_as_replica() {
        let mut c = config("prod");
        c.region = values::string("us-east-2");
        let (planned, _) = plan(&c, None, &Tags::new());
        assert_eq!(planned.replica_regions, values::list(&["us-east-1".into()]));
    }

    #[test]
    fn unknown_inputs_make_dependent_values_unknown() {
        let c = State {
            environment_suffix: Value::Unknown,
            ..Default::default()
        };
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(planned.name.is_unknown() && planned.tags_all.is_unknown());
        assert!(error_paths(&c).is_empty());
    }

    #[test]
    fn renaming_replaces_and_replicas_update_in_place() {
        let (prior, _) = plan(&config("prod"), None, &Tags::new());
        let mut prior = prior;
        prior.arn = values::string("arn:aws:dynamodb:us-east-1:1:table/trading-sessions-prod");
        prior.replica_arns = values::map(&Tags::new());

        let mut more_replicas = config("prod");
        more_replicas.replica_regions = values::list(&["us-east-2".into(), "us-west-2".into()]);
        let (planned, replace) = plan(&more_replicas, Some(&prior), &Tags::new());
        assert!(replace.is_empty());
        assert_eq!(planned.arn, prior.arn);
        assert!(planned.replica_arns.is_unknown());

        let (planned, replace) = plan(&config("dev"), Some(&prior), &Tags::new());
        assert_eq!(replace, vec![AttributePath::new("name")]);
        assert!(planned.arn.is_unknown());
    }

    #[test]
    fn consistency_and_strong_regions_replace_with_a_warning() {
        let (prior, _) = plan(&config("prod"), None, &Tags::new());
        assert_eq!(prior.consistency, values::string("eventual"));
        let mut strong = config("prod");
        strong.consistency = values::string("strong");
        strong.replica_regions = values::list(&["us-east-2".into()]);
        strong.witness_region = values::string("us-west-2");
        let (planned, replace) = plan(&strong, Some(&prior), &Tags::new());
        assert_eq!(replace, vec![AttributePath::new("consistency")]);
        assert_eq!(replace_warnings(&replace).len(), 1);

        let (prior, _) = plan(&strong, None, &Tags::new());
        let (_, replace) = plan(&strong, Some(&prior), &Tags::new());
        assert!(replace.is_empty(), "re-plans empty");
        let mut moved = strong.clone();
        moved.witness_region = values::string("eu-west-1");
        let (_, replace) = plan(&moved, Some(&prior), &Tags::new());
        assert_eq!(replace, vec![AttributePath::new("witness_region")]);
        assert!(planned.arn.is_unknown());
        assert!(replace_warnings(&[AttributePath::new("name")]).is_empty());
    }

    /// A replacement that loses the items is refused on its attribute unless `allow_data_loss`;
    /// one that does not (a new name) never is.
    #[test]
    fn a_replacement_losing_the_items_needs_allow_data_loss() {
        let (planned, _) = plan(&config("prod"), None, &Tags::new());
        assert_eq!(planned.allow_data_loss, Value::Value(false));
        let losing = [AttributePath::new("consistency")];
        let refused = refusals(&planned, &losing);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, losing[0]);
        assert!(refused[0].1.contains("allow_data_loss = true"));
        assert!(refusals(&planned, &[AttributePath::new("name")]).is_empty());
        let mut allowed = config("prod");
        allowed.allow_data_loss = Value::Value(true);
        let (planned, _) = plan(&allowed, None, &Tags::new());
        assert!(refusals(&planned, &losing).is_empty());
    }

    #[test]
    fn removing_an_attribute_returns_to_its_default() {
        let mut c = config("prod");
        c.deletion_protection = Value::Value(true);
        let (prior, _) = plan(&c, None, &Tags::new());
        let (planned, _) = plan(&config("prod"), Some(&prior), &Tags::new());
        assert_eq!(planned.deletion_protection, Value::Value(false));
    }

    #[test]
    fn default_tags_are_merged_and_user_tags_win() {
        let mut c = config("prod");
        c.tags = Value::Value(BTreeMap::from([("Team".into(), values::string("fx"))]));
        let defaults = Tags::from([
            ("Team".into(), "core".into()),
            ("CostCenter".into(), "42".into()),
        ]);
        let (planned, _) = plan(&c, None, &defaults);
        let tags = known_map(&planned.tags_all).unwrap();
        assert_eq!(tags["Team"], "fx");
        assert_eq!(tags["CostCenter"], "42");
        assert_eq!(tags[crate::tags::STACK_KEY], "prod");
    }
}
