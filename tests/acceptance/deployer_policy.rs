//! `docs/deployer-policy.json`, the least privilege the provider needs: the composite's whole
//! lifecycle as an IAM user holding exactly that policy, with the local AWS evaluating IAM
//! policies (`LOCALAWS_IAM_ENFORCE`, localaws/iam_policies.py); a statement removed surfaces as
//! one clear diagnostic; the policy and every policy the provider writes lint clean.

use aws_credential_types::Credentials;

use crate::support::{
    assert_nothing_left, iam_user, lint_policy, percent_decode, project_root, LocalAws, Workspace,
};
use crate::trading_failover::{config, weights};

const POLICY: &str = "docs/deployer-policy.json";

fn deployer_policy() -> serde_json::Value {
    let text = std::fs::read_to_string(project_root().join(POLICY)).expect("reading the policy");
    serde_json::from_str(&text).expect("the policy is JSON")
}

/// A local AWS that evaluates IAM policies, and the keys of an IAM user holding `policy` as a
/// customer-managed policy (created with the account's own keys).
async fn deployer(policy: &serde_json::Value) -> (LocalAws, Credentials) {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_IAM_ENFORCE", "1")]);
    let credentials = iam_user(&aws, "deployer").await;
    let iam = aws.iam();
    let created = iam
        .create_policy()
        .policy_name("tap-deployer")
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
    (aws, credentials)
}

#[tokio::test]
async fn the_deployer_policy_carries_the_composite_through_its_lifecycle() {
    let (aws, credentials) = deployer(&deployer_policy()).await;

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
    let (aws, credentials) = deployer(&policy).await;

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
fn the_deployer_policy_lints_clean_and_fits_one_managed_policy() {
    let text = std::fs::read_to_string(project_root().join(POLICY)).expect("reading the policy");
    let findings = lint_policy(&text);
    assert!(findings.is_empty(), "{findings:#?}");
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    assert!(size <= 6144, "{size} characters");
}
