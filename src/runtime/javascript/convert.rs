//! JavaScript values to and from JSON-compatible values.
//!
//! The rules follow `JSON.stringify`, so they hold no surprises for a JavaScript author:
//! `undefined`, functions and symbols are skipped as object properties and become `null` in
//! arrays; `NaN` and the infinities become `null`; a `Date` becomes its ISO string (through its
//! `toJSON`). Unlike `JSON.stringify`, a top-level function or symbol, a `BigInt`, and values
//! beyond the bounds of [`crate::runtime::crossing`] (too deep, which is what a cyclic
//! structure becomes, or too large) are errors.

use rquickjs::{Array, Ctx, Function, Object, Type, Value, qjs};

use crate::runtime::crossing::Crossing;
use crate::runtime::{ErrorKind, Json, ScriptError};
use crate::value::{self, Text, exact_integer, text_lossy};

fn conversion(message: impl Into<String>) -> ScriptError {
    ScriptError::new(ErrorKind::Conversion, message)
}

/// Converts a JavaScript value for another mod or the host.
pub(super) fn to_json<'js>(value: &Value<'js>) -> Result<Json, ScriptError> {
    if let Some(json) = primitive_to_json(value.as_raw()) {
        return Ok(json);
    }
    match to_json_at(value, 0, &mut Crossing::new())? {
        Some(json) => Ok(json),
        None if value.is_undefined() => Ok(Json::Null),
        None => Err(conversion(format!(
            "a {} cannot be passed between mods; pass JSON-compatible values",
            value.type_name()
        ))),
    }
}

/// An integer, a boolean, null or undefined (which becomes null), the usual results, by
/// QuickJS's tag alone; `None` for any other value.
pub(super) fn primitive_to_json(value: qjs::JSValueConst) -> Option<Json> {
    // SAFETY: a value's tag and an integer's or boolean's payload are read from the value
    // itself, not from memory it points to.
    unsafe {
        match qjs::JS_VALUE_GET_NORM_TAG(value) {
            qjs::JS_TAG_INT => Some(Json::Int(qjs::JS_VALUE_GET_INT(value).into())),
            qjs::JS_TAG_BOOL => Some(Json::Bool(qjs::JS_VALUE_GET_BOOL(value))),
            qjs::JS_TAG_NULL | qjs::JS_TAG_UNDEFINED => Some(Json::Null),
            _ => None,
        }
    }
}

/// A string's text, or a property key's (a number is written as its string), straight into a
/// [`Text`]: a short one is not allocated. A lone surrogate, which UTF-8 cannot hold, becomes
/// U+FFFD.
fn text_of(value: qjs::JSValueConst, ctx: &Ctx<'_>) -> Result<Text, ScriptError> {
    let raw_ctx = ctx.as_raw().as_ptr();
    let mut length = 0;
    // SAFETY: the value is alive in `ctx`; the bytes QuickJS returns are read before they are
    // freed, once.
    unsafe {
        let bytes = qjs::JS_ToCStringLen(raw_ctx, &mut length, value);
        if bytes.is_null() {
            return Err(conversion("a string could not be read (out of memory)"));
        }
        let text = text_lossy(std::slice::from_raw_parts(bytes.cast::<u8>(), length));
        qjs::JS_FreeCString(raw_ctx, bytes);
        Ok(text)
    }
}

/// A string value on its own, converted as [`to_json`] converts it (its size bounded alike).
pub(super) fn string_to_json(value: qjs::JSValueConst, ctx: &Ctx<'_>) -> Result<Json, ScriptError> {
    let mut crossing = Crossing::new();
    crossing.visit(0, 0)?;
    string_at(value, ctx, 0, &mut crossing)
}

/// A string at `depth` of a value being converted.
fn string_at(
    value: qjs::JSValueConst,
    ctx: &Ctx<'_>,
    depth: usize,
    crossing: &mut Crossing,
) -> Result<Json, ScriptError> {
    let text = text_of(value, ctx)?;
    crossing.visit(depth, text.len())?;
    Ok(Json::String(text))
}

/// `None` for values `JSON.stringify` skips.
fn to_json_at<'js>(
    value: &Value<'js>,
    depth: usize,
    crossing: &mut Crossing,
) -> Result<Option<Json>, ScriptError> {
    crossing.visit(depth, 0)?;
    Ok(Some(match value.type_of() {
        Type::Undefined
        | Type::Uninitialized
        | Type::Function
        | Type::Constructor
        | Type::Symbol => {
            return Ok(None);
        }
        Type::Null => Json::Null,
        Type::Bool => Json::Bool(value.as_bool().unwrap_or_default()),
        Type::Int => Json::Int(value.as_int().unwrap_or_default().into()),
        Type::Float => {
            let number = value.as_float().unwrap_or(f64::NAN);
            exact_integer(number).map_or_else(|| Json::from_f64(number), Json::Int)
        }
        Type::String => string_at(value.as_raw(), value.ctx(), depth, crossing)?,
        Type::BigInt => {
            return Err(conversion(
                "a BigInt cannot be passed between mods; convert it to a string or a number",
            ));
        }
        Type::Array => {
            let array = value.as_array().expect("type checked");
            let mut items = Vec::with_capacity(array.len());
            for item in array.iter::<Value>() {
                let item = item.map_err(|error| conversion(error.to_string()))?;
                items.push(to_json_at(&item, depth + 1, crossing)?.unwrap_or(Json::Null));
            }
            Json::Array(items)
        }
        Type::Promise => {
            return Err(conversion(
                "a promise cannot be passed between mods; await it first",
            ));
        }
        _ => {
            let object = value.as_object().expect("every other type is an object");
            // A proxy of an array (the read-only view of an array in `modhost.settings`)
            // crosses as the array it stands for.
            // SAFETY: the value is alive in its context; `JS_GetProxyTarget` returns a new
            // reference, which `Value::from_raw` takes over.
            let target = unsafe {
                rquickjs::qjs::JS_IsProxy(value.as_raw()).then(|| {
                    let ctx = value.ctx();
                    let raw =
                        rquickjs::qjs::JS_GetProxyTarget(ctx.as_raw().as_ptr(), value.as_raw());
                    Value::from_raw(ctx.clone(), raw)
                })
            };
            if let Some(target) = target.filter(Value::is_array) {
                return to_json_at(&target, depth, crossing);
            }
            if let Ok(to_json) = object.get::<_, Function>("toJSON") {
                let replaced: Value = to_json
                    .call((rquickjs::function::This(object.clone()),))
                    .map_err(|error| conversion(error.to_string()))?;
                return to_json_at(&replaced, depth + 1, crossing);
            }
            let mut pairs = Vec::new();
            for entry in object.props::<Value, Value>() {
                let (key, item) = entry.map_err(|error| conversion(error.to_string()))?;
                if let Some(item) = to_json_at(&item, depth + 1, crossing)? {
                    pairs.push((text_of(key.as_raw(), key.ctx())?, item));
                }
            }
            Json::Object(value::Object::from_distinct_pairs(pairs))
        }
    }))
}

/// Converts a JSON-compatible value into a JavaScript value.
pub(super) fn from_json<'js>(ctx: &Ctx<'js>, json: &Json) -> rquickjs::Result<Value<'js>> {
    Ok(match json {
        Json::Null => Value::new_null(ctx.clone()),
        Json::Bool(value) => Value::new_bool(ctx.clone(), *value),
        Json::Int(integer) => match i32::try_from(*integer) {
            Ok(small) => Value::new_int(ctx.clone(), small),
            // Beyond ±2^53 an integer loses precision, as it would in JSON.parse.
            Err(_) => Value::new_float(ctx.clone(), *integer as f64),
        },
        Json::Float(number) => Value::new_float(ctx.clone(), *number),
        Json::String(text) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
        Json::Array(items) => {
            let array = Array::new(ctx.clone())?;
            for (index, item) in items.iter().enumerate() {
                array.set(index, from_json(ctx, item)?)?;
            }
            array.into_value()
        }
        Json::Object(map) => {
            let object = Object::new(ctx.clone())?;
            for (key, item) in map {
                object.set(key.as_str(), from_json(ctx, item)?)?;
            }
            object.into_value()
        }
    })
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// JSON values whose numbers JavaScript holds exactly.
    fn json() -> impl Strategy<Value = Json> {
        use crate::runtime::generated_values::{nested, scalars};
        nested(prop_oneof![
            Just(Json::Null),
            scalars(-(1i64 << 53)..(1i64 << 53))
        ])
    }

    /// JavaScript has one number type: `0` and `0.0` are the same value.
    fn numbers_as_floats(json: Json) -> Json {
        match json {
            Json::Int(integer) => Json::Float(integer as f64),
            Json::Array(items) => Json::Array(items.into_iter().map(numbers_as_floats).collect()),
            Json::Object(map) => Json::Object(
                map.into_iter()
                    .map(|(key, value)| (key, numbers_as_floats(value)))
                    .collect(),
            ),
            other => other,
        }
    }

    proptest! {
        #[test]
        fn json_round_trips_through_javascript(json in json()) {
            let runtime = rquickjs::Runtime::new().unwrap();
            let context = rquickjs::Context::full(&runtime).unwrap();
            let back = context.with(|ctx| to_json(&from_json(&ctx, &json).unwrap()));
            prop_assert_eq!(numbers_as_floats(back.unwrap()), numbers_as_floats(json));
        }

        #[test]
        fn any_script_value_converts_or_errors_without_panicking(source in "[-+*/()\\[\\]{}:,.0-9a-z\"' ]{0,40}") {
            let runtime = rquickjs::Runtime::new().unwrap();
            let context = rquickjs::Context::full(&runtime).unwrap();
            context.with(|ctx| {
                if let Ok(value) = ctx.eval::<Value, _>(format!("({source})")) {
                    let _ = to_json(&value);
                }
            });
        }
    }
}
