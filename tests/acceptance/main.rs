//! Acceptance tests: real Terraform, the freshly built provider, and a private local AWS per
//! test. Every assertion on what was built reads the emulator through the AWS SDK.

mod actions;
mod deployer_policy;
mod dns_failover;
mod earlier_provider;
mod examples;
mod failover_readiness;
mod failover_switch;
mod handshake;
mod identity;
mod list_resources;
mod local_aws;
mod local_aws_mrsc;
mod local_aws_rules;
mod provider;
mod regional_stack;
mod registry;
mod release;
mod reliability;
mod session_table;
mod stop;
mod support;
mod trading_failover;
mod upgrade;
