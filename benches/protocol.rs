//! Protocol benchmarks, each against a floor measured in interleaved rounds in the same run:
//!
//! - a `mods/call` round trip over `run --stdio`, against a raw JSON-RPC echo (a process that
//!   parses each line and answers it) over the same kind of pipe (target: at most 1.5x);
//! - a mod's `game/call` answered by a client over the local socket, against the same raw echo
//!   over a local socket (target: at most 1.5x);
//! - `events/emit` of a `tick` to 100 subscribed mods (half JavaScript, half Lua), per handler,
//!   against the in-process `Host::emit` of the same event to the same mods (target: 1.3x).
//!
//! Run with `cargo bench --bench protocol` or `scripts/bench.sh`. The echo floors are this
//! same program, started again with `MODHOST_BENCH_ECHO` set.
//!
//! It runs on Linux and on Windows (cross-built, under Wine here): on Windows the local
//! transport is a named pipe and every stream is moved by threads, so the same figures say
//! what that design costs.
//!
//! On Linux every process of the benchmark runs on one CPU. On this kind of virtual machine, whether a
//! woken process runs on the waker's CPU or is sent to the other one (an inter-processor
//! interrupt) decides a round trip's time more than anything either side does: the same echo
//! measured 5 µs or 45 µs from one run to the next. Pinned, both sides pay the same context
//! switches and the ratio compares the work.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modhost::{Config, Host, Pack};
use serde_json::{Value, json};
use support::{interleaved, write_mod};

const ROUNDS: usize = 9;
const CALLS: u32 = 2_000;

/// The floor's other end: answers each JSON-RPC request line with its params.
fn echo(reader: impl BufRead, mut writer: impl Write) {
    for line in reader.lines().map_while(Result::ok) {
        let request: Value = serde_json::from_str(&line).expect("JSON");
        let answer = json!({ "jsonrpc": "2.0", "id": request["id"], "result": request["params"] });
        writer.write_all(&line_of(&answer)).expect("write");
        writer.flush().expect("flush");
    }
}

/// A message as one newline-terminated write, as modhost writes it.
fn line_of(message: &Value) -> Vec<u8> {
    let mut bytes = message.to_string().into_bytes();
    bytes.push(b'\n');
    bytes
}

/// One end of a newline-delimited JSON-RPC conversation.
struct Peer {
    reader: Box<dyn BufRead>,
    writer: Box<dyn Write>,
    next: u64,
}

impl Peer {
    fn send(&mut self, message: &Value) {
        self.writer.write_all(&line_of(message)).expect("write");
        self.writer.flush().expect("flush");
    }

    fn receive(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"))
    }

    /// Sends a request and waits for its answer, answering `game/call`s meanwhile.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["method"] == "game/call" {
                self.send(&json!({ "jsonrpc": "2.0", "id": message["id"], "result": 1 }));
            } else if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// The mean time of `count` requests.
    fn time(&mut self, count: u32, method: &str, params: &Value) -> Duration {
        let start = Instant::now();
        for _ in 0..count {
            self.request(method, params.clone());
        }
        start.elapsed() / count
    }
}

fn piped(child: &mut Child) -> Peer {
    Peer {
        reader: Box::new(BufReader::new(child.stdout.take().expect("stdout"))),
        writer: Box::new(child.stdin.take().expect("stdin")),
        next: 0,
    }
}

/// A client of the local transport at `address` (a Unix socket, or a named pipe), once it
/// answers.
fn local_peer(address: &str) -> Peer {
    let mut waited = 0;
    let (reader, writer) = loop {
        match modhost::internal::protocol::transport::connect(address) {
            Ok(streams) => break streams,
            Err(_) if waited < 500 => {
                waited += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => panic!("cannot connect to {address}: {error}"),
        }
    };
    Peer {
        reader: Box::new(BufReader::new(reader)),
        writer,
        next: 0,
    }
}

/// The floor's other end over the local transport: a Unix socket at `address`.
#[cfg(unix)]
fn echo_local(address: &str) {
    let listener = std::os::unix::net::UnixListener::bind(address).expect("bind");
    let (stream, _) = listener.accept().expect("accept");
    echo(BufReader::new(stream.try_clone().expect("clone")), stream);
}

/// The floor's other end over the local transport: the named pipe `address`.
#[cfg(windows)]
fn echo_local(address: &str) {
    use interprocess::local_socket::traits::Listener as _;
    use interprocess::local_socket::{GenericNamespaced, ListenerOptions, ToNsName as _};
    let name = address
        .trim_start_matches(r"\\.\pipe\")
        .to_ns_name::<GenericNamespaced>()
        .expect("a pipe name");
    let listener = ListenerOptions::new()
        .name(name)
        .create_sync()
        .expect("listen");
    let stream = listener.accept().expect("accept");
    echo(BufReader::new(&stream), &stream);
}

/// Where the echo floor listens: a socket in `folder`, or a named pipe of this run.
fn echo_address(folder: &Path) -> String {
    if cfg!(windows) {
        format!(r"\\.\pipe\modhost-bench-echo-{}", std::process::id())
    } else {
        folder.join("echo.sock").display().to_string()
    }
}

fn spawn(command: &mut Command) -> Child {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

fn echo_process(mode: &str) -> Child {
    spawn(
        Command::new(std::env::current_exe().expect("this program"))
            .env("MODHOST_BENCH_ECHO", mode),
    )
}

/// Runs this process, and the processes it starts, on CPU 0 only.
#[cfg(target_os = "linux")]
fn pin_to_one_cpu() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("could not pin to one CPU; figures will vary with the scheduler");
        }
    }
}

/// Pinning is Linux's; elsewhere the scheduler decides.
#[cfg(not(target_os = "linux"))]
fn pin_to_one_cpu() {}

const API: &str = r#"{ "functions": { "world.spawn": { "params": [{ "name": "kind", "type": "string" }], "returns": "integer" } },
  "events": { "tick": { "from": "game", "payload": { "frame": "integer" } } } }"#;

fn main() {
    match std::env::var("MODHOST_BENCH_ECHO").ok().as_deref() {
        Some("stdio") => return echo(std::io::stdin().lock(), std::io::stdout().lock()),
        Some(socket) if socket.starts_with("socket:") => {
            return echo_local(&socket["socket:".len()..]);
        }
        _ => {}
    }
    pin_to_one_cpu();
    let modhost = env!("CARGO_BIN_EXE_modhost");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("game-api.json"), API).expect("api");
    std::fs::write(
        root.join("config.toml"),
        "api = \"game-api.json\"\nlisten = \"none\"\n",
    )
    .expect("config");
    let mods = root.join("mods");
    write_mod(
        &mods,
        "adder",
        "main.js",
        "function add(a, b) { return a + b; }\n",
        "",
    );
    write_mod(
        &mods,
        "spawner",
        "main.js",
        "function spawnMany(n) { let sum = 0; for (let i = 0; i < n; i++) sum += game.world.spawn('orc'); return sum; }\n",
        "",
    );

    println!(
        "protocol benchmarks: median of {ROUNDS} interleaved rounds, ratio (lowest–highest round)"
    );
    // 1. mods/call over --stdio against a raw echo over a pipe.
    let mut host = spawn(
        Command::new(modhost)
            .current_dir(root)
            .args(["-q", "run", "--stdio"]),
    );
    let mut game = piped(&mut host);
    game.request("initialize", json!({ "provides": ["world.spawn"] }));
    let mut echo_child = echo_process("stdio");
    let mut floor = piped(&mut echo_child);
    let call = json!({ "mod": "adder", "function": "add", "args": [1, 2] });
    assert_eq!(game.request("mods/call", call.clone())["result"], 3);
    interleaved(
        ROUNDS,
        || game.time(CALLS, "mods/call", &call),
        || floor.time(CALLS, "mods/call", &call),
    )
    .print(
        "mods/call round trip over --stdio, against a JSON echo",
        1.5,
    );

    // 2. game/call answered over the local socket against the same echo over a socket.
    let sockets = tempfile::tempdir().expect("temp dir");
    let host_socket = sockets.path().join("host.sock");
    let echo_socket = echo_address(sockets.path());
    let mut listening = spawn(Command::new(modhost).current_dir(root).args([
        "-q",
        "run",
        "--listen",
        host_socket.to_str().expect("path"),
    ]));
    let mut socket_game = local_peer(host_socket.to_str().expect("path"));
    socket_game.request("initialize", json!({ "provides": ["world.spawn"] }));
    let mut socket_echo_child = echo_process(&format!("socket:{echo_socket}"));
    let mut socket_floor = local_peer(&echo_socket);
    let spawn_many = json!({ "mod": "spawner", "function": "spawnMany", "args": [CALLS] });
    assert_eq!(
        socket_game.request("mods/call", spawn_many.clone())["result"],
        CALLS
    );
    let one = json!({ "function": "world.spawn", "args": ["orc"], "mod": "spawner" });
    interleaved(
        ROUNDS,
        || socket_game.time(1, "mods/call", &spawn_many) / CALLS,
        || socket_floor.time(CALLS, "game/call", &one),
    )
    .print(
        "game/call answered over the local socket, against a JSON echo",
        1.5,
    );

    // 3. events/emit to 100 handlers over --stdio against Host::emit in process.
    let crowd = root.join("crowd");
    for index in 0..100 {
        let (entry, source) = if index % 2 == 0 {
            (
                "main.js",
                "let seen = 0;\nmodhost.events.on('tick', (tick) => { seen += tick.frame; });\n",
            )
        } else {
            (
                "main.lua",
                "local seen = 0\nmodhost.events.on('tick', function(tick) seen = seen + tick.frame end)\n",
            )
        };
        write_mod(&crowd, &format!("listener-{index:03}"), entry, source, "");
    }
    let mut crowd_host = spawn(
        Command::new(modhost)
            .current_dir(root)
            .args(["-q", "--mods", "crowd", "run", "--stdio"]),
    );
    let mut crowd_game = piped(&mut crowd_host);
    crowd_game.request("initialize", json!({}));
    let config = Config::new(&crowd)
        .with_api_file(&root.join("game-api.json"))
        .expect("api");
    let in_process = Host::new(Pack::load(&config).expect("pack"), config);
    in_process.start();
    let tick = json!({ "event": "tick", "payload": { "frame": 1 } });
    const EMITS: u32 = 200;
    interleaved(
        ROUNDS,
        || crowd_game.time(EMITS, "events/emit", &tick) / 100,
        || {
            let start = Instant::now();
            for _ in 0..EMITS {
                in_process
                    .emit("tick", json!({ "frame": 1 }))
                    .expect("emit");
            }
            start.elapsed() / EMITS / 100
        },
    )
    .print(
        "events/emit to 100 handlers over --stdio, per handler, against Host::emit",
        1.3,
    );

    for child in [
        &mut host,
        &mut echo_child,
        &mut listening,
        &mut socket_echo_child,
        &mut crowd_host,
    ] {
        let _ = child.kill();
        let _ = child.wait();
    }
}
