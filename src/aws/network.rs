//! One region's network: VPC (DNS support and hostnames), public and private subnets in the
//! first availability zones that offer the instance type, internet gateway, and route tables.
//! Every object is found by its ownership tags before it is created, so an apply that died
//! halfway adopts what it made.

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, AvailabilityZone, AvailabilityZoneOptInStatus, InternetGateway,
    LocationType, ResourceType, RouteTable, Subnet, Vpc,
};
use aws_sdk_ec2::Client;
use tokio::time::Instant;

use super::ec2::{client_token, explain_in_use, filter, sync_tags, tag_spec, Owner};
use super::error::{ignore_not_found, AwsError, Cause, Context, PartError, PartResult};
use super::retry;
use crate::naming;

/// hashicorp/aws retries DependencyViolation on subnet and VPC deletes for their whole delete
/// timeout (20m / 5m): ENIs of load balancers and NAT gateways linger after those are deleted.
/// "DependencyViolation: The subnet 'subnet-…' has dependencies and cannot be deleted."
const IN_USE: &[&str] = &["DependencyViolation"];
pub const ANYWHERE: &str = "0.0.0.0/0";

pub struct SubnetSpec {
    pub part: String,
    pub name: String,
    pub cidr: String,
    pub zone: String,
    pub public: bool,
}

/// The first `count` zones of the region, by name, that can hold the stack's instances: zones
/// proper (not Local or Wavelength Zones), `available`, open to the account, and offering
/// `instance_type`. Not every zone offers every type: "Your requested instance type (t3.micro) is
/// not supported in your requested Availability Zone (us-east-1e)" (EC2's `Unsupported`, or a
/// failed scaling activity). Sorted by name, so every apply of a stack chooses the same zones;
/// the stack's existing subnets keep theirs, and must offer the type too (a new `instance_type`
/// is refused here rather than launched where it cannot run).
/// As the stack's first call in its region, it also says when the account has not enabled it.
pub async fn zones(
    ec2: &Client,
    owner: &Owner,
    region: &str,
    instance_type: &str,
    count: usize,
) -> PartResult<Vec<String>> {
    let action = || format!("choosing availability zones of {region} for {instance_type}");
    let listed = ec2
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(|err| AwsError::from(err).in_region(region))
        .context(action)?;
    let offered = offering(ec2, instance_type).await.context(action)?;
    let existing = match find_vpc(ec2, owner).await.context(action)? {
        Some(vpc) => subnets(ec2, vpc.vpc_id().unwrap_or_default())
            .await
            .context(action)?,
        None => Vec::new(),
    };
    let usable = usable_zones(listed.availability_zones(), &offered);
    choose(&usable, &existing, count, instance_type).map_err(|problem| {
        let offering = if usable.is_empty() {
            "none".to_owned()
        } else {
            usable.join(", ")
        };
        PartError {
            action: action(),
            cause: Cause::Setting {
                attribute: "instance_type",
                region: region.to_owned(),
                detail: format!(
                    "{problem}. Zones of {region} that offer {instance_type}: {offering} (`aws ec2 describe-instance-type-offerings --location-type availability-zone --region {region}` lists what each zone offers)."
                ),
            },
        }
    })
}

/// Zones proper (not Local or Wavelength Zones) open to the account that offer the type, by name.
fn usable_zones(listed: &[AvailabilityZone], offered: &[String]) -> Vec<String> {
    let mut names: Vec<String> = listed
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter(|z| {
            z.opt_in_status().is_none_or(|s| {
                matches!(
                    s,
                    AvailabilityZoneOptInStatus::OptInNotRequired
                        | AvailabilityZoneOptInStatus::OptedIn
                )
            })
        })
        .filter_map(|z| z.zone_name())
        .filter(|name| offered.iter().any(|o| o == name))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// The first `count` usable zones, or why the stack cannot have them: an existing subnet in a
/// zone that does not offer the type, or too few zones that do.
fn choose(
    usable: &[String],
    existing: &[Subnet],
    count: usize,
    instance_type: &str,
) -> Result<Vec<String>, String> {
    let stranded = existing.iter().find(|s| {
        s.availability_zone()
            .is_some_and(|zone| !usable.iter().any(|u| u == zone))
    });
    if let Some(subnet) = stranded {
        return Err(format!(
            "{instance_type} is not offered in {}, where this stack's subnet {} ({}) is. Keep the current instance_type or choose one the stack's zones offer (moving subnets to other zones replaces the stack)",
            subnet.availability_zone().unwrap_or_default(),
            subnet.subnet_id().unwrap_or_default(),
            subnet.cidr_block().unwrap_or_default(),
        ));
    }
    if usable.len() < count {
        return Err(format!(
            "the stack needs {count} zones (one per public subnet) offering {instance_type}. Give fewer subnets or choose another instance_type"
        ));
    }
    Ok(usable[..count].to_vec())
}

/// The zones of the client's region that offer `instance_type`.
async fn offering(ec2: &Client, instance_type: &str) -> Result<Vec<String>, AwsError> {
    let mut zones = Vec::new();
    let mut token = None;
    loop {
        let out = ec2
            .describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(filter("instance-type", instance_type))
            .set_next_token(token)
            .send()
            .await?;
        zones.extend(
            out.instance_type_offerings()
                .iter()
                .filter_map(|o| o.location().map(str::to_owned)),
        );
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(zones);
        }
    }
}

pub async fn find_vpc(ec2: &Client, owner: &Owner) -> Result<Option<Vpc>, AwsError> {
    let out = ec2
        .describe_vpcs()
        .set_filters(Some(owner.filters(naming::VPC)))
        .send()
        .await?;
    Ok(out
        .vpcs()
        .iter()
        .find(|v| owner.owns(v.tags(), naming::VPC))
        .cloned())
}

pub async fn ensure_vpc(ec2: &Client, owner: &Owner, name: &str, cidr: &str) -> PartResult<String> {
    let tags = owner.tags_for(naming::VPC, name);
    let id = match find_vpc(ec2, owner)
        .await
        .context(|| format!("reading VPC {name}"))?
    {
        Some(vpc) => {
            let id = vpc.vpc_id().unwrap_or_default().to_owned();
            sync_tags(ec2, &id, vpc.tags(), &tags).await?;
            id
        }
        None => {
            tracing::info!("creating VPC {name} ({cidr})");
            let id = retry::create_once(
                &format!("creating VPC {name}"),
                &[],
                || async {
                    let found = find_vpc(ec2, owner).await?;
                    Ok(found.and_then(|v| v.vpc_id().map(str::to_owned)))
                },
                || async {
                    let out = send_once!(
                        ec2.create_vpc()
                            .cidr_block(cidr)
                            .tag_specifications(tag_spec(ResourceType::Vpc, &tags)),
                        aws_sdk_ec2
                    )
                    .await?;
                    Ok::<_, AwsError>(
                        out.vpc()
                            .and_then(|v| v.vpc_id())
                            .unwrap_or_default()
                            .to_owned(),
                    )
                },
            )
            .await
            .context(|| format!("creating VPC {name} ({cidr})"))?;
            retry::until_created(&id, "InvalidVpcID.NotFound", retry::EC2_PROPAGATION, || {
                ec2.describe_vpcs().vpc_ids(&id).send()
            })
            .await
            .context(|| format!("waiting for new VPC {name} ({id}) to be visible"))?;
            id
        }
    };
    // One attribute per call: EC2 refuses both in one ModifyVpcAttribute.
    for hostnames in [false, true] {
        let on = AttributeBooleanValue::builder().value(true).build();
        let request = ec2.modify_vpc_attribute().vpc_id(&id);
        let request = if hostnames {
            request.enable_dns_hostnames(on)
        } else {
            request.enable_dns_support(on)
        };
        request
            .send()
            .await
            .context(|| format!("enabling DNS on VPC {name}"))?;
    }
    Ok(id)
}

async fn subnets(ec2: &Client, vpc_id: &str) -> Result<Vec<Subnet>, AwsError> {
    Ok(ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await?
        .subnets()
        .to_vec())
}

/// Ensures each subnet exists (created in its zone) and returns their ids in order.
pub async fn ensure_subnets(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    specs: &[SubnetSpec],
) -> PartResult<Vec<String>> {
    let existing = subnets(ec2, vpc_id)
        .await
        .context(|| format!("listing subnets of {vpc_id}"))?;
    let mut ids = Vec::with_capacity(specs.len());
    for spec in specs {
        let tags = owner.tags_for(&spec.part, &spec.name);
        let found = existing.iter().find(|s| owner.owns(s.tags(), &spec.part));
        let id = match found {
            Some(subnet) => {
                let id = subnet.subnet_id().unwrap_or_default().to_owned();
                sync_tags(ec2, &id, subnet.tags(), &tags).await?;
                id
            }
            None => {
                tracing::info!(
                    "creating subnet {} ({} in {})",
                    spec.name,
                    spec.cidr,
                    spec.zone
                );
                let id = retry::create_once(
                    &format!("creating subnet {}", spec.name),
                    &["InvalidSubnet.Conflict"],
                    || async {
                        let found = subnets(ec2, vpc_id).await?;
                        Ok(found
                            .iter()
                            .find(|s| owner.owns(s.tags(), &spec.part))
                            .and_then(|s| s.subnet_id().map(str::to_owned)))
                    },
                    || async {
                        let out = send_once!(
                            ec2.create_subnet()
                                .vpc_id(vpc_id)
                                .cidr_block(&spec.cidr)
                                .availability_zone(&spec.zone)
                                .tag_specifications(tag_spec(ResourceType::Subnet, &tags)),
                            aws_sdk_ec2
                        )
                        .await?;
                        Ok::<_, AwsError>(
                            out.subnet()
                                .and_then(|s| s.subnet_id())
                                .unwrap_or_default()
                                .to_owned(),
                        )
                    },
                )
                .await
                .context(|| format!("creating subnet {} ({})", spec.name, spec.cidr))?;
                retry::until_created(
                    &id,
                    "InvalidSubnetID.NotFound",
                    retry::EC2_PROPAGATION,
                    || ec2.describe_subnets().subnet_ids(&id).send(),
                )
                .await
                .context(|| format!("waiting for new subnet {} ({id}) to be visible", spec.name))?;
                id
            }
        };
        let public_ips = found
            .and_then(|s| s.map_public_ip_on_launch())
            .unwrap_or(false);
        if public_ips != spec.public {
            // A subnet a describe has just listed (one a killed run created a moment ago) may
            // still be unknown to the next call naming it: EC2 is eventually consistent.
            retry::on_codes(
                &format!("setting public IPs on launch for subnet {}", spec.name),
                &["InvalidSubnetID.NotFound"],
                Instant::now() + retry::EC2_PROPAGATION,
                || async {
                    ec2.modify_subnet_attribute()
                        .subnet_id(&id)
                        .map_public_ip_on_launch(
                            AttributeBooleanValue::builder().value(spec.public).build(),
                        )
                        .send()
                        .await
                        .map(|_| ())
                },
            )
            .await
            .context(|| format!("setting public IPs on launch for subnet {}", spec.name))?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// This stack's internet gateway, if it exists.
async fn owned_gateway(ec2: &Client, owner: &Owner) -> Result<Option<InternetGateway>, AwsError> {
    let found = ec2
        .describe_internet_gateways()
        .set_filters(Some(owner.filters(naming::INTERNET_GATEWAY)))
        .send()
        .await?;
    Ok(found
        .internet_gateways()
        .iter()
        .find(|g| owner.owns(g.tags(), naming::INTERNET_GATEWAY))
        .cloned())
}

pub async fn ensure_internet_gateway(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    name: &str,
) -> PartResult<String> {
    let tags = owner.tags_for(naming::INTERNET_GATEWAY, name);
    let found = owned_gateway(ec2, owner)
        .await
        .context(|| format!("reading internet gateway {name}"))?;
    let existing = found.as_ref();
    let (id, attached) = match existing {
        Some(igw) => {
            let id = igw.internet_gateway_id().unwrap_or_default().to_owned();
            sync_tags(ec2, &id, igw.tags(), &tags).await?;
            let attached = igw.attachments().iter().any(|a| a.vpc_id() == Some(vpc_id));
            (id, attached)
        }
        None => {
            tracing::info!("creating internet gateway {name}");
            let id = retry::create_once(
                &format!("creating internet gateway {name}"),
                &[],
                || async {
                    let found = owned_gateway(ec2, owner).await?;
                    Ok(found.and_then(|g| g.internet_gateway_id().map(str::to_owned)))
                },
                || async {
                    let out = send_once!(
                        ec2.create_internet_gateway()
                            .tag_specifications(tag_spec(ResourceType::InternetGateway, &tags)),
                        aws_sdk_ec2
                    )
                    .await?;
                    Ok::<_, AwsError>(
                        out.internet_gateway()
                            .and_then(|g| g.internet_gateway_id())
                            .unwrap_or_default()
                            .to_owned(),
                    )
                },
            )
            .await
            .context(|| format!("creating internet gateway {name}"))?;
            retry::until_created(
                &id,
                "InvalidInternetGatewayID.NotFound",
                retry::EC2_PROPAGATION,
                || {
                    ec2.describe_internet_gateways()
                        .internet_gateway_ids(&id)
                        .send()
                },
            )
            .await
            .context(|| format!("waiting for new internet gateway {name} ({id}) to be visible"))?;
            (id, false)
        }
    };
    if !attached {
        // A gateway a describe has just listed (one a killed run created a moment ago) may still
        // be unknown to the next call naming it: EC2 is eventually consistent.
        let deadline = Instant::now() + retry::EC2_PROPAGATION;
        retry::on_codes(
            &format!("attaching internet gateway {name}"),
            &["InvalidInternetGatewayID.NotFound"],
            deadline,
            || async {
                ec2.attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(vpc_id)
                    .send()
                    .await
                    .map(|_| ())
            },
        )
        .await
        .context(|| format!("attaching internet gateway {name} to {vpc_id}"))?;
    }
    Ok(id)
}

async fn route_tables(ec2: &Client, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
    Ok(ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await?
        .route_tables()
        .to_vec())
}

/// Where a route table's default route goes.
pub enum DefaultRoute {
    Gateway(String),
    Nat(String),
    None,
}

/// Ensures the route table `part` exists with the wanted default route and is associated with
/// exactly `subnet_ids`.
pub async fn ensure_route_table(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    part: &str,
    name: &str,
    route: DefaultRoute,
    subnet_ids: &[String],
) -> PartResult<String> {
    let tags = owner.tags_for(part, name);
    let tables = route_tables(ec2, vpc_id)
        .await
        .context(|| format!("listing route tables of {vpc_id}"))?;
    let existing = tables.iter().find(|t| owner.owns(t.tags(), part));
    let id = match existing {
        Some(t) => {
            let id = t.route_table_id().unwrap_or_default().to_owned();
            sync_tags(ec2, &id, t.tags(), &tags).await?;
            id
        }
        None => {
            tracing::info!("creating route table {name}");
            let id = ec2
                .create_route_table()
                .vpc_id(vpc_id)
                .client_token(client_token(vpc_id, part))
                .tag_specifications(tag_spec(ResourceType::RouteTable, &tags))
                .send()
                .await
                .context(|| format!("creating route table {name}"))?
                .route_table()
                .and_then(|t| t.route_table_id())
                .unwrap_or_default()
                .to_owned();
            retry::until_created(
                &id,
                "InvalidRouteTableID.NotFound",
                retry::EC2_PROPAGATION,
                || ec2.describe_route_tables().route_table_ids(&id).send(),
            )
            .await
            .context(|| format!("waiting for new route table {name} ({id}) to be visible"))?;
            id
        }
    };
    let current = existing.and_then(|t| {
        t.routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some(ANYWHERE))
    });
    let current_target = current.and_then(|r| r.gateway_id().or(r.nat_gateway_id()));
    let action = || format!("setting the default route of route table {name}");
    let (gateway, nat) = match &route {
        DefaultRoute::Gateway(t) => (Some(t.clone()), None),
        DefaultRoute::Nat(t) => (None, Some(t.clone())),
        DefaultRoute::None => (None, None),
    };
    let target = gateway.as_deref().or(nat.as_deref());
    match (target, current_target) {
        (None, None) => {}
        (Some(want), Some(have)) if want == have => {}
        (None, Some(_)) => {
            ec2.delete_route()
                .route_table_id(&id)
                .destination_cidr_block(ANYWHERE)
                .send()
                .await
                .context(action)?;
        }
        (Some(_), Some(_)) => {
            ec2.replace_route()
                .route_table_id(&id)
                .destination_cidr_block(ANYWHERE)
                .set_gateway_id(gateway)
                .set_nat_gateway_id(nat)
                .send()
                .await
                .context(action)?;
        }
        (Some(want), None) => {
            // A retry after a lost answer finds the route there: `RouteAlreadyExists`.
            retry::create_once(
                &action(),
                &["RouteAlreadyExists"],
                || async {
                    let out = ec2
                        .describe_route_tables()
                        .route_table_ids(&id)
                        .send()
                        .await?;
                    let route = out
                        .route_tables()
                        .iter()
                        .flat_map(|t| t.routes())
                        .find(|r| r.destination_cidr_block() == Some(ANYWHERE));
                    let target = route.and_then(|r| r.gateway_id().or(r.nat_gateway_id()));
                    Ok((target == Some(want)).then_some(()))
                },
                || async {
                    send_once!(
                        ec2.create_route()
                            .route_table_id(&id)
                            .destination_cidr_block(ANYWHERE)
                            .set_gateway_id(gateway.clone())
                            .set_nat_gateway_id(nat.clone()),
                        aws_sdk_ec2
                    )
                    .await
                    .map(|_| ())
                },
            )
            .await
            .context(action)?;
        }
    }
    // Each subnet associated here, and nothing else.
    let associations = existing
        .map(|t| t.associations().to_vec())
        .unwrap_or_default();
    for association in &associations {
        let subnet = association.subnet_id();
        if association.main() != Some(true)
            && subnet.is_some_and(|s| !subnet_ids.iter().any(|w| w == s))
        {
            if let Some(assoc_id) = association.route_table_association_id() {
                ec2.disassociate_route_table()
                    .association_id(assoc_id)
                    .send()
                    .await
                    .context(|| format!("disassociating route table {name}"))?;
            }
        }
    }
    for subnet in subnet_ids {
        if !associations
            .iter()
            .any(|a| a.subnet_id() == Some(subnet.as_str()))
        {
            ec2.associate_route_table()
                .route_table_id(&id)
                .subnet_id(subnet)
                .send()
                .await
                .context(|| format!("associating route table {name} with {subnet}"))?;
        }
    }
    Ok(id)
}

/// Deletes this stack's route tables (after disassociating them), internet gateway and subnets,
/// in that order. What is already gone is skipped.
pub async fn delete_inside(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let tables = route_tables(ec2, vpc_id)
        .await
        .context(|| format!("listing route tables of {vpc_id}"))?;
    for table in tables.iter().filter(|t| owner.is_member(t.tags())) {
        let id = table.route_table_id().unwrap_or_default();
        for association in table
            .associations()
            .iter()
            .filter(|a| a.main() != Some(true))
        {
            if let Some(assoc_id) = association.route_table_association_id() {
                ignore_not_found(
                    ec2.disassociate_route_table()
                        .association_id(assoc_id)
                        .send()
                        .await,
                )
                .context(|| format!("disassociating route table {id}"))?;
            }
        }
        tracing::info!("deleting route table {id}");
        ignore_not_found(ec2.delete_route_table().route_table_id(id).send().await)
            .context(|| format!("deleting route table {id}"))?;
    }

    let gateways = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .context(|| format!("listing internet gateways of {vpc_id}"))?;
    for igw in gateways
        .internet_gateways()
        .iter()
        .filter(|g| owner.is_member(g.tags()))
    {
        let id = igw.internet_gateway_id().unwrap_or_default();
        tracing::info!("detaching and deleting internet gateway {id}");
        // "DependencyViolation: Network vpc-… has some mapped public address(es)" while a NAT's
        // elastic IP is still being released.
        let detached = retry::on_codes("detaching internet gateway", IN_USE, deadline, || async {
            ec2.detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(vpc_id)
                .send()
                .await
                .map(|_| ())
        })
        .await;
        match detached {
            Err(err) if err.is("Gateway.NotAttached") => {}
            other => {
                ignore_not_found(other).context(|| format!("detaching internet gateway {id}"))?
            }
        }
        ignore_not_found(
            ec2.delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await,
        )
        .context(|| format!("deleting internet gateway {id}"))?;
    }

    let all_subnets = subnets(ec2, vpc_id)
        .await
        .context(|| format!("listing subnets of {vpc_id}"))?;
    for subnet in all_subnets.iter().filter(|s| owner.is_member(s.tags())) {
        let id = subnet.subnet_id().unwrap_or_default();
        tracing::info!("deleting subnet {id}");
        let result = retry::on_codes(
            &format!("deleting subnet {id}"),
            IN_USE,
            deadline,
            || async { ec2.delete_subnet().subnet_id(id).send().await.map(|_| ()) },
        )
        .await;
        let result = match result {
            Err(err) => Err(explain_in_use(ec2, "subnet-id", id, err).await),
            ok => ok,
        };
        ignore_not_found(result).context(|| format!("deleting subnet {id}"))?;
    }
    Ok(())
}

/// Deletes the VPC once nothing is left in it.
pub async fn delete_vpc(ec2: &Client, vpc_id: &str, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    tracing::info!("deleting VPC {vpc_id}");
    let result = retry::on_codes(
        &format!("deleting VPC {vpc_id}"),
        IN_USE,
        deadline,
        || async { ec2.delete_vpc().vpc_id(vpc_id).send().await.map(|_| ()) },
    )
    .await;
    ignore_not_found(result).context(|| format!("deleting VPC {vpc_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, kind: &str, opt_in: AvailabilityZoneOptInStatus) -> AvailabilityZone {
        AvailabilityZone::builder()
            .zone_name(name)
            .zone_type(kind)
            .opt_in_status(opt_in)
            .build()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_zones_proper_open_to_the_account_and_offering_the_type_are_usable_by_name() {
        use AvailabilityZoneOptInStatus::{NotOptedIn, OptInNotRequired, OptedIn};
        let listed = [
            zone("us-west-2c", "availability-zone", OptInNotRequired),
            zone("us-west-2a", "availability-zone", OptInNotRequired),
            zone("us-west-2b", "availability-zone", OptInNotRequired),
            zone("us-west-2-lax-1a", "local-zone", OptedIn),
            zone("us-west-2-wl1-las-wlz-1", "wavelength-zone", NotOptedIn),
            zone("us-west-2d", "availability-zone", OptInNotRequired),
        ];
        let offered = names(&["us-west-2d", "us-west-2c", "us-west-2a", "us-west-2-lax-1a"]);
        assert_eq!(
            usable_zones(&listed, &offered),
            ["us-west-2a", "us-west-2c", "us-west-2d"]
        );
    }

    #[test]
    fn the_first_usable_zones_are_chosen_and_existing_subnets_must_be_in_one() {
        let usable = names(&["eu-west-1a", "eu-west-1c"]);
        assert_eq!(choose(&usable, &[], 2, "m8idn.large").unwrap(), usable);
        let too_few = choose(&usable, &[], 3, "m8idn.large").unwrap_err();
        assert!(too_few.contains("needs 3 zones"), "{too_few}");
        let stranded = Subnet::builder()
            .subnet_id("subnet-1")
            .cidr_block("10.8.2.0/24")
            .availability_zone("eu-west-1b")
            .build();
        let refused = choose(&usable, &[stranded], 2, "m8idn.large").unwrap_err();
        assert!(
            refused.contains(
                "not offered in eu-west-1b, where this stack's subnet subnet-1 (10.8.2.0/24) is"
            ),
            "{refused}"
        );
    }
}
