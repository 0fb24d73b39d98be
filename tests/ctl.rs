//! `modhost ctl` against a real `modhost run` (SPEC sections 12 and 13): two processes over the
//! real socket (and TCP with and without the token), live settings by `ctl set` and by
//! `config.toml`, logs, metrics over the protocol and over HTTP, profiling.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};
use support::{Running, fixture_copy};

fn ctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir)
        .arg("ctl")
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("MODHOST_TOKEN")
        .output()
        .expect("modhost ctl runs")
}

/// A `ctl` command that must succeed; its stdout.
fn ctl_ok(dir: &Path, args: &[&str]) -> String {
    let output = ctl(dir, args);
    assert!(
        output.status.success(),
        "ctl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A `ctl` command that must fail with `status`; its stderr.
fn ctl_fails(dir: &Path, args: &[&str], status: i32) -> String {
    let output = ctl(dir, args);
    assert_eq!(
        output.status.code(),
        Some(status),
        "ctl {args:?}: {output:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

fn started(dir: &Path, args: &[&str]) -> Running {
    let mut host = Running::start(dir, args);
    host.wait_for("listening on");
    host.wait_for("press Ctrl-C to stop");
    host
}

#[test]
fn ctl_inspects_calls_reconfigures_disables_and_stops_a_running_host() {
    let dir = fixture_copy("ctl");
    let mut host = started(dir.path(), &["run"]);
    let at = dir.path();

    // State carries over between calls: it is the running pack.
    assert_eq!(ctl_ok(at, &["call", "counter", "bump", "2"]), "2");
    assert_eq!(ctl_ok(at, &["call", "counter", "bump", "2"]), "4");
    assert_eq!(
        json(&ctl_ok(at, &["emit", "ping", r#"{"x":1}"#])),
        json!({ "cancelled": false, "payload": { "x": 1 } })
    );
    let missing = ctl_fails(at, &["call", "countr", "bump"], 1);
    assert!(missing.contains("did you mean `counter`"), "{missing}");

    let status = json(&ctl_ok(at, &["status", "--format", "json"]));
    let counter = &status["mods"][0];
    assert_eq!(
        (counter["id"].as_str(), counter["state"].as_str()),
        (Some("counter"), Some("active"))
    );
    assert!(counter["calls"].as_u64().unwrap() >= 2, "{counter}");
    assert!(counter["memory_bytes"].as_u64().unwrap() > 0, "{counter}");
    assert!(counter["load_seconds"].as_f64().unwrap() > 0.0, "{counter}");
    let table = ctl_ok(at, &["status", "--format", "table"]);
    assert!(table.starts_with("mod "), "{table}");
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("counter ") && line.contains("active")),
        "{table}"
    );

    // Settings keep their types; the mod hears of a change.
    host.mark();
    assert_eq!(
        json(&ctl_ok(at, &["set", "counter", "step", "3"])),
        json!({ "step": 3, "label": "x" })
    );
    host.wait_for(r#"settings changed: {"step":3}, step now 3"#);
    assert_eq!(ctl_ok(at, &["call", "counter", "bump"]), "7");
    let unknown = ctl_fails(at, &["set", "counter", "stp", "3"], 1);
    assert!(unknown.contains("did you mean `step`"), "{unknown}");
    let wrong = ctl_fails(at, &["set", "counter", "step", "three"], 1);
    assert!(
        wrong.contains("is a number") && wrong.contains("a string"),
        "{wrong}"
    );
    // A huge value, or one that is not even JSON, is still checked against the type.
    let huge = format!("[{}1]", "1,".repeat(50_000));
    let refused = ctl_fails(at, &["set", "counter", "step", &huge], 1);
    assert!(
        refused.contains("is a number") && refused.contains("an array"),
        "{}",
        &refused[..200.min(refused.len())]
    );
    let malformed = ctl_fails(at, &["set", "counter", "step", r#"{"a":"#], 1);
    assert!(malformed.contains("a string"), "{malformed}");
    assert_eq!(
        json(&ctl_ok(at, &["get", "counter"])),
        json!({ "step": 3, "label": "x" })
    );
    // Without onSettingsChanged, the mod restarts with its state.
    ctl_ok(at, &["set", "plain", "volume", "7"]);
    host.wait_for("plain restarted with volume 7, start 2");

    // Disable blocks what requires it; enable brings both back.
    assert_eq!(
        json(&ctl_ok(at, &["disable", "counter"]))["state"],
        "disabled"
    );
    let list = json(&ctl_ok(at, &["list"]));
    assert_eq!(list[1]["id"], "needs-counter");
    assert_eq!(list[1]["state"], "blocked");
    assert_eq!(json(&ctl_ok(at, &["enable", "counter"]))["state"], "active");
    assert_eq!(ctl_ok(at, &["call", "needs-counter", "ping"]), "\"pong\"");
    let reloaded = json(&ctl_ok(at, &["reload", "needs-counter"]));
    assert_eq!(
        reloaded,
        json!([{ "id": "needs-counter", "result": "reloaded" }])
    );

    // Logs and metrics.
    ctl_ok(at, &["call", "counter", "shout", "hey"]);
    let logs = ctl_ok(at, &["logs", "--format", "table"]);
    assert!(
        logs.lines()
            .any(|line| line == "[counter] info: shout: hey"),
        "{logs}"
    );
    let metrics = ctl_ok(at, &["metrics"]);
    assert!(
        metrics.contains("modhost_calls_total{mod=\"counter\"}"),
        "{metrics}"
    );

    assert_eq!(ctl_ok(at, &["shutdown"]), "null");
    let (status, _) = host.finish();
    assert!(status.success());
    let gone = ctl_fails(at, &["status"], 2);
    assert!(gone.contains("no modhost answers at"), "{gone}");
}

#[test]
fn logs_follow_streams_what_mods_log() {
    let dir = fixture_copy("ctl");
    let host = started(dir.path(), &["run"]);
    let mut follower = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir.path())
        .args(["ctl", "logs", "--follow", "--format", "table"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ctl runs");
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    // Following has begun once the recent lines are printed; a new line then streams in.
    std::thread::sleep(std::time::Duration::from_millis(300));
    ctl_ok(dir.path(), &["call", "counter", "shout", "streamed"]);
    let seen = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.contains("shout: streamed"));
    assert_eq!(seen.as_deref(), Some("[counter] info: shout: streamed"));
    ctl_ok(dir.path(), &["shutdown"]);
    assert!(
        follower.wait().unwrap().success(),
        "the follower ends with the host"
    );
    drop(host);
}

/// Unix only: a killed host leaves a socket file; a named pipe goes with its process.
#[cfg(unix)]
#[test]
fn a_stale_socket_says_no_host_answers_and_the_next_run_takes_it_over() {
    let dir = fixture_copy("ctl");
    let socket = dir.path().join(".modhost/modhost.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    // What a killed host leaves: a socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let stderr = ctl_fails(dir.path(), &["status"], 2);
    assert!(
        stderr.contains(&format!("no modhost answers at `{}`", socket.display())),
        "{stderr}"
    );
    let host = started(dir.path(), &["run"]);
    assert_eq!(
        ctl_ok(dir.path(), &["call", "needs-counter", "ping"]),
        "\"pong\""
    );
    drop(host);
}

#[test]
fn tcp_hosts_need_the_token_which_ctl_finds_in_the_data_dir() {
    let dir = fixture_copy("ctl");
    let port = support::free_port();
    let address = format!("tcp:127.0.0.1:{port}");
    let host = started(dir.path(), &["run", "--listen", &address]);
    // From the host's folder: the token is read from its data dir.
    assert_eq!(
        ctl_ok(
            dir.path(),
            &["--connect", &address, "call", "needs-counter", "ping"]
        ),
        "\"pong\""
    );
    // From anywhere else, without the token: refused.
    let elsewhere = tempfile::tempdir().unwrap();
    let refused = ctl_fails(elsewhere.path(), &["--connect", &address, "status"], 2);
    assert!(refused.contains("wrong or missing token"), "{refused}");
    let wrong = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir.path())
        .args(["ctl", "--connect", &address, "status"])
        .env("MODHOST_TOKEN", "guess")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    drop(host);
}

#[test]
fn a_config_toml_change_under_watch_goes_through_on_settings_changed() {
    let dir = fixture_copy("ctl");
    let mut host = started(dir.path(), &["run", "--watch"]);
    host.mark();
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[mods.counter]\nsettings = {{ step = 5 }}\n\n[mods.plain]\nsettings = {{ volume = 9 }}\n"),
    )
    .unwrap();
    host.wait_for(r#"settings changed: {"step":5}, step now 5"#);
    host.wait_for("plain restarted with volume 9, start 2");
    host.wait_for("applied new settings to counter, plain");
    assert_eq!(host.count("counter] failed"), 0);
    // A value of the wrong type never reaches the mod.
    host.mark();
    std::fs::write(
        &config,
        format!("{text}\n[mods.counter]\nsettings = {{ step = \"five\" }}\n"),
    )
    .unwrap();
    host.wait_for("`step` of `counter` is a number");
    assert_eq!(ctl_ok(dir.path(), &["call", "counter", "bump"]), "5");
    drop(host);
}

#[test]
fn metrics_over_http_are_prometheus_text_and_profiles_name_slow_calls() {
    let dir = fixture_copy("ctl");
    let port = support::free_port();
    let address = format!("127.0.0.1:{port}");
    let mut host = Running::start(dir.path(), &["run", "--profile", "--metrics", &address]);
    host.wait_for("serving metrics at");
    host.wait_for("press Ctrl-C to stop");
    ctl_ok(dir.path(), &["call", "counter", "slow"]);
    host.wait_for("[counter] slow: `slow` took");

    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: modhost\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let samples = support::parsed_metrics(body);
    for series in [
        "modhost_calls_total",
        "modhost_call_errors_total",
        "modhost_limit_breaches_total",
        "modhost_call_seconds_total",
        "modhost_memory_bytes",
        "modhost_timers",
        "modhost_storage_bytes",
        "modhost_reloads_total",
        "modhost_mods",
    ] {
        assert!(samples.get(series).is_some(), "{series} missing: {samples}");
    }

    ctl_ok(dir.path(), &["shutdown"]);
    let (status, lines) = host.finish();
    assert!(status.success());
    let profile = lines.join("\n");
    assert!(
        profile.contains("profile (slowest mods first):"),
        "{profile}"
    );
    let counter = lines
        .iter()
        .find(|line| line.starts_with("counter "))
        .expect("a row for counter");
    assert!(counter.contains("`slow`"), "{counter}");
}

/// The figures name every mod: served to other machines only when asked for by name.
#[test]
fn metrics_stay_on_loopback_unless_made_public() {
    let dir = fixture_copy("ctl");
    let port = support::free_port();
    let (status, stdout, stderr) = support::run_with_status(
        dir.path(),
        &["run", "--once", "--metrics", &format!("0.0.0.0:{port}")],
    );
    assert_eq!(status, Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("would serve the host's figures to other machines")
            && stderr.contains("--metrics-public"),
        "{stderr}"
    );
}

/// The local transport (a Unix socket, a named pipe on Windows) belongs to the first host: a
/// second one, started by a game over `--stdio`, says so and serves its game without it; `ctl`
/// still reaches the first, and `ctl shutdown` stops it. The same on every platform.
#[test]
fn a_second_host_runs_without_the_local_transport_and_ctl_reaches_the_first() {
    let dir = fixture_copy("ctl");
    let first = started(dir.path(), &["run"]);
    let (mut second, mut game) = Running::start_rpc(dir.path(), &["run", "--stdio"]);
    second.wait_for("another modhost owns");
    game.initialize(json!({}));
    assert_eq!(
        game.result(
            "mods/call",
            json!({ "mod": "needs-counter", "function": "ping" })
        ),
        json!("pong")
    );
    game.close();
    assert!(second.finish().0.success());
    assert_eq!(
        ctl_ok(dir.path(), &["call", "needs-counter", "ping"]),
        "\"pong\""
    );
    ctl_ok(dir.path(), &["shutdown"]);
    let (status, _) = first.finish();
    assert!(status.success());
}
