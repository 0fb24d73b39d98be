//! The protocol for games in any language (SPEC section 11): JSON-RPC 2.0 over standard
//! input and output, a local socket or loopback TCP, in newline-delimited or `Content-Length`
//! framing. `docs/protocol.md` documents every message with a transcript.
//!
//! The layers, from the wire in: [`framing`] cuts messages out of a byte stream, [`message`]
//! sorts them into requests, notifications and responses, [`transport`] reads and writes each
//! connection without blocking, on the host's thread, and [`server`] is the host's end of all
//! of them: it
//! answers the methods of [`method`] (what each does is `methods.rs`) and implements the host's
//! [`GameLink`], so a connected game answers `game/call` and hears events, state changes and
//! logs. [`token`] makes and writes the token TCP clients send.
//!
//! [`GameLink`]: crate::host::GameLink

pub mod framing;
pub mod message;
pub mod method;
mod methods;
pub(crate) mod server;
mod token;
pub mod transport;

pub use method::METHODS;
pub use server::{Server, Stop};
pub use token::{new_token, write_token};
pub use transport::{Connection, ListenError, Listener};
