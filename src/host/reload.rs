//! Hot reload: applying a changed mods directory (or configuration) to a running host.
//!
//! A changed mod is checked before anything is touched. If its manifest, scripts or
//! resolution have errors, the old version keeps running untouched and the errors are
//! reported. Otherwise the mod and every mod that depends on it are detached (in reverse load
//! order, keeping what each `onDetach` returned), their new code is loaded, and each runs
//! `onAttach`, `onReload(state)` and `onBootstrap`, in load order. A new mod folder loads; a
//! deleted one detaches, and the mods that require it are blocked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{Core, Host, InCall, ModIndex, ModState, Slot};
use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::pack::{ModEntry, Pack, PackError, host_api_version};
use crate::recording::{Input, ModIdentity};
use crate::resolve;
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
    /// Only its settings changed (`config.toml`): it was told, through `onSettingsChanged`
    /// (or restarted with its state, without that hook).
    Reconfigured,
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

/// The slots for the usable mods of a pack in load order, reusing existing ones by id, and
/// the first error of each mod.
pub(super) fn slots_for(
    pack: Pack,
    existing: &ModIndex,
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
    /// Gives a running mod the settings `config.toml` now says, through the same path as
    /// `Host::set_setting`: values keep their type (a wrong one is reported and the old value
    /// kept), and the mod runs `onSettingsChanged(changed)` or restarts without it.
    fn reconfigure(
        &self,
        slot: &Rc<Slot>,
        wanted: &serde_json::Map<String, Json>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Reloaded {
        let (current, defaults) = {
            let entry = slot.entry.borrow();
            (entry.settings.clone(), entry.manifest.settings.clone())
        };
        let mut changed = serde_json::Map::new();
        let mut settings = current.clone();
        for (key, value) in wanted {
            if current.get(key) == Some(value) {
                continue;
            }
            if let Some(default) = defaults.get(key)
                && let Err(error) = super::control::check_type(&slot.id, key, default, value)
            {
                diagnostics.push(
                    Diagnostic::new(crate::diagnostic::Code::InvalidConfig, error.to_string())
                        .in_mod(slot.id.clone()),
                );
                continue;
            }
            changed.insert(key.clone(), value.clone());
            settings.insert(key.clone(), value.clone());
        }
        if changed.is_empty() {
            return Reloaded::Kept;
        }
        slot.entry.borrow_mut().settings = settings;
        match self.settings_changed(slot, &Json::Object(changed)) {
            Ok(()) => Reloaded::Reconfigured,
            Err(error) => Reloaded::Failed(error.to_string()),
        }
    }

    pub(super) fn install(&self, slots: Vec<Rc<Slot>>, pack_errors: HashMap<String, String>) {
        self.activity
            .name_mods(slots.iter().map(|slot| slot.id.clone()).collect());
        *self.index.borrow_mut() = slots
            .iter()
            .map(|slot| (slot.id.clone(), Rc::clone(slot)))
            .collect();
        *self.slots.borrow_mut() = slots;
        *self.pack_errors.borrow_mut() = pack_errors;
        self.events
            .borrow_mut()
            .reorder(|owner| owner.position.get());
    }
}

/// Why [`Host::reload_from_disk`] reloaded nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    InCall(#[from] InCall),
}

impl Host {
    /// Reads the mods directory again and reloads the mod `only` (with the mods that depend on
    /// it), or every mod, as a save under `--watch` would: a mod whose new files have errors
    /// keeps running as it was. The configuration is the one the host runs with.
    pub fn reload_from_disk(&self, only: Option<&str>) -> Result<ReloadReport, ReloadError> {
        let operation = match only {
            Some(id) => format!("reload `{id}`"),
            None => "reload the mods".to_owned(),
        };
        self.reload_read_anew(&operation, |pack| match only {
            Some(id) => self
                .core
                .slot(id)
                .map(|slot| slot.entry.borrow().dir.clone())
                .into_iter()
                .collect(),
            None => self
                .core
                .slots
                .borrow()
                .iter()
                .map(|slot| slot.entry.borrow().dir.clone())
                .chain(pack.mods.iter().map(|entry| entry.dir.clone()))
                .collect(),
        })
    }

    /// Reads the mods directory again and reloads the mods `ids` (with the mods that depend on
    /// them), as a replay does where the recording reloaded them.
    pub fn reload_mods(&self, ids: &[String]) -> Result<ReloadReport, ReloadError> {
        self.reload_read_anew("reload the mods", |pack| {
            pack.mods
                .iter()
                .filter(|entry| ids.iter().any(|id| id == entry.id()))
                .map(|entry| entry.dir.clone())
                .collect()
        })
    }

    /// Reads the mods directory and reloads the folders `changed` picks from it.
    fn reload_read_anew(
        &self,
        operation: &str,
        changed: impl FnOnce(&Pack) -> BTreeSet<PathBuf>,
    ) -> Result<ReloadReport, ReloadError> {
        self.core.not_in_a_call(operation)?;
        let config = self.core.config.borrow().clone();
        let mut pack = Pack::load(&config)?;
        pack.check_syntax();
        let changed = changed(&pack);
        Ok(self.reload(pack, config, &changed)?)
    }

    /// Applies a new state of the mods directory. `pack` is the directory as it is now (with
    /// [`Pack::check_syntax`] done), `config` the configuration as it is now, and `changed` the
    /// mod folders whose files changed. Mods whose settings or limits changed in `config` are
    /// reloaded too. While a call into a mod is in progress nothing changes: see [`InCall`].
    pub fn reload(
        &self,
        pack: Pack,
        config: Config,
        changed: &BTreeSet<PathBuf>,
    ) -> Result<ReloadReport, InCall> {
        self.core.not_in_a_call("reload the mods")?;
        let _input = self.core.input(|| Input::Reload {
            mods: pack
                .mods
                .iter()
                .filter(|entry| changed.contains(&entry.dir))
                .map(ModIdentity::of)
                .collect(),
        });
        let started = Instant::now();
        let core = &self.core;
        let old_slots = core.slots.borrow().clone();
        let mut report = ReloadReport {
            sources: pack.sources.clone(),
            ..ReloadReport::default()
        };

        let broken = broken_changes(&pack, changed, &mut report.diagnostics);
        // The mods running now by id: every lookup below is one, even in a pack of 10,000.
        let existing: ModIndex = old_slots
            .iter()
            .map(|slot| (slot.id.clone(), Rc::clone(slot)))
            .collect();
        let mut entries = entries_to_run(&pack, &old_slots, &broken, &mut report.mods);
        keep_overrides(&mut entries, &existing);
        let manifests: Vec<_> = entries.iter().map(|entry| entry.manifest.clone()).collect();
        let resolution = resolve::resolve(&manifests, &BTreeMap::new(), &host_api_version());

        let old_config = core.config.replace(config);
        let folder_changed =
            |entry: &ModEntry| changed.contains(&entry.dir) && !broken.contains(&entry.dir);
        let same_limits =
            |id: &str| old_config.limits_for(id) == core.config.borrow().limits_for(id);
        // A running mod whose only change is its settings is told, not restarted.
        let settings_only: BTreeMap<String, &ModEntry> = entries
            .iter()
            .filter(|entry| {
                existing.get(entry.id()).is_some_and(|slot| {
                    slot.state.borrow().is_running()
                        && !folder_changed(entry)
                        && same_limits(&slot.id)
                        && slot.entry.borrow().settings != entry.settings
                })
            })
            .map(|entry| (entry.id().to_owned(), entry))
            .collect();
        let changed_here = |entry: &ModEntry| {
            let old = existing.get(entry.id());
            let configured_anew = old.is_some_and(|slot| {
                slot.entry.borrow().settings != entry.settings || !same_limits(&slot.id)
            });
            folder_changed(entry)
                || (configured_anew && !settings_only.contains_key(entry.id()))
                || old.is_none()
        };
        let staying: BTreeSet<&str> = entries.iter().map(ModEntry::id).collect();
        let removed: Vec<Rc<Slot>> = old_slots
            .iter()
            .filter(|slot| !staying.contains(slot.id.as_str()))
            .cloned()
            .collect();
        let gone: BTreeSet<String> = removed.iter().map(|slot| slot.id.clone()).collect();
        let restart = with_dependents(&entries, changed_here, &gone);

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

        // The new mod table, in the new load order: existing slots are kept, and those that
        // restart take their new entry.
        let slots: Vec<Rc<Slot>> = resolution
            .order
            .iter()
            .enumerate()
            .map(|(position, &index)| {
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
                slot
            })
            .collect();
        // Errors of the new resolution block their mods; a kept mod keeps its old error.
        let mut pack_errors: HashMap<String, String> = core
            .pack_errors
            .borrow()
            .iter()
            .filter(|(id, _)| {
                report
                    .mods
                    .iter()
                    .any(|(kept, outcome)| kept == *id && *outcome == Reloaded::Kept)
            })
            .map(|(id, error)| (id.clone(), error.clone()))
            .collect();
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
            if existing.contains_key(&slot.id) {
                slot.counts.reloaded();
            }
            let outcome = match &*slot.state.borrow() {
                ModState::Active if existing.contains_key(&slot.id) => Reloaded::Reloaded,
                ModState::Active => Reloaded::Added,
                other => Reloaded::Failed(other.to_string()),
            };
            report.mods.push((slot.id.clone(), outcome));
        }
        for (id, entry) in &settings_only {
            if let Some(slot) = existing.get(id) {
                let outcome = core.reconfigure(slot, &entry.settings, &mut report.diagnostics);
                report.mods.push((id.clone(), outcome));
            }
        }
        let new_position: HashMap<&str, usize> = slots
            .iter()
            .enumerate()
            .map(|(position, slot)| (slot.id.as_str(), position))
            .collect();
        report
            .mods
            .sort_by_key(|(id, _)| new_position.get(id.as_str()).copied().unwrap_or(usize::MAX));
        report.took = started.elapsed();
        Ok(report)
    }
}

/// The changed folders whose new state has errors (in the folder, or of the mod in it). Their
/// problems, warnings included (a misspelled manifest field), are added to `diagnostics`.
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
/// of its mod (recorded as [`Reloaded::Kept`] in `outcomes`).
fn entries_to_run(
    pack: &Pack,
    old_slots: &[Rc<Slot>],
    broken: &BTreeSet<PathBuf>,
    outcomes: &mut Vec<(String, Reloaded)>,
) -> Vec<ModEntry> {
    let mut entries: Vec<ModEntry> = pack
        .mods
        .iter()
        .filter(|entry| !broken.contains(&entry.dir))
        .cloned()
        .collect();
    for slot in old_slots {
        let entry = slot.entry.borrow();
        if broken.contains(&entry.dir) {
            outcomes.push((slot.id.clone(), Reloaded::Kept));
            if !entries.iter().any(|kept| kept.id() == slot.id) {
                entries.push(entry.clone());
            }
        }
    }
    entries
}

/// Settings changed while the host runs stay, unless the files now say something else for
/// that key than they did when it was changed (then the files win).
fn keep_overrides(entries: &mut [ModEntry], existing: &ModIndex) {
    for entry in entries {
        let Some(slot) = existing.get(entry.id()) else {
            continue;
        };
        slot.overrides.borrow_mut().retain(|key, (value, then)| {
            let unchanged = entry.settings.get(key) == then.as_ref();
            if unchanged {
                entry.settings.insert(key.clone(), value.clone());
            }
            unchanged
        });
    }
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
