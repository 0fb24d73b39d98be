//! Hot reload: applying a changed mods directory (or configuration) to a running host.
//!
//! A changed mod is checked before anything is touched. If its manifest, scripts or
//! resolution have errors, the old version keeps running untouched and the errors are
//! reported. Otherwise the mod and every mod that depends on it are detached (in reverse load
//! order, keeping what each `onDetach` returned), their new code is loaded, and each runs
//! `onAttach`, `onReload(state)` and `onBootstrap`, in load order. A new mod folder loads; a
//! deleted one detaches, and the mods that require it are blocked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{Core, Host, ModState, Slot};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::pack::{ModEntry, Pack, host_api_version};
use crate::resolve::{self, Absence};
use crate::runtime::Json;
use crate::source::SourceFile;

/// What happened to one mod in a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reloaded {
    /// New code is running.
    Reloaded,
    /// A new mod folder was loaded.
    Added,
    /// The mod's folder is gone (or the mod was disabled); it was detached.
    Removed,
    /// The new version (or the mod it depends on) could not start.
    Failed(String),
    /// The change has errors; the old version keeps running.
    Kept,
}

/// The outcome of one [`Host::reload`].
#[derive(Debug, Default)]
pub struct ReloadReport {
    /// What happened to each mod that the change touched, in load order.
    pub mods: Vec<(String, Reloaded)>,
    /// Why changed mods were kept: the errors, with the files they quote.
    pub diagnostics: Vec<Diagnostic>,
    pub sources: BTreeMap<PathBuf, SourceFile>,
    pub took: Duration,
}

impl ReloadReport {
    pub fn is_empty(&self) -> bool {
        self.mods.is_empty() && self.diagnostics.is_empty()
    }
}

/// The slots for the usable mods of a pack in load order, reusing existing ones by id, and
/// the first error of each mod.
pub(super) fn slots_for(
    pack: Pack,
    existing: &HashMap<String, Rc<Slot>>,
) -> (Vec<Rc<Slot>>, HashMap<String, String>) {
    let mut errors: HashMap<String, String> = HashMap::new();
    for diagnostic in pack.diagnostics.iter().filter(|d| d.is_error()) {
        if let Some(id) = &diagnostic.mod_id {
            errors
                .entry(id.clone())
                .or_insert_with(|| diagnostic.message.clone());
        }
    }
    let Pack {
        mods, resolution, ..
    } = pack;
    let mut mods: Vec<Option<ModEntry>> = mods.into_iter().map(Some).collect();
    let slots = resolution
        .order
        .iter()
        .enumerate()
        .filter_map(|(position, &index)| {
            let entry = mods[index].take()?;
            Some(match existing.get(entry.id()) {
                Some(slot) => {
                    slot.position.set(position);
                    Rc::clone(slot)
                }
                None => Slot::new(entry, position),
            })
        })
        .collect();
    (slots, errors)
}

impl Core {
    pub(super) fn install(&self, slots: Vec<Rc<Slot>>, pack_errors: HashMap<String, String>) {
        *self.index.borrow_mut() = slots
            .iter()
            .map(|slot| (slot.id.clone(), Rc::clone(slot)))
            .collect();
        *self.slots.borrow_mut() = slots;
        *self.pack_errors.borrow_mut() = pack_errors;
    }
}

impl Host {
    /// Applies a new state of the mods directory. `pack` is the directory as it is now (with
    /// [`Pack::check_syntax`] done), `config` the configuration as it is now, and `changed` the
    /// mod folders whose files changed. Mods whose settings or limits changed in `config` are
    /// reloaded too.
    pub fn reload(&self, pack: Pack, config: Config, changed: &BTreeSet<PathBuf>) -> ReloadReport {
        let started = Instant::now();
        let core = &self.core;
        let mut report = ReloadReport::default();
        let old_slots = core.slots.borrow().clone();
        let old_by_dir: HashMap<PathBuf, Rc<Slot>> = old_slots
            .iter()
            .map(|slot| (slot.entry.borrow().dir.clone(), Rc::clone(slot)))
            .collect();

        // Which changed folders hold broken changes: their errors are reported, and their old
        // version (if any) stays as it is.
        let in_folder = |diagnostic: &Diagnostic, dir: &Path| {
            diagnostic
                .location
                .as_ref()
                .is_some_and(|location| location.file.starts_with(dir))
        };
        let new_by_dir: HashMap<PathBuf, &ModEntry> = pack
            .mods
            .iter()
            .map(|entry| (entry.dir.clone(), entry))
            .collect();
        let mut broken: BTreeSet<PathBuf> = BTreeSet::new();
        for dir in changed {
            let id = new_by_dir.get(dir).map(|entry| entry.id().to_owned());
            let errors: Vec<&Diagnostic> = pack
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .filter(|d| in_folder(d, dir) || (id.is_some() && d.mod_id == id))
                .collect();
            if !errors.is_empty() {
                broken.insert(dir.clone());
                report.diagnostics.extend(errors.into_iter().cloned());
            }
        }
        report.sources = pack.sources.clone();

        // The mods as they will be: the new pack, except that a broken change keeps the old
        // version of its mod.
        let mut entries: Vec<ModEntry> = pack
            .mods
            .iter()
            .filter(|entry| !broken.contains(&entry.dir))
            .cloned()
            .collect();
        for dir in &broken {
            if let Some(slot) = old_by_dir.get(dir) {
                report.mods.push((slot.id.clone(), Reloaded::Kept));
                if !entries.iter().any(|entry| entry.id() == slot.id) {
                    entries.push(slot.entry.borrow().clone());
                }
            }
        }
        let manifests: Vec<_> = entries.iter().map(|entry| entry.manifest.clone()).collect();
        let resolution = resolve::resolve(
            &manifests,
            &BTreeMap::<String, Absence>::new(),
            &host_api_version(),
        );
        let kept_errors: HashMap<String, String> = core
            .pack_errors
            .borrow()
            .iter()
            .filter(|(id, _)| {
                old_slots
                    .iter()
                    .any(|slot| &slot.id == *id && broken.contains(&slot.entry.borrow().dir))
            })
            .map(|(id, error)| (id.clone(), error.clone()))
            .collect();

        // What must restart: changed mods, mods whose configuration changed, everything that
        // depends on them, and mods that were blocked or failed (their cause may be gone).
        let old_config = core.config.replace(config);
        let new_config = core.config.borrow().clone();
        let mut restart: BTreeSet<String> = BTreeSet::new();
        for entry in &entries {
            let dir_changed = changed.contains(&entry.dir) && !broken.contains(&entry.dir);
            let old = old_slots.iter().find(|slot| slot.id == entry.id());
            let configuration_changed = old.is_some_and(|slot| {
                slot.entry.borrow().settings != entry.settings
                    || old_config.limits_for(&slot.id) != new_config.limits_for(&slot.id)
            });
            let stopped = old.is_some_and(|slot| !slot.state.borrow().is_running());
            if dir_changed || configuration_changed || stopped || old.is_none() {
                restart.insert(entry.id().to_owned());
            }
        }
        let removed: Vec<Rc<Slot>> = old_slots
            .iter()
            .filter(|slot| !entries.iter().any(|entry| entry.id() == slot.id))
            .cloned()
            .collect();
        let gone: BTreeSet<String> = removed.iter().map(|slot| slot.id.clone()).collect();
        loop {
            let before = restart.len();
            for entry in &entries {
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
                break;
            }
        }

        // Detach what restarts or goes, in reverse of the old load order.
        let mut states: HashMap<String, Json> = HashMap::new();
        for slot in old_slots.iter().rev() {
            let leaving = restart.contains(&slot.id) || gone.contains(&slot.id);
            if leaving
                && slot.state.borrow().is_running()
                && let Some(state) = core.detach(slot)
            {
                states.insert(slot.id.clone(), state);
            }
        }
        for slot in &removed {
            core.unload(slot, ModState::Detached);
            report.mods.push((slot.id.clone(), Reloaded::Removed));
        }

        // The new mod table, in the new load order.
        let existing: HashMap<String, Rc<Slot>> = old_slots
            .iter()
            .map(|slot| (slot.id.clone(), Rc::clone(slot)))
            .collect();
        let mut slots = Vec::new();
        for (position, &index) in resolution.order.iter().enumerate() {
            let entry = &entries[index];
            let slot = match existing.get(entry.id()) {
                Some(slot) => {
                    if restart.contains(&slot.id) {
                        *slot.entry.borrow_mut() = entry.clone();
                    }
                    Rc::clone(slot)
                }
                None => Slot::new(entry.clone(), position),
            };
            slot.position.set(position);
            slots.push(slot);
        }
        let mut pack_errors = kept_errors;
        for problem in &resolution.problems {
            let diagnostic = crate::pack::problems::describe(problem, &entries, &resolution.edges);
            if let Some(id) = diagnostic.mod_id {
                pack_errors.entry(id).or_insert(diagnostic.message);
            }
        }
        core.install(slots.clone(), pack_errors);

        let restarting: Vec<Rc<Slot>> = slots
            .iter()
            .filter(|slot| restart.contains(&slot.id))
            .cloned()
            .collect();
        core.start_with(&restarting, &states);
        for slot in &restarting {
            let outcome = match &*slot.state.borrow() {
                ModState::Active => {
                    if existing.contains_key(&slot.id) {
                        Reloaded::Reloaded
                    } else {
                        Reloaded::Added
                    }
                }
                other => Reloaded::Failed(other.to_string()),
            };
            report.mods.push((slot.id.clone(), outcome));
        }
        report.mods.sort_by_key(|(id, _)| {
            slots
                .iter()
                .position(|slot| &slot.id == id)
                .unwrap_or(usize::MAX)
        });
        report.took = started.elapsed();
        report
    }
}
