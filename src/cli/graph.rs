//! `modhost graph`: the dependency graph as text, Graphviz DOT or Mermaid.
//!
//! Arrows point from a mod to what it needs loaded first. Required dependencies are solid,
//! optional dependencies and ordering rules dashed.

use std::fmt::Write as _;
use std::io::Write;

use clap::{Args, ValueEnum};
use modhost::internal::resolve::{Edge, EdgeKind};
use modhost::{Config, Pack};

use super::{Exit, list, load_pack};

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// How to draw the graph (on stdout)
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    format: GraphFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    /// Each mod in load order with what it needs
    Text,
    /// Graphviz (`dot -Tsvg`)
    Dot,
    /// Mermaid, for Markdown pages
    Mermaid,
}

pub fn run(args: &GraphArgs, config: &Config) -> Exit {
    let pack = match load_pack(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    list::report_problems(&pack, false);
    let text = match args.format {
        GraphFormat::Text => text(&pack),
        GraphFormat::Dot => dot(&pack),
        GraphFormat::Mermaid => mermaid(&pack),
    };
    let written = anstream::stdout().lock().write_all(text.as_bytes());
    if written.is_err() || pack.error_count() > 0 {
        Exit::PackProblems
    } else {
        Exit::Success
    }
}

/// Every usable mod: the load order first, then those no order could place, by id.
fn mods_in_order(pack: &Pack) -> Vec<usize> {
    let mut indices = pack.resolution.order.clone();
    let mut unplaced: Vec<usize> = (0..pack.mods.len())
        .filter(|index| !pack.resolution.placements.contains_key(index))
        .collect();
    unplaced.sort_by_key(|&index| pack.mods[index].id());
    indices.extend(unplaced);
    indices
}

/// The edges from a mod to the mods it needs first.
fn needs(pack: &Pack, index: usize) -> impl Iterator<Item = &Edge> {
    pack.resolution
        .edges
        .iter()
        .filter(move |edge| edge.after == index)
}

/// `^1.2` for dependencies, the field name for ordering rules.
fn label(pack: &Pack, edge: &Edge) -> String {
    let manifest = &pack.mods[edge.declared_by].manifest;
    let target = pack.mods[edge.before].id();
    let requirement = |list: &[modhost::internal::manifest::Requirement]| {
        list.iter()
            .find(|requirement| requirement.id == target)
            .map(|requirement| requirement.version.to_string())
    };
    match edge.kind {
        EdgeKind::Dependency => requirement(&manifest.dependencies),
        EdgeKind::OptionalDependency => requirement(&manifest.optional_dependencies)
            .map(|version| format!("optional {version}")),
        EdgeKind::LoadAfter | EdgeKind::LoadBefore => None,
    }
    .unwrap_or_else(|| edge.kind.field().to_owned())
}

fn text(pack: &Pack) -> String {
    let mut out = String::new();
    for index in mods_in_order(pack) {
        let entry = &pack.mods[index];
        let _ = writeln!(out, "{} {}", entry.id(), entry.manifest.version);
        for edge in needs(pack, index) {
            let _ = writeln!(
                out,
                "  -> {} ({})",
                pack.mods[edge.before].id(),
                label(pack, edge)
            );
        }
    }
    out
}

fn dot(pack: &Pack) -> String {
    let quote = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph mods {\n  rankdir=LR;\n  node [shape=box];\n");
    for index in mods_in_order(pack) {
        let entry = &pack.mods[index];
        let _ = writeln!(
            out,
            "  {} [label={}];",
            quote(entry.id()),
            quote(&format!(
                "{}\\n{} ({})",
                entry.id(),
                entry.manifest.version,
                entry.language
            ))
            .replace("\\\\n", "\\n")
        );
    }
    for index in mods_in_order(pack) {
        for edge in needs(pack, index) {
            let style = if edge.kind == EdgeKind::Dependency {
                ""
            } else {
                ", style=dashed"
            };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}{style}];",
                quote(pack.mods[edge.after].id()),
                quote(pack.mods[edge.before].id()),
                quote(&label(pack, edge))
            );
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(pack: &Pack) -> String {
    // Mermaid ids cannot hold every character of a mod id; number the nodes instead.
    let mut out = String::from("graph LR\n");
    let order = mods_in_order(pack);
    for index in &order {
        let entry = &pack.mods[*index];
        let _ = writeln!(
            out,
            "  m{index}[\"{} {}\"]",
            entry.id(),
            entry.manifest.version
        );
    }
    for index in order {
        for edge in needs(pack, index) {
            let arrow = if edge.kind == EdgeKind::Dependency {
                "-->"
            } else {
                "-.->"
            };
            let _ = writeln!(
                out,
                "  m{} {arrow}|\"{}\"| m{}",
                edge.after,
                label(pack, edge),
                edge.before
            );
        }
    }
    out
}
