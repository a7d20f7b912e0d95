//! The data-plane failover switch: a custom metric in the standby region and the alarm on it
//! that a Route 53 health check follows. Throwing it is one PutMetricData in the standby
//! region, so a failover needs nothing of the Route 53 control plane (us-east-1): "Standby
//! takes over primary", the pattern AWS's guidance recommends (Route 53 Developer Guide,
//! "Creating disaster recovery mechanisms using Amazon Route 53"; Well-Architected REL11-BP04).

use super::alarms::AlarmSpec;

/// The custom metric's namespace and name; the environment suffix is its one dimension.
pub const NAMESPACE: &str = "TAP/Failover";
pub const METRIC: &str = "FailoverSwitch";
pub const DIMENSION: &str = "EnvironmentSuffix";
/// The value that throws the switch and the one that releases it.
pub const THROWN: f64 = 1.0;
pub const RELEASED: f64 = 0.0;

/// The first standby's alarm's name: `failover-switch-<suffix>`.
pub fn alarm_name(suffix: &str) -> String {
    crate::naming::alarm("switch", suffix)
}

/// A further standby's: `failover-switch-<region>-<suffix>`.
pub fn alarm_name_in(region: &str, suffix: &str) -> String {
    crate::naming::alarm(&format!("switch-{region}"), suffix)
}

/// The alarm `name`, in the standby region. Each standby region has one on the same metric
/// name, and metrics are regional: a put to one region throws that region's alarm only, which
/// is enough to take the primary out, and only a put there releases it. Route 53 follows only
/// alarms on standard-resolution metrics with a plain statistic (API_AlarmIdentifier):
/// one-minute periods, Maximum. Missing data is ignored ("the current alarm state is maintained"), so once thrown the switch stays
/// thrown with no further data; the health check's `LastKnownStatus` keeps it latched even if
/// CloudWatch reports insufficient data.
pub fn alarm(name: &str, suffix: &str, region: &str, notify: &str) -> AlarmSpec {
    AlarmSpec {
        name: name.to_owned(),
        description: format!("The failover switch of {suffix} is thrown: Route 53 keeps the primary out of DNS even while it is healthy, until someone releases the switch ({}).", command(region, suffix, RELEASED)),
        namespace: NAMESPACE.into(),
        metric: METRIC.into(),
        statistic: "Maximum".into(),
        comparison: ">=",
        threshold: THROWN,
        evaluation_periods: 1,
        period: 60,
        dimensions: vec![(DIMENSION.into(), suffix.into())],
        actions: vec![notify.to_owned()],
        actions_enabled: true,
        treat_missing_data: "ignore",
    }
}

/// The AWS CLI command that puts `value` to the switch: it calls CloudWatch in the standby
/// region only.
pub fn command(region: &str, suffix: &str, value: f64) -> String {
    format!(
        "aws cloudwatch put-metric-data --region {region} --namespace {NAMESPACE} --metric-name {METRIC} --dimensions {DIMENSION}={suffix} --value {value}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_throws_what_the_alarm_watches() {
        let thrown = command("us-west-2", "prod", THROWN);
        assert_eq!(thrown, "aws cloudwatch put-metric-data --region us-west-2 --namespace TAP/Failover --metric-name FailoverSwitch --dimensions EnvironmentSuffix=prod --value 1");
        assert!(command("us-west-2", "prod", RELEASED).ends_with("--value 0"));
        let spec = alarm(
            &alarm_name("prod"),
            "prod",
            "us-west-2",
            "arn:aws:sns:us-west-2:1:t",
        );
        assert_eq!(spec.dimensions, [(DIMENSION.into(), "prod".into())]);
        assert!(THROWN >= spec.threshold && RELEASED < spec.threshold);
    }
}
