//! Attach, bootstrap, detach: the lifecycle of SPEC section 4, and what failure does to it.
//!
//! A mod whose hook throws or breaks a limit is `failed`; every mod that requires it is
//! detached and `blocked`, with the reason; all other mods go on.

use std::rc::Rc;

use super::{Core, Link, ModState, Slot};
use crate::runtime::{InstanceSetup, Json};

impl Core {
    pub(super) fn start(&self, link: Rc<Link>) {
        for slot in &self.slots {
            self.attach(slot, &link);
            self.deliver_events();
        }
        for slot in &self.slots {
            if *slot.state.borrow() != ModState::Attached {
                continue;
            }
            match self.call_hook(slot, "onBootstrap", &[]) {
                Ok(_) => *slot.state.borrow_mut() = ModState::Active,
                Err(reason) => self.fail(slot, format!("`onBootstrap` failed: {reason}")),
            }
            self.deliver_events();
        }
    }

    fn attach(&self, slot: &Rc<Slot>, link: &Rc<Link>) {
        let id = slot.entry.id();
        if let Some(reason) = self.pack_errors.get(id) {
            self.block(slot, reason.clone());
            return;
        }
        if let Some(reason) = self.unmet_dependency(slot) {
            self.block(slot, reason);
            return;
        }
        let entry = &slot.entry;
        let setup = InstanceSetup {
            mod_id: id.to_owned(),
            dir: entry.dir.clone(),
            entry: entry.entry.clone(),
            info: serde_json::json!({
                "id": id,
                "name": entry.manifest.name,
                "version": entry.manifest.version.to_string(),
                "dir": entry.dir.display().to_string(),
                "dataDir": self.config.data_dir.join(id).display().to_string(),
            }),
            settings: Json::Object(entry.settings.clone()),
            limits: self.config.limits_for(id),
            host: link.clone(),
        };
        match entry.language.backend().instantiate(setup) {
            Ok(instance) => *slot.instance.borrow_mut() = Some(instance),
            Err(error) => {
                self.fail(slot, format!("loading failed: {error}"));
                return;
            }
        }
        match self.call_hook(slot, "onAttach", &[]) {
            Ok(_) => {
                *slot.state.borrow_mut() = ModState::Attached;
                tracing::debug!(mod_id = id, "attached");
            }
            Err(reason) => self.fail(slot, format!("`onAttach` failed: {reason}")),
        }
    }

    /// Why a mod cannot attach because of a required dependency, if it cannot.
    fn unmet_dependency(&self, slot: &Slot) -> Option<String> {
        slot.entry
            .manifest
            .dependencies
            .iter()
            .find_map(|dependency| {
                let Some(&position) = self.index.get(&dependency.id) else {
                    return Some(format!("requires `{}`, which is not loaded", dependency.id));
                };
                let state = self.slots[position].state.borrow();
                (!state.is_running())
                    .then(|| format!("requires `{}`, which {}", dependency.id, state.as_outcome()))
            })
    }

    /// Calls an optional hook. A missing hook is fine.
    pub(super) fn call_hook(
        &self,
        slot: &Slot,
        hook: &str,
        args: &[Json],
    ) -> Result<Option<Json>, String> {
        match self.enter(slot, |instance| instance.call(hook, args)) {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(error)) => Err(error.to_string()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Marks a mod failed, unloads it and blocks the mods that require it.
    pub(super) fn fail(&self, slot: &Slot, reason: String) {
        tracing::error!(mod_id = slot.entry.id(), "failed: {reason}");
        self.unload(slot, ModState::Failed(reason));
        self.block_dependents(slot);
    }

    fn block(&self, slot: &Slot, reason: String) {
        tracing::warn!(mod_id = slot.entry.id(), "blocked: {reason}");
        if slot.state.borrow().is_running() {
            self.detach(slot);
        }
        self.unload(slot, ModState::Blocked(reason));
        self.block_dependents(slot);
    }

    fn block_dependents(&self, slot: &Slot) {
        let id = slot.entry.id();
        for dependent in &self.slots[slot.position + 1..] {
            let requires = dependent
                .entry
                .manifest
                .dependencies
                .iter()
                .any(|dependency| dependency.id == id);
            if requires && dependent.state.borrow().is_running() {
                let outcome = slot.state.borrow().as_outcome();
                self.block(dependent, format!("requires `{id}`, which {outcome}"));
            }
        }
    }

    /// Runs `onDetach` and unloads the mod; returns what `onDetach` returned.
    pub(super) fn detach(&self, slot: &Slot) -> Option<Json> {
        let state = match self.call_hook(slot, "onDetach", &[]) {
            Ok(state) => state,
            Err(reason) => {
                tracing::error!(mod_id = slot.entry.id(), "`onDetach` failed: {reason}");
                None
            }
        };
        self.unload(slot, ModState::Detached);
        tracing::debug!(mod_id = slot.entry.id(), "detached");
        state
    }

    /// Drops the mod's instance (now, or when its running call returns) and its subscriptions.
    fn unload(&self, slot: &Slot, state: ModState) {
        *slot.state.borrow_mut() = state;
        self.events.borrow_mut().remove_mod(slot.position);
        slot.released.borrow_mut().clear();
        if let Ok(mut instance) = slot.instance.try_borrow_mut() {
            instance.take();
        }
    }

    pub(super) fn shutdown(&self) {
        for slot in self.slots.iter().rev() {
            if slot.state.borrow().is_running() {
                self.detach(slot);
            }
        }
    }
}
