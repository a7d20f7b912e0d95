//! Configurations the unit tests of `tap_trading_failover` start from.

use super::schema::State;
use super::validate::validate;
use crate::tf::values;

pub fn config() -> State {
    State {
        environment_suffix: values::string("prod"),
        domain_name: values::string("trading-prod.tap-test.net"),
        ..Default::default()
    }
}

pub fn error_paths(config: &State) -> Vec<String> {
    crate::tf::diag::error_paths(validate, config)
}
