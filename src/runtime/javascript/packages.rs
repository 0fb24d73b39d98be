//! Where an `import` names a file: relative paths the way bundlers read them, and bare names
//! (`import { z } from "zod"`) as npm packages installed in the mod's own `node_modules`.
//!
//! Mods are written with packages from npm, installed with `npm install` inside the mod's
//! folder and imported unchanged. A bare name is looked up in `node_modules` from the importing
//! file's folder up to the mod's folder, never above it; the package's `package.json` picks the
//! file (`exports` with the `import`, `module` and `default` conditions, then `module`, then
//! `main`). A path without an extension finds `x.js`, `x.mjs` or `x/index.js`, as the
//! ES module builds of many packages expect. Everything found here still goes through
//! [`crate::confine`], which the caller applies; this module only reads `package.json` files.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The conditions of `exports` a mod's engine meets, most specific first: an ES module, for
/// no particular platform.
const CONDITIONS: &[&str] = &["import", "module", "default"];

/// Modules of Node and QuickJS that a mod might reach for, to be told it has none (unless an
/// npm package of that name is installed, which is then what it gets).
const BUILT_IN: &[&str] = &[
    "assert",
    "buffer",
    "child_process",
    "cluster",
    "crypto",
    "dgram",
    "dns",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "querystring",
    "readline",
    "std",
    "stream",
    "string_decoder",
    "timers",
    "tls",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "worker_threads",
    "zlib",
];

/// The files a relative import (already joined to the importing folder) may name, in order.
pub(super) fn candidates(wanted: &Path, typescript: bool) -> Vec<PathBuf> {
    let mut candidates = vec![wanted.to_path_buf()];
    let with = |suffix: &str| {
        let mut path = wanted.as_os_str().to_owned();
        path.push(suffix);
        PathBuf::from(path)
    };
    if typescript {
        candidates.push(wanted.with_extension("ts"));
        candidates.push(with(".ts"));
    }
    candidates.extend([with(".js"), with(".mjs"), wanted.join("index.js")]);
    if typescript {
        candidates.push(wanted.join("index.ts"));
    }
    candidates
}

/// Whether `name` is a package name (`zod`, `@scope/name/sub`) rather than a path or a URL
/// (`node:fs`, `https://…`, `/abs`).
pub(super) fn is_bare(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '/', '\\'])
        && !name.contains(':')
        && !name.contains('\\')
}

/// Where the package import `name`, made from `from` (a folder relative to `dir`, the mod's
/// folder), leads: a path relative to `dir`, without the extension rules applied, or why not.
pub(super) fn resolve(dir: &Path, from: &Path, name: &str) -> Result<PathBuf, String> {
    let (package, subpath) = split(name)?;
    let mut folder = Some(from);
    let root = loop {
        let Some(here) = folder else {
            if BUILT_IN.contains(&package) {
                return Err(format!(
                    "`{package}` is a module of Node or of QuickJS, which mods do not have: mods can only import files inside their own folder and packages installed in its `node_modules`"
                ));
            }
            return Err(format!(
                "no package `{package}` in the mod's `node_modules` (run `npm install {package}` in the mod's folder)"
            ));
        };
        let candidate = here.join("node_modules").join(package);
        if dir.join(&candidate).is_dir() {
            break candidate;
        }
        folder = here.parent();
    };
    let manifest = match std::fs::read_to_string(dir.join(&root).join("package.json")) {
        Ok(text) => serde_json::from_str::<Value>(&text).map_err(|error| {
            format!(
                "`{}/package.json` is not JSON: {error}",
                crate::paths::shown(&root)
            )
        })?,
        Err(_) => Value::Null,
    };
    let target = match manifest.get("exports") {
        Some(exports) => exported(exports, &subpath).ok_or_else(|| {
            format!("package `{package}` does not export `{subpath}` for ES modules")
        })?,
        None if subpath == "." => ["module", "main"]
            .iter()
            .find_map(|field| manifest.get(*field).and_then(Value::as_str))
            .unwrap_or("index.js")
            .to_owned(),
        None => subpath,
    };
    Ok(root.join(target.trim_start_matches("./")))
}

/// A package name and the subpath after it (`.` for the package itself).
fn split(name: &str) -> Result<(&str, String), String> {
    let mut parts = name.splitn(3, '/');
    let first = parts.next().unwrap_or_default();
    let (package, rest) = if first.starts_with('@') {
        let scope_end = first.len() + 1 + parts.next().map_or(0, str::len);
        (&name[..scope_end.min(name.len())], parts.next())
    } else {
        let rest = name.split_once('/').map(|(_, rest)| rest);
        (first, rest)
    };
    let valid = |part: &str| !part.is_empty() && part != "." && part != "..";
    if !package.split('/').all(valid) || (package.starts_with('@') && !package.contains('/')) {
        return Err(format!("`{name}` is not a package name"));
    }
    Ok((
        package,
        rest.map_or_else(|| ".".to_owned(), |rest| format!("./{rest}")),
    ))
}

/// The target `exports` gives `subpath`, if any (Node's `PACKAGE_EXPORTS_RESOLVE`, for the
/// conditions of [`CONDITIONS`]).
fn exported(exports: &Value, subpath: &str) -> Option<String> {
    let map = match exports {
        Value::Object(map) if map.keys().any(|key| key.starts_with('.')) => map,
        // A string, an array or an object of conditions: what the package itself exports.
        _ => return (subpath == ".").then(|| target(exports, "")).flatten(),
    };
    if let Some(value) = map.get(subpath) {
        return target(value, "");
    }
    // Patterns (`"./*": "./dist/*.js"`): the longest prefix wins.
    let (value, star) = map
        .iter()
        .filter_map(|(key, value)| {
            let (prefix, suffix) = key.split_once('*')?;
            let star = subpath
                .strip_prefix(prefix)?
                .strip_suffix(suffix)
                .filter(|star| !star.is_empty())?;
            Some((prefix.len(), value, star))
        })
        .max_by_key(|(length, _, _)| *length)
        .map(|(_, value, star)| (value, star))?;
    target(value, star)
}

fn target(value: &Value, star: &str) -> Option<String> {
    match value {
        Value::String(path) if path.starts_with("./") => Some(path.replace('*', star)),
        Value::Array(choices) => choices.iter().find_map(|choice| target(choice, star)),
        Value::Object(conditions) => CONDITIONS
            .iter()
            .find_map(|condition| target(conditions.get(*condition)?, star)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn package_names_and_subpaths() {
        assert_eq!(split("zod"), Ok(("zod", ".".to_owned())));
        assert_eq!(split("zod/mini"), Ok(("zod", "./mini".to_owned())));
        assert_eq!(
            split("@scope/pkg/a/b.js"),
            Ok(("@scope/pkg", "./a/b.js".to_owned()))
        );
        assert_eq!(split("@scope/pkg"), Ok(("@scope/pkg", ".".to_owned())));
        assert!(split("@scope").is_err());
        assert!(split("../x").is_err() || !is_bare("../x"));
        assert!(!is_bare("node:fs") && !is_bare("/etc/passwd") && !is_bare("./a.js"));
        assert!(is_bare("dayjs/esm/index.js"));
    }

    #[test]
    fn exports_pick_the_es_module_build() {
        let exports = json!({
            "./package.json": "./package.json",
            ".": { "types": "./index.d.cts", "import": "./index.js", "require": "./index.cjs" },
            "./mini": { "require": "./mini/index.cjs", "default": "./mini/index.js" },
            "./locales/*": { "import": "./locales/*.js" },
            "./internal/*": null,
        });
        assert_eq!(exported(&exports, ".").as_deref(), Some("./index.js"));
        assert_eq!(
            exported(&exports, "./mini").as_deref(),
            Some("./mini/index.js")
        );
        assert_eq!(
            exported(&exports, "./locales/fr").as_deref(),
            Some("./locales/fr.js")
        );
        assert_eq!(exported(&exports, "./internal/x"), None);
        assert_eq!(exported(&exports, "./missing"), None);
        assert_eq!(
            exported(&json!("./main.mjs"), ".").as_deref(),
            Some("./main.mjs")
        );
        assert_eq!(exported(&json!({ "require": "./a.cjs" }), "."), None);
    }

    #[test]
    fn packages_are_found_upwards_but_never_above_the_mod() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("mod");
        let package = dir.join("node_modules/lib");
        std::fs::create_dir_all(&package).unwrap();
        std::fs::write(package.join("package.json"), r#"{ "module": "es/lib.js" }"#).unwrap();
        std::fs::create_dir_all(root.path().join("node_modules/outside")).unwrap();
        assert_eq!(
            resolve(&dir, Path::new("src/deep"), "lib"),
            Ok(PathBuf::from("node_modules/lib/es/lib.js"))
        );
        assert_eq!(
            resolve(&dir, Path::new(""), "lib/extra.js"),
            Ok(PathBuf::from("node_modules/lib/extra.js"))
        );
        let refused = resolve(&dir, Path::new(""), "outside").unwrap_err();
        assert!(refused.contains("npm install outside"), "{refused}");
        let refused = resolve(&dir, Path::new(""), "fs").unwrap_err();
        assert!(refused.contains("which mods do not have"), "{refused}");
    }
}
