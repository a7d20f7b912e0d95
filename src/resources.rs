//! Terraform resources. Each maps its schema and plan onto the AWS parts in `crate::aws`.

pub mod converged;
pub mod dns_failover;
pub mod regional_stack;
pub mod session_table;
pub mod shared_checks;
pub mod steps;
pub mod trading_failover;
pub mod upgrades;
