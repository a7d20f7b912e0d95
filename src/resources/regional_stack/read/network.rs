//! The stack's network as AWS holds it: VPC, subnets, internet gateway, NAT gateways and the
//! routes through them, security groups.

use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
use aws_sdk_ec2::types::{NatGateway, Tag, Vpc, VpcAttributeName};
use aws_sdk_ec2::Client;

use super::super::apply::{health_check_port, open_to_all};
use super::super::desired::Desired;
use super::super::schema::State;
use crate::aws::ec2::{filter, tag_value, Owner};
use crate::aws::error::{Context, PartResult};
use crate::aws::network;
use crate::aws::security_groups::{self, Source};
use crate::naming;
use crate::role::NatMode;
use crate::tags::PART_KEY;
use crate::tf::number::Number;
use crate::tf::values;

pub struct Network {
    vpc: Vpc,
    subnets: DescribeSubnetsOutput,
    nats: DescribeNatGatewaysOutput,
    groups: DescribeSecurityGroupsOutput,
    route_tables: DescribeRouteTablesOutput,
    /// DNS resolution and DNS hostnames both on, as the apply sets them.
    dns_on: bool,
}

/// The stack part an EC2 object is, by its tags; `None` when the stack does not own it.
fn part_of(owner: &Owner, tags: &[Tag]) -> Option<String> {
    owner
        .is_member(tags)
        .then(|| tag_value(tags, PART_KEY).map(str::to_owned))
        .flatten()
}

fn live_nat(n: &&NatGateway) -> bool {
    n.state()
        .is_some_and(|s| s.as_str() == "available" || s.as_str() == "pending")
}

/// What the VPC holds that the stack reads: subnets, NAT gateways, security groups, route
/// tables; and whether its DNS attributes are on.
type Contents = (
    DescribeSubnetsOutput,
    DescribeNatGatewaysOutput,
    DescribeSecurityGroupsOutput,
    DescribeRouteTablesOutput,
    bool,
);

impl Network {
    /// `None` when the VPC is gone. `recorded_vpc` (the last read's VPC ID) lets the VPC's
    /// contents be read beside the VPC itself; they are read again if the VPC is another.
    pub async fn read(
        ec2: &Client,
        want: &Desired,
        recorded_vpc: Option<&str>,
    ) -> PartResult<Option<Network>> {
        let read = || super::action(want);
        let owner = want.owner_tags();
        let (vpc, early) = tokio::join!(network::find_vpc(ec2, &owner), async {
            match recorded_vpc {
                Some(id) => Some(Self::contents(ec2, want, id).await),
                None => None,
            }
        });
        let Some(vpc) = vpc.context(read)? else {
            return Ok(None);
        };
        let vpc_id = vpc.vpc_id().unwrap_or_default();
        let (subnets, nats, groups, route_tables, dns_on) = match early {
            Some(Ok(contents)) if recorded_vpc == Some(vpc_id) => contents,
            _ => Self::contents(ec2, want, vpc_id).await?,
        };
        Ok(Some(Network {
            vpc,
            subnets,
            nats,
            groups,
            route_tables,
            dns_on,
        }))
    }

    async fn contents(ec2: &Client, want: &Desired, vpc_id: &str) -> PartResult<Contents> {
        let read = || super::action(want);
        let in_vpc = || filter("vpc-id", vpc_id);
        // DescribeVpcAttribute answers one attribute per call (EC2 API reference).
        let dns_attribute = |attribute: VpcAttributeName| async move {
            let out = ec2
                .describe_vpc_attribute()
                .vpc_id(vpc_id)
                .attribute(attribute)
                .send()
                .await
                .context(read)?;
            let value = out.enable_dns_support().or(out.enable_dns_hostnames());
            PartResult::Ok(value.and_then(|v| v.value()) == Some(true))
        };
        tokio::try_join!(
            async {
                ec2.describe_subnets()
                    .filters(in_vpc())
                    .send()
                    .await
                    .context(read)
            },
            async {
                ec2.describe_nat_gateways()
                    .filter(in_vpc())
                    .send()
                    .await
                    .context(read)
            },
            async {
                ec2.describe_security_groups()
                    .filters(in_vpc())
                    .send()
                    .await
                    .context(read)
            },
            async {
                ec2.describe_route_tables()
                    .filters(in_vpc())
                    .send()
                    .await
                    .context(read)
            },
            async {
                let (support, hostnames) = tokio::try_join!(
                    dns_attribute(VpcAttributeName::EnableDnsSupport),
                    dns_attribute(VpcAttributeName::EnableDnsHostnames),
                )?;
                Ok(support && hostnames)
            },
        )
    }

    /// IDs, CIDRs, zones, and the settings changed outside Terraform (ingress of both security
    /// groups, NAT mode, the VPC's DNS attributes), as AWS holds them; the VPC's tags.
    pub fn record(&self, want: &Desired, state: &mut State) {
        let owner = want.owner_tags();
        let part_of = |tags: &[Tag]| part_of(&owner, tags);
        let subnets = self.subnets.subnets();
        let subnet_ids = |kind: &str, count: usize| -> Vec<String> {
            (1..=count)
                .map(|i| {
                    let part = naming::subnet_part(kind, i);
                    subnets
                        .iter()
                        .find(|s| part_of(s.tags()).as_deref() == Some(part.as_str()))
                        .and_then(|s| s.subnet_id())
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        };
        let public = subnet_ids("public", want.public_subnets.len());
        let private = subnet_ids("private", want.private_subnets.len());
        // The CIDRs AWS holds (what import needs); a missing subnet keeps the planned list, so
        // its rebuild is an update, not a replacement.
        let cidrs_of = |ids: &[String]| -> Option<Vec<String>> {
            ids.iter()
                .map(|id| {
                    subnets
                        .iter()
                        .find(|s| !id.is_empty() && s.subnet_id() == Some(id.as_str()))
                        .and_then(|s| s.cidr_block())
                        .map(str::to_owned)
                })
                .collect()
        };
        let zones: Vec<String> = public
            .iter()
            .map(|id| {
                subnets
                    .iter()
                    .find(|s| s.subnet_id() == Some(id.as_str()))
                    .and_then(|s| s.availability_zone())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        let route_tables = self.route_tables.route_tables();
        // Whether the route table `part` sends 0.0.0.0/0 to `target`, and the route works: a
        // route deleted or left without its target (blackhole) is drift of the target's part.
        let default_route_to = |part: &str, target: &str| {
            route_tables
                .iter()
                .filter(|t| part_of(t.tags()).as_deref() == Some(part))
                .flat_map(|t| t.routes())
                .any(|r| {
                    r.destination_cidr_block() == Some("0.0.0.0/0")
                        && r.state() == Some(&aws_sdk_ec2::types::RouteState::Active)
                        && (r.gateway_id() == Some(target) || r.nat_gateway_id() == Some(target))
                })
        };
        // A VPC has at most one internet gateway; a public default route that works (active,
        // not blackhole) means it exists and is attached, so the route tells both.
        let igw = route_tables
            .iter()
            .filter(|t| part_of(t.tags()).as_deref() == Some(naming::PUBLIC_ROUTE_TABLE))
            .flat_map(|t| t.routes())
            .filter_map(|r| r.gateway_id())
            .find(|id| id.starts_with("igw-") && default_route_to(naming::PUBLIC_ROUTE_TABLE, id))
            .unwrap_or_default();
        let nats = self.nats.nat_gateways();
        let ours_live = nats
            .iter()
            .filter(live_nat)
            .filter(|n| {
                part_of(n.tags())
                    .and_then(|p| naming::part_number(&p, naming::NAT_GATEWAY))
                    .is_some()
            })
            .count();
        // As many IDs as wanted or found, whichever is more; a missing one is an empty ID.
        let nat_count = want.nat_mode.gateways(public.len()).max(ours_live);
        let mut nat_ids: Vec<String> = (1..=nat_count)
            .map(|i| {
                let part = naming::numbered_part(naming::NAT_GATEWAY, i);
                nats.iter()
                    .filter(live_nat)
                    .find(|n| part_of(n.tags()).as_deref() == Some(part.as_str()))
                    .and_then(|n| n.nat_gateway_id())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        // One NAT serves every private route table, or each its own zone's.
        for i in 0..private.len() {
            let serving = if nat_ids.len() == 1 { 0 } else { i };
            if let Some(id) = nat_ids.get_mut(serving) {
                if !id.is_empty()
                    && !default_route_to(
                        &naming::numbered_part(naming::PRIVATE_ROUTE_TABLE, i + 1),
                        id,
                    )
                {
                    id.clear();
                }
            }
        }
        self.record_security_groups(want, state);
        let zone_count = want.public_subnets.len();
        state.nat_mode = match ours_live {
            0 => values::string(NatMode::None.as_str()),
            n if n == zone_count && n > 1 => values::string(NatMode::PerAz.as_str()),
            1 if zone_count > 1 => values::string(NatMode::Single.as_str()),
            // One zone: single and per_az look alike; keep what was configured.
            _ => state.nat_mode.clone(),
        };
        let all_tags = crate::aws::ec2::tag_map(self.vpc.tags());
        // DNS resolution turned off outside Terraform leaves the instances unable to resolve
        // DynamoDB's endpoint (ModifyVpcAttribute, `EnableDnsSupport`: "If disabled, the Amazon
        // provided DNS service ... is not enabled"): drift of the VPC, which the next apply
        // turns on again.
        state.vpc_id = values::string(match self.dns_on {
            true => self.vpc.vpc_id().unwrap_or_default(),
            false => "",
        });
        state.vpc_cidr = self.vpc.cidr_block().map(str::to_owned).into();
        state.availability_zones = values::list(&zones);
        state.public_subnet_ids = values::list(&public);
        state.private_subnet_ids = values::list(&private);
        if let Some(cidrs) = cidrs_of(&public) {
            state.public_subnets = values::list(&cidrs);
        }
        if let Some(cidrs) = cidrs_of(&private) {
            state.private_subnets = values::list(&cidrs);
        }
        state.internet_gateway_id = values::string(igw);
        state.nat_gateway_ids = values::list(&nat_ids);
        if let Some(environment) = all_tags.get("Environment") {
            state.environment = values::string(environment.clone());
        }
        state.tags_all = values::map(&all_tags);
    }

    /// Both groups' IDs, and the ingress AWS holds: the allowed CIDRs, the application port,
    /// and the health checkers' rule.
    fn record_security_groups(&self, want: &Desired, state: &mut State) {
        let owner = want.owner_tags();
        let group = |part: &str| {
            self.groups
                .security_groups()
                .iter()
                .find(|g| part_of(&owner, g.tags()).as_deref() == Some(part))
        };
        let id = |part: &str| {
            group(part)
                .and_then(|g| g.group_id())
                .unwrap_or_default()
                .to_owned()
        };
        let rules = |part: &str| group(part).map(security_groups::rules_of);
        if let Some(alb_rules) = rules(naming::ALB_SECURITY_GROUP) {
            let cidrs: Vec<String> = alb_rules
                .iter()
                .filter_map(|(port, source)| match source {
                    Source::Cidr(cidr) if *port == 80 => Some(cidr.clone()),
                    _ => None,
                })
                .collect();
            let mut wanted = want.allowed_cidrs.clone();
            wanted.sort();
            // Same set: keep the configuration's order, so no diff appears from ordering alone.
            if cidrs != wanted {
                state.allowed_cidrs = values::list(&cidrs);
            }
        }
        if let Some(port) =
            rules(naming::INSTANCE_SECURITY_GROUP).and_then(|r| r.iter().next().map(|(p, _)| *p))
        {
            state.app_port = tf_provider::value::Value::Value(Number(port as f64));
        }
        // The health checkers' rule missing (or left after the CIDRs opened to all) is drift of
        // the load balancer's group, which the next apply repairs.
        let checker_ports: Vec<i32> = rules(naming::ALB_SECURITY_GROUP)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(port, source)| matches!(source, Source::PrefixList(_)).then_some(port))
            .collect();
        let wanted_ports = if open_to_all(want) {
            Vec::new()
        } else {
            vec![health_check_port(want)]
        };
        state.alb_security_group_id = values::string(if checker_ports == wanted_ports {
            id(naming::ALB_SECURITY_GROUP)
        } else {
            String::new()
        });
        state.instance_security_group_id = values::string(id(naming::INSTANCE_SECURITY_GROUP));
    }
}
