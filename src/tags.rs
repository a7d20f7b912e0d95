//! Tags on everything we create: the provider's `default_tags`, the standard `Name`,
//! `Environment` and `FailoverRole`, the user's tags, and our ownership tags, which let a part
//! created before a crash be found and adopted instead of duplicated.

use std::collections::BTreeMap;

use crate::role::Role;

pub type Tags = BTreeMap<String, String>;

/// Ownership: which stack (environment suffix) an object belongs to.
pub const STACK_KEY: &str = "tap:stack";
/// Ownership: which part of the stack it is (`session-table`, `vpc`, ...).
pub const PART_KEY: &str = "tap:part";
/// The region's role, as `Role::tag_value` spells it.
pub const ROLE_KEY: &str = "FailoverRole";
const RESERVED_PREFIXES: [&str; 2] = ["tap:", "aws:"];

pub const DEFAULT_ENVIRONMENT: &str = "Production";

/// Who an object belongs to and what it is.
pub struct Ownership<'a> {
    pub suffix: &'a str,
    pub part: &'a str,
    pub name: &'a str,
    pub environment: &'a str,
    pub failover_role: Role,
}

/// Later sources win: defaults, then the standard tags, then the user's, then ownership, which
/// the user cannot override (validation refuses `tap:` keys).
pub fn merge(default_tags: &Tags, owner: &Ownership, user: &Tags) -> Tags {
    let mut all = default_tags.clone();
    all.insert("Name".into(), owner.name.into());
    all.insert("Environment".into(), owner.environment.into());
    all.insert(ROLE_KEY.into(), owner.failover_role.tag_value().into());
    all.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.insert(STACK_KEY.into(), owner.suffix.into());
    all.insert(PART_KEY.into(), owner.part.into());
    all
}

/// The user's tags among `all` that an object carries (what import reads back): what is left
/// without the standard and ownership tags, AWS's own, and the provider's `default_tags` with
/// their default values. A user tag that sets a standard key, or a default key to its default
/// value, cannot be told apart and is not recovered.
pub fn users(all: &Tags, default_tags: &Tags) -> Tags {
    let standard = ["Name", "Environment", ROLE_KEY];
    all.iter()
        .filter(|(key, value)| {
            !standard.contains(&key.as_str())
                && !RESERVED_PREFIXES.iter().any(|p| key.starts_with(p))
                && default_tags.get(*key) != Some(*value)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Plan-time rules AWS applies to tags on every service we use.
pub fn validate(tags: &Tags) -> Result<(), String> {
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 {
            return Err(format!("tag key \"{key}\" must be 1 to 128 characters."));
        }
        if value.chars().count() > 256 {
            return Err(format!(
                "the value of tag \"{key}\" is longer than 256 characters."
            ));
        }
        if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| key.starts_with(*p)) {
            return Err(format!(
                "tag key \"{key}\" uses the reserved prefix \"{prefix}\" (\"aws:\" belongs to AWS, \"tap:\" marks what this provider owns)."
            ));
        }
    }
    if tags.len() > 40 {
        return Err(format!(
            "{} tags given; at most 40 fit beside the provider's own tags (AWS allows 50).",
            tags.len()
        ));
    }
    Ok(())
}

/// What to remove and what to set so that an object's tags become `want`. AWS's own `aws:`
/// tags are never removed.
pub struct TagChanges {
    pub stale: Vec<String>,
    pub changed: Tags,
}

pub fn diff(have: &Tags, want: &Tags) -> TagChanges {
    TagChanges {
        stale: have
            .keys()
            .filter(|k| !want.contains_key(*k) && !k.starts_with("aws:"))
            .cloned()
            .collect(),
        changed: want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Ownership<'static> {
        Ownership {
            suffix: "prod",
            part: "session-table",
            name: "trading-sessions-prod",
            environment: DEFAULT_ENVIRONMENT,
            failover_role: Role::Primary,
        }
    }

    #[test]
    fn user_tags_override_defaults_but_not_ownership() {
        let defaults = Tags::from([
            ("Team".into(), "core".into()),
            ("Environment".into(), "x".into()),
        ]);
        let user = Tags::from([("Team".into(), "trading".into())]);
        let all = merge(&defaults, &owner(), &user);
        assert_eq!(all["Team"], "trading");
        assert_eq!(all["Environment"], "Production");
        assert_eq!(all["Name"], "trading-sessions-prod");
        assert_eq!(all["FailoverRole"], "Primary");
        assert_eq!(all[STACK_KEY], "prod");
        assert_eq!(all[PART_KEY], "session-table");
    }

    #[test]
    fn the_users_tags_are_what_merge_added_beyond_defaults_and_ownership() {
        let defaults = Tags::from([
            ("Team".into(), "core".into()),
            ("CostCenter".into(), "42".into()),
        ]);
        let user = Tags::from([
            ("Team".into(), "trading".into()),
            ("Owner".into(), "fx".into()),
        ]);
        let mut all = merge(&defaults, &owner(), &user);
        all.insert("aws:cloudformation:stack-name".into(), "x".into());
        assert_eq!(users(&all, &defaults), user);
        assert_eq!(
            users(&merge(&defaults, &owner(), &Tags::new()), &defaults),
            Tags::new()
        );
    }

    #[test]
    fn diff_removes_stale_keys_but_not_aws_ones() {
        let have = Tags::from([
            ("a".into(), "1".into()),
            ("b".into(), "2".into()),
            ("aws:x".into(), "y".into()),
        ]);
        let want = Tags::from([("a".into(), "1".into()), ("c".into(), "3".into())]);
        let changes = diff(&have, &want);
        assert_eq!(changes.stale, ["b"]);
        assert_eq!(changes.changed, Tags::from([("c".into(), "3".into())]));
    }

    #[test]
    fn reserved_and_oversized_tags_are_refused() {
        assert!(validate(&Tags::from([("tap:stack".into(), "x".into())])).is_err());
        assert!(validate(&Tags::from([("aws:foo".into(), "x".into())])).is_err());
        assert!(validate(&Tags::from([("".into(), "x".into())])).is_err());
        assert!(validate(&Tags::from([("k".into(), "v".repeat(257))])).is_err());
        assert!(validate(&Tags::from([("Team".into(), "core".into())])).is_ok());
    }
}
