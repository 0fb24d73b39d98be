//! The work of the per-call and per-start figures, each with its floor: the same work done by
//! the engines alone with the host's limits (a memory limit and a deadline check in every
//! engine). `runtime` times it; `instructions` counts it under callgrind, so both measure
//! exactly the same calls.

use std::path::{Path, PathBuf};
use std::time::Instant;

use modhost::Host;
use modhost::Value;

use super::{floor, write_half_and_half, write_mod};

pub const ADD_JS: &str =
    "function add(a, b) { return a + b; }\nfunction greet(name) { return 'hello, ' + name; }\n";
pub const ADD_LUA: &str =
    "function add(a, b) return a + b end\nfunction greet(name) return 'hello, ' .. name end\n";
const RELAY_JS: &str = "function relay(n) { let sum = 0; for (let i = 0; i < n; i++) { sum = modhost.mods.call('lua', 'add', sum, 1); } return sum; }\n";
const RELAY_FLOOR_JS: &str = "function relay(n) { let sum = 0; for (let i = 0; i < n; i++) { sum = callLua(sum, 1); } return sum; }";
/// The mods an event reaches, half JavaScript, half Lua, one handler each.
pub const HANDLERS: usize = 100;
const LISTENER_JS: &str = "let seen = 0;\nmodhost.events.on('tick', (p) => { seen += p.n; });\n";
const LISTENER_LUA: &str =
    "local seen = 0\nmodhost.events.on('tick', function(p) seen = seen + p.n end)\n";
const LIMIT: usize = 64 << 20;

/// The pack the calls go into: `js` and `lua` with `add`, `caller` relaying to `lua` through
/// `modhost.mods.call`, and the event's listeners (left out when `listeners` is false).
pub fn write_call_pack(mods: &Path, listeners: bool) {
    write_mod(mods, "js", "main.js", ADD_JS, "");
    write_mod(mods, "lua", "main.lua", ADD_LUA, "");
    write_mod(mods, "caller", "main.js", RELAY_JS, "");
    if listeners {
        write_half_and_half(mods, "listener-", HANDLERS, LISTENER_JS, LISTENER_LUA);
    }
}

/// A QuickJS engine with the host's limits: a memory limit and an interrupt handler that
/// checks a deadline.
pub fn limited_js() -> (rquickjs::Runtime, rquickjs::Context) {
    let runtime = rquickjs::Runtime::new().expect("runtime");
    runtime.set_memory_limit(LIMIT);
    let started = Instant::now();
    runtime.set_interrupt_handler(Some(Box::new(move || started.elapsed().as_secs() > 3600)));
    let context = rquickjs::Context::full(&runtime).expect("context");
    (runtime, context)
}

/// A Lua state with the host's limits: a memory limit and a count hook.
pub fn limited_lua() -> mlua::Lua {
    let lua = hooked_lua();
    lua.set_memory_limit(LIMIT).expect("memory limit");
    lua
}

/// A Lua state with the deadline's count hook alone, no memory limit: the hook's own cost.
pub fn hooked_lua() -> mlua::Lua {
    let lua = mlua::Lua::new();
    lua.set_global_hook(
        mlua::HookTriggers::new().every_nth_instruction(10_000),
        |_, _| Ok(mlua::VmState::Continue),
    )
    .expect("hook");
    lua
}

/// `add(1, 2)` called in `lua` directly.
pub fn raw_lua_call(lua: &mlua::Lua) {
    let add: mlua::Function = lua.globals().get("add").expect("add");
    let sum: i64 = add.call((1, 2)).expect("call");
    assert_eq!(sum, 3);
}

/// The arguments of every `add` call.
pub fn add_args() -> [Value; 2] {
    [Value::from(1), Value::from(2)]
}

pub fn host_js_call(host: &Host, args: &[Value]) {
    let sum = host.call("js", "add", args).expect("call");
    assert_eq!(sum, Value::Int(3));
}

pub fn host_lua_call(host: &Host, args: &[Value]) {
    let sum = host.call("lua", "add", args).expect("call");
    assert_eq!(sum, Value::Int(3));
}

/// The argument of every `greet` call: a short string, as an event name or a key is.
pub fn greet_args() -> [Value; 1] {
    [Value::from("Ada")]
}

/// `greet("Ada")` in mod `id`: a short string each way.
pub fn host_greet(host: &Host, id: &str, args: &[Value]) {
    let greeting = host.call(id, "greet", args).expect("call");
    assert_eq!(greeting.as_str(), Some("hello, Ada"));
}

/// `relays` calls through `modhost.mods.call` from JavaScript into Lua.
pub fn host_relay(host: &Host, relays: u32) {
    let sum = host
        .call("caller", "relay", &[Value::from(relays)])
        .expect("relay");
    assert_eq!(sum, Value::from(relays));
}

/// One event to every listener.
pub fn host_emit(host: &Host) {
    let payload = modhost::Object::from_iter([("n", Value::from(1))]);
    host.emit("tick", payload).expect("emit");
}

/// The floors of the calls, each engine made once with the host's limits.
pub struct CallFloors {
    _js_runtime: rquickjs::Runtime,
    pub js: rquickjs::Context,
    pub lua: mlua::Lua,
    _relay_runtime: rquickjs::Runtime,
    relay: rquickjs::Context,
    listeners: Vec<Listener>,
}

enum Listener {
    Js(rquickjs::Runtime, rquickjs::Context),
    Lua(mlua::Lua),
}

impl CallFloors {
    /// The engines; the event's 100 only when `listeners` is true.
    pub fn new(listeners: bool) -> Self {
        let (js_runtime, js) = limited_js();
        js.with(|ctx| ctx.eval::<(), _>(ADD_JS).expect("eval"));
        let lua = limited_lua();
        lua.load(ADD_LUA).exec().expect("load");
        // A cross-language call: JS calls a native Rust function that calls the Lua function.
        let (relay_runtime, relay) = limited_js();
        relay.with(|ctx| {
            let lua = lua.clone();
            let native = rquickjs::Function::new(ctx.clone(), move |a: f64, b: f64| -> f64 {
                let add: mlua::Function = lua.globals().get("add").expect("add");
                add.call((a, b)).expect("call")
            })
            .expect("native");
            ctx.globals().set("callLua", native).expect("set");
            ctx.eval::<(), _>(RELAY_FLOOR_JS).expect("relay");
        });
        // An event's floor: the same 100 functions, each in an engine of its own.
        let listeners = (0..HANDLERS)
            .filter(|_| listeners)
            .map(|index| {
                if index % 2 == 0 {
                    let (runtime, context) = limited_js();
                    context.with(|ctx| {
                        ctx.eval::<(), _>("let seen = 0;\nfunction handler(p) { seen += p.n; }")
                            .expect("handler");
                    });
                    Listener::Js(runtime, context)
                } else {
                    let lua = limited_lua();
                    lua.load("local seen = 0\nfunction handler(p) seen = seen + p.n end")
                        .exec()
                        .expect("handler");
                    Listener::Lua(lua)
                }
            })
            .collect();
        CallFloors {
            _js_runtime: js_runtime,
            js,
            lua,
            _relay_runtime: relay_runtime,
            relay,
            listeners,
        }
    }

    /// The context is entered per call, as the host must: each call is a separate entry.
    pub fn js_call(&self) {
        self.js.with(|ctx| {
            let add: rquickjs::Function = ctx.globals().get("add").expect("add");
            let sum: i32 = add.call((1, 2)).expect("call");
            assert_eq!(sum, 3);
        });
    }

    pub fn lua_call(&self) {
        raw_lua_call(&self.lua);
    }

    /// `greet("Ada")`, its result read as a Rust string.
    pub fn js_greet(&self) {
        self.js.with(|ctx| {
            let greet: rquickjs::Function = ctx.globals().get("greet").expect("greet");
            let greeting: String = greet.call(("Ada",)).expect("call");
            assert_eq!(greeting, "hello, Ada");
        });
    }

    pub fn lua_greet(&self) {
        let greet: mlua::Function = self.lua.globals().get("greet").expect("greet");
        let greeting: String = greet.call("Ada").expect("call");
        assert_eq!(greeting, "hello, Ada");
    }

    pub fn relay(&self, relays: u32) {
        self.relay.with(|ctx| {
            let relay: rquickjs::Function = ctx.globals().get("relay").expect("relay");
            let sum: f64 = relay.call((relays,)).expect("relay");
            assert_eq!(sum, f64::from(relays));
        });
    }

    /// Each listener's function called directly with a payload made fresh for it.
    pub fn emit(&self) {
        for listener in &self.listeners {
            match listener {
                Listener::Js(_, context) => context.with(|ctx| {
                    let payload = rquickjs::Object::new(ctx.clone()).expect("payload");
                    payload.set("n", 1).expect("n");
                    let handler: rquickjs::Function =
                        ctx.globals().get("handler").expect("handler");
                    handler.call::<_, ()>((payload,)).expect("call");
                }),
                Listener::Lua(lua) => {
                    let payload = lua.create_table().expect("payload");
                    payload.set("n", 1).expect("n");
                    let handler: mlua::Function = lua.globals().get("handler").expect("handler");
                    handler.call::<()>(payload).expect("call");
                }
            }
        }
    }
}

/// A pack of `count` mods to start, half JavaScript, half Lua (the floor's mods), and their
/// entry points, each marked JavaScript or not.
pub fn write_start_pack(mods: &Path, count: usize) -> Vec<(bool, PathBuf)> {
    write_half_and_half(mods, "mod-", count, floor::JS_MOD, floor::LUA_MOD);
    (0..count)
        .map(|index| {
            let is_js = index % 2 == 0;
            let entry = if is_js { "main.js" } else { "main.lua" };
            (is_js, mods.join(format!("mod-{index:05}")).join(entry))
        })
        .collect()
}

/// The floor starting the same sources with the same limits and hooks.
pub fn floor_start(
    entry_points: &[(bool, PathBuf)],
) -> (Vec<(rquickjs::Context, rquickjs::Runtime)>, Vec<mlua::Lua>) {
    let mut javascript = Vec::new();
    let mut lua = Vec::new();
    for (is_js, entry_point) in entry_points {
        let source = std::fs::read_to_string(entry_point).expect("source");
        if *is_js {
            javascript.push(floor::js_mod(&source));
        } else {
            lua.push(floor::lua_mod(&source));
        }
    }
    (javascript, lua)
}
