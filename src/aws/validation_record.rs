//! The CNAME record through which ACM validates the stack's certificates. "Since the CNAME
//! validation token works for any Region, you can re-create the same certificate in multiple
//! Regions" (ACM user guide, "DNS validation"): one record serves the certificate of every
//! region, so it is written once, with UPSERT (a second CREATE of the same name is refused,
//! hashicorp/terraform-provider-aws#7918), and kept while the certificates are: ACM renews them
//! only while it stays.

use std::time::Duration;

use aws_sdk_route53::types::{Change, ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use aws_sdk_route53::Client;

use super::error::{built, AwsError, Cause, Context, PartResult};
use super::hosted_zone::same_name;
use super::route53;

/// The record never changes while the certificates live; resolvers may cache it for 5 minutes.
const TTL: i64 = 300;

#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRecord {
    /// With its trailing dot, as ACM gives it.
    pub name: String,
    pub value: String,
}

/// Whether `value` is one ACM gives a validation record: `_<token>.<id>.acm-validations.aws.`
/// (the value of the DomainValidation `ResourceRecord`; its name is `_<token>.<domain>`,
/// API_DomainValidation). A record found only by a name a state recorded is deleted only then.
pub fn is_acm_value(value: &str) -> bool {
    value
        .trim_end_matches('.')
        .ends_with(".acm-validations.aws")
}

/// The CNAME value at `name` in the zone, if any.
pub async fn find(r53: &Client, zone_id: &str, name: &str) -> Result<Option<String>, AwsError> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(RrType::Cname)
        .max_items(1)
        .send()
        .await?;
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|set| same_name(set.name(), name) && set.r#type() == &RrType::Cname)
        .and_then(|set| set.resource_records().first())
        .map(|r| r.value().to_owned()))
}

fn change(action: ChangeAction, record: &ValidationRecord) -> Result<Change, Cause> {
    let value = built(ResourceRecord::builder().value(&record.value).build())?;
    let set = ResourceRecordSet::builder()
        .name(&record.name)
        .r#type(RrType::Cname)
        .ttl(TTL)
        .resource_records(value);
    route53::record_change(action, set)
}

/// Writes the record unless it is already there with this value.
pub async fn ensure(
    r53: &Client,
    zone_id: &str,
    record: &ValidationRecord,
    timeout: Duration,
) -> PartResult<()> {
    let what = format!("writing ACM validation record {}", record.name);
    let have = find(r53, zone_id, &record.name)
        .await
        .context(|| format!("{what} in Route 53 zone {zone_id}"))?;
    if have.is_some_and(|v| same_name(&v, &record.value)) {
        return Ok(());
    }
    let change = change(ChangeAction::Upsert, record).context(|| what.clone())?;
    route53::change_and_wait(r53, zone_id, vec![change], timeout, &what).await
}

/// Deletes the record as it is now (Route 53 deletes only an exact match); gone is done.
pub async fn delete(r53: &Client, zone_id: &str, name: &str, timeout: Duration) -> PartResult<()> {
    let what = format!("deleting ACM validation record {name}");
    let Some(value) = find(r53, zone_id, name)
        .await
        .context(|| format!("{what} in Route 53 zone {zone_id}"))?
    else {
        return Ok(());
    };
    let record = ValidationRecord {
        name: name.to_owned(),
        value,
    };
    let change = change(ChangeAction::Delete, &record).context(|| what.clone())?;
    route53::change_and_wait(r53, zone_id, vec![change], timeout, &what).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_acms_values_are_acms() {
        assert!(is_acm_value(
            "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."
        ));
        assert!(is_acm_value("_x2.abc.acm-validations.aws"));
        for other in ["www.example.com.", "acm-validations.aws.evil.example.", ""] {
            assert!(!is_acm_value(other), "{other}");
        }
    }
}
