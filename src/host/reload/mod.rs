//! Hot reload: applying a changed mods directory (or configuration) to a running host.
//!
//! A changed mod is checked before anything is touched. If its manifest, scripts or
//! resolution have errors, the old version keeps running untouched and the errors are
//! reported. Otherwise the mod and every mod that depends on it are detached (in reverse load
//! order, keeping what each `onDetach` returned), their new code is loaded, and each runs
//! `onAttach`, `onReload(state)` and `onBootstrap`, in load order. A new mod folder loads; a
//! deleted one detaches, and the mods that require it are blocked.
//!
//! What changes is decided first, without touching a mod ([`plan`]), then carried out here;
//! what to read from disk is decided in one place for every caller ([`disk`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod disk;
mod plan;

pub(super) use disk::Followed;
pub use disk::Reread;
use plan::{Plan, RunningMod};

use super::{Core, Host, InCall, ModIndex, ModState, Slot};
use crate::config::{Config, ConfigError};
use crate::diagnostic::Diagnostic;
use crate::pack::{ModEntry, Pack, PackError};
use crate::recording::{Input, ModIdentity};
use crate::runtime::Json;
use crate::source::SourceFile;
use crate::value::Object;

/// What happened to one mod in a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The saved configuration file could not be read: the running configuration was kept.
    pub config_error: Option<ConfigError>,
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
        wanted: &serde_json::Map<String, serde_json::Value>,
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
        match self.settings_changed(slot, &Json::Object(Object::from(&changed))) {
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
    /// Applies a new state of the mods directory. `pack` is the directory as it is now (the
    /// syntax of the `changed` folders checked), `config` the configuration as it is now, and
    /// `changed` the mod folders whose files changed. Mods whose settings or limits changed in
    /// `config` are reloaded too. While a call into a mod is in progress nothing changes: see
    /// [`InCall`]. [`Host::reload_from_disk`] reads the pack and decides what changed.
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
        let old_slots = self.core.slots.borrow().clone();
        let plan = {
            let entries: Vec<_> = old_slots.iter().map(|slot| slot.entry.borrow()).collect();
            let running: Vec<RunningMod> = old_slots
                .iter()
                .zip(&entries)
                .map(|(slot, entry)| RunningMod {
                    entry,
                    running: slot.state.borrow().is_running(),
                })
                .collect();
            let old_config = self.core.config.borrow();
            let index = self.core.index.borrow();
            Plan::new(
                &pack,
                changed,
                &running,
                |id| old_config.limits_for(id) == config.limits_for(id),
                |entries| keep_overrides(entries, &index),
            )
        };
        self.core.config.replace(config);
        let mut report = self.core.carry_out(plan, &old_slots);
        report.sources = pack.sources;
        report.took = started.elapsed();
        Ok(report)
    }
}

impl Core {
    /// Carries out a reload's plan on the mods `old_slots` (the mod table before it).
    fn carry_out(&self, plan: Plan, old_slots: &[Rc<Slot>]) -> ReloadReport {
        let Plan {
            entries,
            resolution,
            kept,
            restart,
            reconfigure,
            removed,
            diagnostics,
        } = plan;
        let mut report = ReloadReport {
            mods: kept.iter().map(|id| (id.clone(), Reloaded::Kept)).collect(),
            diagnostics,
            ..ReloadReport::default()
        };
        // The mods by id as they were: `install` replaces the index below.
        let existing: ModIndex = self.index.borrow().clone();

        // Detach what restarts or goes, in reverse of the old load order.
        let mut states: HashMap<String, Json> = HashMap::new();
        for slot in old_slots.iter().rev() {
            let leaving = restart.contains(&slot.id) || removed.contains(&slot.id);
            if leaving
                && slot.state.borrow().is_running()
                && let Some(state) = self.detach(slot)
            {
                states.insert(slot.id.clone(), state);
            }
        }
        for slot in old_slots.iter().filter(|slot| removed.contains(&slot.id)) {
            self.unload(slot, ModState::Detached);
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
        let mut pack_errors: HashMap<String, String> = self
            .pack_errors
            .borrow()
            .iter()
            .filter(|(id, _)| kept.contains(id))
            .map(|(id, error)| (id.clone(), error.clone()))
            .collect();
        for problem in &resolution.problems {
            let diagnostic = crate::pack::problems::describe(problem, &entries, &resolution.edges);
            if let Some(id) = diagnostic.mod_id {
                pack_errors.entry(id).or_insert(diagnostic.message);
            }
        }
        self.install(slots.clone(), pack_errors);

        let restarting: Vec<Rc<Slot>> = slots
            .iter()
            .filter(|slot| restart.contains(&slot.id))
            .cloned()
            .collect();
        self.start_with(&restarting, &states);
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
        for id in &reconfigure {
            let (Some(slot), Some(entry)) = (
                existing.get(id),
                entries.iter().find(|entry| entry.id() == id),
            ) else {
                continue;
            };
            let outcome = self.reconfigure(slot, &entry.settings, &mut report.diagnostics);
            report.mods.push((id.clone(), outcome));
        }
        let new_position: HashMap<&str, usize> = slots
            .iter()
            .enumerate()
            .map(|(position, slot)| (slot.id.as_str(), position))
            .collect();
        report
            .mods
            .sort_by_key(|(id, _)| new_position.get(id.as_str()).copied().unwrap_or(usize::MAX));
        report
    }
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
