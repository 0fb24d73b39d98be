//! The values that cross between mods, languages, the host and the game: JSON's values, held
//! the way a call needs them.
//!
//! A [`Value`] is what `serde_json::Value` would be, made for crossing rather than for
//! documents: integers stay integers ([`Value::Int`]) and other numbers are finite floats, so a
//! number converts from one engine to the next by its variant; strings of up to 24 bytes are
//! held inline ([`Text`]), so a number, a boolean, `null` or a short string never allocates on
//! the way; and an object is its pairs in one vector ([`Object`]), in the order the mod made
//! them (JavaScript's order; a Lua table, which has none, gives its keys sorted), without a map
//! per level. Two objects are equal when they hold the same pairs in any order.
//!
//! It reads and writes as JSON through serde, so the protocol parses a message straight into
//! it and the recording writes it out; documents (manifests, the game's API, settings files)
//! stay `serde_json::Value`, and [`From`] converts either way where they meet.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A string that keeps up to 24 bytes inline.
pub type Text = compact_str::CompactString;

/// An engine's string bytes as text, invalid UTF-8 replaced with U+FFFD; a short one is not
/// allocated. (Checked with the standard library first: `compact_str`'s lossy conversion goes
/// a character at a time even when the bytes are valid.)
pub(crate) fn text_lossy(bytes: &[u8]) -> Text {
    match std::str::from_utf8(bytes) {
        Ok(text) => Text::from(text),
        Err(_) => Text::from_utf8_lossy(bytes),
    }
}

/// The integer a float stands for when it has no fraction and JavaScript holds it exactly
/// (below 2^53), as JSON's `5.0` is the integer 5.
pub(crate) fn exact_integer(number: f64) -> Option<i64> {
    (number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0).then_some(number as i64)
}

/// A JSON-compatible value; see the [module](self).
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    /// A whole number JSON wrote without a fraction or exponent, or an engine held as one.
    Int(i64),
    /// Any other number; never `NaN` or infinite ([`Value::from_f64`] makes those `null`).
    Float(f64),
    String(Text),
    Array(Vec<Value>),
    Object(Object),
}

impl Value {
    /// A number: a finite float, or `null` for `NaN` and the infinities (as `JSON.stringify`).
    pub fn from_f64(number: f64) -> Value {
        if number.is_finite() {
            Value::Float(number)
        } else {
            Value::Null
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Float(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(value) => Some(*value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// An integer, or a float that is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(integer) => Some(integer),
            Value::Float(number)
                if number.fract() == 0.0
                    && (i64::MIN as f64..i64::MAX as f64).contains(&number) =>
            {
                Some(number as i64)
            }
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64()
            .and_then(|integer| u64::try_from(integer).ok())
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(integer) => Some(integer as f64),
            Value::Float(number) => Some(number),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    /// An object's value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }

    /// Takes the value out, leaving `null`.
    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }
}

/// An object's pairs, in the order they were made, each key once.
#[derive(Clone, Debug, Default)]
pub struct Object {
    pairs: Vec<(Text, Value)>,
}

impl Object {
    /// Past this many pairs, keys are told apart through a hash set rather than compared one by
    /// one.
    const FEW: usize = 16;

    pub fn new() -> Object {
        Object::default()
    }

    pub fn with_capacity(capacity: usize) -> Object {
        Object {
            pairs: Vec::with_capacity(capacity),
        }
    }

    /// An object of `pairs`; a key given twice keeps its first place and its last value, as in
    /// `JSON.parse`.
    pub fn from_pairs(mut pairs: Vec<(Text, Value)>) -> Object {
        if Self::repeats_a_key(&pairs) {
            let mut object = Object::with_capacity(pairs.len());
            for (key, value) in pairs.drain(..) {
                object.insert(key, value);
            }
            return object;
        }
        Object { pairs }
    }

    /// An object of `pairs` whose keys are known to be distinct (a JavaScript object's own
    /// keys), taken as they are.
    pub(crate) fn from_distinct_pairs(pairs: Vec<(Text, Value)>) -> Object {
        debug_assert!(!Self::repeats_a_key(&pairs));
        Object { pairs }
    }

    fn repeats_a_key(pairs: &[(Text, Value)]) -> bool {
        if pairs.len() <= Self::FEW {
            (1..pairs.len()).any(|at| pairs[..at].iter().any(|(key, _)| *key == pairs[at].0))
        } else {
            let mut seen = rustc_hash::FxHashSet::default();
            !pairs.iter().all(|(key, _)| seen.insert(key.as_str()))
        }
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.pairs
            .iter()
            .find(|(name, _)| name.as_str() == key)
            .map(|(_, value)| value)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.pairs
            .iter_mut()
            .find(|(name, _)| name.as_str() == key)
            .map(|(_, value)| value)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, in its place if it is there, at the end if not; the value it replaced.
    pub fn insert(&mut self, key: impl Into<Text>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.pairs.push((key, value));
                None
            }
        }
    }

    /// Takes `key` out, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self
            .pairs
            .iter()
            .position(|(name, _)| name.as_str() == key)?;
        Some(self.pairs.remove(at).1)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Text, &Value)> {
        self.pairs.iter().map(|(key, value)| (key, value))
    }

    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&Text, &mut Value)> {
        self.pairs.iter_mut().map(|(key, value)| (&*key, value))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &Text> {
        self.pairs.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.pairs.iter().map(|(_, value)| value)
    }

    /// Puts the keys in order (what a Lua table, which has none, crosses as).
    pub fn sort_keys(&mut self) {
        self.pairs
            .sort_unstable_by(|(one, _), (other, _)| one.cmp(other));
    }
}

impl IntoIterator for Object {
    type Item = (Text, Value);
    type IntoIter = std::vec::IntoIter<(Text, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a Text, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Text, Value)>,
        fn(&'a (Text, Value)) -> (&'a Text, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.pairs.iter().map(|(key, value)| (key, value))
    }
}

impl<K: Into<Text>> FromIterator<(K, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(pairs: I) -> Object {
        Object::from_pairs(
            pairs
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect(),
        )
    }
}

impl Extend<(Text, Value)> for Object {
    /// Sets each key, as [`Object::insert`] does.
    fn extend<I: IntoIterator<Item = (Text, Value)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}

impl PartialEq for Object {
    /// The same pairs, in any order.
    fn eq(&self, other: &Object) -> bool {
        if self.len() != other.len() {
            return false;
        }
        if self.len() <= Self::FEW {
            return self
                .pairs
                .iter()
                .all(|(key, value)| other.get(key) == Some(value));
        }
        fn sorted(object: &Object) -> Vec<&(Text, Value)> {
            let mut pairs: Vec<&(Text, Value)> = object.pairs.iter().collect();
            pairs.sort_unstable_by(|(one, _), (other, _)| one.cmp(other));
            pairs
        }
        sorted(self) == sorted(other)
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(one), Value::Bool(other)) => one == other,
            (Value::Int(one), Value::Int(other)) => one == other,
            (Value::Float(one), Value::Float(other)) => one == other,
            (Value::String(one), Value::String(other)) => one == other,
            (Value::Array(one), Value::Array(other)) => one == other,
            (Value::Object(one), Value::Object(other)) => one == other,
            _ => false,
        }
    }
}

impl PartialEq<serde_json::Value> for Value {
    /// Equal to what [`Value::from`] would make of `other`.
    fn eq(&self, other: &serde_json::Value) -> bool {
        use serde_json::Value as Json;
        match (self, other) {
            (Value::Null, Json::Null) => true,
            (Value::Bool(one), Json::Bool(other)) => one == other,
            (Value::Int(one), Json::Number(other)) => other.as_i64() == Some(*one),
            (Value::Float(one), Json::Number(other)) => {
                other.as_i64().is_none() && other.as_f64() == Some(*one)
            }
            (Value::String(one), Json::String(other)) => one == other,
            (Value::Array(one), Json::Array(other)) => one == other,
            (Value::Object(one), Json::Object(other)) => {
                one.len() == other.len()
                    && one.iter().all(|(key, value)| {
                        other.get(key.as_str()).is_some_and(|json| value == json)
                    })
            }
            _ => false,
        }
    }
}

impl PartialEq<Value> for serde_json::Value {
    fn eq(&self, other: &Value) -> bool {
        other == self
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl std::ops::Index<&str> for Value {
    type Output = Value;

    /// An object's value under the key, or `null` (for a missing key and for a value that is
    /// not an object), as `serde_json::Value` indexes.
    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl std::ops::IndexMut<&str> for Value {
    /// The object's value under the key, made `null` if it is missing; `null` itself becomes
    /// an empty object first, as `serde_json::Value` does. For the host's own objects only: it
    /// panics on any other value.
    fn index_mut(&mut self, key: &str) -> &mut Value {
        if self.is_null() {
            *self = Value::Object(Object::new());
        }
        let Value::Object(object) = self else {
            panic!("a key set on a value that is not an object");
        };
        if !object.contains_key(key) {
            object.pairs.push((key.into(), Value::Null));
        }
        object.get_mut(key).expect("just inserted")
    }
}

impl std::ops::Index<usize> for Value {
    type Output = Value;

    fn index(&self, at: usize) -> &Value {
        static NULL: Value = Value::Null;
        self.as_array()
            .and_then(|items| items.get(at))
            .unwrap_or(&NULL)
    }
}

macro_rules! from_integer {
    ($($integer:ty),*) => {$(
        impl From<$integer> for Value {
            fn from(integer: $integer) -> Value {
                Value::Int(integer.into())
            }
        }
    )*};
}
from_integer!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    /// An integer, or past `i64::MAX` the nearest float.
    fn from(integer: u64) -> Value {
        i64::try_from(integer).map_or(Value::Float(integer as f64), Value::Int)
    }
}

impl From<usize> for Value {
    fn from(integer: usize) -> Value {
        Value::from(integer as u64)
    }
}

impl From<f64> for Value {
    fn from(number: f64) -> Value {
        Value::from_f64(number)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Value {
        Value::Bool(value)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::String(text.into())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::String(text.into())
    }
}

impl From<Text> for Value {
    fn from(text: Text) -> Value {
        Value::String(text)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Value {
        Value::Object(object)
    }
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(value) => Value::Bool(*value),
            serde_json::Value::Number(number) => number.as_i64().map_or_else(
                || Value::from_f64(number.as_f64().unwrap_or(f64::NAN)),
                Value::Int,
            ),
            serde_json::Value::String(text) => Value::from(text.as_str()),
            serde_json::Value::Array(items) => {
                Value::Array(items.iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => Value::Object(Object::from(map)),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(json: serde_json::Value) -> Value {
        Value::from(&json)
    }
}

impl From<&serde_json::Map<String, serde_json::Value>> for Object {
    /// A document's object (a mod's settings) as a value, without copying it first.
    fn from(map: &serde_json::Map<String, serde_json::Value>) -> Object {
        Object {
            pairs: map
                .iter()
                .map(|(key, value)| (Text::from(key.as_str()), Value::from(value)))
                .collect(),
        }
    }
}

impl From<Value> for serde_json::Value {
    fn from(value: Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(value),
            Value::Int(integer) => serde_json::Value::from(integer),
            Value::Float(number) => serde_json::Value::from(number),
            Value::String(text) => serde_json::Value::String(text.into()),
            Value::Array(items) => items.into_iter().map(serde_json::Value::from).collect(),
            Value::Object(object) => serde_json::Value::Object(
                object
                    .into_iter()
                    .map(|(key, value)| (key.into(), value.into()))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Value {
    /// Compact JSON.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        formatter.write_str(&text)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::Int(integer) => serializer.serialize_i64(*integer),
            Value::Float(number) => serializer.serialize_f64(*number),
            Value::String(text) => serializer.serialize_str(text),
            Value::Array(items) => {
                let mut sequence = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    sequence.serialize_element(item)?;
                }
                sequence.end()
            }
            Value::Object(object) => object.serialize(serializer),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in &self.pairs {
            map.serialize_entry(key.as_str(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Object, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Object(object) => Ok(object),
            _ => Err(de::Error::custom("expected a JSON object")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, integer: i64) -> Result<Value, E> {
        Ok(Value::Int(integer))
    }

    fn visit_u64<E>(self, integer: u64) -> Result<Value, E> {
        Ok(Value::from(integer))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Value, E> {
        Ok(Value::from_f64(number))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::from(text))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::from(text))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(sequence.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = sequence.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((key, value)) = map.next_entry::<KeyText, Value>()? {
            pairs.push((key.0, value));
        }
        Ok(Value::Object(Object::from_pairs(pairs)))
    }
}

/// An object's key, read into a [`Text`] without a `String` first.
struct KeyText(Text);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyText, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }
            fn visit_str<E>(self, text: &str) -> Result<KeyText, E> {
                Ok(KeyText(text.into()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A [`Value`] read into a typed shape (the protocol's params), without another value type in
/// between: `serde_json::from_value` does this for its own value.
impl<'de> Deserializer<'de> for Value {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(value) => visitor.visit_bool(value),
            Value::Int(integer) => visitor.visit_i64(integer),
            Value::Float(number) => visitor.visit_f64(number),
            Value::String(text) => visitor.visit_str(&text),
            Value::Array(items) => {
                let mut items = de::value::SeqDeserializer::new(items.into_iter());
                let read = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(read)
            }
            Value::Object(object) => {
                let pairs = object
                    .into_iter()
                    .map(|(key, value)| (Value::String(key), value));
                let mut pairs = de::value::MapDeserializer::new(pairs);
                let read = visitor.visit_map(&mut pairs)?;
                pairs.end()?;
                Ok(read)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A unit variant, as a string.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self {
            Value::String(text) => {
                visitor.visit_enum(de::IntoDeserializer::into_deserializer(String::from(text)))
            }
            other => Err(de::Error::invalid_type(other.unexpected(), &"a string")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> de::IntoDeserializer<'de, de::value::Error> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl Value {
    /// What an error of a typed read says was found.
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(value) => de::Unexpected::Bool(*value),
            Value::Int(integer) => de::Unexpected::Signed(*integer),
            Value::Float(number) => de::Unexpected::Float(*number),
            Value::String(text) => de::Unexpected::Str(text),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        }
    }
}

/// Any serialisable value as a [`Value`], through `serde_json`: for reports and listings, not
/// for what a call carries.
pub(crate) fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).map_or(Value::Null, Value::from)
}

/// A [`Value`] written as JSON, converted from `serde_json::json!`: for values built by hand
/// where a call is not counted (tests, reports, the game's side).
#[macro_export]
macro_rules! value {
    ($($json:tt)+) => {
        $crate::Value::from($crate::__serde_json::json!($($json)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_and_objects_read_and_write_as_json() {
        let text = r#"{"b":1,"a":[2.5,-3,"short",null,true],"c":{"d":18446744073709551615}}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["b"], Value::Int(1));
        assert_eq!(value["a"][0], Value::Float(2.5));
        assert_eq!(value["a"][1].as_i64(), Some(-3));
        assert_eq!(value["c"]["d"], Value::Float(u64::MAX as f64));
        // The order the pairs came in is kept.
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"b":1,"a":[2.5,-3,"short",null,true],"c":{"d":1.8446744073709552e+19}}"#
        );
        assert_eq!(value["missing"], Value::Null);
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        for count in [3, Object::FEW + 5] {
            let mut text = String::from(r#"{"x":1"#);
            for index in 0..count {
                text.push_str(&format!(r#","k{index}":{index}"#));
            }
            text.push_str(r#","x":2}"#);
            let value: Value = serde_json::from_str(&text).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), count + 1);
            assert_eq!(object.keys().next().unwrap().as_str(), "x");
            assert_eq!(object.get("x"), Some(&Value::Int(2)));
        }
    }

    #[test]
    fn objects_are_equal_whatever_their_order() {
        let one: Value = serde_json::from_str(r#"{"a":1,"b":{"c":[1,2]}}"#).unwrap();
        let other: Value = serde_json::from_str(r#"{"b":{"c":[1,2]},"a":1}"#).unwrap();
        assert_eq!(one, other);
        assert_ne!(
            one,
            serde_json::from_str::<Value>(r#"{"a":1,"b":{"c":[2,1]}}"#).unwrap()
        );
        let many = |reverse: bool| {
            let mut keys: Vec<usize> = (0..40).collect();
            if reverse {
                keys.reverse();
            }
            Value::Object(
                keys.into_iter()
                    .map(|key| (key.to_string(), Value::from(key)))
                    .collect(),
            )
        };
        assert_eq!(many(false), many(true));
        assert_eq!(one, serde_json::json!({"a": 1, "b": {"c": [1, 2]}}));
    }

    #[test]
    fn short_strings_are_inline_and_numbers_keep_their_kind() {
        assert!(!Text::from("a short event name").is_heap_allocated());
        assert_eq!(Value::from(1.0), Value::Float(1.0));
        assert_ne!(Value::from(1.0), Value::Int(1));
        assert_eq!(Value::from(f64::NAN), Value::Null);
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(4.0).as_i64(), Some(4));
        assert_eq!(Value::from(u64::MAX).as_i64(), None);
    }

    #[test]
    fn a_value_reads_into_a_typed_shape() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Call {
            #[serde(rename = "mod")]
            mod_id: String,
            args: Vec<Value>,
            timeout: Option<u64>,
            kind: Kind,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Kind {
            Fast,
        }
        let read = |text: &str| Call::deserialize(serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(
            read(r#"{"mod":"m","args":[1,"x",{"a":null}],"kind":"fast"}"#).unwrap(),
            Call {
                mod_id: "m".to_owned(),
                args: vec![Value::Int(1), Value::from("x"), crate::value!({"a": null})],
                timeout: None,
                kind: Kind::Fast,
            }
        );
        let error = |text: &str| read(text).unwrap_err().to_string();
        assert!(error(r#"{"args":[],"kind":"fast"}"#).contains("missing field `mod`"));
        assert!(
            error(r#"{"mod":"m","args":[],"kind":"fast","x":1}"#).contains("unknown field `x`")
        );
        assert!(error(r#"{"mod":"m","args":[],"kind":"slow"}"#).contains("unknown variant `slow`"));
        assert!(
            error(r#"{"mod":1,"args":[],"kind":"fast"}"#).contains("invalid type: integer `1`")
        );
    }

    #[test]
    fn serde_json_values_convert_both_ways() {
        let json = serde_json::json!({"z": [1, 2.5, "x", {"y": null}], "a": true});
        let value = Value::from(json.clone());
        assert_eq!(serde_json::Value::from(value.clone()), json);
        assert_eq!(value, json);
    }
}
