//! The JSON Schema of an API description (`modhost schema --api`), for editors.

use serde_json::{Value as Json, json};

/// A type expression: a built-in, a declared name, `T[]` or `T?`.
const TYPE_PATTERN: &str = r"^\s*[A-Za-z_][A-Za-z0-9_]*(\[\]|\?)*\s*$";

pub fn json_schema() -> Json {
    let type_expr = json!({
        "type": "string",
        "pattern": TYPE_PATTERN,
        "description": "`null`, `boolean`, `integer`, `number`, `string`, `any`, a name from `types`, `T[]` (an array of T) or `T?` (T or null)",
        "examples": ["integer", "string?", "Position", "Kind[]"]
    });
    let fields = json!({
        "type": "object",
        "additionalProperties": { "$ref": "#/$defs/type" }
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "modhost game API description",
        "description": "What a game offers mods: functions, types, events and permissions (modhost SPEC section 10)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "$schema": { "type": "string" },
            "game": { "type": "string", "description": "The game's name" },
            "version": { "type": "string", "description": "The API's version" },
            "global": {
                "type": "string",
                "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                "default": "game",
                "description": "The global through which mods reach the functions"
            },
            "functions": {
                "type": "object",
                "description": "Functions by dotted name (`world.spawn` is `game.world.spawn` in a mod)",
                "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$" },
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "doc": { "type": "string" },
                        "params": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["name", "type"],
                                "properties": {
                                    "name": { "type": "string" },
                                    "type": { "$ref": "#/$defs/type" },
                                    "optional": { "type": "boolean", "default": false },
                                    "doc": { "type": "string" }
                                }
                            }
                        },
                        "returns": { "$ref": "#/$defs/type", "default": "null" },
                        "permission": {
                            "type": "string",
                            "description": "Mods must list this in their manifest's `permissions` to call the function"
                        }
                    }
                }
            },
            "types": {
                "type": "object",
                "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "doc": { "type": "string" },
                        "fields": fields,
                        "enum": { "type": "array", "items": { "type": "string" }, "minItems": 1, "uniqueItems": true }
                    },
                    "oneOf": [{ "required": ["fields"] }, { "required": ["enum"] }]
                }
            },
            "events": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["from"],
                    "properties": {
                        "doc": { "type": "string" },
                        "from": { "enum": ["game", "mods"], "description": "Who sends the event" },
                        "payload": {
                            "description": "The payload's fields, or a type",
                            "oneOf": [fields, { "$ref": "#/$defs/type" }]
                        }
                    }
                }
            }
        },
        "$defs": { "type": type_expr }
    })
}
