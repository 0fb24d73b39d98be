//! JSON-RPC 2.0 messages as plain data: what arrives is sorted into requests, notifications
//! and responses; what leaves is built here. Error codes are those of SPEC section 11.

use crate::runtime::Json;
use crate::value::Object;
use serde::Deserialize;

/// `-32700`: the bytes are not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// `-32600`: JSON, but not a JSON-RPC message.
pub const INVALID_REQUEST: i64 = -32600;
/// `-32601`: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// `-32602`: the params do not have the method's shape.
pub const INVALID_PARAMS: i64 = -32602;
/// `-32000`: a mod's error.
pub const MOD_ERROR: i64 = -32000;
/// `-32001`: unknown mod or function.
pub const UNKNOWN_TARGET: i64 = -32001;
/// `-32002`: not initialized, or not authorised.
pub const NOT_AUTHORISED: i64 = -32002;
/// `-32003`: a change to mods asked for while a call into a mod is in progress: retry once it
/// returns.
pub const IN_CALL: i64 = -32003;

/// A JSON-RPC error: code, message and optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Json>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Json) -> RpcError {
        self.data = Some(data);
        self
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }

    fn to_json(&self) -> Json {
        let mut error = Object::from_iter([
            ("code", Json::from(self.code)),
            ("message", Json::from(self.message.as_str())),
        ]);
        if let Some(data) = &self.data {
            error.insert("data", data.clone());
        }
        Json::Object(error)
    }

    /// Reads the `error` member of a response.
    fn from_json(error: &Json) -> RpcError {
        RpcError {
            code: error["code"].as_i64().unwrap_or(MOD_ERROR),
            message: error["message"]
                .as_str()
                .unwrap_or("an error without a message")
                .to_owned(),
            data: error.get("data").cloned(),
        }
    }
}

/// One message that arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Request {
        id: Json,
        method: String,
        params: Json,
    },
    Notification {
        method: String,
        params: Json,
    },
    Response {
        id: Json,
        result: Result<Json, RpcError>,
    },
}

/// How deep a message may nest: the deepest value that crosses between mods, and the levels
/// of the message around it (`{"params": {"args": [value]}}`).
pub const MAX_MESSAGE_DEPTH: usize = crate::runtime::crossing::MAX_DEPTH + 3;

/// The deepest nesting of arrays and objects in JSON text (strings skipped).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl Incoming {
    /// Sorts a frame's bytes into a message, or says what error to answer (with the id to
    /// answer it under, when one could be read).
    pub fn parse(bytes: &[u8]) -> Result<Incoming, (Json, RpcError)> {
        let not_json = |message: String| (Json::Null, RpcError::new(PARSE_ERROR, message));
        // A value may be nested as deep as values cross between mods; the message around it
        // adds a few levels (`params`, `args`). Deeper is refused before parsing, so that the
        // parser's recursion is bounded.
        if nesting(bytes) > MAX_MESSAGE_DEPTH {
            return Err(not_json(format!(
                "a message may be nested at most {MAX_MESSAGE_DEPTH} levels deep (its values {} levels)",
                crate::runtime::crossing::MAX_DEPTH
            )));
        }
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        reader.disable_recursion_limit();
        let value = Json::deserialize(&mut reader)
            .and_then(|value| reader.end().map(|()| value))
            .map_err(|error| not_json(format!("not JSON: {error}")))?;
        let invalid = |id: Json, message: &str| (id, RpcError::new(INVALID_REQUEST, message));
        let Json::Object(mut object) = value else {
            let message = if value.is_array() {
                "batches are not supported: send one message at a time"
            } else {
                "a message must be a JSON object"
            };
            return Err(invalid(Json::Null, message));
        };
        let id = object.remove("id");
        if object.get("jsonrpc").and_then(Json::as_str) != Some("2.0") {
            return Err(invalid(id.unwrap_or_default(), "`jsonrpc` must be \"2.0\""));
        }
        if let Some(id) = &id
            && !(id.is_string() || id.is_number() || id.is_null())
        {
            return Err(invalid(Json::Null, "`id` must be a string or a number"));
        }
        match object.remove("method") {
            Some(Json::String(method)) => {
                let params = object.remove("params").unwrap_or(Json::Null);
                if !(params.is_object() || params.is_array() || params.is_null()) {
                    return Err(invalid(
                        id.unwrap_or_default(),
                        "`params` must be an object or an array",
                    ));
                }
                Ok(match id {
                    Some(id) => Incoming::Request {
                        id,
                        method: method.into(),
                        params,
                    },
                    None => Incoming::Notification {
                        method: method.into(),
                        params,
                    },
                })
            }
            Some(_) => Err(invalid(id.unwrap_or_default(), "`method` must be a string")),
            None => {
                let Some(id) = id else {
                    return Err(invalid(
                        Json::Null,
                        "a message needs a `method` (a request) or an `id` (a response)",
                    ));
                };
                match (object.remove("result"), object.remove("error")) {
                    (Some(result), None) => Ok(Incoming::Response {
                        id,
                        result: Ok(result),
                    }),
                    (None, Some(error)) if error.is_object() => Ok(Incoming::Response {
                        id,
                        result: Err(RpcError::from_json(&error)),
                    }),
                    _ => Err(invalid(
                        Json::Null,
                        "a response needs exactly one of `result` and `error`",
                    )),
                }
            }
        }
    }
}

/// A message of JSON-RPC 2.0 with its other members, built straight from the values (they
/// are not copied through another value type).
fn message<const N: usize>(members: [(&str, Json); N]) -> Json {
    let mut message = Object::with_capacity(N + 1);
    message.insert("jsonrpc", Json::from("2.0"));
    for (key, value) in members {
        message.insert(key, value);
    }
    Json::Object(message)
}

pub fn request(id: &Json, method: &str, params: Json) -> Json {
    message([
        ("id", id.clone()),
        ("method", Json::from(method)),
        ("params", params),
    ])
}

pub fn notification(method: &str, params: Json) -> Json {
    message([("method", Json::from(method)), ("params", params)])
}

pub fn response(id: &Json, result: Result<Json, RpcError>) -> Json {
    match result {
        Ok(result) => message([("id", id.clone()), ("result", result)]),
        Err(error) => message([("id", id.clone()), ("error", error.to_json())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &str) -> i64 {
        Incoming::parse(bytes.as_bytes()).unwrap_err().1.code
    }

    #[test]
    fn messages_are_sorted_by_their_members() {
        assert_eq!(
            Incoming::parse(br#"{"jsonrpc":"2.0","id":1,"method":"mods/list"}"#).unwrap(),
            Incoming::Request {
                id: crate::value!(1),
                method: "mods/list".to_owned(),
                params: Json::Null
            }
        );
        assert!(matches!(
            Incoming::parse(br#"{"jsonrpc":"2.0","method":"log","params":{}}"#).unwrap(),
            Incoming::Notification { .. }
        ));
        assert_eq!(
            Incoming::parse(
                br#"{"jsonrpc":"2.0","id":"g1","error":{"code":-32000,"message":"no"}}"#
            )
            .unwrap(),
            Incoming::Response {
                id: crate::value!("g1"),
                result: Err(RpcError::new(-32000, "no"))
            }
        );
    }

    #[test]
    fn malformed_messages_get_the_spec_codes() {
        assert_eq!(code("{not json"), PARSE_ERROR);
        assert_eq!(code("[1, 2]"), INVALID_REQUEST);
        assert_eq!(code(r#"{"id":1,"method":"x"}"#), INVALID_REQUEST);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":5}"#),
            INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#),
            INVALID_REQUEST
        );
        let (id, _) = Incoming::parse(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#).unwrap_err();
        assert_eq!(id, crate::value!(7));
    }
}
