//! `modhost replay`: a recorded session against the pack as it is now, and with `--twice` (or
//! `check --determinism`) the determinism check that names the mod that would desync.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use modhost::Config;
use modhost::replay::{Determinism, Divergence, ReplayError, ReplayOptions, ReplayReport};

use super::Exit;
use super::render::count;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording (`modhost run --record FILE`)
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Replay in two hosts, the second on another machine's clock and seeds, and name the mods whose outputs differ
    #[arg(long)]
    twice: bool,
    /// Stop after input N
    #[arg(long, value_name = "N")]
    until: Option<u64>,
    /// Then stay running, serving the protocol on stdin and stdout, until stdin closes (the report goes to stderr)
    #[arg(long, conflicts_with = "twice")]
    stdio: bool,
    /// Then stay running, listening for `modhost ctl` and games on ADDR (`default`: `<data_dir>/modhost.sock`), until `ctl shutdown` or Ctrl-C
    #[arg(long, value_name = "ADDR", conflicts_with = "twice")]
    listen: Option<String>,
    /// Compare only the outputs of these mods
    #[arg(long, value_name = "ID,...", value_delimiter = ',', add = super::completion::mod_ids())]
    mods_only: Vec<String>,
    /// How to report (on stdout)
    #[arg(long, value_enum, default_value_t = ReplayFormat::Human)]
    format: ReplayFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// The first divergence with its input, time, mod, expected and actual output; a summary
    Human,
    /// One JSON object with every divergence kept
    Json,
    /// JUnit XML: one test case per mod, failed where its outputs diverged
    Junit,
}

pub fn run(args: &ReplayArgs, config: &Config) -> Exit {
    let options = ReplayOptions {
        until: args.until,
        mods_only: Some(args.mods_only.clone()).filter(|only| !only.is_empty()),
        seeds: None,
    };
    let started = Instant::now();
    if args.stdio || args.listen.is_some() {
        return replay_and_serve(args, config, options, started);
    }
    let result = if args.twice {
        modhost::replay::check_determinism(&args.file, config, options).map(Outcome::Twice)
    } else {
        modhost::replay::replay_file(&args.file, config, options).map(Outcome::Once)
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            super::render::fatal(&error.to_string(), hint(&error));
            return Exit::Usage;
        }
    };
    let took = started.elapsed().as_secs_f64();
    report(&outcome, args.format, &args.file, took);
    if outcome.identical() {
        Exit::Success
    } else {
        Exit::PackProblems
    }
}

/// `check --determinism FILE`: `replay FILE --twice`, reported as `check` reports.
pub fn determinism(file: &std::path::Path, config: &Config, format: ReplayFormat) -> Exit {
    run(
        &ReplayArgs {
            file: file.to_path_buf(),
            twice: true,
            until: None,
            stdio: false,
            listen: None,
            mods_only: Vec::new(),
            format,
        },
        config,
    )
}

/// Replays, then keeps the host as the replay left it, serving the protocol until a client
/// shuts it down, stdin closes or a signal comes.
fn replay_and_serve(
    args: &ReplayArgs,
    config: &Config,
    options: ReplayOptions,
    started: Instant,
) -> Exit {
    let (report, host) = match modhost::replay::replay_and_keep(&args.file, config, options) {
        Ok(kept) => kept,
        Err(error) => {
            super::render::fatal(&error.to_string(), hint(&error));
            return Exit::Usage;
        }
    };
    let text = human(&report, "the recording", started.elapsed().as_secs_f64());
    // Under `--stdio`, standard output is the protocol's.
    let _ = write!(anstream::stderr(), "{text}");
    let listen = match args.listen.as_deref() {
        Some("default") => None,
        other => other.or(Some("none")),
    };
    let wanted = super::connect::Wanted {
        stdio: args.stdio,
        listen,
        exec: &[],
    };
    if let Err(exit) = super::connect::serve(&host, &wanted, config) {
        host.shutdown();
        return exit;
    }
    host.shutdown();
    if report.is_identical() {
        Exit::Success
    } else {
        Exit::PackProblems
    }
}

fn hint(error: &ReplayError) -> Option<&'static str> {
    match error {
        ReplayError::Missing(_) => {
            Some("`--mods` names the mods folder the recording was made with")
        }
        _ => None,
    }
}

enum Outcome {
    Once(ReplayReport),
    Twice(Determinism),
}

impl Outcome {
    fn identical(&self) -> bool {
        match self {
            Outcome::Once(report) => report.is_identical(),
            Outcome::Twice(check) => {
                check.against_recording.is_identical() && check.between_hosts.is_identical()
            }
        }
    }
}

fn report(outcome: &Outcome, format: ReplayFormat, file: &std::path::Path, took: f64) {
    let mut stdout = anstream::stdout().lock();
    let _ = match format {
        ReplayFormat::Json => {
            let value = match outcome {
                Outcome::Once(report) => serde_json::to_value(report),
                Outcome::Twice(check) => serde_json::to_value(check),
            };
            writeln!(stdout, "{}", value.unwrap_or_default())
        }
        ReplayFormat::Junit => writeln!(stdout, "{}", junit(outcome, file)),
        ReplayFormat::Human => {
            let text = match outcome {
                Outcome::Once(report) => human(report, "the recording", took),
                Outcome::Twice(check) => format!(
                    "{}\n{}",
                    human(&check.against_recording, "the recording", took),
                    twice(&check.between_hosts)
                ),
            };
            write!(stdout, "{text}")
        }
    };
}

fn human(report: &ReplayReport, against: &str, took: f64) -> String {
    let mut text = String::new();
    for change in &report.changes {
        text.push_str(&format!(
            "note: the pack changed since the recording: {change}\n"
        ));
    }
    for note in &report.notes {
        text.push_str(&format!("note: {note}\n"));
    }
    text.push_str(&format!(
        "replayed {} ({} of recorded time) in {:.2} s: ",
        count(report.inputs as usize, "input"),
        seconds(report.recorded_ms),
        took
    ));
    let Some(first) = report.divergences.first() else {
        text.push_str(&format!("identical to {against}\n"));
        return text;
    };
    text.push_str(&format!(
        "{} of {} diverged from {against}\n\n",
        report.divergent_inputs, report.inputs
    ));
    text.push_str(&divergence("first divergence", first, "expected", "actual"));
    text
}

fn twice(report: &ReplayReport) -> String {
    let Some(first) = report.divergences.first() else {
        return "a second host on another machine's clock and seeds: identical (deterministic)\n"
            .to_owned();
    };
    let mut mods: Vec<&str> = report
        .divergences
        .iter()
        .filter_map(|divergence| divergence.mod_id.as_deref())
        .collect();
    mods.sort_unstable();
    mods.dedup();
    let named = mods
        .iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "a second host on another machine's clock and seeds: {} of {} differ: nondeterministic: {named}\n\n{}\nA mod that reads the wall clock, draws random numbers without the session's seed or depends on the order of `pairs` over a table makes machines disagree; use the time and randomness the game passes in, or sort the keys.\n",
        report.divergent_inputs,
        count(report.inputs as usize, "input"),
        divergence("first difference", first, "host 1", "host 2"),
    )
}

fn divergence(title: &str, divergence: &Divergence, expected: &str, actual: &str) -> String {
    let shown = |output: &Option<modhost::Value>| match output {
        Some(output) => output.to_string(),
        None => "nothing".to_owned(),
    };
    format!(
        "{title}: input {} ({}) at {}{}\n  {expected:>8}: {}\n  {actual:>8}: {}\n",
        divergence.input,
        divergence.what,
        seconds(divergence.at_ms),
        match (&divergence.mod_id, &divergence.at) {
            (Some(id), Some(at)) => format!(", in `{id}` ({at})"),
            (Some(id), None) => format!(", in `{id}`"),
            _ => String::new(),
        },
        shown(&divergence.expected),
        shown(&divergence.actual),
    )
}

fn seconds(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

/// One test case per mod with outputs, failed where they diverged; divergences no mod made
/// (a call's result, the game's event) go to a case for the pack.
fn junit(outcome: &Outcome, file: &std::path::Path) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let (report, what) = match outcome {
        Outcome::Once(report) => (report, "replay"),
        Outcome::Twice(check) if !check.against_recording.is_identical() => {
            (&check.against_recording, "replay")
        }
        Outcome::Twice(check) => (&check.between_hosts, "determinism"),
    };
    let mut suite = TestSuite::new(format!(
        "modhost {what} of {}",
        modhost::internal::paths::shown(file)
    ));
    let mut cases: std::collections::BTreeMap<String, Vec<&Divergence>> = Default::default();
    for divergence in &report.divergences {
        cases
            .entry(
                divergence
                    .mod_id
                    .clone()
                    .unwrap_or_else(|| "the pack".to_owned()),
            )
            .or_default()
            .push(divergence);
    }
    if cases.is_empty() {
        let mut case = TestCase::new("every output", TestCaseStatus::success());
        case.set_classname(format!("modhost.{what}"));
        suite.add_test_case(case);
    }
    for (name, divergences) in cases {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(format!(
            "{} diverged; the first at input {} ({})",
            count(divergences.len(), "input"),
            divergences[0].input,
            divergences[0].what
        ));
        status.set_description(divergence(
            "first divergence",
            divergences[0],
            "expected",
            "actual",
        ));
        let mut case = TestCase::new(name, status);
        case.set_classname(format!("modhost.{what}"));
        suite.add_test_case(case);
    }
    let mut junit = Report::new("modhost");
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}
