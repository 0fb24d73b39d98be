//! Writing diagnostics for people (`human`), programs (`json`) and CI logs (`github`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use anstyle::{AnsiColor, Style};
use modhost::SourceFile;
use modhost::{Diagnostic, Severity};
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
    let file = location.map(|location| modhost::internal::paths::shown(&location.file));
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
        let path = modhost::internal::paths::shown(&location.file);
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
            file: location.map(|location| modhost::internal::paths::shown(&location.file)),
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
            escape_property(&modhost::internal::paths::shown(&location.file))
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

/// JUnit XML of `check`: a test case per problem, named after its mod and code, with `file`
/// and `line` attributes, failing for an error (or a warning with `--deny-warnings`), the
/// message, notes and hint kept; and a passing case for each mod without problems, so the
/// report lists the whole pack.
pub fn junit(pack: &modhost::Pack, deny_warnings: bool) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("modhost check");
    for diagnostic in &pack.diagnostics {
        let mut text = diagnostic.message.clone();
        for note in &diagnostic.notes {
            text.push_str(&format!("\nnote: {note}"));
        }
        if let Some(hint) = &diagnostic.hint {
            text.push_str(&format!("\nhint: {hint}"));
        }
        let failing = deny_warnings || diagnostic.is_error();
        let status = if failing {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(diagnostic.message.as_str());
            status.set_type(diagnostic.code.as_str());
            status.set_description(text.as_str());
            status
        } else {
            TestCaseStatus::success()
        };
        let owner = diagnostic.mod_id.as_deref().unwrap_or("(pack)");
        let mut case = TestCase::new(format!("{owner}: {}", diagnostic.code), status);
        case.set_classname(format!("modhost.check.{owner}"));
        if !failing {
            case.set_system_out(format!("{}: {text}", diagnostic.severity));
        }
        if let Some(location) = &diagnostic.location {
            case.extra.insert(
                "file".into(),
                modhost::internal::paths::shown(&location.file).into(),
            );
            if let Some(line) = location.line {
                case.extra.insert("line".into(), line.to_string().into());
            }
        }
        suite.add_test_case(case);
    }
    for entry in &pack.mods {
        let has_problems = pack
            .diagnostics
            .iter()
            .any(|diagnostic| diagnostic.mod_id.as_deref() == Some(entry.id()));
        if !has_problems {
            let mut case = TestCase::new(entry.id(), TestCaseStatus::success());
            case.set_classname(format!("modhost.check.{}", entry.id()));
            case.extra.insert(
                "file".into(),
                modhost::internal::paths::shown(entry.manifest_file.path()).into(),
            );
            suite.add_test_case(case);
        }
    }
    let mut report = Report::new("modhost");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// JUnit XML for a `check` that could not run (exit status 2): one erroring case saying why,
/// so a CI that reads the file shows the reason rather than nothing.
pub fn junit_error(message: &str, hint: Option<&str>) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(message);
    status.set_type("configuration");
    if let Some(hint) = hint {
        status.set_description(format!("{message}\nhint: {hint}"));
    }
    let mut case = TestCase::new("the configuration", status);
    case.set_classname("modhost.check");
    let mut suite = TestSuite::new("modhost check");
    suite.add_test_case(case);
    let mut report = Report::new("modhost");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
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
    use modhost::Code;
    use modhost::Location;

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
