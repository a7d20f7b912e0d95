//! Configurations the unit tests of `tap_regional_stack` start from.

use tf_provider::value::Value;

use super::schema::State;
use crate::tf::values;

pub fn config(role: Option<&str>) -> State {
    State {
        environment_suffix: values::string("acc"),
        role: role.map_or(Value::Null, values::string),
        ..Default::default()
    }
}
