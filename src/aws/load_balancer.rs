//! The Application Load Balancer of a region: the ALB in the public subnets, its target group
//! with the `/health` check, and its listeners (HTTP forward; with a certificate, HTTPS forward
//! with a TLS 1.2+ policy and HTTP redirected to HTTPS).

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener, LoadBalancer, LoadBalancerSchemeEnum,
    LoadBalancerStateEnum, LoadBalancerTypeEnum, Matcher, ProtocolEnum, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag, TargetGroup,
};
use aws_sdk_elasticloadbalancingv2::Client;
use tokio::time::Instant;

use super::error::{AwsError, Cause, Context, PartError, PartResult};
use super::retry;
use super::wait::{self, Gate, Poll};
use crate::tags::Tags;

/// The HTTPS listener's security policy: TLS 1.2 minimum, TLS 1.3, hybrid post-quantum key
/// exchange. Without one, CreateListener applies `ELBSecurityPolicy-2016-08` (TLS 1.0 and 1.1
/// too); "AWS recommends implementing the new post-quantum TLS (PQ-TLS) based security policy
/// ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html).
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09";

/// Whether a listener is as `ensure` leaves it in what read cannot see elsewhere: an HTTPS
/// listener with [`TLS_POLICY`].
pub fn has_wanted_tls(listener: &Listener) -> bool {
    listener.protocol() != Some(&ProtocolEnum::Https) || listener.ssl_policy() == Some(TLS_POLICY)
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetHealthCheck {
    pub path: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
}

pub struct AlbSpec<'a> {
    pub name: &'a str,
    pub target_group_name: &'a str,
    pub subnets: &'a [String],
    pub security_group: &'a str,
    pub vpc_id: &'a str,
    pub app_port: i32,
    pub health: &'a TargetHealthCheck,
    pub certificate_arn: Option<&'a str>,
    /// Passed once ACM has issued `certificate_arn`, when it may not have yet: a listener
    /// refuses a certificate that is not issued (`UnsupportedCertificate`).
    pub certificate_issued: Option<Gate>,
    pub tags: &'a Tags,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlbIds {
    pub alb_arn: String,
    pub dns_name: String,
    pub zone_id: String,
    pub target_group_arn: String,
}

fn lb_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub async fn find_alb(elb: &Client, name: &str) -> Result<Option<LoadBalancer>, AwsError> {
    match elb.describe_load_balancers().names(name).send().await {
        Ok(out) => Ok(out
            .load_balancers()
            .iter()
            .find(|lb| lb.load_balancer_name() == Some(name))
            .cloned()),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// The ports a load balancer's listeners answer on.
/// A listener's port, and the certificate it serves by default (HTTPS only).
pub struct ListenerFacts {
    pub port: i32,
    pub certificate: Option<String>,
}

pub async fn listeners(elb: &Client, alb_arn: &str) -> Result<Vec<ListenerFacts>, AwsError> {
    let out = elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await?;
    Ok(out
        .listeners()
        .iter()
        .filter_map(|l| {
            Some(ListenerFacts {
                port: l.port()?,
                certificate: l
                    .certificates()
                    .first()
                    .and_then(|c| c.certificate_arn())
                    .map(str::to_owned),
            })
        })
        .collect())
}

pub async fn find_target_group(elb: &Client, name: &str) -> Result<Option<TargetGroup>, AwsError> {
    match elb.describe_target_groups().names(name).send().await {
        Ok(out) => Ok(out
            .target_groups()
            .iter()
            .find(|tg| tg.target_group_name() == Some(name))
            .cloned()),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// `name-123.us-east-1.elb.amazonaws.com` → `us-east-1`: a load balancer's DNS name carries
/// its region.
pub fn region_of_dns_name(dns_name: &str) -> Option<&str> {
    let labels: Vec<&str> = dns_name.trim_end_matches('.').split('.').collect();
    let elb = labels.iter().position(|l| l.eq_ignore_ascii_case("elb"))?;
    labels.get(elb.checked_sub(1)?).copied()
}

/// The load balancer answering at `dns_name` and its first target group's ARN: how an
/// import finds the endpoints behind a Route 53 alias.
pub async fn find_by_dns_name(
    elb: &Client,
    dns_name: &str,
) -> Result<Option<(String, Option<String>)>, AwsError> {
    let wanted = dns_name.trim_end_matches('.').to_ascii_lowercase();
    let wanted = wanted.strip_prefix("dualstack.").unwrap_or(&wanted);
    let mut marker = None;
    let alb = loop {
        let out = elb
            .describe_load_balancers()
            .set_marker(marker)
            .send()
            .await?;
        if let Some(lb) = out.load_balancers().iter().find(|lb| {
            lb.dns_name()
                .is_some_and(|d| d.eq_ignore_ascii_case(wanted))
        }) {
            break lb.load_balancer_arn().unwrap_or_default().to_owned();
        }
        match out.next_marker() {
            Some(next) => marker = Some(next.to_owned()),
            None => return Ok(None),
        }
    };
    let group = match elb
        .describe_target_groups()
        .load_balancer_arn(&alb)
        .send()
        .await
    {
        Ok(groups) => groups
            .target_groups()
            .first()
            .and_then(|tg| tg.target_group_arn())
            .map(str::to_owned),
        Err(err) => {
            let err = AwsError::from(err);
            if !err.is_not_found() {
                return Err(err);
            }
            None
        }
    };
    Ok(Some((alb, group)))
}

/// Ensures ALB, target group and listeners match the spec; waits for the ALB to be active,
/// while its listeners are made.
pub async fn ensure(
    elb: &Client,
    spec: &AlbSpec<'_>,
    tg_arn: &str,
    timeout: Duration,
) -> PartResult<AlbIds> {
    let alb_arn = match find_alb(elb, spec.name)
        .await
        .context(|| format!("reading ALB {}", spec.name))?
    {
        Some(alb) => alb.load_balancer_arn().unwrap_or_default().to_owned(),
        None => {
            tracing::info!("creating ALB {}", spec.name);
            let out = elb
                .create_load_balancer()
                .name(spec.name)
                .r#type(LoadBalancerTypeEnum::Application)
                .scheme(LoadBalancerSchemeEnum::InternetFacing)
                .set_subnets(Some(spec.subnets.to_vec()))
                .security_groups(spec.security_group)
                .set_tags(Some(lb_tags(spec.tags)))
                .send()
                .await
                .context(|| format!("creating ALB {}", spec.name))?;
            let arn = out
                .load_balancers()
                .first()
                .and_then(|lb| lb.load_balancer_arn())
                .unwrap_or_default()
                .to_owned();
            retry::until_created(&arn, "LoadBalancerNotFound", retry::ELB_PROPAGATION, || {
                elb.describe_load_balancers()
                    .load_balancer_arns(&arn)
                    .send()
            })
            .await
            .context(|| format!("waiting for new ALB {} to be visible", spec.name))?;
            arn
        }
    };
    elb.set_security_groups()
        .load_balancer_arn(&alb_arn)
        .security_groups(spec.security_group)
        .send()
        .await
        .context(|| format!("setting the security group of ALB {}", spec.name))?;
    sync_tags(elb, &alb_arn, spec.tags).await?;
    // Listeners need the load balancer and the target group, not the load balancer `active`:
    // CreateListener has no error for one still provisioning, and AWS's Load Balancer
    // Controller creates them right after CreateLoadBalancer
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html;
    // design/issue-22-floor-and-destroy.md §1).
    let (alb, ()) = tokio::try_join!(
        wait_active(elb, spec.name, timeout),
        ensure_listeners(elb, spec, &alb_arn, tg_arn),
    )?;
    Ok(AlbIds {
        alb_arn,
        dns_name: alb.dns_name().unwrap_or_default().to_owned(),
        zone_id: alb
            .canonical_hosted_zone_id()
            .unwrap_or_default()
            .to_owned(),
        target_group_arn: tg_arn.to_owned(),
    })
}

pub async fn ensure_target_group(elb: &Client, spec: &AlbSpec<'_>) -> PartResult<String> {
    let name = spec.target_group_name;
    let health = spec.health;
    let arn = match find_target_group(elb, name)
        .await
        .context(|| format!("reading target group {name}"))?
    {
        Some(tg) => tg.target_group_arn().unwrap_or_default().to_owned(),
        None => {
            tracing::info!("creating target group {name}");
            let out = elb
                .create_target_group()
                .name(name)
                .protocol(ProtocolEnum::Http)
                .port(spec.app_port)
                .vpc_id(spec.vpc_id)
                .health_check_path(&health.path)
                .health_check_interval_seconds(health.interval)
                .health_check_timeout_seconds(health.timeout)
                .healthy_threshold_count(health.healthy_threshold)
                .unhealthy_threshold_count(health.unhealthy_threshold)
                .matcher(Matcher::builder().http_code("200").build())
                .set_tags(Some(lb_tags(spec.tags)))
                .send()
                .await
                .context(|| format!("creating target group {name}"))?;
            let arn = out
                .target_groups()
                .first()
                .and_then(|tg| tg.target_group_arn())
                .unwrap_or_default()
                .to_owned();
            retry::until_created(&arn, "TargetGroupNotFound", retry::ELB_PROPAGATION, || {
                elb.describe_target_groups().target_group_arns(&arn).send()
            })
            .await
            .context(|| format!("waiting for new target group {name} to be visible"))?;
            return Ok(arn);
        }
    };
    elb.modify_target_group()
        .target_group_arn(&arn)
        .health_check_path(&health.path)
        .health_check_interval_seconds(health.interval)
        .health_check_timeout_seconds(health.timeout)
        .healthy_threshold_count(health.healthy_threshold)
        .unhealthy_threshold_count(health.unhealthy_threshold)
        .send()
        .await
        .context(|| format!("updating the health check of target group {name}"))?;
    sync_tags(elb, &arn, spec.tags).await?;
    Ok(arn)
}

fn forward(tg_arn: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(tg_arn)
        .build()
}

fn redirect_to_https() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build()
}

/// HTTP:80 forwards, or redirects when HTTPS:443 (with the certificate) forwards.
async fn ensure_listeners(
    elb: &Client,
    spec: &AlbSpec<'_>,
    alb_arn: &str,
    tg_arn: &str,
) -> PartResult<()> {
    let action = || format!("configuring the listeners of ALB {}", spec.name);
    let existing = elb
        .describe_listeners()
        .load_balancer_arn(alb_arn)
        .send()
        .await
        .context(action)?;
    let listener = |port: i32| {
        existing
            .listeners()
            .iter()
            .find(|l| l.port() == Some(port))
            .and_then(|l| l.listener_arn())
            .map(str::to_owned)
    };
    let http_action = if spec.certificate_arn.is_some() {
        redirect_to_https()
    } else {
        forward(tg_arn)
    };
    let http = async {
        match listener(80) {
            Some(arn) => {
                elb.modify_listener()
                    .listener_arn(arn)
                    .default_actions(http_action)
                    .send()
                    .await
                    .context(action)?;
            }
            None => {
                elb.create_listener()
                    .load_balancer_arn(alb_arn)
                    .protocol(ProtocolEnum::Http)
                    .port(80)
                    .default_actions(http_action)
                    .set_tags(Some(lb_tags(spec.tags)))
                    .send()
                    .await
                    .context(action)?;
            }
        }
        Ok(())
    };
    let https = async {
        if let (Some(cert), Some(gate)) = (spec.certificate_arn, &spec.certificate_issued) {
            wait::passed(gate.clone()).await.map_err(|why| PartError {
                action: action(),
                cause: Cause::Unexpected(format!(
                    "not served, as ACM certificate {cert} was not issued: {why}"
                )),
            })?;
        }
        match (spec.certificate_arn, listener(443)) {
            (Some(cert), Some(arn)) => {
                elb.modify_listener()
                    .listener_arn(arn)
                    .ssl_policy(TLS_POLICY)
                    .certificates(Certificate::builder().certificate_arn(cert).build())
                    .default_actions(forward(tg_arn))
                    .send()
                    .await
                    .context(action)?;
            }
            (Some(cert), None) => {
                // "CertificateNotFound" right after the certificate was issued: ACM propagation.
                let deadline = Instant::now() + Duration::from_secs(120);
                retry::on_codes(&action(), &["CertificateNotFound"], deadline, || async {
                    elb.create_listener()
                        .load_balancer_arn(alb_arn)
                        .protocol(ProtocolEnum::Https)
                        .port(443)
                        .ssl_policy(TLS_POLICY)
                        .certificates(Certificate::builder().certificate_arn(cert).build())
                        .default_actions(forward(tg_arn))
                        .set_tags(Some(lb_tags(spec.tags)))
                        .send()
                        .await
                        .map(|_| ())
                })
                .await
                .context(action)?;
            }
            (None, Some(arn)) => {
                elb.delete_listener()
                    .listener_arn(arn)
                    .send()
                    .await
                    .context(action)?;
            }
            (None, None) => {}
        }
        Ok::<_, PartError>(())
    };
    // Port 80 redirects only once 443 answers, and forwards again before 443 goes.
    if spec.certificate_arn.is_some() {
        https.await?;
        http.await
    } else {
        http.await?;
        https.await
    }
}

async fn sync_tags(elb: &Client, arn: &str, want: &Tags) -> PartResult<()> {
    let action = || format!("tagging {arn}");
    let out = elb
        .describe_tags()
        .resource_arns(arn)
        .send()
        .await
        .context(action)?;
    let have: Tags = out
        .tag_descriptions()
        .iter()
        .flat_map(|d| d.tags())
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    let changes = crate::tags::diff(&have, want);
    if !changes.stale.is_empty() {
        elb.remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(changes.stale))
            .send()
            .await
            .context(action)?;
    }
    if !changes.changed.is_empty() {
        elb.add_tags()
            .resource_arns(arn)
            .set_tags(Some(lb_tags(&changes.changed)))
            .send()
            .await
            .context(action)?;
    }
    Ok(())
}

/// hashicorp/aws polls every 10 s after a 30 s delay; we start early and back off.
async fn wait_active(elb: &Client, name: &str, timeout: Duration) -> PartResult<LoadBalancer> {
    wait::until(timeout, || async {
        Ok(match find_alb(elb, name).await? {
            Some(alb) => match alb.state().and_then(|s| s.code()) {
                Some(LoadBalancerStateEnum::Active) => Poll::Ready(alb),
                Some(LoadBalancerStateEnum::Failed) => {
                    return Err(AwsError {
                        code: Some("Failed".into()),
                        message: alb
                            .state()
                            .and_then(|s| s.reason())
                            .unwrap_or("the ALB failed")
                            .into(),
                    })
                }
                state => Poll::Pending(state.map_or("unknown".into(), |s| s.as_str().to_owned())),
            },
            None => Poll::Pending("not visible yet".into()),
        })
    })
    .await
    .context(|| format!("waiting for ALB {name} to become active"))
}

/// Deletes the ALB (its listeners go with it) and waits until it is gone.
pub async fn delete_alb(elb: &Client, alb_name: &str, timeout: Duration) -> PartResult<()> {
    if let Some(alb) = find_alb(elb, alb_name)
        .await
        .context(|| format!("reading ALB {alb_name}"))?
    {
        let arn = alb.load_balancer_arn().unwrap_or_default();
        tracing::info!("deleting ALB {alb_name}");
        elb.delete_load_balancer()
            .load_balancer_arn(arn)
            .send()
            .await
            .context(|| format!("deleting ALB {alb_name}"))?;
        wait::until_gone(timeout, || find_alb(elb, alb_name))
            .await
            .context(|| format!("waiting for ALB {alb_name} to be deleted"))?;
    }
    Ok(())
}

/// Lets the target group's targets go without draining: `deregistration_delay.timeout_seconds`
/// (0-3600 s, 300 by default) set to 0, for a load balancer nothing routes to any more. Until
/// it has passed, the load balancer lets a deregistering target finish its in-flight requests
/// and Auto Scaling waits before terminating it
/// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay,
/// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyTargetGroupAttributes.html).
/// A target group already gone is left alone.
pub async fn stop_draining(elb: &Client, tg_name: &str) -> PartResult<()> {
    let Some(tg) = find_target_group(elb, tg_name)
        .await
        .context(|| format!("reading target group {tg_name}"))?
    else {
        return Ok(());
    };
    tracing::info!("setting the deregistration delay of target group {tg_name} to 0");
    let delay = aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
        .key("deregistration_delay.timeout_seconds")
        .value("0")
        .build();
    match elb
        .modify_target_group_attributes()
        .target_group_arn(tg.target_group_arn().unwrap_or_default())
        .attributes(delay)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Err(err) if err.is_not_found() => Ok(()),
        other => other
            .map(|_| ())
            .context(|| format!("setting the deregistration delay of target group {tg_name}")),
    }
}

/// Deletes the target group once its ALB is gone. "ResourceInUse: Target group is currently in
/// use by a listener or a rule" is retried while the ALB's deletion settles.
pub async fn delete_target_group(elb: &Client, tg_name: &str, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    if let Some(tg) = find_target_group(elb, tg_name)
        .await
        .context(|| format!("reading target group {tg_name}"))?
    {
        let arn = tg.target_group_arn().unwrap_or_default();
        tracing::info!("deleting target group {tg_name}");
        let result = retry::on_codes(
            &format!("deleting target group {tg_name}"),
            &["ResourceInUse"],
            deadline,
            || async {
                elb.delete_target_group()
                    .target_group_arn(arn)
                    .send()
                    .await
                    .map(|_| ())
            },
        )
        .await;
        match result {
            Err(err) if err.is_not_found() => {}
            other => other.context(|| format!("deleting target group {tg_name}"))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::region_of_dns_name;

    #[test]
    fn load_balancer_names_carry_their_region() {
        assert_eq!(
            region_of_dns_name("alb-primary-prod-1.us-east-1.elb.amazonaws.com"),
            Some("us-east-1")
        );
        assert_eq!(
            region_of_dns_name("dualstack.x-9.us-east-2.elb.amazonaws.com."),
            Some("us-east-2")
        );
        assert_eq!(region_of_dns_name("example.com"), None);
    }
}
