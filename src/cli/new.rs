//! `modhost new`: scaffold a mod with every hook, editor typings and the manifest schema.

use std::path::{Path, PathBuf};

use clap::Args;
use clap::builder::{PossibleValue, PossibleValuesParser};
use modhost::Config;
use modhost::internal::manifest::{is_valid_id, json_schema};
use modhost::internal::runtime::BACKENDS;
use modhost::internal::runtime::starter::Starter;

use super::{Exit, render, typings::editor_typings};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The new mod's id (lowercase letters, digits, `.`, `_`, `-`); also its folder name
    id: String,
    /// The language to write it in
    #[arg(long, default_value = "js", value_parser = languages())]
    lang: String,
}

/// Each language's `--lang` value, from its backend's starter.
fn languages() -> PossibleValuesParser {
    PossibleValuesParser::new(
        BACKENDS
            .iter()
            .filter_map(|backend| backend.starter())
            .map(|starter| PossibleValue::new(starter.flag).help(starter.about)),
    )
}

/// The name of the schema file written to the mods directory, which manifests point at.
const SCHEMA_FILE: &str = "manifest.schema.json";

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
    // clap accepts only the flags of starters.
    let Some((backend, starter)) = BACKENDS.iter().find_map(|backend| {
        let starter = backend
            .starter()
            .filter(|starter| starter.flag == args.lang)?;
        Some((backend, starter))
    }) else {
        return Exit::Usage;
    };
    let fill = filler(&args.id, starter);
    let mut files: Vec<(PathBuf, String)> = starter
        .files
        .iter()
        .map(|(path, template)| (dir.join(path), fill(template)))
        .collect();
    if let Some(typings) = backend.editor_typings() {
        let text = editor_typings(typings, config.api.as_deref());
        files.push((dir.join(typings.path_in_mod()), text));
    }
    let schema = serde_json::to_string_pretty(&json_schema()).expect("the schema is JSON") + "\n";
    files.push((config.mods_dir.join(SCHEMA_FILE), schema));
    if let Err(error) = files.iter().try_for_each(|(path, text)| write(path, text)) {
        render::fatal(&error, None);
        return Exit::Usage;
    }
    for executable in starter.executables {
        make_executable(&dir.join(executable));
    }
    let next_step = in_folder(&fill(starter.next_step), &dir);
    tracing::info!("created `{}`: {next_step}", dir.display());
    Exit::Success
}

/// `{{dir}}/a/b` in `text` (up to a backtick) as the path `dir` joined with `a/b`, with the
/// system's separators.
fn in_folder(text: &str, dir: &Path) -> String {
    let mut parts = text.split("{{dir}}/");
    let mut shown = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let end = part.find('`').unwrap_or(part.len());
        let path = part[..end]
            .split('/')
            .fold(dir.to_path_buf(), |path, name| path.join(name));
        shown.push_str(&path.display().to_string());
        shown.push_str(&part[end..]);
    }
    shown
}

/// Fills a starter's template for the mod `id`.
fn filler(id: &str, starter: &Starter) -> impl Fn(&str) -> String {
    let name = title(id);
    let crate_name = crate_name(id);
    let entry = starter.entry.replace("{{crate}}", &crate_name);
    let id = id.to_owned();
    move |template: &str| {
        template
            .replace("{{id}}", &id)
            .replace("{{name}}", &name)
            .replace("{{crate}}", &crate_name)
            .replace("{{entry}}", &entry)
    }
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
    use super::{crate_name, in_folder, title};

    #[test]
    fn ids_become_crate_names() {
        assert_eq!(crate_name("my-mod.v2"), "my_mod_v2");
        assert_eq!(crate_name("3d-tools"), "mod_3d_tools");
    }

    #[test]
    fn the_next_step_names_paths_in_the_new_folder() {
        let dir = std::path::Path::new("mods").join("x");
        let shown = in_folder("edit `{{dir}}/src/lib.rs` or `{{dir}}/main.js`", &dir);
        let lib = dir.join("src").join("lib.rs");
        let main = dir.join("main.js");
        assert_eq!(
            shown,
            format!("edit `{}` or `{}`", lib.display(), main.display())
        );
    }

    #[test]
    fn ids_become_titles() {
        assert_eq!(title("my-cool_mod.v2"), "My Cool Mod V2");
        assert_eq!(title("x"), "X");
    }
}
