//! Writing diagnostics for people (`human`), programs (`json`) and CI logs (`github`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use anstyle::{AnsiColor, Style};
use modhost::diagnostic::{Diagnostic, Severity};
use modhost::source::SourceFile;
use serde::Serialize;

const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();

/// Prints `error: …` and an optional `hint: …` to stderr, for problems that stop a command.
pub fn fatal(message: &str, hint: Option<&str>) {
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{ERROR}error{ERROR:#}: {message}");
    if let Some(hint) = hint {
        let _ = writeln!(stderr, "\n{HINT}hint{HINT:#}: {hint}");
    }
}

/// A diagnostic as rustc would show it: title, location, the source line underlined, a hint.
/// Whether diagnostics go to stderr as log events (one JSON object a line, with
/// `--log-format json`) rather than as text.
static AS_LOG_EVENTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn diagnostics_as_log_events(on: bool) {
    AS_LOG_EVENTS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A closing line after [`report`]ed diagnostics: text, or a log event with
/// `--log-format json`.
pub fn report_line(text: &str) {
    if AS_LOG_EVENTS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::error!("{text}");
    } else {
        let _ = writeln!(anstream::stderr(), "{text}");
    }
}

/// Prints a diagnostic on stderr for a command that goes on: as text, or with
/// `--log-format json` as one log event with its fields, so every line is JSON.
pub fn report(diagnostic: &Diagnostic, sources: &BTreeMap<PathBuf, SourceFile>) {
    if !AS_LOG_EVENTS.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = writeln!(anstream::stderr(), "{}\n", human(diagnostic, sources));
        return;
    }
    let location = diagnostic.location.as_ref();
    let file = location.map(|location| display_path(&location.file));
    let line = location.and_then(|location| location.line);
    let column = location.and_then(|location| location.column);
    let code = diagnostic.code.as_str();
    let mod_id = diagnostic.mod_id.as_deref();
    let hint = diagnostic.hint.as_deref();
    match diagnostic.severity {
        Severity::Error => tracing::error!(
            code,
            mod_id,
            file,
            line,
            column,
            hint,
            "{}",
            diagnostic.message
        ),
        Severity::Warning => tracing::warn!(
            code,
            mod_id,
            file,
            line,
            column,
            hint,
            "{}",
            diagnostic.message
        ),
    }
}

pub fn human(diagnostic: &Diagnostic, sources: &BTreeMap<PathBuf, SourceFile>) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut group = Group::with_title(
        level
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code.as_str()),
    );
    if let Some(location) = &diagnostic.location {
        let path = display_path(&location.file);
        let source = sources.get(&location.file);
        group = match (source, &location.span) {
            (Some(source), Some(span)) => group.element(
                Snippet::source(source.text())
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(span.clone())),
            ),
            _ => {
                let mut origin = Origin::path(path);
                if let Some(line) = location.line {
                    origin = origin.line(line);
                    if let Some(column) = location.column {
                        origin = origin.char_column(column);
                    }
                }
                group.element(origin)
            }
        };
    }
    for note in &diagnostic.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    if let Some(hint) = &diagnostic.hint {
        group = group.element(Level::HELP.message(hint.as_str()));
    }
    Renderer::styled().render(&[group])
}

/// The JSON form of a diagnostic (SPEC section 7), plus its hint.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    severity: Severity,
    code: &'a str,
    #[serde(rename = "mod")]
    mod_id: Option<&'a str>,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    message: &'a str,
    notes: &'a [String],
    hint: Option<&'a str>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(diagnostic: &'a Diagnostic) -> Self {
        let location = diagnostic.location.as_ref();
        Self {
            severity: diagnostic.severity,
            code: diagnostic.code.as_str(),
            mod_id: diagnostic.mod_id.as_deref(),
            file: location.map(|location| display_path(&location.file)),
            line: location.and_then(|location| location.line),
            column: location.and_then(|location| location.column),
            message: &diagnostic.message,
            notes: &diagnostic.notes,
            hint: diagnostic.hint.as_deref(),
        }
    }
}

/// A GitHub Actions workflow command that annotates the file and line in the pull request.
pub fn github(diagnostic: &Diagnostic) -> String {
    let command = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = Vec::new();
    if let Some(location) = &diagnostic.location {
        properties.push(format!(
            "file={}",
            escape_property(&display_path(&location.file))
        ));
        if let Some(line) = location.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = location.column {
            properties.push(format!("col={column}"));
        }
    }
    properties.push(format!("title={}", diagnostic.code));
    let mut message = diagnostic.message.clone();
    for note in &diagnostic.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    if let Some(hint) = &diagnostic.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    format!(
        "::{command} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A JUnit report: one test case per mod (and one for problems outside any mod), failed when
/// it has errors (or warnings, with `--deny-warnings`); every diagnostic is in the failure's
/// text, as `file:line:column: code: message`.
pub fn junit(pack: &modhost::Pack, deny_warnings: bool) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut ids: Vec<&str> = pack.mods.iter().map(|entry| entry.id()).collect();
    ids.extend(pack.diagnostics.iter().filter_map(|d| d.mod_id.as_deref()));
    ids.sort_unstable();
    ids.dedup();
    let counts = |diagnostic: &&Diagnostic| deny_warnings || diagnostic.is_error();
    let case = |name: &str, diagnostics: Vec<&Diagnostic>| {
        let failing: Vec<&Diagnostic> = diagnostics.iter().copied().filter(counts).collect();
        let lines = diagnostics
            .iter()
            .map(|diagnostic| {
                let place = diagnostic
                    .location
                    .as_ref()
                    .map_or_else(String::new, |location| {
                        let mut place = display_path(&location.file);
                        for number in [location.line, location.column].into_iter().flatten() {
                            place.push_str(&format!(":{number}"));
                        }
                        place + ": "
                    });
                format!(
                    "{place}{}[{}]: {}",
                    diagnostic.severity, diagnostic.code, diagnostic.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let status = match failing.first() {
            None => TestCaseStatus::success(),
            Some(first) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(first.message.as_str());
                status.set_type(first.code.as_str());
                status.set_description(lines.as_str());
                status
            }
        };
        let mut case = TestCase::new(name, status);
        case.set_classname("modhost.check");
        if failing.is_empty() && !lines.is_empty() {
            case.set_system_out(lines);
        }
        case
    };
    let mut suite = TestSuite::new("modhost check");
    for id in ids {
        let diagnostics = pack
            .diagnostics
            .iter()
            .filter(|d| d.mod_id.as_deref() == Some(id))
            .collect();
        suite.add_test_case(case(id, diagnostics));
    }
    let unowned: Vec<&Diagnostic> = pack
        .diagnostics
        .iter()
        .filter(|d| d.mod_id.is_none())
        .collect();
    if !unowned.is_empty() {
        suite.add_test_case(case("(pack)", unowned));
    }
    let mut report = Report::new("modhost");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// Paths as the user would type them: relative as found, with forward slashes.
pub fn display_path(path: &Path) -> String {
    let text = path.display().to_string();
    if std::path::MAIN_SEPARATOR == '\\' {
        text.replace('\\', "/")
    } else {
        text
    }
}

/// `1 error`, `2 warnings`.
pub fn count(number: usize, noun: &str) -> String {
    if number == 1 {
        format!("1 {noun}")
    } else {
        format!("{number} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modhost::diagnostic::Code;
    use modhost::source::Location;

    #[test]
    fn github_commands_escape_what_would_end_them() {
        let diagnostic = Diagnostic::new(Code::Conflict, "100% sure\nreally")
            .at(Location::file("mods/a,b/x:y.json"));
        assert_eq!(
            github(&diagnostic),
            "::error file=mods/a%2Cb/x%3Ay.json,title=conflict::100%25 sure%0Areally"
        );
    }
}
