//! Calling a mod's function with the host's arguments through QuickJS's own `JS_Call`.
//!
//! rquickjs's argument lists give every value a handle on its context, so a call with two
//! numbers paid for five context reference counts and a list on the heap: a quarter of a host
//! call. Here numbers, booleans and null are made as tagged values in place, in a list on the
//! stack for up to [`INLINE`] arguments; a string is made by `JS_NewStringLen` and freed once
//! the call returns, without a handle either; anything else is made by
//! [`convert::from_json`] and kept alive until the call returns. A result that is a string is
//! read the same way.
//!
//! An exception is left pending for the caller's `catch`, as rquickjs leaves it. (rquickjs
//! would also resume a panic from a native function there; the host's natives return errors
//! instead of panicking, so there is none to resume.)

use rquickjs::{Ctx, Value, qjs};
use smallvec::SmallVec;

use super::convert;
use crate::runtime::{Json, ScriptError};

/// Arguments a call takes without a list on the heap.
const INLINE: usize = 8;

/// What a call returned.
pub(super) enum Returned<'js> {
    /// An integer, a boolean, null or undefined ([`convert::primitive_to_json`]), or a string
    /// ([`convert::string_to_json`], which refuses one too large to cross), converted before it
    /// took a handle on the context.
    Converted(Result<Json, ScriptError>),
    Value(Value<'js>),
}

/// Strings made for a call's arguments, freed when it has returned (or failed).
struct MadeStrings {
    ctx: *mut qjs::JSContext,
    values: SmallVec<[qjs::JSValue; INLINE]>,
}

impl Drop for MadeStrings {
    fn drop(&mut self) {
        for &value in &self.values {
            // SAFETY: each value was made in this context by `JS_NewStringLen`, which returned
            // the one reference freed here.
            unsafe { qjs::JS_FreeValue(self.ctx, value) };
        }
    }
}

/// Calls `function` (a value that is a function) with `args` (and `this` undefined),
/// returning what it returned.
pub(super) fn call<'js>(
    ctx: &Ctx<'js>,
    function: &Value<'js>,
    args: &[Json],
) -> rquickjs::Result<Returned<'js>> {
    let raw_ctx = ctx.as_raw().as_ptr();
    let mut inline = [qjs::JS_UNDEFINED; INLINE];
    let mut spilled = Vec::new();
    let raw: &mut [qjs::JSValue] = if args.len() <= INLINE {
        &mut inline[..args.len()]
    } else {
        spilled.resize(args.len(), qjs::JS_UNDEFINED);
        &mut spilled
    };
    let mut strings = MadeStrings {
        ctx: raw_ctx,
        values: SmallVec::new(),
    };
    // Arrays and objects made by `convert::from_json`, alive until the call has returned.
    let mut made = Vec::new();
    for (slot, arg) in raw.iter_mut().zip(args) {
        *slot = match arg {
            Json::String(text) => {
                // SAFETY: the context is alive; the text is valid UTF-8 for its length.
                let string =
                    unsafe { qjs::JS_NewStringLen(raw_ctx, text.as_ptr().cast(), text.len() as _) };
                if unsafe { qjs::JS_IsException(string) } {
                    return Err(rquickjs::Error::Exception);
                }
                strings.values.push(string);
                string
            }
            _ => match primitive(arg) {
                Some(value) => value,
                None => {
                    let value = convert::from_json(ctx, arg)?;
                    let as_raw = value.as_raw();
                    made.push(value);
                    as_raw
                }
            },
        };
    }
    // SAFETY: the context and the function are alive; every argument is a primitive (no
    // reference count) or is kept alive by `strings` or `made` until `JS_Call` has returned;
    // `JS_Call` returns a new reference, which is freed here or taken over by `from_raw` (a
    // primitive holds none).
    unsafe {
        let result = qjs::JS_Call(
            raw_ctx,
            function.as_raw(),
            qjs::JS_UNDEFINED,
            raw.len() as _,
            raw.as_mut_ptr(),
        );
        drop((strings, made));
        if qjs::JS_IsException(result) {
            return Err(rquickjs::Error::Exception);
        }
        if let Some(json) = convert::primitive_to_json(result) {
            return Ok(Returned::Converted(Ok(json)));
        }
        if qjs::JS_VALUE_GET_NORM_TAG(result) == qjs::JS_TAG_STRING {
            let converted = convert::string_to_json(result, ctx);
            qjs::JS_FreeValue(raw_ctx, result);
            return Ok(Returned::Converted(converted));
        }
        Ok(Returned::Value(Value::from_raw(ctx.clone(), result)))
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
            let Ok(Returned::Converted(Ok(Json::String(result)))) = call(&ctx, &describe, &args)
            else {
                panic!("a string is returned converted");
            };
            assert_eq!(
                result,
                r#"object:null boolean:true boolean:false number:7 number:-2147483649 number:2.5 number:9007199254740992 string:"text" object:[1,{"a":"b"}]"#
            );
            // A string larger than may cross is refused, as inside any other value.
            let enormous: Value = ctx.eval("() => 'x'.repeat(17 * 1024 * 1024)").unwrap();
            let Ok(Returned::Converted(Err(refused))) = call(&ctx, &enormous, &[]) else {
                panic!("an enormous string is refused");
            };
            assert!(refused.message.contains("larger than 16 MiB"), "{refused}");
            // Past the inline list, and an exception left pending for `catch`.
            let count: Value = ctx.eval("(...args) => args.length").unwrap();
            let many = vec![Json::from(1); 20];
            assert!(matches!(
                call(&ctx, &count, &many),
                Ok(Returned::Converted(Ok(Json::Int(20))))
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
