//! Steering a running pack from outside: changing a setting, disabling and enabling a mod.
//! What a game does through the library, and `ctl` through the protocol.
//!
//! A setting keeps its type: the key must be one the manifest declares, and the value must be
//! of the type of the manifest's default, so an invalid value never reaches the mod. The mod
//! sees the new value in `modhost.settings` and runs `onSettingsChanged(changed)`; a mod
//! without that hook restarts instead, handing its state over (`onDetach` → `onAttach` →
//! `onReload(state)` → `onBootstrap`).

use std::collections::HashMap;
use std::rc::Rc;

use super::{CallError, Core, Host, ModState, ModStatus, Slot};
use crate::recording::Input;
use crate::runtime::Json;
use crate::runtime::surface::ON_SETTINGS_CHANGED;
use crate::value::Object;

/// Why a setting was not changed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    #[error(transparent)]
    Mod(#[from] CallError),
    #[error("`{id}` declares no setting `{key}`; {hint}")]
    UnknownKey {
        id: String,
        key: String,
        hint: String,
    },
    #[error(
        "`{key}` of `{id}` is {expected} (its default is {default}), so it cannot be set to {given}"
    )]
    WrongType {
        id: String,
        key: String,
        expected: &'static str,
        default: String,
        given: String,
    },
    #[error("`{id}` rejected the change: `onSettingsChanged` failed: {reason}")]
    Rejected { id: String, reason: String },
}

/// A mod's effective settings, as a mod sees them.
pub(super) fn settings_of(slot: &Slot) -> Json {
    Json::Object(Object::from(&slot.entry.borrow().settings))
}

/// The JSON type of a value, as a setting's type: numbers are one type, whole or not.
fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value as Json;
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A setting keeps the type of its default in the manifest (a `null` default takes anything).
pub(super) fn check_type(
    id: &str,
    key: &str,
    default: &serde_json::Value,
    value: &serde_json::Value,
) -> Result<(), SettingError> {
    if !default.is_null() && json_type(default) != json_type(value) {
        return Err(SettingError::WrongType {
            id: id.to_owned(),
            key: key.to_owned(),
            expected: json_type(default),
            default: default.to_string(),
            given: format!("{} ({})", json_type(value), value),
        });
    }
    Ok(())
}

impl Host {
    /// Sets one setting of a mod while it runs. Returns the mod's effective settings.
    pub fn set_setting(
        &self,
        id: &str,
        key: &str,
        value: impl Into<Json>,
    ) -> Result<Json, SettingError> {
        let value = value.into();
        self.core
            .not_in_a_call(&format!("set `{key}` of `{id}`"))
            .map_err(CallError::from)?;
        let slot = self.core.slot(id)?;
        let default = slot.entry.borrow().manifest.settings.get(key).cloned();
        let Some(default) = default else {
            let entry = slot.entry.borrow();
            let hint = crate::suggest::did_you_mean_or_list(
                key,
                entry.manifest.settings.keys().map(String::as_str),
                |declared| format!("it declares {declared}"),
                "it declares no settings",
            );
            return Err(SettingError::UnknownKey {
                id: id.to_owned(),
                key: key.to_owned(),
                hint,
            });
        };
        let setting = serde_json::Value::from(value.clone());
        check_type(id, key, &default, &setting)?;
        let _input = self.core.input(|| Input::Setting {
            mod_id: id.to_owned(),
            key: key.to_owned(),
            value: value.clone(),
        });
        let changed = Json::Object(Object::from_iter([(key, value.clone())]));
        let before = slot
            .entry
            .borrow_mut()
            .settings
            .insert(key.to_owned(), setting.clone());
        slot.overrides
            .borrow_mut()
            .entry(key.to_owned())
            .and_modify(|(current, _)| *current = setting.clone())
            .or_insert((setting, before));
        self.core.settings_changed(&slot, &changed)?;
        Ok(self.settings(id)?)
    }

    /// The mod's effective settings: manifest defaults, `config.toml`, then run-time changes.
    pub fn settings(&self, id: &str) -> Result<Json, CallError> {
        let slot = self.core.slot(id)?;
        Ok(settings_of(&slot))
    }

    /// Detaches a mod and keeps it off; mods that require it are blocked. Returns its status.
    pub fn disable(&self, id: &str) -> Result<ModStatus, CallError> {
        let slot = self.core.slot(id)?;
        self.core.not_in_a_call(&format!("disable `{id}`"))?;
        let _input = self.core.input(|| Input::Disable {
            mod_id: id.to_owned(),
        });
        if slot.state.borrow().is_running() {
            self.core.detach(&slot);
        }
        self.core.unload(&slot, ModState::Disabled);
        self.core.block_dependents(&slot);
        self.core.deliver_events();
        Ok(slot.status())
    }

    /// Starts a disabled (or failed, or blocked) mod again, and the mods it unblocks. Returns
    /// its status.
    pub fn enable(&self, id: &str) -> Result<ModStatus, CallError> {
        let slot = self.core.slot(id)?;
        self.core.not_in_a_call(&format!("enable `{id}`"))?;
        let _input = self.core.input(|| Input::Enable {
            mod_id: id.to_owned(),
        });
        if slot.state.borrow().is_running() {
            return Ok(slot.status());
        }
        self.core.set_state(&slot, ModState::Resolved);
        let waiting = self.core.blocked_by(&slot);
        self.core.start(&waiting);
        Ok(slot.status())
    }
}

impl Core {
    /// Tells a running mod that its settings changed, or restarts it when it has no hook.
    pub(super) fn settings_changed(
        &self,
        slot: &Rc<Slot>,
        changed: &Json,
    ) -> Result<(), SettingError> {
        if !slot.state.borrow().is_running() {
            return Ok(());
        }
        let settings = settings_of(slot);
        let updated = self.enter(
            slot,
            || "updating its settings".to_owned(),
            |instance| instance.update_settings(&settings),
        );
        let rejected = |reason: String| SettingError::Rejected {
            id: slot.id.clone(),
            reason,
        };
        match updated {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(rejected(error.to_string())),
            Err(error) => return Err(error.into()),
        }
        let called = self.call_hook(slot, ON_SETTINGS_CHANGED, std::slice::from_ref(changed));
        self.deliver_events();
        match called {
            Ok(Some(_)) => Ok(()),
            Ok(None) => {
                self.restart(slot);
                Ok(())
            }
            Err(reason) => {
                self.fail(slot, format!("`onSettingsChanged` failed: {reason}"));
                Err(rejected(reason))
            }
        }
    }

    /// Detaches a mod and starts it again with its own state handed over.
    fn restart(&self, slot: &Rc<Slot>) {
        let mut states = HashMap::new();
        if let Some(state) = self.detach(slot) {
            states.insert(slot.id.clone(), state);
        }
        self.set_state(slot, ModState::Resolved);
        let waiting = self.blocked_by(slot);
        self.start_with(&waiting, &states);
    }

    /// `slot` and every mod after it in load order that is blocked and requires it, directly
    /// or through another such mod: what starting `slot` again should start too.
    fn blocked_by(&self, slot: &Rc<Slot>) -> Vec<Rc<Slot>> {
        let mut starting = vec![Rc::clone(slot)];
        for later in self.slots.borrow()[slot.position.get() + 1..].iter() {
            let blocked = matches!(*later.state.borrow(), ModState::Blocked(_));
            let requires_one = later
                .entry
                .borrow()
                .manifest
                .dependencies
                .iter()
                .any(|dependency| starting.iter().any(|start| start.id == dependency.id));
            if blocked && requires_one {
                starting.push(Rc::clone(later));
            }
        }
        starting
    }
}
