//! terraform-provider-tap: a Terraform provider (plugin protocol 6) that builds and operates a
//! two-region AWS warm-standby failover system for a trading application.

mod actions;
mod aws;
mod cidr;
mod cli;
mod configured;
mod data_sources;
mod list_resources;
mod logging;
mod naming;
mod provider;
mod regions;
mod resources;
mod role;
mod server;
mod tags;
mod tf;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before the runtime starts threads: `set_var` is only sound single-threaded.
    // tf-provider's `Diagnostic::new` attaches `Backtrace::capture()` to every diagnostic; with
    // the user's RUST_BACKTRACE=1 that would put ~100 lines of backtrace into each error.
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
    if let Err(refusal) = server::check_started_by_terraform() {
        // Terraform starts plugins without arguments: with some, this is the break-glass
        // command; without, say what we are. (`args_os`: `args` panics on non-UTF-8.)
        let args: Vec<String> = std::env::args_os()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        if !args.is_empty() {
            return cli::run(&args);
        }
        eprintln!("{refusal}\n\n{}", cli::USAGE);
        return ExitCode::FAILURE;
    }
    logging::init();

    // An apply of the composite polls one deep chain of nested futures (stacks, their parts,
    // their waits); tokio's default 2 MiB worker stack overflowed in an unoptimized build (an
    // instance refresh of both regions), so the workers get the main thread's 8 MiB.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!("starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        ignore_interrupts().await;
        match server::serve(provider::TapProvider::default().catalog()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!("serving the provider: {err:#}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Ctrl-C in a terminal reaches the whole process group. Terraform forwards it to us as
/// StopProvider; dying on the signal itself would lose the object an in-flight create just made,
/// so we swallow it, as go-plugin servers do. The handler is installed before this returns (by
/// the first poll of `ctrl_c`), so before the handshake: an interrupt right after it killed us.
async fn ignore_interrupts() {
    let mut interrupted = Box::pin(tokio::signal::ctrl_c());
    let mut pending = match futures::poll!(interrupted.as_mut()) {
        std::task::Poll::Ready(Err(_)) => return,
        first => first.is_pending(),
    };
    tokio::spawn(async move {
        loop {
            if pending && interrupted.as_mut().await.is_err() {
                return;
            }
            tracing::info!(
                "interrupt received; finishing in-flight operations (Terraform sends StopProvider)"
            );
            interrupted = Box::pin(tokio::signal::ctrl_c());
            pending = true;
        }
    });
}
