//! Configurations the unit tests of `tap_session_table` start from.

use super::schema::State;
use super::validate::validate;
use crate::tf::values;

pub fn config(suffix: &str) -> State {
    State {
        environment_suffix: values::string(suffix),
        ..Default::default()
    }
}

pub fn error_paths(config: &State) -> Vec<String> {
    crate::tf::diag::error_paths(validate, config)
}
