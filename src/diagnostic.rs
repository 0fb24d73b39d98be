//! Problems found in a mod pack, as data.
//!
//! The library never prints: it returns [`Diagnostic`]s, and the command line renders them as
//! human text, JSON or CI annotations. Each has a stable [`Code`] that CI scripts can match on.

use std::fmt;

use serde::Serialize;

use crate::source::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

macro_rules! codes {
    ($($variant:ident = $name:literal, $severity:ident: $meaning:literal;)*) => {
        /// The stable, kebab-case name of a kind of problem. `docs/diagnostics.md` explains each.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $meaning] $variant,)*
        }

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// How serious this kind of problem is.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

        }
    };
}

codes! {
    InvalidManifest = "invalid-manifest", Error:
        "A manifest cannot be parsed, misses a required field, or has a value of the wrong form.";
    UnknownField = "unknown-field", Warning:
        "A manifest has a field modhost does not know, often a typo of one it does.";
    UnknownPermission = "unknown-permission", Warning:
        "A manifest asks for a permission that no function of the game's API uses.";
    AmbiguousManifest = "ambiguous-manifest", Error:
        "A mod folder has both `manifest.json` and `mod.toml`.";
    MisnamedManifest = "misnamed-manifest", Warning:
        "A folder in the mods directory has no manifest but a file whose name looks like one.";
    DuplicateId = "duplicate-id", Error:
        "Two mods in the pack have the same id.";
    UnknownRuntime = "unknown-runtime", Error:
        "The entry point's extension names no language modhost can run.";
    EntryOutsideMod = "entry-outside-mod", Error:
        "The entry point is an absolute path, escapes the mod's folder with `..`, or is a symlink that leaves it.";
    MissingEntryPoint = "missing-entry-point", Error:
        "The entry point named in the manifest does not exist.";
    MissingDependency = "missing-dependency", Error:
        "A required dependency is not in the pack, is disabled, or is unusable.";
    VersionMismatch = "version-mismatch", Error:
        "A dependency (required or optional) is in the pack but outside the required version range.";
    HostVersionMismatch = "host-version-mismatch", Error:
        "The manifest's `modhost` requirement does not match this host's API version.";
    Conflict = "conflict", Error:
        "The pack holds a mod that another mod declares a conflict with.";
    DependencyCycle = "dependency-cycle", Error:
        "Dependencies and ordering rules form a cycle, so no load order exists.";
    SyntaxError = "syntax-error", Error:
        "A script of a mod does not compile, or a WebAssembly module is not valid.";
    UnknownImport = "unknown-import", Error:
        "A WebAssembly mod imports a function modhost does not provide.";
    EmptyPack = "empty-pack", Warning:
        "The mods directory holds no mod: often a wrong `--mods` or `mods_dir`.";
    FolderName = "folder-name", Warning:
        "A folder in the mods directory has a name modhost cannot use everywhere: not valid UTF-8 (it is skipped), or another folder's but for case.";
    UnknownHook = "unknown-hook", Warning:
        "A mod defines a function named almost like a hook (`onAtach`), so the hook never runs.";
    UnknownGameFunction = "unknown-game-function", Warning:
        "A script names a function or namespace of the game's global that the game's API does not have.";
    UnknownEvent = "unknown-event", Warning:
        "A script sends or subscribes to an event one typo away from a declared one, or sends an event the game's API says the game sends.";
    HookFailed = "hook-failed", Error:
        "In `check --smoke`, loading a mod or one of its hooks threw or broke a limit.";
    NoPack = "no-pack", Error:
        "The mods directory does not exist or cannot be read, so nothing was checked.";
    InvalidConfig = "invalid-config", Error:
        "`config.toml` cannot be parsed, has an unknown key, or a value out of range (exit status 2).";
    UnknownModInConfig = "unknown-mod-in-config", Warning:
        "`config.toml` configures a mod id that is not in the pack.";
    UnknownSetting = "unknown-setting", Warning:
        "`config.toml` sets a setting that the mod's manifest does not declare.";
    InvalidApi = "invalid-api", Error:
        "The game's API description cannot be parsed or is not valid (exit status 2).";
}

impl fmt::Display for Code {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One problem: what, where, in which mod, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// The mod the problem belongs to, when it belongs to one.
    pub mod_id: Option<String>,
    pub location: Option<Location>,
    pub message: String,
    /// Supporting facts, one per line (for example each step of a cycle).
    pub notes: Vec<String>,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the severity its code carries.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.severity(),
            mod_id: None,
            location: None,
            message: message.into(),
            notes: Vec::new(),
            hint: None,
        }
    }

    pub fn in_mod(mut self, mod_id: impl Into<String>) -> Self {
        self.mod_id = Some(mod_id.into());
        self
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Orders diagnostics for display: by file, then position.
    pub fn sort_key(&self) -> impl Ord + '_ {
        let location = self.location.as_ref();
        (
            location.map(|location| &location.file),
            location.and_then(|location| location.line),
            location.and_then(|location| location.column),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_words() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "`{name}` is used twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "`{name}` is not kebab-case"
            );
        }
    }

    #[test]
    fn every_code_is_documented_with_its_severity() {
        let docs = include_str!("../docs/diagnostics.md");
        for code in Code::ALL {
            let heading = format!("## `{code}` ({}", code.severity());
            assert!(
                docs.contains(&heading),
                "docs/diagnostics.md lacks `{heading}`"
            );
        }
    }
}
