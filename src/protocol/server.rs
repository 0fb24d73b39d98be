//! The host's end of every connection: who is connected and initialized, what each game
//! provides and listens to, and requests in both directions.
//!
//! Everything here runs on the host's thread. While a mod waits for a `game/call`, the server
//! keeps serving whatever arrives (a game answering `game/call` while its own `events/emit` is
//! in flight, another client's `mods/list`), so requests nest both ways without a deadlock.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::{Rc, Weak};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::framing::{Framing, encode};
use super::message::{self, Incoming, NOT_AUTHORISED, RpcError};
use super::methods;
use super::transport::{ConnectionId, Inbound};
use crate::host::{GameCallError, GameEvent, GameLink, Host, ModStatus};
use crate::runtime::{Json as Value, LogLevel};

/// Why the host should stop, as the connections decided it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Standard input closed (`--stdio`): detach every mod and exit 0.
    InputClosed,
    /// A client sent `shutdown`: detach every mod, answer it, exit 0.
    Shutdown { connection: ConnectionId, id: Json },
}

pub(super) struct Connection {
    writer: Sender<Vec<u8>>,
    writer_thread: Option<JoinHandle<()>>,
    framing: Framing,
    pub initialized: bool,
    needs_token: bool,
    is_stdio: bool,
    close: Box<dyn Fn() + Send>,
    /// The game functions this client answers.
    pub provides: BTreeSet<String>,
    /// The events mods emit that this client hears.
    pub subscribed: BTreeSet<String>,
    /// The least severe mod log level this client hears; `None`: no logs.
    pub logs: Option<LogLevel>,
    /// When it initialized, to prefer the newest provider of a function.
    initialized_at: u64,
    /// Sent a wrong token: closed once the refusal is written.
    refused: bool,
}

impl Connection {
    /// Lets the writer thread write what is queued (for at most a second: a client that does
    /// not read cannot hold the host), then ends the connection.
    fn flush_and_close(self) {
        drop(self.writer);
        if let Some(thread) = self.writer_thread {
            let deadline = Instant::now() + Duration::from_secs(1);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        (self.close)();
    }
}

/// The host's end of the protocol. Connect it to the host with [`Host::connect_game`] (it
/// answers game functions and hears events), then [`Server::pump`] it whenever the waker the
/// transports were given fires.
pub struct Server {
    host: RefCell<Weak<Host>>,
    inbox: Receiver<Inbound>,
    connections: RefCell<BTreeMap<ConnectionId, Connection>>,
    /// The token TCP clients must send; local sockets and stdio are the user's own.
    token: String,
    next_request: Cell<u64>,
    next_initialized: Cell<u64>,
    /// Our requests still waiting for an answer, and answers that came while another was
    /// awaited.
    waiting: RefCell<BTreeSet<String>>,
    answered: RefCell<HashMap<String, Result<Json, RpcError>>>,
    stop: RefCell<Option<Stop>>,
}

impl Server {
    pub fn new(inbox: Receiver<Inbound>, token: String) -> Rc<Server> {
        Rc::new(Server {
            host: RefCell::new(Weak::new()),
            inbox,
            connections: RefCell::new(BTreeMap::new()),
            token,
            next_request: Cell::new(1),
            next_initialized: Cell::new(1),
            waiting: RefCell::new(BTreeSet::new()),
            answered: RefCell::new(HashMap::new()),
            stop: RefCell::new(None),
        })
    }

    /// Serves `host` from now on, and makes this server its game.
    pub fn attach(self: &Rc<Self>, host: &Rc<Host>) {
        *self.host.borrow_mut() = Rc::downgrade(host);
        host.connect_game(Rc::clone(self) as Rc<dyn GameLink>);
    }

    /// Handles everything that has arrived, without waiting.
    pub fn pump(&self) {
        while let Ok(inbound) = self.inbox.try_recv() {
            self.handle(inbound);
        }
    }

    /// Why the host should stop, once a connection said so.
    pub fn stop_requested(&self) -> Option<Stop> {
        self.stop.borrow().clone()
    }

    /// Answers a request outside the method table (`shutdown`, once the mods are detached).
    pub fn respond(&self, connection: ConnectionId, id: &Json, result: Result<Json, RpcError>) {
        self.send(connection, &message::response(id, result));
    }

    /// Closes every connection once what was written has been flushed (for at most a second
    /// each), before the process exits.
    pub fn finish(&self) {
        let connections = std::mem::take(&mut *self.connections.borrow_mut());
        for (_, connection) in connections {
            connection.flush_and_close();
        }
    }

    fn handle(&self, inbound: Inbound) {
        match inbound {
            Inbound::Connected(new) => {
                tracing::debug!(connection = new.id, "a client connected");
                self.connections.borrow_mut().insert(
                    new.id,
                    Connection {
                        writer: new.writer,
                        writer_thread: Some(new.writer_thread),
                        framing: Framing::Lines,
                        initialized: false,
                        needs_token: new.needs_token,
                        is_stdio: new.is_stdio,
                        close: new.close,
                        provides: BTreeSet::new(),
                        subscribed: BTreeSet::new(),
                        logs: None,
                        initialized_at: 0,
                        refused: false,
                    },
                );
            }
            Inbound::Closed { id, why } => {
                let removed = self.connections.borrow_mut().remove(&id);
                if let Some(why) = why {
                    tracing::warn!(connection = id, "a client's connection broke: {why}");
                } else {
                    tracing::debug!(connection = id, "a client disconnected");
                }
                if removed.is_some_and(|connection| connection.is_stdio) {
                    self.request_stop(Stop::InputClosed);
                }
            }
            Inbound::Frame { id, framing, bytes } => {
                if let Some(connection) = self.connections.borrow_mut().get_mut(&id) {
                    connection.framing = framing;
                }
                self.received(id, &bytes);
            }
        }
    }

    fn received(&self, connection: ConnectionId, bytes: &[u8]) {
        match Incoming::parse(bytes) {
            Err((id, error)) => self.respond(connection, &id, Err(error)),
            Ok(Incoming::Request { id, method, params }) => {
                let result = self.request(connection, &id, &method, params);
                if let Some(result) = result {
                    self.respond(connection, &id, result);
                }
                let refused = self.with_connection(connection, |state| state.refused);
                if refused == Some(true) {
                    self.close(connection);
                }
            }
            // No notification from a game changes anything; unknown ones are ignored, as
            // JSON-RPC asks.
            Ok(Incoming::Notification { method, .. }) => {
                tracing::debug!(connection, "ignored the notification `{method}`");
            }
            Ok(Incoming::Response { id, result }) => {
                let key = id_key(&id);
                if self.waiting.borrow().contains(&key) {
                    self.answered.borrow_mut().insert(key, result);
                } else {
                    tracing::debug!(connection, "a response to no waiting request: {id}");
                }
            }
        }
    }

    /// A request's result; `None` when it is answered later (`shutdown`).
    fn request(
        &self,
        connection: ConnectionId,
        id: &Json,
        method: &str,
        params: Json,
    ) -> Option<Result<Json, RpcError>> {
        let initialized = self
            .connections
            .borrow()
            .get(&connection)
            .is_some_and(|connection| connection.initialized);
        if method == "initialize" {
            return Some(self.initialize(connection, params));
        }
        if !initialized {
            return Some(Err(RpcError::new(
                NOT_AUTHORISED,
                format!("`{method}` before `initialize`: send `initialize` first"),
            )));
        }
        if method == "shutdown" {
            self.request_stop(Stop::Shutdown {
                connection,
                id: id.clone(),
            });
            return None;
        }
        let Some(host) = self.host.borrow().upgrade() else {
            return Some(Err(RpcError::new(
                NOT_AUTHORISED,
                "the host is shutting down",
            )));
        };
        Some(methods::dispatch(self, &host, connection, method, params))
    }

    fn initialize(&self, connection: ConnectionId, params: Json) -> Result<Json, RpcError> {
        let params: methods::Initialize = methods::params(params)?;
        let needs_token = self
            .connections
            .borrow()
            .get(&connection)
            .is_some_and(|connection| connection.needs_token);
        if needs_token && params.token.as_deref() != Some(self.token.as_str()) {
            let refusal = RpcError::new(
                NOT_AUTHORISED,
                "wrong or missing token: send the contents of `<data_dir>/modhost.token` as `token` in `initialize` (or `MODHOST_TOKEN`, set for `--exec`)",
            );
            self.with_connection(connection, |connection| connection.refused = true);
            return Err(refusal);
        }
        let Some(host) = self.host.borrow().upgrade() else {
            return Err(RpcError::new(NOT_AUTHORISED, "the host is shutting down"));
        };
        methods::check_provides(&host, &params.provides)?;
        let logs = params.logs.as_deref().map(methods::log_level).transpose()?;
        let order = self.next_initialized.get();
        self.next_initialized.set(order + 1);
        if let Some(state) = self.connections.borrow_mut().get_mut(&connection) {
            state.initialized = true;
            state.initialized_at = order;
            state.provides = params.provides.into_iter().collect();
            state.subscribed = params.subscribe.into_iter().collect();
            state.logs = logs;
        }
        if let Some(client) = &params.client {
            tracing::info!(connection, "{} {} connected", client.name, client.version);
        }
        Ok(json!({
            "modhost": { "version": env!("CARGO_PKG_VERSION") },
            "mods": host.mods(),
        }))
    }

    pub(super) fn with_connection<R>(
        &self,
        connection: ConnectionId,
        change: impl FnOnce(&mut Connection) -> R,
    ) -> Option<R> {
        self.connections
            .borrow_mut()
            .get_mut(&connection)
            .map(change)
    }

    /// Ends a connection from the host's side, after what was written to it.
    fn close(&self, connection: ConnectionId) {
        let removed = self.connections.borrow_mut().remove(&connection);
        if let Some(connection) = removed {
            connection.flush_and_close();
        }
    }

    fn request_stop(&self, stop: Stop) {
        let mut current = self.stop.borrow_mut();
        if current.is_none() {
            *current = Some(stop);
        }
    }

    fn send(&self, connection: ConnectionId, message: &Json) {
        let connections = self.connections.borrow();
        if let Some(connection) = connections.get(&connection) {
            let _ = connection.writer.send(encode(connection.framing, message));
        }
    }

    /// Sends a notification to every initialized connection `to` selects.
    fn notify(&self, to: impl Fn(&Connection) -> bool, method: &str, params: Json) {
        let message = message::notification(method, params);
        for connection in self.connections.borrow().values() {
            if connection.initialized && to(connection) {
                let _ = connection.writer.send(encode(connection.framing, &message));
            }
        }
    }
}

impl GameLink for Server {
    fn call(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Value],
        timeout: Duration,
    ) -> Result<Value, GameCallError> {
        let provider = self
            .connections
            .borrow()
            .iter()
            .filter(|(_, connection)| {
                connection.initialized && connection.provides.contains(function)
            })
            .max_by_key(|(_, connection)| connection.initialized_at)
            .map(|(id, _)| *id);
        let Some(provider) = provider else {
            return Err(GameCallError::NotProvided);
        };
        let number = self.next_request.get();
        self.next_request.set(number + 1);
        let id = Json::String(format!("game-{number}"));
        let key = id_key(&id);
        self.waiting.borrow_mut().insert(key.clone());
        self.send(
            provider,
            &message::request(
                &id,
                "game/call",
                json!({ "function": function, "args": args, "mod": mod_id }),
            ),
        );
        let deadline = Instant::now() + timeout;
        let outcome = loop {
            if let Some(answer) = self.answered.borrow_mut().remove(&key) {
                break answer.map_err(|error| GameCallError::Failed(error.message));
            }
            if !self.connections.borrow().contains_key(&provider) {
                break Err(GameCallError::Failed(format!(
                    "the game disconnected before answering `{function}`"
                )));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.inbox.recv_timeout(left) {
                Ok(inbound) => self.handle(inbound),
                Err(RecvTimeoutError::Timeout) => {
                    break Err(GameCallError::Failed(format!(
                        "the game did not answer `{function}` within `game_call_timeout_ms` = {}",
                        timeout.as_millis()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(GameCallError::Failed("the game is gone".to_owned()));
                }
            }
        };
        self.waiting.borrow_mut().remove(&key);
        outcome
    }

    fn event(&self, event: &GameEvent) {
        self.notify(
            |connection| connection.subscribed.contains(&event.event),
            "events/event",
            json!({ "event": event.event, "payload": event.payload, "mod": event.mod_id }),
        );
    }

    fn state_changed(&self, status: &ModStatus) {
        self.notify(|_| true, "mods/state", json!(status));
    }

    fn log(&self, mod_id: &str, level: LogLevel, message: &str) {
        self.notify(
            |connection| connection.logs.is_some_and(|least| level >= least),
            "log",
            json!({ "mod": mod_id, "level": methods::level_name(level), "message": message }),
        );
    }
}

fn id_key(id: &Json) -> String {
    id.to_string()
}
