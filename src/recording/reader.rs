//! Reading a recording back, one line at a time: a recording of any size is streamed, never
//! loaded whole. A line that is not an entry is an error naming the file and the line; a last
//! line cut short (the recording host was killed mid-write) ends the recording there, with a
//! note ([`Reader::truncated_at`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{Entry, FORMAT, Header};

/// The longest line read: an entry past this is refused rather than held in memory.
const MAX_LINE: u64 = 256 * 1024 * 1024;

/// Why a recording cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot read the recording `{}`: {message}", crate::paths::shown(path))]
    Read { path: PathBuf, message: String },
    #[error("`{}` is not a modhost recording: {why}", crate::paths::shown(path))]
    NotARecording { path: PathBuf, why: String },
    #[error(
        "`{}` was recorded by modhost {version} in format {format}, and this modhost reads format {FORMAT}: replay it with modhost {version} or newer",
        crate::paths::shown(path)
    )]
    Newer {
        path: PathBuf,
        version: String,
        format: u64,
    },
    #[error("{}:{line}: {why}", crate::paths::shown(path))]
    BadLine {
        path: PathBuf,
        line: u64,
        why: String,
    },
}

/// A recording opened for reading; iterate it for its entries.
pub struct Reader {
    path: PathBuf,
    lines: Box<dyn BufRead>,
    header: Header,
    /// The line number of the last line read (the header is line 1).
    line: u64,
    peeked: Option<Option<Result<Entry, RecordingError>>>,
    truncated_at: Option<u64>,
}

impl Reader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Reader, RecordingError> {
        let file = File::open(path).map_err(|error| RecordingError::Read {
            path: path.to_path_buf(),
            message: match error.kind() {
                std::io::ErrorKind::NotFound => "the file does not exist".to_owned(),
                _ => error.to_string(),
            },
        })?;
        let lines: Box<dyn BufRead> = match super::is_compressed(path) {
            true => {
                let decoder = zstd::Decoder::new(file).map_err(|error| RecordingError::Read {
                    path: path.to_path_buf(),
                    message: error.to_string(),
                })?;
                Box::new(BufReader::with_capacity(1 << 16, decoder))
            }
            false => Box::new(BufReader::with_capacity(1 << 16, file)),
        };
        Reader::from(path, lines)
    }

    /// Reads a recording from `lines`; `path` names it in errors.
    pub fn from(path: &Path, mut lines: Box<dyn BufRead>) -> Result<Reader, RecordingError> {
        let not_one = |why: String| RecordingError::NotARecording {
            path: path.to_path_buf(),
            why,
        };
        let first = read_line(&mut lines)
            .map_err(|unread| match unread {
                Unread::Cut => not_one("the file ends before its first line does".to_owned()),
                Unread::Failed(message) => RecordingError::Read {
                    path: path.to_path_buf(),
                    message,
                },
            })?
            .ok_or_else(|| not_one("the file is empty".to_owned()))?;
        let value: serde_json::Value = serde_json::from_slice(&first.bytes)
            .map_err(|_| not_one("its first line is not a JSON header".to_owned()))?;
        let format = value.get("format").and_then(serde_json::Value::as_u64);
        let version = value.get("modhost").and_then(serde_json::Value::as_str);
        let (Some(format), Some(version)) = (format, version) else {
            return Err(not_one(
                "its first line has no `modhost` version and `format`".to_owned(),
            ));
        };
        if format > FORMAT {
            return Err(RecordingError::Newer {
                path: path.to_path_buf(),
                version: version.to_owned(),
                format,
            });
        }
        let header: Header = serde_json::from_value(value)
            .map_err(|error| not_one(format!("its header does not read: {error}")))?;
        Ok(Reader {
            path: path.to_path_buf(),
            lines,
            header,
            line: 1,
            peeked: None,
            truncated_at: None,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The line the recording was cut short at, if it was.
    pub fn truncated_at(&self) -> Option<u64> {
        self.truncated_at
    }

    /// The next entry, without taking it.
    pub fn peek(&mut self) -> Option<&Result<Entry, RecordingError>> {
        if self.peeked.is_none() {
            let next = self.read();
            self.peeked = Some(next);
        }
        self.peeked.as_ref().and_then(Option::as_ref)
    }

    fn read(&mut self) -> Option<Result<Entry, RecordingError>> {
        loop {
            let line = match read_line(&mut self.lines) {
                Ok(Some(line)) => line,
                Ok(None) => return None,
                // A compressed recording cut short ends in the middle of its last frame.
                Err(Unread::Cut) => {
                    self.truncated_at = Some(self.line + 1);
                    return None;
                }
                Err(Unread::Failed(message)) => {
                    return Some(Err(RecordingError::Read {
                        path: self.path.clone(),
                        message,
                    }));
                }
            };
            self.line += 1;
            if line.bytes.iter().all(u8::is_ascii_whitespace) && line.ended {
                continue;
            }
            return match parse_entry(&line.bytes) {
                Ok(entry) => Some(Ok(entry)),
                // A last line without its end was being written when the host stopped.
                Err(_) if !line.ended => {
                    self.truncated_at = Some(self.line);
                    None
                }
                Err(why) => Some(Err(RecordingError::BadLine {
                    path: self.path.clone(),
                    line: self.line,
                    why,
                })),
            };
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Entry, RecordingError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.peeked.take() {
            Some(peeked) => peeked,
            None => self.read(),
        }
    }
}

struct Line {
    bytes: Vec<u8>,
    /// Whether it ended with a newline.
    ended: bool,
}

/// Why a line could not be read.
enum Unread {
    /// The stream ends in the middle (of a compressed frame).
    Cut,
    Failed(String),
}

fn read_line(lines: &mut dyn BufRead) -> Result<Option<Line>, Unread> {
    let mut bytes = Vec::new();
    lines
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut bytes)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::UnexpectedEof => Unread::Cut,
            _ => Unread::Failed(error.to_string()),
        })?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() as u64 > MAX_LINE {
        return Err(Unread::Failed(format!(
            "a line is longer than {} MiB, which no entry is",
            MAX_LINE >> 20
        )));
    }
    let ended = bytes.last() == Some(&b'\n');
    if ended {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    Ok(Some(Line { bytes, ended }))
}

/// One entry, or what is wrong with the line, in words.
fn parse_entry(bytes: &[u8]) -> Result<Entry, String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| format!("the line is not JSON ({error})"))?;
    let kind = |key: &str| value.get(key).is_some();
    let parsed = if kind("i") {
        serde_json::from_value(value).map(Entry::Input)
    } else if kind("o") {
        serde_json::from_value(value).map(Entry::Output)
    } else if kind("lost") {
        serde_json::from_value(value).map(Entry::Lost)
    } else if kind("stored") {
        serde_json::from_value(value).map(Entry::Stored)
    } else {
        return Err(
            "the line is neither an input (`i`), an output (`o`), stored data (`stored`) nor a loss note (`lost`)"
                .to_owned(),
        );
    };
    parsed.map_err(|error| format!("the entry does not read: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Result<Reader, RecordingError> {
        Reader::from(
            Path::new("session.jsonl"),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        )
    }

    const HEADER: &str = r#"{"modhost":"0.1.0","format":1,"pack":{"mods":[]},"seeds":{"session":1,"machine":2,"epoch_ms":3}}"#;

    #[test]
    fn entries_stream_in_order_and_a_cut_last_line_ends_the_recording_with_a_note() {
        let text = format!(
            "{HEADER}\n{}\n\n{}\n{}",
            r#"{"i":1,"t":0,"start":{}}"#,
            r#"{"o":1,"log":{"mod":"a","level":"info","message":"hi"}}"#,
            r#"{"i":2,"t":5,"emit":{"event":"tick","pay"#
        );
        let mut recording = reader(&text).unwrap();
        assert_eq!(recording.header().seeds.machine, 2);
        assert!(matches!(recording.peek(), Some(Ok(Entry::Input(_)))));
        let entries: Vec<_> = recording.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(recording.truncated_at(), Some(5));
    }

    #[test]
    fn a_hand_edited_line_names_the_file_and_the_line() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"i":1,"t":0,"start":{}}"#, r#"{"o":1,"sang":3}"#
        );
        let error = reader(&text).unwrap().nth(1).unwrap().unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("session.jsonl:3: the entry does not read"),
            "{error}"
        );
    }

    #[test]
    fn a_newer_format_or_another_file_is_refused_in_words() {
        let newer = reader(r#"{"modhost":"9.0.0","format":7,"pack":{}}"#)
            .err()
            .unwrap();
        assert_eq!(
            newer.to_string(),
            "`session.jsonl` was recorded by modhost 9.0.0 in format 7, and this modhost reads format 1: replay it with modhost 9.0.0 or newer"
        );
        let other = reader("[package]\nname = 'x'\n").err().unwrap();
        assert!(
            other.to_string().contains("is not a modhost recording"),
            "{other}"
        );
        assert!(reader("").err().unwrap().to_string().contains("empty"));
    }
}
