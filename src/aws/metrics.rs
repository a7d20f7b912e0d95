//! Reading CloudWatch metrics: the latest datapoint of one metric.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_sdk_cloudwatch::Client;

use super::error::AwsError;

/// The most recent `statistic` of a metric over the last `window`, if any datapoint exists.
pub async fn latest(
    cw: &Client,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    statistic: Statistic,
    window: Duration,
) -> Result<Option<f64>, AwsError> {
    let end = SystemTime::now();
    let start = end.checked_sub(window).unwrap_or(end);
    let out = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(metric)
        .set_dimensions(Some(
            dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
                .collect(),
        ))
        .start_time(DateTime::from(start))
        .end_time(DateTime::from(end))
        .period(60)
        .statistics(statistic.clone())
        .send()
        .await?;
    let value = |d: &aws_sdk_cloudwatch::types::Datapoint| match statistic {
        Statistic::Maximum => d.maximum(),
        Statistic::Minimum => d.minimum(),
        Statistic::Sum => d.sum(),
        _ => d.average(),
    };
    Ok(out
        .datapoints()
        .iter()
        .filter(|d| d.timestamp().is_some())
        .max_by_key(|d| d.timestamp().map(|t| t.secs()))
        .and_then(value))
}
