//! Writes [`Declarations`] as TypeScript (`modhost.d.ts`), for VS Code and `// @ts-check`.

use std::fmt::Write as _;

use super::model::{Declarations, Member, MemberKind, Param, Shape, Signature, TypeDecl};

pub(super) fn write(out: &mut String, declarations: &Declarations) {
    for declaration in &declarations.types {
        match declaration {
            TypeDecl::Object { name, doc, fields } => {
                let _ = writeln!(out, "{}interface {name} {{", doc_comment(doc, ""));
                for field in fields {
                    let optional = if field.optional { "?" } else { "" };
                    let _ = writeln!(
                        out,
                        "{}  readonly {}{optional}: {};",
                        doc_comment(&field.doc, "  "),
                        field.name,
                        shape(&field.shape)
                    );
                }
                out.push_str("}\n\n");
            }
            TypeDecl::Strings { name, doc, values } => {
                let values: Vec<String> = values.iter().map(|value| literal(value)).collect();
                let _ = writeln!(
                    out,
                    "{}type {name} = {};\n",
                    doc_comment(doc, ""),
                    values.join(" | ")
                );
            }
        }
    }
    for global in &declarations.globals {
        let _ = writeln!(
            out,
            "{}declare const {}: {{",
            doc_comment(&global.doc, ""),
            global.name
        );
        members(out, &global.members, "  ");
        out.push_str("};\n\n");
    }
}

fn members(out: &mut String, members: &[Member], indent: &str) {
    for member in members {
        let doc = doc_comment(&member.doc, indent);
        match &member.kind {
            MemberKind::Value(kind) => {
                let _ = writeln!(
                    out,
                    "{doc}{indent}readonly {}: Readonly<{}>;",
                    member.name,
                    shape(kind)
                );
            }
            MemberKind::Function(signatures) => {
                for signature in signatures {
                    let _ = writeln!(out, "{doc}{indent}{}{};", member.name, method(signature));
                }
            }
            MemberKind::Namespace(inner) => {
                let _ = writeln!(out, "{doc}{indent}readonly {}: {{", member.name);
                self::members(out, inner, &format!("{indent}  "));
                let _ = writeln!(out, "{indent}}};");
            }
        }
    }
}

/// `(kind: Kind, at?: Position): number`
pub(super) fn method(signature: &Signature) -> String {
    format!(
        "({}): {}",
        params(&signature.params),
        shape(&signature.returns)
    )
}

pub(super) fn params(params: &[Param]) -> String {
    params
        .iter()
        .map(|param| {
            let kind = shape(&param.shape);
            if param.variadic {
                format!("...{}: {}[]", param.name, grouped(&param.shape, kind))
            } else if param.optional {
                format!("{}?: {kind}", param.name)
            } else {
                format!("{}: {kind}", param.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn shape(kind: &Shape) -> String {
    match kind {
        Shape::Json => "Json".to_owned(),
        Shape::JsonObject => "Record<string, Json>".to_owned(),
        Shape::Unknown => "unknown".to_owned(),
        Shape::Void => "void".to_owned(),
        Shape::Null => "null".to_owned(),
        Shape::Boolean => "boolean".to_owned(),
        Shape::Integer | Shape::Number => "number".to_owned(),
        Shape::String => "string".to_owned(),
        Shape::Literal(text) => literal(text),
        Shape::Array(inner) => format!("{}[]", grouped(inner, shape(inner))),
        Shape::Nullable(inner) => format!("{} | null", shape(inner)),
        Shape::Named(name) => name.clone(),
        Shape::BeforeResult => "Json | false | void".to_owned(),
        Shape::Function(signature) => {
            let returns = match &signature.returns {
                Shape::Void => "void | Promise<void>".to_owned(),
                other => shape(other),
            };
            format!("({}) => {returns}", params(&signature.params))
        }
    }
}

/// Parentheses around a union or a function, where an array suffix follows.
fn grouped(kind: &Shape, written: String) -> String {
    match kind {
        Shape::Nullable(_) | Shape::Function(_) | Shape::BeforeResult | Shape::Json => {
            format!("({written})")
        }
        _ => written,
    }
}

fn literal(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

fn doc_comment(doc: &str, indent: &str) -> String {
    if doc.is_empty() {
        String::new()
    } else {
        format!("{indent}/** {} */\n", doc.replace("*/", "* /"))
    }
}
