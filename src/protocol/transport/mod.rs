//! Byte streams to games: standard input and output, a local socket (a Unix socket, a named
//! pipe on Windows), or loopback TCP.
//!
//! A [`Connection`] frames one client's bytes and keeps what a slow reader has not taken yet;
//! a reader that falls [`MAX_BACKLOG_BYTES`] behind is disconnected rather than let the host
//! grow without bound. Everything here is used from the host's thread and never blocks it:
//! the event loop waits for readiness through `poll_ready`, and a mod waiting for a
//! `game/call` waits with a [`Waiting`] set. How streams are read, written and waited on is
//! the platform's: on Unix every stream is non-blocking and waited on with epoll and
//! `poll(2)` ([`unix`]); on Windows, where pipes and consoles cannot be waited on that way, a
//! thread per direction moves the bytes and rings a doorbell the host waits on (`windows`).

use std::io;

use super::framing::{FrameDecoder, Framing, MAX_FIRST_MESSAGE_BYTES, MAX_MESSAGE_BYTES};

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

pub use platform::{Listener, Ready, Waiting};

pub type ConnectionId = u64;

/// How much one read takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// How much unread output a client may leave before it is disconnected.
pub const MAX_BACKLOG_BYTES: usize = 64 * 1024 * 1024;

/// What became of a connection after reading what was there.
pub enum Received {
    Open,
    /// The client closed it.
    Ended,
    /// It broke: a read error, or bytes that are not frames.
    Broken(String),
}

/// Why modhost could not listen where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("another modhost is listening on `{0}`")]
    Taken(String),
    #[error("cannot listen on `{what}`: {error}")]
    Io { what: String, error: io::Error },
}

/// Connects to a running host, as `modhost ctl` does: `tcp:HOST:PORT`, or the local transport
/// (a socket path; on Windows the pipe named after it, or a pipe name).
pub fn connect(address: &str) -> io::Result<(Box<dyn io::Read + Send>, Box<dyn io::Write + Send>)> {
    let Some(tcp) = address.strip_prefix("tcp:") else {
        return platform::connect_local(address);
    };
    let stream = std::net::TcpStream::connect(tcp)?;
    let _ = stream.set_nodelay(true);
    Ok((Box::new(stream.try_clone()?), Box::new(stream)))
}

/// One client's byte stream, framed.
pub struct Connection {
    io: platform::Endpoint,
    decoder: FrameDecoder,
    /// Where reads land, kept between reads.
    chunk: Box<[u8]>,
    /// Written bytes the client has not taken yet.
    backlog: Vec<u8>,
    /// How much of `backlog` has been written already (dropped once it is most of it, so a
    /// slow reader costs what it is sent, not that again on every write).
    backlog_written: usize,
    pub needs_token: bool,
    pub is_stdio: bool,
}

impl Connection {
    /// Standard input and output, for a game that spawned modhost, or a scripted session
    /// (`run --stdio < session.jsonl > answers.jsonl`).
    pub fn stdio() -> io::Result<Connection> {
        let mut connection = Connection::new(platform::Endpoint::stdio()?, false);
        connection.is_stdio = true;
        Ok(connection)
    }

    fn new(io: platform::Endpoint, needs_token: bool) -> Connection {
        Connection {
            io,
            decoder: FrameDecoder::with_limit(MAX_FIRST_MESSAGE_BYTES),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            backlog: Vec::new(),
            backlog_written: 0,
            needs_token,
            is_stdio: false,
        }
    }

    /// The framing the client chose (newline-delimited until it has sent something).
    pub fn framing(&self) -> Framing {
        self.decoder.framing().unwrap_or(Framing::Lines)
    }

    /// The client initialized: from now on it may send messages up to [`MAX_MESSAGE_BYTES`]
    /// (before, [`MAX_FIRST_MESSAGE_BYTES`]).
    pub fn trust(&mut self) {
        self.decoder.set_limit(MAX_MESSAGE_BYTES);
    }

    /// Reads everything that has arrived, adding each whole message to `frames`. A message
    /// growing past the limit breaks the connection as soon as that is known, before the rest
    /// of it is read.
    pub fn receive(&mut self, frames: &mut Vec<Vec<u8>>) -> Received {
        let ended = loop {
            if self.decoder.overflowing() {
                break false;
            }
            match self.io.read(&mut self.chunk) {
                Ok(0) => break true,
                Ok(read) => self.decoder.push(&self.chunk[..read]),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break false,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Received::Broken(error.to_string()),
            }
        };
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(error) => return Received::Broken(error.to_string()),
            }
        }
        match (ended, self.decoder.has_partial()) {
            (false, _) => Received::Open,
            (true, false) => Received::Ended,
            (true, true) => Received::Broken("the stream ended inside a message".to_owned()),
        }
    }

    /// Writes a message now, or keeps what the client does not take yet. An error means the
    /// client is gone or too far behind.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.has_backlog() {
            self.backlog.extend_from_slice(bytes);
        } else {
            self.backlog.clear();
            self.backlog_written = 0;
            let written = self.write_some(bytes)?;
            self.backlog.extend_from_slice(&bytes[written..]);
        }
        if self.backlog.len() - self.backlog_written > MAX_BACKLOG_BYTES {
            return Err(format!(
                "the client left more than {} MiB unread",
                MAX_BACKLOG_BYTES / 1024 / 1024
            ));
        }
        Ok(())
    }

    /// Writes as much of the backlog as the client takes now.
    pub fn flush(&mut self) -> Result<(), String> {
        if !self.has_backlog() {
            return Ok(());
        }
        let written = self.write_some(&self.backlog[self.backlog_written..])?;
        self.backlog_written += written;
        if self.backlog_written == self.backlog.len() {
            self.backlog.clear();
            self.backlog_written = 0;
        } else if self.backlog_written > self.backlog.len() / 2 {
            self.backlog.drain(..self.backlog_written);
            self.backlog_written = 0;
        }
        Ok(())
    }

    pub fn has_backlog(&self) -> bool {
        self.backlog_written < self.backlog.len()
    }

    /// How much of `bytes` the stream took before it would block.
    fn write_some(&self, bytes: &[u8]) -> Result<usize, String> {
        let mut written = 0;
        while written < bytes.len() {
            match self.io.write(&bytes[written..]) {
                Ok(0) => return Err("the client stopped reading".to_owned()),
                Ok(count) => written += count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error.to_string()),
            }
        }
        Ok(written)
    }

    /// Ready when input has arrived, or when the backlog can be written. Clears readiness it
    /// reports, so the caller must then read (and flush) until the stream would block.
    pub fn poll_ready(&self, context: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.io.poll_ready(context, self.has_backlog())
    }

    /// Adds what to wait for to `waiting`: input, and room for the backlog if there is one.
    pub fn wanted(&self, waiting: &mut Waiting) {
        self.io.wanted(waiting, self.has_backlog());
    }

    /// Whether `ready` (from [`Waiting::wait`]) says there is something to read or write.
    pub fn is_among(&self, ready: &Ready) -> bool {
        self.io.is_among(ready)
    }

    /// Ends the connection from the host's side, writing what is queued first as far as the
    /// stream takes it (on Windows, whose streams are written by a thread, closing waits for
    /// that thread to write it).
    pub fn close(mut self) {
        let _ = self.flush();
        self.io.close();
    }
}
