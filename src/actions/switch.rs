//! What the actions on the failover switch (`tap_failover`, `tap_failover_drill`) share: the
//! standby's arguments, their checks, and the standby region's clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tf_provider::schema::{Attribute, AttributeType};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::clients::RegionalClients;
use crate::aws::switch_throw::{Options, Standby};
use crate::configured::Configured;
use crate::naming;
use crate::regions;
use crate::role::Role;
use crate::tf::diag::invalid;
use crate::tf::number::{whole, Number};
use crate::tf::schema::{named, optional, required};

/// The arguments that name the switch, its standby region and the standby's target group (`checked`:
/// when the actions read its health).
pub fn attributes(checked: &str) -> HashMap<String, Attribute> {
    named([
        ("environment_suffix", required(AttributeType::String, "The stack's environment suffix: the switch is `failover-switch-<suffix>`.")),
        ("standby_region", optional(AttributeType::String, "The standby region, where the switch lives: with several standbys, any of their regions (each has a switch alarm; throwing any takes the primary out, and the first healthy standby in order of preference takes the traffic; metrics are regional, so release it in the region it was thrown in). Default `us-east-2`.")),
        ("target_group_arn", optional(AttributeType::String, format!("The standby's target group, whose health is checked {checked}. Default: `tg-standby-<suffix>`, the regional stack's; give it for `tap_dns_failover` over your own load balancers."))),
    ])
}

/// The configured standby region, else the role's default.
pub fn standby_region(given: &Value<String>) -> String {
    (given.as_ref_option().cloned()).unwrap_or_else(|| Role::Standby.default_region().to_owned())
}

/// Checks the suffix, the standby region and a whole number of seconds (at least 1).
pub fn validate(
    diags: &mut Diagnostics,
    suffix: &Value<String>,
    region: &Value<String>,
    seconds: (&'static str, &Value<Number>),
) {
    if let Value::Value(suffix) = suffix {
        if let Err(why) = naming::validate_suffix(suffix) {
            invalid(diags, AttributePath::new("environment_suffix"), why);
        }
    }
    if let Value::Value(region) = region {
        if !regions::is_known(region) {
            let why = regions::unknown_region_detail(region);
            invalid(diags, AttributePath::new("standby_region"), why);
        }
    }
    let (name, value) = seconds;
    if value.is_value() && whole(value).unwrap_or(0) < 1 {
        invalid(
            diags,
            AttributePath::new(name),
            format!("{name} must be a whole number of seconds, at least 1."),
        );
    }
}

/// How to throw: never forced unless asked, the target group given or the stack's, and the wait.
pub fn options(
    force: &Value<bool>,
    target_group_arn: &Value<String>,
    timeout: &Value<Number>,
    default_timeout: u64,
) -> Options {
    Options {
        force: matches!(force, Value::Value(true)),
        target_group_arn: target_group_arn.as_ref_option().cloned(),
        timeout: Duration::from_secs(whole(timeout).map_or(default_timeout, |n| n as u64)),
    }
}

/// The standby region's clients, kept alive while a `Standby` borrows them.
pub struct StandbyClients {
    pub region: String,
    regional: Arc<RegionalClients>,
}

impl StandbyClients {
    pub fn new(cfg: &Configured, region: String) -> Self {
        let regional = cfg.clients.regional(&region);
        StandbyClients { region, regional }
    }

    pub fn standby(&self) -> Standby<'_> {
        Standby {
            region: &self.region,
            cloudwatch: &self.regional.cloudwatch,
            elbv2: &self.regional.elbv2,
        }
    }
}
