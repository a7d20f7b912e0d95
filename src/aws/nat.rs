//! NAT gateways and their elastic IPs: private-subnet egress, `single` (one), `per_az` (one per
//! public subnet) or `none`.

use std::time::Duration;

use aws_sdk_ec2::types::{DomainType, NatGateway, NatGatewayState, ResourceType};
use aws_sdk_ec2::Client;

use super::ec2::{client_token, filter, tag_spec, tag_value, Owner};
use super::error::{ignore_not_found, AwsError, Context, PartResult};
use super::retry;
use super::wait::{self, Poll};
use crate::naming;

async fn nat_gateways(ec2: &Client, vpc_id: &str) -> Result<Vec<NatGateway>, AwsError> {
    Ok(ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .send()
        .await?
        .nat_gateways()
        .to_vec())
}

fn live(nat: &NatGateway) -> bool {
    !matches!(
        nat.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)
    )
}

/// Ensures NAT gateway `index` (part `nat-<n>`) in `subnet_id` exists and is available.
pub async fn ensure(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    index: usize,
    name: &str,
    subnet_id: &str,
    timeout: Duration,
) -> PartResult<String> {
    let part = naming::numbered_part(naming::NAT_GATEWAY, index + 1);
    let existing = nat_gateways(ec2, vpc_id)
        .await
        .context(|| format!("listing NAT gateways of {vpc_id}"))?;
    let id = match existing
        .iter()
        .find(|n| live(n) && owner.owns(n.tags(), &part))
    {
        Some(nat) => nat.nat_gateway_id().unwrap_or_default().to_owned(),
        None => {
            let allocation = ensure_address(ec2, owner, index, name).await?;
            tracing::info!("creating NAT gateway {name} in {subnet_id}");
            ec2.create_nat_gateway()
                .subnet_id(subnet_id)
                .allocation_id(&allocation)
                // One gateway however often the SDK repeats the call; a new token when the
                // gateway is made again on the kept address (see `client_token`).
                .client_token(client_token(subnet_id, &part))
                .tag_specifications(tag_spec(
                    ResourceType::Natgateway,
                    &owner.tags_for(&part, name),
                ))
                .send()
                .await
                .context(|| format!("creating NAT gateway {name}"))?
                .nat_gateway()
                .and_then(|n| n.nat_gateway_id())
                .unwrap_or_default()
                .to_owned()
        }
    };
    wait_state(ec2, &id, true, timeout).await?;
    Ok(id)
}

async fn ensure_address(
    ec2: &Client,
    owner: &Owner,
    index: usize,
    name: &str,
) -> PartResult<String> {
    let part = naming::numbered_part(naming::NAT_ADDRESS, index + 1);
    let find = || async {
        let found = ec2
            .describe_addresses()
            .set_filters(Some(owner.filters(&part)))
            .send()
            .await?;
        Ok(found
            .addresses()
            .iter()
            .find(|a| owner.owns(a.tags(), &part))
            .and_then(|a| a.allocation_id().map(str::to_owned)))
    };
    if let Some(id) = find()
        .await
        .context(|| format!("reading elastic IP for {name}"))?
    {
        return Ok(id);
    }
    tracing::info!("allocating elastic IP for {name}");
    retry::create_once(
        &format!("allocating elastic IP for {name}"),
        &[],
        find,
        || async {
            let out = send_once!(
                ec2.allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(tag_spec(
                        ResourceType::ElasticIp,
                        &owner.tags_for(&part, name),
                    )),
                aws_sdk_ec2
            )
            .await?;
            Ok::<_, AwsError>(out.allocation_id().unwrap_or_default().to_owned())
        },
    )
    .await
    .context(|| format!("allocating elastic IP for {name}"))
}

async fn wait_state(ec2: &Client, id: &str, available: bool, timeout: Duration) -> PartResult<()> {
    wait::until(timeout, || async {
        let found = ec2.describe_nat_gateways().nat_gateway_ids(id).send().await;
        let nat = match found {
            Ok(out) => out.nat_gateways().first().cloned(),
            Err(err) => {
                let err = AwsError::from(err);
                if err.is_not_found() {
                    None
                } else {
                    return Err(err);
                }
            }
        };
        let state = nat.as_ref().and_then(|n| n.state()).cloned();
        Ok(match (available, state) {
            (true, Some(NatGatewayState::Available)) => Poll::Ready(()),
            (false, Some(NatGatewayState::Deleted) | None) => Poll::Ready(()),
            (true, Some(NatGatewayState::Failed)) => {
                let reason = nat
                    .as_ref()
                    .and_then(|n| n.failure_message())
                    .unwrap_or("no reason given");
                return Err(AwsError {
                    code: nat
                        .as_ref()
                        .and_then(|n| n.failure_code())
                        .map(str::to_owned),
                    message: format!("NAT gateway {id} failed: {reason}"),
                });
            }
            (_, state) => Poll::Pending(state.map_or("unknown".into(), |s| s.as_str().to_owned())),
        })
    })
    .await
    .context(|| {
        format!(
            "waiting for NAT gateway {id} to {}",
            if available {
                "become available"
            } else {
                "be deleted"
            }
        )
    })
}

/// Deletes this stack's NAT gateways from index `keep` on (all with `keep = 0`), waits until
/// they are gone, then releases their elastic IPs.
pub async fn delete_from(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    keep: usize,
    timeout: Duration,
) -> PartResult<()> {
    let surplus = |tags: &[aws_sdk_ec2::types::Tag], kind: &str| {
        owner.is_member(tags)
            && tag_value(tags, crate::tags::PART_KEY)
                .and_then(|p| naming::part_number(p, kind))
                .is_some_and(|n| n > keep)
    };
    let gateways = nat_gateways(ec2, vpc_id)
        .await
        .context(|| format!("listing NAT gateways of {vpc_id}"))?;
    let deleting = |n: &&NatGateway| n.state() == Some(&NatGatewayState::Deleting);
    let doomed: Vec<&NatGateway> = gateways
        .iter()
        .filter(|n| (live(n) || deleting(n)) && surplus(n.tags(), naming::NAT_GATEWAY))
        .collect();
    for nat in doomed.iter().filter(|n| live(n)) {
        let id = nat.nat_gateway_id().unwrap_or_default();
        tracing::info!("deleting NAT gateway {id}");
        ignore_not_found(ec2.delete_nat_gateway().nat_gateway_id(id).send().await)
            .context(|| format!("deleting NAT gateway {id}"))?;
    }
    // Their deletions run at the same time on AWS's side; wait for all of them together, and
    // for one an interrupted delete left deleting: its address stays mapped until it is gone.
    futures::future::try_join_all(
        doomed
            .iter()
            .map(|n| wait_state(ec2, n.nat_gateway_id().unwrap_or_default(), false, timeout)),
    )
    .await?;
    let addresses = ec2
        .describe_addresses()
        .filters(filter(
            &format!("tag:{}", crate::tags::STACK_KEY),
            &owner.suffix,
        ))
        .send()
        .await
        .context(|| "listing elastic IPs".into())?;
    for address in addresses
        .addresses()
        .iter()
        .filter(|a| surplus(a.tags(), naming::NAT_ADDRESS))
    {
        let allocation = address.allocation_id().unwrap_or_default();
        if let Some(association) = address.association_id() {
            // Some endpoints keep a deleted NAT's association; AWS drops it with the NAT.
            let _ = ec2
                .disassociate_address()
                .association_id(association)
                .send()
                .await;
        }
        tracing::info!("releasing elastic IP {allocation}");
        ignore_not_found(ec2.release_address().allocation_id(allocation).send().await)
            .context(|| format!("releasing elastic IP {allocation}"))?;
    }
    Ok(())
}
