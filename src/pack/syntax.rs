//! Compiling a mod's scripts without running them, for `modhost check`.
//!
//! The mods are shared out among one thread per core; each thread keeps one engine per
//! language and compiles file after file in it, which costs a fraction of starting an engine
//! per file. The diagnostics come back in the order of the mods, whichever thread found them.

use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::ModEntry;
use super::api_usage::GameNames;
use crate::diagnostic::{Code, Diagnostic};
use crate::game_api::GameApi;
use crate::runtime::{ErrorKind, Language, ScriptError, SyntaxChecker, scripts_in};
use crate::source::{Location, SourceFile};

/// Room for the parsers' recursion on deeply nested sources, in a debug build too.
const WORKER_STACK_BYTES: usize = 16 << 20;
/// Mods a worker checks before it hands their findings over: one message (and one wake-up of
/// the collecting thread) per mod was a tenth of checking 10,000 small mods.
const MODS_PER_MESSAGE: usize = 16;

/// What checking one mod found.
#[derive(Default)]
struct Found {
    diagnostics: Vec<Diagnostic>,
    sources: Vec<SourceFile>,
}

/// A `syntax-error` diagnostic for every script that does not compile, with the sources they
/// quote. Each mod's entry point is checked, and every other script file in its folder.
/// `checked` is called on this thread after each mod, in the order the mods finish.
pub(super) fn check(
    mods: &[&ModEntry],
    api: Option<&GameApi>,
    mut checked: impl FnMut(&ModEntry),
) -> (Vec<Diagnostic>, Vec<SourceFile>) {
    let workers = std::thread::available_parallelism()
        .map_or(1, NonZero::get)
        .min(mods.len());
    let next_mod = AtomicUsize::new(0);
    let game_names = api.map(GameNames::new);
    let (sender, receiver) = mpsc::channel();
    let mut found: Vec<(usize, Found)> = std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let next_mod = &next_mod;
            let game_names = game_names.as_ref();
            let worker = move || {
                let mut checkers = Checkers::default();
                let mut batch = Vec::with_capacity(MODS_PER_MESSAGE);
                loop {
                    let index = next_mod.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = mods.get(index) else { break };
                    batch.push((index, check_mod(entry, game_names, &mut checkers)));
                    if batch.len() == MODS_PER_MESSAGE && sender.send(batch.split_off(0)).is_err() {
                        return;
                    }
                }
                let _ = sender.send(batch);
            };
            let spawned = std::thread::Builder::new()
                .name("syntax-check".into())
                .stack_size(WORKER_STACK_BYTES)
                .spawn_scoped(scope, worker.clone());
            if spawned.is_err() {
                // No thread to be had: this one does the work.
                worker();
            }
        }
        drop(sender);
        receiver
            .iter()
            .flatten()
            .inspect(|(index, _)| checked(mods[*index]))
            .collect()
    });
    found.sort_by_key(|(index, _)| *index);
    let mut diagnostics = Vec::new();
    let mut sources = Vec::new();
    for (_, mod_found) in found {
        diagnostics.extend(mod_found.diagnostics);
        sources.extend(mod_found.sources);
    }
    (diagnostics, sources)
}

/// One thread's engines, made when a file of their language first comes up.
#[derive(Default)]
struct Checkers(Vec<(Language, Box<dyn SyntaxChecker>)>);

impl Checkers {
    fn check(&mut self, language: Language, path: &Path, text: &[u8]) -> Result<(), ScriptError> {
        let position = match self.0.iter().position(|(known, _)| *known == language) {
            Some(position) => position,
            None => {
                self.0
                    .push((language, language.backend().syntax_checker()?));
                self.0.len() - 1
            }
        };
        self.0[position].1.check(path, text)
    }
}

fn check_mod(entry: &ModEntry, game_names: Option<&GameNames>, checkers: &mut Checkers) -> Found {
    let mut found = Found::default();
    let mut scripts: Vec<(PathBuf, Language)> = vec![(entry.entry.clone(), entry.language)];
    scripts.extend(
        scripts_in(&entry.dir)
            .into_iter()
            .filter(|(path, _)| *path != entry.entry),
    );
    for (path, language) in scripts {
        let bytes = match crate::files::read(&path) {
            Ok(bytes) => bytes,
            Err(error) => {
                found.diagnostics.push(
                    Diagnostic::new(
                        Code::SyntaxError,
                        format!("`{}` cannot be read: {error}", crate::paths::shown(&path)),
                    )
                    .in_mod(entry.id())
                    .at(Location::file(&path)),
                );
                continue;
            }
        };
        let checked = checkers.check(language, &path, &bytes);
        if checked.is_ok() && path == entry.entry {
            misspelled_hooks(entry, language, &path, &bytes, &mut found);
        }
        if let (Ok(()), Some(game_names), Ok(text)) =
            (&checked, game_names, std::str::from_utf8(&bytes))
            && language.is_script()
        {
            game_references(entry, game_names, &path, text, &mut found);
        }
        if let Err(error) = checked {
            match String::from_utf8(bytes) {
                Ok(text) => {
                    let source = SourceFile::new(&path, text);
                    found.diagnostics.push(diagnostic(entry, &source, &error));
                    found.sources.push(source);
                }
                Err(_) => found.diagnostics.push(
                    Diagnostic::new(code_of(&error), error.message.clone())
                        .in_mod(entry.id())
                        .at(Location::file(&path)),
                ),
            }
        }
    }
    found
}

/// An `unknown-hook` warning, at the name, for each function of the entry point defined at
/// its top level under a name almost like a hook's.
fn misspelled_hooks(
    entry: &ModEntry,
    language: Language,
    path: &Path,
    bytes: &[u8],
    found: &mut Found,
) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let declared = language.backend().declared_functions(text);
    let names: Vec<&str> = declared
        .iter()
        .map(|declared| declared.name.as_str())
        .collect();
    let misspelled = crate::runtime::hooks::misspelled_hooks(&names);
    if misspelled.is_empty() {
        return;
    }
    let source = SourceFile::new(path, text);
    for (function, hook) in misspelled {
        let Some(at) = declared.iter().find(|declared| declared.name == function) else {
            continue;
        };
        found.diagnostics.push(
            Diagnostic::new(
                Code::UnknownHook,
                crate::runtime::hooks::misspelled_hook(function, hook),
            )
            .in_mod(entry.id())
            .at(source.locate(at.span.clone()))
            .hint(crate::runtime::hooks::MISSPELLED_HOOK_HINT),
        );
    }
    found.sources.push(source);
}

/// An `unknown-game-function` or `unknown-event` warning for each name of the game's API that
/// the script misspells.
fn game_references(
    entry: &ModEntry,
    game_names: &GameNames,
    path: &Path,
    text: &str,
    found: &mut Found,
) {
    let source = SourceFile::new(path, text);
    let diagnostics = game_names.check(entry.id(), &source);
    if !diagnostics.is_empty() {
        found.diagnostics.extend(diagnostics);
        found.sources.push(source);
    }
}

fn diagnostic(entry: &ModEntry, source: &SourceFile, error: &ScriptError) -> Diagnostic {
    let location = match (error.line, error.column) {
        (Some(line), column) => {
            let text = source.text();
            // An error at the end of the file (an unclosed block) is where the text ends, not
            // on a line past it, in every format alike.
            let end = text.trim_end_matches(['\n', '\r']).len();
            let column = column.or_else(|| column_of_token(text, line, &error.message));
            let offset = offset_of(text, line, column.unwrap_or(1));
            if offset >= end {
                source.locate(end..end)
            } else {
                let mut location = source.locate(offset..offset);
                // Lua names a line but no column: say no column rather than column 1.
                location.column = column;
                location
            }
        }
        _ => source.whole(),
    };
    Diagnostic::new(code_of(error), error.message.clone())
        .in_mod(entry.id())
        .at(location)
}

/// Lua names the line of a syntax error and the token it stopped at (`near '='`), not a
/// column: the column is where that token last appears on the line (where the parser stopped), when it does.
fn column_of_token(text: &str, line: usize, message: &str) -> Option<usize> {
    let token = message.split("near '").nth(1)?.split('\'').next()?;
    let text_line = text.lines().nth(line.checked_sub(1)?)?;
    let at = text_line.rfind(token)?;
    Some(text_line[..at].chars().count() + 1)
}

/// A module that imports what the host does not provide is an `unknown-import`; anything else
/// that keeps a file from compiling is a `syntax-error`.
fn code_of(error: &ScriptError) -> Code {
    match error.kind {
        ErrorKind::Link => Code::UnknownImport,
        _ => Code::SyntaxError,
    }
}

/// The byte offset of a 1-based line and character column, clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use super::offset_of;

    #[test]
    fn the_column_of_a_lua_error_is_its_token() {
        let text = "function f()\n  local x = = 1\nend\n";
        let message = "mods/l/init.lua:2: unexpected symbol near '='";
        assert_eq!(super::column_of_token(text, 2, message), Some(13));
        assert_eq!(super::column_of_token(text, 2, "no token here"), None);
    }

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = "ab\ncd\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 9, 1), 6);
    }
}
