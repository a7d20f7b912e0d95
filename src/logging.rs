//! Logs as go-plugin expects them on stderr: one hclog JSON object per line, so that
//! `TF_LOG` / `TF_LOG_PROVIDER` show them with their level. Nothing may go to stdout: go-plugin
//! reads the handshake from there.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Installs the stderr logger and a panic hook that logs the panic before tokio swallows it.
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    // try_init: never panic if something else installed a subscriber first.
    let _ = tracing_subscriber::registry()
        .with(HclogLayer.with_filter(level))
        .try_init();
    std::panic::set_hook(Box::new(|info| {
        tracing::error!("provider panic: {info}");
    }));
}

/// TF_LOG_PROVIDER wins over TF_LOG, as in Terraform. Unset means warnings and errors only.
fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let raw = provider
        .filter(|v| !v.is_empty())
        .or(global.filter(|v| !v.is_empty()));
    match raw.map(|v| v.trim().to_ascii_uppercase()).as_deref() {
        Some("TRACE") | Some("JSON") => LevelFilter::TRACE,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some("INFO") => LevelFilter::INFO,
        Some("ERROR") => LevelFilter::ERROR,
        Some("OFF") => LevelFilter::OFF,
        _ => LevelFilter::WARN,
    }
}

struct HclogLayer;

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let line = hclog_line(
            event.metadata().level(),
            event.metadata().target(),
            &fields,
            SystemTime::now(),
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

#[derive(Default)]
struct JsonFields {
    message: String,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
}

impl JsonFields {
    fn record(&mut self, field: &Field, value: String) {
        if field.name() == "message" {
            self.message = value;
        } else {
            self.extra
                .insert(field.name().to_owned(), serde_json::Value::String(value));
        }
    }
}

fn hclog_line(level: &Level, target: &str, fields: &JsonFields, now: SystemTime) -> String {
    let mut object = fields.extra.clone();
    let level = match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    };
    object.insert("@level".into(), level.into());
    object.insert("@message".into(), fields.message.clone().into());
    object.insert("@module".into(), format!("provider.tap.{target}").into());
    object.insert("@timestamp".into(), hclog_timestamp(now).into());
    let mut line = serde_json::Value::Object(object).to_string();
    line.push('\n');
    line
}

/// go-plugin parses `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits.
fn hclog_timestamp(now: SystemTime) -> String {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(32);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since_epoch.subsec_micros()
    );
    out
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn provider_level_overrides_global_level() {
        assert_eq!(
            level_from_env(Some("debug"), Some("ERROR")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_env(None, Some("TRACE")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some(""), Some("info")), LevelFilter::INFO);
        assert_eq!(level_from_env(None, None), LevelFilter::WARN);
        assert_eq!(level_from_env(Some("off"), None), LevelFilter::OFF);
    }

    #[test]
    fn timestamp_has_six_fractional_digits() {
        let t = UNIX_EPOCH + Duration::from_micros(1_767_225_600_000_042);
        assert_eq!(hclog_timestamp(t), "2026-01-01T00:00:00.000042Z");
        assert_eq!(hclog_timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(hclog_timestamp(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn line_is_hclog_json() {
        let mut fields = JsonFields {
            message: "retrying".into(),
            ..Default::default()
        };
        fields
            .extra
            .insert("code".into(), "ThrottlingException".into());
        let line = hclog_line(&Level::DEBUG, "tap::aws", &fields, UNIX_EPOCH);
        assert!(line.ends_with('\n'));
        let parsed: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(parsed["@level"], "debug");
        assert_eq!(parsed["@message"], "retrying");
        assert_eq!(parsed["@module"], "provider.tap.tap::aws");
        assert_eq!(parsed["code"], "ThrottlingException");
    }
}
