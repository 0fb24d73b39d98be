//! How deep a TypeScript source can drive a recursive parser, measured before parsing.
//!
//! swc's parser, its type stripper and the syntax tree's destructor all recurse once per level
//! of nesting: `A<A<…>>`, `((((…))))`, `[[[…]]]`, nested object types, `x => x => …`,
//! `!!!!x`. Past a few thousand levels that is a stack overflow, which aborts the process, and
//! no error can be caught on the way. QuickJS and Lua measure their own stack and fail cleanly;
//! for swc, this scan bounds the depth from the text alone, so that a file nested too deep is a
//! syntax error at the place it got too deep, whatever its size.
//!
//! The bound counts, at each point of the file, the brackets open there (`(`, `[`, `{`, `${`)
//! plus, since the last `;` or `,` at each of those levels, the constructs swc parses by
//! recursing: type arguments, arrows, conditionals, assignments, prefix operators and type
//! operators. Long flat chains (`a + b + …`, `a.b.c…`, unions) swc parses in a loop, and they
//! are not counted. The bound may overcount (a `<` that compares counts as type arguments), so
//! the limit is far above what real code reaches.

/// The deepest nesting a TypeScript file may have. Real code stays below a few hundred; the
/// parser handles this many levels with room to spare on every thread that parses (the
/// command line's, and `check`'s workers).
pub(super) const MAX_NESTING: usize = 2_000;

/// Where a source first nests deeper than `limit`: the byte offset, if it does.
pub(super) fn too_deep(source: &str, limit: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    // Per open bracket: the operators read at that level since the last `;` or `,`.
    let mut levels: Vec<Level> = vec![Level::default()];
    let mut depth = 0usize;
    let mut at = 0;
    let mut previous = b';';
    while at < bytes.len() {
        if depth > limit {
            return Some(at);
        }
        let byte = bytes[at];
        match byte {
            b'/' if bytes.get(at + 1) == Some(&b'/') => {
                at = find(bytes, at, b"\n").unwrap_or(bytes.len());
                continue;
            }
            b'/' if bytes.get(at + 1) == Some(&b'*') => {
                at = find(bytes, at + 2, b"*/").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            b'"' | b'\'' => {
                at = end_of_string(bytes, at, byte);
                previous = b'"';
                continue;
            }
            b'`' => {
                at = template_text(bytes, at + 1, &mut levels, &mut depth);
                previous = b'"';
                continue;
            }
            b'/' if starts_regex(previous) => {
                at = end_of_regex(bytes, at);
                previous = b'"';
                continue;
            }
            b'(' | b'[' | b'{' => {
                levels.push(Level::default());
                depth += 1;
            }
            b')' | b']' | b'}' if levels.len() > 1 => {
                let closed = levels.pop().unwrap_or_default();
                depth -= 1 + closed.operators;
                if closed.template && byte == b'}' {
                    at = template_text(bytes, at + 1, &mut levels, &mut depth);
                    previous = b'"';
                    continue;
                }
            }
            b';' | b',' => {
                if let Some(level) = levels.last_mut() {
                    depth -= level.operators;
                    level.operators = 0;
                }
            }
            // What swc parses by recursing: type arguments (`A<…>`), arrows, the conditional
            // `?`, assignment, and prefix operators. Binary operators, member chains and
            // unions it parses in a loop, whatever their length: they are not counted.
            b'<' | b'?' | b'!' | b'~' => count(&mut levels, &mut depth),
            b'=' if bytes.get(at + 1) == Some(&b'>') => {
                count(&mut levels, &mut depth);
                at += 1;
            }
            b'=' if bytes.get(at + 1) != Some(&b'=') && !b"=!<>".contains(&previous) => {
                count(&mut levels, &mut depth);
            }
            b'+' | b'-' if PREFIX_AFTER.contains(&previous) => count(&mut levels, &mut depth),
            byte if byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$' => {
                let end = at
                    + bytes[at..]
                        .iter()
                        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$'))
                        .unwrap_or(bytes.len() - at);
                if PREFIX_WORDS.contains(&&bytes[at..end]) {
                    count(&mut levels, &mut depth);
                }
                previous = b'a';
                at = end;
                continue;
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            previous = byte;
        }
        at += 1;
    }
    (depth > limit).then_some(bytes.len())
}

/// Words that nest what follows them: prefix operators and type operators.
const PREFIX_WORDS: &[&[u8]] = &[
    b"typeof",
    b"keyof",
    b"void",
    b"delete",
    b"await",
    b"yield",
    b"new",
    b"infer",
    b"readonly",
    b"unique",
    b"extends",
    b"asserts",
    b"is",
];

/// After these, `+` and `-` are prefix operators rather than binary ones.
const PREFIX_AFTER: &[u8] = b"([{,;=:?!~+-*/%&|^<>";

/// One more level of recursion in the innermost open bracket.
fn count(levels: &mut [Level], depth: &mut usize) {
    if let Some(level) = levels.last_mut() {
        level.operators += 1;
        *depth += 1;
    }
}

#[derive(Default)]
struct Level {
    /// Whether this level is a template's `${`.
    template: bool,
    operators: usize,
}

enum TemplateEnd {
    /// The template ended; the offset after its closing backtick.
    Closed(usize),
    /// A `${` opened; the offset after it.
    Substitution(usize),
}

/// Reads a template's text from `at` (after its backtick, or after a substitution's `}`):
/// past its end, or into a `${`, which opens a level whose `}` comes back here. The offset to
/// go on from.
fn template_text(bytes: &[u8], at: usize, levels: &mut Vec<Level>, depth: &mut usize) -> usize {
    match end_of_template_text(bytes, at) {
        TemplateEnd::Closed(after) => after,
        TemplateEnd::Substitution(after) => {
            levels.push(Level {
                template: true,
                operators: 0,
            });
            *depth += 1;
            after
        }
    }
}

fn end_of_template_text(bytes: &[u8], mut at: usize) -> TemplateEnd {
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'`' => return TemplateEnd::Closed(at + 1),
            b'$' if bytes.get(at + 1) == Some(&b'{') => return TemplateEnd::Substitution(at + 2),
            _ => at += 1,
        }
    }
    TemplateEnd::Closed(bytes.len())
}

/// The offset after a string opened by `quote` at `at` (a string ends at its line's end too).
fn end_of_string(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'\n' => return at,
            byte if byte == quote => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Whether a `/` after `previous` (the last byte that was not blank) starts a regular
/// expression rather than dividing: after a value (a word, a number, a closing bracket, a
/// string) it divides.
fn starts_regex(previous: u8) -> bool {
    !(previous.is_ascii_alphanumeric()
        || matches!(previous, b')' | b']' | b'}' | b'"' | b'_' | b'$'))
}

/// The offset after a regular expression literal starting at `start` (it ends at its line's
/// end too).
fn end_of_regex(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    let mut in_class = false;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'\n' => return at,
            b'[' => {
                in_class = true;
                at += 1;
            }
            b']' => {
                in_class = false;
                at += 1;
            }
            b'/' if !in_class => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_code_is_far_from_the_limit() {
        let code = r#"
            import { type A } from "./a";
            export function f<T extends Record<string, number>>(x: T, y = `a ${x} b ${`c ${1}`}`): T[] {
                const re = /[(\[{]/g; // ((((
                /* [[[[ */
                return [x].map((v) => ({ ...v, n: (v as any)?.n ?? 0 })).filter(Boolean) as T[];
            }
        "#;
        assert_eq!(too_deep(code, 100), None);
    }

    #[test]
    fn every_kind_of_deep_nesting_is_caught() {
        let deep = 100_000;
        for source in [
            format!(
                "let x: {}number{} = 1;",
                "A<".repeat(deep),
                ">".repeat(deep)
            ),
            format!("let x = {}1{};", "(".repeat(deep), ")".repeat(deep)),
            format!("let x = {}{};", "[".repeat(deep), "]".repeat(deep)),
            format!("type T = {}{};", "{ a: ".repeat(deep), "}".repeat(deep)),
            format!("let f = {}1;", "x => ".repeat(deep)),
            format!("let b = {}x;", "!".repeat(deep)),
            format!("let t = {}1{};", "`${".repeat(deep), "}`".repeat(deep)),
            format!("type K = {}T;", "keyof ".repeat(deep)),
            format!("type F = {}void;", "() => ".repeat(deep)),
            format!("let t = {}c;", "a ? b : ".repeat(deep)),
            format!("let q; {}1;", "q = ".repeat(deep)),
            format!("let n = {}1;", "- ".repeat(deep)),
        ] {
            let at = too_deep(&source, MAX_NESTING).expect("caught");
            assert!(
                at < source.len() / 2,
                "caught late, at {at}: {}",
                &source[..20]
            );
        }
    }

    #[test]
    fn flat_chains_of_any_length_pass() {
        let long = 100_000;
        for source in [
            format!("let s = {}1;", "1 + ".repeat(long)),
            format!("type U = {}'b';", "'a' | ".repeat(long)),
            format!("let m = a{};", ".b".repeat(long)),
            format!("let a = [{}];", "1, ".repeat(long)),
            format!("f({});", "x - 1, ".repeat(long)),
        ] {
            assert_eq!(too_deep(&source, MAX_NESTING), None, "{}", &source[..30]);
        }
    }

    #[test]
    fn brackets_in_strings_comments_and_regexes_do_not_count() {
        let many = "(".repeat(5_000);
        for source in [
            format!("const s = \"{many}\";"),
            format!("const s = '{many}';"),
            format!("const s = `{many}`;"),
            format!("// {many}\nconst x = 1;"),
            format!("/* {many} */ const x = 1;"),
            format!("const r = /{}/;", "\\(".repeat(5_000)),
        ] {
            assert_eq!(too_deep(&source, MAX_NESTING), None, "{}", &source[..40]);
        }
    }
}
