//! How paths are shown to users, on every platform alike: as they would type them, with
//! forward slashes (Windows takes both) and without the `\\?\` prefix Windows puts on a
//! canonical path, so a diagnostic, a log line and a report say the same on Linux and Windows,
//! and a test's expected output holds on both.

use std::path::Path;

/// `mods/core/main.js`, never `mods\core\main.js`; `C:/pack/mods`, never `\\?\C:\pack\mods`.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if std::path::MAIN_SEPARATOR != '\\' {
        return text;
    }
    let unprefixed = match text.strip_prefix(r"\\?\") {
        Some(rest) => match rest.strip_prefix(r"UNC\") {
            Some(share) => format!(r"\\{share}"),
            None => rest.to_owned(),
        },
        None => text,
    };
    unprefixed.replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::shown;
    use std::path::Path;

    #[test]
    fn a_relative_path_is_shown_as_written() {
        assert_eq!(shown(Path::new("mods/core/main.js")), "mods/core/main.js");
    }

    #[cfg(windows)]
    #[test]
    fn windows_paths_lose_backslashes_and_verbatim_prefixes() {
        assert_eq!(shown(Path::new(r"mods\core\main.js")), "mods/core/main.js");
        assert_eq!(shown(Path::new(r"\\?\C:\pack\mods")), "C:/pack/mods");
        assert_eq!(
            shown(Path::new(r"\\?\UNC\server\share\mods")),
            "//server/share/mods"
        );
    }
}
