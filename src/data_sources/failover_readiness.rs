//! `tap_failover_readiness`: would failover work right now? A data source that reads a stack's
//! standby capacity, health check, table replica, records, alarms and topics, and says what
//! would stop Route 53 from failing over, before an outage does.

mod checks;
mod facts;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, DataSource, Diagnostics};

use crate::aws::error::PartError;
use crate::aws::switch_drill::Summary as DrillSummary;
use crate::configured::{Configured, Shared};
use crate::naming;
use crate::regions;
use crate::role::Role;
use crate::tf::diag::invalid;
use crate::tf::number::{whole, Number};
use crate::tf::schema::{computed, named, optional, required, string_list, with_default};
use crate::tf::values::{self, StringList};

/// Replication latency, in milliseconds, above which a warning is given unless told otherwise.
const DEFAULT_LATENCY_MS: f64 = 60_000.0;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingBlock {
    pub severity: String,
    pub part: String,
    pub message: String,
    pub fix: String,
}

/// The data source's value; also the `tap_readiness_check` action's configuration, whose
/// schema leaves out the computed attributes (hence `default`: absent means null).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub primary_region: Value<String>,
    pub standby_region: Value<String>,
    pub standby_regions: StringList,
    pub domain_name: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub active_region: Value<String>,
    pub health_check_interval: Value<Number>,
    pub failure_threshold: Value<Number>,
    pub replication_latency_threshold: Value<Number>,
    pub rto_seconds: Value<Number>,
    pub last_drill: Value<String>,
    pub ready: Value<bool>,
    pub findings: Value<Vec<FindingBlock>>,
    pub estimated_failover_seconds: Value<Number>,
}

pub fn schema() -> Schema {
    let finding = AttributeType::Object(named([
        ("severity", AttributeType::String),
        ("part", AttributeType::String),
        ("message", AttributeType::String),
        ("fix", AttributeType::String),
    ]));
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown("Whether failover of a stack would work right now: the standby's InService instances and healthy targets, the primary health check's status and settings, the session table's replica and replication latency, the weighted records, the alarms' actions and their topics' confirmed subscriptions, the certificate each load balancer serves (issued, and not expiring within 30 days: ACM renews only what it issued, while the validation record stays), each standby region's failover switch alarm (a warning while one is thrown, naming the region to release it in, since metrics are regional; or when one is missing), and the expected failover time. The stack is found from `environment_suffix` alone (its hosted zone and health check carry it, and the records name both load balancers' regions); every other argument is an expectation: when given and unlike the stack, that is a finding."),
            attributes: named([
                ("id", computed(AttributeType::String, "The environment suffix.")),
                ("environment_suffix", required(AttributeType::String, "Suffix of the stack to check.")),
                ("primary_region", with_default(AttributeType::String, "Primary region. Found from the stack when not given.")),
                ("standby_region", with_default(AttributeType::String, "Standby region. Found from the stack when not given. With several standbys, the first in order of preference: the one Route 53 answers with when the primary is down, which the checks judge in full; each further standby is judged on what it needs to take traffic when the chain reaches it (its capacity, its replica and that replica's protection, its alarms and its topic), in findings that name it (`further standby <region>: ...`).")),
                ("standby_regions", computed(string_list(), "Every standby region in order of preference, as the records route (several through their chain of failover groups, see `tap_dns_failover`); the first is `standby_region`.")),
                ("domain_name", with_default(AttributeType::String, "Failover name. Found from the stack when not given.")),
                ("hosted_zone_id", optional(AttributeType::String, "The zone holding the records, when the stack was given one (a zone the stack created is found without it).")),
                ("active_region", with_default(AttributeType::String, "Which region should take traffic now, `primary` or `standby`: sets the expected weights. When not given, either one taking all traffic is fine, and this says which does.")),
                ("health_check_interval", with_default(AttributeType::Number, "Expected health check interval. Found from the health check when not given.")),
                ("failure_threshold", with_default(AttributeType::Number, "Expected failure threshold. Found from the health check when not given.")),
                ("replication_latency_threshold", with_default(AttributeType::Number, "Replication latency, in milliseconds, above which a warning is given. Default 60000.")),
                ("rto_seconds", optional(AttributeType::Number, "Recovery time objective: an expected failover time above it is an error.")),
                ("last_drill", optional(AttributeType::String, "The last `tap_failover_drill`'s summary (the text after `drill summary: `): what it found wrong becomes findings, and its time until DNS answered the standby is held against `rto_seconds`.")),
                ("ready", computed(AttributeType::Bool, "`true` when no finding is an error.")),
                ("findings", computed(AttributeType::List(Box::new(finding)), "Each problem: `severity` (`error` stops failover, `warning` weakens it), `part`, `message`, and a one-line `fix`.")),
                ("estimated_failover_seconds", computed(AttributeType::Number, "Health check interval × failure threshold, plus one interval when the primary record's check is the failover switch's calculated check (Route 53 aggregates it from its children's reported statuses), plus the 60 s alias TTL resolvers may still serve.")),
            ]),
            ..Default::default()
        },
    }
}

pub struct FailoverReadiness {
    shared: Shared,
}

impl FailoverReadiness {
    pub fn new(shared: Shared) -> Self {
        FailoverReadiness { shared }
    }
}

#[async_trait]
impl DataSource for FailoverReadiness {
    type State<'a> = State;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: State) -> Option<()> {
        if let Value::Value(suffix) = &config.environment_suffix {
            if let Err(err) = naming::validate_suffix(suffix) {
                invalid(diags, AttributePath::new("environment_suffix"), err);
            }
        }
        for (attr, value) in [
            ("primary_region", &config.primary_region),
            ("standby_region", &config.standby_region),
        ] {
            if let Value::Value(region) = value {
                if !regions::is_known(region) {
                    invalid(
                        diags,
                        AttributePath::new(attr),
                        regions::unknown_region_detail(region),
                    );
                }
            }
        }
        if let Value::Value(active) = &config.active_region {
            if Role::parse(active).is_none() {
                invalid(
                    diags,
                    AttributePath::new("active_region"),
                    format!("\"{active}\" is not a role: use \"primary\" or \"standby\"."),
                );
            }
        }
        if let Value::Value(drill) = &config.last_drill {
            if DrillSummary::parse(drill).is_none() {
                invalid(
                    diags,
                    AttributePath::new("last_drill"),
                    format!("\"{drill}\" is not a drill summary: give the text tap_failover_drill reports after \"drill summary: \"."),
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: State,
        _meta: ValueEmpty,
    ) -> Option<State> {
        let cfg = self.shared.get(diags)?;
        match assess(cfg, config, &|_| {}).await {
            Ok(state) => Some(state),
            Err(err) => {
                let (summary, detail) = err.diagnostic("tap_failover_readiness");
                diags.root_error(summary, detail);
                None
            }
        }
    }
}

/// The stack `config.environment_suffix` judged against `config`'s expectations: `config` with
/// what was found filled in and the findings. `step` hears what is being read as it starts
/// (the `tap_readiness_check` action shows it to the user).
pub async fn assess(
    cfg: &Configured,
    config: State,
    step: &(dyn Fn(String) + Send + Sync),
) -> Result<State, PartError> {
    let mut state = config;
    let suffix = state
        .environment_suffix
        .as_ref_option()
        .cloned()
        .unwrap_or_default();
    state.id = values::string(suffix.clone());
    step(format!(
        "locating stack {suffix} (hosted zone, health check and records)"
    ));
    let located = facts::locate(
        cfg,
        &suffix,
        state.hosted_zone_id.as_ref_option().map(String::as_str),
    )
    .await?;
    let given = |v: &Value<String>| v.as_ref_option().cloned();
    let (given_primary, given_standby, given_domain) = (
        given(&state.primary_region),
        given(&state.standby_region),
        given(&state.domain_name),
    );
    let differences = checks::differences(&[
        checks::Given {
            argument: "domain_name",
            given: given_domain.as_deref(),
            found: located.domain_name.as_deref(),
        },
        checks::Given {
            argument: "primary_region",
            given: given_primary.as_deref(),
            found: located.primary_region.as_deref(),
        },
        checks::Given {
            argument: "standby_region",
            given: given_standby.as_deref(),
            found: located.standby_region.as_deref(),
        },
    ]);
    // What was found, else what was given, else the defaults.
    let primary_region = located
        .primary_region
        .clone()
        .or(given_primary)
        .unwrap_or_else(|| Role::Primary.default_region().to_owned());
    let standby_region = located
        .standby_region
        .clone()
        .or(given_standby)
        .unwrap_or_else(|| Role::Standby.default_region().to_owned());
    let found_check = located.health_check.as_ref().map(|c| c.spec.clone());
    let found_active = located.records.as_ref().and_then(|records| {
        let weight = |role: Role| {
            records
                .iter()
                .find(|r| r.set_identifier == role.as_str())
                .map(|r| r.weight)
        };
        (weight(Role::Standby)? > weight(Role::Primary)?).then_some(Role::Standby)
    });
    let expect = checks::Expect {
        suffix: suffix.clone(),
        standby_region: standby_region.clone(),
        standby_active: state
            .active_region
            .as_ref_option()
            .map(|a| Role::parse(a) == Some(Role::Standby)),
        interval: whole(&state.health_check_interval).map(|n| n as i32),
        failure_threshold: whole(&state.failure_threshold).map(|n| n as i32),
        rto_seconds: state.rto_seconds.as_ref_option().map(|n| n.0),
        latency_threshold_ms: state
            .replication_latency_threshold
            .as_ref_option()
            .map_or(DEFAULT_LATENCY_MS, |n| n.0),
        last_drill: state
            .last_drill
            .as_ref_option()
            .and_then(|l| DrillSummary::parse(l)),
    };
    state.primary_region = state
        .primary_region
        .clone()
        .or(values::string(&primary_region));
    state.standby_region = state
        .standby_region
        .clone()
        .or(values::string(&standby_region));
    if let Some(domain) = &located.domain_name {
        state.domain_name = state.domain_name.clone().or(values::string(domain));
    }
    state.active_region = state.active_region.clone().or(values::string(
        found_active.unwrap_or(Role::Primary).as_str(),
    ));
    if let Some(check) = found_check {
        let number = |n: i32| Value::Value(Number::from(i64::from(n)));
        state.health_check_interval = state.health_check_interval.or(number(check.interval));
        state.failure_threshold = state.failure_threshold.or(number(check.failure_threshold));
    }
    state.replication_latency_threshold = Value::Value(Number(expect.latency_threshold_ms));

    let standby_regions = match located.standby_regions.is_empty() {
        true => vec![standby_region.clone()],
        false => located.standby_regions.clone(),
    };
    state.standby_regions = values::list(&standby_regions);
    let target = facts::Target {
        suffix: &suffix,
        primary_region: &primary_region,
        standby_region: &standby_region,
        further_standby: false,
    };
    step(format!("reading the standby capacity, health check, session table, records, alarms and topics in {primary_region} and {standby_region}"));
    let facts = facts::gather(cfg, &target, located).await?;
    let mut findings = differences;
    findings.extend(checks::evaluate(&expect, &facts));
    for region in standby_regions.iter().skip(1) {
        step(format!("reading the further standby in {region}"));
        let target = facts::Target {
            standby_region: region,
            further_standby: true,
            ..target
        };
        let further = facts::gather_further(cfg, &target, &facts).await?;
        let expect = checks::Expect {
            standby_region: region.clone(),
            ..expect.clone()
        };
        findings.extend(checks::evaluate_further(&expect, &further));
    }
    state.ready = Value::Value(findings.iter().all(|f| f.severity != "error"));
    state.estimated_failover_seconds =
        Value::Value(Number(checks::estimated_failover_seconds(&expect, &facts)));
    state.findings = Value::Value(
        findings
            .into_iter()
            .map(|f| FindingBlock {
                severity: f.severity.into(),
                part: f.part.into(),
                message: f.message,
                fix: f.fix,
            })
            .collect(),
    );
    Ok(state)
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fields_match_schema_attributes() {
        crate::tf::schema::assert_state_matches_schema::<super::State>(&super::schema());
    }
}
