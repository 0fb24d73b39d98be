//! How long a hostile mod stalls a healthy one (SPEC section 6: at most once, by at most
//! `call_timeout_ms`, per misbehaving call). `tests/hostile.rs` checks that each hostile mod is
//! stopped and the healthy one goes on; how closely the stall keeps to the limit is a pace, and
//! is measured here, on the release binary: a healthy mod ticking every 20 ms, beside one
//! hostile mod of each class that misbehaves once, against the same healthy mod alone, in
//! interleaved rounds. The figure is the healthy mod's longest gap over the limit plus its
//! longest gap alone.

mod support;

use std::path::Path;
use std::process::Command;

const LIMIT_MS: u64 = 250;
const ROUNDS: usize = 5;

/// Ticks every 20 ms for 1.5 s and reports its longest gap.
const HEALTHY: &str = r#"
let last = 0, worst = 0;
function onBootstrap() {
  last = Date.now();
  const every = modhost.timers.every(20, () => {
    const now = Date.now();
    worst = Math.max(worst, now - last);
    last = now;
  });
  modhost.timers.after(1500, () => {
    modhost.timers.cancel(every);
    console.log(`worst gap ${worst} ms`);
  });
}
"#;

/// One hostile mod per class, each misbehaving once, 500 ms in.
const HOSTILE: &[(&str, &str, &str)] = &[
    (
        "a JavaScript loop",
        "main.js",
        "function onBootstrap() { modhost.timers.after(500, () => { for (;;) {} }); }",
    ),
    (
        "a Lua loop under pcall",
        "init.lua",
        "function onBootstrap() modhost.timers.after(500, function() while true do pcall(function() while true do end end) end end) end",
    ),
    (
        "a catastrophic Lua pattern",
        "init.lua",
        r#"function onBootstrap() modhost.timers.after(500, function() string.find(string.rep("a", 3000), ".-.-.-.-b") end) end"#,
    ),
    (
        "an event flood",
        "main.js",
        r#"function onAttach() { modhost.events.on("echo", () => { modhost.events.emit("echo"); modhost.events.emit("echo"); }); } function onBootstrap() { modhost.timers.after(500, () => modhost.events.emit("echo")); }"#,
    ),
    (
        "a memory bomb",
        "main.js",
        r#"function onBootstrap() { modhost.timers.after(500, () => { const a = []; for (;;) a.push("x".repeat(1000) + a.length); }); }"#,
    ),
];

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("create folder");
    std::fs::write(path, text).expect("write");
}

fn write_mod(root: &Path, id: &str, entry: &str, source: &str) {
    write(
        &root.join("mods").join(id).join("manifest.json"),
        &format!(r#"{{ "name": "{id}", "version": "1.0.0", "entry_point": "{entry}" }}"#),
    );
    write(&root.join("mods").join(id).join(entry), source);
}

/// The healthy mod's longest gap in ms, alone or beside `hostile`.
fn worst_gap(hostile: Option<(&str, &str)>) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        &dir.path().join("config.toml"),
        &format!("listen = \"none\"\n[limits]\ncall_timeout_ms = {LIMIT_MS}\nmemory_mb = 32\n"),
    );
    write_mod(dir.path(), "healthy", "main.js", HEALTHY);
    if let Some((entry, source)) = hostile {
        write_mod(dir.path(), "hostile", entry, source);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir.path())
        .args(["run", "--once"])
        .env("NO_COLOR", "1")
        .output()
        .expect("modhost runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|line| line.split("worst gap ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("the healthy mod did not report:\n{stderr}"))
}

fn main() {
    for (class, entry, source) in HOSTILE {
        let mut ratios = Vec::new();
        let mut gaps = Vec::new();
        for _ in 0..ROUNDS {
            let beside = worst_gap(Some((entry, source)));
            let alone = worst_gap(None);
            ratios.push(beside / (LIMIT_MS as f64 + alone));
            gaps.push(beside);
        }
        ratios.sort_by(f64::total_cmp);
        gaps.sort_by(f64::total_cmp);
        support::print_ratio(
            &format!("healthy mod's longest stall beside {class}"),
            &format!("{:.0} ms, limit {LIMIT_MS} ms", gaps[ROUNDS / 2]),
            &ratios,
            1.2,
        );
    }
}
