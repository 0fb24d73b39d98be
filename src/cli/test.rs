//! `modhost test`: runs the mods' test files and reports each test, for people (`human`), for
//! tools (`json`) and for CI test reports (`junit`); `--watch` reruns a mod's tests when its
//! folder changes.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use clap::{Args, ValueEnum};
use modhost::internal::host::TestLog;
use modhost::internal::testing::{self, TestOptions, TestReport};
use modhost::{Config, Pack};

use super::{Exit, load_pack_to_reassemble};
use modhost::internal::paths::shown as display_path;

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Only the tests of these mods (all mods when none is named)
    #[arg(value_name = "MOD", add = super::completion::mod_ids())]
    only: Vec<String>,
    /// Only tests whose full name (`describe > it`) contains this text
    #[arg(long)]
    grep: Option<String>,
    /// How to report (on stdout)
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Run again the tests of a mod whenever a file in its folder changes
    #[arg(long)]
    watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    /// Each test passed or failed, failures with file, line, expected and actual
    Human,
    /// One JSON object: every file and its tests
    Json,
    /// JUnit XML: one test case per test, with `file` and `line` attributes and its time
    Junit,
}

/// `verbose` (`-v`) shows what the mods logged for every file; otherwise only for a file that
/// failed, where it may say why (in CI, the mods a test requires would fill the log).
pub fn run(args: &TestArgs, config: &Config, verbose: bool) -> Exit {
    let pack = match load_pack_to_reassemble(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    if let Some(unknown) = args
        .only
        .iter()
        .find(|id| !pack.mods.iter().any(|entry| entry.id() == id.as_str()))
    {
        let hint =
            modhost::internal::suggest::did_you_mean(unknown, pack.mods.iter().map(|e| e.id()));
        super::render::fatal(&format!("no mod `{unknown}` in the pack"), hint.as_deref());
        return Exit::Usage;
    }
    let options = TestOptions {
        mods: args.only.clone(),
        grep: args.grep.clone(),
    };
    let shown = Shown {
        format: args.format,
        verbose,
    };
    if args.watch {
        return watch(config, &pack, &options, shown);
    }
    let report = testing::run(config, &pack, &options);
    shown.print(&report);
    if report.files.is_empty() {
        tracing::warn!("no test files: write `tests/<name>.test.js` (or `.ts`, `.lua`) in a mod");
    }
    if report.ok() {
        Exit::Success
    } else {
        Exit::PackProblems
    }
}

/// How reports are printed.
#[derive(Clone, Copy)]
struct Shown {
    format: TestFormat,
    verbose: bool,
}

impl Shown {
    fn print(self, report: &TestReport) {
        let mut stdout = anstream::stdout();
        let text = match self.format {
            TestFormat::Human => human(report, self.verbose),
            TestFormat::Json => serde_json::to_string_pretty(report).expect("the report is JSON"),
            TestFormat::Junit => junit(report),
        };
        let _ = writeln!(stdout, "{text}");
    }
}

/// A mod's log line under its test file: `[counter] info: attached`.
fn log_line(log: &TestLog) -> String {
    format!("[{}] {}: {}", log.mod_id, log.level, log.message)
}

fn human(report: &TestReport, verbose: bool) -> String {
    let passed = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let failed = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let dim = Style::new().dimmed();
    let mut out = String::new();
    for file in &report.files {
        let path = display_path(&file.file);
        out.push_str(&format!("{path} ({}, {} ms)\n", file.mod_id, file.ms));
        if let Some(error) = &file.error {
            out.push_str(&format!(
                "  {failed}✗ the file did not run{failed:#}: {error}\n"
            ));
        }
        let file_failed = file.error.is_some() || file.tests.iter().any(|test| !test.passed);
        if verbose || file_failed {
            for log in &file.logs {
                out.push_str(&format!("  {dim}log {}{dim:#}\n", log_line(log)));
            }
        }
        for test in &file.tests {
            if test.passed {
                out.push_str(&format!(
                    "  {passed}✓{passed:#} {} {dim}({} ms){dim:#}\n",
                    test.name, test.ms
                ));
                continue;
            }
            out.push_str(&format!("  {failed}✗ {}{failed:#}\n", test.name));
            let line = test.failure_line.or(test.line);
            let at = line.map_or(path.clone(), |line| format!("{path}:{line}"));
            out.push_str(&format!("      at {at}\n"));
            out.push_str(&format!(
                "      {}\n",
                test.message.as_deref().unwrap_or("failed")
            ));
            if let (Some(expected), Some(actual)) = (&test.expected, &test.actual) {
                out.push_str(&format!(
                    "      expected: {expected}\n        actual: {actual}\n"
                ));
            }
        }
    }
    let summary = format!(
        "{} passed, {} failed{}",
        report.passed(),
        report.failed(),
        match report.broken_files() {
            0 => String::new(),
            broken => format!(", {broken} file(s) did not run"),
        }
    );
    let style = if report.ok() { passed } else { failed };
    out.push_str(&format!("{style}{summary}{style:#}"));
    out
}

fn junit(report: &TestReport) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut junit = Report::new("modhost test");
    for file in &report.files {
        let path = display_path(&file.file);
        let mut suite = TestSuite::new(format!("{} {path}", file.mod_id));
        suite.set_time(Duration::from_millis(file.ms));
        if !file.logs.is_empty() {
            let logs: Vec<String> = file.logs.iter().map(log_line).collect();
            suite.set_system_out(logs.join("\n"));
        }
        if let Some(error) = &file.error {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(error.as_str());
            let mut case = TestCase::new("(the test file)", status);
            case.set_classname(file.mod_id.as_str());
            case.extra.insert("file".into(), path.as_str().into());
            suite.add_test_case(case);
        }
        for test in &file.tests {
            let status = if test.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(test.message.as_deref().unwrap_or("failed"));
                let mut description = test.message.clone().unwrap_or_default();
                if let (Some(expected), Some(actual)) = (&test.expected, &test.actual) {
                    description.push_str(&format!("\nexpected: {expected}\n  actual: {actual}"));
                }
                status.set_description(description);
                status
            };
            let mut case = TestCase::new(test.name.as_str(), status);
            case.set_classname(file.mod_id.as_str());
            case.set_time(Duration::from_millis(test.ms));
            case.extra.insert("file".into(), path.as_str().into());
            if let Some(line) = test.failure_line.or(test.line) {
                case.extra.insert("line".into(), line.to_string().into());
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().unwrap_or_default()
}

/// Runs the tests, then again the tests of each mod whose folder changes, until interrupted.
/// The watch starts first, so a save during the first run is not missed.
fn watch(config: &Config, pack: &Pack, options: &TestOptions, shown: Shown) -> Exit {
    let (changed, changes) = mpsc::channel::<String>();
    let watching = modhost::watch::Watcher::start(
        &config.mods_dir,
        None,
        config.watch.poll(),
        move |target| {
            if let modhost::watch::Target::ModFolder(folder) = target {
                let _ = changed.send(folder);
            }
        },
    );
    let watcher = match watching {
        Ok(watcher) => watcher,
        Err(error) => {
            super::render::fatal(&error.to_string(), None);
            return Exit::Usage;
        }
    };
    shown.print(&testing::run(config, pack, options));
    tracing::info!(
        "watching `{}`: tests rerun when a mod changes",
        config.mods_dir.display()
    );
    while let Ok(first) = changes.recv() {
        // An editor's save is several events: take them all before running.
        let mut folders = vec![first];
        let quiet = watcher.quiet_period(Duration::from_millis(50));
        while let Ok(more) = changes.recv_timeout(quiet) {
            folders.push(more);
        }
        folders.sort();
        folders.dedup();
        let Ok(pack) = Pack::load_to_reassemble(config) else {
            continue;
        };
        let mut report = TestReport::default();
        for entry in pack.mods.iter().filter(|entry| {
            folders
                .iter()
                .any(|folder| entry.dir.file_name() == Some(folder.as_ref()))
                && (options.mods.is_empty() || options.mods.iter().any(|id| id == entry.id()))
        }) {
            report.files.extend(testing::run_mod(
                config,
                &pack,
                entry,
                options.grep.as_deref(),
            ));
        }
        if !report.files.is_empty() {
            shown.print(&report);
        }
    }
    Exit::Success
}
