//! AWS-facing code: clients, errors, retries, waiters, and one module per AWS part. Nothing in
//! here knows about Terraform types.

/// The per-call configuration of a create sent through `retry::create_once`: the SDK's retries
/// off, for the service crate named (`no_retries!(aws_sdk_ec2)`).
macro_rules! no_retries {
    ($service:ident) => {
        $service::config::Builder::default()
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
    };
}

pub mod alarms;
pub mod auto_scaling;
pub mod clients;
pub mod ec2;
pub mod error;
pub mod failover_switch;
pub mod health_check;
pub mod hosted_zone;
pub mod identity;
pub mod instance_role;
pub mod launch_template;
pub mod load_balancer;
pub mod metrics;
pub mod nat;
pub mod network;
pub mod owned;
pub mod retry;
pub mod route53;
pub mod security_groups;
pub mod session_table;
pub mod switch_checks;
pub mod topic_key;
pub mod topics;
pub mod wait;
pub mod weighted_records;
