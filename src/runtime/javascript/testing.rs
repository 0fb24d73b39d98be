//! `modhost test` in JavaScript and TypeScript (SPEC section 14): the `modhost.test` object
//! (a virtual clock, events delivered to the mod's own handlers, what it emitted, game
//! functions mocked and their calls recorded), and loading a test file with the test API
//! ([`test_framework.js`](test_framework.js)) after the mod's entry point.

use std::path::Path;
use std::rc::Rc;

use rquickjs::function::Opt;
use rquickjs::{Ctx, Exception, Function, Module, Object, Persistent, Value};

use super::bindings::checked;
use super::{Shared, convert};
use crate::runtime::doubles::GameDoubles;
use crate::runtime::{HandlerKind, Json, TestStep};

/// The game functions a test mocked, and the arguments of every game call the mod made.
pub(super) type TestDoubles = GameDoubles<Persistent<Function<'static>>>;

/// Records a game call and, when the test mocked the function, answers it: `None` when the
/// host should answer (with the game, or the typed stub).
pub(super) fn answer_game_call<'js>(
    ctx: &Ctx<'js>,
    shared: &Shared,
    function: &str,
    args: &[Json],
) -> Option<rquickjs::Result<Value<'js>>> {
    let mock = shared.testing.as_ref()?.called(function, args)?;
    Some((|| {
        let mock = mock.restore(ctx)?;
        let mut call_args = rquickjs::function::Args::new(ctx.clone(), args.len());
        for arg in args {
            call_args.push_arg(convert::from_json(ctx, arg)?)?;
        }
        mock.call_arg(call_args)
    })())
}

/// `modhost.test`.
pub(super) fn test_object<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
) -> rquickjs::Result<Object<'js>> {
    let test = Object::new(ctx.clone())?;

    let clock = Rc::clone(shared);
    test.set(
        "advance",
        Function::new(
            ctx.clone(),
            checked(
                "test.advance",
                move |ctx: Ctx<'js>, ms: f64| -> rquickjs::Result<()> {
                    let until = clock.host.test_now_ms() + ms.max(0.0) as u64;
                    while let Some(handler) = clock.host.test_next_timer(&clock.mod_id, until) {
                        let function = clock.handlers.borrow().get(&handler).cloned();
                        if let Some(function) = function {
                            function.restore(&ctx)?.call::<_, ()>(())?;
                        }
                    }
                    Ok(())
                },
            ),
        )?,
    )?;

    let emitter = Rc::clone(shared);
    test.set(
        "emit",
        Function::new(
            ctx.clone(),
            checked(
                "test.emit",
                move |ctx: Ctx<'js>,
                      event: String,
                      payload: Opt<Value<'js>>|
                      -> rquickjs::Result<Value<'js>> {
                    let mut payload = payload
                        .0
                        .unwrap_or_else(|| Value::new_undefined(ctx.clone()));
                    for (handler, kind) in emitter.host.test_handlers(&emitter.mod_id, &event) {
                        let function = emitter.handlers.borrow().get(&handler).cloned();
                        let Some(function) = function else { continue };
                        let answer: Value = function
                            .restore(&ctx)?
                            .call((payload.clone(), event.as_str()))?;
                        if kind == HandlerKind::Before {
                            if answer.as_bool() == Some(false) {
                                break;
                            }
                            if answer.is_object() {
                                payload = answer;
                            }
                        }
                    }
                    Ok(payload)
                },
            ),
        )?,
    )?;

    let mocker = Rc::clone(shared);
    test.set(
        "mock",
        Function::new(
            ctx.clone(),
            checked(
                "test.mock",
                move |ctx: Ctx<'js>, function: String, answer: Function<'js>| {
                    let Some(doubles) = &mocker.testing else {
                        return Ok(());
                    };
                    doubles
                        .mock(function, Persistent::save(&ctx, answer))
                        .map_err(|message| Exception::throw_type(&ctx, &message))
                },
            ),
        )?,
    )?;

    let watcher = Rc::clone(shared);
    test.set(
        "calls",
        Function::new(
            ctx.clone(),
            checked("test.calls", move |ctx: Ctx<'js>, function: String| {
                let calls = match &watcher.testing {
                    Some(doubles) => doubles
                        .calls(&function)
                        .map_err(|message| Exception::throw_type(&ctx, &message))?,
                    None => Vec::new(),
                };
                convert::from_json(&ctx, &Json::Array(calls))
            }),
        )?,
    )?;
    super::bindings::services(ctx, shared, "test", Some(test))
}

/// Evaluates the test API, then the test file (as a module when it is one, so it can import
/// the entry point), and returns the promise of `__modhostRunTests(grep)`.
pub(super) fn load_and_run<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    file: &Path,
    source: String,
    module: bool,
    grep: Option<&str>,
) -> rquickjs::Result<Value<'js>> {
    let name = crate::paths::shown(file);
    ctx.globals().set("__modhostTestFile", name.as_str())?;
    let reporter = Rc::clone(shared);
    ctx.globals().set(
        "__modhostTestProgress",
        Function::new(ctx.clone(), move |kind: String, value: Value<'js>| {
            let step = convert::to_json(&value)
                .ok()
                .and_then(|value| TestStep::from_report(&kind, value));
            if let Some(step) = step {
                reporter.host.test_progress(step);
            }
        })?,
    )?;
    ctx.eval::<(), _>(include_str!("test_framework.js"))?;
    if module {
        let (_, promise) = Module::declare(ctx.clone(), name.as_str(), source)?.eval()?;
        promise.finish::<Value>()?;
    } else {
        let mut options = rquickjs::context::EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.filename = Some(name);
        ctx.eval_with_options::<Value, _>(source, options)?;
    }
    let run: Function = ctx.globals().get("__modhostRunTests")?;
    run.call((grep,))
}
