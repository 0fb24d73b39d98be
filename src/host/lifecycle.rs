//! Attach, bootstrap, detach: the lifecycle of SPEC section 4, and what failure does to it.
//!
//! A mod whose hook throws or breaks a limit is `failed`; every mod that requires it is
//! detached and `blocked`, with the reason; all other mods go on.

use std::rc::Rc;

use std::time::Instant;

use super::stats::Phase;
use super::{Core, ModState, Slot};
use crate::runtime::surface::{ON_ATTACH, ON_BOOTSTRAP, ON_DETACH, ON_RELOAD};
use crate::runtime::{GameGlobal, InstanceSetup, Json};
use crate::value::Object;

impl Core {
    /// Attaches `slots` in load order, then bootstraps those that attached. `states` holds
    /// what the old versions' `onDetach` returned, for mods being reloaded.
    pub(super) fn start_with(
        &self,
        slots: &[Rc<Slot>],
        states: &std::collections::HashMap<String, Json>,
    ) {
        for slot in slots {
            if self.activity.stopping() {
                return;
            }
            self.attach(slot, states.get(&slot.id));
            self.deliver_events();
        }
        for slot in slots {
            if *slot.state.borrow() != ModState::Attached || self.activity.stopping() {
                continue;
            }
            let bootstrapping = Instant::now();
            let bootstrapped = self.call_hook(slot, ON_BOOTSTRAP, &[]);
            slot.counts.timed(Phase::Bootstrap, bootstrapping.elapsed());
            match bootstrapped {
                // A mod blocked during its own `onBootstrap` (a mod it requires failed in a
                // call it made) stays blocked.
                Ok(_) if slot.state.borrow().is_stopped() => {}
                Ok(_) => self.set_state(slot, ModState::Active),
                Err(reason) => self.fail(slot, format!("`onBootstrap` failed: {reason}")),
            }
            self.deliver_events();
        }
    }

    pub(super) fn start(&self, slots: &[Rc<Slot>]) {
        self.start_with(slots, &std::collections::HashMap::new());
    }

    /// Loads the mod's code and runs `onAttach` (and `onReload(state)` after a reload).
    fn attach(&self, slot: &Rc<Slot>, reloaded_from: Option<&Json>) {
        let pack_error = self.pack_errors.borrow().get(&slot.id).cloned();
        if let Some(reason) = pack_error.or_else(|| self.unmet_dependency(slot)) {
            self.block(slot, reason);
            return;
        }
        let setup = self.instance_setup(slot);
        let language = slot.entry.borrow().language;
        let loading = Instant::now();
        let loaded = language.backend().instantiate(setup);
        slot.counts.timed(Phase::Load, loading.elapsed());
        match loaded {
            Ok(mut instance) => {
                self.warn_of_misspelled_hooks(slot, &instance.functions());
                *slot.instance.borrow_mut() = Some(instance);
            }
            Err(error) => {
                self.fail(slot, format!("loading failed: {error}"));
                return;
            }
        }
        self.set_state(slot, ModState::Resolved);
        let attaching = Instant::now();
        let attached = self.call_hook(slot, ON_ATTACH, &[]);
        slot.counts.timed(Phase::Attach, attaching.elapsed());
        if let Err(reason) = attached {
            self.fail(slot, format!("`onAttach` failed: {reason}"));
            return;
        }
        if let Some(state) = reloaded_from
            && let Err(reason) = self.call_hook(slot, ON_RELOAD, std::slice::from_ref(state))
        {
            self.fail(slot, format!("`onReload` failed: {reason}"));
            return;
        }
        if slot.state.borrow().is_stopped() {
            return;
        }
        self.set_state(slot, ModState::Attached);
        tracing::debug!(mod_id = slot.id, "attached");
    }

    /// A function named almost like a hook (`onAtach`, `on_attach`) is a hook that never
    /// runs: say so, once per load, and keep it for `check --smoke`.
    fn warn_of_misspelled_hooks(&self, slot: &Slot, functions: &[String]) {
        let functions: Vec<&str> = functions.iter().map(String::as_str).collect();
        for (function, hook) in crate::runtime::hooks::misspelled_hooks(&functions) {
            let message = crate::runtime::hooks::misspelled_hook(function, hook);
            tracing::warn!(mod_id = slot.id, "{message}");
            self.hook_warnings
                .borrow_mut()
                .push((slot.id.clone(), message));
        }
    }

    fn instance_setup(&self, slot: &Slot) -> InstanceSetup {
        let entry = slot.entry.borrow();
        let config = self.config.borrow();
        let limits = config.limits_for(&slot.id);
        slot.call_timeout_ms.set(limits.call_timeout_ms);
        slot.slow_call_ms.set(limits.slow_call_ms);
        InstanceSetup {
            mod_id: slot.id.clone(),
            dir: entry.dir.clone(),
            entry: entry.entry.clone(),
            info: Json::Object(Object::from_iter([
                ("id", Json::from(slot.id.as_str())),
                ("name", Json::from(entry.manifest.name.as_str())),
                ("version", Json::from(entry.manifest.version.to_string())),
                ("dir", Json::from(crate::paths::shown(&entry.dir))),
                (
                    "dataDir",
                    Json::from(config.data_dir.join(&slot.id).display().to_string()),
                ),
            ])),
            settings: Json::Object(Object::from(&entry.settings)),
            limits: config.limits_for(&slot.id),
            host: self.link.clone(),
            game: config.api.as_ref().map(|api| GameGlobal {
                name: api.global.clone(),
                functions: api.functions.keys().cloned().collect(),
            }),
            testing: self.testing.borrow().is_some(),
            reproducible: self.reproducible(&slot.id),
        }
    }

    /// The one place a mod's state changes, so that a connected game hears of every change.
    pub(super) fn set_state(&self, slot: &Slot, state: ModState) {
        if *slot.state.borrow() == state {
            return;
        }
        if matches!(state, ModState::Failed(_)) {
            self.note_failure();
        }
        *slot.state.borrow_mut() = state;
        self.report_state(slot);
    }

    /// Why a mod cannot attach because of a required dependency, if it cannot.
    fn unmet_dependency(&self, slot: &Slot) -> Option<String> {
        let entry = slot.entry.borrow();
        let index = self.index.borrow();
        entry.manifest.dependencies.iter().find_map(|dependency| {
            let Some(required) = index.get(&dependency.id) else {
                return Some(format!("requires `{}`, which is not loaded", dependency.id));
            };
            let state = required.state.borrow();
            (!state.is_running())
                .then(|| format!("requires `{}`, which {}", dependency.id, state.as_outcome()))
        })
    }

    /// Calls an optional hook and waits for it (a returned promise is awaited).
    pub(super) fn call_hook(
        &self,
        slot: &Rc<Slot>,
        hook: &str,
        args: &[Json],
    ) -> Result<Option<Json>, String> {
        // The mod under test runs only its entry point: its tests call its hooks.
        if self.is_under_test(&slot.id) {
            return Ok(None);
        }
        match self.enter(
            slot,
            || format!("`{hook}`"),
            |instance| instance.call(hook, args),
        ) {
            Ok(Ok(Some(outcome))) => self
                .settle(slot, outcome)
                .map(Some)
                .map_err(|error| error.to_string()),
            Ok(Ok(None)) => Ok(None),
            Ok(Err(error)) => Err(error.to_string()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Marks a mod failed (unless it already is), unloads it and blocks the mods that
    /// require it.
    pub(super) fn fail(&self, slot: &Rc<Slot>, reason: String) {
        if matches!(*slot.state.borrow(), ModState::Failed(_)) {
            return;
        }
        tracing::error!(mod_id = slot.id, "failed: {reason}");
        self.unload(slot, ModState::Failed(reason));
        self.block_dependents(slot);
    }

    fn block(&self, slot: &Rc<Slot>, reason: String) {
        tracing::warn!(mod_id = slot.id, "blocked: {reason}");
        // A mod on the call stack (it called the mod that failed) cannot run `onDetach` now;
        // it is unloaded when its call returns.
        let on_call_stack = slot.instance.try_borrow_mut().is_err();
        if slot.state.borrow().is_running() && !on_call_stack {
            self.detach(slot);
        }
        self.unload(slot, ModState::Blocked(reason));
        self.block_dependents(slot);
    }

    pub(super) fn block_dependents(&self, slot: &Rc<Slot>) {
        let later: Vec<Rc<Slot>> = self.slots.borrow()[slot.position.get() + 1..].to_vec();
        for dependent in later {
            let requires = dependent
                .entry
                .borrow()
                .manifest
                .dependencies
                .iter()
                .any(|dependency| dependency.id == slot.id);
            if requires && dependent.state.borrow().is_running() {
                let outcome = slot.state.borrow().as_outcome();
                self.block(
                    &dependent,
                    format!("requires `{}`, which {outcome}", slot.id),
                );
            }
        }
    }

    /// Runs `onDetach` and unloads the mod; returns what `onDetach` returned.
    pub(super) fn detach(&self, slot: &Rc<Slot>) -> Option<Json> {
        let state = match self.call_hook(slot, ON_DETACH, &[]) {
            Ok(state) => state,
            Err(reason) => {
                tracing::error!(mod_id = slot.id, "`onDetach` failed: {reason}");
                self.detach_failures
                    .borrow_mut()
                    .push((slot.id.clone(), format!("`onDetach` failed: {reason}")));
                None
            }
        };
        self.output(|| crate::recording::Output::Detached {
            mod_id: slot.id.clone(),
            state: state.clone().unwrap_or_default(),
        });
        self.unload(slot, ModState::Detached);
        tracing::debug!(mod_id = slot.id, "detached");
        state
    }

    /// Drops the mod's instance (now, or when its running call returns), its subscriptions
    /// and its timers.
    pub(super) fn unload(&self, slot: &Rc<Slot>, state: ModState) {
        self.set_state(slot, state);
        self.events
            .borrow_mut()
            .remove_owned(slot.position.get(), |owner| slot.is(owner));
        self.timers
            .borrow_mut()
            .remove_owned(|owner| slot.is(owner));
        slot.released.borrow_mut().clear();
        if let Ok(mut instance) = slot.instance.try_borrow_mut() {
            instance.take();
        }
    }

    pub(super) fn shutdown(&self) {
        let slots = self.slots.borrow().clone();
        for slot in slots.iter().rev() {
            if slot.state.borrow().is_running() {
                self.detach(slot);
            }
        }
    }
}
