//! TypeScript without a build step: a `.ts` file runs as the JavaScript left when its types are
//! erased (swc's strip-only mode), which replaces every type with spaces, so each line and
//! column of the JavaScript is that of the `.ts` file and errors point at the file the modder
//! wrote. Syntax that only a compiler could lower (`enum`, a `namespace` with code, parameter
//! properties) is a syntax error at its position.

use std::path::Path;

use super::super::{ErrorKind, ScriptError};

/// Whether `path` is a TypeScript file, whose types are stripped before it runs.
pub(super) fn is_typescript(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "ts")
}

/// The stack of the thread that erases types: swc recurses once per level of nesting, and
/// [`super::nesting::MAX_NESTING`] levels fit in it with room to spare, whatever thread asked
/// (a game's own, `check`'s workers). Only the pages used are committed. A thread of its own
/// every time, because the caller's stack cannot be trusted: measured in a debug build, a
/// 2 MiB thread (Rust's default) overflows at 128 nested type arguments or parentheses. Its
/// start costs tens of microseconds against the milliseconds of erasing a file.
#[cfg(feature = "typescript")]
const STRIP_STACK_BYTES: usize = 256 << 20;

/// The JavaScript of a TypeScript file, or the first thing that keeps it from being stripped.
/// A file nested deeper than swc can parse is refused at the place it gets too deep.
#[cfg(feature = "typescript")]
pub(super) fn strip(path: &Path, source: String) -> Result<String, ScriptError> {
    use super::nesting::{MAX_NESTING, too_deep};

    if let Some(at) = too_deep(&source, MAX_NESTING) {
        let mut error = ScriptError::new(
            ErrorKind::Syntax,
            format!(
                "this file nests deeper than {MAX_NESTING} levels (brackets, type arguments, arrows and operators within one expression): split the expression up"
            ),
        );
        error.file = Some(path.to_path_buf());
        let before = &source[..at];
        error.line = Some(before.matches('\n').count() + 1);
        error.column = Some(
            before
                .rsplit('\n')
                .next()
                .map_or(0, |line| line.chars().count())
                + 1,
        );
        return Err(error);
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("typescript".to_owned())
            .stack_size(STRIP_STACK_BYTES)
            .spawn_scoped(scope, || strip_here(path, source))
            .map_err(|error| {
                ScriptError::new(
                    ErrorKind::Host,
                    format!("cannot start the thread that erases types: {error}"),
                )
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(ScriptError::new(
                    ErrorKind::Host,
                    "erasing the types failed inside swc",
                ))
            })
    })
}

/// [`strip`] on the calling thread.
#[cfg(feature = "typescript")]
fn strip_here(path: &Path, source: String) -> Result<String, ScriptError> {
    use std::sync::{Arc, Mutex};

    use swc_common::errors::{DiagnosticBuilder, Emitter, Handler};
    use swc_common::sync::Lrc;
    use swc_common::{BytePos, GLOBALS, Globals, SourceMap};
    use swc_ts_fast_strip::{Mode, Options, operate};

    /// A problem swc found: its message and where it starts.
    type Problem = (String, Option<BytePos>);

    /// Keeps each problem swc reports.
    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<Problem>>>);

    impl Emitter for Collected {
        fn emit(&mut self, diagnostic: &mut DiagnosticBuilder<'_>) {
            let at = diagnostic.span.primary_span().map(|span| span.lo);
            if let Ok(mut problems) = self.0.lock() {
                problems.push((diagnostic.message(), at));
            }
        }
    }

    let map: Lrc<SourceMap> = Lrc::default();
    let collected = Collected::default();
    let handler = Handler::with_emitter(true, false, Box::new(collected.clone()));
    let options = Options {
        filename: Some(crate::paths::shown(path)),
        mode: Mode::StripOnly,
        ..Options::default()
    };
    let stripped = GLOBALS.set(&Globals::new(), || operate(&map, &handler, source, options));
    let error = match stripped {
        Ok(output) => return Ok(output.code),
        Err(error) => error,
    };
    let first = collected
        .0
        .lock()
        .ok()
        .and_then(|mut problems| (!problems.is_empty()).then(|| problems.remove(0)));
    let (message, at) = first.unwrap_or((error.message, None));
    let mut script_error = ScriptError::new(ErrorKind::Syntax, explain(&message));
    script_error.file = Some(path.to_path_buf());
    if let Some(at) = at {
        let location = map.lookup_char_pos(at);
        script_error.line = Some(location.line);
        script_error.column = Some(location.col.0 + 1);
    }
    Err(script_error)
}

/// Without the `typescript` feature, a TypeScript file is refused with what to do.
#[cfg(not(feature = "typescript"))]
pub(super) fn strip(path: &Path, _source: String) -> Result<String, ScriptError> {
    let mut error = ScriptError::new(
        ErrorKind::Syntax,
        "this modhost was built without TypeScript (the `typescript` feature): compile the mod to JavaScript, or use a build with the feature",
    );
    error.file = Some(path.to_path_buf());
    Err(error)
}

/// swc's word on a problem, with what to write instead of syntax it cannot erase.
#[cfg(feature = "typescript")]
fn explain(message: &str) -> String {
    let lowered = message.to_lowercase();
    let instead = if lowered.contains("enum") {
        "write a union of string literals, or an object `as const`"
    } else if lowered.contains("namespace") || lowered.contains("module") {
        "use an object or an ES module"
    } else if lowered.contains("parameter propert") {
        "declare the field and assign it in the constructor"
    } else if lowered.contains("not supported") {
        "only syntax whose types can be erased runs (`erasableSyntaxOnly` in tsconfig.json flags the rest)"
    } else {
        return message.to_owned();
    };
    format!("{message}: {instead}")
}

#[cfg(all(test, feature = "typescript"))]
mod tests {
    use super::*;

    fn stripped(source: &str) -> Result<String, ScriptError> {
        strip(Path::new("main.ts"), source.to_owned())
    }

    #[test]
    fn types_become_spaces_and_every_line_keeps_its_place() {
        let source = "interface P { x: number }\nexport function add(a: number, b: number): number {\n  return a + b;\n}\nconst n = [1] as const;\n";
        let javascript = stripped(source).expect("strips");
        assert_eq!(javascript.lines().count(), source.lines().count());
        let line = javascript.lines().nth(1).expect("second line");
        assert!(line.starts_with("export function add(a"), "{line}");
        assert!(!line.contains("number"), "{line}");
        assert_eq!(javascript.lines().nth(2), Some("  return a + b;"));
    }

    #[test]
    fn an_enum_is_a_syntax_error_at_its_position_with_what_to_write_instead() {
        let error = stripped("const a = 1;\n  enum Kind { Orc, Goblin }\n").expect_err("refused");
        assert_eq!(error.kind, ErrorKind::Syntax);
        assert_eq!((error.line, error.column), (Some(2), Some(3)));
        assert!(error.message.contains("as const"), "{}", error.message);
    }

    #[test]
    fn broken_syntax_is_reported_where_it_is() {
        let error = stripped("let x: number = 1;\nlet y = (;\n").expect_err("refused");
        assert_eq!(error.line, Some(2));
        assert_eq!(error.file.as_deref(), Some(Path::new("main.ts")));
    }
}
