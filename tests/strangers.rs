//! Strangers on the protocol's TCP port, who do not have the token: they cannot grow the host
//! or hold it. A message before `initialize` may be at most 1 MiB (the connection closes at
//! the first byte past it, before the rest is read), a client that has not initialized within
//! 5 s is dropped, at most 64 clients are connected at once, and a frame's end is searched for
//! in new bytes only. Meanwhile a game with the token is served as before.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

/// The host's resident memory in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Whether the host closed `stream` within the tests' patience.
fn closed_by_host(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(support::PATIENCE))
        .expect("timeout");
    let mut byte = [0u8; 1024];
    loop {
        match stream.read(&mut byte) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn strangers_without_the_token_cannot_grow_or_hold_the_host() {
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "",
        "steady",
        "main.js",
        "function ping() { return 'pong'; }\n",
    );
    let port = support::free_port();
    let address = format!("tcp:127.0.0.1:{port}");
    let mut running = support::Running::start(dir.path(), &["run", "--listen", &address]);
    running.wait_for("running");
    let before = resident_kib(running.pid());

    // Ten strangers, each sending 32 MiB without a newline.
    let floods: Vec<_> = (0..10)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0usize;
                while sent < 32 << 20 {
                    match stream.write(&chunk) {
                        Ok(written) => sent += written,
                        Err(_) => return (sent, true),
                    }
                }
                (sent, closed_by_host(&mut stream))
            })
        })
        .collect();
    for flood in floods {
        let (sent, closed) = flood.join().expect("flood");
        assert!(closed, "a stranger sent {sent} bytes and was not cut off");
    }
    let grown = resident_kib(running.pid()).saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "the host grew by {grown} KiB for strangers' bytes"
    );

    // A stranger who says nothing is dropped once its time to initialize is over.
    let mut silent = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let connected = Instant::now();
    assert!(closed_by_host(&mut silent), "a silent stranger was kept");
    assert!(connected.elapsed() >= Duration::from_secs(4));
    running.wait_for("did not send `initialize` within 5 s");

    // No more than 64 at once: the 65th is closed as it connects.
    let crowd: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    let mut one_more = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // The crowd may still be being accepted: connect until one is turned away.
    let mut turned_away = false;
    for _ in 0..3 {
        if closed_by_host(&mut one_more) {
            turned_away = true;
            break;
        }
        one_more = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    }
    assert!(turned_away, "a 65th client was accepted");
    running.wait_for("refused a connection: 64 clients are connected");
    drop(crowd);

    // The game with the token is served (once the host has seen the crowd leave).
    let token = std::fs::read_to_string(dir.path().join(".modhost/modhost.token")).expect("token");
    let initialize = format!(
        "{}\n",
        json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "token": token.trim() } })
    );
    let deadline = Instant::now() + support::PATIENCE;
    let stream = loop {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.write_all(initialize.as_bytes()).expect("send");
        stream
            .set_read_timeout(Some(support::PATIENCE))
            .expect("timeout");
        let mut first = [0u8; 1];
        if stream.read(&mut first).is_ok_and(|read| read == 1) {
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            while stream.read(&mut byte).is_ok_and(|read| read == 1) && byte[0] != b'\n' {
                line.push(byte[0]);
            }
            break stream;
        }
        assert!(Instant::now() < deadline, "the game was never served");
    };
    let mut game = support::rpc::Rpc::new(stream.try_clone().expect("clone"), stream);
    assert_eq!(
        game.result("mods/call", json!({ "mod": "steady", "function": "ping" })),
        json!("pong")
    );
    running.signal("TERM");
    let (status, _) = running.finish();
    assert_eq!(status.code(), Some(0));
}
