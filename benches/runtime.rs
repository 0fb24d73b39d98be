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

use modhost::Overrides;
use modhost::{Config, Host, Pack};
use serde_json::json;
use support::{floor, per_call, resident_bytes, write_mod};

const ADD_JS: &str = "function add(a, b) { return a + b; }\n";
const ADD_LUA: &str = "function add(a, b) return a + b end\n";

fn config_for(mods: &std::path::Path) -> Config {
    Config::load(&Overrides {
        mods_dir: Some(mods.to_path_buf()),
        config_file: Some(mods.join("none.toml")).filter(|path| path.exists()),
        ..Overrides::default()
    })
    .expect("configuration")
}

fn host_for(mods: &std::path::Path) -> Host {
    let config = config_for(mods);
    let pack = Pack::load(&config).expect("pack");
    let host = Host::new(pack, config);
    host.start();
    host
}

const LIMIT: usize = 64 << 20;

/// A QuickJS engine with the host's limits: a memory limit and an interrupt handler that
/// checks a deadline.
fn limited_js() -> (rquickjs::Runtime, rquickjs::Context) {
    let runtime = rquickjs::Runtime::new().expect("runtime");
    runtime.set_memory_limit(LIMIT);
    let started = Instant::now();
    runtime.set_interrupt_handler(Some(Box::new(move || started.elapsed().as_secs() > 3600)));
    let context = rquickjs::Context::full(&runtime).expect("context");
    (runtime, context)
}

/// A Lua state with the host's limits: a memory limit and a count hook.
fn limited_lua() -> mlua::Lua {
    let lua = mlua::Lua::new();
    lua.set_memory_limit(LIMIT).expect("memory limit");
    lua.set_global_hook(
        mlua::HookTriggers::new().every_nth_instruction(10_000),
        |_, _| Ok(mlua::VmState::Continue),
    )
    .expect("hook");
    lua
}

const CALLS: u32 = 100_000;
const ROUNDS: usize = 11;

fn main() {
    let pack = tempfile::tempdir().expect("temp dir");
    let mods = pack.path();
    write_mod(mods, "js", "main.js", ADD_JS, "");
    write_mod(mods, "lua", "main.lua", ADD_LUA, "");
    write_mod(
        mods,
        "caller",
        "main.js",
        "function relay(n) { let sum = 0; for (let i = 0; i < n; i++) { sum = modhost.mods.call('lua', 'add', sum, 1); } return sum; }\n",
        "",
    );
    const HANDLERS: usize = 100;
    support::write_half_and_half(
        mods,
        "listener-",
        HANDLERS,
        "let seen = 0;\nmodhost.events.on('tick', (p) => { seen += p.n; });\n",
        "local seen = 0\nmodhost.events.on('tick', function(p) seen = seen + p.n end)\n",
    );
    let host = host_for(mods);
    let args = [json!(1), json!(2)];

    let (_js_runtime, js) = limited_js();
    js.with(|ctx| ctx.eval::<(), _>(ADD_JS).expect("eval"));
    support::interleaved(
        ROUNDS,
        || {
            per_call(1, CALLS, || {
                let sum = host.call("js", "add", &args).expect("call");
                assert_eq!(sum, json!(3));
            })
        },
        // The context is entered per call, as the host must: each call is a separate entry.
        || {
            per_call(1, CALLS, || {
                js.with(|ctx| {
                    let add: rquickjs::Function = ctx.globals().get("add").expect("add");
                    let sum: i32 = add.call((1, 2)).expect("call");
                    assert_eq!(sum, 3);
                })
            })
        },
    )
    .print("host call into a JS mod, add(1, 2)", 1.3);

    let lua = limited_lua();
    lua.load(ADD_LUA).exec().expect("load");
    support::interleaved(
        ROUNDS,
        || {
            per_call(1, CALLS, || {
                let sum = host.call("lua", "add", &args).expect("call");
                assert_eq!(sum, json!(3));
            })
        },
        || {
            per_call(1, CALLS, || {
                let add: mlua::Function = lua.globals().get("add").expect("add");
                let sum: i64 = add.call((1, 2)).expect("call");
                assert_eq!(sum, 3);
            })
        },
    )
    .print("host call into a Lua mod, add(1, 2)", 1.2);

    // The floor of a cross-language call: JS calls a native Rust function that calls the Lua
    // function, both engines with the host's limits.
    let relays: u32 = 10_000;
    let (_relay_runtime, relay) = limited_js();
    relay.with(|ctx| {
        let lua = lua.clone();
        let native = rquickjs::Function::new(ctx.clone(), move |a: f64, b: f64| -> f64 {
            let add: mlua::Function = lua.globals().get("add").expect("add");
            add.call((a, b)).expect("call")
        })
        .expect("native");
        ctx.globals().set("callLua", native).expect("set");
        ctx.eval::<(), _>(
            "function relay(n) { let sum = 0; for (let i = 0; i < n; i++) { sum = callLua(sum, 1); } return sum; }",
        )
        .expect("relay");
    });
    support::interleaved(
        ROUNDS,
        || {
            per_call(1, 1, || {
                let sum = host
                    .call("caller", "relay", &[json!(relays)])
                    .expect("relay");
                assert_eq!(sum, json!(relays));
            }) / relays
        },
        || {
            relay.with(|ctx| {
                per_call(1, 1, || {
                    let relay: rquickjs::Function = ctx.globals().get("relay").expect("relay");
                    let sum: f64 = relay.call((relays,)).expect("relay");
                    assert_eq!(sum, f64::from(relays));
                }) / relays
            })
        },
    )
    .print("modhost.mods.call JS -> Lua, per call", 1.25);

    // The floor of an event: the same 100 functions, each in an engine of its own, called
    // directly with a payload made fresh for each.
    let engines: Vec<_> = (0..HANDLERS)
        .map(|index| {
            if index % 2 == 0 {
                let (runtime, context) = limited_js();
                context.with(|ctx| {
                    ctx.eval::<(), _>("let seen = 0;\nfunction handler(p) { seen += p.n; }")
                        .expect("handler");
                });
                Err((runtime, context))
            } else {
                let lua = limited_lua();
                lua.load("local seen = 0\nfunction handler(p) seen = seen + p.n end")
                    .exec()
                    .expect("handler");
                Ok(lua)
            }
        })
        .collect();
    let emits = 1_000;
    support::interleaved(
        ROUNDS,
        || {
            per_call(1, emits, || {
                host.emit("tick", json!({ "n": 1 })).expect("emit");
            }) / HANDLERS as u32
        },
        || {
            per_call(1, emits, || {
                for engine in &engines {
                    match engine {
                        Err((_, context)) => context.with(|ctx| {
                            let payload = rquickjs::Object::new(ctx.clone()).expect("payload");
                            payload.set("n", 1).expect("n");
                            let handler: rquickjs::Function =
                                ctx.globals().get("handler").expect("handler");
                            handler.call::<_, ()>((payload,)).expect("call");
                        }),
                        Ok(lua) => {
                            let payload = lua.create_table().expect("payload");
                            payload.set("n", 1).expect("n");
                            let handler: mlua::Function =
                                lua.globals().get("handler").expect("handler");
                            handler.call::<()>(payload).expect("call");
                        }
                    }
                }
            }) / HANDLERS as u32
        },
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
    support::interleaved(ROUNDS, || raw_js(&js), || raw_js(&free_js)).print(
        "raw JS call with the deadline and memory limit, against none",
        1.05,
    );
    let free_lua = mlua::Lua::new();
    free_lua.load(ADD_LUA).exec().expect("load");
    let raw_lua = |lua: &mlua::Lua| {
        per_call(1, CALLS, || {
            let add: mlua::Function = lua.globals().get("add").expect("add");
            let sum: i64 = add.call((1, 2)).expect("call");
            assert_eq!(sum, 3);
        })
    };
    // Lua's two limits are told apart: the deadline's count hook has a target; the memory
    // limit makes mlua protect every allocating operation, a known cost without one.
    let hooked_lua = mlua::Lua::new();
    hooked_lua
        .set_global_hook(
            mlua::HookTriggers::new().every_nth_instruction(10_000),
            |_, _| Ok(mlua::VmState::Continue),
        )
        .expect("hook");
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
    let limited = support::interleaved(ROUNDS, || raw_lua(&lua), || raw_lua(&free_lua));
    println!(
        "  (raw Lua call with the hook and a memory limit, against none: {:.2}x)",
        limited.ratio
    );

    // The cost of counting each call for the metrics, against the same calls uncounted.
    let call = || {
        let sum = host.call("js", "add", &args).expect("call");
        assert_eq!(sum, json!(3));
    };
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
    support::write_half_and_half(many.path(), "mod-", STARTED, floor::JS_MOD, floor::LUA_MOD);
    let entry_points: Vec<(bool, std::path::PathBuf)> = (0..STARTED)
        .map(|index| {
            let entry = if index % 2 == 0 {
                "main.js"
            } else {
                "main.lua"
            };
            let path = many.path().join(format!("mod-{index:05}")).join(entry);
            (index % 2 == 0, path)
        })
        .collect();

    let before = resident_bytes();
    let start = Instant::now();
    let host = host_for(many.path());
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
            let config = config_for(many.path());
            let pack = Pack::load(&config).expect("pack");
            let start = Instant::now();
            let host = Host::new(pack, config);
            host.start();
            let elapsed = start.elapsed();
            drop(host);
            elapsed / STARTED as u32
        },
        || {
            let start = Instant::now();
            let mut javascript = Vec::new();
            let mut lua = Vec::new();
            for (is_js, entry_point) in &entry_points {
                let source = std::fs::read_to_string(entry_point).expect("source");
                if *is_js {
                    javascript.push(floor::js_mod(&source));
                } else {
                    lua.push(floor::lua_mod(&source));
                }
            }
            let elapsed = start.elapsed();
            drop((javascript, lua));
            elapsed / STARTED as u32
        },
    )
    .print("start a mod (load, attach, bootstrap), in process", 1.5);
}
