//! The WebAssembly backend: mods built with any Extism PDK, run on wasmi (SPEC section 15).
//!
//! A `.wasm` entry point is a module in the Extism plugin ABI. Its exports of type `() -> i32`
//! are the mod's functions and hooks; arguments arrive as the call's input and the result
//! leaves as its output, both bytes in the kernel memory ([`kernel`]) that the plugin reaches
//! through `extism:host/env`. Extism's runtime is not linked: the kernel, the `modhost` host
//! functions and a file-less WASI subset are implemented here ([`imports`], [`wasi`]).
//!
//! Limits: each call runs on fuel handed out a slice at a time, and between slices the call's
//! clock decides whether it may go on, so `call_timeout_ms` holds for a loop with no call in
//! it; `memory_mb` caps the module's linear memory and the kernel memory together. wasmi is
//! pure Rust (16 crates) and validates every module before it runs; see
//! `docs/architecture.md` for why it was chosen over wasmtime.

mod imports;
mod kernel;
mod start;
mod wasi;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use rustc_hash::FxHashMap;

use wasmi::{
    Config, Engine, Func, Memory, Module, ResourceLimiter, ResumableCall, Store, TrapCode, Val,
    ValType,
};

use super::starter::{self, Starter};
use super::{
    Backend, CallClock, ErrorKind, HandlerId, HostServices, InstanceSetup, Json, ModInstance,
    Outcome, ScriptError, SyntaxChecker,
};
use kernel::{Budget, Kernel};

/// The WebAssembly [`Backend`].
pub(crate) struct WebAssembly;

impl Backend for WebAssembly {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["wasm"]
    }

    fn is_script(&self) -> bool {
        false
    }

    // WebAssembly mods declare their host functions in their own language: no editor typings.
    fn starter(&self) -> Option<&'static Starter> {
        Some(&Starter {
            flag: "rust",
            about: "Rust compiled to WebAssembly with extism-pdk (`./build.sh` builds it)",
            entry: "{{crate}}.wasm",
            files: &[
                starter::JSON_MANIFEST,
                ("Cargo.toml", include_str!("starter/Cargo.toml")),
                (".cargo/config.toml", include_str!("starter/config.toml")),
                ("src/lib.rs", include_str!("starter/lib.rs")),
                ("build.sh", include_str!("starter/build.sh")),
            ],
            executables: &["build.sh"],
            next_step: "build it with `{{dir}}/build.sh`, then run `modhost run --watch` and rebuild after each change to `{{dir}}/src/lib.rs`",
        })
    }

    fn syntax_checker(&self) -> Result<Box<dyn SyntaxChecker>, ScriptError> {
        Ok(Box::new(WasmChecker))
    }

    fn instantiate(&self, setup: InstanceSetup) -> Result<Box<dyn ModInstance>, ScriptError> {
        WasmInstance::new(setup).map(|instance| Box::new(instance) as Box<dyn ModInstance>)
    }
}

/// The engine every module is compiled for: fuel metering on, so calls can be stopped.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::default();
        config.consume_fuel(true);
        Engine::new(&config)
    })
}

/// How much fuel (about one per instruction) a call runs on before its clock is looked at.
const FUEL_PER_CHECK: u64 = 2_000_000;

/// Validates modules and their imports without running them.
struct WasmChecker;

impl SyntaxChecker for WasmChecker {
    fn check(&mut self, path: &Path, source: &[u8]) -> Result<(), ScriptError> {
        let module = compile(path, source)?;
        imports::check(&module, None).map_err(|message| link_error(path, message))
    }
}

fn compile(path: &Path, bytes: &[u8]) -> Result<Module, ScriptError> {
    Module::new(engine(), bytes).map_err(|error| {
        let why = if !bytes.starts_with(b"\0asm") {
            "it is not a WebAssembly module (it does not start with `\\0asm`)".to_owned()
        } else {
            format!(
                "it is not a valid WebAssembly module: {}",
                plainly(&error.to_string())
            )
        };
        let mut refused = ScriptError::new(ErrorKind::Syntax, why);
        refused.file = Some(path.to_path_buf());
        refused
    })
}

/// The validator's words for a module past one of the limits WebAssembly engines share, said
/// plainly (with the validator's own words after them); other errors as they are.
fn plainly(error: &str) -> String {
    const LIMITS: &[(&str, &str)] = &[
        (
            "too many locals",
            "a function declares more than 50,000 locals (parameters included), the most a WebAssembly engine takes",
        ),
        (
            "function params size is out of bounds",
            "a function type has more than 1,000 parameters, the most a WebAssembly engine takes",
        ),
        (
            "function returns size is out of bounds",
            "a function type has more than 1,000 results, the most a WebAssembly engine takes",
        ),
    ];
    match LIMITS.iter().find(|(said, _)| error.contains(said)) {
        Some((_, plain)) => format!("{plain} ({error})"),
        None => error.to_owned(),
    }
}

fn link_error(path: &Path, message: String) -> ScriptError {
    let mut error = ScriptError::new(ErrorKind::Link, message);
    error.file = Some(path.to_path_buf());
    error
}

/// What the host functions of one instance share with it.
pub(crate) struct Shared {
    pub mod_id: String,
    pub entry: PathBuf,
    pub host: Rc<dyn HostServices>,
    pub clock: CallClock,
    pub memory_mb: u64,
    /// The export each registered handler calls.
    pub handlers: RefCell<HashMap<HandlerId, String>>,
}

impl Shared {
    /// The mod broke its memory limit: the call stops and cannot go on.
    fn out_of_memory(&self, detail: &str) -> wasmi::Error {
        self.clock
            .breach(ScriptError::out_of_memory(self.memory_mb, Some(detail)));
        wasmi::Error::new(detail.to_owned())
    }
}

/// The store's data: what host functions reach through their `Caller`.
pub(crate) struct State {
    pub shared: Rc<Shared>,
    pub kernel: Kernel,
    /// Extism's `var` store, kept between calls.
    pub vars: HashMap<String, Vec<u8>>,
    /// `config_get` reads the mod's settings.
    pub settings: Json,
    /// The module's exported linear memory, for WASI.
    pub memory: Option<Memory>,
    pub limiter: MemoryLimit,
    /// In a recorded or replayed session: WASI's clocks and random bytes.
    pub session: Option<wasi::Session>,
}

/// `memory_mb` for the linear memory and the tables: growing past it breaks the limit (it is
/// not a failed `memory.grow` the module could ignore, as no `catch` may swallow a memory
/// breach).
pub(crate) struct MemoryLimit {
    budget: Rc<Budget>,
    refused: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        if self.budget.grow_linear(desired as u64) {
            return Ok(true);
        }
        self.refused = true;
        Err(wasmi_core::LimiterError::ResourceLimiterDeniedAllocation)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        if desired > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        // Tables count against `memory_mb` too (sixteen tables of a million elements each
        // would otherwise pass any limit).
        if self
            .budget
            .grow_tables(desired.saturating_sub(current) as u64)
        {
            return Ok(true);
        }
        self.refused = true;
        Err(wasmi_core::LimiterError::ResourceLimiterDeniedAllocation)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        16
    }

    fn memories(&self) -> usize {
        1
    }
}

/// The most elements a table may hold (function tables of real modules hold a few thousand).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

struct WasmInstance {
    shared: Rc<Shared>,
    store: Store<State>,
    instance: wasmi::Instance,
    /// The plugin functions called so far, by name. An instance's exports cannot change, so
    /// each is looked up and its type checked once; only exports that exist are kept, so a
    /// caller naming functions that do not exist cannot grow it.
    found: FxHashMap<Box<str>, Func>,
}

impl WasmInstance {
    fn new(setup: InstanceSetup) -> Result<Self, ScriptError> {
        let bytes = crate::files::read(&setup.entry).map_err(|error| {
            ScriptError::new(
                ErrorKind::Host,
                format!(
                    "cannot read `{}`: {error}",
                    crate::paths::shown(&setup.entry)
                ),
            )
        })?;
        // The start function runs after instantiation, on the sliced path (see `start`).
        let module = compile(&setup.entry, &start::deferred(&bytes))?;
        let game_functions = setup.game.as_ref().map(|game| game.functions.as_slice());
        imports::check(&module, Some(game_functions.unwrap_or_default()))
            .map_err(|message| link_error(&setup.entry, message))?;

        let budget = Budget::new(setup.limits.memory_mb.saturating_mul(1024 * 1024));
        let shared = Rc::new(Shared {
            mod_id: setup.mod_id.clone(),
            entry: setup.entry.clone(),
            host: setup.host.clone(),
            clock: CallClock::new(Duration::from_millis(setup.limits.call_timeout_ms)),
            memory_mb: setup.limits.memory_mb,
            handlers: RefCell::new(HashMap::new()),
        });
        let state = State {
            shared: Rc::clone(&shared),
            kernel: Kernel::new(Rc::clone(&budget)),
            vars: HashMap::new(),
            settings: setup.settings.clone(),
            session: setup.reproducible.clone().map(wasi::Session::new),
            memory: None,
            limiter: MemoryLimit {
                budget,
                refused: false,
            },
        };
        let mut store = Store::new(engine(), state);
        store.limiter(|state| &mut state.limiter);
        let linker = imports::linker_for(&module, setup.game.as_ref()).map_err(|error| {
            ScriptError::new(ErrorKind::Host, format!("WebAssembly linker: {error}"))
        })?;

        // No code of the module runs here (its start function was moved to an export):
        // instantiating only initialises memory, tables and globals, which may take fuel in
        // proportion to their size.
        let instance = shared.clock.time(|| {
            store
                .set_fuel(FUEL_PER_CHECK.saturating_mul(setup.limits.call_timeout_ms.max(1)))
                .map_err(engine_error)?;
            linker
                .instantiate_and_start(&mut store, &module)
                .map_err(|error| fault(&shared, &store, error))
        })?;
        store.data_mut().memory = instance.get_memory(&store, "memory");
        let mut instance = WasmInstance {
            shared,
            store,
            instance,
            found: FxHashMap::default(),
        };
        // The start function, then a WASI reactor's set-up (the JavaScript and Go PDKs build
        // reactors), each a slice of fuel at a time under the call's clock.
        for setup_export in [start::START_EXPORT, "_initialize"] {
            if let Some(function) = instance.instance.get_func(&instance.store, setup_export) {
                instance.run(function, &[])?;
            }
        }
        Ok(instance)
    }

    /// The export `name` if it is a plugin function (`() -> i32`).
    fn plugin_function(&mut self, name: &str) -> Option<Func> {
        if let Some(function) = self.found.get(name) {
            return Some(*function);
        }
        let function = self.instance.get_func(&self.store, name)?;
        if !is_plugin_function(&function.ty(&self.store)) {
            return None;
        }
        self.found.insert(name.into(), function);
        Some(function)
    }

    /// Calls a plugin function with `args` as its input, under the mod's limits.
    fn invoke(&mut self, function: Func, args: &[Json]) -> Result<Json, ScriptError> {
        let input = input_of(args);
        let shared = Rc::clone(&self.shared);
        shared.clock.time(|| {
            let state = self.store.data_mut();
            state.kernel.reset();
            state.kernel.set_input(&input).map_err(|error| {
                ScriptError::out_of_memory(shared.memory_mb, Some(&error.to_string()))
            })?;
            let status = self.run_code(function)?;
            let kernel = &self.store.data().kernel;
            if status != 0 {
                let message = kernel
                    .error()
                    .unwrap_or_else(|| format!("the plugin returned error code {status}"));
                return Err(ScriptError::new(ErrorKind::Thrown, message));
            }
            let output = kernel
                .output()
                .map_err(|error| ScriptError::new(ErrorKind::Thrown, error.to_string()))?;
            Ok(output_of(output))
        })
    }

    /// Runs an export with no results (`_initialize`).
    fn run(&mut self, function: Func, params: &[Val]) -> Result<(), ScriptError> {
        let shared = Rc::clone(&self.shared);
        shared
            .clock
            .time(|| self.resume_until_done(function, params, &mut []))
    }

    /// Runs a plugin function and returns its status code.
    fn run_code(&mut self, function: Func) -> Result<i32, ScriptError> {
        let mut results = [Val::I32(0)];
        self.resume_until_done(function, &[], &mut results)?;
        Ok(results[0].i32().unwrap_or(0))
    }

    /// Calls `function` on a slice of fuel at a time, asking the clock between slices.
    fn resume_until_done(
        &mut self,
        function: Func,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), ScriptError> {
        self.store.set_fuel(FUEL_PER_CHECK).map_err(engine_error)?;
        let mut call = function.call_resumable(&mut self.store, params, results);
        loop {
            match call {
                Ok(ResumableCall::Finished) => return Ok(()),
                Ok(ResumableCall::OutOfFuel(paused)) => {
                    if self.shared.clock.tick() {
                        return Err(self.stop_error());
                    }
                    self.store.set_fuel(FUEL_PER_CHECK).map_err(engine_error)?;
                    call = paused.resume(&mut self.store, results);
                }
                Ok(ResumableCall::HostTrap(trapped)) => {
                    return Err(fault(&self.shared, &self.store, trapped.into_host_error()));
                }
                Err(error) => return Err(fault(&self.shared, &self.store, error)),
            }
        }
    }

    fn stop_error(&self) -> ScriptError {
        self.shared
            .clock
            .take_stop()
            .unwrap_or_else(|| ScriptError::new(ErrorKind::Timeout, "the call was stopped"))
    }
}

/// What a failed call or instantiation comes to: a broken limit first, then the trap.
fn fault(shared: &Shared, store: &Store<State>, error: wasmi::Error) -> ScriptError {
    if let Some(stopped) = shared.clock.take_stop() {
        return stopped;
    }
    if store.data().limiter.refused {
        return ScriptError::out_of_memory(
            shared.memory_mb,
            Some("the module's linear memory or tables could not grow"),
        );
    }
    let mut failed = match error.as_trap_code() {
        Some(TrapCode::StackOverflow) => ScriptError::new(
            ErrorKind::StackOverflow,
            "the module's call stack overflowed (runaway recursion?)",
        ),
        Some(TrapCode::OutOfFuel) => ScriptError::new(
            ErrorKind::Timeout,
            "the module ran out of time while its memory and tables were being initialised",
        ),
        Some(TrapCode::UnreachableCodeReached) => ScriptError::new(
            ErrorKind::Thrown,
            "the module trapped: `unreachable` executed (a Rust panic or a C `abort()`)",
        ),
        Some(code) => ScriptError::new(ErrorKind::Thrown, format!("the module trapped: {code}")),
        None => ScriptError::new(ErrorKind::Thrown, error.to_string()),
    };
    failed.file = Some(shared.entry.clone());
    failed
}

fn engine_error(error: wasmi::Error) -> ScriptError {
    ScriptError::new(ErrorKind::Host, format!("WebAssembly: {error}"))
}

/// An Extism plugin function: no parameters, an `i32` status.
fn is_plugin_function(ty: &wasmi::FuncType) -> bool {
    ty.params().is_empty() && ty.results() == [ValType::I32]
}

/// A call's input (SPEC 15): nothing for no argument, a string's UTF-8 bytes, any other single
/// value's JSON, several values as a JSON array.
fn input_of(args: &[Json]) -> Vec<u8> {
    let written = match args {
        [] => return Vec::new(),
        [Json::String(text)] => return text.as_bytes().to_vec(),
        [value] => serde_json::to_vec(value),
        // The list written as an array, without copying it into one.
        several => serde_json::to_vec(several),
    };
    // A `Json` always serialises: its keys are strings and its numbers finite.
    written.unwrap_or_default()
}

/// A call's result: empty output is `null`, valid JSON is parsed, anything else is a string.
fn output_of(output: &[u8]) -> Json {
    if output.is_empty() {
        return Json::Null;
    }
    serde_json::from_slice(output)
        .unwrap_or_else(|_| Json::from(String::from_utf8_lossy(output).into_owned()))
}

impl ModInstance for WasmInstance {
    fn call(&mut self, function: &str, args: &[Json]) -> Result<Option<Outcome>, ScriptError> {
        let Some(target) = self.plugin_function(function) else {
            return Ok(None);
        };
        self.invoke(target, args)
            .map(|json| Some(Outcome::Done(json)))
    }

    fn call_handler(&mut self, handler: HandlerId, args: &[Json]) -> Result<Outcome, ScriptError> {
        let export = self.shared.handlers.borrow().get(&handler).cloned();
        let Some(target) = export.and_then(|name| self.plugin_function(&name)) else {
            return Ok(Outcome::Done(Json::Null));
        };
        // An event handler gets the payload alone (the host also passes the event's name, which
        // a handler subscribed to one event already knows); a timer gets no input.
        self.invoke(target, &args[..args.len().min(1)])
            .map(Outcome::Done)
    }

    /// Plugin calls never leave anything pending.
    fn poll(&mut self, _pending: HandlerId) -> Option<Result<Json, ScriptError>> {
        None
    }

    fn release_handler(&mut self, handler: HandlerId) {
        self.shared.handlers.borrow_mut().remove(&handler);
    }

    fn clock(&self) -> &CallClock {
        &self.shared.clock
    }

    fn functions(&mut self) -> Vec<String> {
        let mut names: Vec<String> = self
            .instance
            .exports(&self.store)
            .filter_map(|export| {
                let name = export.name().to_owned();
                let function = export.into_func()?;
                let callable =
                    is_plugin_function(&function.ty(&self.store)) && !name.starts_with('_');
                callable.then_some(name)
            })
            .collect();
        names.sort();
        names
    }

    fn memory_used(&self) -> u64 {
        self.store.data().limiter.budget.used()
    }

    fn update_settings(&mut self, settings: &Json) -> Result<(), ScriptError> {
        self.store.data_mut().settings = settings.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_become_the_input_as_the_spec_says() {
        assert_eq!(input_of(&[]), b"");
        assert_eq!(input_of(&[crate::value!("Ada")]), b"Ada");
        assert_eq!(input_of(&[crate::value!(5)]), b"5");
        assert_eq!(input_of(&[crate::value!({"a": 1})]), br#"{"a":1}"#);
        assert_eq!(
            input_of(&[crate::value!(1), crate::value!("b")]),
            br#"[1,"b"]"#
        );
    }

    #[test]
    fn the_output_is_json_when_it_parses_else_a_string() {
        assert_eq!(output_of(b""), Json::Null);
        assert_eq!(output_of(b"[1,2]"), crate::value!([1, 2]));
        assert_eq!(output_of(b"hello"), crate::value!("hello"));
    }
}
