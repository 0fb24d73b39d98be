//! What the typings declare, independent of the language they are written in: globals made
//! of namespaces, functions and values, and named types. The `modhost` API ([`super::spec`])
//! and the game's API ([`super::game`]) are both turned into this, and one writer per language
//! ([`super::typescript`], [`super::lua`]) writes it, so both get the same treatment.

/// A type, as both languages can spell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    /// A JSON-compatible value.
    Json,
    /// An object of JSON values (`modhost.settings`).
    JsonObject,
    /// Anything at all.
    Unknown,
    /// Returns nothing.
    Void,
    Null,
    Boolean,
    Integer,
    Number,
    String,
    /// Exactly this string.
    Literal(String),
    Array(Box<Shape>),
    /// The shape, or null.
    Nullable(Box<Shape>),
    /// A type declared by name.
    Named(String),
    /// A callback.
    Function(Box<Signature>),
    /// Nothing, a JSON value to use instead, or `false` to cancel (a `before` handler's result).
    BeforeResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Param {
    pub name: String,
    pub shape: Shape,
    pub optional: bool,
    /// Takes any number of values (`...args`).
    pub variadic: bool,
}

impl Param {
    pub(super) fn new(name: &str, shape: Shape) -> Param {
        Param {
            name: name.to_owned(),
            shape,
            optional: false,
            variadic: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Signature {
    pub params: Vec<Param>,
    pub returns: Shape,
}

/// A name inside a global.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    pub name: String,
    pub doc: String,
    pub kind: MemberKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MemberKind {
    /// A read-only value.
    Value(Shape),
    /// A function: typed overloads first, the general signature last.
    Function(Vec<Signature>),
    /// A table of further members (`modhost.log`, `game.world`).
    Namespace(Vec<Member>),
}

/// A global variable mods see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Global {
    pub name: String,
    pub doc: String,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    pub name: String,
    pub shape: Shape,
    pub doc: String,
    pub optional: bool,
}

/// A named type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TypeDecl {
    Object {
        name: String,
        doc: String,
        fields: Vec<Field>,
    },
    /// One of these strings.
    Strings {
        name: String,
        doc: String,
        values: Vec<String>,
    },
}

/// Everything one typings file declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Declarations {
    pub types: Vec<TypeDecl>,
    pub globals: Vec<Global>,
}
