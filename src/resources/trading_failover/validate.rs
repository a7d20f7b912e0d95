//! Plan-time diagnostics for `tap_trading_failover`: each part validates its own derived
//! configuration, the findings land on this resource's attributes, and what no single part can
//! see is checked here.

use std::collections::BTreeSet;

use tf_provider::value::Value;
use tf_provider::{AttributePath, AttributePathStep, Diagnostics};

use super::parts::*;
use super::schema::{Region, State, MAX_ADDITIONAL_STANDBYS};
use crate::cidr::Cidr;
use crate::resources::converged::Convergent;
use crate::resources::dns_failover::DnsFailover;
use crate::resources::regional_stack::RegionalStack;
use crate::resources::session_table::SessionTable;
use crate::role::Role;
use crate::tf::diag::invalid;
use crate::tf::number::whole;
use crate::tf::values::{self};

pub fn validate(diags: &mut Diagnostics, config: &State) {
    let mut found = Diagnostics::default();
    // A role, or a standby's region (a further standby is named by its region only).
    if let Value::Value(active) = &config.active_region {
        let regions = standby_regions(config);
        let a_standby = regions.iter().any(|r| r.as_ref_option() == Some(active));
        let unknown = regions.iter().any(Value::is_unknown);
        if Role::parse(active).is_none() && !a_standby && !unknown {
            invalid(
                &mut found,
                AttributePath::new("active_region"),
                format!("\"{active}\" is not a role or a standby's region: use \"primary\", \"standby\" or the region of an `additional_standby`."),
            );
        }
    }
    validate_across_parts(&mut found, config);
    // Each region's stack, its findings on that region's block.
    let stacks = Role::ALL
        .map(|role| {
            (
                AttributePath::new(role.as_str()),
                stack_config(config, role),
            )
        })
        .into_iter()
        .chain(
            additional_stack_configs(config)
                .into_iter()
                .enumerate()
                .map(|(i, stack)| (additional_block(i), stack)),
        );
    for (block, stack) in stacks {
        let mut sub = Diagnostics::default();
        RegionalStack::validate(&mut sub, &stack);
        remap(&mut found, sub, |attr| match attr {
            "environment_suffix" | "environment" | "tags" | "allowed_cidrs" | "timeouts" => {
                (AttributePath::new(attr.to_owned()), true)
            }
            "health_check_path" => (AttributePath::new("health_check").attribute("path"), true),
            other => (block.clone().attribute(other.to_owned()), true),
        });
    }
    let mut sub = Diagnostics::default();
    SessionTable::validate(&mut sub, &table_config(config));
    // Without further standbys the table has one replica: a third Region can only be the witness.
    let settings = table_settings_block(config);
    if strong_table(config)
        && settings.witness_region.is_null()
        && additional_standbys(config).is_empty()
    {
        sub.errors
            .retain(|d| d.attribute != AttributePath::new("replica_regions"));
        invalid(&mut found, AttributePath::new("session_table").attribute("consistency"), "`strong` needs `witness_region`: a strongly consistent (MRSC) table spans exactly three Regions, and this system has two, the primary's (home of the table) and the standby's (its replica). Name a third Region of the same MRSC Region set for the witness (DynamoDB: \"Unsupported replica count for global tables with MultiRegionConsistency set to STRONG\").");
    }
    // The replica list is made of the standbys' regions, in order.
    for diag in &mut sub.errors {
        standby_list_as_blocks(&mut diag.attribute, "replica_regions", Some("region"));
    }
    remap(&mut found, sub, |attr| match attr {
        "region" => (AttributePath::new("primary").attribute("region"), true),
        "consistency" | "witness_region" | "allow_data_loss" => (
            AttributePath::new("session_table").attribute(attr.to_owned()),
            true,
        ),
        other => (AttributePath::new(other.to_owned()), true),
    });
    let mut sub = Diagnostics::default();
    DnsFailover::validate(
        &mut sub,
        &dns_config(config, regions(config).map(unknown_endpoint)),
    );
    // The DNS part's standbys are a list; this resource's first standby is a block.
    for diag in &mut sub.errors {
        standby_list_as_blocks(&mut diag.attribute, "standby", None);
    }
    remap(&mut found, sub, |attr| {
        (AttributePath::new(attr.to_owned()), true)
    });
    // Several parts check the same input (the suffix, the regions): say it once per attribute,
    // the clearest first.
    diags.warnings.append(&mut found.warnings);
    let mut seen = BTreeSet::new();
    for diag in found.errors {
        if seen.insert(diag.attribute.to_string()) {
            diags.add_error(diag);
        }
    }
}

/// The path of the `i`th `additional_standby` block.
fn additional_block(i: usize) -> AttributePath {
    AttributePath::new("additional_standby").index(i as i64)
}

/// A part's path into its list of standbys (`list[k]`, then `rest`), as this resource's blocks:
/// `standby` for the first, `additional_standby[k - 1]` for the others; `attribute` names the
/// block's attribute the list item is, when it is one.
fn standby_list_as_blocks(
    path: &mut AttributePath,
    list: &'static str,
    attribute: Option<&'static str>,
) {
    if path.steps.first() != Some(&AttributePathStep::Attribute(list.into())) {
        return;
    }
    let index = match path.steps.get(1) {
        Some(AttributePathStep::Index(k)) => *k,
        _ => return,
    };
    let mut block = match index {
        0 => AttributePath::new("standby"),
        k => additional_block(k as usize - 1),
    };
    if let Some(attribute) = attribute {
        block = block.attribute(attribute);
    }
    for step in path.steps.drain(2..) {
        block.add_step(step);
    }
    *path = block;
}

/// Moves a part's diagnostics onto this resource's attributes: `map` gives the new path of the
/// part's top-level attribute, and whether the rest of the path (list index, block attribute)
/// still applies.
fn remap(into: &mut Diagnostics, from: Diagnostics, map: impl Fn(&str) -> (AttributePath, bool)) {
    for diag in from.errors {
        let mut steps = diag.attribute.steps.into_iter();
        let Some(AttributePathStep::Attribute(first)) = steps.next() else {
            into.root_error(diag.summary, diag.detail);
            continue;
        };
        let (mut path, keep_rest) = map(&first);
        if keep_rest {
            for step in steps {
                path.add_step(step);
            }
        }
        invalid(into, path, diag.detail);
    }
}

/// What no single part can see: regions all different, VPCs that do not overlap (they would
/// collide if ever peered, and the spec requires it), and standbys that can take traffic.
fn validate_across_parts(diags: &mut Diagnostics, config: &State) {
    let additional = additional_standby_blocks(config);
    if additional.len() > MAX_ADDITIONAL_STANDBYS {
        invalid(
            diags,
            AttributePath::new("additional_standby"),
            format!("at most {MAX_ADDITIONAL_STANDBYS} further standbys: Route 53's failover chain here takes four standbys."),
        );
    }
    // Each region's block: its path, its settings, and its network's default (none for a
    // further standby's: `additional_standby_blocks` filled it in).
    let blocks: Vec<(AttributePath, Region, String)> = Role::ALL
        .into_iter()
        .map(|role| {
            let block = region_settings(config, role);
            let cidr = role.default_vpc_cidr();
            (AttributePath::new(role.as_str()), block, cidr)
        })
        .chain(
            additional
                .into_iter()
                .enumerate()
                .map(|(i, block)| (additional_block(i), block, String::new())),
        )
        .collect();
    for (k, (path, block, default_cidr)) in blocks.iter().enumerate() {
        let earlier = &blocks[..k];
        if let Some(cidr) = cidr_of(block, default_cidr) {
            if let Some((other, _, c)) = earlier.iter().find_map(|(p, b, d)| {
                let c = cidr_of(b, d)?;
                c.overlaps(&cidr).then_some((p, b, c))
            }) {
                invalid(
                    diags,
                    path.clone().attribute("vpc_cidr"),
                    format!(
                        "{cidr} overlaps {c} of `{other}`: the VPCs need separate address ranges."
                    ),
                );
            }
        }
        if let Value::Value(region) = &block.region {
            if let Some((other, _, _)) = earlier
                .iter()
                .find(|(_, b, _)| b.region.as_ref_option() == Some(region))
            {
                invalid(
                    diags,
                    path.clone().attribute("region"),
                    format!("{region} is also `{other}`'s region: every region of the system must be another."),
                );
            }
        }
        if k > 0 {
            if let Value::Value(n) = &block.desired_capacity {
                if n.as_i64() == Some(0) {
                    invalid(
                        diags,
                        path.clone().attribute("desired_capacity"),
                        "a standby with no instances has no healthy targets: Route 53 would keep answering with a dead primary. Use 1 or more.",
                    );
                }
            }
        }
    }
    validate_https(diags, config);
    validate_additional_https(diags, config);
}

/// HTTPS in every further standby when the primary has it, and in none when it has not.
fn validate_additional_https(diags: &mut Diagnostics, config: &State) {
    let additional = additional_standbys(config);
    let primary = region_settings(config, Role::Primary).certificate_arn;
    for (i, block) in additional.iter().enumerate() {
        let path = additional_block(i).attribute("certificate_arn");
        match (&primary, &block.certificate_arn) {
            (Value::Value(_), Value::Null) => invalid(diags, path, "the primary has a certificate_arn, this standby none: after failover its load balancer has no HTTPS listener, and every client of the https:// application_url is refused. Give it a certificate of its own region too, or no region one."),
            (Value::Null, Value::Value(_)) => invalid(diags, path, "the primary has no certificate_arn: the application_url would be http://, which this standby would only redirect to HTTPS after failover. Give every region a certificate of its own, or none."),
            _ => {}
        }
    }
}

/// A region block's VPC CIDR, or `default` when it gives none (and the default is known).
fn cidr_of(block: &Region, default: &str) -> Option<Cidr> {
    let text = block.vpc_cidr.clone().or(values::string(default));
    text.as_ref_option().and_then(|t| t.parse().ok())
}

/// HTTPS on both sides or neither, and a health check that reaches the application through the
/// listener the load balancers have for it.
fn validate_https(diags: &mut Diagnostics, config: &State) {
    let [primary, standby] = Role::ALL.map(|role| region_settings(config, role).certificate_arn);
    let https = match (&primary, &standby) {
        (Value::Value(_), Value::Value(_)) => true,
        (Value::Null, Value::Null) => validate_tls(diags, config),
        (Value::Value(_), Value::Null) => {
            invalid(diags, AttributePath::new("primary").attribute("certificate_arn"), "the standby has no certificate_arn: after failover its load balancer has no HTTPS listener, and every client of the https:// application_url is refused. Give the standby a certificate of its own region too (HTTPS on both sides), or neither.");
            return;
        }
        (Value::Null, Value::Value(_)) => {
            invalid(diags, AttributePath::new("standby").attribute("certificate_arn"), "the primary has no certificate_arn: the application_url would be http://, which the standby would only redirect to HTTPS after failover. Give the primary a certificate of its own region too (HTTPS on both sides), or neither.");
            return;
        }
        _ => return,
    };
    let Value::Value(check) = &config.health_check else {
        return;
    };
    let path = |attr: &'static str| AttributePath::new("health_check").attribute(attr);
    let protocol = match check.protocol.as_ref_option().map(String::as_str) {
        Some("HTTP") if https => {
            invalid(diags, path("protocol"), "the load balancers have certificates, so their HTTP listener answers every request with a 301 redirect to HTTPS, which Route 53 counts as healthy (any status from 200 to 399): an HTTP check could never see the application fail. Use HTTPS, the default with certificates.");
            return;
        }
        Some("HTTPS") if !https => {
            invalid(diags, path("protocol"), "without certificate_arn the load balancers have no HTTPS listener: every check would fail and Route 53 would send all traffic to the standby. Use HTTP, the default without certificates, or give both regions a certificate.");
            return;
        }
        Some(other) => other,
        None if https => "HTTPS",
        None => "HTTP",
    };
    let listener = match protocol {
        "HTTPS" => 443,
        "HTTP" => 80,
        _ => return,
    };
    if let Some(port) = whole(&check.port).filter(|p| *p != listener) {
        invalid(
            diags,
            path("port"),
            format!("the load balancers answer {protocol} on port {listener} only, not {port}."),
        );
    }
}

/// `tls` without certificates of the user's: `off` is said to leave the traffic unencrypted.
/// (`auto` in a zone created here is refused only on create: `create_refusals`.) Whether the load balancers serve HTTPS.
fn validate_tls(diags: &mut Diagnostics, config: &State) -> bool {
    let path = AttributePath::new("tls");
    match config.tls.as_ref_option().map(String::as_str) {
        Some(TLS_OFF) => {
            diags.warning(
                "tap_trading_failover: traffic is not encrypted",
                "with `tls = \"off\"` the load balancers serve plain HTTP: requests, responses and session cookies cross the internet unencrypted. Use `auto` (with `hosted_zone_id`) or a `certificate_arn` in both regions to serve HTTPS.",
                path,
            );
            false
        }
        Some(TLS_AUTO) | None => auto_tls(config),
        Some(other) => {
            invalid(
                diags,
                path,
                format!("\"{other}\" is not a TLS mode: `auto` or `off`."),
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::desired::Desired;
    use super::super::fixtures::{config, error_paths};
    use super::super::plan::plan;
    use super::super::schema::Region;
    use super::*;
    use crate::resources::dns_failover::schema::HealthCheck;
    use crate::tags::Tags;
    use crate::tf::number::Number;

    #[test]
    fn tls_is_auto_or_off_and_off_is_warned_about() {
        let mut c = config();
        c.tls = values::string("auto");
        assert!(
            error_paths(&c).is_empty(),
            "a zone created here, once delegated"
        );
        c.hosted_zone_id = values::string("Z123");
        assert!(error_paths(&c).is_empty());
        c.tls = values::string("https");
        assert_eq!(error_paths(&c), ["tls"]);
        c.tls = values::string("off");
        let mut diags = Diagnostics::default();
        validate(&mut diags, &c);
        assert!(diags.errors.is_empty());
        assert!(
            diags
                .warnings
                .iter()
                .any(|w| w.summary.contains("traffic is not encrypted")),
            "{:?}",
            diags.warnings
        );
    }

    /// The DNS part takes a standby's region for `active_region`; this resource, with its
    /// one standby, takes only the roles, and says so once.
    #[test]
    fn active_region_is_a_role_or_a_standbys_region() {
        let mut c = config();
        c.tls = values::string("off");
        c.active_region = values::string("us-west-2");
        assert_eq!(error_paths(&c), ["active_region"]);
        c.active_region = values::string("us-east-1");
        assert_eq!(error_paths(&c), ["active_region"], "the primary's region");
        for standby in ["standby", "us-east-2"] {
            c.active_region = values::string(standby);
            assert!(error_paths(&c).is_empty(), "{standby}");
        }
        c.additional_standby = further(vec![in_region("us-west-2")]);
        c.active_region = values::string("us-west-2");
        assert!(error_paths(&c).is_empty());
    }

    #[test]
    fn a_topic_key_is_checked_in_its_region_block_and_reaches_the_dns_part() {
        let mut c = config();
        c.standby = Value::Value(Region {
            kms_key_arn: values::string("alias/aws/sns"),
            ..Default::default()
        });
        assert_eq!(error_paths(&c), ["standby.kms_key_arn"]);
        let users = "arn:aws:kms:us-east-2:123456789012:key/abc";
        c.standby = Value::Value(Region {
            kms_key_arn: values::string(users),
            ..Default::default()
        });
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert_eq!(
            region_settings(&planned, Role::Standby).kms_key_arn,
            values::string(users)
        );
        let dns = dns_config(&planned, regions(&planned).map(unknown_endpoint));
        assert_eq!(
            crate::resources::dns_failover::schema::standbys(&dns)
                .next()
                .and_then(|e| e.as_ref_option())
                .map(|e| e.kms_key_arn.clone()),
            Some(values::string(users))
        );
    }

    fn further(blocks: Vec<Region>) -> super::super::schema::Regions {
        Value::Value(blocks.into_iter().map(Value::Value).collect())
    }

    fn in_region(region: &str) -> Region {
        Region {
            region: values::string(region),
            ..Default::default()
        }
    }

    #[test]
    fn further_standbys_need_regions_and_networks_of_their_own() {
        let mut c = config();
        c.tls = values::string("off");
        c.additional_standby = further(vec![in_region("us-west-2"), in_region("eu-west-1")]);
        assert!(error_paths(&c).is_empty(), "{:?}", error_paths(&c));
        c.additional_standby = further(vec![
            in_region("us-east-2"),
            Region {
                vpc_cidr: values::string("10.0.0.0/16"),
                ..in_region("us-west-2")
            },
            Region {
                desired_capacity: Value::Value(Number::from(0)),
                ..in_region("eu-west-1")
            },
        ]);
        let paths = error_paths(&c);
        for expected in [
            "additional_standby[0].region",
            "additional_standby[1].vpc_cidr",
            "additional_standby[2].desired_capacity",
        ] {
            assert!(
                paths.iter().any(|p| p == expected),
                "{expected} in {paths:?}"
            );
        }
        c.additional_standby = further(vec![in_region("us-west-2"); 4]);
        assert!(error_paths(&c).contains(&"additional_standby".to_owned()));
    }

    #[test]
    fn further_standbys_serve_https_as_the_primary_does() {
        let mut c = config();
        c.additional_standby = further(vec![in_region("us-west-2")]);
        c.hosted_zone_id = values::string("Z123");
        assert!(
            error_paths(&c).is_empty(),
            "auto obtains their certificates too: {:?}",
            error_paths(&c)
        );
        let cert = |region: &str| values::string(format!("arn:aws:acm:{region}:1:certificate/c"));
        c.additional_standby = further(vec![Region {
            certificate_arn: cert("us-west-2"),
            ..in_region("us-west-2")
        }]);
        assert!(
            error_paths(&c).contains(&"additional_standby[0].certificate_arn".to_owned()),
            "one region's own certificate and auto's elsewhere"
        );
        c.additional_standby = further(vec![in_region("us-west-2")]);
        c.primary = Value::Value(Region {
            certificate_arn: cert("us-east-1"),
            ..Default::default()
        });
        c.standby = Value::Value(Region {
            certificate_arn: cert("us-east-2"),
            ..Default::default()
        });
        assert!(error_paths(&c).contains(&"additional_standby[0].certificate_arn".to_owned()));
        c.additional_standby = further(vec![Region {
            certificate_arn: cert("us-west-2"),
            ..in_region("us-west-2")
        }]);
        assert!(error_paths(&c).is_empty(), "{:?}", error_paths(&c));
    }

    #[test]
    fn a_strong_table_over_four_regions_is_refused_on_the_last_standby() {
        let mut c = config();
        c.tls = values::string("off");
        c.session_table = Value::Value(super::super::schema::SessionTableSettings {
            consistency: values::string("strong"),
            ..Default::default()
        });
        c.additional_standby = further(vec![in_region("us-west-2")]);
        assert!(
            error_paths(&c).is_empty(),
            "three regions: {:?}",
            error_paths(&c)
        );
        c.additional_standby = further(vec![in_region("us-west-2"), in_region("us-west-1")]);
        let paths = error_paths(&c);
        assert!(
            paths.iter().any(|p| p.starts_with("additional_standby[")),
            "{paths:?}"
        );
    }

    #[test]
    fn diagnostics_land_on_the_composites_attributes_once() {
        let mut c = config();
        c.environment_suffix = values::string("Bad_Suffix");
        c.standby = Value::Value(Region {
            region: values::string("us-east-1"),
            desired_capacity: Value::Value(Number::from(0)),
            ..Default::default()
        });
        c.primary = Value::Value(Region {
            public_subnets: values::list(&["10.7.1.0/24".into(), "10.0.2.0/24".into()]),
            ..Default::default()
        });
        let paths = error_paths(&c);
        for expected in [
            "environment_suffix",
            "standby.region",
            "standby.desired_capacity",
            "primary.public_subnets[0]",
        ] {
            assert_eq!(
                paths.iter().filter(|p| *p == expected).count(),
                1,
                "{expected} once in {paths:?}"
            );
        }
    }

    #[test]
    fn https_is_on_both_sides_or_neither_and_checked_over_https() {
        let with = |primary: Value<String>, standby: Value<String>, check: Option<HealthCheck>| {
            let mut c = config();
            c.domain_name = values::string("trading-prod.tap-test.net");
            c.primary = Value::Value(Region {
                certificate_arn: primary,
                ..Default::default()
            });
            c.standby = Value::Value(Region {
                certificate_arn: standby,
                ..Default::default()
            });
            c.health_check = check.map_or(Value::Null, Value::Value);
            c
        };
        let east1 = values::string("arn:aws:acm:us-east-1:123456789012:certificate/a");
        let east2 = values::string("arn:aws:acm:us-east-2:123456789012:certificate/b");
        let check = |protocol: &str, port: Option<i64>| {
            Some(HealthCheck {
                protocol: values::string(protocol),
                port: port.map_or(Value::Null, |p| Value::Value(Number::from(p))),
                ..Default::default()
            })
        };
        for (c, expected) in [
            (
                with(east1.clone(), Value::Null, None),
                vec!["primary.certificate_arn"],
            ),
            (
                with(Value::Null, east2.clone(), None),
                vec!["standby.certificate_arn"],
            ),
            (with(east1.clone(), east2.clone(), None), vec![]),
            (
                with(east1.clone(), east2.clone(), check("HTTP", None)),
                vec!["health_check.protocol"],
            ),
            (
                with(Value::Null, Value::Null, check("HTTPS", None)),
                vec!["health_check.protocol"],
            ),
            (
                with(east1.clone(), east2.clone(), check("HTTPS", Some(80))),
                vec!["health_check.port"],
            ),
            (with(Value::Unknown, east2.clone(), None), vec![]),
        ] {
            assert_eq!(error_paths(&c), expected, "{c:?}");
        }

        let (planned, _) = plan(
            &with(east1.clone(), east2.clone(), None),
            None,
            &Tags::new(),
        );
        assert_eq!(
            planned.application_url,
            values::string("https://trading-prod.tap-test.net")
        );
        let planned_check = planned.health_check.as_ref_option().cloned().unwrap();
        assert_eq!(planned_check.protocol, values::string("HTTPS"));
        assert_eq!(whole(&planned_check.port), Some(443));

        let (planned, _) = plan(&with(Value::Unknown, east2, None), None, &Tags::new());
        assert!(planned.application_url.is_unknown());
        let planned_check = planned.health_check.as_ref_option().cloned().unwrap();
        assert!(planned_check.protocol.is_unknown() && planned_check.port.is_unknown());
    }

    #[test]
    fn unknown_regions_from_other_resources_do_not_trip_validation() {
        let mut c = config();
        c.primary = Value::Value(Region {
            region: Value::Unknown,
            ..Default::default()
        });
        assert!(error_paths(&c).is_empty());
        let (planned, _) = plan(&c, None, &Tags::new());
        assert!(Desired::from_state(&planned, &Tags::new()).is_none());
    }
}
