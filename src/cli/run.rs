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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            super::render::fatal(&format!("cannot start the event loop: {error}"), None);
            return Exit::Usage;
        }
    };
    // Handlers go in before any mod runs, so a signal during startup still stops cleanly.
    let stop = match runtime.block_on(async { StopSignals::install() }) {
        Ok(stop) => stop,
        Err(error) => {
            super::render::fatal(&format!("cannot listen for signals: {error}"), None);
            return Exit::Usage;
        }
    };
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
    }
    let mut stop = stop;
    runtime.block_on(async {
        loop {
            if args.once && host.is_idle() {
                break;
            }
            let due = host.next_timer_due();
            tokio::select! {
                () = sleep_until(due) => host.run_due_timers(),
                () = stop.next() => {
                    tracing::info!("stopping (a second signal stops at once)");
                    exit_on_second_signal();
                    break;
                }
            }
        }
    });
    host.shutdown();
    if pack_ok && !host.has_failures() {
        Exit::Success
    } else {
        Exit::PackProblems
    }
}

/// Sleeps until `due`, or forever when nothing is due.
async fn sleep_until(due: Option<std::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due.into()).await,
        None => std::future::pending().await,
    }
}

/// While mods detach, a second SIGINT or SIGTERM ends the process at once.
fn exit_on_second_signal() {
    std::thread::spawn(|| {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if let Ok(mut signals) = StopSignals::install() {
                signals.next().await;
                tracing::warn!("second signal: exiting without detaching");
                std::process::exit(130);
            }
        });
    });
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere), listened for from the moment of installation.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
