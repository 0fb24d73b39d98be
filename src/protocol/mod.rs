//! The protocol for games in any language (SPEC section 11): JSON-RPC 2.0 over standard
//! input and output, a local socket or loopback TCP, in newline-delimited or `Content-Length`
//! framing. `docs/protocol.md` documents every message with a transcript.
//!
//! The layers, from the wire in: [`framing`] cuts messages out of a byte stream, [`message`]
//! sorts them into requests, notifications and responses, [`transport`] reads and writes each
//! connection without blocking, on the host's thread, and [`server`] is the host's end of all
//! of them: it
//! answers the methods of [`methods`] and implements the host's [`GameLink`], so a connected
//! game answers `game/call` and hears events, state changes and logs.
//!
//! [`GameLink`]: crate::host::GameLink

pub mod framing;
pub mod message;
mod methods;
pub mod server;
pub mod transport;

pub use methods::METHODS;
pub use server::{Server, Stop};
pub use transport::{Connection, ListenError, Listener};

/// A new random token for TCP clients, as hex.
pub fn new_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Writes the token to `path`, readable by the current user only. Whatever was at `path` is
/// removed first (a link is removed, not followed) and the file is created anew, so the token
/// never lands in another file, nor in one someone else could read.
pub fn write_token(path: &std::path::Path, token: &str) -> std::io::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        crate::data_dir::ensure_private(parent)?;
    }
    use std::io::Write;
    crate::data_dir::create_private_file(path)?.write_all(token.as_bytes())
}
