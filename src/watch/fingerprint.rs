//! Content fingerprints of mod folders, so that a save that changes nothing (an editor
//! touching a file, a checkout of the same content) does not reload anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The last fingerprint seen of each folder.
#[derive(Default)]
pub(crate) struct Fingerprints {
    known: HashMap<PathBuf, u64>,
}

impl Fingerprints {
    /// Records the folder's current content; returns whether it differs from last time (a
    /// folder seen for the first time, or gone, counts as changed).
    pub(crate) fn update(&mut self, folder: &Path) -> bool {
        let current = crate::files::folder_hash(folder);
        let previous = match current {
            Some(current) => self.known.insert(folder.to_path_buf(), current),
            None => self.known.remove(folder),
        };
        previous.is_none() || previous != current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_changes_count() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("main.js");
        let mut fingerprints = Fingerprints::default();
        std::fs::write(&file, "a").unwrap();
        assert!(fingerprints.update(folder.path()), "first sight");
        std::fs::write(&file, "a").unwrap();
        assert!(!fingerprints.update(folder.path()), "same content");
        std::fs::write(&file, "b").unwrap();
        assert!(fingerprints.update(folder.path()));
        std::fs::write(folder.path().join(".main.js.swp"), "x").unwrap();
        assert!(
            !fingerprints.update(folder.path()),
            "hidden files do not count"
        );
    }
}
