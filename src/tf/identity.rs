//! Resource identity (plugin protocol 6.9): the few string attributes that name one object in
//! AWS, kept by Terraform beside the state and accepted by `import { identity = {...} }`.
//! Every identity starts with the AWS account; a resource type adds the rest, each of which
//! maps onto its import ID.

use std::collections::BTreeMap;

use tf_provider::value::Value;

/// One string attribute of an identity.
#[derive(Clone, Copy)]
pub struct IdentityAttribute {
    pub name: &'static str,
    /// Must be given when importing by identity; otherwise it has a default.
    pub required_for_import: bool,
    pub description: &'static str,
}

pub struct IdentitySchema {
    /// The identity's own version; 0 until its attributes change.
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

/// An identity's values by attribute name; a null attribute was left out.
pub type Identity = BTreeMap<String, Value<String>>;

pub const ACCOUNT_ID: &str = "account_id";

/// The schema of a resource type whose identity is the account and `attributes`.
pub fn schema(attributes: &[IdentityAttribute]) -> IdentitySchema {
    let account = IdentityAttribute {
        name: ACCOUNT_ID,
        required_for_import: false,
        description: "AWS account ID of the object. Default: the account of the provider's credentials; importing refuses any other.",
    };
    IdentitySchema {
        version: 0,
        attributes: std::iter::once(account)
            .chain(attributes.iter().copied())
            .collect(),
    }
}

/// The attribute every resource's identity shares with its configuration.
pub const ENVIRONMENT_SUFFIX: IdentityAttribute = IdentityAttribute {
    name: "environment_suffix",
    required_for_import: true,
    description: "The `environment_suffix` the object was built with.",
};

/// The identity of values taken from a state; None while any of them is unknown.
pub fn known<'a>(values: impl IntoIterator<Item = (&'a str, Value<String>)>) -> Option<Identity> {
    values
        .into_iter()
        .map(|(name, value)| match value {
            Value::Unknown => None,
            v => Some((name.to_owned(), v)),
        })
        .collect()
}

/// The attribute `name` of an identity, when given.
pub fn get<'a>(identity: &'a Identity, name: &str) -> Option<&'a str> {
    identity
        .get(name)
        .and_then(|v| v.as_ref_option())
        .map(String::as_str)
}

/// The attribute `name`, or `default` when it was left out (a required one never is).
pub fn or<'a>(identity: &'a Identity, name: &str, default: &'a str) -> &'a str {
    get(identity, name).unwrap_or(default)
}

/// The required attributes of `schema` that `identity` leaves out.
pub fn missing(schema: &IdentitySchema, identity: &Identity) -> Vec<&'static str> {
    schema
        .attributes
        .iter()
        .filter(|a| a.required_for_import && get(identity, a.name).is_none())
        .map(|a| a.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::values::string;

    const STACK: &[IdentityAttribute] = &[IdentityAttribute {
        name: "region",
        required_for_import: true,
        description: "r",
    }];

    #[test]
    fn the_account_comes_first_and_is_optional() {
        let s = schema(STACK);
        let names: Vec<_> = s.attributes.iter().map(|a| a.name).collect();
        assert_eq!(names, [ACCOUNT_ID, "region"]);
        assert!(!s.attributes[0].required_for_import);
        assert!(s.attributes[1].required_for_import);
    }

    #[test]
    fn an_unknown_value_leaves_no_identity_and_a_null_one_is_kept() {
        assert_eq!(known([("a", string("prod")), ("b", Value::Unknown)]), None);
        let identity = known([("a", string("prod")), ("b", Value::Null)]).unwrap();
        assert_eq!(get(&identity, "a"), Some("prod"));
        assert_eq!(get(&identity, "b"), None);
        assert_eq!(or(&identity, "b", "us-east-1"), "us-east-1");
    }

    #[test]
    fn missing_names_required_attributes_left_out() {
        let s = schema(STACK);
        let empty = Identity::new();
        assert_eq!(missing(&s, &empty), ["region"]);
        let given = known([("region", string("us-east-1"))]).unwrap();
        assert!(missing(&s, &given).is_empty());
    }
}
