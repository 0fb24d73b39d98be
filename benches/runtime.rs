//! Runtime benchmarks, each against a floor doing the same work with the same limits (a memory
//! limit and a deadline check in every engine), in interleaved rounds: a host call into a
//! JavaScript and a Lua mod against the raw rquickjs / mlua call; `modhost.mods.call` from
//! JavaScript to Lua against JavaScript calling a native function that calls Lua; an event to
//! 100 handlers against calling them directly with a fresh payload; and the metrics' cost.
//! Then load and attach of 1,000 generated mods (target: under 1 s) and resident memory per
//! idle mod (target: under 512 KiB).
//! Run with `cargo bench --bench runtime` or `scripts/bench.sh`.

mod support;

use std::time::Instant;

use support::calls::{self, ADD_JS, ADD_LUA, CallFloors, HANDLERS};
use support::{per_call, resident_bytes};

const CALLS: u32 = 100_000;
const ROUNDS: usize = 11;

fn main() {
    let pack = tempfile::tempdir().expect("temp dir");
    calls::write_call_pack(pack.path(), true);
    let host = support::host_for(pack.path());
    let args = calls::add_args();
    let floors = CallFloors::new(true);

    support::interleaved(
        ROUNDS,
        || per_call(1, CALLS, || calls::host_js_call(&host, &args)),
        || per_call(1, CALLS, || floors.js_call()),
    )
    .print("host call into a JS mod, add(1, 2)", 1.3);

    support::interleaved(
        ROUNDS,
        || per_call(1, CALLS, || calls::host_lua_call(&host, &args)),
        || per_call(1, CALLS, || floors.lua_call()),
    )
    .print("host call into a Lua mod, add(1, 2)", 1.2);

    // The floor of a cross-language call: JS calls a native Rust function that calls the Lua
    // function, both engines with the host's limits.
    let relays: u32 = 10_000;
    support::interleaved(
        ROUNDS,
        || per_call(1, 1, || calls::host_relay(&host, relays)) / relays,
        || per_call(1, 1, || floors.relay(relays)) / relays,
    )
    .print("modhost.mods.call JS -> Lua, per call", 1.25);

    // The floor of an event: the same 100 functions, each in an engine of its own, called
    // directly with a payload made fresh for each.
    let emits = 1_000;
    support::interleaved(
        ROUNDS,
        || per_call(1, emits, || calls::host_emit(&host)) / HANDLERS as u32,
        || per_call(1, emits, || floors.emit()) / HANDLERS as u32,
    )
    .print(
        "emit to 100 handlers (half JS, half Lua), per handler",
        1.15,
    );

    // What the limits cost an engine: the same raw call with a deadline checked by the
    // interrupt handler (QuickJS) or count hook (Lua) and a memory limit, against none.
    let (_free_runtime, free_js) = {
        let runtime = rquickjs::Runtime::new().expect("runtime");
        let context = rquickjs::Context::full(&runtime).expect("context");
        (runtime, context)
    };
    free_js.with(|ctx| ctx.eval::<(), _>(ADD_JS).expect("eval"));
    let raw_js = |context: &rquickjs::Context| {
        context.with(|ctx| {
            per_call(1, CALLS, || {
                let add: rquickjs::Function = ctx.globals().get("add").expect("add");
                let sum: i32 = add.call((1, 2)).expect("call");
                assert_eq!(sum, 3);
            })
        })
    };
    support::interleaved(ROUNDS, || raw_js(&floors.js), || raw_js(&free_js)).print(
        "raw JS call with the deadline and memory limit, against none",
        1.05,
    );
    let free_lua = mlua::Lua::new();
    free_lua.load(ADD_LUA).exec().expect("load");
    let raw_lua = |lua: &mlua::Lua| per_call(1, CALLS, || calls::raw_lua_call(lua));
    // Lua's two limits are told apart: the deadline's count hook has a target; the memory
    // limit makes mlua protect every allocating operation, a known cost without one.
    let hooked_lua = calls::hooked_lua();
    hooked_lua.load(ADD_LUA).exec().expect("load");
    support::interleaved(ROUNDS, || raw_lua(&hooked_lua), || raw_lua(&free_lua)).print(
        "raw Lua call with the deadline's count hook, against none",
        1.03,
    );
    // In a loop, where the hook's cost per instruction shows (Lua's own VM sent every
    // instruction through `luaG_traceexec`: 2.4x; vendor/lua-src/PATCHED.md).
    const LOOP: &str = "function spin(n) local s = 0 for i = 1, n do s = s + i end return s end";
    hooked_lua.load(LOOP).exec().expect("load");
    free_lua.load(LOOP).exec().expect("load");
    let spin = |lua: &mlua::Lua| {
        let spin: mlua::Function = lua.globals().get("spin").expect("spin");
        per_call(1, 1, || {
            let sum: i64 = spin.call(1_000_000).expect("call");
            assert_eq!(sum, 500_000_500_000);
        })
    };
    support::interleaved(ROUNDS, || spin(&hooked_lua), || spin(&free_lua)).print(
        "a Lua loop of a million additions with the count hook, against none",
        1.25,
    );
    let limited = support::interleaved(ROUNDS, || raw_lua(&floors.lua), || raw_lua(&free_lua));
    println!(
        "  (raw Lua call with the hook and a memory limit, against none: {:.2}x)",
        limited.ratio
    );

    // The cost of counting each call for the metrics, against the same calls uncounted.
    let call = || calls::host_js_call(&host, &args);
    support::interleaved(
        ROUNDS,
        || {
            host.count_calls(true);
            per_call(1, CALLS, call)
        },
        || {
            host.count_calls(false);
            per_call(1, CALLS, call)
        },
    )
    .print("host call into a JS mod, metrics on against off", 1.05);
    host.count_calls(true);
    drop(host);

    // Starting mods in process: the host loading, attaching and bootstrapping a pack, against
    // the floor starting the same sources with the same limits and hooks.
    const STARTED: usize = 1_000;
    let many = tempfile::tempdir().expect("temp dir");
    let entry_points = calls::write_start_pack(many.path(), STARTED);

    let before = resident_bytes();
    let start = Instant::now();
    let host = support::host_for(many.path());
    let elapsed = start.elapsed();
    let active = host
        .mods()
        .iter()
        .filter(|status| status.state == "active")
        .count();
    assert_eq!(active, STARTED);
    println!(
        "load and attach 1,000 mods (half JS, half Lua): {:.0} ms (target < 1000 ms)",
        elapsed.as_secs_f64() * 1e3
    );
    if let (Some(before), Some(after)) = (before, resident_bytes()) {
        println!(
            "resident memory per idle mod: {:.0} KiB (target < 512 KiB)",
            after.saturating_sub(before) as f64 / STARTED as f64 / 1024.0
        );
    }
    drop(host);

    support::interleaved(
        5,
        || {
            // The manifests are read first (the floor has none); each mod's source is read
            // inside the clock, by the host and by the floor alike.
            let config = support::config_for(many.path());
            let pack = modhost::Pack::load(&config).expect("pack");
            let start = Instant::now();
            let host = support::host_start(config, pack);
            let elapsed = start.elapsed();
            drop(host);
            elapsed / STARTED as u32
        },
        || {
            let start = Instant::now();
            let started = calls::floor_start(&entry_points);
            let elapsed = start.elapsed();
            drop(started);
            elapsed / STARTED as u32
        },
    )
    .print("start a mod (load, attach, bootstrap), in process", 1.5);
}
