//! Apply-time work for `tap_regional_stack`: converge one region's stack to the plan, read it
//! back by ownership tags and names, and tear it down in dependency order.

use std::future::Future;
use std::time::Duration;

use aws_sdk_ec2::Client;
use futures::future::join_all;
use tokio::time::Instant;

use super::plan::Desired;
use super::schema::State;
use crate::aws::auto_scaling::{self, GroupSpec};
use crate::aws::ec2::{filter, tag_value, Owner};
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::launch_template::{self, TemplateSpec};
use crate::aws::load_balancer::{self, AlbSpec};
use crate::aws::network::{self, DefaultRoute, SubnetSpec};
use crate::aws::security_groups::{self, Rules, Source};
use crate::aws::wait::remaining;
use crate::aws::{instance_role, nat};
use crate::configured::Configured;
use crate::role::NatMode;
use crate::tags::PART_KEY;
use crate::tf::number::Number;
use crate::tf::values;
use tf_provider::value::Value;

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
    converge_after(cfg, want, timeout, async { Ok(()) }).await
}

/// `converge`, with an instance refresh that starts only once `refresh_after` has succeeded
/// (`tap_trading_failover` refreshes the standby region first).
pub async fn converge_after(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
    refresh_after: impl Future<Output = PartResult<()>>,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    // Launches that fail from here on end the capacity wait.
    let started = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    let clients = cfg.clients.regional(&want.region);
    let owner = want.owner_tags();
    // Before anything is made or changed: zones that cannot run the instance type fail here.
    let zones = zones(cfg, want).await?;
    let (net, (profile_arn, ami)) = tokio::try_join!(
        converge_network(&clients.ec2, want, &owner, &zones),
        instance_inputs(cfg, want, &owner),
    )?;
    let (alb_name, tg_name) = (want.name("alb"), want.name("tg"));
    let alb_tags = owner.tags_for("alb", &alb_name);
    let alb_spec = AlbSpec {
        name: &alb_name,
        target_group_name: &tg_name,
        subnets: &net.public,
        security_group: &net.alb_sg,
        vpc_id: &net.vpc_id,
        app_port: want.app_port,
        health: &want.health_check,
        certificate_arn: want.certificate_arn.as_deref(),
        tags: &alb_tags,
    };
    let tg_arn = load_balancer::ensure_target_group(&clients.elbv2, &alb_spec).await?;
    // The load balancer provisions (minutes on AWS) while NAT egress comes up and the instances
    // boot; their health behind it is checked once both are there.
    let (alb, refresh_due) = tokio::try_join!(
        load_balancer::ensure(&clients.elbv2, &alb_spec, &tg_arn, remaining(deadline)),
        async {
            converge_egress(&clients.ec2, want, &owner, &net, deadline).await?;
            let instance_tags = owner.tags_for("instance", &want.name("app"));
            let (template_id, template_version) = launch_template::ensure(
                &clients.ec2,
                &TemplateSpec {
                    name: &want.name("lt"),
                    ami: &ami,
                    instance_type: &want.instance_type,
                    instance_profile_arn: &profile_arn,
                    security_group: &net.instance_sg,
                    user_data: &want.user_data,
                    tags: &instance_tags,
                },
            )
            .await?;
            auto_scaling::ensure(
                &clients.autoscaling,
                &GroupSpec {
                    name: &want.name("asg"),
                    policy_name: &want.name("cpu"),
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
                },
            )
            .await
        },
    )?;
    if refresh_due {
        refresh_after.await.map_err(|err| PartError {
            action: format!("refreshing the instances of {}", want.name("asg")),
            cause: Cause::Unexpected(format!("not started, as what it waits for failed: {err}")),
        })?;
        auto_scaling::refresh(&clients.autoscaling, &want.name("asg"), remaining(deadline)).await?;
    }
    if want.wait_for_capacity {
        auto_scaling::wait_capacity(
            &clients.autoscaling,
            &clients.elbv2,
            &want.name("asg"),
            &alb.target_group_arn,
            started,
            remaining(deadline),
        )
        .await?;
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
    let vpc_id = network::ensure_vpc(ec2, owner, &want.name("vpc"), &want.vpc_cidr).await?;
    let subnet_specs = |kind: &str, cidrs: &[String], public: bool| -> Vec<SubnetSpec> {
        cidrs
            .iter()
            .zip(zones)
            .enumerate()
            .map(|(i, (cidr, zone))| SubnetSpec {
                part: format!("{kind}-subnet-{}", i + 1),
                name: want.name(&format!("{kind}-{}", i + 1)),
                cidr: cidr.clone(),
                zone: zone.clone(),
                public,
            })
            .collect()
    };
    let public_specs = subnet_specs("public", &want.public_subnets, true);
    let private_specs = subnet_specs("private", &want.private_subnets, false);
    let igw_name = want.name("igw");
    let (public, private, igw) = tokio::try_join!(
        network::ensure_subnets(ec2, owner, &vpc_id, &public_specs),
        network::ensure_subnets(ec2, owner, &vpc_id, &private_specs),
        network::ensure_internet_gateway(ec2, owner, &vpc_id, &igw_name),
    )?;
    network::ensure_route_table(
        ec2,
        owner,
        &vpc_id,
        "public-rt",
        &want.name("public-rt"),
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
        "alb-sg",
        &want.name("alb-sg"),
        "Load balancer: HTTP(S) from the allowed CIDRs and Route 53 health checkers",
        &alb_rules,
    )
    .await?;
    let instance_rules = Rules::from([(want.app_port, Source::Group(alb_sg.clone()))]);
    let instance_sg = security_groups::ensure(
        ec2,
        owner,
        &vpc_id,
        "instance-sg",
        &want.name("instance-sg"),
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
fn open_to_all(want: &Desired) -> bool {
    want.allowed_cidrs.iter().any(|c| c == "0.0.0.0/0")
}

/// The port Route 53 checks the load balancer on: HTTPS when it has a certificate (HTTP then
/// only redirects), else HTTP.
fn health_check_port(want: &Desired) -> i32 {
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
        .map(|i| want.name(&format!("nat-{i}")))
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
        let part = format!("private-rt-{}", i + 1);
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
                    &owner.tags_for("instance-role", role),
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
                launch_template::latest_amazon_linux(&cfg.clients.regional(&want.region).ec2).await
            }
        }
    };
    tokio::try_join!(profile, ami)
}

/// What AWS holds for the stack, as state. `None` when the VPC is gone. A part deleted out of
/// band is recorded as an empty ID, which the next plan turns into its rebuild.
pub async fn observe(cfg: &Configured, want: &Desired, prior: &State) -> PartResult<Option<State>> {
    let ec2 = &cfg.clients.regional(&want.region).ec2;
    let owner = want.owner_tags();
    let read = || format!("reading the network of {}", want.name("stack"));
    let Some(vpc) = network::find_vpc(ec2, &owner).await.context(read)? else {
        return Ok(None);
    };
    let vpc_id = vpc.vpc_id().unwrap_or_default().to_owned();
    let in_vpc = || filter("vpc-id", &vpc_id);
    let (subnets, nats, groups, route_tables) = tokio::try_join!(
        async {
            ec2.describe_subnets()
                .filters(in_vpc())
                .send()
                .await
                .context(read)
        },
        async {
            ec2.describe_nat_gateways()
                .filter(in_vpc())
                .send()
                .await
                .context(read)
        },
        async {
            ec2.describe_security_groups()
                .filters(in_vpc())
                .send()
                .await
                .context(read)
        },
        async {
            ec2.describe_route_tables()
                .filters(in_vpc())
                .send()
                .await
                .context(read)
        },
    )?;
    let part_of = |tags: &[aws_sdk_ec2::types::Tag]| -> Option<String> {
        owner
            .is_member(tags)
            .then(|| tag_value(tags, PART_KEY).map(str::to_owned))
            .flatten()
    };
    let subnet_ids = |kind: &str, count: usize| -> Vec<String> {
        (1..=count)
            .map(|i| {
                let part = format!("{kind}-subnet-{i}");
                subnets
                    .subnets()
                    .iter()
                    .find(|s| part_of(s.tags()).as_deref() == Some(part.as_str()))
                    .and_then(|s| s.subnet_id())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    let public = subnet_ids("public", want.public_subnets.len());
    let private = subnet_ids("private", want.private_subnets.len());
    // The CIDRs AWS holds (what import needs); a missing subnet keeps the planned list, so its
    // rebuild is an update, not a replacement.
    let cidrs_of = |ids: &[String]| -> Option<Vec<String>> {
        ids.iter()
            .map(|id| {
                subnets
                    .subnets()
                    .iter()
                    .find(|s| !id.is_empty() && s.subnet_id() == Some(id.as_str()))
                    .and_then(|s| s.cidr_block())
                    .map(str::to_owned)
            })
            .collect()
    };
    let zones: Vec<String> = public
        .iter()
        .map(|id| {
            subnets
                .subnets()
                .iter()
                .find(|s| s.subnet_id() == Some(id.as_str()))
                .and_then(|s| s.availability_zone())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    // Whether the route table `part` sends 0.0.0.0/0 to `target`, and the route works: a route
    // deleted or left without its target (blackhole) is drift of the target's part.
    let default_route_to = |part: &str, target: &str| {
        route_tables
            .route_tables()
            .iter()
            .filter(|t| part_of(t.tags()).as_deref() == Some(part))
            .flat_map(|t| t.routes())
            .any(|r| {
                r.destination_cidr_block() == Some("0.0.0.0/0")
                    && r.state() == Some(&aws_sdk_ec2::types::RouteState::Active)
                    && (r.gateway_id() == Some(target) || r.nat_gateway_id() == Some(target))
            })
    };
    // A VPC has at most one internet gateway; a public default route that works (active, not
    // blackhole) means it exists and is attached, so the route tells both.
    let igw = route_tables
        .route_tables()
        .iter()
        .filter(|t| part_of(t.tags()).as_deref() == Some("public-rt"))
        .flat_map(|t| t.routes())
        .filter_map(|r| r.gateway_id())
        .find(|id| id.starts_with("igw-") && default_route_to("public-rt", id))
        .unwrap_or_default();
    let live_nat = |n: &&aws_sdk_ec2::types::NatGateway| {
        n.state()
            .is_some_and(|s| s.as_str() == "available" || s.as_str() == "pending")
    };
    let ours_live = nats
        .nat_gateways()
        .iter()
        .filter(live_nat)
        .filter(|n| part_of(n.tags()).is_some_and(|p| p.starts_with("nat-")))
        .count();
    // As many IDs as wanted or found, whichever is more; a missing one is an empty ID.
    let nat_count = want.nat_mode.gateways(public.len()).max(ours_live);
    let mut nat_ids: Vec<String> = (1..=nat_count)
        .map(|i| {
            let part = format!("nat-{i}");
            nats.nat_gateways()
                .iter()
                .filter(live_nat)
                .find(|n| part_of(n.tags()).as_deref() == Some(part.as_str()))
                .and_then(|n| n.nat_gateway_id())
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    // One NAT serves every private route table, or each its own zone's.
    for i in 0..private.len() {
        let serving = if nat_ids.len() == 1 { 0 } else { i };
        if let Some(id) = nat_ids.get_mut(serving) {
            if !id.is_empty() && !default_route_to(&format!("private-rt-{}", i + 1), id) {
                id.clear();
            }
        }
    }
    let group = |part: &str| {
        groups
            .security_groups()
            .iter()
            .find(|g| part_of(g.tags()).as_deref() == Some(part))
            .and_then(|g| g.group_id())
            .unwrap_or_default()
            .to_owned()
    };
    let clients = cfg.clients.regional(&want.region);
    let (alb, tg, template, scaling_group, cpu_target, profile) = tokio::try_join!(
        async {
            load_balancer::find_alb(&clients.elbv2, &want.name("alb"))
                .await
                .context(read)
        },
        async {
            load_balancer::find_target_group(&clients.elbv2, &want.name("tg"))
                .await
                .context(read)
        },
        async {
            launch_template::find(ec2, &want.name("lt"))
                .await
                .context(read)
        },
        async {
            auto_scaling::find(&clients.autoscaling, &want.name("asg"))
                .await
                .context(read)
        },
        async {
            auto_scaling::cpu_target(&clients.autoscaling, &want.name("asg"), &want.name("cpu"))
                .await
                .context(read)
        },
        async {
            match &want.instance_role_name {
                Some(role) => instance_role::find_profile(&cfg.clients.iam, role)
                    .await
                    .context(read),
                None => Ok(want.instance_profile_arn.clone()),
            }
        },
    )?;
    let alb_arn = alb
        .as_ref()
        .and_then(|a| a.load_balancer_arn())
        .unwrap_or_default()
        .to_owned();
    let described = if alb_arn.is_empty() {
        Vec::new()
    } else {
        clients
            .elbv2
            .describe_listeners()
            .load_balancer_arn(&alb_arn)
            .send()
            .await
            .context(read)?
            .listeners()
            .to_vec()
    };
    let listener_on = |port: i32| described.iter().find(|l| l.port() == Some(port));
    let wanted: &[i32] = if want.certificate_arn.is_some() {
        &[80, 443]
    } else {
        &[80]
    };
    let listeners: Vec<String> = if alb_arn.is_empty() {
        Vec::new()
    } else {
        wanted
            .iter()
            .map(|p| {
                listener_on(*p)
                    // A TLS policy changed out of band reads as a missing listener, which the
                    // next plan shows and apply sets back.
                    .filter(|l| load_balancer::has_wanted_tls(l))
                    .and_then(|l| l.listener_arn())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };

    let all_tags = crate::aws::ec2::tag_map(vpc.tags());
    let mut state = prior.clone();
    state.alb_arn = values::string(alb_arn.clone());
    state.alb_dns_name =
        values::string(alb.as_ref().and_then(|a| a.dns_name()).unwrap_or_default());
    state.alb_zone_id = values::string(
        alb.as_ref()
            .and_then(|a| a.canonical_hosted_zone_id())
            .unwrap_or_default(),
    );
    state.target_group_arn = values::string(
        tg.as_ref()
            .and_then(|t| t.target_group_arn())
            .unwrap_or_default(),
    );
    state.listener_arns = values::list(&listeners);
    state.launch_template_id =
        values::string(template.as_ref().map(|t| t.id.clone()).unwrap_or_default());
    state.launch_template_version = template.as_ref().map(|t| Number(t.version as f64)).into();
    if let Some(template) = &template {
        state.ami_id = template.image_id.clone().into();
        state.instance_type = template.instance_type.clone().into();
    } else if state.ami_id.is_unknown() {
        state.ami_id = values::string("");
    }
    state.asg_name = values::string(
        scaling_group
            .as_ref()
            .and_then(|g| g.auto_scaling_group_name())
            .unwrap_or_default(),
    );
    if let Some(group) = &scaling_group {
        // Limits changed outside Terraform show in the plan. The desired capacity is the one the
        // configuration last set: the scaling policy moves the live one, which is not drift.
        state.min_size = group.min_size().map(|n| Number(n as f64)).into();
        state.max_size = group.max_size().map(|n| Number(n as f64)).into();
        state.desired_capacity = auto_scaling::configured_desired(group)
            .or(group.desired_capacity())
            .map(|n| Number(n as f64))
            .into();
        // A policy deleted out of band reads as no target, which the plan shows.
        state.cpu_target = cpu_target.map(Number).into();
    }
    state.instance_profile_arn = values::string(profile.unwrap_or_default());
    read_back_settings(
        &mut state,
        want,
        &groups,
        &part_of,
        tg.as_ref(),
        &listener_on,
        template.as_ref(),
        ours_live,
    );
    state.vpc_id = values::string(vpc_id.clone());
    state.vpc_cidr = vpc.cidr_block().map(str::to_owned).into();
    state.availability_zones = values::list(&zones);
    state.public_subnet_ids = values::list(&public);
    state.private_subnet_ids = values::list(&private);
    if let Some(cidrs) = cidrs_of(&public) {
        state.public_subnets = values::list(&cidrs);
    }
    if let Some(cidrs) = cidrs_of(&private) {
        state.private_subnets = values::list(&cidrs);
    }
    state.internet_gateway_id = values::string(igw);
    state.nat_gateway_ids = values::list(&nat_ids);
    // The health checkers' rule missing (or left after the CIDRs opened to all) is drift of the
    // load balancer's group, which the next apply repairs.
    let checker_ports: Vec<i32> = groups
        .security_groups()
        .iter()
        .find(|g| part_of(g.tags()).as_deref() == Some("alb-sg"))
        .map(security_groups::rules_of)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(port, source)| matches!(source, Source::PrefixList(_)).then_some(port))
        .collect();
    let wanted_ports = if open_to_all(want) {
        Vec::new()
    } else {
        vec![health_check_port(want)]
    };
    state.alb_security_group_id = values::string(if checker_ports == wanted_ports {
        group("alb-sg")
    } else {
        String::new()
    });
    state.instance_security_group_id = values::string(group("instance-sg"));
    if let Some(environment) = all_tags.get("Environment") {
        state.environment = values::string(environment.clone());
    }
    state.tags_all = values::map(&all_tags);
    Ok(Some(state))
}

/// Settings changed outside Terraform come back as AWS holds them, so the plan shows the
/// difference from the configuration and the next apply repairs it: ingress of both security
/// groups, HTTPS certificate, health check, NAT mode, user data.
#[allow(clippy::too_many_arguments)]
fn read_back_settings<'a>(
    state: &mut State,
    want: &Desired,
    groups: &aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput,
    part_of: &dyn Fn(&[aws_sdk_ec2::types::Tag]) -> Option<String>,
    tg: Option<&aws_sdk_elasticloadbalancingv2::types::TargetGroup>,
    listener_on: &dyn Fn(i32) -> Option<&'a aws_sdk_elasticloadbalancingv2::types::Listener>,
    template: Option<&launch_template::TemplateFacts>,
    live_nats: usize,
) {
    let rules = |part: &str| {
        groups
            .security_groups()
            .iter()
            .find(|g| part_of(g.tags()).as_deref() == Some(part))
            .map(security_groups::rules_of)
    };
    if let Some(alb_rules) = rules("alb-sg") {
        let cidrs: Vec<String> = alb_rules
            .iter()
            .filter_map(|(port, source)| match source {
                Source::Cidr(cidr) if *port == 80 => Some(cidr.clone()),
                _ => None,
            })
            .collect();
        let mut wanted = want.allowed_cidrs.clone();
        wanted.sort();
        // Same set: keep the configuration's order, so no diff appears from ordering alone.
        if cidrs != wanted {
            state.allowed_cidrs = values::list(&cidrs);
        }
    }
    if let Some(port) = rules("instance-sg").and_then(|r| r.iter().next().map(|(p, _)| *p)) {
        state.app_port = Value::Value(Number(port as f64));
    }
    state.certificate_arn = listener_on(443)
        .and_then(|l| l.certificates().first())
        .and_then(|c| c.certificate_arn())
        .map(str::to_owned)
        .into();
    if let Some(tg) = tg {
        let number = |n: Option<i32>| n.map(|n| Number(n as f64)).into();
        state.health_check_path = tg.health_check_path().map(str::to_owned).into();
        state.health_check_interval = number(tg.health_check_interval_seconds());
        state.health_check_timeout = number(tg.health_check_timeout_seconds());
        state.healthy_threshold = number(tg.healthy_threshold_count());
        state.unhealthy_threshold = number(tg.unhealthy_threshold_count());
    }
    let zones = want.public_subnets.len();
    state.nat_mode = match live_nats {
        0 => values::string(NatMode::None.as_str()),
        n if n == zones && n > 1 => values::string(NatMode::PerAz.as_str()),
        1 if zones > 1 => values::string(NatMode::Single.as_str()),
        // One zone: single and per_az look alike; keep what was configured.
        _ => state.nat_mode.clone(),
    };
    if let Some(user_data) = template.and_then(|t| t.user_data.clone()) {
        state.user_data = values::string(user_data);
    }
}

/// Deletes in dependency order, what does not depend on each other at the same time: the Auto
/// Scaling group drains while the NAT gateways go and, once `unrouted` says nothing routes
/// traffic to it any more (the DNS records of `tap_trading_failover`), the load balancer; then
/// the target group, launch template, route tables, internet gateway, subnets, security groups,
/// VPC and the instance role. Parts found by name go even when the VPC is already gone, so
/// nothing is left behind.
pub async fn delete_when(
    cfg: &Configured,
    want: &Desired,
    timeout: Duration,
    unrouted: impl Future<Output = PartResult<()>>,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let clients = cfg.clients.regional(&want.region);
    let ec2: &Client = &clients.ec2;
    let owner: Owner = want.owner_tags();
    let vpc = network::find_vpc(ec2, &owner)
        .await
        .context(|| format!("reading {} before deleting it", want.name("vpc")))?;
    let vpc_id = vpc.as_ref().and_then(|v| v.vpc_id());
    let (group, policy) = (want.name("asg"), want.name("cpu"));
    tokio::try_join!(
        auto_scaling::delete(&clients.autoscaling, &group, &policy, remaining(deadline)),
        async {
            unrouted.await?;
            load_balancer::delete_alb(&clients.elbv2, &want.name("alb"), remaining(deadline)).await
        },
        async {
            match vpc_id {
                Some(vpc_id) => nat::delete_from(ec2, &owner, vpc_id, 0, remaining(deadline)).await,
                None => Ok(()),
            }
        },
    )?;
    load_balancer::delete_target_group(&clients.elbv2, &want.name("tg"), remaining(deadline))
        .await?;
    launch_template::delete(ec2, &want.name("lt")).await?;
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

pub async fn delete(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    delete_when(cfg, want, timeout, async { Ok(()) }).await
}
