//! The host: the loaded mods, their lifecycle, calls between them, events and timers.
//!
//! [`Host`] is the embedding API: build it from a [`Pack`] and a [`Config`], [`Host::start`]
//! it (attach and bootstrap every mod in load order), call mod functions and emit events, run
//! timers as they come due, [`Host::reload`] changed mods, and [`Host::shutdown`] it (detach in
//! reverse order). The command line uses exactly this API.
//!
//! Everything runs on the thread that owns the host. A call into a mod borrows that mod's
//! instance; a call that would re-enter a mod already on the call stack (A calls B calls A) is
//! refused with an error naming the chain, never a deadlock.

mod activity;
mod calls;
mod control;
mod events;
mod game;
mod lifecycle;
mod link;
mod reload;
mod session;
mod smoke;
mod state;
mod stats;
mod testing;
mod timers;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

pub use activity::Activity;
pub use control::SettingError;
pub use game::{EmitError, GameCallError, GameEvent, GameFunction, GameLink, ProvideError};
pub use reload::{ReloadError, ReloadReport, Reloaded, Reread};
pub(crate) use session::Replaying;
pub use smoke::smoke_test;
pub use state::{ModState, ModStatus};
pub use stats::{ModStats, SlowCall};
pub use testing::TestLog;

use crate::config::Config;
use crate::pack::{ModEntry, Pack};
use crate::recording::compact::{InputRef, OutputRef};
use crate::recording::{Input, Output};
use crate::runtime::{HandlerId, Json, ModInstance, ScriptError};
use crate::storage::Store;
use events::{Event, EventBus};
use game::GameSide;
use link::Link;
use timers::{Owner, TimerQueue};

/// The `tracing` target of what mods log (`modhost.log.*`, `console.*`, Lua `print`); each
/// event has a `mod_id` field. Filter with `modhost::mods=warn`, for example.
pub const MOD_LOG_TARGET: &str = "modhost::mods";

/// Why a call into a mod did not return a value.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    #[error("there is no mod `{id}`{}", suggestion.as_ref().map(|hint| format!("; {hint}")).unwrap_or_default())]
    UnknownMod {
        id: String,
        /// "did you mean …?", for a near miss.
        suggestion: Option<String>,
    },
    #[error("`{id}` is not running ({state})")]
    NotRunning { id: String, state: String },
    #[error(
        "`{id}` has no function `{function}`{}",
        function_hint(function, available)
    )]
    NoSuchFunction {
        id: String,
        function: String,
        available: Vec<String>,
    },
    #[error("re-entrant call {}: a mod cannot be called while it is already running", chain.join(" -> "))]
    Reentrant { chain: Vec<String> },
    #[error(
        "call depth limit: {} would be {depth} calls deep, and mods may call mods at most {MAX_CALL_DEPTH} deep",
        shorten(chain)
    )]
    TooDeep { chain: Vec<String>, depth: usize },
    #[error(transparent)]
    InCall(#[from] InCall),
    #[error("`{id}`.{function} failed: {error}")]
    Script {
        id: String,
        function: String,
        error: Box<ScriptError>,
    },
}

/// An operation that changes mods (reload, enable, disable, a setting), refused because a
/// call into a mod is in progress: the game asked for it while a mod waits for the game's
/// answer, or from inside a game function the host called. The mods on the call stack cannot
/// be detached, replaced or reconfigured under their own feet; once the call returns, the same
/// operation goes through.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "cannot {operation} now: {} is in the middle of a call (waiting for the game, or being answered); try again once it returns",
    chain.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(" -> ")
)]
pub struct InCall {
    pub operation: String,
    /// The mods on the call stack, outermost first.
    pub chain: Vec<String>,
}

/// How deep mods may call mods (A calls B calls C …).
pub(crate) const MAX_CALL_DEPTH: usize = 64;

/// A long chain of calls, shown by its ends: `a -> b -> … -> y -> z`.
fn shorten(chain: &[String]) -> String {
    if chain.len() <= 6 {
        return chain.join(" -> ");
    }
    format!(
        "{} -> … -> {}",
        chain[..3].join(" -> "),
        chain[chain.len() - 3..].join(" -> ")
    )
}

/// "did you mean" for a near miss, else the functions the mod has.
fn function_hint(function: &str, available: &[String]) -> String {
    if let Some(hint) = crate::suggest::did_you_mean(function, available.iter().map(String::as_str))
    {
        return format!("; {hint}");
    }
    if available.is_empty() {
        return String::new();
    }
    format!("; it has {}", available.join(", "))
}

/// One mod, as the host holds it. A reload keeps the slot and replaces what is inside.
struct Slot {
    id: String,
    entry: RefCell<ModEntry>,
    /// Position in the load order.
    position: Cell<usize>,
    state: RefCell<ModState>,
    instance: RefCell<Option<Box<dyn ModInstance>>>,
    /// Handlers the mod no longer needs, released the next time the mod is entered.
    released: RefCell<Vec<HandlerId>>,
    /// Settings changed while the host runs: key → (value, what the files said then). They
    /// survive reloads until the files change that key.
    overrides:
        RefCell<std::collections::BTreeMap<String, (serde_json::Value, Option<serde_json::Value>)>>,
    /// What the host counted about the mod.
    counts: stats::Counts,
    /// Its `call_timeout_ms`, for the watchdog.
    call_timeout_ms: Cell<u64>,
    /// Its `slow_call_ms`: calls slower than this are logged.
    slow_call_ms: Cell<u64>,
}

/// A mod's timers are counted under its slot's address, the identity [`Slot::is`] compares.
impl Owner for Rc<Slot> {
    type Key = *const Slot;
    fn key(&self) -> *const Slot {
        Rc::as_ptr(self)
    }
}

impl Slot {
    fn new(entry: ModEntry, position: usize) -> Rc<Slot> {
        Rc::new(Slot {
            id: entry.id().to_owned(),
            entry: RefCell::new(entry),
            position: Cell::new(position),
            state: RefCell::new(ModState::Resolved),
            instance: RefCell::new(None),
            released: RefCell::new(Vec::new()),
            overrides: RefCell::new(std::collections::BTreeMap::new()),
            counts: stats::Counts::default(),
            call_timeout_ms: Cell::new(0),
            slow_call_ms: Cell::new(0),
        })
    }

    fn is(&self, other: &Rc<Slot>) -> bool {
        std::ptr::eq(self, Rc::as_ptr(other))
    }

    fn status(&self) -> ModStatus {
        let state = self.state.borrow();
        let entry = self.entry.borrow();
        ModStatus {
            id: self.id.clone(),
            version: entry.manifest.version.to_string(),
            runtime: entry.language.name(),
            state: state.name(),
            reason: state.reason().map(str::to_owned),
        }
    }
}

/// Mods by id.
type ModIndex = rustc_hash::FxHashMap<String, Rc<Slot>>;

/// The shared insides of a [`Host`]; mods reach it through [`Link`].
struct Core {
    config: RefCell<Config>,
    /// Every mod in load order.
    slots: RefCell<Vec<Rc<Slot>>>,
    /// Mods by id. Every call looks its mod up here, so it hashes with FxHash: ids come from
    /// the pack's own folders, not from anyone who could pick colliding keys.
    index: RefCell<ModIndex>,
    /// The mods currently running, outermost first.
    call_stack: RefCell<Vec<Rc<Slot>>>,
    events: RefCell<EventBus<Rc<Slot>>>,
    timers: RefCell<TimerQueue<Rc<Slot>>>,
    next_id: Cell<u64>,
    /// The first error diagnostic of each mod of the pack: such mods start out blocked.
    pack_errors: RefCell<HashMap<String, String>>,
    /// Mods' persistent storage, opened on first use.
    store: RefCell<Option<Store>>,
    /// `(mod id, why)` for each `onDetach` that failed since the last [`Host::shutdown`].
    detach_failures: RefCell<Vec<(String, String)>>,
    /// Who answers game functions and hears mods' events.
    game: RefCell<GameSide>,
    /// What the host's thread is doing, for a watchdog on another thread.
    activity: std::sync::Arc<Activity>,
    /// Whether each call is counted for the metrics and the profile (on unless turned off).
    counting: Cell<bool>,
    /// `(mod, message)` for each function named almost like a hook, for `check --smoke`.
    hook_warnings: RefCell<Vec<(String, String)>>,
    /// `(mod, event)` for each undeclared event a mod was warned of (a near miss of a
    /// declared one), so that it is said once.
    warned_events: RefCell<std::collections::BTreeSet<(String, String)>>,
    /// Test mode (`modhost test`): a virtual clock and a record of emitted events.
    testing: RefCell<Option<testing::TestMode>>,
    /// A recorded or replayed session (SPEC section 16).
    session: RefCell<Option<session::Session>>,
    /// Recording, the reading of the clock a recorded call's input took, in nanoseconds of
    /// [`crate::runtime::Moment`] (0: none), for the call to start from.
    input_moment: Cell<u64>,
    link: Rc<Link>,
}

/// A running mod pack. See the module documentation.
pub struct Host {
    core: Rc<Core>,
    /// Under `run --watch`: what the host keeps to follow saves.
    followed: RefCell<Option<reload::Followed>>,
}

impl Host {
    /// A host for the usable mods of `pack`, in load order. Nothing runs until [`Host::start`].
    pub fn new(pack: Pack, config: Config) -> Host {
        let core = Rc::new_cyclic(|core| Core {
            config: RefCell::new(config),
            slots: RefCell::new(Vec::new()),
            index: RefCell::new(ModIndex::default()),
            call_stack: RefCell::new(Vec::new()),
            events: RefCell::new(EventBus::default()),
            timers: RefCell::new(TimerQueue::default()),
            next_id: Cell::new(1),
            pack_errors: RefCell::new(HashMap::new()),
            store: RefCell::new(None),
            detach_failures: RefCell::new(Vec::new()),
            game: RefCell::new(GameSide::default()),
            activity: std::sync::Arc::new(Activity::default()),
            counting: Cell::new(true),
            hook_warnings: RefCell::new(Vec::new()),
            warned_events: RefCell::new(std::collections::BTreeSet::new()),
            testing: RefCell::new(None),
            session: RefCell::new(None),
            input_moment: Cell::new(0),
            link: Rc::new(Link::new(core.clone())),
        });
        let (slots, pack_errors) = reload::slots_for(pack, &ModIndex::default());
        core.install(slots, pack_errors);
        Host {
            core,
            followed: RefCell::new(None),
        }
    }

    /// Attaches every mod in load order, then bootstraps them. A mod that fails is reported
    /// in [`Host::mods`] and the others go on.
    pub fn start(&self) {
        let _input = self.core.input(|| Input::Start {});
        let slots = self.core.slots.borrow().clone();
        self.core.start(&slots);
    }

    /// Calls `function` of mod `id` and returns its result; a promise is awaited (timers run
    /// meanwhile). Events emitted during the call are delivered before this returns.
    pub fn call(&self, id: &str, function: &str, args: &[Json]) -> Result<Json, CallError> {
        let _input = self.core.input(|| InputRef::Call {
            mod_id: id,
            function,
            args,
        });
        let result = self.core.call_function(id, function, args);
        self.core.output(|| match &result {
            Ok(value) => OutputRef::Returned(value),
            Err(error) => Output::Failed(error.to_string()).into(),
        });
        self.core.deliver_events();
        result
    }

    /// Sends an event from the game to the mods and delivers it: `before` handlers, then `on`
    /// handlers, in load order. Returns the payload as the `before` handlers left it, or `None`
    /// when one cancelled the event. A payload that does not fit the event's declaration in
    /// the game's API is refused.
    pub fn emit(&self, event: &str, payload: impl Into<Json>) -> Result<Option<Json>, EmitError> {
        let payload = payload.into();
        self.core
            .check_event_name(event, crate::game_api::Direction::Game, None)?;
        self.core.check_event_payload(event, &payload)?;
        let _input = self.core.input(|| InputRef::Emit {
            event,
            payload: &payload,
        });
        // Events mods queued before this one are delivered first, in order.
        self.core.deliver_events();
        let delivered = self.core.deliver(Event {
            name: event.to_owned(),
            payload,
            sender: None,
            location: None,
        });
        self.core.output(|| match &delivered {
            Some(payload) => OutputRef::Delivered(payload),
            None => Output::Cancelled {}.into(),
        });
        self.core.deliver_events();
        Ok(delivered)
    }

    /// When the next timer is due, if any is set.
    pub fn next_timer_due(&self) -> Option<Instant> {
        self.core.timers.borrow_mut().next_due()
    }

    /// Runs every timer that is due, and the events they emit.
    pub fn run_due_timers(&self) {
        self.core.run_due_timers();
    }

    /// What the host's thread is doing, for a watchdog on another thread: which mod has
    /// control and since when. [`Activity::request_stop`] asks the host to stop.
    pub fn activity(&self) -> std::sync::Arc<Activity> {
        std::sync::Arc::clone(&self.core.activity)
    }

    /// Turns counting each call (the metrics' calls, errors and time, and the profile's
    /// slowest calls) on or off; it is on from the start. Limits hold either way.
    pub fn count_calls(&self, on: bool) {
        self.core.counting.set(on);
    }

    /// Whether nothing is pending: no timer set and no event waiting.
    pub fn is_idle(&self) -> bool {
        self.core.timers.borrow().is_empty() && self.core.events.borrow().is_idle()
    }

    /// Whether the pack has a mod `id` (in any state).
    pub fn has_mod(&self, id: &str) -> bool {
        self.core.index.borrow().contains_key(id)
    }

    /// Every mod with its state, in load order.
    pub fn mods(&self) -> Vec<ModStatus> {
        self.core.statuses()
    }

    /// Whether any mod failed or is blocked.
    pub fn has_failures(&self) -> bool {
        self.core
            .slots
            .borrow()
            .iter()
            .any(|slot| slot.state.borrow().reason().is_some())
    }

    /// Detaches every running mod in reverse load order. Returns the `onDetach` hooks that
    /// failed along the way, as `(mod id, why)`. Called while a call into a mod is in progress
    /// (from inside a game function), it detaches nothing: it asks the host to stop
    /// ([`Activity::request_stop`]), which ends the waits of that call, and reports the mods
    /// still on the call stack; call it again once the call has returned.
    pub fn shutdown(&self) -> Vec<(String, String)> {
        if let Err(busy) = self.core.not_in_a_call("shut down") {
            self.core.activity.request_stop();
            return busy
                .chain
                .iter()
                .map(|id| (id.clone(), busy.to_string()))
                .collect();
        }
        let input = self.core.input(|| Input::Shutdown {});
        self.core.shutdown();
        drop(input);
        self.core.detach_failures.take()
    }
}

impl Core {
    /// `Ok` when no call into a mod is in progress, so that `operation` may change mods.
    fn not_in_a_call(&self, operation: &str) -> Result<(), InCall> {
        let stack = self.call_stack.borrow();
        if stack.is_empty() {
            return Ok(());
        }
        Err(InCall {
            operation: operation.to_owned(),
            chain: stack.iter().map(|slot| slot.id.clone()).collect(),
        })
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A host is dropped from its owner's frame, never from inside one of its own calls.
        if self.core.call_stack.borrow().is_empty() {
            self.core.shutdown();
        }
    }
}
