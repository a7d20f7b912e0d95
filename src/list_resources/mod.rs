//! List resources for `terraform query` (plugin protocol 6.10, Terraform 1.14+): what the
//! provider owns in the account, found by its ownership marks (`crate::aws::owned`), each with
//! a display name and the identity `import { identity = {...} }` takes. One `config` block for
//! every type narrows the search by stack and region; the server imports each found object by
//! its identity when Terraform asks for the full object.

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::error::{Context, PartError, PartResult};
use crate::aws::{hosted_zone, owned};
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
            Kind::TradingFailover => "Lists the failover systems the provider built in the account, found by their VPCs' ownership tags (`tap:stack`, `tap:part`): a system is a suffix with a primary stack in one searched region and a standby stack in another.",
            Kind::RegionalStack => "Lists the regional stacks the provider built in the searched regions, found by their VPCs' ownership tags (`tap:stack`, `tap:part`), whether made on their own or by a failover system.",
            Kind::SessionTable => "Lists the session tables the provider built whose home is a searched region, found by their ownership tags; a replica is not listed on its own.",
            Kind::DnsFailover => "Lists the DNS failovers the provider built, found by the caller references of their Route 53 health checks. Route 53 has no region: `regions` does not narrow them. One whose records are in a hosted zone it was given is left out, with a warning saying how to import it by identity.",
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

async fn regional_stacks(cfg: &Configured, filter: &Filter) -> Result<Vec<Found>, PartError> {
    Ok((stacks(cfg, filter).await?.into_iter())
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

/// A system is a suffix with a primary stack in one searched region and a standby in another.
async fn failover_systems(cfg: &Configured, filter: &Filter) -> Result<Vec<Found>, PartError> {
    let stacks = stacks(cfg, filter).await?;
    let in_role = |suffix: &str, role: Role| {
        (stacks.iter())
            .find(|(_, s)| s.suffix == suffix && s.failover_role == role)
            .map(|(region, _)| region.clone())
    };
    let mut suffixes: Vec<&str> = stacks.iter().map(|(_, s)| s.suffix.as_str()).collect();
    suffixes.dedup();
    Ok((suffixes.into_iter())
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
        found.extend(
            (tables.into_iter())
                .filter(|(_, suffix)| filter.suffix_matches(suffix))
                .map(|(name, _)| Found {
                    display_name: format!("{name} in {region}"),
                    identity: identity([("name", string(&name)), ("region", string(&region))]),
                }),
        );
    }
    Ok(found)
}

/// A DNS failover in a zone it did not create is named by that zone, which nothing owned
/// records: it is left out, with a warning that says how to import it.
async fn dns_failovers(
    cfg: &Configured,
    filter: &Filter,
    diags: &mut Diagnostics,
) -> Result<Vec<Found>, PartError> {
    let r53 = &cfg.clients.route53;
    let suffixes = (owned::dns_failover_suffixes(r53).await).context(|| {
        "searching Route 53 for the provider's health checks (ListHealthChecks)".to_owned()
    })?;
    let mut found = Vec::new();
    for suffix in suffixes.iter().filter(|s| filter.suffix_matches(s)) {
        let zone = (hosted_zone::find_ours(r53, None, suffix).await)
            .context(|| format!("reading the hosted zone of stack {suffix}"))?;
        match zone {
            Some(zone) => found.push(Found {
                display_name: format!("{suffix}: {}", zone.name.trim_end_matches('.')),
                identity: identity([
                    ("environment_suffix", string(suffix)),
                    ("hosted_zone_id", Value::Null),
                ]),
            }),
            None => diags.root_warning(
                format!("DNS failover of stack {suffix} not listed"),
                format!("Stack {suffix} has a Route 53 health check but no hosted zone it created: its records are in a zone it was given. Import it with `import {{ to = tap_dns_failover.NAME identity = {{ environment_suffix = \"{suffix}\", hosted_zone_id = \"ZONE\" }} }}`."),
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
