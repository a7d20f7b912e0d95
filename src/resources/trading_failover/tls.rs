//! `tls = "auto"`: a certificate for `domain_name` in each stack region, the primary's and every
//! standby's (ACM certificates are regional: a load balancer serves only one of its own region,
//! https://docs.aws.amazon.com/acm/latest/userguide/acm-regions.html), validated by DNS through
//! one CNAME record in the system's zone (the record is the same for every region), issued
//! before the load balancers serve HTTPS with it; removed after the load balancers, the record
//! last in the user's zone, first in a zone the system created (the zone goes before the load
//! balancers, and Route 53 deletes only an empty zone).

use std::time::Duration;

use tokio::time::Instant;

use super::desired::Desired;
use super::parts::{certificate_part, VALIDATION_RECORD_PART};
use crate::aws::certificate::{self, CertificateFacts};
use crate::aws::error::{Cause, Context, PartError, PartResult};
use crate::aws::hosted_zone::{self, same_name, ZoneFacts};
use crate::aws::validation_record::{self, ValidationRecord};
use crate::aws::wait::{remaining, GateKeeper};
use crate::configured::Configured;
use crate::tags::Tags;

fn domain(want: &Desired) -> String {
    want.state
        .domain_name
        .as_ref_option()
        .cloned()
        .unwrap_or_default()
}

/// The zone the certificates are validated in: the user's (`hosted_zone_id`), or the one the
/// system created for `domain_name`, made now when `create` and not there yet (the DNS part
/// finds it again by its caller reference). `None` when there is none.
async fn zone(cfg: &Configured, want: &Desired, create: bool) -> PartResult<Option<ZoneFacts>> {
    let r53 = &cfg.clients.route53;
    if let Some(id) = want.state.hosted_zone_id.as_ref_option() {
        return hosted_zone::find_by_id(r53, id, want.suffix())
            .await
            .context(|| format!("reading Route 53 hosted zone {id}"));
    }
    let domain = domain(want);
    if create {
        let tags = want.dns_unrouted().zone_tags();
        return hosted_zone::ensure(r53, &domain, want.suffix(), &tags)
            .await
            .map(Some);
    }
    hosted_zone::find_ours(r53, Some(&domain), want.suffix())
        .await
        .context(|| format!("finding Route 53 hosted zone {domain}"))
}

/// Every region's certificate, requested or found again, with the validation record ACM gave
/// it, and the zone that validates them.
pub struct Requested {
    /// In `Desired::certificate_sites`' order: region, certificate, record.
    certificates: Vec<(String, CertificateFacts, ValidationRecord)>,
    zone: ZoneFacts,
}

impl Requested {
    /// The ARN of the certificate of the `i`th region of `Desired::all_regions` (the primary
    /// 0, the standbys after it): known before ACM issues it.
    pub fn arn(&self, i: usize) -> Option<String> {
        self.certificates
            .get(i)
            .map(|(_, facts, _)| facts.arn.clone())
    }
}

/// Requests (or finds again) every region's certificate, and finds or makes the zone that
/// validates them.
pub async fn request(cfg: &Configured, want: &Desired) -> PartResult<Requested> {
    let domain = domain(want);
    let request = |(prefix, region): (String, String)| {
        let name = format!("{domain} ({prefix})");
        let tags = want.tags(certificate::PART, &name);
        let domain = domain.clone();
        async move {
            let acm = &cfg.clients.regional(&region).acm;
            let (facts, record) =
                certificate::ensure(acm, &region, &domain, want.suffix(), &tags).await?;
            Ok::<_, PartError>((region, facts, record))
        }
    };
    let zone = async {
        zone(cfg, want, true).await?.ok_or_else(|| PartError {
            action: format!("reading the Route 53 hosted zone of {domain}"),
            cause: Cause::Unexpected("the zone does not exist".into()),
        })
    };
    let (certificates, zone) = tokio::try_join!(
        futures::future::try_join_all(want.certificate_sites().into_iter().map(request)),
        zone
    )?;
    Ok(Requested { certificates, zone })
}

/// Writes the certificates' validation record once and waits until ACM has issued every
/// certificate, within `deadline`.
pub async fn validate(
    cfg: &Configured,
    requested: &Requested,
    deadline: Instant,
) -> PartResult<()> {
    let zone = &requested.zone;
    // AWS gives one record for the name in every region; should it not, each is written.
    let mut written: Vec<&ValidationRecord> = Vec::new();
    for (_, _, record) in &requested.certificates {
        if !written.contains(&record) {
            validation_record::ensure(&cfg.clients.route53, &zone.id, record, remaining(deadline))
                .await?;
            written.push(record);
        }
    }
    futures::future::try_join_all(requested.certificates.iter().map(
        |(region, facts, record)| async move {
            let acm = &cfg.clients.regional(region).acm;
            certificate::wait_issued(acm, facts, record, zone, remaining(deadline)).await
        },
    ))
    .await?;
    Ok(())
}

/// `validate`, when there is anything requested, then settles `keeper` with the outcome: the
/// listeners waiting on its gate serve the certificates, or fail saying why not.
pub async fn validate_opening(
    cfg: &Configured,
    requested: Option<&Requested>,
    keeper: GateKeeper,
    deadline: Instant,
) -> PartResult<()> {
    let Some(requested) = requested else {
        return Ok(());
    };
    let outcome = validate(cfg, requested, deadline).await;
    keeper.send_replace(Some(
        outcome.as_ref().map(|_| ()).map_err(|e| e.to_string()),
    ));
    outcome
}

/// What is there: each region's certificate (its ARN once issued), and the validation record
/// when the zone holds it with the value ACM asks for. `parts` entries, and the certificates the
/// stacks serve.
pub struct Observed {
    /// In `Desired::certificate_sites`' order.
    pub certificates: Vec<Option<String>>,
    pub parts: Tags,
    /// The `parts` entries of every certificate found, issued or not, and of the record when
    /// the zone holds it: what is still to be deleted once `tls` is no longer `auto`.
    found: Tags,
}

impl Observed {
    /// No certificate nor the record found: each `parts` entry empty.
    pub fn missing(want: &Desired) -> Observed {
        let sites = want.certificate_sites();
        let mut parts: Tags = sites
            .iter()
            .map(|(prefix, _)| (certificate_part(prefix), String::new()))
            .collect();
        parts.insert(VALIDATION_RECORD_PART.into(), String::new());
        Observed {
            certificates: vec![None; sites.len()],
            found: parts.clone(),
            parts,
        }
    }

    /// What is left to delete once `tls` is no longer `auto`: only the parts found, served by
    /// no stack. Entries stay (empty) where the read failed, so that the next plan still
    /// finds something to delete.
    pub fn leftovers(self) -> Observed {
        Observed {
            certificates: vec![None; self.certificates.len()],
            parts: self.found.clone(),
            found: self.found,
        }
    }

    /// The certificate of the `i`th region of `Desired::all_regions`, once issued.
    pub fn arn(&self, i: usize) -> Option<String> {
        self.certificates.get(i).cloned().flatten()
    }
}

/// Our certificate for `domain` in `region` and the validation record ACM gives it, if there is
/// one.
async fn find_in(
    cfg: &Configured,
    want: &Desired,
    region: &str,
) -> PartResult<Option<(CertificateFacts, Option<ValidationRecord>)>> {
    let domain = domain(want);
    let acm = &cfg.clients.regional(region).acm;
    let read = || format!("reading the ACM certificate for {domain} in {region}");
    let Some(facts) = certificate::find_ours(acm, &domain, want.suffix())
        .await
        .context(read)?
    else {
        return Ok(None);
    };
    let record = certificate::validation_record(acm, &facts.arn)
        .await
        .context(|| format!("reading ACM certificate {}", facts.arn))?;
    Ok(Some((facts, record)))
}

pub async fn observe(cfg: &Configured, want: &Desired) -> PartResult<Observed> {
    let sites = want.certificate_sites();
    let found =
        futures::future::try_join_all(sites.iter().map(|(_, region)| find_in(cfg, want, region)))
            .await?;
    // The record every region shares (the first region's that ACM gave one).
    let record = found
        .iter()
        .flatten()
        .find_map(|(_, record)| record.clone());
    let zone = match &record {
        Some(_) => zone(cfg, want, false).await?,
        None => None,
    };
    let record_held = match (&record, &zone) {
        (Some(record), Some(zone)) => {
            validation_record::find(&cfg.clients.route53, &zone.id, &record.name)
                .await
                .context(|| format!("reading the ACM validation record {}", record.name))?
                .is_some_and(|value| same_name(&value, &record.value))
        }
        _ => false,
    };
    let certificates: Vec<Option<String>> = found
        .iter()
        .map(|found| {
            found
                .as_ref()
                .filter(|(facts, _)| facts.issued())
                .map(|(facts, _)| facts.arn.clone())
        })
        .collect();
    let mut parts = Tags::new();
    let mut found_parts = Tags::new();
    for (((prefix, _), arn), found) in sites.iter().zip(&certificates).zip(&found) {
        parts.insert(certificate_part(prefix), arn.clone().unwrap_or_default());
        if let Some((facts, _)) = found {
            found_parts.insert(certificate_part(prefix), facts.arn.clone());
        }
    }
    let record_name = match record.filter(|_| record_held).map(|r| r.name) {
        Some(name) => Some(name),
        None => recorded_record(cfg, want, &[]).await?,
    };
    if let Some(name) = &record_name {
        found_parts.insert(VALIDATION_RECORD_PART.into(), name.clone());
    }
    parts.insert(
        VALIDATION_RECORD_PART.into(),
        record_name.unwrap_or_default(),
    );
    Ok(Observed {
        certificates,
        parts,
        found: found_parts,
    })
}

/// The validation record the state names, unless `known` has it, when the zone still holds it
/// with a value of ACM's: its certificates, which would name it, may be gone already. In the
/// user's zone a record that another certificate validates through is no longer the system's to
/// track or delete (`delete_records` kept it for that certificate).
async fn recorded_record(
    cfg: &Configured,
    want: &Desired,
    known: &[String],
) -> PartResult<Option<String>> {
    let Some(name) = &want.recorded_validation_record else {
        return Ok(None);
    };
    if known.iter().any(|k| same_name(k, name)) {
        return Ok(None);
    }
    let Some(zone) = zone(cfg, want, false).await? else {
        return Ok(None);
    };
    let value = validation_record::find(&cfg.clients.route53, &zone.id, name)
        .await
        .context(|| format!("reading the ACM validation record {name}"))?;
    if !value.is_some_and(|v| validation_record::is_acm_value(&v)) {
        return Ok(None);
    }
    if want.state.hosted_zone_id.is_value()
        && other_certificate_naming(cfg, want, name).await?.is_some()
    {
        return Ok(None);
    }
    Ok(Some(name.clone()))
}

/// Deletes every region's certificate (once their listeners are gone), then their validation
/// record, if its zone is still there. They are found by their tags, so a certificate a failed
/// apply left goes too.
pub async fn delete(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let records = each_certificate(cfg, want, true).await?;
    delete_records(cfg, want, records, deadline).await
}

/// Deletes the validation record alone, found through the certificates that name it: before a
/// zone the system created is deleted, while the certificates wait for their listeners to go.
pub async fn delete_record(cfg: &Configured, want: &Desired, timeout: Duration) -> PartResult<()> {
    let deadline = Instant::now() + timeout;
    let records = each_certificate(cfg, want, false).await?;
    delete_records(cfg, want, records, deadline).await
}

/// The validation record of each region's certificate, deleting the certificate when `delete`.
async fn each_certificate(
    cfg: &Configured,
    want: &Desired,
    delete: bool,
) -> PartResult<Vec<ValidationRecord>> {
    let sites = want.certificate_sites();
    let records = futures::future::try_join_all(
        sites
            .iter()
            .map(|(_, region)| record_of(cfg, want, region, delete)),
    )
    .await?;
    Ok(records.into_iter().flatten().collect())
}

/// The validation record of the certificate in `region`, deleting the certificate when `delete`.
async fn record_of(
    cfg: &Configured,
    want: &Desired,
    region: &str,
    delete: bool,
) -> PartResult<Option<ValidationRecord>> {
    let Some((facts, record)) = find_in(cfg, want, region).await? else {
        return Ok(None);
    };
    if delete {
        let acm = &cfg.clients.regional(region).acm;
        certificate::delete(acm, &facts.arn).await?;
    }
    Ok(record)
}

/// Deletes the certificate of a standby this update removes, once its listeners are gone. The
/// validation record stays: the other regions' certificates share it.
pub async fn delete_in(cfg: &Configured, want: &Desired, region: &str) -> PartResult<()> {
    record_of(cfg, want, region, true).await.map(|_| ())
}

/// The records the certificates named, and the one the state names if the zone holds it as
/// ACM's (its certificates may be gone already).
async fn delete_records(
    cfg: &Configured,
    want: &Desired,
    records: Vec<ValidationRecord>,
    deadline: Instant,
) -> PartResult<()> {
    let mut names: Vec<String> = records.into_iter().map(|r| r.name).collect();
    names.extend(recorded_record(cfg, want, &names).await?);
    if names.is_empty() {
        return Ok(());
    }
    let Some(zone) = zone(cfg, want, false).await? else {
        return Ok(());
    };
    names.sort();
    names.dedup_by(|a, b| same_name(a, b));
    for name in names {
        if want.state.hosted_zone_id.is_value() {
            if let Some(other) = other_certificate_naming(cfg, want, &name).await? {
                tracing::warn!("keeping ACM validation record {name} in zone {}: certificate {other} validates through it too, and ACM renews it only while the record stays", zone.id);
                continue;
            }
        }
        validation_record::delete(&cfg.clients.route53, &zone.id, &name, remaining(deadline))
            .await?;
    }
    Ok(())
}

/// A certificate not the system's that validates through the record `name` in the user's zone,
/// looked for in the system's regions and us-east-1 (where CloudFront's certificates live):
/// ACM gives every certificate of the domain in the account the same record
/// (`certificate::others_naming`). In a zone the system created the record goes regardless,
/// since the zone goes too.
async fn other_certificate_naming(
    cfg: &Configured,
    want: &Desired,
    name: &str,
) -> PartResult<Option<String>> {
    let mut regions: Vec<String> = want.all_regions();
    if !regions.iter().any(|r| r == "us-east-1") {
        regions.push("us-east-1".into());
    }
    let domain = domain(want);
    let found = futures::future::try_join_all(regions.iter().map(|region| {
        let domain = &domain;
        async move {
            let acm = &cfg.clients.regional(region).acm;
            certificate::others_naming(acm, domain, name, want.suffix())
                .await
                .context(|| format!("listing the ACM certificates of {domain} in {region}"))
        }
    }))
    .await?;
    Ok(found.into_iter().flatten().next())
}
