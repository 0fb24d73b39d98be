//! `modhost check --smoke`: every mod attached, bootstrapped and detached under its limits,
//! in a throwaway data dir, with a `hook-failed` diagnostic for each mod that failed. Game
//! functions answer with a value of their declared return type.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::runtime::Json;

use super::{Activity, GameCallError, GameLink, Host, ModStatus};
use crate::config::Config;
use crate::diagnostic::{Code, Diagnostic};
use crate::pack::Pack;
use crate::runtime::error::find_position;
use crate::source::{Location, SourceFile};

/// Runs the pack's lifecycle once and reports the mods that failed, with the script files
/// the diagnostics point into. `watch` receives the host's [`Activity`] before any mod runs,
/// for a watchdog; `changed` hears each mod's changes of state as they happen, for a
/// progress report.
pub fn smoke_test(
    pack: &Pack,
    config: &Config,
    watch: impl FnOnce(std::sync::Arc<Activity>),
    changed: impl FnMut(&ModStatus) + 'static,
) -> (Vec<Diagnostic>, Vec<SourceFile>) {
    let data_dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            let diagnostic = Diagnostic::new(
                Code::HookFailed,
                format!("cannot make a scratch data dir for the smoke test: {error}"),
            );
            return (vec![diagnostic], Vec::new());
        }
    };
    let mut config = config.clone();
    config.data_dir = data_dir.path().to_path_buf();
    let host = Host::new(pack.clone(), config);
    host.answer_game_calls_with_stubs();
    host.connect_game(Rc::new(Progress(RefCell::new(changed))));
    watch(host.activity());
    host.start();
    let mut failures: Vec<(String, String)> = host
        .mods()
        .into_iter()
        .filter(|status| status.state == "failed")
        .filter_map(|status| Some((status.id, status.reason?)))
        .collect();
    failures.extend(host.shutdown());
    // Those `check` found by reading the entry point are in the pack's report already, with
    // their line; running the mod finds the others (a function defined in an unusual way).
    let misspelled: Vec<Diagnostic> = host
        .core
        .hook_warnings
        .borrow()
        .iter()
        .filter(|(id, message)| {
            !pack.diagnostics.iter().any(|known| {
                known.code == Code::UnknownHook
                    && known.mod_id.as_deref() == Some(id.as_str())
                    && known.message == *message
            })
        })
        .map(|(id, message)| {
            let mut diagnostic = Diagnostic::new(Code::UnknownHook, message.clone()).in_mod(id);
            if let Some(entry) = pack.mods.iter().find(|entry| entry.id() == id) {
                diagnostic = diagnostic.at(Location::file(&entry.entry));
            }
            diagnostic.hint(crate::runtime::hooks::MISSPELLED_HOOK_HINT)
        })
        .collect();

    let mut sources = Vec::new();
    let diagnostics = failures
        .into_iter()
        .map(|(id, reason)| {
            let dir = pack
                .mods
                .iter()
                .find(|entry| entry.id() == id)
                .map(|entry| crate::paths::shown(&entry.dir))
                .unwrap_or_default();
            let mut lines = reason.lines();
            let message = lines.next().unwrap_or_default().to_owned();
            let mut diagnostic = Diagnostic::new(Code::HookFailed, message).in_mod(&id);
            diagnostic.notes = lines.map(|line| line.trim().to_owned()).collect();
            if let Some((file, line, column)) = find_position(&reason, &dir)
                && let Ok(text) = std::fs::read_to_string(&file)
            {
                let source = SourceFile::new(file, text);
                let start = line_start(source.text(), line) + column.unwrap_or(1).saturating_sub(1);
                let mut location = source.locate(start..start);
                location.column = column.or(location.column);
                diagnostic = diagnostic.at(location);
                sources.push(source);
            } else if let Some(entry) = pack.mods.iter().find(|entry| entry.id() == id) {
                diagnostic = diagnostic.at(Location::file(&entry.entry));
            }
            let hint = raise_limit_hint(&id, &reason).unwrap_or_else(|| {
                "run `modhost run --once` to see the mod's own log lines".to_owned()
            });
            diagnostic.hint(hint)
        })
        .chain(misspelled)
        .collect();
    (diagnostics, sources)
}

/// Hears the mods' changes of state; answers no game function, so the typed stubs do.
struct Progress<F>(RefCell<F>);

impl<F: FnMut(&ModStatus)> GameLink for Progress<F> {
    fn call(&self, _: &str, _: &str, _: &[Json], _: Duration) -> Result<Json, GameCallError> {
        Err(GameCallError::NotProvided)
    }

    fn state_changed(&self, status: &ModStatus) {
        (self.0.borrow_mut())(status);
    }
}

/// For a mod stopped by a limit (its reason quotes the limit as "`call_timeout_ms` = 1000"):
/// how to give this mod alone more of it, with twice the value as an example.
fn raise_limit_hint(id: &str, reason: &str) -> Option<String> {
    let (key, value) = crate::runtime::ScriptError::quoted_limit(reason)?;
    let bare = id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let table = if bare {
        format!("[mods.{id}.limits]")
    } else {
        format!("[mods.\"{id}\".limits]")
    };
    Some(format!(
        "if the mod needs more, raise the limit for it alone in `config.toml`: `{key} = {}` under `{table}`; `modhost run --once` shows its own log lines",
        value.saturating_mul(2)
    ))
}

/// The byte offset where a 1-based line starts.
fn line_start(text: &str, line: usize) -> usize {
    text.split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}
