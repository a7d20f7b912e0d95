//! Diagnostics helpers: validation errors on attribute paths.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use super::number::Number;

/// A plan-time validation failure on `path`, saying what is allowed.
pub fn invalid(diags: &mut Diagnostics, path: AttributePath, detail: impl Into<String>) {
    let path_text = path.to_string();
    diags.error(
        format!("Invalid value for {path_text}"),
        detail.into(),
        path,
    );
}

/// A whole number in `range`, or an error on `path` saying so.
pub fn whole_in_range(
    diags: &mut Diagnostics,
    value: &Value<Number>,
    path: AttributePath,
    range: std::ops::RangeInclusive<i64>,
) {
    if let Value::Value(n) = value {
        if !n.as_i64().is_some_and(|v| range.contains(&v)) {
            let detail = format!(
                "{path} must be a whole number from {} to {}, not {}.",
                range.start(),
                range.end(),
                n.0
            );
            invalid(diags, path, detail);
        }
    }
}

/// Test helper: the attribute paths of the errors `validate` reports for `config`.
#[cfg(test)]
pub fn error_paths<S>(validate: fn(&mut Diagnostics, &S), config: &S) -> Vec<String> {
    let mut diags = Diagnostics::default();
    validate(&mut diags, config);
    diags
        .errors
        .iter()
        .map(|d| d.attribute.to_string())
        .collect()
}
