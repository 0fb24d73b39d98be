//! The fields of a manifest: the one table that the validator checks names and required
//! fields against and that the JSON Schema (`modhost schema`) is generated from.

use serde_json::{Value, json};

/// The form a field's value takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Text,
    /// A path ending in an extension a backend runs.
    EntryPoint,
    Id,
    Version,
    Requirement,
    Integer,
    Texts,
    Ids,
    /// An object of mod id to semver requirement.
    Requirements,
    /// Any JSON object.
    Object,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub description: &'static str,
}

const fn field(name: &'static str, kind: FieldKind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: false,
        description,
    }
}

const fn required(name: &'static str, kind: FieldKind, description: &'static str) -> Field {
    Field {
        name,
        kind,
        required: true,
        description,
    }
}

/// Every manifest field.
pub(crate) const FIELDS: &[Field] = &[
    field(
        "$schema",
        FieldKind::Text,
        "The JSON Schema of this file, for editors.",
    ),
    field(
        "id",
        FieldKind::Id,
        "Unique id in the pack; defaults to the folder name.",
    ),
    required("name", FieldKind::Text, "Display name."),
    required(
        "version",
        FieldKind::Version,
        "Semver version, such as `1.0.0`.",
    ),
    required(
        "entry_point",
        FieldKind::EntryPoint,
        "Entry file relative to the mod's folder; `.js`/`.mjs` run as JavaScript, `.ts` as TypeScript (types erased), `.lua` as Lua, `.wasm` as an Extism plugin.",
    ),
    field(
        "priority",
        FieldKind::Integer,
        "Among mods free to load, the lower value loads earlier; default 0.",
    ),
    field("description", FieldKind::Text, "What the mod does."),
    field("authors", FieldKind::Texts, "Author names."),
    field(
        "modhost",
        FieldKind::Requirement,
        "Semver requirement on the host API version.",
    ),
    field(
        "dependencies",
        FieldKind::Requirements,
        "Mods that must be present, in range, and load first.",
    ),
    field(
        "optional_dependencies",
        FieldKind::Requirements,
        "Mods that load first when present; then they must be in range.",
    ),
    field(
        "conflicts",
        FieldKind::Requirements,
        "Mods that must not be in the pack in these ranges.",
    ),
    field(
        "load_after",
        FieldKind::Ids,
        "Mods this one loads after, when present.",
    ),
    field(
        "load_before",
        FieldKind::Ids,
        "Mods this one loads before, when present.",
    ),
    field(
        "settings",
        FieldKind::Object,
        "Default settings; `config.toml` overrides them.",
    ),
    field(
        "permissions",
        FieldKind::Texts,
        "Capabilities beyond the default sandbox (none exist yet).",
    ),
];

pub(crate) fn find(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|field| field.name == name)
}

const ID_PATTERN: &str = "^[a-z0-9][a-z0-9._-]{0,63}$";

/// The JSON Schema (draft 2020-12) of `manifest.json`.
pub fn json_schema() -> Value {
    let properties: serde_json::Map<String, Value> = FIELDS
        .iter()
        .map(|field| {
            let mut schema = kind_schema(field.kind);
            schema["description"] = json!(field.description);
            (field.name.to_owned(), schema)
        })
        .collect();
    let required: Vec<&str> = FIELDS
        .iter()
        .filter(|field| field.required)
        .map(|field| field.name)
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://modhost.dev/manifest.schema.json",
        "title": "modhost mod manifest",
        "description": "manifest.json (or mod.toml, with the same fields) of a modhost mod",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A semver requirement as the `semver` crate parses it: comparators (`^1.2`, `>=0.3`, `~1`,
/// `1.*`, `*`) separated by commas. `fields::tests` holds it to `VersionReq::parse` on
/// generated requirements.
fn requirement_pattern() -> String {
    let number = r"(0|[1-9][0-9]*)";
    let wild = r"(\*|x|X)";
    // A pre-release identifier that is a number has no leading zero; build metadata may.
    let pre = r"(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
    let build = r"[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*";
    let patch = format!(r"({number}(-{pre}(\.{pre})*)?(\+{build})?|{wild})");
    let numbered = format!(r"{number}(\.({wild}(\.{wild})?|{number}(\.{patch})?))?");
    let comparator = format!(r"\s*(=|>=|<=|>|<|~|\^)?\s*{numbered}\s*");
    // A wildcard major version stands alone, a single `*`, `x` or `X`: `semver` refuses
    // `x.x` and `*.*` (anything after the wildcard), and an operator before it.
    let any = format!(r"\s*{wild}\s*");
    format!(r"^({any}|{comparator}(,{comparator})*)$")
}

/// An entry point ends in an extension a backend runs (`main.js`, `init.lua`, `mod.wasm`).
fn entry_point_pattern() -> String {
    let extensions: Vec<&str> = crate::runtime::BACKENDS
        .iter()
        .flat_map(|backend| backend.extensions())
        .copied()
        .collect();
    format!(r"\.({})$", extensions.join("|"))
}

fn kind_schema(kind: FieldKind) -> Value {
    match kind {
        FieldKind::Text => json!({ "type": "string", "minLength": 1 }),
        FieldKind::Id => json!({ "type": "string", "pattern": ID_PATTERN }),
        FieldKind::Version => json!({
            "type": "string",
            "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$"
        }),
        FieldKind::EntryPoint => json!({ "type": "string", "pattern": entry_point_pattern() }),
        FieldKind::Requirement => json!({ "type": "string", "pattern": requirement_pattern() }),
        FieldKind::Integer => json!({ "type": "integer" }),
        FieldKind::Texts => json!({ "type": "array", "items": { "type": "string" } }),
        FieldKind::Ids => {
            json!({ "type": "array", "items": { "type": "string", "pattern": ID_PATTERN } })
        }
        FieldKind::Requirements => json!({
            "type": "object",
            "propertyNames": { "pattern": ID_PATTERN },
            "additionalProperties": { "type": "string", "pattern": requirement_pattern() }
        }),
        FieldKind::Object => json!({ "type": "object" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;
    use crate::manifest::{ManifestFormat, parse_manifest};
    use crate::source::SourceFile;

    /// A value each kind accepts, and one it refuses.
    fn samples(kind: FieldKind) -> (Value, Value) {
        match kind {
            FieldKind::Text => (json!("text"), json!(5)),
            FieldKind::EntryPoint => (json!("main.js"), json!(5)),
            FieldKind::Id => (json!("core-lib"), json!("Not An Id")),
            FieldKind::Version => (json!("1.2.3"), json!("1.2")),
            FieldKind::Requirement => (json!("^1.2"), json!(true)),
            FieldKind::Integer => (json!(7), json!("seven")),
            FieldKind::Texts => (json!(["a"]), json!("a")),
            FieldKind::Ids => (json!(["core-lib"]), json!(["Not An Id"])),
            FieldKind::Requirements => (json!({ "core-lib": "^1" }), json!(["core-lib"])),
            FieldKind::Object => (json!({ "a": 1 }), json!([1])),
        }
    }

    fn errors_with(name: &str, value: &Value) -> Vec<String> {
        let mut manifest = json!({ "name": "Demo", "version": "1.0.0", "entry_point": "main.js" });
        manifest[name] = value.clone();
        let source = SourceFile::new("manifest.json", manifest.to_string());
        parse_manifest(&source, ManifestFormat::Json, "demo")
            .diagnostics
            .into_iter()
            .filter(|diagnostic| diagnostic.code == Code::InvalidManifest)
            .map(|diagnostic| diagnostic.message)
            .collect()
    }

    fn schema_accepts(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern)
            .expect("the schema's pattern compiles")
            .is_match(text)
    }

    #[test]
    fn the_schema_refuses_an_entry_point_no_backend_runs() {
        let pattern = entry_point_pattern();
        for good in ["main.js", "lib/main.mjs", "main.ts", "init.lua", "mod.wasm"] {
            assert!(schema_accepts(&pattern, good), "{good}");
        }
        for bad in ["main.py", "init.lau", "run", "main.js.bak"] {
            assert!(!schema_accepts(&pattern, bad), "{bad}");
        }
    }

    /// A wildcard stands alone (`*`), never as a version's parts (`x.x`): the case the
    /// property test below once found.
    #[test]
    fn the_schema_takes_a_wildcard_requirement_only_alone_as_the_validator_does() {
        for text in [
            "*", "x", "X", " * ", "1.x", "1.2.*", "x.x", "X.X", "*.*", "x.x.x", "=*",
        ] {
            let validator = semver::VersionReq::parse(text).is_ok();
            assert_eq!(
                schema_accepts(&requirement_pattern(), text),
                validator,
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        /// The schema's requirement pattern and the validator (`semver`) agree on generated
        /// requirements, valid and not.
        #[test]
        fn the_schema_and_the_validator_agree_on_requirements(
            text in "[ ~^<>=*xX0-9.,+a-c-]{0,14}|(\\^|~|>=|<|=)?[0-9]{1,2}(\\.[0-9x*]{1,2}){0,2}(-[a-c0-9]{1,3})?(, ?(<|>=)[0-9](\\.[0-9]){0,2})?"
        ) {
            let validator = semver::VersionReq::parse(&text).is_ok();
            proptest::prop_assert_eq!(schema_accepts(&requirement_pattern(), &text), validator, "{:?}", text);
        }
    }

    #[test]
    fn the_validator_accepts_and_refuses_what_the_schema_says() {
        for field in FIELDS {
            let (good, bad) = samples(field.kind);
            let schema = &json_schema()["properties"][field.name];
            assert!(schema.is_object(), "{} is in the schema", field.name);
            assert_eq!(
                errors_with(field.name, &good),
                Vec::<String>::new(),
                "{} accepts {good}",
                field.name
            );
            if field.name != "$schema" {
                assert!(
                    !errors_with(field.name, &bad).is_empty(),
                    "{} refuses {bad}",
                    field.name
                );
            }
        }
        let schema = json_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        assert_eq!(required, ["name", "version", "entry_point"]);
    }
}
