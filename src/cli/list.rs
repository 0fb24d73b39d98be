//! `modhost list`: the load order, and with `--explain` what placed each mod there.

use std::io::Write;

use clap::{Args, ValueEnum};
use modhost::internal::resolve::{EdgeKind, Placement};
use modhost::{Config, ModEntry, Pack};
use serde::Serialize;

use super::{Exit, load_pack, render, table};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// How to print the load order (on stdout)
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// Say for each mod what placed it there: a dependency, an ordering rule, or its priority
    #[arg(long)]
    explain: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ListFormat {
    /// Aligned columns: id, version, runtime, priority, dependencies
    Table,
    /// One array of objects, in load order, for scripts
    Json,
}

pub fn run(args: &ListArgs, config: &Config) -> Exit {
    let pack = match load_pack(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    report_problems(&pack, false);
    let mut stdout = anstream::stdout().lock();
    let written = match args.format {
        ListFormat::Table => write_table(&mut stdout, &pack, args.explain),
        ListFormat::Json => write_json(&mut stdout, &pack, args.explain),
    };
    if written.is_err() || pack.error_count() > 0 {
        Exit::PackProblems
    } else {
        Exit::Success
    }
}

/// Errors go to stderr so that stdout stays the list; a summary points at `modhost check`.
/// Prints the pack's errors (and its warnings with `warnings`) on stderr, for commands that
/// go on with the usable mods.
pub(super) fn report_problems(pack: &Pack, warnings: bool) {
    let shown: Vec<_> = pack
        .diagnostics
        .iter()
        .filter(|d| warnings || d.is_error())
        .collect();
    if shown.is_empty() {
        return;
    }
    for diagnostic in &shown {
        render::report(diagnostic, &pack.sources);
    }
    let errors = shown.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        render::report_line(&format!(
            "the pack has {}; mods with errors are left out{}",
            render::count(errors, "error"),
            if warnings {
                ""
            } else {
                " (run `modhost check` for warnings too)"
            }
        ));
    }
}

fn write_table(out: &mut impl Write, pack: &Pack, explain: bool) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = pack
        .ordered()
        .zip(&pack.resolution.order)
        .enumerate()
        .map(|(position, (entry, &index))| {
            let mut row = vec![
                (position + 1).to_string(),
                entry.id().to_owned(),
                entry.manifest.version.to_string(),
                entry.language.to_string(),
                entry.manifest.priority.to_string(),
            ];
            if explain {
                row.push(explanation(pack, index));
            }
            row
        })
        .collect();
    let mut header = vec!["#", "id", "version", "runtime", "priority"];
    if explain {
        header.push("placed by");
    }
    writeln!(out, "{}", table::render(&header, &rows, &[0]))
}

/// One line on what decided a mod's place.
fn explanation(pack: &Pack, index: usize) -> String {
    let placement = &pack.resolution.placements[&index];
    let entry = &pack.mods[index];
    let after = prerequisites(pack, placement);
    let released_right_away = placement.free_from == placement.position;
    match placement.released_by {
        Some(edge) if released_right_away => {
            let edge = &pack.resolution.edges[edge];
            format!(
                "right after `{}`, which it {}",
                pack.mods[edge.before].id(),
                relation(edge.kind)
            )
        }
        Some(_) => format!(
            "after {}, then priority {}",
            after.join(", "),
            entry.manifest.priority
        ),
        None => format!("priority {} (no prerequisites)", entry.manifest.priority),
    }
}

fn relation(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Dependency => "depends on",
        EdgeKind::OptionalDependency => "optionally depends on",
        EdgeKind::LoadAfter => "loads after",
        EdgeKind::LoadBefore => "must precede (its `load_before`)",
    }
}

/// `` `core` (dependencies) ``, one per prerequisite.
fn prerequisites(pack: &Pack, placement: &Placement) -> Vec<String> {
    placement
        .prerequisites
        .iter()
        .map(|&edge| {
            let edge = &pack.resolution.edges[edge];
            format!("`{}` ({})", pack.mods[edge.before].id(), edge.kind.field())
        })
        .collect()
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    id: &'a str,
    version: String,
    runtime: modhost::Language,
    priority: i64,
    dependencies: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    placed_by: Option<String>,
}

fn write_json(out: &mut impl Write, pack: &Pack, explain: bool) -> std::io::Result<()> {
    let entries: Vec<JsonEntry> = pack
        .resolution
        .order
        .iter()
        .map(|&index| {
            let entry: &ModEntry = &pack.mods[index];
            JsonEntry {
                id: entry.id(),
                version: entry.manifest.version.to_string(),
                runtime: entry.language,
                priority: entry.manifest.priority,
                dependencies: entry
                    .manifest
                    .dependencies
                    .iter()
                    .map(|dependency| dependency.id.as_str())
                    .collect(),
                placed_by: explain.then(|| explanation(pack, index)),
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &entries)?;
    writeln!(out)
}
