//! Terraform data sources.

pub mod failover_readiness;
