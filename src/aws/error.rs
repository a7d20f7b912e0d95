//! AWS errors reduced to what users and retry rules need: the AWS error code and message, and the
//! part and verb that failed ("creating DynamoDB table trading-sessions-prod: <code>: <message>").

use std::fmt;
use std::time::Duration;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::ErrorMetadata;

use crate::tf::duration;

/// One failed AWS call.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn is_any(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// This error from a call to `region`, explained when it is how a region the account has not
    /// enabled answers: as if the credentials were bad. "Regions launched after March 20, 2019 are
    /// disabled by default" and must be enabled first
    /// (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
    pub fn in_region(self, region: &str) -> AwsError {
        if !self.is_region_refused() || self.message.contains(REFUSED_BY) {
            return self;
        }
        AwsError {
            message: format!(
                "{} {} If they work in other regions, the account has not enabled {region}: opt-in regions (af-south-1, ap-east-1, me-south-1 and every region launched since March 2019) must be enabled before use, in the AWS console under Account > AWS Regions or with `aws account enable-region --region-name {region}`, which takes minutes to hours. Temporary credentials from the global STS endpoint are refused there too unless the account's global endpoint tokens are valid in all regions.)",
                self.message,
                refused_by(region)
            ),
            code: self.code,
        }
    }
}

/// How `AwsError::in_region` names the region that refused, and `PartError::refused_by` finds it.
fn refused_by(region: &str) -> String {
    format!("({region}{REFUSED_BY}")
}

/// What every explained refusal says after the region's name: explained once, for one region.
const REFUSED_BY: &str = " refused the credentials.";

impl AwsError {
    /// Whether this is how a region answers credentials it does not accept, as one the account
    /// has not enabled answers every request (`REGION_REFUSED`).
    pub fn is_region_refused(&self) -> bool {
        self.is_any(&REGION_REFUSED)
    }

    /// Whether the object the call names does not exist: the one not-found test of every finder
    /// (`None`) and every delete (already gone is done), checked before any other error.
    pub fn is_not_found(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.ends_with(".NotFound") || NOT_FOUND.contains(&c))
    }
}

/// Each service's code for an object that does not exist, beside EC2's `<Kind>.NotFound`.
const NOT_FOUND: [&str; 12] = [
    "NatGatewayNotFound",
    "InvalidLaunchTemplateName.NotFoundException",
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
    "NoSuchEntity",
    "NoSuchHostedZone",
    "NoSuchHealthCheck",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    // DynamoDB's continuous-backups calls (API_DescribeContinuousBackups, Errors).
    "TableNotFoundException",
];

/// The answer of a call, or `None` when the object it names does not exist.
pub fn found<T, E>(result: Result<T, E>) -> Result<Option<T>, AwsError>
where
    AwsError: From<E>,
{
    match result.map_err(AwsError::from) {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Success for a call whose object is already gone.
pub fn ignore_not_found<T, E>(result: Result<T, E>) -> Result<(), AwsError>
where
    AwsError: From<E>,
{
    match result.map_err(AwsError::from) {
        Ok(_) => Ok(()),
        Err(err) if err.is_not_found() => Ok(()),
        Err(err) => Err(err),
    }
}

/// What a region the account has not enabled answers to credentials valid elsewhere: EC2's
/// `AuthFailure` ("AWS was not able to validate the provided access credentials"), the JSON
/// services' `UnrecognizedClientException` and the Query services' `InvalidClientTokenId` ("The
/// security token included in the request is invalid.").
const REGION_REFUSED: [&str; 3] = [
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
];

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl<E> From<SdkError<E, HttpResponse>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        let code = err.code().map(str::to_owned);
        let message = match (&code, err.message(), &err) {
            (Some(_), Some(message), _) => message.to_owned(),
            // An answer that is not an AWS error (an HTML 500 from a proxy or an emulator).
            (None, _, SdkError::ServiceError(service)) => format!(
                "HTTP {} without an AWS error in the body",
                service.raw().status().as_u16()
            ),
            // Transport failures and timeouts: keep the chain ("connection refused").
            _ => chain(&err),
        };
        let message = match &code {
            Some(code) if ACCESS_DENIED.contains(&code.as_str()) => {
                format!(
                    "{message} {}",
                    missing_permission(std::any::type_name::<E>())
                )
            }
            _ => message,
        };
        AwsError { code, message }
    }
}

/// Each service's code for a caller whose IAM policies do not allow the call: EC2's
/// `UnauthorizedOperation` (whose message does not name the action), SNS's `AuthorizationError`,
/// the JSON services' `AccessDeniedException`, the others' `AccessDenied`.
const ACCESS_DENIED: [&str; 4] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];

/// The sentence an access-denied error gets: the IAM action the call needs, read from the SDK's
/// error type (`aws_sdk_ec2::operation::create_vpc::CreateVpcError` is `ec2:CreateVpc`).
fn missing_permission(error_type: &str) -> String {
    let (krate, rest) = error_type.split_once("::").unwrap_or_default();
    let service = krate.trim_start_matches("aws_sdk_").trim_end_matches("v2");
    let operation = rest
        .rsplit("::")
        .next()
        .unwrap_or_default()
        .trim_end_matches("Error");
    // ACM is needed only with `tls = "auto"`, in a policy of its own (the deployer policy is at
    // IAM's size limit for one managed policy).
    let policy = if service == "acm" {
        "docs/deployer-policy-tls.json"
    } else {
        "docs/deployer-policy.json"
    };
    format!("(the credentials lack the IAM permission {service}:{operation}; {policy} in the provider's repository lists every permission the provider needs)")
}

/// An error and its causes as one line, each cause's text once ("dispatch failure: io error:
/// tcp connect error: Connection refused (os error 111)"). Not the SDK's DisplayErrorContext:
/// it appends the whole Debug form, twenty lines of internals in a user's diagnostic.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(cause) = next {
        // An error the SDK could not match to a modelled one displays its metadata as a struct.
        let text = match cause.downcast_ref::<ErrorMetadata>() {
            Some(meta) => format!(
                "{}: {}",
                meta.code().unwrap_or("error"),
                meta.message().unwrap_or_default()
            ),
            None => cause.to_string(),
        };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

/// Why an operation on a part failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    Aws(AwsError),
    Timeout {
        waited: Duration,
        last_state: String,
    },
    /// Terraform stopped the run (StopProvider) while this waited.
    Stopped {
        last_state: String,
    },
    Unexpected(String),
    /// AWS cannot do what the value of the resource's `attribute` asks in `region` (an instance
    /// type no zone of it offers): reported on that attribute.
    Setting {
        attribute: &'static str,
        region: String,
        detail: String,
    },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Aws(err) => err.fmt(f),
            Cause::Timeout { waited, last_state } => write!(
                f,
                "still not ready after {} (last state: {last_state}); raise the matching `timeouts` value and apply again to keep waiting",
                duration::display(*waited)
            ),
            Cause::Stopped { last_state } => write!(
                f,
                "Terraform stopped the run while this waited (last state: {last_state}); apply again to continue"
            ),
            Cause::Unexpected(detail) | Cause::Setting { detail, .. } => f.write_str(detail),
        }
    }
}

impl From<AwsError> for Cause {
    fn from(err: AwsError) -> Self {
        Cause::Aws(err)
    }
}

impl<E> From<SdkError<E, HttpResponse>> for Cause
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn from(err: SdkError<E, HttpResponse>) -> Self {
        Cause::Aws(err.into())
    }
}

/// A failed step: what we were doing to which part, and why it failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{action}: {cause}")]
pub struct PartError {
    pub action: String,
    pub cause: Cause,
}

impl PartError {
    /// The diagnostic Terraform shows for this error in `subject` (a resource type, a data
    /// source): the summary names what failed, the detail says why, so the action is written
    /// once ("tap_session_table: reading DynamoDB table t in us-east-2" / "<code>: <message>").
    pub fn diagnostic(&self, subject: &str) -> (String, String) {
        (
            format!("{subject}: {}", self.action),
            self.cause.to_string(),
        )
    }

    /// Whether a region refused the credentials (`AwsError::is_region_refused`).
    pub fn is_region_refused(&self) -> bool {
        matches!(&self.cause, Cause::Aws(err) if err.is_region_refused())
    }

    /// Whether `region` refused the credentials, as `AwsError::in_region` explained it.
    pub fn refused_by(&self, region: &str) -> bool {
        matches!(&self.cause, Cause::Aws(err) if err.is_region_refused() && err.message.contains(&refused_by(region)))
    }

    /// This error explained as `region`'s refusal (`AwsError::in_region`), when it is a refusal
    /// not yet explained: for a call whose region only a later check could tell.
    pub fn in_region(self, region: &str) -> PartError {
        match self.cause {
            Cause::Aws(err) => PartError {
                action: self.action,
                cause: Cause::Aws(err.in_region(region)),
            },
            cause => PartError {
                action: self.action,
                cause,
            },
        }
    }
}

pub type PartResult<T> = Result<T, PartError>;

/// Adds "what we were doing" to an error, as `creating DynamoDB table X`.
pub trait Context<T> {
    fn context(self, action: impl FnOnce() -> String) -> PartResult<T>;
}

impl<T, E: Into<Cause>> Context<T> for Result<T, E> {
    fn context(self, action: impl FnOnce() -> String) -> PartResult<T> {
        self.map_err(|err| PartError {
            action: action(),
            cause: err.into(),
        })
    }
}

/// A request the SDK could not build (a required field missing) is our bug, not AWS's answer.
pub fn built<T>(
    result: Result<T, aws_smithy_types::error::operation::BuildError>,
) -> Result<T, Cause> {
    result.map_err(|e| Cause::Unexpected(format!("building the request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_a_region_refuses_say_to_enable_the_region() {
        let refused = AwsError {
            code: Some("AuthFailure".into()),
            message: "AWS was not able to validate the provided access credentials".into(),
        }
        .in_region("af-south-1");
        assert_eq!(refused.code.as_deref(), Some("AuthFailure"));
        assert!(
            refused
                .message
                .contains("aws account enable-region --region-name af-south-1"),
            "{}",
            refused.message
        );
        let other = AwsError {
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
        };
        assert_eq!(other.clone().in_region("af-south-1"), other);
    }

    #[test]
    fn a_refusal_names_the_region_that_refused() {
        let refused = |err: AwsError| PartError {
            action: "reading DynamoDB table t".into(),
            cause: Cause::Aws(err),
        };
        let unrecognized = AwsError {
            code: Some("UnrecognizedClientException".into()),
            message: "The security token included in the request is invalid.".into(),
        };
        let explained = refused(unrecognized.clone().in_region("af-south-1"));
        assert!(explained.is_region_refused());
        assert!(explained.refused_by("af-south-1"));
        assert!(!explained.refused_by("eu-west-1"));
        // Refused, but not explained for any region: no region to blame, until one is found.
        let unexplained = refused(unrecognized);
        assert!(unexplained.is_region_refused());
        assert!(!unexplained.refused_by("af-south-1"));
        let found = unexplained.in_region("af-south-1");
        assert_eq!(found, explained);
        // Explained once: a second region does not take the blame.
        assert_eq!(found.clone().in_region("eu-south-1"), found);
        let throttled = refused(AwsError {
            code: Some("Throttling".into()),
            message: "Rate exceeded".into(),
        });
        assert!(!throttled.is_region_refused() && !throttled.refused_by("af-south-1"));
    }

    #[test]
    fn messages_name_action_code_and_message() {
        let err: PartResult<()> = Err(AwsError {
            code: Some("ResourceInUseException".into()),
            message: "Table already exists: t".into(),
        })
        .context(|| "creating DynamoDB table t".into());
        assert_eq!(
            err.unwrap_err().to_string(),
            "creating DynamoDB table t: ResourceInUseException: Table already exists: t"
        );
    }

    #[test]
    fn a_diagnostic_says_the_action_once_then_the_aws_error() {
        let err = PartError {
            action: "reading DynamoDB table t in us-east-2".into(),
            cause: Cause::Aws(AwsError {
                code: Some("ResourceNotFoundException".into()),
                message: "Requested resource not found".into(),
            }),
        };
        let (summary, detail) = err.diagnostic("tap_session_table");
        assert_eq!(
            summary,
            "tap_session_table: reading DynamoDB table t in us-east-2"
        );
        assert_eq!(
            detail,
            "ResourceNotFoundException: Requested resource not found"
        );
    }

    #[test]
    fn a_connection_failure_is_one_line_without_debug_output() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err: SdkError<
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
            HttpResponse,
        > = SdkError::dispatch_failure(aws_smithy_runtime_api::client::result::ConnectorError::io(
            refused.into(),
        ));
        let text = AwsError::from(err).to_string();
        assert!(text.contains("Connection refused"), "{text}");
        assert!(!text.contains('{') && !text.contains('\n'), "{text}");
    }

    #[test]
    fn access_denied_names_the_missing_permission_and_the_policy() {
        let denied = |code: &str| {
            aws_smithy_types::error::ErrorMetadata::builder()
                .code(code)
                .message("You are not authorized to perform this operation.")
                .build()
        };
        let err: SdkError<
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
            HttpResponse,
        > = SdkError::service_error(
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError::generic(denied(
                "AccessDenied",
            )),
            HttpResponse::new(
                403u16.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::empty(),
            ),
        );
        let text = AwsError::from(err).to_string();
        assert!(
            text.starts_with("AccessDenied: You are not authorized"),
            "{text}"
        );
        assert!(
            text.contains("IAM permission sts:GetCallerIdentity;"),
            "{text}"
        );
        assert!(text.contains("docs/deployer-policy.json"), "{text}");
        let elb = missing_permission(
            "aws_sdk_elasticloadbalancingv2::operation::create_load_balancer::CreateLoadBalancerError",
        );
        assert!(
            elb.contains("permission elasticloadbalancing:CreateLoadBalancer;"),
            "{elb}"
        );
    }

    #[test]
    fn timeouts_say_how_long_and_where_they_stopped() {
        let err = PartError {
            action: "waiting for DynamoDB replica t in us-east-2".into(),
            cause: Cause::Timeout {
                waited: Duration::from_secs(120),
                last_state: "CREATING".into(),
            },
        };
        let text = err.to_string();
        assert!(text.contains("after 2m"), "{text}");
        assert!(text.contains("last state: CREATING"), "{text}");
    }
}
