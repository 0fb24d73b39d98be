//! Reading the mods directory: which folders are mods, their manifests and entry points.

use std::path::{Path, PathBuf};

use super::{ModEntry, PackError};
use crate::confine::{Folder, Refusal};
use crate::diagnostic::{Code, Diagnostic};
use crate::manifest::{Manifest, ManifestFormat, parse_manifest};
use crate::runtime::Language;
use crate::source::SourceFile;

/// One folder that holds a manifest.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// The id from the manifest, or the folder name when it could not be read.
    pub id: String,
    /// The mod, when its manifest and entry point have no errors.
    pub entry: Option<ModEntry>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Default, Clone)]
pub(super) struct Scanned {
    pub mods: Vec<Candidate>,
    /// Problems with folders that are not mods.
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Vec<SourceFile>,
}

/// Reads every direct subfolder of `mods_dir`, in name order.
pub(super) fn scan(mods_dir: &Path) -> Result<Scanned, PackError> {
    let entries = match std::fs::read_dir(mods_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(PackError::MissingModsDir(mods_dir.to_path_buf()));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(PackError::NotADirectory(mods_dir.to_path_buf()));
        }
        Err(error) => {
            return Err(PackError::Unreadable {
                path: mods_dir.to_path_buf(),
                message: error.to_string(),
            });
        }
    };
    let mut unnamed: Vec<Diagnostic> = Vec::new();
    // Canonicalised once: each mod folder's canonical path (which the confinement of its entry
    // point needs) is this joined with its name, unless it is a link.
    let canonical_mods = mods_dir.canonicalize().ok();
    let mut folders: Vec<(String, Folder)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = match entry.file_name().into_string() {
                Ok(name) => name,
                Err(raw) => {
                    if entry.path().is_dir() {
                        unnamed.push(
                            Diagnostic::new(
                                Code::FolderName,
                                format!(
                                    "the folder `{}` is skipped: its name is not valid UTF-8",
                                    crate::paths::shown(&mods_dir.join(&raw))
                                ),
                            )
                            .at(crate::source::Location::file(mods_dir.join(&raw)))
                            .hint("rename it with letters, digits, `.`, `_` and `-` (its name is the mod's id)"),
                        );
                    }
                    return None;
                }
            };
            // The kind comes with the listing; only a link needs a look at what it points to.
            let (is_dir, is_link) = match entry.file_type() {
                Ok(kind) if !kind.is_symlink() => (kind.is_dir(), false),
                _ => (mods_dir.join(&name).is_dir(), true),
            };
            (!name.starts_with('.') && is_dir).then(|| {
                let folder = Folder::child(mods_dir, canonical_mods.as_deref(), &name, is_link);
                (name, folder)
            })
        })
        .collect();
    folders.sort_by(|a, b| a.0.cmp(&b.0));
    unnamed.extend(case_twins(mods_dir, &folders));

    let mut scanned = scan_in_parallel(&folders);
    scanned.diagnostics.extend(unnamed);
    if scanned.mods.is_empty() && !scanned.diagnostics.iter().any(Diagnostic::is_error) {
        scanned.diagnostics.push(
            Diagnostic::new(
                Code::EmptyPack,
                format!("there are no mods in `{}`", crate::paths::shown(mods_dir)),
            )
            .at(crate::source::Location::file(mods_dir))
            .hint("check `--mods` or `mods_dir` in `config.toml`: each mod is a folder with a `manifest.json` or `mod.toml`"),
        );
    }
    Ok(scanned)
}

/// A `folder-name` warning for each folder whose name is another's but for case (`Core` and
/// `core`): one folder on Windows and macOS, so the pack made here would not load there.
fn case_twins(mods_dir: &Path, folders: &[(String, Folder)]) -> Vec<Diagnostic> {
    let mut first_of: std::collections::HashMap<String, &str> = Default::default();
    let mut twins = Vec::new();
    for (name, folder) in folders {
        let path = folder.path();
        match first_of.entry(name.to_lowercase()) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(name);
            }
            std::collections::hash_map::Entry::Occupied(first) => twins.push(
                Diagnostic::new(
                    Code::FolderName,
                    format!(
                        "`{}` and `{}` differ only in case: on Windows and macOS they are one folder, so the pack would not load there",
                        crate::paths::shown(&mods_dir.join(first.get())),
                        crate::paths::shown(path)
                    ),
                )
                .at(crate::source::Location::file(path))
                .hint("rename one of them"),
            ),
        }
    }
    twins
}

/// Reads the folders on every core, each thread a contiguous share of them, so that the
/// result keeps their order.
fn scan_in_parallel(folders: &[(String, Folder)]) -> Scanned {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let share = folders.len().div_ceil(workers).max(1);
    let shares: Vec<Scanned> = std::thread::scope(|scope| {
        let started: Vec<_> = folders
            .chunks(share)
            .map(|share| {
                let spawned = std::thread::Builder::new()
                    .name("scan".into())
                    .spawn_scoped(scope, move || scan_folders(share));
                // No thread to be had: this one reads the share.
                spawned.map_err(|_| scan_folders(share))
            })
            .collect();
        started
            .into_iter()
            .map(|started| match started {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(scanned) => scanned,
            })
            .collect()
    });
    let mut scanned = Scanned::default();
    for share in shares {
        scanned.mods.extend(share.mods);
        scanned.diagnostics.extend(share.diagnostics);
        scanned.sources.extend(share.sources);
    }
    scanned
}

fn scan_folders(folders: &[(String, Folder)]) -> Scanned {
    let mut scanned = Scanned::default();
    for (name, folder) in folders {
        let dir = folder.path();
        // Opened by name rather than looked for: a folder holds one of them.
        let mut present: Vec<(ManifestFormat, std::io::Result<Vec<u8>>)> = ManifestFormat::ALL
            .into_iter()
            .filter_map(|format| {
                let read = crate::files::read_if_present(&dir.join(format.file_name()));
                read.transpose().map(|read| (format, read))
            })
            .collect();
        match present.len() {
            0 => scanned.diagnostics.extend(misnamed_manifest(name, dir)),
            1 => {
                let (format, read) = present.remove(0);
                let (candidate, source) = read_mod(name, folder, format, read);
                scanned.sources.extend(source);
                scanned.mods.push(candidate);
            }
            _ => scanned.mods.push(Candidate {
                id: name.clone(),
                entry: None,
                diagnostics: vec![
                    Diagnostic::new(
                        Code::AmbiguousManifest,
                        format!(
                            "`{}` has both `manifest.json` and `mod.toml`",
                            crate::paths::shown(dir)
                        ),
                    )
                    .in_mod(name.clone())
                    .at(crate::source::Location::file(dir.join("manifest.json")))
                    .hint("keep one of them; they hold the same fields"),
                ],
            }),
        }
    }
    scanned
}

/// The mod in `folder`, from its manifest's format and what reading the manifest gave.
fn read_mod(
    folder_name: &str,
    folder: &Folder,
    format: ManifestFormat,
    read: std::io::Result<Vec<u8>>,
) -> (Candidate, Option<SourceFile>) {
    let dir = folder.path();
    let path = dir.join(format.file_name());
    let unreadable = |reason: String| Candidate {
        id: folder_name.to_owned(),
        entry: None,
        diagnostics: vec![
            Diagnostic::new(
                Code::InvalidManifest,
                format!("cannot read `{}`: {reason}", crate::paths::shown(&path)),
            )
            .in_mod(folder_name)
            .at(crate::source::Location::file(&path)),
        ],
    };
    let text = match read.map(String::from_utf8) {
        // Editors on Windows may start a UTF-8 file with a byte-order mark: it is not part of
        // the manifest.
        Ok(Ok(text)) if text.starts_with('\u{feff}') => text['\u{feff}'.len_utf8()..].to_owned(),
        Ok(Ok(text)) => text,
        Ok(Err(_)) => return (unreadable("it is not UTF-8 text".to_owned()), None),
        Err(error) => return (unreadable(error.to_string()), None),
    };
    let source = SourceFile::new(path, text);
    let outcome = parse_manifest(&source, format, folder_name);
    let mut diagnostics = outcome.diagnostics;
    let entry = outcome.manifest.and_then(|manifest| {
        let checked = check_entry_point(&manifest, folder, &source);
        match checked {
            Ok((entry, language)) => Some(ModEntry {
                settings: manifest.settings.clone(),
                manifest,
                dir: dir.to_path_buf(),
                manifest_file: source.clone(),
                entry,
                language,
            }),
            Err(problems) => {
                diagnostics.extend(problems);
                None
            }
        }
    });
    let candidate = Candidate {
        id: outcome.id,
        entry,
        diagnostics,
    };
    (candidate, Some(source))
}

/// Checks that the entry point is inside the mod's folder, exists, and names a known language.
fn check_entry_point(
    manifest: &Manifest,
    folder: &Folder,
    source: &SourceFile,
) -> Result<(PathBuf, Language), Vec<Diagnostic>> {
    let dir = folder.path();
    let written = &manifest.entry_point.value;
    let relative = Path::new(written);
    let problem = |code: Code, message: String, hint: String| {
        Diagnostic::new(code, message)
            .in_mod(manifest.id.clone())
            .at(source.locate(manifest.entry_point.span.clone()))
            .hint(hint)
    };
    let outside = |why: &str| {
        vec![problem(
            Code::EntryOutsideMod,
            format!("entry point `{written}` {why}"),
            format!(
                "put the entry point inside `{}` and name it relative to that folder",
                crate::paths::shown(dir)
            ),
        )]
    };
    let entry = match folder.inside(relative) {
        Ok(entry) => entry,
        Err(Refusal::Missing) => {
            let files: Vec<String> = crate::confine::files_in(dir)
                .iter()
                .filter_map(|file| file.strip_prefix(dir).ok())
                .map(crate::paths::shown)
                .collect();
            // A module that is built (a `build.sh` beside it, as `modhost new --lang rust`
            // writes) is missing because it has not been built yet.
            let built = relative
                .extension()
                .is_some_and(|extension| extension == "wasm")
                && dir.join("build.sh").is_file();
            let hint = crate::suggest::did_you_mean(written, files.iter().map(String::as_str))
                .unwrap_or_else(|| match built {
                    true => format!(
                        "build it: run `{}`",
                        crate::paths::shown(&dir.join("build.sh"))
                    ),
                    false => format!(
                        "create `{}` or fix `entry_point`",
                        crate::paths::shown(&dir.join(relative))
                    ),
                });
            return Err(vec![problem(
                Code::MissingEntryPoint,
                format!("entry point `{written}` does not exist"),
                hint,
            )]);
        }
        Err(Refusal::OtherCase(actual)) => {
            return Err(vec![problem(
                Code::InvalidManifest,
                format!(
                    "entry point `{written}` {}",
                    Refusal::OtherCase(actual.clone())
                ),
                format!(
                    "name the entry point `{}`, as the file is named",
                    crate::paths::shown(&actual)
                ),
            )]);
        }
        Err(Refusal::NotPortable) => {
            return Err(vec![problem(
                Code::InvalidManifest,
                format!("entry point `{written}` {}", Refusal::NotPortable),
                "rename the file and `entry_point` with it".to_owned(),
            )]);
        }
        Err(refusal) => return Err(outside(&refusal.to_string())),
    };
    match Language::of_entry_point(relative) {
        Some(language) => Ok((entry, language)),
        None => Err(vec![problem(
            Code::UnknownRuntime,
            format!("no runtime runs `{written}`"),
            format!(
                "entry points must end in one of {}",
                Language::known_extensions()
            ),
        )]),
    }
}

/// A warning for a folder with no manifest but a file that looks like a misspelled one.
fn misnamed_manifest(folder_name: &str, dir: &Path) -> Option<Diagnostic> {
    let files = std::fs::read_dir(dir).ok()?;
    let mut names: Vec<String> = files
        .filter_map(Result::ok)
        .filter_map(|file| file.file_name().into_string().ok())
        .collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let lowered = name.to_ascii_lowercase();
        let meant = ManifestFormat::ALL.into_iter().find(|format| {
            let expected = format.file_name();
            lowered == expected
                || strsim::damerau_levenshtein(&lowered, expected) <= 2
                || Path::new(&lowered).file_stem() == Path::new(expected).file_stem()
        })?;
        Some(
            Diagnostic::new(
                Code::MisnamedManifest,
                format!(
                    "`{folder_name}` is not loaded: it has `{name}` but no `manifest.json` or `mod.toml`"
                ),
            )
            .at(crate::source::Location::file(dir.join(&name)))
            .hint(format!("rename it to `{}`", meant.file_name())),
        )
    })
    .or_else(|| scripts_without_manifest(folder_name, dir))
}

/// A warning for a folder with a script a runtime runs (`init.lua`, `main.js`) but nothing
/// that looks like a manifest: a mod whose manifest was forgotten.
fn scripts_without_manifest(folder_name: &str, dir: &Path) -> Option<Diagnostic> {
    let mut scripts: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|file| file.path().is_file())
        .filter_map(|file| file.file_name().into_string().ok())
        .filter(|name| Language::of_entry_point(Path::new(name)).is_some())
        .collect();
    scripts.sort();
    let script = scripts.first()?;
    Some(
        Diagnostic::new(
            Code::MisnamedManifest,
            format!(
                "`{folder_name}` is not loaded: it has `{script}` but no `manifest.json` or `mod.toml`"
            ),
        )
        .at(crate::source::Location::file(dir.join(script)))
        .hint(format!(
            "add `{folder_name}/manifest.json` with `name`, `version` and `entry_point` (`modhost new` writes one)"
        )),
    )
}
