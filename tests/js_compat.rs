//! JavaScript mods get ES2023, and the globals the host provides behave as their standards
//! say: `console` as the Console Standard (its formatter, every method, labels and warnings),
//! `setTimeout` and friends as HTML's timers (Web IDL conversions of delays and ids, extra
//! arguments, order). Where the sandbox decides otherwise on purpose (`docs/sandbox.md`), a
//! test says so.

mod support;

use std::path::Path;

use serde_json::Value;

/// A pack with one module mod, `main.js`, at `root`.
fn pack(root: &Path, source: &str) {
    support::one_mod_pack(root, "listen = \"none\"\n", "compat", "main.js", source);
}

/// What the mod logged in `run --once`, one entry per line, without the level's padding.
fn logged(source: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    pack(dir.path(), source);
    let (status, _, stderr) = support::run_with_status(dir.path(), &["run", "--once"]);
    assert_eq!(status, Some(0), "{stderr}");
    stderr
        .lines()
        .filter_map(|line| {
            let (level, message) = line.trim_start().split_once(" [compat] ")?;
            Some(format!("{level} {message}"))
        })
        .collect()
}

/// A name the host is asked to call that holds something other than a function, in a script
/// or as a module's export, is no function of the mod: the error lists the functions it has,
/// rather than a JavaScript `TypeError` from calling it.
#[test]
fn only_functions_are_called() {
    for (entry, source) in [
        (
            "main.js",
            "var count = 3;\nvar shapes = [];\nfunction hello() { return 1; }\n",
        ),
        (
            "main.mjs",
            "export const count = 3;\nexport const shapes = [];\nexport function hello() { return 1; }\n",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        support::one_mod_pack(dir.path(), "listen = \"none\"\n", "compat", entry, source);
        assert_eq!(
            support::modhost(dir.path(), &["-q", "call", "compat", "hello"]),
            "1"
        );
        for name in ["count", "shapes"] {
            let (status, _, stderr) =
                support::run_with_status(dir.path(), &["-q", "call", "compat", name]);
            assert_eq!(status, Some(1), "{entry} {name}: {stderr}");
            assert!(
                stderr.contains(&format!("`compat` has no function `{name}`; it has hello")),
                "{entry} {name}: {stderr}"
            );
        }
    }
}

#[test]
fn es2023_is_there() {
    let features = [
        (
            "Array.prototype.findLast",
            "[1, 2, 3].findLast((x) => x < 3) === 2",
        ),
        (
            "Array.prototype.findLastIndex",
            "[1, 2, 3].findLastIndex((x) => x > 5) === -1",
        ),
        (
            "Array.prototype.toSorted",
            "String([3, 1, 2].toSorted()) === '1,2,3'",
        ),
        (
            "Array.prototype.toReversed",
            "String([1, 2].toReversed()) === '2,1'",
        ),
        (
            "Array.prototype.toSpliced",
            "String([1, 2, 3].toSpliced(1, 1)) === '1,3'",
        ),
        (
            "Array.prototype.with",
            "String([1, 2].with(0, 9)) === '9,2'",
        ),
        ("Hashbang grammar", "eval('#!/usr/bin/env node\\n1') === 1"),
        ("Array.prototype.at", "[1, 2, 3].at(-1) === 3"),
        ("Object.hasOwn", "Object.hasOwn({ a: 1 }, 'a')"),
        ("Error cause", "new Error('x', { cause: 1 }).cause === 1"),
        (
            "RegExp match indices",
            "/b/d.exec('ab').indices[0][0] === 1",
        ),
        (
            "class fields and private methods",
            "(() => { class A { #x = 1; static s = 2; #get() { return this.#x; } get x() { return this.#get(); } static { A.t = 3; } static has(o) { return #x in o; } } return new A().x === 1 && A.s === 2 && A.t === 3 && A.has(new A()) && !A.has({}); })()",
        ),
        (
            "String.prototype.replaceAll",
            "'aa'.replaceAll('a', 'b') === 'bb'",
        ),
        (
            "Promise.any and AggregateError",
            "typeof Promise.any === 'function' && typeof AggregateError === 'function'",
        ),
        (
            "WeakRef",
            "typeof WeakRef === 'function' && typeof FinalizationRegistry === 'function'",
        ),
        (
            "logical assignment",
            "(() => { let a = null; a ??= 1; let b = 1; b &&= 2; return a === 1 && b === 2; })()",
        ),
        ("numeric separators", "1_000 === 1000"),
        ("optional chaining", "({ a: null }).a?.b === undefined"),
        ("BigInt", "2n ** 64n === 18446744073709551616n"),
        ("globalThis", "typeof globalThis === 'object'"),
        (
            "Array.prototype.flat",
            "String([[1], [2, [3]]].flat(2)) === '1,2,3'",
        ),
        (
            "Object.fromEntries",
            "Object.fromEntries([['a', 1]]).a === 1",
        ),
        ("String.prototype.at", "'abc'.at(-1) === 'c'"),
        (
            "TypedArray toSorted",
            "String(new Uint8Array([2, 1]).toSorted()) === '1,2'",
        ),
        (
            "async generators",
            "typeof (async function* () {}) === 'function'",
        ),
        (
            "Symbol.prototype.description",
            "Symbol('d').description === 'd'",
        ),
    ];
    let checks: Vec<String> = features
        .iter()
        .map(|(name, expression)| format!("  [{name:?}, () => {expression}],"))
        .collect();
    let source = format!(
        "const checks = [\n{}\n];\nexport function features() {{\n  const out = {{}};\n  for (const [name, check] of checks) {{\n    try {{ out[name] = check(); }} catch (error) {{ out[name] = String(error); }}\n  }}\n  return out;\n}}\n// Top-level await (ES2022) in a module.\nawait Promise.resolve();\n",
        checks.join("\n")
    );
    let dir = tempfile::tempdir().expect("temp dir");
    pack(dir.path(), &source);
    let stdout = support::modhost(dir.path(), &["-q", "call", "compat", "features"]);
    let results: Value = serde_json::from_str(&stdout).expect("JSON");
    for (name, _) in features {
        assert_eq!(
            results[name],
            Value::Bool(true),
            "{name}: {}",
            results[name]
        );
    }
}

#[test]
fn console_is_the_console_standard_s() {
    let lines = logged(
        r#"
export function onBootstrap() {
  console.log("%s has %d items costing %f", "cart", "42abc", "1.5e1xyz");
  console.log("%i%% sure, %o and %O", 99.9, { a: [1] }, "s");
  console.log("%c styled", "color: red");
  console.log("%s and %s", "only one");
  console.log("a", 1, true, null, undefined);
  console.info("info"); console.debug("debug"); console.warn("warn"); console.error("error");
  console.group("group"); console.log("inside"); console.group(); console.log("deeper");
  console.groupEnd(); console.groupEnd(); console.log("outside");
  console.assert(true, "never"); console.assert(false, "broke %d", 5); console.assert(false);
  console.count(); console.count(); console.count("x"); console.countReset(); console.count();
  console.countReset("none");
  console.timeEnd("none");
  console.time("t"); console.time("t");
  console.dir({ b: 2 }); console.table([1]);
}
"#,
    );
    let expected = [
        "INFO cart has 42 items costing 15",
        "INFO 99% sure, {\"a\":[1]} and \"s\"",
        "INFO  styled",
        "INFO only one and %s",
        "INFO a 1 true null undefined",
        "INFO info",
        "WARN warn",
        "ERROR error",
        "INFO group",
        "INFO   inside",
        "INFO     deeper",
        "INFO outside",
        "ERROR Assertion failed: broke 5",
        "ERROR Assertion failed",
        "INFO default: 1",
        "INFO default: 2",
        "INFO x: 1",
        "INFO default: 1",
        "WARN Count for 'none' does not exist",
        "WARN Timer 'none' does not exist",
        "WARN Timer 't' already exists",
        "INFO {\"b\":2}",
        "INFO [1]",
    ];
    assert_eq!(lines, expected);
}

/// `console` is made when the mod first reads it (`docs/architecture.md`), which no mod can
/// tell: it is a global like any other, writable and configurable as on the web, and a mod
/// that replaces it before ever reading it gets what it put there.
#[test]
fn console_is_a_global_a_mod_can_wrap_or_replace() {
    let lines = logged(
        r#"
const described = () => {
  const { writable, enumerable, configurable } = Object.getOwnPropertyDescriptor(globalThis, "console");
  return `writable ${writable}, enumerable ${enumerable}, configurable ${configurable}`;
};
const original = console;
console = { log: (...values) => original.log("[wrapped]", ...values) };
console.log("once", 1);
console = original;
console.log(described(), typeof console.log, "console" in globalThis);
"#,
    );
    assert_eq!(
        lines,
        [
            "INFO [wrapped] once 1",
            "INFO writable true, enumerable false, configurable true function true",
        ]
    );
    let replaced_first = logged(
        r#"
console = { log: (text) => modhost.log.warn(`replaced: ${text}`) };
console.log("hi");
"#,
    );
    assert_eq!(replaced_first, ["WARN replaced: hi"]);
}

/// Delays far apart, so that the time the mod takes to set them (on a slow machine) cannot
/// change their order; equal delays keep the order they were set in.
#[test]
fn timers_are_html_s() {
    let lines = logged(
        r#"
export function onBootstrap() {
  const order = [];
  setTimeout(() => order.push("600"), 600);
  setTimeout(() => order.push("0"), 0);
  setTimeout((a, b) => order.push(`300:${a}${b}`), "300", "x", "y");
  setTimeout(() => order.push("-1"), -1);
  setTimeout(() => order.push("null"), null);
  setTimeout(() => order.push("NaN"), NaN);
  setTimeout(() => order.push("none"));
  setTimeout(() => order.push("2^32+150"), 2 ** 32 + 150);
  const gone = setTimeout(() => order.push("cleared"), 1);
  clearTimeout(gone);
  clearTimeout("nonsense"); clearTimeout(); clearInterval(null); clearTimeout(-5);
  let ticks = 0;
  const every = setInterval(() => { ticks++; if (ticks === 3) clearInterval(every); }, 1);
  const id = setTimeout(() => {}, 1);
  console.log(`ids are positive integers: ${Number.isInteger(id) && id > 0}`);
  try { setTimeout("order.push('code')", 1); } catch (error) { console.log(`${error.name}: ${error.message}`); }
  setTimeout(() => console.log(`${order.join(",")} ticks ${ticks}`), 1000);
}
"#,
    );
    assert_eq!(
        lines,
        [
            "INFO ids are positive integers: true",
            "INFO TypeError: setTimeout: a mod's timer needs a function to call (strings of code are not run)",
            "INFO 0,-1,null,NaN,none,2^32+150,300:xy,600 ticks 3",
        ]
    );
}
