//! Compiling a mod's scripts without running them, for `modhost check`.

use std::path::PathBuf;

use super::ModEntry;
use crate::diagnostic::{Code, Diagnostic};
use crate::runtime::{Language, ScriptError, scripts_in};
use crate::source::{Location, SourceFile};

/// A `syntax-error` diagnostic for every script that does not compile, with the sources they
/// quote. Each mod's entry point is checked, and every other script file in its folder.
pub(super) fn check(
    mods: &[&ModEntry],
    mut checked: impl FnMut(&ModEntry),
) -> (Vec<Diagnostic>, Vec<SourceFile>) {
    let mut diagnostics = Vec::new();
    let mut sources = Vec::new();
    for entry in mods {
        let mut scripts: Vec<(PathBuf, Language)> = vec![(entry.entry.clone(), entry.language)];
        scripts.extend(
            scripts_in(&entry.dir)
                .into_iter()
                .filter(|(path, _)| *path != entry.entry),
        );
        for (path, language) in scripts {
            let Ok(text) = std::fs::read_to_string(&path) else {
                diagnostics.push(
                    Diagnostic::new(
                        Code::SyntaxError,
                        format!("`{}` is not readable UTF-8 text", path.display()),
                    )
                    .in_mod(entry.id())
                    .at(Location::file(&path)),
                );
                continue;
            };
            if let Err(error) = language.backend().check_syntax(&path, &text) {
                let source = SourceFile::new(&path, text);
                diagnostics.push(diagnostic(entry, &source, &error));
                sources.push(source);
            }
        }
        checked(entry);
    }
    (diagnostics, sources)
}

fn diagnostic(entry: &ModEntry, source: &SourceFile, error: &ScriptError) -> Diagnostic {
    let location = match (error.line, error.column) {
        (Some(line), column) => {
            let offset = offset_of(source.text(), line, column.unwrap_or(1));
            let mut location = source.locate(offset..offset);
            location.column = column.or(location.column);
            location
        }
        _ => source.whole(),
    };
    Diagnostic::new(Code::SyntaxError, error.message.clone())
        .in_mod(entry.id())
        .at(location)
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
    fn offsets_of_lines_and_columns() {
        let text = "ab\ncd\n";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 9, 1), 6);
    }
}
