//! Reading the pack's files (manifests, scripts, modules, the configuration, the game's API).
//! On Windows an editor or a sync tool may hold a file open without sharing it for a moment
//! while it saves; reading it then fails with a sharing violation, and a reload under
//! `--watch` would fail the mod for nothing. Such a read is tried again for up to half a
//! second. Elsewhere files are not locked, and a read is a read. And what a folder's files
//! amount to, as one hash ([`folder_hash`]).
//!
//! A file is read without asking for its size first, as `std::fs::read` does (a system call
//! of its own, and most of a small file's read): a pack of 10,000 mods reads 20,000 files of a
//! few kilobytes, and starting a mod was 13 system calls where the floor's is 5.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::source::content_hash;

/// What the first read of a file asks for: a mod's manifest or script fits, and a larger file
/// grows the buffer as it is read.
const FIRST_READ: usize = 16 * 1024;

/// The file's bytes.
pub(crate) fn read(path: &Path) -> io::Result<Vec<u8>> {
    retrying(|| read_all(File::open(path)?))
}

/// The file as UTF-8 text.
pub(crate) fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// The file's bytes, or `None` when there is no file by that name (nothing, or a folder). It
/// is found out by opening it, where a look first would be a system call more.
pub(crate) fn read_if_present(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        // A folder opens on Unix and fails to read; on Windows it fails to open.
        Err(_) if path.is_dir() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Everything `file` holds. `File::read_to_end` asks for the size and the position first; a
/// `Take` reads until the end without asking.
fn read_all(file: File) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(FIRST_READ);
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A hash of every file's path (relative, with `/` between folders) and content under
/// `folder` (as [`crate::confine::files_in`] walks it), the same on every machine: what
/// `--watch` compares to tell a real change, and what a recording names a mod's files by.
/// `None` when the folder does not exist.
pub(crate) fn folder_hash(folder: &Path) -> Option<u64> {
    if !folder.is_dir() {
        return None;
    }
    let mut all = Vec::new();
    for file in crate::confine::files_in(folder) {
        let relative = file.strip_prefix(folder).unwrap_or(&file);
        let name: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        all.extend_from_slice(name.join("/").as_bytes());
        all.push(0);
        let content = read(&file).unwrap_or_default();
        all.extend_from_slice(&content_hash(&content).to_le_bytes());
    }
    Some(content_hash(&all))
}

#[cfg(windows)]
fn retrying<T>(mut read: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    /// `ERROR_SHARING_VIOLATION` and `ERROR_LOCK_VIOLATION`.
    const LOCKED: [i32; 2] = [32, 33];
    const TRIES: u32 = 20;
    let mut tries = 1;
    loop {
        match read() {
            Err(error)
                if tries < TRIES
                    && error
                        .raw_os_error()
                        .is_some_and(|code| LOCKED.contains(&code)) =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            done => return done,
        }
    }
}

#[cfg(not(windows))]
fn retrying<T>(read: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    read()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_present_and_read_whole_but_a_folder_by_its_name_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let large: Vec<u8> = (0..3 * FIRST_READ).map(|index| index as u8).collect();
        std::fs::write(dir.path().join("large.wasm"), &large).unwrap();
        std::fs::create_dir(dir.path().join("manifest.json")).unwrap();
        assert_eq!(
            read_if_present(&dir.path().join("large.wasm")).unwrap(),
            Some(large)
        );
        assert_eq!(
            read_if_present(&dir.path().join("manifest.json")).unwrap(),
            None
        );
        assert_eq!(read_if_present(&dir.path().join("mod.toml")).unwrap(), None);
        std::fs::write(dir.path().join("bad.js"), b"\xff").unwrap();
        let error = read_to_string(&dir.path().join("bad.js")).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn a_folder_hash_changes_with_a_file_and_with_its_name_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.lua"), "return 1").unwrap();
        let first = folder_hash(dir.path());
        assert_eq!(first, folder_hash(dir.path()));
        std::fs::write(dir.path().join("a.lua"), "return 2").unwrap();
        let second = folder_hash(dir.path());
        assert_ne!(first, second);
        std::fs::rename(dir.path().join("a.lua"), dir.path().join("b.lua")).unwrap();
        assert_ne!(second, folder_hash(dir.path()));
        assert_eq!(folder_hash(&dir.path().join("gone")), None);
    }

    #[cfg(windows)]
    #[test]
    fn a_file_held_without_sharing_is_read_once_it_is_let_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.js");
        std::fs::write(&path, "function f() {}\n").unwrap();
        use std::os::windows::fs::OpenOptionsExt;
        use std::time::{Duration, Instant};
        let held = std::fs::OpenOptions::new()
            .read(true)
            .share_mode(0)
            .open(&path)
            .unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap_err().raw_os_error(),
            Some(32),
            "the file is held"
        );
        let started = Instant::now();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        assert_eq!(read_to_string(&path).unwrap(), "function f() {}\n");
        assert!(started.elapsed() >= Duration::from_millis(100));
        release.join().unwrap();
    }
}
