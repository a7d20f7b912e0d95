//! List resources for `terraform query` (plugin protocol 6.10, Terraform 1.14+): what the
//! provider owns in the account, found by its ownership marks (`crate::aws::owned`), each with
//! a display name and the identity `import { identity = {...} }` takes. One `config` block for
//! every type narrows the search by stack and region; the server imports each found object by
//! its identity when Terraform asks for the full object.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::error::{Context, PartError, PartResult};
use crate::aws::owned;
use crate::configured::{Configured, Shared};
use crate::naming;
use crate::regions;
use crate::role::Role;
use crate::tf::diag::invalid;
use crate::tf::identity::{Identity, ACCOUNT_ID};
use crate::tf::schema::{named, optional, string_list};
use crate::tf::values::string;

/// A list block's `config`: absent attributes arrive null.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub environment_suffix: Value<String>,
    pub regions: Value<Vec<String>>,
}

impl Filter {
    fn suffix_matches(&self, suffix: &str) -> bool {
        self.environment_suffix
            .as_ref_option()
            .is_none_or(|wanted| wanted == suffix)
    }

    fn regions(&self) -> Vec<String> {
        match self.regions.as_ref_option() {
            Some(regions) => regions.clone(),
            None => Role::ALL
                .iter()
                .map(|r| r.default_region().to_owned())
                .collect(),
        }
    }
}

/// The `config` block: the same for every type, described for each.
fn schema(description: &str) -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: Description::markdown(format!("{description} Without a `config` block, everything in us-east-1 and us-east-2 is listed.")),
            attributes: named([
                ("environment_suffix", optional(AttributeType::String, "Only the stack with this suffix.")),
                ("regions", optional(string_list(), "Regions to search. Default: `us-east-1` and `us-east-2`.")),
            ]),
            ..Default::default()
        },
    }
}

pub fn validate(diags: &mut Diagnostics, filter: &Filter) {
    if let Value::Value(suffix) = &filter.environment_suffix {
        if let Err(err) = naming::validate_suffix(suffix) {
            invalid(diags, AttributePath::new("environment_suffix"), err);
        }
    }
    if let Value::Value(regions) = &filter.regions {
        for (i, region) in regions.iter().enumerate() {
            if !regions::is_known(region) {
                let path = AttributePath::new("regions").index(i as i64);
                invalid(diags, path, regions::unknown_region_detail(region));
            }
        }
    }
}

/// One object found: what a person reads, and its identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub display_name: String,
    pub identity: Identity,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    TradingFailover,
    RegionalStack,
    SessionTable,
    DnsFailover,
}

/// A list resource: named like the managed resource type whose objects it finds.
pub struct ListResource {
    shared: Shared,
    kind: Kind,
}

/// Every list resource, by full type name.
pub fn catalog(shared: &Shared) -> std::collections::BTreeMap<String, ListResource> {
    [
        ("trading_failover", Kind::TradingFailover),
        ("regional_stack", Kind::RegionalStack),
        ("session_table", Kind::SessionTable),
        ("dns_failover", Kind::DnsFailover),
    ]
    .into_iter()
    .map(|(name, kind)| {
        let shared = shared.clone();
        (format!("tap_{name}"), ListResource { shared, kind })
    })
    .collect()
}

impl ListResource {
    pub fn schema(&self) -> Schema {
        schema(match self.kind {
            Kind::TradingFailover => "Lists the failover systems the provider built in the account, found by their VPCs' ownership tags (`tap:stack`, `tap:part`) and the system's shared IAM instance role (`ec2-<suffix>`): a system is a suffix with that role, a primary stack in one searched region and a standby stack in another.",
            Kind::RegionalStack => "Lists the regional stacks the provider built on their own in the searched regions, found by their VPCs' ownership tags (`tap:stack`, `tap:part`). The stacks of a failover system are part of it and listed with `tap_trading_failover` only.",
            Kind::SessionTable => "Lists the session tables the provider built on their own whose home is a searched region, found by their ownership tags; a replica is not listed on its own, nor a failover system's table (listed with `tap_trading_failover`).",
            Kind::DnsFailover => "Lists the DNS failovers the provider built on their own, found by the caller references of their Route 53 health checks, with the hosted zone they created or, for one given a zone, the zone whose records use those health checks (its identity then carries `hosted_zone_id`). Route 53 has no region: `regions` does not narrow them. A failover system's DNS failover is listed with `tap_trading_failover` only.",
        })
    }

    /// What matches `filter`, in a stable order, each identity with the account; None with an
    /// error when the search failed. A found object that cannot be named is a warning.
    pub async fn list(&self, diags: &mut Diagnostics, filter: &Filter) -> Option<Vec<Found>> {
        let cfg = self.shared.get(diags)?;
        let searched = async {
            let account = cfg.account_id().await?;
            let found = match self.kind {
                Kind::RegionalStack => regional_stacks(cfg, filter).await?,
                Kind::TradingFailover => failover_systems(cfg, filter).await?,
                Kind::SessionTable => session_tables(cfg, filter).await?,
                Kind::DnsFailover => dns_failovers(cfg, filter, diags).await?,
            };
            PartResult::Ok((account, found))
        };
        match searched.await {
            Ok((account, mut found)) => {
                for f in &mut found {
                    f.identity.insert(ACCOUNT_ID.to_owned(), string(&account));
                }
                Some(found)
            }
            Err(err) => {
                let (summary, detail) = err.diagnostic("Cannot list");
                diags.root_error(summary, detail);
                None
            }
        }
    }
}

fn identity<const N: usize>(values: [(&str, Value<String>); N]) -> Identity {
    values
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// (region, stack) for every regional stack in the searched regions.
async fn stacks(
    cfg: &Configured,
    filter: &Filter,
) -> Result<Vec<(String, owned::OwnedStack)>, PartError> {
    let mut found = Vec::new();
    for region in filter.regions() {
        let ec2 = &cfg.clients.regional(&region).ec2;
        let stacks = (owned::stacks(ec2).await)
            .context(|| format!("searching {region} for the provider's VPCs (EC2 DescribeVpcs)"))?;
        found.extend(
            (stacks.into_iter())
                .filter(|s| filter.suffix_matches(&s.suffix))
                .map(|s| (region.clone(), s)),
        );
    }
    found.sort_by(|a, b| (&a.1.suffix, &a.0).cmp(&(&b.1.suffix, &b.0)));
    Ok(found)
}

/// Which of `suffixes` are failover systems' (`owned::is_system`), each asked once.
async fn systems<'a>(
    cfg: &Configured,
    suffixes: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeSet<String>, PartError> {
    let mut systems = BTreeSet::new();
    for suffix in suffixes.into_iter().collect::<BTreeSet<_>>() {
        let is_system = (owned::is_system(&cfg.clients.iam, suffix).await).context(|| {
            format!("reading the instance role of failover system {suffix} (IAM GetRole)")
        })?;
        if is_system {
            systems.insert(suffix.to_owned());
        }
    }
    Ok(systems)
}

async fn regional_stacks(cfg: &Configured, filter: &Filter) -> Result<Vec<Found>, PartError> {
    let stacks = stacks(cfg, filter).await?;
    let systems = systems(cfg, stacks.iter().map(|(_, s)| s.suffix.as_str())).await?;
    Ok((stacks.into_iter())
        .filter(|(_, stack)| !systems.contains(&stack.suffix))
        .map(|(region, stack)| {
            let role = stack.failover_role.as_str();
            Found {
                display_name: format!("{} {role} stack in {region}", stack.suffix),
                identity: identity([
                    ("region", string(&region)),
                    ("environment_suffix", string(&stack.suffix)),
                    ("role", string(role)),
                ]),
            }
        })
        .collect())
}

/// A system is a suffix with the system's instance role, a primary stack in one searched region
/// and a standby in another.
async fn failover_systems(cfg: &Configured, filter: &Filter) -> Result<Vec<Found>, PartError> {
    let stacks = stacks(cfg, filter).await?;
    let systems = systems(cfg, stacks.iter().map(|(_, s)| s.suffix.as_str())).await?;
    let in_role = |suffix: &str, role: Role| {
        (stacks.iter())
            .find(|(_, s)| s.suffix == suffix && s.failover_role == role)
            .map(|(region, _)| region.clone())
    };
    Ok((systems.iter().map(String::as_str))
        .filter_map(|suffix| {
            let (primary, standby) = (
                in_role(suffix, Role::Primary)?,
                in_role(suffix, Role::Standby)?,
            );
            Some(Found {
                display_name: format!("{suffix}: {primary} (primary), {standby} (standby)"),
                identity: identity([
                    ("environment_suffix", string(suffix)),
                    ("primary_region", string(&primary)),
                    ("standby_region", string(&standby)),
                ]),
            })
        })
        .collect())
}

async fn session_tables(cfg: &Configured, filter: &Filter) -> Result<Vec<Found>, PartError> {
    let mut found = Vec::new();
    for region in filter.regions() {
        let db = &cfg.clients.regional(&region).dynamodb;
        let tables = (owned::session_tables(db).await).context(|| {
            format!("searching {region} for the provider's session tables (DynamoDB ListTables)")
        })?;
        let tables: Vec<_> = (tables.into_iter())
            .filter(|(_, suffix)| filter.suffix_matches(suffix))
            .collect();
        let systems = systems(cfg, tables.iter().map(|(_, suffix)| suffix.as_str())).await?;
        found.extend(
            (tables.into_iter())
                .filter(|(_, suffix)| !systems.contains(suffix))
                .map(|(name, _)| Found {
                    display_name: format!("{name} in {region}"),
                    identity: identity([("name", string(&name)), ("region", string(&region))]),
                }),
        );
    }
    Ok(found)
}

/// A DNS failover in a zone it was given carries the zone in its identity. One whose records
/// are not found in any zone (left half-made) is a warning.
async fn dns_failovers(
    cfg: &Configured,
    filter: &Filter,
    diags: &mut Diagnostics,
) -> Result<Vec<Found>, PartError> {
    let r53 = &cfg.clients.route53;
    let suffixes: Vec<String> = (owned::dns_failover_suffixes(r53).await)
        .context(|| {
            "searching Route 53 for the provider's health checks (ListHealthChecks)".to_owned()
        })?
        .into_iter()
        .filter(|s| filter.suffix_matches(s))
        .collect();
    let systems = systems(cfg, suffixes.iter().map(String::as_str)).await?;
    let mut found = Vec::new();
    for suffix in suffixes.iter().filter(|s| !systems.contains(*s)) {
        let zone = (owned::dns_failover_zone(r53, suffix).await).context(|| {
            format!("searching Route 53 for the records of stack {suffix} (ListResourceRecordSets)")
        })?;
        match zone {
            Some((zone, name)) => found.push(Found {
                display_name: format!("{suffix}: {name}"),
                identity: identity([
                    ("environment_suffix", string(suffix)),
                    (
                        "hosted_zone_id",
                        if zone.ours { Value::Null } else { string(&zone.id) },
                    ),
                ]),
            }),
            None => diags.root_warning(
                format!("DNS failover of stack {suffix} not listed"),
                format!("Stack {suffix} has a Route 53 health check, but no hosted zone holds a primary record that uses it: the DNS failover was left half-made, or its records were removed. Apply its configuration again, or destroy it."),
            ),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_filter_every_stack_in_the_default_regions_is_searched() {
        let filter = Filter::default();
        assert!(filter.suffix_matches("prod"));
        assert_eq!(filter.regions(), ["us-east-1", "us-east-2"]);
        let narrowed = Filter {
            environment_suffix: string("prod"),
            regions: Value::Value(vec!["eu-west-1".into()]),
        };
        assert!(!narrowed.suffix_matches("prod-2"));
        assert_eq!(narrowed.regions(), ["eu-west-1"]);
    }

    #[test]
    fn a_bad_suffix_or_region_is_refused_on_its_attribute() {
        let mut diags = Diagnostics::default();
        validate(
            &mut diags,
            &Filter {
                environment_suffix: string("Prod!"),
                regions: Value::Value(vec!["us-east-1".into(), "us-north-9".into()]),
            },
        );
        assert_eq!(diags.errors.len(), 2, "{:?}", diags.errors);
        assert!(
            diags.errors[1].summary.contains("regions[1]"),
            "{:?}",
            diags.errors
        );
    }
}
