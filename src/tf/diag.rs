//! Diagnostics helpers: validation errors on attribute paths.

use tf_provider::{AttributePath, Diagnostics};

/// A plan-time validation failure on `path`, saying what is allowed.
pub fn invalid(diags: &mut Diagnostics, path: AttributePath, detail: impl Into<String>) {
    let path_text = path.to_string();
    diags.error(
        format!("Invalid value for {path_text}"),
        detail.into(),
        path,
    );
}
