//! `modhost run`: load the pack, attach and bootstrap every mod, and keep it running until
//! SIGINT or SIGTERM (or, with `--once`, until there is nothing left to do).

use clap::Args;
use modhost::{Config, Host};

use super::{Exit, list, load_pack};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Exit once every mod is bootstrapped and nothing is pending, instead of waiting for a signal
    #[arg(long)]
    once: bool,
}

pub fn run(args: &RunArgs, config: &Config) -> Exit {
    let pack = match load_pack(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    list::report_problems(&pack);
    let pack_ok = pack.error_count() == 0;
    let host = Host::new(pack, config.clone());
    host.start();
    let statuses = host.mods();
    let active = statuses
        .iter()
        .filter(|status| status.state == "active")
        .count();
    tracing::info!("{active} of {} mods active", statuses.len());
    if !args.once {
        tracing::info!("running; press Ctrl-C to stop");
        wait_for_signal();
        tracing::info!("stopping");
    }
    host.shutdown();
    if pack_ok && !host.has_failures() {
        Exit::Success
    } else {
        Exit::PackProblems
    }
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_signal() {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot wait for signals: {error}");
            return;
        }
    };
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    });
}
