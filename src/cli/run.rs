//! `modhost run`: load the pack, attach and bootstrap every mod, and keep it running until
//! SIGINT or SIGTERM (or, with `--once`, until there is nothing left to do); with `--watch`,
//! reload mods as their files change. Games connect over the protocol (`--stdio`, `--listen`,
//! `--exec`; see `connect`).

use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::Args;
use modhost::ModStats;
use modhost::Overrides;
use modhost::watch::{Debouncer, Watcher};
use modhost::{Config, Host};
use std::io::Write as _;

use modhost::internal::protocol::{Server, Stop};

use super::connect::{self, Wanted};
use super::watch;
use super::{Exit, list, load_pack};
use super::{metrics_http, table};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("recording").args(["record", "record_on_failure"])))]
pub struct RunArgs {
    /// Exit once nothing is pending (no timers, events or promises), instead of waiting for a signal
    #[arg(long, conflicts_with_all = ["watch", "stdio", "exec"])]
    once: bool,
    /// Reload a mod (and the mods that depend on it) when its files change, keeping its state
    #[arg(long)]
    watch: bool,
    /// Speak the protocol (JSON-RPC) on stdin and stdout, for a game that spawned modhost; closing stdin stops the host
    #[arg(long)]
    stdio: bool,
    /// Listen for games and `modhost ctl` on ADDR: a socket path, `tcp:127.0.0.1:PORT` or `none` [default: `listen` from the config, else `<data_dir>/modhost.sock`]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// When the host stops, print each mod's load, attach and bootstrap time and its slowest calls
    #[arg(long)]
    profile: bool,
    /// Serve the host's figures in the Prometheus format at `http://ADDR/metrics` (a loopback address, unless `--metrics-public`)
    #[arg(long, value_name = "ADDR", value_parser = clap::value_parser!(std::net::SocketAddr))]
    metrics: Option<std::net::SocketAddr>,
    /// Let `--metrics` serve on an address other machines can reach (the figures name every mod)
    #[arg(long, requires = "metrics")]
    metrics_public: bool,
    /// Record the session (every input and output of the pack, SPEC section 16) to FILE, for `modhost replay`
    #[arg(long, value_name = "FILE")]
    record: Option<std::path::PathBuf>,
    /// Keep the last `record_window_s` seconds of the session in memory, and write them to a new file in DIR when a mod fails or a signal stops the host
    #[arg(long, value_name = "DIR", conflicts_with = "record")]
    record_on_failure: Option<std::path::PathBuf>,
    /// With `--record` or `--record-on-failure`: replace these members of every payload, argument and answer with a hash (what players typed)
    #[arg(
        long,
        value_name = "FIELD,...",
        value_delimiter = ',',
        requires = "recording"
    )]
    record_redact: Vec<String>,
    /// Launch the game (with `MODHOST_CONNECT` and `MODHOST_TOKEN` set) and stop when it exits, with its status; give it last
    #[arg(long, value_name = "COMMAND", num_args = 1.., allow_hyphen_values = true, conflicts_with = "stdio")]
    exec: Vec<String>,
}

pub fn run(args: &RunArgs, config: &Config, overrides: Overrides) -> Exit {
    let mut running = match set_up(args, config, overrides) {
        Ok(running) => running,
        Err(exit) => return exit,
    };
    let ended = serve(&mut running, args);
    tear_down(running, args, ended)
}

/// A started pack and what it serves, between [`set_up`] and [`tear_down`].
struct Running {
    host: Rc<Host>,
    runtime: tokio::runtime::Runtime,
    /// The protocol's server and the game `--exec` launched, unless the host listens nowhere.
    connections: Option<connect::Connections>,
    metrics: Option<tokio::net::TcpListener>,
    /// With `--watch`: the watcher, which watches as long as it lives, and its changes, held
    /// until they settle.
    _watcher: Option<Watcher>,
    changes: tokio::sync::mpsc::UnboundedReceiver<modhost::watch::Target>,
    debouncer: Debouncer,
    /// Notified by a signal.
    stop: std::sync::Arc<tokio::sync::Notify>,
    /// Whether the pack loaded without errors.
    pack_ok: bool,
}

/// Loads the pack, opens what the flags ask for (the watch, the protocol, the recording, the
/// metrics), starts every mod and launches the game. On failure the host, if started, is
/// shut down and the exit status returned.
fn set_up(args: &RunArgs, config: &Config, overrides: Overrides) -> Result<Running, Exit> {
    let pack = load_pack(config)?;
    // Warnings too: a misspelled field silently drops what it meant (`dependecies`).
    list::report_problems(&pack, true);
    let pack_ok = pack.error_count() == 0;
    let runtime = connect::event_loop()?;
    let (sender, changes) = tokio::sync::mpsc::unbounded_channel();
    let watching = match args.watch {
        true => Some(
            Watcher::start(
                &config.mods_dir,
                Some(&watch::config_file(config, &overrides)),
                config.watch.poll(),
                move |target| {
                    let _ = sender.send(target);
                },
            )
            .map_err(|error| {
                super::render::fatal(&error.to_string(), None);
                Exit::Usage
            })?,
        ),
        false => None,
    };
    let configured = Duration::from_millis(config.watch.debounce_ms);
    let debouncer = Debouncer::new(
        watching
            .as_ref()
            .map_or(configured, |watcher| watcher.quiet_period(configured)),
    );
    let host = Rc::new(Host::new(pack, config.clone()));
    if args.watch {
        host.follow_saves(overrides);
    }
    // The watchdog handles signals from before anything is announced (a client may connect,
    // and a user press Ctrl-C, as soon as `listening on` is printed), so a signal during
    // startup still stops cleanly, and a mod that cannot be interrupted cannot hang the
    // process.
    let stop = connect::watch_over(&host, config)?;
    let wanted = Wanted {
        stdio: args.stdio,
        listen: args.listen.as_deref(),
        exec: &args.exec,
    };
    let listens_by_default = !args.once;
    let mut connections = match listens_by_default || args.listen.is_some() {
        true => Some(runtime.block_on(async { connect::open(&wanted, config) })?),
        false => None,
    };
    if let Some(connections) = &connections {
        connections.server.attach(&host);
    }
    start_recording(&host, args, config)?;
    host.start();
    announce(&host, args, config);
    let started = (|| {
        if let Some(connections) = &mut connections {
            connections.launch_game(&args.exec)?;
        }
        serve_metrics(&runtime, args)
    })();
    match started {
        Ok(metrics) => Ok(Running {
            host,
            runtime,
            connections,
            metrics,
            _watcher: watching,
            changes,
            debouncer,
            stop,
            pack_ok,
        }),
        Err(exit) => {
            host.shutdown();
            Err(exit)
        }
    }
}

/// `--record` and `--record-on-failure`, set up before any mod runs.
fn start_recording(host: &Host, args: &RunArgs, config: &Config) -> Result<(), Exit> {
    if let Some(file) = &args.record
        && let Err(error) = host.record_to(file, &args.record_redact)
    {
        super::render::fatal(
            &format!(
                "cannot record to `{}`: {error}",
                modhost::internal::paths::shown(file)
            ),
            None,
        );
        return Err(Exit::Usage);
    }
    if args.record_on_failure.is_some()
        && let Err(error) = host.keep_window(config.record_window_s, &args.record_redact)
    {
        super::render::fatal(&format!("cannot keep the session: {error}"), None);
        return Err(Exit::Usage);
    }
    Ok(())
}

/// How many mods are active, and how the host goes on.
fn announce(host: &Host, args: &RunArgs, config: &Config) {
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
    } else if args.stdio {
        tracing::info!("serving the protocol on stdin and stdout; closing stdin stops the host");
    } else if !args.once {
        tracing::info!("running; press Ctrl-C to stop");
    }
}

/// `--metrics`: the listener, on loopback unless `--metrics-public` says otherwise.
fn serve_metrics(
    runtime: &tokio::runtime::Runtime,
    args: &RunArgs,
) -> Result<Option<tokio::net::TcpListener>, Exit> {
    let Some(address) = args.metrics else {
        return Ok(None);
    };
    if !address.ip().is_loopback() && !args.metrics_public {
        super::render::fatal(
            &format!("`--metrics {address}` would serve the host's figures to other machines"),
            Some(
                "serve them on loopback (`--metrics 127.0.0.1:9187`), or add `--metrics-public` if that is what you want",
            ),
        );
        return Err(Exit::Usage);
    }
    match runtime.block_on(metrics_http::bind(address)) {
        Ok(listener) => {
            tracing::info!("serving metrics at http://{address}/metrics");
            Ok(Some(listener))
        }
        Err(error) => {
            super::render::fatal(
                &format!("cannot serve metrics on `{address}`: {error}"),
                None,
            );
            Err(Exit::Usage)
        }
    }
}

/// The event loop: clients, metrics scrapes, timers, saves, the game's exit and signals,
/// until one of them ends the session.
fn serve(running: &mut Running, args: &RunArgs) -> Ended {
    let Running {
        host,
        runtime,
        connections,
        metrics,
        changes,
        debouncer,
        stop,
        ..
    } = running;
    let server = connections
        .as_ref()
        .map(|connections| Rc::clone(&connections.server));
    let mut game_exit = connections
        .as_mut()
        .and_then(|connections| connections.game.as_mut())
        .map(|game| &mut game.exited);
    let local = tokio::task::LocalSet::new();
    local.block_on(runtime, async {
        loop {
            save_window_on_failure(host, args.record_on_failure.as_deref(), "a mod failed");
            if args.once && host.is_idle() {
                break Ended::Idle;
            }
            if let Some(stop) = server.as_ref().and_then(|server| server.stop_requested()) {
                break Ended::Client(stop);
            }
            let due = host.next_timer_due();
            let recording_waits = host.flush_recording(false);
            tokio::select! {
                () = ready(server.as_deref()) => {
                    if let Some(server) = &server {
                        server.pump();
                    }
                }
                Ok(client) = metrics_http::accept(metrics.as_ref()) => {
                    metrics_http::answer(client, host.metrics());
                }
                status = game_exited(&mut game_exit) => {
                    tracing::info!("the game exited with status {status}");
                    break Ended::Game(status);
                }
                () = sleep_until(due) => host.run_due_timers(),
                Some(target) = changes.recv() => debouncer.add(target, Instant::now()),
                () = sleep_until(debouncer.deadline()) => {
                    if let Some(change) = debouncer.take_ready(Instant::now()) {
                        watch::apply(host, change);
                    }
                }
                () = stop.notified() => break Ended::Signal,
                () = tokio::time::sleep(modhost::internal::recording::writer::FLUSH_EVERY), if recording_waits => {
                    host.flush_recording(true);
                }
            }
        }
    })
}

/// Stops every mod, closes the recording and the connections, and says how the run ended.
fn tear_down(running: Running, args: &RunArgs, ended: Ended) -> Exit {
    let Running {
        host,
        connections,
        pack_ok,
        ..
    } = running;
    if let (Ended::Signal, Some(dir)) = (&ended, args.record_on_failure.as_deref()) {
        save_window(&host, dir, "the host was stopped by a signal");
    }
    if let (Ended::Signal, Some(game)) =
        (&ended, connections.as_ref().and_then(|c| c.game.as_ref()))
    {
        game.stop();
    }
    host.shutdown();
    finish_recording(&host, args.record.as_deref());
    if args.profile {
        let _ = writeln!(anstream::stderr(), "{}", profile(&host.stats()));
    }
    if let Some(connections) = &connections {
        let stopped = match &ended {
            Ended::Client(stop) => Some(stop),
            _ => None,
        };
        connect::close(&connections.server, stopped);
    }
    match ended {
        Ended::Game(status) => Exit::Game(u8::try_from(status).unwrap_or(1)),
        Ended::Client(Stop::InputBroken(why)) => {
            super::render::fatal(&format!("the game's standard input broke: {why}"), None);
            Exit::Usage
        }
        Ended::Client(_) => Exit::Success,
        Ended::Idle | Ended::Signal if pack_ok && !host.has_failures() => Exit::Success,
        Ended::Idle | Ended::Signal => Exit::PackProblems,
    }
}

/// With `--record-on-failure`: writes the kept window when a mod failed since the last look.
fn save_window_on_failure(host: &Host, dir: Option<&std::path::Path>, why: &str) {
    if let Some(dir) = dir
        && host.take_failure()
    {
        save_window(host, dir, why);
    }
}

/// Writes the kept window to a new file in `dir`, naming it in the log.
fn save_window(host: &Host, dir: &std::path::Path, why: &str) {
    match host.save_window(dir) {
        Some(Ok(file)) => tracing::warn!(
            "{why}: the session so far is in `{}` (attach it to a bug report; `modhost replay` replays it)",
            modhost::internal::paths::shown(&file)
        ),
        Some(Err(error)) => tracing::error!(
            "{why}, and the session cannot be written to `{}`: {error}",
            modhost::internal::paths::shown(dir)
        ),
        None => {}
    }
}

/// Closes the recording, saying where it is and what it lost.
fn finish_recording(host: &Host, file: Option<&std::path::Path>) {
    let (Some(written), Some(file)) = (host.finish_recording(), file) else {
        return;
    };
    let file = modhost::internal::paths::shown(file);
    match written {
        Ok(written) if written.lost > 0 => tracing::warn!(
            "recorded the session to `{file}`, but {} entries were lost while the disk could not keep up; a replay says where",
            written.lost
        ),
        Ok(_) => tracing::info!(
            "recorded the session to `{file}`; replay it with `modhost replay {file}`"
        ),
        Err(error) => tracing::error!("the recording `{file}` is incomplete: {error}"),
    }
}

/// Each mod's start-up times and slowest calls, the slowest mods first.
fn profile(stats: &[ModStats]) -> String {
    let mut stats: Vec<&ModStats> = stats.iter().collect();
    let total = |stats: &ModStats| {
        stats.load_seconds + stats.attach_seconds + stats.bootstrap_seconds + stats.seconds
    };
    stats.sort_by(|a, b| total(b).total_cmp(&total(a)));
    let ms = |seconds: f64| format!("{:.1} ms", seconds * 1000.0);
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|stats| {
            let slowest = stats
                .slowest
                .iter()
                .take(3)
                .map(|slow| format!("{} {}", slow.call, ms(slow.seconds)))
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                stats.id.clone(),
                ms(stats.load_seconds),
                ms(stats.attach_seconds),
                ms(stats.bootstrap_seconds),
                stats.calls.to_string(),
                ms(stats.seconds),
                slowest,
            ]
        })
        .collect();
    format!(
        "profile (slowest mods first):\n{}",
        table::render(
            &[
                "mod",
                "load",
                "attach",
                "bootstrap",
                "calls",
                "time in calls",
                "slowest calls"
            ],
            &rows,
            &[1, 2, 3, 4, 5],
        )
    )
}

/// Why the loop ended.
enum Ended {
    /// `--once`, and nothing is left to do.
    Idle,
    Signal,
    /// A client sent `shutdown`, or closed stdin (`--stdio`).
    Client(Stop),
    /// The game `--exec` launched exited with this status.
    Game(i32),
}

/// Waits for a client to have something, or forever without the protocol.
async fn ready(server: Option<&Server>) {
    match server {
        Some(server) => server.ready().await,
        None => std::future::pending().await,
    }
}

/// Waits for the game to exit, or forever without one.
async fn game_exited(exited: &mut Option<&mut tokio::sync::oneshot::Receiver<i32>>) -> i32 {
    match exited {
        Some(exited) => exited.await.unwrap_or(1),
        None => std::future::pending().await,
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
