//! Lua values to and from JSON-compatible values.
//!
//! A table is an array when it carries the array metatable (every array that came from JSON
//! does) or when its keys are exactly `1..n` with `n > 0`; otherwise it is an object, whose
//! integer keys become strings. An empty table is therefore `{}`. JSON `null` becomes `nil`
//! (which leaves a hole in an array). Functions, coroutines and userdata are skipped inside
//! tables and are an error on their own; `NaN` and the infinities become `null`; values beyond
//! the bounds of [`crate::runtime::crossing`] (too deep, which is what a cyclic table becomes,
//! or too large) are an error.

use compact_str::ToCompactString;
use mlua::{Lua, LuaSerdeExt, Table, Value};

use crate::runtime::crossing::Crossing;
use crate::runtime::{ErrorKind, Json, ScriptError};
use crate::value::{Object, text_lossy};

/// Marks the metatable of a read-only proxy (`modhost.settings`), whose contents live in its
/// `__index` table.
pub(super) const PROXY_MARKER: &str = "__modhost_read_only";

/// What `table` shows, if it is one of the host's read-only proxies.
pub(super) fn read_only_target(table: &Table) -> Option<Value> {
    let metatable = table.metatable()?;
    metatable
        .raw_get::<bool>(PROXY_MARKER)
        .unwrap_or(false)
        .then(|| metatable.raw_get::<Value>("__index").ok())
        .flatten()
}

fn conversion(message: impl Into<String>) -> ScriptError {
    ScriptError::new(ErrorKind::Conversion, message)
}

/// Converts a Lua value for another mod or the host.
pub(super) fn to_json(lua: &Lua, value: &Value) -> Result<Json, ScriptError> {
    to_json_at(lua, value, 0, &mut Crossing::new())?.ok_or_else(|| {
        conversion(format!(
            "a {} cannot be passed between mods; pass JSON-compatible values",
            value.type_name()
        ))
    })
}

/// `None` for values that are skipped inside tables.
fn to_json_at(
    lua: &Lua,
    value: &Value,
    depth: usize,
    crossing: &mut Crossing,
) -> Result<Option<Json>, ScriptError> {
    let size = match value {
        Value::String(text) => text.as_bytes().len(),
        _ => 0,
    };
    crossing.visit(depth, size)?;
    Ok(Some(match value {
        Value::Nil => Json::Null,
        Value::Boolean(boolean) => Json::Bool(*boolean),
        Value::Integer(integer) => Json::Int(*integer),
        Value::Number(number) => Json::from_f64(*number),
        Value::String(text) => Json::String(text_lossy(&text.as_bytes())),
        Value::Table(table) => {
            if let Some(target) = read_only_target(table) {
                return to_json_at(lua, &target, depth + 1, crossing);
            }
            let is_array_marked = table
                .metatable()
                .is_some_and(|metatable| metatable == lua.array_metatable());
            let length = table.raw_len();
            let mut pairs = Vec::new();
            for pair in table.pairs::<Value, Value>() {
                pairs.push(pair.map_err(|error| conversion(error.to_string()))?);
            }
            let is_sequence = length > 0 && pairs.len() == length;
            if is_array_marked || is_sequence {
                let mut items = Vec::with_capacity(length);
                for index in 1..=length {
                    let item: Value = table
                        .raw_get(index)
                        .map_err(|error| conversion(error.to_string()))?;
                    items.push(to_json_at(lua, &item, depth + 1, crossing)?.unwrap_or(Json::Null));
                }
                Json::Array(items)
            } else {
                let mut object = Vec::with_capacity(pairs.len());
                for (key, item) in pairs {
                    let key = match key {
                        Value::String(text) => text_lossy(&text.as_bytes()),
                        Value::Integer(integer) => integer.to_compact_string(),
                        Value::Number(number) => number.to_compact_string(),
                        other => {
                            return Err(conversion(format!(
                                "a table with a {} key cannot be passed between mods; use string keys",
                                other.type_name()
                            )));
                        }
                    };
                    if let Some(item) = to_json_at(lua, &item, depth + 1, crossing)? {
                        object.push((key, item));
                    }
                }
                // A table has no order: its keys cross sorted, the same from run to run. (`1`
                // and `"1"` are two keys of a table and one of an object: the last read wins.)
                let mut object = Object::from_pairs(object);
                object.sort_keys();
                Json::Object(object)
            }
        }
        Value::Function(_) | Value::Thread(_) | Value::UserData(_) | Value::LightUserData(_) => {
            return Ok(None);
        }
        other => {
            return Err(conversion(format!(
                "a {} cannot be passed between mods",
                other.type_name()
            )));
        }
    }))
}

/// Converts a JSON-compatible value into a Lua value.
pub(super) fn from_json(lua: &Lua, json: &Json) -> mlua::Result<Value> {
    from_json_interning(lua, json, &mut Interned::default())
}

/// [`from_json`], taking short strings (object keys, event names) from `interned`.
pub(super) fn from_json_interning(
    lua: &Lua,
    json: &Json,
    interned: &mut Interned,
) -> mlua::Result<Value> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(boolean) => Value::Boolean(*boolean),
        Json::Int(integer) => Value::Integer(*integer),
        Json::Float(number) => Value::Number(*number),
        Json::String(text) => Value::String(interned.string(lua, text)?),
        Json::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (index, item) in items.iter().enumerate() {
                table.raw_set(index + 1, from_json_interning(lua, item, interned)?)?;
            }
            table.set_metatable(Some(lua.array_metatable()))?;
            Value::Table(table)
        }
        Json::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                table.raw_set(
                    interned.string(lua, key)?,
                    from_json_interning(lua, item, interned)?,
                )?;
            }
            Value::Table(table)
        }
    })
}

/// Short strings the host hands a state again and again (function names, object keys, event
/// names), each made as a Lua string once: under a memory limit, mlua makes every string in a
/// protected call, which was a third of delivering an event to a Lua handler. Bounded: past
/// [`Interned::MOST`] strings, or for one longer than [`Interned::LONGEST`] bytes, a string is
/// made afresh.
#[derive(Default)]
pub(super) struct Interned {
    strings: rustc_hash::FxHashMap<String, mlua::LuaString>,
}

impl Interned {
    const MOST: usize = 1024;
    const LONGEST: usize = 64;

    pub(super) fn string(&mut self, lua: &Lua, text: &str) -> mlua::Result<mlua::LuaString> {
        if let Some(string) = self.strings.get(text) {
            return Ok(string.clone());
        }
        let string = lua.create_string(text)?;
        if text.len() <= Self::LONGEST && self.strings.len() < Self::MOST {
            self.strings.insert(text.to_owned(), string.clone());
        }
        Ok(string)
    }

    pub(super) fn clear(&mut self) {
        self.strings.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(lua: &Lua, json: Json) -> Json {
        to_json(lua, &from_json(lua, &json).unwrap()).unwrap()
    }

    #[test]
    fn arrays_objects_and_empty_tables_round_trip() {
        let lua = Lua::new();
        for json in [
            crate::value!([]),
            crate::value!({}),
            crate::value!({"a": [1, 2.5, "x", true], "b": {"c": null}}),
            crate::value!(9_007_199_254_740_993_i64),
        ] {
            let expected = match &json {
                // `null` becomes `nil`, so the key disappears.
                Json::Object(map) if map.contains_key("b") => {
                    crate::value!({"a": [1, 2.5, "x", true], "b": {}})
                }
                _ => json.clone(),
            };
            assert_eq!(round_trip(&lua, json), expected);
        }
    }

    #[test]
    fn interned_strings_convert_like_fresh_ones_past_the_bounds() {
        let lua = Lua::new();
        let mut interned = Interned::default();
        let long = "k".repeat(Interned::LONGEST + 1);
        let mut object = Object::new();
        for index in 0..Interned::MOST + 10 {
            object.insert(format!("key{index}"), Json::from(format!("value{index}")));
        }
        object.insert(long.clone(), Json::from(long.clone()));
        let json = Json::Object(object);
        for _ in 0..2 {
            let value = from_json_interning(&lua, &json, &mut interned).unwrap();
            assert_eq!(to_json(&lua, &value).unwrap(), json);
        }
        assert_eq!(interned.strings.len(), Interned::MOST);
    }

    #[test]
    fn lua_tables_become_arrays_or_objects_by_their_keys() {
        let lua = Lua::new();
        let value = |source: &str| to_json(&lua, &lua.load(source).eval::<Value>().unwrap());
        assert_eq!(value("return {1, 2, 3}").unwrap(), crate::value!([1, 2, 3]));
        assert_eq!(value("return {}").unwrap(), crate::value!({}));
        assert_eq!(
            value("return {[1] = 'a', [3] = 'c'}").unwrap(),
            crate::value!({"1": "a", "3": "c"})
        );
        assert_eq!(
            value("return {f = print, n = 0/0}").unwrap(),
            crate::value!({"n": null})
        );
        assert!(value("return print").is_err());
        let cyclic = value("local t = {} t.self = t return t").unwrap_err();
        assert!(cyclic.message.contains("refers to itself"), "{cyclic}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// JSON values without `null`, which Lua cannot keep inside tables.
    fn json_without_null() -> impl Strategy<Value = Json> {
        crate::runtime::generated_values::nested(crate::runtime::generated_values::scalars(any::<
            i64,
        >(
        )))
    }

    proptest! {
        #[test]
        fn json_without_null_round_trips_through_lua(json in json_without_null()) {
            let lua = Lua::new();
            let value = from_json(&lua, &json).unwrap();
            prop_assert_eq!(to_json(&lua, &value).unwrap(), json);
        }
    }
}
