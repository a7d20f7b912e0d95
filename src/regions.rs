//! The AWS regions users may name. A typo here must fail at plan time, not as an endpoint error
//! halfway through apply.

/// Commercial-partition regions (the partition the provider's ARNs and endpoints assume).
pub const KNOWN: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

pub fn is_known(region: &str) -> bool {
    KNOWN.contains(&region)
}

/// Region-name prefixes of the other AWS partitions: "You cannot use IAM credentials from one
/// partition to interact with resources in a different partition", and their ARNs are
/// `arn:aws-us-gov:`, `arn:aws-cn:`, …
/// (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html;
/// the ISO partitions as the SDKs' partition lists name them).
const OTHER_PARTITIONS: &[(&str, &str)] = &[
    ("us-gov-", "AWS GovCloud (US)"),
    ("cn-", "AWS China"),
    ("us-iso", "an AWS isolated (ISO)"),
    ("eu-isoe-", "an AWS isolated (ISOE)"),
];

/// What to tell a user who named an unknown region.
pub fn unknown_region_detail(region: &str) -> String {
    match OTHER_PARTITIONS.iter().find(|(p, _)| region.starts_with(p)) {
        Some((_, partition)) => format!(
            "\"{region}\" is in {partition} partition; this provider builds in the commercial partition only (its ARNs, endpoints and credentials differ). Use a commercial region such as \"us-east-1\" or \"eu-west-1\"."
        ),
        None => format!(
            "\"{region}\" is not an AWS region this provider knows. Use a region code such as \"us-east-1\" or \"eu-west-1\"; known regions: {}.",
            KNOWN.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    #[test]
    fn defaults_are_known_and_typos_are_not() {
        assert!(Role::ALL.iter().all(|r| is_known(r.default_region())));
        assert!(!is_known("us-east-3"));
        assert!(!is_known("US-EAST-1"));
        assert!(unknown_region_detail("mars-1").contains("\"mars-1\""));
        assert!(!is_known("us-gov-west-1") && !is_known("cn-north-1"));
        assert!(unknown_region_detail("us-gov-west-1").contains("AWS GovCloud (US) partition"));
        assert!(unknown_region_detail("cn-north-1").contains("AWS China partition"));
    }
}
