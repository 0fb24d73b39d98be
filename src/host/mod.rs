//! The host: the loaded mods, their lifecycle, calls between them, and the event bus.
//!
//! [`Host`] is the embedding API: build it from a [`Pack`] and a [`Config`], [`Host::start`]
//! it (attach and bootstrap every mod in load order), call mod functions and emit events, and
//! [`Host::shutdown`] it (detach in reverse order). The command line uses exactly this API.
//!
//! Everything runs on the thread that owns the host. A call into a mod borrows that mod's
//! instance; a call that would re-enter a mod already on the call stack (A calls B calls A) is
//! refused with an error naming the chain, never a deadlock.

mod events;
mod lifecycle;
mod state;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

pub use state::{ModState, ModStatus};

use crate::config::Config;
use crate::pack::{ModEntry, Pack};
use crate::runtime::{HandlerId, HandlerKind, HostApi, Json, LogLevel, ModInstance, ScriptError};
use events::{Event, EventBus, Subscription};

/// The `tracing` target of what mods log (`modhost.log.*`, `console.*`, Lua `print`); each
/// event has a `mod_id` field. Filter with `modhost::mods=warn`, for example.
pub const MOD_LOG_TARGET: &str = "modhost::mods";

/// Why a call into a mod did not return a value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("there is no mod `{id}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownMod {
        id: String,
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
    #[error("`{id}`.{function} failed: {error}")]
    Script {
        id: String,
        function: String,
        error: Box<ScriptError>,
    },
}

/// "did you mean" for a near miss, else the functions the mod has.
fn function_hint(function: &str, available: &[String]) -> String {
    if let Some(similar) = crate::suggest::closest(function, available.iter().map(String::as_str)) {
        return format!("; did you mean `{similar}`?");
    }
    if available.is_empty() {
        return String::new();
    }
    format!("; it has {}", available.join(", "))
}

/// One mod of the pack, as the host holds it.
struct Slot {
    entry: ModEntry,
    position: usize,
    state: RefCell<ModState>,
    instance: RefCell<Option<Box<dyn ModInstance>>>,
    /// Handlers the mod no longer needs, released the next time the mod is entered.
    released: RefCell<Vec<HandlerId>>,
}

/// The shared insides of a [`Host`]; mods reach it through [`Link`].
struct Core {
    config: Config,
    slots: Vec<Rc<Slot>>,
    index: HashMap<String, usize>,
    /// Positions of the mods currently running, outermost first.
    call_stack: RefCell<Vec<usize>>,
    events: RefCell<EventBus>,
    next_id: Cell<u64>,
    /// Error diagnostics of the pack, by mod id: such mods start out blocked.
    pack_errors: HashMap<String, String>,
}

/// The `HostApi` handed to mod instances. It holds the core weakly so that instances, which
/// the core owns, do not keep it alive.
struct Link {
    core: Weak<Core>,
}

/// A running mod pack. See the module documentation.
pub struct Host {
    core: Rc<Core>,
    link: Rc<Link>,
}

impl Host {
    /// A host for the usable mods of `pack`, in load order. Nothing runs until [`Host::start`].
    pub fn new(pack: Pack, config: Config) -> Host {
        let mut pack_errors: HashMap<String, String> = HashMap::new();
        for diagnostic in pack.diagnostics.iter().filter(|d| d.is_error()) {
            if let Some(id) = &diagnostic.mod_id {
                pack_errors
                    .entry(id.clone())
                    .or_insert_with(|| diagnostic.message.clone());
            }
        }
        let Pack {
            mods, resolution, ..
        } = pack;
        let mut mods: Vec<Option<ModEntry>> = mods.into_iter().map(Some).collect();
        let slots: Vec<Rc<Slot>> = resolution
            .order
            .iter()
            .enumerate()
            .filter_map(|(position, &index)| {
                let entry = mods[index].take()?;
                Some(Rc::new(Slot {
                    entry,
                    position,
                    state: RefCell::new(ModState::Resolved),
                    instance: RefCell::new(None),
                    released: RefCell::new(Vec::new()),
                }))
            })
            .collect();
        let index = slots
            .iter()
            .map(|slot| (slot.entry.id().to_owned(), slot.position))
            .collect();
        let core = Rc::new(Core {
            config,
            slots,
            index,
            call_stack: RefCell::new(Vec::new()),
            events: RefCell::new(EventBus::default()),
            next_id: Cell::new(1),
            pack_errors,
        });
        let link = Rc::new(Link {
            core: Rc::downgrade(&core),
        });
        Host { core, link }
    }

    /// Attaches every mod in load order, then bootstraps them. A mod that fails is reported
    /// in [`Host::mods`] and the others go on.
    pub fn start(&self) {
        self.core.start(self.link.clone());
    }

    /// Calls `function` of mod `id` and returns its result. Events emitted during the call
    /// are delivered before this returns.
    pub fn call(&self, id: &str, function: &str, args: &[Json]) -> Result<Json, CallError> {
        let result = self.core.call(id, function, args);
        self.core.deliver_events();
        result
    }

    /// Queues an event, as a mod's `modhost.events.emit` would, and delivers it.
    pub fn emit(&self, event: &str, payload: Json) -> Result<(), String> {
        self.core.events.borrow_mut().push(Event {
            name: event.to_owned(),
            payload,
        })?;
        self.core.deliver_events();
        Ok(())
    }

    /// Every mod with its state, in load order.
    pub fn mods(&self) -> Vec<ModStatus> {
        self.core.statuses()
    }

    /// Whether any mod failed or is blocked.
    pub fn has_failures(&self) -> bool {
        self.core
            .slots
            .iter()
            .any(|slot| slot.state.borrow().reason().is_some())
    }

    /// Detaches every running mod in reverse load order.
    pub fn shutdown(&self) {
        self.core.shutdown();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

impl Core {
    fn slot(&self, id: &str) -> Result<&Rc<Slot>, CallError> {
        self.index
            .get(id)
            .map(|&position| &self.slots[position])
            .ok_or_else(|| CallError::UnknownMod {
                id: id.to_owned(),
                suggestion: crate::suggest::closest(id, self.index.keys().map(String::as_str))
                    .map(str::to_owned),
            })
    }

    /// Runs `body` with the mod's instance borrowed, refusing re-entry.
    fn enter<R>(
        &self,
        slot: &Slot,
        body: impl FnOnce(&mut dyn ModInstance) -> Result<R, ScriptError>,
    ) -> Result<Result<R, ScriptError>, CallError> {
        let id = slot.entry.id();
        let Ok(mut guard) = slot.instance.try_borrow_mut() else {
            let chain = self
                .call_stack
                .borrow()
                .iter()
                .chain([&slot.position])
                .map(|&position| self.slots[position].entry.id().to_owned())
                .collect();
            return Err(CallError::Reentrant { chain });
        };
        let stopped = matches!(
            *slot.state.borrow(),
            ModState::Failed(_) | ModState::Blocked(_) | ModState::Detached
        );
        let Some(instance) = guard.as_mut().filter(|_| !stopped) else {
            return Err(CallError::NotRunning {
                id: id.to_owned(),
                state: slot.state.borrow().to_string(),
            });
        };
        for handler in slot.released.take() {
            instance.release_handler(handler);
        }
        self.call_stack.borrow_mut().push(slot.position);
        let result = body(instance.as_mut());
        self.call_stack.borrow_mut().pop();
        // A mod blocked while it was running is unloaded once its call returns.
        if !slot.state.borrow().is_running() && *slot.state.borrow() != ModState::Resolved {
            guard.take();
        }
        drop(guard);
        if let Err(error) = &result
            && error.is_limit()
        {
            self.fail(slot, format!("it broke a limit: {error}"));
        }
        Ok(result)
    }

    fn call(&self, id: &str, function: &str, args: &[Json]) -> Result<Json, CallError> {
        let slot = Rc::clone(self.slot(id)?);
        if !slot.state.borrow().is_running() {
            return Err(CallError::NotRunning {
                id: id.to_owned(),
                state: slot.state.borrow().to_string(),
            });
        }
        let mut available = Vec::new();
        let result = self.enter(&slot, |instance| {
            let result = instance.call(function, args)?;
            if result.is_none() {
                available = instance.functions();
            }
            Ok(result)
        })?;
        match result {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(CallError::NoSuchFunction {
                id: id.to_owned(),
                function: function.to_owned(),
                available,
            }),
            Err(error) => Err(CallError::Script {
                id: id.to_owned(),
                function: function.to_owned(),
                error: Box::new(error),
            }),
        }
    }

    fn statuses(&self) -> Vec<ModStatus> {
        self.slots
            .iter()
            .map(|slot| {
                let state = slot.state.borrow();
                ModStatus {
                    id: slot.entry.id().to_owned(),
                    version: slot.entry.manifest.version.to_string(),
                    state: state.name(),
                    reason: state.reason().map(str::to_owned),
                }
            })
            .collect()
    }

    /// Delivers queued events, unless a mod is running (then its caller will).
    fn deliver_events(&self) {
        if !self.call_stack.borrow().is_empty() {
            return;
        }
        loop {
            let Some(event) = self.events.borrow_mut().pop() else {
                return;
            };
            let handlers = self.events.borrow().handlers(&event.name);
            let mut payload = event.payload;
            for subscription in handlers {
                match self.run_handler(&subscription, &event.name, &payload) {
                    Some(Json::Bool(false)) if subscription.kind == HandlerKind::Before => {
                        tracing::debug!(event = %event.name, "cancelled by `{}`", self.slots[subscription.mod_position].entry.id());
                        break;
                    }
                    Some(replacement)
                        if subscription.kind == HandlerKind::Before && !replacement.is_null() =>
                    {
                        payload = replacement;
                    }
                    _ => {}
                }
            }
        }
    }

    fn run_handler(
        &self,
        subscription: &Subscription,
        event: &str,
        payload: &Json,
    ) -> Option<Json> {
        let slot = Rc::clone(&self.slots[subscription.mod_position]);
        let args = [payload.clone(), Json::String(event.to_owned())];
        match self.enter(&slot, |instance| {
            instance.call_handler(subscription.handler, &args)
        }) {
            Ok(Ok(result)) => Some(result),
            Ok(Err(error)) => {
                tracing::error!(
                    mod_id = slot.entry.id(),
                    "handler for event `{event}` failed: {error}"
                );
                None
            }
            Err(error) => {
                tracing::error!(
                    mod_id = slot.entry.id(),
                    "handler for event `{event}` did not run: {error}"
                );
                None
            }
        }
    }
}

impl HostApi for Link {
    fn log(&self, mod_id: &str, level: LogLevel, message: &str) {
        match level {
            LogLevel::Debug => tracing::debug!(target: MOD_LOG_TARGET, mod_id, "{message}"),
            LogLevel::Info => tracing::info!(target: MOD_LOG_TARGET, mod_id, "{message}"),
            LogLevel::Warn => tracing::warn!(target: MOD_LOG_TARGET, mod_id, "{message}"),
            LogLevel::Error => tracing::error!(target: MOD_LOG_TARGET, mod_id, "{message}"),
        }
    }

    fn call(
        &self,
        _mod_id: &str,
        target: &str,
        function: &str,
        args: Vec<Json>,
    ) -> Result<Json, String> {
        let core = self.core.upgrade().ok_or("the host has shut down")?;
        core.call(target, function, &args)
            .map_err(|error| error.to_string())
    }

    fn list(&self) -> Json {
        self.core
            .upgrade()
            .map(|core| serde_json::to_value(core.statuses()).unwrap_or_default())
            .unwrap_or_default()
    }

    fn subscribe(&self, mod_id: &str, event: &str, kind: HandlerKind, handler: HandlerId) -> u64 {
        let Some(core) = self.core.upgrade() else {
            return 0;
        };
        let id = self.next_handler_id();
        if let Some(&mod_position) = core.index.get(mod_id) {
            core.events.borrow_mut().subscribe(Subscription {
                id,
                event: event.to_owned(),
                mod_position,
                kind,
                handler,
            });
        }
        id
    }

    fn unsubscribe(&self, _mod_id: &str, subscription: u64) -> bool {
        let Some(core) = self.core.upgrade() else {
            return false;
        };
        let removed = core.events.borrow_mut().unsubscribe(subscription);
        match removed {
            Some(subscription) => {
                core.slots[subscription.mod_position]
                    .released
                    .borrow_mut()
                    .push(subscription.handler);
                true
            }
            None => false,
        }
    }

    fn emit(&self, _mod_id: &str, event: &str, payload: Json) -> Result<(), String> {
        let core = self.core.upgrade().ok_or("the host has shut down")?;
        core.events.borrow_mut().push(Event {
            name: event.to_owned(),
            payload,
        })
    }

    fn next_handler_id(&self) -> HandlerId {
        match self.core.upgrade() {
            Some(core) => {
                let id = core.next_id.get();
                core.next_id.set(id + 1);
                id
            }
            None => 0,
        }
    }
}
