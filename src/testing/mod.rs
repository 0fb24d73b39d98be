//! `modhost test` (SPEC section 14): finds each mod's test files (`tests/*.test.js`,
//! `*.test.ts`, `*.test.lua`), runs each in a fresh host in test mode that holds the mod and
//! what it requires, with a scratch data dir, and reports every test. The command line renders
//! the report (human, JSON, JUnit).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::host::{Host, TestLog};
use crate::pack::{ModEntry, Pack, subset};

/// Which tests to run.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Only these mods (all when empty).
    pub mods: Vec<String>,
    /// Only tests whose full name (`describe > it`) contains this.
    pub grep: Option<String>,
}

/// Every test file that ran.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TestReport {
    pub files: Vec<FileReport>,
}

/// One test file: its tests, or why it could not run.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub file: PathBuf,
    pub tests: Vec<TestResult>,
    /// The file did not load (a syntax error, the mod failed to start).
    pub error: Option<String>,
    pub ms: u64,
    /// What the mods logged meanwhile (the mod's own lines and those of the mods it requires).
    pub logs: Vec<TestLog>,
}

/// One test, as the test API reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    /// Where the test is declared.
    pub line: Option<u64>,
    #[serde(default)]
    pub ms: u64,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Where it failed, when that is in the test file.
    pub failure_line: Option<u64>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.tests().filter(|test| test.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.tests().filter(|test| !test.passed).count()
    }

    /// Test files that could not run.
    pub fn broken_files(&self) -> usize {
        self.files
            .iter()
            .filter(|file| file.error.is_some())
            .count()
    }

    /// Whether everything that ran passed (and something ran).
    pub fn ok(&self) -> bool {
        self.failed() == 0 && self.broken_files() == 0
    }

    fn tests(&self) -> impl Iterator<Item = &TestResult> {
        self.files.iter().flat_map(|file| &file.tests)
    }
}

/// The test files of a mod, in name order.
pub(crate) fn test_files(entry: &ModEntry) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(entry.dir.join("tests")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .map(|found| found.path())
        .filter(|path| path.is_file() && is_test_file(path))
        .collect();
    files.sort();
    files
}

fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    [".test.js", ".test.mjs", ".test.ts", ".test.lua"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Runs the tests of every usable mod of `pack` (or of those `options` names).
pub fn run(config: &Config, pack: &Pack, options: &TestOptions) -> TestReport {
    let mut report = TestReport::default();
    for entry in &pack.mods {
        if options.mods.is_empty() || options.mods.iter().any(|id| id == entry.id()) {
            let files = run_mod(config, pack, entry, options.grep.as_deref());
            report.files.extend(files);
        }
    }
    report
}

/// Runs the test files of `entry`, each in a fresh host holding the mod and what it requires.
/// The part of the pack those hosts hold is read once for all of them.
pub fn run_mod(
    config: &Config,
    pack: &Pack,
    entry: &ModEntry,
    grep: Option<&str>,
) -> Vec<FileReport> {
    let files = test_files(entry);
    if files.is_empty() {
        return Vec::new();
    }
    let part = part_of_pack(config, pack, entry);
    files
        .iter()
        .map(|file| {
            let started = Instant::now();
            let mut report = FileReport {
                mod_id: entry.id().to_owned(),
                file: file.to_path_buf(),
                tests: Vec::new(),
                error: None,
                ms: 0,
                logs: Vec::new(),
            };
            let ran = match &part {
                Ok((_, config, part)) => {
                    let (ran, logs) = run_in_fresh_host(config, part, entry, file, grep);
                    report.logs = logs;
                    ran
                }
                Err(error) => Err(error.clone()),
            };
            match ran {
                Ok(tests) => report.tests = tests,
                Err(error) => report.error = Some(error),
            }
            report.ms = started.elapsed().as_millis() as u64;
            report
        })
        .collect()
}

/// The configuration and pack of `entry` and what it requires, with storage in memory and a
/// scratch data dir, removed when the returned folder is dropped.
fn part_of_pack(
    config: &Config,
    pack: &Pack,
    entry: &ModEntry,
) -> Result<(tempfile::TempDir, Config, Pack), String> {
    let scratch = tempfile::tempdir()
        .map_err(|error| format!("cannot make a scratch data dir for the tests: {error}"))?;
    let keep = subset::with_requirements(pack, [entry.id()]);
    let mut config = subset::config_keeping(config, pack, &keep);
    config.data_dir = scratch.path().to_path_buf();
    let part = pack
        .reassemble(&config)
        .map_err(|error| error.to_string())?;
    Ok((scratch, config, part))
}

/// Runs `file` in a new host: its tests (or why the file did not run), and what the mods logged.
fn run_in_fresh_host(
    config: &Config,
    pack: &Pack,
    entry: &ModEntry,
    file: &Path,
    grep: Option<&str>,
) -> (Result<Vec<TestResult>, String>, Vec<TestLog>) {
    let host = Host::new(pack.clone(), config.clone());
    host.enter_test_mode(entry.id());
    host.start();
    let ran = run_started(&host, entry, file, grep);
    (ran, host.take_test_logs())
}

fn run_started(
    host: &Host,
    entry: &ModEntry,
    file: &Path,
    grep: Option<&str>,
) -> Result<Vec<TestResult>, String> {
    let status = host
        .mods()
        .into_iter()
        .find(|status| status.id == entry.id());
    if let Some(status) = status.filter(|status| status.state != "active") {
        host.shutdown();
        return Err(format!(
            "`{}` did not start: {} ({})",
            entry.id(),
            status.state,
            status.reason.unwrap_or_default()
        ));
    }
    let ran = host.run_test_file(entry.id(), file, grep);
    host.shutdown();
    let report = ran.map_err(|error| error.to_string())?;
    Vec::<TestResult>::deserialize(report)
        .map_err(|error| format!("the test runner's report did not parse: {error}"))
}
