//! `modhost new`: scaffold a mod with every hook, editor typings and the manifest schema.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use modhost::Config;
use modhost::manifest::{is_valid_id, json_schema};
use modhost::typings;

use super::{Exit, render};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The new mod's id (lowercase letters, digits, `.`, `_`, `-`); also its folder name
    id: String,
    /// The language to write it in
    #[arg(long, value_enum, default_value_t = Lang::Js)]
    lang: Lang,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Lang {
    /// JavaScript, with `modhost.d.ts` and `jsconfig.json` for type checking in VS Code
    Js,
    /// TypeScript, run without a build step, with `modhost.d.ts` and a `tsconfig.json`
    Ts,
    /// Lua 5.4, with LuaLS annotations in `.luals/modhost.lua`
    Lua,
    /// Rust compiled to WebAssembly with extism-pdk (`./build.sh` builds it)
    Rust,
}

impl Lang {
    /// The entry point a new mod in this language starts with.
    fn entry(self, crate_name: &str) -> String {
        match self {
            Lang::Js => "main.js".to_owned(),
            Lang::Ts => "main.ts".to_owned(),
            Lang::Lua => "init.lua".to_owned(),
            Lang::Rust => format!("{crate_name}.wasm"),
        }
    }
}

/// The name of the schema file written to the mods directory, which manifests point at.
const SCHEMA_FILE: &str = "manifest.schema.json";
/// Where a JavaScript mod keeps its declarations, relative to its folder.
pub const TYPESCRIPT_FILE: &str = "modhost.d.ts";
/// Where a Lua mod keeps its LuaLS annotations, relative to its folder.
pub const LUA_LS_FILE: &str = ".luals/modhost.lua";

pub fn run(args: &NewArgs, config: &Config) -> Exit {
    if !is_valid_id(&args.id) {
        render::fatal(
            &format!("`{}` is not a valid mod id", args.id),
            Some(
                "use 1 to 64 lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit",
            ),
        );
        return Exit::Usage;
    }
    let dir = config.mods_dir.join(&args.id);
    if dir.exists() {
        render::fatal(
            &format!("`{}` already exists", dir.display()),
            Some("choose another id, or remove the folder first"),
        );
        return Exit::Usage;
    }
    let name = title(&args.id);
    let crate_name = crate_name(&args.id);
    let entry = args.lang.entry(&crate_name);
    let fill = |template: &str| {
        template
            .replace("{{id}}", &args.id)
            .replace("{{name}}", &name)
            .replace("{{crate}}", &crate_name)
            .replace("{{entry}}", &entry)
    };
    let manifest = (
        dir.join("manifest.json"),
        fill(include_str!("templates/manifest.json")),
    );
    let schema = serde_json::to_string_pretty(&json_schema()).expect("the schema is JSON") + "\n";
    let api = config.api.as_deref();
    let files: Vec<(PathBuf, String)> = match args.lang {
        Lang::Js => vec![
            manifest,
            (dir.join("main.js"), fill(include_str!("templates/main.js"))),
            (
                dir.join("tests/main.test.js"),
                fill(include_str!("templates/main.test.js")),
            ),
            (dir.join(TYPESCRIPT_FILE), typings::typescript(api)),
            (
                dir.join("jsconfig.json"),
                include_str!("templates/jsconfig.json").to_owned(),
            ),
        ],
        Lang::Ts => vec![
            manifest,
            (dir.join("main.ts"), fill(include_str!("templates/main.ts"))),
            (
                dir.join("tests/main.test.ts"),
                fill(include_str!("templates/main.test.ts")),
            ),
            (dir.join(TYPESCRIPT_FILE), typings::typescript(api)),
            (
                dir.join("tsconfig.json"),
                include_str!("templates/tsconfig.json").to_owned(),
            ),
        ],
        Lang::Rust => vec![
            manifest,
            (
                dir.join("Cargo.toml"),
                fill(include_str!("templates/rust/Cargo.toml")),
            ),
            (
                dir.join(".cargo/config.toml"),
                fill(include_str!("templates/rust/config.toml")),
            ),
            (
                dir.join("src/lib.rs"),
                fill(include_str!("templates/rust/lib.rs")),
            ),
            (
                dir.join("build.sh"),
                fill(include_str!("templates/rust/build.sh")),
            ),
        ],
        Lang::Lua => vec![
            (
                dir.join("mod.toml"),
                fill(include_str!("templates/mod.toml")),
            ),
            (
                dir.join("init.lua"),
                fill(include_str!("templates/init.lua")),
            ),
            (
                dir.join("tests/init.test.lua"),
                fill(include_str!("templates/init.test.lua")),
            ),
            (dir.join(LUA_LS_FILE), typings::lua_ls(api)),
            (
                dir.join(".luarc.json"),
                include_str!("templates/luarc.json").to_owned(),
            ),
        ],
    };
    let written = files
        .iter()
        .chain([&(config.mods_dir.join(SCHEMA_FILE), schema)])
        .try_for_each(|(path, text)| write(path, text));
    if let Err(error) = written {
        render::fatal(&error, None);
        return Exit::Usage;
    }
    match args.lang {
        Lang::Rust => {
            make_executable(&dir.join("build.sh"));
            tracing::info!(
                "created `{}`: build it with `{}`, then run `modhost run --watch` and rebuild after each change to `{}`",
                dir.display(),
                dir.join("build.sh").display(),
                dir.join("src/lib.rs").display()
            );
        }
        _ => tracing::info!(
            "created `{}`: run `modhost run --watch` and edit `{}`",
            dir.display(),
            dir.join(&entry).display()
        ),
    }
    Exit::Success
}

/// Writes a file, creating its folder.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create `{}`: {error}", parent.display()))?;
    }
    std::fs::write(path, text)
        .map_err(|error| format!("cannot write `{}`: {error}", path.display()))
}

/// A Rust crate name for a mod id: `my-mod.v2` → `my_mod_v2` (`mod_` first when it starts
/// with a digit).
fn crate_name(id: &str) -> String {
    let name = id.replace(['-', '.'], "_");
    match name.starts_with(|first: char| first.is_ascii_digit()) {
        true => format!("mod_{name}"),
        false => name,
    }
}

/// Lets the owner run a scaffolded script (a failure only means running it with `sh`).
fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `my-cool_mod` → `My Cool Mod`.
fn title(id: &str) -> String {
    id.split(['-', '_', '.'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::{crate_name, title};

    #[test]
    fn ids_become_crate_names() {
        assert_eq!(crate_name("my-mod.v2"), "my_mod_v2");
        assert_eq!(crate_name("3d-tools"), "mod_3d_tools");
    }

    #[test]
    fn ids_become_titles() {
        assert_eq!(title("my-cool_mod.v2"), "My Cool Mod V2");
        assert_eq!(title("x"), "X");
    }
}
