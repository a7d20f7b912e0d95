//! The SNS topic of each region that alarms notify: encrypted with a KMS key CloudWatch can use
//! (see `topic_key`), a policy that lets CloudWatch alarms of this account publish, and e-mail
//! subscriptions.

use std::collections::BTreeSet;

use aws_sdk_sns::types::Tag;
use aws_sdk_sns::Client;
use serde_json::json;

use super::error::{AwsError, Context, PartResult};
use crate::tags::{self, Tags};

/// What ListSubscriptionsByTopic shows as the ARN of a subscription until its owner clicks the
/// link in the confirmation e-mail. Such a subscription cannot be unsubscribed ("You can't
/// delete a subscription that's pending confirmation. Amazon SNS automatically deletes
/// unconfirmed subscriptions after 48 hours",
/// https://docs.aws.amazon.com/sns/latest/dg/sns-delete-subscription-topic.html).
const PENDING: &str = "PendingConfirmation";

#[derive(Debug, Clone, PartialEq)]
pub struct TopicFacts {
    pub arn: String,
    pub kms_key: Option<String>,
    pub policy: Option<serde_json::Value>,
    /// E-mail endpoints subscribed, confirmed or not.
    pub emails: BTreeSet<String>,
    /// Those whose subscription still waits for its owner to confirm it.
    pub pending: BTreeSet<String>,
    /// How many subscriptions are confirmed.
    pub confirmed: usize,
}

/// `arn:aws:sns:<region>:<account>:<name>` → the account ID.
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// Lets CloudWatch alarms of this account, in the topic's region, publish; the account keeps
/// the rights SNS gives a topic's owner by default.
pub fn policy(arn: &str) -> serde_json::Value {
    let account = account_of(arn);
    let region = arn.split(':').nth(3).unwrap_or_default();
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnerManages",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": [
                    "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission",
                    "sns:RemovePermission", "sns:DeleteTopic", "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic", "sns:Publish"
                ],
                "Resource": arn
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": format!("arn:aws:cloudwatch:{region}:{account}:alarm:*")},
                    "StringEquals": {"aws:SourceAccount": account}
                }
            }
        ]
    })
}

/// The topic with this name in the client's region.
pub async fn find(sns: &Client, name: &str) -> Result<Option<TopicFacts>, AwsError> {
    let wanted = format!(":{name}");
    let mut token = None;
    let arn = loop {
        let out = sns.list_topics().set_next_token(token).send().await?;
        if let Some(arn) = out
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.ends_with(&wanted))
        {
            break arn.to_owned();
        }
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(None),
        }
    };
    find_by_arn(sns, &arn, Subscriptions::List).await
}

/// Whether to list a topic's subscriptions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subscriptions {
    List,
    /// Only when the topic's subscription counts say it has some. The counts lag new
    /// subscriptions on AWS, so this is for topics that should have none.
    IfCounted,
}

/// The topic with this ARN (a topic's ARN follows from its name, region and account).
pub async fn find_by_arn(
    sns: &Client,
    arn: &str,
    subscriptions: Subscriptions,
) -> Result<Option<TopicFacts>, AwsError> {
    let attributes = match sns.get_topic_attributes().topic_arn(arn).send().await {
        Ok(out) => out.attributes().cloned().unwrap_or_default(),
        Err(err) => {
            let err = AwsError::from(err);
            return if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    let counted = ["SubscriptionsConfirmed", "SubscriptionsPending"]
        .iter()
        .any(|key| attributes.get(*key).is_some_and(|n| n != "0"));
    let subscriptions = if counted || subscriptions == Subscriptions::List {
        email_subscriptions(sns, arn).await?
    } else {
        Vec::new()
    };
    Ok(Some(TopicFacts {
        kms_key: attributes.get("KmsMasterKeyId").cloned(),
        policy: attributes
            .get("Policy")
            .and_then(|p| serde_json::from_str(p).ok()),
        confirmed: subscriptions
            .iter()
            .filter(|(_, sub)| sub != PENDING)
            .count(),
        pending: subscriptions
            .iter()
            .filter(|(_, sub)| sub == PENDING)
            .map(|(email, _)| email.clone())
            .collect(),
        emails: subscriptions.into_iter().map(|(email, _)| email).collect(),
        arn: arn.to_owned(),
    }))
}

/// (endpoint, subscription ARN) of each e-mail subscription.
async fn email_subscriptions(sns: &Client, arn: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(token)
            .send()
            .await?;
        found.extend(
            out.subscriptions()
                .iter()
                .filter(|s| s.protocol() == Some("email"))
                .map(|s| {
                    (
                        s.endpoint().unwrap_or_default().to_owned(),
                        s.subscription_arn().unwrap_or_default().to_owned(),
                    )
                }),
        );
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(found),
        }
    }
}

/// Creates the topic if needed and brings its encryption (`kms_key`, a key ARN), policy, tags
/// and e-mail subscriptions to what is asked. Returns its ARN.
pub async fn ensure(
    sns: &Client,
    name: &str,
    kms_key: &str,
    tags: &Tags,
    emails: &[String],
) -> PartResult<String> {
    let action = || format!("creating SNS topic {name}");
    let existing = find(sns, name).await.context(action)?;
    let arn = match &existing {
        Some(topic) => topic.arn.clone(),
        None => {
            tracing::info!("{}", action());
            sns.create_topic()
                .name(name)
                .attributes("KmsMasterKeyId", kms_key)
                .set_tags(Some(sns_tags(tags)))
                .send()
                .await
                .context(action)?
                .topic_arn()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let configure = || format!("configuring SNS topic {arn}");
    let want_policy = policy(&arn);
    let (key_now, policy_now) = existing
        .as_ref()
        .map_or((None, None), |t| (t.kms_key.as_deref(), t.policy.as_ref()));
    if existing.is_some() && key_now != Some(kms_key) {
        set_attribute(sns, &arn, "KmsMasterKeyId", kms_key)
            .await
            .context(configure)?;
    }
    if policy_now != Some(&want_policy) {
        set_attribute(sns, &arn, "Policy", &want_policy.to_string())
            .await
            .context(configure)?;
    }
    sync_tags(sns, &arn, tags).await.context(configure)?;
    sync_emails(sns, &arn, emails).await.context(configure)?;
    Ok(arn)
}

async fn set_attribute(sns: &Client, arn: &str, name: &str, value: &str) -> Result<(), AwsError> {
    sns.set_topic_attributes()
        .topic_arn(arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await?;
    Ok(())
}

fn sns_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

async fn sync_tags(sns: &Client, arn: &str, want: &Tags) -> Result<(), AwsError> {
    let have: Tags = sns
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await?
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    let changes = tags::diff(&have, want);
    if !changes.stale.is_empty() {
        sns.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(changes.stale))
            .send()
            .await?;
    }
    if !changes.changed.is_empty() {
        sns.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sns_tags(&changes.changed)))
            .send()
            .await?;
    }
    Ok(())
}

/// Subscribes missing addresses and unsubscribes removed ones. A subscription still pending
/// confirmation cannot be removed (see `PENDING`): it is left to expire.
async fn sync_emails(sns: &Client, arn: &str, want: &[String]) -> Result<(), AwsError> {
    let have = email_subscriptions(sns, arn).await?;
    for email in want {
        if !have.iter().any(|(endpoint, _)| endpoint == email) {
            tracing::info!("subscribing {email} to SNS topic {arn}");
            sns.subscribe()
                .topic_arn(arn)
                .protocol("email")
                .endpoint(email)
                .send()
                .await?;
        }
    }
    for (endpoint, subscription) in have.iter().filter(|(e, _)| !want.contains(e)) {
        if subscription == PENDING {
            tracing::warn!("{endpoint} is still pending confirmation on SNS topic {arn}: SNS cannot unsubscribe it; it expires unconfirmed after 48 hours");
        } else {
            tracing::info!("unsubscribing {endpoint} from SNS topic {arn}");
            sns.unsubscribe()
                .subscription_arn(subscription)
                .send()
                .await?;
        }
    }
    Ok(())
}

pub async fn delete(sns: &Client, arn: &str) -> PartResult<()> {
    tracing::info!("deleting SNS topic {arn}");
    match sns.delete_topic().topic_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                Ok(())
            } else {
                Err(err).context(|| format!("deleting SNS topic {arn}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_accounts_alarms_in_the_topics_region_may_publish() {
        let arn = "arn:aws:sns:us-east-2:123456789012:standby-failover-notifications-prod";
        let policy = policy(arn);
        let statement = &policy["Statement"][1];
        assert_eq!(
            statement["Principal"]["Service"],
            "cloudwatch.amazonaws.com"
        );
        assert_eq!(statement["Resource"], arn);
        assert_eq!(
            statement["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:cloudwatch:us-east-2:123456789012:alarm:*"
        );
        assert!(!policy.to_string().contains("\"*\""));
    }
}
