//! Operations that change mods (reload, enable, disable, a setting, a save under `--watch`,
//! shutdown), asked for while a call into a mod is in progress: a mod waits for the game's
//! answer to `game/call`, and meanwhile the game (or `ctl` on the socket) asks the host to
//! change mods. The mods on the call stack cannot be replaced under their own feet: every such
//! operation is refused with an error that says why and when to retry (or, for a save and for
//! shutdown, deferred), the host stays up, the waiting call completes, and the same operation
//! then goes through. One table, every operation in every state.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use support::rpc::Rpc;

const WAITER: &str = r#"
function spawnNow(kind) { return game.world.spawn(kind); }
modhost.events.on("tick", () => { game.world.spawn("orc"); });
function onSettingsChanged() {}
"#;

fn pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/game/game-api.json"),
        root.join("game-api.json"),
    )
    .expect("copy the API");
    support::write(
        &root.join("config.toml"),
        "api = \"game-api.json\"\n\n[limits]\ngame_call_timeout_ms = 120000\n",
    );
    support::write(
        &root.join("mods/waiter/manifest.json"),
        r#"{ "name": "waiter", "version": "1.0.0", "entry_point": "main.js", "permissions": ["world.write"], "settings": { "volume": 1 } }"#,
    );
    support::write(&root.join("mods/waiter/main.js"), WAITER);
    support::write(
        &root.join("mods/bystander/mod.toml"),
        "name = \"bystander\"\nversion = \"1.0.0\"\nentry_point = \"init.lua\"\n",
    );
    support::write(
        &root.join("mods/bystander/init.lua"),
        "function ping() return 'pong' end\n",
    );
    dir
}

/// An operation a game or `ctl` asks for, as a protocol request or a `ctl` command.
enum Operation {
    Request(&'static str, Value),
    Ctl(&'static [&'static str]),
}

fn operations() -> Vec<Operation> {
    use Operation::*;
    vec![
        Request("mods/reload", json!({ "mod": "waiter" })),
        Request("mods/reload", json!({ "mod": "bystander" })),
        Request("mods/reload", json!({})),
        Request("mods/disable", json!({ "mod": "bystander" })),
        Request("mods/disable", json!({ "mod": "waiter" })),
        Request("mods/enable", json!({ "mod": "bystander" })),
        Request(
            "settings/set",
            json!({ "mod": "waiter", "key": "volume", "value": 5 }),
        ),
        Request(
            "settings/set",
            json!({ "mod": "bystander", "key": "volume", "value": 5 }),
        ),
        Ctl(&["ctl", "reload", "waiter"]),
        Ctl(&["ctl", "reload"]),
        Ctl(&["ctl", "disable", "bystander"]),
        Ctl(&["ctl", "set", "waiter", "volume", "3"]),
    ]
}

/// What the operation answered: `Ok` or the error's message.
fn perform(dir: &Path, rpc: &mut Rpc, operation: &Operation) -> Result<(), String> {
    match operation {
        Operation::Request(method, params) => {
            let response = rpc.call(method, params.clone());
            match response.get("error") {
                Some(error) => Err(format!(
                    "{} {}",
                    error["code"],
                    error["message"].as_str().unwrap_or_default()
                )),
                None => Ok(()),
            }
        }
        Operation::Ctl(args) => {
            let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
                .current_dir(dir)
                .args(*args)
                .env("NO_COLOR", "1")
                .output()
                .expect("ctl runs");
            match output.status.code() {
                Some(0) => Ok(()),
                Some(1) => Err(String::from_utf8_lossy(&output.stderr).into_owned()),
                other => panic!(
                    "`{}` ended with {other:?}: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr)
                ),
            }
        }
    }
}

fn describe(operation: &Operation) -> String {
    match operation {
        Operation::Request(method, params) => format!("{method} {params}"),
        Operation::Ctl(args) => args.join(" "),
    }
}

/// How the game puts `waiter` in the middle of a call: a request whose handling calls the
/// game, which holds its answer.
fn states() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "waiting in mods/call",
            "mods/call",
            json!({ "mod": "waiter", "function": "spawnNow", "args": ["orc"] }),
        ),
        (
            "waiting in an event handler",
            "events/emit",
            json!({ "event": "tick", "payload": { "frame": 1, "dt": 0.016 } }),
        ),
    ]
}

#[test]
fn operations_on_mods_wait_for_calls_in_progress_in_every_state() {
    let dir = pack();
    let (mut running, mut rpc) =
        support::Running::start_rpc(dir.path(), &["run", "--stdio", "--watch"]);
    rpc.answer = Box::new(|_, _, _| Err("SILENCE".to_owned()));
    rpc.initialize(json!({ "provides": ["world.spawn"] }));
    running.wait_for("watching `mods` for changes");

    for (index, (state, method, params)) in states().into_iter().enumerate() {
        let id = 1000 + index as u64;
        rpc.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        rpc.wait_for_held();
        for operation in operations() {
            let refused = perform(dir.path(), &mut rpc, &operation)
                .expect_err(&format!("{state}: `{}` went through", describe(&operation)));
            assert!(
                refused.contains("in the middle of a call") && refused.contains("`waiter`"),
                "{state}: `{}`: {refused}",
                describe(&operation)
            );
            if let Operation::Request(..) = operation {
                assert!(refused.starts_with("-32003 "), "{state}: {refused}");
            }
        }
        // Calls that change nothing still work; one into the waiting mod is re-entrant.
        assert_eq!(
            rpc.result(
                "mods/call",
                json!({ "mod": "bystander", "function": "ping" })
            ),
            json!("pong")
        );
        let reentrant = rpc.error(
            "mods/call",
            json!({ "mod": "waiter", "function": "spawnNow", "args": ["goblin"] }),
        );
        assert!(
            reentrant["message"]
                .as_str()
                .is_some_and(|message| message.contains("re-entrant")),
            "{reentrant}"
        );
        // A save under `--watch` waits for the call.
        running.mark();
        support::write(
            &dir.path().join("mods/bystander/init.lua"),
            &format!("function ping() return 'pong' end\n-- saved in state {index}\n"),
        );
        rpc.release(json!(7));
        let answered = rpc.response_to(id);
        assert!(answered.get("error").is_none(), "{state}: {answered}");
        running.wait_for("reloaded bystander");

        // Now every operation goes through.
        for operation in operations() {
            if let Err(error) = perform(dir.path(), &mut rpc, &operation) {
                // Two are refused for their own reasons: `bystander` has no `volume`, and
                // `ctl disable` of a mod already disabled by the table is fine either way.
                assert!(
                    error.contains("declares no setting"),
                    "idle: `{}`: {error}",
                    describe(&operation)
                );
            }
        }
        for id in ["waiter", "bystander"] {
            rpc.result("mods/enable", json!({ "mod": id }));
        }
    }

    // Shutdown while a call is in progress: the host stops, without waiting for the game.
    rpc.send(&json!({ "jsonrpc": "2.0", "id": 9, "method": "mods/call", "params": { "mod": "waiter", "function": "spawnNow", "args": ["orc"] } }));
    rpc.wait_for_held();
    rpc.send(&json!({ "jsonrpc": "2.0", "id": 10, "method": "shutdown" }));
    let (status, lines) = running.finish();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    assert!(
        !lines.iter().any(|line| line.contains("panicked")),
        "{lines:#?}"
    );
}
