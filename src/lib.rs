//! modhost: a mod launcher and host.
//!
//! It scans a mods directory, reads each mod's manifest, resolves dependencies, computes a
//! deterministic load order, and runs each mod in the runtime of its language (JavaScript
//! through QuickJS, Lua 5.4), sandboxed and under per-mod limits. The `modhost` binary is a thin
//! layer over this library; a game embeds the same [`Host`]:
//!
//! ```
//! use modhost::{Config, Host, Overrides, Pack};
//! use modhost::value;
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
//! assert_eq!(info, value!("My Awesome Mod v1.0"));
//! assert_eq!(host.call("core-lib", "double", &[value!(21)])?, value!(42));
//! host.emit("greeting", value!({ "from": "the game", "text": "welcome" }))?;
//!
//! host.shutdown(); // onDetach, in reverse load order
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The host runs on the thread that owns it (it is not `Send`): a game with its own threads
//! gives the host one and talks to it over a channel. `examples/embed.rs` is a complete program.
//!
//! The surface is what a game needs: the [`Config`], the [`Pack`] read from the mods
//! directory with its [`Diagnostic`]s, the [`Host`] that runs it and its errors, the game's
//! side ([`GameLink`], [`Host::provide`]), hot reload ([`Host::reload_from_disk`] with
//! [`watch`]), [`replay`] and [`smoke_test`]. Inside, from the outside in: `config` (flags and
//! `config.toml`), `pack` (the one place that reads the mods directory), `manifest`
//! (validating one manifest), `resolve` (pure ordering and requirement checks), `host`
//! (lifecycle, calls, events), `runtime` (the language backends) and `diagnostic` (problems
//! as data). What only the command line uses is in a hidden module, `internal`.

#![deny(clippy::print_stdout, clippy::print_stderr)]
#![warn(unreachable_pub)]

mod bisect;
mod config;
mod confine;
mod data_dir;
mod diagnostic;
mod document;
mod files;
mod game_api;
mod host;
mod manifest;
mod pack;
mod paths;
mod protocol;
mod recording;
pub mod replay;
mod resolve;
mod runtime;
mod source;
mod storage;
mod suggest;
mod testing;
mod typings;
mod value;
pub mod watch;

/// The markdown guides, compiled as doc tests so that their Rust examples keep working.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../docs/embedding.md")]
    struct Embedding;
    #[doc = include_str!("../README.md")]
    struct Readme;
}

// What a game embedding the host uses.
pub use config::{Config, ConfigError, Limits, Overrides};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use game_api::{EventNameError, GameApi};
pub use host::smoke_test;
pub use host::{
    CallError, EmitError, GameCallError, GameEvent, GameFunction, GameLink, Host, ModState,
    ModStats, ModStatus, ProvideError, ReloadError, ReloadReport, Reloaded, Reread, SettingError,
    SlowCall,
};
pub use pack::{ModEntry, Pack, PackError};
pub use runtime::Language;
pub use source::{Location, SourceFile};
pub use value::{Object, Text, Value};

/// For [`value!`], which builds on `serde_json::json!`.
#[doc(hidden)]
pub use serde_json as __serde_json;

/// What the `modhost` command line, its tests and its benchmarks use beyond the embedding
/// API above. Not a stable API: a game should not need anything here.
#[doc(hidden)]
pub mod internal {
    pub mod game_api {
        pub use crate::game_api::json_schema;
    }
    pub mod bisect {
        pub use crate::bisect::{Found, bisect};
    }
    pub mod config {
        pub use crate::config::{DEFAULT_CONFIG_FILE, Listen, TOKEN_FILE};
    }
    pub mod data_dir {
        pub use crate::data_dir::ensure_private;
    }
    pub mod host {
        pub use crate::host::{Activity, MOD_LOG_TARGET, TestLog};
    }
    pub mod manifest {
        pub use crate::manifest::{
            Manifest, ManifestFormat, Requirement, is_valid_id, json_schema, parse_manifest,
        };
    }
    pub mod pack {
        pub use crate::pack::subset;
    }
    pub mod paths {
        pub use crate::paths::shown;
    }
    pub mod protocol {
        pub use crate::protocol::{
            Connection, ListenError, Listener, METHODS, Server, Stop, framing, message, method,
            new_token, transport, write_token,
        };
    }
    pub mod recording {
        pub use crate::recording::{reader, writer};
    }
    pub mod resolve {
        pub use crate::resolve::{Edge, EdgeKind, Placement, resolve};
    }
    pub mod runtime {
        pub use crate::runtime::{BACKENDS, starter, surface};
    }
    pub mod storage {
        pub use crate::storage::Store;
    }
    pub mod suggest {
        pub use crate::suggest::did_you_mean;
    }
    pub mod testing {
        pub use crate::testing::{TestOptions, TestReport, run, run_mod};
    }
    pub mod typings {
        pub use crate::typings::{lua_ls, typescript};
    }
}
