//! The read-back of `tap_regional_stack`: what AWS holds for the stack, as state, by ownership
//! tags and names. The network, the load balancer and the compute are read at the same time (each
//! by its own names: none needs another's IDs); no VPC means no stack. Each part's reader fills
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

/// The action every read of the stack names in its errors.
fn action(want: &Desired) -> String {
    format!("reading the network of {}", want.name(naming::STACK))
}

/// What AWS holds for the stack, as state. `None` when the VPC is gone. A part deleted out of
/// band is recorded as an empty ID, which the next plan turns into its rebuild.
pub async fn observe(cfg: &Configured, want: &Desired, prior: &State) -> PartResult<Option<State>> {
    let clients = cfg.clients.regional(&want.region);
    let (network, load_balancer, compute) = tokio::try_join!(
        network::Network::read(&clients.ec2, want),
        load_balancer::LoadBalancer::read(&clients.elbv2, want),
        compute::Compute::read(cfg, want),
    )?;
    let Some(network) = network else {
        return Ok(None);
    };
    let mut state = prior.clone();
    load_balancer.record(want, &mut state);
    compute.record(&mut state);
    network.record(want, &mut state);
    Ok(Some(state))
}

/// What routes to the stack, read alone; `None` while its load balancer or target group is
/// missing.
pub async fn routing(cfg: &Configured, want: &Desired) -> PartResult<Option<Routing>> {
    load_balancer::routing(&cfg.clients.regional(&want.region).elbv2, want).await
}
