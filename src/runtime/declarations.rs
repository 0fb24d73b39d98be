//! The functions a script defines at its top level, found by reading it without running it,
//! so that `modhost check` names a misspelled hook with its line (running the mod finds only
//! the names). A declaration starts a line and has its name on that line, as top-level ones do
//! in every style guide; one inside a block comment or a string is taken as written.

use std::sync::LazyLock;

use regex::Regex;

/// A function definition found in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    /// Where the name is, in bytes of the source.
    pub span: std::ops::Range<usize>,
}

/// `function onAttach(`, `export async function onAttach(`, `var onAttach = function`,
/// `export const onAttach = (` in JavaScript and TypeScript (a script's `let` and `const` are
/// not globals, so they are no hooks).
pub(crate) fn javascript(source: &str) -> Vec<Declared> {
    static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?m)^(?:export\s+)?(?:async\s+)?function\s*\*?\s*(?P<name>[A-Za-z_$][\w$]*)\s*[(<]",
            r"|^(?:export\s+(?:const|let|var)|var)\s+(?P<assigned>[A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)",
        ))
        .expect("a valid pattern")
    });
    found(&DECLARATION, source, |line| {
        ["function", "async", "export", "var"]
            .iter()
            .any(|keyword| line.starts_with(keyword))
    })
}

/// `function onAttach(`, `function mod.onAttach(`, `function M:onAttach(`, and
/// `mod.onAttach = function` in Lua (a `local function` is no hook).
pub(crate) fn lua(source: &str) -> Vec<Declared> {
    static DECLARATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?m)^function\s+(?:[A-Za-z_]\w*[.:])*(?P<name>[A-Za-z_]\w*)\s*\(",
            r"|^(?:[A-Za-z_]\w*\.)?(?P<assigned>[A-Za-z_]\w*)\s*=\s*function\b",
        ))
        .expect("a valid pattern")
    });
    found(&DECLARATION, source, |line| line.contains("function"))
}

/// The declarations `pattern` finds, line by line, on the lines `candidate` lets through: a
/// test of a prefix or a word, which most lines fail, is far cheaper than the pattern (`check`
/// reads every script of a pack).
fn found(pattern: &Regex, source: &str, candidate: impl Fn(&str) -> bool) -> Vec<Declared> {
    let mut declared = Vec::new();
    let mut start = 0;
    for line in source.split_inclusive('\n') {
        if candidate(line) {
            let found = pattern
                .captures(line)
                .and_then(|captures| captures.name("name").or_else(|| captures.name("assigned")));
            if let Some(name) = found {
                declared.push(Declared {
                    name: name.as_str().to_owned(),
                    span: start + name.start()..start + name.end(),
                });
            }
        }
        start += line.len();
    }
    declared
}

#[cfg(test)]
mod tests {
    use super::{javascript, lua};

    fn names(declared: Vec<super::Declared>) -> Vec<String> {
        declared.into_iter().map(|declared| declared.name).collect()
    }

    #[test]
    fn top_level_javascript_functions_are_found_and_nested_ones_are_not() {
        let source = "function onAtach() {\n  function inner() {}\n}\nexport async function onDetach() {}\nvar onReload = function () {};\nexport const onBootstrap = (state) => state;\nlet notAGlobal = () => 1;\nfunction* gen() {}\nfunction typed<T>(x: T) {}\n";
        assert_eq!(
            names(javascript(source)),
            [
                "onAtach",
                "onDetach",
                "onReload",
                "onBootstrap",
                "gen",
                "typed"
            ]
        );
        let spans = javascript(source);
        assert_eq!(&source[spans[0].span.clone()], "onAtach");
    }

    #[test]
    fn top_level_lua_functions_are_found_and_locals_are_not() {
        let source = "local mod = {}\nfunction mod.on_attach() end\nfunction onDetach()\n  function nested() end\nend\nfunction M:onReload() end\nmod.onBootstrap = function() end\nlocal function helper() end\nreturn mod\n";
        assert_eq!(
            names(lua(source)),
            ["on_attach", "onDetach", "onReload", "onBootstrap"]
        );
    }
}
