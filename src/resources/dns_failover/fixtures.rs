//! Configurations the unit tests of `tap_dns_failover` start from.

use tf_provider::value::Value;

use super::desired::TopicArns;
use super::schema::{one_standby, Endpoint, HealthCheck, State};
use super::validate::validate;
use crate::tf::values;

pub fn endpoint(region: &str, role: &str) -> Value<Endpoint> {
    Value::Value(Endpoint {
        region: values::string(region),
        alb_dns_name: values::string(format!("alb-{role}-1.{region}.elb.amazonaws.com")),
        alb_zone_id: values::string("Z35SXDOTRQ7X7K"),
        alb_arn: values::string(format!(
            "arn:aws:elasticloadbalancing:{region}:1:loadbalancer/app/alb-{role}/abc"
        )),
        target_group_arn: values::string(format!(
            "arn:aws:elasticloadbalancing:{region}:1:targetgroup/tg-{role}/def"
        )),
        kms_key_arn: Value::Null,
    })
}

pub fn config() -> State {
    State {
        environment_suffix: values::string("prod"),
        domain_name: values::string("trading-prod.tap-test.net"),
        primary: endpoint("us-east-1", "primary"),
        standby: one_standby(endpoint("us-east-2", "standby")),
        health_check: Value::Value(HealthCheck::default()),
        ..Default::default()
    }
}

pub fn arns() -> TopicArns {
    TopicArns {
        primary: "p".into(),
        standbys: vec!["s".into()],
        health_check: None,
    }
}

pub fn error_paths(config: &State) -> Vec<String> {
    crate::tf::diag::error_paths(validate, config)
}

pub fn applied(planned: &State) -> State {
    let mut state = planned.clone();
    state.zone_id = values::string("Z1");
    state.name_servers = values::list(&["ns-1".into()]);
    state.health_check_id = values::string("hc-1");
    state.switch_health_check_id = values::string("sc-1");
    state.record_health_check_id = values::string("rc-1");
    state.primary_topic_arn =
        values::string("arn:aws:sns:us-east-1:1:primary-failover-notifications-prod");
    state.standby_topic_arn =
        values::string("arn:aws:sns:us-east-2:1:standby-failover-notifications-prod");
    state
}
