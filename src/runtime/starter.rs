//! What a language gives a new mod (`modhost new --lang`) and the editor typings a mod in it
//! keeps (`modhost typings`): each [`super::Backend`] answers for its own language, so the
//! command line lists no languages of its own.
//!
//! Templates are text with `{{id}}`, `{{name}}`, `{{crate}}` and `{{entry}}` to fill in; they
//! live beside their backend (`javascript/starter/`, `lua/starter/`, `wasm/starter/`), the
//! manifests every language shares in `starter/`.

/// A new mod in one language.
#[derive(Debug)]
pub struct Starter {
    /// Its `--lang` value (`js`, `lua`).
    pub flag: &'static str,
    /// One line for `modhost new --help`.
    pub about: &'static str,
    /// The entry point, as a template (`{{crate}}.wasm`).
    pub entry: &'static str,
    /// Each file as its path in the mod's folder and its template, manifest first.
    pub files: &'static [(&'static str, &'static str)],
    /// Files among them the owner runs (a build script).
    pub executables: &'static [&'static str],
    /// What to do next, as a template that may also name `{{dir}}` (the mod's folder).
    pub next_step: &'static str,
}

/// The manifest of a mod whose starter writes `manifest.json`.
pub const JSON_MANIFEST: (&str, &str) = ("manifest.json", include_str!("starter/manifest.json"));
/// The manifest of a mod whose starter writes `mod.toml`.
pub const TOML_MANIFEST: (&str, &str) = ("mod.toml", include_str!("starter/mod.toml"));

/// The next step for a script: nothing to build.
pub const EDIT_AND_WATCH: &str = "run `modhost run --watch` and edit `{{dir}}/{{entry}}`";

/// Declarations of the `modhost` API (and the game's) an editor reads for a mod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorTypings {
    /// `modhost.d.ts`, for TypeScript and JavaScript (VS Code checks JavaScript with it).
    TypeScript,
    /// LuaLS annotations, for Lua.
    LuaLs,
}

impl EditorTypings {
    pub const ALL: [EditorTypings; 2] = [EditorTypings::TypeScript, EditorTypings::LuaLs];

    /// Where a mod keeps them, relative to its folder.
    pub fn path_in_mod(self) -> &'static str {
        match self {
            EditorTypings::TypeScript => "modhost.d.ts",
            EditorTypings::LuaLs => ".luals/modhost.lua",
        }
    }

    /// Their file's name when written together into one folder (`modhost typings --out`).
    pub fn file_name(self) -> &'static str {
        match self {
            EditorTypings::TypeScript => "modhost.d.ts",
            EditorTypings::LuaLs => "modhost.lua",
        }
    }
}
