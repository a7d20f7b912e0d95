//! The provider block: schema, validation, and conversion to AWS settings.

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeType, Block, Description, NestedBlock, Schema};
use tf_provider::value::{self, Value};
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::clients::{AssumeRole, AwsSettings, ServiceEndpoints};
use crate::regions;
use crate::tags::{self, Tags};
use crate::tf::diag::invalid;
use crate::tf::number::Number;
use crate::tf::schema::{named, optional, required, string_list, string_map};
use crate::tf::values::{known_list, known_map, StringList, StringMap};

/// hashicorp/aws retries 25 times (about an hour of backoff); ten attempts ride out throttling
/// bursts without hiding an outage for that long.
const DEFAULT_MAX_RETRIES: u32 = 10;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProviderConfig {
    pub region: Value<String>,
    pub profile: Value<String>,
    pub shared_config_files: StringList,
    pub shared_credentials_files: StringList,
    pub endpoint_url: Value<String>,
    pub max_retries: Value<Number>,
    pub skip_credentials_validation: Value<bool>,
    #[serde(with = "value::serde_as_vec")]
    pub assume_role: Value<AssumeRoleBlock>,
    #[serde(with = "value::serde_as_vec")]
    pub endpoints: Value<EndpointsBlock>,
    #[serde(with = "value::serde_as_vec")]
    pub default_tags: Value<DefaultTagsBlock>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AssumeRoleBlock {
    pub role_arn: Value<String>,
    pub session_name: Value<String>,
    pub external_id: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointsBlock {
    pub acm: Value<String>,
    pub autoscaling: Value<String>,
    pub cloudwatch: Value<String>,
    pub dynamodb: Value<String>,
    pub ec2: Value<String>,
    pub elbv2: Value<String>,
    pub iam: Value<String>,
    pub kms: Value<String>,
    pub route53: Value<String>,
    pub sns: Value<String>,
    pub sts: Value<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DefaultTagsBlock {
    pub tags: StringMap,
}

impl EndpointsBlock {
    fn fields(&self) -> [(&'static str, &Value<String>); 11] {
        [
            ("acm", &self.acm),
            ("autoscaling", &self.autoscaling),
            ("cloudwatch", &self.cloudwatch),
            ("dynamodb", &self.dynamodb),
            ("ec2", &self.ec2),
            ("elbv2", &self.elbv2),
            ("iam", &self.iam),
            ("kms", &self.kms),
            ("route53", &self.route53),
            ("sns", &self.sns),
            ("sts", &self.sts),
        ]
    }
}

pub fn schema() -> Schema {
    let endpoints = EndpointsBlock::default()
        .fields()
        .iter()
        .map(|(service, _)| {
            (
                service.to_string(),
                optional(
                    AttributeType::String,
                    format!(
                        "Endpoint URL for {service}, overriding `endpoint_url` and `AWS_ENDPOINT_URL_{}`.",
                        service.to_uppercase()
                    ),
                ),
            )
        })
        .collect();
    Schema {
        version: 1,
        block: Block {
            description: Description::markdown(
                "Builds and operates a two-region AWS warm-standby failover system. Credentials come from the standard AWS chain (environment, shared profiles, SSO, web identity as Terraform Cloud's dynamic credentials use, instance metadata).",
            ),
            attributes: named([
                ("region", optional(AttributeType::String, "Region for the global services (IAM, Route 53) and the default home region of resources. Default `us-east-1`.")),
                ("profile", optional(AttributeType::String, "Named profile from the shared config files. Default: `AWS_PROFILE`, else `default`.")),
                ("shared_config_files", optional(string_list(), "Shared config files to read instead of `~/.aws/config`.")),
                ("shared_credentials_files", optional(string_list(), "Shared credentials files to read instead of `~/.aws/credentials`.")),
                ("endpoint_url", optional(AttributeType::String, "One endpoint for every AWS service, for an AWS-compatible emulator. `AWS_ENDPOINT_URL` does the same from the environment.")),
                ("max_retries", optional(AttributeType::Number, "How many times one AWS call is retried on throttling and transient errors. Default 10.")),
                ("skip_credentials_validation", optional(AttributeType::Bool, "Skip the check of the credentials when the provider is configured (one STS GetCallerIdentity, which also learns the account ID). Default `false`: missing, refused or expired credentials are reported before anything is planned.")),
]),
            blocks: named([
                ("assume_role", NestedBlock::Optional(Block {
                    description: "Assume this IAM role (through STS) with the credentials from the chain.".into(),
                    attributes: named([
                        ("role_arn", required(AttributeType::String, "ARN of the role to assume.")),
                        ("session_name", optional(AttributeType::String, "Session name. Default `terraform-provider-tap`.")),
                        ("external_id", optional(AttributeType::String, "External ID the role's trust policy requires.")),
                    ]),
                    ..Default::default()
                })),
                ("endpoints", NestedBlock::Optional(Block {
                    description: "Per-service endpoint overrides.".into(),
                    attributes: endpoints,
                    ..Default::default()
                })),
                ("default_tags", NestedBlock::Optional(Block {
                    description: "Tags added to every taggable object the provider creates; a resource's own tags win.".into(),
                    attributes: named([("tags", optional(string_map(), "Tags to add."))]),
                    ..Default::default()
                })),
]),
            ..Default::default()
        },
    }
}

pub fn validate(diags: &mut Diagnostics, config: &ProviderConfig) {
    if let Value::Value(region) = &config.region {
        if !regions::is_known(region) {
            invalid(
                diags,
                AttributePath::new("region"),
                regions::unknown_region_detail(region),
            );
        }
    }
    if let Value::Value(url) = &config.endpoint_url {
        check_url(diags, AttributePath::new("endpoint_url"), url);
    }
    if let Value::Value(endpoints) = &config.endpoints {
        for (service, url) in endpoints.fields() {
            if let Value::Value(url) = url {
                check_url(
                    diags,
                    AttributePath::new("endpoints").index(0).attribute(service),
                    url,
                );
            }
        }
    }
    if let Value::Value(n) = config.max_retries {
        if !n.as_i64().is_some_and(|n| (0..=100).contains(&n)) {
            invalid(
                diags,
                AttributePath::new("max_retries"),
                format!(
                    "max_retries must be a whole number from 0 to 100, not {}.",
                    n.0
                ),
            );
        }
    }
    if let Value::Value(role) = &config.assume_role {
        if let Value::Value(arn) = &role.role_arn {
            if !(arn.starts_with("arn:") && arn.contains(":role/")) {
                invalid(
                    diags,
                    AttributePath::new("assume_role")
                        .index(0)
                        .attribute("role_arn"),
                    format!(
                        "\"{arn}\" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
                    ),
                );
            }
        }
    }
    if let Value::Value(block) = &config.default_tags {
        if let Some(tags) = known_map(&block.tags) {
            if let Err(err) = tags::validate(&tags) {
                invalid(
                    diags,
                    AttributePath::new("default_tags")
                        .index(0)
                        .attribute("tags"),
                    err,
                );
            }
        }
    }
}

fn check_url(diags: &mut Diagnostics, path: AttributePath, url: &str) {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if rest.is_none_or(str::is_empty) {
        invalid(
            diags,
            path,
            format!("\"{url}\" is not an http:// or https:// URL."),
        );
    }
}

/// Settings for the AWS clients. Values still unknown at configure time cannot be used.
pub fn settings(diags: &mut Diagnostics, config: &ProviderConfig) -> Option<AwsSettings> {
    let unknown = [
        ("region", config.region.is_unknown()),
        ("profile", config.profile.is_unknown()),
        ("endpoint_url", config.endpoint_url.is_unknown()),
        ("assume_role", config.assume_role.is_unknown()),
    ];
    if let Some((name, _)) = unknown.iter().find(|(_, is_unknown)| *is_unknown) {
        diags.error(
            "Provider configuration depends on values not known yet",
            format!("`{name}` must be known before the provider can reach AWS; do not derive it from resources created in the same apply."),
            AttributePath::new(*name),
        );
        return None;
    }
    let opt = |v: &Value<String>| v.as_ref_option().cloned();
    let endpoints = config.endpoints.as_ref_option().map(|e| ServiceEndpoints {
        acm: opt(&e.acm),
        autoscaling: opt(&e.autoscaling),
        cloudwatch: opt(&e.cloudwatch),
        dynamodb: opt(&e.dynamodb),
        ec2: opt(&e.ec2),
        elbv2: opt(&e.elbv2),
        iam: opt(&e.iam),
        kms: opt(&e.kms),
        route53: opt(&e.route53),
        sns: opt(&e.sns),
        sts: opt(&e.sts),
    });
    Some(AwsSettings {
        region: opt(&config.region)
            .unwrap_or_else(|| crate::role::Role::Primary.default_region().into()),
        profile: opt(&config.profile),
        shared_config_files: known_list(&config.shared_config_files).unwrap_or_default(),
        shared_credentials_files: known_list(&config.shared_credentials_files).unwrap_or_default(),
        assume_role: config.assume_role.as_ref_option().and_then(|r| {
            Some(AssumeRole {
                role_arn: opt(&r.role_arn)?,
                session_name: opt(&r.session_name),
                external_id: opt(&r.external_id),
            })
        }),
        endpoint_url: opt(&config.endpoint_url),
        endpoints: endpoints.unwrap_or_default(),
        max_retries: config
            .max_retries
            .as_ref_option()
            .and_then(|n| n.as_i64())
            .map_or(DEFAULT_MAX_RETRIES, |n| n.clamp(0, 100) as u32),
    })
}

/// Whether `configure` checks the credentials with STS before anything is planned.
pub fn validates_credentials(config: &ProviderConfig) -> bool {
    !matches!(config.skip_credentials_validation, Value::Value(true))
}

pub fn default_tags(config: &ProviderConfig) -> Tags {
    config
        .default_tags
        .as_ref_option()
        .and_then(|b| known_map(&b.tags))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Value<String> {
        Value::Value(v.into())
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let mut diags = Diagnostics::default();
        let settings = settings(&mut diags, &ProviderConfig::default()).unwrap();
        assert_eq!(settings.region, "us-east-1");
        assert_eq!(settings.max_retries, DEFAULT_MAX_RETRIES);
        assert!(settings.endpoint_url.is_none() && settings.assume_role.is_none());
    }

    #[test]
    fn every_setting_reaches_the_aws_settings() {
        let config = ProviderConfig {
            region: s("eu-west-1"),
            profile: s("trading"),
            shared_config_files: Value::Value(vec![s("/etc/aws/config")]),
            endpoint_url: s("http://127.0.0.1:4566"),
            max_retries: Value::Value(Number(0.0)),
            assume_role: Value::Value(AssumeRoleBlock {
                role_arn: s("arn:aws:iam::123456789012:role/deploy"),
                external_id: s("ext"),
                ..Default::default()
            }),
            endpoints: Value::Value(EndpointsBlock {
                dynamodb: s("http://127.0.0.1:8000"),
                ..Default::default()
            }),
            default_tags: Value::Value(DefaultTagsBlock {
                tags: Value::Value(BTreeMap::from([("Team".into(), s("core"))])),
            }),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        validate(&mut diags, &config);
        assert!(diags.errors.is_empty(), "{:?}", diags.errors);
        let settings = settings(&mut diags, &config).unwrap();
        assert_eq!(settings.region, "eu-west-1");
        assert_eq!(settings.profile.as_deref(), Some("trading"));
        assert_eq!(
            settings.shared_config_files,
            vec!["/etc/aws/config".to_string()]
        );
        assert_eq!(
            settings.endpoint_url.as_deref(),
            Some("http://127.0.0.1:4566")
        );
        assert_eq!(settings.max_retries, 0);
        let role = settings.assume_role.unwrap();
        assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/deploy");
        assert_eq!(role.external_id.as_deref(), Some("ext"));
        assert_eq!(
            settings.endpoints.dynamodb.as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(default_tags(&config)["Team"], "core");
    }

    #[test]
    fn bad_settings_are_reported_on_their_attribute() {
        let config = ProviderConfig {
            region: s("us-north-9"),
            endpoint_url: s("localhost:4566"),
            max_retries: Value::Value(Number(1.5)),
            assume_role: Value::Value(AssumeRoleBlock {
                role_arn: s("deploy"),
                ..Default::default()
            }),
            endpoints: Value::Value(EndpointsBlock {
                sns: s("ftp://x"),
                ..Default::default()
            }),
            default_tags: Value::Value(DefaultTagsBlock {
                tags: Value::Value(BTreeMap::from([("aws:x".into(), s("y"))])),
            }),
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        validate(&mut diags, &config);
        let paths: Vec<String> = diags
            .errors
            .iter()
            .map(|d| d.attribute.to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "region",
                "endpoint_url",
                "endpoints[0].sns",
                "max_retries",
                "assume_role[0].role_arn",
                "default_tags[0].tags"
            ]
        );
    }

    #[test]
    fn unknown_connection_settings_stop_configuration() {
        let config = ProviderConfig {
            endpoint_url: Value::Unknown,
            ..Default::default()
        };
        let mut diags = Diagnostics::default();
        assert!(settings(&mut diags, &config).is_none());
        assert_eq!(diags.errors[0].attribute.to_string(), "endpoint_url");
    }
}
