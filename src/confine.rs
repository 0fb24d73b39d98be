//! Keeping a mod inside its own folder: the one check behind `import`, `require`,
//! `modhost.fs.readText` and the entry point.

use std::path::{Component, Path, PathBuf};

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("is an absolute path")]
    Absolute,
    #[error("leaves the mod's folder through `..`")]
    Escapes,
    #[error("does not exist")]
    Missing,
    #[error("is a link that leaves the mod's folder")]
    LeavesThroughLink,
    #[error(
        "is a name Windows cannot open as a file (a device name such as `CON`, `NUL` or `AUX`, a character of `<>:\"|?*`, or a trailing dot or space), so the pack would not load there"
    )]
    NotPortable,
    /// The file exists with this name in another case: Windows and macOS would open it, Linux
    /// would not, so it is refused everywhere.
    #[error(
        "differs in case from the file `{}`: spell it as the file is named, or the pack loads on Windows and macOS but not on Linux",
        crate::paths::shown(.0)
    )]
    OtherCase(PathBuf),
}

/// Device names Windows keeps in every folder, whatever the extension (`aux.lua` is `AUX`).
const WINDOWS_DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Whether Windows can open a file of this name: not a device, no character it refuses, no
/// trailing dot or space. Checked on every platform, so a pack made on Linux is known to load
/// on Windows (where opening `con.js` would wait for the console's input).
fn portable(name: &str) -> bool {
    let device = name.split('.').next().unwrap_or_default().trim_end();
    !WINDOWS_DEVICES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(device))
        && !name.contains(['<', '>', ':', '"', '|', '?', '*'])
        && !name.ends_with(['.', ' '])
}

/// `dir` joined with `relative` (folded, as written, not canonical) when it names an existing
/// file that is really inside `dir`, symlinks resolved.
pub(crate) fn inside(dir: &Path, relative: &Path) -> Result<PathBuf, Refusal> {
    Folder::new(dir).inside(relative)
}

/// A mod's folder with its canonical path, found once for every file checked against it
/// (finding it costs a system call per component of the path).
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    dir: PathBuf,
    canonical: Option<PathBuf>,
}

impl Folder {
    pub(crate) fn new(dir: &Path) -> Folder {
        Folder {
            dir: dir.to_path_buf(),
            canonical: dir.canonicalize().ok(),
        }
    }

    /// The folder `name` of `parent`, whose canonical path is `canonical_parent`: when the
    /// folder is no link, its canonical path is the parent's joined with its name, and no
    /// system call is needed.
    pub(crate) fn child(
        parent: &Path,
        canonical_parent: Option<&Path>,
        name: &str,
        is_link: bool,
    ) -> Folder {
        let dir = parent.join(name);
        match canonical_parent {
            Some(canonical_parent) if !is_link => Folder {
                dir,
                canonical: Some(canonical_parent.join(name)),
            },
            _ => Folder::new(&dir),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// [`inside`] this folder.
    pub(crate) fn inside(&self, relative: &Path) -> Result<PathBuf, Refusal> {
        let dir = &self.dir;
        // A drive (`C:main.js` on Windows) counts as absolute: it leaves the folder as well.
        let drive = relative
            .components()
            .any(|component| matches!(component, Component::Prefix(_)));
        if relative.has_root() || relative.is_absolute() || drive {
            return Err(Refusal::Absolute);
        }
        if escapes(relative) {
            return Err(Refusal::Escapes);
        }
        let unportable = relative.components().any(|component| {
        matches!(component, Component::Normal(name) if !portable(&name.to_string_lossy()))
    });
        if unportable {
            return Err(Refusal::NotPortable);
        }
        let joined = fold(&dir.join(relative));
        let missing = || match spelled_otherwise(&self.dir, relative) {
            Some(actual) => Refusal::OtherCase(actual),
            None => Refusal::Missing,
        };
        let Some(canonical_dir) = &self.canonical else {
            return Err(missing());
        };
        // Where names are compared exactly (Linux), a path with no link in it is inside the
        // folder as written: one `lstat` a component of `relative` shows that, where
        // `canonicalize` reads the working directory and tries every component of the whole
        // path as a link (four system calls for `main.js` in a relative mods folder, for every
        // mod scanned and every file a mod opens).
        if cfg!(target_os = "linux") {
            match has_link(canonical_dir, relative) {
                Ok(false) => return Ok(joined),
                Ok(true) => {}
                Err(_) => return Err(missing()),
            }
        }
        let Ok(file) = joined.canonicalize() else {
            return Err(missing());
        };
        if !file.starts_with(canonical_dir) {
            return Err(Refusal::LeavesThroughLink);
        }
        // Where names ignore case, the canonical path has each as the disk spells it.
        if let Some(actual) = case_differs(&file, relative) {
            return Err(Refusal::OtherCase(actual));
        }
        Ok(joined)
    }
}

/// Whether any component of `relative` (from the folder `dir`) is a link; an error when one
/// does not exist.
fn has_link(dir: &Path, relative: &Path) -> std::io::Result<bool> {
    let mut path = dir.to_path_buf();
    for component in fold(relative).components() {
        path.push(component);
        if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `relative` as the disk spells it, when the canonical path of the file it names spells its
/// last components in another case (only where names ignore case: Windows, macOS).
fn case_differs(canonical: &Path, relative: &Path) -> Option<PathBuf> {
    let folded = fold(relative);
    let written: Vec<&std::ffi::OsStr> = folded
        .components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name),
            _ => None,
        })
        .collect();
    let found: Vec<&std::ffi::OsStr> = canonical
        .components()
        .rev()
        .take(written.len())
        .map(Component::as_os_str)
        .collect();
    let mut differs = false;
    for (written, found) in written.iter().rev().zip(&found) {
        let (written, found) = (written.to_string_lossy(), found.to_string_lossy());
        if written == found {
            continue;
        }
        if written.to_lowercase() != found.to_lowercase() {
            // Another name altogether: a link inside the folder, not a matter of case.
            return None;
        }
        differs = true;
    }
    differs.then(|| found.iter().rev().collect())
}

/// `relative` as the disk spells it, when it names no file as written but does in another case
/// (where names are compared exactly: Linux). Only looked for once a file is missing.
fn spelled_otherwise(dir: &Path, relative: &Path) -> Option<PathBuf> {
    let mut actual = PathBuf::new();
    let mut differs = false;
    for component in fold(relative).components() {
        let Component::Normal(name) = component else {
            return None;
        };
        let wanted = name.to_string_lossy();
        let here = dir.join(&actual);
        if here.join(name).exists() {
            actual.push(name);
            continue;
        }
        let other = std::fs::read_dir(&here).ok()?.find_map(|entry| {
            let found = entry.ok()?.file_name();
            (found.to_string_lossy().to_lowercase() == wanted.to_lowercase()).then_some(found)
        })?;
        actual.push(other);
        differs = true;
    }
    differs.then_some(actual)
}

/// Every file under `dir`, sorted, skipping hidden entries and symlinks (so a link cannot lead
/// the walk out of the folder, or round in a loop).
pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if hidden || kind.is_symlink() {
                continue;
            }
            if kind.is_dir() {
                pending.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// Whether a relative path climbs above its starting folder at any point.
pub(crate) fn escapes(path: &Path) -> bool {
    let mut depth: usize = 0;
    for component in path.components() {
        match component {
            Component::ParentDir if depth == 0 => return true,
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    false
}

/// Removes `.` and folds `..` without touching the disk.
pub(crate) fn fold(path: &Path) -> PathBuf {
    // The usual path has neither (`components` already skips a `.` inside a path): it is
    // copied whole instead of rebuilt a component at a time.
    let plain = path
        .components()
        .all(|component| !matches!(component, Component::CurDir | Component::ParentDir));
    if plain {
        return path.to_path_buf();
    }
    let mut folded = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !folded.pop() {
                    folded.push("..");
                }
            }
            other => folded.push(other),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_dots_and_keeps_a_plain_path() {
        let folded = |path: &str| fold(Path::new(path));
        assert_eq!(
            folded("mods/a/./lib/../main.js"),
            Path::new("mods/a/main.js")
        );
        assert_eq!(folded("./main.js"), Path::new("main.js"));
        assert_eq!(folded("../mods/a/main.js"), Path::new("../mods/a/main.js"));
        assert_eq!(
            folded("/srv/mods/a/main.js"),
            Path::new("/srv/mods/a/main.js")
        );
    }

    #[test]
    fn names_windows_cannot_open_are_refused_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        for name in [
            "aux.lua", "lib/CON", "nul", "Com1.js", "what?.js", "x.js.", "y ",
        ] {
            assert_eq!(
                inside(dir.path(), Path::new(name)),
                Err(Refusal::NotPortable),
                "{name}"
            );
        }
        // A colon: on Windows the start of a drive, elsewhere a character Windows refuses.
        let colon = inside(dir.path(), Path::new("a:b.js"));
        let expected = if cfg!(windows) {
            Refusal::Absolute
        } else {
            Refusal::NotPortable
        };
        assert_eq!(colon, Err(expected));
        for name in ["auxiliary.lua", "console.js", "lib/nullable.js"] {
            assert!(
                super::portable(Path::new(name).file_name().unwrap().to_str().unwrap()),
                "{name}"
            );
        }
    }

    #[test]
    fn a_path_escapes_only_if_it_climbs_above_its_start() {
        assert!(escapes(Path::new("../x.js")));
        assert!(escapes(Path::new("lib/../../x.js")));
        assert!(!escapes(Path::new("lib/../x.js")));
        assert!(!escapes(Path::new("./lib/x.js")));
    }

    #[cfg(unix)]
    #[test]
    fn only_real_files_inside_the_folder_pass() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mod");
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/a.txt"), "a").unwrap();
        std::fs::write(root.path().join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink("../secret.txt", dir.join("link.txt")).unwrap();
        std::os::unix::fs::symlink("lib/a.txt", dir.join("inner.txt")).unwrap();
        // Links to folders, on the way to the file: followed inside, refused outside.
        std::os::unix::fs::symlink("lib", dir.join("alias")).unwrap();
        std::os::unix::fs::symlink("..", dir.join("up")).unwrap();

        let cases = [
            ("lib/./a.txt", Ok(dir.join("lib/a.txt"))),
            ("inner.txt", Ok(dir.join("inner.txt"))),
            ("/etc/hostname", Err(Refusal::Absolute)),
            ("../secret.txt", Err(Refusal::Escapes)),
            ("link.txt", Err(Refusal::LeavesThroughLink)),
            ("nope.txt", Err(Refusal::Missing)),
            ("alias/a.txt", Ok(dir.join("alias/a.txt"))),
            ("up/secret.txt", Err(Refusal::LeavesThroughLink)),
            ("none/a.txt", Err(Refusal::Missing)),
        ];
        for (relative, expected) in cases {
            assert_eq!(inside(&dir, Path::new(relative)), expected, "{relative}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_walk_skips_hidden_entries_and_never_follows_links() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::create_dir_all(dir.join("lib/.git")).unwrap();
        std::fs::write(dir.join("main.js"), "").unwrap();
        std::fs::write(dir.join("lib/util.lua"), "").unwrap();
        std::fs::write(dir.join("lib/.git/HEAD"), "").unwrap();
        // A link back to the folder itself would make a following walk loop forever.
        std::os::unix::fs::symlink(".", dir.join("lib/loop")).unwrap();
        assert_eq!(
            files_in(dir),
            [dir.join("lib/util.lua"), dir.join("main.js")]
        );
    }
}
