//! The floor of starting a mod: an engine with the host's standard library and limits, a
//! `modhost.events.on` that keeps the handler, the entry point evaluated and its hooks called
//! (`onAttach`, then `onBootstrap`, as the host calls them).

use std::time::{Duration, Instant};

const MEMORY_LIMIT: usize = 64 << 20;
const CALL_TIMEOUT: Duration = Duration::from_millis(1_000);

/// A mod in each language that the floor and the host both start: hooks and a handler.
pub const JS_MOD: &str = "let count = 0;\nfunction onBootstrap() { count += 1; }\nfunction onAttach() { modhost.events.on('tick', (n) => { count += n; }); }\nfunction value() { return count; }\n";
pub const LUA_MOD: &str = "local count = 0\nfunction onBootstrap() count = count + 1 end\nfunction onAttach() modhost.events.on('tick', function(n) count = count + n end) end\nfunction value() return count end\n";

fn deadline_passed(since: Instant) -> bool {
    since.elapsed() > CALL_TIMEOUT
}

/// A JavaScript engine with a memory limit and an interrupt handler, a `modhost.events.on`
/// that keeps the handler, the entry point evaluated and both hooks called.
pub fn js_mod(source: &str) -> (rquickjs::Context, rquickjs::Runtime) {
    let runtime = rquickjs::Runtime::new().expect("runtime");
    runtime.set_memory_limit(MEMORY_LIMIT);
    let entered = Instant::now();
    runtime.set_interrupt_handler(Some(Box::new(move || deadline_passed(entered))));
    let context = rquickjs::Context::full(&runtime).expect("context");
    context.with(|ctx| {
        let handlers = rquickjs::Array::new(ctx.clone()).expect("array");
        ctx.globals().set("__handlers", handlers).expect("set");
        ctx.eval::<(), _>(
            "globalThis.modhost = { events: { on(name, f) { __handlers.push([name, f]); } } };",
        )
        .expect("api");
        ctx.eval::<(), _>(source).expect("entry point");
        for hook in ["onAttach", "onBootstrap"] {
            let function: rquickjs::Function = ctx.globals().get(hook).expect("hook");
            function.call::<_, ()>(()).expect("hook call");
        }
    });
    (context, runtime)
}

/// A Lua state with the host's standard library set, a memory limit and a count hook, the
/// same `modhost.events.on`, the entry point evaluated and both hooks called.
pub fn lua_mod(source: &str) -> mlua::Lua {
    let libraries = mlua::StdLib::TABLE
        | mlua::StdLib::STRING
        | mlua::StdLib::MATH
        | mlua::StdLib::UTF8
        | mlua::StdLib::COROUTINE;
    let lua = mlua::Lua::new_with(libraries, mlua::LuaOptions::default()).expect("lua");
    lua.set_memory_limit(MEMORY_LIMIT).expect("memory limit");
    let entered = Instant::now();
    lua.set_global_hook(
        mlua::HookTriggers::new().every_nth_instruction(10_000),
        move |_, _| {
            if deadline_passed(entered) {
                Err(mlua::Error::runtime("timed out"))
            } else {
                Ok(mlua::VmState::Continue)
            }
        },
    )
    .expect("hook");
    let handlers = lua.create_table().expect("table");
    let on = lua
        .create_function(move |_, (name, function): (String, mlua::Function)| {
            handlers.raw_set(name, function)
        })
        .expect("on");
    let events = lua.create_table().expect("table");
    events.set("on", on).expect("set");
    let modhost = lua.create_table().expect("table");
    modhost.set("events", events).expect("set");
    lua.globals().set("modhost", modhost).expect("set");
    lua.load(source).exec().expect("entry point");
    for hook in ["onAttach", "onBootstrap"] {
        let function: mlua::Function = lua.globals().get(hook).expect("hook");
        function.call::<()>(()).expect("hook call");
    }
    lua
}
