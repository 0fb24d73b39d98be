//! The lifecycle state of a loaded mod.

use std::fmt;

use serde::Serialize;

/// Where a mod is in its lifecycle: `resolved` → `attached` → `active` → `detached`, or
/// `failed` (its own error), `blocked` (a required dependency is missing or failed) or
/// `disabled` (a game or `ctl` turned it off while the host runs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModState {
    Resolved,
    Attached,
    Active,
    Detached,
    Failed(String),
    Blocked(String),
    Disabled,
}

impl ModState {
    pub fn name(&self) -> &'static str {
        match self {
            ModState::Resolved => "resolved",
            ModState::Attached => "attached",
            ModState::Active => "active",
            ModState::Detached => "detached",
            ModState::Failed(_) => "failed",
            ModState::Blocked(_) => "blocked",
            ModState::Disabled => "disabled",
        }
    }

    /// Whether the mod's code is loaded and may be called.
    pub fn is_running(&self) -> bool {
        matches!(self, ModState::Attached | ModState::Active)
    }

    /// Whether the mod is done for: failed, blocked or detached (its code may not run).
    pub fn is_stopped(&self) -> bool {
        matches!(
            self,
            ModState::Failed(_) | ModState::Blocked(_) | ModState::Detached | ModState::Disabled
        )
    }

    /// The state as the end of a sentence: "`core` failed", "`core` is blocked".
    pub fn as_outcome(&self) -> &'static str {
        match self {
            ModState::Failed(_) => "failed",
            ModState::Blocked(_) => "is blocked",
            ModState::Detached => "is detached",
            ModState::Disabled => "is disabled",
            ModState::Resolved => "is not loaded",
            ModState::Attached | ModState::Active => "is running",
        }
    }

    /// Why the mod is not running, for `failed` and `blocked`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ModState::Failed(reason) | ModState::Blocked(reason) => Some(reason),
            _ => None,
        }
    }
}

impl fmt::Display for ModState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(reason) => write!(formatter, "{}: {reason}", self.name()),
            None => formatter.write_str(self.name()),
        }
    }
}

/// A mod as `modhost.mods.list()` and [`crate::Host::mods`] report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModStatus {
    pub id: String,
    pub version: String,
    /// The language: `javascript`, `lua`.
    pub runtime: &'static str,
    pub state: &'static str,
    /// Why the mod failed or is blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
