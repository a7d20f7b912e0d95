//! The stack's load balancer as AWS holds it: the ALB, its target group and listeners.

use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer as Alb, TargetGroup};
use aws_sdk_elasticloadbalancingv2::Client;

use super::super::desired::Desired;
use super::super::schema::State;
use crate::aws::error::{Context, PartResult};
use crate::aws::load_balancer;
use crate::naming;
use crate::tf::number::Number;
use crate::tf::values;

/// What another resource routes to the stack with (the DNS part of `tap_trading_failover`).
pub struct Routing {
    pub alb_dns_name: String,
    pub alb_zone_id: String,
    pub alb_arn: String,
    pub target_group_arn: String,
}

/// The load balancer and target group the stack routes through, when both exist: two requests,
/// not the stack's whole read-back.
pub async fn routing(elbv2: &Client, want: &Desired) -> PartResult<Option<Routing>> {
    let (alb, target_group) = LoadBalancer::find(elbv2, want).await?;
    let known = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    let (Some(alb), Some(target_group)) = (alb, target_group) else {
        return Ok(None);
    };
    Ok((|| {
        Some(Routing {
            alb_dns_name: known(alb.dns_name())?,
            alb_zone_id: known(alb.canonical_hosted_zone_id())?,
            alb_arn: known(alb.load_balancer_arn())?,
            target_group_arn: known(target_group.target_group_arn())?,
        })
    })())
}

pub struct LoadBalancer {
    alb: Option<Alb>,
    target_group: Option<TargetGroup>,
    listeners: Vec<Listener>,
}

impl LoadBalancer {
    /// The ALB and its target group, by name.
    async fn find(
        elbv2: &Client,
        want: &Desired,
    ) -> PartResult<(Option<Alb>, Option<TargetGroup>)> {
        let read = || super::action(want);
        tokio::try_join!(
            async {
                load_balancer::find_alb(elbv2, &want.name(naming::LOAD_BALANCER))
                    .await
                    .context(read)
            },
            async {
                load_balancer::find_target_group(elbv2, &want.name(naming::TARGET_GROUP))
                    .await
                    .context(read)
            },
        )
    }

    /// `recorded_alb` (the last read's ARN) lets the listeners be read beside the load
    /// balancer; they are read again if the load balancer is another.
    pub async fn read(
        elbv2: &Client,
        want: &Desired,
        recorded_alb: Option<&str>,
    ) -> PartResult<LoadBalancer> {
        let listeners_of = |arn: String| async move {
            elbv2
                .describe_listeners()
                .load_balancer_arn(&arn)
                .send()
                .await
                .context(|| super::action(want))
                .map(|out| out.listeners().to_vec())
        };
        let (found, early) = tokio::join!(Self::find(elbv2, want), async {
            match recorded_alb {
                Some(arn) => Some(listeners_of(arn.to_owned()).await),
                None => None,
            }
        });
        let (alb, target_group) = found?;
        let listeners = match (alb.as_ref().and_then(|a| a.load_balancer_arn()), early) {
            (Some(arn), Some(Ok(listeners))) if recorded_alb == Some(arn) => listeners,
            (Some(arn), _) if !arn.is_empty() => listeners_of(arn.to_owned()).await?,
            _ => Vec::new(),
        };
        Ok(LoadBalancer {
            alb,
            target_group,
            listeners,
        })
    }

    fn listener_on(&self, port: i32) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.port() == Some(port))
    }

    /// IDs, listeners, and the settings changed outside Terraform (HTTPS certificate, health
    /// check), as AWS holds them.
    pub fn record(&self, want: &Desired, state: &mut State) {
        let alb = self.alb.as_ref();
        let alb_arn = alb
            .and_then(|a| a.load_balancer_arn())
            .unwrap_or_default()
            .to_owned();
        let wanted: &[i32] = if want.certificate_arn.is_some() {
            &[80, 443]
        } else {
            &[80]
        };
        let listeners: Vec<String> = if alb_arn.is_empty() {
            Vec::new()
        } else {
            wanted
                .iter()
                .map(|p| {
                    self.listener_on(*p)
                        // A TLS policy changed out of band reads as a missing listener, which
                        // the next plan shows and apply sets back.
                        .filter(|l| load_balancer::has_wanted_tls(l))
                        .and_then(|l| l.listener_arn())
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        };
        state.alb_arn = values::string(alb_arn);
        state.alb_dns_name = values::string(alb.and_then(|a| a.dns_name()).unwrap_or_default());
        state.alb_zone_id = values::string(
            alb.and_then(|a| a.canonical_hosted_zone_id())
                .unwrap_or_default(),
        );
        let tg = self.target_group.as_ref();
        state.target_group_arn =
            values::string(tg.and_then(|t| t.target_group_arn()).unwrap_or_default());
        state.listener_arns = values::list(&listeners);
        state.certificate_arn = self
            .listener_on(443)
            .and_then(|l| l.certificates().first())
            .and_then(|c| c.certificate_arn())
            .map(str::to_owned)
            .into();
        if let Some(tg) = tg {
            let number = |n: Option<i32>| n.map(|n| Number(n as f64)).into();
            state.health_check_path = tg.health_check_path().map(str::to_owned).into();
            state.health_check_interval = number(tg.health_check_interval_seconds());
            state.health_check_timeout = number(tg.health_check_timeout_seconds());
            state.healthy_threshold = number(tg.healthy_threshold_count());
            state.unhealthy_threshold = number(tg.unhealthy_threshold_count());
        }
    }
}
