//! Bounded polling for what AWS does asynchronously. Polls start early and back off, so a fast
//! emulator or a quick AWS answer is not padded with fixed sleeps. A wait also ends when
//! Terraform stops the run (StopProvider): the operation then fails with what it waited for,
//! and records what it made, as after any error.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{AwsError, Cause};

const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest delay between two polls of a wait.
pub const MAX_DELAY: Duration = Duration::from_secs(10);
// Each delay is 1.2 times the last, so it stays near a sixth of the time already waited: a
// state that settles is seen at most ~20 % late (a 1.5 factor made it up to 50 %).

/// The longest delay between two polls of a wait that traffic waits for (the standby's capacity
/// in a planned failover): seen within a second of settling, at a few requests a second.
pub const PROMPT_DELAY: Duration = Duration::from_secs(1);

tokio::task_local! {
    /// Fired by Terraform's StopProvider; set for one resource operation by `stoppable`.
    static STOP: CancellationToken;
}

/// What one task settles once and others wait for (a certificate issued before a listener may
/// serve it): `Ok`, or why not.
pub type Gate = tokio::sync::watch::Receiver<Option<Result<(), String>>>;

/// Settles a `Gate` for every clone of it.
pub type GateKeeper = tokio::sync::watch::Sender<Option<Result<(), String>>>;

/// A gate not settled yet, and what settles it.
pub fn gate() -> (GateKeeper, Gate) {
    tokio::sync::watch::channel(None)
}

/// Waits until the gate is settled: its outcome. A gate whose keeper went without settling it
/// is not passed.
pub async fn passed(mut gate: Gate) -> Result<(), String> {
    match gate.wait_for(Option::is_some).await {
        Ok(settled) => settled.clone().unwrap_or(Ok(())),
        Err(_) => Err("what it waited for ended without an outcome".into()),
    }
}

/// Runs `op` so that its waits and retries end once `stop` fires.
pub async fn stoppable<F: Future>(stop: &CancellationToken, op: F) -> F::Output {
    STOP.scope(stop.clone(), op).await
}

/// Sleeps for `delay`; false, at once, when Terraform stopped the run before or meanwhile.
pub(super) async fn pause(delay: Duration) -> bool {
    let Ok(stop) = STOP.try_with(CancellationToken::clone) else {
        tokio::time::sleep(delay).await;
        return true;
    };
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

/// What is left of a budget that ends at `deadline`.
pub fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// One observation of a part.
#[derive(Debug, PartialEq)]
pub enum Poll<T> {
    Ready(T),
    /// Not there yet; the string is the state AWS reported, for the timeout message.
    Pending(String),
    /// A state it cannot leave for the target: the wait ends at once with AWS's reason.
    Failed(String),
}

/// Polls until `Ready`, an AWS error, or `timeout`.
pub async fn until<T, F, Fut>(timeout: Duration, poll: F) -> Result<T, Cause>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, AwsError>>,
{
    until_every(timeout, MAX_DELAY, poll).await
}

/// `until`, with at most `longest_delay` between two polls.
pub async fn until_every<T, F, Fut>(
    timeout: Duration,
    longest_delay: Duration,
    mut poll: F,
) -> Result<T, Cause>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, AwsError>>,
{
    let start = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        match poll().await? {
            Poll::Ready(value) => return Ok(value),
            Poll::Failed(reason) => return Err(Cause::Unexpected(reason)),
            Poll::Pending(state) => {
                if start.elapsed() + delay > timeout {
                    return Err(Cause::Timeout {
                        waited: timeout,
                        last_state: state,
                    });
                }
                tracing::trace!("still {state}; polling again in {delay:?}");
                if !pause(delay).await {
                    return Err(Cause::Stopped { last_state: state });
                }
                delay = (delay * 6 / 5).min(longest_delay);
            }
        }
    }
}

/// Polls `find` until it reports the object gone, or `timeout`.
pub async fn until_gone<T, F, Fut>(timeout: Duration, mut find: F) -> Result<(), Cause>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, AwsError>>,
{
    until(timeout, || {
        let found = find();
        async move {
            Ok(match found.await? {
                None => Poll::Ready(()),
                Some(_) => Poll::Pending("still there (deleting)".into()),
            })
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn returns_when_ready() {
        let polls = AtomicU32::new(0);
        let value = until(Duration::from_secs(60), || async {
            Ok(match polls.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Poll::Pending("CREATING".into()),
                _ => Poll::Ready("ACTIVE"),
            })
        })
        .await;
        assert_eq!(value, Ok("ACTIVE"));
        assert_eq!(polls.load(Ordering::SeqCst), 4);
    }

    /// A prompt wait polls at least once per `longest_delay`, however long it has waited.
    #[tokio::test(start_paused = true)]
    async fn a_prompt_wait_polls_within_its_longest_delay() {
        let started = Instant::now();
        let settles = Duration::from_secs(60);
        until_every(Duration::from_secs(600), PROMPT_DELAY, || async {
            Ok(match started.elapsed() >= settles {
                true => Poll::Ready(()),
                false => Poll::Pending("InService 0 of 1".into()),
            })
        })
        .await
        .expect("settles");
        assert!(started.elapsed() <= settles + PROMPT_DELAY);
        // The default wait sees the same state settle up to a sixth (10 s at most) late.
        let default_start = Instant::now();
        until(Duration::from_secs(600), || async {
            Ok(match default_start.elapsed() >= settles {
                true => Poll::Ready(()),
                false => Poll::Pending("InService 0 of 1".into()),
            })
        })
        .await
        .expect("settles");
        assert!(default_start.elapsed() > settles + PROMPT_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_state() {
        let started = Instant::now();
        let result: Result<(), _> = until(Duration::from_secs(30), || async {
            Ok(Poll::Pending("UPDATING".into()))
        })
        .await;
        match result {
            Err(Cause::Timeout { last_state, .. }) => assert_eq!(last_state, "UPDATING"),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(started.elapsed() <= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn terraforms_stop_ends_the_wait_with_the_last_state() {
        let stop = CancellationToken::new();
        let started = Instant::now();
        let waiting = stoppable(&stop, async {
            until(Duration::from_secs(3600), || async {
                Ok::<_, AwsError>(Poll::<()>::Pending("CREATING".into()))
            })
            .await
        });
        let stopping = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            stop.cancel();
        };
        let (result, ()) = tokio::join!(waiting, stopping);
        assert_eq!(
            result,
            Err(Cause::Stopped {
                last_state: "CREATING".into()
            })
        );
        assert!(started.elapsed() < Duration::from_secs(6));
        // Stopped already: the next wait polls once and ends.
        let again = stoppable(&stop, async {
            until(Duration::from_secs(3600), || async {
                Ok::<_, AwsError>(Poll::<()>::Pending("UPDATING".into()))
            })
            .await
        })
        .await;
        assert!(matches!(again, Err(Cause::Stopped { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn aws_errors_end_the_wait() {
        let result: Result<(), _> = until(Duration::from_secs(30), || async {
            Err(AwsError {
                code: Some("AccessDeniedException".into()),
                message: "no".into(),
            })
        })
        .await;
        assert!(matches!(result, Err(Cause::Aws(e)) if e.is("AccessDeniedException")));
    }
}
