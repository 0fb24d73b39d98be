//! Hostile mods, in both languages, in one pack with a well-behaved one: each fails alone with
//! a message naming the mod and the cause, the host stays up, and the well-behaved mod keeps
//! ticking, stalled at most once by `call_timeout_ms` per misbehaving call.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

const TIMEOUT_MS: u64 = 250;

/// One run of the pack, shared by the tests (two at once would compete for the cores and
/// blur the timing they check).
fn run_hostile_pack() -> (Option<i32>, String) {
    static RUN: OnceLock<(Option<i32>, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
        let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
            .current_dir(&fixture)
            .args(["run", "--once"])
            .env("NO_COLOR", "1")
            .output()
            .expect("modhost runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    })
    .clone()
}

#[test]
fn every_hostile_mod_fails_alone_with_its_cause_and_the_host_goes_on() {
    let (status, stderr) = run_hostile_pack();
    assert_eq!(
        status,
        Some(1),
        "exits normally, reporting the failed mods:\n{stderr}"
    );
    let failure = |id: &str| -> &str {
        let marker = format!("[{id}] failed:");
        stderr
            .lines()
            .find(|line| line.contains(&marker))
            .unwrap_or_else(|| panic!("no failure reported for `{id}`:\n{stderr}"))
    };
    let timeout = format!("`call_timeout_ms` = {TIMEOUT_MS}");
    let cases: &[(&str, &[&str])] = &[
        ("js-loop-hook", &["`onAttach` broke a limit", &timeout]),
        ("lua-loop-hook", &["`onAttach` broke a limit", &timeout]),
        ("lua-pcall-loop", &["`onBootstrap` broke a limit", &timeout]),
        ("js-loop-timer", &["a timer broke a limit", &timeout]),
        ("js-catch-loop", &["a timer broke a limit", &timeout]),
        ("lua-coroutine-loop", &["a timer broke a limit", &timeout]),
        ("lua-xpcall-loop", &["a timer broke a limit", &timeout]),
        ("js-bomb", &["ran out of memory", "`memory_mb` = 32"]),
        ("lua-bomb", &["ran out of memory", "`memory_mb` = 16"]),
        ("lua-string-bomb", &["string too large"]),
        ("js-recursion", &["runaway recursion", "main.js:1:35"]),
        ("lua-recursion", &["`memory_mb` = 32"]),
        ("js-flood", &["event flood", "10000 events queued"]),
        ("lua-flood", &["event flood", "10000 events queued"]),
        ("js-throws-value", &["uncaught object {\"code\":7"]),
        (
            "lua-throws-value",
            &["error value {\"code\":7}", "main.lua:1"],
        ),
        ("js-enormous", &["larger than 16 MiB"]),
        ("js-storm", &["event storm", "kept emitting"]),
    ];
    for (id, causes) in cases {
        let line = failure(id);
        for cause in *causes {
            assert!(
                line.contains(cause),
                "`{id}` should fail with `{cause}`: {line}"
            );
        }
    }
    assert!(
        stderr.contains("event storm: 100000 events were delivered in one round"),
        "{stderr}"
    );
    assert!(!stderr.contains("[steady] failed"), "{stderr}");
}

#[test]
fn the_well_behaved_mod_keeps_working_on_time() {
    let (_, stderr) = run_hostile_pack();
    let report = stderr
        .lines()
        .find(|line| line.contains("steady:"))
        .unwrap_or_else(|| panic!("steady never reported:\n{stderr}"));
    let numbers: Vec<u64> = report
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect();
    let (ticks, worst_gap) = (numbers[0], numbers[1]);
    // Four hostile timers stall the loop for up to the limit each, once: 2 s at 10 ms a tick
    // minus 4 x 250 ms leaves about 100 ticks.
    assert!(ticks >= 60, "{report}");
    assert!(
        worst_gap < TIMEOUT_MS + 150,
        "one stall at most the limit: {report}"
    );
}
