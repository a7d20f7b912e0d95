//! The steps of an apply, logged at debug level as they begin and end, with the steps each
//! waited for and the step it runs inside: `tools/trace_floor.py` rebuilds the run's
//! dependency graph from these lines (`TF_LOG_PROVIDER=DEBUG`) and finds its critical chain.
//! With debug logging off a step costs its name, a task-local and a box, not a log line.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

tokio::task_local! {
    /// The step the current code runs inside: the parent of any step it begins.
    static PARENT: String;
}

/// Runs `work` as step `name` of `region` ("" for a global one), begun once the steps named in
/// `after` (of the same region, or of any when global) have ended, or, with `after` empty, when
/// the step it runs inside began.
pub fn step<'a, F: Future + 'a>(
    name: &str,
    region: &str,
    after: &[&str],
    work: F,
) -> impl Future<Output = F::Output> + 'a {
    // Boxed at once, so that the step, and every future awaiting it, holds a pointer: a debug
    // build otherwise copied the apply's large futures across the stack when a step first ran,
    // deep in the poll of an instance refresh (which polls the standby's converge from inside
    // the primary's), and overflowed it.
    let work = Box::pin(work);
    let me = key(name, region);
    let after = after.join(",");
    async move {
        let parent = PARENT.try_with(String::clone).unwrap_or_default();
        tracing::debug!(
            step = me.as_str(),
            after = after.as_str(),
            parent = parent.as_str(),
            at = now(),
            "step begins"
        );
        let out = PARENT.scope(me.clone(), work).await;
        tracing::debug!(step = me.as_str(), at = now(), "step ends");
        out
    }
}

/// A step's name in the log: `name@region`, or the name alone for a global step.
fn key(name: &str, region: &str) -> String {
    match region {
        "" => name.to_owned(),
        region => format!("{name}@{region}"),
    }
}

/// Seconds since the epoch, to the microsecond: the tool sets it beside the local AWS's clock.
fn now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", since.as_secs(), since.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_is_the_parent_of_the_steps_inside_it() {
        let current = || PARENT.try_with(String::clone).ok();
        let (outer, inner) = step("stack", "us-east-1", &["role"], async {
            let outer = current();
            let inner = step("network", "us-east-1", &[], async { current() }).await;
            (outer, inner)
        })
        .await;
        assert_eq!(outer.as_deref(), Some("stack@us-east-1"));
        assert_eq!(inner.as_deref(), Some("network@us-east-1"));
        assert_eq!(current(), None);
    }

    #[test]
    fn a_global_step_has_no_region_in_its_name() {
        assert_eq!(key("dns", ""), "dns");
        assert_eq!(key("table", "eu-west-1"), "table@eu-west-1");
    }
}
