//! Lua 5.4's pattern matching, ported from `lstrlib.c` so that it can be interrupted.
//!
//! The C matcher backtracks without ever reaching the VM's instruction hook, so
//! `string.find(string.rep("a", 3000), ".-.-.-.-b")` would run for hours under any time limit.
//! This port follows the C code step for step (same classes, captures, anchors, `%b`, `%f`,
//! back references, the same error messages and the same depth limit) and asks the caller every
//! few thousand steps whether to go on. It works on bytes, as Lua strings are.

/// How many steps between two questions to the caller.
const STEPS_PER_CHECK: u32 = 4096;
/// Lua's `LUA_MAXCAPTURES`.
pub(super) const MAX_CAPTURES: usize = 32;
/// Lua's `MAXCCALLS`: how deep the matcher may recurse.
const MAX_DEPTH: u32 = 200;
const ESCAPE: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PatternError {
    /// The pattern is wrong, with Lua's own message.
    Malformed(String),
    /// The caller said to stop.
    Stopped,
}

/// A capture as the match left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Capture {
    /// Bytes `start..end` of the subject.
    Text(usize, usize),
    /// A position capture `()`: the 1-based position.
    Position(usize),
}

#[derive(Clone, Copy)]
enum Length {
    Unfinished,
    Position,
    Bytes(usize),
}

/// One match attempt's state (Lua's `MatchState`).
pub(super) struct Matcher<'a> {
    subject: &'a [u8],
    pattern: &'a [u8],
    depth: u32,
    captures: Vec<(usize, Length)>,
    steps: u32,
    go_on: &'a mut dyn FnMut() -> bool,
}

impl<'a> Matcher<'a> {
    pub(super) fn new(
        subject: &'a [u8],
        pattern: &'a [u8],
        go_on: &'a mut dyn FnMut() -> bool,
    ) -> Self {
        Matcher {
            subject,
            pattern,
            depth: MAX_DEPTH,
            captures: Vec::new(),
            steps: 0,
            go_on,
        }
    }

    /// Tries to match the pattern (from byte `pattern_start`) at subject position `start`;
    /// the end of the match on success.
    pub(super) fn match_at(
        &mut self,
        start: usize,
        pattern_start: usize,
    ) -> Result<Option<usize>, PatternError> {
        self.depth = MAX_DEPTH;
        self.captures.clear();
        self.do_match(start, pattern_start)
    }

    /// The captures of the last match, or the whole match when the pattern has none.
    pub(super) fn captures(
        &self,
        start: usize,
        end: usize,
        whole_if_none: bool,
    ) -> Result<Vec<Capture>, PatternError> {
        if self.captures.is_empty() && whole_if_none {
            return Ok(vec![Capture::Text(start, end)]);
        }
        (0..self.captures.len())
            .map(|index| self.capture(index, start, end))
            .collect()
    }

    /// Capture `index` (Lua's `get_onecapture`); index 0 without captures is the whole match.
    pub(super) fn capture(
        &self,
        index: usize,
        start: usize,
        end: usize,
    ) -> Result<Capture, PatternError> {
        if index >= self.captures.len() {
            if index != 0 {
                return Err(malformed(format!("invalid capture index %{}", index + 1)));
            }
            return Ok(Capture::Text(start, end));
        }
        let (init, length) = self.captures[index];
        match length {
            Length::Unfinished => Err(malformed("unfinished capture".to_owned())),
            Length::Position => Ok(Capture::Position(init + 1)),
            Length::Bytes(length) => Ok(Capture::Text(init, init + length)),
        }
    }

    fn byte(&self, at: usize) -> u8 {
        self.pattern.get(at).copied().unwrap_or(0)
    }

    fn step(&mut self) -> Result<(), PatternError> {
        self.steps += 1;
        if self.steps >= STEPS_PER_CHECK {
            self.steps = 0;
            if !(self.go_on)() {
                return Err(PatternError::Stopped);
            }
        }
        Ok(())
    }

    fn do_match(&mut self, subject: usize, pattern: usize) -> Result<Option<usize>, PatternError> {
        if self.depth == 0 {
            return Err(malformed("pattern too complex".to_owned()));
        }
        self.depth -= 1;
        let result = self.match_here(subject, pattern);
        self.depth += 1;
        result
    }

    fn match_here(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>, PatternError> {
        loop {
            self.step()?;
            if p == self.pattern.len() {
                return Ok(Some(s));
            }
            match self.pattern[p] {
                b'(' => {
                    return if self.byte(p + 1) == b')' {
                        self.start_capture(s, p + 2, Length::Position)
                    } else {
                        self.start_capture(s, p + 1, Length::Unfinished)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == self.pattern.len() => {
                    return Ok((s == self.subject.len()).then_some(s));
                }
                ESCAPE if self.byte(p + 1) == b'b' => match self.match_balance(s, p + 2)? {
                    Some(after) => {
                        s = after;
                        p += 4;
                        continue;
                    }
                    None => return Ok(None),
                },
                ESCAPE if self.byte(p + 1) == b'f' => {
                    p += 2;
                    if self.byte(p) != b'[' {
                        return Err(malformed("missing '[' after '%f' in pattern".to_owned()));
                    }
                    let class_end = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.subject[s - 1] };
                    let current = self.subject.get(s).copied().unwrap_or(0);
                    if !self.bracket_class(previous, p, class_end - 1)
                        && self.bracket_class(current, p, class_end - 1)
                    {
                        p = class_end;
                        continue;
                    }
                    return Ok(None);
                }
                ESCAPE if self.byte(p + 1).is_ascii_digit() => {
                    match self.match_back_reference(s, self.byte(p + 1))? {
                        Some(after) => {
                            s = after;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                _ => {
                    let class_end = self.class_end(p)?;
                    let quantifier = self.byte(class_end);
                    if !self.single_match(s, p, class_end) {
                        if matches!(quantifier, b'*' | b'?' | b'-') {
                            p = class_end + 1;
                            continue;
                        }
                        return Ok(None);
                    }
                    match quantifier {
                        b'?' => {
                            if let Some(end) = self.do_match(s + 1, class_end + 1)? {
                                return Ok(Some(end));
                            }
                            p = class_end + 1;
                        }
                        b'+' => return self.max_expand(s + 1, p, class_end),
                        b'*' => return self.max_expand(s, p, class_end),
                        b'-' => return self.min_expand(s, p, class_end),
                        _ => {
                            s += 1;
                            p = class_end;
                        }
                    }
                }
            }
        }
    }

    /// Where the single-character class at `p` ends (Lua's `classEnd`).
    fn class_end(&self, mut p: usize) -> Result<usize, PatternError> {
        let first = self.byte(p);
        p += 1;
        match first {
            ESCAPE => {
                if p >= self.pattern.len() {
                    return Err(malformed("malformed pattern (ends with '%')".to_owned()));
                }
                Ok(p + 1)
            }
            b'[' => {
                if self.byte(p) == b'^' {
                    p += 1;
                }
                loop {
                    if p >= self.pattern.len() {
                        return Err(malformed("malformed pattern (missing ']')".to_owned()));
                    }
                    let c = self.pattern[p];
                    p += 1;
                    if c == ESCAPE && p < self.pattern.len() {
                        p += 1;
                    }
                    if self.byte(p) == b']' {
                        return Ok(p + 1);
                    }
                }
            }
            _ => Ok(p),
        }
    }

    fn single_match(&self, s: usize, p: usize, class_end: usize) -> bool {
        let Some(&c) = self.subject.get(s) else {
            return false;
        };
        match self.pattern[p] {
            b'.' => true,
            ESCAPE => class_matches(c, self.byte(p + 1)),
            b'[' => self.bracket_class(c, p, class_end - 1),
            literal => literal == c,
        }
    }

    /// Whether `c` is in the set `[...]` from `p` to `end` (the closing bracket).
    fn bracket_class(&self, c: u8, mut p: usize, end: usize) -> bool {
        let mut found = true;
        if self.byte(p + 1) == b'^' {
            found = false;
            p += 1;
        }
        p += 1;
        while p < end {
            let here = self.pattern[p];
            if here == ESCAPE {
                p += 1;
                if class_matches(c, self.byte(p)) {
                    return found;
                }
            } else if self.byte(p + 1) == b'-' && p + 2 < end {
                if here <= c && c <= self.pattern[p + 2] {
                    return found;
                }
                p += 2;
            } else if here == c {
                return found;
            }
            p += 1;
        }
        !found
    }

    fn match_balance(&mut self, mut s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        if p + 1 >= self.pattern.len() {
            return Err(malformed(
                "malformed pattern (missing arguments to '%b')".to_owned(),
            ));
        }
        let (open, close) = (self.pattern[p], self.pattern[p + 1]);
        if self.subject.get(s) != Some(&open) {
            return Ok(None);
        }
        let mut depth = 1;
        s += 1;
        while s < self.subject.len() {
            self.step()?;
            let c = self.subject[s];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(s + 1));
                }
            } else if c == open {
                depth += 1;
            }
            s += 1;
        }
        Ok(None)
    }

    fn max_expand(
        &mut self,
        s: usize,
        p: usize,
        class_end: usize,
    ) -> Result<Option<usize>, PatternError> {
        let mut count = 0;
        while self.single_match(s + count, p, class_end) {
            self.step()?;
            count += 1;
        }
        loop {
            if let Some(end) = self.do_match(s + count, class_end + 1)? {
                return Ok(Some(end));
            }
            if count == 0 {
                return Ok(None);
            }
            count -= 1;
        }
    }

    fn min_expand(
        &mut self,
        mut s: usize,
        p: usize,
        class_end: usize,
    ) -> Result<Option<usize>, PatternError> {
        loop {
            if let Some(end) = self.do_match(s, class_end + 1)? {
                return Ok(Some(end));
            }
            if !self.single_match(s, p, class_end) {
                return Ok(None);
            }
            s += 1;
        }
    }

    fn start_capture(
        &mut self,
        s: usize,
        p: usize,
        length: Length,
    ) -> Result<Option<usize>, PatternError> {
        if self.captures.len() >= MAX_CAPTURES {
            return Err(malformed("too many captures".to_owned()));
        }
        self.captures.push((s, length));
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.captures.pop();
        }
        Ok(result)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>, PatternError> {
        let Some(open) = self
            .captures
            .iter()
            .rposition(|(_, length)| matches!(length, Length::Unfinished))
        else {
            return Err(malformed("invalid pattern capture".to_owned()));
        };
        self.captures[open].1 = Length::Bytes(s - self.captures[open].0);
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.captures[open].1 = Length::Unfinished;
        }
        Ok(result)
    }

    fn match_back_reference(&mut self, s: usize, digit: u8) -> Result<Option<usize>, PatternError> {
        // `%0` is index -1: invalid, named as Lua names it.
        let index = i32::from(digit) - i32::from(b'1');
        let found = usize::try_from(index)
            .ok()
            .and_then(|index| self.captures.get(index));
        let (init, length) = match found {
            Some((init, Length::Bytes(length))) => (*init, *length),
            // A position capture has no text to repeat: Lua's length check never passes.
            Some((_, Length::Position)) => return Ok(None),
            _ => return Err(malformed(format!("invalid capture index %{}", index + 1))),
        };
        let wanted = &self.subject[init..init + length];
        Ok(self.subject[s..].starts_with(wanted).then_some(s + length))
    }
}

/// Lua's `match_class`: `%a`, `%d`, … (upper case negates); any other byte stands for itself.
fn class_matches(c: u8, class: u8) -> bool {
    let matched = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => c == b' ' || (b'\t'..=b'\r').contains(&c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        // Deprecated since Lua 5.2, still accepted by 5.4 and used by libraries written for it.
        b'z' => c == 0,
        _ => return class == c,
    };
    if class.is_ascii_uppercase() {
        !matched
    } else {
        matched
    }
}

fn malformed(message: String) -> PatternError {
    PatternError::Malformed(message)
}

/// Whether the pattern has no special characters (a plain search will do).
pub(super) fn is_plain(pattern: &[u8]) -> bool {
    !pattern.iter().any(|byte| SPECIALS.contains(byte))
}

/// Lua's `string.find` and `string.match` core: the first match at or after `init` (0-based);
/// an anchored pattern (`^…`) only tries `init`.
pub(super) fn find(
    subject: &[u8],
    pattern: &[u8],
    init: usize,
    go_on: &mut dyn FnMut() -> bool,
) -> Result<Option<(usize, usize, Vec<Capture>)>, PatternError> {
    let anchored = pattern.first() == Some(&b'^');
    let start = usize::from(anchored);
    let mut matcher = Matcher::new(subject, pattern, go_on);
    let mut at = init;
    loop {
        if let Some(end) = matcher.match_at(at, start)? {
            let captures = matcher.captures(at, end, false)?;
            return Ok(Some((at, end, captures)));
        }
        at += 1;
        if anchored || at > subject.len() {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(subject: &str, pattern: &str) -> Option<(usize, usize, Vec<String>)> {
        let mut go_on = || true;
        find(subject.as_bytes(), pattern.as_bytes(), 0, &mut go_on)
            .unwrap()
            .map(|(start, end, captures)| {
                let captures = captures
                    .into_iter()
                    .map(|capture| match capture {
                        Capture::Text(from, to) => subject[from..to].to_owned(),
                        Capture::Position(at) => format!("@{at}"),
                    })
                    .collect();
                (start + 1, end, captures)
            })
    }

    #[test]
    fn it_matches_as_lua_does() {
        // Each expectation is what Lua 5.4's string.find returns.
        assert_eq!(first("hello world", "o w"), Some((5, 7, vec![])));
        assert_eq!(first("hello", "l+"), Some((3, 4, vec![])));
        assert_eq!(
            first("  trim me  ", "^%s*(.-)%s*$"),
            Some((1, 11, vec!["trim me".to_owned()]))
        );
        assert_eq!(
            first("key = value", "(%w+)%s*=%s*(%w+)"),
            Some((1, 11, vec!["key".to_owned(), "value".to_owned()]))
        );
        assert_eq!(first("f(a(b)c)d", "%b()"), Some((2, 8, vec![])));
        assert_eq!(first("THE (quick) fox", "%f[%a]%a+"), Some((1, 3, vec![])));
        assert_eq!(
            first("hello", "()ll()"),
            Some((3, 4, vec!["@3".to_owned(), "@5".to_owned()]))
        );
        assert_eq!(
            first("abcabc", "(abc)%1"),
            Some((1, 6, vec!["abc".to_owned()]))
        );
        assert_eq!(
            first("x = [[a]]", "%[%[(.-)%]%]"),
            Some((5, 9, vec!["a".to_owned()]))
        );
        assert_eq!(first("abc", "[^a]+"), Some((2, 3, vec![])));
        assert_eq!(first("a-z", "[%-]"), Some((2, 2, vec![])));
        assert_eq!(first("2024", "^%d%d%d%d$"), Some((1, 4, vec![])));
        assert_eq!(first("abc", "^b"), None);
        assert_eq!(first("", "x*"), Some((1, 0, vec![])));
        assert_eq!(first("aaa", "a-b"), None);
        assert_eq!(first("hello", "l?lo"), Some((3, 5, vec![])));
    }

    #[test]
    fn malformed_patterns_get_luas_messages() {
        let mut go_on = || true;
        let error = |pattern: &str| find(b"abc", pattern.as_bytes(), 0, &mut || true).unwrap_err();
        assert_eq!(
            error("[a"),
            malformed("malformed pattern (missing ']')".to_owned())
        );
        assert_eq!(
            error("%"),
            malformed("malformed pattern (ends with '%')".to_owned())
        );
        assert_eq!(error("(a"), malformed("unfinished capture".to_owned()));
        assert_eq!(error("a)"), malformed("invalid pattern capture".to_owned()));
        assert_eq!(
            error("%1"),
            malformed("invalid capture index %1".to_owned())
        );
        assert!(find(b"abc", b"%f", 0, &mut go_on).is_err());
    }

    #[test]
    fn catastrophic_backtracking_asks_to_go_on_and_stops() {
        let subject = vec![b'a'; 3000];
        let mut asked = 0;
        let mut go_on = || {
            asked += 1;
            asked < 50
        };
        let result = find(&subject, b".-.-.-.-b", 0, &mut go_on);
        assert_eq!(result, Err(PatternError::Stopped));
        assert_eq!(asked, 50);
    }
}
