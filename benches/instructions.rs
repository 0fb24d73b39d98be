//! The per-call and per-start figures of `runtime`, counted in instructions under valgrind's
//! callgrind: the same work and the same floors (`support::calls`), host against floor.
//!
//! On a shared machine the time of a 300 ns call moves by more from one hour to the next than
//! a per-call target allows (1.2x is 60 ns); the number of instructions it runs does not move.
//! This prints both sides' count per call and their ratio beside `runtime`'s times, so a
//! figure off its target in time can be told from a host that does more work. What counts
//! instructions cannot see (clock readings at 13–16 ns each, misses of the instruction
//! cache) is in `docs/architecture.md`.
//!
//! Each count runs this program again under `valgrind --tool=callgrind`, collecting only
//! inside [`modhost_counted`], after the setup and a warm-up. Run with
//! `cargo bench --bench instructions` or `scripts/bench.sh`; without valgrind on the `PATH`
//! it says so and counts nothing.

mod support;

use std::path::Path;
use std::process::Command;

use support::calls::{self, CallFloors, HANDLERS};

/// Set in the counted child: which figure, and `host` or `floor`.
const CHILD: &str = "MODHOST_COUNT";
/// Units of work counted per figure: enough that the loop's own cost is lost in it, few
/// enough that callgrind (some 50 times slower than the machine) is done in seconds.
const CALLS: u32 = 2_000;
const EMITS: u32 = 20;
const STARTED: usize = 100;
/// At most this many uncounted runs of the work first, so that every cache of names and
/// handles is filled.
const WARM_UP: u32 = 50;

struct Figure {
    name: &'static str,
    what: &'static str,
    /// The same target as its time's, in `runtime`.
    target: f64,
    /// What one count is divided by: calls, handlers reached or mods started.
    units: u32,
}

const FIGURES: &[Figure] = &[
    Figure {
        name: "js-call",
        what: "host call into a JS mod, add(1, 2)",
        target: 1.3,
        units: CALLS,
    },
    Figure {
        name: "lua-call",
        what: "host call into a Lua mod, add(1, 2)",
        target: 1.2,
        units: CALLS,
    },
    Figure {
        name: "relay",
        what: "modhost.mods.call JS -> Lua, per call",
        target: 1.25,
        units: CALLS,
    },
    Figure {
        name: "emit",
        what: "emit to 100 handlers (half JS, half Lua), per handler",
        target: 1.15,
        units: EMITS * HANDLERS as u32,
    },
    Figure {
        name: "hook",
        what: "raw Lua call with the deadline's count hook, against none",
        target: 1.03,
        units: CALLS,
    },
    Figure {
        name: "start",
        what: "start a mod (load, attach, bootstrap), in process",
        target: 1.5,
        units: STARTED as u32,
    },
];

/// The one function whose instructions are counted, with everything it calls: `units` runs
/// of `work`. Not mangled, so that callgrind can be told its name; its count is read through
/// `black_box`, so that no other function has its body for the compiler to merge it with
/// (callgrind would count that one's calls too).
#[unsafe(no_mangle)]
#[inline(never)]
pub fn modhost_counted(units: u32, work: &mut dyn FnMut()) {
    for _ in 0..std::hint::black_box(units) {
        work();
    }
}

fn main() {
    if let Ok(which) = std::env::var(CHILD) {
        let (name, side) = which.split_once(':').expect("figure:side");
        run_counted(name, side == "host");
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!(
            "instructions: valgrind is not installed, so nothing was counted (Debian and \
             Ubuntu: `sudo apt install valgrind`)"
        );
        return;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    for figure in FIGURES {
        let host = count(scratch.path(), figure, "host");
        let floor = count(scratch.path(), figure, "floor");
        match (host, floor) {
            (Ok(host), Ok(floor)) => support::report_count(
                figure.what,
                host as f64 / f64::from(figure.units),
                floor as f64 / f64::from(figure.units),
                figure.target,
            ),
            (Err(error), _) | (_, Err(error)) => {
                println!("{}: not counted: {error}", figure.what);
            }
        }
    }
}

/// The instructions `side` of `figure` ran inside [`modhost_counted`].
fn count(scratch: &Path, figure: &Figure, side: &str) -> Result<u64, String> {
    let out = scratch.join(format!("{}-{side}.callgrind", figure.name));
    let program = std::env::current_exe().map_err(|error| error.to_string())?;
    let ran = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=modhost_counted",
            "--quiet",
        ])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&program)
        .env(CHILD, format!("{}:{side}", figure.name))
        .output()
        .map_err(|error| format!("cannot run valgrind: {error}"))?;
    if !ran.status.success() {
        return Err(format!(
            "the counted run failed ({}): {}",
            ran.status,
            String::from_utf8_lossy(&ran.stderr).trim()
        ));
    }
    let written = std::fs::read_to_string(&out).map_err(|error| error.to_string())?;
    totals(&written).ok_or_else(|| format!("no totals in `{}`", out.display()))
}

/// The instructions counted, from callgrind's output: its `totals:` line (or `summary:`,
/// which older versions write alone).
fn totals(written: &str) -> Option<u64> {
    written.lines().rev().find_map(|line| {
        let count = line
            .strip_prefix("totals:")
            .or_else(|| line.strip_prefix("summary:"))?;
        count.split_whitespace().next()?.parse().ok()
    })
}

/// In the child, under valgrind: sets `name`'s work up, warms it up, then counts it.
fn run_counted(name: &str, host_side: bool) {
    let pack = tempfile::tempdir().expect("temp dir");
    let args = calls::add_args();
    let warm_then_count = |units: u32, work: &mut dyn FnMut()| {
        for _ in 0..units.min(WARM_UP) {
            work();
        }
        modhost_counted(units, work);
    };
    match name {
        "js-call" | "lua-call" | "relay" | "emit" => {
            let listeners = name == "emit";
            calls::write_call_pack(pack.path(), listeners);
            if host_side {
                let host = calls::host_for(pack.path());
                // Under callgrind a call takes some 50 times as long, past the 10 µs under
                // which the host looks no further at it, so some calls and not others (by the
                // time each took) would be weighed for the profile's slowest calls, formatting
                // their names. Without the profile's counting, what is left of a notable call
                // is a few dozen instructions: the counts vary by 1–2%. (The metrics' cost
                // is timed in `runtime`, on against off. Telling callgrind to stop collecting
                // inside the host's handling of a notable call does not work: it loses track
                // of where that handling returns in a call made from inside an engine, and
                // went on collecting in the warm-up.)
                host.count_calls(false);
                match name {
                    "js-call" => warm_then_count(CALLS, &mut || calls::host_js_call(&host, &args)),
                    "lua-call" => {
                        warm_then_count(CALLS, &mut || calls::host_lua_call(&host, &args));
                    }
                    "relay" => warm_then_count(1, &mut || calls::host_relay(&host, CALLS)),
                    _ => warm_then_count(EMITS, &mut || calls::host_emit(&host)),
                }
            } else {
                let floors = CallFloors::new(listeners);
                match name {
                    "js-call" => warm_then_count(CALLS, &mut || floors.js_call()),
                    "lua-call" => warm_then_count(CALLS, &mut || floors.lua_call()),
                    "relay" => warm_then_count(1, &mut || floors.relay(CALLS)),
                    _ => warm_then_count(EMITS, &mut || floors.emit()),
                }
            }
        }
        "hook" => {
            let lua = if host_side {
                calls::hooked_lua()
            } else {
                mlua::Lua::new()
            };
            lua.load(calls::ADD_LUA).exec().expect("load");
            warm_then_count(CALLS, &mut || calls::raw_lua_call(&lua));
        }
        "start" => {
            let entry_points = calls::write_start_pack(pack.path(), STARTED);
            // What was started is kept until after the count: stopping is not counted.
            let mut hosts = Vec::new();
            let mut floors = Vec::new();
            if host_side {
                let config = calls::config_for(pack.path());
                let pack = modhost::Pack::load(&config).expect("pack");
                let mut ready = Some((config, pack));
                modhost_counted(1, &mut || {
                    let (config, pack) = ready.take().expect("started once");
                    hosts.push(calls::host_start(config, pack));
                });
            } else {
                modhost_counted(1, &mut || floors.push(calls::floor_start(&entry_points)));
            }
            drop((hosts, floors));
        }
        other => panic!("no figure `{other}`"),
    }
}
