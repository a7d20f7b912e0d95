//! IPv4 CIDR blocks: parsing, containment and overlap, for plan-time network validation.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: u32,
    prefix: u8,
}

impl Cidr {
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn mask(&self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    fn last(&self) -> u32 {
        self.network | !self.mask()
    }

    pub fn contains(&self, other: &Cidr) -> bool {
        other.prefix >= self.prefix && (other.network & self.mask()) == self.network
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.network <= other.last() && other.network <= self.last()
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("\"{text}\" is not an IPv4 CIDR block like \"10.0.0.0/16\"");
        let (addr, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if prefix > 32 {
            return Err(invalid());
        }
        let cidr = Cidr {
            network: u32::from(addr),
            prefix,
        };
        if cidr.network & cidr.mask() != cidr.network {
            return Err(format!(
                "\"{text}\" has host bits set; the network address is {}",
                Cidr {
                    network: cidr.network & cidr.mask(),
                    prefix
                }
            ));
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(c("10.0.0.0/16").to_string(), "10.0.0.0/16");
        assert_eq!(c("0.0.0.0/0").prefix(), 0);
        for bad in ["10.0.0.0", "10.0.0/16", "10.0.0.0/33", "300.0.0.0/8", "abc"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let err = "10.0.0.1/16".parse::<Cidr>().unwrap_err();
        assert!(err.contains("10.0.0.0/16"), "{err}");
    }

    #[test]
    fn containment_and_overlap() {
        assert!(c("10.0.0.0/16").contains(&c("10.0.1.0/24")));
        assert!(!c("10.0.0.0/16").contains(&c("10.1.1.0/24")));
        assert!(!c("10.0.1.0/24").contains(&c("10.0.0.0/16")));
        assert!(c("10.0.0.0/16").overlaps(&c("10.0.255.0/24")));
        assert!(!c("10.0.0.0/16").overlaps(&c("10.1.0.0/16")));
        assert!(c("0.0.0.0/0").overlaps(&c("192.168.0.0/24")));
    }
}
