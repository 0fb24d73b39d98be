//! Validating an API description: from the spanned document tree to a [`GameApi`], with an
//! `invalid-api` diagnostic (file, line, column) for every problem found.

use std::collections::BTreeMap;
use std::ops::Range;

use super::types::{BUILTIN_TYPES, TypeDef, TypeExpr, is_identifier};
use super::{Direction, Event, Function, GameApi, Param};
use crate::diagnostic::{Code, Diagnostic};
use crate::document::{self, Key, Node, Value};
use crate::source::SourceFile;

/// Names a game's global cannot take: the host's own and the languages' built-ins.
const RESERVED_GLOBALS: &[&str] = &[
    "modhost",
    "console",
    "globalThis",
    "Object",
    "Array",
    "JSON",
    "Math",
    "Promise",
    "print",
    "require",
    "string",
    "table",
    "math",
    "os",
    "coroutine",
    "utf8",
    "setTimeout",
    "setInterval",
];

struct Validator<'a> {
    file: &'a SourceFile,
    diagnostics: Vec<Diagnostic>,
}

pub(super) fn parse(file: &SourceFile) -> Result<GameApi, Vec<Diagnostic>> {
    let mut validator = Validator {
        file,
        diagnostics: Vec::new(),
    };
    let root = match document::parse_json(file.text()) {
        Ok(root) => root,
        Err(error) => {
            validator.error(error.span, error.message, None);
            return Err(validator.diagnostics);
        }
    };
    let api = validator.api(&root);
    match api {
        Some(api) if validator.diagnostics.is_empty() => Ok(api),
        _ => {
            validator
                .diagnostics
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            Err(validator.diagnostics)
        }
    }
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let mut diagnostic = Diagnostic::new(Code::InvalidApi, message).at(self.file.locate(span));
        if let Some(hint) = hint {
            diagnostic = diagnostic.hint(hint);
        }
        self.diagnostics.push(diagnostic);
    }

    /// The entries of an object, or an error saying what `what` must be.
    fn table<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [(Key, Node)]> {
        match &node.value {
            Value::Table(entries) => Some(entries),
            other => {
                self.error(
                    node.span.clone(),
                    format!("{what} must be an object, not {}", other.kind()),
                    None,
                );
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::String(text) => Some(text.clone()),
            other => {
                self.error(
                    node.span.clone(),
                    format!("{what} must be a string, not {}", other.kind()),
                    None,
                );
                None
            }
        }
    }

    /// Reports keys that are not in `known`, with "did you mean".
    fn only_known(&mut self, entries: &[(Key, Node)], known: &[&str], within: &str) {
        for (key, _) in entries {
            if !known.contains(&key.name.as_str()) {
                let hint = crate::suggest::did_you_mean(&key.name, known.iter().copied())
                    .or_else(|| Some(format!("{within} may hold {}", quoted(known))));
                self.error(
                    key.span.clone(),
                    format!("unknown key `{}` in {within}", key.name),
                    hint,
                );
            }
        }
    }

    fn api(&mut self, root: &Node) -> Option<GameApi> {
        let entries = self.table(root, "the API description")?;
        self.only_known(
            entries,
            &[
                "$schema",
                "game",
                "version",
                "global",
                "functions",
                "types",
                "events",
            ],
            "the API description",
        );
        let field = |name: &str| {
            entries
                .iter()
                .find(|(key, _)| key.name == name)
                .map(|(_, node)| node)
        };
        let game = field("game").and_then(|node| self.string(node, "`game`"));
        let version = field("version").and_then(|node| self.string(node, "`version`"));
        let global = match field("global") {
            Some(node) => {
                let global = self.string(node, "`global`")?;
                if !is_identifier(&global) || RESERVED_GLOBALS.contains(&global.as_str()) {
                    self.error(
                        node.span.clone(),
                        format!("`{global}` cannot be the global mods see"),
                        Some("choose an identifier that JavaScript and Lua do not already use, such as `game`".to_owned()),
                    );
                }
                global
            }
            None => "game".to_owned(),
        };
        let types = field("types").map_or_else(BTreeMap::new, |node| self.types(node));
        let functions = field("functions").map_or_else(BTreeMap::new, |node| self.functions(node));
        let events = field("events").map_or_else(BTreeMap::new, |node| self.events(node));
        let api = GameApi {
            game,
            version,
            global,
            functions,
            types,
            events,
            source_hash: self.file.content_hash(),
        };
        self.names_resolve(root, &api);
        Some(api)
    }

    fn type_expr(&mut self, node: &Node, what: &str) -> Option<TypeExpr> {
        let text = self.string(node, what)?;
        let parsed = TypeExpr::parse(&text);
        if parsed.is_none() {
            self.error(
                node.span.clone(),
                format!("`{text}` is not a type"),
                Some("a type is `null`, `boolean`, `integer`, `number`, `string`, `any`, a name from `types`, `T[]` (an array) or `T?` (may be null)".to_owned()),
            );
        }
        parsed
    }

    /// Fields of an object type or an event payload: `{ "x": "number" }`.
    fn fields(&mut self, node: &Node, what: &str) -> BTreeMap<String, TypeExpr> {
        let mut fields = BTreeMap::new();
        let Some(entries) = self.table(node, what) else {
            return fields;
        };
        for (key, value) in entries {
            if let Some(kind) = self.type_expr(value, &format!("the type of field `{}`", key.name))
            {
                fields.insert(key.name.clone(), kind);
            }
        }
        fields
    }

    fn types(&mut self, node: &Node) -> BTreeMap<String, TypeDef> {
        let mut types = BTreeMap::new();
        let Some(entries) = self.table(node, "`types`") else {
            return types;
        };
        for (key, definition) in entries {
            if !is_identifier(&key.name) || BUILTIN_TYPES.contains(&key.name.as_str()) {
                self.error(
                    key.span.clone(),
                    format!("`{}` cannot name a type", key.name),
                    Some("a type name is an identifier other than the built-in types".to_owned()),
                );
                continue;
            }
            let what = format!("type `{}`", key.name);
            let Some(parts) = self.table(definition, &what) else {
                continue;
            };
            self.only_known(parts, &["doc", "fields", "enum"], &what);
            let part = |name: &str| {
                parts
                    .iter()
                    .find(|(key, _)| key.name == name)
                    .map(|(_, node)| node)
            };
            let defined = match (part("fields"), part("enum")) {
                (Some(fields), None) => Some(TypeDef::Object(self.fields(fields, "`fields`"))),
                (None, Some(values)) => self.enumeration(values),
                _ => {
                    self.error(
                        definition.span.clone(),
                        format!("{what} needs exactly one of `fields` (an object type) and `enum` (a set of strings)"),
                        None,
                    );
                    None
                }
            };
            if let Some(defined) = defined {
                types.insert(key.name.clone(), defined);
            }
        }
        types
    }

    fn enumeration(&mut self, node: &Node) -> Option<TypeDef> {
        let Value::Array(items) = &node.value else {
            self.error(
                node.span.clone(),
                format!(
                    "`enum` must be an array of strings, not {}",
                    node.value.kind()
                ),
                None,
            );
            return None;
        };
        let mut values: Vec<String> = Vec::new();
        for item in items {
            let value = self.string(item, "an `enum` value")?;
            if values.contains(&value) {
                self.error(
                    item.span.clone(),
                    format!("`{value}` is listed twice"),
                    None,
                );
            }
            values.push(value);
        }
        if values.is_empty() {
            self.error(node.span.clone(), "`enum` needs at least one value", None);
            return None;
        }
        Some(TypeDef::Enum(values))
    }

    fn functions(&mut self, node: &Node) -> BTreeMap<String, Function> {
        let mut functions = BTreeMap::new();
        let Some(entries) = self.table(node, "`functions`") else {
            return functions;
        };
        for (key, definition) in entries {
            if key.name.is_empty() || !key.name.split('.').all(is_identifier) {
                self.error(
                    key.span.clone(),
                    format!("`{}` cannot name a function", key.name),
                    Some(
                        "a function name is identifiers joined by dots, such as `world.spawn`"
                            .to_owned(),
                    ),
                );
                continue;
            }
            let what = format!("function `{}`", key.name);
            let Some(parts) = self.table(definition, &what) else {
                continue;
            };
            self.only_known(parts, &["doc", "params", "returns", "permission"], &what);
            let part = |name: &str| {
                parts
                    .iter()
                    .find(|(key, _)| key.name == name)
                    .map(|(_, node)| node)
            };
            let doc = part("doc").and_then(|node| self.string(node, "`doc`"));
            let params = part("params").map_or_else(Vec::new, |node| self.params(node, &what));
            let returns = part("returns")
                .and_then(|node| self.type_expr(node, "`returns`"))
                .unwrap_or(TypeExpr::Null);
            let permission = part("permission").and_then(|node| self.string(node, "`permission`"));
            functions.insert(
                key.name.clone(),
                Function {
                    doc,
                    params,
                    returns,
                    permission,
                },
            );
        }
        // `world` cannot be a function and hold `world.spawn` at once.
        for (key, _) in entries {
            let namespace = format!("{}.", key.name);
            if let Some(inner) = functions.keys().find(|name| name.starts_with(&namespace)) {
                self.error(
                    key.span.clone(),
                    format!("`{}` is a function and also holds `{inner}`", key.name),
                    Some("rename one of them".to_owned()),
                );
            }
        }
        functions
    }

    fn params(&mut self, node: &Node, function: &str) -> Vec<Param> {
        let Value::Array(items) = &node.value else {
            self.error(
                node.span.clone(),
                format!(
                    "`params` of {function} must be an array, not {}",
                    node.value.kind()
                ),
                None,
            );
            return Vec::new();
        };
        let mut params: Vec<Param> = Vec::new();
        for item in items {
            let Some(parts) = self.table(item, "a parameter") else {
                continue;
            };
            self.only_known(parts, &["name", "type", "optional", "doc"], "a parameter");
            let part = |name: &str| {
                parts
                    .iter()
                    .find(|(key, _)| key.name == name)
                    .map(|(_, node)| node)
            };
            let name = match part("name") {
                Some(node) => self.string(node, "a parameter's `name`"),
                None => {
                    self.error(item.span.clone(), "a parameter needs a `name`", None);
                    None
                }
            };
            let kind = match part("type") {
                Some(node) => self.type_expr(node, "a parameter's `type`"),
                None => {
                    self.error(item.span.clone(), "a parameter needs a `type`", None);
                    None
                }
            };
            let optional = match part("optional").map(|node| &node.value) {
                None => false,
                Some(Value::Bool(optional)) => *optional,
                Some(other) => {
                    let span = part("optional").map_or(item.span.clone(), |node| node.span.clone());
                    self.error(
                        span,
                        format!("`optional` must be true or false, not {}", other.kind()),
                        None,
                    );
                    false
                }
            };
            let doc = part("doc").and_then(|node| self.string(node, "`doc`"));
            let (Some(name), Some(kind)) = (name, kind) else {
                continue;
            };
            if !optional && params.last().is_some_and(|last| last.optional) {
                self.error(
                    item.span.clone(),
                    format!("required parameter `{name}` comes after an optional one"),
                    Some("put optional parameters last".to_owned()),
                );
            }
            if params.iter().any(|param| param.name == name) {
                self.error(
                    item.span.clone(),
                    format!("parameter `{name}` is declared twice"),
                    None,
                );
            }
            params.push(Param {
                name,
                kind,
                optional,
                doc,
            });
        }
        params
    }

    fn events(&mut self, node: &Node) -> BTreeMap<String, Event> {
        let mut events = BTreeMap::new();
        let Some(entries) = self.table(node, "`events`") else {
            return events;
        };
        for (key, definition) in entries {
            let what = format!("event `{}`", key.name);
            let Some(parts) = self.table(definition, &what) else {
                continue;
            };
            self.only_known(parts, &["doc", "from", "payload"], &what);
            let part = |name: &str| {
                parts
                    .iter()
                    .find(|(key, _)| key.name == name)
                    .map(|(_, node)| node)
            };
            let from = match part("from") {
                Some(node) => match self.string(node, "`from`").as_deref() {
                    Some("game") => Some(Direction::Game),
                    Some("mods") => Some(Direction::Mods),
                    Some(other) => {
                        self.error(
                            node.span.clone(),
                            format!("`from` is `game` or `mods`, not `{other}`"),
                            None,
                        );
                        None
                    }
                    None => None,
                },
                None => {
                    self.error(
                        definition.span.clone(),
                        format!("{what} needs `from`: `game` (the game sends it) or `mods` (mods send it)"),
                        None,
                    );
                    None
                }
            };
            let payload = match part("payload") {
                None => Some(TypeExpr::Any),
                Some(node) if matches!(node.value, Value::Table(_)) => {
                    Some(TypeExpr::Fields(self.fields(node, "`payload`")))
                }
                Some(node) => self.type_expr(node, "`payload`"),
            };
            let doc = part("doc").and_then(|node| self.string(node, "`doc`"));
            if let (Some(from), Some(payload)) = (from, payload) {
                events.insert(key.name.clone(), Event { from, payload, doc });
            }
        }
        events
    }

    /// Every type name used must be declared; the error points at the string that uses it.
    fn names_resolve(&mut self, root: &Node, api: &GameApi) {
        let mut used = Vec::new();
        for function in api.functions.values() {
            function.returns.names(&mut used);
            for param in &function.params {
                param.kind.names(&mut used);
            }
        }
        for definition in api.types.values() {
            if let TypeDef::Object(fields) = definition {
                fields.values().for_each(|field| field.names(&mut used));
            }
        }
        for event in api.events.values() {
            event.payload.names(&mut used);
        }
        used.sort();
        used.dedup();
        for name in used.iter().filter(|name| !api.types.contains_key(*name)) {
            let span = find_type_use(root, name).unwrap_or(root.span.clone());
            let hint = crate::suggest::did_you_mean(
                name,
                api.types
                    .keys()
                    .map(String::as_str)
                    .chain(BUILTIN_TYPES.iter().copied()),
            )
            .or_else(|| Some("declare it under `types`".to_owned()));
            self.error(span, format!("unknown type `{name}`"), hint);
        }
    }
}

/// The first string in the document that uses type `name`.
fn find_type_use(node: &Node, name: &str) -> Option<Range<usize>> {
    match &node.value {
        Value::String(text) => {
            let mut names = Vec::new();
            if let Some(kind) = TypeExpr::parse(text) {
                kind.names(&mut names);
            }
            names
                .iter()
                .any(|used| used == name)
                .then(|| node.span.clone())
        }
        Value::Array(items) => items.iter().find_map(|item| find_type_use(item, name)),
        Value::Table(entries) => entries
            .iter()
            .filter(|(key, _)| key.name != "doc" && key.name != "name")
            .find_map(|(_, value)| find_type_use(value, name)),
        _ => None,
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .filter(|name| !name.starts_with('$'))
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(usize, String)> {
        let file = SourceFile::new("game-api.json", text);
        parse(&file)
            .unwrap_err()
            .into_iter()
            .map(|diagnostic| {
                let line = diagnostic
                    .location
                    .and_then(|location| location.line)
                    .unwrap_or(0);
                (line, diagnostic.message)
            })
            .collect()
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let found = problems(
            "{\n  \"functions\": {\n    \"world.spawn\": { \"params\": [{ \"name\": \"kind\", \"type\": \"Knd\" }], \"returns\": \"integr\" }\n  },\n  \"types\": { \"Kind\": { \"enum\": [] } },\n  \"evnts\": {}\n}",
        );
        let messages: Vec<&str> = found.iter().map(|(_, message)| message.as_str()).collect();
        assert!(
            messages.contains(&"`integr` is not a type")
                || messages.contains(&"unknown type `integr`"),
            "{found:?}"
        );
        assert!(
            found.contains(&(3, "unknown type `Knd`".to_owned())),
            "{found:?}"
        );
        assert!(
            found.contains(&(5, "`enum` needs at least one value".to_owned())),
            "{found:?}"
        );
        assert!(
            found.contains(&(6, "unknown key `evnts` in the API description".to_owned())),
            "{found:?}"
        );
    }

    #[test]
    fn a_syntax_error_is_one_problem_at_its_position() {
        let found = problems("{\n  \"functions\": {,}\n}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, 2);
    }

    #[test]
    fn function_names_and_parameters_are_checked() {
        let found = problems(
            r#"{"functions": {
  "world": { "params": [] },
  "world.spawn": { "params": [{ "name": "a", "type": "string", "optional": true }, { "name": "b", "type": "string" }] },
  "bad name": {}
}, "global": "modhost"}"#,
        );
        let messages: Vec<&str> = found.iter().map(|(_, message)| message.as_str()).collect();
        assert!(
            messages.contains(&"`world` is a function and also holds `world.spawn`"),
            "{found:?}"
        );
        assert!(
            messages.contains(&"required parameter `b` comes after an optional one"),
            "{found:?}"
        );
        assert!(
            messages.contains(&"`bad name` cannot name a function"),
            "{found:?}"
        );
        assert!(
            messages.contains(&"`modhost` cannot be the global mods see"),
            "{found:?}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// No text makes validation panic, and a description is valid exactly when nothing is
        /// reported; a valid one's stubs fit their own declared types.
        #[test]
        fn no_description_makes_validation_panic(
            text in "\\PC{0,200}",
            shaped in r#"\{"functions": \{("[a-z.]{1,8}": \{"params": \[(\{"name": "[a-z]{1,3}", "type": "(integer|string|Kind|Pos|any|[A-Za-z?\[\]]{1,6})"(, "optional": (true|false))?\}, ?){0,3}\], "returns": "(integer|string\?|Kind\[\]|Pos|null|x y)"\}, ?){0,3}\}, "types": \{"Kind": \{"enum": \["a"(, "b")?\]\}, "Pos": \{"fields": \{"x": "number(\?)?"\}\}\}\}"#,
        ) {
            for input in [&text, &shaped] {
                let file = SourceFile::new("game-api.json", input.as_str());
                if let Ok(api) = parse(&file) {
                    for function in api.functions.values() {
                        let stub = function.returns.stub(&api.types);
                        prop_assert!(function.returns.check(&stub, &api.types).is_ok() || matches!(function.returns, TypeExpr::Named(_)));
                        let args: Vec<crate::value::Value> = function.params.iter().map(|param| param.kind.stub(&api.types)).collect();
                        let _ = api.check_arguments(function, &args);
                    }
                }
            }
        }
    }
}
