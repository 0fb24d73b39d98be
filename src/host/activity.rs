//! What the host's thread is doing, for a watchdog on another thread: which mod has control
//! and since when, and whether the host has been asked to stop.
//!
//! Every limit is enforced on the host's thread, where a mod's code runs, so a mod whose code
//! could not be interrupted would also stop the host from noticing anything, signals included.
//! [`Activity`] is the one thing another thread can read: plain atomics, written on every entry
//! into a mod (a couple of relaxed stores), so a watchdog can tell that the mod with control
//! has kept it past its limit, name it, and end the process rather than let it hang.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crate::runtime::Moment;

/// Shared between the host's thread and a watchdog (`Host::activity`).
#[derive(Debug)]
pub struct Activity {
    /// When the mod with control got it ([`Moment::nanos`], plus one); 0 when no mod has
    /// control.
    since: AtomicU64,
    /// That mod's `call_timeout_ms`.
    limit_ms: AtomicU64,
    /// Its position in the load order, an index into `names`.
    position: AtomicUsize,
    names: Mutex<Vec<String>>,
    stopping: AtomicBool,
}

/// The mod that has control now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub mod_id: String,
    /// How long it has had control without giving it back.
    pub running_for: Duration,
    /// Its `call_timeout_ms`.
    pub limit: Duration,
}

/// What [`Activity::enter`] replaced, for [`Activity::leave`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Entered {
    limit_ms: u64,
    position: usize,
    outer: bool,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            since: AtomicU64::new(0),
            limit_ms: AtomicU64::new(0),
            position: AtomicUsize::new(0),
            names: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        }
    }
}

impl Activity {
    /// Asks the host to stop: waits for timers and promises end, the event loop stops.
    pub fn request_stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Whether the host has been asked to stop.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// The mod that has control now, if one has.
    pub fn running(&self) -> Option<Running> {
        let since = self.since.load(Ordering::Relaxed);
        if since == 0 {
            return None;
        }
        let position = self.position.load(Ordering::Relaxed);
        let mod_id = self
            .names
            .lock()
            .ok()
            .and_then(|names| names.get(position).cloned())
            .unwrap_or_else(|| format!("the mod at position {position}"));
        Some(Running {
            mod_id,
            running_for: Moment::now().since(Moment::from_nanos(since - 1)),
            limit: Duration::from_millis(self.limit_ms.load(Ordering::Relaxed)),
        })
    }

    /// The mods' ids in load order, to name them by position.
    pub(super) fn name_mods(&self, ids: Vec<String>) {
        if let Ok(mut names) = self.names.lock() {
            *names = ids;
        }
    }

    /// The mod at `position` takes control at `at`.
    pub(super) fn enter(&self, position: usize, limit_ms: u64, at: Moment) -> Entered {
        let entered = Entered {
            limit_ms: self.limit_ms.load(Ordering::Relaxed),
            position: self.position.load(Ordering::Relaxed),
            outer: self.since.load(Ordering::Relaxed) != 0,
        };
        self.position.store(position, Ordering::Relaxed);
        self.limit_ms.store(limit_ms, Ordering::Relaxed);
        self.since.store(at.nanos() + 1, Ordering::Relaxed);
        entered
    }

    /// Control goes back to whoever had it before: the calling mod (which counts afresh from
    /// now: it may take the rest of its call to notice that its own time ran out) or the host.
    pub(super) fn leave(&self, entered: Entered) {
        if !entered.outer {
            self.since.store(0, Ordering::Relaxed);
            return;
        }
        self.position.store(entered.position, Ordering::Relaxed);
        self.limit_ms.store(entered.limit_ms, Ordering::Relaxed);
        self.since
            .store(Moment::now().nanos() + 1, Ordering::Relaxed);
    }

    /// Runs `body`, a wait that is not the mod's (for the game, which has
    /// `game_call_timeout_ms` of its own, or for the host's own work): meanwhile no mod holds
    /// control, and the mod that had it has it again afterwards, counted from then.
    pub(super) fn without_control<R>(&self, body: impl FnOnce() -> R) -> R {
        let was_running = self.since.swap(0, Ordering::Relaxed) != 0;
        let result = body();
        if was_running {
            self.since
                .store(Moment::now().nanos() + 1, Ordering::Relaxed);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_names_the_mod_with_control_and_hands_control_back() {
        let activity = Activity::default();
        activity.name_mods(vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(activity.running(), None);
        let outer = activity.enter(0, 100, Moment::precise());
        let inner = activity.enter(1, 200, Moment::precise());
        let running = activity.running().unwrap();
        assert_eq!(
            (running.mod_id.as_str(), running.limit),
            ("b", Duration::from_millis(200))
        );
        activity.leave(inner);
        assert_eq!(activity.running().unwrap().mod_id, "a");
        activity.leave(outer);
        assert_eq!(activity.running(), None);
    }
}
