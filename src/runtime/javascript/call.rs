//! Calling a mod's function with the host's arguments through QuickJS's own `JS_Call`.
//!
//! rquickjs's argument lists give every value a handle on its context, so a call with two
//! numbers paid for five context reference counts and a list on the heap: a quarter of a host
//! call. Here numbers, booleans and null are made as tagged values in place, in a list on the
//! stack for up to [`INLINE`] arguments; anything else is made by [`convert::from_json`] and
//! kept alive until the call returns.
//!
//! An exception is left pending for the caller's `catch`, as rquickjs leaves it. (rquickjs
//! would also resume a panic from a native function there; the host's natives return errors
//! instead of panicking, so there is none to resume.)

use rquickjs::{Ctx, Value, qjs};

use super::convert;
use crate::runtime::Json;

/// Arguments a call takes without a list on the heap.
const INLINE: usize = 8;

/// What a call returned.
pub(super) enum Returned<'js> {
    /// An integer, a boolean, null or undefined, converted by its tag
    /// ([`convert::primitive_to_json`]) before it took a handle on the context.
    Primitive(Json),
    Value(Value<'js>),
}

/// Calls `function` (a value that is a function) with `args` (and `this` undefined),
/// returning what it returned.
pub(super) fn call<'js>(
    ctx: &Ctx<'js>,
    function: &Value<'js>,
    args: &[Json],
) -> rquickjs::Result<Returned<'js>> {
    let mut inline = [qjs::JS_UNDEFINED; INLINE];
    let mut spilled = Vec::new();
    let raw: &mut [qjs::JSValue] = if args.len() <= INLINE {
        &mut inline[..args.len()]
    } else {
        spilled.resize(args.len(), qjs::JS_UNDEFINED);
        &mut spilled
    };
    // Values made by `convert::from_json`, alive until the call has returned.
    let mut made = Vec::new();
    for (slot, arg) in raw.iter_mut().zip(args) {
        *slot = match primitive(arg) {
            Some(value) => value,
            None => {
                let value = convert::from_json(ctx, arg)?;
                let as_raw = value.as_raw();
                made.push(value);
                as_raw
            }
        };
    }
    // SAFETY: the context and the function are alive; every argument is a primitive (no
    // reference count) or is kept alive by `made` until `JS_Call` has returned; `JS_Call`
    // returns a new reference, which `from_raw` takes over (a primitive holds none).
    unsafe {
        let result = qjs::JS_Call(
            ctx.as_raw().as_ptr(),
            function.as_raw(),
            qjs::JS_UNDEFINED,
            raw.len() as _,
            raw.as_mut_ptr(),
        );
        drop(made);
        if qjs::JS_IsException(result) {
            return Err(rquickjs::Error::Exception);
        }
        Ok(match convert::primitive_to_json(result) {
            Some(json) => Returned::Primitive(json),
            None => Returned::Value(Value::from_raw(ctx.clone(), result)),
        })
    }
}

/// A number, boolean or null as QuickJS's tagged value, converted as [`convert::from_json`]
/// does.
fn primitive(json: &Json) -> Option<qjs::JSValue> {
    Some(match json {
        Json::Null => qjs::JS_NULL,
        Json::Bool(value) => qjs::JS_MKVAL(qjs::JS_TAG_BOOL, i32::from(*value)),
        Json::Int(integer) => match i32::try_from(*integer) {
            Ok(small) => qjs::JS_MKVAL(qjs::JS_TAG_INT, small),
            Err(_) => qjs::JS_NewFloat64(*integer as f64),
        },
        Json::Float(number) => qjs::JS_NewFloat64(*number),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_arrive_as_the_converted_values_would() {
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let describe: Value = ctx
                .eval("(...args) => args.map((a) => typeof a + ':' + JSON.stringify(a)).join(' ')")
                .unwrap();
            let args: Vec<Json> = serde_json::from_str(
                r#"[null, true, false, 7, -2147483649, 2.5, 9007199254740993, "text", [1, {"a": "b"}]]"#,
            )
            .unwrap();
            let Ok(Returned::Value(result)) = call(&ctx, &describe, &args) else {
                panic!("a string is returned as a value");
            };
            assert_eq!(
                result.as_string().unwrap().to_string().unwrap(),
                r#"object:null boolean:true boolean:false number:7 number:-2147483649 number:2.5 number:9007199254740992 string:"text" object:[1,{"a":"b"}]"#
            );
            // Past the inline list, and an exception left pending for `catch`.
            let count: Value = ctx.eval("(...args) => args.length").unwrap();
            let many = vec![Json::from(1); 20];
            assert!(matches!(
                call(&ctx, &count, &many),
                Ok(Returned::Primitive(Json::Int(20)))
            ));
            let throws: Value = ctx.eval("() => { throw new Error('no') }").unwrap();
            assert!(matches!(
                call(&ctx, &throws, &[]),
                Err(rquickjs::Error::Exception)
            ));
            assert!(ctx.catch().is_error());
        });
    }
}
