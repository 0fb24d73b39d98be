//! Unix streams: non-blocking descriptors read and written on the host's thread, so a
//! message costs the same wake-ups as it would in a program that only echoes it. The event
//! loop waits through tokio's reactor (epoll, kqueue), and a mod waiting for a `game/call`
//! waits with `poll(2)` ([`Waiting::wait`]).

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::unix::AsyncFd;

use super::{Connection, ListenError};

/// One side of a connection.
enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
    /// Standard input or output (a duplicate of the descriptor).
    File(File),
    /// The reading end of a pipe a thread fills from a file that cannot be waited on.
    Pipe(io::PipeReader),
}

impl Stream {
    fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(stream) => (&*stream).read(buffer),
            Stream::Tcp(stream) => (&*stream).read(buffer),
            Stream::File(file) => (&*file).read(buffer),
            Stream::Pipe(pipe) => (&*pipe).read(buffer),
        }
    }

    fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(stream) => (&*stream).write(bytes),
            Stream::Tcp(stream) => (&*stream).write(bytes),
            Stream::File(file) => (&*file).write(bytes),
            Stream::Pipe(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    fn shutdown(&self) {
        match self {
            Stream::Unix(stream) => drop(stream.shutdown(std::net::Shutdown::Both)),
            Stream::Tcp(stream) => drop(stream.shutdown(std::net::Shutdown::Both)),
            Stream::File(_) | Stream::Pipe(_) => {}
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Unix(stream) => stream.as_raw_fd(),
            Stream::Tcp(stream) => stream.as_raw_fd(),
            Stream::File(file) => file.as_raw_fd(),
            Stream::Pipe(pipe) => pipe.as_raw_fd(),
        }
    }
}

/// Where `--stdio` writes.
enum Output {
    /// A pipe, socket or terminal, waited on while the reader is behind.
    Waitable(AsyncFd<Stream>),
    /// A regular file or a device, which takes every write at once.
    Direct(Stream),
}

/// One connection's streams: a socket, or standard input and output.
pub(super) struct Endpoint {
    input: AsyncFd<Stream>,
    /// Standard output, for `--stdio`; sockets write where they read.
    output: Option<Output>,
    /// Descriptor flags to put back when the connection ends (stdin and stdout are shared with
    /// whoever started modhost).
    restore: Vec<(RawFd, i32)>,
}

impl Endpoint {
    /// Pipes, sockets and terminals are waited on directly. Regular files and devices such as
    /// `/dev/null` cannot be waited on (they are always ready, and epoll refuses them): input
    /// from one is copied into a pipe by a thread of its own, so a file reads as the same
    /// session piped in would; output to one is written at once, which never waits.
    pub(super) fn stdio() -> io::Result<Endpoint> {
        let input = File::from(io::stdin().as_fd().try_clone_to_owned()?);
        let output = File::from(io::stdout().as_fd().try_clone_to_owned()?);
        let mut restore = Vec::new();
        let input = match registered(Stream::File(input)) {
            Ok(input) => {
                restore.push(non_blocking(input.as_raw_fd())?);
                input
            }
            Err((Stream::File(file), error)) if is_always_ready(&error) => {
                let reader = piped_from(file)?;
                non_blocking(reader.as_raw_fd())?;
                registered(Stream::Pipe(reader)).map_err(|(_, error)| error)?
            }
            Err((_, error)) => return Err(not_waitable("stdin", error)),
        };
        let output = match registered(Stream::File(output)) {
            Ok(output) => {
                restore.push(non_blocking(output.as_raw_fd())?);
                Output::Waitable(output)
            }
            Err((stream, error)) if is_always_ready(&error) => Output::Direct(stream),
            Err((_, error)) => return Err(not_waitable("stdout", error)),
        };
        Ok(Endpoint {
            input,
            output: Some(output),
            restore,
        })
    }

    fn socket(stream: Stream) -> io::Result<Endpoint> {
        Ok(Endpoint {
            input: registered(stream).map_err(|(_, error)| error)?,
            output: None,
            restore: Vec::new(),
        })
    }

    pub(super) fn read(&self, buffer: &mut [u8]) -> io::Result<usize> {
        self.input.get_ref().read(buffer)
    }

    pub(super) fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        self.output().write(bytes)
    }

    fn output(&self) -> &Stream {
        match &self.output {
            None => self.input.get_ref(),
            Some(Output::Waitable(output)) => output.get_ref(),
            Some(Output::Direct(output)) => output,
        }
    }

    /// The registered stream a backlog waits on, unless output never waits.
    fn waitable_output(&self) -> Option<&AsyncFd<Stream>> {
        match &self.output {
            None => Some(&self.input),
            Some(Output::Waitable(output)) => Some(output),
            Some(Output::Direct(_)) => None,
        }
    }

    /// Ready when input has arrived, or when output waits (`writing`) and can be written.
    pub(super) fn poll_ready(&self, context: &mut Context<'_>, writing: bool) -> Poll<()> {
        if let Poll::Ready(Ok(mut guard)) = self.input.poll_read_ready(context) {
            guard.clear_ready();
            return Poll::Ready(());
        }
        if writing {
            let Some(output) = self.waitable_output() else {
                return Poll::Ready(());
            };
            if let Poll::Ready(Ok(mut guard)) = output.poll_write_ready(context) {
                guard.clear_ready();
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }

    pub(super) fn wanted(&self, waiting: &mut Waiting, writing: bool) {
        waiting.0.push(pollfd(self.input.as_raw_fd(), libc::POLLIN));
        if writing {
            waiting
                .0
                .push(pollfd(self.output().as_raw_fd(), libc::POLLOUT));
        }
    }

    pub(super) fn is_among(&self, ready: &Ready) -> bool {
        ready.0.contains(&self.input.as_raw_fd()) || ready.0.contains(&self.output().as_raw_fd())
    }

    pub(super) fn close(&self) {
        self.input.get_ref().shutdown();
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        for (fd, flags) in &self.restore {
            // SAFETY: `fd` is a descriptor this endpoint duplicated and still owns.
            unsafe { libc::fcntl(*fd, libc::F_SETFL, *flags) };
        }
    }
}

/// Registers a stream with the event loop (which must be running on this thread); on failure,
/// hands the stream back with the reason.
fn registered<T: AsRawFd>(inner: T) -> Result<AsyncFd<T>, (T, io::Error)> {
    // SAFETY: every `T` registered here owns its descriptor (a socket, a listener, a pipe, or a
    // duplicate of stdin or stdout), which stays open and unchanged until the `AsyncFd` drops it.
    unsafe { AsyncFd::register(inner) }.map_err(|error| error.into_parts())
}

/// Whether registering failed because the descriptor is a regular file or a device that is
/// always ready (epoll answers `EPERM` for those).
fn is_always_ready(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::EPERM)
}

fn not_waitable(which: &str, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!(
            "{which} cannot be used for `--stdio` ({error}): give it a pipe, a socket, a terminal or a regular file"
        ),
    )
}

/// A pipe that a thread of its own fills with `file`'s bytes, then closes (the reader then
/// sees the end of input, as with a pipe from a program that exited). The thread ends when the
/// file does or when the reader is dropped.
fn piped_from(mut file: File) -> io::Result<io::PipeReader> {
    let (reader, mut writer) = io::pipe()?;
    std::thread::Builder::new()
        .name("modhost-stdin".to_owned())
        .spawn(move || {
            // A read error ends the input as the end of the file would; the host then sees the
            // session end where it broke.
            let _ = io::copy(&mut file, &mut writer);
        })?;
    Ok(reader)
}

/// Sets `O_NONBLOCK`, returning the flags to restore.
fn non_blocking(fd: RawFd) -> io::Result<(RawFd, i32)> {
    // SAFETY: plain fcntl calls on a descriptor the caller owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fd, flags))
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// What to wait for while a mod waits for a game: descriptors and the events wanted.
#[derive(Default)]
pub struct Waiting(Vec<libc::pollfd>);

/// The descriptors [`Waiting::wait`] found ready.
pub struct Ready(Vec<RawFd>);

impl Waiting {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Blocks until something is ready or `timeout` passes.
    pub fn wait(mut self, timeout: Duration) -> Ready {
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `self.0` is a valid, exclusively borrowed slice of pollfd for the call.
        unsafe { libc::poll(self.0.as_mut_ptr(), self.0.len() as libc::nfds_t, millis) };
        Ready(
            self.0
                .iter()
                .filter(|fd| fd.revents != 0)
                .map(|fd| fd.fd)
                .collect(),
        )
    }
}

enum Socket {
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Socket::Unix(listener) => listener.as_raw_fd(),
            Socket::Tcp(listener) => listener.as_raw_fd(),
        }
    }
}

/// A listening socket; its socket file (if any) is removed when it drops.
pub struct Listener {
    socket: AsyncFd<Socket>,
    /// What a client connects to: a socket path or `tcp:127.0.0.1:PORT`.
    pub address: String,
    socket_file: Option<PathBuf>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(path) = &self.socket_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Listener {
    /// Listens on a local socket, readable by the current user only. A socket file left by a
    /// host that was killed is taken over; one that answers belongs to a running host.
    pub fn local(path: &Path) -> Result<Listener, ListenError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |error| ListenError::Io {
            what: path.display().to_string(),
            error,
        };
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(ListenError::Taken(path.display().to_string()));
            }
            std::fs::remove_file(path).map_err(io)?;
        }
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let listener = UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        Ok(Listener {
            socket: registered(Socket::Unix(listener)).map_err(|(_, error)| io(error))?,
            address: path.display().to_string(),
            socket_file: Some(path.to_path_buf()),
        })
    }

    /// Listens on loopback TCP; clients must send the token in `initialize`.
    pub fn tcp(address: SocketAddr) -> Result<Listener, ListenError> {
        let io = |error| ListenError::Io {
            what: format!("tcp:{address}"),
            error,
        };
        let listener = TcpListener::bind(address).map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let bound = listener.local_addr().unwrap_or(address);
        Ok(Listener {
            socket: registered(Socket::Tcp(listener)).map_err(|(_, error)| io(error))?,
            address: format!("tcp:{bound}"),
            socket_file: None,
        })
    }

    /// Every client waiting to connect.
    pub fn accept(&self) -> Vec<Connection> {
        let mut accepted = Vec::new();
        loop {
            let connection = match self.socket.get_ref() {
                Socket::Unix(listener) => listener.accept().and_then(|(stream, _)| {
                    stream.set_nonblocking(true)?;
                    Endpoint::socket(Stream::Unix(stream)).map(|io| Connection::new(io, false))
                }),
                Socket::Tcp(listener) => listener.accept().and_then(|(stream, _)| {
                    stream.set_nonblocking(true)?;
                    let _ = stream.set_nodelay(true);
                    Endpoint::socket(Stream::Tcp(stream)).map(|io| Connection::new(io, true))
                }),
            };
            match connection {
                Ok(connection) => accepted.push(connection),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return accepted,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    tracing::warn!("a client could not connect: {error}");
                    return accepted;
                }
            }
        }
    }

    pub fn poll_ready(&self, context: &mut Context<'_>) -> Poll<()> {
        match self.socket.poll_read_ready(context) {
            Poll::Ready(Ok(mut guard)) => {
                guard.clear_ready();
                Poll::Ready(())
            }
            _ => Poll::Pending,
        }
    }

    pub fn wanted(&self, waiting: &mut Waiting) {
        waiting
            .0
            .push(pollfd(self.socket.as_raw_fd(), libc::POLLIN));
    }

    pub fn is_among(&self, ready: &Ready) -> bool {
        ready.0.contains(&self.socket.as_raw_fd())
    }
}

/// Connects to the local socket at `path`.
pub(super) fn connect_local(
    path: &str,
) -> io::Result<(Box<dyn Read + Send>, Box<dyn Write + Send>)> {
    let stream = UnixStream::connect(path)?;
    Ok((Box::new(stream.try_clone()?), Box::new(stream)))
}
