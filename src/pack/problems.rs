//! Resolution problems turned into diagnostics that point into the manifests at fault.

use super::ModEntry;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{Absence, Cycle, Edge, EdgeKind, Problem};

/// A diagnostic for the second of two mods that claim the same id.
pub(super) fn duplicate_id(duplicate: &ModEntry, first: &ModEntry) -> Diagnostic {
    let span = duplicate.manifest.id_span.clone().unwrap_or(0..0);
    Diagnostic::new(
        Code::DuplicateId,
        format!(
            "`{}` and `{}` both have the id `{}`; only the first is loaded",
            crate::paths::shown(&first.dir),
            crate::paths::shown(&duplicate.dir),
            duplicate.id()
        ),
    )
    .in_mod(duplicate.id())
    .at(duplicate.manifest_file.locate(span))
    .hint("give one of them another `id`")
}

/// A resolution problem as a diagnostic pointing into the manifest at fault.
pub(crate) fn describe(problem: &Problem, mods: &[ModEntry], edges: &[Edge]) -> Diagnostic {
    match problem {
        Problem::MissingDependency {
            dependent,
            requirement,
            absence,
        } => {
            let entry = &mods[*dependent];
            let dependency = &entry.manifest.dependencies[*requirement];
            let (why, hint) = match absence {
                None => (
                    "which is not in the pack".to_owned(),
                    crate::suggest::did_you_mean(&dependency.id, mods.iter().map(ModEntry::id))
                        .unwrap_or_else(|| {
                            format!(
                                "add `{}` to the mods directory, or remove it from `dependencies`",
                                dependency.id
                            )
                        }),
                ),
                Some(Absence::Disabled) => (
                    "which is disabled in `config.toml`".to_owned(),
                    format!(
                        "enable `{}`, or remove it from `dependencies`",
                        dependency.id
                    ),
                ),
                Some(Absence::Broken) => (
                    "which cannot be loaded because of its own errors".to_owned(),
                    format!("fix the errors reported for `{}`", dependency.id),
                ),
            };
            Diagnostic::new(
                Code::MissingDependency,
                format!(
                    "`{}` requires `{} {}`, {why}",
                    entry.id(),
                    dependency.id,
                    dependency.version
                ),
            )
            .in_mod(entry.id())
            .at(entry.manifest_file.locate(dependency.span.clone()))
            .hint(hint)
        }
        Problem::VersionMismatch {
            dependent,
            optional,
            requirement,
            found,
        } => {
            let entry = &mods[*dependent];
            let list = if *optional {
                &entry.manifest.optional_dependencies
            } else {
                &entry.manifest.dependencies
            };
            let dependency = &list[*requirement];
            let found = &mods[*found].manifest;
            let verb = if *optional { "works with" } else { "requires" };
            Diagnostic::new(
                Code::VersionMismatch,
                format!(
                    "`{}` {verb} `{} {}`, but the pack has `{} {}`",
                    entry.id(),
                    dependency.id,
                    dependency.version,
                    found.id,
                    found.version
                ),
            )
            .in_mod(entry.id())
            .at(entry.manifest_file.locate(dependency.span.clone()))
            .hint(format!(
                "use a version of `{}` that matches `{}`, or change the requirement",
                dependency.id, dependency.version
            ))
        }
        Problem::Conflict {
            declared_by,
            requirement,
            found,
        } => {
            let entry = &mods[*declared_by];
            let conflict = &entry.manifest.conflicts[*requirement];
            let found = &mods[*found].manifest;
            Diagnostic::new(
                Code::Conflict,
                format!(
                    "`{}` conflicts with `{} {}`, and the pack has `{} {}`",
                    entry.id(),
                    conflict.id,
                    conflict.version,
                    found.id,
                    found.version
                ),
            )
            .in_mod(entry.id())
            .at(entry.manifest_file.locate(conflict.span.clone()))
            .hint(format!(
                "remove or disable one of `{}` and `{}`",
                entry.id(),
                found.id
            ))
        }
        Problem::HostVersionMismatch { mod_index } => {
            let entry = &mods[*mod_index];
            let host = entry
                .manifest
                .host
                .as_ref()
                .expect("a host mismatch needs a host requirement");
            Diagnostic::new(
                Code::HostVersionMismatch,
                format!(
                    "`{}` needs modhost `{}`, but this is modhost {}",
                    entry.id(),
                    host.value,
                    super::host_api_version()
                ),
            )
            .in_mod(entry.id())
            .at(entry.manifest_file.locate(host.span.clone()))
            .hint("use a version of the mod made for this modhost, or another modhost")
        }
        Problem::Cycle(cycle) => describe_cycle(cycle, mods, edges),
    }
}

fn describe_cycle(cycle: &Cycle, mods: &[ModEntry], edges: &[Edge]) -> Diagnostic {
    let id = |index: usize| mods[index].id();
    let names: Vec<String> = cycle
        .mods(edges)
        .chain(cycle.mods(edges).take(1))
        .map(|index| format!("`{}`", id(index)))
        .collect();
    let steps: Vec<String> = cycle
        .path
        .iter()
        .map(|&edge_index| {
            let edge = &edges[edge_index];
            let (after, before) = (id(edge.after), id(edge.before));
            let declared = &mods[edge.declared_by];
            let (line, _) = declared.manifest_file.line_column(edge.span.start);
            let reason = match edge.kind {
                EdgeKind::Dependency => format!("`{after}` depends on `{before}`"),
                EdgeKind::OptionalDependency => {
                    format!("`{after}` optionally depends on `{before}`")
                }
                EdgeKind::LoadAfter => format!("`{after}` loads after `{before}`"),
                EdgeKind::LoadBefore => format!("`{before}` loads before `{after}`"),
            };
            format!(
                "{reason}: `{}` in `{}:{line}`",
                edge.kind.field(),
                crate::paths::shown(declared.manifest_file.path())
            )
        })
        .collect();
    let mut message = format!("dependency cycle: {}", names.join(" -> "));
    let listed = |indices: &[usize]| {
        indices
            .iter()
            .map(|&index| format!("`{}`", id(index)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !cycle.entangled.is_empty() {
        message.push_str(&format!(
            "; also caught in it: {}",
            listed(&cycle.entangled)
        ));
    }
    if !cycle.stuck_behind.is_empty() {
        message.push_str(&format!(
            "; cannot load until it is broken: {}",
            listed(&cycle.stuck_behind)
        ));
    }
    let first = &edges[cycle.path[0]];
    let declared = &mods[first.declared_by];
    let mut diagnostic = Diagnostic::new(Code::DependencyCycle, message)
        .in_mod(declared.id())
        .at(declared.manifest_file.locate(first.span.clone()))
        .hint("remove one of these entries to break the cycle");
    diagnostic.notes = steps;
    diagnostic
}
