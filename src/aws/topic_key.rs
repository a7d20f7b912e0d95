//! The customer-managed KMS key that encrypts a region's alarm topic. CloudWatch alarms cannot
//! publish to a topic encrypted with the AWS-managed `alias/aws/sns`: its key policy does not let
//! `cloudwatch.amazonaws.com` use it and cannot be edited; the alarm history then shows "CloudWatch
//! Alarms does not have authorization to access the SNS topic encryption key"
//! (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns). So each topic gets a key of
//! its own whose policy admits CloudWatch, found again by its alias `alias/<topic name>` (or, after
//! a crash between CreateKey and CreateAlias, by its ownership tags).

use aws_sdk_kms::types::{KeyManagerType, KeyState, Tag};
use aws_sdk_kms::Client;
use serde_json::json;

use super::error::{AwsError, Context, PartResult};
use super::retry;
use crate::tags::{self, Tags, PART_KEY, STACK_KEY};

/// KMS's shortest deletion window, in days (ScheduleKeyDeletion accepts 7 to 30).
const DELETION_WINDOW_DAYS: i32 = 7;
/// Key policies have one name (GetKeyPolicy/PutKeyPolicy `PolicyName`).
const POLICY_NAME: &str = "default";
/// What SNS calls the AWS-managed key that CloudWatch cannot use.
pub const AWS_MANAGED_SNS_KEY: &str = "alias/aws/sns";

#[derive(Debug, Clone, PartialEq)]
pub struct KeyFacts {
    pub arn: String,
    pub id: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    /// An AWS-managed key such as `alias/aws/sns`, whose policy cannot admit CloudWatch.
    pub aws_managed: bool,
}

impl KeyFacts {
    /// Whether an alarm topic can use it: SNS cannot encrypt with a disabled key or one pending
    /// deletion, and CloudWatch cannot use an AWS-managed key.
    pub fn usable(&self) -> bool {
        self.state == KeyState::Enabled.as_str() && !self.aws_managed
    }
}

pub fn alias(topic_name: &str) -> String {
    format!("alias/{topic_name}")
}

/// `arn:aws:kms:<region>:<account>:key/<id>` → the account ID.
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// The account administers the key (without it the key becomes unmanageable, and PutKeyPolicy
/// refuses a policy that locks its caller out); CloudWatch alarms of this account may use it to
/// publish to the encrypted topic, as "Enable compatibility between event sources from AWS
/// services and encrypted topics" documents
/// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
/// In a key policy `"Resource": "*"` means this key alone.
pub fn policy(account: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}}
            }
        ]
    })
}

/// The key with this ID, ARN or alias, if KMS knows it.
pub async fn find_by_id(kms: &Client, key: &str) -> Result<Option<KeyFacts>, AwsError> {
    match kms.describe_key().key_id(key).send().await {
        Ok(out) => Ok(out.key_metadata().map(|m| KeyFacts {
            arn: m.arn().unwrap_or_default().to_owned(),
            id: m.key_id().to_owned(),
            state: m
                .key_state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            aws_managed: m.key_manager() == Some(&KeyManagerType::Aws),
        })),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// Whether CloudWatch alarms can publish through this key: enabled, customer-managed, and a
/// policy that lets `cloudwatch.amazonaws.com` use kms:Decrypt and kms:GenerateDataKey*.
pub async fn admits_cloudwatch(kms: &Client, key: &str) -> Result<bool, AwsError> {
    let Some(facts) = find_by_id(kms, key).await?.filter(KeyFacts::usable) else {
        return Ok(false);
    };
    let policy = kms
        .get_key_policy()
        .key_id(&facts.id)
        .policy_name(POLICY_NAME)
        .send()
        .await?;
    Ok(policy
        .policy()
        .and_then(|p| serde_json::from_str(p).ok())
        .is_some_and(|p| policy_admits_cloudwatch(&p)))
}

/// An Allow statement naming the CloudWatch service principal with both actions (or a wildcard
/// that covers them). Conditions are not evaluated: ours, on `aws:SourceAccount`, admits the
/// account's alarms.
fn policy_admits_cloudwatch(policy: &serde_json::Value) -> bool {
    let as_list = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let covers = |granted: &[String], action: &str| {
        granted.iter().any(|g| {
            let g = g.to_ascii_lowercase();
            match g.strip_suffix('*') {
                Some(prefix) => action.to_ascii_lowercase().starts_with(prefix),
                None => g == action.to_ascii_lowercase(),
            }
        })
    };
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements.iter().any(|s| {
        let actions = as_list(&s["Action"]);
        s["Effect"] == "Allow"
            && as_list(&s["Principal"]["Service"]).contains(&CLOUDWATCH.to_owned())
            && covers(&actions, "kms:Decrypt")
            && covers(&actions, "kms:GenerateDataKey")
    })
}

const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

/// The key of this topic: the one its alias names, else a usable key tagged as this topic's key.
pub async fn find(
    kms: &Client,
    topic_name: &str,
    suffix: &str,
) -> Result<Option<KeyFacts>, AwsError> {
    match find_by_id(kms, &alias(topic_name)).await? {
        Some(key) => Ok(Some(key)),
        None => find_tagged(kms, topic_name, suffix).await,
    }
}

/// A usable customer key carrying this topic's ownership tags: one created before a crash kept
/// the provider from naming it.
async fn find_tagged(
    kms: &Client,
    topic_name: &str,
    suffix: &str,
) -> Result<Option<KeyFacts>, AwsError> {
    let mut marker = None;
    loop {
        let out = kms.list_keys().set_marker(marker).send().await?;
        for entry in out.keys() {
            let Some(id) = entry.key_id() else { continue };
            let tags = match key_tags(kms, id).await {
                Ok(tags) => tags,
                // Keys of AWS services answer AccessDenied to ListResourceTags.
                Err(err) if err.is("AccessDeniedException") || err.is_not_found() => continue,
                Err(err) => return Err(err),
            };
            let ours = tags.get(STACK_KEY).map(String::as_str) == Some(suffix)
                && tags.get(PART_KEY).map(String::as_str) == Some(PART)
                && tags.get("Name").map(String::as_str) == Some(topic_name);
            if ours {
                if let Some(key) = find_by_id(kms, id).await?.filter(KeyFacts::usable) {
                    return Ok(Some(key));
                }
            }
        }
        match out.next_marker() {
            Some(next) if out.truncated() => marker = Some(next.to_owned()),
            _ => return Ok(None),
        }
    }
}

/// The ownership part of a topic key's tags.
pub const PART: &str = "alarm-topic-key";

/// A usable key for the topic, its policy admitting CloudWatch and its tags as asked; a key that
/// was disabled or scheduled for deletion out of band is replaced (the alias moves to the new
/// one). Returns the key's ARN.
pub async fn ensure(
    kms: &Client,
    topic_name: &str,
    suffix: &str,
    tags: &Tags,
) -> PartResult<String> {
    let alias = alias(topic_name);
    let action = || format!("creating KMS key {alias}");
    let named = find_by_id(kms, &alias).await.context(action)?;
    let key = match named.as_ref().filter(|k| k.usable()) {
        Some(key) => key.clone(),
        None => {
            let key = match find_tagged(kms, topic_name, suffix).await.context(action)? {
                Some(key) => key,
                None => retry::create_once(
                    &action(),
                    &[],
                    || find_tagged(kms, topic_name, suffix),
                    || create(kms, &alias, tags),
                )
                .await
                .context(action)?,
            };
            match &named {
                Some(old) => {
                    tracing::info!(
                        "moving {alias} from unusable key {} ({}) to {}",
                        old.id,
                        old.state,
                        key.id
                    );
                    kms.update_alias()
                        .alias_name(&alias)
                        .target_key_id(&key.id)
                        .send()
                        .await
                        .context(action)?;
                    // Ours, and of no use any more: leave it to be deleted rather than billed.
                    if old.state == KeyState::Disabled.as_str() {
                        schedule_deletion(kms, &old.id).await.context(action)?;
                    }
                }
                None => {
                    retry::create_once(
                        &action(),
                        &["AlreadyExistsException"],
                        || async { Ok(find_by_id(kms, &alias).await?.map(|_| ())) },
                        || async {
                            send_once!(
                                kms.create_alias().alias_name(&alias).target_key_id(&key.id),
                                aws_sdk_kms
                            )
                            .await
                            .map(|_| ())
                        },
                    )
                    .await
                    .context(action)?;
                }
            }
            key
        }
    };
    let configure = || format!("configuring KMS key {alias} ({})", key.id);
    let want = policy(account_of(&key.arn));
    let have = kms
        .get_key_policy()
        .key_id(&key.id)
        .policy_name(POLICY_NAME)
        .send()
        .await
        .context(configure)?
        .policy()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok());
    if have.as_ref() != Some(&want) {
        kms.put_key_policy()
            .key_id(&key.id)
            .policy_name(POLICY_NAME)
            .policy(want.to_string())
            .send()
            .await
            .context(configure)?;
    }
    sync_tags(kms, &key.id, tags).await.context(configure)?;
    Ok(key.arn)
}

/// A new symmetric key (the only kind SNS can use) with the account's default policy; `ensure`
/// then puts ours, which needs the account ID the new key's ARN carries.
async fn create(kms: &Client, alias: &str, tags: &Tags) -> Result<KeyFacts, AwsError> {
    tracing::info!("creating KMS key {alias}");
    let out = send_once!(
        kms.create_key()
            .description(format!(
                "Encrypts the SNS alarm topic behind {alias}; CloudWatch alarms may use it."
            ))
            .set_tags(Some(kms_tags(tags))),
        aws_sdk_kms
    )
    .await?;
    let meta = out.key_metadata();
    Ok(KeyFacts {
        arn: meta.and_then(|m| m.arn()).unwrap_or_default().to_owned(),
        id: meta.map(|m| m.key_id().to_owned()).unwrap_or_default(),
        state: KeyState::Enabled.as_str().to_owned(),
        aws_managed: false,
    })
}

fn kms_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().tag_key(k).tag_value(v).build().ok())
        .collect()
}

async fn key_tags(kms: &Client, id: &str) -> Result<Tags, AwsError> {
    let mut tags = Tags::new();
    let mut marker = None;
    loop {
        let out = kms
            .list_resource_tags()
            .key_id(id)
            .set_marker(marker)
            .send()
            .await?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned())),
        );
        match out.next_marker() {
            Some(next) if out.truncated() => marker = Some(next.to_owned()),
            _ => return Ok(tags),
        }
    }
}

async fn sync_tags(kms: &Client, id: &str, want: &Tags) -> Result<(), AwsError> {
    let changes = tags::diff(&key_tags(kms, id).await?, want);
    if !changes.stale.is_empty() {
        kms.untag_resource()
            .key_id(id)
            .set_tag_keys(Some(changes.stale))
            .send()
            .await?;
    }
    if !changes.changed.is_empty() {
        kms.tag_resource()
            .key_id(id)
            .set_tags(Some(kms_tags(&changes.changed)))
            .send()
            .await?;
    }
    Ok(())
}

async fn schedule_deletion(kms: &Client, id: &str) -> Result<(), AwsError> {
    tracing::info!("scheduling KMS key {id} for deletion in {DELETION_WINDOW_DAYS} days");
    match kms
        .schedule_key_deletion()
        .key_id(id)
        .pending_window_in_days(DELETION_WINDOW_DAYS)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = AwsError::from(err);
            // Already pending deletion: "KMSInvalidStateException: ... is pending deletion".
            if err.is_not_found() || err.is("KMSInvalidStateException") {
                Ok(())
            } else {
                Err(err)
            }
        }
    }
}

/// Removes the alias and schedules the topic's key for deletion after the shortest window (KMS
/// never deletes a key at once). Call it once the topic is gone.
pub async fn delete(kms: &Client, topic_name: &str, suffix: &str) -> PartResult<()> {
    let alias = alias(topic_name);
    let action = || format!("deleting KMS key {alias}");
    let Some(key) = find(kms, topic_name, suffix).await.context(action)? else {
        return Ok(());
    };
    match kms.delete_alias().alias_name(&alias).send().await {
        Ok(_) => {}
        Err(err) => {
            let err = AwsError::from(err);
            if !err.is_not_found() {
                return Err(err).context(action);
            }
        }
    }
    if key.state == KeyState::PendingDeletion.as_str() {
        return Ok(());
    }
    schedule_deletion(kms, &key.id).await.context(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_lets_only_this_accounts_cloudwatch_use_the_key() {
        let policy = policy("123456789012");
        let cloudwatch = &policy["Statement"][1];
        assert_eq!(
            cloudwatch["Principal"]["Service"],
            "cloudwatch.amazonaws.com"
        );
        assert_eq!(
            cloudwatch["Action"],
            json!(["kms:Decrypt", "kms:GenerateDataKey*"])
        );
        assert_eq!(
            cloudwatch["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            policy["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(
            account_of("arn:aws:kms:us-east-2:123456789012:key/1234abcd"),
            "123456789012"
        );
    }

    #[test]
    fn only_a_policy_granting_cloudwatch_both_actions_admits_it() {
        assert!(policy_admits_cloudwatch(&policy("123456789012")));
        let default = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]});
        assert!(!policy_admits_cloudwatch(&default));
        let decrypt_only = json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": "kms:Decrypt", "Resource": "*"}});
        assert!(!policy_admits_cloudwatch(&decrypt_only));
        let everything = json!({"Statement": {"Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": "kms:*", "Resource": "*"}});
        assert!(policy_admits_cloudwatch(&everything));
    }
}
