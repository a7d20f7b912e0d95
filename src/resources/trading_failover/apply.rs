//! Apply-time orchestration of `tap_trading_failover`: each part is converged, read and deleted
//! by its own resource's code; this module only orders them and shares the instance role.

use std::future::Future;
use std::time::Duration;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use futures::FutureExt;
use tf_provider::value::Value;
use tokio::time::Instant;

use super::desired::{Capacity, Desired};
use super::parts::{
    additional_prefix, additional_standbys, auto_tls, builds_nat, certificate_part,
    region_from_stack, PerRegion,
};
use super::plan::table_settings;
use super::schema::{Region, SessionTableSettings, State};
use super::tls;
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::wait::{self, remaining};
use crate::aws::{auto_scaling, instance_role};
use crate::configured::Configured;
use crate::naming;
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::desired::{EndpointSpec, Recorded, TopicArns};
use crate::resources::dns_failover::schema::State as DnsState;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::desired::Desired as StackDesired;
use crate::resources::regional_stack::schema::State as StackState;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::schema::State as TableState;
use crate::resources::session_table::SessionTable;
use crate::resources::steps::step;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::number::{whole, Number};
use crate::tf::values::{self, known_list};

/// The policy of the shared instance role: item access to the table in every region of
/// `account`. Built from the table's ARNs before the table exists, so neither waits for the
/// other.
fn role_policy(want: &Desired, account: &str, table: &str) -> String {
    let arns: Vec<String> = want
        .all_regions()
        .into_iter()
        .map(|region| format!("arn:aws:dynamodb:{region}:{account}:table/{table}"))
        .collect();
    instance_role::policy_document(want.suffix(), Some(&instance_role::table_statements(&arns)))
}

/// The instance role and profile both regions share.
async fn converge_role(cfg: &Configured, want: &Desired, table: &str) -> PartResult<String> {
    let name = naming::shared_instance_role(want.suffix());
    let account = cfg.account_id().await?;
    let policy = role_policy(want, &account, table);
    instance_role::ensure(
        &cfg.clients.iam,
        &name,
        &policy,
        &want.tags(naming::INSTANCE_ROLE, &name),
    )
    .await
}

/// The table beside the rest; the instance role beside the certificates' requests (and, when
/// HTTPS is turned off, the health check moved to HTTP), then both regions at once while ACM
/// validates the certificates; DNS once both load balancers exist. A planned failover scales the standby to the primary's live capacity (and
/// waits for healthy targets) before the weights move; a failback moves the weights first and
/// scales the standby down after. An instance refresh runs in the standby region first: the
/// primary's starts once the standby's has succeeded and its targets are healthy again, so one
/// region serves throughout.
pub async fn converge(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    if let Some(prior) = &want.failover_from {
        return fail_over(cfg, want, prior, timeout).await;
    }
    let deadline = Instant::now() + timeout;
    step("regions", "", &[], check_regions(cfg, want)).await?;
    let table_part = step("table", "", &["regions"], async {
        if want.replace_table {
            SessionTable::delete(cfg, &want.table.want, timeout).await?;
        }
        SessionTable::converge(cfg, &want.table.want, timeout).await
    })
    .shared();
    let table_done = table_part.clone();
    let rest = async {
        // The certificates are requested beside the role; ACM validates them while both stacks
        // are built, and their HTTPS listeners wait until ACM has issued them (ELB refuses a
        // certificate still pending).
        let (requested, (profile, capacities), ()) = tokio::try_join!(
            async {
                match auto_tls(&want.state) {
                    true => step("certificates", "", &["regions"], tls::request(cfg, want))
                        .await
                        .map(Some),
                    false => Ok(None),
                }
            },
            step("role", "", &["regions"], async {
                let profile = converge_role(cfg, want, &want.table.want.name).await?;
                Ok((profile, standby_capacities(cfg, want).await?))
            }),
            async {
                match want.checks_http_first {
                    true => {
                        step(
                            "http-check",
                            "",
                            &["regions"],
                            check_http_first(cfg, want, deadline),
                        )
                        .await
                    }
                    false => Ok(()),
                }
            },
        )?;
        // The primary's certificate is the 0th; standby k's the (k + 1)th.
        let certificate = |i: usize| requested.as_ref().and_then(|r| r.arn(i));
        let (keeper, issued) = wait::gate();
        let validated = step(
            "validation",
            "",
            &["certificates"],
            tls::validate_opening(cfg, requested.as_ref(), keeper, deadline),
        );
        let gate = requested.as_ref().map(|_| issued);
        let primary = serving(
            want.stack(Role::Primary, Some(&profile), None),
            certificate(0),
        );
        let capacity = |k: usize| capacities.get(k).copied().flatten();
        let standby_stack = |k: usize, capacity: Option<Capacity>| {
            serving(
                want.standby_stack(k, Some(&profile), capacity),
                certificate(k + 1),
            )
        };
        let standby = standby_stack(0, capacity(0));
        let additional: Vec<StackDesired> = (1..=want.additional_regions().len())
            .map(|k| standby_stack(k, capacity(k)))
            .collect();
        // A stack the update leaves alone is not converged (the standby's always is while its
        // capacity is other than configured).
        let converged = |stack: &StackDesired, capacity: Option<Capacity>| {
            capacity.is_some() || !want.leaves_alone(&stack.region)
        };
        let standby_done = {
            let converge = converged(&standby, capacity(0));
            let (standby, gate) = (&standby, gate.clone());
            async move {
                match converge {
                    true => {
                        let converge = RegionalStack::converge_after(
                            cfg,
                            standby,
                            remaining(deadline),
                            async { Ok(()) },
                            gate,
                        );
                        stack_step(standby, converge).await
                    }
                    false => Ok(()),
                }
            }
        }
        .shared();
        let primary_after = standby_done.clone();
        let further_gate = gate.clone();
        let primary_done = async {
            match converged(&primary, None) {
                true => {
                    let converge = RegionalStack::converge_after(
                        cfg,
                        &primary,
                        remaining(deadline),
                        primary_after,
                        gate,
                    );
                    stack_step(&primary, converge).await
                }
                false => Ok(()),
            }
        };
        // Further standbys are built beside the first.
        let further = futures::future::try_join_all(
            additional
                .iter()
                .zip(1..)
                .filter(|(stack, k)| converged(stack, capacity(*k)))
                .map(|(stack, _)| stack)
                .map(|stack| {
                    let converge = RegionalStack::converge_after(
                        cfg,
                        stack,
                        remaining(deadline),
                        async { Ok(()) },
                        further_gate.clone(),
                    );
                    stack_step(stack, converge)
                }),
        );
        let stacks = async {
            let (serving_pair, further) = tokio::join!(
                async { both(tokio::join!(primary_done, standby_done)).map(|_| ()) },
                further,
            );
            serving_pair?;
            further.map(|_| ())
        };
        tokio::try_join!(validated, stacks)?;
        // The stacks serve no HTTPS any more: the certificates `tls = "auto"` obtained go.
        if want.drops_certificates {
            tls::delete(cfg, want, remaining(deadline)).await?;
        }
        step("dns", "", &["stack", "validation"], async {
            let endpoints = routing(
                cfg,
                PerRegion {
                    primary: &primary,
                    standbys: std::iter::once(&standby).chain(&additional).collect(),
                },
            )
            .await?;
            let dns = want.dns(endpoints.map(Some));
            DnsFailover::converge_checked(cfg, &dns, remaining(deadline)).await
        })
        .await?;
        // A standby kept above its configuration for a failback is scaled back once the
        // weights have moved off it.
        let scaled_back: Vec<StackDesired> = (0..capacities.len())
            .filter(|&k| capacity(k).is_some() && want.active_standby() != Some(k))
            .map(|k| standby_stack(k, None))
            .collect();
        if !scaled_back.is_empty() {
            let scale_back = futures::future::try_join_all(
                scaled_back
                    .iter()
                    .map(|stack| RegionalStack::converge(cfg, stack, remaining(deadline))),
            );
            step("scale-back", "", &["dns"], scale_back).await?;
        }
        remove_standbys(cfg, want, &profile, table_done, deadline).await
    };
    both(tokio::join!(table_part, rest))?;
    Ok(())
}

/// A region's stack, as the step the steps of its converge run inside: begun once the instance
/// role exists, the certificates are requested and the health check checks what the stacks
/// will serve (`check_http_first`).
fn stack_step<'a, T>(
    stack: &StackDesired,
    converge: impl Future<Output = T> + 'a,
) -> impl Future<Output = T> + 'a {
    step(
        "stack",
        &stack.region,
        &["role", "certificates", "http-check"],
        converge,
    )
}

/// The stacks of the standbys this update removes, once DNS no longer routes to them (the DNS
/// part converged first) and the table no longer replicates to their regions (`table_done`).
/// One that took no traffic goes without draining, as a system being destroyed does (only a
/// chain that found the primary and every standby before it down answered with it); one that
/// did (this update fails back from it) drains, since clients may still hold its address.
async fn remove_standbys(
    cfg: &Configured,
    want: &Desired,
    profile: &str,
    table_done: impl std::future::Future<Output = PartResult<()>>,
    deadline: Instant,
) -> PartResult<()> {
    if want.removed_standbys.is_empty() {
        return Ok(());
    }
    table_done.await?;
    let removed =
        futures::future::try_join_all(want.removed_standbys.iter().map(|removed| async {
            // On the shared profile: the stack has no role of its own to delete.
            let stack = StackDesired {
                instance_profile_arn: Some(profile.to_owned()),
                ..removed.stack.clone()
            };
            match removed.served {
                true => RegionalStack::delete(cfg, &stack, remaining(deadline)).await?,
                false => {
                    RegionalStack::delete_when(cfg, &stack, remaining(deadline), async { Ok(()) })
                        .await?
                }
            }
            // Its listeners are gone with its load balancer: its certificate may go.
            match want.finds_certificates() {
                true => tls::delete_in(cfg, want, &stack.region).await,
                false => Ok(()),
            }
        }));
    step("standbys-removed", "", &["dns", "table"], removed).await?;
    Ok(())
}

/// A stack that serves HTTPS with the certificate `tls = "auto"` obtained for it, if any.
fn serving(mut stack: StackDesired, certificate: Option<String>) -> StackDesired {
    if certificate.is_some() {
        stack.certificate_arn = certificate;
    }
    stack
}

/// The certificate a prior apply recorded under `tls = "auto"` for the stack whose parts are
/// under `prefix`.
fn recorded_certificate(prior: &State, prefix: &str) -> Option<String> {
    Some(recorded(prior, &certificate_part(prefix))).filter(|arn| !arn.is_empty())
}

/// Every region can hold its stack (enabled for the account, enough zones offering the
/// instance type) before anything is made in either: the table is made beside the stacks.
async fn check_regions(cfg: &Configured, want: &Desired) -> PartResult<()> {
    // The instance profile plays no part in choosing zones; it does not exist yet.
    let stacks: Vec<StackDesired> = Role::ALL
        .map(|role| want.stack(role, None, None))
        .into_iter()
        .chain(want.additional_stacks(None))
        .collect();
    futures::future::try_join_all(stacks.iter().map(|s| RegionalStack::check_zones(cfg, s)))
        .await?;
    Ok(())
}

/// Both results once both finished: a failure in one region does not cut the other short in
/// the middle of a step, so the next apply has less to resume.
fn both<A, B>(results: (PartResult<A>, PartResult<B>)) -> PartResult<(A, B)> {
    Ok((results.0?, results.1?))
}

/// The Auto Scaling group of `role` in `region` as AWS holds it now.
async fn live_group(
    cfg: &Configured,
    want: &Desired,
    role: Role,
    region: &str,
) -> PartResult<Option<AutoScalingGroup>> {
    let name = naming::stack_part(naming::AUTO_SCALING_GROUP, role, want.suffix());
    auto_scaling::find(&cfg.clients.regional(region).autoscaling, &name)
        .await
        .context(|| format!("reading Auto Scaling group {name} in {region}"))
}

/// Each standby's capacity other than its configured one, if any, in order of preference. A
/// planned failover scales the standby it moves to to the primary's live capacity (what serves
/// the traffic now, which target tracking may have raised above the configuration) and keeps its
/// minimum there until failback, so its own policy cannot scale it in meanwhile; applies during
/// the failover keep that floor. A failback keeps what it runs (a minimum above the configured
/// one) until the weights are back on the primary.
async fn standby_capacities(cfg: &Configured, want: &Desired) -> PartResult<Vec<Option<Capacity>>> {
    let (primary_region, regions) = (want.region(Role::Primary), want.standby_regions());
    let (primary, standbys) = tokio::try_join!(
        live_group(cfg, want, Role::Primary, &primary_region),
        futures::future::try_join_all(regions.iter().map(|region| live_group(
            cfg,
            want,
            Role::Standby,
            region
        ))),
    )?;
    let primary_desired = primary
        .as_ref()
        .and_then(|g| g.desired_capacity())
        .map(i64::from);
    Ok(standbys
        .iter()
        .enumerate()
        .map(|(k, group)| capacity_beside(want, k, primary_desired, group.as_ref()))
        .collect())
}

/// The capacity of the standby at place `k` (see `standby_capacities`) beside a primary
/// running `primary_desired`, from the standby's group as AWS holds it.
fn capacity_beside(
    want: &Desired,
    k: usize,
    primary_desired: Option<i64>,
    standby: Option<&AutoScalingGroup>,
) -> Option<Capacity> {
    let block = want.standby_block(k);
    let configured_min = whole(&block.min_size).unwrap_or(1);
    let configured = whole(&block.desired_capacity).unwrap_or(1);
    let max = whole(&block.max_size).unwrap_or(i64::MAX);
    let live_min = standby.and_then(|g| g.min_size()).map(i64::from);
    if want.active_standby() == Some(k) {
        let floor = [Some(configured), primary_desired, live_min]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(1)
            .min(max);
        return Some(Capacity {
            min: floor.max(configured_min),
            desired: floor.max(configured),
        });
    }
    match live_min {
        Some(min) if min > configured_min => Some(Capacity {
            min,
            desired: standby
                .and_then(|g| g.desired_capacity())
                .map_or(min, i64::from)
                .max(min),
        }),
        _ => None,
    }
}

/// A planned failover and nothing else (`Desired::failover_from`): the standby `active_region`
/// names (the first or a further one) scaled to the primary's capacity as the last read
/// recorded it (`primary_running_capacity`: reading it now would call the primary region), then
/// the weights and the standby-traffic alarm. Every ID
/// comes from the prior state; only Route 53 and the standby region are called, so the move
/// works while the primary region's APIs do not. Only the standby's group is scaled: the rest
/// of its stack is as the last read found it (the plan's refresh, or the last apply's under
/// `-refresh=false`), and the weights move only once its targets are healthy, so a standby
/// broken since then stops the failover instead of taking the traffic. Its capacity is polled
/// promptly: traffic waits for it.
async fn fail_over(
    cfg: &Configured,
    want: &Desired,
    prior: &State,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let started = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    let k = want.active_standby().unwrap_or(0);
    let region = want
        .standby_regions()
        .into_iter()
        .nth(k)
        .unwrap_or_default();
    let standby_group = live_group(cfg, want, Role::Standby, &region).await?;
    let primary = whole(&prior.primary_running_capacity).or(whole(
        &super::parts::region_settings(prior, Role::Primary).desired_capacity,
    ));
    let capacity = capacity_beside(want, k, primary, standby_group.as_ref());
    let standby_endpoint = recorded_endpoints(prior)
        .standbys
        .into_iter()
        .nth(k)
        .flatten();
    match (standby_group, capacity, standby_endpoint) {
        (Some(group), Some(Capacity { min, desired }), Some(endpoint)) => {
            let clients = cfg.clients.regional(&region);
            auto_scaling::scale(&clients.autoscaling, &group, min as i32, desired as i32).await?;
            auto_scaling::wait_capacity(
                &clients.autoscaling,
                &clients.elbv2,
                group.auto_scaling_group_name().unwrap_or_default(),
                &endpoint.target_group_arn,
                started,
                remaining(deadline),
                wait::PROMPT_DELAY,
            )
            .await?;
        }
        // The group went since the refresh: the whole standby stack is made again first.
        (_, capacity, _) => {
            let standby = serving(
                want.standby_stack(k, Some(&recorded(prior, "instance_role")), capacity),
                recorded_certificate(prior, &want.standby_prefix(k)),
            );
            RegionalStack::converge(cfg, &standby, remaining(deadline)).await?;
        }
    }
    let dns = want.dns(recorded_endpoints(prior));
    DnsFailover::converge_move(cfg, &dns, &recorded_dns(prior), remaining(deadline)).await
}

/// A part's ID as the prior apply recorded it in `parts`.
fn recorded(prior: &State, key: &str) -> String {
    values::known_map(&prior.parts)
        .and_then(|parts| parts.get(key).cloned())
        .unwrap_or_default()
}

/// The load balancers the prior apply recorded.
fn recorded_endpoints(prior: &State) -> PerRegion<Option<EndpointSpec>> {
    super::plan::prior_endpoints(prior).map(|e| EndpointSpec::from_state(&e))
}

/// The DNS part's IDs the prior apply recorded.
fn recorded_dns(prior: &State) -> Recorded {
    let further_topics = values::known_map(&prior.standby_topic_arns).unwrap_or_default();
    Recorded {
        zone_id: id(&prior.zone_id),
        health_check_id: id(&prior.health_check_id),
        record_check_id: recorded(prior, "dns.record_health_check"),
        topics: TopicArns {
            primary: id(&prior.primary_topic_arn),
            standbys: std::iter::once(id(&prior.standby_topic_arn))
                .chain(additional_standbys(prior).iter().map(|block| {
                    block
                        .region
                        .as_ref_option()
                        .and_then(|r| further_topics.get(r).cloned())
                        .unwrap_or_default()
                }))
                .collect(),
            health_check: super::plan::health_check_topic(prior)
                .as_ref_option()
                .cloned(),
        },
    }
}

/// The read-back of a planned failover alone: the active standby's stack, the records and its
/// standby-traffic alarm as AWS holds them; the primary's parts, the table, the role and the
/// rest of DNS as the planned state carries them over from the prior one, unread.
async fn observe_failover(
    cfg: &Configured,
    want: &Desired,
    planned: &State,
    prior: &State,
) -> PartResult<Option<State>> {
    let profile = recorded(prior, "instance_role");
    let k = want.active_standby().unwrap_or(0);
    let standby = serving(
        want.standby_stack(k, Some(&profile), None),
        recorded_certificate(prior, &want.standby_prefix(k)),
    );
    let stack_state = match k {
        0 => want.stack_state(Role::Standby),
        k => want.additional_stack_state(k - 1),
    };
    let dns = want.dns(recorded_endpoints(prior));
    let recorded = recorded_dns(prior);
    let (stack, (records, alarm)) = tokio::try_join!(
        RegionalStack::observe(cfg, &standby, stack_state),
        DnsFailover::observe_move(cfg, &dns, &recorded),
    )?;
    let mut state = planned.clone();
    let mut parts = values::known_map(&planned.parts).unwrap_or_default();
    match k {
        0 => compose_region(&mut state, &mut parts, planned, want, Role::Standby, stack),
        k => compose_further(&mut state, &mut parts, planned, want, k - 1, stack),
    }
    state.parts = values::map(&parts);
    state.records = values::map(&records);
    let mut alarms = values::known_map(&prior.alarms).unwrap_or_default();
    alarms.remove(&dns.active_traffic_alarm());
    alarms.extend(alarm);
    state.alarms = values::map(&alarms);
    Ok(Some(state))
}

/// The load balancers the regional stacks route through: only they are read, not the stacks.
async fn routing<'a>(
    cfg: &'a Configured,
    stacks: PerRegion<&'a StackDesired>,
) -> PartResult<PerRegion<EndpointSpec>> {
    let found = endpoints(cfg, stacks.clone()).await?;
    let required = |endpoint: Option<EndpointSpec>, stack: &StackDesired| {
        endpoint.ok_or_else(|| PartError {
            action: format!("reading the load balancer in {}", stack.region),
            cause: Cause::Unexpected("the regional stack has no load balancer yet".into()),
        })
    };
    Ok(PerRegion {
        primary: required(found.primary, stacks.primary)?,
        standbys: (found.standbys.into_iter().zip(stacks.standbys))
            .map(|(endpoint, stack)| required(endpoint, stack))
            .collect::<PartResult<_>>()?,
    })
}

/// Each stack's load balancer as DNS points at it, where it exists.
async fn endpoints<'a>(
    cfg: &'a Configured,
    stacks: PerRegion<&'a StackDesired>,
) -> PartResult<PerRegion<Option<EndpointSpec>>> {
    let endpoint = |stack: &'a StackDesired| async move {
        let found = RegionalStack::routing(cfg, stack).await?;
        Ok::<_, PartError>(found.map(|r| EndpointSpec {
            region: stack.region.clone(),
            alb_dns_name: r.alb_dns_name,
            alb_zone_id: r.alb_zone_id,
            alb_arn: r.alb_arn,
            target_group_arn: r.target_group_arn,
            kms_key_arn: None,
        }))
    };
    let (primary, standbys) = tokio::try_join!(
        endpoint(stacks.primary),
        futures::future::try_join_all(stacks.standbys.into_iter().map(endpoint)),
    )?;
    Ok(PerRegion { primary, standbys })
}

/// Under `Desired::checks_http_first`, before the stacks take their HTTPS listeners away: the
/// DNS part but its records, at the load balancers as they are, so the health check checks
/// plain HTTP first (the HTTP listener still answers, redirecting, and Route 53 counts a 3xx as
/// healthy: "the endpoint must respond with an HTTP status code of 2xx or 3xx",
/// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
/// Where a load balancer is missing nothing serves to be checked, and the usual order stands.
async fn check_http_first(cfg: &Configured, want: &Desired, deadline: Instant) -> PartResult<()> {
    let primary = want.stack(Role::Primary, None, None);
    let standbys: Vec<StackDesired> = (0..=want.additional_regions().len())
        .map(|k| want.standby_stack(k, None, None))
        .collect();
    let found = endpoints(
        cfg,
        PerRegion {
            primary: &primary,
            standbys: standbys.iter().collect(),
        },
    )
    .await?;
    if found.primary.is_none() || found.standbys.iter().any(Option::is_none) {
        tracing::info!(
            "a load balancer is missing: the health check moves to HTTP after the stacks"
        );
        return Ok(());
    }
    DnsFailover::converge_all_but_records(cfg, &want.dns(found), remaining(deadline)).await
}

/// The instance profile's ARN, and whether the role's policy is the one this resource gives it
/// (a policy widened or removed outside Terraform is drift to repair).
async fn observe_role(
    cfg: &Configured,
    want: &Desired,
    table: &str,
) -> PartResult<(Option<String>, bool)> {
    let name = naming::shared_instance_role(want.suffix());
    let read = || format!("reading IAM role {name}");
    let (profile, held) = tokio::try_join!(
        async {
            instance_role::find_profile(&cfg.clients.iam, &name)
                .await
                .context(read)
        },
        async {
            instance_role::policy(&cfg.clients.iam, &name)
                .await
                .context(read)
        },
    )?;
    // arn:aws:iam::<account>:instance-profile/<name>
    let account = profile.as_deref().and_then(|arn| arn.split(':').nth(4));
    let intact = match (account, held) {
        (Some(account), Some(held)) => {
            serde_json::from_str::<serde_json::Value>(&role_policy(want, account, table)).ok()
                == Some(held)
        }
        _ => false,
    };
    Ok((profile, intact))
}

/// Every part read by its own resource's code, then mapped onto this resource's state.
pub async fn observe(cfg: &Configured, want: &Desired, prior: &State) -> PartResult<Option<State>> {
    if let Some(before) = &want.failover_from {
        return observe_failover(cfg, want, prior, before).await;
    }
    // A certificate read that fails (ACM refusing the credentials) does not hide the rest: a
    // failed apply still saves what it made, and the certificates show as missing, to be found
    // again by their tags. While `tls` is turned off, those not deleted yet stay in `parts`
    // (served by no stack), so that a failed apply leaves the next one something to delete.
    let certificates = if want.finds_certificates() {
        let observed = tls::observe(cfg, want).await.unwrap_or_else(|err| {
            tracing::warn!("{err}; the certificates show as missing");
            tls::Observed::missing(want)
        });
        Some(match auto_tls(&want.state) {
            true => observed,
            false => observed.leftovers(),
        })
    } else {
        None
    };
    let certificate = |i: usize| certificates.as_ref().and_then(|c| c.arn(i));
    // The stacks are read beside the role: a stack's read finds its parts by their names, and
    // the shared profile it runs on is the role's read's to report.
    let primary = serving(want.stack(Role::Primary, None, None), certificate(0));
    let standby = serving(want.stack(Role::Standby, None, None), certificate(1));
    // The DNS part is read beside the stacks: its read goes by names and recorded IDs, not by
    // the load balancers it points at (their records' targets are read from Route 53).
    let mut dns = want.dns(recorded_endpoints(prior));
    dns.read_tags = false;
    // What the last read found, so the DNS part reads its zone and topics by ID.
    let mut dns_prior = want.dns_state().clone();
    dns_prior.zone_id = prior.zone_id.clone();
    dns_prior.primary_topic_arn = prior.primary_topic_arn.clone();
    dns_prior.standby_topic_arn = prior.standby_topic_arn.clone();
    dns_prior.standby_topic_arns = prior.standby_topic_arns.clone();
    dns_prior.health_check_topic_arn = super::plan::health_check_topic(prior);
    // And the topics' keys, so that each is read beside its topic.
    let recorded = |part: &str| super::plan::recorded_part(prior, part);
    dns_prior.primary_topic_key_arn = recorded("dns.primary_topic_key");
    dns_prior.standby_topic_key_arn = recorded("dns.standby_topic_key");
    dns_prior.health_check_topic_key_arn =
        recorded(&format!("{}_key", super::plan::HEALTH_CHECK_TOPIC));
    let further_keys: Tags = want
        .additional_regions()
        .into_iter()
        .filter_map(|region| {
            let key = recorded(&format!("dns.standby_topic_key.{region}"));
            Some((region, key.as_ref_option()?.clone()))
        })
        .collect();
    dns_prior.standby_topic_key_arns = values::map(&further_keys);
    let additional: Vec<StackDesired> = want
        .additional_stacks(None)
        .into_iter()
        .zip(2..)
        .map(|(stack, i)| serving(stack, certificate(i)))
        .collect();
    let stack_prior = recorded_stack_ids(want, prior);
    // The table's ARN as last read: its tags are read beside the table.
    let mut table_prior = want.table.state.clone();
    table_prior.arn = prior.table_arn.clone();
    let (
        (profile, role_intact),
        table_state,
        (primary_state, primary_running),
        standby_state,
        additional_states,
        dns_state,
    ) = tokio::try_join!(
        observe_role(cfg, want, &want.table.want.name),
        SessionTable::observe(cfg, &want.table.want, &table_prior),
        // The primary's running capacity comes from the same read of its group.
        RegionalStack::observe_running(cfg, &primary, &stack_prior[0]),
        RegionalStack::observe(cfg, &standby, &stack_prior[1]),
        futures::future::try_join_all(
            additional
                .iter()
                .zip(&stack_prior[2..])
                .map(|(stack, prior)| RegionalStack::observe(cfg, stack, prior))
        ),
        DnsFailover::observe(cfg, &dns, &dns_prior),
    )?;
    if table_state.is_none()
        && primary_state.is_none()
        && standby_state.is_none()
        && additional_states.iter().all(Option::is_none)
        && dns_state.is_none()
        && profile.is_none()
    {
        return Ok(None);
    }
    let mut state = compose(
        prior,
        want,
        Observed {
            stacks: PerRegion {
                primary: primary_state,
                standbys: std::iter::once(standby_state)
                    .chain(additional_states)
                    .collect(),
            },
            table: table_state,
            dns: dns_state,
            profile: profile.filter(|_| role_intact),
        },
    );
    state.primary_running_capacity =
        primary_running.map_or(Value::Null, |n| Value::Value(Number(f64::from(n))));
    if let Some(certificates) = certificates {
        let mut parts = values::known_map(&state.parts).unwrap_or_default();
        parts.extend(certificates.parts);
        state.parts = values::map(&parts);
    }
    Ok(Some(state))
}

/// Each stack as planned (primary, standby, then the further standbys), with the VPC and load
/// balancer the last read recorded in `parts`: its read then reads what hangs off them at once.
fn recorded_stack_ids(want: &Desired, prior: &State) -> Vec<StackState> {
    let parts = values::known_map(&prior.parts).unwrap_or_default();
    let planned = [
        (
            Role::Primary.as_str().to_owned(),
            want.stack_state(Role::Primary),
        ),
        (
            Role::Standby.as_str().to_owned(),
            want.stack_state(Role::Standby),
        ),
    ]
    .into_iter()
    .chain(
        want.additional_regions()
            .into_iter()
            .enumerate()
            .map(|(i, region)| (additional_prefix(&region), want.additional_stack_state(i))),
    );
    planned
        .map(|(prefix, planned)| {
            let mut state = planned.clone();
            let recorded = |part: &str| {
                parts
                    .get(&format!("{prefix}.{part}"))
                    .filter(|id| !id.is_empty())
                    .map_or(Value::Null, values::string)
            };
            state.vpc_id = recorded("vpc");
            state.alb_arn = recorded("alb");
            state
        })
        .collect()
}

/// Every part as its own resource's read found it.
struct Observed {
    stacks: PerRegion<Option<StackState>>,
    table: Option<TableState>,
    dns: Option<DnsState>,
    profile: Option<String>,
}

/// This resource's state from its parts' states.
fn compose(prior: &State, want: &Desired, observed: Observed) -> State {
    let Observed {
        stacks,
        table,
        dns,
        profile,
    } = observed;
    let mut state = prior.clone();
    let mut parts = Tags::new();
    // Every region applies the one list; a CIDR only some regions allow is marked so.
    let PerRegion { primary, standbys } = stacks;
    let mut standbys = standbys.into_iter();
    let standby = standbys.next().flatten();
    let additional: Vec<Option<StackState>> = standbys.collect();
    let labels = Role::ALL
        .map(|role| role.as_str().to_owned())
        .into_iter()
        .chain(
            want.additional_regions()
                .into_iter()
                .map(|r| additional_prefix(&r)),
        );
    let ingress: Vec<(String, std::collections::BTreeSet<String>)> = [&primary, &standby]
        .into_iter()
        .chain(&additional)
        .zip(labels)
        .filter_map(|(stack, label)| {
            let cidrs = known_list(&stack.as_ref()?.allowed_cidrs)?;
            Some((label, cidrs.into_iter().collect()))
        })
        .collect();
    if !ingress.is_empty() {
        let ingress: Vec<(&str, _)> = ingress
            .iter()
            .map(|(r, c)| (r.as_str(), c.clone()))
            .collect();
        state.allowed_cidrs =
            values::list_like(&prior.allowed_cidrs, &values::held_by_all(&ingress));
    }
    for (role, stack) in Role::ALL.into_iter().zip([primary, standby]) {
        compose_region(&mut state, &mut parts, prior, want, role, stack);
    }
    compose_additional(&mut state, &mut parts, prior, want, additional);
    state.table_settings = table
        .as_ref()
        .map_or(Value::Value(Default::default()), table_settings);
    // How the table replicates is what DynamoDB holds: a table made otherwise shows as drift.
    if let Some(table) = &table {
        let settings = super::parts::table_settings_block(prior);
        state.session_table = Value::Value(SessionTableSettings {
            consistency: table.consistency.clone(),
            witness_region: table.witness_region.clone(),
            // The user's word, not AWS's: as configured, else its default.
            allow_data_loss: settings.allow_data_loss.or(Value::Value(false)),
        });
    }
    let table = table.unwrap_or_default();
    state.table_arn = values::string(id(&table.arn));
    parts.insert("table".into(), id(&table.arn));
    let replicas = values::known_map(&table.replica_arns).unwrap_or_default();
    parts.insert(
        "table.replica".into(),
        replicas
            .get(&want.region(Role::Standby))
            .cloned()
            .unwrap_or_default(),
    );
    for region in want.additional_regions() {
        let replica = replicas.get(&region).cloned().unwrap_or_default();
        parts.insert(format!("table.replica.{region}"), replica);
    }
    let dns = dns.unwrap_or_default();
    for (key, value) in [
        ("dns.zone", &dns.zone_id),
        ("dns.health_check", &dns.health_check_id),
        ("dns.switch_health_check", &dns.switch_health_check_id),
        ("dns.record_health_check", &dns.record_health_check_id),
        ("dns.primary_topic", &dns.primary_topic_arn),
        ("dns.standby_topic", &dns.standby_topic_arn),
    ] {
        parts.insert(key.into(), id(value));
    }
    // A topic on another key than the user's is drift too.
    for (role, key) in [
        (Role::Primary, &dns.primary_topic_key_arn),
        (Role::Standby, &dns.standby_topic_key_arn),
    ] {
        let users = super::parts::region_settings(&want.state, role).kms_key_arn;
        let key = id(key);
        let part = match users.as_ref_option() {
            Some(users) if *users != key => String::new(),
            _ => key,
        };
        parts.insert(format!("dns.{role}_topic_key"), part);
    }
    // Each further standby's topic, and its key as the standbys' keys are checked above.
    let topics = values::known_map(&dns.standby_topic_arns).unwrap_or_default();
    let keys = values::known_map(&dns.standby_topic_key_arns).unwrap_or_default();
    let blocks = super::parts::additional_standbys(&want.state);
    for (region, block) in want.additional_regions().into_iter().zip(blocks) {
        let key = keys.get(&region).cloned().unwrap_or_default();
        let key = match block.kms_key_arn.as_ref_option() {
            Some(users) if *users != key => String::new(),
            _ => key,
        };
        let topic = topics.get(&region).cloned().unwrap_or_default();
        parts.insert(format!("dns.standby_topic.{region}"), topic);
        parts.insert(format!("dns.standby_topic_key.{region}"), key);
    }
    if super::plan::health_check_topic_needed(&want.state) {
        let topic = super::plan::HEALTH_CHECK_TOPIC;
        parts.insert(topic.into(), id(&dns.health_check_topic_arn));
        parts.insert(format!("{topic}_key"), id(&dns.health_check_topic_key_arn));
    }
    state.zone_id = values::string(id(&dns.zone_id));
    state.name_servers = dns.name_servers.clone().or(Value::Value(Vec::new()));
    state.health_check_id = values::string(id(&dns.health_check_id));
    state.break_glass_command = dns.break_glass_command.clone();
    state.release_command = dns.release_command.clone();
    state.primary_topic_arn = values::string(id(&dns.primary_topic_arn));
    state.standby_topic_arn = values::string(id(&dns.standby_topic_arn));
    // Every standby's region, empty where its topic is missing: the DNS part's plan then knows
    // the topic is to be made.
    let every_standby =
        std::iter::once(want.region(Role::Standby)).chain(want.additional_regions());
    let arns: Tags = every_standby
        .map(|region| {
            let arn = topics.get(&region).cloned().unwrap_or_default();
            (region, arn)
        })
        .collect();
    state.standby_topic_arns = values::map(&arns);
    state.records = dns.records.clone().or(Value::Value(Default::default()));
    state.alarms = dns.alarms.clone().or(Value::Value(Default::default()));
    if dns.health_check.is_value()
        && !dns
            .health_check_id
            .as_ref_option()
            .is_none_or(String::is_empty)
    {
        state.health_check = dns.health_check.clone();
    }
    if dns.alarm_emails.is_value() || prior.alarm_emails.is_value() {
        state.alarm_emails = dns.alarm_emails.clone();
    }
    state.pending_alarm_emails = dns
        .pending_alarm_emails
        .clone()
        .or(Value::Value(Vec::new()));
    parts.insert("instance_role".into(), profile.unwrap_or_default());
    state.parts = values::map(&parts);
    state
}

/// An ID as a part's state has it; empty where it has none.
fn id(v: &Value<String>) -> String {
    v.as_ref_option().cloned().unwrap_or_default()
}

/// A list of IDs joined; empty where one of them is missing.
fn joined(list: &values::StringList) -> String {
    let ids = known_list(list).unwrap_or_default();
    if ids.is_empty() || ids.iter().any(String::is_empty) {
        String::new()
    } else {
        ids.join(",")
    }
}

/// One region's block, outputs and `parts` entries from its stack's state.
fn compose_region(
    state: &mut State,
    parts: &mut Tags,
    prior: &State,
    want: &Desired,
    role: Role,
    stack: Option<StackState>,
) {
    let stack = stack.unwrap_or_default();
    let mut block = region_from_stack(&stack);
    let prior_block = super::parts::region_settings(prior, role);
    // The topic's key is the DNS part's: its drift shows in `parts`.
    block.kms_key_arn = prior_block.kms_key_arn.clone();
    if auto_tls(&want.state) {
        // The certificate `tls = "auto"` requested: it shows in `parts`, not as the user's.
        block.certificate_arn = Value::Null;
    }
    if stack.vpc_id.is_null() {
        // The whole region is gone: keep the configuration, the parts say what is missing.
        block = prior_block.clone();
    } else if role == Role::Standby && want.standby_active() {
        // Scaled to the primary's capacity for a planned failover, as asked: not drift.
        block.min_size = prior_block.min_size;
        block.desired_capacity = prior_block.desired_capacity;
    }
    let drifted = if stack.vpc_id.is_value() {
        drifted_parts(&stack, want.stack_state(role))
    } else {
        Vec::new()
    };
    stack_parts(parts, role.as_str(), &block, &stack, &drifted);
    let (vpc, dns_name, asg) = (
        values::string(id(&stack.vpc_id)),
        values::string(id(&stack.alb_dns_name)),
        values::string(id(&stack.asg_name)),
    );
    if role == Role::Primary {
        state.primary = Value::Value(block);
        (
            state.primary_vpc_id,
            state.primary_alb_dns_name,
            state.primary_asg_name,
        ) = (vpc, dns_name, asg);
        if stack.tags_all.is_value() {
            state.tags_all = stack.tags_all.clone();
        }
    } else {
        state.standby = Value::Value(block);
        (
            state.standby_vpc_id,
            state.standby_alb_dns_name,
            state.standby_asg_name,
        ) = (vpc, dns_name, asg);
    }
}

/// A region's stack's entries in `parts`, under `prefix`; a drifted part's empty.
fn stack_parts(
    parts: &mut Tags,
    prefix: &str,
    block: &Region,
    stack: &StackState,
    drifted: &[&str],
) {
    let subnets = [
        joined(&stack.public_subnet_ids),
        joined(&stack.private_subnet_ids),
    ];
    let groups = [
        id(&stack.alb_security_group_id),
        id(&stack.instance_security_group_id),
    ];
    let entries = [
        ("vpc", id(&stack.vpc_id)),
        (
            "subnets",
            if subnets.iter().any(String::is_empty) {
                String::new()
            } else {
                subnets.join(",")
            },
        ),
        ("internet_gateway", id(&stack.internet_gateway_id)),
        (
            "security_groups",
            if groups.iter().any(String::is_empty) {
                String::new()
            } else {
                groups.join(",")
            },
        ),
        ("alb", id(&stack.alb_arn)),
        ("alb_zone_id", id(&stack.alb_zone_id)),
        ("listeners", joined(&stack.listener_arns)),
        ("target_group", id(&stack.target_group_arn)),
        ("launch_template", id(&stack.launch_template_id)),
        ("asg", id(&stack.asg_name)),
    ];
    for (part, value) in entries {
        let value = if drifted.contains(&part) {
            String::new()
        } else {
            value
        };
        parts.insert(format!("{prefix}.{part}"), value);
    }
    if builds_nat(block) {
        parts.insert(format!("{prefix}.nat"), joined(&stack.nat_gateway_ids));
    }
}

/// The `additional_standby` blocks, their `parts` entries and every standby's load balancer name
/// from the further standbys' stacks (in the order of `want`'s blocks).
fn compose_additional(
    state: &mut State,
    parts: &mut Tags,
    prior: &State,
    want: &Desired,
    stacks: Vec<Option<StackState>>,
) {
    let mut names = Tags::new();
    names.insert(want.region(Role::Standby), id(&state.standby_alb_dns_name));
    let mut blocks = Vec::new();
    for (i, (region, stack)) in want
        .additional_regions()
        .into_iter()
        .zip(stacks)
        .enumerate()
    {
        let (block, alb_dns_name) = further_block(parts, prior, want, i, &region, stack);
        names.insert(region, alb_dns_name);
        blocks.push(Value::Value(block));
    }
    state.additional_standby = Value::Value(blocks);
    state.standby_alb_dns_names = values::map(&names);
}

/// The `i`th further standby's block, `parts` entries and load balancer name in `state` from
/// its stack alone, the other standbys' as `state` has them.
fn compose_further(
    state: &mut State,
    parts: &mut Tags,
    prior: &State,
    want: &Desired,
    i: usize,
    stack: Option<StackState>,
) {
    let Some(region) = want.additional_regions().get(i).cloned() else {
        return;
    };
    let (block, alb_dns_name) = further_block(parts, prior, want, i, &region, stack);
    let mut blocks = state
        .additional_standby
        .as_ref_option()
        .cloned()
        .unwrap_or_default();
    if let Some(slot) = blocks.get_mut(i) {
        *slot = Value::Value(block);
    }
    state.additional_standby = Value::Value(blocks);
    let mut names = values::known_map(&state.standby_alb_dns_names).unwrap_or_default();
    names.insert(region, alb_dns_name);
    state.standby_alb_dns_names = values::map(&names);
}

/// A further standby's block (the `i`th, in `region`) and its load balancer's name from its
/// stack, its `parts` entries written.
fn further_block(
    parts: &mut Tags,
    prior: &State,
    want: &Desired,
    i: usize,
    region: &str,
    stack: Option<StackState>,
) -> (Region, String) {
    let prior_block = super::parts::additional_standby_blocks(prior)
        .into_iter()
        .find(|b| b.region.as_ref_option().map(String::as_str) == Some(region))
        .unwrap_or_default();
    let stack = stack.unwrap_or_default();
    let block = if stack.vpc_id.is_null() {
        // The whole region is gone: keep the configuration, the parts say what is missing.
        prior_block
    } else if want.active_standby() == Some(i + 1) {
        // Scaled to the primary's capacity for a planned failover, as asked: not drift.
        Region {
            kms_key_arn: prior_block.kms_key_arn,
            min_size: prior_block.min_size,
            desired_capacity: prior_block.desired_capacity,
            ..region_from_stack(&stack)
        }
    } else {
        Region {
            kms_key_arn: prior_block.kms_key_arn,
            ..region_from_stack(&stack)
        }
    };
    // The certificate `tls = "auto"` requested: it shows in `parts`, not as the user's.
    let block = match auto_tls(&want.state) {
        true => Region {
            certificate_arn: Value::Null,
            ..block
        },
        false => block,
    };
    let drifted = if stack.vpc_id.is_value() {
        drifted_parts(&stack, want.additional_stack_state(i))
    } else {
        Vec::new()
    };
    stack_parts(parts, &additional_prefix(region), &block, &stack, &drifted);
    (block, id(&stack.alb_dns_name))
}

/// Settings of a region's parts that this resource does not show as attributes of its own:
/// one AWS holds other than planned empties that part's entry in `parts`, so the plan shows it
/// and the next apply repairs that part.
fn drifted_parts(observed: &StackState, planned: &StackState) -> Vec<&'static str> {
    let health_check = |s: &StackState| {
        (
            s.health_check_path.clone(),
            s.health_check_interval,
            s.health_check_timeout,
            s.healthy_threshold,
            s.unhealthy_threshold,
        )
    };
    [
        ("security_groups", observed.app_port != planned.app_port),
        (
            "target_group",
            health_check(observed) != health_check(planned),
        ),
        ("launch_template", observed.user_data != planned.user_data),
        ("asg", observed.cpu_target != planned.cpu_target),
    ]
    .into_iter()
    .filter_map(|(part, drifted)| drifted.then_some(part))
    .collect()
}

/// DNS (records, health check, zone, alarms, topics) goes before the load balancers, so nothing
/// answers with a load balancer being deleted; every region deletes their NAT gateways meanwhile,
/// and then their groups without draining (nothing routes to them any more); the shared role
/// goes last. The table goes beside all of it.
pub async fn delete(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let role_name = naming::shared_instance_role(want.suffix());
    let profile = instance_role::find_profile(&cfg.clients.iam, &role_name)
        .await
        .context(|| format!("reading instance profile {role_name}"))?;
    let dns = want.dns_unrouted();
    let rest = async {
        let stacks: Vec<StackDesired> = Role::ALL
            .map(|role| want.stack(role, profile.as_deref(), None))
            .into_iter()
            .chain(want.additional_stacks(profile.as_deref()))
            .collect();
        // The NAT gateways go while DNS is deleted; the load balancers and the groups' instances
        // wait until no record points at them, and then go without draining.
        let in_created_zone = want.finds_certificates() && want.state.hosted_zone_id.is_null();
        let unrouted = async {
            // Route 53 deletes only an empty zone: the record goes before the zone it is in.
            if in_created_zone {
                tls::delete_record(cfg, want, remaining(deadline)).await?;
            }
            DnsFailover::delete(cfg, &dns, remaining(deadline)).await
        }
        .shared();
        tokio::try_join!(
            unrouted.clone(),
            futures::future::try_join_all(stacks.iter().map(|stack| {
                RegionalStack::delete_when(cfg, stack, remaining(deadline), unrouted.clone())
            })),
        )?;
        // The listeners are gone with the load balancers: the certificates may go.
        let certificates = async {
            if want.finds_certificates() {
                tls::delete(cfg, want, remaining(deadline)).await
            } else {
                Ok(())
            }
        };
        tokio::try_join!(
            certificates,
            instance_role::delete(&cfg.clients.iam, &role_name),
        )?;
        Ok(())
    };
    tokio::try_join!(SessionTable::delete(cfg, &want.table.want, timeout), rest)?;
    Ok(())
}

/// Import by suffix (`prod`), or with the regions when they are not the defaults
/// (`prod/us-east-1/us-west-2`): each part is imported by its own resource's code.
pub async fn import(cfg: &Configured, id: &str) -> PartResult<Option<State>> {
    let parts: Vec<&str> = id.split('/').collect();
    let (suffix, primary_region, standby_region) = match parts[..] {
        [suffix] => (suffix, Role::Primary.default_region(), Role::Standby.default_region()),
        [suffix, primary, standby] => (suffix, primary, standby),
        _ => {
            return Err(PartError {
                action: format!("importing \"{id}\""),
                cause: Cause::Unexpected("the import ID is <environment_suffix> or <environment_suffix>/<primary_region>/<standby_region>".into()),
            })
        }
    };
    let (primary_id, standby_id) = (
        format!("{primary_region}/{suffix}/primary"),
        format!("{standby_region}/{suffix}/standby"),
    );
    let (primary, standby, dns) = tokio::try_join!(
        RegionalStack::import(cfg, &primary_id),
        RegionalStack::import(cfg, &standby_id),
        DnsFailover::import(cfg, suffix),
    )?;
    if primary.is_none() && standby.is_none() && dns.is_none() {
        return Ok(None);
    }
    let mut config = State {
        environment_suffix: values::string(suffix),
        ..Default::default()
    };
    let active = dns
        .as_ref()
        .and_then(|d| d.active_region.as_ref_option().cloned());
    let failed_over = active.as_deref().is_some_and(|active| {
        Role::parse(active) == Some(Role::Standby) || active == standby_region
    });
    for (role, stack) in Role::ALL.into_iter().zip([&primary, &standby]) {
        let region = if role == Role::Primary {
            primary_region
        } else {
            standby_region
        };
        let mut block = match stack {
            Some(s) => Region {
                region: values::string(region),
                ..region_from_stack(s)
            },
            None => Region {
                region: values::string(region),
                ..Default::default()
            },
        };
        if role == Role::Standby && failed_over {
            // The standby runs at the failover's floor (the primary's capacity), which says
            // nothing of its configuration: the defaults, as a read during the failover keeps
            // the configured values rather than the floor.
            block.min_size = Value::Null;
            block.desired_capacity = Value::Null;
        }
        if role == Role::Primary {
            config.primary = Value::Value(block);
            config.allowed_cidrs = stack
                .as_ref()
                .map_or(Value::Null, |s| s.allowed_cidrs.clone());
            config.environment = stack
                .as_ref()
                .map_or(Value::Null, |s| s.environment.clone());
        } else {
            config.standby = Value::Value(block);
        }
    }
    // Every part carries the user's tags; the stacks read them back.
    config.tags = primary
        .as_ref()
        .or(standby.as_ref())
        .map_or(Value::Null, |s| s.tags.clone());
    // Further standbys are where the DNS part's chain points after the first.
    let further: Vec<String> = dns
        .iter()
        .flat_map(crate::resources::dns_failover::schema::standbys)
        .skip(1)
        .filter_map(|e| e.as_ref_option()?.region.as_ref_option().cloned())
        .collect();
    let further_stacks = futures::future::try_join_all(further.iter().map(|region| {
        let id = format!("{region}/{suffix}/standby");
        async move { RegionalStack::import(cfg, &id).await }
    }))
    .await?;
    config.additional_standby = Value::Value(
        further
            .iter()
            .zip(further_stacks)
            .map(|(region, stack)| {
                let mut block = stack.as_ref().map(region_from_stack).unwrap_or_default();
                if active.as_deref() == Some(region.as_str()) {
                    // At the failover's floor, as the first standby below.
                    block.min_size = Value::Null;
                    block.desired_capacity = Value::Null;
                }
                Value::Value(Region {
                    region: values::string(region),
                    ..block
                })
            })
            .collect(),
    );
    if let Some(dns) = &dns {
        config.domain_name = dns.domain_name.clone();
        config.health_check = dns.health_check.clone();
        config.alarm_emails = dns.alarm_emails.clone();
        config.active_region = dns.active_region.clone();
    }
    let (planned, _) = super::plan::plan(&config, None, &cfg.default_tags);
    let Some(want) = Desired::from_state(&planned, &cfg.default_tags) else {
        return Ok(None);
    };
    observe(cfg, &want, &planned).await
}
