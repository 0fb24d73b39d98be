//! What a new user stumbled over (issue 14), each through the real binary: a misspelled hook,
//! manifest warnings that only `check` showed, errors printed twice by `check --smoke`.

mod support;

use std::path::Path;
use std::process::Command;

use support::{run, write};

/// A JavaScript mod with `onAtach` and a Lua mod with `on_bootstrap`, and a manifest field
/// misspelled (`dependecies`, which silently dropped the requirement).
fn stumbling_pack() -> tempfile::TempDir {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    write(
        &mods.join("typo/manifest.json"),
        r#"{ "name": "typo", "version": "1.0.0", "entry_point": "main.js", "dependecies": { "lua-typo": "^1.0.0" } }"#,
    );
    write(
        &mods.join("typo/main.js"),
        "function onAtach() { modhost.log.info('never'); }\nfunction onDetach() {}\n",
    );
    write(
        &mods.join("lua-typo/mod.toml"),
        "name = \"lua-typo\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n",
    );
    write(
        &mods.join("lua-typo/init.lua"),
        "local mod = {}\nfunction mod.on_bootstrap() end\nfunction mod.onAttach() end\nreturn mod\n",
    );
    pack
}

#[test]
fn a_misspelled_hook_is_named_in_run_and_in_check_smoke() {
    let pack = stumbling_pack();
    let (_, _, log) = run(pack.path(), &["run", "--once"]);
    assert!(
        log.contains("[typo] `onAtach` is not a hook, so it never runs: did you mean `onAttach`?"),
        "{log}"
    );
    assert!(
        log.contains(
            "[lua-typo] `on_bootstrap` is not a hook, so it never runs: did you mean `onBootstrap`?"
        ),
        "{log}"
    );
    assert!(!log.contains("onDetach` is not"), "{log}");

    // `check` finds them by reading the entry points, with their line, and `--smoke` (which
    // runs the mods and sees the names) does not say them twice.
    for smoke in [false, true] {
        let mut args = vec!["check", "--format", "json"];
        args.extend(smoke.then_some("--smoke"));
        let (_, stdout, _) = run(pack.path(), &args);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let hooks: Vec<(&str, &str, u64, u64)> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|diagnostic| diagnostic["code"] == "unknown-hook")
            .map(|diagnostic| {
                (
                    diagnostic["mod"].as_str().unwrap(),
                    diagnostic["severity"].as_str().unwrap(),
                    diagnostic["line"].as_u64().unwrap_or(0),
                    diagnostic["column"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            hooks,
            [("lua-typo", "warning", 2, 14), ("typo", "warning", 1, 10)],
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn run_prints_manifest_warnings_too() {
    let pack = stumbling_pack();
    let (_, _, log) = run(pack.path(), &["run", "--once"]);
    assert!(
        log.contains("warning[unknown-field]: unknown field `dependecies` is ignored"),
        "{log}"
    );
    assert!(log.contains("did you mean `dependencies`?"), "{log}");
}

#[test]
fn check_smoke_reports_each_failure_once() {
    let pack = stumbling_pack();
    write(
        &pack.path().join("mods/typo/main.js"),
        "function onAttach() { throw new Error('broken on purpose'); }\n",
    );
    let (ok, stdout, stderr) = run(pack.path(), &["check", "--smoke"]);
    assert!(!ok);
    assert_eq!(stdout.matches("error[hook-failed]").count(), 1, "{stdout}");
    // Not a second time as the host's log line.
    assert!(!stderr.contains("broken on purpose"), "{stderr}");
}

/// Mistakes in calls to the `modhost` API, as a new user makes them, in both languages.
#[test]
fn wrong_use_of_the_api_names_the_function_the_parameter_and_the_type() {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    write(
        &mods.join("js/manifest.json"),
        r#"{ "name": "js", "version": "1.0.0", "entry_point": "main.js", "settings": { "greeting": "hi" } }"#,
    );
    write(
        &mods.join("js/main.js"),
        "function attempt(body) { try { body(); return 'no error'; } catch (error) { return error.message; } }\nfunction mistakes() {\n  return [\n    attempt(() => modhost.log.inf('x')),\n    attempt(() => modhost.mods.call(1, 'f')),\n    attempt(() => modhost.timers.after(() => {}, 10)),\n    attempt(() => modhost.storage.set()),\n    attempt(() => { modhost.mod.name = 'other'; }),\n    attempt(() => { modhost.settings.greeting = 'other'; }),\n    attempt(() => game.world.spwan('orc')),\n    attempt(() => game.wrld.spawn('orc')),\n    attempt(() => modhost.timer.after(10, f)),\n  ];\n}\n",
    );
    write(
        &mods.join("lua/mod.toml"),
        "name = \"lua\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n[settings]\ngreeting = \"hi\"\n",
    );
    write(
        &mods.join("lua/init.lua"),
        "local function attempt(body) local ok, problem = pcall(body) return ok and 'no error' or tostring(problem):gsub('^[^:]+:%d+: ', '') end\nfunction mistakes()\n  return {\n    (attempt(function() modhost.log.inf('x') end)),\n    (attempt(function() modhost.mods.call(true, 'f') end)),\n    (attempt(function() modhost.timers.after(function() end, 10) end)),\n    (attempt(function() modhost.storage.set() end)),\n    (attempt(function() modhost.mod.name = 'other' end)),\n    (attempt(function() modhost.settings.greeting = 'other' end)),\n    (attempt(function() game.world.spwan('orc') end)),\n    (attempt(function() game.wrld.spawn('orc') end)),\n    (attempt(function() modhost.timer.after(10, f) end)),\n  }\nend\n",
    );
    configure_the_game_api(pack.path());
    let said = |id: &str| -> Vec<String> {
        let (ok, stdout, stderr) = run(pack.path(), &["call", id, "mistakes"]);
        assert!(ok, "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let js = said("js");
    assert_eq!(
        js,
        [
            "modhost.log.inf does not exist: did you mean modhost.log.info? (modhost.log has debug, error, info, warn)",
            "modhost.mods.call: parameter `mod` takes a string, got a number",
            "modhost.timers.after: parameter `ms` takes a number, got a function",
            "modhost.storage.set: parameter `key` is missing (it takes a string)",
            "modhost.mod.name is read-only",
            "modhost.settings.greeting is read-only",
            // An undeclared game function, in the same words in both languages (Lua said
            // "attempt to call a nil value (field 'spwan')").
            "game.world.spwan does not exist: did you mean game.world.spawn? (game.world has spawn)",
            "game.wrld does not exist: did you mean game.world? (game has player, world)",
            "modhost.timer does not exist: did you mean modhost.timers? (modhost has events, fs, log, mod, mods, settings, storage, timers)",
        ]
    );
    let lua = said("lua");
    assert_eq!(lua[0], js[0]);
    assert_eq!(
        lua[1],
        "modhost.mods.call: parameter `mod` takes a string, got a boolean"
    );
    assert_eq!(lua[2..4], js[2..4]);
    assert_eq!(
        lua[4..6],
        [
            "cannot set `name`: this table is read-only",
            "cannot set `greeting`: this table is read-only",
        ]
    );
    assert_eq!(lua[6..], js[6..]);
}

/// `modhost` is the same whole API whichever part of it a Lua mod reads first (the host makes
/// most of its namespaces when they are first read): listed, missed or used.
#[test]
fn a_lua_mod_sees_the_whole_api_before_using_any_of_it() {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    let probe = |first: &str| {
        format!(
            "function probe()\n  local seen = {{}}\n  {first}\n  local names = {{}}\n  for name in pairs(modhost) do names[#names + 1] = name end\n  table.sort(names)\n  seen[#seen + 1] = table.concat(names, ' ')\n  seen[#seen + 1] = tostring(rawequal(modhost.fs, modhost.fs))\n  seen[#seen + 1] = tostring(modhost.storage.set('k', 1) == nil and modhost.storage.get('k'))\n  return seen\nend\n"
        )
    };
    let firsts = [
        (
            "listed",
            "for name in pairs(modhost) do seen[#seen + 1] = name == 'fs' and 'fs' or nil end",
        ),
        (
            "missed",
            "seen[#seen + 1] = select(2, pcall(function() return modhost.storag end)):gsub('^[^:]+:%d+: ', '')",
        ),
        ("used", "seen[#seen + 1] = type(modhost.timers.after)"),
    ];
    for (id, first) in firsts {
        write(
            &mods.join(format!("{id}/mod.toml")),
            &format!("name = \"{id}\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n"),
        );
        write(&mods.join(format!("{id}/init.lua")), &probe(first));
    }
    let all = "events fs log mod mods settings storage timers";
    for (id, first_seen) in [
        ("listed", "fs"),
        (
            "missed",
            "modhost.storag does not exist: did you mean modhost.storage? (modhost has events, fs, log, mod, mods, settings, storage, timers)",
        ),
        ("used", "function"),
    ] {
        let (ok, stdout, stderr) = run(pack.path(), &["call", id, "probe"]);
        assert!(ok, "{stderr}");
        let seen: Vec<String> = serde_json::from_str(&stdout).unwrap();
        assert_eq!(seen, [first_seen, all, "true", "1"], "{id}");
    }
}

/// Near misses in manifests get the hint a person would give.
#[test]
fn near_misses_in_manifests_get_the_obvious_hint() {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    write(
        &mods.join("lau/mod.toml"),
        "name = \"lau\"\nversion = \"1.0.0\"\nentry_point = \"init.lau\"\n",
    );
    write(&mods.join("lau/init.lua"), "x = 1\n");
    write(
        &mods.join("number/mod.toml"),
        "name = \"number\"\nversion = 0.1\nentry_point = \"init.lua\"\n",
    );
    write(&mods.join("number/init.lua"), "x = 1\n");
    // A byte-order mark, as editors on Windows write: accepted.
    write(
        &mods.join("bom/manifest.json"),
        "\u{feff}{ \"name\": \"bom\", \"version\": \"1.0.0\", \"entry_point\": \"main.js\" }",
    );
    write(&mods.join("bom/main.js"), "function f() {}\n");
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
        std::fs::create_dir_all(mods.join(name)).unwrap();
    }
    let (ok, stdout, _) = run(pack.path(), &["check", "--format", "json"]);
    assert!(!ok);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let found = |code: &str| -> Vec<(String, String)> {
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|diagnostic| diagnostic["code"] == code)
            .map(|diagnostic| {
                (
                    diagnostic["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    diagnostic["hint"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        found("missing-entry-point"),
        [(
            "entry point `init.lau` does not exist".to_owned(),
            "did you mean `init.lua`?".to_owned()
        )]
    );
    assert_eq!(
        found("invalid-manifest"),
        [(
            "`version` must be a string, not a number".to_owned(),
            "write it as a string: \"0.1.0\"".to_owned()
        )]
    );
    assert!(
        report["order"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("bom")),
        "{stdout}"
    );
    #[cfg(unix)]
    assert_eq!(found("folder-name").len(), 1, "{stdout}");
}

/// On a terminal, `check` colors its report; with `CI` set it does not (CI logs are read as
/// text), as the README says.
#[cfg(unix)]
#[test]
fn with_ci_set_the_output_has_no_color_even_on_a_terminal() {
    let pack = stumbling_pack();
    let on_a_terminal = |ci: bool| -> String {
        let mut check = Command::new(env!("CARGO_BIN_EXE_modhost"));
        check
            .args(["check", "--smoke"])
            .current_dir(pack.path())
            .env_remove("NO_COLOR")
            .env("TERM", "xterm-256color");
        if ci {
            check.env("CI", "true");
        } else {
            check.env_remove("CI");
        }
        support::terminal::shown_on_a_terminal(check)
    };
    assert!(
        on_a_terminal(false).contains('\u{1b}'),
        "colored on a terminal"
    );
    let in_ci = on_a_terminal(true);
    assert!(in_ci.contains("unknown-field"), "{in_ci}");
    assert!(!in_ci.contains('\u{1b}'), "{in_ci:?}");
}

/// With `--log-format json`, every line on stderr is a JSON object: diagnostics too.
#[test]
fn json_logs_carry_diagnostics_as_json_lines() {
    let pack = stumbling_pack();
    let (_, _, stderr) = run(pack.path(), &["--log-format", "json", "run", "--once"]);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect();
    let warning = lines
        .iter()
        .find(|line| line["fields"]["code"] == "unknown-field")
        .unwrap_or_else(|| panic!("no unknown-field event in:\n{stderr}"));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(warning["fields"]["file"], "mods/typo/manifest.json");
    assert_eq!(warning["fields"]["line"], 1);
    assert_eq!(warning["fields"]["hint"], "did you mean `dependencies`?");
}

/// Gives the pack in `root` the game API of `tests/fixtures/game`.
fn configure_the_game_api(root: &Path) {
    write(&root.join("config.toml"), "api = \"game-api.json\"\n");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/game/game-api.json"),
        root.join("game-api.json"),
    )
    .unwrap();
}

/// A syntax error at the very end of a file, and a Lua error (Lua names no column, only the
/// token): the human, JSON and GitHub reports point at the same line and column.
#[test]
fn every_report_format_puts_a_syntax_error_in_the_same_place() {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    write(
        &mods.join("js/manifest.json"),
        r#"{ "name": "js", "version": "1.0.0", "entry_point": "main.js" }"#,
    );
    write(&mods.join("js/main.js"), "function f() {\n  return 1;\n");
    write(
        &mods.join("lua/mod.toml"),
        "name = \"lua\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n",
    );
    write(
        &mods.join("lua/init.lua"),
        "function f()\n  local x = = 1\nend\n",
    );
    let (_, human, _) = run(pack.path(), &["check"]);
    let (_, json, _) = run(pack.path(), &["check", "--format", "json"]);
    let (_, github, _) = run(pack.path(), &["check", "--format", "github"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    for diagnostic in report["diagnostics"].as_array().unwrap() {
        let file = diagnostic["file"].as_str().unwrap();
        let (line, column) = (&diagnostic["line"], &diagnostic["column"]);
        assert!(column.is_u64(), "{diagnostic}");
        assert!(
            human.contains(&format!("--> {file}:{line}:{column}")),
            "{human}\n{json}"
        );
        assert!(
            github.contains(&format!("file={file},line={line},col={column}")),
            "{github}"
        );
    }
    assert!(human.contains("--> mods/js/main.js:2:12"), "{human}");
    assert!(human.contains("--> mods/lua/init.lua:2:13"), "{human}");
}

/// Shell completion offers the pack's mod ids after `call`, `ctl call`, `test` and friends
/// (the shell runs `COMPLETE=<shell> modhost -- <words>`; fish's answer is one a line).
#[test]
fn completion_offers_the_mod_ids_of_the_pack() {
    let pack = stumbling_pack();
    let complete = |words: &[&str]| -> Vec<String> {
        let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
            .current_dir(pack.path())
            .env("COMPLETE", "fish")
            .arg("--")
            .args(words)
            .output()
            .expect("modhost runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
            .collect()
    };
    for words in [
        &["modhost", "call", ""][..],
        &["modhost", "ctl", "call", ""],
        &["modhost", "test", ""],
        &["modhost", "ctl", "disable", ""],
    ] {
        let offered = complete(words);
        assert!(
            offered.contains(&"typo".to_owned()) && offered.contains(&"lua-typo".to_owned()),
            "{words:?}: {offered:?}"
        );
    }
    assert_eq!(complete(&["modhost", "call", "lu"]), ["lua-typo"]);

    // The bash script, sourced in a real bash, completes through the `modhost` on PATH (it
    // named the absolute path of the binary that wrote it, which an upgrade or move broke).
    let (ok, script, _) = run(pack.path(), &["completions", "bash"]);
    assert!(ok, "{script}");
    assert!(!script.contains(env!("CARGO_BIN_EXE_modhost")), "{script}");
    #[cfg(unix)]
    {
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_modhost"), bin.path().join("modhost"))
            .unwrap();
        support::write(&bin.path().join("completion.bash"), &script);
        let offered = Command::new("bash")
            .current_dir(pack.path())
            .env(
                "PATH",
                format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default()),
            )
            .args([
                "-c",
                r#"source "$1"; COMP_WORDS=(modhost call lu); COMP_CWORD=2; COMP_TYPE=9; _clap_complete_modhost modhost lu call; printf '%s\n' "${COMPREPLY[@]}""#,
                "complete",
            ])
            .arg(bin.path().join("completion.bash"))
            .output()
            .expect("bash runs");
        let offered = String::from_utf8_lossy(&offered.stdout);
        assert_eq!(
            offered.split_whitespace().collect::<Vec<_>>(),
            ["lua-typo"],
            "{offered}"
        );
    }
}

/// A check of nothing must not pass in CI: an empty mods folder (a wrong `--mods`) and a mod
/// folder whose manifest was forgotten are warnings, which `--deny-warnings` fails on.
#[test]
fn an_empty_pack_and_a_forgotten_manifest_are_warned_of() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::write(&dir.path().join("config.toml"), "listen = \"none\"\n");
    support::write(&dir.path().join("mods/forgot/init.lua"), "print('hi')\n");
    let (status, stdout, _) = support::run_with_status(dir.path(), &["check", "--deny-warnings"]);
    assert_eq!(status, Some(1), "{stdout}");
    for said in [
        "warning[empty-pack]: there are no mods in `mods`",
        "warning[misnamed-manifest]: `forgot` is not loaded: it has `init.lua` but no `manifest.json` or `mod.toml`",
    ] {
        assert!(stdout.contains(said), "{stdout}");
    }
    let (status, _, _) = support::run_with_status(dir.path(), &["check"]);
    assert_eq!(status, Some(0), "warnings alone do not fail a check");
}

/// A mod stopped by a limit under `check --smoke` is reported where it was stopped (it had
/// no line), with how to raise the limit for that mod alone.
#[test]
fn a_limit_under_smoke_names_the_stopped_line_and_how_to_raise_it() {
    let pack = tempfile::tempdir().unwrap();
    support::one_mod_pack(
        pack.path(),
        "[limits]\ncall_timeout_ms = 100\n",
        "spin",
        "main.js",
        "function onAttach() {\n  let x = 0;\n  while (true) { x++; }\n}\n",
    );
    support::write_mod(
        pack.path(),
        "lua-spin",
        "init.lua",
        "local mod = {}\nfunction mod.onAttach()\n  local x = 0\n  while true do x = x + 1 end\nend\nreturn mod\n",
    );
    let (_, stdout, stderr) = run(pack.path(), &["check", "--smoke", "--format", "json"]);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stdout}{stderr}"));
    let failed: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "hook-failed")
        .collect();
    assert_eq!(failed.len(), 2, "{stdout}");
    for diagnostic in failed {
        let id = diagnostic["mod"].as_str().unwrap();
        let line = diagnostic["line"].as_u64();
        // Lua names the line it was on; QuickJS the function it was in.
        let expected = if id == "lua-spin" { 4 } else { 1 };
        assert_eq!(line, Some(expected), "{diagnostic}");
        let hint = diagnostic["hint"].as_str().unwrap();
        assert!(
            hint.contains(&format!(
                "`call_timeout_ms = 200` under `[mods.{id}.limits]`"
            )),
            "{hint}"
        );
    }
}

/// `modhost --version` names the commit it was built from (it said only `0.1.0`), so a bug
/// report says which build it is about.
#[test]
fn the_version_names_the_commit() {
    let (ok, stdout, _) = run(Path::new(env!("CARGO_MANIFEST_DIR")), &["--version"]);
    assert!(ok);
    assert!(
        stdout.starts_with(concat!("modhost ", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    // Built from a crate archive (no git checkout), the version is the package's alone.
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    match head {
        Some(head) => assert!(
            stdout.contains(&format!("({head} ")),
            "{stdout} is not {head}"
        ),
        None => assert_eq!(
            stdout.trim(),
            concat!("modhost ", env!("CARGO_PKG_VERSION"))
        ),
    }
}

/// `check --smoke` of a large pack on a terminal shows how far it is (a spinner said only
/// that it was busy).
#[cfg(unix)]
#[test]
fn smoke_on_a_large_pack_counts_the_mods_it_has_tested() {
    let pack = tempfile::tempdir().unwrap();
    for index in 0..120 {
        support::write_mod(
            pack.path(),
            &format!("mod-{index:03}"),
            "main.js",
            "function onAttach() { const until = performance.now() + 10; while (performance.now() < until) {} }\n",
        );
    }
    let mut check = Command::new(env!("CARGO_BIN_EXE_modhost"));
    check
        .args(["check", "--smoke"])
        .current_dir(pack.path())
        .env_remove("CI")
        .env("TERM", "xterm-256color");
    let shown = support::terminal::shown_on_a_terminal(check);
    let counted = regex::Regex::new(r"smoke-testing .*\b([1-9][0-9]*)/120 mods").unwrap();
    assert!(counted.is_match(&shown), "{shown:?}");
    assert!(shown.contains("ok: 120 usable mods"), "{shown:?}");
}

/// Files saved with Windows line endings (CRLF) get the same diagnostics, at the same line and
/// column, as the same files with LF: manifests in both formats, scripts in both languages,
/// `config.toml`.
#[test]
fn crlf_files_are_reported_at_the_same_places() {
    let report = |ending: &str| -> serde_json::Value {
        let pack = tempfile::tempdir().unwrap();
        let mods = pack.path().join("mods");
        let lines = |lines: &[&str]| lines.join(ending) + ending;
        write(
            &pack.path().join("config.toml"),
            &lines(&["[mods.a]", "enabled = true", "[limits]", "memory_mb = 32"]),
        );
        write(
            &mods.join("a/manifest.json"),
            &lines(&[
                "{",
                r#"  "name": "a","#,
                r#"  "version": "1.0.0","#,
                r#"  "entry_point": "main.js","#,
                r#"  "priorty": 3"#,
                "}",
            ]),
        );
        write(
            &mods.join("a/main.js"),
            &lines(&["function f() {", "  return 1;", "}", "function g( {", "}"]),
        );
        write(
            &mods.join("b/mod.toml"),
            &lines(&[
                "name = \"b\"",
                "version = \"1.0.0\"",
                "entry_point = \"init.lua\"",
                "prority = 1",
            ]),
        );
        write(
            &mods.join("b/init.lua"),
            &lines(&["local x = 1", "local y = = 2"]),
        );
        let (_, stdout, _) = run(pack.path(), &["check", "--format", "json"]);
        serde_json::from_str(&stdout).unwrap()
    };
    let with_lf = report("\n");
    assert_eq!(
        with_lf["diagnostics"].as_array().map(Vec::len),
        Some(4),
        "{with_lf:#}"
    );
    assert_eq!(report("\r\n"), with_lf);
}

/// A file Windows cannot open (a device name such as `aux`, a `:`) is refused on every platform
/// with the same words, before anything opens it (on Windows, opening `con.js` would wait for
/// the console's input): as an entry point, and through `modhost.fs.readText`.
#[test]
fn names_windows_cannot_open_are_refused_with_the_same_words_everywhere() {
    let pack = tempfile::tempdir().unwrap();
    support::write_mod(pack.path(), "devices", "main.js", "function f() {}\n");
    let manifest = pack.path().join("mods/devices/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(&manifest, &text.replace("main.js", "aux.lua"));
    support::write_mod(
        pack.path(),
        "reader",
        "main.js",
        "function read() { try { return modhost.fs.readText('con'); } catch (error) { return error.message; } }\n",
    );
    let (_, stdout, _) = run(pack.path(), &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let refused = &report["diagnostics"][0];
    assert_eq!(refused["code"], "invalid-manifest", "{report:#}");
    assert_eq!(refused["mod"], "devices", "{report:#}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("entry point `aux.lua` is a name Windows cannot open as a file"),
        "{refused}"
    );
    let (ok, said, stderr) = run(pack.path(), &["call", "reader", "read"]);
    assert!(ok, "{stderr}");
    assert!(
        said.contains("is a name Windows cannot open as a file"),
        "{said}"
    );
}

/// `require("Util")` for `util.lua` opens on Windows and macOS, whose names ignore case, and
/// not on Linux: a pack made on Windows would break on a Linux server. The same words refuse it
/// everywhere, naming the file as it is spelled, for `require`, `import`, `readText` and the
/// entry point.
#[test]
fn a_file_named_in_another_case_is_refused_with_the_same_words_everywhere() {
    let pack = tempfile::tempdir().unwrap();
    let root = pack.path();
    support::write_mod(
        root,
        "lua-side",
        "init.lua",
        "function load() local ok, why = pcall(require, 'lib.Util') return why end\n",
    );
    write(&root.join("mods/lua-side/lib/util.lua"), "return {}\n");
    support::write_mod(
        root,
        "js-side",
        "main.mjs",
        "export async function load() { try { await import('./Helpers.mjs'); return 'loaded'; } catch (error) { return error.message; } }\nexport function read() { try { return modhost.fs.readText('Notes.txt'); } catch (error) { return error.message; } }\n",
    );
    write(
        &root.join("mods/js-side/helpers.mjs"),
        "export const x = 1;\n",
    );
    write(&root.join("mods/js-side/notes.txt"), "hello\n");
    support::write_mod(root, "entry", "main.js", "function f() {}\n");
    let manifest = root.join("mods/entry/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    write(&manifest, &text.replace("main.js", "Main.js"));

    let (ok, said, stderr) = run(root, &["call", "lua-side", "load"]);
    assert!(ok, "{stderr}");
    assert!(
        said.contains("`lib/Util.lua` differs in case from the file `lib/util.lua`"),
        "{said}"
    );
    for (function, file) in [("load", "helpers.mjs"), ("read", "notes.txt")] {
        let (ok, said, stderr) = run(root, &["call", "js-side", function]);
        assert!(ok, "{stderr}");
        assert!(
            said.contains(&format!("differs in case from the file `{file}`")),
            "{function}: {said}"
        );
    }
    let (_, stdout, _) = run(root, &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let refused = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["mod"] == "entry")
        .expect("the entry point is refused");
    assert_eq!(refused["code"], "invalid-manifest", "{report:#}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("entry point `Main.js` differs in case from the file `main.js`"),
        "{refused}"
    );
}

/// Two mod folders a case apart load on Linux but are one folder on Windows and macOS: `check`
/// warns, so a pack made on Linux is known to travel (Unix only: elsewhere they cannot both
/// exist).
#[cfg(unix)]
#[test]
fn folders_a_case_apart_are_warned_of() {
    let pack = tempfile::tempdir().unwrap();
    support::write_mod(pack.path(), "core", "main.js", "function f() {}\n");
    support::write(
        &pack.path().join("mods/Core/manifest.json"),
        r#"{ "name": "core-two", "version": "1.0.0", "entry_point": "main.js" }"#,
    );
    support::write(&pack.path().join("mods/Core/main.js"), "function g() {}\n");
    let (_, stdout, _) = run(pack.path(), &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let warned: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "folder-name")
        .filter_map(|diagnostic| diagnostic["message"].as_str())
        .collect();
    assert_eq!(
        warned,
        [
            "`mods/Core` and `mods/core` differ only in case: on Windows and macOS they are one folder, so the pack would not load there"
        ],
        "{report:#}"
    );
}

/// Where the game's API is known, plain `check` names a misspelled game function or event at
/// its line, in every script of a mod and both languages, without running anything (issue 19:
/// they were found only when the line ran).
#[test]
fn check_names_misspelled_game_functions_and_events_at_their_lines() {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods");
    write(
        &mods.join("js/manifest.json"),
        r#"{ "name": "js", "version": "1.0.0", "entry_point": "main.js", "permissions": ["world.write"] }"#,
    );
    write(
        &mods.join("js/main.js"),
        "import { later } from './later.js';\nexport function onAttach() {\n  game.world.spawn('orc');\n  modhost.events.emit('scored', { points: 1, by: 'js' });\n  modhost.events.on('tick', later);\n}\n",
    );
    write(
        &mods.join("js/later.js"),
        "export function later() {\n  // game.world.spwan('orc') is written right below\n  game.world.spwan('orc');\n  modhost.events.emit('scord', { points: 1, by: 'js' });\n}\n",
    );
    write(
        &mods.join("lua/mod.toml"),
        "name = \"lua\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n",
    );
    write(
        &mods.join("lua/init.lua"),
        "local mod = {}\nfunction mod.onAttach()\n  modhost.events.on(\"tik\", function() end)\n  modhost.events.emit(\"tick\", { frame = 1, dt = 0 })\n  return game.plaer.name()\nend\nreturn mod\n",
    );
    configure_the_game_api(pack.path());
    let (ok, json, stderr) = run(pack.path(), &["check", "--format", "json"]);
    assert!(ok, "warnings alone pass: {stderr}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let found: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}:{} {}",
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "unknown-game-function mods/js/later.js:3:14 game.world.spwan does not exist: did you mean game.world.spawn? (game.world has spawn)",
            "unknown-event mods/js/later.js:4:24 `scord` is not an event of the game's API: did you mean `scored`? (no game hears an event by this name)",
            "unknown-event mods/lua/init.lua:3:22 `tik` is not an event of the game's API: did you mean `tick`? (only a mod could send an event by this name)",
            "unknown-event mods/lua/init.lua:4:24 `tick` is sent by the game, not by mods, as the game's API declares it",
            "unknown-game-function mods/lua/init.lua:5:15 game.plaer does not exist: did you mean game.player? (game has player, world)",
        ]
    );
    let (ok, human, _) = run(pack.path(), &["check", "--deny-warnings"]);
    assert!(!ok, "--deny-warnings fails on them");
    assert!(human.contains("warning[unknown-game-function]"), "{human}");
    assert!(human.contains("--> mods/js/later.js:3:14"), "{human}");
}
