//! Retrying the specific AWS errors that mean "not yet", never "any error". The SDK's own retry
//! layer already handles throttling and 5xx; these are the service-level conflicts on top.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::error::{AwsError, Cause};
use super::wait::{self, Poll};

const FIRST_DELAY: Duration = Duration::from_millis(500);
const MAX_DELAY: Duration = Duration::from_secs(10);

/// How long an EC2 object we have just created may stay unknown to the calls that name it. The
/// EC2 guide says to back off "up to a few minutes"
/// (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html); hashicorp/aws waits
/// `ec2PropagationTimeout` = 5m (internal/service/ec2/wait.go).
pub const EC2_PROPAGATION: Duration = Duration::from_secs(5 * 60);
/// The same for ELB: hashicorp/aws retries a new load balancer's tags on LoadBalancerNotFound and
/// waits for a new target group for `elbv2PropagationTimeout` = 2m.
pub const ELB_PROPAGATION: Duration = Duration::from_secs(2 * 60);

/// Right after our own create: runs `describe` (a call naming the new object by its ID) until
/// AWS stops answering `not_found` for it, as the EC2 guide advises ("Confirm the state of the
/// resource before you run a command to modify it. Run the appropriate Describe command using an
/// exponential backoff"), so the calls that follow find it. Only for an ID a create has just
/// returned: anywhere else, not found means gone.
pub async fn until_created<T, E, F, Fut>(
    what: &str,
    not_found: &str,
    within: Duration,
    mut describe: F,
) -> Result<(), Cause>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    AwsError: From<E>,
{
    wait::until(within, || {
        let described = describe();
        async move {
            match described.await.map_err(AwsError::from) {
                Ok(_) => Ok(Poll::Ready(())),
                Err(err) if err.is(not_found) => {
                    tracing::debug!("{what} not visible yet: {err}");
                    Ok(Poll::Pending(err.to_string()))
                }
                Err(err) => Err(err),
            }
        }
    })
    .await
}

/// How often a create without a client token is sent before its last error is final.
const CREATE_ATTEMPTS: u32 = 8;

/// The failures after which a request may or may not have been processed: no answer at all (the
/// connection dropped, a timeout), throttling, and the services' 5xx codes.
const TRANSIENT: [&str; 8] = [
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
    "RequestTimeout",
];

fn transient(err: &AwsError) -> bool {
    err.code.is_none() || err.is_any(&TRANSIENT)
}

/// A create that AWS cannot make idempotent (no client token): `create` must send it with the
/// SDK's retries off (`send_once!`), because after an answer lost once AWS did the work a
/// retried call makes a second object, or fails with the name's `exists` code. After a
/// transient failure, `find` looks for what the call may have made (by the ownership tags or
/// name `create` sets) before it is sent again; `exists` then also means "look again". Gives
/// what `create` or `find` gives.
pub async fn create_once<T, E, F, FindFut, C, CreateFut>(
    what: &str,
    exists: &[&str],
    mut find: F,
    mut create: C,
) -> Result<T, AwsError>
where
    F: FnMut() -> FindFut,
    FindFut: Future<Output = Result<Option<T>, AwsError>>,
    C: FnMut() -> CreateFut,
    CreateFut: Future<Output = Result<T, E>>,
    AwsError: From<E>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1u32;
    loop {
        match create().await.map_err(AwsError::from) {
            Err(err)
                if (transient(&err) || (attempt > 1 && err.is_any(exists)))
                    && attempt < CREATE_ATTEMPTS =>
            {
                tracing::debug!(
                    code = err.code.as_deref().unwrap_or_default(),
                    attempt,
                    "{what}: {err}; looking for what the call may have made in {delay:?}"
                );
                let stopped = !wait::pause(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
                attempt += 1;
                if let Some(found) = find().await? {
                    tracing::info!("{what}: adopting what a call whose answer was lost made");
                    return Ok(found);
                }
                // Looked first: what the lost call made is adopted, not orphaned.
                if stopped {
                    return Err(err);
                }
            }
            result => return result,
        }
    }
}

/// Runs `op` until it succeeds, fails with a code not in `codes`, or `deadline` passes.
pub async fn on_codes<T, E, F, Fut>(
    action: &str,
    codes: &[&str],
    deadline: Instant,
    op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    AwsError: From<E>,
{
    when(action, |err| err.is_any(codes), deadline, op).await
}

/// Runs `op` until it succeeds, fails with an error `retryable` refuses, or `deadline` passes.
/// For codes AWS also uses for final errors, where only the message tells them apart.
pub async fn when<T, E, F, Fut>(
    action: &str,
    retryable: impl Fn(&AwsError) -> bool,
    deadline: Instant,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    AwsError: From<E>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1u32;
    loop {
        match op().await.map_err(AwsError::from) {
            Err(err) if retryable(&err) && Instant::now() + delay < deadline => {
                tracing::debug!(
                    code = err.code.as_deref().unwrap_or_default(),
                    attempt,
                    "{action}: retrying in {delay:?} after {err}"
                );
                if !wait::pause(delay).await {
                    return Err(err);
                }
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
    async fn a_new_object_is_pending_while_not_found_and_nothing_else() {
        let calls = AtomicU32::new(0);
        let result = until_created(
            "VPC vpc-1",
            "InvalidVpcID.NotFound",
            Duration::from_secs(60),
            || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(err("InvalidVpcID.NotFound")),
                    _ => Ok(()),
                }
            },
        )
        .await;
        assert_eq!(result, Ok(()));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let result = until_created(
            "VPC vpc-1",
            "InvalidVpcID.NotFound",
            Duration::from_secs(60),
            || async { Err::<(), _>(err("UnauthorizedOperation")) },
        )
        .await;
        assert!(matches!(result, Err(Cause::Aws(e)) if e.is("UnauthorizedOperation")));

        let result = until_created(
            "VPC vpc-1",
            "InvalidVpcID.NotFound",
            Duration::from_secs(5),
            || async { Err::<(), _>(err("InvalidVpcID.NotFound")) },
        )
        .await;
        assert!(
            matches!(result, Err(Cause::Timeout { last_state, .. }) if last_state.starts_with("InvalidVpcID.NotFound"))
        );
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
