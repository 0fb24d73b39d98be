//! What a WebAssembly mod may import: Extism's kernel (`extism:host/env`), modhost's host
//! functions and the game's (`extism:host/user`), and a file-less WASI subset ([`super::wasi`]).
//!
//! `extism:host/user` functions take the offset of a kernel block holding their JSON input and
//! return the offset of one holding their JSON output (SPEC 15). Each is defined with the type
//! the module declares for it, so a function may also be declared without a result.

use std::rc::Rc;

use wasmi::{Caller, FuncType, Linker, Module, Val, ValType};

use super::kernel::KernelError;
use super::{Shared, State, wasi};
use crate::runtime::services::serve_in_call;
use crate::runtime::{GameGlobal, HostError, Json, LogLevel, Service};

pub(super) const ENV: &str = "extism:host/env";
pub(super) const USER: &str = "extism:host/user";

/// The functions of `extism:host/user` that are modhost's, not the game's.
const MODHOST_FUNCTIONS: &[&str] = &[
    "modhost_call",
    "modhost_emit",
    "modhost_on",
    "modhost_after",
    "modhost_every",
];

/// Extism's kernel functions, as the PDKs import them.
const KERNEL_FUNCTIONS: &[&str] = &[
    "alloc",
    "free",
    "length",
    "length_unsafe",
    "load_u8",
    "load_u64",
    "store_u8",
    "store_u64",
    "input_length",
    "input_load_u8",
    "input_load_u64",
    "input_offset",
    "output_set",
    "error_set",
    "config_get",
    "var_get",
    "var_set",
    "http_request",
    "http_status_code",
    "http_headers",
    "log_trace",
    "log_debug",
    "log_info",
    "log_warn",
    "log_error",
    "get_log_level",
    "reset",
];

/// Refuses a module that imports what modhost does not provide, naming the first such import.
/// With `game` unknown (`check`, which compiles mods on their own), any `extism:host/user`
/// function is taken to be the game's; it is checked again when the mod loads.
pub(super) fn check(module: &Module, game: Option<&[String]>) -> Result<(), String> {
    for import in module.imports() {
        let (namespace, name) = (import.module(), import.name());
        let known = match namespace {
            ENV => KERNEL_FUNCTIONS.contains(&name),
            USER => {
                MODHOST_FUNCTIONS.contains(&name)
                    || game.is_none_or(|functions| functions.iter().any(|known| known == name))
            }
            wasi::MODULE => wasi::FUNCTIONS.contains(&name),
            _ => false,
        };
        if !known {
            return Err(match namespace {
                USER => format!(
                    "the module imports `{name}` from `{USER}`, which is neither a modhost function ({}) nor a function of the game's API{}",
                    MODHOST_FUNCTIONS.join(", "),
                    game.map(|functions| crate::suggest::did_you_mean(
                        name,
                        functions.iter().map(String::as_str)
                    )
                    .map(|near| format!(" (did you mean `{near}`?)"))
                    .unwrap_or_default())
                        .unwrap_or_default()
                ),
                wasi::MODULE => format!(
                    "the module imports `{name}` from WASI, which mods do not get (no files, environment or network; clocks, random and output are offered)"
                ),
                _ => format!(
                    "the module imports `{name}` from `{namespace}`, which modhost does not provide (it provides `{ENV}`, `{USER}` and part of `{}`)",
                    wasi::MODULE
                ),
            });
        }
        if namespace == USER {
            let Some(ty) = import.ty().func() else {
                return Err(format!("`{USER}` `{name}` must be a function"));
            };
            let params_ok = matches!(ty.params(), [ValType::I64]);
            let results_ok = matches!(ty.results(), [] | [ValType::I64]);
            if !(params_ok && results_ok) {
                return Err(format!(
                    "`{USER}` `{name}` has type {ty:?}; host functions take one i64 (the offset of their input) and return one i64 or nothing"
                ));
            }
        }
    }
    Ok(())
}

type Fault = wasmi::Error;

/// A kernel error as a trap; running out of room is a breach of `memory_mb`.
fn kernel_fault(shared: &Shared, error: KernelError) -> Fault {
    match error {
        KernelError::Full { .. } => shared.out_of_memory(&error.to_string()),
        other => Fault::new(other.to_string()),
    }
}

/// A new kernel block holding `bytes`, as the offset a host function returns.
fn new_block(state: &mut State, bytes: &[u8]) -> Result<i64, Fault> {
    match state.kernel.alloc_bytes(bytes) {
        Ok(offset) => Ok(offset as i64),
        Err(error) => Err(kernel_fault(&state.shared, error)),
    }
}

/// A linker for `module`: Extism's kernel and WASI, defined once per thread and shared, with
/// the module's own `extism:host/user` imports added to a copy of it when it has any (most
/// modules have none, and copying the linker was 4% of starting one).
pub(super) fn linker_for(
    module: &Module,
    game: Option<&GameGlobal>,
) -> Result<Rc<Linker<State>>, Fault> {
    thread_local! {
        static BASE: std::cell::RefCell<Option<Rc<Linker<State>>>> = const { std::cell::RefCell::new(None) };
    }
    let base = BASE.with(|base| -> Result<Rc<Linker<State>>, Fault> {
        let mut base = base.borrow_mut();
        if let Some(linker) = base.as_ref() {
            return Ok(Rc::clone(linker));
        }
        let mut linker = Linker::new(module.engine());
        define_kernel(&mut linker)?;
        wasi::define(&mut linker)?;
        Ok(Rc::clone(base.insert(Rc::new(linker))))
    })?;
    let mut user_imports = module
        .imports()
        .filter(|import| import.module() == USER)
        .filter_map(|import| Some((import.name(), import.ty().func()?.clone())))
        .peekable();
    if user_imports.peek().is_none() {
        return Ok(base);
    }
    let mut linker = Linker::clone(&base);
    for (name, ty) in user_imports {
        let is_game = game.is_some_and(|game| game.functions.iter().any(|known| known == name));
        define_user_function(&mut linker, name.to_owned(), ty, is_game)?;
    }
    Ok(Rc::new(linker))
}

fn define_kernel(linker: &mut Linker<State>) -> Result<(), Fault> {
    fn state<'a>(caller: &'a mut Caller<'_, State>) -> &'a mut State {
        caller.data_mut()
    }
    macro_rules! kernel {
        ($caller:ident, $body:expr) => {{
            let result = $body;
            result.map_err(|error| kernel_fault(&$caller.data().shared, error))
        }};
    }
    linker.func_wrap(
        ENV,
        "alloc",
        |mut caller: Caller<'_, State>, length: i64| {
            kernel!(caller, state(&mut caller).kernel.alloc(length as u64))
                .map(|offset| offset as i64)
        },
    )?;
    linker.func_wrap(ENV, "free", |mut caller: Caller<'_, State>, offset: i64| {
        state(&mut caller).kernel.free(offset as u64);
    })?;
    for name in ["length", "length_unsafe"] {
        linker.func_wrap(ENV, name, |caller: Caller<'_, State>, offset: i64| {
            caller.data().kernel.length(offset as u64) as i64
        })?;
    }
    linker.func_wrap(ENV, "load_u8", |caller: Caller<'_, State>, offset: i64| {
        kernel!(caller, caller.data().kernel.load_u8(offset as u64)).map(i32::from)
    })?;
    linker.func_wrap(ENV, "load_u64", |caller: Caller<'_, State>, offset: i64| {
        kernel!(caller, caller.data().kernel.load_u64(offset as u64)).map(|value| value as i64)
    })?;
    linker.func_wrap(
        ENV,
        "store_u8",
        |mut caller: Caller<'_, State>, offset: i64, value: i32| {
            kernel!(
                caller,
                state(&mut caller)
                    .kernel
                    .store_u8(offset as u64, value as u8)
            )
        },
    )?;
    linker.func_wrap(
        ENV,
        "store_u64",
        |mut caller: Caller<'_, State>, offset: i64, value: i64| {
            kernel!(
                caller,
                state(&mut caller)
                    .kernel
                    .store_u64(offset as u64, value as u64)
            )
        },
    )?;
    linker.func_wrap(ENV, "input_length", |caller: Caller<'_, State>| {
        caller.data().kernel.input_length() as i64
    })?;
    linker.func_wrap(ENV, "input_offset", |caller: Caller<'_, State>| {
        caller.data().kernel.input_offset() as i64
    })?;
    linker.func_wrap(
        ENV,
        "input_load_u8",
        |caller: Caller<'_, State>, offset: i64| {
            kernel!(caller, caller.data().kernel.input_load_u8(offset as u64)).map(i32::from)
        },
    )?;
    linker.func_wrap(
        ENV,
        "input_load_u64",
        |caller: Caller<'_, State>, offset: i64| {
            kernel!(caller, caller.data().kernel.input_load_u64(offset as u64))
                .map(|value| value as i64)
        },
    )?;
    linker.func_wrap(
        ENV,
        "output_set",
        |mut caller: Caller<'_, State>, offset: i64, length: i64| {
            kernel!(
                caller,
                state(&mut caller)
                    .kernel
                    .set_output(offset as u64, length as u64)
            )
        },
    )?;
    linker.func_wrap(
        ENV,
        "error_set",
        |mut caller: Caller<'_, State>, offset: i64| {
            state(&mut caller).kernel.set_error(offset as u64);
        },
    )?;
    linker.func_wrap(ENV, "reset", |mut caller: Caller<'_, State>| {
        state(&mut caller).kernel.reset();
    })?;
    linker.func_wrap(
        ENV,
        "config_get",
        |mut caller: Caller<'_, State>, key: i64| {
            let key = kernel!(caller, caller.data().kernel.text(key as u64))?;
            let state = state(&mut caller);
            let value = match state.settings.get(&key) {
                None => return Ok(0),
                Some(Json::String(text)) => text.as_bytes().to_vec(),
                Some(other) => other.to_string().into_bytes(),
            };
            new_block(state, &value)
        },
    )?;
    linker.func_wrap(ENV, "var_get", |mut caller: Caller<'_, State>, key: i64| {
        let key = kernel!(caller, caller.data().kernel.text(key as u64))?;
        let state = state(&mut caller);
        let Some(value) = state.vars.get(&key).cloned() else {
            return Ok(0);
        };
        new_block(state, &value)
    })?;
    linker.func_wrap(
        ENV,
        "var_set",
        |mut caller: Caller<'_, State>, key: i64, value: i64| {
            let state = state(&mut caller);
            let key = state
                .kernel
                .text(key as u64)
                .map_err(|error| kernel_fault(&state.shared, error))?;
            if value == 0 {
                state.vars.remove(&key);
                return Ok(());
            }
            let value = state
                .kernel
                .block(value as u64)
                .map_err(|error| kernel_fault(&state.shared, error))?
                .to_vec();
            let stored: usize = state
                .vars
                .iter()
                .filter(|(name, _)| **name != key)
                .map(|(name, bytes)| name.len() + bytes.len())
                .sum();
            if stored + key.len() + value.len() > MAX_VAR_BYTES {
                return Err(Fault::new(format!(
                    "the plugin's vars would exceed {MAX_VAR_BYTES} bytes; use modhost storage for more"
                )));
            }
            state.vars.insert(key, value);
            Ok(())
        },
    )?;
    linker.func_wrap(
        ENV,
        "http_request",
        |_: Caller<'_, State>, _request: i64, _body: i64| -> Result<i64, Fault> {
            Err(Fault::new(
                "http_request is refused: mods have no network access in modhost's sandbox",
            ))
        },
    )?;
    linker.func_wrap(ENV, "http_status_code", |_: Caller<'_, State>| 0_i32)?;
    linker.func_wrap(ENV, "http_headers", |_: Caller<'_, State>| 0_i64)?;
    for (name, level) in [
        ("log_trace", LogLevel::Debug),
        ("log_debug", LogLevel::Debug),
        ("log_info", LogLevel::Info),
        ("log_warn", LogLevel::Warn),
        ("log_error", LogLevel::Error),
    ] {
        linker.func_wrap(ENV, name, move |caller: Caller<'_, State>, message: i64| {
            let state = caller.data();
            let message = state
                .kernel
                .text(message as u64)
                .map_err(|error| kernel_fault(&state.shared, error))?;
            state.shared.host.log(&state.shared.mod_id, level, &message);
            Ok(())
        })?;
    }
    // Every level is passed to the host, which filters (Extism's 0 is trace).
    linker.func_wrap(ENV, "get_log_level", |_: Caller<'_, State>| 0_i32)?;
    Ok(())
}

/// Extism's default ceiling on a plugin's vars.
const MAX_VAR_BYTES: usize = 1024 * 1024;

fn define_user_function(
    linker: &mut Linker<State>,
    name: String,
    ty: FuncType,
    is_game: bool,
) -> Result<(), Fault> {
    let returns = !ty.results().is_empty();
    let function_name = name.clone();
    linker.func_new(
        USER,
        &name,
        ty,
        move |mut caller: Caller<'_, State>, params: &[Val], results: &mut [Val]| {
            let shared = std::rc::Rc::clone(&caller.data().shared);
            if shared.clock.tick() {
                return Err(Fault::new("the call was stopped"));
            }
            let offset = params.first().and_then(Val::i64).unwrap_or(0) as u64;
            let input = caller
                .data()
                .kernel
                .block(offset)
                .map_err(|error| kernel_fault(&shared, error))?;
            let input: Json = if input.is_empty() {
                Json::Null
            } else {
                serde_json::from_slice(input).map_err(|error| {
                    Fault::new(format!("`{function_name}`: its input is not JSON: {error}"))
                })?
            };
            let output = if is_game {
                game_call(&shared, &function_name, input)
            } else {
                modhost_function(&shared, &function_name, input)
            }?;
            if returns {
                results[0] = Val::I64(new_block(caller.data_mut(), output.to_string().as_bytes())?);
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// A game function: its input is the JSON array of arguments.
fn game_call(shared: &Shared, function: &str, input: Json) -> Result<Json, Fault> {
    let args = match input {
        Json::Array(args) => args,
        Json::Null => Vec::new(),
        single => vec![single],
    };
    shared
        .clock
        .paused(|| shared.host.game_call(&shared.mod_id, function, args))
        .map_err(Fault::new)
}

fn modhost_function(shared: &Shared, function: &str, input: Json) -> Result<Json, Fault> {
    let field = |key: &str| -> Result<String, Fault> {
        input
            .get(key)
            .and_then(Json::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                Fault::new(format!(
                    "`{function}`: its input needs a string `{key}`, got {input}"
                ))
            })
    };
    let host = &shared.host;
    let mod_id = shared.mod_id.as_str();
    match function {
        "modhost_call" => {
            let target = field("mod")?;
            let name = field("function")?;
            let args = match input.get("args") {
                Some(Json::Array(args)) => args.clone(),
                None | Some(Json::Null) => Vec::new(),
                Some(single) => vec![single.clone()],
            };
            host.call(mod_id, &target, &name, &args).map_err(Fault::new)
        }
        "modhost_emit" => {
            let event = field("event")?;
            let payload = input.get("payload").cloned().unwrap_or(Json::Null);
            match host.emit(mod_id, &event, payload) {
                Ok(()) => Ok(Json::Null),
                Err(HostError::Refused(message)) => Err(Fault::new(message)),
                Err(HostError::Breach(error)) => {
                    let message = error.message.clone();
                    shared.clock.breach(error);
                    Err(Fault::new(message))
                }
            }
        }
        "modhost_on" => {
            let event = field("event")?;
            let export = field("function")?;
            let service = match input.get("before").and_then(Json::as_bool) {
                Some(true) => Service::EventsBefore,
                _ => Service::EventsOn,
            };
            serve_with_handler(shared, service, Json::from(event), export)
        }
        "modhost_after" | "modhost_every" => {
            let export = field("function")?;
            let delay = input.get("ms").and_then(Json::as_u64).ok_or_else(|| {
                Fault::new(format!(
                    "`{function}`: its input needs `ms`, a whole number of milliseconds"
                ))
            })?;
            let service = match function {
                "modhost_every" => Service::TimersEvery,
                _ => Service::TimersAfter,
            };
            serve_with_handler(shared, service, Json::from(delay), export)
        }
        other => Err(Fault::new(format!("`{other}` is not a modhost function"))),
    }
}

/// A [`Service`] that takes a value and a handler: the module's export `export`, kept by the
/// instance under a new handler id (and forgotten if the host refuses).
fn serve_with_handler(
    shared: &Shared,
    service: Service,
    value: Json,
    export: String,
) -> Result<Json, Fault> {
    let handler = shared.host.next_handler_id();
    shared.handlers.borrow_mut().insert(handler, export);
    let args = [value, Json::from(handler)];
    serve_in_call(&*shared.host, &shared.clock, &shared.mod_id, service, &args).map_err(|message| {
        shared.handlers.borrow_mut().remove(&handler);
        Fault::new(message)
    })
}
