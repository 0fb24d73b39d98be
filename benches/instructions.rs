//! The per-call and per-start figures of `runtime`, and `languages`' WebAssembly call, counted
//! in instructions under valgrind's callgrind: the same work and the same floors
//! (`support::calls`, `support::wasm`), host against floor.
//!
//! On a shared machine the time of a 300 ns call moves by more from one hour to the next than
//! a per-call target allows (1.2x is 60 ns); the number of instructions it runs does not move.
//! This prints both sides' count per call and their ratio beside `runtime`'s times, so a
//! figure off its target in time can be told from a host that does more work. What counts
//! instructions cannot see (clock readings at 13–16 ns each, misses of the instruction
//! cache) is in `docs/architecture.md`.
//!
//! Each count runs this program again under `valgrind --tool=callgrind`, collecting only
//! inside [`modhost_counted`], after the setup and a warm-up, less the host's handling of
//! calls that took long ([`NOTABLE_CALL`]). Run with
//! `cargo bench --bench instructions` (`-- wasm` counts only the figures named so) or
//! `scripts/bench.sh`; without valgrind on the `PATH` it says so and counts nothing.

mod support;

use std::path::Path;
use std::process::Command;

use support::calls::{self, CallFloors, HANDLERS};
use support::wasm;

/// Set in the counted child: which figure, and `host` or `floor`.
const CHILD: &str = "MODHOST_COUNT";
/// Calls counted per figure: enough that the loop's own cost is lost in them, few enough
/// that callgrind (some 50 times slower than the machine) is done in seconds.
const CALLS: u32 = 2_000;
/// At most this many uncounted runs of the work first, so that every cache of names and
/// handles is filled.
const WARM_UP: u32 = 50;

struct Figure {
    name: &'static str,
    what: &'static str,
    /// The same target as its time's, in `runtime`.
    target: f64,
    work: Work,
    /// How many times the work runs while counted.
    runs: u32,
    /// The units of one run (calls, handlers reached, mods started): the count is divided by
    /// `runs * per_run`.
    per_run: u32,
}

#[derive(Clone, Copy)]
enum Work {
    /// Into the pack of `support::calls`, by the host or by its floors.
    Call(Call),
    /// `echo(1, 2)` into a WebAssembly mod, against the raw wasmi call (`support::wasm`).
    Wasm,
    /// `add(1, 2)` in a Lua state with the count hook, against one without.
    Hook,
    /// Starting `per_run` mods.
    Start,
}

#[derive(Clone, Copy, PartialEq)]
enum Call {
    Js,
    Lua,
    /// `per_run` calls through `modhost.mods.call` in one call of the relay.
    Relay,
    /// One event to the pack's listeners, `per_run` of them.
    Emit,
    /// `greet("Ada")`, a short string each way, into the JavaScript mod and the Lua mod.
    JsText,
    LuaText,
}

const FIGURES: &[Figure] = &[
    Figure {
        name: "js-call",
        what: "host call into a JS mod, add(1, 2)",
        target: 1.3,
        work: Work::Call(Call::Js),
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "lua-call",
        what: "host call into a Lua mod, add(1, 2)",
        target: 1.2,
        work: Work::Call(Call::Lua),
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "js-text",
        what: "host call into a JS mod, greet('Ada'), short strings",
        target: 1.3,
        work: Work::Call(Call::JsText),
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "lua-text",
        what: "host call into a Lua mod, greet('Ada'), short strings",
        target: 1.2,
        work: Work::Call(Call::LuaText),
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "relay",
        what: "modhost.mods.call JS -> Lua, per call",
        target: 1.25,
        work: Work::Call(Call::Relay),
        runs: 1,
        per_run: CALLS,
    },
    Figure {
        name: "emit",
        what: "emit to 100 handlers (half JS, half Lua), per handler",
        target: 1.15,
        work: Work::Call(Call::Emit),
        runs: 20,
        per_run: HANDLERS as u32,
    },
    Figure {
        name: "wasm-call",
        what: "host call into a WebAssembly mod, echo([1, 2])",
        target: 1.5,
        work: Work::Wasm,
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "hook",
        what: "raw Lua call with the deadline's count hook, against none",
        target: 1.03,
        work: Work::Hook,
        runs: CALLS,
        per_run: 1,
    },
    Figure {
        name: "start",
        what: "start a mod (load, attach, bootstrap), in process",
        target: 1.5,
        work: Work::Start,
        runs: 1,
        per_run: 100,
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
        let figure = FIGURES
            .iter()
            .find(|figure| figure.name == name)
            .expect("a figure of the table");
        run_counted(figure, side == "host");
        return;
    }
    if Command::new("valgrind").arg("--version").output().is_err() {
        println!(
            "instructions: valgrind is not installed, so nothing was counted (Debian and \
             Ubuntu: `sudo apt install valgrind`)"
        );
        return;
    }
    // `cargo bench --bench instructions -- wasm` counts the figures whose name holds `wasm`.
    let only = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .unwrap_or_default();
    let scratch = tempfile::tempdir().expect("temp dir");
    for figure in FIGURES.iter().filter(|figure| figure.name.contains(&only)) {
        let host = count(scratch.path(), figure, "host");
        let floor = count(scratch.path(), figure, "floor");
        match (host, floor) {
            (Ok(host), Ok(floor)) => {
                let units = f64::from(figure.runs * figure.per_run);
                support::report_count(
                    figure.what,
                    host as f64 / units,
                    floor as f64 / units,
                    figure.target,
                );
            }
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
    let total = totals(&written).ok_or_else(|| format!("no totals in `{}`", out.display()))?;
    Ok(total.saturating_sub(spent_in_calls_to(&written, NOTABLE_CALL)))
}

/// What the host does with a call that took 10 µs or more (its place among the slowest, a
/// slow-call warning): under callgrind, some 50 times slower than the machine, a call of
/// 200–400 ns takes about that long, so some calls and not others, by the time each took,
/// would go through it, and the counts moved by 4% between runs. It is taken out of the
/// count; the call to it is what is left. (`--toggle-collect` on it was tried: callgrind lost
/// track of where it returned in a call made from inside an engine, and went on collecting.)
const NOTABLE_CALL: &str = "after_notable_call";

/// The instructions spent inside the calls to functions whose name ends in `function`, with
/// what they called, from callgrind's output: after a `cfn=` line naming the function called
/// (`(id) name` where a `fn=` or `cfn=` line names it first, `(id)` after) and its `calls=`
/// line, the next line's second field is the calls' cost.
fn spent_in_calls_to(written: &str, function: &str) -> u64 {
    let mut names = std::collections::HashMap::new();
    let mut callee_matches = false;
    let mut cost_follows = false;
    let mut spent = 0;
    for line in written.lines() {
        if cost_follows {
            cost_follows = false;
            if callee_matches {
                spent += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|cost| cost.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        } else if let Some((field, named)) = line.split_once('=')
            && (field == "fn" || field == "cfn")
        {
            // A name is given with its id once, on whichever line names it first.
            let (id, name) = named.split_once(' ').unwrap_or((named, ""));
            if !name.is_empty() {
                names.insert(id.to_owned(), name.ends_with(function));
            }
            callee_matches = field == "cfn" && names.get(id).copied().unwrap_or(false);
        } else if line.starts_with("calls=") {
            cost_follows = true;
        }
    }
    spent
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

/// In the child, under valgrind: sets `figure`'s work up, warms it up, then counts it.
fn run_counted(figure: &Figure, host_side: bool) {
    let pack = tempfile::tempdir().expect("temp dir");
    let (runs, per_run) = (figure.runs, figure.per_run);
    let warm_then_count = |work: &mut dyn FnMut()| {
        for _ in 0..runs.min(WARM_UP) {
            work();
        }
        modhost_counted(runs, work);
    };
    match figure.work {
        Work::Call(call) => {
            let args = calls::add_args();
            let greeting = calls::greet_args();
            let listeners = call == Call::Emit;
            calls::write_call_pack(pack.path(), listeners);
            if host_side {
                let host = support::host_for(pack.path());
                warm_then_count(&mut || match call {
                    Call::Js => calls::host_js_call(&host, &args),
                    Call::Lua => calls::host_lua_call(&host, &args),
                    Call::Relay => calls::host_relay(&host, per_run),
                    Call::Emit => calls::host_emit(&host),
                    Call::JsText => calls::host_greet(&host, "js", &greeting),
                    Call::LuaText => calls::host_greet(&host, "lua", &greeting),
                });
            } else {
                let floors = CallFloors::new(listeners);
                warm_then_count(&mut || match call {
                    Call::Js => floors.js_call(),
                    Call::Lua => floors.lua_call(),
                    Call::Relay => floors.relay(per_run),
                    Call::Emit => floors.emit(),
                    Call::JsText => floors.js_greet(),
                    Call::LuaText => floors.lua_greet(),
                });
            }
        }
        Work::Wasm => {
            let args = wasm::echo_args();
            if host_side {
                wasm::write_echo_pack(pack.path());
                let host = support::host_for(pack.path());
                warm_then_count(&mut || wasm::host_echo(&host, &args));
            } else {
                let mut floor = wasm::EchoFloor::new();
                warm_then_count(&mut || floor.call(&args));
            }
        }
        Work::Hook => {
            let lua = if host_side {
                calls::hooked_lua()
            } else {
                mlua::Lua::new()
            };
            lua.load(calls::ADD_LUA).exec().expect("load");
            warm_then_count(&mut || calls::raw_lua_call(&lua));
        }
        Work::Start => {
            let entry_points = calls::write_start_pack(pack.path(), per_run as usize);
            // What was started is kept until after the count: stopping is not counted.
            let mut hosts = Vec::new();
            let mut floors = Vec::new();
            if host_side {
                let config = support::config_for(pack.path());
                let pack = modhost::Pack::load(&config).expect("pack");
                let mut ready = Some((config, pack));
                modhost_counted(runs, &mut || {
                    let (config, pack) = ready.take().expect("started once");
                    hosts.push(support::host_start(config, pack));
                });
            } else {
                modhost_counted(runs, &mut || floors.push(calls::floor_start(&entry_points)));
            }
            drop((hosts, floors));
        }
    }
}
