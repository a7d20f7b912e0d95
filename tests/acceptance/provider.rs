//! The provider process and its configuration on real Terraform: endpoint settings, default
//! tags, decimal numbers, logs, no backtraces, and surviving Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{assert_nothing_left, iam_user, LocalAws, Workspace};

const TABLE: &str = r#"
resource "tap_session_table" "sessions" {
  environment_suffix = "cfg"
  replica_regions    = []
}
"#;

#[tokio::test]
async fn endpoint_url_argument_and_default_tags_reach_aws() {
    let aws = LocalAws::start();
    // A dead endpoint in the environment: only the provider argument can make this work.
    let ws = Workspace::new(&aws).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    ws.config_raw(&format!(
        r#"provider "tap" {{
  endpoint_url = "{}"
  max_retries  = 0
  default_tags {{
    tags = {{ CostCenter = "trading", Team = "core" }}
  }}
}}
{TABLE}"#,
        aws.endpoint
    ));
    ws.apply();
    let db = aws.dynamodb("us-east-1");
    let arn = db
        .describe_table()
        .table_name("trading-sessions-cfg")
        .send()
        .await
        .expect("table created through endpoint_url")
        .table()
        .and_then(|t| t.table_arn().map(str::to_owned))
        .unwrap();
    let tags = db
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    let tag = |k: &str| {
        tags.tags()
            .iter()
            .find(|t| t.key() == k)
            .map(|t| t.value().to_owned())
    };
    assert_eq!(tag("CostCenter").as_deref(), Some("trading"));
    assert_eq!(tag("Team").as_deref(), Some("core"));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn per_service_endpoint_overrides_the_global_one() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    ws.config_raw(&format!(
        "provider \"tap\" {{\n  max_retries = 0\n  endpoints {{\n    dynamodb = \"{0}\"\n    sts      = \"{0}\"\n  }}\n}}\n{TABLE}",
        aws.endpoint
    ));
    ws.apply();
    ws.destroy();
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn invalid_provider_settings_fail_on_their_attribute_without_backtraces() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("RUST_BACKTRACE", "1");
    // 0.1 reaches the provider as a string (cty's encoding of inexact decimals): it must decode
    // and be refused by validation, not by the decoder.
    ws.config_raw(&format!(
        "provider \"tap\" {{\n  max_retries = 0.1\n  region = \"us-east-1\"\n}}\n{TABLE}"
    ));
    let errors = ws.plan_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0]["snippet"]["code"]
        .as_str()
        .unwrap_or_default()
        .contains("max_retries"));
    let detail = errors[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("whole number"), "{detail}");
    assert!(
        !detail.contains("backtrace") && !detail.contains("rust_begin_unwind"),
        "{detail}"
    );
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn logs_reach_tf_log_at_the_requested_level() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("TF_LOG_PROVIDER", "DEBUG");
    ws.config(TABLE);
    let applied = ws.apply();
    assert!(
        applied.stderr.contains("provider.terraform-provider-tap")
            && applied
                .stderr
                .contains("creating DynamoDB table trading-sessions-cfg"),
        "provider logs missing from TF_LOG output:\n{}",
        &applied.stderr[..applied.stderr.len().min(4000)]
    );
    // A plan with state reads the table back, which logs at DEBUG and not at ERROR.
    let refreshed = ws.run(&["plan", "-no-color"]);
    assert!(
        refreshed.stderr.contains("reading DynamoDB table"),
        "the read-back line the quiet plan must not show:\n{}",
        &refreshed.stderr[..refreshed.stderr.len().min(4000)]
    );
    let quiet = Workspace::new(&aws).env("TF_LOG_PROVIDER", "ERROR");
    quiet.config(TABLE);
    std::fs::copy(
        ws.dir().join("terraform.tfstate"),
        quiet.dir().join("terraform.tfstate"),
    )
    .expect("copying the state");
    let planned = quiet.run(&["plan", "-no-color"]);
    assert!(
        !planned.stderr.contains("reading DynamoDB table"),
        "{}",
        planned.stderr
    );
    ws.destroy();
    assert_nothing_left(&aws).await;
}

/// Ctrl-C in a terminal signals the whole process group; the provider must outlive it so that
/// Terraform (which sends StopProvider instead) can record what an in-flight apply created.
#[test]
fn survives_sigint() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tap"))
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting the provider");
    let mut handshake = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut handshake)
        .unwrap();
    assert!(
        handshake.starts_with("1|6|tcp|"),
        "go-plugin handshake: {handshake:?}"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(500));
    let exited = child.try_wait().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(exited.is_none(), "the provider died on SIGINT: {exited:?}");
}

/// The one error diagnostic a failed plan reports: (summary, detail).
fn configure_error(ws: &Workspace) -> (String, String) {
    let errors = ws.plan_errors();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let diagnostic = &errors[0];
    let text = |k: &str| diagnostic[k].as_str().unwrap_or_default().to_owned();
    let (summary, detail) = (text("summary"), text("detail"));
    // One sentence for people, never the SDK's Debug output of its internals.
    for internal in ["{", "DispatchFailure", "ConnectorError", "Response {"] {
        assert!(!detail.contains(internal), "{internal} in: {detail}");
    }
    (summary, detail)
}

#[tokio::test]
async fn no_credentials_anywhere_fail_at_configure_naming_the_sources() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws)
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_SECRET_ACCESS_KEY", "")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    ws.config(TABLE);
    let (summary, detail) = configure_error(&ws);
    assert_eq!(summary, "No valid AWS credentials found");
    for source in [
        "environment variables",
        "profile",
        "SSO",
        "web identity",
        "instance metadata",
    ] {
        assert!(detail.contains(source), "{source}: {detail}");
    }
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn credentials_aws_refuses_fail_at_configure_with_its_code() {
    // moto enforces authentication from the first request: unknown keys are refused as AWS does.
    let aws = LocalAws::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let ws = Workspace::new(&aws);
    ws.config(TABLE);
    let (summary, detail) = configure_error(&ws);
    assert_eq!(summary, "AWS refused the credentials");
    assert!(detail.contains("InvalidClientTokenId"), "{detail}");
    assert!(
        detail.contains(&aws.endpoint),
        "names the endpoint: {detail}"
    );
}

#[tokio::test]
async fn expired_credentials_fail_at_configure_saying_so() {
    // Temporary credentials past their expiry: STS answers `ExpiredToken` for them.
    let aws = LocalAws::start();
    let key = "ASIAEXPIREDEXAMPLE01";
    assert_eq!(
        aws.get_text(&format!("/localaws/expire/{key}")),
        format!("expired {key}")
    );
    let ws = Workspace::new(&aws)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_SESSION_TOKEN", "token-of-yesterday");
    ws.config(TABLE);
    let (summary, detail) = configure_error(&ws);
    assert_eq!(summary, "The AWS credentials have expired");
    assert!(
        detail.contains("ExpiredToken: The security token included in the request is expired"),
        "{detail}"
    );
    assert!(
        detail.contains("aws sso login"),
        "says how to renew: {detail}"
    );
    assert_nothing_left(&aws).await;
}

#[tokio::test]
async fn an_assume_role_that_is_refused_fails_at_configure_naming_the_role() {
    // Two requests without authentication (the user and its key), then every request is
    // checked against the caller's IAM policies: this user may not call sts:AssumeRole.
    let aws = LocalAws::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let deployer = iam_user(&aws, "deployer").await;
    let ws = Workspace::new(&aws).credentials(&deployer);
    ws.config_raw(&format!(
        "provider \"tap\" {{\n  max_retries = 0\n  assume_role {{\n    role_arn = \"arn:aws:iam::123456789012:role/deploy\"\n  }}\n}}\n{TABLE}"
    ));
    let (summary, detail) = configure_error(&ws);
    assert_eq!(summary, "Assuming the IAM role failed");
    assert!(
        detail.contains("arn:aws:iam::123456789012:role/deploy"),
        "{detail}"
    );
    assert!(detail.contains("AccessDenied"), "AWS's code: {detail}");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_at_configure_naming_it() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    ws.config(TABLE);
    let (summary, detail) = configure_error(&ws);
    assert_eq!(summary, "The AWS credentials could not be checked");
    assert!(detail.contains("http://127.0.0.1:9"), "{detail}");
    assert!(
        detail.to_lowercase().contains("connection refused"),
        "{detail}"
    );
    assert!(detail.contains("skip_credentials_validation"), "{detail}");
}

#[tokio::test]
async fn skipping_the_credentials_check_reaches_aws_only_when_needed() {
    let aws = LocalAws::start();
    let ws = Workspace::new(&aws).env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    ws.config_raw(&format!(
        "provider \"tap\" {{\n  max_retries = 0\n  skip_credentials_validation = true\n}}\n{TABLE}"
    ));
    // Planning a new table needs no AWS call, so with the check skipped it succeeds.
    let run = ws.plan();
    assert_eq!(run.code, 2, "{}", run.text());
}

/// With the provider's region (us-east-1) unreachable, configure checks the credentials at
/// another region's STS endpoint, so work in other regions goes on: at once, with the default
/// retries, not after retrying a region that does not answer.
#[tokio::test]
async fn configure_checks_credentials_in_another_region_when_its_own_is_unreachable() {
    let aws = LocalAws::start_with_env(&[("LOCALAWS_UNREACHABLE_REGIONS", "us-east-1")]);
    let ws = Workspace::new(&aws);
    ws.config_raw(
        "resource \"tap_session_table\" \"sessions\" {\n  environment_suffix = \"acc\"\n  region = \"us-east-2\"\n}\n",
    );
    let run = ws.run(&["plan", "-no-color"]);
    assert_eq!(run.code, 0, "{}", run.text());
    let outage = aws.get_json("/localaws/outage");
    assert_eq!(
        outage["refused"]["us-east-1"]["sts GetCallerIdentity"], 1,
        "{outage}"
    );
    assert_eq!(
        outage["served"]["us-east-2"]["sts GetCallerIdentity"], 1,
        "{outage}"
    );
}
