//! Part of a pack: the mods a set of mods requires, and a configuration that leaves every
//! other mod out (`modhost test` runs a mod with what it requires; `modhost bisect` tries
//! subsets of the pack).

use std::collections::BTreeSet;

use super::Pack;
use crate::config::{Config, ModConfig};

/// `ids` and every mod they require, directly or through others, among the pack's mods.
pub fn with_requirements<'a>(
    pack: &Pack,
    ids: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut keep: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    while let Some(current) = pending.pop() {
        if !keep.insert(current.clone()) {
            continue;
        }
        if let Some(entry) = pack.mods.iter().find(|entry| entry.id() == current) {
            pending.extend(
                entry
                    .manifest
                    .dependencies
                    .iter()
                    .map(|requirement| requirement.id.clone()),
            );
        }
    }
    keep
}

/// `config` with every mod of `pack` outside `keep` disabled (`[mods.<id>] enabled = false`).
pub fn config_keeping(config: &Config, pack: &Pack, keep: &BTreeSet<String>) -> Config {
    let mut config = config.clone();
    for entry in pack.mods.iter().filter(|entry| !keep.contains(entry.id())) {
        let limits = config.limits_for(entry.id());
        config
            .mods
            .entry(entry.id().to_owned())
            .or_insert_with(|| ModConfig {
                enabled: false,
                settings: Vec::new(),
                limits,
                span: 0..0,
            })
            .enabled = false;
    }
    config
}
