//! The `timeouts { create = "30m" ... }` block every slow resource offers.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, NestedBlock};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::duration;
use super::schema::{named, optional};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeouts {
    pub create: Value<String>,
    pub update: Value<String>,
    pub delete: Value<String>,
}

/// Defaults per operation; each resource names where its numbers come from.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutDefaults {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

#[derive(Debug, Clone, Copy)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    /// Its attribute in the `timeouts` block.
    pub fn key(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

pub fn block(defaults: TimeoutDefaults) -> NestedBlock {
    let attr = |op: &str, d: Duration| {
        optional(
            AttributeType::String,
            format!(
                "How long to wait for {op} to finish, as a Go duration (\"30m\", \"1h\"). Default {}.",
                duration::display(d)
            ),
        )
    };
    NestedBlock::Optional(Block {
        description: "Bounds on how long apply waits for AWS. A wait that runs out fails with the part and the state it was stuck in; what was created stays in state.".into(),
        attributes: named([
            ("create", attr("create", defaults.create)),
            ("update", attr("update", defaults.update)),
            ("delete", attr("delete", defaults.delete)),
]),
        ..Default::default()
    })
}

/// Plan-time check that every given duration parses.
pub fn validate(diags: &mut Diagnostics, timeouts: &Value<Timeouts>) {
    let Value::Value(t) = timeouts else { return };
    for (name, value) in [
        ("create", &t.create),
        ("update", &t.update),
        ("delete", &t.delete),
    ] {
        if let Value::Value(text) = value {
            if let Err(err) = duration::parse(text) {
                diags.error(
                    "Invalid timeout",
                    format!("timeouts.{name}: {err}."),
                    AttributePath::new("timeouts").index(0).attribute(name),
                );
            }
        }
    }
}

/// The bound for one operation: the user's value if valid, else the default.
pub fn get(timeouts: &Value<Timeouts>, op: Operation, defaults: TimeoutDefaults) -> Duration {
    let (value, default) = match (timeouts, op) {
        (Value::Value(t), Operation::Create) => (t.create.as_ref_option(), defaults.create),
        (Value::Value(t), Operation::Update) => (t.update.as_ref_option(), defaults.update),
        (Value::Value(t), Operation::Delete) => (t.delete.as_ref_option(), defaults.delete),
        (_, Operation::Create) => (None, defaults.create),
        (_, Operation::Update) => (None, defaults.update),
        (_, Operation::Delete) => (None, defaults.delete),
    };
    value
        .and_then(|text| duration::parse(text).ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: TimeoutDefaults = TimeoutDefaults {
        create: Duration::from_secs(60),
        update: Duration::from_secs(120),
        delete: Duration::from_secs(180),
    };

    #[test]
    fn user_values_override_defaults() {
        let t = Value::Value(Timeouts {
            create: Value::Value("5m".into()),
            ..Default::default()
        });
        assert_eq!(
            get(&t, Operation::Create, DEFAULTS),
            Duration::from_secs(300)
        );
        assert_eq!(
            get(&t, Operation::Delete, DEFAULTS),
            Duration::from_secs(180)
        );
        assert_eq!(
            get(&Value::Null, Operation::Update, DEFAULTS),
            Duration::from_secs(120)
        );
    }

    #[test]
    fn invalid_values_are_reported_on_their_path() {
        let t = Value::Value(Timeouts {
            delete: Value::Value("soon".into()),
            ..Default::default()
        });
        let mut diags = Diagnostics::default();
        validate(&mut diags, &t);
        assert_eq!(diags.errors.len(), 1);
        assert_eq!(diags.errors[0].attribute.to_string(), "timeouts[0].delete");
    }
}
