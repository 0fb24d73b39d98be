//! The data dir (`data_dir`, `.modhost` beside the pack by default): where the token, the
//! protocol's socket and the mods' storage live. It is created for the user alone (mode 0700
//! on Unix, an access list with the owner alone on Windows), and on Unix a data dir another
//! user could write into is refused before anything is written there.

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
    #[cfg(windows)]
    {
        std::fs::create_dir_all(dir)?;
        owner_only(dir).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot make the data dir `{}` yours alone ({error}); set another `data_dir`",
                    crate::paths::shown(dir)
                ),
            )
        })?;
    }
    Ok(())
}

/// Creates the file at `path` anew, readable and writable by the user only (mode 0600 on Unix;
/// on Windows the access list of its folder, which it inherits). Whatever was at `path` is removed
/// first: a link is removed, not followed, so the file never lands somewhere else.
pub(crate) fn create_private_file(path: &Path) -> io::Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    // `create_new` fails on anything at the path, a link included, instead of following it.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Gives `dir` a protected access list with one entry, the owner's, inherited by everything
/// made inside (the token, the storage): Windows' counterpart of mode 0700.
#[cfg(windows)]
fn owner_only(dir: &Path) -> io::Result<()> {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1, SE_FILE_OBJECT,
        SetNamedSecurityInfoW,
    };
    use windows_sys::Win32::Security::{
        ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl,
        PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
    };
    use windows_sys::core::BOOL;
    let sddl = widestring::U16CString::from_str("D:P(A;OICI;FA;;;OW)").map_err(io::Error::other)?;
    let path = widestring::U16CString::from_os_str(dir.as_os_str()).map_err(io::Error::other)?;
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and outlive the calls; `descriptor` is allocated
    // by the system, read only while it lives, and freed once.
    unsafe {
        if ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        ) == 0
        {
            return Err(io::Error::last_os_error());
        }
        let (mut present, mut defaulted): (BOOL, BOOL) = (0, 0);
        let mut dacl: *mut ACL = std::ptr::null_mut();
        let read = GetSecurityDescriptorDacl(descriptor, &mut present, &mut dacl, &mut defaulted);
        let result = if read == 0 {
            Err(io::Error::last_os_error())
        } else {
            match SetNamedSecurityInfoW(
                path.as_ptr(),
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                dacl,
                std::ptr::null(),
            ) {
                0 => Ok(()),
                code => Err(io::Error::from_raw_os_error(code as i32)),
            }
        };
        LocalFree(descriptor);
        result
    }
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
