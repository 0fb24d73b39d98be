//! modhost: a mod launcher and host.
//!
//! It scans a mods directory, reads each mod's manifest, resolves dependencies, computes a
//! deterministic load order, and runs each mod in the runtime of its language (JavaScript
//! through QuickJS, Lua 5.4), sandboxed and under per-mod limits. The `modhost` binary is a thin
//! layer over this library; a game embeds the same [`Host`]:
//!
//! ```
//! use modhost::config::Overrides;
//! use modhost::{Config, Host, Pack};
//! use serde_json::json;
//!
//! let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
//! let config = Config::load(&Overrides {
//!     config_file: Some(root.join("config.toml")),
//!     mods_dir: Some(root.join("mods")),
//!     ..Overrides::default()
//! })?;
//! let pack = Pack::load(&config)?;
//! let host = Host::new(pack, config);
//! host.start(); // onAttach, then onBootstrap, in load order
//!
//! let info = host.call("my-mod", "getModInfo", &[])?;
//! assert_eq!(info, json!("My Awesome Mod v1.0"));
//! assert_eq!(host.call("core-lib", "double", &[json!(21)])?, json!(42));
//! host.emit("greeting", json!({ "from": "the game", "text": "welcome" }))?;
//!
//! host.shutdown(); // onDetach, in reverse load order
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The host runs on the thread that owns it (it is not `Send`): a game with its own threads
//! gives the host one and talks to it over a channel. `examples/embed.rs` is a complete program.
//!
//! The pieces, from the outside in: [`config`] (flags and `config.toml`), [`pack`] (the one
//! place that reads the mods directory), [`manifest`] (validating one manifest), [`resolve`]
//! (pure ordering and requirement checks), [`host`] (lifecycle, calls, events), [`runtime`]
//! (the language backends) and [`diagnostic`] (problems as data).

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod api;
pub mod bisect;
pub mod config;
pub mod confine;
pub mod data_dir;
pub mod diagnostic;
pub mod document;
pub mod files;
pub mod host;
pub mod manifest;
pub mod pack;
pub mod paths;
pub mod protocol;
pub mod recording;
pub mod replay;
pub mod resolve;
pub mod runtime;
pub mod source;
pub mod storage;
pub mod suggest;
pub mod testing;
pub mod typings;
pub mod watch;

/// The markdown guides, compiled as doc tests so that their Rust examples keep working.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../docs/embedding.md")]
    struct Embedding;
    #[doc = include_str!("../README.md")]
    struct Readme;
}

pub use config::Config;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use host::{CallError, Host, ModState, ModStatus};
pub use pack::{ModEntry, Pack, PackError};
pub use runtime::Language;
