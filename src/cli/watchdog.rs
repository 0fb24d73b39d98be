//! The watchdog: a thread beside the host's that handles SIGINT and SIGTERM and makes sure
//! the process never hangs, whatever a mod does (SPEC section 6).
//!
//! The first signal asks the host to stop (its event loop detaches every mod and exits); a
//! second exits at once with status 130. If the host has not stopped within the longest
//! `call_timeout_ms` plus 2 s, or if one mod keeps control past its own `call_timeout_ms` by
//! more than 2 s (code that cannot be interrupted), the watchdog names the mod and exits with
//! status 1. It lives on its own thread because the host's thread is where a mod would be
//! stuck, and a stuck thread sees no signal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use modhost::internal::host::Activity;
use tokio::sync::Notify;

/// How far past its limit a mod may keep control, or the host may take to stop, before the
/// watchdog ends the process.
const GRACE: Duration = Duration::from_secs(2);
/// How often the watchdog looks.
const EVERY: Duration = Duration::from_millis(100);

/// Starts the watchdog for the host whose `activity` it watches. `longest_call` is the longest
/// `call_timeout_ms` of any mod. Returns what fires when a signal asks the host to stop, once
/// the signal handlers are in place (so no early signal slips past them).
pub fn start(activity: Arc<Activity>, longest_call: Duration) -> std::io::Result<Arc<Notify>> {
    let stop = Arc::new(Notify::new());
    let asked = Arc::clone(&stop);
    let (ready, installed) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("modhost-watchdog".to_owned())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            runtime.block_on(async move {
                let mut signals = match StopSignals::install() {
                    Ok(signals) => signals,
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                watch(&activity, &asked, &mut signals, longest_call).await;
            });
        })?;
    installed
        .recv()
        .map_err(|_| std::io::Error::other("the watchdog did not start"))??;
    Ok(stop)
}

async fn watch(
    activity: &Activity,
    stop: &Notify,
    signals: &mut StopSignals,
    longest_call: Duration,
) {
    let mut stop_by: Option<Instant> = None;
    loop {
        tokio::select! {
            () = signals.next() => {
                if stop_by.is_some() {
                    tracing::warn!("second signal: exiting without detaching");
                    std::process::exit(130);
                }
                tracing::info!("stopping (a second signal stops at once)");
                activity.request_stop();
                stop.notify_one();
                stop_by = Some(Instant::now() + longest_call + GRACE);
            }
            () = tokio::time::sleep(EVERY) => {}
        }
        let running = activity.running();
        if let Some(running) = &running
            && running.running_for > running.limit + GRACE
        {
            tracing::error!(
                "`{}` has kept control for {:.1} s, past its `call_timeout_ms` = {} by more than {} s: its code cannot be interrupted; exiting",
                running.mod_id,
                running.running_for.as_secs_f64(),
                running.limit.as_millis(),
                GRACE.as_secs()
            );
            std::process::exit(1);
        }
        if stop_by.is_some_and(|by| Instant::now() > by) {
            let culprit = running
                .map(|running| format!(": `{}` still has control", running.mod_id))
                .unwrap_or_default();
            tracing::error!(
                "the host did not stop within {:.1} s of the signal{culprit}; exiting",
                (longest_call + GRACE).as_secs_f64()
            );
            std::process::exit(1);
        }
    }
}

/// What asks the host to stop, listened for from the moment of installation: SIGINT and
/// SIGTERM on Unix; Ctrl-C, Ctrl-Break, closing the console, and logging off or shutting down
/// on Windows.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    ctrl_break: tokio::signal::windows::CtrlBreak,
    #[cfg(windows)]
    ctrl_close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    ctrl_shutdown: tokio::signal::windows::CtrlShutdown,
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
        #[cfg(windows)]
        {
            use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close, ctrl_shutdown};
            Ok(StopSignals {
                ctrl_c: ctrl_c()?,
                ctrl_break: ctrl_break()?,
                ctrl_close: ctrl_close()?,
                ctrl_shutdown: ctrl_shutdown()?,
            })
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(windows)]
        tokio::select! {
            _ = self.ctrl_c.recv() => {}
            _ = self.ctrl_break.recv() => {}
            _ = self.ctrl_close.recv() => {}
            _ = self.ctrl_shutdown.recv() => {}
        }
    }
}
