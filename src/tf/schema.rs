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
