//! The instances' IAM role and instance profile (same name), with one inline least-privilege
//! policy. IAM is global: names carry the region's role and the suffix.

use std::time::Duration;

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use tokio::time::Instant;

use super::error::{ignore_not_found, AwsError, Cause, Context, PartResult};
use super::retry;
use crate::naming;
use crate::tags::Tags;

pub const POLICY_NAME: &str = "least-privilege";
/// Only EC2 may assume the role.
pub const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// hashicorp/aws: IAM propagationTimeout = 2m, "derived from years of operational experience".
const PROPAGATION: Duration = Duration::from_secs(120);

fn iam_tags(tags: &Tags) -> Result<Vec<Tag>, Cause> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Cause::Unexpected(e.to_string()))
        })
        .collect()
}

/// A read's answer, `None` for an entity that does not exist.
fn unless_missing<T, E>(read: Result<T, E>) -> Result<Option<T>, AwsError>
where
    AwsError: From<E>,
{
    match read.map_err(AwsError::from) {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Ensures role, inline policy and instance profile; returns the profile's ARN.
pub async fn ensure(iam: &Client, name: &str, policy: &str, tags: &Tags) -> PartResult<String> {
    let action = || format!("creating IAM role {name}");
    match iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Ok(_) => {
            iam.tag_role()
                .role_name(name)
                .set_tags(Some(iam_tags(tags).context(action)?))
                .send()
                .await
                .context(|| format!("tagging IAM role {name}"))?;
        }
        Err(err) if err.is_not_found() => {
            tracing::info!("creating IAM role {name}");
            let role_tags = iam_tags(tags).context(action)?;
            retry::create_once(
                &action(),
                &["EntityAlreadyExists"],
                || async {
                    let found = iam.get_role().role_name(name).send().await;
                    Ok(unless_missing(found)?.map(|_| ()))
                },
                || async {
                    send_once!(
                        iam.create_role()
                            .role_name(name)
                            .assume_role_policy_document(TRUST_POLICY)
                            .description("Instances of the trading failover stack")
                            .set_tags(Some(role_tags.clone())),
                        aws_sdk_iam
                    )
                    .await
                    .map(|_| ())
                },
            )
            .await
            .context(action)?;
        }
        Err(err) => return Err(err).context(|| format!("reading IAM role {name}")),
    }
    iam.put_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .policy_document(policy)
        .send()
        .await
        .context(|| format!("putting the policy of IAM role {name}"))?;

    let profile = match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Ok(out) => out.instance_profile().cloned(),
        Err(err) if err.is_not_found() => None,
        Err(err) => return Err(err).context(|| format!("reading instance profile {name}")),
    };
    let (profile_arn, has_role) = match profile {
        Some(profile) => (
            profile.arn().to_owned(),
            profile.roles().iter().any(|r| r.role_name() == name),
        ),
        None => {
            tracing::info!("creating instance profile {name}");
            let profile_tags = iam_tags(tags).context(action)?;
            let arn = retry::create_once(
                &format!("creating instance profile {name}"),
                &["EntityAlreadyExists"],
                || async {
                    let found = iam
                        .get_instance_profile()
                        .instance_profile_name(name)
                        .send()
                        .await;
                    Ok(unless_missing(found)?
                        .and_then(|out| out.instance_profile().map(|p| p.arn().to_owned())))
                },
                || async {
                    let out = send_once!(
                        iam.create_instance_profile()
                            .instance_profile_name(name)
                            .set_tags(Some(profile_tags.clone())),
                        aws_sdk_iam
                    )
                    .await?;
                    Ok::<_, AwsError>(
                        out.instance_profile()
                            .map(|p| p.arn().to_owned())
                            .unwrap_or_default(),
                    )
                },
            )
            .await
            .context(|| format!("creating instance profile {name}"))?;
            (arn, false)
        }
    };
    if !has_role {
        // "NoSuchEntity: The role with name … cannot be found" right after CreateRole.
        let deadline = Instant::now() + PROPAGATION;
        retry::on_codes(
            &format!("adding role {name} to its instance profile"),
            &["NoSuchEntity"],
            deadline,
            || async {
                iam.add_role_to_instance_profile()
                    .instance_profile_name(name)
                    .role_name(name)
                    .send()
                    .await
                    .map(|_| ())
            },
        )
        .await
        .context(|| format!("adding role {name} to its instance profile"))?;
    }
    Ok(profile_arn)
}

/// The profile's ARN, if the profile exists and holds its role: a profile without its role
/// gives instances no credentials, so it counts as missing.
pub async fn find_profile(iam: &Client, name: &str) -> Result<Option<String>, AwsError> {
    match iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Ok(out) => Ok(out
            .instance_profile()
            .filter(|p| p.roles().iter().any(|r| r.role_name() == name))
            .map(|p| p.arn().to_owned())),
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// The role's inline policy as IAM holds it, parsed; `None` if the role or policy is gone.
/// IAM returns policy documents URL-encoded (RFC 3986).
pub async fn policy(iam: &Client, name: &str) -> Result<Option<serde_json::Value>, AwsError> {
    match iam
        .get_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .map_err(AwsError::from)
    {
        Ok(out) => {
            let document = percent_encoding::percent_decode_str(out.policy_document())
                .decode_utf8_lossy()
                .into_owned();
            Ok(serde_json::from_str(&document).ok())
        }
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Removes the role from the profile, deletes the profile, the inline policy and the role.
pub async fn delete(iam: &Client, name: &str) -> PartResult<()> {
    tracing::info!("deleting IAM role and instance profile {name}");
    ignore_not_found(
        iam.remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(name)
            .send()
            .await
            .map(|_| ()),
    )
    .context(|| format!("removing role {name} from its instance profile"))?;
    ignore_not_found(
        iam.delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map(|_| ()),
    )
    .context(|| format!("deleting instance profile {name}"))?;
    ignore_not_found(
        iam.delete_role_policy()
            .role_name(name)
            .policy_name(POLICY_NAME)
            .send()
            .await
            .map(|_| ()),
    )
    .context(|| format!("deleting the policy of IAM role {name}"))?;
    // "DeleteConflict: Cannot delete entity, must remove roles from instance profile first."
    let deadline = Instant::now() + PROPAGATION;
    let result = retry::on_codes(
        &format!("deleting IAM role {name}"),
        &["DeleteConflict"],
        deadline,
        || async { iam.delete_role().role_name(name).send().await.map(|_| ()) },
    )
    .await;
    ignore_not_found(result).context(|| format!("deleting IAM role {name}"))
}

/// The caller's extra statements must be a JSON array of statement objects that name their
/// resources; `"Resource": "*"` is refused where least privilege is the point.
pub fn check_statements(json: &str) -> Result<(), String> {
    let parsed: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}."))?;
    let statements = parsed
        .as_array()
        .ok_or("give a JSON array of policy statements, e.g. jsonencode([{ Effect = \"Allow\", Action = [...], Resource = [...] }]).")?;
    for (i, statement) in statements.iter().enumerate() {
        let resources = match &statement["Resource"] {
            serde_json::Value::String(s) => vec![s.as_str()],
            serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str()).collect(),
            _ => return Err(format!("statement {i} has no Resource.")),
        };
        if statement["Effect"].as_str().is_none() || statement["Action"].is_null() {
            return Err(format!("statement {i} needs Effect and Action."));
        }
        if resources.contains(&"*") {
            return Err(format!(
                "statement {i} allows \"Resource\": \"*\"; name the resources it needs."
            ));
        }
    }
    Ok(())
}

/// The role's policy: metrics only under the stack's namespace, logs only in its log group,
/// and the caller's statements. CloudWatch PutMetricData has no resource-level permissions, so
/// it is scoped by its namespace condition instead.
pub fn policy_document(suffix: &str, extra_statements: Option<&str>) -> String {
    let mut statements = vec![
        serde_json::json!({
            "Sid": "StackMetrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": naming::metrics_namespace(suffix)}}
        }),
        serde_json::json!({
            "Sid": "StackLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:*:*:log-group:{}:*", naming::log_group(suffix))
        }),
    ];
    if let Some(Ok(serde_json::Value::Array(extra))) = extra_statements.map(serde_json::from_str) {
        statements.extend(extra);
    }
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Item access to one DynamoDB table in every region it lives in, and its indexes: the
/// statement the instances of a failover stack get.
pub fn table_statements(table_arns: &[String]) -> String {
    let resources: Vec<String> = table_arns
        .iter()
        .flat_map(|arn| [arn.clone(), format!("{arn}/index/*")])
        .collect();
    serde_json::json!([{
        "Sid": "SessionTable",
        "Effect": "Allow",
        "Action": [
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
            "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"
        ],
        "Resource": resources
    }])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_must_name_their_resources() {
        assert!(check_statements(r#"[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:us-east-1:1:table/t"}]"#).is_ok());
        let refused = |json: &str, why: &str| {
            let err = check_statements(json).expect_err(json);
            assert!(err.contains(why), "{json}: {err}");
        };
        refused(
            r#"[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]"#,
            "statement 0 allows \"Resource\": \"*\"",
        );
        refused(
            r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","*"]}]"#,
            "statement 1 allows",
        );
        refused(
            r#"[{"Effect":"Allow","Action":"s3:GetObject"}]"#,
            "statement 0 has no Resource",
        );
        refused(r#"{"Effect":"Allow"}"#, "JSON array");
        refused("not json", "not valid JSON");
    }

    fn is_wildcard(statement: &serde_json::Value) -> bool {
        match &statement["Resource"] {
            serde_json::Value::String(r) => r == "*",
            serde_json::Value::Array(items) => items.iter().any(|r| r == "*"),
            _ => false,
        }
    }

    #[test]
    fn only_put_metric_data_uses_a_wildcard_and_it_is_conditioned() {
        let table = table_statements(&["arn:aws:dynamodb:us-east-1:1:table/t".into()]);
        for extra in [None, Some(table.as_str())] {
            let doc: serde_json::Value =
                serde_json::from_str(&policy_document("prod", extra)).unwrap();
            let statements = doc["Statement"].as_array().unwrap();
            assert_eq!(statements.len(), 2 + usize::from(extra.is_some()));
            let wildcards: Vec<_> = statements.iter().filter(|s| is_wildcard(s)).collect();
            assert_eq!(wildcards.len(), 1, "{statements:#?}");
            assert_eq!(wildcards[0]["Action"], "cloudwatch:PutMetricData");
            assert_eq!(
                wildcards[0]["Condition"]["StringEquals"]["cloudwatch:namespace"],
                "TradingApp/prod"
            );
        }
    }
}
