//! Who the credentials belong to, checked once when Terraform configures the provider (one STS
//! GetCallerIdentity, as hashicorp/aws does), so that missing, refused or expired credentials are
//! one clear sentence before anything is planned, not a failure halfway through an apply.

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;

use aws_smithy_runtime_api::client::result::SdkError;

use crate::aws::clients::AwsClients;
use futures::future::join_all;

use crate::aws::error::{chain, AwsError, Context, PartResult};
use crate::role::Role;

/// Where the standard chain looks, in its order; said in every credentials diagnostic.
pub const SOURCES: &str = "environment variables (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), the shared config and credentials files with the selected profile (`profile`, AWS_PROFILE, `shared_config_files`, `shared_credentials_files`), SSO, web identity (AWS_WEB_IDENTITY_TOKEN_FILE, as Terraform Cloud's dynamic credentials arrive), container credentials and EC2 instance metadata";

/// What the check learned: the account ID goes into the ARNs of the policies we write.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

/// Why the credentials cannot be used, as the provider block's diagnostic says it.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialsProblem {
    pub summary: &'static str,
    pub detail: String,
}

/// AWS's codes for credentials it refuses outright: unknown or malformed keys, bad signatures.
const REFUSED: [&str; 4] = [
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
];
/// Temporary credentials past their expiry (STS answers `ExpiredToken`, other services the
/// `ExpiredTokenException` form).
const EXPIRED: [&str; 3] = ["ExpiredToken", "ExpiredTokenException", "RequestExpired"];

/// Resolves credentials through the chain (and the assumed role), then asks STS who they are.
pub async fn check(
    clients: &AwsClients,
    assumed_role: Option<&str>,
) -> Result<CallerIdentity, CredentialsProblem> {
    if let Some(provider) = clients.credentials_provider() {
        if let Err(err) = provider.provide_credentials().await {
            return Err(unloaded(&err, assumed_role));
        }
    }
    // Sent once first: a region that does not answer is not asked again `max_retries` times
    // (a minute or two of backoff at every configure of an outage) before another is asked.
    let identity = match send_once!(clients.sts.get_caller_identity(), aws_sdk_sts).await {
        Ok(identity) => identity,
        // STS answers in every region ("regional STS endpoints ... reduce latency, build in
        // redundancy": https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_enable-regions.html):
        // a region that does not answer at all (an outage) says nothing of the credentials, so
        // another region's endpoint is asked. Any answer, a refusal included, is final.
        Err(err) if unreachable(&err) => {
            let other = fallback_region(clients.region());
            tracing::warn!(
                "STS in {} unreachable ({}); checking the credentials at STS in {other}",
                clients.region(),
                AwsError::from(err)
            );
            clients
                .sts_in(other)
                .get_caller_identity()
                .send()
                .await
                .map_err(|err| {
                    let tried = format!(
                        "{} (no answer), then at STS in {other},",
                        clients.sts_endpoint()
                    );
                    refused(AwsError::from(err), tried)
                })?
        }
        // An answer: sent again with the SDK's retries, which retry only what may pass
        // (throttling, server errors); a refusal comes back at once, final.
        Err(_) => clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|err| refused(AwsError::from(err), clients.sts_endpoint()))?,
    };
    Ok(CallerIdentity {
        account: identity.account().unwrap_or_default().to_owned(),
        arn: identity.arn().unwrap_or_default().to_owned(),
    })
}

/// `region`'s refusal of the credentials, explained (`AwsError::in_region`), when it refuses them
/// as a region the account has not enabled does; `None` when it accepts them, or fails in any
/// other way, which says nothing of the region. One STS GetCallerIdentity signed for the region:
/// "No permissions are required to perform this operation"
/// (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so it asks
/// nothing of the deployer's policy. For the regions a configuration names whose own first call
/// cannot tell: before anything is made, or once a later call was refused.
pub async fn refused_in(clients: &AwsClients, region: &str) -> Option<AwsError> {
    let answer = clients.sts_in(region).get_caller_identity().send().await;
    let err = AwsError::from(answer.err()?);
    err.is_region_refused().then(|| err.in_region(region))
}

/// Every one of `regions` accepts the credentials (`refused_in`, asked at the same time), or the
/// first refusal: the check a resource makes before it makes anything in regions whose own first
/// call would come too late (after global objects, or other regions' objects, were made).
pub async fn accepted_in<'a>(
    clients: &AwsClients,
    regions: impl IntoIterator<Item = &'a str>,
) -> PartResult<()> {
    let regions: Vec<&str> = regions.into_iter().collect();
    let refusals = join_all(regions.iter().map(|region| refused_in(clients, region))).await;
    match regions
        .iter()
        .zip(refusals)
        .find_map(|(r, err)| Some((r, err?)))
    {
        Some((region, err)) => {
            Err(err).context(|| format!("checking that {region} accepts the credentials"))
        }
        None => Ok(()),
    }
}

/// Whether the call got no answer: the connection failed or timed out (not an AWS error).
fn unreachable<E, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    )
}

/// The region whose STS checks the credentials when the provider's own does not answer: the
/// default standby region (the default primary's, for a provider in that region).
fn fallback_region(region: &str) -> &'static str {
    let standby = Role::Standby.default_region();
    if region == standby {
        Role::Primary.default_region()
    } else {
        standby
    }
}

fn unloaded(err: &CredentialsError, assumed_role: Option<&str>) -> CredentialsProblem {
    match (err, assumed_role) {
        (CredentialsError::CredentialsNotLoaded(_), _) => CredentialsProblem {
            summary: "No valid AWS credentials found",
            detail: format!("The provider looked in {SOURCES}, and found none. Set credentials in one of them (for example `aws configure`, `aws sso login`, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or see https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html."),
        },
        (_, Some(role)) => CredentialsProblem {
            summary: "Assuming the IAM role failed",
            detail: format!("Assuming {role} with the credentials from the chain failed: {}. Check that the role exists, that its trust policy lets these credentials assume it (and the `external_id`, if it requires one), and that the credentials are valid.", chain(err)),
        },
        _ => CredentialsProblem {
            summary: "AWS credentials could not be loaded",
            detail: format!("{}. The provider looks in {SOURCES}.", chain(err)),
        },
    }
}

fn refused(err: AwsError, endpoint: String) -> CredentialsProblem {
    let code = err.code.as_deref().unwrap_or_default();
    if EXPIRED.contains(&code) {
        CredentialsProblem {
            summary: "The AWS credentials have expired",
            detail: format!("STS refused them: {err}. Refresh them (for example `aws sso login`, or new temporary credentials) and run again."),
        }
    } else if REFUSED.contains(&code) {
        CredentialsProblem {
            summary: "AWS refused the credentials",
            detail: format!("STS GetCallerIdentity at {endpoint} refused them: {err}. Check the access key and secret in use; the provider looks in {SOURCES}."),
        }
    } else {
        CredentialsProblem {
            summary: "The AWS credentials could not be checked",
            detail: format!("STS GetCallerIdentity at {endpoint} failed: {err}. Set `skip_credentials_validation = true` in the provider block to skip this check (for an endpoint without STS)."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_credentials_name_every_source() {
        let problem = unloaded(&CredentialsError::not_loaded("none"), None);
        assert_eq!(problem.summary, "No valid AWS credentials found");
        for source in [
            "environment",
            "profile",
            "SSO",
            "web identity",
            "instance metadata",
        ] {
            assert!(
                problem.detail.contains(source),
                "{source}: {}",
                problem.detail
            );
        }
    }

    #[test]
    fn only_a_region_that_does_not_answer_sends_the_check_elsewhere() {
        type Error = SdkError<
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >;
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let down: Error = SdkError::dispatch_failure(
            aws_smithy_runtime_api::client::result::ConnectorError::io(reset.into()),
        );
        assert!(unreachable(&down));
        let refused: Error = SdkError::service_error(
            aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("InvalidClientTokenId")
                    .build(),
            ),
            aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                403u16.try_into().unwrap(),
                aws_smithy_types::body::SdkBody::empty(),
            ),
        );
        assert!(!unreachable(&refused), "a refusal is the answer");
        assert_eq!(fallback_region("us-east-1"), "us-east-2");
        assert_eq!(fallback_region("us-east-2"), "us-east-1");
        assert_eq!(fallback_region("eu-west-1"), "us-east-2");
    }

    #[test]
    fn codes_decide_the_sentence() {
        let err = |code: &str| AwsError {
            code: Some(code.into()),
            message: "m".into(),
        };
        let endpoint = || "https://sts.us-east-1.amazonaws.com".to_owned();
        assert_eq!(
            refused(err("ExpiredToken"), endpoint()).summary,
            "The AWS credentials have expired"
        );
        let bad = refused(err("InvalidClientTokenId"), endpoint());
        assert_eq!(bad.summary, "AWS refused the credentials");
        assert!(bad.detail.contains("https://sts.us-east-1.amazonaws.com"));
        let role = unloaded(
            &CredentialsError::provider_error("AccessDenied"),
            Some("arn:aws:iam::1:role/deploy"),
        );
        assert!(role.detail.contains("arn:aws:iam::1:role/deploy"));
    }
}
