//! Source nested 100,000 levels deep, in every construct a recursive parser recurses through,
//! is a clean syntax error in every language and every command (`check`, `run`, a save under
//! `--watch`): never a stack overflow that aborts the process. Long flat chains, which real
//! code has, still compile.

mod support;

use std::path::Path;

const DEPTH: usize = 100_000;

fn deep_typescript() -> Vec<(&'static str, String)> {
    let d = DEPTH;
    vec![
        (
            "type arguments",
            format!("let x: {}number{} = 1;", "A<".repeat(d), ">".repeat(d)),
        ),
        (
            "parentheses",
            format!("let x = {}1{};", "(".repeat(d), ")".repeat(d)),
        ),
        (
            "arrays",
            format!("let x = {}{};", "[".repeat(d), "]".repeat(d)),
        ),
        (
            "object types",
            format!("type T = {}number{};", "{ a: ".repeat(d), " }".repeat(d)),
        ),
        ("chained arrows", format!("let f = {}1;", "x => ".repeat(d))),
        (
            "templates",
            format!("let t = {}1{};", "`${".repeat(d), "}`".repeat(d)),
        ),
        (
            "type operators",
            format!("type K = {}T;", "keyof ".repeat(d)),
        ),
        (
            "function types",
            format!("type F = {}void;", "() => ".repeat(d)),
        ),
        ("prefix operators", format!("let b = {}x;", "!".repeat(d))),
    ]
}

fn pack(root: &Path, entry: &str, source: &str) {
    support::one_mod_pack(root, "listen = \"none\"\n", "deep", entry, source);
}

#[test]
fn deep_typescript_is_a_syntax_error_in_check_and_run() {
    for (what, source) in deep_typescript() {
        let dir = tempfile::tempdir().expect("temp dir");
        pack(dir.path(), "main.ts", &format!("// {what}\n{source}\n"));
        for args in [&["check"][..], &["run", "--once"]] {
            let (status, stdout, stderr) = support::run_with_status(dir.path(), args);
            let stderr = stdout + &stderr;
            assert_eq!(status, Some(1), "{what}, `{}`: {stderr}", args.join(" "));
            assert!(
                stderr.contains("nests deeper than 2000 levels") && stderr.contains("main.ts:2:"),
                "{what}, `{}`: {}",
                args.join(" "),
                &stderr[..stderr.len().min(600)]
            );
        }
    }
}

#[test]
fn deep_javascript_and_lua_are_syntax_errors_too() {
    let d = DEPTH;
    for (entry, source) in [
        (
            "main.js",
            format!("let x = {}1{};", "(".repeat(d), ")".repeat(d)),
        ),
        ("main.js", format!("let f = {}1;", "x => ".repeat(d))),
        (
            "init.lua",
            format!("local x = {}1{}", "(".repeat(d), ")".repeat(d)),
        ),
        (
            "init.lua",
            format!("local t = {}{}", "{".repeat(d), "}".repeat(d)),
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        pack(dir.path(), entry, &source);
        let (status, stdout, stderr) = support::run_with_status(dir.path(), &["check"]);
        let stderr = stdout + &stderr;
        assert_eq!(status, Some(1), "{entry}: {stderr}");
        assert!(stderr.contains("error[syntax-error]"), "{entry}: {stderr}");
    }
}

#[test]
fn long_flat_typescript_compiles() {
    let d = DEPTH;
    let source = format!(
        "export const sum = {}1;\nexport type Name = {}'b';\nexport const list = [{}];\n",
        "1 + ".repeat(d),
        "'a' | ".repeat(d),
        "0, ".repeat(d)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    pack(dir.path(), "main.ts", &source);
    let (status, stdout, stderr) = support::run_with_status(dir.path(), &["check"]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
}

#[test]
fn a_deep_save_under_watch_keeps_the_old_version_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Listening, so that `stop` reaches it on Windows too.
    support::one_mod_pack(
        dir.path(),
        "",
        "deep",
        "main.ts",
        "export function onAttach(): void { console.log('v1'); }\n",
    );
    let mut running = support::Running::start(dir.path(), &["run", "--watch"]);
    running.wait_for("v1");
    for (_, source) in deep_typescript() {
        running.mark();
        support::write(&dir.path().join("mods/deep/main.ts"), &source);
        running.wait_for("nests deeper than 2000 levels");
        running.wait_for("main.ts:1:");
    }
    running.mark();
    support::write(
        &dir.path().join("mods/deep/main.ts"),
        "export function onAttach(): void { console.log('v2'); }\n",
    );
    running.wait_for("v2");
    running.stop();
    let (status, lines) = running.finish();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
}
