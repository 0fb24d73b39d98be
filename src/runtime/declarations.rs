//! The functions a script defines at its top level, found by reading it without running it,
//! so that `modhost check` names a misspelled hook with its line (running the mod finds only
//! the names). A declaration starts a line and has its name on that line, as top-level ones do
//! in every style guide; one inside a block comment or a string is taken as written.
//!
//! Each line is read with a cursor rather than a regular expression: `check` reads every
//! script of a pack, and the two expressions these forms were written as (Unicode classes,
//! a word boundary, captures) cost about a microsecond a line, as much as compiling a small
//! mod, and 12 ms to build in every process.

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
    found(source, |line| {
        let function = line.clone().javascript_function();
        function.or_else(|| line.javascript_assignment())
    })
}

/// `function onAttach(`, `function mod.onAttach(`, `function M:onAttach(`, and
/// `mod.onAttach = function` in Lua (a `local function` is no hook).
pub(crate) fn lua(source: &str) -> Vec<Declared> {
    found(source, |line| {
        let function = line.clone().lua_function();
        function.or_else(|| line.lua_assignment())
    })
}

/// The declarations `declared` finds, a line at a time (its range is the name's, in the line).
fn found(
    source: &str,
    declared: impl Fn(Cursor<'_>) -> Option<std::ops::Range<usize>>,
) -> Vec<Declared> {
    let mut declarations = Vec::new();
    let mut start = 0;
    for line in source.split_inclusive('\n') {
        if let Some(name) = declared(Cursor { line, at: 0 }) {
            declarations.push(Declared {
                name: line[name.clone()].to_owned(),
                span: start + name.start..start + name.end,
            });
        }
        start += line.len();
    }
    declarations
}

/// A place in one line, moved forward by what it reads.
#[derive(Clone)]
struct Cursor<'a> {
    line: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn rest(&self) -> &str {
        &self.line[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Reads `text` if the line goes on with it.
    fn eat(&mut self, text: &str) -> bool {
        let found = self.rest().starts_with(text);
        if found {
            self.at += text.len();
        }
        found
    }

    /// Reads white space; whether there was any.
    fn spaces(&mut self) -> bool {
        let before = self.at;
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
        self.at > before
    }

    /// Runs `read`, and moves back to where it started when it fails.
    fn attempt(&mut self, read: impl FnOnce(&mut Self) -> bool) -> bool {
        let before = self.at;
        let read = read(self);
        if !read {
            self.at = before;
        }
        read
    }

    /// Reads the word `word`, which white space must follow.
    fn keyword(&mut self, word: &str) -> bool {
        self.attempt(|cursor| cursor.eat(word) && cursor.spaces())
    }

    /// Reads `word` if no letter, digit or `_` follows it.
    fn whole_word(&mut self, word: &str) -> bool {
        self.attempt(|cursor| cursor.eat(word) && !cursor.peek().is_some_and(is_word))
    }

    /// Reads a name that starts with an ASCII letter, `_` or one of `also`, and goes on with
    /// letters, digits, `_` or `also`; its range.
    fn name(&mut self, also: &[char]) -> Option<std::ops::Range<usize>> {
        let start = self.at;
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == '_' || also.contains(&first)) {
            return None;
        }
        let rest = self.rest();
        let length = rest
            .find(|c: char| !(is_word(c) || also.contains(&c)))
            .unwrap_or(rest.len());
        self.at += length;
        Some(start..self.at)
    }

    /// `function name(` and `function a.b:name(`.
    fn lua_function(mut self) -> Option<std::ops::Range<usize>> {
        if !self.keyword("function") {
            return None;
        }
        let mut name = self.name(&[])?;
        while self.eat(".") || self.eat(":") {
            name = self.name(&[])?;
        }
        self.spaces();
        self.eat("(").then_some(name)
    }

    /// `name = function` and `table.name = function`.
    fn lua_assignment(mut self) -> Option<std::ops::Range<usize>> {
        let mut name = self.name(&[])?;
        if self.eat(".") {
            name = self.name(&[])?;
        }
        self.spaces();
        (self.eat("=") && {
            self.spaces();
            self.whole_word("function")
        })
        .then_some(name)
    }

    /// `[export] [async] function[*] name(` (or `name<` for TypeScript's type parameters).
    fn javascript_function(mut self) -> Option<std::ops::Range<usize>> {
        self.keyword("export");
        self.keyword("async");
        if !self.whole_word("function") {
            return None;
        }
        self.spaces();
        self.eat("*");
        self.spaces();
        let name = self.name(&['$'])?;
        self.spaces();
        (self.eat("(") || self.eat("<")).then_some(name)
    }

    /// `var name = function`, `export const name = (` and `export let name: Type = x =>`.
    fn javascript_assignment(mut self) -> Option<std::ops::Range<usize>> {
        let declares = if self.keyword("export") {
            ["const", "let", "var"]
                .iter()
                .any(|word| self.keyword(word))
        } else {
            self.keyword("var")
        };
        if !declares {
            return None;
        }
        let name = self.name(&['$'])?;
        self.spaces();
        if self.eat(":") {
            // A type: anything up to the `=`, at least one character.
            let typed = self.rest().find('=').filter(|&length| length > 0)?;
            self.at += typed;
        }
        if !self.eat("=") {
            return None;
        }
        self.spaces();
        // `async` may start the function (`async () =>`) or be its parameter (`async => 1`).
        let mut after_async = self.clone();
        let is_function =
            (after_async.keyword("async") && after_async.function_value()) || self.function_value();
        is_function.then_some(name)
    }

    /// `function`, `(` or `x =>`: what a function assigned to a name starts with.
    fn function_value(mut self) -> bool {
        if self.whole_word("function") || self.eat("(") {
            return true;
        }
        self.name(&['$']).is_some() && {
            self.spaces();
            self.eat("=>")
        }
    }
}

/// A character of a word, as the forms above read one.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
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
    fn typed_and_async_javascript_assignments_are_found_and_calls_are_not() {
        let source = "export const onAttach: Hook<State> = (state) => {};
export let onTick = async () => {};
var onSave = async function () {};
var handler = async => 1;
var count = 0;
functional();
export default function onDetach() {}
exports.onReload = function () {};
";
        assert_eq!(
            names(javascript(source)),
            ["onAttach", "onTick", "onSave", "handler"]
        );
    }

    #[test]
    fn top_level_lua_functions_are_found_and_locals_are_not() {
        let source = "local mod = {}\nfunction mod.on_attach() end\nfunction onDetach()\n  function nested() end\nend\nfunction M:onReload() end\nmod.onBootstrap = function() end\nlocal function helper() end\nreturn mod\n";
        assert_eq!(
            names(lua(source)),
            ["on_attach", "onDetach", "onReload", "onBootstrap"]
        );
        let source = "mod.a.b = function() end\nx = functional\nlocal y = function() end\nfunction  spaced ( ) end\n";
        assert_eq!(names(lua(source)), ["spaced"]);
        let spans = lua(source);
        assert_eq!(&source[spans[0].span.clone()], "spaced");
    }
}
