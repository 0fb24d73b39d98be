//! The `modhost` global (and `print`) inside a Lua mod, plus the sandbox's few `os` functions.

use std::rc::Rc;

use mlua::{FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, Table, Value, Variadic};
use smallvec::SmallVec;

use super::chunks::HostChunk;
use super::{Shared, convert};
use crate::runtime::services::serve_in_call;
use crate::runtime::signatures::{self, Given, Kind};
use crate::runtime::surface;
use crate::runtime::{
    GameGlobal, HandlerId, HostError, Json, LogLevel, Reproducible, ScriptError, Service,
};

/// Globals the host installs, which `functions()` does not offer as callable mod functions.
pub(super) const BUILTIN_GLOBALS: &[&str] = &[
    "assert",
    "collectgarbage",
    "error",
    "getmetatable",
    "ipairs",
    "load",
    "next",
    "pairs",
    "pcall",
    "print",
    "rawequal",
    "rawget",
    "rawlen",
    "rawset",
    "require",
    "select",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "xpcall",
    "warn",
];

/// Installs the API; returns the table behind the read-only `modhost`, where the host swaps
/// in new settings.
pub(super) fn install(
    lua: &Lua,
    shared: &Rc<Shared>,
    info: Json,
    settings: Json,
    game: Option<&GameGlobal>,
    reproducible: Option<&Reproducible>,
) -> mlua::Result<Table> {
    let globals = lua.globals();
    let watched = Rc::downgrade(shared);
    super::strings::install(
        lua,
        Rc::new(move || !watched.upgrade().is_some_and(|shared| shared.clock.tick())),
    )?;
    sandbox(lua, shared)?;
    let os = super::reproducible::os_table(lua, reproducible)?;
    if let Some(reproducible) = reproducible {
        super::reproducible::seed_math(lua, reproducible)?;
    }
    globals.raw_set("os", read_only(lua, os)?)?;

    let modhost = lua.create_table()?;
    // `print` logs as `modhost.log.info` does.
    globals.raw_set("print", logger(lua, shared, LogLevel::Info)?)?;
    let mut namespaces = vec![("events", events(lua, shared)?)];
    if shared.testing.is_some() {
        namespaces.push(("test", super::testing::test_table(lua, shared)?));
    }
    for (name, table) in namespaces {
        let path = format!("modhost.{name}");
        modhost.raw_set(name, api_namespace(lua, &path, table, true)?)?;
    }
    let later = Later {
        shared: Rc::clone(shared),
        info,
        settings,
    };
    let make =
        lua.create_function(move |lua, name: mlua::LuaString| later.make(lua, &name.to_str()?))?;
    globals.raw_set(
        "modhost",
        helper::<Table>(
            lua,
            |helpers| &helpers.namespace,
            (
                "modhost",
                modhost.clone(),
                false,
                make,
                Variadic::from_iter(MADE_ON_FIRST_USE),
            ),
        )?,
    )?;
    if let Some(game) = game {
        let names: Vec<&str> = game.functions.iter().map(String::as_str).collect();
        globals.raw_set(
            game.name.as_str(),
            game_table(lua, shared, &game.name, "", &names)?,
        )?;
    }
    Ok(modhost)
}

/// The members of `modhost` made when a mod first reads one (or lists `modhost`): each
/// namespace is natives and tables, `mod` and `settings` read-only copies, and most mods do
/// not need all of them.
const MADE_ON_FIRST_USE: [&str; 7] = ["log", "mods", "timers", "storage", "fs", "mod", "settings"];

/// What the members in [`MADE_ON_FIRST_USE`] are made from.
struct Later {
    shared: Rc<Shared>,
    info: Json,
    /// The settings the mod started with: once the host replaces them, it puts the new ones in
    /// place itself ([`replace_settings`]), and these are not asked for.
    settings: Json,
}

impl Later {
    fn make(&self, lua: &Lua, name: &str) -> mlua::Result<Value> {
        let (namespace, raises) = match name {
            "mod" => return frozen(lua, &self.info),
            "settings" => return frozen(lua, &self.settings),
            // The log's functions answer nothing to raise.
            "log" => (log(lua, &self.shared)?, false),
            "mods" => (mods(lua, &self.shared)?, true),
            _ => (services(lua, &self.shared, name, None)?, true),
        };
        api_namespace(lua, &format!("modhost.{name}"), namespace, raises).map(Value::Table)
    }
}

/// Replaces `modhost.settings` in the table [`install`] returned.
pub(super) fn replace_settings(lua: &Lua, modhost: &Table, settings: &Json) -> mlua::Result<()> {
    modhost.raw_set("settings", frozen(lua, settings)?)
}

/// A namespace of the game's functions (the game's global `global`) under `prefix`: `names`
/// are the dotted names below it (`world.spawn` under the root, `spawn` under `world`).
fn game_table(
    lua: &Lua,
    shared: &Rc<Shared>,
    global: &str,
    prefix: &str,
    names: &[&str],
) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let mut namespaces: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for name in names {
        match name.split_once('.') {
            Some((namespace, rest)) => namespaces.entry(namespace).or_default().push(rest),
            None => {
                let caller = Rc::clone(shared);
                let function = format!("{prefix}{name}");
                let native = host_function(lua, shared, move |lua, args: Variadic<Value>| {
                    // The game has `game_call_timeout_ms` of its own: waiting for it is not
                    // the mod's time.
                    let args: Vec<Json> = match all_to_json(lua, &args) {
                        Ok(args) => args,
                        Err(message) => return outcome(lua, Err(message)),
                    };
                    if let Some(mocked) =
                        super::testing::answer_game_call(lua, &caller, &function, &args)
                    {
                        return Ok((true, mocked?));
                    }
                    super::reproducible::locate(lua, &caller);
                    let result = caller
                        .clock
                        .paused(|| caller.host.game_call(&caller.mod_id, &function, args));
                    outcome(lua, result)
                })?;
                table.raw_set(*name, native)?;
            }
        }
    }
    for (namespace, inner) in namespaces {
        let nested = game_table(
            lua,
            shared,
            global,
            &format!("{prefix}{namespace}."),
            &inner,
        )?;
        table.raw_set(namespace, nested)?;
    }
    api_namespace(
        lua,
        format!("{global}.{prefix}").trim_end_matches('.'),
        table,
        true,
    )
}

/// Runs [`sandbox.lua`](sandbox.lua) with the natives it needs, and keeps the helpers it
/// returns with the state ([`Helpers`]).
fn sandbox(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<()> {
    static SANDBOX: HostChunk = HostChunk::new(include_str!("sandbox.lua"));
    let describe = lua.create_function(|lua, value: Value| {
        Ok(convert::to_json(lua, &value).map_or_else(
            |_| value.type_name().to_owned(),
            |json| format!("error value {json}"),
        ))
    })?;
    let level_of =
        lua.create_function(|lua, level: i64| Ok(super::raising::mod_level(lua, level)))?;
    // Lua's `luaL_getmetafield(L, 1, "__metatable")`: whether the metatable is protected.
    let protected = lua.create_function(|_, table: Table| {
        Ok(table
            .metatable()
            .is_some_and(|meta| !matches!(meta.raw_get::<Value>("__metatable"), Ok(Value::Nil))))
    })?;
    let rawset_unless_read_only =
        lua.create_function(|_, (table, key, value): (Table, Value, Value)| {
            if convert::read_only_target(&table).is_some() {
                return Ok((false, Value::Nil));
            }
            table.raw_set(key, value)?;
            Ok((true, Value::Table(table)))
        })?;
    let (read_only, raising, namespace, frozen) = SANDBOX.function(lua)?.call((
        lua.globals(),
        describe,
        level_of,
        caught(lua, shared)?,
        protected,
        rawset_unless_read_only,
        missing_member(lua)?,
        convert::PROXY_MARKER,
    ))?;
    lua.set_app_data(Helpers {
        read_only,
        raising,
        namespace,
        frozen,
    });
    Ok(())
}

/// What the sandbox's `pcall`, `xpcall` and `coroutine.resume` ask of an error they caught:
/// whether the call is stopped, and the error as the mod should see it. Lua reports an
/// exhausted `memory_mb` with its preallocated "not enough memory", which is a breach.
fn caught(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Function> {
    let watched = Rc::downgrade(shared);
    lua.create_function(move |lua, caught: Value| {
        let Some(shared) = watched.upgrade() else {
            return Ok((false, caught));
        };
        let seen = match caught {
            Value::Error(error) => Value::String(lua.create_string(native_message(&error))?),
            other => other,
        };
        if let Value::String(message) = &seen
            && message.as_bytes().as_ref() == b"not enough memory"
        {
            shared
                .clock
                .breach(ScriptError::out_of_memory(shared.memory_mb, None));
        }
        Ok((shared.clock.must_stop(), seen))
    })
}

/// The message of an error a native function raised, as Lua's C functions raise theirs: the
/// innermost cause, without the binding's "runtime error:" or traceback.
fn native_message(error: &mlua::Error) -> String {
    match error {
        mlua::Error::CallbackError { cause, .. } => native_message(cause),
        // An error of Lua code the native called (a `gsub` replacement function) comes back
        // with the binding's traceback after it.
        mlua::Error::RuntimeError(message) => message
            .split_once("\nstack traceback:\n")
            .map_or(message.as_str(), |(message, _)| message)
            .to_owned(),
        mlua::Error::MemoryError(_) => "not enough memory".to_owned(),
        other => other.to_string(),
    }
}

/// A namespace's `__index`: reading a member it does not have answers `(false, message)`
/// naming the closest one and the ones it has ([`crate::suggest::missing_member`]).
fn missing_member(lua: &Lua) -> mlua::Result<Function> {
    lua.create_function(|_, (namespace, key): (Table, Value)| {
        let meta = namespace.metatable();
        let path: String = meta
            .as_ref()
            .map(|meta| meta.raw_get("namespace"))
            .transpose()?
            .unwrap_or_default();
        let key = match &key {
            Value::String(key) => key.to_string_lossy(),
            other => format!("{other:?}"),
        };
        // The members made already, and those made on first use.
        let later: Option<Table> = meta
            .map(|meta| meta.raw_get("later"))
            .transpose()?
            .flatten();
        let mut names: Vec<String> = Vec::new();
        for table in std::iter::once(namespace).chain(later) {
            let members = table.pairs::<String, Value>();
            names.extend(members.filter_map(|pair| pair.ok().map(|(name, _)| name)));
        }
        Ok((
            false,
            crate::suggest::missing_member(&path, &key, names.iter().map(String::as_str)),
        ))
    })
}

/// The helpers [`sandbox.lua`](sandbox.lua) returns, kept with the state.
struct Helpers {
    read_only: Function,
    raising: Function,
    namespace: Function,
    frozen: Function,
}

/// Calls one of the state's [`Helpers`].
fn helper<R: FromLuaMulti>(
    lua: &Lua,
    which: fn(&Helpers) -> &Function,
    args: impl IntoLuaMulti,
) -> mlua::Result<R> {
    let function = lua
        .app_data_ref::<Helpers>()
        .map(|helpers| which(&helpers).clone())
        .ok_or_else(|| mlua::Error::runtime("the sandbox is not installed"))?;
    function.call(args)
}

/// A namespace of the API (`modhost.log`, `game.world`, …) at `path`, read-only, where reading
/// a member it does not have raises naming the closest one instead of giving `nil`, which
/// would fail later as "attempt to call a nil value". With `raises`, its functions are natives
/// that answer `(true, value)` or `(false, message)`, made to raise the message ([`raising`]).
fn api_namespace(lua: &Lua, path: &str, table: Table, raises: bool) -> mlua::Result<Table> {
    helper(lua, |helpers| &helpers.namespace, (path, table, raises))
}

/// A proxy that reads through to `table` and refuses writes.
fn read_only(lua: &Lua, table: Table) -> mlua::Result<Table> {
    helper(lua, |helpers| &helpers.read_only, table)
}

/// A read-only copy of a JSON value, nested tables included.
fn frozen(lua: &Lua, json: &Json) -> mlua::Result<Value> {
    helper(
        lua,
        |helpers| &helpers.frozen,
        convert::from_json(lua, json)?,
    )
}

/// `modhost.log`'s functions, one for each level.
fn log(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Table> {
    let log = lua.create_table()?;
    for level in LogLevel::ALL {
        log.raw_set(level.name(), logger(lua, shared, level)?)?;
    }
    Ok(log)
}

fn logger(lua: &Lua, shared: &Rc<Shared>, level: LogLevel) -> mlua::Result<Function> {
    let owner = Rc::clone(shared);
    host_function(lua, shared, move |lua, args: Variadic<Value>| {
        let message = args
            .iter()
            .map(|value| display(lua, value))
            .collect::<Vec<_>>()
            .join(" ");
        super::reproducible::locate(lua, &owner);
        owner.host.log(&owner.mod_id, level, &message);
        Ok(())
    })
}

/// How `print` shows a value: as Lua's `tostring` would, but tables as JSON.
fn display(lua: &Lua, value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string_lossy(),
        Value::Table(_) => convert::to_json(lua, value)
            .map_or_else(|_| "table".to_owned(), |json| json.to_string()),
        other => other
            .to_string()
            .unwrap_or_else(|_| other.type_name().to_owned()),
    }
}

/// A host function: the running call's deadline holds at its entry too, so time spent in host
/// functions counts, and a call that has run out stops here (the wrapped `pcall` passes the
/// error on).
fn host_function<A, R>(
    lua: &Lua,
    shared: &Rc<Shared>,
    body: impl Fn(&Lua, A) -> mlua::Result<R> + 'static,
) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    let watched = Rc::downgrade(shared);
    lua.create_function(move |lua, args: A| {
        if watched.upgrade().is_some_and(|shared| shared.clock.tick()) {
            return Err(mlua::Error::runtime(STOPPED));
        }
        body(lua, args)
    })
}

/// A host function of the `modhost` function `path` (`storage.get`), for a namespace that
/// raises ([`api_namespace`]): its arguments are checked against the API description first,
/// so a wrong one is named with the function, the parameter and the type
/// ([`signatures::check`], a number passing for a string as in Lua), then converted as
/// `body` takes them; `body` answers `(true, value)` or `(false, message)`.
pub(super) fn checked_function<A>(
    lua: &Lua,
    shared: &Rc<Shared>,
    path: &'static str,
    body: impl Fn(&Lua, A) -> mlua::Result<(bool, Value)> + 'static,
) -> mlua::Result<Function>
where
    A: FromLuaMulti,
{
    host_function(lua, shared, move |lua, args: MultiValue| {
        let given: SmallVec<[Given; 4]> = args.iter().map(given).collect();
        let shown = |index: usize| format!("a {}", args.get(index).map_or("nil", lua_type));
        if let Err(message) = signatures::check(path, &given, &shown, true) {
            return Ok((false, Value::String(lua.create_string(message)?)));
        }
        body(lua, A::from_lua_multi(args, lua)?)
    })
}

/// What an argument is, as [`signatures::check`] asks.
fn given(value: &Value) -> Given {
    match value {
        Value::Nil => Given::Missing,
        Value::String(_) => Given::Of(Kind::String),
        Value::Integer(_) | Value::Number(_) => Given::Of(Kind::Number),
        Value::Boolean(_) => Given::Of(Kind::Boolean),
        Value::Function(_) => Given::Of(Kind::Function),
        _ => Given::Other,
    }
}

/// Lua's `type(value)`.
fn lua_type(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) | Value::Number(_) => "number",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        other => other.type_name(),
    }
}

/// What a stopped call raises on its way out (the host reports the limit itself).
const STOPPED: &str = "the call was stopped for breaking a limit";

/// Turns a native function that returns `(ok, value_or_message)` into one that raises the
/// message as a plain string error at the caller's line, as Lua's own functions do.
pub(super) fn raising(lua: &Lua, native: Function) -> mlua::Result<Function> {
    helper(lua, |helpers| &helpers.raising, native)
}

/// `(true, value)` or `(false, message)`, for [`raising`].
pub(super) fn outcome(lua: &Lua, result: Result<Json, String>) -> mlua::Result<(bool, Value)> {
    match result {
        Ok(json) => Ok((true, convert::from_json(lua, &json)?)),
        Err(message) => Ok((false, Value::String(lua.create_string(message)?))),
    }
}

/// A string parameter of the two hot API functions, which take their arguments as they come
/// (the others are checked by [`checked_function`]): a number stands for its text, as in Lua.
/// A string is read in place (a copy was a tenth of `modhost.mods.call`).
fn text_argument(value: &Value, function: &str, name: &str) -> Result<Text, String> {
    match value {
        Value::String(text) => Ok(match text.to_str() {
            Ok(text) => Text::Borrowed(text),
            Err(_) => Text::Owned(text.to_string_lossy()),
        }),
        Value::Integer(number) => Ok(Text::Owned(number.to_string())),
        Value::Number(number) => Ok(Text::Owned(number.to_string())),
        Value::Nil => Err(format!(
            "{function}: parameter `{name}` is missing (it takes a string)"
        )),
        other => Err(format!(
            "{function}: parameter `{name}` takes a string, got a {}",
            other.type_name()
        )),
    }
}

/// A string argument's text: a Lua string's own bytes when they are UTF-8.
enum Text {
    Borrowed(mlua::BorrowedStr),
    Owned(String),
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(text) => text,
            Text::Owned(text) => text,
        }
    }
}

fn all_to_json<C: FromIterator<Json>>(lua: &Lua, values: &[Value]) -> Result<C, String> {
    values
        .iter()
        .map(|value| convert::to_json(lua, value).map_err(|error| error.message))
        .collect()
}

fn mods(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Table> {
    let mods = lua.create_table()?;
    let caller = Rc::clone(shared);
    let call = host_function(
        lua,
        shared,
        move |lua, (target, function, args): (Value, Value, Variadic<Value>)| {
            let named = |value: &Value, name: &str| text_argument(value, "modhost.mods.call", name);
            let result = named(&target, "mod").and_then(|target| {
                let function = named(&function, "function")?;
                let args: SmallVec<[Json; 4]> = all_to_json(lua, &args)?;
                caller.host.call(&caller.mod_id, &target, &function, &args)
            });
            outcome(lua, result)
        },
    )?;
    mods.raw_set("call", call)?;
    services(lua, shared, "mods", Some(mods))
}

/// A table (`storage`) with each service of the surface in it ([`Service`]): one native each,
/// which checks and converts the arguments (a function becomes a handler the instance keeps)
/// and asks the host.
pub(super) fn services(
    lua: &Lua,
    shared: &Rc<Shared>,
    namespace: &str,
    into: Option<Table>,
) -> mlua::Result<Table> {
    let table = match into {
        Some(table) => table,
        None => lua.create_table()?,
    };
    for (name, path, service) in Service::in_namespace(namespace) {
        let owner = Rc::clone(shared);
        let nothing = surface::returns_nothing(path);
        let native = checked_function(lua, shared, path, move |lua, args: MultiValue| {
            let mut kept: SmallVec<[HandlerId; 1]> = SmallVec::new();
            let mut given: SmallVec<[Json; 4]> = SmallVec::new();
            for (index, value) in args.into_iter().enumerate() {
                given.push(match value {
                    Value::Function(function) if signatures::takes_function(path, index) => {
                        let handler = owner.host.next_handler_id();
                        owner.handlers.borrow_mut().insert(handler, function);
                        kept.push(handler);
                        Json::from(handler)
                    }
                    value => match convert::to_json(lua, &value) {
                        Ok(json) => json,
                        Err(error) => return outcome(lua, Err(error.message)),
                    },
                });
            }
            match serve_in_call(&*owner.host, &owner.clock, &owner.mod_id, service, &given) {
                Ok(_) if nothing => Ok((true, Value::Nil)),
                Ok(answer) => outcome(lua, Ok(answer)),
                Err(message) => {
                    let mut handlers = owner.handlers.borrow_mut();
                    kept.iter()
                        .for_each(|handler| drop(handlers.remove(handler)));
                    outcome(lua, Err(message))
                }
            }
        })?;
        table.raw_set(name, native)?;
    }
    Ok(table)
}

fn events(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<Table> {
    let events = lua.create_table()?;
    let emitter = Rc::clone(shared);
    let emit = host_function(lua, shared, move |lua, (event, payload): (Value, Value)| {
        let event = match text_argument(&event, "modhost.events.emit", "event") {
            Ok(event) => event,
            Err(message) => return outcome(lua, Err(message)),
        };
        let payload = match convert::to_json(lua, &payload) {
            Ok(payload) => payload,
            Err(error) => return outcome(lua, Err(error.message)),
        };
        super::reproducible::locate(lua, &emitter);
        match emitter.host.emit(&emitter.mod_id, &event, payload) {
            Ok(()) => outcome(lua, Ok(Json::Null)),
            Err(HostError::Refused(message)) => outcome(lua, Err(message)),
            Err(HostError::Breach(error)) => {
                emitter.clock.breach(error);
                Err(mlua::Error::runtime(STOPPED))
            }
        }
    })?;
    events.raw_set("emit", emit)?;
    services(lua, shared, "events", Some(events))
}
