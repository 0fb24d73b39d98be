//! Watching the mods directory and the configuration file for `run --watch`.
//!
//! [`Watcher`] turns file-system events into [`Change`]s: which mod folders changed and
//! whether the configuration did. It watches the whole mods directory recursively (a watch
//! on a single file dies when an editor replaces it by renaming), ignores editor droppings
//! and access events, and hands raw changes to a [`Debouncer`], which waits for a burst of
//! events to go quiet before the host reloads. Where the system's file events do not reach
//! (network and container mounts, and under Wine every subfolder), it polls instead. The
//! types here do not expose `notify`.

mod debounce;
mod filter;
mod fingerprint;
mod system_events;

use std::path::{Path, PathBuf};

pub use debounce::{Change, Debouncer};
pub use filter::Target;
pub(crate) use fingerprint::Fingerprints;

/// How often the files are polled where the system's file events miss changes inside
/// folders (under Wine) and no interval is configured: a save reloads within a quarter of a
/// second, and reading a pack's files four times a second costs little.
const POLL_WITHOUT_EVENTS: std::time::Duration = std::time::Duration::from_millis(250);

/// A running file watch. Dropping it stops watching.
pub struct Watcher {
    _inner: Box<dyn notify::Watcher>,
    polling: Option<std::time::Duration>,
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
    /// polled at that interval instead of relying on the system's file events; without it,
    /// they are polled anyway where those events miss changes inside folders (Wine).
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
        let poll = poll.or_else(|| {
            (!system_events::reach_subfolders()).then(|| {
                tracing::info!(
                    "under Wine, whose file events miss changes inside folders: polling every {} ms",
                    POLL_WITHOUT_EVENTS.as_millis()
                );
                POLL_WITHOUT_EVENTS
            })
        });
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
        Ok(Watcher {
            _inner: inner,
            polling: poll,
        })
    }

    /// How long a burst of changes must be quiet before it is acted on, given the configured
    /// `debounce`: that, and when polling at least one and a half intervals, so that a burst
    /// two polls see (an editor's partial writes) is one change, not a half-written file.
    pub fn quiet_period(&self, debounce: std::time::Duration) -> std::time::Duration {
        match self.polling {
            Some(interval) => debounce.max(interval + interval / 2),
            None => debounce,
        }
    }
}
