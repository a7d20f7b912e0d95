//! Plan-time diagnostics for `tap_session_table`.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::desired::{EVENTUAL, STRONG};
use super::schema::State;
use crate::aws::session_table::{mrsc_region_set, MRSC_REGION_SETS};
use crate::naming;
use crate::regions;
use crate::resources::shared_checks;
use crate::role::Role;
use crate::tf::diag::invalid;

pub fn validate(diags: &mut Diagnostics, config: &State) {
    shared_checks::validate(
        diags,
        shared_checks::Common {
            environment_suffix: &config.environment_suffix,
            region: &config.region,
            environment: &config.environment,
            tags: &config.tags,
            timeouts: &config.timeouts,
        },
    );
    if let Value::Value(name) = &config.name {
        if let Err(err) = naming::validate_table_name(name) {
            invalid(diags, AttributePath::new("name"), err);
        }
    }
    if let Value::Value(items) = &config.replica_regions {
        let home = config
            .region
            .as_ref_option()
            .map_or(Role::Primary.default_region(), String::as_str);
        for (i, item) in items.iter().enumerate() {
            let Value::Value(region) = item else { continue };
            let path = AttributePath::new("replica_regions").index(i as i64);
            let seen_before = items[..i]
                .iter()
                .any(|other| other.as_ref_option() == Some(region));
            if !regions::is_known(region) {
                invalid(diags, path, regions::unknown_region_detail(region));
            } else if region == home && !config.region.is_unknown() {
                invalid(diags, path, format!("\"{region}\" is the table's home region; a replica must be in another region."));
            } else if seen_before {
                invalid(
                    diags,
                    path,
                    format!("\"{region}\" is listed twice; each region holds at most one replica."),
                );
            }
        }
    }
    validate_consistency(diags, config);
}

/// Multi-Region strong consistency (MRSC) as DynamoDB accepts it (design/issue-20-mrsc.md):
/// exactly three Regions, each one DynamoDB supports for MRSC, the witness apart from the others.
fn validate_consistency(diags: &mut Diagnostics, config: &State) {
    let strong = match config.consistency.as_ref_option().map(String::as_str) {
        None | Some(EVENTUAL) => false,
        Some(STRONG) => true,
        Some(other) => {
            invalid(
                diags,
                AttributePath::new("consistency"),
                format!("\"{other}\" is not a consistency: use \"{EVENTUAL}\" or \"{STRONG}\"."),
            );
            return;
        }
    };
    let witness = config.witness_region.as_ref_option();
    if !strong {
        if witness.is_some() && !config.consistency.is_unknown() {
            invalid(
                diags,
                AttributePath::new("witness_region"),
                format!("A witness belongs to a strongly consistent (MRSC) global table only: set consistency = \"{STRONG}\" or remove witness_region."),
            );
        }
        return;
    }
    let home = config
        .region
        .as_ref_option()
        .map_or(Role::Primary.default_region(), String::as_str);
    let unsupported = |region: &str| {
        format!(
            "DynamoDB refuses \"{region}\" in a strongly consistent global table (\"Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG\"); MRSC Region sets: {}.",
            region_sets()
        )
    };
    let supported = |region: &str| !regions::is_known(region) || mrsc_region_set(region).is_some();
    // All three in the home region's set, once each is one DynamoDB supports.
    let home_set = mrsc_region_set(home).filter(|_| !config.region.is_unknown());
    let other_set = |region: &str| {
        let set = mrsc_region_set(region);
        (home_set.is_some() && set.is_some() && set != home_set).then(|| {
            format!(
                "\"{region}\" is in the {} Region set and the home region \"{home}\" in the {}: a strongly consistent (MRSC) global table keeps its replicas and witness within one Region set ({}).",
                set.unwrap_or_default(),
                home_set.unwrap_or_default(),
                region_sets()
            )
        })
    };
    if !config.region.is_unknown() && !supported(home) {
        invalid(diags, AttributePath::new("region"), unsupported(home));
    }
    let replicas: Option<Vec<String>> = match &config.replica_regions {
        Value::Value(items) => items.iter().map(|r| r.as_ref_option().cloned()).collect(),
        Value::Null => Some(vec![String::new()]), // the default: one replica
        Value::Unknown => None,
    };
    if let Some(replicas) = &replicas {
        for (i, region) in replicas.iter().enumerate() {
            let path = AttributePath::new("replica_regions").index(i as i64);
            if !region.is_empty() && !supported(region) {
                invalid(diags, path, unsupported(region));
            } else if let Some(detail) = other_set(region) {
                invalid(diags, path, detail);
            }
        }
    }
    if let Some(region) = witness {
        let path = AttributePath::new("witness_region");
        if !regions::is_known(region) {
            invalid(diags, path, regions::unknown_region_detail(region));
        } else if !supported(region) {
            invalid(diags, path, unsupported(region));
        } else if let Some(detail) = other_set(region) {
            invalid(diags, path, detail);
        } else if region == home || replicas.iter().flatten().any(|r| r == region) {
            invalid(diags, path, format!("\"{region}\" already holds the table or a replica; the witness must be in a third Region (DynamoDB: \"Cannot target multiple regions with the same action\")."));
        }
    }
    if let (Some(replicas), false) = (&replicas, config.witness_region.is_unknown()) {
        let count = 1 + replicas.len() + usize::from(witness.is_some());
        if count != 3 {
            invalid(
                diags,
                AttributePath::new("replica_regions"),
                format!("A strongly consistent (MRSC) global table spans exactly three Regions, the home region plus two replicas, or one replica and witness_region; this one spans {count} (DynamoDB: \"Unsupported replica count for global tables with MultiRegionConsistency set to STRONG\")."),
            );
        }
    }
}

/// "US: us-east-1, us-east-2, us-west-2; EU: …".
fn region_sets() -> String {
    MRSC_REGION_SETS
        .iter()
        .map(|(set, regions)| format!("{set}: {}", regions.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{config, error_paths};
    use super::*;
    use crate::tags::Tags;
    use crate::tf::timeouts::Timeouts;
    use crate::tf::values;

    #[test]
    fn bad_input_is_refused_on_its_attribute() {
        let mut c = config("Prod_1");
        c.name = values::string("x");
        c.region = values::string("us-east-9");
        c.environment = values::string("");
        c.tags = values::map(&Tags::from([("tap:stack".into(), "x".into())]));
        c.timeouts = Value::Value(Timeouts {
            create: values::string("forever"),
            ..Default::default()
        });
        assert_eq!(
            error_paths(&c),
            [
                "environment_suffix",
                "region",
                "environment",
                "tags",
                "timeouts[0].create",
                "name"
            ]
        );

        let mut c = config("prod");
        c.replica_regions = values::list(&[
            "us-east-1".into(),
            "us-west-2".into(),
            "us-west-2".into(),
            "moon-1".into(),
        ]);
        assert_eq!(
            error_paths(&c),
            [
                "replica_regions[0]",
                "replica_regions[2]",
                "replica_regions[3]"
            ]
        );
    }

    fn strong(replicas: &[&str], witness: Option<&str>) -> State {
        let mut c = config("prod");
        c.consistency = values::string(STRONG);
        c.replica_regions =
            values::list(&replicas.iter().map(|r| r.to_string()).collect::<Vec<_>>());
        c.witness_region = witness.map_or(Value::Null, values::string);
        c
    }

    #[test]
    fn a_strong_table_spans_three_mrsc_regions() {
        assert!(error_paths(&strong(&["us-east-2"], Some("us-west-2"))).is_empty());
        assert!(error_paths(&strong(&["us-east-2", "us-west-2"], None)).is_empty());
        // One Region set for all three (API_CreateGlobalTableWitnessGroupMemberAction).
        assert_eq!(
            error_paths(&strong(&["eu-west-1"], Some("us-east-2"))),
            ["replica_regions[0]"]
        );
        assert_eq!(
            error_paths(&strong(&["us-east-2"], Some("eu-west-1"))),
            ["witness_region"]
        );
        let mut c = strong(&["eu-central-1"], Some("eu-west-2"));
        c.region = values::string("eu-west-1");
        assert!(error_paths(&c).is_empty());
        assert_eq!(
            error_paths(&strong(&["us-east-2"], None)),
            ["replica_regions"]
        );
        assert_eq!(
            error_paths(&strong(&["us-east-2", "us-west-2"], Some("eu-west-1"))),
            ["witness_region", "replica_regions"]
        );
        assert_eq!(
            error_paths(&strong(&["us-west-1"], Some("us-east-2"))),
            ["replica_regions[0]"]
        );
        assert_eq!(
            error_paths(&strong(&["us-east-2"], Some("sa-east-1"))),
            ["witness_region"]
        );
        assert_eq!(
            error_paths(&strong(&["us-east-2"], Some("us-east-1"))),
            ["witness_region"]
        );
        let mut c = strong(&["us-east-2"], Some("us-west-2"));
        c.region = values::string("us-west-1");
        assert_eq!(error_paths(&c), ["region"]);

        let mut c = config("prod");
        c.witness_region = values::string("us-west-2");
        assert_eq!(
            error_paths(&c),
            ["witness_region"],
            "a witness needs strong"
        );
        c.consistency = values::string("linearizable");
        assert_eq!(error_paths(&c), ["consistency"]);
    }
}
