//! A mod pack: every mod found in the mods directory, validated, resolved and ordered.
//!
//! [`Pack::load`] is the one place that reads the mods directory. It never stops at the first
//! problem: each mod is checked on its own, broken mods are set aside, and the rest are resolved
//! against each other, so `modhost check` reports everything at once.

mod api_usage;
pub(crate) mod problems;
mod scan;
pub mod subset;
mod syntax;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::diagnostic::{Code, Diagnostic};
use crate::game_api::GameApi;
use crate::manifest::Manifest;
use crate::resolve::{self, Absence, Resolution};
use crate::runtime::Language;
use crate::source::SourceFile;

/// The host API version that manifests' `modhost` requirements are matched against.
pub(crate) fn host_api_version() -> semver::Version {
    semver::Version::parse(env!("CARGO_PKG_VERSION")).expect("the crate version is semver")
}

/// A mod that passed every check of its own and can take part in resolution.
#[derive(Debug, Clone)]
pub struct ModEntry {
    pub manifest: Manifest,
    /// The mod's folder, as found under the mods directory.
    pub dir: PathBuf,
    pub manifest_file: SourceFile,
    /// The entry point, joined to `dir`.
    pub entry: PathBuf,
    pub language: Language,
    /// Manifest defaults overridden by `config.toml`.
    pub settings: serde_json::Map<String, serde_json::Value>,
}

impl ModEntry {
    pub fn id(&self) -> &str {
        &self.manifest.id
    }
}

/// Problems that stop a pack from being read at all (as opposed to problems in its mods).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    #[error("mods directory `{}` does not exist", crate::paths::shown(.0))]
    MissingModsDir(PathBuf),
    #[error("`{}` is not a directory", crate::paths::shown(.0))]
    NotADirectory(PathBuf),
    #[error(
        "cannot read mods directory `{}`: {message}",
        crate::paths::shown(path)
    )]
    Unreadable { path: PathBuf, message: String },
}

/// Everything known about a mods directory.
#[derive(Debug, Clone)]
pub struct Pack {
    /// Usable mods (valid, enabled, unique ids), by folder name. Resolution indices point here.
    pub mods: Vec<ModEntry>,
    pub resolution: Resolution,
    /// Every problem, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The files diagnostics point into, so that renderers can quote them.
    pub sources: BTreeMap<PathBuf, SourceFile>,
    /// The game's API the scripts are checked against, when one is configured.
    pub api: Option<Arc<GameApi>>,
    /// What was read from the mods directory, kept by [`Pack::load_to_reassemble`].
    scanned: Option<Arc<scan::Scanned>>,
}

impl Pack {
    /// Reads, validates and resolves the mods directory named by `config`.
    pub fn load(config: &Config) -> Result<Pack, PackError> {
        let found = scan::scan(&config.mods_dir)?;
        Ok(Pack::assemble(config, found))
    }

    /// [`Pack::load`], keeping what was read so that [`Pack::reassemble`] need not read it
    /// again (it costs a copy of every manifest, so only `modhost test` and `bisect` keep it).
    pub fn load_to_reassemble(config: &Config) -> Result<Pack, PackError> {
        let found = Arc::new(scan::scan(&config.mods_dir)?);
        let mut pack = Pack::assemble(config, scan::Scanned::clone(&found));
        pack.scanned = Some(found);
        Ok(pack)
    }

    /// The same mods directory under another configuration of it (a subset enabled, other
    /// settings), resolved again: without reading the folders again when the pack was loaded
    /// by [`Pack::load_to_reassemble`]. `modhost test` and `bisect` make one for each mod and
    /// each subset they try.
    pub fn reassemble(&self, config: &Config) -> Result<Pack, PackError> {
        let Some(scanned) = &self.scanned else {
            return Pack::load(config);
        };
        let mut pack = Pack::assemble(config, scan::Scanned::clone(scanned));
        pack.scanned = Some(Arc::clone(scanned));
        Ok(pack)
    }

    fn assemble(config: &Config, found: scan::Scanned) -> Pack {
        let mut diagnostics = found.diagnostics;
        let mut sources: BTreeMap<PathBuf, SourceFile> = found
            .sources
            .into_iter()
            .map(|source| (source.path().to_path_buf(), source))
            .collect();
        let mut absent: BTreeMap<String, Absence> = BTreeMap::new();
        let mut mods: Vec<ModEntry> = Vec::new();
        let mut index_of_id: HashMap<String, usize> = HashMap::new();
        for candidate in found.mods {
            let enabled = config.is_enabled(&candidate.id);
            if !enabled {
                tracing::debug!(mod_id = %candidate.id, "disabled in the configuration");
                absent.insert(candidate.id, Absence::Disabled);
                continue;
            }
            diagnostics.extend(candidate.diagnostics);
            match candidate.entry {
                Some(entry) => {
                    if let Some(&first) = index_of_id.get(entry.id()) {
                        diagnostics.push(problems::duplicate_id(&entry, &mods[first]));
                        continue;
                    }
                    index_of_id.insert(entry.id().to_owned(), mods.len());
                    mods.push(entry);
                }
                None => {
                    absent.entry(candidate.id).or_insert(Absence::Broken);
                }
            }
        }
        // A broken mod that shares its id with a usable one does not make it absent.
        absent.retain(|id, _| !index_of_id.contains_key(id));

        diagnostics.extend(unknown_permissions(config, &mods));
        if let Some(file) = &config.file {
            diagnostics.extend(apply_configuration(config, file, &mut mods, &absent));
            sources.insert(file.path().to_path_buf(), file.clone());
        }

        let manifests: Vec<Manifest> = mods.iter().map(|entry| entry.manifest.clone()).collect();
        let resolution = resolve::resolve(&manifests, &absent, &host_api_version());
        diagnostics.extend(
            resolution
                .problems
                .iter()
                .map(|problem| problems::describe(problem, &mods, &resolution.edges)),
        );
        diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Pack {
            mods,
            resolution,
            diagnostics,
            sources,
            api: config.api.clone(),
            scanned: None,
        }
    }

    /// The usable mods in load order.
    pub fn ordered(&self) -> impl Iterator<Item = &ModEntry> {
        self.resolution.order.iter().map(|&index| &self.mods[index])
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    /// Compiles every script of every usable mod without running it, adding a `syntax-error`
    /// diagnostic for each file that does not compile.
    pub fn check_syntax(&mut self) {
        self.check_syntax_of(|_| true, |_| {});
    }

    /// [`Pack::check_syntax`] for the mods `include` selects, calling `checked` after each
    /// mod (for a progress bar).
    pub fn check_syntax_of(
        &mut self,
        include: impl Fn(&ModEntry) -> bool,
        checked: impl FnMut(&ModEntry),
    ) {
        let selected: Vec<&ModEntry> = self.mods.iter().filter(|entry| include(entry)).collect();
        let (diagnostics, sources) = syntax::check(&selected, self.api.as_deref(), checked);
        self.add_diagnostics(diagnostics, sources);
    }

    /// Adds diagnostics found by a later check, with the files they quote, keeping the order.
    pub fn add_diagnostics(&mut self, diagnostics: Vec<Diagnostic>, sources: Vec<SourceFile>) {
        self.diagnostics.extend(diagnostics);
        self.diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.sources.extend(
            sources
                .into_iter()
                .map(|source| (source.path().to_path_buf(), source)),
        );
    }
}

/// Permissions that no function of the game's API asks for (every permission, without an
/// API): usually typos, which would leave the mod without the function it wants.
fn unknown_permissions(config: &Config, mods: &[ModEntry]) -> Vec<Diagnostic> {
    let used = config
        .api
        .as_ref()
        .map(|api| api.permissions())
        .unwrap_or_default();
    let mut diagnostics = Vec::new();
    for entry in mods {
        for permission in &entry.manifest.permissions {
            if used.contains(permission.value.as_str()) {
                continue;
            }
            let hint = match &config.api {
                None => "no game API is configured (`api` in `config.toml`), so no permission exists and the mod runs in the default sandbox".to_owned(),
                Some(_) => crate::suggest::did_you_mean_or_list(
                    &permission.value,
                    used.iter().copied(),
                    |names| format!("the game's API uses {names}"),
                    "the game's API asks for no permissions",
                ),
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownPermission,
                    format!("unknown permission `{}`", permission.value),
                )
                .in_mod(entry.id().to_owned())
                .at(entry.manifest_file.locate(permission.span.clone()))
                .hint(hint),
            );
        }
    }
    diagnostics
}

/// Applies `config.toml`'s settings to the mods and warns about sections and settings that
/// match nothing (usually typos).
fn apply_configuration(
    config: &Config,
    file: &SourceFile,
    mods: &mut [ModEntry],
    absent: &BTreeMap<String, Absence>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (id, section) in &config.mods {
        let Some(entry) = mods.iter_mut().find(|entry| entry.id() == id) else {
            if !absent.contains_key(id) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownModInConfig,
                        format!("`config.toml` configures `{id}`, which is not in the pack"),
                    )
                    .at(file.locate(section.span.clone()))
                    .hint(
                        crate::suggest::did_you_mean(id, mods.iter().map(ModEntry::id))
                            .unwrap_or_else(|| "check the id against `modhost list`".to_owned()),
                    ),
                );
            }
            continue;
        };
        for (key, span, value) in &section.settings {
            if !entry.manifest.settings.contains_key(key) {
                let hint = crate::suggest::did_you_mean_or_list(
                    key,
                    entry.manifest.settings.keys().map(String::as_str),
                    |declared| format!("`{id}` declares {declared}"),
                    &format!("`{id}` declares no settings"),
                );
                diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownSetting,
                        format!("`{id}` declares no setting `{key}`"),
                    )
                    .in_mod(id.clone())
                    .at(file.locate(span.clone()))
                    .hint(hint),
                );
            }
            entry.settings.insert(key.clone(), value.clone());
        }
    }
    diagnostics
}
