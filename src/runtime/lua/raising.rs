//! Errors raised the way Lua's C library raises them, for the library functions the host
//! replaces with its own (the pattern functions of [`super::strings`]) and for the levels of
//! `error`: the argument checks (`luaL_checklstring`, `luaL_optinteger`, `luaL_argexpected`)
//! with their conversions and exact messages, the caller's position before a message
//! (`luaL_where`), and error levels that do not count the host's own wrapper frames. A mod
//! copied from a plain Lua library sees `init.lua:3: bad argument #1 to 'find' (string
//! expected, got nil)`, as it would there, not a conversion error of the binding's.

use mlua::{Lua, LuaString, MultiValue, Value};

/// The arguments of one call, as Lua passed them (so "no value" and `nil` stay apart).
pub(super) struct Arguments<'a> {
    lua: &'a Lua,
    values: MultiValue,
}

impl<'a> Arguments<'a> {
    pub(super) fn new(lua: &'a Lua, values: MultiValue) -> Self {
        Self { lua, values }
    }

    /// Argument `position` (1-based), `None` when the call had fewer.
    pub(super) fn get(&self, position: usize) -> Option<&Value> {
        self.values.get(position - 1)
    }

    /// `luaL_checklstring`: a string, or a number turned into one.
    pub(super) fn string(&self, position: usize) -> mlua::Result<LuaString> {
        let value = self.get(position).cloned().unwrap_or(Value::Nil);
        if matches!(
            value,
            Value::String(_) | Value::Integer(_) | Value::Number(_)
        ) && let Some(text) = self.lua.coerce_string(value)?
        {
            return Ok(text);
        }
        Err(self.type_error(position, "string"))
    }

    /// `luaL_optinteger`: `default` when absent or `nil`, else an integer, a float with an
    /// integer value, or a string that reads as one.
    pub(super) fn optional_integer(&self, position: usize, default: i64) -> mlua::Result<i64> {
        let value = match self.get(position) {
            None | Some(Value::Nil) => return Ok(default),
            Some(value) => value.clone(),
        };
        if let Some(integer) = self.lua.coerce_integer(value.clone())? {
            return Ok(integer);
        }
        let numeric = matches!(value, Value::Number(_) | Value::String(_))
            && self.lua.coerce_number(value)?.is_some();
        if numeric {
            return Err(self.argument_error(position, "number has no integer representation"));
        }
        Err(self.type_error(position, "number"))
    }

    /// `luaL_typeerror`: `expected` was wanted, the argument is something else.
    pub(super) fn type_error(&self, position: usize, expected: &str) -> mlua::Error {
        let got = match self.get(position) {
            None => "no value".to_owned(),
            Some(value) => type_name(value),
        };
        self.argument_error(position, &format!("{expected} expected, got {got}"))
    }

    /// `luaL_argerror`: names the function as the caller wrote it (`find`, or the local it was
    /// assigned to), counting `self` out of a method call.
    pub(super) fn argument_error(&self, position: usize, extra: &str) -> mlua::Error {
        let (name, method) = self
            .lua
            .inspect_stack(0, |frame| {
                let names = frame.names();
                (
                    names.name.map(|name| name.into_owned()),
                    names.name_what == Some("method"),
                )
            })
            .unwrap_or((None, false));
        let name = name.unwrap_or_else(|| "?".to_owned());
        let message = match position {
            1 if method => format!("calling '{name}' on bad self ({extra})"),
            _ if method => format!("bad argument #{} to '{name}' ({extra})", position - 1),
            _ => format!("bad argument #{position} to '{name}' ({extra})"),
        };
        raised(self.lua, &message)
    }
}

/// What a host frame's source is: the host's own chunks are named `=modhost`.
const HOST_SOURCE: &str = "=modhost";

/// An error with `message` raised by a native function, as `luaL_error` raises it: after the
/// position of the Lua code that called the function, if Lua code did.
pub(super) fn raised(lua: &Lua, message: &str) -> mlua::Error {
    let position = lua
        .inspect_stack(1, |frame| {
            let line = frame.current_line()?;
            let source = frame.source();
            Some(format!("{}:{line}: ", source.short_src?))
        })
        .flatten()
        .unwrap_or_default();
    mlua::Error::runtime(format!("{position}{message}"))
}

/// For the host's `error` wrapper, which calls this: the level to give Lua's own `error` so
/// that it blames the frame a mod's `level` means, with the host's wrapper frames (`pcall`,
/// `xpcall`, `coroutine.resume`) not counted, as they are not there in plain Lua.
pub(super) fn mod_level(lua: &Lua, level: i64) -> i64 {
    if level <= 0 {
        return level;
    }
    // Frame 0 is this function and frame 1 the `error` wrapper; the mod's level 1 is the
    // wrapper's caller, and its level n the n-th frame up from there that is not the host's.
    let mut frame = 1;
    let mut counted = 0;
    while counted < level {
        frame += 1;
        let host = lua.inspect_stack(frame as usize, |frame| {
            frame.source().source.as_deref() == Some(HOST_SOURCE)
        });
        match host {
            None => return frame,
            Some(true) => {}
            Some(false) => counted += 1,
        }
    }
    frame
}

/// `luaL_typename`, or the `__name` of a table's metatable, as `luaL_typeerror` shows it
/// (a mod's own values are tables; it makes no userdata).
fn type_name(value: &Value) -> String {
    if let Value::Table(table) = value
        && let Some(meta) = table.metatable()
        && let Ok(Value::String(name)) = meta.raw_get::<Value>("__name")
    {
        return name.to_string_lossy();
    }
    match value {
        Value::LightUserData(_) => "light userdata".to_owned(),
        other => other.type_name().to_owned(),
    }
}
