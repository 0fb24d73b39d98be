//! `modhost typings`: write the editor typings (the `modhost` API and the game's) into every
//! mod of the pack, or into one folder.

use std::path::PathBuf;

use clap::Args;
use modhost::Config;
use modhost::GameApi;
use modhost::internal::runtime::starter::EditorTypings;
use modhost::internal::typings;

use super::new::write;
use super::{Exit, load_pack, render};

#[derive(Debug, Args)]
pub struct TypingsArgs {
    /// Write `modhost.d.ts` and `modhost.lua` into this folder instead of into each mod
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: &TypingsArgs, config: &Config) -> Exit {
    let api = config.api.as_deref();
    let files: Vec<(PathBuf, String)> = match &args.out {
        Some(out) => EditorTypings::ALL
            .into_iter()
            .map(|kind| (out.join(kind.file_name()), editor_typings(kind, api)))
            .collect(),
        None => {
            let pack = match load_pack(config) {
                Ok(pack) => pack,
                Err(exit) => return exit,
            };
            pack.mods
                .iter()
                .filter_map(|entry| {
                    let kind = entry.language.backend().editor_typings()?;
                    Some((
                        entry.dir.join(kind.path_in_mod()),
                        editor_typings(kind, api),
                    ))
                })
                .collect()
        }
    };
    for (path, text) in &files {
        if let Err(error) = write(path, text) {
            render::fatal(&error, None);
            return Exit::Usage;
        }
        tracing::info!("wrote `{}`", path.display());
    }
    if files.is_empty() {
        tracing::warn!(
            "the pack has no usable mods: nothing written (`--out DIR` writes the typings anywhere)"
        );
    }
    Exit::Success
}

/// The text of one kind of editor typings, with the game's API when there is one.
pub fn editor_typings(kind: EditorTypings, api: Option<&GameApi>) -> String {
    match kind {
        EditorTypings::TypeScript => typings::typescript(api),
        EditorTypings::LuaLs => typings::lua_ls(api),
    }
}
