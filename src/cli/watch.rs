//! Hot reload for `modhost run --watch`: which configuration file to watch, and what the
//! terminal says about each reload ([`Host::reload_from_disk`] decides what reloads).

use std::path::PathBuf;

use modhost::Host;
use modhost::watch::Change;
use modhost::{Config, Overrides};
use modhost::{ReloadError, ReloadReport, Reloaded, Reread};

use super::render;

/// The configuration file to watch: the one in use, or the one that would be read.
pub fn config_file(config: &Config, overrides: &Overrides) -> PathBuf {
    match &config.file {
        Some(file) => file.path().to_path_buf(),
        None => overrides
            .config_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(modhost::internal::config::DEFAULT_CONFIG_FILE)),
    }
}

/// Applies one change to the host and reports it.
pub fn apply(host: &Host, change: Change) {
    match host.reload_from_disk(Reread::Saved(change)) {
        Ok(report) => print(&report),
        // Saves are handled between calls, so this is only a game's own doing.
        Err(ReloadError::InCall(busy)) => tracing::warn!("{busy}"),
        Err(error) => render::fatal(&error.to_string(), None),
    }
}

fn print(report: &ReloadReport) {
    if let Some(error) = &report.config_error {
        super::report_config_error(error);
        tracing::warn!("kept the running configuration");
    }
    if report.mods.is_empty() && report.diagnostics.is_empty() {
        tracing::debug!("saved, but nothing changed");
        return;
    }
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
