//! Names of what we create. Every name carries the environment suffix; the suffix is validated
//! once, against the tightest AWS limit of any part, so that no part fails at apply time.

use crate::role::Role;

/// ALB and target-group names are limited to 32 characters; our longest prefix is
/// `alb-standby-` (12), which leaves 20 for the suffix.
pub const MAX_SUFFIX_LEN: usize = 20;

/// Checks the suffix; the error says what is allowed.
pub fn validate_suffix(suffix: &str) -> Result<(), String> {
    let allowed = "1 to 20 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit (it becomes part of ALB, target group, DynamoDB and DNS names)";
    let well_formed = !suffix.is_empty()
        && suffix.len() <= MAX_SUFFIX_LEN
        && suffix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !suffix.starts_with('-')
        && !suffix.ends_with('-')
        && !suffix.contains("--");
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "\"{suffix}\" is not a valid environment suffix: use {allowed}."
        ))
    }
}

/// A regional part: `alb-primary-prod`, `asg-standby-prod`, ...
pub fn stack_part(what: &str, role: Role, suffix: &str) -> String {
    format!("{what}-{role}-{suffix}")
}

/// A stack's NAT gateways, one of the parts there can be several of.
pub const NAT_GATEWAY: &str = "nat";
/// The elastic IP of each NAT gateway.
pub const NAT_ADDRESS: &str = "eip";

// The parts of a regional stack, as their `Part` ownership tag and their names spell them.

/// A stack's VPC.
pub const VPC: &str = "vpc";
/// A stack's internet gateway.
pub const INTERNET_GATEWAY: &str = "igw";
/// A stack's Application Load Balancer.
pub const LOAD_BALANCER: &str = "alb";
/// The load balancer's target group.
pub const TARGET_GROUP: &str = "tg";
/// The instances' launch template.
pub const LAUNCH_TEMPLATE: &str = "lt";
/// The instances' Auto Scaling group.
pub const AUTO_SCALING_GROUP: &str = "asg";
/// The Auto Scaling group's target-tracking policy on CPU.
pub const CPU_POLICY: &str = "cpu";
/// The part the instances are tagged as.
pub const INSTANCE: &str = "instance";
/// The name the instances carry.
pub const INSTANCE_NAME: &str = "app";
/// The instances' IAM role and profile.
pub const INSTANCE_ROLE: &str = "instance-role";
/// A regional stack as a whole, as messages name it.
pub const STACK: &str = "stack";
/// A stack's public route table (one for every public subnet).
pub const PUBLIC_ROUTE_TABLE: &str = "public-rt";
/// A stack's private route tables, one per private subnet.
pub const PRIVATE_ROUTE_TABLE: &str = "private-rt";
/// The load balancer's security group.
pub const ALB_SECURITY_GROUP: &str = "alb-sg";
/// The instances' security group.
pub const INSTANCE_SECURITY_GROUP: &str = "instance-sg";

/// The part of the `n`th subnet of a kind (`public`, `private`), counted from 1: `public-subnet-1`.
pub fn subnet_part(kind: &str, n: usize) -> String {
    numbered_part(&format!("{kind}-subnet"), n)
}

/// The part (ownership tag) of the `n`th of a kind, counted from 1: `nat-1`, `eip-2`.
pub fn numbered_part(kind: &str, n: usize) -> String {
    format!("{kind}-{n}")
}

/// The number of a part of `kind` (`nat-2` → 2); `None` for a part of another kind.
pub fn part_number(part: &str, kind: &str) -> Option<usize> {
    part.strip_prefix(kind)?.strip_prefix('-')?.parse().ok()
}

/// The CloudWatch namespace the instances of a failover system publish their metrics in.
pub fn metrics_namespace(suffix: &str) -> String {
    format!("TradingApp/{suffix}")
}

/// The CloudWatch Logs group the instances of a failover system write to.
pub fn log_group(suffix: &str) -> String {
    format!("/tap/{suffix}")
}

/// The IAM role (and instance profile) a regional stack makes for its instances.
pub fn stack_instance_role(role: Role, suffix: &str) -> String {
    format!("ec2-{role}-{suffix}")
}

/// The IAM role (and instance profile) both regions of a failover system share.
pub fn shared_instance_role(suffix: &str) -> String {
    format!("ec2-{suffix}")
}

/// An alarm of the DNS failover: `failover-health-check-prod`, ...
pub fn alarm(what: &str, suffix: &str) -> String {
    format!("failover-{what}-{suffix}")
}

/// The alarm on a region's unhealthy targets: `failover-unhealthy-hosts-standby-prod`.
pub fn unhealthy_hosts_alarm(role: Role, suffix: &str) -> String {
    alarm(&format!("unhealthy-hosts-{role}"), suffix)
}

/// An alarm topic, by what it carries (a role's alarms, or `health-check`):
/// `primary-failover-notifications-prod`.
pub fn topic(what: &str, suffix: &str) -> String {
    format!("{what}-failover-notifications-{suffix}")
}

/// The Route 53 health check on the primary's endpoint (its `Name` tag).
pub fn health_check(suffix: &str) -> String {
    format!("health-check-{suffix}")
}

pub fn session_table(suffix: &str) -> String {
    format!("trading-sessions-{suffix}")
}

/// The suffix back from a table name we made, for import.
pub fn suffix_from_session_table(name: &str) -> Option<&str> {
    name.strip_prefix("trading-sessions-")
        .filter(|s| validate_suffix(s).is_ok())
}

/// DynamoDB table names: 3 to 255 of `[a-zA-Z0-9_.-]`.
pub fn validate_table_name(name: &str) -> Result<(), String> {
    let ok = (3..=255).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a valid DynamoDB table name: use 3 to 255 letters, digits, '_', '.' or '-'."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parts are found again by their tag: two kinds spelled alike would adopt each other.
    #[test]
    fn every_part_kind_is_spelled_its_own_way() {
        let kinds = [
            VPC,
            INTERNET_GATEWAY,
            LOAD_BALANCER,
            TARGET_GROUP,
            LAUNCH_TEMPLATE,
            AUTO_SCALING_GROUP,
            CPU_POLICY,
            INSTANCE,
            INSTANCE_ROLE,
            PUBLIC_ROUTE_TABLE,
            PRIVATE_ROUTE_TABLE,
            ALB_SECURITY_GROUP,
            INSTANCE_SECURITY_GROUP,
            NAT_GATEWAY,
            NAT_ADDRESS,
        ];
        let distinct: std::collections::BTreeSet<_> = kinds.iter().collect();
        assert_eq!(distinct.len(), kinds.len());
        assert_eq!(subnet_part("private", 2), "private-subnet-2");
        assert_eq!(
            part_number(&subnet_part("public", 3), "public-subnet"),
            Some(3)
        );
    }

    #[test]
    fn numbered_parts_read_back_only_their_own_kind() {
        assert_eq!(numbered_part(NAT_GATEWAY, 2), "nat-2");
        assert_eq!(part_number("nat-2", NAT_GATEWAY), Some(2));
        assert_eq!(part_number("eip-2", NAT_GATEWAY), None);
        assert_eq!(part_number("nat-gateway", NAT_GATEWAY), None);
        assert_eq!(part_number("natx-2", NAT_GATEWAY), None);
        assert_eq!(
            part_number(&numbered_part(NAT_ADDRESS, 3), NAT_ADDRESS),
            Some(3)
        );
    }

    #[test]
    fn suffix_rules() {
        for good in ["prod", "a", "dev-2", "abcdefghij0123456789"] {
            assert!(validate_suffix(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Prod",
            "-prod",
            "prod-",
            "pr--od",
            "pr_od",
            "prod.1",
            "abcdefghij01234567890",
        ] {
            assert!(validate_suffix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn longest_names_fit_alb_limit() {
        let suffix = "x".repeat(MAX_SUFFIX_LEN);
        let longest = Role::ALL
            .map(|role| stack_part("alb", role, &suffix).len())
            .into_iter()
            .max();
        assert_eq!(longest, Some(32), "the ALB name limit, reached exactly");
        assert!(Role::ALL
            .iter()
            .all(|r| stack_part("tg", *r, &suffix).len() <= 32));
        assert_eq!(stack_part("alb", Role::Standby, "prod"), "alb-standby-prod");
    }

    #[test]
    fn table_names_round_trip() {
        let name = session_table("prod");
        assert_eq!(name, "trading-sessions-prod");
        assert_eq!(suffix_from_session_table(&name), Some("prod"));
        assert_eq!(suffix_from_session_table("orders"), None);
        assert!(validate_table_name(&name).is_ok());
        assert!(validate_table_name("ab").is_err());
        assert!(validate_table_name("a table").is_err());
    }
}
