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
    let described = modhost::internal::runtime::surface::member_paths();
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
        modhost::internal::typings::typescript(None)
    );
    assert_eq!(
        read("mods/typed-lua/.luals/modhost.lua"),
        modhost::internal::typings::lua_ls(None)
    );
    let schema: serde_json::Value =
        serde_json::from_str(&read("mods/manifest.schema.json")).expect("JSON");
    assert_eq!(schema, modhost::internal::manifest::json_schema());
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
        .syntax_checker()
        .expect("an engine")
        .check(
            Path::new("modhost.lua"),
            modhost::internal::typings::lua_ls(None).as_bytes(),
        )
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

/// The TypeScript compiler, which `scripts/test.sh` installs: without it the type checks
/// fail rather than pass by checking nothing.
fn tsc() -> Command {
    match Command::new("tsc").arg("--version").output() {
        Ok(version) if version.status.success() => Command::new("tsc"),
        _ => {
            panic!("tsc is not installed: run the tests with `scripts/test.sh`, which installs it")
        }
    }
}

/// `tsc -p jsconfig.json` in `dir`: whether it passed, and what it said.
fn type_check(dir: &Path) -> (bool, String) {
    type_check_project(dir, "jsconfig.json")
}

/// `tsc -p PROJECT` in `dir`: whether it passed, and what it said.
fn type_check_project(dir: &Path, project: &str) -> (bool, String) {
    let mut tsc = tsc();
    let output = tsc
        .current_dir(dir)
        .args(["-p", project])
        .output()
        .expect("tsc runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn new_javascript_mods_type_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    modhost(dir.path(), &["new", "checked"]);
    let mod_dir = dir.path().join("mods/checked");
    let (passed, said) = type_check(&mod_dir);
    assert!(passed, "{said}");
    std::fs::write(
        mod_dir.join("wrong.js"),
        "// @ts-check\nmodhost.timers.after(\"soon\", () => {});\n",
    )
    .expect("write");
    let (passed, said) = type_check(&mod_dir);
    assert!(!passed, "a wrong call must not type-check");
    assert!(said.contains("wrong.js(2,22)"), "{said}");
}

/// The demo pack's game API, in a mod scaffolded against it: the right call type-checks, a
/// number where the game wants a `Kind` does not, and neither does a misspelled event payload.
#[test]
fn the_game_api_type_checks_in_javascript_mods() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/arena/game-api.json");
    let dir = tempfile::tempdir().expect("temp dir");
    let api_flag = api.to_str().expect("UTF-8 path");
    modhost(dir.path(), &["--api", api_flag, "new", "gamer"]);
    let mod_dir = dir.path().join("mods/gamer");
    std::fs::write(
        mod_dir.join("play.js"),
        "// @ts-check\nconst id = game.world.spawn(\"orc\", { x: 1, y: 2 });\nconst name = game.player.name().toUpperCase();\nmodhost.events.on(\"tick\", (tick) => console.log(tick.frame + tick.dt, id, name));\nmodhost.events.emit(\"scored\", { points: 3, by: name });\n",
    )
    .expect("write");
    let (passed, said) = type_check(&mod_dir);
    assert!(passed, "{said}");
    for (wrong, complaint) in [
        (
            "game.world.spawn(5);",
            "not assignable to parameter of type 'Kind'",
        ),
        (
            "game.world.spawn(\"troll\");",
            "not assignable to parameter of type 'Kind'",
        ),
        (
            "modhost.events.on(\"tick\", (tick) => tick.frames);",
            "'frames' does not exist",
        ),
        ("game.world.spwan(\"orc\");", "'spwan' does not exist"),
    ] {
        std::fs::write(mod_dir.join("wrong.js"), format!("// @ts-check\n{wrong}\n"))
            .expect("write");
        let (passed, said) = type_check(&mod_dir);
        assert!(!passed, "`{wrong}` must not type-check");
        assert!(said.contains(complaint), "`{wrong}`: {said}");
    }
}

/// A TypeScript mod scaffolded against the demo's game API: it type-checks as written, runs,
/// and `tsc` refuses a wrong game call and syntax modhost cannot erase (`erasableSyntaxOnly`).
#[test]
fn new_typescript_mods_type_check_against_the_game_api() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/arena/game-api.json");
    let dir = tempfile::tempdir().expect("temp dir");
    let api_flag = api.to_str().expect("UTF-8 path");
    modhost(
        dir.path(),
        &["--api", api_flag, "new", "typed", "--lang", "ts"],
    );
    assert_eq!(
        modhost(
            dir.path(),
            &["--api", api_flag, "call", "typed", "hello", "\"TS\""]
        ),
        "\"Hello, TS! (greeting number 1)\""
    );
    let mod_dir = dir.path().join("mods/typed");
    // A test's mock typed as the game function it stands in for (the mock took
    // `(...args: Json[]) => Json`, which a typed function is not).
    std::fs::write(
        mod_dir.join("mocked.ts"),
        "modhost.test.mock(\"world.spawn\", (kind: Kind, at?: Position) => (kind === \"orc\" ? 1 : at?.x ?? 2));\nmodhost.test.mock(\"player.name\", () => \"Ada\");\nexport const calls: Json[][] = modhost.test.calls(\"world.spawn\");\n",
    )
    .expect("write");
    let (passed, said) = type_check_project(&mod_dir, "tsconfig.json");
    assert!(passed, "{said}");
    for (wrong, complaint) in [
        (
            "export const id: number = game.world.spawn(5);",
            "not assignable to parameter of type 'Kind'",
        ),
        (
            "export enum Kind { Orc }",
            "This syntax is not allowed when 'erasableSyntaxOnly' is enabled",
        ),
        (
            "modhost.test.mock(\"world.spwan\", () => 1);",
            "No overload matches this call",
        ),
        (
            "modhost.test.mock(\"player.name\", () => 5);",
            "No overload matches this call",
        ),
    ] {
        std::fs::write(mod_dir.join("wrong.ts"), format!("{wrong}\n")).expect("write");
        let (passed, said) = type_check_project(&mod_dir, "tsconfig.json");
        assert!(!passed, "`{wrong}` must not type-check");
        assert!(said.contains(complaint), "`{wrong}`: {said}");
    }
}

/// A real Lua language checker (EmmyLua's `emmylua_check`, which `scripts/test.sh` builds
/// from crates.io): like [`tsc`], without it the check fails.
fn emmylua_check() -> Command {
    match Command::new("emmylua_check").arg("--help").output() {
        Ok(help) if help.status.success() => Command::new("emmylua_check"),
        _ => panic!(
            "emmylua_check is not installed: run the tests with `scripts/test.sh`, which builds it"
        ),
    }
}

/// A new Lua mod (against the demo's game API) passes a real Lua checker with its LuaLS
/// annotations, and the checker flags a misspelled API member and a wrong argument.
#[test]
fn new_lua_mods_pass_a_real_lua_checker() {
    let mut checker = emmylua_check();
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/arena/game-api.json");
    let dir = tempfile::tempdir().expect("temp dir");
    let api_flag = api.to_str().expect("UTF-8 path");
    modhost(
        dir.path(),
        &["--api", api_flag, "new", "checked", "--lang", "lua"],
    );
    let mod_dir = dir.path().join("mods/checked");
    let check = |checker: &mut Command| -> String {
        let output = checker
            .current_dir(&mod_dir)
            .arg(".")
            .output()
            .expect("emmylua_check runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    };
    let said = check(&mut checker);
    assert!(said.contains("No issues found"), "{said}");
    std::fs::write(
        mod_dir.join("wrong.lua"),
        "modhost.log.inf(\"x\")\nmodhost.timers.after(function() end, 10)\ngame.world.spwan(\"orc\")\n",
    )
    .expect("write");
    let said = check(&mut emmylua_check());
    for complaint in [
        "Undefined field `inf`",
        "expected `number` but found `fun()`",
        "Undefined field `spwan`",
    ] {
        assert!(said.contains(complaint), "`{complaint}` in:\n{said}");
    }
}

#[test]
fn typings_writes_the_game_api_into_every_mod() {
    let dir = support::arena_copy();
    modhost(dir.path(), &["typings"]);
    let api = modhost::GameApi::load(&dir.path().join("game-api.json")).expect("valid");
    let read = |path: &str| std::fs::read_to_string(dir.path().join(path)).expect(path);
    assert_eq!(
        read("mods/arena/modhost.d.ts"),
        modhost::internal::typings::typescript(Some(&api))
    );
    assert_eq!(
        read("mods/tourist/.luals/modhost.lua"),
        modhost::internal::typings::lua_ls(Some(&api))
    );
    modhost(dir.path(), &["typings", "--out", "types"]);
    assert!(read("types/modhost.d.ts").contains("declare const game"));
    assert!(read("types/modhost.lua").contains("function game.player.name() end"));
}
