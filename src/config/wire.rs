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

/// A value within its range, or the span and message that say what the range is.
pub(super) fn within(
    name: &str,
    value: Option<Spanned<u64>>,
    default: u64,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<u64, (std::ops::Range<usize>, String)> {
    match value {
        Some(value) if !range.contains(value.get_ref()) => Err((
            value.span(),
            format!(
                "`{name}` must be from {} to {}, not {}",
                range.start(),
                range.end(),
                value.get_ref()
            ),
        )),
        Some(value) => Ok(value.into_inner()),
        None => Ok(default),
    }
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
