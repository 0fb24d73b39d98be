//! Runtime benchmarks, each against a raw-engine baseline measured in the same run:
//! a host call into a JavaScript and a Lua mod against the raw rquickjs / mlua call of the same
//! function (target: at most 1.5x); a cross-language `modhost.mods.call` from JavaScript to Lua
//! against a raw mlua call (target: at most 3x); load and attach of 1,000 generated mods
//! (target: under 1 s); resident memory per idle mod (target: under 512 KiB).
//! Run with `cargo bench --bench runtime` or `scripts/bench.sh`.

mod support;

use std::time::Instant;

use modhost::config::Overrides;
use modhost::{Config, Host, Pack};
use serde_json::json;
use support::{nanos, per_call, resident_bytes, write_mod};

const ADD_JS: &str = "function add(a, b) { return a + b; }\n";
const ADD_LUA: &str = "function add(a, b) return a + b end\n";

fn host_for(mods: &std::path::Path) -> Host {
    let config = Config::load(&Overrides {
        mods_dir: Some(mods.to_path_buf()),
        config_file: Some(mods.join("none.toml")).filter(|path| path.exists()),
        ..Overrides::default()
    })
    .expect("configuration");
    let pack = Pack::load(&config).expect("pack");
    let host = Host::new(pack, config);
    host.start();
    host
}

/// The raw call, optionally with the same limits the host sets (memory limit and an
/// interrupt handler), to tell the host's own overhead from the limits' cost.
fn raw_js_call(limited: bool) -> f64 {
    let runtime = rquickjs::Runtime::new().expect("runtime");
    if limited {
        runtime.set_memory_limit(64 << 20);
        runtime.set_interrupt_handler(Some(Box::new(|| false)));
    }
    let context = rquickjs::Context::full(&runtime).expect("context");
    context.with(|ctx| {
        ctx.eval::<(), _>(ADD_JS).expect("eval");
        nanos(per_call(9, 200_000, || {
            let add: rquickjs::Function = ctx.globals().get("add").expect("add");
            let sum: i32 = add.call((1, 2)).expect("call");
            assert_eq!(sum, 3);
        }))
    })
}

fn raw_lua_call(limited: bool) -> f64 {
    let lua = mlua::Lua::new();
    if limited {
        lua.set_memory_limit(64 << 20).expect("memory limit");
        lua.set_global_hook(
            mlua::HookTriggers::new().every_nth_instruction(10_000),
            |_, _| Ok(mlua::VmState::Continue),
        )
        .expect("hook");
    }
    lua.load(ADD_LUA).exec().expect("load");
    nanos(per_call(9, 200_000, || {
        let add: mlua::Function = lua.globals().get("add").expect("add");
        let sum: i64 = add.call((1, 2)).expect("call");
        assert_eq!(sum, 3);
    }))
}

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
    let host = host_for(mods);
    let args = [json!(1), json!(2)];

    println!("calls (median per call):");
    for (name, raw, raw_limited) in [
        ("js", raw_js_call(false), raw_js_call(true)),
        ("lua", raw_lua_call(false), raw_lua_call(true)),
    ] {
        let hosted = nanos(per_call(9, 200_000, || {
            let sum = host.call(name, "add", &args).expect("call");
            assert_eq!(sum, json!(3));
        }));
        println!(
            "  host call into a {name:<3} mod: {hosted:5.0} ns; raw engine call {raw:5.0} ns, ratio {:.2}x (target <= 1.5x); raw with the same limits {raw_limited:5.0} ns, ratio {:.2}x",
            hosted / raw,
            hosted / raw_limited
        );
        println!(
            "    cost of the limit machinery on the raw call: {:+.0}% (target <= 10%)",
            (raw_limited / raw - 1.0) * 100.0
        );
    }
    // The cost of counting each call for the metrics, against the same calls uncounted.
    let call = || {
        let sum = host.call("js", "add", &args).expect("call");
        assert_eq!(sum, json!(3));
    };
    let counted = support::interleaved(
        15,
        || {
            host.count_calls(true);
            per_call(1, 100_000, call)
        },
        || {
            host.count_calls(false);
            per_call(1, 100_000, call)
        },
    );
    host.count_calls(true);
    counted.print(
        "host call into a js mod, metrics on against metrics off",
        1.05,
    );
    let relays = 10_000;
    let raw_lua = raw_lua_call(false);
    let total = per_call(5, 1, || {
        let sum = host
            .call("caller", "relay", &[json!(relays)])
            .expect("relay");
        assert_eq!(sum, json!(relays));
    });
    let cross = nanos(total) / f64::from(relays);
    println!(
        "  modhost.mods.call JS -> Lua:  {cross:7.0} ns, raw Lua call    {raw_lua:5.0} ns, ratio {:.2}x (target <= 3x)",
        cross / raw_lua
    );
    drop(host);

    let many = tempfile::tempdir().expect("temp dir");
    for index in 0..1_000 {
        let (entry, source) = if index % 2 == 0 {
            (
                "main.js",
                "function onAttach() { globalThis.ready = true; }\nfunction ping() { return 1; }\n",
            )
        } else {
            (
                "main.lua",
                "function onAttach() ready = true end\nfunction ping() return 1 end\n",
            )
        };
        write_mod(many.path(), &format!("mod-{index:04}"), entry, source, "");
    }
    let before = resident_bytes();
    let start = Instant::now();
    let host = host_for(many.path());
    let elapsed = start.elapsed();
    let active = host
        .mods()
        .iter()
        .filter(|status| status.state == "active")
        .count();
    assert_eq!(active, 1_000);
    println!(
        "load and attach 1,000 mods (half JS, half Lua): {:.0} ms (target < 1000 ms)",
        elapsed.as_secs_f64() * 1e3
    );
    if let (Some(before), Some(after)) = (before, resident_bytes()) {
        println!(
            "resident memory per idle mod: {:.0} KiB (target < 512 KiB)",
            after.saturating_sub(before) as f64 / 1_000.0 / 1024.0
        );
    }
}
