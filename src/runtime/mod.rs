//! The languages mods are written in, and how an entry point picks one.
//!
//! A mod's runtime is chosen by its entry point's extension. This table is the one place that
//! knows which extensions exist.

use std::fmt;
use std::path::Path;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    JavaScript,
    Lua,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::JavaScript, Language::Lua];

    /// File extensions (without the dot) of entry points in this language.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Language::JavaScript => &["js", "mjs"],
            Language::Lua => &["lua"],
        }
    }

    /// The language of an entry point, from its extension.
    pub fn of_entry_point(path: &Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?;
        Language::ALL
            .into_iter()
            .find(|language| language.extensions().contains(&extension))
    }

    /// `.js`, `.mjs`, `.lua`: every extension, for error messages.
    pub fn known_extensions() -> String {
        Language::ALL
            .iter()
            .flat_map(|language| language.extensions())
            .map(|extension| format!("`.{extension}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::JavaScript => "javascript",
            Language::Lua => "lua",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_picks_the_language() {
        assert_eq!(
            Language::of_entry_point(Path::new("lib/main.mjs")),
            Some(Language::JavaScript)
        );
        assert_eq!(
            Language::of_entry_point(Path::new("init.lua")),
            Some(Language::Lua)
        );
        assert_eq!(Language::of_entry_point(Path::new("main.py")), None);
        assert_eq!(Language::of_entry_point(Path::new("Makefile")), None);
        assert_eq!(Language::known_extensions(), "`.js`, `.mjs`, `.lua`");
    }
}
