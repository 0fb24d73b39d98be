//! `modhost bisect`: finds the mod, or the mods that fail only together, that break the pack,
//! by trying subsets of it (see `modhost::internal::bisect`). A subset is tried in process with
//! `check --smoke` (the default) or `modhost test` (`--test`), or by running the user's command
//! with `MODHOST_CONFIG` naming a configuration that disables every mod outside the subset.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::Args;
use modhost::internal::bisect::{Found, bisect};
use modhost::internal::pack::subset;
use modhost::{Config, Pack};

use super::{Exit, load_pack_to_reassemble};

#[derive(Debug, Args)]
pub struct BisectArgs {
    /// A subset fails when `modhost test` fails on it (instead of `check --smoke`)
    #[arg(long, conflicts_with = "command")]
    test: bool,
    /// A subset fails when replaying this recording diverges in the outputs of its mods
    #[arg(long, value_name = "FILE", conflicts_with_all = ["command", "test"])]
    replay: Option<std::path::PathBuf>,
    /// A subset fails when this command exits with a nonzero status; it runs with
    /// `MODHOST_CONFIG` naming a configuration that disables every mod outside the subset
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

pub fn run(args: &BisectArgs, config: &Config) -> Exit {
    let pack = match load_pack_to_reassemble(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    let mods: Vec<String> = pack
        .mods
        .iter()
        .map(|entry| entry.id().to_owned())
        .collect();
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            super::render::fatal(&format!("cannot make a scratch folder: {error}"), None);
            return Exit::Usage;
        }
    };
    let how = if !args.command.is_empty() {
        format!("`{}`", args.command.join(" "))
    } else if let Some(recording) = &args.replay {
        format!(
            "`modhost replay {}`",
            modhost::internal::paths::shown(recording)
        )
    } else if args.test {
        "`modhost test`".to_owned()
    } else {
        "`check --smoke`".to_owned()
    };
    if !args.command.is_empty()
        && let Err(why) = command_runs(&args.command, config, &pack, scratch.path())
    {
        super::render::fatal(
            &why,
            Some(
                "give a command that exists and runs (`modhost bisect -- ./check.sh`), with its path",
            ),
        );
        return Exit::Usage;
    }
    if let Some(recording) = &args.replay
        && let Err(error) = modhost::internal::recording::reader::Reader::open(recording)
    {
        super::render::fatal(&error.to_string(), None);
        return Exit::Usage;
    }
    let progress = spinner();
    // A script compiles or not whatever else is in the pack: each file is compiled once here,
    // not again in every run that includes its mod.
    let does_not_compile = if args.command.is_empty() && !args.test && args.replay.is_none() {
        mods_that_do_not_compile(&pack)
    } else {
        BTreeSet::new()
    };
    let result = bisect(
        &mods,
        |candidate| subset::with_requirements(&pack, candidate.iter().map(String::as_str)),
        |set| {
            if !args.command.is_empty() {
                command_fails(&args.command, config, &pack, set, scratch.path())
            } else if let Some(recording) = &args.replay {
                tracing::subscriber::with_default(
                    tracing::subscriber::NoSubscriber::default(),
                    || replay_diverges(recording, config, &pack, set),
                )
            } else {
                // The trial runs' own logs would bury the answer: they go nowhere.
                tracing::subscriber::with_default(
                    tracing::subscriber::NoSubscriber::default(),
                    || {
                        if set.iter().any(|id| does_not_compile.contains(id)) {
                            return true;
                        }
                        in_process_fails(config, &pack, set, scratch.path(), args.test)
                    },
                )
            }
        },
        |run, size| progress.set_message(format!("run {run}: {how} on {size} mods")),
    );
    progress.finish_and_clear();
    let mut stdout = anstream::stdout();
    let runs = result.runs;
    let _ = match result.found {
        Found::NothingFails => {
            let _ = writeln!(
                stdout,
                "the whole pack passes {how}: nothing to bisect ({runs} run)"
            );
            return Exit::PackProblems;
        }
        Found::FailsWithoutMods => {
            let _ = writeln!(
                stdout,
                "it fails even with every mod left out, so no mod is the cause: look at the configuration or at {how} itself ({runs} runs)"
            );
            return Exit::PackProblems;
        }
        Found::Culprits { mods, required } => {
            let with = match required.is_empty() {
                true => String::new(),
                false => format!(" (with what they require: {})", required.join(", ")),
            };
            match mods.as_slice() {
                [one] => writeln!(
                    stdout,
                    "culprit: {one}{with}; found in {runs} runs of {how}"
                ),
                several => writeln!(
                    stdout,
                    "these mods fail only together: {}{with}; found in {runs} runs of {how}",
                    several.join(", ")
                ),
            }
        }
    };
    Exit::Success
}

fn spinner() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return indicatif::ProgressBar::hidden();
    }
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}

/// The mods with a script that does not compile (`check`'s syntax errors and unknown imports).
fn mods_that_do_not_compile(pack: &Pack) -> BTreeSet<String> {
    use modhost::Code;
    let mut checked = pack.clone();
    checked.check_syntax_of(|_| true, |_| {});
    checked
        .diagnostics
        .iter()
        .filter(|diagnostic| matches!(diagnostic.code, Code::SyntaxError | Code::UnknownImport))
        .filter_map(|diagnostic| diagnostic.mod_id.clone())
        .collect()
}

/// `check --smoke` (or `modhost test`) on the mods of `set`, in this process; their scripts'
/// syntax is [`mods_that_do_not_compile`]'s business.
fn in_process_fails(
    config: &Config,
    pack: &Pack,
    set: &BTreeSet<String>,
    scratch: &Path,
    test: bool,
) -> bool {
    let mut config = subset::config_keeping(config, pack, set);
    config.data_dir = scratch.join("data");
    let Ok(part) = pack.reassemble(&config) else {
        return true;
    };
    if test {
        let report = modhost::internal::testing::run(&config, &part, &Default::default());
        return !report.ok();
    }
    if part.error_count() > 0 {
        return true;
    }
    let (failures, _) = modhost::smoke_test(&part, &config, |_| {}, |_| {});
    !failures.is_empty()
}

/// Whether replaying `recording` with only the mods of `set` diverges in their outputs.
fn replay_diverges(recording: &Path, config: &Config, pack: &Pack, set: &BTreeSet<String>) -> bool {
    let config = subset::config_keeping(config, pack, set);
    let options = modhost::replay::ReplayOptions {
        mods_only: Some(set.iter().cloned().collect()),
        ..Default::default()
    };
    modhost::replay::replay_file(recording, &config, options)
        .map_or(true, |report| !report.is_identical())
}

/// Whether the user's command can run at all, tried once on the whole pack: a command that
/// cannot be started (or that a shell could not find or execute: 126, 127) is a mistake in the
/// invocation, not a failing subset, and is reported with what it said.
fn command_runs(
    command: &[String],
    config: &Config,
    pack: &Pack,
    scratch: &Path,
) -> Result<(), String> {
    let file = scratch.join("config.toml");
    let everything: BTreeSet<String> = pack
        .mods
        .iter()
        .map(|entry| entry.id().to_owned())
        .collect();
    std::fs::write(&file, generated_config(config, pack, &everything))
        .map_err(|error| format!("cannot write `{}`: {error}", file.display()))?;
    let output = Command::new(&command[0])
        .args(&command[1..])
        .env("MODHOST_CONFIG", &file)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run `{}`: {error}", command[0]))?;
    match output.status.code() {
        Some(code @ (126 | 127)) => Err(format!(
            "`{}` could not run (exit {code}): {}",
            command.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )),
        _ => Ok(()),
    }
}

/// The user's command on the mods of `set`: it fails when it exits nonzero.
fn command_fails(
    command: &[String],
    config: &Config,
    pack: &Pack,
    set: &BTreeSet<String>,
    scratch: &Path,
) -> bool {
    let file = scratch.join("config.toml");
    if let Err(error) = std::fs::write(&file, generated_config(config, pack, set)) {
        tracing::error!("cannot write `{}`: {error}", file.display());
        return true;
    }
    let status = Command::new(&command[0])
        .args(&command[1..])
        .env("MODHOST_CONFIG", &file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match status {
        Ok(status) => !status.success(),
        Err(error) => {
            tracing::error!("cannot run `{}`: {error}", command[0]);
            true
        }
    }
}

/// The user's configuration, with absolute paths, and `[mods.<id>] enabled = false` for every
/// mod outside `set`.
fn generated_config(config: &Config, pack: &Pack, set: &BTreeSet<String>) -> String {
    let absolute =
        |path: &Path| -> PathBuf { std::path::absolute(path).unwrap_or(path.to_path_buf()) };
    let (mut table, base) = match &config.file {
        Some(file) => (
            file.text().parse::<toml::Table>().unwrap_or_default(),
            file.path()
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
        ),
        None => (toml::Table::new(), PathBuf::new()),
    };
    let path = |path: &Path| toml::Value::String(absolute(path).display().to_string());
    table.insert("mods_dir".into(), path(&config.mods_dir));
    table.insert("data_dir".into(), path(&config.data_dir));
    if let Some(toml::Value::String(api)) = table.get("api").cloned() {
        table.insert("api".into(), path(&base.join(api)));
    }
    let sections = table
        .entry("mods")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let toml::Value::Table(sections) = sections {
        for entry in pack.mods.iter().filter(|entry| !set.contains(entry.id())) {
            let section = sections
                .entry(entry.id())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(section) = section {
                section.insert("enabled".into(), toml::Value::Boolean(false));
            }
        }
    }
    toml::to_string(&table).unwrap_or_default()
}
