//! The host's end of every connection: who is connected and initialized, what each game
//! provides and listens to, and requests in both directions.
//!
//! Everything here runs on the host's thread. While a mod waits for a `game/call`, the server
//! keeps serving whatever arrives (a game answering `game/call` while its own `events/emit` is
//! in flight, another client's `mods/list`), so requests nest both ways without a deadlock.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::runtime::Json;
use crate::value::Object;

use super::framing::encode;
use super::message::{self, Incoming, NOT_AUTHORISED, RpcError};
use super::method::{self, InitializeParams};
use super::methods;
use super::transport::{Connection, ConnectionId, Listener, Ready, Received, Waiting};
use crate::host::{GameCallError, GameEvent, GameLink, Host, ModStatus};
use crate::runtime::{Json as Value, LogLevel};

/// Why the host should stop, as the connections decided it.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Standard input closed (`--stdio`): detach every mod and exit 0.
    InputClosed,
    /// Standard input broke (bytes that are not messages, a message over the limit): detach
    /// every mod and exit 2, saying why.
    InputBroken(String),
    /// A client sent `shutdown`: detach every mod, answer it, exit 0.
    Shutdown { connection: ConnectionId, id: Json },
}

/// One connected client: its stream and what it told the host.
pub(super) struct Client {
    io: Connection,
    pub initialized: bool,
    /// The game functions this client answers.
    pub provides: BTreeSet<String>,
    /// The events mods emit that this client hears.
    pub subscribed: BTreeSet<String>,
    /// The least severe mod log level this client hears; `None`: no logs.
    pub logs: Option<LogLevel>,
    /// When it initialized, to prefer the newest provider of a function.
    initialized_at: u64,
    /// Sent a wrong token, or fell too far behind: closed once what is queued is written.
    closing: bool,
    /// When it connected: a socket client that has not initialized by
    /// [`INITIALIZE_WITHIN`] after is dropped.
    connected: Instant,
}

/// How long a client on a socket has to send `initialize`.
pub(crate) const INITIALIZE_WITHIN: Duration = Duration::from_secs(5);

/// How many clients may be connected at once; more are refused as they connect.
pub(crate) const MAX_CLIENTS: usize = 64;

/// The host's end of the protocol. Connect it to the host with [`Server::attach`] (it then
/// answers game functions and hears events), await [`Server::ready`] in the event loop and
/// [`Server::pump`] it then.
pub struct Server {
    host: RefCell<Weak<Host>>,
    listeners: RefCell<Vec<Listener>>,
    clients: RefCell<BTreeMap<ConnectionId, Client>>,
    next_connection: Cell<ConnectionId>,
    /// The token TCP clients must send; local sockets and stdio are the user's own.
    token: String,
    next_request: Cell<u64>,
    next_initialized: Cell<u64>,
    /// Our requests still waiting for an answer, and answers that came while another was
    /// awaited.
    waiting: RefCell<BTreeSet<String>>,
    answered: RefCell<HashMap<String, Result<Json, RpcError>>>,
    stop: RefCell<Option<Stop>>,
    /// The last lines mods logged, for `host/logs` (`modhost ctl logs`).
    recent_logs: RefCell<VecDeque<Json>>,
}

/// How many of the mods' last log lines `host/logs` keeps.
const RECENT_LOGS: usize = 1000;

impl Server {
    pub fn new(token: String) -> Rc<Server> {
        Rc::new(Server {
            host: RefCell::new(Weak::new()),
            listeners: RefCell::new(Vec::new()),
            clients: RefCell::new(BTreeMap::new()),
            next_connection: Cell::new(1),
            token,
            next_request: Cell::new(1),
            next_initialized: Cell::new(1),
            waiting: RefCell::new(BTreeSet::new()),
            answered: RefCell::new(HashMap::new()),
            stop: RefCell::new(None),
            recent_logs: RefCell::new(VecDeque::new()),
        })
    }

    /// Serves `host` from now on, and makes this server its game.
    pub fn attach(self: &Rc<Self>, host: &Rc<Host>) {
        *self.host.borrow_mut() = Rc::downgrade(host);
        host.connect_game(Rc::clone(self) as Rc<dyn GameLink>);
    }

    /// Serves a client connected some other way (standard input and output).
    pub fn add(&self, io: Connection) -> ConnectionId {
        let id = self.next_connection.get();
        self.next_connection.set(id + 1);
        tracing::debug!(connection = id, "a client connected");
        self.clients.borrow_mut().insert(
            id,
            Client {
                io,
                initialized: false,
                provides: BTreeSet::new(),
                subscribed: BTreeSet::new(),
                logs: None,
                initialized_at: 0,
                closing: false,
                connected: Instant::now(),
            },
        );
        id
    }

    /// Accepts clients on `listener` from now on; returns the address they connect to.
    pub fn listen(&self, listener: Listener) -> String {
        let address = listener.address.clone();
        self.listeners.borrow_mut().push(listener);
        address
    }

    /// Socket clients that did not initialize in time: strangers holding a connection.
    fn drop_late_clients(&self) {
        let late: Vec<ConnectionId> = self
            .clients
            .borrow()
            .iter()
            .filter(|(_, client)| {
                !client.initialized
                    && !client.io.is_stdio
                    && client.connected.elapsed() >= INITIALIZE_WITHIN
            })
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            tracing::warn!(
                connection = id,
                "dropped a client that did not send `initialize` within {} s",
                INITIALIZE_WITHIN.as_secs()
            );
            self.close(id);
        }
    }

    /// When the first socket client that has not initialized runs out of time.
    fn next_initialize_deadline(&self) -> Option<Instant> {
        self.clients
            .borrow()
            .values()
            .filter(|client| !client.initialized && !client.io.is_stdio)
            .map(|client| client.connected + INITIALIZE_WITHIN)
            .min()
    }

    /// Resolves when a client connected, sent something, or can take queued output, or when
    /// a client's time to initialize ran out.
    pub async fn ready(&self) {
        let late = async {
            match self.next_initialize_deadline() {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        };
        let arrived = poll_fn(|context| {
            for listener in self.listeners.borrow().iter() {
                if listener.poll_ready(context).is_ready() {
                    return Poll::Ready(());
                }
            }
            for client in self.clients.borrow().values() {
                if client.io.poll_ready(context).is_ready() {
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        });
        tokio::select! {
            () = arrived => {}
            () = late => {}
        }
    }

    /// Handles everything that has arrived, without waiting.
    pub fn pump(&self) {
        self.pump_where(None);
    }

    /// Handles what has arrived on the descriptors in `ready`, or on all of them.
    fn pump_where(&self, ready: Option<&Ready>) {
        let accepted: Vec<Connection> = self
            .listeners
            .borrow()
            .iter()
            .filter(|listener| ready.is_none_or(|ready| listener.is_among(ready)))
            .flat_map(Listener::accept)
            .collect();
        for connection in accepted {
            if self.clients.borrow().len() >= MAX_CLIENTS {
                tracing::warn!("refused a connection: {MAX_CLIENTS} clients are connected");
                connection.close();
                continue;
            }
            self.add(connection);
        }
        self.drop_late_clients();
        let mut arrived: Vec<(ConnectionId, Vec<Vec<u8>>, Received)> = Vec::new();
        for (id, client) in self.clients.borrow_mut().iter_mut() {
            if ready.is_some_and(|ready| !client.io.is_among(ready)) {
                continue;
            }
            let mut frames = Vec::new();
            let received = client.io.receive(&mut frames);
            arrived.push((*id, frames, received));
        }
        for (id, frames, received) in arrived {
            for frame in frames {
                self.received(id, &frame);
            }
            match received {
                Received::Open => {}
                Received::Ended => self.disconnected(id, None),
                Received::Broken(why) => self.disconnected(id, Some(why)),
            }
        }
        self.flush();
    }

    /// Why the host should stop, once a connection said so.
    pub fn stop_requested(&self) -> Option<Stop> {
        self.stop.borrow().clone()
    }

    /// Answers a request outside the method table (`shutdown`, once the mods are detached).
    pub fn respond(&self, connection: ConnectionId, id: &Json, result: Result<Json, RpcError>) {
        self.send(connection, &message::response(id, result));
    }

    /// Writes what is queued (for at most a second: a client that does not read cannot hold
    /// the host), then closes every connection and stops listening, before the process exits.
    pub fn finish(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            self.flush();
            let mut wanted = Waiting::default();
            for client in self.clients.borrow().values() {
                if client.io.has_backlog() {
                    client.io.wanted(&mut wanted);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if wanted.is_empty() || left.is_zero() {
                break;
            }
            wanted.wait(left);
        }
        for (_, client) in std::mem::take(&mut *self.clients.borrow_mut()) {
            client.io.close();
        }
        self.listeners.borrow_mut().clear();
    }

    /// Writes queued output, and closes the clients that are done.
    fn flush(&self) {
        let mut done = Vec::new();
        for (id, client) in self.clients.borrow_mut().iter_mut() {
            if let Err(why) = client.io.flush() {
                tracing::warn!(connection = id, "dropping a client: {why}");
                done.push(*id);
            } else if client.closing && !client.io.has_backlog() {
                done.push(*id);
            }
        }
        for id in done {
            self.close(id);
        }
    }

    /// Waits until a client or listener has something, or `timeout` passes, and handles it.
    fn wait_and_pump(&self, timeout: Duration) {
        let mut wanted = Waiting::default();
        for listener in self.listeners.borrow().iter() {
            listener.wanted(&mut wanted);
        }
        for client in self.clients.borrow().values() {
            client.io.wanted(&mut wanted);
        }
        let ready = wanted.wait(timeout);
        self.pump_where(Some(&ready));
    }

    fn disconnected(&self, id: ConnectionId, why: Option<String>) {
        let removed = self.clients.borrow_mut().remove(&id);
        match &why {
            Some(why) => tracing::warn!(connection = id, "a client's connection broke: {why}"),
            None => tracing::debug!(connection = id, "a client disconnected"),
        }
        // Its input ended, not necessarily its output: the answers queued for it are written
        // (dropping it discarded them, which lost a scripted session's last answer on Windows).
        let stdio = removed.as_ref().is_some_and(|client| client.io.is_stdio);
        if let Some(client) = removed {
            client.io.close();
        }
        if stdio {
            self.request_stop(match why {
                Some(why) => Stop::InputBroken(why),
                None => Stop::InputClosed,
            });
        }
    }

    /// Ends a connection from the host's side.
    fn close(&self, connection: ConnectionId) {
        if let Some(client) = self.clients.borrow_mut().remove(&connection) {
            client.io.close();
        }
    }

    fn received(&self, connection: ConnectionId, bytes: &[u8]) {
        match Incoming::parse(bytes) {
            Err((id, error)) => self.respond(connection, &id, Err(error)),
            Ok(Incoming::Request { id, method, params }) => {
                if let Some(result) = self.request(connection, &id, &method, params) {
                    self.respond(connection, &id, result);
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
        if method == "initialize" {
            return Some(self.initialize(connection, params));
        }
        let initialized = self
            .clients
            .borrow()
            .get(&connection)
            .is_some_and(|client| client.initialized);
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
        let session = ClientSession {
            server: self,
            connection,
        };
        Some(methods::dispatch(&session, &host, method, params))
    }

    fn initialize(&self, connection: ConnectionId, params: Json) -> Result<Json, RpcError> {
        let params: InitializeParams = method::params(params)?;
        let needs_token = self
            .clients
            .borrow()
            .get(&connection)
            .is_some_and(|client| client.io.needs_token);
        if needs_token && params.token.as_deref() != Some(self.token.as_str()) {
            // Closed once the refusal is written.
            self.with_client(connection, |client| client.closing = true);
            return Err(RpcError::new(
                NOT_AUTHORISED,
                "wrong or missing token: send the contents of `<data_dir>/modhost.token` as `token` in `initialize` (or `MODHOST_TOKEN`, set for `--exec`)",
            ));
        }
        let Some(host) = self.host.borrow().upgrade() else {
            return Err(RpcError::new(NOT_AUTHORISED, "the host is shutting down"));
        };
        methods::check_provides(&host, &params.provides)?;
        if let Some(api) = host.api() {
            for event in &params.subscribe {
                api.check_heard_by_game(event)
                    .map_err(|error| RpcError::invalid_params(error.to_string()))?;
            }
        }
        let logs = params.logs.as_deref().map(methods::log_level).transpose()?;
        let order = self.next_initialized.get();
        self.next_initialized.set(order + 1);
        self.with_client(connection, |client| {
            client.initialized = true;
            client.io.trust();
            client.initialized_at = order;
            client.provides = params.provides.into_iter().collect();
            client.subscribed = params.subscribe.into_iter().collect();
            client.logs = logs;
        });
        if let Some(client) = &params.client {
            tracing::info!(connection, "{} {} connected", client.name, client.version);
        }
        Ok(crate::value!({
            "modhost": { "version": env!("CARGO_PKG_VERSION") },
            "mods": host.mods(),
        }))
    }

    fn with_client<R>(
        &self,
        connection: ConnectionId,
        change: impl FnOnce(&mut Client) -> R,
    ) -> Option<R> {
        self.clients.borrow_mut().get_mut(&connection).map(change)
    }

    fn request_stop(&self, stop: Stop) {
        let mut current = self.stop.borrow_mut();
        if current.is_none() {
            *current = Some(stop);
        }
    }

    /// The client that answers `function`: the last to initialize of those that provide it.
    fn provider_of(&self, function: &str) -> Option<ConnectionId> {
        self.clients
            .borrow()
            .iter()
            .filter(|(_, client)| client.initialized && client.provides.contains(function))
            .max_by_key(|(_, client)| client.initialized_at)
            .map(|(id, _)| *id)
    }

    fn send(&self, connection: ConnectionId, message: &Json) {
        self.send_where(|id, _| id == connection, message);
    }

    /// Sends a notification to every initialized client `to` selects.
    fn notify(&self, to: impl Fn(&Client) -> bool, method: &str, params: Json) {
        let listening = |client: &Client| client.initialized && to(client);
        if !self.clients.borrow().values().any(listening) {
            return;
        }
        let message = message::notification(method, params);
        self.send_where(|_, client| listening(client), &message);
    }

    /// Writes `message` to the clients `to` selects, each in its own framing; a client that
    /// cannot take it is closed.
    fn send_where(&self, to: impl Fn(ConnectionId, &Client) -> bool, message: &Json) {
        for (id, client) in self.clients.borrow_mut().iter_mut() {
            if !to(*id, client) {
                continue;
            }
            if let Err(why) = client.io.send(&encode(client.io.framing(), message)) {
                tracing::warn!(connection = id, "dropping a client: {why}");
                client.closing = true;
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
        let Some(provider) = self.provider_of(function) else {
            return Err(GameCallError::NotProvided);
        };
        let number = self.next_request.get();
        self.next_request.set(number + 1);
        let id = Json::from(format!("game-{number}"));
        let key = id_key(&id);
        self.waiting.borrow_mut().insert(key.clone());
        self.send(
            provider,
            &message::request(
                &id,
                "game/call",
                Json::Object(Object::from_iter([
                    ("function", Json::from(function)),
                    ("args", Json::Array(args.to_vec())),
                    ("mod", Json::from(mod_id)),
                ])),
            ),
        );
        let deadline = Instant::now() + timeout;
        let outcome = loop {
            if let Some(answer) = self.answered.borrow_mut().remove(&key) {
                break answer.map_err(|error| GameCallError::Failed(error.message));
            }
            if !self.clients.borrow().contains_key(&provider) {
                break Err(GameCallError::Failed(format!(
                    "the game disconnected before answering `{function}`"
                )));
            }
            // A signal, or a client's `shutdown` (or its closed input) while the game is slow.
            let stopping = self.stop.borrow().is_some()
                || self
                    .host
                    .borrow()
                    .upgrade()
                    .is_some_and(|host| host.activity().stopping());
            if stopping {
                break Err(GameCallError::Failed(
                    "the host is stopping, so it no longer waits for the game".to_owned(),
                ));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(GameCallError::Failed(format!(
                    "the game did not answer `{function}` within `game_call_timeout_ms` = {}",
                    timeout.as_millis()
                )));
            }
            // Short waits, so that a request to stop is seen within 50 ms.
            self.wait_and_pump(left.min(Duration::from_millis(50)));
        };
        self.waiting.borrow_mut().remove(&key);
        outcome
    }

    fn event(&self, event: &GameEvent) {
        self.notify(
            |client| client.subscribed.contains(&event.event),
            "events/event",
            Json::Object(Object::from_iter([
                ("event", Json::from(event.event.as_str())),
                ("payload", event.payload.clone()),
                ("mod", Json::from(event.mod_id.as_str())),
            ])),
        );
    }

    fn state_changed(&self, status: &ModStatus) {
        self.notify(|_| true, "mods/state", crate::value!(status));
    }

    fn answer_refused(&self, mod_id: &str, function: &str, why: &str) {
        if let Some(provider) = self.provider_of(function) {
            let line = crate::value!({ "mod": mod_id, "level": "warn", "message": why, "function": function });
            self.send(provider, &message::notification("log", line));
        }
    }

    fn log(&self, mod_id: &str, level: LogLevel, message: &str) {
        let line = Json::Object(Object::from_iter([
            ("mod", Json::from(mod_id)),
            ("level", Json::from(level.name())),
            ("message", Json::from(message)),
        ]));
        {
            let mut recent = self.recent_logs.borrow_mut();
            if recent.len() == RECENT_LOGS {
                recent.pop_front();
            }
            recent.push_back(line.clone());
        }
        self.notify(
            |client| client.logs.is_some_and(|least| level >= least),
            "log",
            line,
        );
    }
}

fn id_key(id: &Json) -> String {
    id.to_string()
}

/// A method's view of the connection it came on.
struct ClientSession<'a> {
    server: &'a Server,
    connection: ConnectionId,
}

impl methods::Session for ClientSession<'_> {
    fn subscriptions(&self, change: &mut dyn FnMut(&mut BTreeSet<String>)) -> Vec<String> {
        self.server
            .with_client(self.connection, |client| {
                change(&mut client.subscribed);
                client.subscribed.iter().cloned().collect()
            })
            .unwrap_or_default()
    }

    fn recent_logs(&self) -> Vec<Json> {
        self.server.recent_logs.borrow().iter().cloned().collect()
    }
}
