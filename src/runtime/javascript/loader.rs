//! ES module imports, confined to the mod's own folder.
//!
//! `import "./lib/util.js"` resolves against the importing file; a bare name (`os`, `std`,
//! `node:fs`) or a path that leaves the mod's folder, also through a symlink, is an error.

use std::path::{Component, Path, PathBuf};

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
        let from = Path::new(base).parent().unwrap_or(Path::new(""));
        let path = normalize(&from.join(name));
        let inside = match (path.canonicalize(), self.dir.canonicalize()) {
            (Ok(file), Ok(dir)) => file.starts_with(dir),
            (Err(_), _) => return Err(refuse("the file does not exist")),
            _ => false,
        };
        if !inside || !path.starts_with(normalize(&self.dir)) {
            return Err(refuse("the path leaves the mod's folder"));
        }
        Ok(path.display().to_string())
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

/// Removes `.` and folds `..` without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push("..");
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
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
