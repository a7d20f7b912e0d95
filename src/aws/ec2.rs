//! What every EC2 part shares: tags on create, ownership filters, and tag synchronisation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_sdk_ec2::Client;

use super::error::{AwsError, Context, PartResult};
use crate::role::Role;
use crate::tags::{Tags, PART_KEY, STACK_KEY};

/// Which stack and role an EC2 object belongs to; `part` names the object within the stack.
#[derive(Debug, Clone)]
pub struct Owner {
    pub suffix: String,
    pub failover_role: Role,
    /// Tags every object of this stack carries (default, standard, user); `tags_for` adds the
    /// part's own `Name` and ownership tags.
    pub base_tags: Tags,
}

impl Owner {
    pub fn tags_for(&self, part: &str, name: &str) -> Tags {
        let mut tags = self.base_tags.clone();
        tags.insert("Name".into(), name.into());
        tags.insert(STACK_KEY.into(), self.suffix.clone());
        tags.insert(PART_KEY.into(), part.into());
        tags
    }

    /// Filters that select this stack's object for `part` (by tags).
    pub fn filters(&self, part: &str) -> Vec<Filter> {
        vec![
            filter(&format!("tag:{STACK_KEY}"), &self.suffix),
            filter(&format!("tag:{PART_KEY}"), part),
            filter("tag:FailoverRole", self.failover_role.tag_value()),
        ]
    }

    /// Whether an object's tags mark it as part of this stack (same suffix and role).
    pub fn is_member(&self, tags: &[Tag]) -> bool {
        tag_value(tags, STACK_KEY) == Some(self.suffix.as_str())
            && tag_value(tags, "FailoverRole") == Some(self.failover_role.tag_value())
    }

    /// Whether an object's tags mark it as this stack's `part`. Checked client-side too: some
    /// EC2 filters are ignored by AWS-compatible endpoints, and a finder must not adopt a stranger.
    pub fn owns(&self, tags: &[Tag], part: &str) -> bool {
        self.is_member(tags) && tag_value(tags, PART_KEY) == Some(part)
    }
}

/// The value of tag `key`, if the object carries it.
pub fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The ClientToken of one create call: `scope` is the AWS ID the object is made in or for (its
/// subnet, its VPC, its template), `part` the object within it, then a stamp unique to the call.
/// The SDK sends the same token on each of its retries, so a repeat after a lost answer gets what
/// the first try made; the next call gets a new token, because AWS answers a token with its object
/// "for at least 24 hours after the termination" of it: a part deleted and made again in the same
/// VPC or subnet would otherwise get the deleted object back. What a call whose answer was lost
/// made, a later apply adopts by its tags. At most 64 ASCII characters
/// (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html).
pub fn client_token(scope: &str, part: &str) -> String {
    format!("{scope}/{part}/{:x}", stamp())
}

/// Nanoseconds since the epoch, raised where needed to stay above the last stamp this process
/// gave: two calls in the same nanosecond still differ.
fn stamp() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1));
    let next = |last: u64| last.max(now.saturating_sub(1)).saturating_add(1);
    match LAST.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
        Some(next(last))
    }) {
        Ok(last) | Err(last) => next(last),
    }
}

pub fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

pub fn tag_spec(kind: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(ec2_tags(tags)))
        .build()
}

pub fn ec2_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn tag_map(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// Makes the tags on `id` exactly `want` (AWS's own `aws:` tags excepted).
pub async fn sync_tags(ec2: &Client, id: &str, have: &[Tag], want: &Tags) -> PartResult<()> {
    let changes = crate::tags::diff(&tag_map(have), want);
    let action = || format!("tagging {id}");
    if !changes.stale.is_empty() {
        let stale = changes
            .stale
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        ec2.delete_tags()
            .resources(id)
            .set_tags(Some(stale))
            .send()
            .await
            .context(action)?;
    }
    if !changes.changed.is_empty() {
        ec2.create_tags()
            .resources(id)
            .set_tags(Some(ec2_tags(&changes.changed)))
            .send()
            .await
            .context(action)?;
    }
    Ok(())
}

/// A DependencyViolation that outlived its retries, with the network interfaces that still use
/// the object (`filter_name` = `subnet-id` or `group-id`) named, so the user knows what blocks.
pub async fn explain_in_use(ec2: &Client, filter_name: &str, id: &str, err: AwsError) -> AwsError {
    if !err.is("DependencyViolation") {
        return err;
    }
    let Ok(found) = ec2
        .describe_network_interfaces()
        .filters(filter(filter_name, id))
        .send()
        .await
    else {
        return err;
    };
    let users: Vec<String> = found
        .network_interfaces()
        .iter()
        .map(|eni| {
            format!(
                "{} ({})",
                eni.network_interface_id().unwrap_or("?"),
                eni.description()
                    .filter(|d| !d.is_empty())
                    .unwrap_or("no description")
            )
        })
        .collect();
    if users.is_empty() {
        return err;
    }
    AwsError {
        message: format!(
            "{}; still used by network interface {}",
            err.message,
            users.join(", ")
        ),
        ..err
    }
}

#[cfg(test)]
mod tests {
    use super::client_token;

    #[test]
    fn client_tokens_fit_awss_64_characters() {
        // The longest scopes and parts the provider uses: 17-hex-digit IDs, many private subnets.
        for (scope, part) in [
            ("subnet-0123456789abcdef0", "nat-99"),
            ("vpc-0123456789abcdef0", "private-rt-99"),
            ("lt-0123456789abcdef0", "default-v99999999999"),
        ] {
            let token = client_token(scope, part);
            assert!(token.len() <= 64 && token.is_ascii(), "{token}");
        }
    }

    #[test]
    fn each_call_gets_its_own_token() {
        // A part made again in the same VPC must not send the token of the one it replaces.
        let tokens: std::collections::BTreeSet<String> = (0..1000)
            .map(|_| client_token("vpc-0123456789abcdef0", "private-rt-1"))
            .collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens
            .iter()
            .all(|t| t.starts_with("vpc-0123456789abcdef0/private-rt-1/")));
    }
}
