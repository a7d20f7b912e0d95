//! The Route 53 health checks of the failover switch: a CLOUDWATCH_METRIC check on each
//! standby region's switch alarm (or one RECOVERY_CONTROL check on the user's ARC routing
//! control), and the CALCULATED check the primary record uses, healthy only while the endpoint
//! check and every switch check are.

use aws_sdk_route53::types::{
    AlarmIdentifier, CloudWatchRegion, HealthCheck, HealthCheckConfig, HealthCheckType,
    InsufficientDataHealthStatus, TagResourceType,
};
use aws_sdk_route53::Client;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::route53;
use crate::tags::Tags;

/// What the caller references of the checks carry after `tap/<suffix>/`. A further standby's
/// switch check carries `switch-<region>`: CallerReference is at most 64 characters
/// (API_HealthCheck), and `tap/<20-character suffix>/failover-switch-ap-southeast-1/<millis>`
/// would be 69.
const SWITCH: &str = "failover-switch";
const FURTHER_SWITCH: &str = "switch-";
const PRIMARY: &str = "primary-record";

/// Which check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Follows a switch alarm, or the routing control: the first standby's (`None`), or a
    /// further standby's (its region).
    Switch(Option<String>),
    /// The primary record's: the endpoint check AND every switch check.
    Primary,
}

impl Kind {
    fn reference(&self) -> String {
        match self {
            Kind::Switch(None) => SWITCH.to_owned(),
            Kind::Switch(Some(region)) => format!("{FURTHER_SWITCH}{region}"),
            Kind::Primary => PRIMARY.to_owned(),
        }
    }

    fn parse(what: &str) -> Option<Kind> {
        match what {
            SWITCH => Some(Kind::Switch(None)),
            PRIMARY => Some(Kind::Primary),
            _ => {
                (what.strip_prefix(FURTHER_SWITCH)).map(|region| Kind::Switch(Some(region.into())))
            }
        }
    }

    pub fn is_switch(&self) -> bool {
        matches!(self, Kind::Switch(_))
    }
}

/// What one check should be.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    /// The alarm's region and name. `LastKnownStatus`: a switch that is thrown stays thrown
    /// while CloudWatch lacks data ("For new health checks that have no last known status, the
    /// default status for the health check is healthy", API_HealthCheckConfig).
    Alarm { region: String, name: String },
    /// Healthy while the ARC routing control is On (HealthCheckConfig `Type`,
    /// RECOVERY_CONTROL). UpdateHealthCheck has no `RoutingControlArn`: another ARN, or a
    /// change from or to an alarm check, is a new check.
    RoutingControl { arn: String },
    /// Healthy only while every child is: `HealthThreshold` = number of children (at most 256,
    /// API_HealthCheckConfig; ours has at most five). Sorted
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

    /// Whether UpdateHealthCheck can make this check `want`: Route 53 changes neither a check's
    /// type nor its routing control in place. A record check is always CALCULATED, and a switch
    /// check whose settings we do not recognise (no `spec`) a CLOUDWATCH_METRIC one: a
    /// RECOVERY_CONTROL check always has a `spec`.
    fn updatable_to(&self, want: &Spec) -> bool {
        match want {
            Spec::Alarm { .. } | Spec::AllOf(_) => {
                !matches!(self.spec, Some(Spec::RoutingControl { .. }))
            }
            Spec::RoutingControl { .. } => self.spec.as_ref() == Some(want),
        }
    }
}

/// Whether `arn` names an ARC routing control:
/// `arn:<partition>:route53-recovery-control::<account>:controlpanel/<id>/routingcontrol/<id>`
/// (ARC's resource types, Service Authorization Reference; ARC is global, so the region is
/// empty). hashicorp/aws checks only that `routing_control_arn` is some ARN (`verify.ValidARN`).
pub fn check_routing_control_arn(arn: &str) -> Result<(), String> {
    let refuse = || {
        Err(format!("\"{arn}\" is not the ARN of an ARC routing control: arn:aws:route53-recovery-control::<account>:controlpanel/<control panel id>/routingcontrol/<routing control id>."))
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return refuse();
    };
    let id = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ok = prefix == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&partition)
        && service == "route53-recovery-control"
        && region.is_empty()
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && matches!(resource.split('/').collect::<Vec<_>>()[..],
            ["controlpanel", panel, "routingcontrol", control] if id(panel) && id(control));
    if ok {
        Ok(())
    } else {
        refuse()
    }
}

/// The AWS CLI command that sets the routing control `On` or `Off` through an ARC cluster's
/// data plane (`aws route53-recovery-cluster update-routing-control-state`, which must be sent
/// to one of the cluster's regional endpoints with that endpoint's region). The cluster is the
/// user's: its endpoint and region stay placeholders.
pub fn routing_control_command(arn: &str, on: bool) -> String {
    let state = if on { "On" } else { "Off" };
    format!("aws route53-recovery-cluster update-routing-control-state --routing-control-arn {arn} --routing-control-state {state} --endpoint-url <one of your ARC cluster's endpoints> --region <that endpoint's region>")
}

fn kind_of(check: &HealthCheck) -> Option<Kind> {
    Kind::parse(check.caller_reference().split('/').nth(2)?)
}

fn facts(check: &HealthCheck, kind: Kind) -> Facts {
    let config = check.health_check_config();
    let spec = config.and_then(|c| match (&kind, c.r#type()) {
        (Kind::Switch(_), HealthCheckType::CloudwatchMetric) => {
            let alarm = c.alarm_identifier()?;
            (c.insufficient_data_health_status()
                == Some(&InsufficientDataHealthStatus::LastKnownStatus))
            .then(|| Spec::Alarm {
                region: alarm.region().as_str().to_owned(),
                name: alarm.name().to_owned(),
            })
        }
        // Even without its ARN: such a check can only be replaced.
        (Kind::Switch(_), HealthCheckType::RecoveryControl) => Some(Spec::RoutingControl {
            arn: c.routing_control_arn().unwrap_or_default().to_owned(),
        }),
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

/// The switch and record checks this stack created (more than one of a kind only after an
/// interrupted replacement).
pub async fn list_ours(r53: &Client, suffix: &str) -> Result<Vec<Facts>, AwsError> {
    Ok(among(&route53::health_checks_of(r53, suffix).await?))
}

/// The switch and record checks among this stack's checks as `route53::health_checks_of`
/// listed them.
pub fn among(ours: &[HealthCheck]) -> Vec<Facts> {
    ours.iter()
        .filter_map(|c| Some(facts(c, kind_of(c)?)))
        .collect()
}

/// The check of `kind` as `spec` says: an existing one updated in place (Route 53 changes
/// both the alarm and the children of a check without replacing it), or a new one (a check of
/// another type or routing control: the caller deletes the old one once nothing uses it).
pub async fn ensure(
    r53: &Client,
    existing: &[Facts],
    kind: &Kind,
    spec: &Spec,
    suffix: &str,
    tags: &Tags,
) -> PartResult<String> {
    let mine = existing.iter().filter(|c| c.kind == *kind);
    let id = match mine
        .clone()
        .find(|c| c.matches(spec))
        .or(mine.clone().find(|c| c.updatable_to(spec)))
    {
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
        Spec::RoutingControl { arn } => format!("on routing control {arn}"),
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

async fn create(r53: &Client, kind: &Kind, spec: &Spec, suffix: &str) -> PartResult<String> {
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
        Spec::RoutingControl { arn } => HealthCheckConfig::builder()
            .r#type(HealthCheckType::RecoveryControl)
            .routing_control_arn(arn),
    };
    let out = r53
        .create_health_check()
        .caller_reference(route53::caller_reference(suffix, &kind.reference()))
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
        // Only `Inverted`/`Disabled` to clear: `ensure` replaces a check on another control.
        Spec::RoutingControl { .. } => request,
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

    /// Each kind is found again by its caller reference, which stays within CreateHealthCheck's
    /// 64 characters for the longest suffix and region.
    #[test]
    fn caller_references_name_the_kind_within_64_characters() {
        let suffix = "x".repeat(crate::naming::MAX_SUFFIX_LEN);
        let longest = (crate::regions::KNOWN.iter())
            .max_by_key(|r| r.len())
            .unwrap();
        for kind in [
            Kind::Switch(None),
            Kind::Switch(Some((*longest).to_owned())),
            Kind::Primary,
        ] {
            let reference = route53::caller_reference(&suffix, &kind.reference());
            assert!(reference.len() <= 64, "{reference}");
            let what = reference.split('/').nth(2).unwrap();
            assert_eq!(Kind::parse(what), Some(kind));
        }
        assert_eq!(Kind::parse("health-check"), None);
    }

    #[test]
    fn routing_control_arns() {
        let good = "arn:aws:route53-recovery-control::111122223333:controlpanel/0123abcd/routingcontrol/abcd0123";
        assert!(check_routing_control_arn(good).is_ok());
        for bad in [
            "",
            "arn:aws:route53-recovery-control:us-east-1:111122223333:controlpanel/a/routingcontrol/b",
            "arn:aws:route53-recovery-control::1111:controlpanel/a/routingcontrol/b",
            "arn:aws:route53-recovery-control::111122223333:controlpanel/a",
            "arn:aws:route53-recovery-control::111122223333:controlpanel/a/safetyrule/b",
            "arn:aws:route53::111122223333:controlpanel/a/routingcontrol/b",
        ] {
            assert!(check_routing_control_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_check_of_another_type_or_routing_control_is_replaced_not_updated() {
        let control = |id: &str| Spec::RoutingControl {
            arn: format!(
                "arn:aws:route53-recovery-control::111122223333:controlpanel/p/routingcontrol/{id}"
            ),
        };
        let alarm = Facts {
            id: "hc".into(),
            kind: Kind::Switch(None),
            spec: None,
            overridden: false,
        };
        let alarm_spec = Spec::Alarm {
            region: "us-east-2".into(),
            name: "a".into(),
        };
        assert!(alarm.updatable_to(&alarm_spec));
        assert!(!alarm.updatable_to(&control("a")));
        let on_a = Facts {
            spec: Some(control("a")),
            overridden: true,
            ..alarm
        };
        assert!(on_a.updatable_to(&control("a")));
        assert!(!on_a.updatable_to(&control("b")));
        assert!(!on_a.updatable_to(&alarm_spec));
    }
}
