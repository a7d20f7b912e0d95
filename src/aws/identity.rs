//! Who the credentials belong to, checked once when Terraform configures the provider (one STS
//! GetCallerIdentity, as hashicorp/aws does), so that missing, refused or expired credentials are
//! one clear sentence before anything is planned, not a failure halfway through an apply.

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;

use crate::aws::clients::AwsClients;
use crate::aws::error::{chain, AwsError};

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
    let identity = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|err| refused(AwsError::from(err), clients.sts_endpoint()))?;
    Ok(CallerIdentity {
        account: identity.account().unwrap_or_default().to_owned(),
        arn: identity.arn().unwrap_or_default().to_owned(),
    })
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
