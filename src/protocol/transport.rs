//! Byte streams to games: standard input and output, a local socket, or loopback TCP. Each
//! connection gets a reader thread (which cuts frames and hands them to the host's thread
//! through the [`Inbox`]) and a writer thread (so the host never blocks on a slow reader).

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::framing::{FrameReader, Framing};

pub type ConnectionId = u64;

/// Called after something was put in the inbox, to wake the loop that drains it.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What the transports hand to the host's thread.
pub enum Inbound {
    Connected(NewConnection),
    Frame {
        id: ConnectionId,
        framing: Framing,
        bytes: Vec<u8>,
    },
    Closed {
        id: ConnectionId,
        /// Why, when it was not a clean end of the stream.
        why: Option<String>,
    },
}

/// A connection that just opened.
pub struct NewConnection {
    pub id: ConnectionId,
    /// Bytes sent here are written in order by the connection's writer thread.
    pub writer: Sender<Vec<u8>>,
    pub writer_thread: JoinHandle<()>,
    /// Whether `initialize` must carry the token (TCP).
    pub needs_token: bool,
    /// Standard input and output: closing it stops the host.
    pub is_stdio: bool,
    /// Ends the connection from the host's side (a refused token).
    pub close: Box<dyn Fn() + Send>,
}

/// The sending side of the channel into the host's thread.
#[derive(Clone)]
pub struct Inbox {
    sender: Sender<Inbound>,
    wake: Waker,
    ids: Arc<AtomicU64>,
}

impl Inbox {
    /// An inbox and the receiver the host's thread drains.
    pub fn new(wake: Waker) -> (Inbox, Receiver<Inbound>) {
        let (sender, receiver) = channel();
        let inbox = Inbox {
            sender,
            wake,
            ids: Arc::new(AtomicU64::new(1)),
        };
        (inbox, receiver)
    }

    fn send(&self, inbound: Inbound) {
        if self.sender.send(inbound).is_ok() {
            (self.wake)();
        }
    }

    /// Serves one byte stream: announces it, then reads frames until it ends.
    pub fn serve(
        &self,
        reader: impl Read + Send + 'static,
        writer: impl Write + Send + 'static,
        needs_token: bool,
        is_stdio: bool,
        close: Box<dyn Fn() + Send>,
    ) {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let (to_writer, from_host) = channel::<Vec<u8>>();
        let writer_thread = std::thread::spawn(move || {
            let mut writer = writer;
            for bytes in from_host {
                if writer
                    .write_all(&bytes)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        self.send(Inbound::Connected(NewConnection {
            id,
            writer: to_writer,
            writer_thread,
            needs_token,
            is_stdio,
            close,
        }));
        let inbox = self.clone();
        std::thread::spawn(move || {
            let mut frames = FrameReader::new(BufReader::new(reader));
            loop {
                match frames.next_frame() {
                    Ok(Some(bytes)) => inbox.send(Inbound::Frame {
                        id,
                        framing: frames.framing().unwrap_or(Framing::Lines),
                        bytes,
                    }),
                    Ok(None) => {
                        inbox.send(Inbound::Closed { id, why: None });
                        break;
                    }
                    Err(error) => {
                        inbox.send(Inbound::Closed {
                            id,
                            why: Some(error.to_string()),
                        });
                        break;
                    }
                }
            }
        });
    }

    /// The game spawned modhost: serve standard input and output.
    pub fn serve_stdio(&self) {
        self.serve(
            std::io::stdin(),
            std::io::stdout(),
            false,
            true,
            Box::new(|| {}),
        );
    }
}

/// Why modhost could not listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("another modhost is listening on `{}`", .0.display())]
    Taken(PathBuf),
    #[error("cannot listen on `{what}`: {error}")]
    Io { what: String, error: std::io::Error },
    #[error("local sockets are not available on this platform; listen on `tcp:127.0.0.1:PORT`")]
    Unsupported,
}

/// A listener in its accept thread; the socket file (if any) is removed when this drops.
pub struct Listening {
    /// What a client connects to: a socket path or `tcp:127.0.0.1:PORT`.
    pub address: String,
    socket_file: Option<PathBuf>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(path) = &self.socket_file {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Listens on a local socket, readable by the current user only. A socket file left by a
/// host that was killed is taken over; one that answers belongs to a running host.
#[cfg(unix)]
pub fn listen_local(path: &Path, inbox: &Inbox) -> Result<Listening, ListenError> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::{UnixListener, UnixStream};

    let io = |error| ListenError::Io {
        what: path.display().to_string(),
        error,
    };
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(ListenError::Taken(path.to_path_buf()));
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
    let inbox = inbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().filter_map(Result::ok) {
            let (Ok(reader), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
                continue;
            };
            inbox.serve(
                reader,
                stream,
                false,
                false,
                Box::new(move || {
                    let _ = closer.shutdown(std::net::Shutdown::Both);
                }),
            );
        }
    });
    Ok(Listening {
        address: path.display().to_string(),
        socket_file: Some(path.to_path_buf()),
    })
}

#[cfg(not(unix))]
pub fn listen_local(_path: &Path, _inbox: &Inbox) -> Result<Listening, ListenError> {
    Err(ListenError::Unsupported)
}

/// Listens on loopback TCP; clients must send the token in `initialize`.
pub fn listen_tcp(address: SocketAddr, inbox: &Inbox) -> Result<Listening, ListenError> {
    let listener = TcpListener::bind(address).map_err(|error| ListenError::Io {
        what: format!("tcp:{address}"),
        error,
    })?;
    let bound = listener.local_addr().unwrap_or(address);
    let inbox = inbox.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().filter_map(Result::ok) {
            let _ = stream.set_nodelay(true);
            let (Ok(reader), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
                continue;
            };
            inbox.serve(
                reader,
                stream,
                true,
                false,
                Box::new(move || {
                    let _ = closer.shutdown(std::net::Shutdown::Both);
                }),
            );
        }
    });
    Ok(Listening {
        address: format!("tcp:{bound}"),
        socket_file: None,
    })
}

/// Connects to a running host, as `modhost ctl` does: a socket path or `tcp:HOST:PORT`.
pub fn connect(address: &str) -> std::io::Result<(Box<dyn Read + Send>, Box<dyn Write + Send>)> {
    if let Some(tcp) = address.strip_prefix("tcp:") {
        let stream = TcpStream::connect(tcp)?;
        let _ = stream.set_nodelay(true);
        return Ok((Box::new(stream.try_clone()?), Box::new(stream)));
    }
    #[cfg(unix)]
    {
        let stream = std::os::unix::net::UnixStream::connect(address)?;
        Ok((Box::new(stream.try_clone()?), Box::new(stream)))
    }
    #[cfg(not(unix))]
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "local sockets are not available on this platform",
    ))
}
