//! Recording a session and replaying it (SPEC section 16), through the real binary: a session
//! a Python game plays, replayed identically and then against a changed mod; a mod for each way
//! a mod can be nondeterministic, each named by the determinism check; the example and
//! polyglot packs deterministic; and recordings that are cut short, hand-edited or newer.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{arena_copy, fixture_copy, run_with_status, write};

/// Every entry of a recording after its header, as JSON.
fn entries(recording: &Path) -> Vec<Value> {
    std::fs::read_to_string(recording)
        .expect("the recording exists")
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

fn record_once(dir: &Path, recording: &str) {
    let (status, _, stderr) = run_with_status(dir, &["run", "--once", "--record", recording]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("recorded the session to `{recording}`")),
        "{stderr}"
    );
}

fn replay(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    run_with_status(dir, &all)
}

#[test]
fn a_session_a_python_game_played_replays_identically_and_a_changed_mod_diverges_at_its_input() {
    let arena = arena_copy();
    let dir = arena.path();
    let game = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clients/python/game.py");
    let (status, stdout, stderr) = run_with_status(
        dir,
        &[
            "run",
            "--record",
            "session.jsonl",
            "--exec",
            "python3",
            game.to_str().unwrap(),
        ],
    );
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    let recorded = entries(&dir.join("session.jsonl"));
    // The game's calls of mods, its events, and the answers it gave to the mods' game calls.
    assert!(
        recorded
            .iter()
            .any(|entry| entry["emit"]["event"] == "tick"),
        "{recorded:?}"
    );
    assert!(recorded.iter().any(|entry| {
        entry["game_call"]["function"] == "world.spawn" && entry["game_call"]["answer"]["ok"] == 1
    }));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("session.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the recording is the user's alone");
    }

    for _ in 0..5 {
        let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
        assert_eq!(status, Some(0), "{stdout}\n{stderr}");
        assert!(stdout.contains("identical to the recording"), "{stdout}");
    }

    // The arena now scores 20 a spawn: the first input whose outputs include a `scored` event
    // is where the replay must diverge, and the mod is named.
    let scored_at = recorded
        .iter()
        .find(|entry| entry["event"]["event"] == "scored")
        .and_then(|entry| entry["o"].as_u64())
        .expect("the arena scored");
    let main = dir.join("mods/arena/main.js");
    let source = std::fs::read_to_string(&main).unwrap();
    write(&main, &source.replace("points: 10", "points: 20"));
    let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
    assert_eq!(status, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the pack changed since the recording: `arena` changed (its files differ)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("first divergence: input {scored_at} (emit tick)")),
        "{stdout}"
    );
    // The line of the mod's code that emitted the event.
    assert!(
        stdout.contains("in `arena` (mods/arena/main.js:12)"),
        "{stdout}"
    );
    assert!(stdout.contains(r#""points":10"#) && stdout.contains(r#""points":20"#));

    // JSON and JUnit say the same; `--mods-only` leaves the arena out, and nothing differs.
    let (status, json, _) = replay(dir, &["session.jsonl", "--format", "json"]);
    assert_eq!(status, Some(1));
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["divergences"][0]["input"], scored_at);
    assert_eq!(report["divergences"][0]["mod"], "arena");
    let (status, junit, _) = replay(dir, &["session.jsonl", "--format", "junit"]);
    assert_eq!(status, Some(1));
    assert!(
        junit.contains(r#"<testcase name="arena""#) && junit.contains("<failure"),
        "{junit}"
    );
    let (status, stdout, _) = replay(dir, &["session.jsonl", "--mods-only", "tourist"]);
    assert_eq!(status, Some(0), "{stdout}");
    // `--until` stops before the arena's first spawn.
    let until = (scored_at - 1).to_string();
    let (status, stdout, _) = replay(dir, &["session.jsonl", "--until", &until]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("replayed {until} inputs")),
        "{stdout}"
    );
}

#[test]
fn bisect_replay_finds_the_mod_whose_outputs_changed_since_the_recording() {
    let pack = tempfile::tempdir().unwrap();
    let dir = pack.path();
    for id in ["alpha", "beta", "gamma", "delta"] {
        support::write_mod(
            dir,
            id,
            "main.js",
            &format!(
                "function onBootstrap() {{ console.log('{id} is up'); }}\nfunction greet(name) {{ return `{id} greets ${{name}}`; }}\n"
            ),
        );
    }
    record_once(dir, "session.jsonl");
    let (status, stdout, _) = run_with_status(dir, &["bisect", "--replay", "session.jsonl"]);
    assert_eq!(status, Some(1), "{stdout}");
    assert!(stdout.contains("the whole pack passes"), "{stdout}");
    write(
        &dir.join("mods/gamma/main.js"),
        "function onBootstrap() { console.log('gamma is up, and new'); }\n",
    );
    let (status, stdout, stderr) = run_with_status(dir, &["bisect", "--replay", "session.jsonl"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("culprit: gamma"), "{stdout}");
}

#[test]
fn a_replay_stopped_at_an_input_stays_up_for_a_look_inside() {
    let pack = tempfile::tempdir().unwrap();
    let dir = pack.path();
    support::write_mod(
        dir,
        "counter",
        "main.js",
        "let ticks = 0;\nfunction onBootstrap() {\n  const timer = setInterval(() => { if (++ticks === 5) clearInterval(timer); }, 10);\n}\nfunction count() { return ticks; }\n",
    );
    record_once(dir, "session.jsonl");
    // Input 1 starts the pack; inputs 2 and 3 are the first two ticks.
    let (running, mut rpc) =
        support::Running::start_rpc(dir, &["replay", "session.jsonl", "--until", "3", "--stdio"]);
    rpc.result("initialize", serde_json::json!({}));
    let count = rpc.result(
        "mods/call",
        serde_json::json!({ "mod": "counter", "function": "count", "args": [] }),
    );
    assert_eq!(count, 2);
    rpc.close();
    let (status, stderr) = running.finish();
    assert!(status.success(), "{stderr:?}");
    assert!(
        stderr.iter().any(|line| line.contains("replayed 3 inputs")),
        "{stderr:?}"
    );
}

#[test]
fn a_scripted_stdio_session_with_settings_a_reload_and_disabling_replays_identically() {
    let pack = tempfile::tempdir().unwrap();
    let dir = pack.path();
    write(
        &dir.join("mods/greeter/manifest.json"),
        r#"{ "name": "greeter", "version": "1.0.0", "entry_point": "main.js", "settings": { "greeting": "hello" } }"#,
    );
    write(
        &dir.join("mods/greeter/main.js"),
        "let greeted = 0;\nfunction greet(name) { greeted += 1; console.log(`greeting ${name}`); return `${modhost.settings.greeting}, ${name} (${greeted})`; }\nfunction onSettingsChanged() { console.log(`now ${modhost.settings.greeting}`); }\nfunction onDetach() { return { greeted }; }\nfunction onReload(state) { greeted = state.greeted; }\n",
    );
    let session = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"mods/call","params":{"mod":"greeter","function":"greet","args":["Ada"]}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"settings/set","params":{"mod":"greeter","key":"greeting","value":"hi"}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"mods/reload","params":{"mod":"greeter"}}"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"mods/call","params":{"mod":"greeter","function":"greet","args":["Bo"]}}"#,
        r#"{"jsonrpc":"2.0","id":6,"method":"events/emit","params":{"event":"tick","payload":{"n":1}}}"#,
        r#"{"jsonrpc":"2.0","id":7,"method":"mods/disable","params":{"mod":"greeter"}}"#,
        r#"{"jsonrpc":"2.0","id":8,"method":"mods/call","params":{"mod":"greeter","function":"greet","args":["Cy"]}}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"mods/enable","params":{"mod":"greeter"}}"#,
    ];
    write(&dir.join("session.txt"), &(session.join("\n") + "\n"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir)
        .args([
            "run",
            "--stdio",
            "--listen",
            "none",
            "--record",
            "session.jsonl",
        ])
        .stdin(std::fs::File::open(dir.join("session.txt")).unwrap())
        .output()
        .expect("modhost runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let recorded = entries(&dir.join("session.jsonl"));
    for kind in [
        "start", "call", "setting", "reload", "emit", "disable", "enable", "shutdown",
    ] {
        assert!(
            recorded.iter().any(|entry| entry.get(kind).is_some()),
            "no `{kind}` input in {recorded:#?}"
        );
    }
    assert!(
        recorded
            .iter()
            .any(|entry| entry["returned"] == "hi, Bo (2)")
    );
    let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("replayed 10 inputs"), "{stdout}");

    // The function the game called is gone: the replay cannot stand for the session.
    let main = dir.join("mods/greeter/main.js");
    let source = std::fs::read_to_string(&main).unwrap();
    write(
        &main,
        &source.replace("function greet(", "function welcome("),
    );
    let (status, _, stderr) = replay(dir, &["session.jsonl"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("the recording names what this pack no longer has: `greeter.greet`"),
        "{stderr}"
    );
}

/// The nondeterministic fixture pack, with its WebAssembly mod assembled.
fn nondeterministic_pack() -> tempfile::TempDir {
    let pack = fixture_copy("replay/nondeterministic");
    let module = wat::parse_file(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay/wasi-random.wat"),
    )
    .expect("the fixture assembles");
    let folder = pack.path().join("mods/wasi-random");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("main.wasm"), module).unwrap();
    write(
        &folder.join("manifest.json"),
        r#"{ "name": "wasi-random", "version": "1.0.0", "entry_point": "main.wasm", "description": "Nondeterministic: logs WASI's random bytes" }"#,
    );
    pack
}

#[test]
fn each_way_a_mod_can_be_nondeterministic_is_named_and_each_replays_identically_once_recorded() {
    let pack = nondeterministic_pack();
    let dir = pack.path();
    record_once(dir, "session.jsonl");
    // Replayed on the recording's clock and seeds, even these mods do what they did.
    for _ in 0..2 {
        let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
        assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    }
    let (status, json, stderr) = replay(dir, &["session.jsonl", "--twice", "--format", "json"]);
    assert_eq!(status, Some(1), "{json}\n{stderr}");
    let report: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["against_recording"]["divergent_inputs"], 0, "{json}");
    let mut named: Vec<&str> = report["between_hosts"]["divergences"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|divergence| divergence["mod"].as_str())
        .collect();
    named.sort_unstable();
    named.dedup();
    // Seeded randomness, the session's own clock and sorted keys are deterministic: only the
    // mods that read the machine are named.
    assert_eq!(
        named,
        [
            "new-date",
            "os-time",
            "pairs-order",
            "stored-clock",
            "timer-race",
            "unseeded",
            "wall-clock",
            "wasi-random"
        ],
        "{json}"
    );
    let (status, stdout, _) = run_with_status(dir, &["check", "--determinism", "session.jsonl"]);
    assert_eq!(status, Some(1));
    assert!(
        stdout.contains("nondeterministic: `new-date`, `os-time`, `pairs-order`"),
        "{stdout}"
    );
}

#[test]
fn a_replay_starts_from_the_storage_the_session_started_with_and_leaves_the_users_alone() {
    let pack = tempfile::tempdir().unwrap();
    let dir = pack.path();
    support::write_mod(
        dir,
        "visits",
        "main.js",
        "function onBootstrap() {\n  const visits = (modhost.storage.get('visits') || 0) + 1;\n  modhost.storage.set('visits', visits);\n  console.log(`visit ${visits}`);\n}\n",
    );
    let (status, _, stderr) = run_with_status(dir, &["run", "--once"]);
    assert_eq!(status, Some(0), "{stderr}");
    record_once(dir, "session.jsonl");
    assert!(
        entries(&dir.join("session.jsonl"))
            .iter()
            .any(|entry| entry["stored"]["key"] == "visits" && entry["stored"]["value"] == 1),
        "the recording starts with what was stored"
    );
    for _ in 0..2 {
        let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
        assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    }
    // The replays counted in storage of their own: the user's still says two visits.
    let (_, _, stderr) = run_with_status(dir, &["run", "--once"]);
    assert!(stderr.contains("visit 3"), "{stderr}");
}

/// A copy of this repository's example pack.
fn example_pack() -> tempfile::TempDir {
    let example = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "config.toml",
        "mods/core-lib/mod.toml",
        "mods/core-lib/init.lua",
        "mods/my-mod/manifest.json",
        "mods/my-mod/main.js",
    ] {
        let target = example.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), target).unwrap();
    }
    example
}

#[test]
fn redacted_members_stay_out_of_the_recording_and_it_still_replays_identically() {
    let example = example_pack();
    let dir = example.path();
    let (status, _, stderr) = run_with_status(
        dir,
        &[
            "run",
            "--once",
            "--record",
            "session.jsonl",
            "--record-redact",
            "text",
        ],
    );
    assert_eq!(status, Some(0), "{stderr}");
    let text = std::fs::read_to_string(dir.join("session.jsonl")).unwrap();
    // my-mod's greeting: `{ from, text }`, its text rewritten by core-lib to "HI".
    assert!(!text.contains(r#""text":"HI""#), "{text}");
    assert!(text.contains(r#""text":"redacted:"#), "{text}");
    assert!(text.contains(r#""from":"my-mod""#), "{text}");
    let (status, stdout, stderr) = replay(dir, &["session.jsonl"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
}

#[test]
fn a_mod_that_fails_leaves_the_sessions_last_seconds_in_a_file_that_replays() {
    let pack = tempfile::tempdir().unwrap();
    let dir = pack.path();
    write(
        &dir.join("config.toml"),
        "record_window_s = 1\n\n[limits]\ncall_timeout_ms = 200\n",
    );
    support::write_mod(
        dir,
        "ticker",
        "main.js",
        "let ticks = 0;\nfunction onBootstrap() {\n  const timer = setInterval(() => {\n    console.log('tick');\n    if (++ticks === 40) clearInterval(timer);\n  }, 50);\n}\n",
    );
    support::write_mod(
        dir,
        "doomed",
        "main.js",
        "function onBootstrap() {\n  setTimeout(() => { for (;;) {} }, 2100);\n}\n",
    );
    let (status, _, stderr) = run_with_status(
        dir,
        &[
            "run",
            "--once",
            "--record-on-failure",
            "failures",
            "--record-redact",
            "secret",
        ],
    );
    assert_eq!(status, Some(1), "{stderr}");
    let saved = std::fs::read_dir(dir.join("failures"))
        .expect("the window was written")
        .map(|entry| entry.unwrap().path())
        .collect::<Vec<_>>();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let name = saved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains("a mod failed: the session so far is in") && stderr.contains(&name),
        "{stderr}"
    );
    let header = std::fs::read_to_string(&saved[0]).unwrap();
    assert!(
        header
            .lines()
            .next()
            .unwrap()
            .contains(r#""redacted":["secret"]"#),
        "the window is redacted as asked: {header}"
    );
    let kept = entries(&saved[0]);
    let numbers: Vec<u64> = kept
        .iter()
        .filter_map(|entry| entry["i"].as_u64())
        .collect();
    assert_eq!(numbers[0], 1, "the start is kept");
    assert!(
        numbers[1] > 2,
        "the window leaves the middle out: {numbers:?}"
    );
    assert!(
        kept.iter()
            .any(|entry| entry["state"]["mod"] == "doomed" && entry["state"]["state"] == "failed"),
        "the failure is in the window"
    );
    let (status, stdout, stderr) = replay(dir, &[saved[0].to_str().unwrap()]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "note: inputs 2 to {} are not in the recording",
            numbers[1] - 1
        )),
        "{stdout}"
    );
}

#[test]
fn a_recording_named_zst_is_compressed_and_replays_even_cut_short() {
    let example = example_pack();
    let dir = example.path();
    record_once(dir, "session.jsonl.zst");
    let compressed = std::fs::read(dir.join("session.jsonl.zst")).unwrap();
    assert_eq!(compressed[..4], [0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");
    let (status, stdout, stderr) = replay(dir, &["session.jsonl.zst"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("replayed 2 inputs"), "{stdout}");
    std::fs::write(
        dir.join("cut.jsonl.zst"),
        &compressed[..compressed.len() * 2 / 3],
    )
    .unwrap();
    let (status, stdout, stderr) = replay(dir, &["cut.jsonl.zst"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("note: the recording ends in the middle of line"),
        "{stdout}"
    );
}

fn assert_deterministic(pack: &Path) {
    record_once(pack, "session.jsonl");
    let (status, stdout, stderr) = replay(pack, &["session.jsonl", "--twice"]);
    assert_eq!(status, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("identical (deterministic)"), "{stdout}");
}

#[test]
fn the_example_pack_is_deterministic() {
    assert_deterministic(example_pack().path());
}

#[test]
fn the_polyglot_pack_is_deterministic() {
    assert_deterministic(support::guests::polyglot_copy().path());
}

#[test]
fn recordings_cut_short_hand_edited_newer_or_of_another_pack_get_clear_words() {
    let pack = nondeterministic_pack();
    let dir = pack.path();
    record_once(dir, "session.jsonl");
    let text = std::fs::read_to_string(dir.join("session.jsonl")).unwrap();

    // Cut in the middle of its last line, as a host killed mid-write leaves it.
    write(&dir.join("cut.jsonl"), &text[..text.len() - 10]);
    let (status, stdout, _) = replay(dir, &["cut.jsonl"]);
    assert_eq!(status, Some(0), "{stdout}");
    let lines = text.lines().count();
    assert!(
        stdout.contains(&format!(
            "note: the recording ends in the middle of line {lines}"
        )),
        "{stdout}"
    );

    // Entries the writer lost (the disk fell behind): the input before the loss is compared
    // as far as it goes.
    let mut lossy: Vec<&str> = text.lines().collect();
    let second = lossy
        .iter()
        .position(|line| line.starts_with(r#"{"i":2,"#))
        .expect("a second input");
    lossy[second - 1] = r#"{"lost":{"from":1,"entries":1}}"#;
    write(&dir.join("lossy.jsonl"), &(lossy.join("\n") + "\n"));
    let (status, stdout, _) = replay(dir, &["lossy.jsonl"]);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(
        stdout.contains("note: the recording lost 1 entries from input 1 on"),
        "{stdout}"
    );

    // A line edited by hand into something that is not an entry.
    let mut edited: Vec<&str> = text.lines().collect();
    edited[2] = r#"{"o":1,"sang":"loudly"}"#;
    write(&dir.join("edited.jsonl"), &(edited.join("\n") + "\n"));
    let (status, _, stderr) = replay(dir, &["edited.jsonl"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("edited.jsonl:3: the entry does not read"),
        "{stderr}"
    );

    // From a newer modhost.
    let newer = text.replacen("\"format\":1", "\"format\":7", 1);
    write(&dir.join("newer.jsonl"), &newer);
    let (status, _, stderr) = replay(dir, &["newer.jsonl"]);
    assert_eq!(status, Some(2));
    assert!(
        stderr.contains("in format 7, and this modhost reads format 1"),
        "{stderr}"
    );

    // Not a recording at all, and no file.
    let (status, _, stderr) = replay(dir, &["mods/wall-clock/main.js"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("is not a modhost recording"), "{stderr}");
    let (status, _, stderr) = replay(dir, &["missing.jsonl"]);
    assert_eq!(status, Some(2));
    assert!(stderr.contains("the file does not exist"), "{stderr}");

    // A mod the recording calls is gone: the replay cannot run, and says which.
    std::fs::remove_dir_all(dir.join("mods/timer-race")).unwrap();
    let (status, _, stderr) = replay(dir, &["session.jsonl"]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(stderr.contains("`timer-race`"), "{stderr}");
}
