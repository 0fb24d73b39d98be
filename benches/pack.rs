//! Whole-pack benchmarks on 10,000 generated mods (half JavaScript, half Lua), each against a
//! floor doing the same work with the same limits, in interleaved rounds:
//!
//! - `modhost check` against compiling every file in one engine per language on one thread
//!   (target ≤ 1.5x; the host also reads and validates every manifest and uses every core);
//! - `modhost run --once`, wall time and peak memory, against a plain program that reads the
//!   same manifests and entry points, makes one engine per mod with the same standard library
//!   and limits, evaluates the entry point and calls its hooks (targets ≤ 1.3x and ≤ 1.1x).
//!
//! The floor of `run --once` runs in a child process, like the host, so that both peak
//! memories are a whole process's (this binary starts itself with `FLOOR_ENV` set).
//! Run with `cargo bench --bench pack` or `scripts/bench.sh`.

mod support;

use support::floor;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MODS: usize = 10_000;
const ROUNDS: usize = 5;
const FLOOR_ENV: &str = "MODHOST_BENCH_RUN_FLOOR";

/// Every mod's folder and entry point, as the floors find them: by reading each manifest.
fn entry_points(mods: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(mods)
        .expect("read mods")
        .map(|entry| entry.expect("entry").path())
        .collect();
    folders.sort();
    folders
        .into_iter()
        .map(|folder| {
            let manifest: serde_json::Value = serde_json::from_slice(
                &std::fs::read(folder.join("manifest.json")).expect("manifest"),
            )
            .expect("manifest JSON");
            folder.join(manifest["entry_point"].as_str().expect("entry_point"))
        })
        .collect()
}

fn is_lua(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "lua")
}

/// The floor of `check`: every file compiled, in one engine per language, on one thread.
fn compile_every_file(mods: &Path) -> Duration {
    let start = Instant::now();
    let runtime = rquickjs::Runtime::new().expect("runtime");
    let context = rquickjs::Context::full(&runtime).expect("context");
    let lua = mlua::Lua::new_with(mlua::StdLib::NONE, mlua::LuaOptions::default()).expect("lua");
    for path in entry_points(mods) {
        let source = std::fs::read_to_string(&path).expect("source");
        if is_lua(&path) {
            lua.load(&source).into_function().expect("compiles");
        } else {
            // Compiled as a function's body, which is not run: the whole file is parsed and
            // compiled, as `check` does.
            let wrapped = format!("(function () {{\n{source}\n}})");
            context.with(|ctx| {
                ctx.eval::<rquickjs::Function, _>(wrapped)
                    .expect("compiles");
            });
        }
    }
    start.elapsed()
}

/// The floor of `run --once`, run in a child process.
fn run_every_mod(mods: &Path) {
    let mut javascript = Vec::new();
    let mut lua_states = Vec::new();
    for path in entry_points(mods) {
        let source = std::fs::read_to_string(&path).expect("source");
        if is_lua(&path) {
            lua_states.push(floor::lua_mod(&source));
        } else {
            javascript.push(floor::js_mod(&source));
        }
    }
    drop(javascript);
    drop(lua_states);
}

/// Runs a child to its end: its wall time and peak resident memory in bytes.
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its peak memory"
)]
fn measure_process(command: &mut Command) -> (Duration, u64) {
    let start = Instant::now();
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: rusage is plain data, filled in by wait4 for the child we just started.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert!(waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    (elapsed, usage.ru_maxrss as u64 * 1024)
}

fn modhost(mods: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modhost"));
    command
        .arg("--mods")
        .arg(mods)
        .args(args)
        .current_dir(mods.parent().expect("pack folder"));
    command
}

fn main() {
    if let Some(mods) = std::env::var_os(FLOOR_ENV) {
        run_every_mod(Path::new(&mods));
        return;
    }
    let pack = tempfile::tempdir().expect("temp dir");
    let mods = pack.path().join("mods");
    support::write_half_and_half(&mods, "mod-", MODS, floor::JS_MOD, floor::LUA_MOD);

    let check = support::interleaved(
        ROUNDS,
        || measure_process(&mut modhost(&mods, &["check"])).0,
        || compile_every_file(&mods),
    );
    check.print("check of 10,000 mods, against one engine per language", 1.5);

    let mut memory_ratios = Vec::new();
    let host_peak = std::cell::Cell::new(0);
    let run = support::interleaved(
        ROUNDS,
        || {
            let (elapsed, peak) = measure_process(&mut modhost(&mods, &["run", "--once"]));
            host_peak.set(peak);
            elapsed
        },
        || {
            let mut floor = Command::new(std::env::current_exe().expect("this benchmark"));
            let (elapsed, peak) = measure_process(floor.env(FLOOR_ENV, &mods));
            memory_ratios.push(host_peak.get() as f64 / peak as f64);
            elapsed
        },
    );
    run.print("run --once of 10,000 mods, against a plain program", 1.3);
    memory_ratios.sort_by(f64::total_cmp);
    support::print_ratio(
        "run --once of 10,000 mods, peak memory",
        &format!(
            "{:.0} KiB/mod",
            host_peak.get() as f64 / 1024.0 / MODS as f64
        ),
        &memory_ratios,
        1.1,
    );
}
