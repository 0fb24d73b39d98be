//! What a mod can ask of the host, whatever its language.
//!
//! Each backend installs a `modhost` global whose functions forward to a [`HostServices`]. The host
//! implements it; the backends never see the host's insides.

use std::time::Duration;

use super::{HandlerId, Json, ScriptError};

/// How severe a log line is; the variants are in order, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// `debug`, `info`, `warn` or `error`, as the protocol and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Whether an event handler runs before the `on` handlers (and may rewrite or cancel the event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HandlerKind {
    Before,
    On,
}

/// One operation on the calling mod's store (`modhost.storage.*`).
#[derive(Debug, Clone, PartialEq)]
pub enum StorageOp {
    Get(String),
    Set(String, Json),
    Delete(String),
    Keys(String),
}

/// Why a host function refused.
#[derive(Debug, Clone, PartialEq)]
pub enum HostError {
    /// An error in the mod, which it may catch.
    Refused(String),
    /// The call broke a limit: it stops, uncatchably, and the mod fails.
    Breach(ScriptError),
}

impl From<String> for HostError {
    fn from(message: String) -> Self {
        HostError::Refused(message)
    }
}

/// The host services behind `modhost.*`. `mod_id` is always the calling mod. Errors are
/// messages that the backend raises as an error in the calling script.
pub trait HostServices {
    fn log(&self, mod_id: &str, level: LogLevel, message: &str);
    /// `modhost.mods.call`: runs `function` of mod `target` and returns its result.
    fn call(
        &self,
        mod_id: &str,
        target: &str,
        function: &str,
        args: &[Json],
    ) -> Result<Json, String>;
    /// `modhost.mods.list`: `[{ id, version, state }]` in load order.
    fn list(&self) -> Json;
    /// `modhost.events.on` / `before`: returns the subscription id.
    fn subscribe(&self, mod_id: &str, event: &str, kind: HandlerKind, handler: HandlerId) -> u64;
    /// `modhost.events.off`: whether the mod's own subscription existed (and is gone now).
    fn unsubscribe(&self, mod_id: &str, subscription: u64) -> bool;
    /// `modhost.events.emit`: queues the event; it is delivered after the current call returns.
    /// A payload that takes the mod's queued events past its memory limit is a breach.
    fn emit(&self, mod_id: &str, event: &str, payload: Json) -> Result<(), HostError>;
    /// `modhost.timers.after` / `every`: runs `handler` after `delay` (and every `delay` when
    /// `repeat`). Returns the timer id, unique across all mods; refused past `max_timers`.
    fn set_timer(
        &self,
        mod_id: &str,
        delay: Duration,
        repeat: bool,
        handler: HandlerId,
    ) -> Result<u64, String>;
    /// `modhost.timers.cancel`: whether the mod's own timer existed (and is cancelled now).
    fn cancel_timer(&self, mod_id: &str, timer: u64) -> bool;
    /// `modhost.storage.get/set/delete/keys`: the value, `null` after `set`, whether `delete`
    /// removed something, or the sorted keys.
    fn storage(&self, mod_id: &str, op: StorageOp) -> Result<Json, String>;
    /// A function of the game's API (`game.world.spawn(...)` calls `world.spawn`): checked
    /// against the API description and the mod's permissions, then answered by the game.
    fn game_call(&self, mod_id: &str, function: &str, args: Vec<Json>) -> Result<Json, String>;
    /// `modhost.fs.readText`: a UTF-8 file inside the calling mod's folder.
    fn read_text(&self, mod_id: &str, path: &str) -> Result<String, String>;
    /// A new handler id, unique across all mods.
    fn next_handler_id(&self) -> HandlerId;
    /// Whether the host wants to know where in the mod's code its outputs come from (a
    /// replay, to point a divergence at the line); asked once, as an instance is made.
    fn wants_locations(&self) -> bool {
        false
    }
    /// `file:line` of the mod's code that makes the next log line, event or game call.
    fn located(&self, location: String) {
        let _ = location;
    }

    // `modhost test` (SPEC section 14). A host that is not running tests answers as if no
    // time passed and nothing was emitted.

    /// `modhost.test.advance`: moves the virtual clock towards `until_ms` (milliseconds since
    /// the test host started) and returns the next timer of `mod_id` due by then, for the
    /// mod to run itself; `None` once none is left (the clock then stands at `until_ms`).
    /// Other mods' timers due meanwhile are run by the host.
    fn test_next_timer(&self, mod_id: &str, until_ms: u64) -> Option<HandlerId>;
    /// The virtual clock, in milliseconds since the test host started.
    fn test_now_ms(&self) -> u64;
    /// `modhost.test.emit`: `mod_id`'s handlers of `event`, in delivery order (`before` ones
    /// first), for the mod to call itself.
    fn test_handlers(&self, mod_id: &str, event: &str) -> Vec<(HandlerId, HandlerKind)>;
    /// `modhost.test.emitted`: the payloads `mod_id` emitted as `event`, oldest first.
    fn test_emitted(&self, mod_id: &str, event: &str) -> Vec<Json>;
    /// The test runner's progress through a file, kept by the host, so that a file stopped
    /// midway (a test that never ends) still reports what ran.
    fn test_progress(&self, step: TestStep);
}

/// A step of the test runner through a file.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStep {
    /// This many tests are selected to run.
    Planned(usize),
    /// A test starts: `{ name, line }`.
    Started(Json),
    /// A test ended: its result, as the runner reports it.
    Finished(Json),
}

impl TestStep {
    /// The step a test framework reports as `(kind, value)`: `("planned", 3)`,
    /// `("started", { name, line })`, `("finished", result)`.
    pub fn from_report(kind: &str, value: Json) -> Option<TestStep> {
        match kind {
            "planned" => value
                .as_u64()
                .map(|count| TestStep::Planned(count as usize)),
            "started" => Some(TestStep::Started(value)),
            "finished" => Some(TestStep::Finished(value)),
            _ => None,
        }
    }
}
