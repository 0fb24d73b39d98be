//! `modhost test` (SPEC section 14) through the real binary, on `tests/fixtures/testing`: a
//! JavaScript, a TypeScript and a Lua mod with tests that use every part of the test API
//! (two fail on purpose), in the human, JSON and JUnit reports; `--grep`; test files that do
//! not load or never end; and `--watch`.

mod support;

/// `modhost test ARGS` in `dir`.
fn test_command(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    support::run_with_status(dir, &[&["test"], args].concat())
}

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{PATIENCE, fixture_copy};

#[test]
fn each_test_is_reported_and_failures_point_at_their_line_with_expected_and_actual() {
    let pack = fixture_copy("testing");
    let (status, stdout, stderr) = test_command(pack.path(), &[]);
    assert_eq!(status, Some(1), "{stdout}{stderr}");
    for line in [
        "mods/counter/tests/counter.test.js (counter,",
        "  ✓ add > adds",
        "  ✗ add > is wrong on purpose",
        "      at mods/counter/tests/counter.test.js:6",
        "      expected 4 to be 5",
        "      expected: 5",
        "        actual: 4",
        "  ✓ events and timers > runs timers on a virtual clock",
        "  ✓ events and timers > awaits a promise that a timer settles",
        "  ✓ the game > answers mocked game functions and records the calls",
        "  ✓ calls the mod it requires",
        "  ✓ rain > drizzles on a virtual clock",
        "  ✓ storage > keeps values for the file, in memory",
        "  ✗ forecast > is wrong on purpose",
        "      at mods/weather/tests/weather.test.lua:8",
        "      expected: {\"rain\"}",
        "15 passed, 2 failed",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
}

#[test]
fn the_json_and_junit_reports_carry_every_test_with_its_file_and_line() {
    let pack = fixture_copy("testing");
    let (_, json, _) = test_command(pack.path(), &["--format", "json"]);
    let report: Value = serde_json::from_str(&json).expect("one JSON object");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let tests: Vec<&Value> = files
        .iter()
        .flat_map(|file| file["tests"].as_array().unwrap())
        .collect();
    assert_eq!(tests.len(), 17);
    assert!(
        tests.iter().all(|test| test["line"].as_u64().is_some()),
        "{json}"
    );
    let failed: Vec<&str> = tests
        .iter()
        .filter(|test| test["passed"] == false)
        .map(|test| test["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "add > is wrong on purpose",
            "forecast > is wrong on purpose"
        ]
    );

    let (status, junit, _) = test_command(pack.path(), &["--format", "junit"]);
    assert_eq!(status, Some(1));
    assert!(
        junit.contains(r#"tests="17" skipped="0" failures="2" errors="0""#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"name="forecast &gt; is wrong on purpose" classname="weather" time="#),
        "{junit}"
    );
    assert!(
        junit.contains(r#"file="mods/weather/tests/weather.test.lua" line="8">"#),
        "{junit}"
    );
    assert!(junit.contains("expected: 5\n  actual: 4"), "{junit}");
}

#[test]
fn grep_and_mod_names_choose_the_tests() {
    let pack = fixture_copy("testing");
    let (status, stdout, _) = test_command(pack.path(), &["counter", "--grep", "the game"]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");
    assert!(!stdout.contains("weather"), "{stdout}");

    let (status, _, stderr) = test_command(pack.path(), &["countr"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("did you mean `counter`?"), "{stderr}");
}

/// A `--grep` that selects nothing in a file, and a file without tests, are files where no
/// test ran, in every language (a Lua file's empty list of results read as a broken report).
#[test]
fn selecting_no_test_is_not_a_broken_file() {
    let pack = fixture_copy("testing");
    let (status, stdout, stderr) = test_command(pack.path(), &["--grep", "no test is named this"]);
    assert!(
        !stdout.contains("did not run") && !stderr.contains("did not run"),
        "{stdout}{stderr}"
    );
    assert!(stdout.contains("0 passed, 0 failed"), "{stdout}");
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    support::write(
        &pack.path().join("mods/weather/tests/empty.test.lua"),
        "-- nothing yet\n",
    );
    let (_, stdout, stderr) = test_command(pack.path(), &["weather"]);
    assert!(
        !stdout.contains("did not run") && !stderr.contains("did not run"),
        "{stdout}{stderr}"
    );
}

/// What the mods log while tests run is kept with the file's report: shown for a file that
/// failed (where it may say why) or with `-v`, not otherwise (in CI the `onAttach` lines of
/// every required mod filled the log).
#[test]
fn mods_logs_are_shown_with_a_failed_file_or_when_asked() {
    let pack = fixture_copy("testing");
    let main = pack.path().join("mods/counter/main.js");
    let source = std::fs::read_to_string(&main).unwrap();
    support::write(
        &main,
        &source.replacen(
            "function onAttach() {",
            "function onAttach() {\n  modhost.log.info(\"counter is ready\");",
            1,
        ),
    );
    let said = "[counter] info: counter is ready";
    let (status, stdout, stderr) = test_command(pack.path(), &["scores"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains("counter is ready") && !stderr.contains("counter is ready"),
        "{stdout}{stderr}"
    );
    let (_, stdout, _) = test_command(pack.path(), &["scores", "-v"]);
    assert!(stdout.contains(said), "{stdout}");
    let (_, json, _) = test_command(pack.path(), &["scores", "--format", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        report["files"][0]["logs"][0],
        serde_json::json!({ "mod": "counter", "level": "info", "message": "counter is ready" }),
        "{json}"
    );
    support::write(
        &pack.path().join("mods/scores/tests/broken.test.ts"),
        "test(\"fails\", () => { expect(1).toBe(2); });\n",
    );
    let (status, stdout, _) = test_command(pack.path(), &["scores"]);
    assert_eq!(status, Some(1), "{stdout}");
    let broken = stdout
        .split("mods/scores/tests/")
        .find(|part| part.starts_with("broken.test.ts"))
        .unwrap_or_default();
    assert!(broken.contains(said), "{stdout}");
    let passing = stdout
        .split("mods/scores/tests/")
        .find(|part| part.starts_with("scores.test.ts"))
        .unwrap_or_default();
    assert!(!passing.contains(said), "{stdout}");
}

/// A mock of a function the game's API does not have fails the test where it is made, in
/// both languages, with the likely spelling (it was kept, and never answered anything).
#[test]
fn a_mock_of_no_game_function_fails_with_the_likely_name() {
    let pack = fixture_copy("testing");
    support::write(
        &pack.path().join("mods/counter/tests/mock.test.js"),
        "it(\"mocks\", () => { modhost.test.mock(\"world.spwan\", () => 1); });\nit(\"mocks nothing\", () => { modhost.test.calls(\"sky.rain\"); });\n",
    );
    support::write(
        &pack.path().join("mods/weather/tests/mock.test.lua"),
        "it(\"mocks\", function() modhost.test.mock(\"world.spwan\", function() return 1 end) end)\n",
    );
    let (_, json, stderr) = test_command(pack.path(), &["--grep", "mocks", "--format", "json"]);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|_| panic!("{json}{stderr}"));
    let failures: Vec<(&str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|file| file["tests"].as_array().unwrap())
        .map(|test| {
            (
                test["name"].as_str().unwrap(),
                test["message"].as_str().unwrap_or("passed"),
            )
        })
        .collect();
    let misspelled = "modhost.test.mock: `world.spwan` is not a function of the game's API; did you mean `world.spawn`?";
    assert_eq!(failures.len(), 3, "{json}");
    for (name, error) in failures {
        match name {
            "mocks" => assert!(error.contains(misspelled), "{error}"),
            _ => assert!(
                error.contains("`sky.rain` is not a function of the game's API; the game's functions are `player.name`, `world.spawn`"),
                "{error}"
            ),
        }
    }
}

#[test]
fn a_test_file_that_does_not_load_or_never_ends_is_reported_and_the_rest_runs() {
    let pack = fixture_copy("testing");
    let tests = pack.path().join("mods/counter/tests");
    std::fs::write(
        tests.join("broken.test.js"),
        "it('x', () => {\n  expect(1).toBe(;\n});\n",
    )
    .unwrap();
    // A test that never ends names itself, after the results of the tests before it (the
    // whole file was "did not run").
    std::fs::write(
        tests.join("endless.test.js"),
        "it('passes', () => {});\nit('spins', () => { for (;;) {} });\nit('never runs', () => {});\n",
    )
    .unwrap();
    std::fs::write(
        tests.join("forever.test.js"),
        "it('waits forever', () => new Promise(() => {}));\n",
    )
    .unwrap();
    std::fs::write(
        pack.path().join("mods/weather/tests/endless.test.lua"),
        "it('spins', function() while true do end end)\n",
    )
    .unwrap();
    let (status, stdout, _) = test_command(pack.path(), &[]);
    assert_eq!(status, Some(1));
    // The report of `file`: its lines up to the next file's.
    let after = |file: &str| -> String {
        let start = stdout
            .find(file)
            .unwrap_or_else(|| panic!("no {file} in:\n{stdout}"));
        let lines: Vec<&str> = stdout[start..].lines().collect();
        let end = lines[1..]
            .iter()
            .position(|line| line.starts_with("mods/"))
            .map_or(lines.len(), |next| next + 1);
        lines[..end].join("\n")
    };
    let broken = after("mods/counter/tests/broken.test.js");
    assert!(broken.contains("✗ the file did not run"), "{broken}");
    assert!(broken.contains("broken.test.js:2"), "{broken}");
    let endless = after("mods/counter/tests/endless.test.js (");
    for line in [
        "  ✓ passes",
        "  ✗ spins\n      at mods/counter/tests/endless.test.js:2\n      the test did not finish: the call ran longer than `call_timeout_ms` = 1000 and was stopped; the test after it did not run",
    ] {
        assert!(endless.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert!(
        stdout.contains("  ✗ waits forever\n      at mods/counter/tests/forever.test.js:1\n      the test did not finish: it returned a promise that cannot settle"),
        "{stdout}"
    );
    let lua = after("mods/weather/tests/endless.test.lua (");
    assert!(
        lua.contains("  ✗ spins\n      at mods/weather/tests/endless.test.lua:1\n      the test did not finish: the call ran longer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("16 passed, 5 failed, 1 file(s) did not run"),
        "{stdout}"
    );
}

#[test]
fn watch_reruns_the_tests_of_a_mod_when_it_changes() {
    let pack = fixture_copy("testing");
    let mut child = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(pack.path())
        .args(["test", "weather", "--watch"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("modhost runs");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |text: &str| {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(100))
                && line.contains(text)
            {
                return;
            }
        }
        panic!("no `{text}` within {PATIENCE:?}");
    };
    wait_for("4 passed, 1 failed");
    let test_file = pack.path().join("mods/weather/tests/weather.test.lua");
    let fixed = std::fs::read_to_string(&test_file)
        .unwrap()
        .replace("toEqual({ \"rain\" })", "toEqual({ \"sun\" })");
    std::fs::write(&test_file, fixed).unwrap();
    wait_for("5 passed, 0 failed");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn new_mods_come_with_a_first_test_that_passes_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    for (id, lang) in [("first-js", "js"), ("first-lua", "lua"), ("first-ts", "ts")] {
        support::modhost(dir.path(), &["new", id, "--lang", lang]);
    }
    let (status, stdout, stderr) = test_command(dir.path(), &[]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    for file in [
        "mods/first-js/tests/main.test.js",
        "mods/first-lua/tests/init.test.lua",
        "mods/first-ts/tests/main.test.ts",
    ] {
        assert!(stdout.contains(file), "{stdout}");
    }
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");
}
