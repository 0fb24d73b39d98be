//! WebAssembly mods (SPEC section 15), through the real binary: the Extism ABI's corner cases
//! with a hand-written module (`tests/fixtures/wasm/abi.wat`), real guests built from source
//! (the demo pack's Rust mod with extism-pdk and its C mod), a game function called from C,
//! the limits, bad modules, and a hot reload when a module is rebuilt.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::guests::{build_c, polyglot_copy};
use support::rpc::Rpc;
use support::{Running, fixture_copy, modhost, run, write};

fn wasm_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wasm")
        .join(name)
}

/// A pack with the ABI module as `w`, a Lua mod it calls, and a JavaScript mod that drives it.
fn abi_pack() -> tempfile::TempDir {
    let pack = tempfile::tempdir().unwrap();
    let root = pack.path();
    write(
        &root.join("config.toml"),
        "mods_dir = \"mods\"\ndata_dir = \".modhost\"\nlisten = \"none\"\n\n[limits]\ncall_timeout_ms = 300\nmemory_mb = 16\n\n# A call's time includes the mods it calls: the driver outlasts `w`.\n[mods.driver.limits]\ncall_timeout_ms = 5000\n",
    );
    let module = wat::parse_file(wasm_fixture("abi.wat")).expect("the fixture assembles");
    std::fs::create_dir_all(root.join("mods/w")).unwrap();
    std::fs::write(root.join("mods/w/main.wasm"), module).unwrap();
    write(
        &root.join("mods/w/manifest.json"),
        r#"{ "name": "w", "version": "1.0.0", "entry_point": "main.wasm", "settings": { "greeting": "hi there" } }"#,
    );
    write(
        &root.join("mods/lua-mod/mod.toml"),
        "name = \"lua-mod\"\nversion = \"1.0.0\"\nentry_point = \"main.lua\"\n",
    );
    write(
        &root.join("mods/lua-mod/main.lua"),
        "function add(a, b) return a + b end\nmodhost.events.on('wasm.hello', function(p) modhost.log.info('lua got wasm.hello n=' .. p.n) end)\n",
    );
    write(
        &root.join("mods/driver/manifest.json"),
        r#"{ "name": "driver", "version": "1.0.0", "entry_point": "main.js", "dependencies": { "w": "*" } }"#,
    );
    write(
        &root.join("mods/driver/main.js"),
        "function onBootstrap() {\n  const first = modhost.mods.call('w', 'count');\n  const second = modhost.mods.call('w', 'count');\n  modhost.log.info(`count ${first} ${second}`);\n  modhost.mods.call('w', 'hello');\n  modhost.events.emit('tick', { frame: 1 });\n}\n",
    );
    pack
}

#[test]
fn the_abi_carries_input_output_config_vars_errors_calls_and_events() {
    let pack = abi_pack();
    let dir = pack.path();
    let (ok, stdout, stderr) = run(dir, &["check"]);
    assert!(ok, "{stdout}{stderr}");

    let (ok, _, log) = run(dir, &["run", "--once"]);
    assert!(ok, "{log}");
    for line in [
        "[w] attached",
        "[driver] count 1 2",
        "[lua-mod] lua got wasm.hello n=1",
        r#"[w] {"frame":1}"#,
        "3 of 3 mods active",
    ] {
        assert!(log.contains(line), "missing `{line}` in:\n{log}");
    }

    // Arguments in, results out, as SPEC 15 says.
    assert_eq!(modhost(dir, &["call", "w", "echo", "[1,2]"]), "[1,2]");
    assert_eq!(modhost(dir, &["call", "w", "echo", "\"Ada\""]), "\"Ada\"");
    assert_eq!(
        modhost(dir, &["call", "w", "echo", "1", "\"b\""]),
        "[1,\"b\"]"
    );
    assert_eq!(modhost(dir, &["call", "w", "echo"]), "null");
    assert_eq!(modhost(dir, &["call", "w", "greeting"]), "\"hi there\"");
    assert_eq!(modhost(dir, &["call", "w", "call_lua"]), "5");

    let (ok, _, stderr) = run(dir, &["call", "w", "fail"]);
    assert!(!ok);
    assert!(stderr.contains("no such kind"), "{stderr}");
    let (ok, _, stderr) = run(dir, &["call", "w", "nope"]);
    assert!(!ok);
    assert!(stderr.contains("has no function `nope`"), "{stderr}");
    assert!(stderr.contains("call_lua, count, crash, echo"), "{stderr}");
}

#[test]
fn hostile_modules_are_stopped_with_the_limit_they_broke() {
    let pack = abi_pack();
    let dir = pack.path();
    let original = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    let limited = |function: &str| {
        // Growing memory takes longer on a slower machine: for every breach but the time
        // limit's, the time limit is far beyond it, so the two cannot race.
        let timeout = if function == "spin" { "300" } else { "20000" };
        let config = original.replacen(
            "call_timeout_ms = 300",
            &format!("call_timeout_ms = {timeout}"),
            1,
        );
        std::fs::write(dir.join("config.toml"), config).unwrap();
        run(dir, &["call", "w", function])
    };
    for (function, expected) in [
        ("spin", "`call_timeout_ms` = 300"),
        ("bomb", "`memory_mb` = 16"),
        ("scribble", "outside the kernel memory it allocated"),
        ("crash", "`unreachable` executed"),
        ("recurse", "call stack overflowed"),
    ] {
        let (ok, _, stderr) = limited(function);
        assert!(!ok, "{function} succeeded");
        assert!(
            stderr.contains(expected),
            "{function}: expected `{expected}` in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    std::fs::write(dir.join("config.toml"), &original).unwrap();

    // In a running host, the module fails alone: the other mods go on.
    write(
        &dir.join("mods/driver/main.js"),
        "function onBootstrap() {\n  try { modhost.mods.call('w', 'spin'); } catch (error) { modhost.log.warn(`spin: ${error.message}`); }\n  modhost.log.info(`lua still adds: ${modhost.mods.call('lua-mod', 'add', 1, 2)}`);\n}\n",
    );
    // The driver requires `w`: blocked while it runs, it finishes its call, stays blocked,
    // and is not detached in the middle of it.
    let (_, _, log) = run(dir, &["run", "--once"]);
    assert!(
        log.contains("[driver] blocked: requires `w`, which failed"),
        "{log}"
    );
    assert!(log.contains("lua still adds: 3"), "{log}");
    assert!(log.contains("1 of 3 mods active"), "{log}");
    assert!(!log.contains("re-entrant"), "{log}");
    assert!(!log.contains("`onDetach` failed"), "{log}");

    // Without the requirement, only `w` fails.
    write(
        &dir.join("mods/driver/manifest.json"),
        r#"{ "name": "driver", "version": "1.0.0", "entry_point": "main.js", "load_after": ["w"] }"#,
    );
    let (_, _, log) = run(dir, &["run", "--once"]);
    assert!(log.contains("[w] failed: `spin` broke a limit"), "{log}");
    assert!(log.contains("lua still adds: 3"), "{log}");
    assert!(log.contains("2 of 3 mods active"), "{log}");
}

#[test]
fn bad_modules_get_diagnostics_that_name_the_mod_and_the_file() {
    let pack = abi_pack();
    let dir = pack.path();
    let valid = std::fs::read(dir.join("mods/w/main.wasm")).unwrap();
    let mod_with = |id: &str, bytes: &[u8]| {
        std::fs::create_dir_all(dir.join("mods").join(id)).unwrap();
        std::fs::write(dir.join("mods").join(id).join("main.wasm"), bytes).unwrap();
        write(
            &dir.join("mods").join(id).join("manifest.json"),
            &format!(r#"{{ "name": "{id}", "version": "1.0.0", "entry_point": "main.wasm" }}"#),
        );
    };
    mod_with("truncated", &valid[..40]);
    mod_with("text", b"function onAttach() {}\n");
    mod_with(
        "files",
        &wat::parse_str(r#"(module (import "wasi_snapshot_preview1" "path_unlink_file" (func (param i32 i32 i32) (result i32))))"#).unwrap(),
    );
    mod_with(
        "strange",
        &wat::parse_str(r#"(module (import "env" "open" (func (param i32) (result i32))))"#)
            .unwrap(),
    );
    // Past the limits every engine shares, in plain words (the validator's "function params
    // size is out of bounds" said nothing of how many).
    mod_with(
        "locals",
        &wat::parse_str(format!("(module (func {}))", "(local i32)".repeat(50_001))).unwrap(),
    );
    mod_with(
        "params",
        &wat::parse_str(format!("(module (func {}))", "(param i32)".repeat(1_001))).unwrap(),
    );

    let (ok, stdout, _) = run(dir, &["check", "--format", "json"]);
    assert!(!ok);
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    let diagnostic = |id: &str| -> Value {
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|diagnostic| diagnostic["mod"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no diagnostic for {id}: {stdout}"))
    };
    let truncated = diagnostic("truncated");
    assert_eq!(truncated["code"], "syntax-error");
    assert_eq!(truncated["file"], "mods/truncated/main.wasm");
    assert!(
        truncated["message"]
            .as_str()
            .unwrap()
            .contains("not a valid WebAssembly module"),
        "{truncated}"
    );
    let text = diagnostic("text");
    assert_eq!(text["code"], "syntax-error");
    assert!(
        text["message"]
            .as_str()
            .unwrap()
            .contains("does not start with `\\0asm`"),
        "{text}"
    );
    for (id, said) in [
        ("locals", "a function declares more than 50,000 locals"),
        ("params", "a function type has more than 1,000 parameters"),
    ] {
        let found = diagnostic(id);
        assert_eq!(found["code"], "syntax-error", "{found}");
        assert!(found["message"].as_str().unwrap().contains(said), "{found}");
    }
    for (id, named) in [
        ("files", "path_unlink_file"),
        ("strange", "`open` from `env`"),
    ] {
        let found = diagnostic(id);
        assert_eq!(found["code"], "unknown-import", "{found}");
        assert!(
            found["message"].as_str().unwrap().contains(named),
            "{found}"
        );
        assert_eq!(found["file"], format!("mods/{id}/main.wasm"));
    }

    // Running the pack: the bad mods fail to load, with the same words, and nothing panics.
    let (_, _, log) = run(dir, &["run", "--once"]);
    assert!(log.contains("3 of 9 mods active"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_wasm_mod_reloads_when_its_module_is_rebuilt() {
    let pack = abi_pack();
    let dir = pack.path();
    let mut modhost = Running::start(dir, &["run", "--watch"]);
    modhost.wait_for("watching `mods` for changes");
    modhost.wait_for("[w] attached");
    let version_two = wat::parse_str(
        r#"(module
             (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
             (import "extism:host/env" "store_u8" (func $store (param i64 i32)))
             (import "extism:host/env" "log_info" (func $log (param i64)))
             (func (export "onAttach") (result i32)
               (local $text i64)
               (local.set $text (call $alloc (i64.const 2)))
               (call $store (local.get $text) (i32.const 118))
               (call $store (i64.add (local.get $text) (i64.const 1)) (i32.const 50))
               (call $log (local.get $text))
               (i32.const 0))
             (func (export "count") (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    // Written to the side and moved into place, as the scaffold's build.sh does.
    std::fs::write(dir.join("mods/w/main.wasm.tmp"), version_two).unwrap();
    std::fs::rename(
        dir.join("mods/w/main.wasm.tmp"),
        dir.join("mods/w/main.wasm"),
    )
    .unwrap();
    modhost.wait_for("[w] v2");
    assert_eq!(modhost.count("[w] v2"), 1);
}

#[test]
fn the_demo_pack_runs_rust_c_typescript_javascript_and_lua_together() {
    let pack = polyglot_copy();
    let dir = pack.path();
    let listed = modhost(dir, &["list", "--format", "json"]);
    let runtimes: Value = serde_json::from_str(&listed).unwrap();
    let runtimes: Vec<(&str, &str)> = runtimes
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (
                entry["id"].as_str().unwrap(),
                entry["runtime"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("stats", "wasm"),
        ("checksum", "wasm"),
        ("scores", "typescript"),
        ("greeter", "javascript"),
        ("tally", "lua"),
    ] {
        assert!(runtimes.contains(&expected), "{runtimes:?}");
    }
    modhost(dir, &["check"]);

    let (ok, _, log) = run(dir, &["run", "--once"]);
    assert!(ok, "{log}");
    for line in [
        "[stats] stats attached",
        "[checksum] checksum (C) attached",
        "[greeter] Rust asked Lua for 2 + 3: 5",
        "[tally] the Rust mod added through Lua: 5",
        "[greeter] C asked TypeScript for 20 + 22: 42",
        "[scores] stats (Rust) counted 2 scores, 42 points",
        "5 of 5 mods active",
    ] {
        assert!(log.contains(line), "missing `{line}` in:\n{log}");
    }
    assert_eq!(
        modhost(dir, &["call", "checksum", "checksum", "\"hello\""]),
        "1335831723"
    );
    assert_eq!(
        modhost(dir, &["call", "stats", "add_in_lua", "4", "5"]),
        "9"
    );
}

#[test]
fn real_guests_are_stopped_by_their_limits_and_report_their_errors() {
    let pack = polyglot_copy();
    let dir = pack.path();
    for (id, function, expected) in [
        ("stats", "spin", "`call_timeout_ms` = 300"),
        ("stats", "hoard", "`memory_mb` = 24"),
        ("checksum", "spin", "`call_timeout_ms` = 300"),
        ("checksum", "hoard", "`memory_mb` = 24"),
        ("checksum", "refuse", "checksum refuses"),
    ] {
        // Hoarding 24 MiB in an interpreter takes longer on a slower machine: there, the time
        // limit is far beyond it, so the memory limit is the one the mod meets.
        let timeout = if function == "spin" { 300 } else { 20_000 };
        write(
            &dir.join("config.toml"),
            &format!("[limits]\ncall_timeout_ms = {timeout}\nmemory_mb = 24\n"),
        );
        let (ok, _, stderr) = run(dir, &["call", id, function]);
        assert!(!ok, "{id}.{function} succeeded");
        assert!(
            stderr.contains(expected),
            "{id}.{function}: expected `{expected}` in:\n{stderr}"
        );
    }
}

#[test]
fn a_c_mod_calls_the_game_through_the_protocol_with_its_types_checked() {
    let pack = fixture_copy("game");
    let dir = pack.path();
    let mod_dir = dir.join("mods/wasm-caller");
    std::fs::create_dir_all(&mod_dir).unwrap();
    build_c(&wasm_fixture("game-caller.c"), &mod_dir.join("main.wasm"));
    write(
        &mod_dir.join("manifest.json"),
        r#"{ "name": "wasm-caller", "version": "1.0.0", "entry_point": "main.wasm", "permissions": ["world.write"] }"#,
    );
    let (running, mut rpc): (Running, Rpc) = Running::start_rpc(dir, &["run", "--stdio"]);
    rpc.answer = Box::new(|function, args, _| match function {
        "world.spawn" => Ok(json!(args.len() as i64 * 10 + 1)),
        other => Err(format!("no {other}")),
    });
    rpc.initialize(json!({ "provides": ["world.spawn", "player.name"] }));
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "wasm-caller", "function": "spawn" })
        ),
        json!(11)
    );
    assert_eq!(
        rpc.game_calls.last().unwrap(),
        &json!({ "function": "world.spawn", "args": ["goblin"], "mod": "wasm-caller" })
    );
    let refused = rpc.error(
        "mods/call",
        json!({ "mod": "wasm-caller", "function": "spawn_wrong" }),
    );
    let message =
        refused["message"].as_str().unwrap_or_default().to_owned() + &refused["data"].to_string();
    assert!(message.contains("expects Kind"), "{refused}");
    drop(running);
}

#[test]
fn rebuilding_the_rust_mod_reloads_it_with_its_state() {
    let pack = polyglot_copy();
    let dir = pack.path();
    let mut modhost = Running::start(dir, &["run", "--watch"]);
    modhost.wait_for("watching `mods` for changes");
    modhost.wait_for("[scores] stats (Rust) counted 2 scores, 42 points");
    let source = dir.join("mods/stats/src/lib.rs");
    let code = std::fs::read_to_string(&source).unwrap();
    std::fs::write(
        &source,
        code.replace("info!(\"stats attached\")", "info!(\"stats v2 attached\")"),
    )
    .unwrap();
    support::guests::build_rust_mod_into(&dir.join("mods/stats"), "guests-rebuilt");
    modhost.wait_for("[stats] stats v2 attached");
    // onDetach handed the counts to the new version's onReload: each restart of `scores`
    // (which requires `stats`, so it restarts with it, on the source save and on the rebuild)
    // adds its two scores to what was counted before, instead of starting from nothing.
    let summary = modhost_call_json(dir, "stats", "summary");
    let count = summary["count"].as_i64().unwrap();
    assert!(count > 2, "the counts were lost in the reload: {summary}");
    assert_eq!(summary["total"].as_i64().unwrap(), count * 21, "{summary}");
    assert_eq!(modhost.count("stats v2 attached"), 1);
}

/// `modhost ctl call` against the running host, parsed.
fn modhost_call_json(dir: &Path, id: &str, function: &str) -> Value {
    serde_json::from_str(&modhost(dir, &["ctl", "call", id, function])).expect("JSON")
}

#[test]
fn the_rust_scaffold_builds_and_runs_with_every_hook() {
    let dir = tempfile::tempdir().unwrap();
    modhost(dir.path(), &["new", "physics", "--lang", "rust"]);
    let mod_dir = dir.path().join("mods/physics");
    let source = std::fs::read_to_string(mod_dir.join("src/lib.rs")).unwrap();
    for (hook, _, _) in modhost::internal::runtime::surface::HOOKS {
        assert!(
            source.contains(&format!("pub fn {hook}(")),
            "the scaffold lacks {hook}"
        );
    }
    // Before the first build, `check` says to build it rather than to create the module.
    let (ok, stdout, _) = run(dir.path(), &["check"]);
    assert!(!ok);
    assert!(
        stdout.contains("build it: run `mods/physics/build.sh`"),
        "{stdout}"
    );
    support::guests::build_rust_mod_into(&mod_dir, "guests-scaffold");
    let (ok, _, log) = run(dir.path(), &["run", "--once"]);
    assert!(ok, "{log}");
    assert!(log.contains("[physics] Physics attached"), "{log}");
    assert!(
        log.contains("[physics] ready: {\"greeting\":\"Hello\"}"),
        "{log}"
    );
    assert_eq!(
        modhost(dir.path(), &["call", "physics", "hello", "Ada"]),
        "\"Hello, Ada! (greeting number 1)\""
    );
}

/// Writes the WebAssembly mod `name` into the pack at `root`, assembled from `wat`.
fn wat_mod(root: &Path, name: &str, wat: &str) {
    let folder = root.join("mods").join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("main.wasm"),
        ::wat::parse_str(wat).expect("the module assembles"),
    )
    .unwrap();
    write(
        &folder.join("manifest.json"),
        &format!(r#"{{ "name": "{name}", "version": "1.0.0", "entry_point": "main.wasm" }}"#),
    );
}

/// A module's start function runs under `call_timeout_ms` like every other entry into it (it
/// used to run on one unchecked slice of fuel, 2 million times the limit's milliseconds), and a
/// start function that finishes still runs before the mod's first call.
#[test]
fn a_start_function_runs_on_the_clock() {
    let pack = tempfile::tempdir().unwrap();
    let root = pack.path();
    write(
        &root.join("config.toml"),
        "listen = \"none\"\n[limits]\ncall_timeout_ms = 300\n",
    );
    let module = |name: &str, wat: &str| wat_mod(root, name, wat);
    module("spinner", "(module (func $spin (loop br 0)) (start $spin))");
    // `check` returns 0 (success) only if the start function set the global first.
    module(
        "starter",
        r#"(module
             (global $ready (mut i32) (i32.const 0))
             (func $start (global.set $ready (i32.const 1)))
             (start $start)
             (func (export "check") (result i32) (i32.sub (i32.const 1) (global.get $ready))))"#,
    );
    let (ok, _, stderr) = run(root, &["run", "--once"]);
    assert!(!ok, "{stderr}");
    let failure = support::failure_of(&stderr, "spinner");
    assert!(failure.contains("`call_timeout_ms` = 300"), "{failure}");
    assert!(!stderr.contains("[starter] failed"), "{stderr}");
    assert_eq!(modhost(root, &["-q", "call", "starter", "check"]), "null");
}

/// Tables count against `memory_mb` like linear memory: sixteen tables of a million elements
/// each do not fit in 16 MiB (they used to pass any limit), and one does.
#[test]
fn tables_count_against_the_memory_limit() {
    let pack = tempfile::tempdir().unwrap();
    let root = pack.path();
    write(
        &root.join("config.toml"),
        "listen = \"none\"\n[limits]\nmemory_mb = 16\n",
    );
    let module = |name: &str, tables: usize| {
        let declared = "(table 1000000 funcref)".repeat(tables);
        wat_mod(root, name, &format!("(module {declared})"));
    };
    module("many", 16);
    module("one", 1);
    let (ok, _, stderr) = run(root, &["run", "--once"]);
    assert!(!ok, "{stderr}");
    let failure = support::failure_of(&stderr, "many");
    assert!(failure.contains("`memory_mb` = 16"), "{failure}");
    assert!(!stderr.contains("[one] failed"), "{stderr}");
}
