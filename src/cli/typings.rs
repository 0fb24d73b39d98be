//! `modhost typings`: write the editor typings (the `modhost` API and the game's) into every
//! mod of the pack, or into one folder.

use std::path::PathBuf;

use clap::Args;
use modhost::{Config, typings};

use super::new::{LUA_LS_FILE, TYPESCRIPT_FILE, write};
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
        Some(out) => vec![
            (out.join("modhost.d.ts"), typings::typescript(api)),
            (out.join("modhost.lua"), typings::lua_ls(api)),
        ],
        None => {
            let pack = match load_pack(config) {
                Ok(pack) => pack,
                Err(exit) => return exit,
            };
            // WebAssembly mods declare their host functions in their own language.
            pack.mods
                .iter()
                .filter_map(|entry| match entry.language.name() {
                    "lua" => Some((entry.dir.join(LUA_LS_FILE), typings::lua_ls(api))),
                    "javascript" | "typescript" => {
                        Some((entry.dir.join(TYPESCRIPT_FILE), typings::typescript(api)))
                    }
                    _ => None,
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
