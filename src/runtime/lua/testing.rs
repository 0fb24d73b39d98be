//! `modhost test` in Lua (SPEC section 14): the `modhost.test` table (a virtual clock, events
//! delivered to the mod's own handlers, what it emitted, game functions mocked and their calls
//! recorded), and loading a test file with the test API
//! ([`test_framework.lua`](test_framework.lua)) after the mod's entry point.

use std::path::Path;
use std::rc::Rc;

use mlua::{Function, Lua, LuaSerdeExt, MultiValue, Table, Value};

use super::bindings::checked_function;
use super::{Shared, chunk_name, convert};
use crate::runtime::doubles::GameDoubles;
use crate::runtime::{HandlerKind, Json, TestStep};

/// The game functions a test mocked, and the arguments of every game call the mod made.
pub(super) type TestDoubles = GameDoubles<Function>;

/// Records a game call and, when the test mocked the function, answers it: `None` when the
/// host should answer (with the game, or the typed stub).
pub(super) fn answer_game_call(
    lua: &Lua,
    shared: &Shared,
    function: &str,
    args: &[Json],
) -> Option<mlua::Result<Value>> {
    let mock = shared.testing.as_ref()?.called(function, args)?;
    Some((|| {
        let values = args
            .iter()
            .map(|arg| convert::from_json(lua, arg))
            .collect::<mlua::Result<MultiValue>>()?;
        mock.call::<Value>(values)
    })())
}

/// `modhost.test`.
pub(super) fn test_table(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Table> {
    let test = lua.create_table()?;

    let clock = Rc::clone(shared);
    test.raw_set(
        "advance",
        checked_function(lua, shared, "test.advance", move |_, ms: f64| {
            let until = clock.host.test_now_ms() + ms.max(0.0) as u64;
            while let Some(handler) = clock.host.test_next_timer(&clock.mod_id, until) {
                let function = clock.handlers.borrow().get(&handler).cloned();
                if let Some(function) = function {
                    function.call::<()>(())?;
                }
            }
            Ok((true, Value::Nil))
        })?,
    )?;

    let emitter = Rc::clone(shared);
    test.raw_set(
        "emit",
        checked_function(
            lua,
            shared,
            "test.emit",
            move |_, (event, payload): (String, Value)| {
                let mut payload = payload;
                for (handler, kind) in emitter.host.test_handlers(&emitter.mod_id, &event) {
                    let function = emitter.handlers.borrow().get(&handler).cloned();
                    let Some(function) = function else { continue };
                    let answer: Value = function.call((payload.clone(), event.as_str()))?;
                    if kind == HandlerKind::Before {
                        match answer {
                            Value::Boolean(false) => break,
                            Value::Table(_) => payload = answer,
                            _ => {}
                        }
                    }
                }
                Ok((true, payload))
            },
        )?,
    )?;

    let mocker = Rc::clone(shared);
    test.raw_set(
        "mock",
        checked_function(
            lua,
            shared,
            "test.mock",
            move |lua, (function, answer): (String, Function)| {
                let refused = match &mocker.testing {
                    Some(doubles) => doubles.mock(function, answer).err(),
                    None => None,
                };
                Ok(match refused {
                    Some(message) => (false, Value::String(lua.create_string(message)?)),
                    None => (true, Value::Nil),
                })
            },
        )?,
    )?;

    let watcher = Rc::clone(shared);
    test.raw_set(
        "calls",
        checked_function(lua, shared, "test.calls", move |lua, function: String| {
            let calls = match &watcher.testing {
                Some(doubles) => doubles.calls(&function),
                None => Ok(Vec::new()),
            };
            super::bindings::outcome(lua, calls.map(Json::Array))
        })?,
    )?;
    super::bindings::services(lua, shared, "test", Some(test))
}

/// Runs the test API's chunk, then the test file (with the entry point's exports as its
/// argument, and `require` of the entry point answering them), then the tests.
pub(super) fn load_and_run(
    lua: &Lua,
    shared: &Rc<Shared>,
    file: &Path,
    source: Vec<u8>,
    exports: Option<&Table>,
    grep: Option<&str>,
) -> mlua::Result<Value> {
    let name = chunk_name(file);
    let reporter = Rc::clone(shared);
    let progress = lua.create_function(move |lua, (kind, value): (String, Value)| {
        let step = convert::to_json(lua, &value)
            .ok()
            .and_then(|value| TestStep::from_report(&kind, value));
        if let Some(step) = step {
            reporter.host.test_progress(step);
        }
        Ok(())
    })?;
    let run: Function = lua
        .load(include_str!("test_framework.lua"))
        .set_name("=modhost test")
        .call((name.as_str(), progress))?;
    lua.load(source)
        .set_name(name)
        .call::<()>(exports.cloned())?;
    let results: Table = run.call(grep)?;
    // The list of results is a list even when no test ran (`--grep` matched none, or the file
    // has none): an empty Lua table would otherwise cross as an empty object.
    results.set_metatable(Some(lua.array_metatable()))?;
    Ok(Value::Table(results))
}
