//! `modhost check`: every problem of the pack at once, for people and for CI.

use std::io::Write;

use clap::{Args, ValueEnum};
use modhost::{Code, Diagnostic};
use modhost::{Config, Pack};
use serde::Serialize;

use super::Exit;
use super::render::{self, JsonDiagnostic};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// How to report problems (on stdout)
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    deny_warnings: bool,
    /// Also attach, bootstrap and detach every mod under its limits (in a scratch data dir)
    #[arg(long)]
    smoke: bool,
    /// Instead, the determinism check of a recorded session: `modhost replay FILE --twice`
    #[arg(long, value_name = "FILE", conflicts_with = "smoke")]
    determinism: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CheckFormat {
    /// Readable text with the source underlined
    Human,
    /// One JSON object with the order, the mods and every diagnostic
    Json,
    /// GitHub Actions annotations (`::error file=…::…`)
    Github,
    /// JUnit XML: one test case per mod, for CI systems that show test reports
    Junit,
}

impl CheckArgs {
    /// For a `check` that cannot run (exit status 2): every report format says why, as a
    /// diagnostic of `code`, instead of being empty (the human one is on stderr already).
    pub fn report_failure_to_run(&self, code: Code, message: &str, hint: Option<&str>) {
        let mut diagnostic = Diagnostic::new(code, message);
        diagnostic.hint = hint.map(str::to_owned);
        let mut stdout = anstream::stdout().lock();
        let _ = match self.format {
            CheckFormat::Human => Ok(()),
            CheckFormat::Json => write_json(&mut stdout, None, &[diagnostic], false),
            CheckFormat::Github => writeln!(stdout, "{}", render::github(&diagnostic)),
            CheckFormat::Junit => writeln!(stdout, "{}", render::junit_error(message, hint)),
        };
    }
}

pub fn run(args: &CheckArgs, config: &Config) -> Exit {
    if let Some(recording) = &args.determinism {
        let format = match args.format {
            CheckFormat::Human | CheckFormat::Github => super::replay::ReplayFormat::Human,
            CheckFormat::Json => super::replay::ReplayFormat::Json,
            CheckFormat::Junit => super::replay::ReplayFormat::Junit,
        };
        return super::replay::determinism(recording, config, format);
    }
    let mut pack = match Pack::load(config) {
        Ok(pack) => pack,
        Err(error) => {
            let hint = super::pack_error_hint(&error);
            render::fatal(&error.to_string(), hint);
            args.report_failure_to_run(Code::NoPack, &error.to_string(), hint);
            return Exit::Usage;
        }
    };
    let mods = pack.mods.len() as u64;
    let progress = progress_bar(mods, "checking scripts");
    pack.check_syntax_of(|_| true, |_| progress.inc(1));
    progress.finish_and_clear();
    if args.smoke {
        // Counts the mods that attached or failed: the slow part is theirs.
        let progress = progress_bar(mods, "smoke-testing");
        let bar = progress.clone();
        let mut settled = std::collections::HashSet::new();
        let changed = move |status: &modhost::ModStatus| {
            if matches!(status.state, "attached" | "failed" | "blocked")
                && settled.insert(status.id.clone())
            {
                bar.inc(1);
            }
        };
        let longest = config.longest_call_timeout();
        // What the mods log would repeat the report's problems: the report says it once.
        let quiet = tracing::subscriber::NoSubscriber::default();
        let (diagnostics, sources) = tracing::subscriber::with_default(quiet, || {
            modhost::smoke_test(
                &pack,
                config,
                |activity| {
                    if let Err(error) = super::watchdog::start(activity, longest) {
                        eprintln!("no watchdog: {error}");
                    }
                },
                changed,
            )
        });
        progress.finish_and_clear();
        pack.add_diagnostics(diagnostics, sources);
    }
    let failed = pack.error_count() > 0 || (args.deny_warnings && pack.warning_count() > 0);
    let mut stdout = anstream::stdout().lock();
    let written = match args.format {
        CheckFormat::Human => write_human(&mut stdout, &pack, args.deny_warnings),
        CheckFormat::Json => write_json(&mut stdout, Some(&pack), &pack.diagnostics, !failed),
        CheckFormat::Github => pack
            .diagnostics
            .iter()
            .try_for_each(|diagnostic| writeln!(stdout, "{}", render::github(diagnostic))),
        CheckFormat::Junit => writeln!(stdout, "{}", render::junit(&pack, args.deny_warnings)),
    };
    if written.is_err() {
        // stdout closed (e.g. piped into `head`): nothing more to say.
        return Exit::PackProblems;
    }
    if failed {
        Exit::PackProblems
    } else {
        Exit::Success
    }
}

/// How many mods make a pack large enough for a progress bar.
const PROGRESS_FROM: u64 = 100;

/// A progress bar of mods done out of `mods` on stderr, for packs of [`PROGRESS_FROM`] mods
/// or more, when stderr is a terminal and not in CI; hidden otherwise.
fn progress_bar(mods: u64, message: &'static str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let interactive = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !interactive || mods < PROGRESS_FROM {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(mods).with_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} mods")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

fn write_human(out: &mut impl Write, pack: &Pack, deny_warnings: bool) -> std::io::Result<()> {
    for diagnostic in &pack.diagnostics {
        writeln!(out, "{}\n", render::human(diagnostic, &pack.sources))?;
    }
    // A mod is usable when it has a place in the load order and no error of its own: a pack
    // whose mods are all in a cycle has none (it said "3 usable mods").
    let failing: std::collections::HashSet<&str> = pack
        .diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.is_error())
        .filter_map(|diagnostic| diagnostic.mod_id.as_deref())
        .collect();
    let usable = pack
        .ordered()
        .filter(|entry| !failing.contains(entry.id()))
        .count();
    let checked = if usable == pack.mods.len() {
        render::count(usable, "usable mod")
    } else {
        format!(
            "{usable} of {} usable",
            render::count(pack.mods.len(), "mod")
        )
    };
    let (errors, warnings) = (pack.error_count(), pack.warning_count());
    if errors == 0 && warnings == 0 {
        let order: Vec<&str> = pack.ordered().map(|entry| entry.id()).collect();
        return writeln!(out, "ok: {checked}, load order: {}", shown_order(&order));
    }
    let denied = if deny_warnings && warnings > 0 {
        " (warnings denied)"
    } else {
        ""
    };
    writeln!(
        out,
        "{}: {checked}, {}, {}{denied}",
        if errors > 0 || !denied.is_empty() {
            "failed"
        } else {
            "ok"
        },
        render::count(errors, "error"),
        render::count(warnings, "warning"),
    )
}

/// The load order on one line: in full for a small pack, else its start and how many follow
/// (a pack of 400 mods made a line of 400 ids).
fn shown_order(order: &[&str]) -> String {
    const SHOWN: usize = 10;
    if order.len() <= SHOWN + 2 {
        return order.join(", ");
    }
    format!(
        "{}, … and {} more (`modhost list` shows them all)",
        order[..SHOWN].join(", "),
        order.len() - SHOWN
    )
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    order: Vec<&'a str>,
    mods: Vec<JsonMod<'a>>,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonMod<'a> {
    id: &'a str,
    name: &'a str,
    version: String,
    runtime: modhost::Language,
    entry: String,
}

/// The JSON report; without a pack (one that could not be read), no order and no mods.
fn write_json(
    out: &mut impl Write,
    pack: Option<&Pack>,
    diagnostics: &[Diagnostic],
    ok: bool,
) -> std::io::Result<()> {
    let mods = pack.map_or(&[][..], |pack| &pack.mods);
    let report = JsonReport {
        ok,
        order: pack
            .map(|pack| pack.ordered().map(|entry| entry.id()).collect())
            .unwrap_or_default(),
        mods: mods
            .iter()
            .map(|entry| JsonMod {
                id: entry.id(),
                name: &entry.manifest.name,
                version: entry.manifest.version.to_string(),
                runtime: entry.language,
                entry: modhost::internal::paths::shown(&entry.entry),
            })
            .collect(),
        diagnostics: diagnostics.iter().map(JsonDiagnostic::from).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::shown_order;

    #[test]
    fn a_long_load_order_is_shown_by_its_start() {
        let ids: Vec<String> = (0..400).map(|index| format!("mod-{index:03}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let shown = shown_order(&ids);
        assert!(shown.starts_with("mod-000, mod-001"), "{shown}");
        assert!(
            shown.ends_with("mod-009, … and 390 more (`modhost list` shows them all)"),
            "{shown}"
        );
        assert_eq!(shown_order(&ids[..12]), ids[..12].join(", "));
    }
}
