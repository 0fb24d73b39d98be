//! `require`, confined to the mod's own folder.
//!
//! `require("lib.util")` loads `lib/util.lua` or `lib/util/init.lua` from the mod's folder, once;
//! later calls return the cached result. Names that climb out (`..`), absolute paths, and
//! symlinks that leave the folder are errors.

use std::path::{Path, PathBuf};

use mlua::{Lua, Table, Value};

use super::chunk_name;
use crate::confine::Refusal;

/// Installs `require`; returns its table of loaded modules, by name.
pub(super) fn install(lua: &Lua, dir: &Path) -> mlua::Result<Table> {
    let dir = dir.to_path_buf();
    let loaded: Table = lua.create_table()?;
    let cache = loaded.clone();
    let require = lua.create_function(move |lua, name: String| -> mlua::Result<(bool, Value)> {
        if let Some(cached) = loaded.raw_get::<Option<Value>>(name.as_str())? {
            return Ok((true, cached));
        }
        let path = match locate(&dir, &name) {
            Ok(path) => path,
            Err(message) => return Ok((false, Value::String(lua.create_string(message)?))),
        };
        let source = crate::files::read(&path).map_err(|error| {
            mlua::Error::runtime(format!(
                "cannot read `{}`: {error}",
                crate::paths::shown(&path)
            ))
        })?;
        let module: Value = lua
            .load(source)
            .set_name(chunk_name(&path))
            .call(name.as_str())?;
        let module = if module.is_nil() {
            Value::Boolean(true)
        } else {
            module
        };
        loaded.raw_set(name.as_str(), module.clone())?;
        Ok((true, module))
    })?;
    let require = super::bindings::raising(lua, require)?;
    lua.globals().raw_set("require", require)?;
    Ok(cache)
}

/// The name `require` knows the file `path` of the mod in `dir` by (`lib/util.lua` is
/// `lib.util`), if it has one.
pub(super) fn module_name(dir: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(dir).ok()?.with_extension("");
    let parts: Vec<&str> = relative
        .iter()
        .map(|part| part.to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("."))
}

/// The file `require(name)` loads, or why it cannot.
fn locate(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let valid = !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        });
    if !valid {
        return Err(format!(
            "cannot require `{name}`: mods can only require their own files, by a name such as `lib.util`"
        ));
    }
    let relative: PathBuf = name.split('.').collect();
    let candidates = [relative.with_extension("lua"), relative.join("init.lua")];
    for candidate in &candidates {
        match crate::confine::inside(dir, candidate) {
            Ok(path) => return Ok(path),
            Err(Refusal::Missing) => {}
            Err(refusal) => {
                return Err(format!(
                    "cannot require `{name}`: `{}` {refusal}",
                    crate::paths::shown(candidate)
                ));
            }
        }
    }
    Err(format!(
        "cannot require `{name}`: neither `{}` nor `{}` exists",
        crate::paths::shown(&dir.join(&candidates[0])),
        crate::paths::shown(&dir.join(&candidates[1]))
    ))
}
