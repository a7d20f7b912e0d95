//! The Route 53 health check on the primary endpoint: create, find, update, replace and delete.

use std::time::Duration;

use aws_sdk_route53::types::{
    HealthCheck, HealthCheckConfig, HealthCheckRegion, HealthCheckType, ResettableElementName,
    TagResourceType,
};
use aws_sdk_route53::Client;
use tokio::time::Instant;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::retry;
use super::route53;
use crate::tags::Tags;

/// "HealthCheckInUse: The health check with the specified ID is still referenced by a record"
/// lasts until the record deletion has propagated.
const IN_USE: &[&str] = &["HealthCheckInUse"];

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckSpec {
    pub https: bool,
    pub fqdn: String,
    pub port: i32,
    pub path: String,
    pub interval: i32,
    pub failure_threshold: i32,
    /// Empty: Route 53's default set of checker regions.
    pub regions: Vec<String>,
    pub measure_latency: bool,
}

/// What AWS holds.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckFacts {
    pub id: String,
    pub version: i64,
    pub spec: HealthCheckSpec,
    pub disabled: bool,
}

impl HealthCheckFacts {
    /// Route 53 cannot change the interval, latency measurement or protocol of a health check.
    pub fn must_be_replaced_for(&self, want: &HealthCheckSpec) -> bool {
        self.spec.interval != want.interval
            || self.spec.measure_latency != want.measure_latency
            || self.spec.https != want.https
    }

    pub fn matches(&self, want: &HealthCheckSpec) -> bool {
        !self.disabled && same_regions(&self.spec.regions, &want.regions) && {
            let mut have = self.spec.clone();
            have.regions.clone_from(&want.regions);
            have == *want
        }
    }
}

fn same_regions(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// The endpoint check only: the failover switch's checks (`switch_checks`) share its caller
/// reference prefix.
fn facts(check: &HealthCheck) -> Option<HealthCheckFacts> {
    let config = check
        .health_check_config()
        .filter(|c| matches!(c.r#type(), HealthCheckType::Http | HealthCheckType::Https))?;
    Some(HealthCheckFacts {
        id: check.id().to_owned(),
        version: check.health_check_version(),
        spec: HealthCheckSpec {
            https: matches!(config.r#type(), HealthCheckType::Https),
            fqdn: config
                .fully_qualified_domain_name()
                .unwrap_or_default()
                .to_owned(),
            port: config.port().unwrap_or(80),
            path: config.resource_path().unwrap_or_default().to_owned(),
            interval: config.request_interval().unwrap_or(30),
            failure_threshold: config.failure_threshold().unwrap_or(3),
            regions: config
                .regions()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            measure_latency: config.measure_latency().unwrap_or(false),
        },
        disabled: config.disabled().unwrap_or(false),
    })
}

/// Every endpoint health check this stack created; more than one only after an interrupted
/// replacement.
pub async fn list_ours(r53: &Client, suffix: &str) -> Result<Vec<HealthCheckFacts>, AwsError> {
    Ok(among(&route53::health_checks_of(r53, suffix).await?))
}

/// The endpoint checks among this stack's checks as `route53::health_checks_of` listed them.
pub fn among(ours: &[HealthCheck]) -> Vec<HealthCheckFacts> {
    ours.iter().filter_map(facts).collect()
}

pub async fn create(
    r53: &Client,
    spec: &HealthCheckSpec,
    suffix: &str,
    tags: &Tags,
) -> PartResult<String> {
    let action = || {
        format!(
            "creating Route 53 health check on {}{}",
            spec.fqdn, spec.path
        )
    };
    tracing::info!("{}", action());
    let config = built(
        HealthCheckConfig::builder()
            .r#type(if spec.https {
                HealthCheckType::Https
            } else {
                HealthCheckType::Http
            })
            .fully_qualified_domain_name(&spec.fqdn)
            .port(spec.port)
            .resource_path(&spec.path)
            .request_interval(spec.interval)
            .failure_threshold(spec.failure_threshold)
            .measure_latency(spec.measure_latency)
            .enable_sni(spec.https)
            .set_regions(regions(&spec.regions))
            .build(),
    )
    .context(action)?;
    let out = r53
        .create_health_check()
        .caller_reference(route53::caller_reference(suffix, "health-check"))
        .health_check_config(config)
        .send()
        .await
        .context(action)?;
    let id = out
        .health_check()
        .map(|c| c.id().to_owned())
        .ok_or_else(|| Cause::Unexpected("CreateHealthCheck returned no health check".into()))
        .context(action)?;
    // Route 53 has no tag-on-create; a crash before this is repaired by the next converge,
    // which finds the check by its caller reference.
    route53::sync_tags(r53, TagResourceType::Healthcheck, &id, tags).await?;
    Ok(id)
}

fn regions(names: &[String]) -> Option<Vec<HealthCheckRegion>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|r| HealthCheckRegion::from(r.as_str()))
            .collect()
    })
}

/// Brings a health check's changeable settings to `want` and re-enables it.
pub async fn update(
    r53: &Client,
    have: &HealthCheckFacts,
    want: &HealthCheckSpec,
) -> PartResult<()> {
    let action = || format!("updating Route 53 health check {}", have.id);
    tracing::info!("{}", action());
    let mut request = r53
        .update_health_check()
        .health_check_id(&have.id)
        .health_check_version(have.version)
        .fully_qualified_domain_name(&want.fqdn)
        .port(want.port)
        .resource_path(&want.path)
        .failure_threshold(want.failure_threshold)
        .enable_sni(want.https)
        .disabled(false);
    // Sent every time: an update without them erases the regions in some emulators, and an
    // empty list means "back to Route 53's default set".
    request = match regions(&want.regions) {
        Some(list) => request.set_regions(Some(list)),
        None => request.reset_elements(ResettableElementName::Regions),
    };
    request.send().await.context(action)?;
    Ok(())
}

/// What each Route 53 checker region last saw: (region, status text). Route 53's status text
/// starts with "Success" or "Failure".
pub async fn status(r53: &Client, id: &str) -> Result<Vec<(String, String)>, AwsError> {
    let out = r53
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await?;
    Ok(out
        .health_check_observations()
        .iter()
        .map(|o| {
            (
                o.region()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                o.status_report()
                    .and_then(|r| r.status())
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect())
}

pub async fn sync_tags(r53: &Client, id: &str, tags: &Tags) -> PartResult<()> {
    route53::sync_tags(r53, TagResourceType::Healthcheck, id, tags).await
}

/// Deletes a health check once no record uses it any more.
pub async fn delete(r53: &Client, id: &str, timeout: Duration) -> PartResult<()> {
    let action = || format!("deleting Route 53 health check {id}");
    tracing::info!("{}", action());
    let deadline = Instant::now() + timeout;
    let result = retry::on_codes(&action(), IN_USE, deadline, || async {
        r53.delete_health_check()
            .health_check_id(id)
            .send()
            .await
            .map(|_| ())
    })
    .await;
    match result {
        Err(err) if err.is_not_found() => Ok(()),
        other => other.context(action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> HealthCheckSpec {
        HealthCheckSpec {
            https: false,
            fqdn: "alb-primary-prod-1.us-east-1.elb.amazonaws.com".into(),
            port: 80,
            path: "/health".into(),
            interval: 10,
            failure_threshold: 3,
            regions: vec!["us-east-1".into(), "us-west-2".into(), "eu-west-1".into()],
            measure_latency: true,
        }
    }

    #[test]
    fn interval_latency_and_protocol_need_a_new_check() {
        let have = HealthCheckFacts {
            id: "hc".into(),
            version: 1,
            spec: spec(),
            disabled: false,
        };
        let mut want = spec();
        want.failure_threshold = 5;
        assert!(!have.must_be_replaced_for(&want) && !have.matches(&want));
        want = spec();
        want.regions.reverse();
        assert!(have.matches(&want));
        want.interval = 30;
        assert!(have.must_be_replaced_for(&want));
        let disabled = HealthCheckFacts {
            disabled: true,
            ..have
        };
        assert!(!disabled.matches(&spec()));
    }
}
