//! Every example in `modhost --help` and each command's `--help` runs, as written, on a copy
//! of the example pack (`mods/` of this repository, with the demo's `game-api.json` beside it),
//! so no example shows users a command that fails. Long-running examples (`run`, `--watch`,
//! `--follow`) must still be running after a moment; `ctl` examples talk to a host started for
//! them; a pipeline into a tool this machine lacks (`jq`, `dot`) runs its `modhost` part. And
//! every option of every command says what it does.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn modhost_help(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .args(args)
        .arg("--help")
        .output()
        .expect("modhost runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The example lines of a help text (`  modhost …`, up to two spaces before a comment).
fn examples(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Examples:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .map(|line| {
            line.trim()
                .split("   ")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .filter(|line| line.starts_with("modhost"))
        .collect()
}

fn subcommands() -> Vec<String> {
    modhost_help(&[])
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

struct Place {
    _dir: tempfile::TempDir,
    root: PathBuf,
    path: String,
    home: PathBuf,
}

fn place() -> Place {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pack");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    support::copy_sources(&repo.join("mods"), &root.join("mods"));
    std::fs::copy(
        repo.join("examples/arena/game-api.json"),
        root.join("game-api.json"),
    )
    .unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_modhost"), bin.join("modhost")).unwrap();
    let launcher = root.join("launch-game.sh");
    std::fs::write(
        &launcher,
        "#!/bin/sh\n# A stand-in game: runs the pack once.\nexec modhost run --once\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        root.join("session.jsonl"),
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"mods/list\",\"params\":{}}\n",
    )
    .unwrap();
    let home = dir.path().join("home");
    for folder in [
        ".local/share/bash-completion/completions",
        ".zfunc",
        ".config/fish/completions",
    ] {
        std::fs::create_dir_all(home.join(folder)).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Place {
        _dir: dir,
        root,
        path,
        home,
    }
}

fn shell(place: &Place, line: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .args(["-o", "pipefail", "-c", line])
        .current_dir(&place.root)
        .env("PATH", &place.path)
        .env("HOME", &place.home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// A host for the `ctl` examples: on the default socket, or on the TCP address one names.
fn host(place: &Place, listen: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modhost"));
    command
        .current_dir(&place.root)
        .args(["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(address) = listen {
        command.args(["--listen", address]);
    }
    let child = command.spawn().unwrap();
    let socket = place.root.join(".modhost/modhost.sock");
    let token = place.root.join(".modhost/modhost.token");
    for _ in 0..200 {
        if socket.exists() || (listen.is_some() && token.exists()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    std::thread::sleep(Duration::from_millis(200));
    child
}

#[test]
fn every_help_example_runs_on_the_example_pack() {
    let mut all: Vec<String> = examples(&modhost_help(&[]));
    for name in subcommands() {
        all.extend(examples(&modhost_help(&[&name])));
    }
    assert!(all.len() > 30, "{all:?}");
    let mut ran = 0;
    for example in &all {
        let place = place();
        let line = example.clone();
        for tool in ["jq", "dot"] {
            assert!(
                !line.contains(&format!("| {tool}")) || has(tool),
                "`{example}` pipes into `{tool}`, which is not installed: run the tests with `scripts/test.sh`"
            );
        }
        let ends_itself = ["--once", "--stdio", "--exec"]
            .iter()
            .any(|flag| line.contains(flag));
        let long_running = (line.starts_with("modhost run") && !ends_itself)
            || line.contains("--watch")
            || line.contains("--follow");
        let mut hosts = Vec::new();
        if line.contains("recording.jsonl") && !line.contains("--record ") {
            let recorded = shell(&place, "modhost run --once --record recording.jsonl")
                .output()
                .unwrap();
            assert!(recorded.status.success(), "{recorded:?}");
        }
        if line.starts_with("modhost ctl") {
            let tcp = line
                .split_whitespace()
                .find_map(|word| word.strip_prefix("tcp:"))
                .map(|address| format!("tcp:{address}"));
            hosts.push(host(&place, tcp.as_deref()));
        }
        if long_running {
            let mut child = shell(&place, &line).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            let exited = child.try_wait().unwrap();
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            assert!(
                exited.is_none(),
                "`{example}` stopped ({exited:?}): {}",
                String::from_utf8_lossy(&output.stderr)
            );
        } else {
            let output = shell(&place, &line).output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            // `bisect` exits 1 when the whole pack passes, which the example pack does.
            let fine = output.status.success()
                || (line.starts_with("modhost bisect")
                    && output.status.code() == Some(1)
                    && stdout.contains("the whole pack passes"));
            assert!(
                fine,
                "`{example}` failed ({:?}):\n{stdout}\n{stderr}",
                output.status
            );
        }
        for mut host in hosts {
            let _ = host.kill();
            let _ = host.wait();
        }
        ran += 1;
    }
    assert_eq!(ran, all.len());
}

/// `modhost list -h` showed `--format <FORMAT>  [default: table] …` with no word on what it
/// formats: every option of every command has a description.
#[test]
fn every_option_of_every_command_says_what_it_does() {
    let option = regex::Regex::new(
        r"^\s+(?:-[A-Za-z], )?(?P<flag>--[a-z-]+)(?: \[?<[^>]+>\]?(?:\.\.\.)?)?(?P<rest>.*)$",
    )
    .unwrap();
    let mut commands: Vec<Vec<String>> = vec![Vec::new()];
    commands.extend(subcommands().into_iter().map(|name| vec![name]));
    commands.push(vec!["ctl".to_owned(), "status".to_owned()]);
    let mut undescribed = Vec::new();
    for command in commands {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("-h");
        let output = Command::new(env!("CARGO_BIN_EXE_modhost"))
            .args(&args)
            .output()
            .expect("modhost runs");
        let help = String::from_utf8_lossy(&output.stdout).into_owned();
        for line in help.lines() {
            let Some(found) = option.captures(line) else {
                continue;
            };
            let rest = found["rest"].trim();
            if rest.is_empty() || rest.starts_with('[') {
                undescribed.push(format!("{}: {}", command.join(" "), &found["flag"]));
            }
        }
    }
    assert!(undescribed.is_empty(), "{undescribed:#?}");
}
