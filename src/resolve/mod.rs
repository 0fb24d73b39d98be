//! Dependency resolution and load order: pure functions over validated manifests, no I/O.
//!
//! [`resolve`] checks every requirement between mods (presence, version ranges, conflicts, the
//! host version) and computes the deterministic load order of SPEC section 3: a topological
//! order in which, among the mods free to load next, the lowest `priority` goes first, then the
//! smallest id. When no order exists, every cycle is reported with the path that closes it.

mod cycles;
mod order;
#[cfg(test)]
mod properties;

use std::collections::{BTreeMap, HashMap};

use crate::manifest::Manifest;

pub(crate) use cycles::Cycle;
pub use order::Placement;

/// Why an id that a manifest refers to has no usable mod behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// `enabled = false` in `config.toml`.
    Disabled,
    /// The mod is in the pack but has errors of its own (manifest, entry point, duplicate id).
    Broken,
}

/// Why one mod must load before another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    Dependency,
    OptionalDependency,
    LoadAfter,
    LoadBefore,
}

impl EdgeKind {
    /// The manifest field that declares this kind of edge.
    pub fn field(self) -> &'static str {
        match self {
            EdgeKind::Dependency => "dependencies",
            EdgeKind::OptionalDependency => "optional_dependencies",
            EdgeKind::LoadAfter => "load_after",
            EdgeKind::LoadBefore => "load_before",
        }
    }
}

/// `before` must load before `after`, because `declared_by`'s manifest says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub before: usize,
    pub after: usize,
    pub kind: EdgeKind,
    /// The mod whose manifest holds the entry (`after`, except for `load_before`).
    pub declared_by: usize,
    /// Where in `declared_by`'s manifest.
    pub span: std::ops::Range<usize>,
}

/// A requirement that the pack does not meet. Indices point into the manifests given to
/// [`resolve`] and into their requirement lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    MissingDependency {
        dependent: usize,
        requirement: usize,
        absence: Option<Absence>,
    },
    VersionMismatch {
        dependent: usize,
        optional: bool,
        requirement: usize,
        found: usize,
    },
    Conflict {
        declared_by: usize,
        requirement: usize,
        found: usize,
    },
    HostVersionMismatch {
        mod_index: usize,
    },
    Cycle(Cycle),
}

/// The outcome of resolving a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Indices of the manifests, in load order. Mods on or behind a cycle are left out.
    pub order: Vec<usize>,
    /// Why each mod of `order` is where it is, by manifest index.
    pub placements: BTreeMap<usize, Placement>,
    /// Every ordering edge between mods present in the pack.
    pub edges: Vec<Edge>,
    pub problems: Vec<Problem>,
}

/// Resolves `manifests` (ids unique) against each other and the host API version.
///
/// `absent` names ids that are known but unusable, so that a missing dependency can say why.
pub fn resolve(
    manifests: &[Manifest],
    absent: &BTreeMap<String, Absence>,
    host_version: &semver::Version,
) -> Resolution {
    let index: HashMap<&str, usize> = manifests
        .iter()
        .enumerate()
        .map(|(position, manifest)| (manifest.id.as_str(), position))
        .collect();
    let mut problems = check_requirements(manifests, &index, absent, host_version);
    let edges = ordering_edges(manifests, &index);
    let ordered = order::order(manifests, &edges);
    problems.extend(
        cycles::find_cycles(manifests, &edges, &ordered.unplaced)
            .into_iter()
            .map(Problem::Cycle),
    );
    Resolution {
        order: ordered.order,
        placements: ordered.placements,
        edges,
        problems,
    }
}

fn check_requirements(
    manifests: &[Manifest],
    index: &HashMap<&str, usize>,
    absent: &BTreeMap<String, Absence>,
    host_version: &semver::Version,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (dependent, manifest) in manifests.iter().enumerate() {
        if let Some(host) = &manifest.host
            && !host.value.matches(host_version)
        {
            problems.push(Problem::HostVersionMismatch {
                mod_index: dependent,
            });
        }
        for (requirement, dependency) in manifest.dependencies.iter().enumerate() {
            match index.get(dependency.id.as_str()) {
                None => problems.push(Problem::MissingDependency {
                    dependent,
                    requirement,
                    absence: absent.get(&dependency.id).copied(),
                }),
                Some(&found) if !dependency.version.matches(&manifests[found].version) => {
                    problems.push(Problem::VersionMismatch {
                        dependent,
                        optional: false,
                        requirement,
                        found,
                    });
                }
                Some(_) => {}
            }
        }
        for (requirement, dependency) in manifest.optional_dependencies.iter().enumerate() {
            if let Some(&found) = index.get(dependency.id.as_str())
                && !dependency.version.matches(&manifests[found].version)
            {
                problems.push(Problem::VersionMismatch {
                    dependent,
                    optional: true,
                    requirement,
                    found,
                });
            }
        }
        for (requirement, conflict) in manifest.conflicts.iter().enumerate() {
            if let Some(&found) = index.get(conflict.id.as_str())
                && found != dependent
                && conflict.version.matches(&manifests[found].version)
            {
                problems.push(Problem::Conflict {
                    declared_by: dependent,
                    requirement,
                    found,
                });
            }
        }
    }
    problems
}

fn ordering_edges(manifests: &[Manifest], index: &HashMap<&str, usize>) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (position, manifest) in manifests.iter().enumerate() {
        let requirements = manifest
            .dependencies
            .iter()
            .map(|requirement| (EdgeKind::Dependency, &requirement.id, &requirement.span))
            .chain(manifest.optional_dependencies.iter().map(|requirement| {
                (
                    EdgeKind::OptionalDependency,
                    &requirement.id,
                    &requirement.span,
                )
            }))
            .chain(
                manifest
                    .load_after
                    .iter()
                    .map(|id| (EdgeKind::LoadAfter, &id.value, &id.span)),
            )
            .chain(
                manifest
                    .load_before
                    .iter()
                    .map(|id| (EdgeKind::LoadBefore, &id.value, &id.span)),
            );
        for (kind, id, span) in requirements {
            let Some(&other) = index.get(id.as_str()) else {
                continue;
            };
            let (before, after) = match kind {
                EdgeKind::LoadBefore => (position, other),
                _ => (other, position),
            };
            edges.push(Edge {
                before,
                after,
                kind,
                declared_by: position,
                span: span.clone(),
            });
        }
    }
    edges
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::manifest::{Requirement, Spanned};

    /// A manifest for tests: `deps` are `id@range` strings.
    pub(crate) fn manifest(id: &str, version: &str, priority: i64, deps: &[&str]) -> Manifest {
        Manifest {
            priority,
            dependencies: deps.iter().map(|dep| requirement(dep)).collect(),
            ..Manifest::new(id, semver::Version::parse(version).unwrap(), "main.js")
        }
    }

    pub(crate) fn requirement(text: &str) -> Requirement {
        let (id, range) = text.split_once('@').unwrap_or((text, "*"));
        Requirement {
            id: id.to_owned(),
            version: semver::VersionReq::parse(range).unwrap(),
            span: 0..0,
        }
    }

    pub(crate) fn ids(manifests: &[Manifest], order: &[usize]) -> Vec<String> {
        order
            .iter()
            .map(|&position| manifests[position].id.clone())
            .collect()
    }

    fn run(manifests: &[Manifest]) -> Resolution {
        resolve(manifests, &BTreeMap::new(), &semver::Version::new(0, 1, 0))
    }

    #[test]
    fn dependencies_beat_priority_and_priority_beats_ids() {
        let manifests = [
            manifest("ui", "1.0.0", -10, &["core@^1.2"]),
            manifest("core", "1.4.0", 100, &[]),
            manifest("b-low", "1.0.0", 10, &[]),
            manifest("a-tie", "1.0.0", 10, &[]),
        ];
        let resolution = run(&manifests);
        assert_eq!(
            ids(&manifests, &resolution.order),
            ["a-tie", "b-low", "core", "ui"]
        );
        assert!(resolution.problems.is_empty());
    }

    #[test]
    fn load_after_and_load_before_are_edges_only_when_present() {
        let mut late = manifest("late", "1.0.0", 0, &[]);
        late.load_before = vec![Spanned {
            value: "absent".to_owned(),
            span: 0..0,
        }];
        let mut early = manifest("early", "1.0.0", 5, &[]);
        early.load_before = vec![Spanned {
            value: "late".to_owned(),
            span: 0..0,
        }];
        let mut theme = manifest("a-theme", "1.0.0", 0, &[]);
        theme.load_after = vec![Spanned {
            value: "late".to_owned(),
            span: 0..0,
        }];
        let manifests = [late, early, theme];
        let resolution = run(&manifests);
        assert_eq!(
            ids(&manifests, &resolution.order),
            ["early", "late", "a-theme"]
        );
        assert!(resolution.problems.is_empty());
    }

    #[test]
    fn missing_and_mismatched_dependencies_are_problems_but_still_ordered() {
        let mut ui = manifest("ui", "1.0.0", 0, &["core@^2", "gone@*", "off@*"]);
        ui.optional_dependencies = vec![requirement("extra@>=0.3")];
        let manifests = [
            ui,
            manifest("core", "1.0.0", 0, &[]),
            manifest("extra", "0.2.0", 0, &[]),
        ];
        let absent = BTreeMap::from([("off".to_owned(), Absence::Disabled)]);
        let resolution = resolve(&manifests, &absent, &semver::Version::new(0, 1, 0));
        assert_eq!(
            resolution.problems,
            [
                Problem::VersionMismatch {
                    dependent: 0,
                    optional: false,
                    requirement: 0,
                    found: 1
                },
                Problem::MissingDependency {
                    dependent: 0,
                    requirement: 1,
                    absence: None
                },
                Problem::MissingDependency {
                    dependent: 0,
                    requirement: 2,
                    absence: Some(Absence::Disabled)
                },
                Problem::VersionMismatch {
                    dependent: 0,
                    optional: true,
                    requirement: 0,
                    found: 2
                },
            ]
        );
        assert_eq!(ids(&manifests, &resolution.order), ["core", "extra", "ui"]);
    }

    #[test]
    fn conflicts_match_on_version_and_the_host_version_is_checked() {
        let mut new = manifest("new-core", "2.0.0", 0, &[]);
        new.conflicts = vec![requirement("old-core@<1"), requirement("other@*")];
        new.host = Some(Spanned {
            value: semver::VersionReq::parse(">=0.2").unwrap(),
            span: 0..0,
        });
        let manifests = [
            new,
            manifest("old-core", "0.9.0", 0, &[]),
            manifest("other", "1.0.0-beta", 0, &[]),
        ];
        let resolution = run(&manifests);
        assert_eq!(
            resolution.problems,
            [
                Problem::HostVersionMismatch { mod_index: 0 },
                Problem::Conflict {
                    declared_by: 0,
                    requirement: 0,
                    found: 1
                },
                // `*` does not match a prerelease, as in Cargo.
            ]
        );
    }
}
