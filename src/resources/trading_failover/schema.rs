//! `tap_trading_failover`: its state and schema.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{self, Value};

use crate::resources::dns_failover::schema::{health_check_block, HealthCheck, KMS_KEY_ARN};
use crate::role::Role;
use crate::tf::number::Number;
use crate::tf::schema::{
    computed, named, optional, required, string_list, string_map, with_default,
};
use crate::tf::timeouts::{self, TimeoutDefaults, Timeouts};
use crate::tf::values::{StringList, StringMap};

/// Both regions are built at the same time, so the regional stack's budget (NAT, load
/// balancer and capacity waits in sequence) bounds the whole; a delete also waits for the DNS
/// parts and the table's replica first.
pub const TIMEOUTS: TimeoutDefaults = TimeoutDefaults {
    create: Duration::from_secs(45 * 60),
    update: Duration::from_secs(45 * 60),
    delete: Duration::from_secs(60 * 60),
};

/// One region's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub region: Value<String>,
    pub vpc_cidr: Value<String>,
    pub public_subnets: StringList,
    pub private_subnets: StringList,
    pub nat_mode: Value<String>,
    pub certificate_arn: Value<String>,
    pub instance_type: Value<String>,
    pub ami_id: Value<String>,
    pub min_size: Value<Number>,
    pub max_size: Value<Number>,
    pub desired_capacity: Value<Number>,
    pub kms_key_arn: Value<String>,
}

/// The `additional_standby` blocks, in order of preference after `standby`.
pub type Regions = Value<Vec<Value<Region>>>;

/// At most this many `additional_standby` blocks: the DNS part takes four standbys at most.
pub const MAX_ADDITIONAL_STANDBYS: usize = crate::resources::dns_failover::schema::MAX_STANDBYS - 1;

/// The `session_table` block: how the table replicates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionTableSettings {
    pub consistency: Value<String>,
    pub witness_region: Value<String>,
    pub allow_data_loss: Value<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: Value<String>,
    pub environment_suffix: Value<String>,
    pub domain_name: Value<String>,
    pub hosted_zone_id: Value<String>,
    pub tls: Value<String>,
    pub allowed_cidrs: StringList,
    pub alarm_emails: StringList,
    pub switch_routing_control_arn: Value<String>,
    pub active_region: Value<String>,
    pub environment: Value<String>,
    pub tags: StringMap,
    pub tags_all: StringMap,
    pub application_url: Value<String>,
    pub primary_vpc_id: Value<String>,
    pub standby_vpc_id: Value<String>,
    pub primary_alb_dns_name: Value<String>,
    pub standby_alb_dns_name: Value<String>,
    pub primary_asg_name: Value<String>,
    pub primary_running_capacity: Value<Number>,
    pub standby_asg_name: Value<String>,
    pub table_name: Value<String>,
    pub table_arn: Value<String>,
    pub table_settings: StringMap,
    pub zone_id: Value<String>,
    pub name_servers: StringList,
    pub primary_topic_arn: Value<String>,
    pub standby_topic_arn: Value<String>,
    pub pending_alarm_emails: StringList,
    pub health_check_id: Value<String>,
    pub break_glass_command: Value<String>,
    pub release_command: Value<String>,
    pub instance_role_name: Value<String>,
    pub records: StringMap,
    pub alarms: StringMap,
    pub parts: StringMap,
    pub primary: Value<Region>,
    pub standby: Value<Region>,
    pub additional_standby: Regions,
    pub standby_alb_dns_names: StringMap,
    pub standby_topic_arns: StringMap,
    pub health_check: Value<HealthCheck>,
    pub session_table: Value<SessionTableSettings>,
    #[serde(with = "value::serde_as_vec")]
    pub timeouts: Value<Timeouts>,
}

fn session_table_block() -> NestedBlock {
    NestedBlock::Group(Block {
        description: Description::markdown("The session table: a DynamoDB global table homed in the primary region with a replica in the standby region. Every setting has a default, so the block may be left out."),
        attributes: named([
            ("consistency", with_default(AttributeType::String, "`eventual` (default): multi-Region eventual consistency (MREC); a write reaches the standby's replica within about a second, so a Regional failure may lose the last writes, and a `ReplicationLatency` alarm watches the lag. `strong`: multi-Region strong consistency (MRSC, zero RPO): a write returns only once stored in a second Region, so no acknowledged session is lost when a Region fails. MRSC takes exactly three Regions: the primary's and the standby's with `witness_region`, or, with one `additional_standby`, the three stack regions (no witness), all in one of DynamoDB's MRSC Region sets (US: us-east-1, us-east-2, us-west-2; EU: eu-west-1, eu-west-2, eu-west-3, eu-central-1; AP: ap-northeast-1, ap-northeast-2, ap-northeast-3). The trade: writes take longer, strongly consistent reads cost twice an eventually consistent one, and a concurrent write to the same item from the other Region fails with `ReplicatedWriteConflictException`, which the application must retry. No `ReplicationLatency` metric exists for it, so that alarm is not made. DynamoDB cannot convert a table: a change replaces the table, losing its items, and needs `allow_data_loss`.")),
            ("witness_region", optional(AttributeType::String, "With `consistency = \"strong\"`: the Region of the MRSC witness, which stores the replicated writes' quorum but no table, so nothing reads or writes there and the instance role has no access to it. Changing it replaces the table (`allow_data_loss`).")),
            ("allow_data_loss", with_default(AttributeType::Bool, "Lets a change DynamoDB cannot make in place (`consistency`, or a strong table's `witness_region`) replace the table, deleted in every Region and made again empty: every session is lost. Default `false`: such a change is refused at plan.")),
        ]),
        ..Default::default()
    })
}

/// The block of a role's region, its defaults the regional stack's for that role.
fn region_block(role: Role) -> NestedBlock {
    NestedBlock::Group(region_settings_block(role))
}

/// A region's settings, their defaults the regional stack's for `role`.
fn region_settings_block(role: Role) -> Block {
    let (region, octet, desired) = (
        role.default_region(),
        role.default_second_octet(),
        role.default_capacity(),
    );
    Block {
        description: Description::markdown(format!("The {role} region. Every setting has a default, so the block may be left out.")),
        attributes: named([
            ("region", with_default(AttributeType::String, format!("AWS region. Default `{region}`. Changing it replaces the resource."))),
            ("vpc_cidr", with_default(AttributeType::String, format!("VPC CIDR, /16 to /28, not overlapping the other region's. Default `10.{octet}.0.0/16`. Changing it replaces the resource."))),
            ("public_subnets", with_default(string_list(), format!("Public subnet CIDRs, one per availability zone (the region's first zones by name that offer `instance_type`; too few fails at apply, before the region's network is built): 2 to 6 (the load balancer needs two zones), each /27 or larger, inside `vpc_cidr`. Default `10.{octet}.1.0/24`, `10.{octet}.2.0/24`."))),
            ("private_subnets", with_default(string_list(), format!("Private subnet CIDRs, as many as public ones. Default `10.{octet}.11.0/24`, `10.{octet}.12.0/24`."))),
            ("nat_mode", with_default(AttributeType::String, "Private egress: `single`, `per_az` or `none`. Default `single`. Updated in place.")),
            ("certificate_arn", optional(AttributeType::String, "ACM certificate of this region (ACM is regional) for HTTPS on the load balancer (TLS 1.2 or later), with HTTP redirected. Give it in both regions or neither: a standby without HTTPS refuses every client after failover. Without it, HTTP only.")),
            ("instance_type", with_default(AttributeType::String, "EC2 instance type. Default `t3.medium`. Updated in place (new launch template version and an instance refresh). Subnets go only to zones that offer it.")),
            ("ami_id", with_default(AttributeType::String, "AMI of the instances. Default: the region's latest Amazon Linux 2023 for the architecture of `instance_type` (arm64 for Graviton types, else x86_64), looked up at create and again when `instance_type` changes (kept when it runs on the new type).")),
            ("min_size", with_default(AttributeType::Number, "Auto Scaling minimum. Default 1.")),
            ("max_size", with_default(AttributeType::Number, "Auto Scaling maximum. Default 4.")),
            ("desired_capacity", with_default(AttributeType::Number, format!("Instances to run. Default {desired}. The standby needs at least 1: Route 53 fails over only to healthy targets. Applied when the configuration changes it (and at create); in between the CPU target-tracking policy owns the live value, so its scaling is not drift and an unrelated apply does not undo it. A planned failover scales the standby to the primary's live capacity (`primary_running_capacity` when only `active_region` changes) and keeps its minimum there until failback."))),
            ("kms_key_arn", optional(AttributeType::String, KMS_KEY_ARN)),
        ]),
        ..Default::default()
    }
}

/// A standby after the first: a standby's settings, in a region the user names, on a network
/// of its own by default.
fn additional_standby_block() -> NestedBlock {
    let mut block = region_settings_block(Role::Standby);
    block.description = Description::markdown(format!("A further standby region, 0 to {MAX_ADDITIONAL_STANDBYS} blocks, tried in order after `standby` (each in a region of its own): it gets a regional stack on the shared instance role, a replica of the session table, an alarm topic with its alarms, and a place in the DNS failover chain (with more than one standby, the `standby` record aliases a chain of Route 53 failover groups, `_standby-1.<domain_name>`, ..., that answers with the first healthy standby in this order; weights alone cannot order standbys, since Route 53 shares a weight among all healthy records of it). Adding or removing a block creates or deletes only that region's parts; a removed standby's replica is deleted before its stack. A change to its `vpc_cidr` or subnets is refused: remove the block in one apply and add it in the next. With a strongly consistent session table, whose Regions DynamoDB freezes, adding, removing or moving a standby makes the table again, empty, and needs `session_table.allow_data_loss`. Under `tls = \"auto\"` it gets a certificate of its region too, validated by the same record; a removed standby's certificate goes with its stack. (`standby` itself stays one block, so that the first standby's settings, defaults included, are kept in state when the block is left out: Terraform lets no provider plan a repeated block the configuration does not write.)"));
    let attributes = &mut block.attributes;
    attributes.insert(
        "region".into(),
        required(
            AttributeType::String,
            "AWS region, not the primary's or another standby's.",
        ),
    );
    attributes.insert("vpc_cidr".into(), with_default(AttributeType::String, "VPC CIDR, /16 to /28, overlapping no other region's. Default `10.<n>.0.0/16`, `<n>` the lowest from 2 up that overlaps no other region's VPC (the blocks before it taken first), with the subnets of that network (`10.<n>.1.0/24`, `10.<n>.2.0/24`; `10.<n>.11.0/24`, `10.<n>.12.0/24`). Given, it needs its subnets too."));
    NestedBlock::List(block)
}

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown(
                "The whole warm-standby failover system from one resource: two regional stacks (VPC, subnets, NAT, security groups, ALB, launch template, Auto Scaling), one instance role shared by both with DynamoDB access to the session table only, the session table with its replica, and DNS failover with alerting. Both regions and the global parts are built at the same time; DNS follows the load balancers. `active_region = \"standby\"` is a planned failover: the standby is scaled to the primary's live capacity and must be healthy before the weights move.\n\nAny regions, each its own. Up to three `additional_standby` blocks add standby regions tried after `standby`, each with its stack, replica, topic and alarms (their parts in `parts` under `standby.<region>.`). Route 53 publishes health-check metrics only in us-east-1, so the health-check alarm lives there; when no region is us-east-1, so do an alarm topic for it (subscribed with `alarm_emails`) and that topic's KMS key, shown in `parts` as `dns.health_check_topic`, and nothing else.",
            ),
            attributes: named([
                ("id", computed(AttributeType::String, "The environment suffix, also the import ID.")),
                ("environment_suffix", required(AttributeType::String, "Suffix carried by every name, e.g. `prod`: 1–20 lowercase letters, digits and hyphens, so that every name fits AWS's limits. Changing it replaces the resource.")),
                ("domain_name", required(AttributeType::String, "Name the application answers at: a name you control (names reserved for documentation and testing, such as anything under `example.com`, are refused: Route 53 will not host them). Without `hosted_zone_id` a public zone of that name is created, which answers once you delegate the name to its `name_servers`. Changing it replaces the resource.")),
                ("hosted_zone_id", optional(AttributeType::String, "An existing public hosted zone for the records instead of a new one; it is never deleted.")),
                ("tls", with_default(AttributeType::String, "Encryption in transit. `auto` (the default with `hosted_zone_id`): the provider requests an ACM certificate for `domain_name` in each region (every standby's too), validates it by DNS with one CNAME record in the zone (it serves every region, and stays while the certificates do, since ACM renews them through it) while both stacks are built, and once ACM has issued them the load balancers serve HTTPS:443 with a TLS 1.2+ policy, redirect HTTP to it, and Route 53 checks HTTPS:443. The zone must answer publicly (delegated by its parent): ACM validates through public DNS, and the apply fails within its timeout naming the record to check when it does not. `off` (the default without `hosted_zone_id`): plain HTTP, unencrypted, with a warning. Without `hosted_zone_id`, `auto` is refused on create (the zone created here answers only once delegated to its `name_servers`, which exist only after it): create with `off`, delegate, then set `auto`, an update in place that validates in that zone. A region's `certificate_arn`, given in every region, wins over both. Turning `auto` off removes the HTTPS listeners, then the certificates and the record, in that apply (so does destroy), having first moved the health check to plain HTTP, which the HTTP listener answers throughout, so that Route 53 never finds a healthy primary's port 443 closed. In your zone the record stays, with a warning in the log, while a certificate of the domain that is not the system's validates through it (ACM gives the certificates of one domain in an account the same record, and renews them only while it stays); the provider looks for one in the system's regions and us-east-1.")),
                ("allowed_cidrs", with_default(string_list(), "CIDRs allowed to reach the load balancers. Default `[\"0.0.0.0/0\"]`. When they are not open to all, Route 53's health checkers are let in too (each region's AWS-managed prefix list `com.amazonaws.<region>.route53-healthchecks`, on the health-check port).")),
                ("alarm_emails", optional(string_list(), "E-mail addresses subscribed to both regions' alarm topics. Each must confirm the e-mail SNS sends; until then it shows in `pending_alarm_emails`. SNS cannot unsubscribe an address still pending: removed from here, it expires unconfirmed after 48 hours.")),
                ("switch_routing_control_arn", optional(AttributeType::String, crate::resources::dns_failover::schema::SWITCH_ROUTING_CONTROL)),
                ("active_region", with_default(AttributeType::String, "`primary` (default), `standby`, or a standby's region (the only way to name an `additional_standby`). Switching to a standby scales it to the primary's capacity, waits for healthy targets, then moves the weights (with further standbys, the chain tries it first); switching back fails back the same way. A change of `active_region` alone, from `primary` to any standby, makes requests only to Route 53 and that standby's region, none to the primary's (the move works while the primary region's APIs do not); any other change with it, or a move from one standby to another, runs the full apply, which reads every region.")),
                ("environment", with_default(AttributeType::String, "Value of the `Environment` tag. Default `Production`.")),
                ("tags", optional(string_map(), "Tags for every object, on top of the provider's `default_tags`.")),
                ("tags_all", computed(string_map(), "Every tag on the primary VPC: `default_tags`, `Name`, `Environment`, `FailoverRole`, the ownership tags and `tags`.")),
                ("application_url", computed(AttributeType::String, "URL of the application: `https://<domain_name>` with certificates (`tls = \"auto\"` or `certificate_arn`), else `http://<domain_name>`.")),
                ("primary_vpc_id", computed(AttributeType::String, "VPC of the primary region.")),
                ("standby_vpc_id", computed(AttributeType::String, "VPC of the standby region.")),
                ("primary_alb_dns_name", computed(AttributeType::String, "DNS name of the primary load balancer.")),
                ("standby_alb_dns_name", computed(AttributeType::String, "DNS name of the standby load balancer.")),
                ("primary_asg_name", computed(AttributeType::String, "Auto Scaling group of the primary region.")),
                ("primary_running_capacity", computed(AttributeType::Number, "Instances the primary's Auto Scaling group was set to run when it was last read (its scaling policy moves this). A planned failover alone (only `active_region` changed to `standby`) scales the standby to it as recorded here, so that it makes no request to the primary region; every other apply reads it again.")),
                ("standby_alb_dns_names", computed(string_map(), "Every standby's load balancer DNS name, by region (the first's is also `standby_alb_dns_name`).")),
                ("standby_topic_arns", computed(string_map(), "Every standby's alarm topic, by region (the first's is also `standby_topic_arn`).")),
                ("standby_asg_name", computed(AttributeType::String, "Auto Scaling group of the standby region.")),
                ("table_name", computed(AttributeType::String, "Name of the DynamoDB session table.")),
                ("table_arn", computed(AttributeType::String, "ARN of the session table in the primary region.")),
                ("table_settings", computed(string_map(), "The table settings this resource fixes (billing mode, stream, encryption, point-in-time recovery, deletion protection, and the standby replica's own `<region>.point_in_time_recovery` and `<region>.deletion_protection`) as DynamoDB holds them; drift shows here and is repaired.")),
                ("zone_id", computed(AttributeType::String, "Hosted zone of `domain_name`.")),
                ("name_servers", computed(string_list(), "Name servers of the hosted zone.")),
                ("primary_topic_arn", computed(AttributeType::String, "Alarm topic of the primary region.")),
                ("standby_topic_arn", computed(AttributeType::String, "Alarm topic of the standby region.")),
                ("pending_alarm_emails", computed(string_list(), "Addresses subscribed to an alarm topic that have not confirmed the e-mail SNS sent them yet: their alarms reach nobody until they do. Not a difference to plan: SNS deletes an unconfirmed subscription after 48 hours.")),
                ("health_check_id", computed(AttributeType::String, "Route 53 health check on the primary load balancer. The primary record uses the failover switch's calculated check (`parts` `dns.record_health_check`), healthy only while this check and the switch's (`dns.switch_health_check`) are.")),
                ("break_glass_command", computed(AttributeType::String, "The AWS CLI command that throws the failover switch: one `PutMetricData` in the standby region, no call to us-east-1 (where the Route 53 control plane lives). The primary leaves DNS within about two minutes even though it is healthy, and stays out until `release_command` is run. With several standbys, each standby region (with `additional_standby`) has a switch alarm on the same metric (a further standby's named `failover-switch-<region>-<suffix>`), so the same command with another standby's region (`--region`) throws it too, for when the first standby's region is impaired as well; metrics are regional, so release it with `release_command` given that same region. See `tap_dns_failover` for how the switch is built and what it costs. With `switch_routing_control_arn`, the ARC command that turns the routing control `Off` (its endpoint left for you to fill in).")),
                ("release_command", computed(AttributeType::String, "The AWS CLI command that releases the failover switch (with `switch_routing_control_arn`, the ARC command that turns it `On`): the primary returns to DNS once it is healthy. Failing back is a person's decision.")),
                ("instance_role_name", computed(AttributeType::String, "IAM role (and instance profile) of the instances in both regions.")),
                ("records", computed(string_map(), "Each weighted record as Route 53 holds it, by set identifier; drift shows here and is repaired.")),
                ("alarms", computed(string_map(), "Each alarm's settings as CloudWatch holds them, by name; drift shows here and is repaired.")),
                ("parts", computed(string_map(), "The ID of every part, by `<group>.<part>`. A part deleted outside Terraform, or changed where this resource shows no attribute for the change (the instance port, the target group's health check, user data, the role's policy, a VPC's DNS attributes), shows as empty, and the next apply rebuilds or repairs that part alone. After an apply that turned `tls = \"auto\"` off failed, the certificates and validation record it has not deleted yet stay listed, so that the next plan is not empty and its apply deletes them.")),
            ]),
            blocks: named([
                (Role::Primary.as_str(), region_block(Role::Primary)),
                (Role::Standby.as_str(), region_block(Role::Standby)),
                ("additional_standby", additional_standby_block()),
                ("session_table", session_table_block()),
                ("health_check", health_check_block("Default `HTTPS` when the regions have certificates (`tls = \"auto\"` or `certificate_arn`), else `HTTP`. `HTTP` with certificates is refused: the HTTP listener only redirects, and Route 53 counts the redirect as healthy.")),
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
