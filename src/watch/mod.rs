//! Watching the mods directory and the configuration file for `run --watch`.
//!
//! [`Watcher`] turns file-system events into [`Change`]s: which mod folders changed and
//! whether the configuration did. It watches the whole mods directory recursively (a watch
//! on a single file dies when an editor replaces it by renaming), ignores editor droppings
//! and access events, and hands raw changes to a [`Debouncer`], which waits for a burst of
//! events to go quiet before the host reloads. Where the system's file events do not reach
//! (network and container mounts), it can poll instead. The types here do not expose
//! `notify`.

mod debounce;
mod filter;
mod fingerprint;

use std::path::{Path, PathBuf};

pub use debounce::{Change, Debouncer};
pub use filter::Target;
pub use fingerprint::Fingerprints;

/// A running file watch. Dropping it stops watching.
pub struct Watcher {
    _inner: Box<dyn notify::Watcher>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot watch `{}`: {message}", crate::paths::shown(path))]
pub struct WatchError {
    pub path: PathBuf,
    pub message: String,
}

impl Watcher {
    /// Watches `mods_dir` (recursively) and `config_file`, sending each relevant event's
    /// target to `sink`, which runs on the watcher's own thread. With `poll`, the files are
    /// polled at that interval instead of relying on the system's file events.
    pub fn start(
        mods_dir: &Path,
        config_file: Option<&Path>,
        poll: Option<std::time::Duration>,
        mut sink: impl FnMut(Target) + Send + 'static,
    ) -> Result<Watcher, WatchError> {
        let absolute =
            |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mods = absolute(mods_dir);
        let config = config_file.map(absolute);
        let filter = filter::Filter::new(mods.clone(), config.clone());
        let handler = move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else {
                return;
            };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for path in &event.paths {
                if let Some(target) = filter.classify(path) {
                    sink(target);
                }
            }
        };
        let created: notify::Result<Box<dyn notify::Watcher>> = match poll {
            Some(interval) => notify::PollWatcher::new(
                handler,
                // Compare contents too: a save within the file system's timestamp
                // granularity leaves the modification time unchanged.
                notify::Config::default()
                    .with_poll_interval(interval)
                    .with_compare_contents(true),
            )
            .map(|watcher| Box::new(watcher) as Box<dyn notify::Watcher>),
            None => notify::recommended_watcher(handler)
                .map(|watcher| Box::new(watcher) as Box<dyn notify::Watcher>),
        };
        let mut inner = created.map_err(|error| WatchError {
            path: mods.clone(),
            message: error.to_string(),
        })?;
        inner
            .watch(&mods, notify::RecursiveMode::Recursive)
            .map_err(|error| WatchError {
                path: mods.clone(),
                message: error.to_string(),
            })?;
        if let Some(config) = &config {
            // Watch the file's folder: editors replace the file itself on save.
            let folder = config.parent().unwrap_or(Path::new("/"));
            if !folder.starts_with(&mods) {
                inner
                    .watch(folder, notify::RecursiveMode::NonRecursive)
                    .map_err(|error| WatchError {
                        path: folder.to_path_buf(),
                        message: error.to_string(),
                    })?;
            }
        }
        Ok(Watcher { _inner: inner })
    }
}
