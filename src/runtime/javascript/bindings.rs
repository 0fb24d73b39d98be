//! The `modhost` global (and `console`) inside a JavaScript mod.

use std::rc::Rc;

use rquickjs::function::{Params, Rest};
use rquickjs::{Ctx, Exception, Function, Object, Persistent, Value};
use smallvec::SmallVec;

use super::namespaces::Strict;
use super::{Shared, convert};
use crate::runtime::services::serve_in_call;
use crate::runtime::signatures::{self, Given, Kind};
use crate::runtime::{GameGlobal, HandlerId, HostError, Json, LogLevel, Service, surface};

/// Puts the native API in place: `modhost` and the game's global, strict and frozen all the
/// way down, with `modhost.mod` and `modhost.settings` read-only views ([`Strict`]); `console`
/// ([`super::console`], made when first read) and HTML's timers ([`super::timers`]) as globals. The natives check
/// their own arguments ([`checked`]). Returns the function that replaces `modhost.settings`.
pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    info: &Json,
    settings: &Json,
    game: Option<&GameGlobal>,
) -> rquickjs::Result<Function<'js>> {
    let log = Object::new(ctx.clone())?;
    for level in LogLevel::ALL {
        log.set(level.name(), logger(ctx, shared, level)?)?;
    }
    let mut namespaces = vec![
        ("log", log),
        ("mods", mods(ctx, shared)?),
        ("events", events(ctx, shared)?),
        ("timers", services(ctx, shared, "timers", None)?),
        ("storage", services(ctx, shared, "storage", None)?),
        ("fs", services(ctx, shared, "fs", None)?),
    ];
    if shared.testing.is_some() {
        namespaces.push(("test", super::testing::test_object(ctx, shared)?));
    }
    let modhost = Object::new(ctx.clone())?;
    for (name, namespace) in &namespaces {
        modhost.set(*name, namespace.clone())?;
    }
    let strict = Strict::prepare(
        ctx,
        &modhost,
        convert::from_json(ctx, info)?,
        convert::from_json(ctx, settings)?,
    )?;
    for (name, namespace) in &namespaces {
        strict.apply(namespace, &format!("modhost.{name}"))?;
    }
    strict.apply(&modhost, "modhost")?;

    let globals = ctx.globals();
    globals.prop("modhost", modhost)?;
    super::console::define_made_on_first_use(shared, &globals)?;
    super::timers::install(ctx, shared, &globals)?;
    if let Some(game) = game {
        let object = game_object(ctx, shared, game)?;
        strict.apply_all_the_way_down(&object, &game.name)?;
        globals.prop(game.name.as_str(), object)?;
    }
    Ok(strict.settings_updater)
}

/// The game's global: an object per namespace (`game.world`), a native function per function
/// of the API, each forwarding to the host, which checks and answers the call.
fn game_object<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    game: &GameGlobal,
) -> rquickjs::Result<Object<'js>> {
    let root = Object::new(ctx.clone())?;
    for name in &game.functions {
        let mut holder = root.clone();
        let mut segments: Vec<&str> = name.split('.').collect();
        let leaf = segments.pop().unwrap_or_default();
        for segment in segments {
            holder = match holder.get::<_, Option<Object>>(segment)? {
                Some(inner) => inner,
                None => {
                    let inner = Object::new(ctx.clone())?;
                    holder.set(segment, inner.clone())?;
                    inner
                }
            };
        }
        let caller = Rc::clone(shared);
        let function = name.clone();
        let native = Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
            enter(&ctx, &caller)?;
            let args = all_to_json(&ctx, &caller, &args.0)?;
            if let Some(mocked) = super::testing::answer_game_call(&ctx, &caller, &function, &args)
            {
                return mocked;
            }
            // The game has `game_call_timeout_ms` of its own: waiting for it is not the mod's time.
            super::reproducible::locate(&ctx, &caller);
            let answer = caller
                .clock
                .paused(|| caller.host.game_call(&caller.mod_id, &function, args));
            match answer {
                Ok(result) => convert::from_json(&ctx, &result),
                Err(message) => Err(host_error(&ctx, &caller, &message)),
            }
        })?
        .with_name(leaf)?;
        holder.set(leaf, native)?;
    }
    Ok(root)
}

/// A namespace (`storage`) with each service of the surface in it ([`Service`]): one native
/// each, which checks its arguments and asks the host ([`serve`]).
pub(super) fn services<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    namespace: &str,
    into: Option<Object<'js>>,
) -> rquickjs::Result<Object<'js>> {
    let object = match into {
        Some(object) => object,
        None => Object::new(ctx.clone())?,
    };
    for (name, path, service) in Service::in_namespace(namespace) {
        let owner = Rc::clone(shared);
        let served = Served::new(path, service);
        let native = checked(path, move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
            serve(&ctx, &owner, served, &args.0)
        });
        object.set(name, Function::new(ctx.clone(), native)?)?;
    }
    Ok(object)
}

/// A service of the host as a native asks for it: the API function's path, found once.
#[derive(Clone, Copy)]
pub(super) struct Served {
    path: &'static str,
    service: Service,
    returns_nothing: bool,
}

impl Served {
    pub(super) fn new(path: &'static str, service: Service) -> Served {
        Served {
            path,
            service,
            returns_nothing: surface::returns_nothing(path),
        }
    }
}

/// Asks the host for `served` with `args`, converted: a function becomes a handler the
/// instance keeps (dropped again if the host refuses).
pub(super) fn serve<'js>(
    ctx: &Ctx<'js>,
    owner: &Shared,
    served: Served,
    args: &[Value<'js>],
) -> rquickjs::Result<Value<'js>> {
    let Served {
        path,
        service,
        returns_nothing,
    } = served;
    enter(ctx, owner)?;
    let mut kept: SmallVec<[HandlerId; 1]> = SmallVec::new();
    let mut given: SmallVec<[Json; 4]> = SmallVec::new();
    for (index, value) in args.iter().enumerate() {
        given.push(
            if let Some(function) = value
                .as_function()
                .filter(|_| signatures::takes_function(path, index))
            {
                let handler = owner.host.next_handler_id();
                let saved = Persistent::save(ctx, function.clone());
                owner.handlers.borrow_mut().insert(handler, saved);
                kept.push(handler);
                Json::from(handler)
            } else if value.is_undefined() {
                Json::Null
            } else {
                to_json_or_throw(ctx, owner, value)?
            },
        );
    }
    match serve_in_call(&*owner.host, &owner.clock, &owner.mod_id, service, &given) {
        Ok(_) if returns_nothing => Ok(Value::new_undefined(ctx.clone())),
        Ok(answer) => convert::from_json(ctx, &answer),
        Err(message) => {
            let mut handlers = owner.handlers.borrow_mut();
            kept.iter()
                .for_each(|handler| drop(handlers.remove(handler)));
            Err(host_error(ctx, owner, &message))
        }
    }
}

fn logger<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    level: LogLevel,
) -> rquickjs::Result<Function<'js>> {
    let shared = Rc::clone(shared);
    Function::new(
        ctx.clone(),
        Raw(move |params: Params<'_, 'js>| {
            let values: SmallVec<[Value<'js>; 4]> = (0..params.len())
                .filter_map(|index| params.arg(index))
                .collect();
            log_values(params.ctx(), &shared, level, &values)?;
            Ok(Value::new_undefined(params.ctx().clone()))
        }),
    )
}

/// Logs `values` as one line of the mod's log, each shown as `console.log` shows it.
pub(super) fn log_values<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    level: LogLevel,
    values: &[Value<'js>],
) -> rquickjs::Result<()> {
    enter(ctx, shared)?;
    let message = values
        .iter()
        .map(|value| display(ctx, value))
        .collect::<Vec<_>>()
        .join(" ");
    if shared.clock.must_stop() {
        // A getter or `toJSON` ran past the deadline while the value was shown.
        return Err(stop(ctx, shared));
    }
    super::reproducible::locate(ctx, shared);
    shared.host.log(&shared.mod_id, level, &message);
    Ok(())
}

/// How `console.log` shows a value: strings as they are, errors with their message, the rest
/// as JSON.
fn display<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(text) = value.as_string().and_then(|text| text.to_string().ok()) {
        return text;
    }
    if let Some(exception) = value.as_exception() {
        let name: String = exception.get("name").unwrap_or_else(|_| "Error".to_owned());
        return format!("{name}: {}", exception.message().unwrap_or_default());
    }
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    if value.is_function() {
        return "[function]".to_owned();
    }
    match convert::to_json(value) {
        Ok(json) => json.to_string(),
        Err(_) => super::error::describe(ctx, value),
    }
}

/// The entry of every native function: the call's deadline holds in host functions too.
fn enter(ctx: &Ctx<'_>, shared: &Shared) -> rquickjs::Result<()> {
    if shared.clock.tick() {
        return Err(stop(ctx, shared));
    }
    Ok(())
}

/// Throws what stops the call: an error the mod's `catch` cannot catch, so the call unwinds
/// to the host, which reports the limit that was broken.
fn stop(ctx: &Ctx<'_>, shared: &Shared) -> rquickjs::Error {
    let reason = match shared.clock.has_breach() {
        true => "the call broke its memory limit",
        false => "the call ran past its time limit",
    };
    match Exception::from_message(ctx.clone(), reason) {
        Ok(error) => {
            let error = error.into_value();
            // SAFETY: `error` is a live object of this context; marking it only sets a flag.
            unsafe { rquickjs::qjs::JS_SetUncatchableError(ctx.as_raw().as_ptr(), error.as_raw()) };
            ctx.throw(error)
        }
        Err(error) => error,
    }
}

/// An error from the host, raised in the mod: one it can catch, unless the call has been
/// stopped meanwhile.
fn host_error(ctx: &Ctx<'_>, shared: &Shared, message: &str) -> rquickjs::Error {
    if shared.clock.must_stop() {
        return stop(ctx, shared);
    }
    Exception::throw_message(ctx, message)
}

/// A value the mod hands the host, as JSON. A getter or `toJSON` that runs past the deadline
/// while it is converted stops the call; it does not become a catchable `TypeError`.
fn to_json_or_throw<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    value: &Value<'js>,
) -> rquickjs::Result<Json> {
    convert::to_json(value).map_err(|error| {
        if shared.clock.tick() {
            stop(ctx, shared)
        } else {
            Exception::throw_type(ctx, &error.message)
        }
    })
}

/// A string parameter of the two hot API functions, which take their arguments as they come
/// (the prelude explains the others' mistakes), read through the mod's
/// [`Names`](super::names::Names): a `TypeError` naming the function, the parameter and what
/// it got.
fn text_argument<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    value: Option<&Value<'js>>,
    function: &str,
    name: &str,
) -> rquickjs::Result<Rc<str>> {
    let Some(value) = value.filter(|value| !value.is_undefined()) else {
        return Err(Exception::throw_type(
            ctx,
            &format!("{function}: parameter `{name}` is missing (it takes a string)"),
        ));
    };
    match value.as_string() {
        Some(text) => shared.names.read(ctx, text),
        None => Err(Exception::throw_type(
            ctx,
            &format!(
                "{function}: parameter `{name}` takes a string, got {}",
                match value.type_of() {
                    rquickjs::Type::Int | rquickjs::Type::Float => "a number",
                    rquickjs::Type::Bool => "a boolean",
                    rquickjs::Type::Null => "null",
                    rquickjs::Type::Array => "an array",
                    rquickjs::Type::Function | rquickjs::Type::Constructor => "a function",
                    _ => "an object",
                }
            ),
        )),
    }
}

/// A native of the `modhost` function `path` whose arguments are checked against its
/// parameters before they are converted as `F` takes them: a wrong one is a `TypeError`
/// naming the function, the parameter and the type ([`signatures::check`]), not rquickjs's
/// conversion error.
pub(super) struct Checked<F, P> {
    path: &'static str,
    function: F,
    taking: std::marker::PhantomData<P>,
}

pub(super) fn checked<F, P>(path: &'static str, function: F) -> Checked<F, P> {
    Checked {
        path,
        function,
        taking: std::marker::PhantomData,
    }
}

impl<'js, F, P> rquickjs::function::IntoJsFunc<'js, Checked<(), P>> for Checked<F, P>
where
    F: rquickjs::function::IntoJsFunc<'js, P>,
{
    fn param_requirements() -> rquickjs::function::ParamRequirement {
        rquickjs::function::ParamRequirement::any()
    }

    fn call<'a>(&self, params: Params<'a, 'js>) -> rquickjs::Result<Value<'js>> {
        let values: SmallVec<[Value<'js>; 4]> = (0..params.len())
            .filter_map(|index| params.arg(index))
            .collect();
        let given: SmallVec<[Given; 4]> = values.iter().map(given).collect();
        signatures::check(self.path, &given, &|index| shown(&values[index]), false)
            .map_err(|message| Exception::throw_type(params.ctx(), &message))?;
        self.function.call(params)
    }
}

/// What an argument is, as [`signatures::check`] asks.
fn given(value: &Value<'_>) -> Given {
    match value.type_of() {
        rquickjs::Type::Undefined | rquickjs::Type::Uninitialized => Given::Missing,
        rquickjs::Type::String => Given::Of(Kind::String),
        rquickjs::Type::Int | rquickjs::Type::Float => Given::Of(Kind::Number),
        rquickjs::Type::Bool => Given::Of(Kind::Boolean),
        rquickjs::Type::Function | rquickjs::Type::Constructor => Given::Of(Kind::Function),
        _ => Given::Other,
    }
}

/// How a wrong argument is named: `a function`, `an array`, `null`, `number 5`, `string "x"`.
fn shown(value: &Value<'_>) -> String {
    match value.type_of() {
        rquickjs::Type::Null => "null".to_owned(),
        rquickjs::Type::Array => "an array".to_owned(),
        rquickjs::Type::Function | rquickjs::Type::Constructor => "a function".to_owned(),
        rquickjs::Type::String => format!(
            "string {}",
            serde_json::Value::String(
                value
                    .as_string()
                    .and_then(|text| text.to_string().ok())
                    .unwrap_or_default()
            )
        ),
        rquickjs::Type::Int | rquickjs::Type::Float => {
            let number = value.as_number().unwrap_or(f64::NAN);
            let text: Option<String> = value
                .ctx()
                .globals()
                .get::<_, Function>("String")
                .and_then(|string| string.call((number,)))
                .ok();
            format!("number {}", text.unwrap_or_else(|| number.to_string()))
        }
        rquickjs::Type::Bool => format!("boolean {}", value.as_bool().unwrap_or_default()),
        rquickjs::Type::Symbol => "a symbol".to_owned(),
        rquickjs::Type::BigInt => "a bigint".to_owned(),
        _ => "an object".to_owned(),
    }
}

/// A native function that takes its arguments as QuickJS passed them, without the list on
/// the heap rquickjs's `Rest` makes (`modhost.mods.call` and `modhost.events.emit`, the hot
/// paths).
pub(super) struct Raw<F>(pub(super) F);

impl<'js, F> rquickjs::function::IntoJsFunc<'js, Raw<()>> for Raw<F>
where
    F: for<'a> Fn(Params<'a, 'js>) -> rquickjs::Result<Value<'js>> + 'js,
{
    fn param_requirements() -> rquickjs::function::ParamRequirement {
        rquickjs::function::ParamRequirement::any()
    }

    fn call<'a>(&self, params: Params<'a, 'js>) -> rquickjs::Result<Value<'js>> {
        (self.0)(params)
    }
}

fn all_to_json<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    values: &[Value<'js>],
) -> rquickjs::Result<Vec<Json>> {
    values
        .iter()
        .map(|value| to_json_or_throw(ctx, shared, value))
        .collect()
}

fn mods<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>) -> rquickjs::Result<Object<'js>> {
    let mods = Object::new(ctx.clone())?;
    let caller = Rc::clone(shared);
    mods.set(
        "call",
        Function::new(
            ctx.clone(),
            Raw(move |params: Params<'_, 'js>| {
                let ctx = params.ctx().clone();
                enter(&ctx, &caller)?;
                let named = |index: usize, name: &str| {
                    let value = params.arg(index);
                    text_argument(&ctx, &caller, value.as_ref(), "modhost.mods.call", name)
                };
                let target = named(0, "mod")?;
                let function = named(1, "function")?;
                let mut args: SmallVec<[Json; 4]> = SmallVec::new();
                for index in 2..params.len() {
                    if let Some(value) = params.arg(index) {
                        args.push(to_json_or_throw(&ctx, &caller, &value)?);
                    }
                }
                match caller.host.call(&caller.mod_id, &target, &function, &args) {
                    Ok(result) => convert::from_json(&ctx, &result),
                    Err(message) => Err(host_error(&ctx, &caller, &message)),
                }
            }),
        )?,
    )?;
    services(ctx, shared, "mods", Some(mods))
}

fn events<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>) -> rquickjs::Result<Object<'js>> {
    let events = Object::new(ctx.clone())?;
    let emitter = Rc::clone(shared);
    events.set(
        "emit",
        Function::new(
            ctx.clone(),
            Raw(move |params: Params<'_, 'js>| {
                let ctx = params.ctx().clone();
                enter(&ctx, &emitter)?;
                let event = params.arg(0);
                let event = text_argument(
                    &ctx,
                    &emitter,
                    event.as_ref(),
                    "modhost.events.emit",
                    "event",
                )?;
                let payload = match params.arg(1) {
                    Some(value) => to_json_or_throw(&ctx, &emitter, &value)?,
                    None => Json::Null,
                };
                super::reproducible::locate(&ctx, &emitter);
                match emitter.host.emit(&emitter.mod_id, &event, payload) {
                    Ok(()) => Ok(Value::new_undefined(ctx.clone())),
                    Err(HostError::Refused(message)) => Err(host_error(&ctx, &emitter, &message)),
                    Err(HostError::Breach(error)) => {
                        emitter.clock.breach(error);
                        Err(stop(&ctx, &emitter))
                    }
                }
            }),
        )?,
    )?;
    services(ctx, shared, "events", Some(events))
}
