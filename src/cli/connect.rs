//! How `modhost run` meets games: it serves the protocol on standard input and output
//! (`--stdio`), listens on a local socket or loopback TCP (`--listen`, or `listen` in
//! `config.toml`; the local socket `<data_dir>/modhost.sock` by default), and launches the
//! game itself (`--exec`), stopping when the game exits.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use modhost::Config;
use modhost::internal::config::{Listen, TOKEN_FILE};
use modhost::internal::protocol::{self, Connection, ListenError, Listener, Server};
use tokio::sync::oneshot;

use super::render;

/// The protocol's side of a running host.
pub struct Connections {
    pub server: Rc<Server>,
    /// Where the host listens, if it does.
    address: Option<String>,
    /// What TCP clients and the game must send.
    token: String,
    /// The game `--exec` launched.
    pub game: Option<Game>,
}

/// The game process `--exec` launched.
pub struct Game {
    child: Arc<Mutex<Child>>,
    /// Its exit status, once it has exited.
    pub exited: oneshot::Receiver<i32>,
}

impl Game {
    /// Ends the game when the host stops first (a signal).
    pub fn stop(&self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the command line asked for.
pub struct Wanted<'a> {
    pub stdio: bool,
    pub listen: Option<&'a str>,
    pub exec: &'a [String],
}

/// Sets up every connection the command line and the configuration ask for. Problems are
/// reported here; the error is the exit status.
pub fn open(wanted: &Wanted<'_>, config: &Config) -> Result<Connections, super::Exit> {
    let fail = |message: &str, hint: Option<&str>| {
        render::fatal(message, hint);
        super::Exit::Usage
    };
    let listen = match wanted.listen {
        Some(address) => Listen::parse(address)
            .map_err(|message| fail(&format!("`--listen {address}`: {message}"), None))?,
        None => config.listen.clone(),
    };
    let token = protocol::new_token()
        .map_err(|error| fail(&format!("cannot make a token for clients: {error}"), None))?;
    let server = Server::new(token.clone());
    if wanted.stdio {
        let stdio = Connection::stdio().map_err(|error| fail(&error.to_string(), None))?;
        server.add(stdio);
    }
    if !matches!(listen, Listen::None) {
        modhost::internal::data_dir::ensure_private(&config.data_dir)
            .map_err(|error| fail(&error.to_string(), None))?;
    }
    let listening = match listen_where(&listen, config) {
        Ok(listening) => listening,
        // Listening by default must never stop a pack from running; asked for, it must work.
        Err(ListenError::Taken(address)) if wanted.listen.is_none() && wanted.exec.is_empty() => {
            tracing::warn!(
                "another modhost owns `{address}`: running without listening (`ctl` reaches the other one)"
            );
            None
        }
        Err(error) if wanted.listen.is_none() && wanted.exec.is_empty() => {
            tracing::warn!("{error}: running without listening (set `listen` in `config.toml`)");
            None
        }
        Err(error) => {
            return Err(fail(
                &error.to_string(),
                Some(
                    "stop the other host, or listen elsewhere with `--listen PATH` or `--listen tcp:127.0.0.1:PORT`",
                ),
            ));
        }
    };
    let address = match listening {
        Some(listener) => {
            // Only TCP clients need the token (a local socket is the user's own, and `--exec`
            // hands it over in `MODHOST_TOKEN`): a full disk does not stop a pack that does
            // not listen on TCP.
            if matches!(listen, Listen::Tcp(_)) {
                let token_file = config.data_dir.join(TOKEN_FILE);
                protocol::write_token(&token_file, &token).map_err(|error| {
                    fail(
                        &format!("cannot write `{}`: {error}", token_file.display()),
                        None,
                    )
                })?;
            }
            let address = server.listen(listener);
            tracing::info!("listening on {address}");
            Some(address)
        }
        None => None,
    };
    if !wanted.exec.is_empty() && address.is_none() {
        return Err(fail(
            "`--exec` needs modhost to listen, but `listen` is `none`",
            Some("remove `listen = \"none\"` from `config.toml`, or give `--listen`"),
        ));
    }
    Ok(Connections {
        server,
        address,
        token,
        game: None,
    })
}

impl Connections {
    /// Launches the game `--exec` names, once the pack has started.
    pub fn launch_game(&mut self, exec: &[String]) -> Result<(), super::Exit> {
        let (Some((program, args)), Some(address)) = (exec.split_first(), &self.address) else {
            return Ok(());
        };
        let game = launch(program, args, address, &self.token).map_err(|message| {
            render::fatal(&message, None);
            super::Exit::Usage
        })?;
        self.game = Some(game);
        Ok(())
    }
}

fn listen_where(listen: &Listen, config: &Config) -> Result<Option<Listener>, ListenError> {
    match listen {
        Listen::None => Ok(None),
        Listen::Tcp(address) => Listener::tcp(*address).map(Some),
        local => {
            let path = local.socket_path(&config.data_dir).unwrap_or_default();
            Listener::local(&absolute(path)).map(Some)
        }
    }
}

/// The path as the game will see it, whatever its working directory.
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// Starts the game with `MODHOST_CONNECT` and `MODHOST_TOKEN` set, and a thread that reports
/// its exit status.
fn launch(program: &str, args: &[String], address: &str, token: &str) -> Result<Game, String> {
    let child = Command::new(program)
        .args(args)
        .env("MODHOST_CONNECT", address)
        .env("MODHOST_TOKEN", token)
        .spawn()
        .map_err(|error| format!("cannot start `{program}`: {error}"))?;
    tracing::info!("started `{program}` (pid {})", child.id());
    let child = Arc::new(Mutex::new(child));
    let (report, exited) = oneshot::channel();
    let watched = Arc::clone(&child);
    std::thread::spawn(move || {
        loop {
            let status = match watched.lock() {
                Ok(mut child) => child.try_wait(),
                Err(_) => return,
            };
            match status {
                Ok(Some(status)) => {
                    let _ = report.send(exit_code(status));
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => {
                    let _ = report.send(1);
                    return;
                }
            }
        }
    });
    Ok(Game { child, exited })
}

/// The game's exit code; a game killed by a signal is `128 + signal`, as shells report it.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    1
}

/// The event loop of a host serving the protocol: one thread, the host's.
pub fn event_loop() -> Result<tokio::runtime::Runtime, super::Exit> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            render::fatal(&format!("cannot start the event loop: {error}"), None);
            super::Exit::Usage
        })
}

/// The watchdog over `host`, which also hears the signals that stop it: notified then.
pub fn watch_over(
    host: &modhost::Host,
    config: &Config,
) -> Result<Arc<tokio::sync::Notify>, super::Exit> {
    super::watchdog::start(host.activity(), config.longest_call_timeout()).map_err(|error| {
        render::fatal(&format!("cannot listen for signals: {error}"), None);
        super::Exit::Usage
    })
}

/// Ends the connections once the host has stopped: a client that asked for `shutdown` is
/// answered, and what is queued is written.
pub fn close(server: &Server, stopped: Option<&protocol::Stop>) {
    if let Some(protocol::Stop::Shutdown { connection, id }) = stopped {
        server.respond(*connection, id, Ok(modhost::Value::Null));
    }
    server.finish();
}

/// Serves the protocol for `host` as `wanted` says, and nothing else (no timers, no watching),
/// until a client sends `shutdown`, standard input closes or a signal comes: `modhost replay
/// --until N --listen` keeps a replayed host up this way for `ctl` to look into.
pub fn serve(
    host: &Rc<modhost::Host>,
    wanted: &Wanted<'_>,
    config: &Config,
) -> Result<(), super::Exit> {
    let runtime = event_loop()?;
    let stop = watch_over(host, config)?;
    let connections = runtime.block_on(async { open(wanted, config) })?;
    let server = Rc::clone(&connections.server);
    server.attach(host);
    if let Some(address) = &connections.address {
        use std::io::Write as _;
        let _ = writeln!(
            anstream::stderr(),
            "serving the replayed host on {address}: `modhost ctl` looks in, `modhost ctl shutdown` stops it"
        );
    }
    let stopped = runtime.block_on(async {
        loop {
            if let Some(stop) = server.stop_requested() {
                break Some(stop);
            }
            tokio::select! {
                () = server.ready() => server.pump(),
                () = stop.notified() => break None,
            }
        }
    });
    close(&server, stopped.as_ref());
    Ok(())
}
