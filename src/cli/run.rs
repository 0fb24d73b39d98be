//! `modhost run`: load the pack, attach and bootstrap every mod, and keep it running until
//! SIGINT or SIGTERM (or, with `--once`, until there is nothing left to do); with `--watch`,
//! reload mods as their files change.

use std::time::{Duration, Instant};

use clap::Args;
use modhost::config::Overrides;
use modhost::watch::{Debouncer, Watcher};
use modhost::{Config, Host};

use super::watch::Reloader;
use super::{Exit, list, load_pack};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Exit once nothing is pending (no timers, events or promises), instead of waiting for a signal
    #[arg(long, conflicts_with = "watch")]
    once: bool,
    /// Reload a mod (and the mods that depend on it) when its files change, keeping its state
    #[arg(long)]
    watch: bool,
}

pub fn run(args: &RunArgs, config: &Config, overrides: Overrides) -> Exit {
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
    let mut stop = match runtime.block_on(async { StopSignals::install() }) {
        Ok(stop) => stop,
        Err(error) => {
            super::render::fatal(&format!("cannot listen for signals: {error}"), None);
            return Exit::Usage;
        }
    };
    let (sender, mut targets) = tokio::sync::mpsc::unbounded_channel();
    // With --watch: the watcher (kept alive here) and what applies its changes.
    let mut watching: Option<(Watcher, Reloader)> = None;
    if args.watch {
        let reloader = Reloader::new(overrides, config.clone());
        let poll = Some(Duration::from_millis(config.watch.poll_ms)).filter(|poll| !poll.is_zero());
        let watched = Watcher::start(
            &config.mods_dir,
            Some(&reloader.config_file()),
            poll,
            move |target| {
                let _ = sender.send(target);
            },
        );
        match watched {
            Ok(watcher) => watching = Some((watcher, reloader)),
            Err(error) => {
                super::render::fatal(&error.to_string(), None);
                return Exit::Usage;
            }
        }
    }
    let mut debouncer = Debouncer::new(Duration::from_millis(config.watch.debounce_ms));

    let host = Host::new(pack, config.clone());
    host.start();
    let statuses = host.mods();
    let active = statuses
        .iter()
        .filter(|status| status.state == "active")
        .count();
    tracing::info!("{active} of {} mods active", statuses.len());
    if args.watch {
        tracing::info!(
            "watching `{}` for changes; press Ctrl-C to stop",
            config.mods_dir.display()
        );
    } else if !args.once {
        tracing::info!("running; press Ctrl-C to stop");
    }
    runtime.block_on(async {
        loop {
            if args.once && host.is_idle() {
                break;
            }
            let due = host.next_timer_due();
            tokio::select! {
                () = sleep_until(due) => host.run_due_timers(),
                Some(target) = targets.recv() => debouncer.add(target, Instant::now()),
                () = sleep_until(debouncer.deadline()) => {
                    if let (Some(change), Some((_, reloader))) =
                        (debouncer.take_ready(Instant::now()), watching.as_mut())
                    {
                        reloader.apply(&host, change);
                    }
                }
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

/// Sleeps until `due`, or forever when nothing is due. Tokio's timers have millisecond
/// granularity and wake up to a millisecond late, so the loop sleeps a millisecond short and
/// waits out the rest precisely (blocking the loop for at most that millisecond).
async fn sleep_until(due: Option<Instant>) {
    let Some(due) = due else {
        return std::future::pending().await;
    };
    if let Some(early) = due.checked_sub(Duration::from_millis(1)) {
        tokio::time::sleep_until(early.into()).await;
    }
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}

/// While mods detach, a second SIGINT or SIGTERM ends the process at once. Returns once the
/// listener is in place, so that no second signal can slip past it.
fn exit_on_second_signal() {
    let (listening, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            let _ = listening.send(());
            return;
        };
        runtime.block_on(async {
            let signals = StopSignals::install();
            let _ = listening.send(());
            if let Ok(mut signals) = signals {
                signals.next().await;
                tracing::warn!("second signal: exiting without detaching");
                std::process::exit(130);
            }
        });
    });
    let _ = ready.recv();
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
