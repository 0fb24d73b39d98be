//! The game's API description (`crate::game_api`) as typings declarations: its global, its named
//! types (enums as string unions), and a named payload type for each event.

use super::model::{
    Declarations, Field, Global, Member, MemberKind, Param, Shape, Signature, TypeDecl,
};
use crate::game_api::{Function as GameFunction, GameApi, TypeDef, TypeExpr};

/// The game's global and types.
pub(super) fn declarations(api: &GameApi) -> Declarations {
    let mut types: Vec<TypeDecl> = api
        .types
        .iter()
        .map(|(name, definition)| match definition {
            TypeDef::Object(fields) => TypeDecl::Object {
                name: name.clone(),
                doc: format!("`{name}`, from the game's API."),
                fields: fields_of(fields),
            },
            TypeDef::Enum(values) => TypeDecl::Strings {
                name: name.clone(),
                doc: format!("`{name}`, from the game's API."),
                values: values.clone(),
            },
        })
        .collect();
    for (event, declared) in &api.events {
        if let TypeExpr::Fields(fields) = &declared.payload {
            types.push(TypeDecl::Object {
                name: payload_type_name(api, event),
                doc: declared
                    .doc
                    .clone()
                    .unwrap_or_else(|| format!("The payload of the `{event}` event.")),
                fields: fields_of(fields),
            });
        }
    }
    let names: Vec<&str> = api.functions.keys().map(String::as_str).collect();
    let title = match (&api.game, &api.version) {
        (Some(game), Some(version)) => format!("{game} {version}"),
        (Some(game), None) => game.clone(),
        _ => "The game".to_owned(),
    };
    Declarations {
        types,
        globals: vec![Global {
            name: api.global.clone(),
            doc: format!("{title}: the functions the game offers mods (read-only)."),
            members: members(api, "", &names),
        }],
    }
}

/// Each declared event with the shape of its payload, for typed `on`/`before`/`emit`.
pub(super) fn events(api: &GameApi) -> Vec<(String, Shape)> {
    api.events
        .iter()
        .map(|(event, declared)| {
            let payload = match &declared.payload {
                TypeExpr::Fields(_) => Shape::Named(payload_type_name(api, event)),
                other => shape(other),
            };
            (event.clone(), payload)
        })
        .collect()
}

/// `scored` → `ScoredEvent`; `player.joined` → `PlayerJoinedEvent` (with `Payload` added if a
/// declared type has that name already).
fn payload_type_name(api: &GameApi, event: &str) -> String {
    let mut name: String = event
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "Game");
    }
    name.push_str("Event");
    if api.types.contains_key(&name) {
        name.push_str("Payload");
    }
    name
}

fn fields_of(fields: &std::collections::BTreeMap<String, TypeExpr>) -> Vec<Field> {
    fields
        .iter()
        .map(|(name, kind)| Field {
            name: name.clone(),
            shape: shape(kind),
            doc: String::new(),
            optional: kind.may_be_absent(),
        })
        .collect()
}

/// The members under `prefix`: `names` are the dotted names below it.
fn members(api: &GameApi, prefix: &str, names: &[&str]) -> Vec<Member> {
    let mut members = Vec::new();
    let mut namespaces: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for name in names {
        match name.split_once('.') {
            Some((namespace, rest)) => namespaces.entry(namespace).or_default().push(rest),
            None => {
                let function = &api.functions[&format!("{prefix}{name}")];
                let mut doc = function.doc.clone().unwrap_or_default();
                if let Some(permission) = &function.permission {
                    doc.push_str(&format!(
                        "{}Needs the permission `{permission}` in the manifest.",
                        if doc.is_empty() { "" } else { " " }
                    ));
                }
                members.push(Member {
                    name: (*name).to_owned(),
                    doc,
                    kind: MemberKind::Function(vec![signature(function)]),
                });
            }
        }
    }
    for (namespace, inner) in namespaces {
        members.push(Member {
            name: namespace.to_owned(),
            doc: String::new(),
            kind: MemberKind::Namespace(self::members(
                api,
                &format!("{prefix}{namespace}."),
                &inner,
            )),
        });
    }
    members
}

/// A function of the game's API as mods call it.
pub(super) fn signature(function: &GameFunction) -> Signature {
    Signature {
        params: function
            .params
            .iter()
            .map(|param| Param {
                name: param.name.clone(),
                shape: shape(&param.kind),
                optional: param.optional,
                variadic: false,
            })
            .collect(),
        returns: match function.returns {
            TypeExpr::Null => Shape::Void,
            ref other => shape(other),
        },
    }
}

fn shape(kind: &TypeExpr) -> Shape {
    match kind {
        TypeExpr::Null => Shape::Null,
        TypeExpr::Boolean => Shape::Boolean,
        TypeExpr::Integer => Shape::Integer,
        TypeExpr::Number => Shape::Number,
        TypeExpr::String => Shape::String,
        TypeExpr::Any | TypeExpr::Fields(_) => Shape::Json,
        TypeExpr::Array(inner) => Shape::Array(Box::new(shape(inner))),
        TypeExpr::Nullable(inner) => Shape::Nullable(Box::new(shape(inner))),
        TypeExpr::Named(name) => Shape::Named(name.clone()),
    }
}
