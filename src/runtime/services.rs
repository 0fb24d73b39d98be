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
    /// Every level, lowest first: `modhost.log` has a function of each's [`name`](Self::name).
    pub const ALL: [LogLevel; 4] = [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ];

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

/// A `modhost` function that takes values (and handlers) and answers a value, the same in
/// every language. Each backend installs every one of them ([`Service::in_namespace`]) with
/// one native that checks and converts the arguments (a function the mod hands over is kept
/// by the instance under a new [`HandlerId`], which is what the host gets), asks
/// [`HostServices::serve`] and converts the answer; a backend writes by hand only the log, the
/// hot paths (`mods.call`, `events.emit`) and `modhost.test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `modhost.mods.list()`: `[{ id, version, state }]` in load order.
    ModsList,
    /// `modhost.events.on(event, handler)`: the subscription's id.
    EventsOn,
    /// `modhost.events.before(event, handler)`: the subscription's id; the handler runs before
    /// the `on` ones, and may rewrite or cancel the event.
    EventsBefore,
    /// `modhost.events.off(subscription)`: whether the mod's own subscription existed (and is
    /// gone now).
    EventsOff,
    /// `modhost.timers.after(ms, callback)`: the timer's id, unique across all mods; refused
    /// past `max_timers`.
    TimersAfter,
    /// `modhost.timers.every(ms, callback)`: as `after`, and again every `ms`.
    TimersEvery,
    /// `modhost.timers.cancel(timer)`: whether the mod's own timer existed (and is cancelled).
    TimersCancel,
    /// `modhost.storage.get(key)`: the value, or `null`.
    StorageGet,
    /// `modhost.storage.set(key, value)`.
    StorageSet,
    /// `modhost.storage.delete(key)`: whether it removed something.
    StorageDelete,
    /// `modhost.storage.keys(prefix?)`: the sorted keys.
    StorageKeys,
    /// `modhost.fs.readText(path)`: a UTF-8 file inside the calling mod's folder.
    FsReadText,
    /// `modhost.test.emitted(event)`: the payloads the mod emitted as `event`, oldest first
    /// (`modhost test`; none otherwise).
    TestEmitted,
}

impl Service {
    const ALL: [(&'static str, Service); 13] = [
        ("mods.list", Service::ModsList),
        ("events.on", Service::EventsOn),
        ("events.before", Service::EventsBefore),
        ("events.off", Service::EventsOff),
        ("timers.after", Service::TimersAfter),
        ("timers.every", Service::TimersEvery),
        ("timers.cancel", Service::TimersCancel),
        ("storage.get", Service::StorageGet),
        ("storage.set", Service::StorageSet),
        ("storage.delete", Service::StorageDelete),
        ("storage.keys", Service::StorageKeys),
        ("fs.readText", Service::FsReadText),
        ("test.emitted", Service::TestEmitted),
    ];

    /// Each service of the surface's namespace `namespace` (`storage`): its name there
    /// (`get`), its path (`storage.get`) and itself.
    pub fn in_namespace(
        namespace: &str,
    ) -> impl Iterator<Item = (&'static str, &'static str, Service)> + '_ {
        Self::ALL.iter().filter_map(move |(path, service)| {
            let (owner, name) = path.split_once('.')?;
            (owner == namespace).then_some((name, *path, *service))
        })
    }
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
    /// One of the [`Service`]s, its arguments checked against the surface already (a missing
    /// optional one is absent or `null`; a number may stand for a string; a handler is its
    /// [`HandlerId`]). On an error the backend forgets the handlers it kept for the call.
    fn serve(&self, mod_id: &str, service: Service, args: &[Json]) -> Result<Json, String>;
    /// How long the host waited on its own account during the last [`HostServices::serve`]:
    /// opening the mods' store (creating its file, which a busy disk can make take seconds)
    /// or another process's write lock on it (SQLite waits up to 5 s). Not the mod's time:
    /// [`serve_in_call`] takes it off the running call's.
    fn take_host_wait(&self) -> Duration {
        Duration::ZERO
    }
    /// `modhost.events.emit`: queues the event; it is delivered after the current call returns.
    /// A payload that takes the mod's queued events past its memory limit is a breach.
    fn emit(&self, mod_id: &str, event: &str, payload: Json) -> Result<(), HostError>;
    /// A function of the game's API (`game.world.spawn(...)` calls `world.spawn`): checked
    /// against the API description and the mod's permissions, then answered by the game.
    fn game_call(&self, mod_id: &str, function: &str, args: Vec<Json>) -> Result<Json, String>;
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

/// Asks `host` for `service` inside the running call (`clock`), whose time does not include
/// what the host waited on its own account meanwhile ([`HostServices::take_host_wait`]), as
/// it does not include a wait for the game: opening the mods' store on a slow disk once
/// stopped a mod's first `storage.set` for running past `call_timeout_ms`. The service's own
/// work is the mod's time.
pub(super) fn serve_in_call(
    host: &dyn HostServices,
    clock: &super::CallClock,
    mod_id: &str,
    service: Service,
    args: &[Json],
) -> Result<Json, String> {
    let served = host.serve(mod_id, service, args);
    clock.excuse(host.take_host_wait());
    served
}

#[cfg(test)]
mod tests {
    use super::Service;
    use crate::runtime::surface;

    #[test]
    fn every_service_is_a_function_of_the_surface() {
        for (path, _) in Service::ALL {
            assert!(
                surface::function(path).is_some(),
                "`{path}` is not in the surface"
            );
        }
    }
}
