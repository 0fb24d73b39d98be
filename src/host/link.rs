//! The [`HostServices`] handed to mod instances: what `modhost.*` does inside the host.

use std::cell::Cell;
use std::io::Read as _;
use std::path::Path;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use super::events::{Event, Refused, Subscription};
use super::{Core, MOD_LOG_TARGET, Slot};
use crate::runtime::{
    ErrorKind, HandlerId, HandlerKind, HostError, HostServices, Json, LogLevel, ScriptError,
    Service, TestStep,
};
use crate::storage::{StorageError, Store};
use crate::value::Text;

/// The largest file `modhost.fs.readText` reads.
const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// Opens a file for reading without waiting: opening a FIFO for reading would otherwise block
/// until a writer comes.
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Holds the core weakly, so that instances (which the core owns) do not keep it alive.
pub(super) struct Link {
    core: Weak<Core>,
    /// The host's own waits during the last service ([`HostServices::take_host_wait`]).
    host_wait: Cell<Duration>,
}

impl Link {
    pub(super) fn new(core: Weak<Core>) -> Link {
        Link {
            core,
            host_wait: Cell::default(),
        }
    }

    fn core(&self) -> Result<Rc<Core>, String> {
        self.core
            .upgrade()
            .ok_or_else(|| "the host has shut down".to_owned())
    }
}

impl Core {
    /// Runs `body` with the mods' store, opened on first use: in memory under `modhost test`
    /// and under a replay (which never touches the user's storage), else in the data dir.
    pub(super) fn with_store<R>(
        &self,
        body: impl FnOnce(&Store) -> Result<R, StorageError>,
    ) -> Result<R, String> {
        let mut store = self.store.borrow_mut();
        let store = match &mut *store {
            Some(store) => store,
            empty => {
                let opened = if self.testing.borrow().is_some() || self.is_replaying() {
                    Store::in_memory()
                } else {
                    Store::open(&self.config.borrow().data_dir)
                };
                empty.insert(opened.map_err(|error| error.to_string())?)
            }
        };
        body(store).map_err(|error| error.to_string())
    }
}

/// The services, each as the host does it.
impl Link {
    fn subscribe(&self, mod_id: &str, event: &str, kind: HandlerKind, handler: HandlerId) -> u64 {
        let Ok(core) = self.core() else {
            return 0;
        };
        let id = core.new_id();
        if let Some(slot) = core.index.borrow().get(mod_id) {
            core.events.borrow_mut().subscribe(
                Subscription {
                    id,
                    event: event.to_owned(),
                    owner: Rc::clone(slot),
                    kind,
                    handler,
                },
                slot.position.get(),
            );
        }
        id
    }

    fn set_timer(
        &self,
        mod_id: &str,
        delay: Duration,
        repeat: bool,
        handler: HandlerId,
    ) -> Result<u64, String> {
        let core = self.core()?;
        let slot = core.slot(mod_id).map_err(|error| error.to_string())?;
        let max_timers = core.config.borrow().limits_for(mod_id).max_timers;
        let live = core.timers.borrow().pending(&slot) as u64;
        if live >= max_timers {
            return Err(format!(
                "the mod has {live} timers pending, as many as `max_timers` = {max_timers} allows: cancel some first, or raise the limit in `config.toml`"
            ));
        }
        let id = core.new_id();
        let now = core.now();
        core.timers
            .borrow_mut()
            .add(id, slot, handler, delay, repeat, now);
        Ok(id)
    }

    fn list(&self) -> Json {
        self.core()
            .map(|core| crate::value::to_value(&core.statuses()))
            .unwrap_or_default()
    }

    fn unsubscribe(&self, mod_id: &str, subscription: u64) -> bool {
        let Ok(core) = self.core() else {
            return false;
        };
        let removed = core
            .events
            .borrow_mut()
            .unsubscribe(subscription, |owner| owner.id == mod_id);
        removed.is_some_and(|subscription| release(&subscription.owner, subscription.handler))
    }

    fn cancel_timer(&self, mod_id: &str, timer: u64) -> bool {
        let Ok(core) = self.core() else {
            return false;
        };
        let cancelled = core
            .timers
            .borrow_mut()
            .cancel(timer, |owner| owner.id == mod_id);
        cancelled.is_some_and(|timer| release(&timer.owner, timer.handler))
    }

    fn storage(&self, mod_id: &str, service: Service, args: &[Json]) -> Result<Json, String> {
        let core = self.core()?;
        let quota_mb = core.config.borrow().limits_for(mod_id).storage_mb;
        let key = text(args, 0);
        // The host's waits (opening the store, another process's write lock) are not the
        // mod's time, and no mod has control meanwhile for the watchdog either: the operation
        // itself is microseconds, the waits up to seconds.
        core.activity.without_control(|| {
            let mut waited = Duration::ZERO;
            if core.store.borrow().is_none() {
                let opening = Instant::now();
                // A failure is the operation's to report: it tries again.
                let _ = core.with_store(|_| Ok(()));
                waited += opening.elapsed();
            }
            let served = core.with_store(|store| {
                let (served, locked) = store.timing_lock_waits(|store| match service {
                    Service::StorageSet => store
                        .set(mod_id, &key, args.get(1).unwrap_or(&Json::Null), quota_mb)
                        .map(|()| Json::Null),
                    Service::StorageDelete => store.delete(mod_id, &key).map(Json::Bool),
                    Service::StorageKeys => store.keys(mod_id, &key).map(Json::from),
                    _ => store.get(mod_id, &key).map(Option::unwrap_or_default),
                });
                waited += locked;
                served
            });
            self.host_wait.set(waited);
            served
        })
    }

    fn read_text(&self, mod_id: &str, path: &str) -> Result<String, String> {
        let core = self.core()?;
        let dir = core
            .slot(mod_id)
            .map_err(|error| error.to_string())?
            .entry
            .borrow()
            .dir
            .clone();
        let file = crate::confine::inside(&dir, Path::new(path))
            .map_err(|refusal| format!("cannot read `{path}`: it {refusal}"))?;
        let cannot = |why: String| format!("cannot read `{path}`: {why}");
        let mut opened = open_without_waiting(&file).map_err(|error| cannot(error.to_string()))?;
        let metadata = opened
            .metadata()
            .map_err(|error| cannot(error.to_string()))?;
        // A FIFO, a socket or a device could block the host forever or never end.
        if !metadata.is_file() {
            return Err(cannot("it is not a regular file".to_owned()));
        }
        if metadata.len() > MAX_READ_BYTES {
            return Err(cannot(format!(
                "it is larger than {} MiB",
                MAX_READ_BYTES / 1024 / 1024
            )));
        }
        let mut text = String::new();
        std::io::Read::take(&mut opened, MAX_READ_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|error| cannot(error.to_string()))?;
        Ok(text)
    }
}

/// Hands `handler` back to the mod that gave it, to be released the next time the mod is
/// entered; always `true` (what `off` and `cancel` answer once they found theirs).
fn release(owner: &Slot, handler: HandlerId) -> bool {
    owner.released.borrow_mut().push(handler);
    true
}

/// The string argument at `index` (a number stands for its text, as Lua passes it); empty when
/// it is absent or `null` (an optional one left out).
fn text(args: &[Json], index: usize) -> Text {
    match args.get(index) {
        Some(Json::String(text)) => text.clone(),
        Some(Json::Null) | None => Text::default(),
        Some(other) => Text::from(other.to_string()),
    }
}

/// The id (of a subscription, a timer or a handler) at `index`; 0, which no id is, otherwise.
fn id(args: &[Json], index: usize) -> u64 {
    args.get(index)
        .and_then(Json::as_f64)
        .map_or(0, |id| id as u64)
}

impl HostServices for Link {
    fn take_host_wait(&self) -> Duration {
        self.host_wait.take()
    }

    fn serve(&self, mod_id: &str, service: Service, args: &[Json]) -> Result<Json, String> {
        match service {
            Service::ModsList => Ok(self.list()),
            Service::EventsOn | Service::EventsBefore => {
                let kind = match service {
                    Service::EventsBefore => HandlerKind::Before,
                    _ => HandlerKind::On,
                };
                let event = text(args, 0);
                Ok(Json::from(self.subscribe(
                    mod_id,
                    &event,
                    kind,
                    id(args, 1),
                )))
            }
            Service::EventsOff => Ok(Json::Bool(self.unsubscribe(mod_id, id(args, 0)))),
            Service::TimersAfter | Service::TimersEvery => {
                let ms = args.first().and_then(Json::as_f64).unwrap_or(0.0);
                let delay = Duration::from_secs_f64(ms.clamp(0.0, 1e12) / 1000.0);
                let repeat = service == Service::TimersEvery;
                self.set_timer(mod_id, delay, repeat, id(args, 1))
                    .map(Json::from)
            }
            Service::TimersCancel => Ok(Json::Bool(self.cancel_timer(mod_id, id(args, 0)))),
            Service::FsReadText => self.read_text(mod_id, &text(args, 0)).map(Json::from),
            Service::TestEmitted => Ok(Json::Array(
                self.core()?.test_emitted(mod_id, &text(args, 0)),
            )),
            Service::StorageGet
            | Service::StorageSet
            | Service::StorageDelete
            | Service::StorageKeys => self.storage(mod_id, service, args),
        }
    }

    fn log(&self, mod_id: &str, level: LogLevel, message: &str) {
        if let Ok(core) = self.core() {
            if core.keep_test_log(mod_id, level, message) {
                return;
            }
            core.forward_log(mod_id, level, message);
        }
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
        args: &[Json],
    ) -> Result<Json, String> {
        self.core()?
            .call_function(target, function, args)
            .map_err(|error| error.to_string())
    }

    fn wants_locations(&self) -> bool {
        self.core().is_ok_and(|core| core.is_replaying())
    }

    fn located(&self, location: String) {
        if let Ok(core) = self.core() {
            core.note_location(Some(location));
        }
    }

    fn emit(&self, mod_id: &str, event: &str, payload: Json) -> Result<(), HostError> {
        let core = self.core()?;
        core.check_event_name(event, crate::game_api::Direction::Mods, Some(mod_id))
            .and_then(|()| core.check_event_payload(event, &payload))
            .map_err(|refused| refused.to_string())?;
        core.record_emitted(mod_id, event, &payload);
        let memory_mb = core.config.borrow().limits_for(mod_id).memory_mb;
        let event = Event {
            name: event.to_owned(),
            payload,
            sender: Some(mod_id.to_owned()),
            location: core.take_location(),
        };
        let pushed = core
            .events
            .borrow_mut()
            .push(event, memory_mb.saturating_mul(1024 * 1024));
        pushed.map_err(|refused| match refused {
            Refused::Full(_) => HostError::Refused(refused.to_string()),
            Refused::Flood(_) => {
                HostError::Breach(ScriptError::new(ErrorKind::Memory, refused.to_string()))
            }
            Refused::OverMemory { .. } => HostError::Breach(ScriptError::out_of_memory(
                memory_mb,
                Some(&refused.to_string()),
            )),
        })
    }

    fn game_call(&self, mod_id: &str, function: &str, args: Vec<Json>) -> Result<Json, String> {
        self.core()?.game_call(mod_id, function, &args)
    }

    fn next_handler_id(&self) -> HandlerId {
        self.core().map_or(0, |core| core.new_id())
    }

    fn test_next_timer(&self, mod_id: &str, until_ms: u64) -> Option<HandlerId> {
        self.core().ok()?.test_next_timer(mod_id, until_ms)
    }

    fn test_now_ms(&self) -> u64 {
        self.core().map_or(0, |core| core.test_now_ms())
    }

    fn test_handlers(&self, mod_id: &str, event: &str) -> Vec<(HandlerId, HandlerKind)> {
        self.core()
            .map_or_else(|_| Vec::new(), |core| core.test_handlers(mod_id, event))
    }

    fn test_progress(&self, step: TestStep) {
        if let Ok(core) = self.core() {
            core.test_progress(step);
        }
    }
}
