//! Plan-time checks every resource makes on the attributes they all have.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::naming;
use crate::regions;
use crate::tags;
use crate::tf::diag::invalid;
use crate::tf::timeouts::{self, Timeouts};
use crate::tf::values::{known_map, StringMap};

/// The attributes every resource has.
pub struct Common<'a> {
    pub environment_suffix: &'a Value<String>,
    pub region: &'a Value<String>,
    pub environment: &'a Value<String>,
    pub tags: &'a StringMap,
    pub timeouts: &'a Value<Timeouts>,
}

pub fn validate(diags: &mut Diagnostics, common: Common<'_>) {
    if let Value::Value(suffix) = common.environment_suffix {
        if let Err(err) = naming::validate_suffix(suffix) {
            invalid(diags, AttributePath::new("environment_suffix"), err);
        }
    }
    if let Value::Value(region) = common.region {
        if !regions::is_known(region) {
            invalid(
                diags,
                AttributePath::new("region"),
                regions::unknown_region_detail(region),
            );
        }
    }
    if let Value::Value(environment) = common.environment {
        if environment.is_empty() || environment.chars().count() > 256 {
            invalid(
                diags,
                AttributePath::new("environment"),
                "environment becomes the Environment tag: 1 to 256 characters.",
            );
        }
    }
    if let Some(user_tags) = known_map(common.tags) {
        if let Err(err) = tags::validate(&user_tags) {
            invalid(diags, AttributePath::new("tags"), err);
        }
    }
    timeouts::validate(diags, common.timeouts);
}

/// The region of an ARN of `service` whose resource starts with `kind`, if it is one:
/// `arn:<partition>:<service>:<region>:<account>:<kind>...`.
pub fn arn_region<'a>(arn: &'a str, service: &str, kind: &str) -> Option<&'a str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts[..] {
        ["arn", _, s, region, _, resource]
            if s == service && resource.starts_with(kind) && !region.is_empty() =>
        {
            Some(region)
        }
        _ => None,
    }
}
