//! The protocol for games in any language (SPEC section 11), driven over real pipes and
//! sockets against the real binary: every method, both framings, requests nesting both ways,
//! and each kind of bad input a game can send.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::rpc::Rpc;
use support::{Running, fixture_copy};

fn game_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/game")
}

fn stdio_host() -> (Running, Rpc) {
    Running::start_rpc(&game_fixture(), &["run", "--stdio"])
}

fn answering_game(rpc: &mut Rpc) {
    rpc.answer = Box::new(|function, args, _| match function {
        "world.spawn" => Ok(json!(args.len() as i64 * 10 + 1)),
        "player.name" => Ok(json!("Ada")),
        other => Err(format!("no {other}")),
    });
}

#[test]
fn a_game_calls_mods_and_answers_their_game_calls_while_it_waits() {
    let (running, mut rpc) = stdio_host();
    answering_game(&mut rpc);
    let hello = rpc.initialize(json!({
        "client": { "name": "test", "version": "1" },
        "provides": ["world.spawn", "player.name"],
        "subscribe": ["scored"],
    }));
    assert_eq!(hello["modhost"]["version"], env!("CARGO_PKG_VERSION"));
    let ids: Vec<&str> = hello["mods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["caller", "dependent", "lua-caller"]);

    // mods/call → the mod calls game.world.spawn → game/call to us while we wait.
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "caller", "function": "spawn", "args": ["orc"] })
        ),
        json!(11)
    );
    assert_eq!(
        rpc.game_calls.last().unwrap(),
        &json!({ "function": "world.spawn", "args": ["orc"], "mod": "caller" })
    );
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "lua-caller", "function": "name" })
        ),
        json!("Ada")
    );

    // An event a mod emits reaches a subscribed game.
    rpc.result(
        "mods/call",
        json!({ "mod": "caller", "function": "score", "args": [3] }),
    );
    assert_eq!(
        rpc.notified("events/event"),
        [
            &json!({ "event": "scored", "payload": { "points": 3, "by": "caller" }, "mod": "caller" })
        ]
    );

    // events/emit: `before` handlers rewrite or cancel.
    assert_eq!(
        rpc.result(
            "events/emit",
            json!({ "event": "greeting", "payload": { "text": "hi" } })
        ),
        json!({ "cancelled": false, "payload": { "text": "hi", "seen": true } })
    );
    assert_eq!(
        rpc.result(
            "events/emit",
            json!({ "event": "greeting", "payload": { "block": true } })
        ),
        json!({ "cancelled": true, "payload": { "block": true } })
    );
    drop(running);
}

#[test]
fn the_game_api_is_checked_in_both_directions() {
    let (_running, mut rpc) = stdio_host();
    rpc.initialize(json!({ "provides": ["world.spawn", "player.name"] }));
    // The game answers with the wrong type: an error in the calling mod, naming both.
    rpc.answer = Box::new(|_, _, _| Ok(json!("seven")));
    let error = rpc.result(
        "mods/call",
        json!({ "mod": "caller", "function": "spawnOrError", "args": ["orc"] }),
    );
    assert_eq!(
        error,
        json!("game.world.spawn: the game answered string \"seven\" where integer was declared")
    );
    // A wrong argument never reaches the game.
    let calls = rpc.game_calls.len();
    let error = rpc.result(
        "mods/call",
        json!({ "mod": "caller", "function": "spawnOrError", "args": [5] }),
    );
    assert_eq!(
        error,
        json!("game.world.spawn: parameter kind expects Kind (\"orc\" | \"goblin\"), got number 5")
    );
    assert_eq!(rpc.game_calls.len(), calls);
    // A mod without the permission is refused, and told where to add it.
    let refusal = rpc.result(
        "mods/call",
        json!({ "mod": "lua-caller", "function": "spawnOrError", "args": ["orc"] }),
    );
    let refusal = refusal.as_str().unwrap();
    assert!(
        refusal.contains("needs the permission `world.write`"),
        "{refusal}"
    );
    assert!(refusal.contains("mods/lua-caller/mod.toml"), "{refusal}");
    // The game's own error becomes the mod's error.
    rpc.answer = Box::new(|_, _, _| Err("the arena is full".to_owned()));
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "caller", "function": "spawnOrError", "args": ["orc"] })
        ),
        json!("game.world.spawn: the arena is full")
    );
    // A payload that does not fit a declared event is refused before any mod sees it.
    let error = rpc.error(
        "events/emit",
        json!({ "event": "tick", "payload": { "frame": "one", "dt": 0.1 } }),
    );
    assert_eq!(error["code"], -32602);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("`tick`.frame should be integer"),
        "{error}"
    );
    // A field too many or too few is said as such (it read "should be no such field").
    for (payload, said) in [
        (
            json!({ "frame": 1, "dt": 0.1, "extra": 5 }),
            "the payload of `tick`: unknown field `extra` (the fields are `dt`, `frame`)",
        ),
        (
            json!({ "frame": 1 }),
            "the payload of `tick`: missing field `dt` (number)",
        ),
    ] {
        let error = rpc.error(
            "events/emit",
            json!({ "event": "tick", "payload": payload }),
        );
        assert_eq!(error["message"], said, "{error}");
    }
    let error = rpc.error(
        "mods/call",
        json!({ "mod": "caller", "function": "spawn", "args": ["orc", { "x": 1 }] }),
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("parameter at: missing field `y` (number)"),
        "{error}"
    );
}

#[test]
fn a_game_that_never_answers_or_disconnects_fails_only_the_call() {
    let dir = game_fixture();
    let (_host, mut rpc) = stdio_host();
    rpc.initialize(json!({}));
    // Nobody provides world.spawn.
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "caller", "function": "spawnOrError", "args": ["orc"] })
        ),
        json!("game.world.spawn: no game providing `world.spawn` is connected")
    );

    // A second game on a socket provides it but never answers: game_call_timeout_ms (400).
    let socket = tempfile::tempdir().unwrap();
    let path = socket.path().join("m.sock");
    let (mut host, mut rpc) = Running::start_rpc(
        &dir,
        &["run", "--stdio", "--listen", path.to_str().unwrap()],
    );
    host.wait_for("listening on");
    rpc.initialize(json!({}));
    let silent = local_client(&path);
    let mut silent = silent;
    silent.answer = Box::new(|_, _, _| Err("SILENCE".to_owned()));
    silent.initialize(json!({ "provides": ["world.spawn"] }));
    std::thread::spawn(move || while silent.next_message().is_some() {});
    let started = std::time::Instant::now();
    let answer = rpc.result(
        "mods/call",
        json!({ "mod": "caller", "function": "spawnOrError", "args": ["orc"] }),
    );
    assert_eq!(
        answer,
        json!(
            "game.world.spawn: the game did not answer `world.spawn` within `game_call_timeout_ms` = 400"
        )
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    // The mod is still there and the host still answers.
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "dependent", "function": "ping" })
        ),
        json!("pong")
    );
    let statuses = rpc.result("mods/list", json!({}));
    assert!(
        statuses
            .as_array()
            .unwrap()
            .iter()
            .all(|status| status["state"] == "active"),
        "{statuses}"
    );

    // A game that disconnects in the middle of a call: it hangs up when the call arrives
    // (a Unix socket's shutdown; a named pipe has none that ends a blocked read).
    #[cfg(unix)]
    {
        let stream = std::os::unix::net::UnixStream::connect(&path).expect("connect");
        let hang_up = stream.try_clone().unwrap();
        let mut leaving = Rpc::new(stream.try_clone().unwrap(), stream);
        leaving.initialize(json!({ "provides": ["world.spawn"] }));
        leaving.answer = Box::new(move |_, _, _| {
            let _ = hang_up.shutdown(std::net::Shutdown::Both);
            Err("SILENCE".to_owned())
        });
        let quitter = std::thread::spawn(move || while leaving.next_message().is_some() {});
        let answer = rpc.result(
            "mods/call",
            json!({ "mod": "caller", "function": "spawnOrError", "args": ["orc"] }),
        );
        quitter.join().unwrap();
        assert_eq!(
            answer,
            json!("game.world.spawn: the game disconnected before answering `world.spawn`")
        );
        assert_eq!(
            rpc.result(
                "mods/call",
                json!({ "mod": "dependent", "function": "ping" })
            ),
            json!("pong")
        );
    }
}

/// A client of the local transport at `path` (a Unix socket, or the named pipe named after it
/// on Windows).
fn local_client(path: &Path) -> Rpc {
    let (reader, writer) =
        modhost::internal::protocol::transport::connect(path.to_str().expect("UTF-8"))
            .expect("connect to the local transport");
    Rpc::new(reader, writer)
}

#[test]
fn bad_input_gets_the_json_rpc_error_and_the_connection_survives() {
    let (_running, mut rpc) = stdio_host();
    // Before initialize.
    assert_eq!(rpc.error("mods/list", json!({}))["code"], -32002);
    rpc.send_raw(b"{this is not json\n");
    let parse = rpc.next_message().unwrap();
    assert_eq!(
        (parse["id"].clone(), parse["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    rpc.send_raw(b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mods/list\"}]\n");
    assert_eq!(rpc.next_message().unwrap()["error"]["code"], -32600);
    rpc.send_raw(b"{\"id\":9,\"method\":\"mods/list\"}\n");
    let invalid = rpc.next_message().unwrap();
    assert_eq!(
        (invalid["id"].clone(), invalid["error"]["code"].clone()),
        (json!(9), json!(-32600))
    );

    rpc.initialize(json!({}));
    let unknown = rpc.error("mods/lst", json!({}));
    assert_eq!(unknown["code"], -32601);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `mods/list`"),
        "{unknown}"
    );
    assert_eq!(rpc.error("mods/call", json!({ "mod": 5 }))["code"], -32602);
    assert_eq!(
        rpc.error(
            "mods/call",
            json!({ "mod": "caller", "function": "spawn", "extra": 1 })
        )["code"],
        -32602
    );
    let missing = rpc.error("mods/call", json!({ "mod": "calller", "function": "name" }));
    assert_eq!(missing["code"], -32001);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `caller`"),
        "{missing}"
    );
    assert_eq!(
        rpc.error("mods/call", json!({ "mod": "caller", "function": "nope" }))["code"],
        -32001
    );
    assert_eq!(
        rpc.error("initialize", json!({ "provides": ["world.spwan"] }))["code"],
        -32602
    );

    // A mod's own error, with where it happened.
    let thrown = rpc.error("mods/call", json!({ "mod": "caller", "function": "fails" }));
    assert_eq!(thrown["code"], -32000);
    assert_eq!(thrown["data"]["mod"], "caller");
    assert_eq!(thrown["data"]["line"], 26);
    assert!(
        thrown["data"]["file"]
            .as_str()
            .unwrap()
            .ends_with("main.js"),
        "{thrown}"
    );
    // After all that, the host still works.
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "dependent", "function": "ping" })
        ),
        json!("pong")
    );
}

#[test]
fn content_length_framing_is_answered_in_kind() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(game_fixture())
        .args(["-q", "run", "--stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("modhost starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut exchange = |body: &str| -> Value {
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
        let mut header = String::new();
        stdout.read_line(&mut header).unwrap();
        let length: usize = header
            .strip_prefix("Content-Length: ")
            .unwrap_or_else(|| panic!("not a Content-Length header: {header:?}"))
            .trim()
            .parse()
            .unwrap();
        let mut blank = String::new();
        stdout.read_line(&mut blank).unwrap();
        assert_eq!(blank, "\r\n");
        let mut body = vec![0; length];
        stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    let hello = exchange(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
    assert_eq!(hello["id"], 1);
    let ping = exchange(
        r#"{"jsonrpc":"2.0","id":2,"method":"mods/call","params":{"mod":"dependent","function":"ping"}}"#,
    );
    assert_eq!(ping["result"], "pong");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn settings_enable_and_disable_over_the_protocol() {
    let (_running, mut rpc) = stdio_host();
    rpc.initialize(json!({}));
    assert_eq!(
        rpc.result("settings/get", json!({ "mod": "caller" })),
        json!({ "volume": 0.5, "label": "x" })
    );
    rpc.result(
        "settings/set",
        json!({ "mod": "caller", "key": "volume", "value": 0.9 }),
    );
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "caller", "function": "settingChanges" })
        ),
        json!([{ "changed": { "volume": 0.9 }, "volume": 0.9 }])
    );
    let wrong = rpc.error(
        "settings/set",
        json!({ "mod": "caller", "key": "volume", "value": "loud" }),
    );
    assert_eq!(wrong["code"], -32602);
    assert!(
        wrong["message"].as_str().unwrap().contains("a number"),
        "{wrong}"
    );
    let unknown = rpc.error(
        "settings/set",
        json!({ "mod": "caller", "key": "volum", "value": 1 }),
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `volume`"),
        "{unknown}"
    );
    assert_eq!(
        rpc.result("settings/get", json!({ "mod": "caller" }))["volume"],
        0.9
    );

    let disabled = rpc.result("mods/disable", json!({ "mod": "caller" }));
    assert_eq!(disabled["state"], "disabled");
    let statuses = rpc.result("mods/list", json!({}));
    assert_eq!(statuses[1]["id"], "dependent");
    assert_eq!(statuses[1]["state"], "blocked");
    assert!(
        rpc.notified("mods/state")
            .iter()
            .any(|status| status["id"] == "dependent" && status["state"] == "blocked")
    );
    assert_eq!(
        rpc.result("mods/enable", json!({ "mod": "caller" }))["state"],
        "active"
    );
    assert_eq!(
        rpc.result(
            "mods/call",
            json!({ "mod": "dependent", "function": "ping" })
        ),
        json!("pong")
    );
    let reloaded = rpc.result("mods/reload", json!({ "mod": "lua-caller" }));
    assert_eq!(
        reloaded,
        json!([{ "id": "lua-caller", "result": "reloaded" }])
    );
    assert_eq!(
        rpc.result("host/status", json!({}))["mods"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn closing_stdin_detaches_in_reverse_order_and_exits_zero() {
    let (running, mut rpc) = stdio_host();
    rpc.initialize(json!({}));
    rpc.close();
    let (status, lines) = running.finish();
    assert!(status.success(), "{status}: {lines:#?}");
    let detached: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(" detached"))
        .collect();
    assert_eq!(detached.len(), 3, "{lines:#?}");
    assert!(detached[0].contains("lua-caller"), "{detached:?}");
    assert!(detached[2].contains("[caller]"), "{detached:?}");
}

#[test]
fn shutdown_detaches_answers_and_exits() {
    let (running, mut rpc) = stdio_host();
    rpc.initialize(json!({}));
    assert_eq!(rpc.result("shutdown", json!({})), Value::Null);
    let states: Vec<&str> = rpc
        .notified("mods/state")
        .iter()
        .map(|status| status["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["detached", "detached", "detached"]);
    let (status, _) = running.finish();
    assert!(status.success());
}

/// A link planted where the token goes is replaced, not followed: the file it points at keeps
/// its content and its mode. A data dir that every user can write into is refused.
#[cfg(unix)]
#[test]
fn the_token_is_never_written_through_a_link_nor_into_a_shared_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fixture_copy("game");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let data = dir.path().join(".modhost");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    // (A copy of the fixture may bring the token of an earlier run along.)
    let _ = std::fs::remove_file(data.join("modhost.token"));
    std::os::unix::fs::symlink(&victim, data.join("modhost.token")).unwrap();
    let port = support::free_port();
    let address = format!("tcp:127.0.0.1:{port}");
    let mut host = Running::start(dir.path(), &["run", "--listen", &address]);
    host.wait_for(&format!("listening on {address}"));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let token = std::fs::symlink_metadata(data.join("modhost.token")).unwrap();
    assert!(
        token.file_type().is_file(),
        "the token is a file of its own"
    );
    assert_eq!(token.permissions().mode() & 0o777, 0o600);
    host.signal("TERM");
    assert!(host.finish().0.success());

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (status, _, stderr) = support::run_with_status(dir.path(), &["run", "--listen", &address]);
    assert_eq!(status, Some(2), "{stderr}");
    assert!(
        stderr.contains("is writable by every user (mode 777)") && stderr.contains("chmod 700"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn tcp_clients_need_the_token() {
    let dir = fixture_copy("game");
    let port = support::free_port();
    let address = format!("tcp:127.0.0.1:{port}");
    let mut host = Running::start(dir.path(), &["run", "--listen", &address]);
    host.wait_for(&format!("listening on {address}"));
    let token =
        std::fs::read_to_string(dir.path().join(".modhost/modhost.token")).expect("token written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(".modhost/modhost.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let connect = || {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        Rpc::new(stream.try_clone().unwrap(), stream)
    };
    let mut intruder = connect();
    assert_eq!(intruder.error("mods/list", json!({}))["code"], -32002);
    let refused = intruder.error("initialize", json!({ "token": "guess" }));
    assert_eq!(refused["code"], -32002);
    assert!(
        intruder.next_message().is_none(),
        "the connection is closed after a wrong token"
    );
    let mut game = connect();
    game.initialize(json!({ "token": token }));
    assert_eq!(
        game.result(
            "mods/call",
            json!({ "mod": "dependent", "function": "ping" })
        ),
        json!("pong")
    );
    // The game stops the host (the way a Windows test can: it has no signals to send).
    game.result("shutdown", json!({}));
    assert!(host.finish().0.success());
}

/// The game fixture with its host listening where the configuration says by default.
fn listening_game() -> tempfile::TempDir {
    let dir = fixture_copy("game");
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("listen = \"none\"\n", "");
    std::fs::write(&config, text).unwrap();
    dir
}

#[test]
fn the_default_socket_is_user_only_and_a_second_host_runs_without_it() {
    let dir = listening_game();
    let socket = dir.path().join(".modhost/modhost.sock");
    let mut first = Running::start(dir.path(), &["run"]);
    first.wait_for("listening on");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let mut second = Running::start(dir.path(), &["run"]);
    second.wait_for("another modhost owns");
    second.wait_for("running; press Ctrl-C to stop");
    let mut client = local_client(&socket);
    client.initialize(json!({}));
    assert_eq!(
        client.result(
            "mods/call",
            json!({ "mod": "dependent", "function": "ping" })
        ),
        json!("pong")
    );
    second.signal("TERM");
    assert!(second.finish().0.success());
    assert!(
        socket.exists(),
        "the second host leaves the first one's socket alone"
    );
    first.signal("KILL");
    let _ = first.finish();
    // A socket file left by a killed host is taken over.
    assert!(socket.exists());
    let mut third = Running::start(dir.path(), &["run"]);
    third.wait_for("listening on");
    let mut client = local_client(&socket);
    client.initialize(json!({}));
    third.signal("TERM");
    assert!(third.finish().0.success());
}

#[test]
fn exec_launches_the_game_and_exits_with_its_status() {
    let dir = listening_game();
    // The game finds where to connect and its token, and exits with a status of its own.
    let game: &[&str] = if cfg!(windows) {
        &[
            "cmd",
            "/c",
            "if defined MODHOST_CONNECT if defined MODHOST_TOKEN exit 3",
        ]
    } else {
        &[
            "sh",
            "-c",
            "test -S \"$MODHOST_CONNECT\" && test -n \"$MODHOST_TOKEN\" && exit 3",
        ]
    };
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir.path())
        .args(["run", "--exec"])
        .args(game)
        .output()
        .expect("modhost runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the game exited with status 3"), "{stderr}");
    assert!(
        stderr.contains("lua-caller detached"),
        "the pack is detached: {stderr}"
    );
}

/// A game's own tools find their host as the game does: `modhost ctl` launched by
/// `run --exec` reads `MODHOST_CONNECT` and `MODHOST_TOKEN` (here over the default socket, a
/// named pipe on Windows, and over TCP), and the host exits with its status.
#[test]
fn ctl_launched_by_exec_finds_its_host_from_the_environment() {
    let dir = listening_game();
    let tcp = format!("tcp:127.0.0.1:{}", support::free_port());
    for listen in [None, Some(tcp.as_str())] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_modhost"));
        command.current_dir(dir.path()).arg("run");
        if let Some(address) = listen {
            command.args(["--listen", address]);
        }
        let output = command
            .args(["--exec", env!("CARGO_BIN_EXE_modhost")])
            .args(["ctl", "call", "dependent", "ping"])
            .env_remove("MODHOST_CONNECT")
            .env_remove("MODHOST_TOKEN")
            .output()
            .expect("modhost runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{listen:?}: {stdout}{stderr}");
        assert_eq!(stdout.trim(), "\"pong\"", "{listen:?}: {stderr}");
    }
}

#[test]
fn the_python_client_plays_the_demo_over_stdio_and_under_exec() {
    client_plays_the_demo("python3", "examples/clients/python/game.py");
}

#[test]
fn the_node_client_plays_the_demo_over_stdio_and_under_exec() {
    client_plays_the_demo("node", "examples/clients/node/game.js");
}

/// A reference client run both ways: starting `modhost run --stdio` itself, and started by
/// `modhost run --exec`.
fn client_plays_the_demo(interpreter: &str, script: &str) {
    let output = Command::new(interpreter)
        .arg(script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MODHOST", env!("CARGO_BIN_EXE_modhost"))
        .output()
        .unwrap_or_else(|error| panic!("{interpreter} runs: {error}"));
    support::assert_plays_the_demo(&output);
    let arena = support::arena_copy();
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(arena.path())
        .args(["run", "--exec", interpreter])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(script))
        .output()
        .expect("modhost runs");
    support::assert_plays_the_demo(&output);
}

/// `host/metrics` is Prometheus text that a real parser (Python's `prometheus_client`, which
/// `.ci/run` installs) accepts, with the series of SPEC section 13 for every mod.
#[test]
fn host_metrics_are_prometheus_text_a_real_parser_accepts() {
    let (_running, mut rpc) = stdio_host();
    rpc.initialize(json!({}));
    rpc.result(
        "mods/call",
        json!({ "mod": "dependent", "function": "ping" }),
    );
    rpc.error("mods/call", json!({ "mod": "caller", "function": "fails" }));
    let text = rpc.result("host/metrics", json!({}));
    let text = text.as_str().expect("the metrics are a string");
    let samples = support::parsed_metrics(text);
    let value = |name: &str, labels: Value| -> f64 {
        samples[name]
            .as_array()
            .unwrap_or_else(|| panic!("no `{name}` in {samples}"))
            .iter()
            .find(|sample| sample[0] == labels)
            .unwrap_or_else(|| panic!("no `{name}` {labels} in {samples}"))[1]
            .as_f64()
            .unwrap()
    };
    for name in [
        "modhost_calls_total",
        "modhost_call_errors_total",
        "modhost_call_seconds_total",
        "modhost_memory_bytes",
        "modhost_timers",
        "modhost_storage_bytes",
        "modhost_reloads_total",
    ] {
        for id in ["caller", "dependent", "lua-caller"] {
            value(name, json!({ "mod": id }));
        }
    }
    assert_eq!(
        value("modhost_call_errors_total", json!({ "mod": "caller" })),
        1.0
    );
    assert!(value("modhost_calls_total", json!({ "mod": "dependent" })) >= 1.0);
    assert!(value("modhost_memory_bytes", json!({ "mod": "caller" })) > 0.0);
    assert_eq!(
        value(
            "modhost_limit_breaches_total",
            json!({ "mod": "caller", "limit": "call_timeout_ms" })
        ),
        0.0
    );
    assert_eq!(value("modhost_mods", json!({ "state": "active" })), 3.0);
}

/// Where the game's API declares events, their names and directions hold on both sides: the
/// game emits only events declared `from: game` and hears only those `from: mods`; a mod may
/// not send the game's events, and one typo away from a declared name it is warned.
#[test]
fn event_names_and_directions_are_checked_where_the_api_declares_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        game_fixture().join("game-api.json"),
        dir.path().join("game-api.json"),
    )
    .unwrap();
    support::one_mod_pack(
        dir.path(),
        "api = \"game-api.json\"\nlisten = \"none\"\n",
        "emitter",
        "main.js",
        r#"
function emitTick() { try { modhost.events.emit("tick", { frame: 1, dt: 0.1 }); return "sent"; } catch (e) { return e.message; } }
function emitTypo() { modhost.events.emit("scord", { points: 1, by: "emitter" }); return "sent"; }
function emitOwn() { modhost.events.emit("internal", 1); return "sent"; }
"#,
    );
    let (mut running, mut rpc) = Running::start_rpc(dir.path(), &["run", "--stdio"]);
    let refused = rpc.error("initialize", json!({ "subscribe": ["scord"] }));
    assert_eq!(refused["code"], -32602, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `scored`?"),
        "{refused}"
    );
    rpc.initialize(json!({ "subscribe": ["scored"] }));
    for (event, said) in [
        ("dusk", "`dusk` is not an event of the game's API"),
        ("scored", "`scored` is sent by mods, not by the game"),
    ] {
        let refused = rpc.error("events/emit", json!({ "event": event, "payload": {} }));
        assert_eq!(refused["code"], -32602, "{refused}");
        assert!(
            refused["message"].as_str().unwrap().contains(said),
            "{refused}"
        );
    }
    let refused = rpc.error("events/subscribe", json!({ "events": ["tick"] }));
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("sent by the game"),
        "{refused}"
    );
    let call = |rpc: &mut Rpc, function: &str| {
        rpc.result(
            "mods/call",
            json!({ "mod": "emitter", "function": function }),
        )
    };
    assert!(
        call(&mut rpc, "emitTick")
            .as_str()
            .unwrap()
            .contains("`tick` is sent by the game, not by mods"),
    );
    assert_eq!(call(&mut rpc, "emitOwn"), json!("sent"));
    assert_eq!(call(&mut rpc, "emitTypo"), json!("sent"));
    running
        .wait_for("emits `scord`, which the game's API does not declare: did you mean `scored`?");
    assert!(
        !running.seen.iter().any(|line| line.contains("`internal`")),
        "a mod's own event is not warned of"
    );
    rpc.close();
    assert!(running.finish().0.success());
}

/// A game whose standard input stops being messages (a broken header, a message over the
/// limit) has a broken connection, not a finished one: the host detaches every mod and exits
/// 2 saying why (it exited 0, as for a closed input).
#[test]
fn a_broken_stdio_stream_is_an_error_exit() {
    let (running, mut rpc) = stdio_host();
    rpc.send_raw(b"Content-Length: many\r\n\r\n{}");
    let (status, lines) = running.finish();
    assert_eq!(status.code(), Some(2), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("the game's standard input broke")
                && line.contains("`many` is not a length")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|line| line.contains("caller detached")),
        "{lines:#?}"
    );
}

/// A game that answers `game/call` with the wrong type hears of it (it was told nothing: the
/// error went to the mod and stderr only): a `log` warning naming the function, though it did
/// not ask for logs, and the `mods/call` that led there fails saying what the game answered.
#[test]
fn a_game_answering_the_wrong_type_is_told_so() {
    let (running, mut rpc) = stdio_host();
    rpc.answer = Box::new(|_, _, _| Ok(json!("not a number")));
    rpc.initialize(json!({ "provides": ["world.spawn"] }));
    let error = rpc.error(
        "mods/call",
        json!({ "mod": "caller", "function": "spawn", "args": ["orc"] }),
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the game answered string \"not a number\" where integer was declared"),
        "{error}"
    );
    assert_eq!(error["data"]["mod"], "caller", "{error}");
    let warned = rpc.notified("log");
    assert_eq!(warned.len(), 1, "{:#?}", rpc.notifications);
    assert_eq!(warned[0]["level"], "warn");
    assert_eq!(warned[0]["function"], "world.spawn");
    assert_eq!(warned[0]["mod"], "caller");
    assert!(
        warned[0]["message"]
            .as_str()
            .is_some_and(|why| why.contains("where integer was declared")),
        "{}",
        warned[0]
    );
    rpc.close();
    assert!(running.finish().0.success());
}

/// A scripted session is a natural first test of a game's messages: `run --stdio` reads them
/// from a file and writes its answers to a file (it refused both: epoll cannot wait on a
/// regular file), exactly as if they were piped, and answers the same on `/dev/null` output.
#[test]
fn a_scripted_session_reads_from_a_file_and_answers_into_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "listen = \"none\"\n",
        "adder",
        "main.js",
        "function add(a, b) { return a + b; }\n",
    );
    let session = dir.path().join("session.jsonl");
    support::write(
        &session,
        concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"mods/call","params":{"mod":"adder","function":"add","args":[2,3]}}"#,
            "\n",
        ),
    );
    let answers = dir.path().join("answers.jsonl");
    let run = |output: std::fs::File| {
        Command::new(env!("CARGO_BIN_EXE_modhost"))
            .current_dir(dir.path())
            .args(["run", "--stdio"])
            .stdin(std::fs::File::open(&session).expect("session"))
            .stdout(output)
            .output()
            .expect("modhost runs")
    };
    let output = run(std::fs::File::create(&answers).expect("answers file"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let answered: Vec<Value> = std::fs::read_to_string(&answers)
        .expect("answers")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .filter(|message: &Value| message.get("id").is_some())
        .collect();
    assert_eq!(answered.len(), 2, "{answered:#?}");
    assert_eq!(answered[1]["result"], json!(5), "{answered:#?}");

    let to_nowhere = run(std::fs::File::options()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null"));
    assert!(
        to_nowhere.status.success(),
        "{}",
        String::from_utf8_lossy(&to_nowhere.stderr)
    );
}

/// Values may be nested 128 levels deep wherever they cross (SPEC 6), a message's own levels
/// not counted; far deeper, a message is refused cleanly, however deep.
#[test]
fn deep_values_in_messages_are_taken_to_the_documented_depth() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "listen = \"none\"\n",
        "deep",
        "main.js",
        "function depth(v) { let d = 0; while (Array.isArray(v)) { v = v[0]; d++; } return d; }\n",
    );
    let (running, mut rpc) = Running::start_rpc(dir.path(), &["run", "--stdio"]);
    rpc.initialize(json!({}));
    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    rpc.send_raw(
        format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"mods/call\",\"params\":{{\"mod\":\"deep\",\"function\":\"depth\",\"args\":[{}]}}}}\n",
            nested(127)
        )
        .as_bytes(),
    );
    let answered = rpc.response_to(41);
    assert_eq!(answered["result"], json!(127), "{answered}");
    rpc.send_raw(format!("{}\n", nested(100_000)).as_bytes());
    let refused = rpc.next_message().expect("an answer");
    assert_eq!(refused["error"]["code"], -32700, "{refused}");
    assert_eq!(
        rpc.result("mods/list", json!({})).as_array().map(Vec::len),
        Some(1)
    );
    rpc.close();
    assert!(running.finish().0.success());
}

/// The host looks a mod's function up by a name it made once (an atom, a Lua string), never a
/// stale handle: a script that replaces its own function or an ES module whose exported `let`
/// changes is called through what the name holds now, in each language.
#[test]
fn a_function_a_mod_replaces_is_called_as_it_is_now() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mods = dir.path();
    support::write_mod(
        mods,
        "script",
        "main.js",
        "function next() { next = function () { return 'second'; }; return 'first'; }\n",
    );
    support::write_mod(
        mods,
        "module",
        "main.mjs",
        "export let next = () => { next = () => 'second'; return 'first'; };\n",
    );
    support::write_mod(
        mods,
        "lua",
        "main.lua",
        "function next() next = function() return 'second' end return 'first' end\n",
    );
    let (_running, mut rpc) = Running::start_rpc(dir.path(), &["run", "--stdio"]);
    rpc.initialize(json!({}));
    for id in ["script", "module", "lua"] {
        let call =
            |rpc: &mut Rpc| rpc.result("mods/call", json!({ "mod": id, "function": "next" }));
        assert_eq!(call(&mut rpc), json!("first"), "{id}");
        assert_eq!(call(&mut rpc), json!("second"), "{id}");
    }
}
