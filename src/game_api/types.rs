//! The type language of the game's API description: `null`, `boolean`, `integer`, `number`,
//! `string`, `any`, `T[]`, `T?` and names from `types`. Values are checked against types
//! here, with messages a modder can act on, and typed stubs are made here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::value::Value as Json;
use crate::value::{Object, exact_integer};

/// A type expression as written in the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Any,
    /// `T[]`.
    Array(Box<TypeExpr>),
    /// `T?`: a `T` or `null` (a field of this type may also be left out).
    Nullable(Box<TypeExpr>),
    /// A name declared in `types`.
    Named(String),
    /// Fields written in place, as event payloads are: `{ "dt": "number" }`.
    Fields(BTreeMap<String, TypeExpr>),
}

/// A named type of the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeDef {
    /// An object with these fields.
    Object(BTreeMap<String, TypeExpr>),
    /// One of these strings.
    Enum(Vec<String>),
}

/// The named types, for looking names up while checking.
pub(crate) type Types = BTreeMap<String, TypeDef>;

/// The words that are types of their own and cannot name a declared type.
pub(crate) const BUILTIN_TYPES: &[&str] =
    &["null", "boolean", "integer", "number", "string", "any"];

impl TypeExpr {
    /// Parses `Position[]?`, `integer`, … ; `None` when the text is not a type expression.
    /// Names are not looked up here.
    pub fn parse(text: &str) -> Option<TypeExpr> {
        let text = text.trim();
        if let Some(inner) = text.strip_suffix('?') {
            return Some(TypeExpr::Nullable(Box::new(TypeExpr::parse(inner)?)));
        }
        if let Some(inner) = text.strip_suffix("[]") {
            return Some(TypeExpr::Array(Box::new(TypeExpr::parse(inner)?)));
        }
        Some(match text {
            "null" => TypeExpr::Null,
            "boolean" => TypeExpr::Boolean,
            "integer" => TypeExpr::Integer,
            "number" => TypeExpr::Number,
            "string" => TypeExpr::String,
            "any" => TypeExpr::Any,
            name if is_identifier(name) => TypeExpr::Named(name.to_owned()),
            _ => return None,
        })
    }

    /// Every name this expression refers to.
    pub fn names(&self, into: &mut Vec<String>) {
        match self {
            TypeExpr::Array(inner) | TypeExpr::Nullable(inner) => inner.names(into),
            TypeExpr::Named(name) => into.push(name.clone()),
            TypeExpr::Fields(fields) => fields.values().for_each(|field| field.names(into)),
            _ => {}
        }
    }

    /// Whether a value may be left out where this type is expected (a trailing parameter or
    /// an object field).
    pub fn may_be_absent(&self) -> bool {
        matches!(self, TypeExpr::Nullable(_) | TypeExpr::Any | TypeExpr::Null)
    }

    /// The type as a person reads it in an error, enums spelled out:
    /// `Kind ("orc" | "goblin")`.
    pub fn describe(&self, types: &Types) -> String {
        match self {
            TypeExpr::Named(name) => match types.get(name) {
                Some(TypeDef::Enum(values)) => {
                    let values: Vec<String> =
                        values.iter().map(|value| format!("\"{value}\"")).collect();
                    format!("{name} ({})", values.join(" | "))
                }
                _ => name.clone(),
            },
            other => other.to_string(),
        }
    }

    /// Checks `value` against this type; the error names where inside the value it went
    /// wrong (`.at.x`), what was expected and what was given.
    pub fn check(&self, value: &Json, types: &Types) -> Result<(), Mismatch> {
        let mismatch = || Mismatch {
            path: String::new(),
            problem: Problem::Type {
                expected: self.describe(types),
                given: describe_value(value),
            },
        };
        match (self, value) {
            (TypeExpr::Any, _) | (TypeExpr::Null, Json::Null) => Ok(()),
            (TypeExpr::Nullable(_), Json::Null) => Ok(()),
            (TypeExpr::Nullable(inner), _) => inner.check(value, types).map_err(|mut inner| {
                if let (true, Problem::Type { expected, .. }) =
                    (inner.path.is_empty(), &mut inner.problem)
                {
                    *expected = self.describe(types);
                }
                inner
            }),
            (TypeExpr::Boolean, Json::Bool(_)) | (TypeExpr::String, Json::String(_)) => Ok(()),
            (TypeExpr::Number, Json::Int(_) | Json::Float(_)) => Ok(()),
            (TypeExpr::Integer, Json::Int(_)) => Ok(()),
            (TypeExpr::Integer, Json::Float(number)) if exact_integer(*number).is_some() => Ok(()),
            (TypeExpr::Array(item), Json::Array(items)) => {
                for (index, element) in items.iter().enumerate() {
                    item.check(element, types)
                        .map_err(|inner| inner.within(&format!("[{index}]")))?;
                }
                Ok(())
            }
            (TypeExpr::Fields(fields), Json::Object(object)) => check_fields(fields, object, types),
            (TypeExpr::Named(name), _) => match (types.get(name), value) {
                (Some(TypeDef::Enum(values)), Json::String(text))
                    if values.iter().any(|value| value == text) =>
                {
                    Ok(())
                }
                (Some(TypeDef::Object(fields)), Json::Object(object)) => {
                    check_fields(fields, object, types)
                }
                _ => Err(mismatch()),
            },
            _ => Err(mismatch()),
        }
    }

    /// A value of this type made of defaults: `0`, `""`, `false`, `[]`, the first enum value,
    /// an object with each field so filled, `null` for `T?`. What answers a game call where a
    /// stub stands in for the game (`check --smoke`, `test`).
    pub fn stub(&self, types: &Types) -> Json {
        self.stub_within(types, &mut BTreeSet::new())
    }

    fn stub_within(&self, types: &Types, visiting: &mut BTreeSet<String>) -> Json {
        match self {
            TypeExpr::Null | TypeExpr::Any | TypeExpr::Nullable(_) => Json::Null,
            TypeExpr::Boolean => Json::Bool(false),
            TypeExpr::Integer | TypeExpr::Number => Json::from(0),
            TypeExpr::String => Json::from(""),
            TypeExpr::Array(_) => Json::Array(Vec::new()),
            TypeExpr::Fields(fields) => stub_fields(fields, types, visiting),
            TypeExpr::Named(name) => {
                // A type that contains itself would never end: its inner copy is `null`.
                if !visiting.insert(name.clone()) {
                    return Json::Null;
                }
                let stub = match types.get(name) {
                    Some(TypeDef::Enum(values)) => values
                        .first()
                        .map_or(Json::Null, |value| Json::from(value.as_str())),
                    Some(TypeDef::Object(fields)) => stub_fields(fields, types, visiting),
                    None => Json::Null,
                };
                visiting.remove(name);
                stub
            }
        }
    }
}

fn stub_fields(
    fields: &BTreeMap<String, TypeExpr>,
    types: &Types,
    visiting: &mut BTreeSet<String>,
) -> Json {
    Json::Object(
        fields
            .iter()
            .map(|(name, kind)| (name.as_str(), kind.stub_within(types, visiting)))
            .collect(),
    )
}

fn check_fields(
    fields: &BTreeMap<String, TypeExpr>,
    object: &Object,
    types: &Types,
) -> Result<(), Mismatch> {
    for (name, kind) in fields {
        match object.get(name) {
            Some(value) => kind
                .check(value, types)
                .map_err(|inner| inner.within(&format!(".{name}")))?,
            None if kind.may_be_absent() => {}
            None => {
                return Err(Mismatch {
                    path: String::new(),
                    problem: Problem::Missing {
                        field: name.clone(),
                        expected: kind.describe(types),
                    },
                });
            }
        }
    }
    if let Some(extra) = object.keys().find(|key| !fields.contains_key(key.as_str())) {
        return Err(Mismatch {
            path: String::new(),
            problem: Problem::Unknown {
                field: extra.to_string(),
                fields: fields.keys().cloned().collect(),
            },
        });
    }
    Ok(())
}

/// `number 5`, `string "orc"`, `an object`: a value as an error message shows what was given.
pub(crate) fn describe_value(value: &Json) -> String {
    const SHOWN: usize = 40;
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(flag) => format!("boolean {flag}"),
        Json::Int(_) | Json::Float(_) => format!("number {value}"),
        Json::String(text) if text.chars().count() > SHOWN => {
            let start: String = text.chars().take(SHOWN).collect();
            format!("string \"{start}…\"")
        }
        Json::String(text) => format!("string \"{text}\""),
        Json::Array(items) => format!("an array of {} items", items.len()),
        Json::Object(_) => "an object".to_owned(),
    }
}

/// Why a value does not fit a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Where inside the checked value: empty for the value itself, else `.at.x`, `[2]` (for a
    /// missing or unknown field, the object that has it or lacks it).
    pub path: String,
    pub problem: Problem,
}

/// What is wrong at a [`Mismatch`]'s path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The value has another type.
    Type { expected: String, given: String },
    /// An object lacks a field its type requires.
    Missing { field: String, expected: String },
    /// An object has a field its type does not declare.
    Unknown { field: String, fields: Vec<String> },
}

/// `expected integer, got string "a"`, `missing field `rain` (boolean)`, `unknown field `extra`
/// (the fields are `day`, `rain`)`.
impl fmt::Display for Problem {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Type { expected, given } => write!(out, "expected {expected}, got {given}"),
            Problem::Missing { field, expected } => {
                write!(out, "missing field `{field}` ({expected})")
            }
            Problem::Unknown { field, fields } if fields.is_empty() => {
                write!(out, "unknown field `{field}` (the type has no fields)")
            }
            Problem::Unknown { field, fields } => {
                let fields: Vec<String> = fields.iter().map(|name| format!("`{name}`")).collect();
                write!(
                    out,
                    "unknown field `{field}` (the fields are {})",
                    fields.join(", ")
                )
            }
        }
    }
}

impl Mismatch {
    fn within(mut self, step: &str) -> Mismatch {
        self.path.insert_str(0, step);
        self
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a name both JavaScript and Lua accept as a field.
pub(crate) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|rest| rest.is_ascii_alphanumeric() || rest == '_')
}

impl fmt::Display for TypeExpr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeExpr::Null => formatter.write_str("null"),
            TypeExpr::Boolean => formatter.write_str("boolean"),
            TypeExpr::Integer => formatter.write_str("integer"),
            TypeExpr::Number => formatter.write_str("number"),
            TypeExpr::String => formatter.write_str("string"),
            TypeExpr::Any => formatter.write_str("any"),
            TypeExpr::Array(inner) => write!(formatter, "{inner}[]"),
            TypeExpr::Nullable(inner) => write!(formatter, "{inner}?"),
            TypeExpr::Named(name) => formatter.write_str(name),
            TypeExpr::Fields(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(name, kind)| format!("{name}: {kind}"))
                    .collect();
                write!(formatter, "{{ {} }}", fields.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn types() -> Types {
        Types::from([
            (
                "Kind".to_owned(),
                TypeDef::Enum(vec!["orc".to_owned(), "goblin".to_owned()]),
            ),
            (
                "Position".to_owned(),
                TypeDef::Object(BTreeMap::from([
                    ("x".to_owned(), TypeExpr::Number),
                    ("y".to_owned(), TypeExpr::Number),
                    (
                        "label".to_owned(),
                        TypeExpr::Nullable(Box::new(TypeExpr::String)),
                    ),
                ])),
            ),
            (
                "Tree".to_owned(),
                TypeDef::Object(BTreeMap::from([
                    ("children".to_owned(), TypeExpr::parse("Tree[]").unwrap()),
                    ("parent".to_owned(), TypeExpr::parse("Tree?").unwrap()),
                    ("root".to_owned(), TypeExpr::parse("Tree").unwrap()),
                ])),
            ),
        ])
    }

    #[test]
    fn suffixes_nest_from_the_right() {
        assert_eq!(
            TypeExpr::parse("Position[]?"),
            Some(TypeExpr::Nullable(Box::new(TypeExpr::Array(Box::new(
                TypeExpr::Named("Position".to_owned())
            )))))
        );
        assert_eq!(TypeExpr::parse(" integer "), Some(TypeExpr::Integer));
        assert_eq!(TypeExpr::parse("a b"), None);
        assert_eq!(TypeExpr::parse("[]"), None);
        assert_eq!(
            TypeExpr::parse("string?[]").unwrap().to_string(),
            "string?[]"
        );
    }

    #[test]
    fn an_enum_mismatch_spells_out_the_values() {
        let kind = TypeExpr::parse("Kind").unwrap();
        let error = kind.check(&crate::value!(5), &types()).unwrap_err();
        assert_eq!(
            error.problem.to_string(),
            "expected Kind (\"orc\" | \"goblin\"), got number 5"
        );
        assert!(kind.check(&crate::value!("orc"), &types()).is_ok());
        assert!(kind.check(&crate::value!("troll"), &types()).is_err());
    }

    #[test]
    fn objects_are_checked_field_by_field_with_the_path() {
        let position = TypeExpr::parse("Position[]").unwrap();
        let error = position
            .check(
                &crate::value!([{ "x": 1, "y": 2 }, { "x": 1, "y": "2" }]),
                &types(),
            )
            .unwrap_err();
        assert_eq!(error.path, "[1].y");
        assert_eq!(
            error.problem.to_string(),
            "expected number, got string \"2\""
        );
        let missing = position
            .check(&crate::value!([{ "x": 1 }]), &types())
            .unwrap_err();
        assert_eq!(
            (missing.path.as_str(), missing.problem.to_string().as_str()),
            ("[0]", "missing field `y` (number)")
        );
        let extra = position
            .check(&crate::value!([{ "x": 1, "y": 2, "z": 3 }]), &types())
            .unwrap_err();
        assert_eq!(
            (extra.path.as_str(), extra.problem.to_string().as_str()),
            (
                "[0]",
                "unknown field `z` (the fields are `label`, `x`, `y`)"
            )
        );
        assert!(
            position
                .check(
                    &crate::value!([{ "x": 1, "y": 2, "label": null }]),
                    &types()
                )
                .is_ok()
        );
    }

    #[test]
    fn integers_may_come_as_whole_floats() {
        assert!(
            TypeExpr::Integer
                .check(&crate::value!(5.0), &types())
                .is_ok()
        );
        assert!(
            TypeExpr::Integer
                .check(&crate::value!(5.5), &types())
                .is_err()
        );
        assert!(
            TypeExpr::Number
                .check(&crate::value!(5.5), &types())
                .is_ok()
        );
    }

    #[test]
    fn stubs_have_the_declared_shape_even_for_recursive_types() {
        let types = types();
        assert_eq!(
            TypeExpr::parse("Kind").unwrap().stub(&types),
            crate::value!("orc")
        );
        assert_eq!(
            TypeExpr::parse("Position").unwrap().stub(&types),
            crate::value!({ "x": 0, "y": 0, "label": null })
        );
        assert_eq!(
            TypeExpr::parse("Tree").unwrap().stub(&types),
            crate::value!({ "children": [], "parent": null, "root": null })
        );
        for text in ["integer", "string", "boolean", "Kind?", "Position[]", "any"] {
            let kind = TypeExpr::parse(text).unwrap();
            assert!(kind.check(&kind.stub(&types), &types).is_ok(), "{text}");
        }
    }
}
