//! CloudWatch metric alarms: put (create and update are one idempotent call), find, tag and
//! delete.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use aws_sdk_cloudwatch::Client;

use super::error::{AwsError, Context, PartResult};
use crate::tags::{self, Tags};

/// Everything about an alarm that we set and read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub name: String,
    pub description: String,
    pub namespace: String,
    pub metric: String,
    pub statistic: String,
    /// `<`, `>`, `<=` or `>=`.
    pub comparison: &'static str,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub period: i32,
    pub dimensions: Vec<(String, String)>,
    /// SNS topic ARNs notified on ALARM and back on OK.
    pub actions: Vec<String>,
    pub actions_enabled: bool,
    pub treat_missing_data: &'static str,
}

const COMPARISONS: [(&str, ComparisonOperator); 4] = [
    ("<", ComparisonOperator::LessThanThreshold),
    (">", ComparisonOperator::GreaterThanThreshold),
    ("<=", ComparisonOperator::LessThanOrEqualToThreshold),
    (">=", ComparisonOperator::GreaterThanOrEqualToThreshold),
];

impl AlarmSpec {
    /// One line that changes whenever a setting we manage changes: how plans show alarm drift.
    pub fn summary(&self) -> String {
        let dimensions: Vec<String> = self
            .dimensions
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{} {}{{{}}} {} {} {} for {}x{}s, missing data {}, {} {}",
            self.namespace,
            self.metric,
            dimensions.join(","),
            self.statistic,
            self.comparison,
            self.threshold,
            self.evaluation_periods,
            self.period,
            self.treat_missing_data,
            if self.actions_enabled {
                "notifies"
            } else {
                "silenced, would notify"
            },
            self.actions.join(",")
        )
    }
}

/// What AWS holds: the settings as a spec (so they compare), and the state.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmFacts {
    pub arn: String,
    pub spec: AlarmSpec,
    pub state: String,
}

fn facts(alarm: &MetricAlarm) -> AlarmFacts {
    let comparison = COMPARISONS
        .iter()
        .find(|(_, op)| Some(op) == alarm.comparison_operator())
        .map_or("?", |(symbol, _)| symbol);
    let treat_missing_data = match alarm.treat_missing_data() {
        Some("breaching") => "breaching",
        Some("notBreaching") => "notBreaching",
        Some("ignore") => "ignore",
        _ => "missing",
    };
    let mut actions = alarm.alarm_actions().to_vec();
    actions.sort();
    AlarmFacts {
        arn: alarm.alarm_arn().unwrap_or_default().to_owned(),
        state: alarm
            .state_value()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        spec: AlarmSpec {
            name: alarm.alarm_name().unwrap_or_default().to_owned(),
            description: alarm.alarm_description().unwrap_or_default().to_owned(),
            namespace: alarm.namespace().unwrap_or_default().to_owned(),
            metric: alarm.metric_name().unwrap_or_default().to_owned(),
            statistic: alarm
                .statistic()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            comparison,
            threshold: alarm.threshold().unwrap_or_default(),
            evaluation_periods: alarm.evaluation_periods().unwrap_or_default(),
            period: alarm.period().unwrap_or_default(),
            dimensions: alarm
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_owned(),
                        d.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            actions,
            actions_enabled: alarm.actions_enabled().unwrap_or(true),
            treat_missing_data,
        },
    }
}

/// The alarms with these names that exist (DescribeAlarms takes at most 100 names).
pub async fn find(cw: &Client, names: &[String]) -> Result<Vec<AlarmFacts>, AwsError> {
    let mut found = Vec::new();
    for chunk in names.chunks(100) {
        let out = cw
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await?;
        found.extend(out.metric_alarms().iter().map(facts));
    }
    Ok(found)
}

/// Creates or overwrites the alarm, then makes its tags `tags` (PutMetricAlarm ignores tags
/// when the alarm exists).
pub async fn put(cw: &Client, spec: &AlarmSpec, tags: &Tags) -> PartResult<()> {
    let action = || format!("putting CloudWatch alarm {}", spec.name);
    tracing::info!("{}", action());
    let comparison = COMPARISONS
        .iter()
        .find(|(symbol, _)| *symbol == spec.comparison)
        .map(|(_, op)| op.clone());
    let out = cw
        .put_metric_alarm()
        .alarm_name(&spec.name)
        .alarm_description(&spec.description)
        .namespace(&spec.namespace)
        .metric_name(&spec.metric)
        .statistic(Statistic::from(spec.statistic.as_str()))
        .set_comparison_operator(comparison)
        .threshold(spec.threshold)
        .evaluation_periods(spec.evaluation_periods)
        .period(spec.period)
        .set_dimensions(Some(
            spec.dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                .collect(),
        ))
        .set_alarm_actions(Some(spec.actions.clone()))
        .set_ok_actions(Some(spec.actions.clone()))
        .actions_enabled(spec.actions_enabled)
        .treat_missing_data(spec.treat_missing_data)
        .set_tags(Some(cw_tags(tags)))
        .send()
        .await;
    out.context(action)?;
    let arn = find(cw, std::slice::from_ref(&spec.name))
        .await
        .context(action)?
        .into_iter()
        .next()
        .map(|f| f.arn)
        .unwrap_or_default();
    sync_tags(cw, &arn, tags).await.context(action)
}

fn cw_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub async fn sync_tags(cw: &Client, arn: &str, want: &Tags) -> Result<(), AwsError> {
    let have: Tags = cw
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await?
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect();
    let changes = tags::diff(&have, want);
    if !changes.stale.is_empty() {
        cw.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(changes.stale))
            .send()
            .await?;
    }
    if !changes.changed.is_empty() {
        cw.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(cw_tags(&changes.changed)))
            .send()
            .await?;
    }
    Ok(())
}

/// Deletes the named alarms that exist: AWS deletes nothing, and answers ResourceNotFound, when
/// one name in the request does not exist.
pub async fn delete(cw: &Client, names: &[String]) -> PartResult<()> {
    let action = || format!("deleting CloudWatch alarms {}", names.join(", "));
    let existing: Vec<String> = find(cw, names)
        .await
        .context(action)?
        .into_iter()
        .map(|f| f.spec.name)
        .collect();
    for chunk in existing.chunks(100) {
        tracing::info!("deleting CloudWatch alarms {}", chunk.join(", "));
        cw.delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .context(action)?;
    }
    Ok(())
}
