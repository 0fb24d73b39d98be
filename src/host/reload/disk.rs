//! Reading the mods directory, and the configuration, again: the one way a host reloads from
//! disk, whether a save under `run --watch`, the protocol's `mods/reload` or a replay asks.
//! It decides which folders changed (by their content, when the host follows saves), reads a
//! saved configuration file anew, checks the syntax of the changed folders only, and hands
//! the new pack to [`Host::reload`].

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{ReloadError, ReloadReport};
use crate::config::{Config, Overrides};
use crate::host::Host;
use crate::pack::Pack;
use crate::source::SourceFile;
use crate::watch::{Change, Fingerprints};

/// What to read again.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reread {
    /// Files were saved: these mod folders and perhaps the configuration file. A folder whose
    /// content is what was last loaded is not reloaded, while the host follows saves
    /// ([`Host::follow_saves`]).
    Saved(Change),
    /// These mods (and the mods that depend on them), whatever changed.
    Mods(Vec<String>),
    /// Every mod.
    All,
}

/// What the host keeps to follow saves.
pub(in crate::host) struct Followed {
    /// How the command line read the configuration, to read a saved file the same way.
    overrides: Overrides,
    /// The content last loaded of each mod folder.
    fingerprints: Fingerprints,
}

impl Host {
    /// Follows saves from now on (`run --watch`): each mod folder's content is remembered, so
    /// that a save that changes nothing reloads nothing, and a saved configuration file is read
    /// again with `overrides`, as the command line read it.
    pub fn follow_saves(&self, overrides: Overrides) {
        let mut fingerprints = Fingerprints::default();
        if let Ok(folders) = std::fs::read_dir(&self.core.config.borrow().mods_dir) {
            for folder in folders.filter_map(Result::ok) {
                fingerprints.update(&folder.path());
            }
        }
        *self.followed.borrow_mut() = Some(Followed {
            overrides,
            fingerprints,
        });
    }

    /// Reads the mods directory again and reloads what `what` names: a mod whose new files
    /// have errors keeps running as it was (see [`Host::reload`]). A configuration file that
    /// cannot be read is reported in the report, and the running configuration kept.
    pub fn reload_from_disk(&self, what: Reread) -> Result<ReloadReport, ReloadError> {
        self.core.not_in_a_call(match &what {
            Reread::Mods(ids) if ids.len() == 1 => "reload a mod",
            _ => "reload the mods",
        })?;
        let mut followed = self.followed.borrow_mut();
        let running = self.core.config.borrow().clone();
        let mut config = running.clone();
        let mut config_error = None;
        let config_saved = matches!(&what, Reread::Saved(change) if change.config);
        if config_saved && let Some(followed) = followed.as_ref() {
            match Config::load(&followed.overrides) {
                Ok(loaded) => config = loaded,
                Err(error) => config_error = Some(error),
            }
        }
        let config_changed = config_saved && !same_file(&config, &running);
        // On request, the folders of the mods asked for, as they were and as they are now.
        let asked_for = |id: &str| match &what {
            Reread::Mods(ids) => ids.iter().any(|asked| asked == id),
            _ => true,
        };
        let mut folders: BTreeSet<PathBuf> = match &what {
            Reread::Saved(change) => change
                .folders
                .iter()
                .map(|folder| config.mods_dir.join(folder))
                .filter(|folder| {
                    followed
                        .as_mut()
                        .is_none_or(|followed| followed.fingerprints.update(folder))
                })
                .collect(),
            _ => self
                .core
                .slots
                .borrow()
                .iter()
                .filter(|slot| asked_for(&slot.id))
                .map(|slot| slot.entry.borrow().dir.clone())
                .collect(),
        };
        let saved = matches!(what, Reread::Saved(_));
        if saved && folders.is_empty() && !config_changed {
            return Ok(ReloadReport {
                config_error,
                ..ReloadReport::default()
            });
        }
        let mut pack = Pack::load(&config)?;
        if !saved {
            let now = pack.mods.iter().filter(|entry| asked_for(entry.id()));
            folders.extend(now.map(|entry| entry.dir.clone()));
            // What is loaded now is what the next save is compared with.
            if let Some(followed) = followed.as_mut() {
                for folder in &folders {
                    followed.fingerprints.update(folder);
                }
            }
        }
        drop(followed);
        pack.check_syntax_of(|entry| folders.contains(&entry.dir), |_| {});
        let mut report = self.reload(pack, config, &folders)?;
        report.config_error = config_error;
        Ok(report)
    }
}

/// Whether two configurations were read from the same text.
fn same_file(a: &Config, b: &Config) -> bool {
    a.file.as_ref().map(SourceFile::text) == b.file.as_ref().map(SourceFile::text)
}
