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

use crate::naming;
use crate::provider::Shared;
use crate::regions::{self, PRIMARY_DEFAULT, STANDBY_DEFAULT};
use crate::tf::diag::invalid;
use crate::tf::number::{whole, Number};
use crate::tf::schema::{computed, named, optional, required, with_default};
use crate::tf::values;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: String,
    pub part: String,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub primary_region: Value<String>,
    pub standby_region: Value<String>,
    pub domain_name: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub active_region: Value<String>,
    pub health_check_interval: Value<Number>,
    pub failure_threshold: Value<Number>,
    pub replication_latency_threshold: Value<Number>,
    pub rto_seconds: Value<Number>,
    pub ready: Value<bool>,
    pub findings: Value<Vec<Finding>>,
    pub estimated_failover_seconds: Value<Number>,
}

fn schema() -> Schema {
    let finding = AttributeType::Object(named([
        ("severity", AttributeType::String),
        ("part", AttributeType::String),
        ("message", AttributeType::String),
        ("fix", AttributeType::String),
    ]));
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown("Whether failover of a stack would work right now: the standby's InService instances and healthy targets, the primary health check's status and settings, the session table's replica and replication latency, the weighted records, the alarms' actions and their topics' confirmed subscriptions, and the expected failover time."),
            attributes: named([
                ("id", computed(AttributeType::String, "The environment suffix.")),
                ("environment_suffix", required(AttributeType::String, "Suffix of the stack to check.")),
                ("primary_region", with_default(AttributeType::String, "Primary region. Default `us-east-1`.")),
                ("standby_region", with_default(AttributeType::String, "Standby region. Default `us-east-2`.")),
                ("domain_name", with_default(AttributeType::String, "Failover name. Default `trading-<environment_suffix>.example.com`.")),
                ("hosted_zone_id", optional(AttributeType::String, "The zone holding the records, when the stack was given one.")),
                ("active_region", with_default(AttributeType::String, "Which region should take traffic now, `primary` (default) or `standby`: sets the expected weights.")),
                ("health_check_interval", with_default(AttributeType::Number, "Expected health check interval. Default 10.")),
                ("failure_threshold", with_default(AttributeType::Number, "Expected failure threshold. Default 3.")),
                ("replication_latency_threshold", with_default(AttributeType::Number, "Replication latency, in milliseconds, above which a warning is given. Default 60000.")),
                ("rto_seconds", optional(AttributeType::Number, "Recovery time objective: an expected failover time above it is an error.")),
                ("ready", computed(AttributeType::Bool, "`true` when no finding is an error.")),
                ("findings", computed(AttributeType::List(Box::new(finding)), "Each problem: `severity` (`error` stops failover, `warning` weakens it), `part`, `message`, and a one-line `fix`.")),
                ("estimated_failover_seconds", computed(AttributeType::Number, "Health check interval × failure threshold, plus the 60 s alias TTL resolvers may still serve.")),
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
            if active != "primary" && active != "standby" {
                invalid(
                    diags,
                    AttributePath::new("active_region"),
                    format!("\"{active}\" is not a role: use \"primary\" or \"standby\"."),
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
        let mut state = config;
        let suffix = state.environment_suffix.as_ref_option()?.clone();
        state.id = values::string(suffix.clone());
        state.primary_region = state
            .primary_region
            .clone()
            .or(values::string(PRIMARY_DEFAULT));
        state.standby_region = state
            .standby_region
            .clone()
            .or(values::string(STANDBY_DEFAULT));
        state.domain_name = state
            .domain_name
            .clone()
            .or(values::string(format!("trading-{suffix}.example.com")));
        state.active_region = state.active_region.clone().or(values::string("primary"));
        let interval = whole(&state.health_check_interval).unwrap_or(10);
        let threshold = whole(&state.failure_threshold).unwrap_or(3);
        let latency = state
            .replication_latency_threshold
            .as_ref_option()
            .map_or(60_000.0, |n| n.0);
        state.health_check_interval = Value::Value(Number::from(interval));
        state.failure_threshold = Value::Value(Number::from(threshold));
        state.replication_latency_threshold = Value::Value(Number(latency));

        let standby_region = state.standby_region.as_ref_option()?.clone();
        let target = facts::Target {
            suffix: &suffix,
            primary_region: state.primary_region.as_ref_option()?,
            standby_region: &standby_region,
            domain_name: state.domain_name.as_ref_option()?,
            hosted_zone_id: state.hosted_zone_id.as_ref_option().map(String::as_str),
        };
        let facts = match facts::gather(cfg, &target).await {
            Ok(facts) => facts,
            Err(err) => {
                diags.root_error(
                    format!("tap_failover_readiness: {}", err.action),
                    err.to_string(),
                );
                return None;
            }
        };
        let expect = checks::Expect {
            suffix: suffix.clone(),
            standby_region,
            standby_active: state.active_region.as_ref_option().map(String::as_str)
                == Some("standby"),
            interval: interval as i32,
            failure_threshold: threshold as i32,
            rto_seconds: state.rto_seconds.as_ref_option().map(|n| n.0),
            latency_threshold_ms: latency,
        };
        let findings = checks::evaluate(&expect, &facts);
        state.ready = Value::Value(findings.iter().all(|f| f.severity != "error"));
        state.estimated_failover_seconds = Value::Value(Number(
            checks::estimated_failover_seconds(&expect, facts.health_check.as_ref()),
        ));
        state.findings = Value::Value(
            findings
                .into_iter()
                .map(|f| Finding {
                    severity: f.severity.into(),
                    part: f.part.into(),
                    message: f.message,
                    fix: f.fix,
                })
                .collect(),
        );
        Some(state)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fields_match_schema_attributes() {
        crate::tf::schema::assert_state_matches_schema::<super::State>(&super::schema());
    }
}
