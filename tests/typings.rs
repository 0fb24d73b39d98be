//! The generated typings cannot drift from the runtimes: the API description they come from
//! must name exactly what each runtime installs under `modhost`, and `modhost new` must write
//! exactly the generated files.

mod support;

use std::path::Path;
use std::process::Command;

use support::modhost;

#[test]
fn the_api_description_matches_both_runtimes() {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/api-probe");
    let described = modhost::typings::spec::member_paths();
    for mod_id in ["js-probe", "lua-probe"] {
        let installed: Vec<String> =
            serde_json::from_str(&modhost(&probe, &["-q", "call", mod_id, "shape"]))
                .expect("a JSON array");
        assert_eq!(
            installed, described,
            "`{mod_id}` (left) against src/typings/spec.rs (right)"
        );
    }
    assert_eq!(
        modhost(&probe, &["-q", "call", "js-probe", "globals"]),
        "[]",
        "web timers and console exist"
    );
}

#[test]
fn new_mods_carry_the_generated_typings_and_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    modhost(dir.path(), &["new", "typed-js"]);
    modhost(dir.path(), &["new", "typed-lua", "--lang", "lua"]);
    let read = |path: &str| std::fs::read_to_string(dir.path().join(path)).expect(path);
    assert_eq!(
        read("mods/typed-js/modhost.d.ts"),
        modhost::typings::typescript()
    );
    assert_eq!(
        read("mods/typed-lua/.luals/modhost.lua"),
        modhost::typings::lua_ls()
    );
    let schema: serde_json::Value =
        serde_json::from_str(&read("mods/manifest.schema.json")).expect("JSON");
    assert_eq!(schema, modhost::manifest::json_schema());
    assert_eq!(
        modhost(dir.path(), &["schema"]),
        serde_json::to_string_pretty(&schema).unwrap()
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&read("mods/typed-js/manifest.json")).expect("JSON");
    assert_eq!(manifest["$schema"], "../manifest.schema.json");
    assert!(read("mods/typed-lua/mod.toml").starts_with("#:schema ../manifest.schema.json\n"));
    // The LuaLS file is plain Lua too: it must at least compile.
    modhost::Language::of_entry_point(Path::new("x.lua"))
        .expect("lua")
        .backend()
        .check_syntax(Path::new("modhost.lua"), &modhost::typings::lua_ls())
        .expect("the annotations file compiles");
}

#[test]
fn new_mods_pass_the_smoke_test_and_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    modhost(dir.path(), &["new", "fresh-js"]);
    modhost(dir.path(), &["new", "fresh-lua", "--lang", "lua"]);
    assert_eq!(
        modhost(dir.path(), &["-q", "check", "--smoke", "--deny-warnings"]),
        "ok: 2 usable mods, load order: fresh-js, fresh-lua"
    );
    assert_eq!(
        modhost(dir.path(), &["-q", "call", "fresh-lua", "hello", "tester"]),
        "\"Hello, tester! (greeting number 1)\""
    );
    assert_eq!(
        modhost(dir.path(), &["-q", "call", "fresh-js", "hello", "tester"]),
        "\"Hello, tester! (greeting number 1)\""
    );
}

/// Type-checks a scaffolded JavaScript mod with the TypeScript compiler, where one is
/// installed (`npm install -g typescript`); the drift test above runs everywhere.
#[test]
fn new_javascript_mods_type_check_where_tsc_is_installed() {
    let Ok(version) = Command::new("tsc").arg("--version").output() else {
        eprintln!("tsc is not installed: skipping the type check");
        return;
    };
    assert!(version.status.success());
    let dir = tempfile::tempdir().expect("temp dir");
    modhost(dir.path(), &["new", "checked"]);
    let mod_dir = dir.path().join("mods/checked");
    let checked = Command::new("tsc")
        .current_dir(&mod_dir)
        .args(["-p", "jsconfig.json"])
        .output()
        .expect("tsc runs");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    std::fs::write(
        mod_dir.join("wrong.js"),
        "// @ts-check\nmodhost.timers.after(\"soon\", () => {});\n",
    )
    .expect("write");
    let refused = Command::new("tsc")
        .current_dir(&mod_dir)
        .args(["-p", "jsconfig.json"])
        .output()
        .expect("tsc runs");
    assert!(
        !refused.status.success(),
        "a wrong call must not type-check"
    );
}
