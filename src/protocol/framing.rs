//! Framing: newline-delimited JSON or `Content-Length` headers (as in the Language Server
//! Protocol), chosen by the first byte the client sends: `{` or `C`. Replies use the framing
//! the client chose.

use std::io::{self, BufRead, Read};

/// How messages are cut out of the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON message per line.
    Lines,
    /// `Content-Length: N\r\n\r\n` then N bytes.
    ContentLength,
}

/// The largest message accepted; a longer one closes the connection.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Reads messages from one stream, detecting the framing from the first message.
pub struct FrameReader<R> {
    reader: R,
    framing: Option<Framing>,
}

impl<R: BufRead> FrameReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            framing: None,
        }
    }

    /// The framing, once the first message chose it.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// The next message's bytes; `None` at the end of the stream.
    pub fn next_frame(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let framing = match self.framing {
                Some(framing) => framing,
                None => {
                    let buffer = self.reader.fill_buf()?;
                    let Some(&first) = buffer.first() else {
                        return Ok(None);
                    };
                    if first.is_ascii_whitespace() {
                        self.reader.consume(1);
                        continue;
                    }
                    let framing = if first == b'C' || first == b'c' {
                        Framing::ContentLength
                    } else {
                        Framing::Lines
                    };
                    self.framing = Some(framing);
                    framing
                }
            };
            return match framing {
                Framing::Lines => self.next_line(),
                Framing::ContentLength => self.next_counted(),
            };
        }
    }

    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let mut line = Vec::new();
            let read = (&mut self.reader)
                .take(MAX_MESSAGE_BYTES as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                return Ok(None);
            }
            if line.len() > MAX_MESSAGE_BYTES {
                return Err(too_large());
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(line));
        }
    }

    fn next_counted(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut length: Option<usize> = None;
        let mut header = String::new();
        loop {
            header.clear();
            if self.reader.read_line(&mut header)? == 0 {
                return match length {
                    None => Ok(None),
                    Some(_) => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the stream ended inside a header",
                    )),
                };
            }
            let line = header.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if length.is_none() {
                    continue;
                }
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err(invalid(format!("`{line}` is not a header")));
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                let value = value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| invalid(format!("`{}` is not a length", value.trim())))?;
                length = Some(value);
            }
        }
        let length = length.unwrap_or(0);
        if length > MAX_MESSAGE_BYTES {
            return Err(too_large());
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Some(body))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn too_large() -> io::Error {
    invalid(format!(
        "a message is larger than {} MiB",
        MAX_MESSAGE_BYTES / 1024 / 1024
    ))
}

/// A message's bytes in the given framing.
pub fn encode(framing: Framing, message: &serde_json::Value) -> Vec<u8> {
    let body = message.to_string();
    match framing {
        Framing::Lines => {
            let mut bytes = body.into_bytes();
            bytes.push(b'\n');
            bytes
        }
        Framing::ContentLength => {
            let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
            bytes.extend_from_slice(body.as_bytes());
            bytes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> (Option<Framing>, Vec<String>) {
        let mut reader = FrameReader::new(input.as_bytes());
        let mut found = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            found.push(String::from_utf8(frame).unwrap().trim().to_owned());
        }
        (reader.framing(), found)
    }

    #[test]
    fn the_first_byte_chooses_the_framing() {
        assert_eq!(
            frames("{\"a\":1}\n\n{\"b\":2}\n"),
            (
                Some(Framing::Lines),
                vec!["{\"a\":1}".to_owned(), "{\"b\":2}".to_owned()]
            )
        );
        let counted = "Content-Length: 7\r\n\r\n{\"a\":1}Content-Length: 7\r\nContent-Type: x\r\n\r\n{\"b\":2}";
        assert_eq!(
            frames(counted),
            (
                Some(Framing::ContentLength),
                vec!["{\"a\":1}".to_owned(), "{\"b\":2}".to_owned()]
            )
        );
        assert_eq!(frames(""), (None, vec![]));
    }

    #[test]
    fn encoding_round_trips_in_both_framings() {
        let message = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "result": "ü\n" });
        for framing in [Framing::Lines, Framing::ContentLength] {
            let bytes = encode(framing, &message);
            let mut reader = FrameReader::new(bytes.as_slice());
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&frame).unwrap(),
                message
            );
            assert_eq!(reader.framing(), Some(framing));
        }
    }

    #[test]
    fn a_broken_header_is_an_error_not_a_hang() {
        let mut reader = FrameReader::new("Content-Length: x\r\n\r\n".as_bytes());
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::new("Content-Length: 10\r\n\r\n{}".as_bytes());
        assert!(reader.next_frame().is_err());
    }
}
