//! HTML's timer globals in a JavaScript mod (`setTimeout`, `setInterval`, `clearTimeout`,
//! `clearInterval`), natives on top of the services behind `modhost.timers`.
//!
//! As in browsers and Node: the delay and the id are Web IDL `long`s (converted with
//! `ToNumber`; NaN, infinities and negative delays are 0), clearing an unknown id does
//! nothing, and arguments after the delay go to the callback. A string of code is refused:
//! the sandbox compiles no strings for timers.

use std::rc::Rc;

use rquickjs::function::{Params, Rest};
use rquickjs::object::Property;
use rquickjs::{Coerced, Ctx, Exception, FromJs, Function, Object, Persistent, Value};

use super::Shared;
use super::bindings::{Raw, Served, serve};
use crate::runtime::Service;

/// Defines the four globals on `globals`, writable like the built-in ones and not enumerable
/// (they are not the mod's functions).
pub(super) fn install<'js>(
    ctx: &Ctx<'js>,
    shared: &Rc<Shared>,
    globals: &Object<'js>,
) -> rquickjs::Result<()> {
    let starters = [
        (
            "setTimeout",
            Served::new("timers.after", Service::TimersAfter),
        ),
        (
            "setInterval",
            Served::new("timers.every", Service::TimersEvery),
        ),
    ];
    for (name, served) in starters {
        let owner = Rc::clone(shared);
        let native = Raw(move |params: Params<'_, 'js>| {
            let ctx = params.ctx().clone();
            let Some(function) = params.arg(0).and_then(Value::into_function) else {
                return Err(Exception::throw_type(
                    &ctx,
                    &format!(
                        "{name}: a mod's timer needs a function to call (strings of code are not run)"
                    ),
                ));
            };
            let delay = long(&ctx, params.arg(1))?.max(0);
            let extra: Vec<Value<'js>> = (2..params.len())
                .filter_map(|index| params.arg(index))
                .collect();
            let callback = with_arguments(&ctx, function, extra)?;
            serve(
                &ctx,
                &owner,
                served,
                &[Value::new_int(ctx.clone(), delay), callback.into_value()],
            )
        });
        let native = Function::new(ctx.clone(), native)?.with_name(name)?;
        globals.prop(name, Property::from(native).writable())?;
    }
    let cancel = Served::new("timers.cancel", Service::TimersCancel);
    for name in ["clearTimeout", "clearInterval"] {
        let owner = Rc::clone(shared);
        let native = Raw(move |params: Params<'_, 'js>| {
            let ctx = params.ctx().clone();
            let id = long(&ctx, params.arg(0))?;
            if id > 0 {
                serve(&ctx, &owner, cancel, &[Value::new_int(ctx.clone(), id)])?;
            }
            Ok(Value::new_undefined(ctx))
        });
        let native = Function::new(ctx.clone(), native)?.with_name(name)?;
        globals.prop(name, Property::from(native).writable())?;
    }
    Ok(())
}

/// Web IDL's `long`: `ToNumber`, then NaN and infinities are 0 and the rest wraps to 32 bits.
/// Missing is `undefined`, which is 0 too.
fn long<'js>(ctx: &Ctx<'js>, value: Option<Value<'js>>) -> rquickjs::Result<i32> {
    let Some(value) = value else {
        return Ok(0);
    };
    let Coerced(number) = Coerced::<f64>::from_js(ctx, value)?;
    if !number.is_finite() {
        return Ok(0);
    }
    // Truncated towards zero, then taken modulo 2^32 (exactly: the remainder of two doubles
    // is exact) and read as a signed 32-bit number.
    let wrapped = number.trunc().rem_euclid(4_294_967_296.0) as u32;
    Ok(wrapped as i32)
}

/// The callback a timer calls: the mod's function itself, or, with extra arguments, a native
/// that calls it with them (kept by the native, which the timer's handler keeps).
fn with_arguments<'js>(
    ctx: &Ctx<'js>,
    function: Function<'js>,
    arguments: Vec<Value<'js>>,
) -> rquickjs::Result<Function<'js>> {
    if arguments.is_empty() {
        return Ok(function);
    }
    let function = Persistent::save(ctx, function);
    let arguments: Vec<_> = arguments
        .into_iter()
        .map(|argument| Persistent::save(ctx, argument))
        .collect();
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>| -> rquickjs::Result<Value<'js>> {
            let function = function.clone().restore(&ctx)?;
            let arguments = arguments
                .iter()
                .map(|argument| argument.clone().restore(&ctx))
                .collect::<rquickjs::Result<Vec<_>>>()?;
            function.call((Rest(arguments),))
        },
    )
}
