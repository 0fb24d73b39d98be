//! The data dir (`data_dir`, `.modhost` beside the pack by default): where the token, the
//! protocol's socket and the mods' storage live. It is created for the user alone, and a data
//! dir another user could write into is refused before anything is written there.

use std::io;
use std::path::Path;

/// Makes sure the data dir exists and is the user's own: created readable and writable by the
/// user only, and refused when another user could write into it (it is where the token, the
/// socket and the storage live: whoever can write there could plant a link that makes the host
/// overwrite a file of theirs choosing, or read the token).
pub fn ensure_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let metadata = std::fs::metadata(dir)?;
        let mode = metadata.permissions().mode();
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        let others_write = mode & 0o002 != 0 && mode & 0o1000 == 0;
        if metadata.uid() != me || others_write {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "the data dir `{}` {}: other users could replace what modhost keeps there; make it yours alone (`chmod 700`), or set another `data_dir`",
                    crate::paths::shown(dir),
                    if others_write {
                        format!("is writable by every user (mode {:o})", mode & 0o7777)
                    } else {
                        "belongs to another user".to_owned()
                    }
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_new_data_dir_is_private_and_one_anybody_can_write_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b/.modhost");
        ensure_private(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = ensure_private(&dir).unwrap_err().to_string();
        assert!(
            refused.contains("writable by every user (mode 777)"),
            "{refused}"
        );
        // A shared folder with the sticky bit (like /tmp) protects each user's files.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        ensure_private(&dir).unwrap();
    }
}
