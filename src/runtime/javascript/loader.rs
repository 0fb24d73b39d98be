//! ES module imports, confined to the mod's own folder.
//!
//! `import "./lib/util.js"` resolves against the importing file; a bare name (`os`, `std`,
//! `node:fs`) or a path that leaves the mod's folder, also through a symlink, is an error.

use std::path::{Path, PathBuf};

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Module};

pub struct ConfinedResolver {
    dir: PathBuf,
}

pub struct FileLoader;

/// A resolver and loader for a mod whose folder is `dir`.
pub fn confined_to(dir: &Path) -> (ConfinedResolver, FileLoader) {
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
        if !(name.starts_with("./") || name.starts_with("../")) {
            return Err(refuse(
                "mods can only import files inside their own folder, with a path starting with `./` or `../`",
            ));
        }
        let from = Path::new(base)
            .parent()
            .and_then(|folder| folder.strip_prefix(&self.dir).ok())
            .unwrap_or(Path::new(""));
        crate::confine::inside(&self.dir, &from.join(name))
            .map(|path| path.display().to_string())
            .map_err(|refusal| refuse(&format!("the path {refusal}")))
    }
}

impl Loader for FileLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let source = std::fs::read(name)
            .map_err(|error| rquickjs::Error::new_loading_message(name, error.to_string()))?;
        Module::declare(ctx.clone(), name, source)
    }
}

/// For checking syntax only: every import resolves, to an empty module, so that a file
/// compiles on its own (each file is checked separately).
pub struct Anything;

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
