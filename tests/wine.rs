//! The Windows build as a Linux or Steam Deck user runs it, through Wine (Proton is Wine),
//! driven from the Linux side by what cannot run inside Wine here: the example pack's
//! `run --once` compared line by line with the Linux build's, and the Python reference game
//! playing the demo against `modhost.exe` over standard input and output, and over TCP with
//! the token. (Inside Wine, the Windows part of the suite covers the named pipe, `--exec`,
//! `--watch` and the rest.)
//!
//! `scripts/test-windows.sh` runs it last, naming the Windows binary in `MODHOST_WINDOWS_EXE`;
//! a plain `cargo test` leaves it out (`test = false` in `Cargo.toml`).

#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Windows `modhost.exe` this run tests.
fn windows_exe() -> PathBuf {
    let exe = std::env::var_os("MODHOST_WINDOWS_EXE").unwrap_or_else(|| {
        panic!("MODHOST_WINDOWS_EXE names no modhost.exe: run this through scripts/test-windows.sh")
    });
    let exe = std::path::absolute(exe).expect("an absolute path");
    assert!(exe.is_file(), "no file at {}", exe.display());
    exe
}

/// `wine modhost.exe ARGS` in `dir`.
fn under_wine(dir: &Path) -> Command {
    let mut command = Command::new("wine");
    command
        .arg(windows_exe())
        .current_dir(dir)
        .env("NO_COLOR", "1");
    command
}

fn shown(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_example_pack_runs_the_same_under_wine_as_on_linux() {
    let pack = support::root_pack_copy();
    let args = ["run", "--once", "--listen", "none"];
    let windows = under_wine(pack.path())
        .args(args)
        .output()
        .expect("wine runs");
    let linux = Command::new(env!("CARGO_BIN_EXE_modhost"))
        .current_dir(pack.path())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("modhost runs");
    assert!(windows.status.success(), "{}", shown(&windows));
    assert!(linux.status.success(), "{}", shown(&linux));
    assert!(
        shown(&linux).contains("2 of 2 mods active"),
        "{}",
        shown(&linux)
    );
    assert_eq!(shown(&windows), shown(&linux));
}

#[test]
fn the_python_game_plays_the_demo_against_modhost_exe_over_stdio_and_tcp() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let game = root.join("examples/clients/python/game.py");

    // Over standard input and output: the game starts `$MODHOST run --stdio` itself.
    let scratch = tempfile::tempdir().expect("temp dir");
    let wrapper = scratch.path().join("modhost");
    support::write(
        &wrapper,
        &format!(
            "#!/bin/sh\nexec wine '{}' \"$@\"\n",
            windows_exe().display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let output = Command::new("python3")
        .arg(&game)
        .env("MODHOST", &wrapper)
        .output()
        .expect("python3 runs");
    support::assert_plays_the_demo(&output);

    // Over TCP: the game connects to a running host with the token from its data dir.
    let arena = support::arena_copy();
    let address = format!("tcp:127.0.0.1:{}", support::free_port());
    let args = ["run", "--listen", address.as_str()];
    let mut command = Command::new("wine");
    command.arg(windows_exe()).args(args);
    let mut host = support::Running::start_command(command, arena.path(), &args);
    host.wait_for(&format!("listening on {address}"));
    let token = std::fs::read_to_string(arena.path().join(".modhost/modhost.token"))
        .expect("the token is written");
    let output = Command::new("python3")
        .arg(&game)
        .env("MODHOST_CONNECT", &address)
        .env("MODHOST_TOKEN", token.trim())
        .output()
        .expect("python3 runs");
    support::assert_plays_the_demo(&output);
    // The game asked the host to shut down: it detaches every mod and exits cleanly.
    let (status, lines) = host.finish();
    assert!(status.success(), "{status}: {lines:#?}");
    assert!(
        lines.iter().any(|line| line.contains("[tourist]")),
        "{lines:#?}"
    );
}
