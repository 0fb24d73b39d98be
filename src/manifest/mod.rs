//! A mod's manifest: the validated description of one mod.
//!
//! Manifests are written as `manifest.json` or `mod.toml` with the same fields. Both are parsed
//! into a spanned [`document`] tree and checked by one validation pass ([`parse_manifest`]),
//! which turns every mistake into a diagnostic that points at the key or value at fault.

pub(crate) mod fields;
mod validate;

use std::ops::Range;

pub use fields::json_schema;
pub use validate::{is_valid_id, parse_manifest};

/// The two file names a mod folder can hold its manifest in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    Json,
    Toml,
}

impl ManifestFormat {
    pub const ALL: [ManifestFormat; 2] = [ManifestFormat::Json, ManifestFormat::Toml];

    pub fn file_name(self) -> &'static str {
        match self {
            ManifestFormat::Json => "manifest.json",
            ManifestFormat::Toml => "mod.toml",
        }
    }
}

/// A value from the manifest and the byte range it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Range<usize>,
}

/// A requirement on another mod (or on the host): an id and a semver range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    pub version: semver::VersionReq,
    /// The span of the whole `"id": "range"` entry.
    pub span: Range<usize>,
}

/// A manifest that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub id: String,
    /// Where the id was written; `None` when it defaults to the folder name.
    pub id_span: Option<Range<usize>>,
    pub name: String,
    pub version: semver::Version,
    pub entry_point: Spanned<String>,
    pub priority: i64,
    pub description: Option<String>,
    pub authors: Vec<String>,
    /// The `modhost` field: which host API versions the mod works with.
    pub host: Option<Spanned<semver::VersionReq>>,
    pub dependencies: Vec<Requirement>,
    pub optional_dependencies: Vec<Requirement>,
    pub conflicts: Vec<Requirement>,
    pub load_after: Vec<Spanned<String>>,
    pub load_before: Vec<Spanned<String>>,
    /// Default settings, overridden per mod by `config.toml`.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Functions of the game's API this mod may call beyond the default (SPEC section 10).
    pub permissions: Vec<Spanned<String>>,
}

impl Manifest {
    /// A manifest with the required fields and every optional one at its default, for code
    /// that builds packs in memory (tests, benchmarks, embedders).
    pub fn new(id: &str, version: semver::Version, entry_point: &str) -> Manifest {
        Manifest {
            id: id.to_owned(),
            id_span: None,
            name: id.to_owned(),
            version,
            entry_point: Spanned {
                value: entry_point.to_owned(),
                span: 0..0,
            },
            priority: 0,
            description: None,
            authors: Vec::new(),
            host: None,
            dependencies: Vec::new(),
            optional_dependencies: Vec::new(),
            conflicts: Vec::new(),
            load_after: Vec::new(),
            load_before: Vec::new(),
            settings: serde_json::Map::new(),
            permissions: Vec::new(),
        }
    }

    /// Whether the manifest lists `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions
            .iter()
            .any(|listed| listed.value == permission)
    }
}
