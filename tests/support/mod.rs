//! Driving a long-running `modhost` in tests: read its stderr as it comes, wait (with a
//! generous bound, never a bare sleep) for a line, send it signals, collect its exit.

#![allow(dead_code)] // each test file uses part of this

pub mod guests;
pub mod rpc;
#[cfg(unix)]
pub mod terminal;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long to wait for something that should happen at once, on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Running {
    child: Child,
    /// The folder it runs in, where `modhost ctl` finds it.
    dir: std::path::PathBuf,
    /// What it was told to `--listen` on, if anything.
    listen: Option<String>,
    lines: Receiver<String>,
    /// Every stderr line read so far.
    pub seen: Vec<String>,
    /// Where [`Running::wait_for`] starts looking in `seen`; see [`Running::mark`].
    from: usize,
}

impl Running {
    /// Starts `modhost ARGS` in `dir`, logging as plain text.
    pub fn start(dir: &Path, args: &[&str]) -> Running {
        Running::spawn(dir, args, Stdio::null())
    }

    /// Starts `modhost ARGS` (with `--stdio`) in `dir` and speaks the protocol over its
    /// stdin and stdout.
    pub fn start_rpc(dir: &Path, args: &[&str]) -> (Running, rpc::Rpc) {
        let mut running = Running::spawn(dir, args, Stdio::piped());
        let stdin = running.child.stdin.take().expect("piped stdin");
        let stdout = running.child.stdout.take().expect("piped stdout");
        (running, rpc::Rpc::new(stdout, stdin))
    }

    fn spawn(dir: &Path, args: &[&str], stdin: Stdio) -> Running {
        let mut command = Command::new(env!("CARGO_BIN_EXE_modhost"));
        command.args(args).stdin(stdin);
        Running::start_command(command, dir, args)
    }

    /// Starts `command` (a `modhost` with the arguments `args` already given, perhaps
    /// through another program) in `dir`, logging as plain text.
    pub fn start_command(mut command: Command, dir: &Path, args: &[&str]) -> Running {
        let mut child = command
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("modhost starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let listen = args
            .iter()
            .position(|arg| *arg == "--listen")
            .and_then(|at| args.get(at + 1))
            .map(|address| (*address).to_owned());
        Running {
            child,
            dir: dir.to_path_buf(),
            listen,
            lines,
            seen: Vec::new(),
            from: 0,
        }
    }

    /// From now on, [`Running::wait_for`] only looks at lines printed after this point.
    pub fn mark(&mut self) {
        self.seen.extend(self.lines.try_iter());
        self.from = self.seen.len();
    }

    /// Waits for a stderr line containing `text`, printed since the last [`Running::mark`]
    /// (in any order relative to other awaited lines), and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        if let Some(line) = self.seen[self.from..]
            .iter()
            .find(|line| line.contains(text))
        {
            return line.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no line with `{text}` within {PATIENCE:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "modhost ended before printing `{text}`; stderr:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends it at once, as `kill -KILL` or the task manager does.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
    }

    /// Sends a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Asks it to stop as a user would: SIGTERM on Unix; on Windows, which has no signals to
    /// send, `modhost ctl shutdown` through the named pipe (the one it was told to
    /// `--listen` on, or the configuration's).
    pub fn stop(&self) {
        if cfg!(unix) {
            self.signal("TERM");
        } else {
            let connect = match &self.listen {
                Some(address) => vec!["--connect", address.as_str()],
                None => Vec::new(),
            };
            let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
                .current_dir(&self.dir)
                .arg("ctl")
                .args(connect)
                .arg("shutdown")
                .output()
                .expect("modhost ctl runs");
            assert!(
                output.status.success(),
                "ctl shutdown: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    /// Waits for the process to end and returns its status and the rest of its stderr.
    pub fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("modhost did not exit; stderr:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The reader thread ends at the end of stderr; take every line it still has.
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of `tests/fixtures/<name>` in a temporary folder, for tests that change files.
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let copy = tempfile::tempdir().expect("temp dir");
    copy_tree(&source, copy.path());
    copy
}

/// A copy of `examples/<name>` without build outputs (`.build`, `.modhost`, `*.wasm`).
pub fn example_copy(name: &str) -> tempfile::TempDir {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let copy = tempfile::tempdir().expect("temp dir");
    copy_sources(&source, copy.path());
    copy
}

/// A copy of the example pack at the repository's root (its `mods` and `config.toml`).
pub fn root_pack_copy() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = tempfile::tempdir().expect("temp dir");
    copy_sources(&root.join("mods"), &copy.path().join("mods"));
    std::fs::copy(root.join("config.toml"), copy.path().join("config.toml")).expect("copy config");
    copy
}

/// Copies the folder `from` to `to`, leaving out what builds and runs produce (`.build`,
/// `.modhost`, `target`, `*.wasm`).
pub fn copy_sources(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read example") {
        let entry = entry.expect("example entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let built =
            [".build", ".modhost", "target"].contains(&name.as_str()) || name.ends_with(".wasm");
        if built {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().expect("file type").is_dir() {
            copy_sources(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy example file");
        }
    }
}

/// A copy of the demo pack `examples/arena` (its sources only), so that parallel tests do not
/// share its data dir and socket.
pub fn arena_copy() -> tempfile::TempDir {
    let arena = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/arena");
    let copy = tempfile::tempdir().expect("temp dir");
    for file in [
        "config.toml",
        "game-api.json",
        "mods/arena/manifest.json",
        "mods/arena/main.js",
        "mods/tourist/mod.toml",
        "mods/tourist/init.lua",
    ] {
        let target = copy.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(arena.join(file), target).unwrap();
    }
    copy
}

/// What a reference client prints when it has played the demo of `examples/arena` to the end:
/// the mods' logs, events and refusals it heard, the game functions the mods called.
pub fn assert_plays_the_demo(output: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "mods: arena active, tourist active",
        "log [tourist] info: hello, Ada!",
        "log [tourist] warn: game.world.spawn needs the permission `world.write`",
        "event scored from arena:",
        "spawned: orc for arena, orc for arena",
        "arena counted 2",
        "error -32001: `arena` has no function `nope`",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}\n{stderr}"
        );
    }
}

/// A TCP port on the loopback interface that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Prometheus text parsed by a real parser (Python's `prometheus_client`): each sample name
/// with its `[labels, value]` pairs (`scripts/test.sh` installs the parser); a text the parser
/// refuses fails the test.
pub fn parsed_metrics(text: &str) -> serde_json::Value {
    use std::io::Write;
    let parser = "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families\nout = {}\nfor family in text_string_to_metric_families(sys.stdin.read()):\n    for sample in family.samples:\n        out.setdefault(sample.name, []).append([sample.labels, sample.value])\nprint(json.dumps(out))\n";
    let mut python = Command::new("python3")
        .args(["-c", parser])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = python.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'prometheus_client'"),
        "prometheus_client is not installed: run the tests with `scripts/test.sh`, which installs it"
    );
    assert!(
        output.status.success(),
        "the parser refused the metrics: {stderr}\n{text}"
    );
    serde_json::from_slice(&output.stdout).expect("the parser's JSON")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            // Keep links as links: the sandbox tests depend on where they point.
            let link = std::fs::read_link(entry.path()).expect("read link");
            #[cfg(unix)]
            std::os::unix::fs::symlink(link, &target).expect("copy link");
            #[cfg(windows)]
            {
                let linked_dir = entry.path().metadata().is_ok_and(|meta| meta.is_dir());
                let made = if linked_dir {
                    std::os::windows::fs::symlink_dir(link, &target)
                } else {
                    std::os::windows::fs::symlink_file(link, &target)
                };
                made.expect("copy link");
            }
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

impl Running {
    /// How many lines seen so far contain `text`.
    pub fn count(&self, text: &str) -> usize {
        self.seen.iter().filter(|line| line.contains(text)).count()
    }
}

/// Runs `modhost ARGS` in `dir` to completion, asserts that it succeeded, and returns its
/// trimmed stdout.
pub fn modhost(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("modhost runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The line of `log` (a host's stderr) that reports mod `id` failed.
pub fn failure_of<'a>(log: &'a str, id: &str) -> &'a str {
    let marker = format!("[{id}] failed:");
    log.lines()
        .find(|line| line.contains(&marker))
        .unwrap_or_else(|| panic!("no failure reported for `{id}`:\n{log}"))
}

/// Writes the mod `id` into the pack at `root`: a manifest naming `entry`, and `source` there.
pub fn write_mod(root: &Path, id: &str, entry: &str, source: &str) {
    write(
        &root.join("mods").join(id).join("manifest.json"),
        &format!(r#"{{ "name": "{id}", "version": "1.0.0", "entry_point": "{entry}" }}"#),
    );
    write(&root.join("mods").join(id).join(entry), source);
}

/// A pack at `root` with `config` as its `config.toml` and the one mod `id`.
pub fn one_mod_pack(root: &Path, config: &str, id: &str, entry: &str, source: &str) {
    write(&root.join("config.toml"), config);
    write_mod(root, id, entry, source);
}

/// Writes a file, making its folder.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
    std::fs::write(path, text).expect("write file");
}

/// Runs `modhost ARGS` in `dir` to completion, without color: its exit status, stdout and stderr.
pub fn run_with_status(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("modhost runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// [`run_with_status`], with whether it succeeded.
pub fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let (status, stdout, stderr) = run_with_status(dir, args);
    (status == Some(0), stdout, stderr)
}
