//! The Route 53 health checks of the failover switch: a CLOUDWATCH_METRIC check on the switch
//! alarm, and the CALCULATED check the primary record uses, healthy only while both the
//! endpoint check and the switch check are.

use aws_sdk_route53::types::{
    AlarmIdentifier, CloudWatchRegion, HealthCheck, HealthCheckConfig, HealthCheckType,
    InsufficientDataHealthStatus, TagResourceType,
};
use aws_sdk_route53::Client;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::route53;
use crate::tags::Tags;

/// What the caller references of the two checks carry after `tap/<suffix>/`.
const SWITCH: &str = "failover-switch";
const PRIMARY: &str = "primary-record";

/// Which of the two checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Follows the switch alarm.
    Switch,
    /// The primary record's: the endpoint check AND the switch check.
    Primary,
}

impl Kind {
    fn reference(self) -> &'static str {
        match self {
            Kind::Switch => SWITCH,
            Kind::Primary => PRIMARY,
        }
    }
}

/// What one check should be.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// The alarm's region and name. `LastKnownStatus`: a switch that is thrown stays thrown
    /// while CloudWatch lacks data ("For new health checks that have no last known status, the
    /// default status for the health check is healthy", API_HealthCheckConfig).
    Alarm { region: String, name: String },
    /// Healthy only while every child is: `HealthThreshold` = number of children. Sorted
    /// (`all_of`): Route 53 keeps no order.
    AllOf(Vec<String>),
}

impl Spec {
    pub fn all_of(mut children: Vec<String>) -> Spec {
        children.sort();
        Spec::AllOf(children)
    }
}

/// What AWS holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub id: String,
    pub kind: Kind,
    pub spec: Option<Spec>,
    /// Inverted or disabled: either makes the check ignore what it watches.
    pub overridden: bool,
}

impl Facts {
    pub fn matches(&self, want: &Spec) -> bool {
        !self.overridden && self.spec.as_ref() == Some(want)
    }
}

fn kind_of(check: &HealthCheck) -> Option<Kind> {
    let reference = check.caller_reference();
    let what = reference.split('/').nth(2)?;
    [Kind::Switch, Kind::Primary]
        .into_iter()
        .find(|k| k.reference() == what)
}

fn facts(check: &HealthCheck, kind: Kind) -> Facts {
    let config = check.health_check_config();
    let spec = config.and_then(|c| match (kind, c.r#type()) {
        (Kind::Switch, HealthCheckType::CloudwatchMetric) => {
            let alarm = c.alarm_identifier()?;
            (c.insufficient_data_health_status()
                == Some(&InsufficientDataHealthStatus::LastKnownStatus))
            .then(|| Spec::Alarm {
                region: alarm.region().as_str().to_owned(),
                name: alarm.name().to_owned(),
            })
        }
        (Kind::Primary, HealthCheckType::Calculated) => {
            let children = c.child_health_checks().to_vec();
            (c.health_threshold() == Some(children.len() as i32)).then(|| Spec::all_of(children))
        }
        _ => None,
    });
    Facts {
        id: check.id().to_owned(),
        kind,
        spec,
        overridden: config
            .is_some_and(|c| c.inverted() == Some(true) || c.disabled() == Some(true)),
    }
}

/// The switch and primary checks this stack created (more than one of a kind only after an
/// interrupted replacement).
pub async fn list_ours(r53: &Client, suffix: &str) -> Result<Vec<Facts>, AwsError> {
    Ok(route53::health_checks_of(r53, suffix)
        .await?
        .iter()
        .filter_map(|c| Some(facts(c, kind_of(c)?)))
        .collect())
}

/// The check of `kind` as `spec` says: an existing one updated in place (Route 53 changes
/// both the alarm and the children of a check without replacing it), or a new one.
pub async fn ensure(
    r53: &Client,
    existing: &[Facts],
    kind: Kind,
    spec: &Spec,
    suffix: &str,
    tags: &Tags,
) -> PartResult<String> {
    let id = match existing.iter().find(|c| c.kind == kind) {
        Some(have) if have.matches(spec) => have.id.clone(),
        Some(have) => {
            update(r53, &have.id, spec).await?;
            have.id.clone()
        }
        None => create(r53, kind, spec, suffix).await?,
    };
    route53::sync_tags(r53, TagResourceType::Healthcheck, &id, tags).await?;
    Ok(id)
}

fn describe(spec: &Spec) -> String {
    match spec {
        Spec::Alarm { region, name } => format!("on CloudWatch alarm {name} ({region})"),
        Spec::AllOf(children) => format!("of health checks {}", children.join(" and ")),
    }
}

fn alarm_identifier(region: &str, name: &str) -> Result<AlarmIdentifier, Cause> {
    built(
        AlarmIdentifier::builder()
            .region(CloudWatchRegion::from(region))
            .name(name)
            .build(),
    )
}

async fn create(r53: &Client, kind: Kind, spec: &Spec, suffix: &str) -> PartResult<String> {
    let action = || format!("creating Route 53 health check {}", describe(spec));
    tracing::info!("{}", action());
    let config = match spec {
        Spec::Alarm { region, name } => HealthCheckConfig::builder()
            .r#type(HealthCheckType::CloudwatchMetric)
            .alarm_identifier(alarm_identifier(region, name).context(action)?)
            .insufficient_data_health_status(InsufficientDataHealthStatus::LastKnownStatus),
        Spec::AllOf(children) => HealthCheckConfig::builder()
            .r#type(HealthCheckType::Calculated)
            .set_child_health_checks(Some(children.clone()))
            .health_threshold(children.len() as i32),
    };
    let out = r53
        .create_health_check()
        .caller_reference(route53::caller_reference(suffix, kind.reference()))
        .health_check_config(built(config.build()).context(action)?)
        .send()
        .await
        .context(action)?;
    out.health_check()
        .map(|c| c.id().to_owned())
        .ok_or_else(|| Cause::Unexpected("CreateHealthCheck returned no health check".into()))
        .context(action)
}

async fn update(r53: &Client, id: &str, spec: &Spec) -> PartResult<()> {
    let action = || format!("updating Route 53 health check {id} {}", describe(spec));
    tracing::info!("{}", action());
    let request = r53
        .update_health_check()
        .health_check_id(id)
        .inverted(false)
        .disabled(false);
    let request = match spec {
        Spec::Alarm { region, name } => request
            .alarm_identifier(alarm_identifier(region, name).context(action)?)
            .insufficient_data_health_status(InsufficientDataHealthStatus::LastKnownStatus),
        Spec::AllOf(children) => request
            .set_child_health_checks(Some(children.clone()))
            .health_threshold(children.len() as i32),
    };
    request.send().await.context(action)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overridden_check_does_not_match() {
        let spec = Spec::all_of(vec!["b".into(), "a".into()]);
        let have = Facts {
            id: "hc".into(),
            kind: Kind::Primary,
            spec: Some(spec.clone()),
            overridden: false,
        };
        assert!(have.matches(&spec));
        assert!(have.matches(&Spec::all_of(vec!["a".into(), "b".into()])));
        assert!(!Facts {
            overridden: true,
            ..have.clone()
        }
        .matches(&spec));
        assert!(!have.matches(&Spec::all_of(vec!["a".into()])));
    }
}
