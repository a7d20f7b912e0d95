//! Terraform-facing building blocks shared by every resource: schema builders, value types that
//! survive cty's encodings, timeouts, and diagnostics.

pub mod diag;
pub mod duration;
pub mod identity;
pub mod number;
pub mod schema;
pub mod timeouts;
pub mod values;
