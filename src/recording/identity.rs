//! What a recording says the pack was: each mod's id, version and a hash of its files, and
//! hashes of `config.toml` and the game's API file; and what changed since.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::pack::ModEntry;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackIdentity {
    pub mods: Vec<ModIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModIdentity {
    pub id: String,
    pub version: String,
    /// A hash of every file in the mod's folder (their paths and contents), 16 hex digits.
    pub hash: String,
}

impl ModIdentity {
    pub fn of(entry: &ModEntry) -> ModIdentity {
        ModIdentity {
            id: entry.id().to_owned(),
            version: entry.manifest.version.to_string(),
            hash: hex(crate::files::folder_hash(&entry.dir).unwrap_or(0)),
        }
    }
}

impl PackIdentity {
    /// The identity of the mods `mods` run with `config`.
    pub fn of<'a>(mods: impl IntoIterator<Item = &'a ModEntry>, config: &Config) -> PackIdentity {
        PackIdentity {
            mods: mods.into_iter().map(ModIdentity::of).collect(),
            config: config.file.as_ref().map(|file| hex(file.content_hash())),
            api: config.api.as_ref().map(|api| hex(api.source_hash)),
        }
    }

    /// What differs in `now` from this identity, one line each: "`a` changed (1.0.0 →
    /// 1.1.0)", "`b` is new", "`c` is gone", "config.toml changed".
    pub fn changes_in(&self, now: &PackIdentity) -> Vec<String> {
        let mut changes = Vec::new();
        for recorded in &self.mods {
            match now.mods.iter().find(|current| current.id == recorded.id) {
                None => changes.push(format!("`{}` is gone", recorded.id)),
                Some(current) if current.version != recorded.version => changes.push(format!(
                    "`{}` changed ({} -> {})",
                    recorded.id, recorded.version, current.version
                )),
                Some(current) if current.hash != recorded.hash => {
                    changes.push(format!("`{}` changed (its files differ)", recorded.id))
                }
                Some(_) => {}
            }
        }
        for current in &now.mods {
            if !self.mods.iter().any(|recorded| recorded.id == current.id) {
                changes.push(format!("`{}` is new", current.id));
            }
        }
        if self.config != now.config {
            changes.push("config.toml changed".to_owned());
        }
        if self.api != now.api {
            changes.push("the game's API file changed".to_owned());
        }
        changes
    }
}

fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_each_mod_that_differs() {
        let identity = |mods: &[(&str, &str, &str)]| PackIdentity {
            mods: mods
                .iter()
                .map(|(id, version, hash)| ModIdentity {
                    id: (*id).into(),
                    version: (*version).into(),
                    hash: (*hash).into(),
                })
                .collect(),
            config: None,
            api: None,
        };
        let recorded = identity(&[
            ("a", "1.0.0", "1"),
            ("b", "1.0.0", "2"),
            ("c", "1.0.0", "3"),
        ]);
        let now = identity(&[
            ("a", "1.0.0", "1"),
            ("b", "1.1.0", "9"),
            ("d", "1.0.0", "4"),
        ]);
        assert_eq!(
            recorded.changes_in(&now),
            ["`b` changed (1.0.0 -> 1.1.0)", "`c` is gone", "`d` is new"]
        );
        assert!(recorded.changes_in(&recorded).is_empty());
    }
}
