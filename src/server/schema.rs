//! tf-provider's schema types, and our identity schemas, in the protocol's shape.

use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
    StringKind,
};

use super::proto::tfplugin6 as tf;
use crate::tf::identity::IdentitySchema;

pub fn schema(schema: &Schema) -> tf::Schema {
    tf::Schema {
        version: schema.version,
        block: Some(block(&schema.block)),
    }
}

/// Identity attributes are strings; an attribute is either required or optional for import.
pub fn identity_schema(identity: &IdentitySchema) -> tf::ResourceIdentitySchema {
    let identity_attributes = (identity.attributes.iter())
        .map(|a| tf::resource_identity_schema::IdentityAttribute {
            name: a.name.to_owned(),
            r#type: AttributeType::String.to_string().into_bytes(),
            required_for_import: a.required_for_import,
            optional_for_import: !a.required_for_import,
            description: a.description.to_owned(),
        })
        .collect();
    tf::ResourceIdentitySchema {
        version: identity.version,
        identity_attributes,
    }
}

fn kind(description: &Description) -> i32 {
    match description.kind {
        StringKind::Plain => tf::StringKind::Plain as i32,
        StringKind::Markdown => tf::StringKind::Markdown as i32,
    }
}

fn block(block: &Block) -> tf::schema::Block {
    let mut attributes: Vec<_> = block
        .attributes
        .iter()
        .map(|(name, a)| attribute(name, a))
        .collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut block_types: Vec<_> = block
        .blocks
        .iter()
        .map(|(name, b)| nested_block(name, b))
        .collect();
    block_types.sort_by(|a, b| a.type_name.cmp(&b.type_name));
    tf::schema::Block {
        version: block.version,
        attributes,
        block_types,
        description: block.description.content.clone(),
        description_kind: kind(&block.description),
        deprecated: block.deprecated,
        deprecation_message: String::new(),
    }
}

/// Nesting and item bounds; 0 means unbounded. `Optional` is a list of at most one: Terraform
/// makes a single block with `min_items = 1` required.
fn nested_block(name: &str, nested: &NestedBlock) -> tf::schema::NestedBlock {
    use tf::schema::nested_block::NestingMode;
    let (nesting, inner, min_items, max_items) = match nested {
        NestedBlock::Single(b) => (NestingMode::Single, b, 1, 1),
        NestedBlock::List(b) => (NestingMode::List, b, 0, 0),
        NestedBlock::Set(b) => (NestingMode::Set, b, 0, 0),
        NestedBlock::Map(b) => (NestingMode::Map, b, 0, 0),
        NestedBlock::Group(b) => (NestingMode::Group, b, 0, 0),
        NestedBlock::Optional(b) => (NestingMode::List, b, 0, 1),
    };
    tf::schema::NestedBlock {
        type_name: name.to_owned(),
        block: Some(block(inner)),
        nesting: nesting as i32,
        min_items,
        max_items,
    }
}

fn attribute(name: &str, attribute: &Attribute) -> tf::schema::Attribute {
    use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
    let c = &attribute.constraint;
    let nested_type = nested_attributes(&attribute.attr_type);
    tf::schema::Attribute {
        name: name.to_owned(),
        // Nested attributes carry their type in `nested_type` alone.
        r#type: if nested_type.is_some() {
            Vec::new()
        } else {
            attribute.attr_type.to_string().into_bytes()
        },
        nested_type,
        description: attribute.description.content.clone(),
        required: matches!(c, Required),
        optional: matches!(c, Optional | OptionalComputed),
        computed: matches!(c, Computed | OptionalComputed),
        sensitive: attribute.sensitive,
        description_kind: kind(&attribute.description),
        deprecated: attribute.deprecated,
        write_only: false,
        deprecation_message: String::new(),
    }
}

fn nested_attributes(t: &AttributeType) -> Option<tf::schema::Object> {
    use tf::schema::object::NestingMode;
    let (nesting, attributes) = match t {
        AttributeType::AttributeSingle(a) => (NestingMode::Single, a),
        AttributeType::AttributeList(a) => (NestingMode::List, a),
        AttributeType::AttributeSet(a) => (NestingMode::Set, a),
        AttributeType::AttributeMap(a) => (NestingMode::Map, a),
        _ => return None,
    };
    let mut attributes: Vec<_> = attributes
        .iter()
        .map(|(name, a)| attribute(name, a))
        .collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    Some(tf::schema::Object {
        attributes,
        nesting: nesting as i32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::schema::{named, optional, required};

    #[test]
    fn attributes_blocks_and_bounds() {
        let inner = Block {
            attributes: named([("create", optional(AttributeType::String, "c"))]),
            ..Default::default()
        };
        let s = Schema {
            version: 2,
            block: Block {
                attributes: named([
                    ("name", required(AttributeType::String, "n")),
                    (
                        "tags",
                        optional(AttributeType::Map(Box::new(AttributeType::String)), "t"),
                    ),
                ]),
                blocks: named([
                    ("timeouts", NestedBlock::Optional(inner.clone())),
                    ("rule", NestedBlock::List(inner)),
                ]),
                ..Default::default()
            },
        };
        let wire = schema(&s);
        assert_eq!(wire.version, 2);
        let b = wire.block.unwrap();
        assert_eq!(b.attributes[0].name, "name");
        assert!(b.attributes[0].required && !b.attributes[0].computed);
        assert_eq!(b.attributes[0].r#type, br#""string""#);
        assert_eq!(b.attributes[1].r#type, br#"["map","string"]"#);
        assert!(b.attributes[1].optional);
        let (rule, timeouts) = (&b.block_types[0], &b.block_types[1]);
        assert_eq!((rule.type_name.as_str(), rule.max_items), ("rule", 0));
        assert_eq!((timeouts.min_items, timeouts.max_items), (0, 1));
    }

    #[test]
    fn identity_attributes_are_strings_required_or_optional_for_import() {
        use crate::tf::identity::{self, IdentityAttribute};
        let wire = identity_schema(&identity::schema(&[IdentityAttribute {
            name: "environment_suffix",
            required_for_import: true,
            description: "d",
        }]));
        assert_eq!(wire.version, 0);
        let [account, suffix] = &wire.identity_attributes[..] else {
            panic!("{wire:?}")
        };
        assert_eq!(account.name, "account_id");
        assert!(account.optional_for_import && !account.required_for_import);
        assert_eq!(suffix.r#type, br#""string""#);
        assert!(suffix.required_for_import && !suffix.optional_for_import);
    }
}
