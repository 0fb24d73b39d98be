//! ES module imports, confined to the mod's own folder.
//!
//! `import "./lib/util.js"` resolves against the importing file, and `import { z } from "zod"`
//! in the mod's `node_modules` ([`super::packages`]); a URL-like name (`node:fs`), an absolute
//! path or a path that leaves the mod's folder, also through a symlink, is an error. A
//! TypeScript file may import `./util`, `./util.ts` or `./util.js` for `util.ts`, as `tsc`
//! allows, and each `.ts` file is stripped of its types as it loads.

use std::path::{Path, PathBuf};

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Module};

use super::packages;

pub(super) struct ConfinedResolver {
    dir: PathBuf,
}

pub(super) struct FileLoader;

/// A resolver and loader for a mod whose folder is `dir`.
pub(super) fn confined_to(dir: &Path) -> (ConfinedResolver, FileLoader) {
    (
        ConfinedResolver {
            dir: dir.to_path_buf(),
        },
        FileLoader,
    )
}

impl Resolver for ConfinedResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let refuse = |why: &str| rquickjs::Error::new_resolving_message(base, name, why);
        let from = Path::new(base)
            .parent()
            .and_then(|folder| folder.strip_prefix(&self.dir).ok())
            .unwrap_or(Path::new(""));
        let wanted = if name.starts_with("./") || name.starts_with("../") {
            from.join(name)
        } else if packages::is_bare(name) {
            packages::resolve(&self.dir, from, name).map_err(|why| refuse(&why))?
        } else {
            return Err(refuse(
                "mods can only import files inside their own folder (a path starting with `./` or `../`) and packages installed in its `node_modules`",
            ));
        };
        let typescript = super::typescript::is_typescript(Path::new(base));
        let mut first_refusal = None;
        for candidate in packages::candidates(&wanted, typescript) {
            match crate::confine::inside(&self.dir, &candidate) {
                Ok(path) if path.is_file() => return Ok(crate::paths::shown(&path)),
                Ok(_) => {}
                Err(crate::confine::Refusal::Missing) => {}
                Err(refusal) => {
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        Err(refuse(&match first_refusal {
            Some(refusal) => format!("the path {refusal}"),
            None => "no such file in the mod's folder".to_owned(),
        }))
    }
}

impl Loader for FileLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let failed = |why: String| rquickjs::Error::new_loading_message(name, why);
        let source = crate::files::read_to_string(Path::new(name))
            .map_err(|error| failed(error.to_string()))?;
        let source = super::javascript_of(Path::new(name), source).map_err(|error| {
            failed(match error.position() {
                Some(position) => format!("{position}: {}", error.message),
                None => error.message,
            })
        })?;
        Module::declare(ctx.clone(), name, source)
    }
}

/// For checking syntax only: every import resolves, to an empty module, so that a file
/// compiles on its own (each file is checked separately).
pub(super) struct Anything;

impl Resolver for Anything {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        _base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        Ok(name.to_owned())
    }
}

impl Loader for Anything {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        Module::declare(ctx.clone(), name, "")
    }
}
