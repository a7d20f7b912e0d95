//! `tls = "auto"`: a certificate for `domain_name` in each stack region, validated by DNS through
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
use crate::role::Role;
use crate::tags::Tags;

/// The certificates' ARNs, primary then standby.
pub type Certificates = [String; 2];

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

/// Both certificates, requested or found again, with the validation record ACM gave each, and
/// the zone that validates them.
pub struct Requested {
    certificates: [(CertificateFacts, ValidationRecord); 2],
    zone: ZoneFacts,
}

impl Requested {
    /// The certificates' ARNs, primary then standby: known before ACM issues them.
    pub fn arns(&self) -> Certificates {
        self.certificates.clone().map(|(facts, _)| facts.arn)
    }
}

/// Requests (or finds again) both certificates, and finds or makes the zone that validates them.
pub async fn request(cfg: &Configured, want: &Desired) -> PartResult<Requested> {
    let domain = domain(want);
    let request = |role: Role| {
        let region = want.region(role);
        let name = format!("{domain} ({role})");
        let tags = want.tags(certificate::PART, &name);
        let domain = domain.clone();
        async move {
            let acm = &cfg.clients.regional(&region).acm;
            certificate::ensure(acm, &region, &domain, want.suffix(), &tags).await
        }
    };
    let zone = async {
        zone(cfg, want, true).await?.ok_or_else(|| PartError {
            action: format!("reading the Route 53 hosted zone of {domain}"),
            cause: Cause::Unexpected("the zone does not exist".into()),
        })
    };
    let (primary, standby, zone) =
        tokio::try_join!(request(Role::Primary), request(Role::Standby), zone)?;
    Ok(Requested {
        certificates: [primary, standby],
        zone,
    })
}

/// Writes the certificates' validation record once and waits until ACM has issued both, within
/// `deadline`.
pub async fn validate<'a>(
    cfg: &Configured,
    want: &Desired,
    requested: &'a Requested,
    deadline: Instant,
) -> PartResult<()> {
    let [primary, standby] = &requested.certificates;
    let (primary_record, standby_record) = (&primary.1, &standby.1);
    let zone = &requested.zone;
    // AWS gives one record for the name in every region; should it not, each is written.
    validation_record::ensure(
        &cfg.clients.route53,
        &zone.id,
        primary_record,
        remaining(deadline),
    )
    .await?;
    if standby_record != primary_record {
        validation_record::ensure(
            &cfg.clients.route53,
            &zone.id,
            standby_record,
            remaining(deadline),
        )
        .await?;
    }
    let wait = |(facts, record): &'a (CertificateFacts, ValidationRecord), role: Role| async move {
        let acm = &cfg.clients.regional(&want.region(role)).acm;
        certificate::wait_issued(acm, facts, record, zone, remaining(deadline)).await
    };
    tokio::try_join!(wait(primary, Role::Primary), wait(standby, Role::Standby))?;
    Ok(())
}

/// `validate`, when there is anything requested, then settles `keeper` with the outcome: the
/// listeners waiting on its gate serve the certificates, or fail saying why not.
pub async fn validate_opening(
    cfg: &Configured,
    want: &Desired,
    requested: Option<&Requested>,
    keeper: GateKeeper,
    deadline: Instant,
) -> PartResult<()> {
    let Some(requested) = requested else {
        return Ok(());
    };
    let outcome = validate(cfg, want, requested, deadline).await;
    keeper.send_replace(Some(
        outcome.as_ref().map(|_| ()).map_err(|e| e.to_string()),
    ));
    outcome
}

/// What is there: each region's certificate (its ARN once issued), and the validation record
/// when the zone holds it with the value ACM asks for. `parts` entries, and the certificates the
/// stacks serve.
pub struct Observed {
    pub certificates: [Option<String>; 2],
    pub parts: Tags,
}

impl Observed {
    /// Neither certificate nor the record found: each `parts` entry empty.
    pub fn missing() -> Observed {
        let mut parts: Tags = Role::ALL
            .into_iter()
            .map(|role| (certificate_part(role), String::new()))
            .collect();
        parts.insert(VALIDATION_RECORD_PART.into(), String::new());
        Observed {
            certificates: [None, None],
            parts,
        }
    }
}

pub async fn observe(cfg: &Configured, want: &Desired) -> PartResult<Observed> {
    let domain = domain(want);
    let find = |role: Role| {
        let region = want.region(role);
        let domain = domain.clone();
        async move {
            let acm = &cfg.clients.regional(&region).acm;
            let found = certificate::find_ours(acm, &domain, want.suffix())
                .await
                .context(|| format!("reading the ACM certificate for {domain} in {region}"))?;
            let Some(facts) = found else {
                return Ok::<_, PartError>((None, None));
            };
            let record = certificate::validation_record(acm, &facts.arn)
                .await
                .context(|| format!("reading ACM certificate {}", facts.arn))?;
            Ok((Some(facts), record))
        }
    };
    let ((primary, record), (standby, _)) =
        tokio::try_join!(find(Role::Primary), find(Role::Standby))?;
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
    let issued = |facts: &Option<CertificateFacts>| {
        facts.as_ref().filter(|f| f.issued()).map(|f| f.arn.clone())
    };
    let certificates = [issued(&primary), issued(&standby)];
    let mut parts = Tags::new();
    for (role, arn) in Role::ALL.into_iter().zip(&certificates) {
        parts.insert(certificate_part(role), arn.clone().unwrap_or_default());
    }
    parts.insert(
        VALIDATION_RECORD_PART.into(),
        record
            .filter(|_| record_held)
            .map(|r| r.name)
            .unwrap_or_default(),
    );
    Ok(Observed {
        certificates,
        parts,
    })
}

/// Deletes the stack's certificates (once their listeners are gone), then their validation
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

/// The validation record of each certificate of the stack's, deleting the certificate when
/// `delete`.
async fn each_certificate(
    cfg: &Configured,
    want: &Desired,
    delete: bool,
) -> PartResult<Vec<ValidationRecord>> {
    let domain = domain(want);
    let each = |role: Role| {
        let region = want.region(role);
        let domain = domain.clone();
        async move {
            let acm = &cfg.clients.regional(&region).acm;
            let read = || format!("reading the ACM certificate for {domain} in {region}");
            let Some(facts) = certificate::find_ours(acm, &domain, want.suffix())
                .await
                .context(read)?
            else {
                return Ok::<_, PartError>(None);
            };
            let record = certificate::validation_record(acm, &facts.arn)
                .await
                .context(read)?;
            if delete {
                certificate::delete(acm, &facts.arn).await?;
            }
            Ok(record)
        }
    };
    let (primary, standby) = tokio::try_join!(each(Role::Primary), each(Role::Standby))?;
    Ok(primary.into_iter().chain(standby).collect())
}

async fn delete_records(
    cfg: &Configured,
    want: &Desired,
    records: Vec<ValidationRecord>,
    deadline: Instant,
) -> PartResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let Some(zone) = zone(cfg, want, false).await? else {
        return Ok(());
    };
    let mut names: Vec<String> = records.into_iter().map(|r| r.name).collect();
    names.dedup_by(|a, b| same_name(a, b));
    for name in names {
        validation_record::delete(&cfg.clients.route53, &zone.id, &name, remaining(deadline))
            .await?;
    }
    Ok(())
}
