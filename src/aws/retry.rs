//! Retrying the specific AWS errors that mean "not yet", never "any error". The SDK's own retry
//! layer already handles throttling and 5xx; these are the service-level conflicts on top.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::AwsError;

const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Runs `op` until it succeeds, fails with a code not in `codes`, or `deadline` passes.
pub async fn on_codes<T, F, Fut>(
    action: &str,
    codes: &[&str],
    deadline: Instant,
    op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    when(action, |err| err.is_any(codes), deadline, op).await
}

/// Runs `op` until it succeeds, fails with an error `retryable` refuses, or `deadline` passes.
/// For codes AWS also uses for final errors, where only the message tells them apart.
pub async fn when<T, F, Fut>(
    action: &str,
    retryable: impl Fn(&AwsError) -> bool,
    deadline: Instant,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1u32;
    loop {
        match op().await {
            Err(err) if retryable(&err) && Instant::now() + delay < deadline => {
                tracing::debug!(
                    code = err.code.as_deref().unwrap_or_default(),
                    attempt,
                    "{action}: retrying in {delay:?} after {err}"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn err(code: &str) -> AwsError {
        AwsError {
            code: Some(code.into()),
            message: "m".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_the_named_codes() {
        let calls = AtomicU32::new(0);
        let deadline = Instant::now() + Duration::from_secs(60);
        let result = on_codes("op", &["LimitExceededException"], deadline, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(err("LimitExceededException")),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(result, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let calls = AtomicU32::new(0);
        let result: Result<(), _> =
            on_codes("op", &["LimitExceededException"], deadline, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(err("ValidationException"))
            })
            .await;
        assert!(result.unwrap_err().is("ValidationException"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(3);
        let result: Result<(), _> =
            on_codes("op", &["ResourceInUseException"], deadline, || async {
                Err(err("ResourceInUseException"))
            })
            .await;
        assert!(result.unwrap_err().is("ResourceInUseException"));
        assert!(Instant::now() <= deadline);
    }
}
