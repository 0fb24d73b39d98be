//! The same fixture suite against every backend: `tests/fixtures/twins` holds a JavaScript mod,
//! a Lua mod and a WebAssembly mod (Rust with extism-pdk, built here from source) written to
//! behave alike. Each function is called through the real binary in each, and the results must
//! match (with the twins' names swapped). The WebAssembly twin sits out what the plugin ABI
//! has no way to do: catching a failed call, reading `modhost.mod` or listing mods.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

const TWINS: [&str; 2] = ["js-twin", "lua-twin"];
const WASM_TWIN: &str = "wasm-twin";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/twins")
}

/// Builds the WebAssembly twin into the fixture (once per test run; the build is ignored by
/// git).
fn build_wasm_twin() {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| support::guests::build_rust_mod(&fixture().join("mods").join(WASM_TWIN)));
}

fn call(twin: &str, function: &str, args: &[&str]) -> (bool, String) {
    build_wasm_twin();
    let fixture = fixture();
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(&fixture)
        .args(["-q", "call", twin, function])
        .args(args)
        .output()
        .expect("modhost runs");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    (
        output.status.success(),
        if stdout.is_empty() { stderr } else { stdout },
    )
}

/// `twin`'s outcome for `function`, with every twin's name written `twin`. A JavaScript
/// object keeps its keys' order and a Lua table has none, so JSON is compared with its keys
/// sorted.
fn outcome(twin: &str, function: &str, args: &[&str]) -> (bool, String) {
    let (ok, output) = call(twin, function, args);
    let output = TWINS
        .iter()
        .chain([&WASM_TWIN])
        .fold(output, |text, name| text.replace(name, "twin"));
    let output =
        serde_json::from_str::<serde_json::Value>(&output).map_or(output, |json| json.to_string());
    (ok, output)
}

/// Calls `function` in all three twins and asserts the same outcome.
fn same_in_all(function: &str, args: &[&str]) -> String {
    let both = same_in_both(function, args);
    let wasm = outcome(WASM_TWIN, function, args);
    assert_eq!(
        (true, both.clone()),
        wasm,
        "`{function}` differs between JavaScript and Lua (left) and WebAssembly (right)"
    );
    both
}

/// Calls `function` in the JavaScript and Lua twins and asserts the same outcome.
fn same_in_both(function: &str, args: &[&str]) -> String {
    let [js, lua] = TWINS.map(|twin| outcome(twin, function, args));
    assert_eq!(
        js, lua,
        "`{function}` differs between JavaScript (left) and Lua (right)"
    );
    assert!(js.0, "`{function}` failed: {}", js.1);
    js.1
}

#[test]
fn values_cross_unchanged() {
    for value in [
        "42",
        "-7",
        "2.5",
        "\"é\"",
        "true",
        "[]",
        "{}",
        "[1,[2,{\"a\":1}],{}]",
        "{\"nested\":{\"list\":[1,2]}}",
    ] {
        assert_eq!(same_in_all("echo", &[value]), value, "echo {value}");
    }
    assert_eq!(same_in_all("echo", &["plain text"]), "\"plain text\"");
    assert_eq!(same_in_all("add", &["2.5", "4"]), "6.5");
}

#[test]
fn both_see_the_same_api() {
    assert_eq!(
        same_in_both("info", &[]),
        r#"{"hasDataDir":true,"hasDir":true,"id":"twin","name":"twin","version":"1.0.0"}"#
    );
    assert_eq!(
        same_in_all("settings", &[]),
        r#"{"level":4,"tags":["a","b"]}"#
    );
    let listed = same_in_both("list", &[]);
    assert_eq!(
        listed,
        r#"[{"id":"twin","runtime":"javascript","state":"active","version":"1.0.0"},{"id":"twin","runtime":"lua","state":"active","version":"1.0.0"},{"id":"twin","runtime":"wasm","state":"active","version":"1.0.0"}]"#
    );
}

#[test]
fn calls_between_languages_return_values_and_raise_errors() {
    assert_eq!(same_in_all("peerAdd", &[]), "5");
    assert_eq!(same_in_both("peerFail", &[]), "\"caught twin failed\"");
}

#[test]
fn hooks_and_events_run_alike() {
    let seen = |twin: &str| -> Vec<String> {
        let (ok, output) = call(twin, "seen", &[]);
        assert!(ok, "{output}");
        let mut entries: Vec<String> = serde_json::from_str(&output).expect("a JSON array");
        // Events are delivered after each bootstrap returns, so where they fall relative to the
        // other twin's `bootstrap` depends on load order, not on the language.
        entries.sort();
        entries
    };
    let expected = [
        "attach",
        "bootstrap",
        "greet:ADA:js",
        "greet:ADA:lua",
        "greet:ADA:wasm",
    ];
    for twin in TWINS.iter().chain([&WASM_TWIN]) {
        assert_eq!(seen(twin), expected, "{twin}");
    }
}
