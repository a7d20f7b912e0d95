//! Running an action's work until Terraform cancels it (StopProvider, or the stream dropped).

use std::future::Future;

use tf_provider::Diagnostics;
use tokio_util::sync::CancellationToken;

/// Runs `work` until it ends or Terraform cancels; on cancel, `stopped` is said as the error
/// (its summary and detail) and `None` comes back.
pub async fn unless_cancelled<T>(
    diags: &mut Diagnostics,
    cancel: &CancellationToken,
    stopped: (&'static str, String),
    work: impl Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        () = cancel.cancelled() => {
            diags.root_error(stopped.0, stopped.1);
            None
        }
    }
}
