//! The Lua 5.4 backend: one sandboxed Lua state per mod (mlua).
//!
//! The state is built with only the safe standard libraries (`table`, `string`, `math`, `utf8`,
//! `coroutine`, and `os.time`/`os.clock`/`os.date`); `require` is replaced by one that only
//! loads files inside the mod's folder. Every chunk is named after its file, so errors read
//! `mods/foo/init.lua:3: …`. Calls go through `xpcall` so errors carry a traceback.

mod bindings;
mod chunks;
mod convert;
mod pattern;
mod raising;
mod reproducible;
mod require;
mod strings;
mod testing;

use std::cell::RefCell;
// Keys are the host's own handler ids: FxHash, as nobody picks them to collide.
use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};

use super::starter::{self, EditorTypings, Starter};
use super::{
    Backend, CallClock, ErrorKind, HandlerId, HostServices, InstanceSetup, Json, ModInstance,
    Outcome, ScriptError, SyntaxChecker,
};

/// The Lua 5.4 [`Backend`].
pub(crate) struct Lua54;

impl Backend for Lua54 {
    fn name(&self) -> &'static str {
        "lua"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["lua"]
    }

    fn syntax_checker(&self) -> Result<Box<dyn SyntaxChecker>, ScriptError> {
        let lua = Lua::new_with(StdLib::NONE, LuaOptions::default()).map_err(engine_error)?;
        Ok(Box::new(LuaSyntaxChecker(lua)))
    }

    fn instantiate(&self, setup: InstanceSetup) -> Result<Box<dyn ModInstance>, ScriptError> {
        LuaInstance::new(setup).map(|instance| Box::new(instance) as Box<dyn ModInstance>)
    }

    fn declared_functions(&self, source: &str) -> Vec<crate::runtime::declarations::Declared> {
        crate::runtime::declarations::lua(source)
    }

    fn starter(&self) -> Option<&'static Starter> {
        Some(&Starter {
            flag: "lua",
            about: "Lua 5.4, with LuaLS annotations in `.luals/modhost.lua`",
            entry: "init.lua",
            files: &[
                starter::TOML_MANIFEST,
                ("init.lua", include_str!("starter/init.lua")),
                ("tests/init.test.lua", include_str!("starter/init.test.lua")),
                (".luarc.json", include_str!("starter/luarc.json")),
            ],
            executables: &[],
            next_step: starter::EDIT_AND_WATCH,
        })
    }

    fn editor_typings(&self) -> Option<EditorTypings> {
        Some(EditorTypings::LuaLs)
    }
}

/// A bare Lua state that compiles chunks and drops them; the collector frees them as it goes.
struct LuaSyntaxChecker(Lua);

impl SyntaxChecker for LuaSyntaxChecker {
    fn check(&mut self, path: &Path, source: &[u8]) -> Result<(), ScriptError> {
        let source = super::script_text(path, source)?;
        let folder = path.parent().map(crate::paths::shown).unwrap_or_default();
        self.0
            .load(source)
            .set_name(chunk_name(path))
            .into_function()
            .map(drop)
            .map_err(|error| script_error(error, &folder, None, 0))
    }
}

/// `@path`: Lua shows chunks named this way as the bare path in errors.
pub(crate) fn chunk_name(path: &Path) -> String {
    format!("@{}", crate::paths::shown(path))
}

fn engine_error(error: mlua::Error) -> ScriptError {
    ScriptError::new(ErrorKind::Host, format!("Lua: {error}"))
}

/// How often (in VM instructions) the time limit is checked.
const INSTRUCTIONS_PER_CHECK: u32 = 10_000;

/// State shared by the instance and the native functions installed in its state.
pub(crate) struct Shared {
    pub mod_id: String,
    pub mod_path: String,
    /// Whether the host wants to know where the mod's outputs come from (a replay).
    pub locate: bool,
    pub host: Rc<dyn HostServices>,
    pub handlers: RefCell<HashMap<HandlerId, Function>>,
    pub memory_mb: u64,
    pub clock: CallClock,
    /// Under `modhost test`: mocked game functions and recorded game calls.
    testing: Option<testing::TestDoubles>,
}

struct LuaInstance {
    shared: Rc<Shared>,
    /// The table the entry chunk returned, if it returned one.
    exports: Option<Table>,
    /// The table behind the read-only `modhost` global.
    modhost: Option<Table>,
    /// The state's globals, held once: the table itself cannot be replaced from Lua (only
    /// its contents), and a handle made for each call was a tenth of it.
    globals: Table,
    /// Function names, object keys and event names as Lua strings, made once each.
    interned: RefCell<convert::Interned>,
    lua: Lua,
}

impl Drop for LuaInstance {
    fn drop(&mut self) {
        // The handlers hold the state alive through closures that hold `shared`: break the cycle.
        self.shared.handlers.borrow_mut().clear();
        if let Some(doubles) = &self.shared.testing {
            doubles.clear();
        }
        self.exports = None;
        self.modhost = None;
        self.interned.borrow_mut().clear();
    }
}

impl LuaInstance {
    fn new(setup: InstanceSetup) -> Result<Self, ScriptError> {
        let libraries =
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE;
        let lua = reproducible::new_state(libraries, setup.reproducible.as_ref())
            .map_err(engine_error)?;
        let shared = Rc::new(Shared {
            mod_id: setup.mod_id.clone(),
            mod_path: crate::paths::shown(&setup.dir),
            locate: setup.host.wants_locations(),
            host: setup.host.clone(),
            handlers: RefCell::new(HashMap::default()),
            memory_mb: setup.limits.memory_mb,
            clock: CallClock::new(Duration::from_millis(setup.limits.call_timeout_ms)),
            testing: setup
                .testing
                .then(|| testing::TestDoubles::new(setup.game.as_ref())),
        });
        let watched = Rc::downgrade(&shared);
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(INSTRUCTIONS_PER_CHECK),
            move |_, debug| {
                let Some(shared) = watched.upgrade() else {
                    return Ok(VmState::Continue);
                };
                if shared.clock.tick() {
                    // Where the call was stopped, as Lua puts it before an error's message.
                    let source = debug.source();
                    let at = match (source.short_src, debug.current_line()) {
                        (Some(file), Some(line)) => format!("{file}:{line}: "),
                        _ => String::new(),
                    };
                    return Err(mlua::Error::runtime(format!(
                        "{at}the call ran past its time limit"
                    )));
                }
                Ok(VmState::Continue)
            },
        )
        .map_err(engine_error)?;

        let mut instance = LuaInstance {
            shared,
            exports: None,
            modhost: None,
            interned: RefCell::new(convert::Interned::default()),
            globals: lua.globals(),
            lua,
        };
        instance.load(setup)?;
        Ok(instance)
    }

    fn load(&mut self, mut setup: InstanceSetup) -> Result<(), ScriptError> {
        // `modhost.mod` and `modhost.settings` are made from these when first read.
        let modhost = bindings::install(
            &self.lua,
            &self.shared,
            std::mem::take(&mut setup.info),
            std::mem::take(&mut setup.settings),
            setup.game.as_ref(),
            setup.reproducible.as_ref(),
        )
        .map_err(|error| self.error(error))?;
        self.modhost = Some(modhost);
        let loaded = require::install(&self.lua, &setup.dir).map_err(|error| self.error(error))?;
        // The limit is set once the host's own tables are in place: under a limit, mlua makes
        // every allocating operation a protected call, which was half of installing them
        // (the limit counts them all the same, from the state's first byte).
        let memory = (setup.limits.memory_mb as usize).saturating_mul(1024 * 1024);
        self.lua.set_memory_limit(memory).map_err(engine_error)?;
        let source = crate::files::read(&setup.entry).map_err(|error| {
            ScriptError::new(
                ErrorKind::Host,
                format!(
                    "cannot read `{}`: {error}",
                    crate::paths::shown(&setup.entry)
                ),
            )
        })?;
        let chunk = self
            .lua
            .load(source)
            .set_name(chunk_name(&setup.entry))
            .into_function()
            .map_err(|error| self.error(error))?;
        if let Value::Table(table) = self.protected(&chunk, MultiValue::new())? {
            // `require` of the entry point answers its exports (test files use this).
            if let Some(name) = require::module_name(&setup.dir, &setup.entry) {
                loaded
                    .raw_set(name, table.clone())
                    .map_err(|error| self.error(error))?;
            }
            self.exports = Some(table);
        }
        Ok(())
    }

    fn error(&self, error: mlua::Error) -> ScriptError {
        let stopped = self.shared.clock.take_stop();
        script_error(error, &self.shared.mod_path, stopped, self.shared.memory_mb)
    }

    /// Calls `function` as one timed call and keeps its first result. (mlua adds the
    /// traceback to errors.)
    fn protected(
        &self,
        function: &Function,
        args: impl mlua::IntoLuaMulti,
    ) -> Result<Value, ScriptError> {
        self.shared
            .clock
            .time(|| function.call::<Value>(args))
            .map_err(|error| self.error(error))
    }

    /// Calls `function` with the host's arguments. Up to three go as a tuple, on the Lua
    /// stack directly; more as a list (mlua's `MultiValue`, a queue on the heap).
    fn invoke(&self, function: &Function, args: &[Json]) -> Result<Json, ScriptError> {
        let value = |arg: &Json| {
            convert::from_json_interning(&self.lua, arg, &mut self.interned.borrow_mut())
                .map_err(|error| self.error(error))
        };
        let result = match args {
            [] => self.protected(function, ())?,
            [a] => self.protected(function, (value(a)?,))?,
            [a, b] => self.protected(function, (value(a)?, value(b)?))?,
            [a, b, c] => self.protected(function, (value(a)?, value(b)?, value(c)?))?,
            _ => {
                let values = args.iter().map(value).collect::<Result<MultiValue, _>>()?;
                self.protected(function, values)?
            }
        };
        convert::to_json(&self.lua, &result)
    }

    /// The mod's function `name`, looked up anew each call (a mod may redefine it), by a
    /// Lua string made once per name: making it each time is an allocation, which the memory
    /// limit turns into a protected call.
    fn lookup(&self, name: &str) -> Option<Function> {
        let key = self.interned.borrow_mut().string(&self.lua, name).ok()?;
        let from_exports = self.exports.as_ref().and_then(|exports| {
            exports
                .raw_get::<Option<Function>>(key.clone())
                .ok()
                .flatten()
        });
        from_exports.or_else(|| self.globals.raw_get::<Option<Function>>(key).ok().flatten())
    }
}

impl ModInstance for LuaInstance {
    fn call(&mut self, function: &str, args: &[Json]) -> Result<Option<Outcome>, ScriptError> {
        match self.lookup(function) {
            Some(target) => self
                .invoke(&target, args)
                .map(|json| Some(Outcome::Done(json))),
            None => Ok(None),
        }
    }

    fn call_handler(&mut self, handler: HandlerId, args: &[Json]) -> Result<Outcome, ScriptError> {
        let function = self.shared.handlers.borrow().get(&handler).cloned();
        match function {
            Some(function) => self.invoke(&function, args).map(Outcome::Done),
            None => Ok(Outcome::Done(Json::Null)),
        }
    }

    /// Lua calls never leave anything pending.
    fn poll(&mut self, _pending: HandlerId) -> Option<Result<Json, ScriptError>> {
        None
    }

    fn release_handler(&mut self, handler: HandlerId) {
        self.shared.handlers.borrow_mut().remove(&handler);
    }

    fn clock(&self) -> &CallClock {
        &self.shared.clock
    }

    fn memory_used(&self) -> u64 {
        self.lua.used_memory() as u64
    }

    fn update_settings(&mut self, settings: &Json) -> Result<(), ScriptError> {
        match &self.modhost {
            Some(modhost) => bindings::replace_settings(&self.lua, modhost, settings)
                .map_err(|error| self.error(error)),
            None => Ok(()),
        }
    }

    fn run_tests(&mut self, file: &Path, grep: Option<&str>) -> Result<Outcome, ScriptError> {
        let source = crate::files::read(file).map_err(|error| {
            ScriptError::new(
                ErrorKind::Host,
                format!("cannot read `{}`: {error}", crate::paths::shown(file)),
            )
        })?;
        let report = self
            .shared
            .clock
            .time(|| {
                testing::load_and_run(
                    &self.lua,
                    &self.shared,
                    file,
                    source,
                    self.exports.as_ref(),
                    grep,
                )
            })
            .map_err(|error| self.error(error))?;
        convert::to_json(&self.lua, &report).map(Outcome::Done)
    }

    fn functions(&mut self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for table in self.exports.iter().chain([&self.globals]) {
            names.extend(function_names(&self.lua, table));
        }
        names.sort();
        names.dedup();
        names
    }
}

/// The names of the functions in `table` under string keys, but the host's globals. Every
/// mod's start asks (for misspelled hooks): walked with Lua's own `lua_next`, in one protected
/// call, a name made a `String` only for a function. Through mlua, each of the fifty-odd
/// globals' key and value became a reference of its own: 45 K instructions a mod.
fn function_names(lua: &mlua::Lua, table: &Table) -> Vec<String> {
    use mlua::ffi;
    let mut names = Vec::new();
    // SAFETY: `exec_raw` runs the closure in a protected call with `table` at index 1 of the
    // stack. The traversal only reads: `lua_tolstring` is called on keys that are strings
    // already, so it does not convert a key under `lua_next`, and each iteration pops the value
    // it pushed.
    let walked = unsafe {
        lua.exec_raw::<()>(table, |state| {
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, 1) != 0 {
                if ffi::lua_type(state, -2) == ffi::LUA_TSTRING
                    && ffi::lua_type(state, -1) == ffi::LUA_TFUNCTION
                {
                    let mut length = 0;
                    let bytes = ffi::lua_tolstring(state, -2, &mut length);
                    let name = std::slice::from_raw_parts(bytes.cast::<u8>(), length);
                    if let Ok(name) = std::str::from_utf8(name)
                        && !bindings::BUILTIN_GLOBALS.contains(&name)
                    {
                        names.push(name.to_owned());
                    }
                }
                ffi::lua_pop(state, 1);
            }
        })
    };
    // A table of a mod's cannot make the walk fail: it reads raw, without metamethods.
    walked.map_or_else(|_| Vec::new(), |()| names)
}

/// Converts an mlua error, finding the position in the mod's own files.
fn script_error(
    error: mlua::Error,
    mod_path: &str,
    stopped: Option<ScriptError>,
    memory_mb: u64,
) -> ScriptError {
    ScriptError::ended(thrown(error, mod_path, memory_mb), stopped)
}

/// An error as Lua raised it: its kind, message, position and traceback.
fn thrown(error: mlua::Error, mod_path: &str, memory_mb: u64) -> ScriptError {
    let (kind, text) = match &error {
        mlua::Error::SyntaxError { message, .. } => (ErrorKind::Syntax, message.clone()),
        mlua::Error::MemoryError(message) => {
            return ScriptError::out_of_memory(memory_mb, Some(message));
        }
        mlua::Error::RuntimeError(message) if message.contains("stack overflow") => (
            ErrorKind::StackOverflow,
            format!("runaway recursion: {message}"),
        ),
        mlua::Error::RuntimeError(message) => (ErrorKind::Thrown, message.clone()),
        mlua::Error::CallbackError { cause, .. }
            if matches!(root_cause(cause), mlua::Error::MemoryError(_)) =>
        {
            return ScriptError::out_of_memory(memory_mb, None);
        }
        mlua::Error::CallbackError { cause, traceback } => {
            let mut text = match root_cause(cause) {
                mlua::Error::RuntimeError(message) => message.clone(),
                other => other.to_string(),
            };
            text.push('\n');
            text.push_str(traceback);
            (ErrorKind::Thrown, text)
        }
        other => (ErrorKind::Thrown, other.to_string()),
    };
    let (message, stack) = match text.split_once("\nstack traceback:\n") {
        Some((message, stack)) => (message.to_owned(), Some(clean_traceback(stack))),
        None => (text, None),
    };
    let mut script_error = ScriptError::new(kind, message.clone());
    let located = script_error.locate_in(&message, mod_path)
        || stack
            .as_deref()
            .is_some_and(|stack| script_error.locate_in(stack, mod_path));
    if let (true, Some(file), Some(line)) = (located, &script_error.file, script_error.line) {
        // Lua puts `file:line: ` before the message; the position is reported separately.
        let prefix = format!("{}:{line}: ", crate::paths::shown(file));
        if let Some(rest) = message.strip_prefix(&prefix) {
            script_error.message = rest.to_owned();
        }
    }
    script_error.stack = stack.filter(|stack| !stack.is_empty());
    script_error
}

fn root_cause(error: &mlua::Error) -> &mlua::Error {
    match error {
        mlua::Error::CallbackError { cause, .. } => root_cause(cause),
        other => other,
    }
}

/// The frames of a traceback that belong to mod code: not the host's wrappers or C functions.
fn clean_traceback(stack: &str) -> String {
    stack
        .lines()
        .map(str::trim)
        // mlua adds a traceback of its own when the error crosses back into Rust.
        .take_while(|frame| *frame != "stack traceback:")
        .filter(|frame| {
            !frame.starts_with("[C]")
                && !frame.starts_with("modhost:")
                && !frame.starts_with("(...tail calls...)")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// With the count hook alone, the patched interpreter counts instructions itself and
    /// skips the call and return hooks' bookkeeping (vendor/lua-src/PATCHED.md); with a line
    /// hook beside it, Lua takes its own paths as it always has. The count hook fires as often
    /// either way, through loops, calls and every kind of return: none (`RETURN0`), one
    /// (`RETURN1`), several (`RETURN`), from a vararg function, a tail call, a C function, a
    /// to-be-closed variable and a coroutine.
    #[test]
    fn the_count_hook_fires_as_often_as_when_lua_counts_every_instruction() {
        let fired = |triggers: HookTriggers| {
            let lua = Lua::new();
            let counted = Rc::new(Cell::new(0u64));
            let seen = Rc::clone(&counted);
            lua.set_global_hook(triggers, move |_, debug| {
                if debug.event() == mlua::debug::DebugEvent::Count {
                    seen.set(seen.get() + 1);
                }
                Ok(VmState::Continue)
            })
            .unwrap();
            lua.load(COUNTED).exec().unwrap();
            counted.get()
        };
        const COUNTED: &str = r#"
            local sum = 0
            for i = 1, 100000 do sum = sum + i end
            local function none() sum = sum + 1 end
            local function one(x) return x + 1 end
            local function two(x) return x, x + 1 end
            local function varargs(...) return select('#', ...) end
            local function tail(x) return one(x) end
            local function closing(x)
              local _ <close> = setmetatable({}, { __close = function() sum = sum + 1 end })
              return x, x
            end
            local worker = coroutine.wrap(function(x)
              while true do x = coroutine.yield(one(x)) end
            end)
            for i = 1, 20000 do
              none()
              local a, b = two(one(i))
              sum = sum + a + b + varargs(i, a, b) + tail(i) + math.abs(-i) + worker(i)
              sum = sum + select(2, closing(i))
            end
            return sum"#;
        let alone = fired(HookTriggers::new().every_nth_instruction(97));
        let beside_a_line_hook = fired(HookTriggers::new().every_nth_instruction(97).every_line());
        assert_eq!(alone, beside_a_line_hook);
        assert!(alone > 2_000, "{alone}");
    }

    #[test]
    fn function_names_are_the_functions_under_string_keys_but_the_host_s_globals() {
        let lua = Lua::new();
        let table: Table = lua
            .load(
                "local t = { count = 3, [1] = function() end, [true] = print }\n\
                 function t.onAttach() end\n\
                 t['näme'] = function() end\n\
                 t.print, t.pairs = print, pairs\n\
                 return setmetatable(t, { __index = function() error('not read') end })",
            )
            .eval()
            .unwrap();
        let mut names = function_names(&lua, &table);
        names.sort();
        assert_eq!(names, ["näme", "onAttach"]);
    }
}
