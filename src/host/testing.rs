//! Test mode (`modhost test`, SPEC section 14): a virtual clock for timers, a record of the
//! events mods emit and of the lines they log (for the report, not the host's log), and the
//! test runner's progress through a file. A host in test mode never waits for real time: its
//! timers are due at virtual instants, and only `modhost.test.advance` moves the clock.

use std::time::{Duration, Instant};

use super::{Core, Host};
use serde::Serialize;

use crate::runtime::{HandlerId, HandlerKind, Json, LogLevel, ScriptError, TestStep};

/// What a host in test mode keeps.
pub(super) struct TestMode {
    /// The virtual clock's zero.
    start: Instant,
    /// How far the virtual clock has moved.
    elapsed: Duration,
    /// `(mod, event, payload)` of every event a mod emitted.
    emitted: Vec<(String, String, Json)>,
    /// The mod whose tests run: its hooks are left to them.
    under_test: String,
    /// What the mods logged, for the report (it does not go to the host's log).
    logs: Vec<TestLog>,
    /// How far the test runner is through the current file.
    progress: Progress,
}

/// The test runner's way through a file, as it reported it.
#[derive(Default)]
struct Progress {
    /// The results of the tests that ended.
    finished: Vec<Json>,
    /// The test that started and has not ended: `{ name, line }`.
    running: Option<Json>,
    /// How many tests are selected in all.
    planned: usize,
}

impl Progress {
    /// The report of `file` stopped by `why` while a test ran: the tests that ended, then the
    /// one that did not, failed with `why` (at the line of `file` it was stopped on, if that
    /// is known). `None` when no test was running (the file itself did not load).
    fn stopped(&mut self, why: &ScriptError, file: &std::path::Path) -> Option<Json> {
        let mut running = self.running.take()?;
        let mut results = std::mem::take(&mut self.finished);
        let after = self.planned.saturating_sub(results.len() + 1);
        let untested = match after {
            0 => String::new(),
            1 => "; the test after it did not run".to_owned(),
            more => format!("; the {more} tests after it did not run"),
        };
        running["passed"] = Json::Bool(false);
        running["message"] = Json::from(format!(
            "the test did not finish: {}{untested}",
            why.message
        ));
        if let (Some(line), true) = (why.line, why.file.as_deref() == Some(file)) {
            running["failureLine"] = Json::from(line);
        }
        results.push(running);
        Some(Json::Array(results))
    }
}

/// A line a mod logged while its tests ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestLog {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub level: &'static str,
    pub message: String,
}

impl Host {
    /// Puts the host in test mode (before [`Host::start`]) for the tests of `under_test`:
    /// timers run on a virtual clock, emitted events are recorded, game functions nobody
    /// answers return their typed stub, and `under_test` runs its entry point but none of its
    /// hooks (its tests call them). The mods it requires start as usual.
    pub fn enter_test_mode(&self, under_test: &str) {
        *self.core.testing.borrow_mut() = Some(TestMode {
            start: Instant::now(),
            elapsed: Duration::ZERO,
            emitted: Vec::new(),
            under_test: under_test.to_owned(),
            logs: Vec::new(),
            progress: Progress::default(),
        });
        self.answer_game_calls_with_stubs();
    }

    /// Runs a test file in the instance of `mod_id` (see `ModInstance::run_tests`) and waits
    /// for its report: one entry per test.
    pub fn run_test_file(
        &self,
        mod_id: &str,
        file: &std::path::Path,
        grep: Option<&str>,
    ) -> Result<Json, super::CallError> {
        self.core.run_test_file(mod_id, file, grep)
    }

    /// The lines the mods logged in test mode, oldest first, since the last time.
    pub fn take_test_logs(&self) -> Vec<TestLog> {
        self.core
            .testing
            .borrow_mut()
            .as_mut()
            .map(|test| std::mem::take(&mut test.logs))
            .unwrap_or_default()
    }
}

impl Core {
    /// Now, on the virtual clock in test mode or in a recorded or replayed session.
    pub(super) fn now(&self) -> Instant {
        match &*self.testing.borrow() {
            Some(test) => test.start + test.elapsed,
            None => self.session_now().unwrap_or_else(Instant::now),
        }
    }

    pub(super) fn is_under_test(&self, mod_id: &str) -> bool {
        self.testing
            .borrow()
            .as_ref()
            .is_some_and(|test| test.under_test == mod_id)
    }

    /// Keeps a mod's log line for the test report; `false` outside test mode.
    pub(super) fn keep_test_log(&self, mod_id: &str, level: LogLevel, message: &str) -> bool {
        let mut testing = self.testing.borrow_mut();
        let Some(test) = testing.as_mut() else {
            return false;
        };
        test.logs.push(TestLog {
            mod_id: mod_id.to_owned(),
            level: level.name(),
            message: message.to_owned(),
        });
        true
    }

    pub(super) fn test_progress(&self, step: TestStep) {
        let mut testing = self.testing.borrow_mut();
        let Some(progress) = testing.as_mut().map(|test| &mut test.progress) else {
            return;
        };
        match step {
            TestStep::Planned(count) => {
                *progress = Progress {
                    planned: count,
                    ..Progress::default()
                }
            }
            TestStep::Started(test) => progress.running = Some(test),
            TestStep::Finished(result) => {
                progress.running = None;
                progress.finished.push(result);
            }
        }
    }

    pub(super) fn record_emitted(&self, mod_id: &str, event: &str, payload: &Json) {
        if let Some(test) = self.testing.borrow_mut().as_mut() {
            test.emitted
                .push((mod_id.to_owned(), event.to_owned(), payload.clone()));
        }
    }

    pub(super) fn test_now_ms(&self) -> u64 {
        self.testing
            .borrow()
            .as_ref()
            .map_or(0, |test| test.elapsed.as_millis() as u64)
    }

    pub(super) fn test_next_timer(&self, mod_id: &str, until_ms: u64) -> Option<HandlerId> {
        let until = {
            let testing = self.testing.borrow();
            let test = testing.as_ref()?;
            test.start + Duration::from_millis(until_ms)
        };
        loop {
            // Each timer fires at its own instant, which becomes the clock's now: an interval
            // runs every time it comes due on the way, none is skipped as late.
            let due = self
                .timers
                .borrow_mut()
                .next_due()
                .filter(|due| *due <= until);
            let Some(fired) = due.and_then(|due| self.timers.borrow_mut().pop_due(due)) else {
                self.set_virtual_now(until);
                return None;
            };
            if let Some(due) = due {
                self.set_virtual_now(due);
            }
            if fired.last {
                fired.owner.released.borrow_mut().push(fired.handler);
            }
            if fired.owner.id == mod_id {
                return Some(fired.handler);
            }
            let outcome = self.enter(
                &fired.owner,
                || "a timer".to_owned(),
                |instance| instance.call_handler(fired.handler, &[]),
            );
            self.logged(&fired.owner, || format!("timer {}", fired.id), outcome);
        }
    }

    fn set_virtual_now(&self, now: Instant) {
        if let Some(test) = self.testing.borrow_mut().as_mut()
            && now > test.start + test.elapsed
        {
            test.elapsed = now - test.start;
        }
    }

    pub(super) fn test_handlers(&self, mod_id: &str, event: &str) -> Vec<(HandlerId, HandlerKind)> {
        self.events
            .borrow()
            .handlers_of(event, |owner| owner.id == mod_id)
    }

    pub(super) fn test_emitted(&self, mod_id: &str, event: &str) -> Vec<Json> {
        self.testing
            .borrow()
            .as_ref()
            .map_or_else(Vec::new, |test| {
                test.emitted
                    .iter()
                    .filter(|(sender, name, _)| sender == mod_id && name == event)
                    .map(|(_, _, payload)| payload.clone())
                    .collect()
            })
    }

    fn run_test_file(
        &self,
        mod_id: &str,
        file: &std::path::Path,
        grep: Option<&str>,
    ) -> Result<Json, super::CallError> {
        let slot = self.slot(mod_id)?;
        let script_error = |error| super::CallError::Script {
            id: mod_id.to_owned(),
            function: format!("tests in {}", crate::paths::shown(file)),
            error: Box::new(error),
        };
        let outcome = self.enter(
            &slot,
            || format!("`{}`", crate::paths::shown(file)),
            |instance| instance.run_tests(file, grep),
        )?;
        let settled = outcome.and_then(|outcome| self.settle(&slot, outcome));
        let report = settled.or_else(|error| {
            // A test that never ends (or broke a limit) stops the file: the tests before it
            // are reported, and it is named.
            let stopped = self
                .testing
                .borrow_mut()
                .as_mut()
                .and_then(|test| test.progress.stopped(&error, file));
            stopped.ok_or_else(|| script_error(error))
        });
        self.deliver_events();
        report
    }
}
