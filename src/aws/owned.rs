//! What the provider owns in an account, found by its ownership marks alone (no state): the
//! regional stacks by their VPCs' tags, session tables by their tags, DNS failovers by their
//! endpoint health checks' caller references. `terraform query` lists from these.

use aws_sdk_ec2::types::Vpc;

use super::ec2::{filter, tag_value};
use super::error::AwsError;
use super::session_table;
use crate::role::Role;
use crate::tags::{PART_KEY, ROLE_KEY, STACK_KEY};

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
            .filters(filter(&format!("tag:{PART_KEY}"), "vpc"))
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
    (tag_value(tags, PART_KEY) == Some("vpc")).then_some(())?;
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
            tag(PART_KEY, "vpc"),
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
