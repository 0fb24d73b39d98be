//! What the host counts about each mod while it runs (SPEC section 13): calls, errors, limit
//! breaches and the time spent inside the mod, counted where the host enters a mod; memory,
//! timers and storage read when asked. [`Host::stats`] gives them as data, [`Host::metrics`]
//! in the Prometheus text format.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

use super::{Host, Slot};
use crate::runtime::{ErrorKind, ScriptError};

/// The running counts of one mod; they survive its reloads.
#[derive(Default)]
pub(super) struct Counts {
    calls: Cell<u64>,
    errors: Cell<u64>,
    timeouts: Cell<u64>,
    memory_breaches: Cell<u64>,
    /// Time inside the mod, in nanoseconds (kept as a count: adding `Duration`s normalises
    /// each with a division).
    busy_nanos: Cell<u64>,
    reloads: Cell<u64>,
    last_error: RefCell<Option<String>>,
    /// How long loading the mod's code, `onAttach` and `onBootstrap` took, last time.
    loaded: Cell<Duration>,
    attached: Cell<Duration>,
    bootstrapped: Cell<Duration>,
    /// The slowest calls, slowest first.
    slowest: RefCell<Vec<(String, Duration)>>,
}

/// How many of a mod's slowest calls are kept.
const SLOWEST: usize = 5;
/// Calls faster than this are never among the slowest (naming a call has a cost).
pub(super) const NOTABLE: Duration = Duration::from_micros(10);

/// When in a mod's life a start-up figure was taken.
#[derive(Debug, Clone, Copy)]
pub(super) enum Phase {
    Load,
    Attach,
    Bootstrap,
}

impl Counts {
    /// One call into the mod that took `took_nanos` and ended with `result`.
    pub(super) fn record<R>(&self, took_nanos: u64, result: &Result<R, ScriptError>) {
        self.calls.set(self.calls.get() + 1);
        self.busy_nanos.set(self.busy_nanos.get() + took_nanos);
        if let Err(error) = result {
            self.failed(error);
        }
    }

    /// An error in the mod: of a call, or of one of its event handlers that ran together.
    pub(super) fn failed(&self, error: &ScriptError) {
        self.errors.set(self.errors.get() + 1);
        *self.last_error.borrow_mut() = Some(error.to_string());
        match error.kind {
            ErrorKind::Timeout => self.timeouts.set(self.timeouts.get() + 1),
            ErrorKind::Memory => self.memory_breaches.set(self.memory_breaches.get() + 1),
            _ => {}
        }
    }

    pub(super) fn reloaded(&self) {
        self.reloads.set(self.reloads.get() + 1);
    }

    pub(super) fn timed(&self, phase: Phase, took: Duration) {
        match phase {
            Phase::Load => self.loaded.set(took),
            Phase::Attach => self.attached.set(took),
            Phase::Bootstrap => self.bootstrapped.set(took),
        }
    }

    /// Whether a call that took `took` may be among the slowest (cheap: no name needed).
    pub(super) fn among_slowest(&self, took: Duration) -> bool {
        if took < NOTABLE {
            return false;
        }
        let slowest = self.slowest.borrow();
        slowest.len() < SLOWEST || slowest.last().is_some_and(|(_, fastest)| took > *fastest)
    }

    /// Keeps a slow call, each kind of call once with its worst time.
    pub(super) fn note_slow(&self, label: String, took: Duration) {
        let mut slowest = self.slowest.borrow_mut();
        match slowest.iter_mut().find(|(known, _)| *known == label) {
            Some((_, worst)) => *worst = (*worst).max(took),
            None => slowest.push((label, took)),
        }
        slowest.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
        slowest.truncate(SLOWEST);
    }
}

/// A slow call: what it was and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowCall {
    pub call: String,
    pub seconds: f64,
}

/// One mod's figures, as `ctl status` and `host/status` show them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModStats {
    pub id: String,
    pub calls: u64,
    pub errors: u64,
    /// Breaches of `call_timeout_ms` and of `memory_mb`.
    pub timeouts: u64,
    pub memory_breaches: u64,
    /// Time spent inside the mod, in seconds.
    pub seconds: f64,
    /// Bytes its engine holds now (0 when it is not loaded).
    pub memory_bytes: u64,
    /// Timers it has set that are still pending.
    pub timers: u64,
    /// Bytes of its keys and values in storage.
    pub storage_bytes: u64,
    pub reloads: u64,
    /// The last error a call into it ended with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// How long loading its code, `onAttach` and `onBootstrap` took, in seconds.
    pub load_seconds: f64,
    pub attach_seconds: f64,
    pub bootstrap_seconds: f64,
    /// Its slowest calls (functions, hooks, handlers, timers), slowest first.
    pub slowest: Vec<SlowCall>,
}

type Labels = Vec<(&'static str, String)>;

impl Host {
    /// Every mod's figures, in load order.
    pub fn stats(&self) -> Vec<ModStats> {
        let core = &self.core;
        let slots = core.slots.borrow().clone();
        slots
            .iter()
            .map(|slot| {
                let counts = &slot.counts;
                let memory_bytes = slot
                    .instance
                    .try_borrow()
                    .ok()
                    .and_then(|instance| instance.as_ref().map(|instance| instance.memory_used()))
                    .unwrap_or(0);
                ModStats {
                    id: slot.id.clone(),
                    calls: counts.calls.get(),
                    errors: counts.errors.get(),
                    timeouts: counts.timeouts.get(),
                    memory_breaches: counts.memory_breaches.get(),
                    seconds: counts.busy_nanos.get() as f64 / 1e9,
                    memory_bytes,
                    timers: core.timers.borrow().pending(slot) as u64,
                    storage_bytes: core.storage_bytes(slot),
                    reloads: counts.reloads.get(),
                    last_error: counts.last_error.borrow().clone(),
                    load_seconds: counts.loaded.get().as_secs_f64(),
                    attach_seconds: counts.attached.get().as_secs_f64(),
                    bootstrap_seconds: counts.bootstrapped.get().as_secs_f64(),
                    slowest: counts
                        .slowest
                        .borrow()
                        .iter()
                        .map(|(call, took)| SlowCall {
                            call: call.clone(),
                            seconds: took.as_secs_f64(),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The figures of SPEC section 13 in the Prometheus text format: per mod (label `mod`)
    /// `modhost_calls_total`, `modhost_call_errors_total`, `modhost_limit_breaches_total`
    /// (also labelled `limit`), `modhost_call_seconds_total`, `modhost_memory_bytes`,
    /// `modhost_timers`, `modhost_storage_bytes`, `modhost_reloads_total`; and `modhost_mods`
    /// by `state`.
    pub fn metrics(&self) -> String {
        let mut registry = Registry::default();
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<Labels, Counter>::default();
            registry.register(name, help, family.clone());
            family
        };
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<Labels, Gauge>::default();
            registry.register(name, help, family.clone());
            family
        };
        let calls = counter(
            &mut registry,
            "modhost_calls",
            "Calls into the mod: functions, hooks, handlers, timers",
        );
        let errors = counter(
            &mut registry,
            "modhost_call_errors",
            "Calls into the mod that ended in an error",
        );
        let breaches = counter(
            &mut registry,
            "modhost_limit_breaches",
            "Calls stopped for breaking a limit",
        );
        let seconds = Family::<Labels, Counter<f64>>::default();
        registry.register(
            "modhost_call_seconds",
            "Time spent inside the mod",
            seconds.clone(),
        );
        let memory = gauge(
            &mut registry,
            "modhost_memory_bytes",
            "Memory the mod's engine holds",
        );
        let timers = gauge(&mut registry, "modhost_timers", "The mod's pending timers");
        let storage = gauge(
            &mut registry,
            "modhost_storage_bytes",
            "Bytes of the mod's keys and values in storage",
        );
        let reloads = counter(
            &mut registry,
            "modhost_reloads",
            "Times the mod was reloaded",
        );
        let mods = gauge(&mut registry, "modhost_mods", "Mods by state");
        for stats in self.stats() {
            let labels = vec![("mod", stats.id.clone())];
            calls.get_or_create(&labels).inc_by(stats.calls);
            errors.get_or_create(&labels).inc_by(stats.errors);
            for (limit, count) in [
                ("call_timeout_ms", stats.timeouts),
                ("memory_mb", stats.memory_breaches),
            ] {
                let labels = vec![("mod", stats.id.clone()), ("limit", limit.to_owned())];
                breaches.get_or_create(&labels).inc_by(count);
            }
            seconds.get_or_create(&labels).inc_by(stats.seconds);
            memory.get_or_create(&labels).set(stats.memory_bytes as i64);
            timers.get_or_create(&labels).set(stats.timers as i64);
            storage
                .get_or_create(&labels)
                .set(stats.storage_bytes as i64);
            reloads.get_or_create(&labels).inc_by(stats.reloads);
        }
        for state in [
            "resolved", "attached", "active", "detached", "failed", "blocked", "disabled",
        ] {
            // Every state appears, at 0 when no mod is in it.
            let _ = mods.get_or_create(&vec![("state", state.to_owned())]);
        }
        for status in self.mods() {
            mods.get_or_create(&vec![("state", status.state.to_owned())])
                .inc();
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}

impl super::Core {
    /// The mod's bytes in storage, if the store is open (it opens on first use).
    fn storage_bytes(&self, slot: &Slot) -> u64 {
        self.store
            .borrow()
            .as_ref()
            .and_then(|store| store.bytes_used(&slot.id).ok())
            .unwrap_or(0)
    }
}
