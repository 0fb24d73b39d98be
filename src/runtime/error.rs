//! Errors raised by mod code, as owned data the host can report and act on.

use std::fmt;
use std::path::PathBuf;

/// Why a call into a mod failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The source does not compile.
    Syntax,
    /// The script threw or raised an error.
    Thrown,
    /// The call ran past `call_timeout_ms`.
    Timeout,
    /// The mod's runtime ran past `memory_mb`.
    Memory,
    /// Runaway recursion.
    StackOverflow,
    /// A value could not cross between the mod and the host.
    Conversion,
    /// The host refused (for example a re-entrant call).
    Host,
    /// A WebAssembly module imports a function the host does not provide.
    Link,
}

/// An error from mod code: its message, where it happened, and the script's stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub kind: ErrorKind,
    pub message: String,
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The JavaScript stack or Lua traceback, one frame a line.
    pub stack: Option<String>,
}

impl ScriptError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            stack: None,
        }
    }

    /// The limit a message written by [`ScriptError::timeout`] or
    /// [`ScriptError::out_of_memory`] quotes, with its value: `("call_timeout_ms", 1000)`.
    /// (A mod's failure reaches reports as text; this reads back what those two wrote.)
    pub fn quoted_limit(text: &str) -> Option<(&'static str, u64)> {
        ["call_timeout_ms", "memory_mb"]
            .into_iter()
            .find_map(|key| {
                let after = text.split(&format!("`{key}` = ")).nth(1)?;
                let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
                Some((key, digits.parse().ok()?))
            })
    }

    /// The call ran past `call_timeout_ms` and was stopped.
    pub fn timeout(timeout_ms: u128) -> Self {
        Self::new(
            ErrorKind::Timeout,
            format!("the call ran longer than `call_timeout_ms` = {timeout_ms} and was stopped"),
        )
    }

    /// The mod's engine ran out of its `memory_mb`; `detail` is the engine's own word on it.
    pub fn out_of_memory(memory_mb: u64, detail: Option<&str>) -> Self {
        let mut message =
            format!("the mod ran out of memory: it may use `memory_mb` = {memory_mb}");
        if let Some(detail) = detail {
            message.push_str(&format!(" ({detail})"));
        }
        Self::new(ErrorKind::Memory, message)
    }

    /// What a call into a mod ended with, from the error its engine raised: the limit that
    /// stopped the call (`stopped`: the engine only saw an uncatchable error) at the place the
    /// engine's error names, or else the engine's error itself. Every backend ends a call here.
    pub(crate) fn ended(raised: ScriptError, stopped: Option<ScriptError>) -> ScriptError {
        match stopped {
            Some(stopped) => stopped.located_as(raised),
            None => raised,
        }
    }

    /// Takes the position of the first frame of the mod's own code in `text` (a message or a
    /// stack; `mod_path` is the mod's folder as shown); whether there was one.
    pub(crate) fn locate_in(&mut self, text: &str, mod_path: &str) -> bool {
        let Some((file, line, column)) = find_position(text, mod_path) else {
            return false;
        };
        self.file = Some(file);
        self.line = Some(line);
        self.column = column;
        true
    }

    /// This error, at the place `found` names (the frame a limit stopped, say), unless it
    /// knows a place of its own.
    pub fn located_as(mut self, found: ScriptError) -> Self {
        if self.file.is_none() {
            self.file = found.file;
            self.line = found.line;
            self.column = found.column;
            self.stack = self.stack.or(found.stack);
        }
        self
    }

    /// `file:line:column` when known.
    pub fn position(&self) -> Option<String> {
        let file = crate::paths::shown(self.file.as_ref()?);
        Some(match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
            (Some(line), None) => format!("{file}:{line}"),
            _ => file.to_string(),
        })
    }

    /// Whether the mod broke one of its limits (as opposed to failing on its own terms).
    pub fn is_limit(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout | ErrorKind::Memory | ErrorKind::StackOverflow
        )
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(position) = self.position() {
            write!(formatter, "{position}: ")?;
        }
        formatter.write_str(&self.message)?;
        if let Some(stack) = &self.stack {
            // Runaway recursion repeats one frame: show it once, with the count.
            let frames: Vec<&str> = stack
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect();
            let mut index = 0;
            while index < frames.len() {
                let repeats = frames[index..]
                    .iter()
                    .take_while(|frame| **frame == frames[index])
                    .count();
                write!(formatter, "\n    {}", frames[index])?;
                if repeats > 1 {
                    write!(formatter, " (x{repeats})")?;
                }
                index += repeats;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

/// Finds `file:line[:column]` in a stack frame or message such as
/// `at f (mods/x/main.js:2:15)` or `mods/x/init.lua:3: boom`.
pub(crate) fn find_position(
    text: &str,
    file_hint: &str,
) -> Option<(PathBuf, usize, Option<usize>)> {
    let start = text.find(file_hint)?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c == ')' || c.is_whitespace() || c == ',')
        .unwrap_or(rest.len());
    let location = rest[..end].trim_end_matches(':');
    let (head, last) = location.rsplit_once(':')?;
    let last: usize = last.parse().ok()?;
    match head.rsplit_once(':') {
        Some((file, line)) if line.parse::<usize>().is_ok() => {
            Some((PathBuf::from(file), line.parse().ok()?, Some(last)))
        }
        _ => Some((PathBuf::from(head), last, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_a_stop_quotes_is_read_back() {
        let stopped = format!("`onAttach` broke a limit: {}", ScriptError::timeout(1000));
        assert_eq!(
            ScriptError::quoted_limit(&stopped),
            Some(("call_timeout_ms", 1000))
        );
        let full = ScriptError::out_of_memory(16, Some("grew"));
        assert_eq!(
            ScriptError::quoted_limit(&full.message),
            Some(("memory_mb", 16))
        );
        assert_eq!(ScriptError::quoted_limit("Error: nope"), None);
    }

    #[test]
    fn positions_are_found_in_frames_and_messages() {
        assert_eq!(
            find_position("    at f (mods/x/main.js:2:15)", "mods/x"),
            Some((PathBuf::from("mods/x/main.js"), 2, Some(15)))
        );
        assert_eq!(
            find_position("mods/x/init.lua:3: attempt to index a nil value", "mods/x"),
            Some((PathBuf::from("mods/x/init.lua"), 3, None))
        );
        assert_eq!(find_position("no position here", "mods/x"), None);
    }

    #[test]
    fn display_puts_the_position_first_and_indents_the_stack() {
        let error = ScriptError {
            file: Some(PathBuf::from("m.js")),
            line: Some(2),
            column: Some(3),
            stack: Some("    at f (m.js:2:3)\n".to_owned()),
            ..ScriptError::new(ErrorKind::Thrown, "Error: boom")
        };
        assert_eq!(
            error.to_string(),
            "m.js:2:3: Error: boom\n    at f (m.js:2:3)"
        );
    }
}
