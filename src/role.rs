//! A region's role in the failover system, and what follows from it: how Terraform, tags, names
//! and Route 53 spell it, and its defaults. Code passes a [`Role`]; the strings exist only where
//! Terraform or AWS read them. Adding standbys means more values here, not more string matches.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Primary,
    Standby,
}

impl Role {
    /// Every role, primary first.
    pub const ALL: [Role; 2] = [Role::Primary, Role::Standby];

    /// As Terraform's `role`, the names and the Route 53 set identifiers spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
        }
    }

    /// The role Terraform or AWS spelt, if it is one.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The value of the `FailoverRole` tag.
    pub const fn tag_value(self) -> &'static str {
        match self {
            Role::Primary => "Primary",
            Role::Standby => "Standby",
        }
    }

    /// The role a `FailoverRole` tag value names, if it is one.
    pub fn from_tag(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.tag_value() == value)
    }

    /// The spec's regions: the primary in us-east-1, the standby in us-east-2.
    pub const fn default_region(self) -> &'static str {
        match self {
            Role::Primary => "us-east-1",
            Role::Standby => "us-east-2",
        }
    }

    /// The second octet of the role's default network, from the spec: primary 10.0.0.0/16,
    /// standby 10.1.0.0/16, public .1/.2 and private .11/.12 /24s.
    pub const fn default_second_octet(self) -> u8 {
        match self {
            Role::Primary => 0,
            Role::Standby => 1,
        }
    }

    pub fn default_vpc_cidr(self) -> String {
        format!("10.{}.0.0/16", self.default_second_octet())
    }

    /// Default subnets of the role: one /24 per third octet given.
    pub fn default_subnets(self, thirds: [u8; 2]) -> Vec<String> {
        let octet = self.default_second_octet();
        thirds
            .iter()
            .map(|t| format!("10.{octet}.{t}.0/24"))
            .collect()
    }

    /// Instances a region runs unless told otherwise: the primary serves, the standby waits warm.
    pub const fn default_capacity(self) -> u8 {
        match self {
            Role::Primary => 2,
            Role::Standby => 1,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a region's private subnets reach the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatMode {
    /// One NAT gateway for every zone.
    Single,
    /// One NAT gateway per zone.
    PerAz,
    /// No NAT: the private subnets have no egress.
    None,
}

impl NatMode {
    pub const ALL: [NatMode; 3] = [NatMode::Single, NatMode::PerAz, NatMode::None];
    pub const DEFAULT: NatMode = NatMode::Single;

    /// As Terraform's `nat_mode` spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            NatMode::Single => "single",
            NatMode::PerAz => "per_az",
            NatMode::None => "none",
        }
    }

    pub fn parse(text: &str) -> Option<NatMode> {
        NatMode::ALL.into_iter().find(|mode| mode.as_str() == text)
    }

    /// NAT gateways for a network with `zones` public subnets.
    pub const fn gateways(self, zones: usize) -> usize {
        match self {
            NatMode::Single => 1,
            NatMode::PerAz => zones,
            NatMode::None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_differ() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Primary"), None);
        assert_eq!(Role::Primary.default_vpc_cidr(), "10.0.0.0/16");
        assert_eq!(Role::Standby.default_vpc_cidr(), "10.1.0.0/16");
        assert_eq!(
            Role::Standby.default_subnets([11, 12]),
            ["10.1.11.0/24", "10.1.12.0/24"]
        );
        assert_ne!(
            Role::Primary.default_region(),
            Role::Standby.default_region()
        );
    }

    #[test]
    fn nat_modes_round_trip_and_count_gateways() {
        for mode in NatMode::ALL {
            assert_eq!(NatMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(NatMode::parse("shared"), None);
        let counts = NatMode::ALL.map(|mode| mode.gateways(3));
        assert_eq!(counts, [1, 3, 0]);
    }
}
