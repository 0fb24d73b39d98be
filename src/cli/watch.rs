//! Hot reload for `modhost run --watch`: from a debounced change to [`Host::reload`], and what
//! the terminal says about it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use modhost::config::{Config, Overrides};
use modhost::host::{ReloadReport, Reloaded};
use modhost::source::SourceFile;
use modhost::watch::{Change, Fingerprints};
use modhost::{Host, Pack};

use super::render;

/// What the reloader remembers between changes.
pub struct Reloader {
    overrides: Overrides,
    config: Config,
    fingerprints: Fingerprints,
}

impl Reloader {
    pub fn new(overrides: Overrides, config: Config) -> Self {
        let mut fingerprints = Fingerprints::default();
        if let Ok(folders) = std::fs::read_dir(&config.mods_dir) {
            for folder in folders.filter_map(Result::ok) {
                fingerprints.update(&folder.path());
            }
        }
        Self {
            overrides,
            config,
            fingerprints,
        }
    }

    /// The configuration file to watch: the one in use, or the one that would be read.
    pub fn config_file(&self) -> PathBuf {
        match &self.config.file {
            Some(file) => file.path().to_path_buf(),
            None => self
                .overrides
                .config_file
                .clone()
                .unwrap_or_else(|| PathBuf::from(modhost::config::DEFAULT_CONFIG_FILE)),
        }
    }

    /// Applies one change to the host and reports it.
    pub fn apply(&mut self, host: &Host, change: Change) {
        let mut config = self.config.clone();
        if change.config {
            match Config::load(&self.overrides) {
                Ok(loaded) => config = loaded,
                Err(error) => {
                    super::report_config_error(&error);
                    tracing::warn!("kept the running configuration");
                }
            }
        }
        let folders: BTreeSet<PathBuf> = change
            .folders
            .iter()
            .map(|folder| config.mods_dir.join(folder))
            .filter(|folder| self.fingerprints.update(folder))
            .collect();
        let config_changed = change.config && !same_config(&config, &self.config);
        if folders.is_empty() && !config_changed {
            tracing::debug!("saved, but nothing changed");
            return;
        }
        let mut pack = match Pack::load(&config) {
            Ok(pack) => pack,
            Err(error) => {
                render::fatal(&error.to_string(), None);
                return;
            }
        };
        pack.check_syntax_of(|entry| folders.contains(&entry.dir), |_| {});
        self.config = config.clone();
        match host.reload(pack, config, &folders) {
            Ok(report) => print(&report),
            // Saves are handled between calls, so this is only a game's own doing.
            Err(busy) => tracing::warn!("{busy}"),
        }
    }
}

fn same_config(a: &Config, b: &Config) -> bool {
    a.file.as_ref().map(SourceFile::text) == b.file.as_ref().map(SourceFile::text)
}

fn print(report: &ReloadReport) {
    for diagnostic in &report.diagnostics {
        render::report(diagnostic, &report.sources);
    }
    let names = |wanted: fn(&Reloaded) -> bool| -> Vec<&str> {
        report
            .mods
            .iter()
            .filter(|(_, outcome)| wanted(outcome))
            .map(|(id, _)| id.as_str())
            .collect()
    };
    let took = report.took.as_secs_f64() * 1e3;
    let reloaded = names(|outcome| *outcome == Reloaded::Reloaded);
    if !reloaded.is_empty() {
        tracing::info!("reloaded {} in {took:.0} ms", reloaded.join(", "));
    }
    let added = names(|outcome| *outcome == Reloaded::Added);
    if !added.is_empty() {
        tracing::info!("loaded new {} in {took:.0} ms", added.join(", "));
    }
    let reconfigured = names(|outcome| *outcome == Reloaded::Reconfigured);
    if !reconfigured.is_empty() {
        tracing::info!("applied new settings to {}", reconfigured.join(", "));
    }
    let removed = names(|outcome| *outcome == Reloaded::Removed);
    if !removed.is_empty() {
        tracing::info!("removed {}", removed.join(", "));
    }
    for kept in names(|outcome| *outcome == Reloaded::Kept) {
        tracing::warn!("kept the running version of `{kept}`: fix the errors above and save again");
    }
    for (id, outcome) in &report.mods {
        if let Reloaded::Failed(state) = outcome {
            tracing::warn!("`{id}` did not start ({state}); it stays down until the next save");
        }
    }
}
