//! Plan-time diagnostics for `tap_session_table`.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::schema::State;
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
}
