//! The stack's ACM certificate in one region, validated by DNS: request (or find again), read its
//! validation record, wait until ACM issues it, delete it once no listener uses it. ACM
//! certificates are regional, so each stack region has its own; the validation record is the
//! same for every region (`validation_record`).

use std::time::Duration;

use aws_sdk_acm::types::{CertificateStatus, CertificateType, KeyAlgorithm, Tag, ValidationMethod};
use aws_sdk_acm::Client;
use tokio::time::Instant;

use super::error::{built, found, AwsError, Cause, Context, PartError, PartResult};
use super::hosted_zone::ZoneFacts;
use super::retry;
use super::validation_record::ValidationRecord;
use super::wait::{self, Poll};
use crate::tags::{Tags, PART_KEY, STACK_KEY};
use crate::tf::duration;

/// The `tap:part` tag of the stack's certificates.
pub const PART: &str = "certificate";

/// "After successful completion of the RequestCertificate action, there is a delay of several
/// seconds before you can retrieve information about the new certificate", and the validation
/// record appears a few seconds later still (API_RequestCertificate; hashicorp/aws waits 5m for
/// it, `certificateDNSValidationAssignmentTimeout`).
const RECORD_ASSIGNMENT: Duration = Duration::from_secs(5 * 60);

/// "You cannot delete an ACM certificate that is being used by another AWS service"
/// (API_DeleteCertificate), and ACM takes ~10 s to notice that a deleted listener no longer
/// uses it (aws/aws-cdk#4179): how long a delete is retried while it is in use.
const RELEASE: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, PartialEq)]
pub struct CertificateFacts {
    pub arn: String,
    pub domain_name: String,
    /// `PENDING_VALIDATION`, `ISSUED`, ... as ACM spells it.
    pub status: String,
    /// When it expires, in seconds since the Unix epoch; `None` before it is issued.
    pub not_after: Option<i64>,
    /// Imported (ImportCertificate): ACM never renews it; one ACM issued renews itself.
    pub imported: bool,
}

impl CertificateFacts {
    pub fn issued(&self) -> bool {
        self.status == CertificateStatus::Issued.as_str()
    }
}

/// The certificate with this ARN, or `None` if it does not exist.
pub async fn find_by_arn(acm: &Client, arn: &str) -> Result<Option<CertificateFacts>, AwsError> {
    Ok(describe(acm, arn).await?.map(|(facts, _)| facts))
}

/// The certificate's DNS validation record, once ACM has assigned it; `None` when the
/// certificate has none (yet) or does not exist.
pub async fn validation_record(
    acm: &Client,
    arn: &str,
) -> Result<Option<ValidationRecord>, AwsError> {
    Ok(describe(acm, arn).await?.and_then(|(_, record)| record))
}

async fn describe(
    acm: &Client,
    arn: &str,
) -> Result<Option<(CertificateFacts, Option<ValidationRecord>)>, AwsError> {
    let Some(out) = found(acm.describe_certificate().certificate_arn(arn).send().await)? else {
        return Ok(None);
    };
    let Some(cert) = out.certificate() else {
        return Ok(None);
    };
    let record = cert
        .domain_validation_options()
        .iter()
        .find_map(|o| o.resource_record())
        .map(|r| ValidationRecord {
            name: r.name().to_owned(),
            value: r.value().to_owned(),
        });
    let facts = CertificateFacts {
        arn: arn.to_owned(),
        domain_name: cert.domain_name().unwrap_or_default().to_owned(),
        status: cert
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        not_after: cert.not_after().map(|t| t.secs()),
        imported: cert.r#type() == Some(&CertificateType::Imported),
    };
    Ok(Some((facts, record)))
}

/// The stack's certificate for `domain` in this region, found by its ownership tags (ACM has
/// no tag filter: every certificate for the name is listed and its tags read). Certificates that
/// can no longer be issued (failed, timed out, revoked, expired) are not ours to reuse.
pub async fn find_ours(
    acm: &Client,
    domain: &str,
    suffix: &str,
) -> Result<Option<CertificateFacts>, AwsError> {
    for arn in live_of(acm, domain).await? {
        if ours(acm, &arn, suffix).await? == Some(true) {
            return find_by_arn(acm, &arn).await;
        }
    }
    Ok(None)
}

/// The certificates of `domain` in this region, other than the stack's, whose DNS validation
/// record is `record` (by name). ACM gives the certificates of one domain in an account the same
/// record ("the CNAME validation token works for any Region", ACM user guide, DNS validation;
/// observed for two certificates of one name in one Region, dflook/cloudformation-dns-certificate#7),
/// and the record "is what lets ACM renew certificates automatically" (ACM user guide, "ACME
/// domain validation"): a record they name is theirs too.
pub async fn others_naming(
    acm: &Client,
    domain: &str,
    record: &str,
    suffix: &str,
) -> Result<Vec<String>, AwsError> {
    let mut others = Vec::new();
    for arn in live_of(acm, domain).await? {
        if ours(acm, &arn, suffix).await? != Some(false) {
            continue;
        }
        let named = validation_record(acm, &arn).await?;
        if named.is_some_and(|r| super::hosted_zone::same_name(&r.name, record)) {
            others.push(arn);
        }
    }
    Ok(others)
}

/// The certificates of `domain` (its name or one of its other names) in this region that are
/// issued or waiting for validation: those that still need their validation record.
async fn live_of(acm: &Client, domain: &str) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let out = acm
            .list_certificates()
            .certificate_statuses(CertificateStatus::PendingValidation)
            .certificate_statuses(CertificateStatus::Issued)
            .set_next_token(token)
            .send()
            .await?;
        for summary in out.certificate_summary_list() {
            let names = summary
                .domain_name()
                .into_iter()
                .chain((summary.subject_alternative_name_summaries().iter()).map(String::as_str));
            if let Some(arn) = summary.certificate_arn() {
                if names.into_iter().any(|n| n.eq_ignore_ascii_case(domain)) {
                    arns.push(arn.to_owned());
                }
            }
        }
        match out.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => return Ok(arns),
        }
    }
}

/// Whether the certificate carries the stack's ownership tags; `None` once it is gone.
async fn ours(acm: &Client, arn: &str, suffix: &str) -> Result<Option<bool>, AwsError> {
    let tags = match acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
    {
        Ok(out) => out,
        Err(err) => {
            let err = AwsError::from(err);
            if err.is_not_found() {
                return Ok(None);
            }
            return Err(err);
        }
    };
    let tagged = |key: &str, value: &str| {
        tags.tags()
            .iter()
            .any(|t| t.key() == key && t.value() == Some(value))
    };
    Ok(Some(tagged(STACK_KEY, suffix) && tagged(PART_KEY, PART)))
}

/// Requests a DNS-validated certificate for `domain` (or adopts the one a crashed apply
/// requested) and waits until ACM has assigned its validation record.
pub async fn ensure(
    acm: &Client,
    region: &str,
    domain: &str,
    suffix: &str,
    tags: &Tags,
) -> PartResult<(CertificateFacts, ValidationRecord)> {
    let action = || format!("requesting ACM certificate for {domain} in {region}");
    let arn = match find_ours(acm, domain, suffix).await.context(action)? {
        Some(found) => found.arn,
        None => {
            tracing::info!("{}", action());
            let tags = tags
                .iter()
                .map(|(k, v)| built(Tag::builder().key(k).value(v).build()))
                .collect::<Result<Vec<_>, _>>()
                .context(action)?;
            retry::create_once(
                &action(),
                &[],
                || async { Ok(find_ours(acm, domain, suffix).await?.map(|c| c.arn)) },
                || async {
                    let out = send_once!(
                        acm.request_certificate()
                            .domain_name(domain)
                            .validation_method(ValidationMethod::Dns)
                            // What load balancers accept, and what ListCertificates lists
                            // without a key-type filter.
                            .key_algorithm(KeyAlgorithm::Rsa2048)
                            .set_tags(Some(tags.clone())),
                        aws_sdk_acm
                    )
                    .await?;
                    Ok::<_, AwsError>(out.certificate_arn().unwrap_or_default().to_owned())
                },
            )
            .await
            .context(action)?
        }
    };
    let waiting = || format!("reading the DNS validation record of ACM certificate {arn}");
    wait::until(RECORD_ASSIGNMENT, || async {
        Ok(match describe(acm, &arn).await? {
            Some((facts, Some(record))) => Poll::Ready((facts, record)),
            Some((facts, None)) => Poll::Pending(format!("{}, no record yet", facts.status)),
            // Just requested: not visible for a few seconds.
            None => Poll::Pending("not visible yet".into()),
        })
    })
    .await
    .context(waiting)
}

/// Waits until ACM has issued the certificate. ACM validates by looking the record up in public
/// DNS, so a record in a zone the internet does not reach (its parent does not delegate to the
/// zone's name servers) keeps it pending: the timeout says which record to check, and where.
pub async fn wait_issued(
    acm: &Client,
    cert: &CertificateFacts,
    record: &ValidationRecord,
    zone: &ZoneFacts,
    timeout: Duration,
) -> PartResult<()> {
    let action = || {
        format!(
            "waiting for ACM certificate {} for {} to be issued",
            cert.arn, cert.domain_name
        )
    };
    let waited = wait::until(timeout, || async {
        let Some((facts, _)) = describe(acm, &cert.arn).await? else {
            return Ok(Poll::Failed("the certificate was deleted meanwhile".into()));
        };
        Ok(
            match CertificateStatus::from(facts.status.as_str()) {
                CertificateStatus::Issued => Poll::Ready(()),
                CertificateStatus::PendingValidation => Poll::Pending(facts.status),
                _ => Poll::Failed(format!(
                    "ACM answers {}: it will not issue this certificate. The next apply requests a new one; delete this one in ACM, which the provider no longer looks after.",
                    facts.status
                )),
            },
        )
    })
    .await;
    match waited {
        Err(Cause::Timeout { waited, .. }) => Err(PartError {
            action: action(),
            cause: Cause::Unexpected(not_validated(record, zone, waited)),
        }),
        other => other.context(action),
    }
}

/// The diagnostic of a validation that did not complete in time.
fn not_validated(record: &ValidationRecord, zone: &ZoneFacts, waited: Duration) -> String {
    let servers = if zone.name_servers.is_empty() {
        "its name servers".to_owned()
    } else {
        zone.name_servers.join(", ")
    };
    format!(
        "still PENDING_VALIDATION after {}. ACM validates through public DNS: it looks for the CNAME record {} -> {}, which is in Route 53 hosted zone {} ({}). Check that the zone answers on the internet (`dig CNAME {}` should give that value): the parent domain must delegate {} to {servers} (NS records at the registrar or in the parent zone). Once it does, apply again to keep waiting (AWS can take up to 30 minutes after that), or raise the `create` timeout; with `tls = \"off\"` the system serves plain HTTP instead.",
        duration::display(waited),
        record.name,
        record.value,
        zone.id,
        zone.name.trim_end_matches('.'),
        record.name,
        zone.name.trim_end_matches('.'),
    )
}

/// Deletes the certificate, retrying while ACM still counts it as in use: a listener just
/// deleted releases it a few seconds later. Already gone is done.
pub async fn delete(acm: &Client, arn: &str) -> PartResult<()> {
    let action = format!("deleting ACM certificate {arn}");
    tracing::info!("{action}");
    let deadline = Instant::now() + RELEASE;
    let deleted = retry::on_codes(&action, &["ResourceInUseException"], deadline, || async {
        acm.delete_certificate().certificate_arn(arn).send().await
    })
    .await;
    super::error::ignore_not_found(deleted).context(|| action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_names_the_record_the_zone_and_its_name_servers() {
        let record = ValidationRecord {
            name: "_d93.trading.tap-test.net.".into(),
            value: "_c9e.ykybfrwcxw.acm-validations.aws.".into(),
        };
        let zone = ZoneFacts {
            id: "Z123".into(),
            name: "tap-test.net.".into(),
            name_servers: vec!["ns-1.awsdns-00.org".into(), "ns-2.awsdns-01.net".into()],
            ours: false,
        };
        let text = not_validated(&record, &zone, Duration::from_secs(300));
        for part in [
            "_d93.trading.tap-test.net. -> _c9e.ykybfrwcxw.acm-validations.aws.",
            "hosted zone Z123 (tap-test.net)",
            "delegate tap-test.net to ns-1.awsdns-00.org, ns-2.awsdns-01.net",
            "dig CNAME _d93.trading.tap-test.net.",
            "5m",
        ] {
            assert!(text.contains(part), "{part:?} missing from {text}");
        }
    }
}
