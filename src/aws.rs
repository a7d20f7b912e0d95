//! AWS-facing code: clients, errors, retries, waiters, and one module per AWS part. Nothing in
//! here knows about Terraform types.

pub mod clients;
pub mod error;
pub mod retry;
pub mod session_table;
pub mod wait;
