//! The `modhost` surface ([`crate::runtime::surface`]) in the typings' model, for the
//! TypeScript and LuaLS writers.

use super::model::{
    self, Declarations, Field, Global, Member, MemberKind, Shape, Signature, TypeDecl,
};
use crate::runtime::surface::{API, Contents, Param, STRUCTURES, TEST_API, Type};

/// The `modhost` global and its named types, for the typings writers.
pub(super) fn declarations() -> Declarations {
    let types = STRUCTURES
        .iter()
        .map(|structure| TypeDecl::Object {
            name: structure.name.to_owned(),
            doc: structure.doc.to_owned(),
            fields: structure
                .fields
                .iter()
                .map(|(name, kind, doc)| Field {
                    name: (*name).to_owned(),
                    shape: shape(*kind),
                    doc: (*doc).to_owned(),
                    optional: matches!(kind, Type::Optional(_)),
                })
                .collect(),
        })
        .collect();
    let members = API
        .iter()
        .chain([&TEST_API])
        .map(|namespace| Member {
            name: namespace.name.to_owned(),
            doc: namespace.doc.to_owned(),
            kind: match namespace.contents {
                Contents::Value(Type::Json) => MemberKind::Value(Shape::JsonObject),
                Contents::Value(kind) => MemberKind::Value(shape(kind)),
                Contents::Functions(functions) => MemberKind::Namespace(
                    functions
                        .iter()
                        .map(|function| Member {
                            name: function.name.to_owned(),
                            doc: function.doc.to_owned(),
                            kind: MemberKind::Function(vec![Signature {
                                params: params(function.params),
                                returns: shape(function.returns),
                            }]),
                        })
                        .collect(),
                ),
            },
        })
        .collect();
    Declarations {
        types,
        globals: vec![Global {
            name: "modhost".to_owned(),
            doc: "The host's API: the same in every language.".to_owned(),
            members,
        }],
    }
}

pub(super) fn params(params: &[Param]) -> Vec<model::Param> {
    params
        .iter()
        .map(|param| model::Param {
            name: param.name.to_owned(),
            shape: shape(param.kind),
            optional: param.optional,
            variadic: param.variadic,
        })
        .collect()
}

fn shape(kind: Type) -> Shape {
    match kind {
        Type::Json => Shape::Json,
        Type::Any => Shape::Unknown,
        Type::String => Shape::String,
        Type::Number => Shape::Number,
        Type::Boolean => Shape::Boolean,
        Type::Nothing => Shape::Void,
        Type::Strings => Shape::Array(Box::new(Shape::String)),
        Type::Named(name) => match name.strip_suffix("[]") {
            Some(item) => Shape::Array(Box::new(Shape::Named(item.to_owned()))),
            None => Shape::Named(name.to_owned()),
        },
        Type::BeforeResult => Shape::BeforeResult,
        Type::Optional(inner) => shape(*inner),
        Type::Handler {
            params: taken,
            returns,
        } => Shape::Function(Box::new(Signature {
            params: params(taken),
            returns: shape(*returns),
        })),
    }
}
