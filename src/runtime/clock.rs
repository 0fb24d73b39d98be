//! The per-call time limit, shared by every backend.
//!
//! Engines call back periodically while a script runs (QuickJS's interrupt handler, a Lua
//! instruction-count hook). [`CallClock::tick`] is that callback's body: it reads the clock only
//! there, starting the measurement at the first tick of a call, so a call that finishes before
//! its first tick costs no clock read at all. The first tick comes after a few thousand
//! instructions, microseconds in, which is noise against a limit in milliseconds.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub struct CallClock {
    timeout: Duration,
    /// Whether a call into the mod is under way.
    running: Cell<bool>,
    /// When the current call was first seen running.
    started: Cell<Option<Instant>>,
    /// Set when a tick stopped the call, until the error is reported.
    expired: Cell<bool>,
}

impl CallClock {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            running: Cell::new(false),
            started: Cell::new(None),
            expired: Cell::new(false),
        }
    }

    /// Runs `body` as one call; a call made while another runs belongs to the outer one.
    pub fn time<R>(&self, body: impl FnOnce() -> R) -> R {
        if self.running.get() {
            return body();
        }
        self.running.set(true);
        self.started.set(None);
        let result = body();
        self.running.set(false);
        result
    }

    /// The engine's periodic check: whether the running call must stop now.
    pub fn tick(&self) -> bool {
        if !self.running.get() {
            return false;
        }
        let now = Instant::now();
        match self.started.get() {
            None => {
                self.started.set(Some(now));
                false
            }
            Some(started) if now.duration_since(started) >= self.timeout => {
                self.expired.set(true);
                true
            }
            Some(_) => false,
        }
    }

    /// Whether the running call has been stopped (and is still unwinding).
    pub fn has_expired(&self) -> bool {
        self.expired.get()
    }

    /// The limit, if the last call was stopped by it (and forgets that it was).
    pub fn take_expired(&self) -> Option<Duration> {
        self.expired.take().then_some(self.timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_stopped_once_it_has_run_past_the_limit() {
        let clock = CallClock::new(Duration::from_millis(20));
        assert!(!clock.tick(), "no call is running");
        let stopped = clock.time(|| {
            assert!(!clock.tick(), "the first tick starts the measurement");
            std::thread::sleep(Duration::from_millis(30));
            clock.tick()
        });
        assert!(stopped);
        assert_eq!(clock.take_expired(), Some(Duration::from_millis(20)));
        assert_eq!(clock.take_expired(), None);
    }

    #[test]
    fn each_call_starts_afresh_and_nested_calls_share_the_outer_one() {
        let clock = CallClock::new(Duration::from_millis(20));
        clock.time(|| {
            clock.tick();
            std::thread::sleep(Duration::from_millis(15));
            clock.time(|| assert!(!clock.tick()));
        });
        clock.time(|| {
            clock.tick();
            assert!(
                !clock.tick(),
                "a new call does not inherit the old one's time"
            );
        });
    }
}
