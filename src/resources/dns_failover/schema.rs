//! `tap_dns_failover`: its state and schema.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{self, Value};

use crate::tf::number::Number;
use crate::tf::schema::{
    computed, named, optional, required, string_list, string_map, with_default,
};
use crate::tf::timeouts::{self, TimeoutDefaults, Timeouts};
use crate::tf::values::{StringList, StringMap};

/// hashicorp/aws waits up to 30m for a Route 53 change to be INSYNC; a delete waits for one
/// change and for the health check to be released.
pub const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(30 * 60),
    update: Duration::from_secs(30 * 60),
    delete: Duration::from_secs(30 * 60),
};

/// One load balancer Route 53 sends traffic to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub region: Value<String>,
    pub alb_dns_name: Value<String>,
    pub alb_zone_id: Value<String>,
    pub alb_arn: Value<String>,
    pub target_group_arn: Value<String>,
    pub kms_key_arn: Value<String>,
}

/// The `standby` blocks, in order of preference.
pub type Endpoints = Value<Vec<Value<Endpoint>>>;

/// The standby blocks of a configuration or state, as given (none while unknown).
pub fn standbys(state: &State) -> impl Iterator<Item = &Value<Endpoint>> {
    state.standby.as_ref_option().into_iter().flatten()
}

/// One standby block: a two-region system's.
#[cfg(test)]
pub fn one_standby(endpoint: Value<Endpoint>) -> Endpoints {
    Value::Value(vec![endpoint])
}

/// At most this many standbys: Route 53 tries them through a chain of failover groups
/// (`aws::standby_chain`), one group fewer than standbys.
pub const MAX_STANDBYS: usize = crate::aws::standby_chain::MAX_GROUPS + 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub protocol: Value<String>,
    pub port: Value<Number>,
    pub path: Value<String>,
    pub interval: Value<Number>,
    pub failure_threshold: Value<Number>,
    pub regions: StringList,
    pub measure_latency: Value<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub domain_name: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub active_region: Value<String>,
    pub alarm_emails: StringList,
    pub table_name: Value<String>,
    pub alarm_period: Value<Number>,
    pub alarm_evaluation_periods: Value<Number>,
    pub replication_latency_threshold: Value<Number>,
    pub environment: Value<String>,
    pub tags: StringMap,
    pub tags_all: StringMap,
    pub zone_id: Value<String>,
    pub name_servers: StringList,
    pub health_check_id: Value<String>,
    pub switch_routing_control_arn: Value<String>,
    pub switch_health_check_id: Value<String>,
    pub record_health_check_id: Value<String>,
    pub break_glass_command: Value<String>,
    pub release_command: Value<String>,
    pub primary_topic_arn: Value<String>,
    pub standby_topic_arn: Value<String>,
    pub primary_topic_key_arn: Value<String>,
    pub standby_topic_key_arn: Value<String>,
    pub standby_topic_arns: StringMap,
    pub standby_topic_key_arns: StringMap,
    pub health_check_topic_arn: Value<String>,
    pub health_check_topic_key_arn: Value<String>,
    pub pending_alarm_emails: StringList,
    pub records: StringMap,
    pub alarms: StringMap,
    pub primary: Value<Endpoint>,
    pub standby: Endpoints,
    pub health_check: Value<HealthCheck>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

const SWITCH_COMMAND: &str = "The AWS CLI command that throws the failover switch: one `PutMetricData` to the switch metric in the standby region, no call to us-east-1, where the Route 53 control plane lives. Within about two minutes (the alarm's one-minute period, then Route 53 following the alarm) the primary leaves DNS even though it is healthy, and stays out until `release_command` is run. With several standbys, each standby region has a switch alarm on the same metric (a further standby's named `failover-switch-<region>-<suffix>`), so the same command with another standby's region (`--region`) throws it too, for when the first standby's region is impaired as well; metrics are regional, so release it with `release_command` given that same region. With `switch_routing_control_arn`: `aws route53-recovery-cluster update-routing-control-state` setting the routing control `Off`, with placeholders for the endpoint: the provider does not know your cluster, so fill in one of its five regional endpoints (`--endpoint-url`) and that endpoint's region (`--region`), and try the next endpoint if one does not answer.";

/// The ARC option of the switch.
pub const SWITCH_ROUTING_CONTROL: &str = "ARN of an Amazon Route 53 Application Recovery Controller routing control of yours (`arn:aws:route53-recovery-control::<account>:controlpanel/<id>/routingcontrol/<id>`) to be the failover switch instead of the CloudWatch alarm: the switch health check becomes a `RECOVERY_CONTROL` check on it, healthy while the routing control is `On`, and the primary record stays on the calculated check (the endpoint check AND the routing control). Turning it `Off` through your ARC cluster's data plane takes the primary out of DNS. The provider does not create the cluster, control panel or routing control (ARC bills its clusters by the hour), and never changes the control's state: while it is `Off` the primary stays out of DNS, so check that it is `On` before relying on it. With it set, the switch alarm and its metric are not created (a stale alarm is deleted), so nothing suggests a switch that does not move DNS. Route 53 cannot change a check's type or routing control in place: setting, changing or removing it replaces the switch health check (new `switch_health_check_id`) and re-points the calculated check; nothing else is replaced.";

/// The per-region key argument, shared with `tap_trading_failover`'s region blocks.
pub const KMS_KEY_ARN: &str = "ARN of a KMS key of this region to encrypt its alarm topic with, instead of the key the provider creates for the topic. Its key policy must let `cloudwatch.amazonaws.com` use `kms:Decrypt` and `kms:GenerateDataKey*`, or alarms cannot publish to the topic. The AWS-managed `alias/aws/sns` is refused: CloudWatch alarms cannot use it and its policy cannot be changed.";
const HEALTH_CHECK_TOPIC: &str = "When neither region is us-east-1: ARN of the SNS topic in us-east-1 that the health-check alarm notifies (Route 53 publishes its health-check metrics only in us-east-1, and an alarm notifies only topics of its own region), subscribed with `alarm_emails`. Null when a stack is in us-east-1: that region's topic serves.";
const TOPIC_KEY_ARN: &str = "KMS key encrypting that region's alarm topic: `kms_key_arn`, or a customer-managed key created for the topic (alias `alias/<topic name>`, a policy letting this account's CloudWatch alarms use it, scheduled for deletion 7 days after destroy). Empty when the key is disabled, pending deletion or gone, or AWS-managed: the next apply makes a new key (or puts `kms_key_arn` back).";

fn endpoint_block(role: &str) -> Block {
    Block {
        description: Description::markdown(format!(
            "The {role} load balancer, usually from a `tap_regional_stack`'s attributes. Changing its region replaces the resource."
        )),
        attributes: named([
            ("region", required(AttributeType::String, format!("Region of the {role} load balancer."))),
            ("alb_dns_name", required(AttributeType::String, "DNS name of the load balancer: the alias target.")),
            ("alb_zone_id", required(AttributeType::String, "Canonical hosted zone ID of the load balancer.")),
            ("alb_arn", required(AttributeType::String, "ARN of the load balancer, for its alarms.")),
            ("target_group_arn", required(AttributeType::String, "ARN of its target group, for the unhealthy-host alarm.")),
            ("kms_key_arn", optional(AttributeType::String, KMS_KEY_ARN)),
]),
        ..Default::default()
    }
}

/// The standbys: the first as a two-region system's standby, more in order of preference.
fn standby_blocks() -> NestedBlock {
    let mut block = endpoint_block("standby");
    block.description = Description::markdown(format!("A standby load balancer, usually from a `tap_regional_stack`'s attributes: 1 to {MAX_STANDBYS} blocks, in order of preference, each in its own region. The first is where the failover switch's first alarm lives; changing its region replaces the resource. Further standbys are added and removed in place: with more than one, the `standby` record aliases a chain of failover groups in the zone (`_standby-1.<domain_name>`, ...) that answers with the first healthy standby in order, and each standby gets its topic and its alarms (its own switch alarm among them, whose health check joins the record check), a further standby's named with its region (the first standby's keep their two-region names, so adding or removing a further standby writes nothing in the first standby's region)."));
    NestedBlock::List(block)
}

/// The health check block; `protocol_default` says which protocol is checked when none is given.
pub fn health_check_block(protocol_default: &str) -> NestedBlock {
    NestedBlock::Group(Block {
        description: Description::markdown("The Route 53 health check on the primary load balancer. Every setting has a default, so the block may be left out."),
        attributes: named([
            ("protocol", with_default(AttributeType::String, format!("`HTTP` or `HTTPS`. {protocol_default} Changing it replaces the health check."))),
            ("port", with_default(AttributeType::Number, "Port checked. Default 80, or 443 with `HTTPS`.")),
            ("path", with_default(AttributeType::String, "Path requested. Default `/health`.")),
            ("interval", with_default(AttributeType::Number, "Seconds between checks from each checker: 10 (default, fast) or 30 (standard). Route 53 cannot change it in place: a change replaces the health check (new `health_check_id`), and the plan says so.")),
            ("failure_threshold", with_default(AttributeType::Number, "Consecutive failures, 1 to 10, before the primary counts as down. Default 3.")),
            ("regions", optional(string_list(), "Checker regions, at least 3 of Route 53's (`us-east-1`, `us-west-1`, `us-west-2`, `eu-west-1`, `ap-southeast-1`, `ap-southeast-2`, `ap-northeast-1`, `sa-east-1`). Default: all of them.")),
            ("measure_latency", with_default(AttributeType::Bool, "Publish latency metrics. Default `true`. Changing it replaces the health check.")),
]),
        ..Default::default()
    })
}

pub fn schema() -> Schema {
    Schema {
        version: 2,
        block: Block {
            description: Description::markdown(
                "DNS failover and alerting between a primary load balancer and one to four standbys: a Route 53 hosted zone (or yours), an HTTP(S) health check on the primary, two weighted alias A records (`primary` weight 100 with the health check, `standby` weight 0, evaluate-target-health on; with several standbys `standby` aliases their chain of failover groups, tried in order of preference) written in one change batch, an encrypted SNS topic per region, and CloudWatch alarms on the health check, on traffic reaching the standby, on unhealthy hosts behind each load balancer and on DynamoDB replication latency.\n\nThe alarms are set not to cry wolf. The health-check alarm treats missing data as missing: Route 53 publishes `HealthCheckStatus` every minute while the check exists (0 when the primary is down), so no data means a check too new to have reported, disabled or just replaced, never a primary that is down; the alarm waits in `INSUFFICIENT_DATA` without notifying. The standby-traffic alarm fires on more than 10 requests a minute to the standby load balancer in each of 5 consecutive minutes (per-minute periods whatever `alarm_period`): the standby is internet-facing, so a scanner's or a person's stray request reaches it, but only traffic Route 53 has moved keeps coming minute after minute.\n\nAny regions, each its own. Route 53 publishes health-check metrics only in us-east-1, and an alarm notifies only topics of its own region, so the health-check alarm always lives in us-east-1; when no region (primary or standby) is us-east-1, an alarm topic of its own lives there too (`health_check_topic_arn`, subscribed with `alarm_emails`, encrypted with a key made for it). Nothing else is created in us-east-1, and each standby-traffic alarm stays in its standby's region, so someone is still told when us-east-1 itself is down.\n\nThe failover switch (\"standby takes over primary\"): `active_region` changes weights through the Route 53 control plane, which lives in us-east-1, the region most likely to have failed when a failover is needed. AWS's guidance is to fail over with data-plane operations only. So the (first) standby's region holds a custom metric (`TAP/Failover` `FailoverSwitch`, dimension `EnvironmentSuffix`) and an alarm on it (`failover-switch-<suffix>`, one-minute periods, missing data ignored, notifying the standby topic); a Route 53 health check follows that alarm (`switch_health_check_id`, insufficient data keeps its last known status, so a thrown switch stays thrown); and the primary record uses a calculated check that is healthy only while both the endpoint check and the switch check are (`record_health_check_id`). Throwing the switch is one `PutMetricData` in the standby region (`break_glass_command`): no us-east-1 call at all. While it is thrown the primary stays out of DNS even when it recovers, so failing back is a person's decision (`release_command`). It costs two more Route 53 health checks on AWS resources, one CloudWatch alarm and one custom metric: a few dollars a month at AWS's list prices (Route 53 and CloudWatch pricing pages). With several standbys, every standby region holds a switch alarm on the same metric (a further standby's is `failover-switch-<region>-<suffix>`) and a health check on it, and the calculated check watches all of them: throwing the switch in any standby region takes the primary out, so it can still be thrown while the first standby's region is impaired too (metrics are regional: it is released in the region it was thrown in); the standbys' chain then answers with the first healthy standby in order of preference (choosing a standby is `active_region`'s job). One more health check and one more alarm per further standby. The standby regions must be ones whose alarms Route 53 can follow (the `Region` values of Route 53's `AlarmIdentifier`).",
            ),
            attributes: named([
                ("id", computed(AttributeType::String, "The environment suffix.")),
                ("environment_suffix", required(AttributeType::String, "Suffix carried by every name, e.g. `prod`: 1–20 lowercase letters, digits and hyphens. Changing it replaces the resource.")),
                ("domain_name", required(AttributeType::String, "Name the weighted records answer for: a name you control (names reserved for documentation and testing, such as anything under `example.com`, are refused: Route 53 will not host them). Without `hosted_zone_id`, a public zone of that name is created, which answers once you delegate the name to its `name_servers`. Changing it replaces the resource.")),
                ("hosted_zone_id", optional(AttributeType::String, "An existing public hosted zone to put the records in, instead of creating one. It is never deleted. Changing it replaces the resource.")),
                ("active_region", with_default(AttributeType::String, "`primary` (default): weights 100/0. `standby` (the first standby) or a standby's region: weights 0/100, a planned failover to that standby (with several, the chain tries it first); set it back to fail back. Everything moves in one change batch.")),
                ("alarm_emails", optional(string_list(), "E-mail addresses subscribed to both regions' topics. Each must confirm the e-mail SNS sends; until then it shows in `pending_alarm_emails`. SNS cannot unsubscribe an address still pending: removed from here, it expires unconfirmed after 48 hours.")),
                ("table_name", optional(AttributeType::String, "A DynamoDB global table replicated from the primary to the standby region: adds a `ReplicationLatency` alarm.")),
                ("alarm_period", with_default(AttributeType::Number, "Seconds per alarm evaluation period: a multiple of 60. Default 60.")),
                ("alarm_evaluation_periods", with_default(AttributeType::Number, "Periods an alarm condition must hold before it fires. Default 3.")),
                ("replication_latency_threshold", with_default(AttributeType::Number, "Replication latency, in milliseconds, above which the table's alarm fires. Default 60000.")),
                ("environment", with_default(AttributeType::String, "Value of the `Environment` tag. Default `Production`.")),
                ("tags", optional(string_map(), "Tags for the zone, health check, topics and alarms, on top of the provider's `default_tags`.")),
                ("tags_all", computed(string_map(), "Every tag on the health check: `default_tags`, `Name`, `Environment`, `FailoverRole`, the ownership tags and `tags`.")),
                ("zone_id", computed(AttributeType::String, "ID of the hosted zone holding the records (created or given).")),
                ("name_servers", computed(string_list(), "Name servers of the hosted zone: delegate `domain_name` to them.")),
                ("health_check_id", computed(AttributeType::String, "ID of the Route 53 health check on the primary load balancer.")),
                ("switch_routing_control_arn", optional(AttributeType::String, SWITCH_ROUTING_CONTROL)),
                ("switch_health_check_id", computed(AttributeType::String, "ID of the failover switch's Route 53 health check: it follows the switch alarm in the (first) standby region (`CLOUDWATCH_METRIC`, insufficient data keeps the last known status), or with `switch_routing_control_arn` the routing control (`RECOVERY_CONTROL`). Empty when it is missing or was changed outside Terraform: the next apply repairs it.")),
                ("record_health_check_id", computed(AttributeType::String, "ID of the health check the primary record uses: a `CALCULATED` check, healthy only while both `health_check_id` and `switch_health_check_id` are, and, with several standbys, the check on each further standby's switch alarm. Empty when it, or a further standby's switch check, is missing or was changed outside Terraform: the next apply repairs it.")),
                ("break_glass_command", computed(AttributeType::String, SWITCH_COMMAND)),
                ("release_command", computed(AttributeType::String, "The AWS CLI command that releases the failover switch (puts 0 to its metric in the standby region): the primary returns to DNS once its alarm is OK again and the primary is healthy. With `switch_routing_control_arn`, the ARC command that sets the routing control `On`, with the same endpoint placeholders as `break_glass_command`. Failing back is a person's decision.")),
                ("primary_topic_arn", computed(AttributeType::String, "ARN of the SNS topic in the primary region.")),
                ("standby_topic_arn", computed(AttributeType::String, "ARN of the SNS topic in the standby region.")),
                ("primary_topic_key_arn", computed(AttributeType::String, TOPIC_KEY_ARN)),
                ("standby_topic_key_arn", computed(AttributeType::String, TOPIC_KEY_ARN)),
                ("standby_topic_arns", computed(string_map(), "Every standby's SNS topic, by region (the first's is also `standby_topic_arn`).")),
                ("standby_topic_key_arns", computed(string_map(), "Every standby's topic key, by region, as `standby_topic_key_arn` says of the first's.")),
                ("health_check_topic_arn", computed(AttributeType::String, HEALTH_CHECK_TOPIC)),
                ("health_check_topic_key_arn", computed(AttributeType::String, "KMS key, made for it, encrypting the `health_check_topic_arn` topic; null where that topic does not exist.")),
                ("pending_alarm_emails", computed(string_list(), "Addresses subscribed to a topic that have not confirmed the e-mail SNS sent them yet: their alarms reach nobody until they do. Not a difference to plan: SNS deletes an unconfirmed subscription after 48 hours.")),
                ("records", computed(string_map(), "Each weighted record as Route 53 holds it, by set identifier; a change made outside Terraform shows here and is repaired.")),
                ("alarms", computed(string_map(), "Each alarm's settings as CloudWatch holds them, by alarm name; drift shows here and is repaired.")),
]),
            blocks: named([
                ("primary", NestedBlock::Single(endpoint_block("primary"))),
                ("standby", standby_blocks()),
                ("health_check", health_check_block("Default `HTTP`. Use `HTTPS` when the load balancers have certificates: their HTTP listener then only redirects, and Route 53 counts the redirect as healthy.")),
                ("timeouts", timeouts::block(TIMEOUTS)),
]),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn state_fields_match_schema_attributes() {
        crate::tf::schema::assert_state_matches_schema::<super::State>(&super::schema());
    }
}
