//! GenerateResourceConfig (protocol 6.10): the configuration `terraform plan
//! -generate-config-out` writes for an imported object. Terraform's own fallback copies every
//! optional value from state; a value the provider chose itself (a role it made, say) would then
//! read as the user's, so each resource first clears those (`Importable::config_from_state`),
//! and read-only attributes are removed here, by the schema.

use serde_json::Value;
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, NestedBlock};

/// How a nested block or nested attribute holds its objects.
enum Nesting {
    One,
    Many,
    Map,
}

/// `state` (a JSON object of `block`'s type) with every read-only attribute null.
pub fn without_read_only(block: &Block, state: &mut Value) {
    let Value::Object(fields) = state else { return };
    for (name, attribute) in &block.attributes {
        let Some(value) = fields.get_mut(name) else {
            continue;
        };
        if matches!(attribute.constraint, AttributeConstraint::Computed) {
            *value = Value::Null;
        } else if let Some((nesting, nested)) = nested_attributes(&attribute.attr_type) {
            each_object(value, nesting, |object| without_read_only(&nested, object));
        }
    }
    for (name, nested) in &block.blocks {
        let Some(value) = fields.get_mut(name) else {
            continue;
        };
        let (nesting, inner) = match nested {
            NestedBlock::Single(b) | NestedBlock::Group(b) => (Nesting::One, b),
            NestedBlock::List(b) | NestedBlock::Set(b) | NestedBlock::Optional(b) => {
                (Nesting::Many, b)
            }
            NestedBlock::Map(b) => (Nesting::Map, b),
        };
        each_object(value, nesting, |object| without_read_only(inner, object));
    }
}

/// Nested attributes (protocol 6) as a block, to be walked the same way.
fn nested_attributes(t: &AttributeType) -> Option<(Nesting, Block)> {
    let (nesting, attributes) = match t {
        AttributeType::AttributeSingle(a) => (Nesting::One, a),
        AttributeType::AttributeList(a) | AttributeType::AttributeSet(a) => (Nesting::Many, a),
        AttributeType::AttributeMap(a) => (Nesting::Map, a),
        _ => return None,
    };
    let block = Block {
        attributes: attributes.clone(),
        ..Default::default()
    };
    Some((nesting, block))
}

fn each_object(value: &mut Value, nesting: Nesting, mut f: impl FnMut(&mut Value)) {
    match (nesting, value) {
        (Nesting::One, object) => f(object),
        (Nesting::Many, Value::Array(items)) => items.iter_mut().for_each(f),
        (Nesting::Map, Value::Object(fields)) => fields.values_mut().for_each(f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::schema::{computed, named, optional};
    use serde_json::json;

    #[test]
    fn read_only_attributes_are_cleared_at_every_depth() {
        let inner = Block {
            attributes: named([
                ("region", optional(AttributeType::String, "r")),
                ("vpc_id", computed(AttributeType::String, "v")),
            ]),
            ..Default::default()
        };
        let block = Block {
            attributes: named([
                ("name", optional(AttributeType::String, "n")),
                ("arn", computed(AttributeType::String, "a")),
            ]),
            blocks: named([
                ("primary", NestedBlock::Optional(inner.clone())),
                ("zones", NestedBlock::Map(inner)),
            ]),
            ..Default::default()
        };
        let mut state = json!({
            "name": "n", "arn": "arn:x",
            "primary": [{"region": "us-east-1", "vpc_id": "vpc-1"}],
            "zones": {"a": {"region": "us-east-2", "vpc_id": "vpc-2"}},
        });
        without_read_only(&block, &mut state);
        assert_eq!(
            state,
            json!({
                "name": "n", "arn": null,
                "primary": [{"region": "us-east-1", "vpc_id": null}],
                "zones": {"a": {"region": "us-east-2", "vpc_id": null}},
            })
        );
    }
}
