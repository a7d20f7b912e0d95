//! One set of AWS clients per region, created once and shared by every resource in the process.
//! Credentials come from the standard chain (environment, profiles, SSO, web identity — how
//! Terraform Cloud's dynamic credentials arrive — and instance metadata), optionally through an
//! assumed role. `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are honoured by the SDK.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};

const ROUTE53_REGION: &str = "us-east-1";

/// Per-service endpoint overrides (the provider's `endpoints` block).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceEndpoints {
    pub acm: Option<String>,
    pub autoscaling: Option<String>,
    pub cloudwatch: Option<String>,
    pub dynamodb: Option<String>,
    pub ec2: Option<String>,
    pub elbv2: Option<String>,
    pub iam: Option<String>,
    pub kms: Option<String>,
    pub route53: Option<String>,
    pub sns: Option<String>,
    pub sts: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

/// Everything the provider block says about reaching AWS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    /// Region for the global services (IAM, Route 53) and the default home region.
    pub region: String,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub shared_credentials_files: Vec<String>,
    pub assume_role: Option<AssumeRole>,
    pub endpoint_url: Option<String>,
    pub endpoints: ServiceEndpoints,
    /// Retries of throttling and transient errors per call, on top of the first attempt.
    pub max_retries: u32,
}

/// Clients for the regional services of one region.
pub struct RegionalClients {
    pub acm: aws_sdk_acm::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
}

pub struct AwsClients {
    /// IAM is global; its client signs for the provider's region.
    pub iam: aws_sdk_iam::Client,
    /// Route 53 is global too; its control plane is in us-east-1.
    pub route53: aws_sdk_route53::Client,
    /// Who the credentials belong to (the account ID goes into ARNs of policies).
    pub sts: aws_sdk_sts::Client,
    sts_endpoint: Option<String>,
    base: SdkConfig,
    endpoints: ServiceEndpoints,
    regional: Mutex<HashMap<String, Arc<RegionalClients>>>,
}

impl AwsClients {
    pub async fn load(settings: &AwsSettings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .region(Region::new(settings.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_retries + 1));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(files) = profile_files(settings) {
            loader = loader.profile_files(files);
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut base = loader.load().await;
        if let Some(role) = &settings.assume_role {
            base = assume_role(base, role, settings.endpoints.sts.as_deref()).await;
        }
        let mut iam = aws_sdk_iam::config::Builder::from(&base);
        if let Some(url) = &settings.endpoints.iam {
            iam = iam.endpoint_url(url);
        }
        // Route 53's control plane lives in us-east-1 whatever the provider's region.
        let mut route53 =
            aws_sdk_route53::config::Builder::from(&base).region(Region::new(ROUTE53_REGION));
        if let Some(url) = &settings.endpoints.route53 {
            route53 = route53.endpoint_url(url);
        }
        let mut sts = aws_sdk_sts::config::Builder::from(&base);
        if let Some(url) = &settings.endpoints.sts {
            sts = sts.endpoint_url(url);
        }
        AwsClients {
            iam: aws_sdk_iam::Client::from_conf(iam.build()),
            sts: aws_sdk_sts::Client::from_conf(sts.build()),
            sts_endpoint: settings.endpoints.sts.clone(),
            route53: aws_sdk_route53::Client::from_conf(route53.build()),
            base,
            endpoints: settings.endpoints.clone(),
            regional: Mutex::new(HashMap::new()),
        }
    }

    /// An STS client signing for `region` (the `endpoints` override, if any, still applies).
    pub fn sts_in(&self, region: &str) -> aws_sdk_sts::Client {
        let mut sts =
            aws_sdk_sts::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
        if let Some(url) = &self.sts_endpoint {
            sts = sts.endpoint_url(url);
        }
        aws_sdk_sts::Client::from_conf(sts.build())
    }

    /// The provider's region.
    pub fn region(&self) -> &str {
        self.base.region().map_or("us-east-1", |r| r.as_ref())
    }

    /// The credentials every client signs with (the chain, or the assumed role on top of it).
    pub fn credentials_provider(&self) -> Option<SharedCredentialsProvider> {
        self.base.credentials_provider()
    }

    /// Where STS calls go, for messages that must name the endpoint: the `endpoints` override,
    /// `AWS_ENDPOINT_URL_STS`, the one endpoint for all, or AWS's regional STS endpoint.
    pub fn sts_endpoint(&self) -> String {
        self.sts_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_STS").ok())
            .or_else(|| self.base.endpoint_url().map(str::to_owned))
            .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com", self.region()))
    }

    /// The clients for `region`, built on first use.
    pub fn regional(&self, region: &str) -> Arc<RegionalClients> {
        let mut cache = self
            .regional
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        cache
            .entry(region.to_owned())
            .or_insert_with(|| Arc::new(self.build_regional(region)))
            .clone()
    }

    fn build_regional(&self, region: &str) -> RegionalClients {
        /// A service config in `region`, with the per-service endpoint override if any.
        macro_rules! client {
            ($sdk:ident, $endpoint:ident) => {{
                let mut builder =
                    $sdk::config::Builder::from(&self.base).region(Region::new(region.to_owned()));
                if let Some(url) = &self.endpoints.$endpoint {
                    builder = builder.endpoint_url(url);
                }
                $sdk::Client::from_conf(builder.build())
            }};
        }
        RegionalClients {
            acm: client!(aws_sdk_acm, acm),
            autoscaling: client!(aws_sdk_autoscaling, autoscaling),
            cloudwatch: client!(aws_sdk_cloudwatch, cloudwatch),
            dynamodb: client!(aws_sdk_dynamodb, dynamodb),
            ec2: client!(aws_sdk_ec2, ec2),
            elbv2: client!(aws_sdk_elasticloadbalancingv2, elbv2),
            kms: client!(aws_sdk_kms, kms),
            sns: client!(aws_sdk_sns, sns),
        }
    }
}

/// rustls on ring: the same TLS stack tf-provider's gRPC server uses, so only one crypto
/// provider is linked (two make rustls refuse to pick a process default).
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Explicit files replace the SDK's defaults only for the kind given, as hashicorp/aws does.
fn profile_files(settings: &AwsSettings) -> Option<EnvConfigFiles> {
    if settings.shared_config_files.is_empty() && settings.shared_credentials_files.is_empty() {
        return None;
    }
    let mut builder = EnvConfigFiles::builder()
        .include_default_config_file(settings.shared_config_files.is_empty())
        .include_default_credentials_file(settings.shared_credentials_files.is_empty());
    for file in &settings.shared_config_files {
        builder = builder.with_file(EnvConfigFileKind::Config, file);
    }
    for file in &settings.shared_credentials_files {
        builder = builder.with_file(EnvConfigFileKind::Credentials, file);
    }
    Some(builder.build())
}

async fn assume_role(base: SdkConfig, role: &AssumeRole, sts_endpoint: Option<&str>) -> SdkConfig {
    let sts_config = match sts_endpoint {
        Some(url) => base.to_builder().endpoint_url(url).build(),
        None => base.clone(),
    };
    let mut provider = AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(
            role.session_name
                .clone()
                .unwrap_or_else(|| "terraform-provider-tap".into()),
        )
        .configure(&sts_config);
    if let Some(id) = &role.external_id {
        provider = provider.external_id(id);
    }
    let provider = provider.build().await;
    base.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_files_keep_the_other_kinds_default() {
        let settings = AwsSettings {
            shared_config_files: vec!["/tmp/config".into()],
            ..Default::default()
        };
        assert!(profile_files(&settings).is_some());
        assert!(profile_files(&AwsSettings::default()).is_none());
    }

    #[tokio::test]
    async fn clients_are_built_once_per_region() {
        let clients = AwsClients::load(&AwsSettings {
            region: "us-east-1".into(),
            endpoint_url: Some("http://127.0.0.1:1".into()),
            ..Default::default()
        })
        .await;
        let a = clients.regional("us-east-2");
        let b = clients.regional("us-east-2");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            a.dynamodb.config().region().map(|r| r.as_ref()),
            Some("us-east-2")
        );
    }
}
