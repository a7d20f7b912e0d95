//! The provider binary as a command, for the moment when Terraform itself cannot run (its state
//! backend or the Route 53 control plane in a region that is down):
//! `terraform-provider-tap failover engage|release|status --suffix <s> --standby-region <r>`.
//! It uses the standard AWS credential chain and endpoint settings (`AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, ...) and calls only the standby region (`aws::switch_throw`).

use std::process::ExitCode;
use std::time::Duration;

use crate::aws::clients::{AwsClients, AwsSettings};
use crate::aws::switch_throw::{self, Direction, Options, Standby, Status};
use crate::{naming, regions};

pub const USAGE: &str = "\
Break-glass failover, when Terraform cannot run (for example while us-east-1 is down):
  terraform-provider-tap failover engage  --suffix <environment_suffix> --standby-region <region> [--force] [--target-group-arn <arn>] [--timeout <seconds>]
  terraform-provider-tap failover release --suffix <environment_suffix> --standby-region <region> [--target-group-arn <arn>] [--timeout <seconds>]
  terraform-provider-tap failover status  --suffix <environment_suffix> --standby-region <region> [--target-group-arn <arn>]
engage throws the failover switch (one PutMetricData in the standby region) after checking that the
standby has healthy targets (--force skips that); release lets the primary back once it is healthy.
Only the standby region's CloudWatch and ELB are called, with the standard AWS credential chain
(AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...). The standby's target group is tg-standby-<suffix>
unless --target-group-arn names another (tap_dns_failover over your own load balancers). With
several standbys, any standby region throws the switch (each has an alarm on it); metrics are
regional, so release it, and read its status, in the region it was thrown in.";

/// Retries of throttling and transient errors per call, on top of the first attempt.
const MAX_RETRIES: u32 = 3;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Throw(Direction),
    Status,
}

#[derive(Debug, PartialEq)]
struct Command {
    verb: Verb,
    suffix: String,
    standby_region: String,
    force: bool,
    target_group_arn: Option<String>,
    timeout: Duration,
}

fn parse(args: &[String]) -> Result<Command, String> {
    let mut words = args.iter().map(String::as_str);
    if words.next() != Some("failover") {
        return Err(format!("unknown command {:?}", args.first()));
    }
    let verb = match words.next() {
        Some("engage") => Verb::Throw(Direction::Engage),
        Some("release") => Verb::Throw(Direction::Release),
        Some("status") => Verb::Status,
        other => return Err(format!("expected engage, release or status, got {other:?}")),
    };
    let (mut suffix, mut region, mut force, mut arn, mut timeout) =
        (None, None, false, None, DEFAULT_TIMEOUT);
    while let Some(flag) = words.next() {
        let mut value = || {
            words
                .next()
                .map(str::to_owned)
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag {
            "--suffix" => suffix = Some(value()?),
            "--standby-region" => region = Some(value()?),
            "--target-group-arn" => arn = Some(value()?),
            "--timeout" => {
                let text = value()?;
                let seconds: u64 = text
                    .parse()
                    .map_err(|_| format!("--timeout takes seconds, got {text:?}"))?;
                timeout = Duration::from_secs(seconds);
            }
            "--force" if verb == Verb::Throw(Direction::Engage) => force = true,
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    let suffix = suffix.ok_or("--suffix is required")?;
    naming::validate_suffix(&suffix)?;
    let standby_region = region.ok_or("--standby-region is required")?;
    if !regions::is_known(&standby_region) {
        return Err(regions::unknown_region_detail(&standby_region));
    }
    Ok(Command {
        verb,
        suffix,
        standby_region,
        force,
        target_group_arn: arn,
        timeout,
    })
}

/// Runs the command `args` (without the program name) and says how it went.
pub fn run(args: &[String]) -> ExitCode {
    let command = match parse(args) {
        Ok(command) => command,
        Err(err) => {
            eprintln!("{err}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(&command)) {
        Ok(status) => {
            println!("{}", describe(&status));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("failover {}: {err}", verb_name(command.verb));
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: &Command) -> Result<Status, switch_throw::SwitchError> {
    // Signed for the standby region only: no client of this process talks to another one.
    let clients = AwsClients::load(&AwsSettings {
        region: command.standby_region.clone(),
        max_retries: MAX_RETRIES,
        ..AwsSettings::default()
    })
    .await;
    let regional = clients.regional(&command.standby_region);
    let standby = Standby {
        region: &command.standby_region,
        cloudwatch: &regional.cloudwatch,
        elbv2: &regional.elbv2,
    };
    let options = Options {
        force: command.force,
        target_group_arn: command.target_group_arn.clone(),
        timeout: command.timeout,
    };
    match command.verb {
        Verb::Status => switch_throw::status(&standby, &command.suffix, &options).await,
        Verb::Throw(direction) => {
            let mut say = |message: &str| println!("{message}");
            switch_throw::throw(&standby, &command.suffix, direction, &options, &mut say).await
        }
    }
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Throw(Direction::Engage) => "engage",
        Verb::Throw(Direction::Release) => "release",
        Verb::Status => "status",
    }
}

fn describe(status: &Status) -> String {
    let switch = if status.thrown() {
        "thrown: the primary is kept out of DNS"
    } else {
        "not thrown"
    };
    let targets = match &status.targets {
        Ok(t) => format!(
            "{} of {} targets healthy in {}",
            t.healthy, t.total, t.group
        ),
        Err(why) => why.clone(),
    };
    format!(
        "switch {switch} (alarm {} {}: {})\nstandby: {targets}",
        status.alarm, status.state, status.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_documented_commands_parse() {
        let engage = parse(&args(
            "failover engage --suffix prod --standby-region us-east-2 --force",
        ))
        .expect("engage");
        assert_eq!(
            engage,
            Command {
                verb: Verb::Throw(Direction::Engage),
                suffix: "prod".into(),
                standby_region: "us-east-2".into(),
                force: true,
                target_group_arn: None,
                timeout: DEFAULT_TIMEOUT,
            }
        );
        let status = parse(&args(
            "failover status --standby-region eu-west-1 --suffix prod --target-group-arn arn:x --timeout 30",
        ))
        .expect("status");
        assert_eq!(status.verb, Verb::Status);
        assert_eq!(status.target_group_arn.as_deref(), Some("arn:x"));
        assert_eq!(status.timeout, Duration::from_secs(30));
    }

    #[test]
    fn bad_command_lines_say_what_is_wrong() {
        for (line, says) in [
            ("serve", "unknown command"),
            ("failover", "expected engage, release or status"),
            (
                "failover engage --standby-region us-east-2",
                "--suffix is required",
            ),
            (
                "failover engage --suffix prod",
                "--standby-region is required",
            ),
            (
                "failover engage --suffix prod --standby-region",
                "needs a value",
            ),
            (
                "failover engage --suffix Prod --standby-region us-east-2",
                "not a valid environment suffix",
            ),
            (
                "failover engage --suffix prod --standby-region us-east-3",
                "not an AWS region",
            ),
            (
                "failover release --suffix prod --standby-region us-east-2 --force",
                "unknown option",
            ),
            (
                "failover engage --suffix prod --standby-region us-east-2 --timeout soon",
                "--timeout takes seconds",
            ),
        ] {
            let err = parse(&args(line)).expect_err(line);
            assert!(err.contains(says), "{line}: {err}");
        }
    }
}
