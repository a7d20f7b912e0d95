//! The read-back of `tap_regional_stack`: what AWS holds for the stack, as state, by ownership
//! tags and names. The network, the load balancer and the compute are read at the same time (each
//! by its own names: none needs another's IDs); no VPC means no stack. What hangs off the VPC and
//! the load balancer is read beside them by the IDs the last read recorded (again if those
//! changed), so a refresh waits for one round of requests per region. Each part's reader fills
//! its own attributes.

mod compute;
mod load_balancer;
mod network;

pub use load_balancer::Routing;

use super::desired::Desired;
use super::schema::State;
use crate::aws::error::PartResult;
use crate::configured::Configured;
use crate::naming;
use tf_provider::value::Value;

/// The action every read of the stack names in its errors.
fn action(want: &Desired) -> String {
    format!("reading the network of {}", want.name(naming::STACK))
}

/// What AWS holds for the stack, as state. `None` when the VPC is gone. A part deleted out of
/// band is recorded as an empty ID, which the next plan turns into its rebuild.
pub async fn observe(cfg: &Configured, want: &Desired, prior: &State) -> PartResult<Option<State>> {
    Ok(observe_running(cfg, want, prior).await?.0)
}

/// `observe`, and the capacity the Auto Scaling group runs now (its scaling policy moves it, so
/// the state does not hold it), from the same read of the group.
pub async fn observe_running(
    cfg: &Configured,
    want: &Desired,
    prior: &State,
) -> PartResult<(Option<State>, Option<i32>)> {
    let clients = cfg.clients.regional(&want.region);
    let recorded = |id: &Value<String>| id.as_ref_option().filter(|id| !id.is_empty()).cloned();
    let (vpc, alb) = (recorded(&prior.vpc_id), recorded(&prior.alb_arn));
    let (network, load_balancer, compute) = tokio::try_join!(
        network::Network::read(&clients.ec2, want, vpc.as_deref()),
        load_balancer::LoadBalancer::read(&clients.elbv2, want, alb.as_deref()),
        compute::Compute::read(cfg, want),
    )?;
    let running = compute.running();
    let Some(network) = network else {
        return Ok((None, running));
    };
    let mut state = prior.clone();
    load_balancer.record(want, &mut state);
    compute.record(&mut state);
    network.record(want, &mut state);
    Ok((Some(state), running))
}

/// What routes to the stack, read alone; `None` while its load balancer or target group is
/// missing.
pub async fn routing(cfg: &Configured, want: &Desired) -> PartResult<Option<Routing>> {
    load_balancer::routing(&cfg.clients.regional(&want.region).elbv2, want).await
}
