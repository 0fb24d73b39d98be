//! Source files read from disk and positions inside them.
//!
//! Parsers work with byte offsets; people read `line:column`. A [`SourceFile`] keeps the text
//! that was read so a diagnostic can both name the position and show the offending line.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file as it was read, shared between the parsed model and the diagnostics that quote it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    path: PathBuf,
    text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line and column (in characters) of a byte offset, clamped to the text.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        line_column(&self.text, offset)
    }

    /// Where a span starts, as a [`Location`] in this file.
    pub fn locate(&self, span: Range<usize>) -> Location {
        let (line, column) = self.line_column(span.start);
        Location {
            file: self.path.clone(),
            line: Some(line),
            column: Some(column),
            span: Some(span),
        }
    }

    /// This file, without a position in it.
    pub fn whole(&self) -> Location {
        Location::file(self.path.clone())
    }

    /// A hash of the text, the same on every machine and in every version of modhost.
    pub fn content_hash(&self) -> u64 {
        content_hash(self.text.as_bytes())
    }
}

/// FNV-1a over `bytes`: a hash that is the same on every machine and in every build (unlike
/// the standard library's), for identities written to files (a recording's pack).
pub(crate) fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A place a diagnostic points at: a file and, when known, a position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, counted in characters.
    pub column: Option<usize>,
    /// Byte range in the file's text, used to underline the source.
    pub span: Option<Range<usize>>,
}

impl Location {
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            span: None,
        }
    }
}

/// The 1-based line and column (in characters) of a byte offset, clamped to the text.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters_from_one() {
        let text = "ab\n\u{e9}cd\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 1), (1, 2));
        assert_eq!(line_column(text, 3), (2, 1));
        // `é` is two bytes but one column.
        assert_eq!(line_column(text, 5), (2, 2));
    }

    #[test]
    fn clamps_offsets_past_the_end_and_inside_characters() {
        assert_eq!(line_column("a\u{e9}", 2), (1, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
