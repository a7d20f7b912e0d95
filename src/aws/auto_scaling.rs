//! The Auto Scaling group of a region: in the private subnets, ELB health checks, the target
//! group attached, group metrics on, a CPU target-tracking policy; instance refreshes that
//! launch before they terminate; waits for capacity (ending at a failed launch), and drains
//! before it is deleted.

use std::time::Duration;

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, InstanceRefreshStatus, LaunchTemplateSpecification, MetricType,
    PredefinedMetricSpecification, RefreshPreferences, ScalingActivityStatusCode, Tag,
    TargetTrackingConfiguration,
};
use aws_sdk_autoscaling::Client;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use aws_smithy_types::DateTime;
use tokio::time::Instant;

use super::error::{AwsError, Context, PartResult};
use super::retry;
use super::wait::{self, Poll};
use crate::tags::Tags;

pub struct GroupSpec<'a> {
    pub name: &'a str,
    pub policy_name: &'a str,
    pub template_id: &'a str,
    pub template_version: i64,
    pub min: i32,
    pub max: i32,
    /// Sent only when it differs from the one the configuration last set (see
    /// `CONFIGURED_DESIRED_KEY`).
    pub desired: i32,
    pub subnets: &'a [String],
    pub target_group_arn: &'a str,
    pub grace_period: i32,
    pub cpu_target: f64,
    pub tags: &'a Tags,
}

/// "ScalingActivityInProgress" / "ResourceInUse" while a previous change is still running.
const BUSY: &[&str] = &["ScalingActivityInProgress", "ResourceInUse"];
const BUSY_RETRY: Duration = Duration::from_secs(300);
/// hashicorp/aws retries this for 2 minutes (IAM propagation).
const PROFILE_PROPAGATION: Duration = Duration::from_secs(120);

/// The desired capacity the configuration last set, kept on the group: the target-tracking
/// policy owns the live value in between ("every scaling action would introduce state drift",
/// https://learn.hashicorp.com/tutorials/terraform/aws-asg; hashicorp/aws sends
/// `DesiredCapacity` only when the attribute changes). So an apply sends it only when the
/// configuration changed it, and a read reports it instead of the policy's moves.
const CONFIGURED_DESIRED_KEY: &str = "tap:desired-capacity";

/// The desired capacity the configuration last set on `group`, if it was set by this provider.
pub fn configured_desired(group: &AutoScalingGroup) -> Option<i32> {
    group
        .tags()
        .iter()
        .find(|t| t.key() == Some(CONFIGURED_DESIRED_KEY))
        .and_then(|t| t.value())
        .and_then(|v| v.parse().ok())
}

fn configured_desired_tag(name: &str, desired: i32) -> Tag {
    Tag::builder()
        .resource_id(name)
        .resource_type("auto-scaling-group")
        .key(CONFIGURED_DESIRED_KEY)
        .value(desired.to_string())
        .propagate_at_launch(false)
        .build()
}

fn asg_tags(name: &str, tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .key(k)
                .value(v)
                .propagate_at_launch(true)
                .build()
        })
        .collect()
}

pub async fn find(asg: &Client, name: &str) -> Result<Option<AutoScalingGroup>, AwsError> {
    let out = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await?;
    Ok(out
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(name))
        .cloned())
}

/// The target value of the group's CPU target-tracking policy; `None` when the policy is gone.
pub async fn cpu_target(asg: &Client, group: &str, policy: &str) -> Result<Option<f64>, AwsError> {
    let out = asg
        .describe_policies()
        .auto_scaling_group_name(group)
        .policy_names(policy)
        .send()
        .await?;
    Ok(out
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == Some(policy))
        .and_then(|p| p.target_tracking_configuration())
        .and_then(|c| c.target_value()))
}

fn template(spec: &GroupSpec<'_>) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification::builder()
        .launch_template_id(spec.template_id)
        .version(spec.template_version.to_string())
        .build()
}

/// Creates or updates the group; `true` when its instances run an older launch template version
/// and need a refresh (see `refresh`).
pub async fn ensure(asg: &Client, spec: &GroupSpec<'_>) -> PartResult<bool> {
    let name = spec.name;
    let existing = find(asg, name)
        .await
        .context(|| format!("reading Auto Scaling group {name}"))?;
    let zones = spec.subnets.join(",");
    let refresh_due = match &existing {
        None => {
            tracing::info!("creating Auto Scaling group {name}");
            // A new instance profile takes a while to reach EC2: "ValidationError: You must use
            // a valid fully-formed launch template. Invalid IAM Instance Profile name".
            let deadline = Instant::now() + PROFILE_PROPAGATION;
            let what = format!("creating Auto Scaling group {name}");
            let propagating = |err: &AwsError| {
                err.is("ValidationError") && err.message.contains("Invalid IAM Instance Profile")
            };
            retry::when(&what, propagating, deadline, || {
                retry::create_once(
                    &what,
                    &["AlreadyExists"],
                    || async { Ok(find(asg, name).await?.map(|_| ())) },
                    || async {
                        send_once!(
                            asg.create_auto_scaling_group()
                                .auto_scaling_group_name(name)
                                .launch_template(template(spec))
                                .min_size(spec.min)
                                .max_size(spec.max)
                                .desired_capacity(spec.desired)
                                .vpc_zone_identifier(&zones)
                                .target_group_arns(spec.target_group_arn)
                                .health_check_type("ELB")
                                .health_check_grace_period(spec.grace_period)
                                .set_tags(Some(
                                    asg_tags(name, spec.tags)
                                        .into_iter()
                                        .chain([configured_desired_tag(name, spec.desired)])
                                        .collect(),
                                )),
                            aws_sdk_autoscaling
                        )
                        .await
                        .map(|_| ())
                    },
                )
            })
            .await
            .context(|| format!("creating Auto Scaling group {name}"))?;
            false
        }
        Some(group) => {
            let version_changed = group
                .launch_template()
                .and_then(|t| t.version())
                .is_some_and(|v| v != spec.template_version.to_string());
            let desired_changed = configured_desired(group) != Some(spec.desired);
            let deadline = Instant::now() + BUSY_RETRY;
            retry::on_codes(
                &format!("updating Auto Scaling group {name}"),
                BUSY,
                deadline,
                || async {
                    asg.update_auto_scaling_group()
                        .auto_scaling_group_name(name)
                        .launch_template(template(spec))
                        .min_size(spec.min)
                        .max_size(spec.max)
                        .set_desired_capacity(desired_changed.then_some(spec.desired))
                        .vpc_zone_identifier(&zones)
                        .health_check_type("ELB")
                        .health_check_grace_period(spec.grace_period)
                        .send()
                        .await
                        .map(|_| ())
                },
            )
            .await
            .context(|| format!("updating Auto Scaling group {name}"))?;
            if !group
                .target_group_arns()
                .iter()
                .any(|a| a == spec.target_group_arn)
            {
                asg.attach_load_balancer_target_groups()
                    .auto_scaling_group_name(name)
                    .target_group_arns(spec.target_group_arn)
                    .send()
                    .await
                    .context(|| format!("attaching the target group to {name}"))?;
            }
            let mut tags = asg_tags(name, spec.tags);
            if desired_changed {
                tags.push(configured_desired_tag(name, spec.desired));
            }
            asg.create_or_update_tags()
                .set_tags(Some(tags))
                .send()
                .await
                .context(|| format!("tagging Auto Scaling group {name}"))?;
            version_changed
        }
    };
    if existing
        .as_ref()
        .is_none_or(|g| g.enabled_metrics().is_empty())
    {
        asg.enable_metrics_collection()
            .auto_scaling_group_name(name)
            .granularity("1Minute")
            .send()
            .await
            .context(|| format!("enabling group metrics on {name}"))?;
    }
    asg.put_scaling_policy()
        .auto_scaling_group_name(name)
        .policy_name(spec.policy_name)
        .policy_type("TargetTrackingScaling")
        .target_tracking_configuration(
            TargetTrackingConfiguration::builder()
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::AsgAverageCpuUtilization)
                        .build(),
                )
                .target_value(spec.cpu_target)
                .build(),
        )
        .send()
        .await
        .context(|| format!("putting the CPU target-tracking policy of {name}"))?;
    Ok(refresh_due)
}

/// Sets the group's minimum and desired capacity, and nothing else (a planned failover scales
/// the standby without converging the rest of its stack); no request when both are as wanted.
/// The desired capacity is recorded as the configuration's, as `ensure` does, so that a read
/// reports it.
pub async fn scale(
    asg: &Client,
    group: &AutoScalingGroup,
    min: i32,
    desired: i32,
) -> PartResult<()> {
    let name = group.auto_scaling_group_name().unwrap_or_default();
    let desired_changed = configured_desired(group) != Some(desired);
    if group.min_size() == Some(min) && !desired_changed {
        return Ok(());
    }
    let what = || format!("scaling Auto Scaling group {name} to {desired} (minimum {min})");
    tracing::info!("{}", what());
    retry::on_codes(&what(), BUSY, Instant::now() + BUSY_RETRY, || async {
        asg.update_auto_scaling_group()
            .auto_scaling_group_name(name)
            .min_size(min)
            .set_desired_capacity(desired_changed.then_some(desired))
            .send()
            .await
            .map(|_| ())
    })
    .await
    .context(what)?;
    if desired_changed {
        asg.create_or_update_tags()
            .tags(configured_desired_tag(name, desired))
            .send()
            .await
            .context(|| format!("tagging Auto Scaling group {name}"))?;
    }
    Ok(())
}

/// Replaces the group's instances with ones of its current launch template version, launching
/// each replacement before terminating what it replaces, and waits until the refresh has
/// succeeded. AWS's defaults (MinHealthyPercentage 90, MaxHealthyPercentage 100) terminate
/// first, which takes a one-instance group to zero
/// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/understand-instance-refresh-default-values.html).
pub async fn refresh(asg: &Client, name: &str, timeout: Duration) -> PartResult<()> {
    tracing::info!("refreshing the instances of Auto Scaling group {name}");
    let started = asg
        .start_instance_refresh()
        .auto_scaling_group_name(name)
        .preferences(
            RefreshPreferences::builder()
                .min_healthy_percentage(100)
                .max_healthy_percentage(200)
                .build(),
        )
        .send()
        .await
        .map_err(AwsError::from);
    let id = match started {
        Ok(out) => out.instance_refresh_id().map(str::to_owned),
        // One an earlier apply started is still running: wait for that one (AWS lists the
        // newest first).
        Err(err) if err.is("InstanceRefreshInProgress") => None,
        Err(err) => {
            return Err(err).context(|| format!("starting an instance refresh of {name}"));
        }
    };
    wait::until(timeout, || async {
        let out = asg
            .describe_instance_refreshes()
            .auto_scaling_group_name(name)
            .set_instance_refresh_ids(id.clone().map(|id| vec![id]))
            .send()
            .await?;
        let Some(refresh) = out.instance_refreshes().first() else {
            return Ok(Poll::Pending("not listed yet".into()));
        };
        let status = refresh.status().map_or("", |s| s.as_str()).to_owned();
        Ok(match refresh.status() {
            Some(InstanceRefreshStatus::Successful) => Poll::Ready(()),
            Some(
                InstanceRefreshStatus::Pending
                | InstanceRefreshStatus::InProgress
                | InstanceRefreshStatus::Baking,
            ) => Poll::Pending(status),
            _ => Poll::Failed(format!(
                "instance refresh {} ended {status}: {}",
                refresh.instance_refresh_id().unwrap_or_default(),
                refresh.status_reason().unwrap_or("no reason given")
            )),
        })
    })
    .await
    .context(|| format!("waiting for the instance refresh of Auto Scaling group {name}"))
}

/// How much of a group can take traffic right now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// `None` when the group does not exist.
    pub desired: Option<i32>,
    /// Instances InService and Healthy in the group.
    pub in_service: usize,
    /// Targets healthy in the target group (what evaluate-target-health looks at).
    pub healthy_targets: usize,
}

pub async fn capacity(
    asg: &Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
    target_group_arn: &str,
) -> Result<Capacity, AwsError> {
    let group = find(asg, name).await?;
    let in_service = group
        .as_ref()
        .map(|g| {
            g.instances()
                .iter()
                .filter(|i| {
                    i.lifecycle_state().map(|s| s.as_str()) == Some("InService")
                        && i.health_status() == Some("Healthy")
                })
                .count()
        })
        .unwrap_or(0);
    let health = elb
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await?;
    let healthy_targets = health
        .target_health_descriptions()
        .iter()
        .filter(|d| {
            d.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy)
        })
        .count();
    Ok(Capacity {
        desired: group.and_then(|g| g.desired_capacity()),
        in_service,
        healthy_targets,
    })
}

/// Waits until the group's live desired capacity is InService and Healthy in the group and
/// healthy in the target group (hashicorp/aws's wait_for_capacity, default 10m). A launch that
/// failed since `since` ends the wait at once with AWS's reason, as hashicorp/aws's
/// waitGroupCapacitySatisfied does: AWS reports it only as a failed scaling activity.
pub async fn wait_capacity(
    asg: &Client,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
    target_group_arn: &str,
    since: DateTime,
    timeout: Duration,
    longest_delay: Duration,
) -> PartResult<()> {
    wait::until_every(timeout, longest_delay, || async {
        let Capacity {
            desired,
            in_service,
            healthy_targets: healthy,
        } = capacity(asg, elb, name, target_group_arn).await?;
        let Some(desired) = desired else {
            return Ok(Poll::Pending("the group is not listed yet".into()));
        };
        if in_service >= desired as usize && healthy >= desired as usize {
            return Ok(Poll::Ready(()));
        }
        if let Some(reason) = failed_launch(asg, name, since).await? {
            return Ok(Poll::Failed(format!("a scaling activity failed: {reason}")));
        }
        Ok(Poll::Pending(format!(
            "{in_service} of {desired} InService, {healthy} healthy in the target group"
        )))
    })
    .await
    .context(|| format!("waiting for Auto Scaling group {name} to reach its capacity"))
}

/// The StatusMessage of the newest scaling activity of the group that failed since `since`.
/// "Invalid IAM Instance Profile" is left out: AWS retries it while a new profile propagates
/// (hashicorp/aws leaves it out for that reason).
async fn failed_launch(
    asg: &Client,
    name: &str,
    since: DateTime,
) -> Result<Option<String>, AwsError> {
    let out = asg
        .describe_scaling_activities()
        .auto_scaling_group_name(name)
        .send()
        .await?;
    Ok(out
        .activities()
        .iter()
        .filter(|a| a.status_code() == Some(&ScalingActivityStatusCode::Failed))
        .filter(|a| a.start_time().is_some_and(|t| t.secs() >= since.secs()))
        .filter_map(|a| a.status_message())
        .find(|m| !m.contains("Invalid IAM Instance Profile"))
        .map(str::to_owned))
}

/// Deletes the scaling policy, scales the group to zero and waits until it is drained, then
/// deletes it and waits until it is gone.
pub async fn delete(
    asg: &Client,
    name: &str,
    policy_name: &str,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    if find(asg, name)
        .await
        .context(|| format!("reading Auto Scaling group {name}"))?
        .is_none()
    {
        return Ok(());
    }
    tracing::info!("draining and deleting Auto Scaling group {name}");
    match asg
        .delete_policy()
        .auto_scaling_group_name(name)
        .policy_name(policy_name)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Err(err) if err.is("ValidationError") => {}
        other => {
            other.context(|| format!("deleting the scaling policy of {name}"))?;
        }
    }
    retry::on_codes(
        &format!("scaling {name} to zero"),
        BUSY,
        deadline,
        || async {
            asg.update_auto_scaling_group()
                .auto_scaling_group_name(name)
                .min_size(0)
                .max_size(0)
                .desired_capacity(0)
                .send()
                .await
                .map(|_| ())
        },
    )
    .await
    .context(|| format!("scaling Auto Scaling group {name} to zero"))?;
    wait::until(
        deadline.saturating_duration_since(Instant::now()),
        || async {
            let left = find(asg, name).await?.map_or(0, |g| g.instances().len());
            Ok(if left == 0 {
                Poll::Ready(())
            } else {
                Poll::Pending(format!("{left} instances left"))
            })
        },
    )
    .await
    .context(|| format!("waiting for Auto Scaling group {name} to drain"))?;
    let result = retry::on_codes(
        &format!("deleting Auto Scaling group {name}"),
        BUSY,
        deadline,
        || async {
            asg.delete_auto_scaling_group()
                .auto_scaling_group_name(name)
                .force_delete(true)
                .send()
                .await
                .map(|_| ())
        },
    )
    .await;
    match result {
        Err(err) if err.is("ValidationError") && err.message.contains("not found") => {}
        other => other.context(|| format!("deleting Auto Scaling group {name}"))?,
    }
    wait::until_gone(deadline.saturating_duration_since(Instant::now()), || {
        find(asg, name)
    })
    .await
    .context(|| format!("waiting for Auto Scaling group {name} to be deleted"))
}
