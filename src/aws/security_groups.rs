//! The two security groups of a regional stack: the ALB's (HTTP, and HTTPS with a certificate,
//! from the allowed CIDRs, and the Route 53 health checkers' prefix list when those CIDRs are
//! not open to all) and the instances' (the app port from the ALB's group only).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_ec2::types::{
    IpPermission, IpRange, PrefixListId, ResourceType, SecurityGroup, UserIdGroupPair,
};
use aws_sdk_ec2::Client;
use tokio::time::Instant;

use super::ec2::{explain_in_use, filter, sync_tags, tag_spec, Owner};
use super::error::{ignore_not_found, AwsError, Cause, Context, PartError, PartResult};
use super::retry;

/// An ingress rule: TCP port from a CIDR, from another group, or from a managed prefix list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Cidr(String),
    Group(String),
    PrefixList(String),
}

pub type Rules = BTreeSet<(i32, Source)>;

pub fn rules_of(group: &SecurityGroup) -> Rules {
    let mut rules = Rules::new();
    for permission in group.ip_permissions() {
        let Some(port) = permission.from_port() else {
            continue;
        };
        for range in permission.ip_ranges() {
            if let Some(cidr) = range.cidr_ip() {
                rules.insert((port, Source::Cidr(cidr.to_owned())));
            }
        }
        for pair in permission.user_id_group_pairs() {
            if let Some(id) = pair.group_id() {
                rules.insert((port, Source::Group(id.to_owned())));
            }
        }
        for list in permission.prefix_list_ids() {
            if let Some(id) = list.prefix_list_id() {
                rules.insert((port, Source::PrefixList(id.to_owned())));
            }
        }
    }
    rules
}

/// The ingress rules of the given groups together.
pub async fn ingress_of(ec2: &Client, group_ids: &[String]) -> Result<Rules, AwsError> {
    if group_ids.is_empty() {
        return Ok(Rules::new());
    }
    let out = ec2
        .describe_security_groups()
        .set_group_ids(Some(group_ids.to_vec()))
        .send()
        .await?;
    Ok(out.security_groups().iter().flat_map(rules_of).collect())
}

/// The prefix list of Route 53's health checkers in the client's region: AWS-managed
/// (`com.amazonaws.<region>.route53-healthchecks`, IPv4), in every region since September 2023
/// (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
/// "If your firewalls or security groups restrict incoming traffic based on source IP
/// addresses, confirm that your configuration allows traffic from [these] ranges"
/// (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-ip-addresses.html).
pub async fn health_checkers_prefix_list(ec2: &Client, region: &str) -> PartResult<String> {
    let name = format!("com.amazonaws.{region}.route53-healthchecks");
    let found = ec2
        .describe_managed_prefix_lists()
        .filters(filter("prefix-list-name", &name))
        .filters(filter("owner-id", "AWS"))
        .send()
        .await
        .context(|| format!("looking up the AWS-managed prefix list {name}"))?;
    found
        .prefix_lists()
        .iter()
        .find(|l| l.prefix_list_name() == Some(name.as_str()) && l.owner_id() == Some("AWS"))
        .and_then(|l| l.prefix_list_id())
        .map(str::to_owned)
        .ok_or_else(|| PartError {
            action: format!("looking up the AWS-managed prefix list {name}"),
            cause: Cause::Unexpected(format!(
                "{region} does not publish it, so Route 53's health checkers cannot be let in"
            )),
        })
}

fn permission(port: i32, source: &Source) -> IpPermission {
    let builder = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port);
    match source {
        Source::Cidr(cidr) => builder.ip_ranges(IpRange::builder().cidr_ip(cidr).build()),
        Source::Group(id) => {
            builder.user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build())
        }
        Source::PrefixList(id) => {
            builder.prefix_list_ids(PrefixListId::builder().prefix_list_id(id).build())
        }
    }
    .build()
}

/// Ensures the group `part` exists in the VPC with exactly `rules` as ingress.
pub async fn ensure(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    part: &str,
    name: &str,
    description: &str,
    rules: &Rules,
) -> PartResult<String> {
    let tags = owner.tags_for(part, name);
    let found = owned_group(ec2, owner, vpc_id, part)
        .await
        .context(|| format!("reading security group {name}"))?;
    let existing = found.as_ref();
    let (id, have) = match existing {
        Some(group) => {
            let id = group.group_id().unwrap_or_default().to_owned();
            sync_tags(ec2, &id, group.tags(), &tags).await?;
            (id, rules_of(group))
        }
        None => {
            tracing::info!("creating security group {name}");
            let id = retry::create_once(
                &format!("creating security group {name}"),
                &["InvalidGroup.Duplicate"],
                || async {
                    let found = owned_group(ec2, owner, vpc_id, part).await?;
                    Ok(found.and_then(|g| g.group_id().map(str::to_owned)))
                },
                || async {
                    let out = send_once!(
                        ec2.create_security_group()
                            .group_name(name)
                            .description(description)
                            .vpc_id(vpc_id)
                            .tag_specifications(tag_spec(ResourceType::SecurityGroup, &tags)),
                        aws_sdk_ec2
                    )
                    .await?;
                    Ok::<_, AwsError>(out.group_id().unwrap_or_default().to_owned())
                },
            )
            .await
            .context(|| format!("creating security group {name}"))?;
            // "InvalidGroup.NotFound" for a moment after CreateSecurityGroup (EC2 guide,
            // "Eventual consistency"); the rules below name the group.
            retry::until_created(&id, "InvalidGroup.NotFound", retry::EC2_PROPAGATION, || {
                ec2.describe_security_groups().group_ids(&id).send()
            })
            .await
            .context(|| format!("waiting for new security group {name} ({id}) to be visible"))?;
            (id, Rules::new())
        }
    };
    let stale: Vec<IpPermission> = have
        .difference(rules)
        .map(|(p, s)| permission(*p, s))
        .collect();
    if !stale.is_empty() {
        ec2.revoke_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(stale))
            .send()
            .await
            .context(|| format!("revoking rules of security group {name}"))?;
    }
    let missing: Vec<IpPermission> = rules
        .difference(&have)
        .map(|(p, s)| permission(*p, s))
        .collect();
    if !missing.is_empty() {
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .set_ip_permissions(Some(missing))
            .send()
            .await
            .context(|| format!("authorizing rules of security group {name}"))?;
    }
    Ok(id)
}

/// This stack's group `part` in the VPC, if it exists.
async fn owned_group(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    part: &str,
) -> Result<Option<SecurityGroup>, AwsError> {
    let mut filters = owner.filters(part);
    filters.push(filter("vpc-id", vpc_id));
    let found = ec2
        .describe_security_groups()
        .set_filters(Some(filters))
        .send()
        .await?;
    Ok(found
        .security_groups()
        .iter()
        .find(|g| owner.owns(g.tags(), part))
        .cloned())
}

/// Deletes this stack's groups in the VPC: first the rules that point at other groups (so no
/// group blocks another), then the groups. DependencyViolation is retried while network
/// interfaces of deleted load balancers linger ("resource sg-… has a dependent object").
pub async fn delete(
    ec2: &Client,
    owner: &Owner,
    vpc_id: &str,
    timeout: Duration,
) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let found = ec2
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .context(|| format!("listing security groups of {vpc_id}"))?;
    let ours: Vec<&SecurityGroup> = found
        .security_groups()
        .iter()
        .filter(|g| owner.is_member(g.tags()))
        .collect();
    for group in &ours {
        let id = group.group_id().unwrap_or_default();
        let referencing: Vec<IpPermission> = rules_of(group)
            .iter()
            .filter(|(_, s)| matches!(s, Source::Group(_)))
            .map(|(p, s)| permission(*p, s))
            .collect();
        if !referencing.is_empty() {
            ignore_not_found(
                ec2.revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(referencing))
                    .send()
                    .await,
            )
            .context(|| format!("revoking group rules of security group {id}"))?;
        }
    }
    for group in &ours {
        let id = group.group_id().unwrap_or_default();
        tracing::info!("deleting security group {id}");
        let result = retry::on_codes(
            &format!("deleting security group {id}"),
            &["DependencyViolation"],
            deadline,
            || async {
                ec2.delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                    .map(|_| ())
            },
        )
        .await;
        let result = match result {
            Err(err) => Err(explain_in_use(ec2, "group-id", id, err).await),
            ok => ok,
        };
        ignore_not_found(result).context(|| format!("deleting security group {id}"))?;
    }
    Ok(())
}
