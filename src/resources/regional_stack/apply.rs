//! Apply-time work for `tap_regional_stack`: converge one region's stack to the plan, and tear
//! it down in dependency order (its read-back is `read`).

use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::Client;
use futures::future::{join_all, FutureExt};
use tokio::time::Instant;

use super::desired::Desired;
use crate::aws::auto_scaling::{self, GroupSpec};
use crate::aws::ec2::Owner;
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::launch_template::{self, TemplateSpec};
use crate::aws::load_balancer::{self, AlbSpec};
use crate::aws::network::{self, DefaultRoute, SubnetSpec};
use crate::aws::security_groups::{self, Rules, Source};
use crate::aws::wait::{self, remaining, Gate};
use crate::aws::{instance_role, nat};
use crate::configured::Configured;
use crate::naming;
use crate::resources::steps::step;

/// What the network stage leaves for the others.
struct Network {
    vpc_id: String,
    public: Vec<String>,
    private: Vec<String>,
    alb_sg: String,
    instance_sg: String,
}

/// Parts in dependency order, independent ones at the same time: the network (VPC, subnets,
/// internet gateway and public routes, security groups) beside the IAM role and AMI lookup;
/// the target group; then the load balancer beside NAT egress, the launch template and the
/// Auto Scaling group; then the instance refresh a new launch template version needs, and the
/// capacity check. Each step finds its object by ownership tags (or name) before creating it.
pub async fn converge(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    converge_after(cfg, want, timeout, async { Ok(()) }, None).await
}

/// `converge`, with an instance refresh that starts only once `refresh_after` has succeeded
/// (`tap_trading_failover` refreshes the standby region first), and the HTTPS listener made only
/// once `certificate_issued` is passed (a certificate still being validated meanwhile).
pub async fn converge_after(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
    refresh_after: impl Future<Output = PartResult<()>>,
    certificate_issued: Option<Gate>,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    // Launches that fail from here on end the capacity wait.
    let started = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    let clients = cfg.clients.regional(&want.region);
    let owner = want.owner_tags();
    let region = want.region.as_str();
    let group_name = want.name(naming::AUTO_SCALING_GROUP);
    // Before anything is made or changed: zones that cannot run the instance type fail here.
    let zones = step("zones", region, &[], zones(cfg, want)).await?;
    let (net, (profile_arn, ami)) = tokio::try_join!(
        step(
            "network",
            region,
            &["zones"],
            converge_network(&clients.ec2, want, &owner, &zones)
        ),
        step(
            "instance-inputs",
            region,
            &["zones"],
            instance_inputs(cfg, want, &owner)
        ),
    )?;
    let (alb_name, tg_name) = (
        want.name(naming::LOAD_BALANCER),
        want.name(naming::TARGET_GROUP),
    );
    let alb_tags = owner.tags_for(naming::LOAD_BALANCER, &alb_name);
    let alb_spec = AlbSpec {
        name: &alb_name,
        target_group_name: &tg_name,
        subnets: &net.public,
        security_group: &net.alb_sg,
        vpc_id: &net.vpc_id,
        app_port: want.app_port,
        health: &want.health_check,
        certificate_arn: want.certificate_arn.as_deref(),
        certificate_issued,
        tags: &alb_tags,
    };
    let tg_arn = step(
        "target-group",
        region,
        &["network", "instance-inputs"],
        load_balancer::ensure_target_group(&clients.elbv2, &alb_spec),
    )
    .await?;
    // The load balancer provisions (minutes on AWS) while NAT egress comes up and the instances
    // boot; their health behind it is checked once both are there.
    let (alb, refresh_due) = tokio::try_join!(
        step(
            "load-balancer",
            region,
            &["target-group"],
            load_balancer::ensure(&clients.elbv2, &alb_spec, &tg_arn, remaining(deadline))
        ),
        async {
            step(
                "egress",
                region,
                &["target-group"],
                converge_egress(&clients.ec2, want, &owner, &net, deadline),
            )
            .await?;
            let instance_tags = owner.tags_for(naming::INSTANCE, &want.name(naming::INSTANCE_NAME));
            let template = TemplateSpec {
                name: &want.name(naming::LAUNCH_TEMPLATE),
                ami: &ami,
                instance_type: &want.instance_type,
                instance_profile_arn: &profile_arn,
                security_group: &net.instance_sg,
                user_data: &want.user_data,
                tags: &instance_tags,
            };
            let (template_id, template_version) = step(
                "launch-template",
                region,
                &["egress"],
                launch_template::ensure(&clients.ec2, &template),
            )
            .await?;
            let policy_name = want.name(naming::CPU_POLICY);
            let spec = GroupSpec {
                name: &group_name,
                policy_name: &policy_name,
                template_id: &template_id,
                template_version,
                min: want.min_size,
                max: want.max_size,
                desired: want.desired_capacity,
                subnets: &net.private,
                target_group_arn: &tg_arn,
                grace_period: want.health_check_grace_period,
                cpu_target: want.cpu_target,
                tags: &instance_tags,
            };
            let group = auto_scaling::ensure(&clients.autoscaling, &spec);
            step("group", region, &["launch-template"], group).await
        },
    )?;
    if refresh_due {
        let waited = step(
            "refresh-after",
            region,
            &["group", "load-balancer"],
            refresh_after,
        );
        waited.await.map_err(|err| PartError {
            action: format!("refreshing the instances of {group_name}"),
            cause: Cause::Unexpected(format!("not started, as what it waits for failed: {err}")),
        })?;
        let refresh = auto_scaling::refresh(&clients.autoscaling, &group_name, remaining(deadline));
        step("refresh", region, &["refresh-after"], refresh).await?;
    }
    if want.wait_for_capacity {
        let capacity = auto_scaling::wait_capacity(
            &clients.autoscaling,
            &clients.elbv2,
            &group_name,
            &alb.target_group_arn,
            started,
            remaining(deadline),
            wait::MAX_DELAY,
        );
        let after: &[&str] = match refresh_due {
            true => &["refresh"],
            false => &["group", "load-balancer"],
        };
        step("capacity", region, after, capacity).await?;
    }
    Ok(())
}

/// The zones of the stack's subnets (`network::zones`): fails when the region cannot hold the
/// stack (not enabled for the account, too few zones offering the instance type).
pub async fn zones(cfg: &Configured, want: &Desired) -> PartResult<Vec<String>> {
    network::zones(
        &cfg.clients.regional(&want.region).ec2,
        &want.owner_tags(),
        &want.region,
        &want.instance_type,
        want.public_subnets.len(),
    )
    .await
}

/// VPC, subnets, internet gateway with the public routes, and both security groups.
async fn converge_network(
    ec2: &Client,
    want: &Desired,
    owner: &Owner,
    zones: &[String],
) -> PartResult<Network> {
    let vpc_id = network::ensure_vpc(ec2, owner, &want.name(naming::VPC), &want.vpc_cidr).await?;
    let subnet_specs = |kind: &str, cidrs: &[String], public: bool| -> Vec<SubnetSpec> {
        cidrs
            .iter()
            .zip(zones)
            .enumerate()
            .map(|(i, (cidr, zone))| SubnetSpec {
                part: naming::subnet_part(kind, i + 1),
                name: want.name(&naming::numbered_part(kind, i + 1)),
                cidr: cidr.clone(),
                zone: zone.clone(),
                public,
            })
            .collect()
    };
    let public_specs = subnet_specs("public", &want.public_subnets, true);
    let private_specs = subnet_specs("private", &want.private_subnets, false);
    let igw_name = want.name(naming::INTERNET_GATEWAY);
    let (public, private, igw) = tokio::try_join!(
        network::ensure_subnets(ec2, owner, &vpc_id, &public_specs),
        network::ensure_subnets(ec2, owner, &vpc_id, &private_specs),
        network::ensure_internet_gateway(ec2, owner, &vpc_id, &igw_name),
    )?;
    network::ensure_route_table(
        ec2,
        owner,
        &vpc_id,
        naming::PUBLIC_ROUTE_TABLE,
        &want.name(naming::PUBLIC_ROUTE_TABLE),
        DefaultRoute::Gateway(igw),
        &public,
    )
    .await?;

    let mut alb_rules = Rules::new();
    let mut ports = vec![80];
    if want.certificate_arn.is_some() {
        ports.push(443);
    }
    for port in ports {
        for cidr in &want.allowed_cidrs {
            alb_rules.insert((port, Source::Cidr(cidr.clone())));
        }
    }
    if !open_to_all(want) {
        let checkers = security_groups::health_checkers_prefix_list(ec2, &want.region).await?;
        alb_rules.insert((health_check_port(want), Source::PrefixList(checkers)));
    }
    let alb_sg = security_groups::ensure(
        ec2,
        owner,
        &vpc_id,
        naming::ALB_SECURITY_GROUP,
        &want.name(naming::ALB_SECURITY_GROUP),
        "Load balancer: HTTP(S) from the allowed CIDRs and Route 53 health checkers",
        &alb_rules,
    )
    .await?;
    let instance_rules = Rules::from([(want.app_port, Source::Group(alb_sg.clone()))]);
    let instance_sg = security_groups::ensure(
        ec2,
        owner,
        &vpc_id,
        naming::INSTANCE_SECURITY_GROUP,
        &want.name(naming::INSTANCE_SECURITY_GROUP),
        "Instances: the app port from the load balancer only",
        &instance_rules,
    )
    .await?;
    Ok(Network {
        vpc_id,
        public,
        private,
        alb_sg,
        instance_sg,
    })
}

/// Whether anyone may reach the load balancer, Route 53's health checkers included.
pub(super) fn open_to_all(want: &Desired) -> bool {
    want.allowed_cidrs.iter().any(|c| c == "0.0.0.0/0")
}

/// The port Route 53 checks the load balancer on: HTTPS when it has a certificate (HTTP then
/// only redirects), else HTTP.
pub(super) fn health_check_port(want: &Desired) -> i32 {
    if want.certificate_arn.is_some() {
        443
    } else {
        80
    }
}

/// NAT gateways (all at once), private routes through them, then surplus gateways removed
/// once no route points at them.
async fn converge_egress(
    ec2: &Client,
    want: &Desired,
    owner: &Owner,
    net: &Network,
    deadline: Instant,
) -> PartResult<()> {
    let nat_count = want.nat_mode.gateways(net.public.len());
    let names: Vec<String> = (1..=nat_count)
        .map(|i| want.name(&naming::numbered_part(naming::NAT_GATEWAY, i)))
        .collect();
    let nats: Vec<String> = join_all(net.public.iter().zip(&names).enumerate().map(
        |(i, (subnet, name))| {
            nat::ensure(
                ec2,
                owner,
                &net.vpc_id,
                i,
                name,
                subnet,
                remaining(deadline),
            )
        },
    ))
    .await
    .into_iter()
    .collect::<PartResult<_>>()?;
    for (i, subnet) in net.private.iter().enumerate() {
        let route = match nats.len() {
            0 => DefaultRoute::None,
            1 => DefaultRoute::Nat(nats[0].clone()),
            _ => DefaultRoute::Nat(nats[i].clone()),
        };
        let part = naming::numbered_part(naming::PRIVATE_ROUTE_TABLE, i + 1);
        network::ensure_route_table(
            ec2,
            owner,
            &net.vpc_id,
            &part,
            &want.name(&part),
            route,
            std::slice::from_ref(subnet),
        )
        .await?;
    }
    nat::delete_from(ec2, owner, &net.vpc_id, nat_count, remaining(deadline)).await
}

/// The instance profile (the role made here, or the caller's) and the AMI.
async fn instance_inputs(
    cfg: &Configured,
    want: &Desired,
    owner: &Owner,
) -> PartResult<(String, String)> {
    let profile = async {
        match (&want.instance_role_name, &want.instance_profile_arn) {
            (Some(role), _) => {
                let policy = instance_role::policy_document(
                    &want.suffix,
                    want.instance_policy_statements.as_deref(),
                );
                instance_role::ensure(
                    &cfg.clients.iam,
                    role,
                    &policy,
                    &owner.tags_for(naming::INSTANCE_ROLE, role),
                )
                .await
            }
            (None, Some(arn)) => Ok(arn.clone()),
            (None, None) => Ok(String::new()),
        }
    };
    let ami = async {
        match &want.ami_id {
            Some(ami) => Ok(ami.clone()),
            None => {
                let ec2 = &cfg.clients.regional(&want.region).ec2;
                let template = want.name(naming::LAUNCH_TEMPLATE);
                launch_template::amazon_linux_for(ec2, &template, &want.instance_type).await
            }
        }
    };
    tokio::try_join!(profile, ami)
}

/// Deletes the stack of a system that goes as a whole (`tap_trading_failover`): once `unrouted`
/// says nothing routes traffic to it any more (its DNS records are gone), its instances need
/// not drain, so its target group's deregistration delay is set to 0 before they are
/// terminated (the load balancer goes at the same time). See `delete_in_order`.
pub async fn delete_when(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
    unrouted: impl Future<Output = PartResult<()>>,
) -> PartResult<()> {
    delete_in_order(cfg, want, timeout, unrouted, Drain::Skip).await
}

/// Deletes the stack alone: its load balancer may still be answered by DNS this resource does
/// not know of, so the instances drain for their target group's deregistration delay.
pub async fn delete(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    delete_in_order(cfg, want, timeout, async { Ok(()) }, Drain::Keep).await
}

/// Whether the instances drain their connections when the stack goes.
#[derive(Clone, Copy, PartialEq)]
enum Drain {
    /// For the target group's deregistration delay, as it is.
    Keep,
    /// Not at all, once `unrouted`: the delay is set to 0 first.
    Skip,
}

/// Deletes in dependency order, what does not depend on each other at the same time: the Auto
/// Scaling group drains (or, with `Drain::Skip`, goes without draining once `unrouted`) while
/// the NAT gateways go and, once `unrouted` says nothing routes traffic to it any more, the
/// load balancer; then the target group, launch template, route tables, internet gateway,
/// subnets, security groups, VPC and the instance role. Parts found by name go even when the
/// VPC is already gone, so nothing is left behind.
async fn delete_in_order(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
    unrouted: impl Future<Output = PartResult<()>>,
    drain: Drain,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let clients = cfg.clients.regional(&want.region);
    let ec2: &Client = &clients.ec2;
    let owner: Owner = want.owner_tags();
    let vpc = network::find_vpc(ec2, &owner)
        .await
        .context(|| format!("reading {} before deleting it", want.name(naming::VPC)))?;
    let vpc_id = vpc.as_ref().and_then(|v| v.vpc_id());
    let (group, policy) = (
        want.name(naming::AUTO_SCALING_GROUP),
        want.name(naming::CPU_POLICY),
    );
    let unrouted = unrouted.shared();
    tokio::try_join!(
        async {
            if drain == Drain::Skip {
                unrouted.clone().await?;
                load_balancer::stop_draining(&clients.elbv2, &want.name(naming::TARGET_GROUP))
                    .await?;
            }
            auto_scaling::delete(&clients.autoscaling, &group, &policy, remaining(deadline)).await
        },
        async {
            unrouted.clone().await?;
            load_balancer::delete_alb(
                &clients.elbv2,
                &want.name(naming::LOAD_BALANCER),
                remaining(deadline),
            )
            .await
        },
        async {
            match vpc_id {
                Some(vpc_id) => nat::delete_from(ec2, &owner, vpc_id, 0, remaining(deadline)).await,
                None => Ok(()),
            }
        },
    )?;
    load_balancer::delete_target_group(
        &clients.elbv2,
        &want.name(naming::TARGET_GROUP),
        remaining(deadline),
    )
    .await?;
    launch_template::delete(ec2, &want.name(naming::LAUNCH_TEMPLATE)).await?;
    if let Some(vpc_id) = vpc_id {
        network::delete_inside(ec2, &owner, vpc_id, remaining(deadline)).await?;
        security_groups::delete(ec2, &owner, vpc_id, remaining(deadline)).await?;
        network::delete_vpc(ec2, vpc_id, remaining(deadline)).await?;
    }
    if let Some(role) = &want.instance_role_name {
        instance_role::delete(&cfg.clients.iam, role).await?;
    }
    Ok(())
}
