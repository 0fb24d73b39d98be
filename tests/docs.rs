//! Every example in the docs works: JavaScript and Lua blocks compile, JSON and TOML
//! manifests validate, TOML configuration parses. (Rust blocks run as doc tests.)

use std::path::{Path, PathBuf};

use modhost::Code;
use modhost::Config;
use modhost::Language;
use modhost::SourceFile;
use modhost::internal::manifest::{ManifestFormat, parse_manifest};

/// README.md and every Markdown file of docs/.
fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// `(file, line, language, code)` for every fenced block of the Markdown docs.
fn blocks() -> Vec<(PathBuf, usize, String, String)> {
    let mut blocks = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("read doc");
        let mut open: Option<(usize, String, String)> = None;
        for (index, line) in text.lines().enumerate() {
            match (&mut open, line.strip_prefix("```")) {
                (None, Some(language)) => {
                    open = Some((index + 1, language.trim().to_owned(), String::new()))
                }
                (Some(_), Some(_)) => {
                    let (start, language, code) = open.take().expect("open block");
                    blocks.push((file.clone(), start, language, code));
                }
                (Some((_, _, code)), None) => {
                    code.push_str(line);
                    code.push('\n');
                }
                (None, None) => {}
            }
        }
    }
    blocks
}

#[test]
fn script_examples_compile() {
    let mut checked = 0;
    for (file, line, language, code) in blocks() {
        let extension = match language.as_str() {
            "js" | "javascript" => "js",
            "lua" => "lua",
            _ => continue,
        };
        let name = PathBuf::from(format!("example.{extension}"));
        let mut checker = Language::of_entry_point(&name)
            .expect("a known language")
            .backend()
            .syntax_checker()
            .expect("an engine");
        if let Err(error) = checker.check(&name, code.as_bytes()) {
            panic!(
                "{}:{line}: the {language} example does not compile: {error}\n{code}",
                file.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} script examples found");
}

#[test]
fn manifest_and_configuration_examples_are_valid() {
    let mut checked = 0;
    for (file, line, language, code) in blocks() {
        let at = format!("{}:{line}", file.display());
        match language.as_str() {
            "json" | "toml" if code.contains("entry_point") => {
                let format = if language == "json" {
                    ManifestFormat::Json
                } else {
                    ManifestFormat::Toml
                };
                let source = SourceFile::new(format.file_name(), code.as_str());
                let outcome = parse_manifest(&source, format, "example");
                assert!(
                    outcome.manifest.is_some(),
                    "{at}: {:#?}",
                    outcome.diagnostics
                );
                checked += 1;
            }
            // A `Cargo.toml` snippet is not modhost's configuration.
            "toml" if code.contains("[dependencies]") => {}
            "toml" => {
                if let Err(error) = Config::parse(SourceFile::new("config.toml", code.as_str())) {
                    panic!("{at}: the configuration example is invalid: {error}");
                }
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(
        checked >= 3,
        "only {checked} manifest and configuration examples found"
    );
}

#[test]
fn every_diagnostic_code_in_the_docs_exists() {
    let documented =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics.md"))
            .expect("read");
    for line in documented.lines().filter(|line| line.starts_with("## `")) {
        let code = line
            .trim_start_matches("## `")
            .split('`')
            .next()
            .unwrap_or_default();
        assert!(
            Code::ALL.iter().any(|known| known.as_str() == code),
            "docs/diagnostics.md documents unknown `{code}`"
        );
    }
}

#[test]
fn api_description_examples_are_valid() {
    let mut checked = 0;
    for (file, line, language, code) in blocks() {
        if language != "json" || !code.contains("\"functions\"") {
            continue;
        }
        if let Err(error) = modhost::GameApi::parse(SourceFile::new("game-api.json", code.as_str()))
        {
            panic!(
                "{}:{line}: the API description is invalid: {error:?}",
                file.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 1, "no API description example found");
}

#[test]
fn the_protocol_guide_documents_every_method() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/protocol.md"))
            .expect("docs/protocol.md");
    for method in modhost::internal::protocol::METHODS.iter().chain(&[
        "game/call",
        "events/event",
        "mods/state",
    ]) {
        assert!(
            guide.contains(&format!("\"method\":\"{method}\"")),
            "docs/protocol.md has no transcript of `{method}`"
        );
    }
}

/// The docs are read on GitHub as Markdown, not only by rustdoc: no hidden `# ` lines in
/// Rust examples, no intra-doc link that renders as a dead link, no placeholder address.
#[test]
fn the_docs_read_as_plain_markdown() {
    let mut problems = Vec::new();
    for (file, start, language, code) in blocks() {
        if language.starts_with("rust") {
            for (offset, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("# ") || line.trim() == "#" {
                    problems.push(format!(
                        "{}:{}: a rustdoc hidden line shows in Markdown: {line}",
                        file.display(),
                        start + 1 + offset
                    ));
                }
            }
        }
    }
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("read doc");
        for (index, line) in text.lines().enumerate() {
            for needle in ["]: crate::", "](crate::", "your-org"] {
                if line.contains(needle) {
                    problems.push(format!("{}:{}: {line}", file.display(), index + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
