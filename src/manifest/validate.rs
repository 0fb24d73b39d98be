//! Turns a parsed manifest document into a [`Manifest`], with a diagnostic for every mistake.
//!
//! Validation never stops at the first problem: a modder fixing a manifest wants the whole
//! list. Unknown fields are warnings with a "did you mean" for near misses such as
//! `dependecies` or `entryPoint`.

use std::ops::Range;

use super::fields::{self, FIELDS};
use super::{Manifest, ManifestFormat, Requirement, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::document::{self, Key, Node, Value};
use crate::source::SourceFile;

/// What validating one manifest produced.
#[derive(Debug)]
pub struct ManifestOutcome {
    /// The manifest, when it has no errors (warnings allowed).
    pub manifest: Option<Manifest>,
    /// The mod's id as far as it could be determined, for diagnostics and for dependents.
    pub id: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// `[a-z0-9][a-z0-9._-]{0,63}`
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && id.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// Parses and validates the manifest in `source`, found in the folder named `folder_name`.
pub fn parse_manifest(
    source: &SourceFile,
    format: ManifestFormat,
    folder_name: &str,
) -> ManifestOutcome {
    let parsed = match format {
        ManifestFormat::Json => document::parse_json(source.text()),
        ManifestFormat::Toml => document::parse_toml(source.text()),
    };
    let mut validator = Validator {
        source,
        mod_id: folder_name.to_owned(),
        diagnostics: Vec::new(),
    };
    let manifest = match parsed {
        Ok(root) => validator.manifest(&root, folder_name),
        Err(error) => {
            validator.error(
                error.span,
                format!("`{}` is not valid: {}", format.file_name(), error.message),
                None,
            );
            None
        }
    };
    ManifestOutcome {
        manifest,
        id: validator.mod_id,
        diagnostics: validator.diagnostics,
    }
}

struct Validator<'a> {
    source: &'a SourceFile,
    mod_id: String,
    diagnostics: Vec<Diagnostic>,
}

impl Validator<'_> {
    fn report(&mut self, code: Code, span: Range<usize>, message: String, hint: Option<String>) {
        let mut diagnostic = Diagnostic::new(code, message)
            .in_mod(self.mod_id.clone())
            .at(self.source.locate(span));
        diagnostic.hint = hint;
        self.diagnostics.push(diagnostic);
    }

    fn error(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        self.report(Code::InvalidManifest, span, message, hint);
    }

    fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    fn manifest(&mut self, root: &Node, folder_name: &str) -> Option<Manifest> {
        let Value::Table(entries) = &root.value else {
            self.error(
                root.span.clone(),
                format!("a manifest must be an object, not {}", root.value.kind()),
                None,
            );
            return None;
        };
        let field = |name: &str| {
            entries
                .iter()
                .find(|(key, _)| key.name == name)
                .map(|(_, node)| node)
        };

        // The id comes first so that every later diagnostic can name the mod.
        let id = match field("id") {
            Some(node) => self.id(node).map(|id| (id, Some(node.span.clone()))),
            None if is_valid_id(folder_name) => Some((folder_name.to_owned(), None)),
            None => {
                self.error(
                    root.span.start..root.span.start,
                    format!("the folder name `{folder_name}` is not a valid mod id, and the manifest has no `id`"),
                    Some("add an `id` field (lowercase letters, digits, `.`, `_`, `-`) or rename the folder".to_owned()),
                );
                None
            }
        };
        if let Some((id, _)) = &id {
            self.mod_id = id.clone();
        }

        self.unknown_fields(entries);
        for required in FIELDS
            .iter()
            .filter(|field| field.required)
            .map(|field| field.name)
        {
            if field(required).is_none() {
                self.error(
                    root.span.start..root.span.start,
                    format!("the manifest has no `{required}`, which is required"),
                    None,
                );
            }
        }

        let name = field("name").and_then(|node| self.non_empty_string("name", node));
        let version = field("version").and_then(|node| self.version(node));
        let entry_point = field("entry_point").and_then(|node| {
            self.non_empty_string("entry_point", node)
                .map(|value| Spanned {
                    value,
                    span: node.span.clone(),
                })
        });
        let priority = field("priority").map_or(Some(0), |node| self.integer("priority", node));
        let description = field("description").and_then(|node| self.string("description", node));
        let authors = field("authors").map_or_else(Vec::new, |node| {
            self.string_list("authors", node)
                .into_iter()
                .map(|author| author.value)
                .collect()
        });
        let host = field("modhost").and_then(|node| {
            self.requirement("modhost", node).map(|version| Spanned {
                value: version,
                span: node.span.clone(),
            })
        });
        let dependencies = self.requirements(field("dependencies"), "dependencies");
        let optional_dependencies =
            self.requirements(field("optional_dependencies"), "optional_dependencies");
        let conflicts = self.requirements(field("conflicts"), "conflicts");
        let load_after = self.id_list(field("load_after"), "load_after");
        let load_before = self.id_list(field("load_before"), "load_before");
        let settings =
            field("settings").map_or_else(serde_json::Map::new, |node| match node.to_json() {
                serde_json::Value::Object(settings) => settings,
                _ => {
                    self.error(
                        node.span.clone(),
                        format!("`settings` must be an object, not {}", node.value.kind()),
                        None,
                    );
                    serde_json::Map::new()
                }
            });
        // Which permissions exist is the game's API's to say: the pack checks them.
        let permissions = field("permissions")
            .map_or_else(Vec::new, |node| self.string_list("permissions", node));

        if self.has_errors() {
            return None;
        }
        let (id, id_span) = id?;
        Some(Manifest {
            id,
            id_span,
            name: name?,
            version: version?,
            entry_point: entry_point?,
            priority: priority?,
            description,
            authors,
            host,
            dependencies,
            optional_dependencies,
            conflicts,
            load_after,
            load_before,
            settings,
            permissions,
        })
    }

    fn unknown_fields(&mut self, entries: &[(Key, Node)]) {
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in entries {
            if seen.contains(&key.name.as_str()) {
                self.error(
                    key.span.clone(),
                    format!("`{}` is given twice", key.name),
                    None,
                );
            }
            seen.push(&key.name);
            if fields::find(&key.name).is_some() {
                continue;
            }
            let hint =
                crate::suggest::did_you_mean(&key.name, FIELDS.iter().map(|field| field.name));
            self.report(
                Code::UnknownField,
                key.span.clone(),
                format!("unknown field `{}` is ignored", key.name),
                hint,
            );
        }
    }

    fn string(&mut self, field: &str, node: &Node) -> Option<String> {
        match &node.value {
            Value::String(value) => Some(value.clone()),
            other => {
                // `version = 0.1` in TOML is a number: say how to write it.
                let written = match other {
                    Value::Integer(number) => Some(number.to_string()),
                    Value::Float(number) => Some(number.to_string()),
                    _ => None,
                };
                let hint = written.map(|number| {
                    let meant = match field {
                        "version" => {
                            let parts = number.split('.').count();
                            number.clone() + &".0".repeat(3usize.saturating_sub(parts))
                        }
                        _ => number,
                    };
                    format!("write it as a string: \"{meant}\"")
                });
                self.error(
                    node.span.clone(),
                    format!("`{field}` must be a string, not {}", other.kind()),
                    hint,
                );
                None
            }
        }
    }

    fn non_empty_string(&mut self, field: &str, node: &Node) -> Option<String> {
        let value = self.string(field, node)?;
        if value.trim().is_empty() {
            self.error(node.span.clone(), format!("`{field}` is empty"), None);
            return None;
        }
        Some(value)
    }

    fn integer(&mut self, field: &str, node: &Node) -> Option<i64> {
        match node.value {
            Value::Integer(value) => Some(value),
            ref other => {
                self.error(
                    node.span.clone(),
                    format!("`{field}` must be an integer, not {}", other.kind()),
                    None,
                );
                None
            }
        }
    }

    fn id(&mut self, node: &Node) -> Option<String> {
        let id = self.string("id", node)?;
        if is_valid_id(&id) {
            return Some(id);
        }
        self.error(
            node.span.clone(),
            format!("`{id}` is not a valid mod id"),
            Some("an id is 1 to 64 of lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit".to_owned()),
        );
        None
    }

    fn version(&mut self, node: &Node) -> Option<semver::Version> {
        let text = self.string("version", node)?;
        match semver::Version::parse(&text) {
            Ok(version) => Some(version),
            Err(error) => {
                self.error(
                    node.span.clone(),
                    format!("`{text}` is not a semver version: {error}"),
                    Some("write a full version such as `1.0.0`".to_owned()),
                );
                None
            }
        }
    }

    fn requirement(&mut self, field: &str, node: &Node) -> Option<semver::VersionReq> {
        let text = self.string(field, node)?;
        match semver::VersionReq::parse(&text) {
            Ok(requirement) => Some(requirement),
            Err(error) => {
                self.error(
                    node.span.clone(),
                    format!("`{text}` is not a semver requirement: {error}"),
                    Some("write a range such as `^1.2`, `>=0.3, <2` or `*`".to_owned()),
                );
                None
            }
        }
    }

    fn requirements(&mut self, node: Option<&Node>, field: &str) -> Vec<Requirement> {
        let Some(node) = node else {
            return Vec::new();
        };
        let Value::Table(entries) = &node.value else {
            self.error(
                node.span.clone(),
                format!(
                    "`{field}` must be an object of mod id to version requirement, not {}",
                    node.value.kind()
                ),
                Some(format!(
                    "for example `\"{field}\": {{ \"core-lib\": \"^1.2\" }}`"
                )),
            );
            return Vec::new();
        };
        let mut requirements = Vec::new();
        for (key, value) in entries {
            let valid_id = self.referenced_id(&key.name, key.span.clone());
            let version = self.requirement(&format!("{field}.{}", key.name), value);
            if let (true, Some(version)) = (valid_id, version) {
                requirements.push(Requirement {
                    id: key.name.clone(),
                    version,
                    span: key.span.start..value.span.end,
                });
            }
        }
        requirements
    }

    fn string_list(&mut self, field: &str, node: &Node) -> Vec<Spanned<String>> {
        let Value::Array(items) = &node.value else {
            self.error(
                node.span.clone(),
                format!(
                    "`{field}` must be an array of strings, not {}",
                    node.value.kind()
                ),
                None,
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                self.string(field, item).map(|value| Spanned {
                    value,
                    span: item.span.clone(),
                })
            })
            .collect()
    }

    fn id_list(&mut self, node: Option<&Node>, field: &str) -> Vec<Spanned<String>> {
        let Some(node) = node else {
            return Vec::new();
        };
        self.string_list(field, node)
            .into_iter()
            .filter(|id| self.referenced_id(&id.value, id.span.clone()))
            .collect()
    }

    fn referenced_id(&mut self, id: &str, span: Range<usize>) -> bool {
        if is_valid_id(id) {
            return true;
        }
        self.error(
            span,
            format!("`{id}` is not a valid mod id"),
            Some("mod ids are lowercase letters, digits, `.`, `_` and `-`".to_owned()),
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_json(text: &str) -> ManifestOutcome {
        parse_manifest(
            &SourceFile::new("mods/demo/manifest.json", text),
            ManifestFormat::Json,
            "demo",
        )
    }

    fn codes_and_messages(outcome: &ManifestOutcome) -> Vec<(Code, String)> {
        outcome
            .diagnostics
            .iter()
            .map(|diagnostic| (diagnostic.code, diagnostic.message.clone()))
            .collect()
    }

    const MINIMAL: &str = r#"{"name": "Demo", "version": "1.0.0", "entry_point": "main.js"}"#;

    #[test]
    fn a_minimal_manifest_takes_its_id_from_the_folder() {
        let outcome = check_json(MINIMAL);
        let manifest = outcome.manifest.expect("valid");
        assert_eq!(manifest.id, "demo");
        assert_eq!(manifest.id_span, None);
        assert_eq!(manifest.priority, 0);
        assert!(outcome.diagnostics.is_empty());
    }

    #[test]
    fn json_and_toml_give_the_same_manifest() {
        let toml = parse_manifest(
            &SourceFile::new(
                "mod.toml",
                "name = \"Demo\"\nversion = \"1.0.0\"\nentry_point = \"main.js\"\npriority = 3\n[dependencies]\ncore = \"^1.2\"\n",
            ),
            ManifestFormat::Toml,
            "demo",
        );
        let json = check_json(
            r#"{"name": "Demo", "version": "1.0.0", "entry_point": "main.js", "priority": 3, "dependencies": {"core": "^1.2"}}"#,
        );
        let (toml, json) = (toml.manifest.unwrap(), json.manifest.unwrap());
        assert_eq!(toml.dependencies[0].version, json.dependencies[0].version);
        assert_eq!(toml.priority, json.priority);
        assert_eq!(toml.id, json.id);
    }

    #[test]
    fn unknown_fields_warn_and_suggest_the_field_meant() {
        let outcome = check_json(
            r#"{"name": "Demo", "version": "1.0.0", "entry_point": "main.js", "dependecies": {}, "entryPoint": "x", "flavour": 1}"#,
        );
        assert!(outcome.manifest.is_some(), "warnings do not invalidate");
        let hints: Vec<_> = outcome
            .diagnostics
            .iter()
            .map(|diagnostic| (diagnostic.code, diagnostic.hint.clone()))
            .collect();
        assert_eq!(
            hints,
            [
                (
                    Code::UnknownField,
                    Some("did you mean `dependencies`?".to_owned())
                ),
                (
                    Code::UnknownField,
                    Some("did you mean `entry_point`?".to_owned())
                ),
                (Code::UnknownField, None),
            ]
        );
    }

    #[test]
    fn every_mistake_is_reported_at_once_with_its_position() {
        let text = "{\n  \"name\": 5,\n  \"version\": \"1.0\",\n  \"id\": \"Bad Id\",\n  \"dependencies\": {\"core\": \"not a range\"}\n}";
        let outcome = check_json(text);
        assert!(outcome.manifest.is_none());
        let lines: Vec<_> = outcome
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.location.as_ref().unwrap().line.unwrap())
            .collect();
        let messages = codes_and_messages(&outcome);
        assert_eq!(messages.len(), 5, "{messages:#?}");
        assert!(
            messages
                .iter()
                .all(|(code, _)| *code == Code::InvalidManifest)
        );
        assert!(messages[0].1.contains("`Bad Id` is not a valid mod id"));
        assert!(messages[1].1.contains("no `entry_point`"));
        assert!(
            messages[2]
                .1
                .contains("`name` must be a string, not an integer")
        );
        assert!(messages[3].1.contains("`1.0` is not a semver version"));
        assert!(
            messages[4]
                .1
                .contains("`not a range` is not a semver requirement")
        );
        assert_eq!(lines, [4, 1, 2, 3, 5]);
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let outcome = check_json("{\n  \"name\": \"x\",,\n}");
        let diagnostic = &outcome.diagnostics[0];
        assert_eq!(diagnostic.code, Code::InvalidManifest);
        let location = diagnostic.location.as_ref().unwrap();
        assert_eq!((location.line, location.column), (Some(2), Some(15)));
    }

    #[test]
    fn a_folder_name_that_is_no_id_needs_an_id_field() {
        let outcome = parse_manifest(
            &SourceFile::new("manifest.json", MINIMAL),
            ManifestFormat::Json,
            "My Mod",
        );
        assert!(outcome.manifest.is_none());
        assert!(
            outcome.diagnostics[0]
                .message
                .contains("`My Mod` is not a valid mod id")
        );
    }

    #[test]
    fn ids_follow_the_documented_pattern() {
        for valid in ["a", "0", "core-lib", "ui.theme_2", &"a".repeat(64)] {
            assert!(is_valid_id(valid), "{valid}");
        }
        for invalid in ["", "-a", ".a", "A", "my mod", "é", &"a".repeat(65)] {
            assert!(!is_valid_id(invalid), "{invalid}");
        }
    }

    #[test]
    fn a_bare_version_requirement_means_caret() {
        let outcome = check_json(
            r#"{"name": "D", "version": "1.0.0", "entry_point": "m.js", "dependencies": {"core": "1.2"}}"#,
        );
        let requirement = &outcome.manifest.unwrap().dependencies[0].version;
        assert!(requirement.matches(&semver::Version::new(1, 9, 0)));
        assert!(!requirement.matches(&semver::Version::new(2, 0, 0)));
    }

    proptest::proptest! {
        #[test]
        fn no_input_makes_validation_panic(text in "\\PC{0,200}", json in r#"\{("[a-z_]{1,12}": ("[^"]{0,8}"|[0-9.e-]{1,6}|\[\]|\{\}|null|true), ?){0,6}\}"#) {
            for format in ManifestFormat::ALL {
                for input in [&text, &json] {
                    let outcome = parse_manifest(&SourceFile::new("m", input.as_str()), format, "folder");
                    // A manifest comes back exactly when there is no error.
                    proptest::prop_assert_eq!(
                        outcome.manifest.is_some(),
                        !outcome.diagnostics.iter().any(Diagnostic::is_error)
                    );
                }
            }
        }
    }
}
