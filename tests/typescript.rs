//! TypeScript mods (SPEC section 15) through the real binary: run with their types erased and
//! no build step, imports of other `.ts` files, errors at the `.ts` file's own lines and
//! columns, syntax that cannot be erased reported where it is, and hot reload of `.ts` files.

mod support;

use serde_json::Value;
use support::{Running, modhost, run, write};

const MAIN: &str = r#"import { greet, type Greeting } from "./lib/greet";
import { twice } from "./lib/twice.ts";

interface Player {
  name: string;
  level: number;
}

export function onAttach(): void {
  const player: Player = { name: "Ada", level: 3 };
  const greeting: Greeting = greet(player.name);
  modhost.log.info(`${greeting} at level ${twice(player.level)}`);
}

export function fail(reason: string): never {
  const padded: string = `(${reason})`;   throw new Error(`failed ${padded}`);
}
"#;

fn typescript_pack() -> tempfile::TempDir {
    let pack = tempfile::tempdir().unwrap();
    let mods = pack.path().join("mods/typed");
    write(
        &mods.join("manifest.json"),
        r#"{ "name": "typed", "version": "1.0.0", "entry_point": "main.ts" }"#,
    );
    write(&mods.join("main.ts"), MAIN);
    write(
        &mods.join("lib/greet.ts"),
        "export type Greeting = `hello, ${string}`;\nexport function greet(name: string): Greeting {\n  return `hello, ${name}`;\n}\n",
    );
    write(
        &mods.join("lib/twice.ts"),
        "export const twice = (n: number): number => n * 2;\n",
    );
    pack
}

#[test]
fn a_typescript_mod_runs_without_a_build_step_and_its_errors_point_at_the_ts_file() {
    let pack = typescript_pack();
    let dir = pack.path();
    modhost(dir, &["check"]);
    let (ok, _, log) = run(dir, &["run", "--once"]);
    assert!(ok, "{log}");
    assert!(log.contains("[typed] hello, Ada at level 6"), "{log}");
    assert!(
        modhost(dir, &["list"]).contains("typescript"),
        "the runtime is shown as TypeScript"
    );

    // The error is where it is in main.ts: erasing the types moved nothing. A JavaScript mod
    // with the same lines, types blanked out by hand, fails at the same line and column.
    let (ok, _, stderr) = run(dir, &["call", "typed", "fail", "\"why\""]);
    assert!(!ok);
    assert!(stderr.contains("Error: failed (why)"), "{stderr}");
    let erased: String = MAIN
        .lines()
        .map(|line| {
            if line.contains("function fail") || line.contains("throw") {
                line.replace(": string", "        ")
                    .replace(": never", "       ")
            } else {
                String::new()
            }
        })
        .map(|line| line.replace("export ", "       ") + "\n")
        .collect::<String>()
        + "}\n";
    write(
        &dir.join("mods/twin/manifest.json"),
        r#"{ "name": "twin", "version": "1.0.0", "entry_point": "main.js" }"#,
    );
    write(&dir.join("mods/twin/main.js"), &erased);
    let (_, _, twin) = run(dir, &["call", "twin", "fail", "\"why\""]);
    let position = |text: &str, file: &str| -> String {
        let start = text
            .find(file)
            .unwrap_or_else(|| panic!("no {file} in {text}"));
        text[start + file.len()..]
            .split(':')
            .take(3)
            .collect::<Vec<_>>()[..2]
            .join(":")
    };
    let line = MAIN
        .lines()
        .position(|line| line.contains("throw"))
        .unwrap()
        + 1;
    assert!(position(&stderr, "mods/typed/main.ts:").starts_with(&line.to_string()));
    assert_eq!(
        position(&stderr, "mods/typed/main.ts:"),
        position(&twin, "mods/twin/main.js:"),
        "{stderr}\n{twin}"
    );
}

#[test]
fn typescript_that_cannot_be_erased_is_a_syntax_error_at_its_position() {
    let pack = typescript_pack();
    let dir = pack.path();
    write(
        &dir.join("mods/typed/lib/kinds.ts"),
        "export const ready = true;\n  export enum Kind { Orc, Goblin }\n",
    );
    write(
        &dir.join("mods/typed/lib/space.ts"),
        "namespace Tools {\n  export const x = 1;\n}\n",
    );
    let (ok, stdout, _) = run(dir, &["check", "--format", "json"]);
    assert!(!ok);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let at = |file: &str| -> &Value {
        diagnostics
            .iter()
            .find(|diagnostic| diagnostic["file"] == file)
            .unwrap_or_else(|| panic!("no diagnostic for {file}: {stdout}"))
    };
    let kinds = at("mods/typed/lib/kinds.ts");
    assert_eq!(kinds["code"], "syntax-error");
    assert_eq!(kinds["mod"], "typed");
    assert_eq!(
        (kinds["line"].as_u64(), kinds["column"].as_u64()),
        (Some(2), Some(10))
    );
    assert!(
        kinds["message"]
            .as_str()
            .unwrap()
            .contains("union of string literals"),
        "{kinds}"
    );
    let space = at("mods/typed/lib/space.ts");
    assert_eq!(space["line"], 1);
    assert!(
        space["message"].as_str().unwrap().contains("namespace"),
        "{space}"
    );

    // The human report shows the line.
    let (_, human, _) = run(dir, &["check"]);
    assert!(
        human.contains("--> mods/typed/lib/kinds.ts:2:10"),
        "{human}"
    );

    // Imported by the entry point, the enum stops the mod from loading, with the same words.
    write(
        &dir.join("mods/typed/main.ts"),
        "import { Kind } from \"./lib/kinds\";\nexport function onAttach(): void { modhost.log.info(String(Kind)); }\n",
    );
    let (_, _, log) = run(dir, &["run", "--once"]);
    assert!(log.contains("lib/kinds.ts:2:10"), "{log}");
    assert!(log.contains("0 of 1 mods active"), "{log}");
}

#[test]
fn saving_a_ts_file_reloads_the_mod() {
    let pack = typescript_pack();
    let dir = pack.path();
    let mut modhost = Running::start(dir, &["run", "--watch"]);
    modhost.wait_for("watching `mods` for changes");
    modhost.wait_for("hello, Ada at level 6");
    write(
        &dir.join("mods/typed/lib/twice.ts"),
        "export const twice = (n: number): number => n * 20;\n",
    );
    modhost.wait_for("hello, Ada at level 60");
    assert_eq!(modhost.count("hello, Ada at level 60"), 1);
}
