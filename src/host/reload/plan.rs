//! What a reload will do, decided before anything is touched: which mods keep their old
//! version (their change has errors), restart (changed, configured anew, new, or depending on
//! one of those or on a mod that goes), are only told of new settings, or go. Pure: it reads
//! the new pack and a view of the running mods, and is tested without engines.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::pack::{ModEntry, Pack, host_api_version};
use crate::resolve::{self, Resolution};

/// A mod of the running host, as the plan needs to see it.
pub(super) struct RunningMod<'a> {
    pub entry: &'a ModEntry,
    /// Attached and not failed: it can be told of new settings.
    pub running: bool,
}

/// What a reload does.
pub(super) struct Plan {
    /// The mods as they will be: the new pack, with the old version of a mod whose change has
    /// errors.
    pub entries: Vec<ModEntry>,
    /// Their new load order.
    pub resolution: Resolution,
    /// Mods whose change has errors: their old version keeps running.
    pub kept: Vec<String>,
    /// Mods detached and started anew.
    pub restart: BTreeSet<String>,
    /// Running mods whose only change is their settings: told, not restarted.
    pub reconfigure: BTreeSet<String>,
    /// Mods that go (their folder is gone, or they were disabled).
    pub removed: BTreeSet<String>,
    /// The changed folders' problems, warnings included (a misspelled manifest field).
    pub diagnostics: Vec<Diagnostic>,
}

impl Plan {
    /// Plans taking `pack` (the mods directory as it is now, its changed folders' syntax
    /// checked) where `running` (in the old load order) is. `changed` are the mod folders whose
    /// files changed; `same_limits(id)` whether a mod's limits are as they were;
    /// `keep_overrides` puts the settings changed while the host runs into the new entries.
    pub(super) fn new(
        pack: &Pack,
        changed: &BTreeSet<PathBuf>,
        running: &[RunningMod<'_>],
        same_limits: impl Fn(&str) -> bool,
        keep_overrides: impl FnOnce(&mut [ModEntry]),
    ) -> Plan {
        let mut diagnostics = Vec::new();
        let broken = broken_changes(pack, changed, &mut diagnostics);
        let (mut entries, kept) = entries_to_run(pack, running, &broken);
        keep_overrides(&mut entries);
        let manifests: Vec<_> = entries.iter().map(|entry| entry.manifest.clone()).collect();
        let resolution = resolve::resolve(&manifests, &BTreeMap::new(), &host_api_version());

        // The mods running now by id: every lookup below is one, even in a pack of 10,000.
        let existing: HashMap<&str, &RunningMod> =
            running.iter().map(|old| (old.entry.id(), old)).collect();
        let folder_changed =
            |entry: &ModEntry| changed.contains(&entry.dir) && !broken.contains(&entry.dir);
        let reconfigure: BTreeSet<String> = entries
            .iter()
            .filter(|entry| {
                existing.get(entry.id()).is_some_and(|old| {
                    old.running
                        && !folder_changed(entry)
                        && same_limits(entry.id())
                        && old.entry.settings != entry.settings
                })
            })
            .map(|entry| entry.id().to_owned())
            .collect();
        let changed_here = |entry: &ModEntry| match existing.get(entry.id()) {
            None => true,
            Some(old) => {
                let configured_anew =
                    old.entry.settings != entry.settings || !same_limits(entry.id());
                folder_changed(entry) || (configured_anew && !reconfigure.contains(entry.id()))
            }
        };
        let staying: BTreeSet<&str> = entries.iter().map(ModEntry::id).collect();
        let removed: BTreeSet<String> = running
            .iter()
            .map(|old| old.entry.id())
            .filter(|id| !staying.contains(id))
            .map(str::to_owned)
            .collect();
        let restart = with_dependents(&entries, changed_here, &removed);
        Plan {
            entries,
            resolution,
            kept,
            restart,
            reconfigure,
            removed,
            diagnostics,
        }
    }
}

/// The changed folders whose new state has errors (in the folder, or of the mod in it). Their
/// problems, warnings included, are added to `diagnostics`.
fn broken_changes(
    pack: &Pack,
    changed: &BTreeSet<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeSet<PathBuf> {
    let mut broken = BTreeSet::new();
    for dir in changed {
        let id = pack
            .mods
            .iter()
            .find(|entry| &entry.dir == dir)
            .map(|entry| entry.id().to_owned());
        let in_folder = |diagnostic: &Diagnostic| {
            diagnostic
                .location
                .as_ref()
                .is_some_and(|location| location.file.starts_with(dir))
        };
        let problems: Vec<&Diagnostic> = pack
            .diagnostics
            .iter()
            .filter(|d| in_folder(d) || (id.is_some() && d.mod_id == id))
            .collect();
        if problems.iter().any(|problem| problem.is_error()) {
            broken.insert(dir.clone());
        }
        diagnostics.extend(problems.into_iter().cloned());
    }
    broken
}

/// The mods as they will be: the new pack, except that a broken change keeps the old version
/// of its mod; and the ids so kept, in the old load order.
fn entries_to_run(
    pack: &Pack,
    running: &[RunningMod<'_>],
    broken: &BTreeSet<PathBuf>,
) -> (Vec<ModEntry>, Vec<String>) {
    let mut entries: Vec<ModEntry> = pack
        .mods
        .iter()
        .filter(|entry| !broken.contains(&entry.dir))
        .cloned()
        .collect();
    let mut kept = Vec::new();
    for old in running {
        if broken.contains(&old.entry.dir) {
            kept.push(old.entry.id().to_owned());
            if !entries.iter().any(|entry| entry.id() == old.entry.id()) {
                entries.push(old.entry.clone());
            }
        }
    }
    (entries, kept)
}

/// The ids of the mods to restart: those `changed` selects, and every mod that depends
/// (required or optionally) on one of them or on a mod that is `gone`, transitively.
fn with_dependents(
    entries: &[ModEntry],
    changed: impl Fn(&ModEntry) -> bool,
    gone: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut restart: BTreeSet<String> = entries
        .iter()
        .filter(|entry| changed(entry))
        .map(|entry| entry.id().to_owned())
        .collect();
    loop {
        let before = restart.len();
        for entry in entries {
            let depends = entry
                .manifest
                .dependencies
                .iter()
                .chain(&entry.manifest.optional_dependencies)
                .any(|dependency| {
                    restart.contains(&dependency.id) || gone.contains(&dependency.id)
                });
            if depends {
                restart.insert(entry.id().to_owned());
            }
        }
        if restart.len() == before {
            return restart;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};
    use std::path::Path;

    /// A mods folder of JavaScript mods: `(id, what it requires, its settings' greeting)`.
    fn write(mods: &Path, id: &str, requires: &[&str], greeting: &str) {
        let dir = mods.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let dependencies: serde_json::Map<_, _> = requires
            .iter()
            .map(|id| (id.to_string(), serde_json::json!("*")))
            .collect();
        let manifest = serde_json::json!({
            "name": id, "version": "1.0.0", "entry_point": "main.js",
            "dependencies": dependencies, "settings": { "greeting": greeting },
        });
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
        std::fs::write(dir.join("main.js"), "function onAttach() {}\n").unwrap();
    }

    fn load(mods: &Path) -> Pack {
        let config = Config::load(&Overrides {
            mods_dir: Some(mods.to_path_buf()),
            ..Overrides::default()
        })
        .unwrap();
        let mut pack = Pack::load(&config).unwrap();
        pack.check_syntax();
        pack
    }

    /// Plans the pack in `mods` now against `old`, all running, with `changed` folders.
    fn plan(mods: &Path, old: &Pack, changed: &[&str], running: bool) -> Plan {
        let view: Vec<RunningMod> = old
            .mods
            .iter()
            .map(|entry| RunningMod { entry, running })
            .collect();
        let changed = changed.iter().map(|id| old_dir(old, id, mods)).collect();
        Plan::new(&load(mods), &changed, &view, |_| true, |_| {})
    }

    fn old_dir(old: &Pack, id: &str, mods: &Path) -> PathBuf {
        old.mods
            .iter()
            .find(|entry| entry.id() == id)
            .map_or_else(|| mods.join(id), |entry| entry.dir.clone())
    }

    fn ids(set: &BTreeSet<String>) -> Vec<&str> {
        set.iter().map(String::as_str).collect()
    }

    /// `core` ← `ui` ← `hud`, and `other` on its own.
    fn pack() -> (tempfile::TempDir, Pack) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "core", &[], "hi");
        write(dir.path(), "ui", &["core"], "hi");
        write(dir.path(), "hud", &["ui"], "hi");
        write(dir.path(), "other", &[], "hi");
        let old = load(dir.path());
        (dir, old)
    }

    #[test]
    fn a_changed_mod_restarts_with_what_depends_on_it_and_nothing_else() {
        let (dir, old) = pack();
        std::fs::write(dir.path().join("core/main.js"), "function onAttach() { }\n").unwrap();
        let plan = plan(dir.path(), &old, &["core"], true);
        assert_eq!(ids(&plan.restart), ["core", "hud", "ui"]);
        assert!(plan.kept.is_empty() && plan.removed.is_empty() && plan.reconfigure.is_empty());
    }

    #[test]
    fn a_change_with_errors_keeps_the_old_version_and_says_why() {
        let (dir, old) = pack();
        std::fs::write(dir.path().join("ui/main.js"), "function onAttach( {\n").unwrap();
        let plan = plan(dir.path(), &old, &["ui"], true);
        assert_eq!(plan.kept, ["ui"]);
        assert!(plan.restart.is_empty(), "{:?}", plan.restart);
        assert!(plan.diagnostics.iter().any(Diagnostic::is_error));
        let ui = plan
            .entries
            .iter()
            .find(|entry| entry.id() == "ui")
            .unwrap();
        assert_eq!(ui.entry, old_dir(&old, "ui", dir.path()).join("main.js"));
    }

    #[test]
    fn new_settings_are_told_to_a_running_mod_and_restart_one_that_is_not() {
        let (dir, old) = pack();
        write(dir.path(), "other", &[], "hello");
        let told = plan(dir.path(), &old, &[], true);
        assert_eq!(ids(&told.reconfigure), ["other"]);
        assert!(told.restart.is_empty());
        let restarted = plan(dir.path(), &old, &[], false);
        assert!(restarted.reconfigure.is_empty());
        assert_eq!(ids(&restarted.restart), ["other"]);
    }

    #[test]
    fn a_mod_that_goes_restarts_what_depends_on_it_and_a_new_one_starts() {
        let (dir, old) = pack();
        std::fs::remove_dir_all(dir.path().join("ui")).unwrap();
        write(dir.path(), "extra", &[], "hi");
        let plan = plan(dir.path(), &old, &["ui", "extra"], true);
        assert_eq!(ids(&plan.removed), ["ui"]);
        assert_eq!(ids(&plan.restart), ["extra", "hud"]);
    }

    #[test]
    fn changed_limits_restart_a_mod_even_when_its_settings_changed_too() {
        let (dir, old) = pack();
        write(dir.path(), "other", &[], "hello");
        let view: Vec<RunningMod> = old
            .mods
            .iter()
            .map(|entry| RunningMod {
                entry,
                running: true,
            })
            .collect();
        let plan = Plan::new(
            &load(dir.path()),
            &BTreeSet::new(),
            &view,
            |id| id != "other",
            |_| {},
        );
        assert!(plan.reconfigure.is_empty());
        assert_eq!(ids(&plan.restart), ["other"]);
    }
}
