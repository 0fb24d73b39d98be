//! JavaScript mods use packages from npm unchanged: `tests/fixtures/npm` holds a mod that
//! imports a date library (dayjs, with a plugin), an immutable-data library (immutable) and a
//! schema validator (zod) by package name, from its own `node_modules`, which
//! `scripts/test.sh` installs with `npm ci` from the mod's `package-lock.json`.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

fn pack() -> PathBuf {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm");
    assert!(
        pack.join("mods/libraries/node_modules/zod").is_dir(),
        "the fixture's npm packages are not installed: run the tests with `scripts/test.sh`"
    );
    pack
}

fn call(function: &str, args: &[&str]) -> Value {
    let mut all = vec!["-q", "call", "libraries", function];
    all.extend(args);
    let stdout = support::modhost(&pack(), &all);
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[test]
fn the_pack_checks_clean_without_checking_every_file_of_node_modules() {
    let (ok, stdout, stderr) = support::run(&pack(), &["check", "--smoke", "--deny-warnings"]);
    assert!(ok, "{stdout}{stderr}");
}

#[test]
fn a_date_library_with_a_plugin() {
    assert_eq!(
        call("dates", &[]),
        json!({
            "iso": "2024-02-29T12:00:00.000Z",
            "formatted": "2024-02-29 Thursday 12:00",
            "monthEnd": "29",
            "days": 359,
            "before": true,
            "invalid": false,
        })
    );
}

#[test]
fn an_immutable_data_library() {
    assert_eq!(
        call("collections", &[]),
        json!({
            "base": { "a": 1, "b": 2 },
            "changed": { "a": 10, "b": 2, "c": 3 },
            "sorted": [1, 2, 3, 4],
            "deep": { "x": { "y": [9, 2, 3] } },
            "deepBefore": 1,
            "equal": true,
        })
    );
}

#[test]
fn a_schema_validator() {
    assert_eq!(
        call(
            "validate",
            &[r#"{ "name": "Excalibur", "count": 1, "kind": "sword" }"#]
        ),
        json!({ "ok": true, "value": { "name": "Excalibur", "count": 1, "tags": [], "kind": "sword" } })
    );
    let refused = call(
        "validate",
        &[r#"{ "name": "", "count": -1.5, "kind": "bow" }"#],
    );
    assert_eq!(refused["ok"], json!(false), "{refused}");
    let issues: Vec<&str> = refused["issues"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (field, said) in [
        ("name", "expected string to have >=1 characters"),
        ("count", "expected int, received number"),
        ("kind", "expected one of \"sword\"|\"shield\""),
    ] {
        assert!(
            issues
                .iter()
                .any(|issue| issue.starts_with(field) && issue.contains(said)),
            "no issue for `{field}` saying `{said}`: {issues:?}"
        );
    }
}

#[test]
fn a_package_the_mod_does_not_have_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "listen = \"none\"\n",
        "libraries",
        "main.js",
        "import { z } from \"zod\";\nexport function f() { return z; }\n",
    );
    let (status, _, stderr) = support::run_with_status(dir.path(), &["call", "libraries", "f"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(
        stderr.contains("no package `zod` in the mod's `node_modules`")
            && stderr.contains("npm install zod"),
        "{stderr}"
    );
}
