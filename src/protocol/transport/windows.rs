//! Windows streams. Named pipes, the console and pipes to a parent cannot be waited on the way
//! Unix descriptors are, so each direction of a connection has a thread of its own that moves
//! the bytes: a blocking read into an inbox, a blocking write from an outbox. Every such thread
//! (and each listener's accepting thread) rings one [`Doorbell`] when there is something for
//! the host. The host's thread never blocks on a stream: it takes what the inbox holds, fills
//! the outbox, and waits on the doorbell, in the event loop (a waker) and while a mod waits
//! for a game (a condition variable). A message costs two thread hand-offs more than on Unix;
//! `benches/protocol.rs` measures the round trip.
//!
//! The local transport is a named pipe that only the current user may open (its security
//! descriptor grants the owner alone). Its name comes from the socket path of the
//! configuration (`\\.\pipe\modhost-` and a hash of the absolute path), so each pack has its
//! own, and `ctl --connect` with the same path finds it; a full `\\.\pipe\…` name is taken as
//! it is.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use interprocess::local_socket::traits::{Listener as _, Stream as _};
use interprocess::local_socket::{
    GenericNamespaced, ListenerOptions, Stream as PipeStream, ToNsName as _,
};
use interprocess::os::windows::local_socket::ListenerOptionsExt as _;
use interprocess::os::windows::security_descriptor::SecurityDescriptor;

use super::{Connection, ListenError, READ_CHUNK};

/// How much input a connection's thread reads ahead of the host before it waits.
const INBOX_BYTES: usize = 1024 * 1024;

/// How much output may wait for a connection's thread before writes would block (the rest
/// waits in the connection's backlog, which has its own limit).
const OUTBOX_BYTES: usize = 1024 * 1024;

/// How long closing a connection waits for its thread to write what is queued (answers to a
/// client that stopped sending, before the host exits): long enough for a loaded machine, short
/// enough that a client which stopped reading holds nothing up for long.
const DRAIN_WITHIN: Duration = Duration::from_secs(3);

/// Windows' error for a pipe whose every instance is serving a client.
const ERROR_PIPE_BUSY: i32 = 231;

/// The prefix of every pipe name.
const PIPE_PREFIX: &str = r"\\.\pipe\";

/// Only the owner (the user who started modhost) may open the pipe: a protected DACL with one
/// entry granting the owner everything.
const OWNER_ONLY: &str = "D:P(A;;GA;;;OW)";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits for `changed` to be notified, a panicked holder of the lock notwithstanding.
fn wait<'a, T>(changed: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    changed
        .wait(guard)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The name interprocess takes for the pipe `name` (`\\.\pipe\` and what follows).
fn pipe(name: &str) -> io::Result<interprocess::local_socket::Name<'_>> {
    name[PIPE_PREFIX.len()..].to_ns_name::<GenericNamespaced>()
}

/// Rung by every stream thread when there is something for the host; the host waits on it.
struct Doorbell {
    rings: Mutex<Rings>,
    rung: Condvar,
}

struct Rings {
    count: u64,
    wakers: Vec<Waker>,
}

fn doorbell() -> &'static Doorbell {
    static DOORBELL: OnceLock<Doorbell> = OnceLock::new();
    DOORBELL.get_or_init(|| Doorbell {
        rings: Mutex::new(Rings {
            count: 0,
            wakers: Vec::new(),
        }),
        rung: Condvar::new(),
    })
}

impl Doorbell {
    fn ring(&self) {
        let wakers = {
            let mut rings = lock(&self.rings);
            rings.count += 1;
            std::mem::take(&mut rings.wakers)
        };
        self.rung.notify_all();
        for waker in wakers {
            waker.wake();
        }
    }

    fn count(&self) -> u64 {
        lock(&self.rings).count
    }

    /// Wakes `waker` at the next ring.
    fn wake_on_ring(&self, waker: &Waker) {
        let mut rings = lock(&self.rings);
        if !rings.wakers.iter().any(|known| known.will_wake(waker)) {
            rings.wakers.push(waker.clone());
        }
    }

    /// Waits until a ring after the one counted as `seen`, or `timeout`.
    fn wait_past(&self, seen: u64, timeout: Duration) {
        let rings = lock(&self.rings);
        let _ = self
            .rung
            .wait_timeout_while(rings, timeout, |rings| rings.count == seen);
    }
}

/// Bytes between the host and one direction's thread.
#[derive(Default)]
struct Pipe {
    state: Mutex<PipeState>,
    changed: Condvar,
}

#[derive(Default)]
struct PipeState {
    chunks: VecDeque<Vec<u8>>,
    /// How much of the front chunk was taken already.
    taken: usize,
    queued: usize,
    /// The stream ended (its thread is gone), with why if it broke.
    ended: Option<Option<String>>,
    /// The host is done with it: the thread should stop.
    closed: bool,
}

impl Pipe {
    fn push(&self, chunk: Vec<u8>) {
        let mut state = lock(&self.state);
        state.queued += chunk.len();
        state.chunks.push_back(chunk);
        drop(state);
        self.changed.notify_all();
    }

    fn end(&self, broken: Option<String>) {
        lock(&self.state).ended.get_or_insert(broken);
        self.changed.notify_all();
        doorbell().ring();
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.changed.notify_all();
    }

    /// Whether the host has something to take: bytes, or the end.
    fn has_input(&self) -> bool {
        let state = lock(&self.state);
        state.queued > 0 || state.ended.is_some()
    }

    /// Whether the host may write more.
    fn has_room(&self) -> bool {
        let state = lock(&self.state);
        state.queued < OUTBOX_BYTES || state.ended.is_some()
    }
}

/// Reads `from` into `inbox` until it ends or the host is done with it.
fn read_into(mut from: impl Read, inbox: Arc<Pipe>) {
    let mut buffer = vec![0; READ_CHUNK];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => return inbox.end(None),
            Ok(read) => inbox.push(buffer[..read].to_vec()),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return inbox.end(None),
            Err(error) => return inbox.end(Some(error.to_string())),
        }
        doorbell().ring();
        let mut state = lock(&inbox.state);
        while state.queued > INBOX_BYTES && !state.closed {
            state = wait(&inbox.changed, state);
        }
        if state.closed {
            return;
        }
    }
}

/// Writes what the host puts in `outbox` to `to`, until the host is done and it is written.
fn write_from(mut to: impl Write, outbox: Arc<Pipe>) {
    loop {
        let chunk = {
            let mut state = lock(&outbox.state);
            loop {
                if let Some(chunk) = state.chunks.pop_front() {
                    break chunk;
                }
                if state.closed {
                    drop(state);
                    return outbox.end(None);
                }
                state = wait(&outbox.changed, state);
            }
        };
        let written = to.write_all(&chunk).and_then(|()| to.flush());
        lock(&outbox.state).queued -= chunk.len();
        if let Err(error) = written {
            return outbox.end(Some(error.to_string()));
        }
        doorbell().ring();
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> io::Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map(drop)
}

/// One connection's streams, each moved by a thread.
pub(super) struct Endpoint {
    inbox: Arc<Pipe>,
    outbox: Arc<Pipe>,
    /// Ends the stream from the host's side (a socket's shutdown), where that is possible.
    shutdown: Option<Box<dyn Fn() + Send>>,
}

impl Endpoint {
    fn bridged(
        reader: impl Read + Send + 'static,
        writer: impl Write + Send + 'static,
        shutdown: Option<Box<dyn Fn() + Send>>,
    ) -> io::Result<Endpoint> {
        let inbox = Arc::new(Pipe::default());
        let outbox = Arc::new(Pipe::default());
        let filled = Arc::clone(&inbox);
        spawn("modhost-read", move || read_into(reader, filled))?;
        let emptied = Arc::clone(&outbox);
        spawn("modhost-write", move || write_from(writer, emptied))?;
        Ok(Endpoint {
            inbox,
            outbox,
            shutdown,
        })
    }

    /// Standard input and output: pipes from a game, files, or the console.
    pub(super) fn stdio() -> io::Result<Endpoint> {
        Endpoint::bridged(io::stdin(), io::stdout(), None)
    }

    pub(super) fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        let mut state = lock(&self.inbox.state);
        let state = &mut *state;
        let Some(front) = state.chunks.front() else {
            return match &state.ended {
                None => Err(io::ErrorKind::WouldBlock.into()),
                Some(None) => Ok(0),
                Some(Some(why)) => Err(io::Error::other(why.clone())),
            };
        };
        let rest = &front[state.taken..];
        let count = rest.len().min(buffer.len());
        buffer[..count].copy_from_slice(&rest[..count]);
        state.taken += count;
        state.queued -= count;
        if state.taken == front.len() {
            state.chunks.pop_front();
            state.taken = 0;
        }
        self.inbox.changed.notify_all();
        Ok(count)
    }

    pub(super) fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let state = lock(&self.outbox.state);
        if let Some(ended) = &state.ended {
            let why = ended
                .clone()
                .unwrap_or_else(|| "the client stopped reading".to_owned());
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, why));
        }
        let room = OUTBOX_BYTES.saturating_sub(state.queued);
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        drop(state);
        let count = bytes.len().min(room);
        self.outbox.push(bytes[..count].to_vec());
        Ok(count)
    }

    /// Ready when input has arrived, or when output waits (`writing`) and there is room.
    pub(super) fn poll_ready(&self, context: &mut Context<'_>, writing: bool) -> Poll<()> {
        // Asked for the next ring first, so a ring between the look and the wait is not lost.
        doorbell().wake_on_ring(context.waker());
        if self.inbox.has_input() || (writing && self.outbox.has_room()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    pub(super) fn wanted(&self, waiting: &mut Waiting, writing: bool) {
        waiting.inputs.push(Arc::clone(&self.inbox));
        if writing {
            waiting.outputs.push(Arc::clone(&self.outbox));
        }
    }

    pub(super) fn is_among(&self, _ready: &Ready) -> bool {
        true
    }

    /// Ends the connection once what is queued is written (for at most [`DRAIN_WITHIN`]: the
    /// answer to `shutdown` must reach the client before the process exits).
    pub(super) fn close(&self) {
        self.outbox.close();
        let state = lock(&self.outbox.state);
        let _ = self
            .outbox
            .changed
            .wait_timeout_while(state, DRAIN_WITHIN, |state| state.ended.is_none());
        if let Some(shutdown) = &self.shutdown {
            shutdown();
        }
        self.inbox.close();
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        // The writing thread writes what is queued, then stops; the reading one stops at its
        // next read.
        self.inbox.close();
        self.outbox.close();
    }
}

/// What to wait for while a mod waits for a game.
#[derive(Default)]
pub struct Waiting {
    inputs: Vec<Arc<Pipe>>,
    outputs: Vec<Arc<Pipe>>,
    listeners: Vec<Arc<Accepted>>,
}

/// Which streams are ready: on Windows the host simply looks at all of them (a look costs a
/// lock, not a system call).
pub struct Ready;

impl Waiting {
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty() && self.outputs.is_empty() && self.listeners.is_empty()
    }

    fn any_ready(&self) -> bool {
        self.inputs.iter().any(|inbox| inbox.has_input())
            || self.outputs.iter().any(|outbox| outbox.has_room())
            || self
                .listeners
                .iter()
                .any(|accepted| !lock(&accepted.0).is_empty())
    }

    /// Blocks until something is ready or `timeout` passes.
    pub fn wait(self, timeout: Duration) -> Ready {
        let seen = doorbell().count();
        if !self.any_ready() {
            doorbell().wait_past(seen, timeout);
        }
        Ready
    }
}

/// Connections a listener's thread accepted, for the host to take.
#[derive(Default)]
struct Accepted(Mutex<Vec<Connection>>);

/// A listening pipe or socket, accepting on a thread of its own.
pub struct Listener {
    accepted: Arc<Accepted>,
    stop: Arc<AtomicBool>,
    /// What a client connects to: a pipe name or `tcp:127.0.0.1:PORT`.
    pub address: String,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The pipe name for a local socket path: the path itself when it is a pipe name, else one
/// derived from the absolute path, the same for every spelling of it.
pub(super) fn pipe_name(path: &Path) -> String {
    let text = path.display().to_string();
    if text.starts_with(PIPE_PREFIX) {
        return text;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let spelled = absolute
        .display()
        .to_string()
        .replace('/', "\\")
        .to_lowercase();
    // FNV-1a: a stable name, not a secret (the pipe's security descriptor is what protects it).
    let hash = spelled
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{PIPE_PREFIX}modhost-{hash:016x}")
}

impl Listener {
    fn start<S: Send + 'static>(
        address: String,
        mut accept: impl FnMut() -> io::Result<S> + Send + 'static,
        connection: impl Fn(S) -> io::Result<Connection> + Send + 'static,
    ) -> io::Result<Listener> {
        let accepted = Arc::new(Accepted::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (into, stopped) = (Arc::clone(&accepted), Arc::clone(&stop));
        spawn("modhost-accept", move || {
            while !stopped.load(Ordering::Relaxed) {
                match accept().and_then(&connection) {
                    Ok(connection) => lock(&into.0).push(connection),
                    Err(error) => {
                        tracing::warn!("a client could not connect: {error}");
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                }
                doorbell().ring();
            }
        })?;
        Ok(Listener {
            accepted,
            stop,
            address,
        })
    }

    /// Listens on a named pipe that only the current user may open. A pipe of that name that
    /// exists belongs to a running host (pipes go when their process does).
    pub fn local(path: &Path) -> Result<Listener, ListenError> {
        let name = pipe_name(path);
        let io = |error| ListenError::Io {
            what: name.clone(),
            error,
        };
        let descriptor = widestring::U16CString::from_str(OWNER_ONLY)
            .map_err(io::Error::other)
            .and_then(|sddl| SecurityDescriptor::deserialize(&sddl))
            .map_err(io)?;
        // A pipe that answers (or is busy answering) belongs to a running host. Creating the
        // first instance would fail as well where the system enforces that (Wine does not).
        let answered = pipe(&name).and_then(PipeStream::connect);
        match answered {
            Ok(_) => return Err(ListenError::Taken(name)),
            Err(error) if error.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                return Err(ListenError::Taken(name));
            }
            Err(_) => {}
        }
        let listener = pipe(&name)
            .and_then(|pipe| {
                ListenerOptions::new()
                    .name(pipe)
                    .security_descriptor(descriptor)
                    .create_sync()
            })
            .map_err(|error| match error.kind() {
                io::ErrorKind::PermissionDenied | io::ErrorKind::AddrInUse => {
                    ListenError::Taken(name.clone())
                }
                _ => io(error),
            })?;
        Listener::start(
            name.clone(),
            move || listener.accept(),
            |stream: PipeStream| {
                let stream = Arc::new(stream);
                let (reader, writer) = (SharedPipe(Arc::clone(&stream)), SharedPipe(stream));
                Endpoint::bridged(reader, writer, None).map(|io| Connection::new(io, false))
            },
        )
        .map_err(io)
    }

    /// Listens on loopback TCP; clients must send the token in `initialize`.
    pub fn tcp(address: SocketAddr) -> Result<Listener, ListenError> {
        let io = |error| ListenError::Io {
            what: format!("tcp:{address}"),
            error,
        };
        let listener = TcpListener::bind(address).map_err(io)?;
        let bound = listener.local_addr().unwrap_or(address);
        Listener::start(
            format!("tcp:{bound}"),
            move || listener.accept().map(|(stream, _)| stream),
            |stream: TcpStream| {
                let _ = stream.set_nodelay(true);
                let (reader, writer, closer) = (stream.try_clone()?, stream.try_clone()?, stream);
                let shutdown: Box<dyn Fn() + Send> =
                    Box::new(move || drop(closer.shutdown(std::net::Shutdown::Both)));
                Endpoint::bridged(reader, writer, Some(shutdown))
                    .map(|io| Connection::new(io, true))
            },
        )
        .map_err(io)
    }

    /// Every client that connected since the last time.
    pub fn accept(&self) -> Vec<Connection> {
        std::mem::take(&mut *lock(&self.accepted.0))
    }

    pub fn poll_ready(&self, context: &mut Context<'_>) -> Poll<()> {
        doorbell().wake_on_ring(context.waker());
        if lock(&self.accepted.0).is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    pub fn wanted(&self, waiting: &mut Waiting) {
        waiting.listeners.push(Arc::clone(&self.accepted));
    }

    pub fn is_among(&self, _ready: &Ready) -> bool {
        true
    }
}

/// Connects to the named pipe `address` names: a pipe name, or the socket path one comes from.
pub(super) fn connect_local(
    address: &str,
) -> io::Result<(Box<dyn Read + Send>, Box<dyn Write + Send>)> {
    let stream = Arc::new(PipeStream::connect(pipe(&pipe_name(Path::new(address)))?)?);
    Ok((
        Box::new(SharedPipe(Arc::clone(&stream))),
        Box::new(SharedPipe(stream)),
    ))
}

/// A pipe stream read on one thread and written on another (`&PipeStream` does both).
struct SharedPipe(Arc<PipeStream>);

impl Read for SharedPipe {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buffer)
    }
}

impl Write for SharedPipe {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        (&*self.0).write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        (&*self.0).flush()
    }
}
