//! Script runtimes behind one adapter.
//!
//! A [`Backend`] knows one language: it checks a file's syntax and creates a [`ModInstance`]
//! for a mod, which owns that mod's engine (a QuickJS runtime and context, or a Lua state). The
//! host only ever talks to these two traits, so it never needs to know a mod's language.
//! Adding a language means implementing [`Backend`] and listing it in [`BACKENDS`].
//!
//! Every mod gets an engine of its own. That is what makes per-mod memory and time limits,
//! isolation of globals, and a clean teardown on reload possible; see `docs/architecture.md`
//! for the measurements behind the choice.

mod clock;
pub(crate) mod crossing;
pub(crate) mod declarations;
pub(crate) mod doubles;
pub(crate) mod error;
#[cfg(test)]
mod generated_values;
pub(crate) mod hooks;
pub(crate) mod javascript;
pub(crate) mod lua;
mod reproducible;
mod services;
mod signatures;
pub mod starter;
pub mod surface;
pub(crate) mod wasm;

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::Serialize;

pub(crate) use clock::{CallClock, Moment};
pub(crate) use error::{ErrorKind, ScriptError};
pub(crate) use reproducible::{Random, Reproducible};
pub(crate) use services::{HandlerKind, HostError, HostServices, LogLevel, Service, TestStep};

use crate::config::Limits;

/// JSON-compatible values, the only values that cross between mods, languages and the host.
pub(crate) type Json = crate::value::Value;

/// Identifies a function a mod handed to the host (an event handler, later a timer callback).
/// The mod's instance keeps the function; the host keeps only this number.
pub(crate) type HandlerId = u64;

/// One language.
pub trait Backend: Sync {
    /// A lowercase name, as shown in `modhost list` and JSON output.
    fn name(&self) -> &'static str;
    /// File extensions (without the dot) of files in this language.
    fn extensions(&self) -> &'static [&'static str];
    /// An engine for compiling files without running them, reused from file to file.
    fn syntax_checker(&self) -> Result<Box<dyn SyntaxChecker>, ScriptError>;
    /// Creates the mod's engine, installs the `modhost` API and runs the entry point.
    fn instantiate(&self, setup: InstanceSetup) -> Result<Box<dyn ModInstance>, ScriptError>;
    /// The functions a script defines at its top level, read without running it (none for a
    /// language that is not read as text).
    fn declared_functions(&self, source: &str) -> Vec<declarations::Declared> {
        let _ = source;
        Vec::new()
    }
    /// Whether its files are source text a person writes (a script), rather than a binary.
    fn is_script(&self) -> bool {
        true
    }
    /// What `modhost new` writes for a mod in this language (`None`: it has no `--lang`).
    fn starter(&self) -> Option<&'static starter::Starter> {
        None
    }
    /// The typings an editor reads for a mod in this language, if it has them.
    fn editor_typings(&self) -> Option<starter::EditorTypings> {
        None
    }
}

/// Compiles files of one language without running them (`modhost check`). One checker keeps
/// one engine for many files; each thread of a check has its own.
pub trait SyntaxChecker {
    /// `source` is the file's bytes: text for scripts, a binary module for WebAssembly.
    fn check(&mut self, path: &Path, source: &[u8]) -> Result<(), ScriptError>;
}

/// A script's bytes as text, or a syntax error naming the file.
pub(crate) fn script_text<'a>(path: &Path, source: &'a [u8]) -> Result<&'a str, ScriptError> {
    std::str::from_utf8(source).map_err(|error| {
        let mut refused = ScriptError::new(
            ErrorKind::Syntax,
            format!(
                "`{}` is not UTF-8 text ({error})",
                crate::paths::shown(path)
            ),
        );
        refused.file = Some(path.to_path_buf());
        refused
    })
}

/// What a call into a mod came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(Json),
    /// The function returned a promise that is still pending; [`ModInstance::poll`] it with
    /// this id once timers or events have run.
    Pending(HandlerId),
}

/// A loaded mod: its engine and the functions it handed out.
pub trait ModInstance {
    /// Calls a top-level function (or export). `Ok(None)` when the mod has no such function, so
    /// that optional hooks can be skipped.
    fn call(&mut self, function: &str, args: &[Json]) -> Result<Option<Outcome>, ScriptError>;
    /// Calls a function the mod registered earlier under `handler`.
    fn call_handler(&mut self, handler: HandlerId, args: &[Json]) -> Result<Outcome, ScriptError>;
    /// The result of a pending call, once it has settled (`None` while it is pending).
    fn poll(&mut self, pending: HandlerId) -> Option<Result<Json, ScriptError>>;
    /// Forgets a registered function.
    fn release_handler(&mut self, handler: HandlerId);
    /// The clock of the instance's calls: the host starts it as it enters the mod
    /// ([`CallClock::begin`]), so that one reading of the time serves the deadline, the
    /// watchdog and the call's duration.
    fn clock(&self) -> &CallClock;
    /// The names of the top-level functions the host can call.
    fn functions(&mut self) -> Vec<String>;
    /// Bytes the engine holds now.
    fn memory_used(&self) -> u64;
    /// Replaces what `modhost.settings` shows (before `onSettingsChanged` runs).
    fn update_settings(&mut self, settings: &Json) -> Result<(), ScriptError>;
    /// `modhost test`: loads the test file `file` into this instance (after its entry point,
    /// with the test API of SPEC section 14) and runs its tests whose names contain `grep`.
    /// The outcome's value is the report: one `{ name, passed, line, message?, expected?,
    /// actual?, ms }` per test.
    fn run_tests(&mut self, file: &Path, grep: Option<&str>) -> Result<Outcome, ScriptError> {
        let _ = grep;
        Err(ScriptError::new(
            ErrorKind::Host,
            format!(
                "`{}`: mods in this language have no test runner",
                crate::paths::shown(file)
            ),
        ))
    }
}

/// The game's global as a mod sees it (SPEC section 10): its name and the dotted names of its
/// functions. Each function forwards to [`HostServices::game_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameGlobal {
    pub name: String,
    pub functions: Vec<String>,
}

/// Everything a backend needs to create a mod's instance.
pub struct InstanceSetup {
    pub mod_id: String,
    /// The mod's folder; scripts may only load files inside it.
    pub dir: PathBuf,
    pub entry: PathBuf,
    /// `modhost.mod` and `modhost.settings`, as the mod will see them.
    pub info: Json,
    pub settings: Json,
    pub limits: Limits,
    pub host: Rc<dyn HostServices>,
    /// The game's API, when the host has one.
    pub game: Option<GameGlobal>,
    /// Under `modhost test`: the instance gets `modhost.test` and can run test files.
    pub testing: bool,
    /// In a recorded or replayed session: the clocks, random numbers and hash order the mod
    /// sees, made reproducible.
    pub reproducible: Option<Reproducible>,
}

/// The registered backends: the one place a new language is added.
pub static BACKENDS: &[&dyn Backend] = &[
    &javascript::JavaScript,
    &javascript::TypeScript,
    &lua::Lua54,
    &wasm::WebAssembly,
];

/// The language a mod is written in: one of the [`BACKENDS`].
#[derive(Clone, Copy)]
pub struct Language(&'static dyn Backend);

impl Language {
    /// The language of an entry point, from its extension.
    pub fn of_entry_point(path: &Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?;
        BACKENDS
            .iter()
            .find(|backend| backend.extensions().contains(&extension))
            .map(|backend| Language(*backend))
    }

    /// `.js`, `.mjs`, `.ts`, `.lua`, `.wasm`: every extension, for error messages.
    pub fn known_extensions() -> String {
        BACKENDS
            .iter()
            .flat_map(|backend| backend.extensions())
            .map(|extension| format!("`.{extension}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    pub fn backend(self) -> &'static dyn Backend {
        self.0
    }

    /// Whether its files are source text ([`Backend::is_script`]).
    pub fn is_script(self) -> bool {
        self.0.is_script()
    }
}

impl PartialEq for Language {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Language {}

impl fmt::Debug for Language {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl fmt::Display for Language {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The source files of a mod that a backend can check: every file under `dir` (not following
/// links out of it) whose extension a backend knows, in path order. Installed packages
/// (`node_modules`) are not the mod's own source: only what the mod imports of them runs, and
/// their other builds need not compile here. TypeScript declarations (`.d.ts`) never run.
pub(crate) fn scripts_in(dir: &Path) -> Vec<(PathBuf, Language)> {
    crate::confine::files_in(dir)
        .into_iter()
        .filter(|path| {
            let installed = path.strip_prefix(dir).is_ok_and(|inner| {
                inner
                    .components()
                    .any(|part| part.as_os_str() == "node_modules")
            });
            let declarations = path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().ends_with(".d.ts"));
            !installed && !declarations
        })
        .filter_map(|path| Language::of_entry_point(&path).map(|language| (path, language)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_language() {
        let language = |path: &str| Language::of_entry_point(Path::new(path)).map(Language::name);
        assert_eq!(language("lib/main.mjs"), Some("javascript"));
        assert_eq!(language("main.js"), Some("javascript"));
        assert_eq!(language("main.ts"), Some("typescript"));
        assert_eq!(language("init.lua"), Some("lua"));
        assert_eq!(language("mod.wasm"), Some("wasm"));
        assert_eq!(language("main.py"), None);
        assert_eq!(language("Makefile"), None);
        assert_eq!(
            Language::known_extensions(),
            "`.js`, `.mjs`, `.ts`, `.lua`, `.wasm`"
        );
    }
}
