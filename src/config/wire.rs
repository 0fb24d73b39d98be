//! `config.toml` as written, field for field, with the position of each value: what
//! [`super::Config::parse`] checks into the configuration.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::limits::LimitsSection;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    pub mods_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub log: Option<Spanned<String>>,
    pub api: Option<PathBuf>,
    pub listen: Option<Spanned<String>>,
    pub limits: Option<LimitsSection>,
    pub watch: Option<Watch>,
    pub record_window_s: Option<Spanned<u64>>,
    #[serde(default)]
    pub mods: BTreeMap<Spanned<String>, ModSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Watch {
    pub debounce_ms: Option<Spanned<u64>>,
    pub poll_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ModSection {
    pub enabled: Option<bool>,
    #[serde(default)]
    pub settings: BTreeMap<Spanned<String>, serde_json::Value>,
    pub limits: Option<LimitsSection>,
}
