//! `docs/deployer-policy.json`, the least privilege the provider needs: the composite's whole
//! lifecycle as an IAM user holding exactly that policy, with the local AWS evaluating IAM
//! policies (`LOCALAWS_IAM_ENFORCE`, localaws/iam_policies.py); a statement removed surfaces as
//! one clear diagnostic; the policy and every policy the provider writes lint clean.

use aws_credential_types::Credentials;

use crate::support::{
    assert_nothing_left, iam_user, lint_policy, percent_decode, project_root, LocalAws, Workspace,
};
use crate::trading_failover::{config, given_zone, listener, nothing_left_beside, weights};

const POLICY: &str = "docs/deployer-policy.json";

const TLS_POLICY: &str = "docs/deployer-policy-tls.json";

fn policy_file(path: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(project_root().join(path)).expect("reading the policy");
    serde_json::from_str(&text).expect("the policy is JSON")
}

fn deployer_policy() -> serde_json::Value {
    policy_file(POLICY)
}

/// A local AWS that evaluates IAM policies, and the keys of an IAM user holding `policies` as
/// customer-managed policies (created with the account's own keys).
async fn deployer(policies: &[serde_json::Value]) -> (LocalAws, Credentials) {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_IAM_ENFORCE", "1")]);
    let credentials = iam_user(&aws, "deployer").await;
    for (i, policy) in policies.iter().enumerate() {
        grant(&aws, &format!("tap-deployer-{i}"), policy).await;
    }
    (aws, credentials)
}

/// `policy` attached to the deployer as the customer-managed policy `name`.
async fn grant(aws: &LocalAws, name: &str, policy: &serde_json::Value) {
    let iam = aws.iam();
    let created = iam
        .create_policy()
        .policy_name(name)
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("CreatePolicy");
    iam.attach_user_policy()
        .user_name("deployer")
        .policy_arn(created.policy().and_then(|p| p.arn()).expect("policy ARN"))
        .send()
        .await
        .expect("AttachUserPolicy");
}

#[tokio::test]
async fn the_deployer_policy_carries_the_composite_through_its_lifecycle() {
    let (aws, credentials) = deployer(&[deployer_policy()]).await;

    // The local AWS really refuses this user what the policy does not grant.
    let as_deployer = aws_sdk_iam::Client::new(
        &aws.sdk_config("us-east-1")
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials.clone()),
            )
            .build(),
    );
    let refused = as_deployer
        .list_users()
        .send()
        .await
        .expect_err("ListUsers is not granted");
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&refused),
        Some("AccessDenied")
    );

    let ws = Workspace::new(&aws).credentials(&credentials);
    ws.config(&config(""));
    ws.apply();
    assert_eq!(weights(&aws).await, (100, 0));
    ws.assert_plan_empty();

    // Every policy the provider wrote lints clean, as the deployer policy does.
    for (what, document) in written_policies(&aws).await {
        let mut findings = lint_policy(&document);
        // A role's trust policy has no Resource: the role is the resource (IAM User Guide,
        // "IAM JSON policy elements: Resource"); parliament lints it as an identity policy.
        if what.starts_with("trust policy") {
            findings.retain(|f| !f.contains("neither Resource nor NotResource"));
        }
        // In a key policy, "Resource": "*" means "this KMS key", the form AWS documents
        // (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
        if what.starts_with("key policy") {
            findings.retain(|f| !f.starts_with("RESOURCE_STAR"));
        }
        assert!(findings.is_empty(), "{what}: {findings:#?}\n{document}");
    }

    ws.config(&config("  active_region = \"standby\""));
    ws.apply();
    assert_eq!(weights(&aws).await, (0, 100));
    ws.assert_plan_empty();

    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// The IAM policy documents the provider wrote, as AWS holds them: the instance role's trust and
/// inline policies, the topics' access policies and the topic keys' key policies.
async fn written_policies(aws: &LocalAws) -> Vec<(String, String)> {
    let iam = aws.iam();
    let role = iam
        .get_role()
        .role_name("ec2-acc")
        .send()
        .await
        .expect("GetRole");
    let mut documents = vec![(
        "trust policy of ec2-acc".to_owned(),
        percent_decode(
            role.role()
                .and_then(|r| r.assume_role_policy_document())
                .unwrap_or_default(),
        ),
    )];
    let inline = iam
        .get_role_policy()
        .role_name("ec2-acc")
        .policy_name("least-privilege")
        .send()
        .await
        .expect("GetRolePolicy");
    documents.push((
        "policy of ec2-acc".to_owned(),
        percent_decode(inline.policy_document()),
    ));
    for region in ["us-east-1", "us-east-2"] {
        let sns = aws.sns(region);
        let topics = sns.list_topics().send().await.expect("ListTopics");
        for topic in topics.topics().iter().filter_map(|t| t.topic_arn()) {
            let attributes = sns
                .get_topic_attributes()
                .topic_arn(topic)
                .send()
                .await
                .expect("GetTopicAttributes");
            let attributes = attributes.attributes().cloned().unwrap_or_default();
            if let Some(policy) = attributes.get("Policy") {
                documents.push((format!("policy of {topic}"), policy.clone()));
            }
            let Some(key) = attributes.get("KmsMasterKeyId") else {
                continue;
            };
            if key.starts_with("alias/aws/") {
                continue;
            }
            let policy = aws
                .kms(region)
                .get_key_policy()
                .key_id(key)
                .policy_name("default")
                .send()
                .await
                .expect("GetKeyPolicy");
            documents.push((
                format!("key policy of {key}"),
                policy.policy().unwrap_or_default().to_owned(),
            ));
        }
    }
    documents
}

#[tokio::test]
async fn a_statement_missing_from_the_policy_fails_naming_the_action_the_part_and_the_policy() {
    let mut policy = deployer_policy();
    let statements = policy["Statement"].as_array_mut().expect("statements");
    let before = statements.len();
    statements.retain(|s| s["Sid"] != "Table");
    assert_eq!(
        statements.len(),
        before - 1,
        "the policy has a Table statement"
    );
    let (aws, credentials) = deployer(&[policy]).await;

    let ws = Workspace::new(&aws).credentials(&credentials);
    ws.config("resource \"tap_session_table\" \"sessions\" {\n  environment_suffix = \"acc\"\n  replica_regions    = []\n}\n");
    let run = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(run.code, 0, "{}", run.text());
    let text = run.text().replace('\n', " ");
    assert!(
        text.contains("DynamoDB table trading-sessions-acc"),
        "names the part: {text}"
    );
    assert!(text.contains("AccessDeniedException"), "AWS's code: {text}");
    assert!(
        text.contains("IAM permission dynamodb:CreateTable;")
            || text.contains("IAM permission dynamodb:DescribeTable;"),
        "names the action: {text}"
    );
    assert!(
        text.contains("docs/deployer-policy.json"),
        "points at the policy: {text}"
    );
    let tables = aws
        .dynamodb("us-east-1")
        .list_tables()
        .send()
        .await
        .expect("ListTables");
    assert!(
        tables.table_names().is_empty(),
        "{:?}",
        tables.table_names()
    );
}

/// Clean under parliament's auditors, and small enough for one customer-managed policy: IAM
/// counts 6,144 characters at most, whitespace not counted
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
#[test]
fn the_deployer_policies_lint_clean_and_each_fits_one_managed_policy() {
    for path in [POLICY, TLS_POLICY] {
        let text = std::fs::read_to_string(project_root().join(path)).expect("reading the policy");
        let findings = lint_policy(&text);
        assert!(findings.is_empty(), "{path}: {findings:#?}");
        let size = text.chars().filter(|c| !c.is_whitespace()).count();
        assert!(size <= 6144, "{path}: {size} characters");
    }
}

/// `tls = "auto"` needs ACM besides: the deployer policy alone is refused the certificate,
/// naming the action and the TLS policy, and what the failed apply made (the table, made beside)
/// is in state; with `deployer-policy-tls.json` granted too, the apply goes on, both regions'
/// certificates are issued and served, and destroy leaves nothing.
#[tokio::test]
async fn with_the_tls_policy_beside_it_the_deployer_obtains_and_deletes_certificates() {
    let (aws, credentials) = deployer(&[deployer_policy()]).await;
    let zone = given_zone(&aws).await;
    aws.delegate(&zone);
    let ws = Workspace::new(&aws).credentials(&credentials);
    ws.config(&config(&format!(
        "  hosted_zone_id = \"{zone}\"\n  primary {{\n    nat_mode = \"none\"\n  }}\n  standby {{\n    nat_mode = \"none\"\n  }}"
    )));
    ws.assert_apply_fails_saying(&[
        "AccessDeniedException",
        "IAM permission acm:",
        "docs/deployer-policy-tls.json",
    ]);
    // The read-back after the failure, refused the certificates too, still saved the rest.
    let saved = ws.resource("tap_trading_failover.prod");
    assert!(
        saved["table_arn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("table/trading-sessions-acc")),
        "{saved}"
    );

    grant(&aws, "tap-deployer-tls", &policy_file(TLS_POLICY)).await;
    ws.apply();
    for (region, role) in [("us-east-1", "primary"), ("us-east-2", "standby")] {
        let https = listener(&aws, region, role, 443)
            .await
            .unwrap_or_else(|| panic!("no HTTPS listener in {region}"));
        let arn = https.certificates()[0]
            .certificate_arn()
            .unwrap_or_default();
        let issued = aws
            .acm(region)
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .expect("DescribeCertificate");
        assert_eq!(
            issued
                .certificate()
                .and_then(|c| c.status())
                .map(|s| s.as_str()),
            Some("ISSUED")
        );
    }
    ws.assert_plan_empty();
    ws.destroy();
    nothing_left_beside(&aws, &zone).await;
}
