//! Whether the system's file events reach into subfolders, so that one recursive watch of the
//! mods directory sees every save.
//!
//! They do on Linux (inotify, one watch a folder, which `notify` keeps), macOS (FSEvents) and
//! Windows (`ReadDirectoryChangesW` with its subtree flag). They do not under Wine, where
//! Windows builds run on Linux and the Steam Deck (Proton): Wine 8 reports the watched
//! folder's own entries and nothing below them (measured here: a save in `mods/x/main.js` is
//! never reported, the same save watched as `mods/x` is), so a recursive watch there would
//! never reload a mod. The watch polls instead.

/// Whether a recursive watch sees changes inside subfolders.
pub(super) fn reach_subfolders() -> bool {
    !under_wine()
}

/// Wine's `ntdll.dll` exports `wine_get_version`; Windows' does not.
#[cfg(windows)]
fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // SAFETY: both names are NUL-terminated; ntdll is loaded in every Windows process and
    // the handle is only looked into, never freed.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

#[cfg(not(windows))]
fn under_wine() -> bool {
    false
}
