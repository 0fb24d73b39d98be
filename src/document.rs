//! A format-neutral tree of values that remembers where each value and key came from.
//!
//! `manifest.json` and `mod.toml` are parsed into the same [`Node`] tree, so one validator
//! serves both formats and every diagnostic can point at the exact key or value at fault. The
//! game's API description (`crate::game_api`) is read the same way.

use std::ops::Range;

/// A value and the byte range it occupies in its file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub span: Range<usize>,
}

/// A key of a table, with the byte range of the key itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key {
    pub name: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Array(Vec<Node>),
    /// Entries in the order they appear in the file.
    Table(Vec<(Key, Node)>),
}

impl Value {
    /// What this value is, as a person would say it in an error message.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Table(_) => "an object",
        }
    }
}

impl Node {
    /// The value as JSON, dropping positions (settings are handed to mods this way).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Integer(value) => serde_json::Value::from(*value),
            Value::Float(value) => serde_json::Number::from_f64(*value)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::String(value) => serde_json::Value::String(value.clone()),
            Value::Array(items) => items.iter().map(Node::to_json).collect(),
            Value::Table(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, node)| (key.name.clone(), node.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A file that could not be parsed at all.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub message: String,
    pub span: Range<usize>,
}

/// Parses strict JSON (no comments, no trailing commas) into a [`Node`] tree.
pub(crate) fn parse_json(text: &str) -> Result<Node, SyntaxError> {
    use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed =
        parse_to_ast(text, &CollectOptions::default(), &strict).map_err(|error| SyntaxError {
            message: lowercase_first(&error.kind().to_string()),
            span: error.range().start..error.range().end,
        })?;
    match parsed.value {
        Some(value) => Ok(json_node(value)),
        None => Err(SyntaxError {
            message: "the file is empty; it should hold a JSON object".to_owned(),
            span: 0..0,
        }),
    }
}

fn json_node(value: jsonc_parser::ast::Value<'_>) -> Node {
    use jsonc_parser::ast::{ObjectPropName, Value as Json};
    let span = |range: jsonc_parser::common::Range| range.start..range.end;
    match value {
        Json::NullKeyword(null) => Node {
            value: Value::Null,
            span: span(null.range),
        },
        Json::BooleanLit(boolean) => Node {
            value: Value::Bool(boolean.value),
            span: span(boolean.range),
        },
        Json::NumberLit(number) => Node {
            value: number
                .value
                .parse::<i64>()
                .map(Value::Integer)
                .or_else(|_| number.value.parse::<f64>().map(Value::Float))
                .unwrap_or(Value::Float(f64::NAN)),
            span: span(number.range),
        },
        Json::StringLit(string) => Node {
            value: Value::String(string.value.into_owned()),
            span: span(string.range),
        },
        Json::Array(array) => Node {
            value: Value::Array(array.elements.into_iter().map(json_node).collect()),
            span: span(array.range),
        },
        Json::Object(object) => Node {
            value: Value::Table(
                object
                    .properties
                    .into_iter()
                    .map(|property| {
                        let (name, key_span) = match property.name {
                            ObjectPropName::String(name) => {
                                (name.value.into_owned(), span(name.range))
                            }
                            ObjectPropName::Word(word) => (word.value.to_owned(), span(word.range)),
                        };
                        let key = Key {
                            name,
                            span: key_span,
                        };
                        (key, json_node(property.value))
                    })
                    .collect(),
            ),
            span: span(object.range),
        },
    }
}

/// Parses a TOML document into a [`Node`] tree whose root is a table.
pub(crate) fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    let root = toml::de::DeTable::parse(text).map_err(|error| SyntaxError {
        message: error.message().trim_end().to_owned(),
        span: error.span().unwrap_or(0..0),
    })?;
    let span = root.span();
    Ok(Node {
        value: toml_table(root.into_inner()),
        span,
    })
}

fn toml_table(table: toml::de::DeTable<'_>) -> Value {
    let mut entries: Vec<(Key, Node)> = table
        .into_iter()
        .map(|(key, value)| {
            let key = Key {
                span: key.span(),
                name: key.into_inner().into_owned(),
            };
            (key, toml_node(value))
        })
        .collect();
    // The TOML map is sorted by key; diagnostics read better in file order.
    entries.sort_by_key(|(key, _)| key.span.start);
    Value::Table(entries)
}

fn toml_node(value: toml::Spanned<toml::de::DeValue<'_>>) -> Node {
    use toml::de::DeValue;
    let span = value.span();
    let value = match value.into_inner() {
        DeValue::String(string) => Value::String(string.into_owned()),
        DeValue::Integer(integer) => i64::from_str_radix(integer.as_str(), integer.radix())
            .map_or(Value::Float(f64::NAN), Value::Integer),
        DeValue::Float(float) => Value::Float(float.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(boolean) => Value::Bool(boolean),
        DeValue::Datetime(datetime) => Value::String(datetime.to_string()),
        DeValue::Array(array) => Value::Array(array.into_iter().map(toml_node).collect()),
        DeValue::Table(table) => toml_table(table),
    };
    Node { value, span }
}

fn lowercase_first(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Table(entries) => entries,
            other => panic!("expected a table, got {other:?}"),
        }
    }

    #[test]
    fn json_keeps_the_span_of_keys_and_values() {
        let text = r#"{ "name": "x", "priority": 5 }"#;
        let root = parse_json(text).unwrap();
        let entries = table(&root);
        assert_eq!(&text[entries[0].0.span.clone()], "\"name\"");
        assert_eq!(&text[entries[1].1.span.clone()], "5");
        assert_eq!(entries[1].1.value, Value::Integer(5));
    }

    #[test]
    fn json_is_strict() {
        let error = parse_json("{ \"a\": 1, }").unwrap_err();
        assert!(error.message.contains("trailing comma"), "{error:?}");
        assert!(parse_json("// hi\n{}").is_err());
        assert!(parse_json("").is_err());
    }

    #[test]
    fn toml_keeps_file_order_and_spans() {
        let text = "version = \"1.0.0\"\nname = \"x\"\n[settings]\nvolume = 0.5\n";
        let root = parse_toml(text).unwrap();
        let entries = table(&root);
        assert_eq!(entries[0].0.name, "version");
        assert_eq!(entries[1].0.name, "name");
        assert_eq!(&text[entries[1].1.span.clone()], "\"x\"");
        assert_eq!(entries[2].1.to_json(), serde_json::json!({ "volume": 0.5 }));
    }

    #[test]
    fn toml_reads_integers_in_every_radix() {
        let root = parse_toml("a = 0x10\nb = 1_000\nc = -3").unwrap();
        let values: Vec<_> = table(&root)
            .iter()
            .map(|(_, node)| node.value.clone())
            .collect();
        assert_eq!(
            values,
            [Value::Integer(16), Value::Integer(1000), Value::Integer(-3)]
        );
    }

    #[test]
    fn toml_errors_have_a_span() {
        let error = parse_toml("name = \n").unwrap_err();
        assert!(!error.message.is_empty());
        assert!(error.span.start <= 8);
    }
}
