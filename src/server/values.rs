//! Values and diagnostics on the wire: `DynamicValue` (msgpack from Terraform, JSON for
//! upgraded state) to and from the serde types of the resources, and tf-provider's
//! diagnostics to the protocol's.

use serde::{Deserialize, Serialize};
use tf_provider::{AttributePath, AttributePathStep, Diagnostic, Diagnostics};

use super::proto::tfplugin6 as tf;

const MSGPACK_NULL: &[u8] = &[0xc0];

/// The bytes of a value and how they are encoded; an absent value is null.
enum Encoded<'a> {
    Msgpack(&'a [u8]),
    Json(&'a [u8]),
}

fn encoded(value: Option<&tf::DynamicValue>) -> Encoded<'_> {
    match value {
        Some(v) if !v.msgpack.is_empty() => Encoded::Msgpack(&v.msgpack),
        Some(v) if !v.json.is_empty() => Encoded::Json(&v.json),
        _ => Encoded::Msgpack(MSGPACK_NULL),
    }
}

pub fn is_null(value: Option<&tf::DynamicValue>) -> bool {
    match encoded(value) {
        Encoded::Msgpack(bytes) => bytes == MSGPACK_NULL,
        Encoded::Json(bytes) => bytes.trim_ascii() == b"null",
    }
}

/// Decodes `value` (the `what` of the request, for the diagnostic) into `T`.
pub fn decode<'a, T: Deserialize<'a>>(
    diags: &mut Diagnostics,
    what: &str,
    value: Option<&'a tf::DynamicValue>,
) -> Option<T> {
    let decoded = match encoded(value) {
        Encoded::Msgpack(bytes) => rmp_serde::from_slice(bytes).map_err(|e| e.to_string()),
        Encoded::Json(bytes) => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
    };
    decoded
        .map_err(|err| {
            diags.root_error(
                format!("Cannot read the {what} Terraform sent"),
                format!("The value does not match the provider's schema: {err}."),
            )
        })
        .ok()
}

/// Private state: msgpack bytes, empty meaning null.
pub fn decode_private<'a, T: Deserialize<'a>>(
    diags: &mut Diagnostics,
    bytes: &'a [u8],
) -> Option<T> {
    let bytes = if bytes.is_empty() {
        MSGPACK_NULL
    } else {
        bytes
    };
    rmp_serde::from_slice(bytes)
        .map_err(|err| {
            diags.root_error(
                "Cannot read the private state Terraform sent",
                format!("{err}."),
            )
        })
        .ok()
}

pub fn encode<T: Serialize>(diags: &mut Diagnostics, value: &T) -> Option<tf::DynamicValue> {
    Some(tf::DynamicValue {
        msgpack: encode_private(diags, value)?,
        json: Vec::new(),
    })
}

pub fn encode_private<T: Serialize>(diags: &mut Diagnostics, value: &T) -> Option<Vec<u8>> {
    rmp_serde::to_vec_named(value)
        .map_err(|err| diags.root_error("Cannot encode a value for Terraform", err.to_string()))
        .ok()
}

pub fn null() -> tf::DynamicValue {
    tf::DynamicValue {
        msgpack: MSGPACK_NULL.to_vec(),
        json: Vec::new(),
    }
}

/// `result`, or when an implementation gave up without saying why, an error that says so.
pub fn explained<T>(diags: &mut Diagnostics, result: Option<T>, what: &str) -> Option<T> {
    if result.is_none() && diags.errors.is_empty() {
        diags.root_error(
            format!("{what} failed"),
            "The provider stopped without reporting an error; this is a bug in the provider.",
        );
    }
    result
}

pub fn diagnostics(diags: Diagnostics) -> Vec<tf::Diagnostic> {
    let errors = diags
        .errors
        .into_iter()
        .map(|d| diagnostic(d, tf::diagnostic::Severity::Error));
    let warnings = diags
        .warnings
        .into_iter()
        .map(|d| diagnostic(d, tf::diagnostic::Severity::Warning));
    errors.chain(warnings).collect()
}

fn diagnostic(diag: Diagnostic, severity: tf::diagnostic::Severity) -> tf::Diagnostic {
    tf::Diagnostic {
        severity: severity as i32,
        summary: diag.summary.into_owned(),
        detail: diag.detail.into_owned(),
        attribute: attribute_path(diag.attribute),
    }
}

/// None for the root path, so that Terraform shows the diagnostic on the whole block.
pub fn attribute_path(path: AttributePath) -> Option<tf::AttributePath> {
    use tf::attribute_path::step::Selector;
    if path.steps.is_empty() {
        return None;
    }
    let steps = path
        .steps
        .into_iter()
        .map(|step| tf::attribute_path::Step {
            selector: Some(match step {
                AttributePathStep::Attribute(name) => Selector::AttributeName(name.into_owned()),
                AttributePathStep::Key(key) => Selector::ElementKeyString(key.into_owned()),
                AttributePathStep::Index(index) => Selector::ElementKeyInt(index),
            }),
        })
        .collect();
    Some(tf::AttributePath { steps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Thing {
        name: Value<String>,
        size: Value<i64>,
    }

    fn msgpack(value: &impl Serialize) -> tf::DynamicValue {
        tf::DynamicValue {
            msgpack: rmp_serde::to_vec_named(value).unwrap(),
            json: Vec::new(),
        }
    }

    #[test]
    fn msgpack_and_json_decode_alike() {
        let mut diags = Diagnostics::default();
        let want = Thing {
            name: Value::Value("a".into()),
            size: Value::Null,
        };
        let wire = msgpack(&want);
        assert_eq!(
            decode::<Thing>(&mut diags, "state", Some(&wire)),
            Some(want)
        );
        let json = tf::DynamicValue {
            msgpack: Vec::new(),
            json: br#"{"name":"b","size":3}"#.to_vec(),
        };
        let got: Thing = decode(&mut diags, "state", Some(&json)).unwrap();
        assert_eq!(got.size, Value::Value(3));
        assert!(diags.errors.is_empty());
    }

    #[test]
    fn absent_and_null_values_are_null() {
        assert!(is_null(None));
        assert!(is_null(Some(&null())));
        assert!(is_null(Some(&tf::DynamicValue {
            msgpack: Vec::new(),
            json: b"null".to_vec()
        })));
        assert!(!is_null(Some(&msgpack(&1))));
    }

    #[test]
    fn a_value_of_the_wrong_shape_is_an_error_diagnostic() {
        let mut diags = Diagnostics::default();
        let wire = msgpack(&vec![1, 2]);
        assert_eq!(
            decode::<Thing>(&mut diags, "planned state", Some(&wire)),
            None
        );
        assert_eq!(diags.errors.len(), 1);
        assert!(diags.errors[0].summary.contains("planned state"));
    }

    #[test]
    fn unknown_values_round_trip() {
        let mut diags = Diagnostics::default();
        let planned = Thing {
            name: Value::Unknown,
            size: Value::Value(2),
        };
        let wire = encode(&mut diags, &planned).unwrap();
        assert_eq!(
            decode::<Thing>(&mut diags, "state", Some(&wire)),
            Some(planned)
        );
    }

    #[test]
    fn diagnostics_keep_severity_and_path() {
        let mut diags = Diagnostics::default();
        diags.error("bad", "why", AttributePath::new("a").index(1).key("k"));
        diags.root_warning("careful", "");
        let wire = diagnostics(diags);
        assert_eq!(wire[0].severity, tf::diagnostic::Severity::Error as i32);
        assert_eq!(wire[0].attribute.as_ref().unwrap().steps.len(), 3);
        assert_eq!(wire[1].severity, tf::diagnostic::Severity::Warning as i32);
        assert!(wire[1].attribute.is_none());
    }
}
