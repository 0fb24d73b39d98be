//! Writes [`Declarations`] as LuaLS annotations (`---@meta`), one `---@class` per table so
//! that a misspelled member is flagged.

use std::fmt::Write as _;

use super::model::{Declarations, Member, MemberKind, Shape, Signature, TypeDecl};

pub(super) fn write(out: &mut String, declarations: &Declarations) {
    for declaration in &declarations.types {
        match declaration {
            TypeDecl::Object { name, doc, fields } => {
                let _ = writeln!(out, "{}---@class {name}", doc_line(doc));
                for field in fields {
                    let optional = if field.optional { "?" } else { "" };
                    let _ = writeln!(
                        out,
                        "---@field {}{optional} {} {}",
                        field.name,
                        shape(&field.shape),
                        field.doc
                    );
                }
                out.push('\n');
            }
            TypeDecl::Strings { name, doc, values } => {
                let values: Vec<String> = values.iter().map(|value| literal(value)).collect();
                let _ = writeln!(
                    out,
                    "{}---@alias {name} {}\n",
                    doc_line(doc),
                    values.join("|")
                );
            }
        }
    }
    for global in &declarations.globals {
        let _ = writeln!(
            out,
            "{}---@class {name}\n{name} = {{}}\n",
            doc_line(&global.doc),
            name = global.name
        );
        members(out, &global.members, &global.name);
    }
}

fn members(out: &mut String, members: &[Member], path: &str) {
    for member in members {
        let doc = doc_line(&member.doc);
        let full = format!("{path}.{}", member.name);
        match &member.kind {
            MemberKind::Value(kind) => {
                let kind = match kind {
                    Shape::JsonObject => "table<string, Json>".to_owned(),
                    other => shape(other),
                };
                let _ = writeln!(out, "{doc}---@type {kind}\n{full} = {{}}\n");
            }
            MemberKind::Namespace(inner) => {
                let _ = writeln!(out, "{doc}---@class {full}\n{full} = {{}}\n");
                self::members(out, inner, &full);
            }
            MemberKind::Function(signatures) => {
                let Some((general, overloads)) = signatures.split_last() else {
                    continue;
                };
                out.push_str(&doc);
                for overload in overloads {
                    let _ = writeln!(out, "---@overload {}", function_type(overload));
                }
                for param in &general.params {
                    let name = if param.variadic {
                        "..."
                    } else {
                        param.name.as_str()
                    };
                    let optional = if param.optional { "?" } else { "" };
                    let _ = writeln!(out, "---@param {name}{optional} {}", shape(&param.shape));
                }
                if general.returns != Shape::Void {
                    let _ = writeln!(out, "---@return {}", shape(&general.returns));
                }
                let names: Vec<&str> = general
                    .params
                    .iter()
                    .map(|param| {
                        if param.variadic {
                            "..."
                        } else {
                            param.name.as_str()
                        }
                    })
                    .collect();
                let _ = writeln!(out, "function {full}({}) end\n", names.join(", "));
            }
        }
    }
}

fn function_type(signature: &Signature) -> String {
    let params = signature
        .params
        .iter()
        .map(|param| {
            let optional = if param.optional { "?" } else { "" };
            let name = if param.variadic {
                "..."
            } else {
                param.name.as_str()
            };
            format!("{name}{optional}: {}", shape(&param.shape))
        })
        .collect::<Vec<_>>()
        .join(", ");
    match &signature.returns {
        Shape::Void => format!("fun({params})"),
        other => format!("fun({params}): {}", shape(other)),
    }
}

pub(super) fn shape(kind: &Shape) -> String {
    match kind {
        Shape::Json => "Json".to_owned(),
        Shape::JsonObject => "table<string, Json>".to_owned(),
        Shape::Unknown => "any".to_owned(),
        Shape::Void | Shape::Null => "nil".to_owned(),
        Shape::Boolean => "boolean".to_owned(),
        Shape::Integer => "integer".to_owned(),
        Shape::Number => "number".to_owned(),
        Shape::String => "string".to_owned(),
        Shape::Literal(text) => literal(text),
        Shape::Array(inner) => match **inner {
            Shape::Nullable(_) | Shape::Function(_) | Shape::BeforeResult => {
                format!("({})[]", shape(inner))
            }
            _ => format!("{}[]", shape(inner)),
        },
        Shape::Nullable(inner) => format!("{}|nil", shape(inner)),
        Shape::Named(name) => name.clone(),
        Shape::BeforeResult => "Json|false|nil".to_owned(),
        Shape::Function(signature) => function_type(signature),
    }
}

fn literal(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn doc_line(doc: &str) -> String {
    if doc.is_empty() {
        String::new()
    } else {
        format!("---{}\n", doc.replace('\n', " "))
    }
}
