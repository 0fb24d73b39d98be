//! Escape attempts through every route, in both languages, against the real binary: the file
//! system, processes, the environment, native libraries, other mods' globals and storage, and
//! `import`/`require`/`readText` through `..`, absolute paths and symlinks.

mod support;

use std::path::Path;

/// `modhost -q call ARGS` in `dir`: the function's result as JSON text.
fn call(dir: &Path, args: &[&str]) -> String {
    support::modhost(dir, &[&["-q", "call"], args].concat())
}

fn attempts(dir: &Path, mod_id: &str) -> Vec<String> {
    serde_json::from_str(&call(dir, &[mod_id, "escapes"])).expect("a JSON array of outcomes")
}

#[test]
fn no_route_out_of_the_sandbox_works() {
    let pack = support::fixture_copy("sandbox");
    for mod_id in ["js-escape", "lua-escape"] {
        let outcomes = attempts(pack.path(), mod_id);
        assert!(outcomes.len() >= 16, "{outcomes:#?}");
        for outcome in &outcomes {
            assert!(
                outcome.contains(": refused (") && !outcome.contains("ESCAPED"),
                "{mod_id}: {outcome}"
            );
        }
        let reason = |route: &str| -> &str {
            outcomes
                .iter()
                .find(|outcome| outcome.starts_with(&format!("{route}: ")))
                .unwrap_or_else(|| panic!("{mod_id} did not try `{route}`"))
        };
        assert!(reason("readText ..").contains("leaves the mod's folder through `..`"));
        assert!(reason("readText absolute").contains("is an absolute path"));
        assert!(
            reason("readText through a link").contains("is a link that leaves the mod's folder")
        );
        assert!(reason("change modhost.mod").contains("read-only"));
        assert!(
            reason("change modhost.settings").contains("not extensible")
                || reason("change modhost.settings").contains("read-only")
        );
    }
    let js = attempts(pack.path(), "js-escape");
    assert!(js.iter().any(|o| o.starts_with("import os: refused")
        && o.contains("only import files inside their own folder")));
    assert!(js.iter().any(
        |o| o.starts_with("import through a link: refused") && o.contains("a link that leaves")
    ));
    let lua = attempts(pack.path(), "lua-escape");
    assert!(
        lua.iter()
            .any(|o| o.starts_with("require through a link: refused")
                && o.contains("a link that leaves"))
    );
    assert!(
        lua.iter()
            .any(|o| o.starts_with("load bytecode: refused") && o.contains("binary chunk"))
    );
}

#[test]
fn a_mod_reads_its_own_files() {
    let pack = support::fixture_copy("sandbox");
    assert_eq!(
        call(pack.path(), &["js-escape", "readOwn"]),
        "\"inside\\n\""
    );
    assert_eq!(
        call(pack.path(), &["lua-escape", "readOwn"]),
        "\"inside\\n\""
    );
}

#[test]
fn storage_is_per_mod_and_outlives_the_process() {
    let pack = support::fixture_copy("sandbox");
    let dir = pack.path();
    assert_eq!(
        call(dir, &["js-escape", "store", "secret", "{\"level\":3}"]),
        "[\"secret\"]"
    );
    // Another mod sees none of it, in a later process.
    assert_eq!(call(dir, &["lua-escape", "storedKeys"]), "[]");
    assert_eq!(call(dir, &["lua-escape", "fetch", "secret"]), "null");
    // The owner finds it again after a restart.
    assert_eq!(
        call(dir, &["js-escape", "fetch", "secret"]),
        "{\"level\":3}"
    );
    assert!(
        dir.join(".modhost/storage.sqlite3").is_file(),
        "created on demand in the data dir"
    );
}
