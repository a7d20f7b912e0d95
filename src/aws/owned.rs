//! What the provider owns in an account, found by its ownership marks alone (no state): the
//! regional stacks by their VPCs' tags, session tables by their tags, DNS failovers by their
//! endpoint health checks' caller references, failover systems by their shared instance role.
//! `terraform query` lists from these.

use aws_sdk_ec2::types::Vpc;

use super::ec2::{filter, tag_value};
use super::error::AwsError;
use super::hosted_zone::{self, ZoneFacts};
use super::{route53, session_table, weighted_records};
use crate::naming;
use crate::role::Role;
use crate::tags::{PART_KEY, ROLE_KEY, STACK_KEY};

/// Whether the parts of stack `suffix` belong to a failover system: the system's instance role
/// (`naming::shared_instance_role`) carries its ownership tags. Its parts are tagged as the same
/// resources made alone are (so each can be adopted after a crash); this role is what only the
/// system makes: a regional stack alone has a role of its own (`naming::stack_instance_role`).
pub async fn is_system(iam: &aws_sdk_iam::Client, suffix: &str) -> Result<bool, AwsError> {
    let name = naming::shared_instance_role(suffix);
    let role = match iam.get_role().role_name(&name).send().await {
        Ok(out) => out.role,
        Err(err) => {
            let err = AwsError::from(err);
            return if err.is_not_found() {
                Ok(false)
            } else {
                Err(err)
            };
        }
    };
    let tags = role.as_ref().map(|r| r.tags()).unwrap_or_default();
    let tag = |key: &str| (tags.iter().find(|t| t.key() == key)).map(|t| t.value());
    Ok(tag(PART_KEY) == Some(naming::INSTANCE_ROLE) && tag(STACK_KEY) == Some(suffix))
}

/// Where the failover records of stack `suffix` are: the zone it created, else a zone it was
/// given, found as the one whose `primary` weighted record uses one of the stack's health
/// checks; with the records' name. None when neither is there.
pub async fn dns_failover_zone(
    r53: &aws_sdk_route53::Client,
    suffix: &str,
) -> Result<Option<(ZoneFacts, String)>, AwsError> {
    if let Some(zone) = hosted_zone::find_ours(r53, None, suffix).await? {
        let name = zone.name.trim_end_matches('.').to_owned();
        return Ok(Some((zone, name)));
    }
    let checks = route53::health_checks_of(r53, suffix).await?;
    let ids: Vec<&str> = checks.iter().map(|c| c.id()).collect();
    for summary in hosted_zone::all(r53).await? {
        // Deleted between the listing and now.
        let Some(zone) = hosted_zone::find_by_id(r53, summary.id(), suffix).await? else {
            continue;
        };
        let records = weighted_records::find_all(r53, &zone.id).await?;
        if let Some(name) = weighted_records::failover_name(&records, &zone, &ids) {
            return Ok(Some((zone, name)));
        }
    }
    Ok(None)
}

/// A stack's VPC as its tags describe it: the suffix and the region's role.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedStack {
    pub suffix: String,
    pub failover_role: Role,
}

/// Every regional stack in `ec2`'s region, all pages.
pub async fn stacks(ec2: &aws_sdk_ec2::Client) -> Result<Vec<OwnedStack>, AwsError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = ec2
            .describe_vpcs()
            .filters(filter(&format!("tag:{PART_KEY}"), naming::VPC))
            .set_next_token(token)
            .send()
            .await?;
        found.extend(out.vpcs().iter().filter_map(stack));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Checked here too: some AWS-compatible endpoints ignore EC2 tag filters.
fn stack(vpc: &Vpc) -> Option<OwnedStack> {
    let tags = vpc.tags();
    (tag_value(tags, PART_KEY) == Some(naming::VPC)).then_some(())?;
    Some(OwnedStack {
        suffix: tag_value(tags, STACK_KEY)?.to_owned(),
        failover_role: Role::from_tag(tag_value(tags, ROLE_KEY)?)?,
    })
}

/// The session tables whose home is `db`'s region: (name, suffix). A replica carries the
/// table's ownership tags with the `Standby` role, and is left out.
pub async fn session_tables(
    db: &aws_sdk_dynamodb::Client,
) -> Result<Vec<(String, String)>, AwsError> {
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let out = db
            .list_tables()
            .set_exclusive_start_table_name(start)
            .send()
            .await?;
        names.extend(out.table_names().iter().cloned());
        start = out.last_evaluated_table_name().map(str::to_owned);
        if start.is_none() {
            break;
        }
    }
    let mut found = Vec::new();
    for name in names {
        // Deleted between the listing and now.
        let Some(table) = session_table::find(db, &name).await? else {
            continue;
        };
        let tags = session_table::tags(db, &table.arn).await?;
        let owned = tags.get(PART_KEY).map(String::as_str) == Some("session-table")
            && tags.get(ROLE_KEY).map(String::as_str) == Some(Role::Primary.tag_value());
        if let (true, Some(suffix)) = (owned, tags.get(STACK_KEY)) {
            found.push((name, suffix.clone()));
        }
    }
    Ok(found)
}

/// The suffixes of the stacks that have an endpoint health check (every DNS failover makes
/// one), each once, in order.
pub async fn dns_failover_suffixes(r53: &aws_sdk_route53::Client) -> Result<Vec<String>, AwsError> {
    let mut suffixes = Vec::new();
    let mut marker = None;
    loop {
        let out = r53.list_health_checks().set_marker(marker).send().await?;
        for check in out.health_checks() {
            if let Some(suffix) = endpoint_check_suffix(check.caller_reference()) {
                if !suffixes.contains(&suffix) {
                    suffixes.push(suffix);
                }
            }
        }
        match out.next_marker() {
            Some(next) if out.is_truncated() => marker = Some(next.to_owned()),
            _ => {
                suffixes.sort();
                return Ok(suffixes);
            }
        }
    }
}

/// `tap/<suffix>/health-check/<millis>` (`route53::caller_reference`) → the suffix.
fn endpoint_check_suffix(reference: &str) -> Option<String> {
    let mut parts = reference.strip_prefix("tap/")?.split('/');
    let suffix = parts.next()?;
    (parts.next()? == "health-check").then(|| suffix.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::route53::caller_reference;
    use aws_sdk_ec2::types::Tag;

    #[test]
    fn an_endpoint_checks_reference_names_its_stack() {
        let reference = caller_reference("prod-2", "health-check");
        assert_eq!(endpoint_check_suffix(&reference).as_deref(), Some("prod-2"));
        assert_eq!(
            endpoint_check_suffix(&caller_reference("prod", "zone")),
            None
        );
        assert_eq!(endpoint_check_suffix("terraform-123"), None);
    }

    #[test]
    fn only_a_vpc_with_every_mark_is_a_stack() {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
        let vpc = |tags: Vec<Tag>| Vpc::builder().set_tags(Some(tags)).build();
        let marked = vpc(vec![
            tag(PART_KEY, naming::VPC),
            tag(STACK_KEY, "prod"),
            tag(ROLE_KEY, "Standby"),
        ]);
        assert_eq!(
            stack(&marked),
            Some(OwnedStack {
                suffix: "prod".into(),
                failover_role: Role::Standby
            })
        );
        assert_eq!(
            stack(&vpc(vec![tag(STACK_KEY, "prod"), tag(ROLE_KEY, "Primary")])),
            None
        );
    }
}
