//! modhost: a mod launcher and host.
//!
//! It scans a mods directory, reads each mod's manifest, resolves dependencies and computes a
//! deterministic load order. The `modhost` binary is a thin layer over this library; a game can
//! embed the same pieces.
//!
//! ```no_run
//! use modhost::{Config, Pack};
//!
//! let config = Config::load(&modhost::config::Overrides::default())?;
//! let pack = Pack::load(&config)?;
//! for entry in pack.ordered() {
//!     println!("{} {}", entry.id(), entry.manifest.version);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces, from the outside in: [`config`] (flags and `config.toml`), [`pack`] (the one
//! place that reads the mods directory), [`manifest`] (validating one manifest), [`resolve`]
//! (pure ordering and requirement checks), [`diagnostic`] (problems as data) and [`runtime`]
//! (the languages mods are written in).

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod config;
pub mod diagnostic;
pub mod host;
pub mod manifest;
pub mod pack;
pub mod resolve;
pub mod runtime;
pub mod source;
pub mod suggest;

pub use config::Config;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use host::{CallError, Host, ModState, ModStatus};
pub use pack::{ModEntry, Pack, PackError};
pub use runtime::Language;
