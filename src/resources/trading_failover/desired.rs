//! What apply converges `tap_trading_failover` to: the planned state with every configured value
//! known, from which each part's own desired state is derived.

use tf_provider::value::Value;

use super::parts::*;
use super::schema::{Region, State};
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::desired::{Desired as DnsDesired, EndpointSpec};
use crate::resources::dns_failover::schema::State as DnsState;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::desired::Desired as StackDesired;
use crate::resources::regional_stack::schema::State as StackState;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::SessionTable;
use crate::role::Role;
use crate::tags::Tags;
use crate::tf::values::known_map;

/// A part planned from a derived configuration: its planned state (what its read starts from)
/// and its desired state (what its apply converges to).
pub struct Planned<P: Convergent> {
    pub state: P::State,
    pub want: P::Desired,
}

impl<P: Convergent> Planned<P> {
    /// Plans the part once, from its derived configuration; the debug line lets a test count
    /// the derivations of one apply.
    fn derive(part: &str, config: &P::State, default_tags: &Tags) -> Option<Planned<P>> {
        let (state, _) = P::plan(config, None, default_tags);
        let want = P::desired(&state, default_tags)?;
        tracing::debug!("tap_trading_failover: derived its {part} ({})", P::TYPE);
        Some(Planned { state, want })
    }
}

/// The place of a role's part in `[primary, standby]`.
fn slot(role: Role) -> usize {
    match role {
        Role::Primary => 0,
        Role::Standby => 1,
    }
}

/// An Auto Scaling minimum and desired capacity other than the configured ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    pub min: i64,
    pub desired: i64,
}

/// The planned state with every configured value known, and each part's desired state derived
/// from it once. What only apply learns is filled in typed: the shared instance profile, a
/// standby's capacity during a planned failover, the load balancers the DNS part points at.
pub struct Desired {
    pub state: State,
    pub default_tags: Tags,
    /// The primary's and the standby's stack, on a profile not made yet
    /// (`instance_profile_arn` `None`, no role of their own).
    stacks: [Planned<RegionalStack>; 2],
    /// The `additional_standby` blocks' stacks, in order, on that profile too.
    additional: Vec<Planned<RegionalStack>>,
    pub table: Planned<SessionTable>,
    /// The DNS part, pointing at load balancers of which only the regions are known yet.
    dns: Planned<DnsFailover>,
    /// The prior state of an update that is a planned failover and nothing else: apply then
    /// takes every part's ID from it and converges only the move.
    pub failover_from: Option<State>,
    /// The table is made again (a change DynamoDB cannot make in place, allowed by
    /// `session_table.allow_data_loss`): deleted, then created.
    pub replace_table: bool,
    /// The stacks of the standbys an update removes (`additional_standby` blocks gone), on
    /// the prior state's settings: deleted once DNS no longer routes to them and the table no
    /// longer replicates there.
    pub removed_standbys: Vec<RemovedStandby>,
    /// This update turns `tls = "auto"` off, or a state records what an earlier one that
    /// failed left: the certificates it obtained, and their validation record, go once no
    /// listener serves them (a destroy would otherwise no longer know of them).
    pub drops_certificates: bool,
    /// The validation record a state names (`parts`): deleted by that name, once it is found to
    /// be ACM's, when the certificates that named it are gone already (an apply that failed
    /// between deleting them and deleting it).
    pub recorded_validation_record: Option<String>,
    /// This update stops serving HTTPS (`tls` turned off, or the certificates removed) in the
    /// regions it had: the health check moves to plain HTTP before the HTTPS listeners go, or
    /// Route 53 would find port 443 closed and take a healthy primary out of DNS.
    pub checks_http_first: bool,
    /// The regions whose stack an update leaves alone: planned as the prior state has it, every
    /// part of it recorded (none missing or drifted), so converging it would only write what
    /// AWS holds already. Adding or removing a standby then touches no other region's stack.
    pub unchanged_stacks: std::collections::BTreeSet<String>,
}

/// A standby an update removes.
pub struct RemovedStandby {
    pub stack: StackDesired,
    /// It took the traffic before this update (the prior `active_region` named it): clients
    /// may still hold its address, so its instances drain before they go.
    pub served: bool,
}

/// A stack with another capacity than its configured one, if given.
fn with_capacity(mut want: StackDesired, capacity: Option<Capacity>) -> StackDesired {
    if let Some(Capacity { min, desired }) = capacity {
        want.min_size = min as i32;
        want.desired_capacity = desired as i32;
    }
    want
}

/// The `additional_standby` blocks' stacks, each planned once on a profile not made yet.
fn plan_additional_stacks(
    state: &State,
    default_tags: &Tags,
) -> Option<Vec<Planned<RegionalStack>>> {
    additional_stack_configs(state)
        .into_iter()
        .map(|mut config| {
            config.instance_profile_arn = Value::Unknown;
            let region = config.region.as_ref_option().cloned().unwrap_or_default();
            Planned::derive(&format!("standby stack in {region}"), &config, default_tags)
        })
        .collect()
}

impl Desired {
    pub fn from_state(state: &State, default_tags: &Tags) -> Option<Desired> {
        let stack = |role: Role| {
            let mut config = stack_config(state, role);
            // The shared profile, made at apply: the stack makes no role of its own.
            config.instance_profile_arn = Value::Unknown;
            Planned::derive(&format!("{role} stack"), &config, default_tags)
        };
        let stacks = [stack(Role::Primary)?, stack(Role::Standby)?];
        let additional = plan_additional_stacks(state, default_tags)?;
        let table = Planned::derive("session table", &table_config(state), default_tags)?;
        let PerRegion { primary, standbys } = regions(state);
        let endpoints = PerRegion {
            primary: unrouted_endpoint(primary.as_ref_option()?.clone()),
            standbys: standbys
                .into_iter()
                .map(|r| Some(unrouted_endpoint(r.as_ref_option()?.clone())))
                .collect::<Option<_>>()?,
        };
        let dns = Planned::derive("DNS failover", &dns_config(state, endpoints), default_tags)?;
        Some(Desired {
            state: state.clone(),
            default_tags: default_tags.clone(),
            stacks,
            additional,
            table,
            dns,
            failover_from: None,
            replace_table: false,
            removed_standbys: Vec::new(),
            drops_certificates: leftover_certificates(state),
            recorded_validation_record: recorded_validation_record(state),
            checks_http_first: false,
            unchanged_stacks: Default::default(),
        })
    }

    /// This update turning off the `tls = "auto"` that `prior` had, or finishing what an
    /// update that turned it off left.
    pub fn dropping_certificates_of(mut self, prior: &State) -> Desired {
        self.drops_certificates |=
            !auto_tls(&self.state) && (auto_tls(prior) || leftover_certificates(prior));
        self.recorded_validation_record =
            (self.recorded_validation_record).or_else(|| recorded_validation_record(prior));
        self
    }

    /// This update moving the health check of `prior`'s regions from HTTPS to HTTP.
    pub fn checking_http_first_after(mut self, prior: &State) -> Desired {
        let protocol = |state: &State| {
            (state.health_check.as_ref_option())
                .and_then(|check| check.protocol.as_ref_option().cloned())
        };
        self.checks_http_first = protocol(prior).as_deref() == Some("HTTPS")
            && protocol(&self.state).as_deref() == Some("HTTP")
            && regions(prior) == regions(&self.state);
        self
    }

    /// Whether the certificates `tls = "auto"` obtained are this apply's to find: served by
    /// the stacks, or still to be deleted.
    pub fn finds_certificates(&self) -> bool {
        auto_tls(&self.state) || self.drops_certificates
    }

    /// This update removing the standbys of `prior` that `self` no longer has (by region):
    /// their stacks are deleted, and the DNS part drops their topics and alarms.
    pub fn removing_standbys_of(mut self, prior: &State) -> Desired {
        let kept = self.additional_regions();
        let Some(stacks) = plan_additional_stacks(prior, &self.default_tags) else {
            return self;
        };
        let active = prior.active_region.as_ref_option();
        for stack in stacks {
            if !kept.contains(&stack.want.region) {
                let region = stack.want.region.clone();
                self.dns.want.removed_standbys.push(region.clone());
                self.removed_standbys.push(RemovedStandby {
                    served: active == Some(&region),
                    stack: stack.want,
                });
            }
        }
        self
    }

    /// This update leaving alone the stacks `prior` has as planned here (`unchanged_stacks`).
    pub fn leaving_unchanged_stacks_of(mut self, prior: &State) -> Desired {
        // Under `tls = "auto"` a stack's certificate comes at apply, not in its planned state:
        // turning it on must reach the listeners, so every stack is converged.
        if auto_tls(prior) || auto_tls(&self.state) {
            return self;
        }
        let Some(before) = Desired::from_state(prior, &self.default_tags) else {
            return self;
        };
        let parts = known_map(&prior.parts).unwrap_or_default();
        // Every part of the stack under `prefix` recorded, none empty (missing or drifted).
        let intact = |prefix: &str| {
            let mut own = parts.iter().filter(|(key, _)| {
                key.strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|part| !part.contains('.'))
            });
            parts.contains_key(&format!("{prefix}.vpc")) && own.all(|(_, id)| !id.is_empty())
        };
        let mut unchanged = Vec::new();
        for role in Role::ALL {
            let (was, will) = (
                &before.stacks[slot(role)].want,
                &self.stacks[slot(role)].want,
            );
            if was == will && intact(role.as_str()) {
                unchanged.push(will.region.clone());
            }
        }
        for will in &self.additional {
            let region = &will.want.region;
            let was = before.additional.iter().find(|b| &b.want.region == region);
            if was.is_some_and(|b| b.want == will.want) && intact(&additional_prefix(region)) {
                unchanged.push(region.clone());
            }
        }
        self.unchanged_stacks.extend(unchanged);
        self
    }

    /// Whether this update leaves the stack in `region` alone (`unchanged_stacks`).
    pub fn leaves_alone(&self, region: &str) -> bool {
        self.unchanged_stacks.contains(region)
    }

    /// The regions of the `additional_standby` blocks, in order.
    pub fn additional_regions(&self) -> Vec<String> {
        self.additional
            .iter()
            .map(|s| s.want.region.clone())
            .collect()
    }

    /// The stack of the `i`th `additional_standby` block on the shared profile.
    pub fn additional_stack(&self, i: usize, profile_arn: Option<&str>) -> StackDesired {
        let mut want = self.additional[i].want.clone();
        want.instance_profile_arn = profile_arn.filter(|a| !a.is_empty()).map(str::to_owned);
        want
    }

    /// Every `additional_standby` block's stack on the shared profile, in order.
    pub fn additional_stacks(&self, profile_arn: Option<&str>) -> Vec<StackDesired> {
        (0..self.additional.len())
            .map(|i| self.additional_stack(i, profile_arn))
            .collect()
    }

    /// The stack of the `i`th `additional_standby` block as planned, for its read.
    pub fn additional_stack_state(&self, i: usize) -> &StackState {
        &self.additional[i].state
    }

    /// Every region, primary first, then the standbys in order of preference.
    pub fn all_regions(&self) -> Vec<String> {
        let mut all: Vec<String> = Role::ALL.map(|role| self.region(role)).into();
        all.extend(self.additional_regions());
        all
    }

    /// Each stack's `parts` prefix in `all_regions`' order: `primary`, `standby`, then
    /// `standby.<region>` for each further standby.
    fn stack_prefixes(&self) -> Vec<String> {
        Role::ALL
            .map(|role| role.as_str().to_owned())
            .into_iter()
            .chain(
                self.additional_regions()
                    .iter()
                    .map(|r| additional_prefix(r)),
            )
            .collect()
    }

    /// The `parts` prefix of the standby at place `k` in the order of preference.
    pub fn standby_prefix(&self, k: usize) -> String {
        self.stack_prefixes()
            .into_iter()
            .nth(k + 1)
            .unwrap_or_default()
    }

    /// Where `tls = "auto"` obtains certificates, in `all_regions`' order: each stack's `parts`
    /// prefix and region.
    pub fn certificate_sites(&self) -> Vec<(String, String)> {
        self.stack_prefixes()
            .into_iter()
            .zip(self.all_regions())
            .collect()
    }

    /// This update making the table again (`plan::table_replaced`).
    pub fn replacing_table(mut self, replace: bool) -> Desired {
        self.replace_table = replace;
        self
    }

    /// This update as a planned failover alone, when it is one (`plan::only_failing_over`).
    pub fn failing_over(mut self, prior: &State) -> Desired {
        if super::plan::only_failing_over(prior, &self.state) {
            self.failover_from = Some(prior.clone());
        }
        self
    }

    pub fn suffix(&self) -> &str {
        self.state
            .environment_suffix
            .as_ref_option()
            .map_or("", String::as_str)
    }

    pub fn region(&self, role: Role) -> String {
        region_of(&self.state, role)
            .as_ref_option()
            .cloned()
            .unwrap_or_default()
    }

    /// Whether `active_region` names the first standby (`standby` or its region).
    pub fn standby_active(&self) -> bool {
        self.active_standby() == Some(0)
    }

    /// The standby `active_region` names (`standby`, or a standby's region), by its place in
    /// the order of preference: 0 is `standby`, `k` the `k`th `additional_standby` block.
    pub fn active_standby(&self) -> Option<usize> {
        let active = self.state.active_region.as_ref_option()?;
        match Role::parse(active) {
            Some(Role::Standby) => Some(0),
            Some(Role::Primary) => None,
            None => self.standby_regions().iter().position(|r| r == active),
        }
    }

    /// Every standby's region in order of preference.
    pub fn standby_regions(&self) -> Vec<String> {
        std::iter::once(self.region(Role::Standby))
            .chain(self.additional_regions())
            .collect()
    }

    /// The region block of the standby at place `k` (0 is `standby`), defaults filled in.
    pub fn standby_block(&self, k: usize) -> Region {
        match k {
            0 => region_settings(&self.state, Role::Standby),
            k => additional_standby_blocks(&self.state)
                .into_iter()
                .nth(k - 1)
                .unwrap_or_default(),
        }
    }

    /// The stack of the standby at place `k` (0 is `standby`) on the shared profile, optionally
    /// with another capacity.
    pub fn standby_stack(
        &self,
        k: usize,
        profile_arn: Option<&str>,
        capacity: Option<Capacity>,
    ) -> StackDesired {
        match k {
            0 => self.stack(Role::Standby, profile_arn, capacity),
            k => with_capacity(self.additional_stack(k - 1, profile_arn), capacity),
        }
    }

    /// The regional stack of `role` as planned, for its read: the profile plays no part there.
    pub fn stack_state(&self, role: Role) -> &StackState {
        &self.stacks[slot(role)].state
    }

    /// The regional stack of `role` on the shared instance profile (`None` while it does not
    /// exist), optionally with another capacity (a planned failover scales the standby up first).
    pub fn stack(
        &self,
        role: Role,
        profile_arn: Option<&str>,
        capacity: Option<Capacity>,
    ) -> StackDesired {
        let mut want = self.stacks[slot(role)].want.clone();
        want.instance_profile_arn = profile_arn.filter(|a| !a.is_empty()).map(str::to_owned);
        with_capacity(want, capacity)
    }

    /// The DNS part as planned, for its read.
    pub fn dns_state(&self) -> &DnsState {
        &self.dns.state
    }

    /// The DNS part pointing at the load balancers given; where one is not (it does not exist),
    /// at an empty one in its region, enough to read or delete the part.
    pub fn dns(&self, endpoints: PerRegion<Option<EndpointSpec>>) -> DnsDesired {
        self.dns
            .want
            .clone()
            .pointing_at(endpoints.primary, endpoints.standbys)
    }

    /// The DNS part pointing at no load balancer known: enough to read or delete it.
    pub fn dns_unrouted(&self) -> DnsDesired {
        self.dns.want.clone()
    }

    pub fn tags(&self, part: &str, name: &str) -> Tags {
        crate::tags::merge(
            &self.default_tags,
            &crate::tags::Ownership {
                suffix: self.suffix(),
                part,
                name,
                environment: self
                    .state
                    .environment
                    .as_ref_option()
                    .map_or(crate::tags::DEFAULT_ENVIRONMENT, String::as_str),
                failover_role: Role::Primary,
            },
            &known_map(&self.state.tags).unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::config;
    use super::super::plan::plan;
    use super::*;
    use crate::resources::dns_failover::schema::Endpoint;
    use crate::tf::values;

    /// What the composite fills in at apply gives the part the same desired state as planning
    /// the part with it from the start, as the composite did before it derived each part once.
    #[test]
    fn parts_derived_once_and_filled_in_equal_parts_planned_with_everything() {
        let (planned, _) = plan(&config(), None, &Tags::new());
        let want = Desired::from_state(&planned, &Tags::new()).expect("derivable");
        let profile = "arn:aws:iam::1:instance-profile/ec2-prod";
        for (role, capacity) in [
            (Role::Primary, None),
            (Role::Standby, Some(Capacity { min: 4, desired: 5 })),
        ] {
            let mut config = stack_config(&planned, role);
            config.instance_profile_arn = values::string(profile);
            if let Some(Capacity { min, desired }) = capacity {
                config.min_size = Value::Value(min.into());
                config.desired_capacity = Value::Value(desired.into());
            }
            let (state, _) = RegionalStack::plan(&config, None, &Tags::new());
            let whole = RegionalStack::desired(&state, &Tags::new()).expect("stack");
            assert_eq!(want.stack(role, Some(profile), capacity), whole, "{role}");
        }
        let [primary, standby] = Role::ALL.map(|role| EndpointSpec {
            region: want.region(role),
            alb_dns_name: format!("alb-{role}-1.{}.elb.amazonaws.com.", want.region(role)),
            alb_zone_id: "Z35SXDOTRQ7X7K".into(),
            alb_arn: format!(
                "arn:aws:elasticloadbalancing:{}:1:loadbalancer/app/alb-{role}/a",
                want.region(role)
            ),
            target_group_arn: format!(
                "arn:aws:elasticloadbalancing:{}:1:targetgroup/tg-{role}/b",
                want.region(role)
            ),
            kms_key_arn: None,
        });
        let endpoint = |e: &EndpointSpec| {
            Value::Value(Endpoint {
                region: values::string(&e.region),
                alb_dns_name: values::string(&e.alb_dns_name),
                alb_zone_id: values::string(&e.alb_zone_id),
                alb_arn: values::string(&e.alb_arn),
                target_group_arn: values::string(&e.target_group_arn),
                kms_key_arn: Value::Null,
            })
        };
        let config = dns_config(
            &planned,
            PerRegion {
                primary: endpoint(&primary),
                standbys: vec![endpoint(&standby)],
            },
        );
        let (state, _) = DnsFailover::plan(&config, None, &Tags::new());
        let whole = DnsFailover::desired(&state, &Tags::new()).expect("dns");
        let given = PerRegion {
            primary: Some(primary),
            standbys: vec![Some(standby)],
        };
        assert_eq!(want.dns(given), whole);
    }

    /// The health check moves to HTTP first only when HTTPS goes in the regions that served it.
    #[test]
    fn turning_https_off_checks_http_first_in_the_same_regions_only() {
        let planned = |certificates: bool, standby_region: &str| {
            let mut config = config();
            let region = |name: &str, arn: Option<String>| {
                Value::Value(Region {
                    region: values::string(name),
                    certificate_arn: arn.map_or(Value::Null, Value::Value),
                    ..Default::default()
                })
            };
            let arn = |r: &str| certificates.then(|| format!("arn:aws:acm:{r}:1:certificate/c"));
            config.primary = region("us-east-1", arn("us-east-1"));
            config.standby = region(standby_region, arn(standby_region));
            plan(&config, None, &Tags::new()).0
        };
        let first = |prior: &State, now: &State| {
            (Desired::from_state(now, &Tags::new()).expect("derivable"))
                .checking_http_first_after(prior)
                .checks_http_first
        };
        let https = planned(true, "us-east-2");
        let http = planned(false, "us-east-2");
        assert!(first(&https, &http), "HTTPS turned off");
        assert!(!first(&http, &https), "HTTPS turned on");
        assert!(!first(&http, &http), "plain HTTP throughout");
        assert!(
            !first(&https, &planned(false, "us-west-2")),
            "the standby moved: its load balancer is new"
        );
    }
}
