//! How paths are shown to users, on every platform alike: as they would type them, with
//! forward slashes (Windows takes both), so a diagnostic, a log line and a report say the same
//! on Linux and Windows, and a test's expected output holds on both.

use std::path::Path;

/// `mods/core/main.js`, never `mods\core\main.js`.
pub fn shown(path: &Path) -> String {
    let text = path.display().to_string();
    if std::path::MAIN_SEPARATOR == '\\' {
        text.replace('\\', "/")
    } else {
        text
    }
}
