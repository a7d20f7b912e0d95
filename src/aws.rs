//! AWS-facing code: clients, errors, retries, waiters, and one module per AWS part. Nothing in
//! here knows about Terraform types.
//!
//! Conventions every module follows:
//! - **Verbs.** `find…` reads one object by name, tags or ID (`find_by_id`, `find_by_arn` when
//!   the caller holds the AWS identifier) and answers `Result<Option<T>, AwsError>`: `None` is
//!   "does not exist", never an error. `ensure` creates or adopts and converges; `delete`
//!   removes and succeeds when the object is already gone. Mutators answer `PartResult<T>`, with
//!   the verb and part already in the error ("creating ALB alb-primary-prod: <code>: <message>");
//!   finders answer the bare `AwsError` and the caller adds the context it knows.
//! - **Not found** is decided in one place, [`error::AwsError::is_not_found`], checked before any
//!   other error; [`error::ignore_not_found`] makes a delete idempotent.
//! - **Retries** name the codes they retry (`retry::on_codes`, `retry::when`,
//!   `retry::until_created` for an ID a create has just returned); nothing retries "any error".
//!   They take any error convertible to [`error::AwsError`], so an SDK call goes in as it is.
//! - **Creates without a client token** go through `retry::create_once`, sent with
//!   `send_once!` (the SDK's retries off), so a lost answer is looked for before a second try.

/// Sends a create through `retry::create_once` once: the SDK's retries off, for the service crate
/// named (`send_once!(request, aws_sdk_ec2)`), because a create without a client token retried
/// after a lost answer makes a second object.
macro_rules! send_once {
    ($request:expr, $service:ident) => {
        $request
            .customize()
            .config_override(
                $service::config::Builder::default()
                    .retry_config(aws_smithy_types::retry::RetryConfig::disabled()),
            )
            .send()
    };
}

pub mod alarms;
pub mod auto_scaling;
pub mod certificate;
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
pub mod standby_chain;
pub mod switch_checks;
pub mod switch_drill;
pub mod switch_throw;
pub mod topic_key;
pub mod topics;
pub mod validation_record;
pub mod wait;
pub mod weighted_records;
