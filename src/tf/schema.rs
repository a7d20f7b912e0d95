//! Short constructors for schema attributes, so that every attribute states its constraint and
//! carries a real description (tf-provider's default description is the string "empty").

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};

fn attribute(t: AttributeType, constraint: AttributeConstraint, description: String) -> Attribute {
    Attribute {
        attr_type: t,
        description: Description::markdown(description),
        constraint,
        ..Default::default()
    }
}

pub fn required(t: AttributeType, description: impl Into<String>) -> Attribute {
    attribute(t, AttributeConstraint::Required, description.into())
}

pub fn optional(t: AttributeType, description: impl Into<String>) -> Attribute {
    attribute(t, AttributeConstraint::Optional, description.into())
}

/// Optional in configuration; the provider fills in the default when it is left out.
pub fn with_default(t: AttributeType, description: impl Into<String>) -> Attribute {
    attribute(t, AttributeConstraint::OptionalComputed, description.into())
}

pub fn computed(t: AttributeType, description: impl Into<String>) -> Attribute {
    attribute(t, AttributeConstraint::Computed, description.into())
}

pub fn string_list() -> AttributeType {
    AttributeType::List(Box::new(AttributeType::String))
}

pub fn string_map() -> AttributeType {
    AttributeType::Map(Box::new(AttributeType::String))
}

/// A name-keyed map for schema attributes, blocks and resource lists. (tf-provider's `map!`
/// cannot be used from outside the crate with a trailing comma.)
pub fn named<T, const N: usize>(items: [(&str, T); N]) -> std::collections::HashMap<String, T> {
    items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Test helper: a state type must serialize to exactly the schema's attributes and blocks, or
/// Terraform rejects every response.
#[cfg(test)]
pub fn assert_state_matches_schema<T: serde::Serialize + Default>(
    schema: &tf_provider::schema::Schema,
) {
    let state = serde_json::to_value(T::default()).unwrap();
    let mut fields: Vec<&String> = state.as_object().unwrap().keys().collect();
    let mut declared: Vec<&String> = schema
        .block
        .attributes
        .keys()
        .chain(schema.block.blocks.keys())
        .collect();
    fields.sort();
    declared.sort();
    assert_eq!(fields, declared);
    for (name, attribute) in &schema.block.attributes {
        let text = &attribute.description.content;
        assert!(
            !text.is_empty() && text != "empty",
            "{name} has no description"
        );
    }
}
