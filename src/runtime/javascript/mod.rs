//! The JavaScript backend: one QuickJS runtime and context per mod (rquickjs).
//!
//! A runtime per mod gives each mod its own heap (so `memory_mb` is per mod), its own interrupt
//! handler (so `call_timeout_ms` is per mod), and a teardown that frees everything: QuickJS never
//! unloads a module, so reloading a mod means a new runtime. Every function the mod hands to the
//! host is kept as a `Persistent` in `Shared::handlers`, cleared before the runtime is dropped
//! (dropping a runtime with live `Persistent`s aborts the process).

mod bindings;
mod bytecode;
mod call;
mod console;
mod convert;
mod error;
mod loader;
mod memory;
mod names;
mod namespaces;
#[cfg(feature = "typescript")]
mod nesting;
mod packages;
mod reproducible;
mod testing;
mod timers;
mod typescript;

use std::cell::RefCell;
use std::ffi::CString;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use rquickjs::context::EvalOptions;
use rquickjs::function::This;
use rquickjs::qjs;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Persistent, Promise,
    Runtime, Value,
};

use super::starter::{self, EditorTypings, Starter};
use super::{
    Backend, CallClock, ErrorKind, HandlerId, HostServices, InstanceSetup, Json, LogLevel,
    ModInstance, Outcome, ScriptError, SyntaxChecker,
};
// Keys are the host's own handler ids and the names it calls: FxHash, as nobody picks them to
// collide.
use rustc_hash::FxHashMap as HashMap;

/// The JavaScript [`Backend`].
pub(crate) struct JavaScript;

impl Backend for JavaScript {
    fn name(&self) -> &'static str {
        "javascript"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["js", "mjs"]
    }

    fn syntax_checker(&self) -> Result<Box<dyn SyntaxChecker>, ScriptError> {
        Ok(Box::new(JsSyntaxChecker::new()?))
    }

    fn instantiate(&self, setup: InstanceSetup) -> Result<Box<dyn ModInstance>, ScriptError> {
        JsInstance::new(setup).map(|instance| Box::new(instance) as Box<dyn ModInstance>)
    }

    fn declared_functions(&self, source: &str) -> Vec<crate::runtime::declarations::Declared> {
        crate::runtime::declarations::javascript(source)
    }

    fn starter(&self) -> Option<&'static Starter> {
        Some(&Starter {
            flag: "js",
            about: "JavaScript, with `modhost.d.ts` and `jsconfig.json` for type checking in VS Code",
            entry: "main.js",
            files: &[
                starter::JSON_MANIFEST,
                ("main.js", include_str!("starter/main.js")),
                ("tests/main.test.js", include_str!("starter/main.test.js")),
                ("jsconfig.json", include_str!("starter/jsconfig.json")),
            ],
            executables: &[],
            next_step: starter::EDIT_AND_WATCH,
        })
    }

    fn editor_typings(&self) -> Option<EditorTypings> {
        Some(EditorTypings::TypeScript)
    }
}

/// TypeScript: run as JavaScript with its types erased (see [`typescript`]).
pub(crate) struct TypeScript;

impl Backend for TypeScript {
    fn name(&self) -> &'static str {
        "typescript"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["ts"]
    }

    fn syntax_checker(&self) -> Result<Box<dyn SyntaxChecker>, ScriptError> {
        JavaScript.syntax_checker()
    }

    fn instantiate(&self, setup: InstanceSetup) -> Result<Box<dyn ModInstance>, ScriptError> {
        JavaScript.instantiate(setup)
    }

    fn declared_functions(&self, source: &str) -> Vec<crate::runtime::declarations::Declared> {
        JavaScript.declared_functions(source)
    }

    fn starter(&self) -> Option<&'static Starter> {
        Some(&Starter {
            flag: "ts",
            about: "TypeScript, run without a build step, with `modhost.d.ts` and a `tsconfig.json`",
            entry: "main.ts",
            files: &[
                starter::JSON_MANIFEST,
                ("main.ts", include_str!("starter/main.ts")),
                ("tests/main.test.ts", include_str!("starter/main.test.ts")),
                ("tsconfig.json", include_str!("starter/tsconfig.json")),
            ],
            executables: &[],
            next_step: starter::EDIT_AND_WATCH,
        })
    }

    fn editor_typings(&self) -> Option<EditorTypings> {
        Some(EditorTypings::TypeScript)
    }
}

/// A QuickJS context that compiles files without running them. QuickJS keeps every module it
/// compiles until its context goes, so the checker starts a fresh engine every
/// [`JsSyntaxChecker::FILES_PER_ENGINE`] files to keep its memory bounded on a large pack.
struct JsSyntaxChecker {
    context: Context,
    compiled: usize,
}

impl JsSyntaxChecker {
    const FILES_PER_ENGINE: usize = 256;

    fn new() -> Result<Self, ScriptError> {
        let runtime = Runtime::new().map_err(engine_error)?;
        runtime.set_loader(loader::Anything, loader::Anything);
        let context = Context::full(&runtime).map_err(engine_error)?;
        Ok(Self {
            context,
            compiled: 0,
        })
    }
}

impl SyntaxChecker for JsSyntaxChecker {
    fn check(&mut self, path: &Path, source: &[u8]) -> Result<(), ScriptError> {
        let source = javascript_of(path, super::script_text(path, source)?.to_owned())?;
        let source = source.as_str();
        if self.compiled == Self::FILES_PER_ENGINE {
            *self = Self::new()?;
        }
        self.compiled += 1;
        let name = crate::paths::shown(path);
        let folder = path.parent().map(crate::paths::shown).unwrap_or_default();
        self.context.with(|ctx| {
            compile_only(&ctx, &name, source, is_module(path, source))
                .catch(&ctx)
                .map_err(|caught| error::script_error(&ctx, caught, &folder, None, 0))
        })
    }
}

/// The JavaScript to run for a file: its text, with the types erased for TypeScript.
fn javascript_of(path: &Path, source: String) -> Result<String, ScriptError> {
    if typescript::is_typescript(path) {
        typescript::strip(path, source)
    } else {
        Ok(source)
    }
}

/// `.mjs`, or a `.js` file with a line that starts with an `import` or `export` statement.
/// (QuickJS's own `JS_DetectModule` takes any strict-mode script for a module.)
fn is_module(path: &Path, source: &str) -> bool {
    let statement = |line: &str, keyword: &str| {
        line.strip_prefix(keyword)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|next| next.is_whitespace() || "{*\"'".contains(next))
    };
    path.extension().is_some_and(|extension| extension == "mjs")
        || source
            .lines()
            .map(str::trim_start)
            .any(|line| statement(line, "import") || statement(line, "export"))
}

/// Compiles a script or module without running it or loading its imports (rquickjs has no
/// safe call for this).
fn compile_only(ctx: &Ctx<'_>, name: &str, source: &str, module: bool) -> rquickjs::Result<()> {
    let source = CString::new(source)?;
    let name = CString::new(name)?;
    let kind = if module {
        rquickjs::qjs::JS_EVAL_TYPE_MODULE
    } else {
        rquickjs::qjs::JS_EVAL_TYPE_GLOBAL
    };
    let flags = kind | rquickjs::qjs::JS_EVAL_FLAG_COMPILE_ONLY;
    // SAFETY: both strings are NUL-terminated and outlive the call; the compiled function
    // that comes back is freed at once, and an exception is left for `catch` to take.
    unsafe {
        let compiled = rquickjs::qjs::JS_Eval(
            ctx.as_raw().as_ptr(),
            source.as_ptr(),
            source.as_bytes().len() as _,
            name.as_ptr(),
            flags as i32,
        );
        if rquickjs::qjs::JS_IsException(compiled) {
            return Err(rquickjs::Error::Exception);
        }
        rquickjs::qjs::JS_FreeValue(ctx.as_raw().as_ptr(), compiled);
    }
    Ok(())
}

/// A promise's address, to match the tracker's "rejected" and "now handled" reports without
/// keeping the promise alive.
fn promise_identity(promise: &Value<'_>) -> usize {
    // SAFETY: reads the pointer out of an object value, which `promise` is.
    unsafe { rquickjs::qjs::JS_VALUE_GET_PTR(promise.as_raw()) as usize }
}

fn engine_error(error: rquickjs::Error) -> ScriptError {
    ScriptError::new(ErrorKind::Host, format!("QuickJS: {error}"))
}

/// State shared by the instance and the native functions installed in its context.
pub(crate) struct Shared {
    pub mod_id: String,
    /// The mod's folder as shown to users, to find the mod's own frames in stacks.
    pub mod_path: String,
    /// Whether the host wants to know where the mod's outputs come from (a replay).
    pub locate: bool,
    pub host: Rc<dyn HostServices>,
    pub handlers: RefCell<HashMap<HandlerId, Persistent<Function<'static>>>>,
    /// The prelude's function that replaces `modhost.settings`.
    settings_updater: RefCell<Option<Persistent<Function<'static>>>>,
    /// Promises the host is awaiting, by the id [`Outcome::Pending`] gave it.
    pending: RefCell<HashMap<HandlerId, Persistent<Promise<'static>>>>,
    /// Rejections no handler has caught yet: (promise identity, reason), reported when the
    /// current call's jobs are done.
    unhandled: RefCell<Vec<(usize, String)>>,
    pub memory_mb: u64,
    pub clock: CallClock,
    /// The runtime's memory, counted by its allocator.
    gauge: Rc<memory::Gauge>,
    /// Under `modhost test`: mocked game functions and recorded game calls.
    testing: Option<testing::TestDoubles>,
    /// The names the mod passes to `modhost.mods.call` and `modhost.events.emit`.
    names: names::Names,
}

impl Shared {
    fn error<'js>(&self, ctx: &Ctx<'js>, caught: CaughtError<'js>) -> ScriptError {
        error::script_error(
            ctx,
            caught,
            &self.mod_path,
            self.stop_reason(),
            self.memory_mb,
        )
    }

    /// A heap that hit `memory_mb` stops the call like the deadline does: the mod's `catch`
    /// may have swallowed QuickJS's `out of memory`, but not this.
    fn note_memory_breach(&self) {
        if self.gauge.take_breach() {
            self.clock
                .breach(ScriptError::out_of_memory(self.memory_mb, None));
        }
    }

    /// Why the call was stopped, if it was (and forgets it).
    fn stop_reason(&self) -> Option<ScriptError> {
        self.note_memory_breach();
        self.clock.take_stop()
    }
}

struct JsInstance {
    shared: Rc<Shared>,
    /// The namespace of an ES module entry point; `None` for a classic script.
    exports: Option<Persistent<Object<'static>>>,
    /// The names of the functions the host calls, as QuickJS atoms made once each: making one
    /// hashes and looks up the name on every call. The function itself is looked up anew on
    /// every call, by its atom, as a script may reassign it.
    names: RefCell<HashMap<String, qjs::JSAtom>>,
    context: Context,
    /// Owns the engine; declared last so that it is dropped after the context.
    _runtime: Runtime,
}

impl Drop for JsInstance {
    fn drop(&mut self) {
        // Every `Persistent` and atom must go before the runtime does.
        self.exports = None;
        let names = std::mem::take(self.names.get_mut());
        // SAFETY: each atom was made in this runtime, which is alive, and is freed once.
        let runtime = self.runtime_ptr();
        for atom in names.into_values() {
            unsafe { qjs::JS_FreeAtomRT(runtime, atom) };
        }
        // SAFETY: the names' atoms were made in this runtime, which is alive.
        unsafe { self.shared.names.release(runtime) };
        self.shared.handlers.borrow_mut().clear();
        self.shared.pending.borrow_mut().clear();
        self.shared.settings_updater.borrow_mut().take();
        if let Some(doubles) = &self.shared.testing {
            doubles.clear();
        }
        // No collection here: the context, dropped next, frees its objects, and freeing the
        // runtime collects what is left (a collection while the context lived marked every
        // object for nothing: a fifth of stopping 10,000 mods).
    }
}

impl JsInstance {
    fn new(setup: InstanceSetup) -> Result<Self, ScriptError> {
        let gauge =
            memory::Gauge::new((setup.limits.memory_mb as usize).saturating_mul(1024 * 1024));
        let runtime =
            Runtime::new_with_alloc(memory::Limited::new(&gauge)).map_err(engine_error)?;
        let shared = Rc::new(Shared {
            mod_id: setup.mod_id.clone(),
            mod_path: crate::paths::shown(&setup.dir),
            locate: setup.host.wants_locations(),
            host: setup.host.clone(),
            handlers: RefCell::new(HashMap::default()),
            settings_updater: RefCell::new(None),
            pending: RefCell::new(HashMap::default()),
            unhandled: RefCell::new(Vec::new()),
            memory_mb: setup.limits.memory_mb,
            clock: CallClock::new(Duration::from_millis(setup.limits.call_timeout_ms)),
            gauge,
            testing: setup
                .testing
                .then(|| testing::TestDoubles::new(setup.game.as_ref())),
            names: names::Names::default(),
        });
        let watched = Rc::downgrade(&shared);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            watched.upgrade().is_some_and(|shared| {
                shared.note_memory_breach();
                shared.clock.tick()
            })
        })));
        let tracked = Rc::downgrade(&shared);
        runtime.set_host_promise_rejection_tracker(Some(Box::new(
            move |ctx, promise, reason, is_handled| {
                let Some(shared) = tracked.upgrade() else {
                    return;
                };
                let identity = promise_identity(&promise);
                let mut unhandled = shared.unhandled.borrow_mut();
                if is_handled {
                    unhandled.retain(|(known, _)| *known != identity);
                } else {
                    unhandled.push((identity, error::describe_reason(&ctx, &reason)));
                }
            },
        )));
        let (resolver, module_loader) = loader::confined_to(&setup.dir);
        runtime.set_loader(resolver, module_loader);
        let context = Context::full(&runtime).map_err(engine_error)?;

        let mut instance = JsInstance {
            shared,
            exports: None,
            names: RefCell::new(HashMap::default()),
            context,
            _runtime: runtime,
        };
        instance.load(&setup)?;
        Ok(instance)
    }

    fn load(&mut self, setup: &InstanceSetup) -> Result<(), ScriptError> {
        let source = crate::files::read_to_string(&setup.entry).map_err(|error| {
            ScriptError::new(
                ErrorKind::Host,
                format!(
                    "cannot read `{}`: {error}",
                    crate::paths::shown(&setup.entry)
                ),
            )
        })?;
        let source = javascript_of(&setup.entry, source)?;
        let name = crate::paths::shown(&setup.entry);
        let module = is_module(&setup.entry, &source);
        let shared = Rc::clone(&self.shared);
        let exports = self.with_deadline(|ctx| {
            let updater = bindings::install(
                ctx,
                &shared,
                &setup.info,
                &setup.settings,
                setup.game.as_ref(),
            )
            .catch(ctx)
            .map_err(|caught| shared.error(ctx, caught))?;
            *shared.settings_updater.borrow_mut() = Some(Persistent::save(ctx, updater));
            if let Some(reproducible) = &setup.reproducible {
                reproducible::install(ctx, reproducible)
                    .catch(ctx)
                    .map_err(|caught| shared.error(ctx, caught))?;
            }
            if module {
                let (evaluated, promise) = Module::declare(ctx.clone(), name.as_str(), source)
                    .and_then(|declared| declared.eval())
                    .catch(ctx)
                    .map_err(|caught| shared.error(ctx, caught))?;
                promise
                    .finish::<Value>()
                    .catch(ctx)
                    .map_err(|caught| shared.error(ctx, caught))?;
                let namespace = evaluated
                    .namespace()
                    .catch(ctx)
                    .map_err(|caught| shared.error(ctx, caught))?;
                Ok(Some(Persistent::save(ctx, namespace)))
            } else {
                let mut options = EvalOptions::default();
                options.global = true;
                options.strict = false;
                options.filename = Some(name.clone());
                ctx.eval_with_options::<Value, _>(source, options)
                    .catch(ctx)
                    .map_err(|caught| shared.error(ctx, caught))?;
                Ok(None)
            }
        })?;
        self.exports = exports;
        Ok(())
    }

    /// Runs `body` in the context as one timed call, then runs queued jobs (promise
    /// reactions) so that microtasks settle before control returns to the host.
    fn with_deadline<R>(
        &self,
        body: impl FnOnce(&Ctx<'_>) -> Result<R, ScriptError>,
    ) -> Result<R, ScriptError> {
        self.shared.clock.time(|| {
            self.context.with(|ctx| {
                // QuickJS measures its stack from where it was last told the top is;
                // entered deep in a chain of mods calling mods, that is here.
                // SAFETY: the context (and so its runtime) is alive for this closure.
                let runtime = unsafe { qjs::JS_GetRuntime(ctx.as_raw().as_ptr()) };
                // SAFETY: as above.
                unsafe { qjs::JS_UpdateStackTop(runtime) };
                let result = body(&ctx);
                // Promise jobs run as part of the call, under its deadline; once it has
                // expired, none runs any more (a job that queues itself would go on forever).
                // SAFETY: as above.
                while unsafe { qjs::JS_IsJobPending(runtime) }
                    && !self.shared.clock.must_stop()
                    && ctx.execute_pending_job()
                {}
                if let Some(stopped) = self.shared.stop_reason() {
                    return Err(stopped);
                }
                for (_, reason) in self.shared.unhandled.take() {
                    self.shared.host.log(
                        &self.shared.mod_id,
                        LogLevel::Error,
                        &format!("unhandled promise rejection: {reason}"),
                    );
                }
                result
            })
        })
    }

    /// Calls the function `target` finds (`None`: there is none) with `args`.
    fn invoke(
        &self,
        target: impl for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<Option<Value<'js>>>,
        args: &[Json],
    ) -> Result<Option<Outcome>, ScriptError> {
        let shared = Rc::clone(&self.shared);
        self.with_deadline(|ctx| {
            let caught = |caught| shared.error(ctx, caught);
            let Some(function) = target(ctx).catch(ctx).map_err(caught)? else {
                return Ok(None);
            };
            let returned = call::call(ctx, &function, args)
                .catch(ctx)
                .map_err(|caught| shared.error(ctx, caught))?;
            let result = match returned {
                call::Returned::Converted(json) => {
                    return json.map(|json| Some(Outcome::Done(json)));
                }
                call::Returned::Value(value) => value,
            };
            // Only an object can be a promise; rquickjs's `as_promise` would first tell a
            // number's type through a chain of checks.
            let promise = if result.is_object() {
                result.as_promise().cloned()
            } else {
                None
            };
            match promise {
                Some(promise) => self.follow(ctx, promise).map(Some),
                None => convert::to_json(&result).map(|json| Some(Outcome::Done(json))),
            }
        })
    }

    /// The property `name` of `holder`, read by the atom made for it once.
    fn property<'js>(
        &self,
        ctx: &Ctx<'js>,
        holder: qjs::JSValueConst,
        name: &str,
    ) -> rquickjs::Result<Value<'js>> {
        let raw_ctx = ctx.as_raw().as_ptr();
        let atom = {
            let mut names = self.names.borrow_mut();
            match names.get(name) {
                Some(atom) => *atom,
                None => {
                    // SAFETY: the context is alive; the name is valid for its length.
                    let atom = unsafe {
                        qjs::JS_NewAtomLen(raw_ctx, name.as_ptr().cast(), name.len() as _)
                    };
                    if atom == qjs::JS_ATOM_NULL {
                        return Err(rquickjs::Error::Exception);
                    }
                    names.insert(name.to_owned(), atom);
                    atom
                }
            }
        };
        // SAFETY: the holder and the atom are alive in this context; `JS_GetProperty` returns
        // a new reference (or an exception, left pending for `catch`), which `from_raw` owns.
        unsafe {
            let value = qjs::JS_GetProperty(raw_ctx, holder, atom);
            if qjs::JS_IsException(value) {
                return Err(rquickjs::Error::Exception);
            }
            Ok(Value::from_raw(ctx.clone(), value))
        }
    }

    fn runtime_ptr(&self) -> *mut qjs::JSRuntime {
        self.context
            .with(|ctx| unsafe { qjs::JS_GetRuntime(ctx.as_raw().as_ptr()) })
    }

    /// A promise a call returned: its value if it settles with the jobs already queued,
    /// else a handle for [`ModInstance::poll`].
    fn follow<'js>(&self, ctx: &Ctx<'js>, promise: Promise<'js>) -> Result<Outcome, ScriptError> {
        // The host awaits it, so its rejection is handled.
        let ignore = Function::new(ctx.clone(), || ()).map_err(engine_error)?;
        let _: rquickjs::Result<Value> = promise
            .catch()
            .and_then(|catch| catch.call((This(promise.clone()), ignore)));
        while ctx.execute_pending_job() {}
        match self.settled(ctx, &promise) {
            Some(result) => result.map(Outcome::Done),
            None => {
                let id = self.shared.host.next_handler_id();
                self.shared
                    .pending
                    .borrow_mut()
                    .insert(id, Persistent::save(ctx, promise));
                Ok(Outcome::Pending(id))
            }
        }
    }

    fn settled<'js>(
        &self,
        ctx: &Ctx<'js>,
        promise: &Promise<'js>,
    ) -> Option<Result<Json, ScriptError>> {
        let result = promise.result::<Value>()?;
        Some(
            result
                .catch(ctx)
                .map_err(|caught| self.shared.error(ctx, caught))
                .and_then(|value| convert::to_json(&value)),
        )
    }
}

impl ModInstance for JsInstance {
    fn call(&mut self, function: &str, args: &[Json]) -> Result<Option<Outcome>, ScriptError> {
        let exports = self.exports.clone();
        self.invoke(
            |ctx| {
                let value = match exports {
                    Some(exports) => {
                        let exports = exports.restore(ctx)?;
                        self.property(ctx, exports.as_raw(), function)
                    }
                    None => {
                        // The global object as QuickJS's own reference: rquickjs's would take
                        // and give back a reference to the context as well.
                        let raw_ctx = ctx.as_raw().as_ptr();
                        // SAFETY: the context is alive; the reference taken here is given
                        // back below, once the property has been read.
                        let global = unsafe { qjs::JS_GetGlobalObject(raw_ctx) };
                        let value = self.property(ctx, global, function);
                        // SAFETY: as above; the property read holds its own reference.
                        unsafe { qjs::JS_FreeValue(raw_ctx, global) };
                        value
                    }
                }?;
                // `JS_IsFunction` alone: rquickjs's `into_function` tells arrays and
                // constructors apart first.
                Ok(value.is_function().then_some(value))
            },
            args,
        )
    }

    fn call_handler(&mut self, handler: HandlerId, args: &[Json]) -> Result<Outcome, ScriptError> {
        let function = self.shared.handlers.borrow().get(&handler).cloned();
        let Some(function) = function else {
            return Ok(Outcome::Done(Json::Null));
        };
        self.invoke(
            |ctx| {
                function
                    .restore(ctx)
                    .map(|function| Some(function.into_value()))
            },
            args,
        )
        .map(|outcome| outcome.unwrap_or(Outcome::Done(Json::Null)))
    }

    fn poll(&mut self, pending: HandlerId) -> Option<Result<Json, ScriptError>> {
        let promise = self.shared.pending.borrow().get(&pending).cloned()?;
        let settled = self.with_deadline(|ctx| {
            let promise = promise.restore(ctx).map_err(engine_error)?;
            match self.settled(ctx, &promise) {
                Some(result) => result.map(Some),
                None => Ok(None),
            }
        });
        match settled {
            Ok(None) => None,
            done => {
                self.shared.pending.borrow_mut().remove(&pending);
                Some(done.map(Option::unwrap_or_default))
            }
        }
    }

    fn release_handler(&mut self, handler: HandlerId) {
        self.shared.handlers.borrow_mut().remove(&handler);
    }

    fn clock(&self) -> &CallClock {
        &self.shared.clock
    }

    fn memory_used(&self) -> u64 {
        self.shared.gauge.used() as u64
    }

    fn update_settings(&mut self, settings: &Json) -> Result<(), ScriptError> {
        let updater = self.shared.settings_updater.borrow().clone();
        let Some(updater) = updater else {
            return Ok(());
        };
        let shared = Rc::clone(&self.shared);
        self.with_deadline(|ctx| {
            let caught = |caught| shared.error(ctx, caught);
            let updater = updater.restore(ctx).catch(ctx).map_err(caught)?;
            let settings = convert::from_json(ctx, settings)
                .catch(ctx)
                .map_err(|caught| shared.error(ctx, caught))?;
            updater
                .call::<_, ()>((settings,))
                .catch(ctx)
                .map_err(|caught| shared.error(ctx, caught))
        })
    }

    fn run_tests(&mut self, file: &Path, grep: Option<&str>) -> Result<Outcome, ScriptError> {
        let source = crate::files::read_to_string(file).map_err(|error| {
            ScriptError::new(
                ErrorKind::Host,
                format!("cannot read `{}`: {error}", crate::paths::shown(file)),
            )
        })?;
        let source = javascript_of(file, source)?;
        let module = is_module(file, &source);
        let shared = Rc::clone(&self.shared);
        self.with_deadline(|ctx| {
            let report = testing::load_and_run(ctx, &shared, file, source, module, grep)
                .catch(ctx)
                .map_err(|caught| shared.error(ctx, caught))?;
            match report.as_promise().cloned() {
                Some(promise) => self.follow(ctx, promise),
                None => convert::to_json(&report).map(Outcome::Done),
            }
        })
    }

    fn functions(&mut self) -> Vec<String> {
        let exports = self.exports.clone();
        self.context.with(|ctx| {
            let holder = match exports {
                Some(exports) => exports.restore(&ctx).ok(),
                None => Some(ctx.globals()),
            };
            let mut names: Vec<String> = holder
                .into_iter()
                .flat_map(|holder| {
                    holder
                        .props::<String, Value>()
                        .filter_map(Result::ok)
                        .collect::<Vec<_>>()
                })
                .filter(|(_, value)| value.is_function())
                .map(|(name, _)| name)
                .collect();
            names.sort();
            names
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_are_told_from_scripts_by_their_statements() {
        let js = Path::new("main.js");
        assert!(is_module(Path::new("main.mjs"), ""));
        assert!(is_module(js, "import { x } from './x.js';"));
        assert!(is_module(js, "  export function onAttach() {}"));
        assert!(is_module(js, "export{ a }"));
        assert!(!is_module(
            js,
            "function onAttach() {}\nconst importer = 1;"
        ));
        assert!(!is_module(js, "import('./lazy.js').then(() => {});"));
        assert!(!is_module(js, "'use strict';\nfunction f() {}"));
    }
}
