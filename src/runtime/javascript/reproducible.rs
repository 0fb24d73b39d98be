//! A JavaScript mod in a recorded or replayed session: `Date` (with no arguments and
//! `Date.now`), `performance.now` and `Math.random` read the session's virtual clock and the
//! mod's seed instead of the machine's (see [`Reproducible`]); and, replaying, where in the
//! mod's code an output comes from ([`locate`]).

use std::cell::RefCell;

use rquickjs::{Ctx, Function};

use super::Shared;
use super::bytecode::CompiledOnce;
use crate::runtime::Reproducible;

/// Replaces the globals; `Date` keeps its prototype, so `instanceof Date` and every method
/// work as before, and a `Date` made from arguments is the engine's own.
static REPLACE: CompiledOnce = CompiledOnce::new(
    r#"(function (wallNow, elapsed, random) {
    const EngineDate = Date;
    function ReproducibleDate(...args) {
        if (new.target === undefined) return new EngineDate(wallNow()).toString();
        return Reflect.construct(EngineDate, args.length === 0 ? [wallNow()] : args, new.target);
    }
    Object.defineProperty(ReproducibleDate, 'name', { value: 'Date' });
    ReproducibleDate.prototype = EngineDate.prototype;
    ReproducibleDate.now = () => Math.floor(wallNow());
    ReproducibleDate.parse = EngineDate.parse;
    ReproducibleDate.UTC = EngineDate.UTC;
    Object.defineProperty(EngineDate.prototype, 'constructor', { value: ReproducibleDate, writable: true, configurable: true });
    Object.defineProperty(globalThis, 'Date', { value: ReproducibleDate, writable: true, configurable: true, enumerable: false });
    Math.random = random;
    // The engine's `performance.now` cannot be redefined: the object is replaced.
    const performance = { now: () => elapsed(), timeOrigin: wallNow() - elapsed() };
    Object.defineProperty(globalThis, 'performance', { value: performance, writable: true, configurable: true, enumerable: true });
})"#,
);

pub(super) fn install(ctx: &Ctx<'_>, reproducible: &Reproducible) -> rquickjs::Result<()> {
    let replace: Function = REPLACE.eval(ctx)?;
    let wall = reproducible.clone();
    let elapsed = reproducible.clone();
    let random = RefCell::new(reproducible.random());
    replace.call((
        Function::new(ctx.clone(), move || wall.wall_ms())?,
        Function::new(ctx.clone(), move || elapsed.elapsed_ms())?,
        Function::new(ctx.clone(), move || random.borrow_mut().f64())?,
    ))
}

/// Tells the host the `file:line` of the mod's code running now (the innermost frame in the
/// mod's folder), when it asks (a replay, for the line of a divergent output). Costs a stack
/// trace, so only then.
pub(super) fn locate(ctx: &Ctx<'_>, shared: &Shared) {
    if !shared.locate {
        return;
    }
    let stack: Option<String> = ctx.eval("new Error().stack").ok();
    if let Some((file, line, _)) =
        stack.and_then(|stack| crate::runtime::error::find_position(&stack, &shared.mod_path))
    {
        shared
            .host
            .located(format!("{}:{line}", crate::paths::shown(&file)));
    }
}
