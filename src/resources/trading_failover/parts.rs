//! The configurations of the composite's parts (`tap_regional_stack` twice,
//! `tap_session_table`, `tap_dns_failover`), derived from this resource's: validation, plan and
//! apply all hand each part the same configuration.

use tf_provider::value::Value;

use super::schema::{Region, SessionTableSettings, State};
use crate::cidr::Cidr;
use crate::naming;
use crate::resources::dns_failover::schema::{Endpoint, HealthCheck, State as DnsState};
use crate::resources::regional_stack::schema::State as StackState;
use crate::resources::session_table::desired::STRONG;
use crate::resources::session_table::schema::State as TableState;
use crate::role::{NatMode, Role};
use crate::tf::values::{self};

/// The `primary` or `standby` block of a state, or its defaults when left out.
pub fn region_settings(state: &State, role: Role) -> Region {
    let block = match role {
        Role::Primary => &state.primary,
        Role::Standby => &state.standby,
    };
    block.as_ref_option().cloned().unwrap_or_default()
}

/// `tls`: the provider obtains and validates the certificates itself.
pub const TLS_AUTO: &str = "auto";
/// `tls`: plain HTTP.
pub const TLS_OFF: &str = "off";

/// `tls` as configured, or its default: `auto` when the system is given a zone that answers
/// publicly (`hosted_zone_id`), else `off` (a zone created here answers only once delegated).
pub fn tls(state: &State) -> Value<String> {
    state
        .tls
        .clone()
        .or(state.hosted_zone_id.as_ref().map(|_| TLS_AUTO.to_owned()))
        .or(values::string(TLS_OFF))
}

/// Whether the provider requests and validates the certificates itself: `tls` is `auto` and no
/// region brings its own `certificate_arn`.
pub fn auto_tls(state: &State) -> bool {
    tls(state).as_ref_option().map(String::as_str) == Some(TLS_AUTO)
        && Role::ALL
            .into_iter()
            .all(|role| region_settings(state, role).certificate_arn.is_null())
        && additional_standbys(state)
            .iter()
            .all(|block| block.certificate_arn.is_null())
}

/// The `parts` key of the certificate `tls = "auto"` obtained for the stack whose parts are
/// under `prefix` (`primary`, `standby`, or a further standby's `standby.<region>`).
pub fn certificate_part(prefix: &str) -> String {
    format!("{prefix}.certificate")
}

/// The `parts` key of the validation record the certificates share (`tls = "auto"`).
pub const VALIDATION_RECORD_PART: &str = "tls.validation_record";

/// Whether `state` no longer asks for `tls = "auto"` but still records a certificate or the
/// validation record it obtained: the apply that turned it off failed before they went.
pub fn leftover_certificates(state: &State) -> bool {
    !auto_tls(state)
        && values::known_map(&state.parts).is_some_and(|parts| {
            parts
                .keys()
                .any(|key| key == VALIDATION_RECORD_PART || key.ends_with(".certificate"))
        })
}

/// The validation record `state` names in `parts`, if any: found again by that name when the
/// certificates that named it are gone.
pub fn recorded_validation_record(state: &State) -> Option<String> {
    let parts = values::known_map(&state.parts)?;
    parts
        .get(VALIDATION_RECORD_PART)
        .filter(|name| !name.is_empty())
        .cloned()
}

/// Whether a region block builds NAT gateways: its `nat_mode`, or the default when unset.
pub fn builds_nat(block: &Region) -> bool {
    let mode = block
        .nat_mode
        .as_ref_option()
        .and_then(|mode| NatMode::parse(mode));
    mode.unwrap_or(NatMode::DEFAULT) != NatMode::None
}

/// A region block as a regional stack's state holds it.
pub fn region_from_stack(stack: &StackState) -> Region {
    Region {
        region: stack.region.clone(),
        vpc_cidr: stack.vpc_cidr.clone(),
        public_subnets: stack.public_subnets.clone(),
        private_subnets: stack.private_subnets.clone(),
        nat_mode: stack.nat_mode.clone(),
        certificate_arn: stack.certificate_arn.clone(),
        instance_type: stack.instance_type.clone(),
        ami_id: stack.ami_id.clone(),
        min_size: stack.min_size,
        max_size: stack.max_size,
        desired_capacity: stack.desired_capacity,
        kms_key_arn: Value::Null,
    }
}

/// The region of a role, with the default filled in.
pub fn region_of(state: &State, role: Role) -> Value<String> {
    region_settings(state, role)
        .region
        .or(values::string(role.default_region()))
}

/// The `tap_regional_stack` configuration of one role.
pub fn stack_config(state: &State, role: Role) -> StackState {
    stack_config_of(state, role, region_settings(state, role))
}

/// The `additional_standby` blocks as given (a block still unknown as its defaults).
pub fn additional_standbys(state: &State) -> Vec<Region> {
    state
        .additional_standby
        .as_ref_option()
        .into_iter()
        .flatten()
        .map(|block| block.as_ref_option().cloned().unwrap_or_default())
        .collect()
}

/// The `parts` prefix of a standby after the first: `standby.<region>`.
pub fn additional_prefix(region: &str) -> String {
    format!("standby.{region}")
}

/// Every standby's region in order of preference: `standby`'s, then each `additional_standby`'s.
pub fn standby_regions(state: &State) -> Vec<Value<String>> {
    std::iter::once(region_of(state, Role::Standby))
        .chain(additional_standbys(state).into_iter().map(|b| b.region))
        .collect()
}

/// The `additional_standby` blocks with their default networks filled in: a block without
/// `vpc_cidr` takes `10.<n>.0.0/16`, `<n>` the lowest from 2 up that overlaps no other
/// region's VPC (those given, the two roles' defaults, and the blocks before it).
pub fn additional_standby_blocks(state: &State) -> Vec<Region> {
    let parse = |v: &Value<String>| v.as_ref_option().and_then(|t| t.parse::<Cidr>().ok());
    let blocks = additional_standbys(state);
    let mut taken: Vec<Cidr> = Role::ALL
        .into_iter()
        .filter_map(|role| {
            parse(
                &region_settings(state, role)
                    .vpc_cidr
                    .or(values::string(role.default_vpc_cidr())),
            )
        })
        .chain(blocks.iter().filter_map(|b| parse(&b.vpc_cidr)))
        .collect();
    blocks
        .into_iter()
        .map(|mut block| {
            if !block.vpc_cidr.is_null() {
                return block;
            }
            let Some((octet, cidr)) = (2..=u8::MAX)
                .filter_map(|n| Some((n, format!("10.{n}.0.0/16").parse::<Cidr>().ok()?)))
                .find(|(_, c)| !taken.iter().any(|t| t.overlaps(c)))
            else {
                return block;
            };
            taken.push(cidr);
            block.vpc_cidr = values::string(cidr.to_string());
            let subnets =
                |thirds: [u8; 2]| values::list(&thirds.map(|t| format!("10.{octet}.{t}.0/24")));
            block.public_subnets = block.public_subnets.or(subnets([1, 2]));
            block.private_subnets = block.private_subnets.or(subnets([11, 12]));
            block
        })
        .collect()
}

/// The `tap_regional_stack` configurations of the `additional_standby` blocks, in order.
pub fn additional_stack_configs(state: &State) -> Vec<StackState> {
    additional_standby_blocks(state)
        .into_iter()
        .map(|block| stack_config_of(state, Role::Standby, block))
        .collect()
}

/// The `tap_regional_stack` configuration of a region block in `role`.
pub fn stack_config_of(state: &State, role: Role, r: Region) -> StackState {
    StackState {
        environment_suffix: state.environment_suffix.clone(),
        role: values::string(role.as_str()),
        region: r.region,
        vpc_cidr: r.vpc_cidr,
        public_subnets: r.public_subnets,
        private_subnets: r.private_subnets,
        nat_mode: r.nat_mode,
        allowed_cidrs: state.allowed_cidrs.clone(),
        certificate_arn: r.certificate_arn,
        instance_type: r.instance_type,
        ami_id: r.ami_id,
        min_size: r.min_size,
        max_size: r.max_size,
        desired_capacity: r.desired_capacity,
        health_check_path: state
            .health_check
            .as_ref_option()
            .map_or(Value::Null, |h| h.path.clone()),
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// The `tap_session_table` configuration: home in the primary region, replica in the standby.
/// The `session_table` block of a state, or its defaults when left out.
pub fn table_settings_block(state: &State) -> SessionTableSettings {
    state
        .session_table
        .as_ref_option()
        .cloned()
        .unwrap_or_default()
}

/// Whether the session table is strongly consistent (MRSC), which has no `ReplicationLatency`.
pub fn strong_table(state: &State) -> bool {
    table_settings_block(state)
        .consistency
        .as_ref_option()
        .map(String::as_str)
        == Some(STRONG)
}

pub fn table_config(state: &State) -> TableState {
    let settings = table_settings_block(state);
    TableState {
        environment_suffix: state.environment_suffix.clone(),
        region: region_of(state, Role::Primary),
        replica_regions: Value::Value(standby_regions(state)),
        consistency: settings.consistency,
        witness_region: settings.witness_region,
        allow_data_loss: settings.allow_data_loss,
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// Something of each region: the primary's, then every standby's in order of preference.
#[derive(Debug, Clone, PartialEq)]
pub struct PerRegion<T> {
    pub primary: T,
    pub standbys: Vec<T>,
}

impl<T> PerRegion<T> {
    pub fn map<U>(self, f: impl Fn(T) -> U) -> PerRegion<U> {
        PerRegion {
            primary: f(self.primary),
            standbys: self.standbys.into_iter().map(f).collect(),
        }
    }
}

/// Every region of a configuration: the primary's, then the standbys'.
pub fn regions(state: &State) -> PerRegion<Value<String>> {
    PerRegion {
        primary: region_of(state, Role::Primary),
        standbys: standby_regions(state),
    }
}

/// The `tap_dns_failover` configuration, pointing at `endpoints`, with each region's topic key.
pub fn dns_config(state: &State, endpoints: PerRegion<Value<Endpoint>>) -> DnsState {
    let PerRegion { primary, standbys } = endpoints;
    let with_key = |endpoint: Value<Endpoint>, block: Region| {
        endpoint.map(|e| Endpoint {
            kms_key_arn: block.kms_key_arn,
            ..e
        })
    };
    let blocks =
        std::iter::once(region_settings(state, Role::Standby)).chain(additional_standbys(state));
    DnsState {
        environment_suffix: state.environment_suffix.clone(),
        domain_name: state.domain_name.clone(),
        hosted_zone_id: state.hosted_zone_id.clone(),
        active_region: state.active_region.clone(),
        alarm_emails: state.alarm_emails.clone(),
        switch_routing_control_arn: state.switch_routing_control_arn.clone(),
        // The table's ReplicationLatency alarm; a strong table publishes no such metric.
        table_name: if strong_table(state) {
            Value::Null
        } else {
            state
                .environment_suffix
                .as_ref()
                .map(|s| naming::session_table(s))
        },
        environment: state.environment.clone(),
        tags: state.tags.clone(),
        health_check: health_check_config(state),
        primary: with_key(primary, region_settings(state, Role::Primary)),
        standby: Value::Value(
            standbys
                .into_iter()
                .zip(blocks)
                .map(|(e, b)| with_key(e, b))
                .collect(),
        ),
        timeouts: state.timeouts.clone(),
        ..Default::default()
    }
}

/// The health check as configured, its protocol defaulting to HTTPS when the load balancers have
/// certificates (their own or `tls = "auto"`'s): their HTTP listener then only redirects, and Route 53 counts the redirect as
/// healthy ("200 or greater and less than 400",
/// https://docs.aws.amazon.com/Route53/latest/APIReference/API_HealthCheckConfig.html), so an
/// HTTP check could never see the application fail.
fn health_check_config(state: &State) -> Value<HealthCheck> {
    let certificate = if auto_tls(state) {
        values::string(TLS_AUTO)
    } else {
        region_settings(state, Role::Primary).certificate_arn
    };
    let mut check = match &state.health_check {
        _ if certificate.is_null() => return state.health_check.clone(),
        Value::Value(check) => check.clone(),
        Value::Null => HealthCheck::default(),
        Value::Unknown => return Value::Unknown,
    };
    if check.protocol.is_null() {
        check.protocol = certificate.map(|_| "HTTPS".to_owned());
    }
    Value::Value(check)
}

/// An endpoint whose load balancer does not exist yet.
pub fn unknown_endpoint(region: Value<String>) -> Value<Endpoint> {
    Value::Value(Endpoint {
        region,
        alb_dns_name: Value::Unknown,
        alb_zone_id: Value::Unknown,
        alb_arn: Value::Unknown,
        target_group_arn: Value::Unknown,
        kms_key_arn: Value::Null,
    })
}

/// An endpoint whose load balancer the DNS part does not know (yet): only its region is
/// known, which is all a read or delete of the part needs.
pub fn unrouted_endpoint(region: String) -> Value<Endpoint> {
    Value::Value(Endpoint {
        region: values::string(region),
        alb_dns_name: values::string(""),
        alb_zone_id: values::string(""),
        alb_arn: values::string(""),
        target_group_arn: values::string(""),
        kms_key_arn: Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nat_mode_none_builds_no_nat_gateway() {
        let with = |mode: Value<String>| Region {
            nat_mode: mode,
            ..Region::default()
        };
        assert!(builds_nat(&with(Value::Null)), "the default is single");
        assert!(builds_nat(&with(values::string("single"))));
        assert!(builds_nat(&with(values::string("per_az"))));
        assert!(!builds_nat(&with(values::string("none"))));
    }
}
