//! Framing: newline-delimited JSON or `Content-Length` headers (as in the Language Server
//! Protocol), chosen by the first byte the client sends: `{` or `C`. Replies use the framing
//! the client chose.

use std::io::{self, Read};

/// How messages are cut out of the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON message per line.
    Lines,
    /// `Content-Length: N\r\n\r\n` then N bytes.
    ContentLength,
}

/// The largest message accepted from a client that has initialized; a longer one closes the
/// connection.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The largest message accepted before `initialize`: an `initialize` request is small, and a
/// stranger on a TCP port must not make the host buffer more than this.
pub const MAX_FIRST_MESSAGE_BYTES: usize = 1024 * 1024;

/// Cuts messages out of bytes as they arrive, in chunks of any size, detecting the framing
/// from the first message. Each byte is looked at once while searching for a frame's end, so
/// a long message arriving in small pieces costs its length, not its length squared.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    /// Where the next frame starts in `buffer`.
    start: usize,
    /// How many bytes from `start` are known not to end the frame (no newline, no header end).
    scanned: usize,
    framing: Option<Framing>,
    /// The largest frame accepted.
    limit: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_MESSAGE_BYTES)
    }
}

impl FrameDecoder {
    /// A decoder that refuses frames over `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            buffer: Vec::new(),
            start: 0,
            scanned: 0,
            framing: None,
            limit,
        }
    }

    /// From now on, frames up to `limit` bytes are accepted.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Bytes received and not yet cut into frames.
    pub fn pending(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Whether the bytes waiting already make a frame too large to accept: reading more of it
    /// would only grow the buffer.
    pub fn overflowing(&self) -> bool {
        self.pending() > self.limit + 8 * 1024
    }

    /// The framing, once the first message chose it.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message; `None` until more bytes arrive. An error (a broken header, a
    /// message over [`MAX_MESSAGE_BYTES`]) means the stream cannot be read any further.
    pub fn next_frame(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let rest = &self.buffer[self.start..];
            let framing = match self.framing {
                Some(framing) => framing,
                None => {
                    let Some(&first) = rest.first() else {
                        return Ok(None);
                    };
                    if first.is_ascii_whitespace() {
                        self.start += 1;
                        self.scanned = 0;
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
            let frame = match framing {
                Framing::Lines => self.next_line()?,
                Framing::ContentLength => self.next_counted()?,
            };
            match frame {
                Some(frame) if frame.iter().all(u8::is_ascii_whitespace) => continue,
                frame => {
                    self.compact();
                    return Ok(frame);
                }
            }
        }
    }

    fn next_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let rest = &self.buffer[self.start..];
        let found = rest[self.scanned..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map(|offset| self.scanned + offset);
        match found {
            Some(end) if end > self.limit => Err(too_large(self.limit)),
            Some(end) => {
                let frame = rest[..end].to_vec();
                self.start += end + 1;
                self.scanned = 0;
                Ok(Some(frame))
            }
            None if rest.len() > self.limit => Err(too_large(self.limit)),
            None => {
                self.scanned = rest.len();
                Ok(None)
            }
        }
    }

    fn next_counted(&mut self) -> io::Result<Option<Vec<u8>>> {
        let rest = &self.buffer[self.start..];
        // The header's end may straddle what was scanned and what is new.
        let from = self.scanned.saturating_sub(3);
        let found = rest[from..]
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .map(|offset| from + offset);
        let Some(header_end) = found else {
            if rest.len() > 8 * 1024 {
                return Err(invalid("a header longer than 8 KiB".to_owned()));
            }
            self.scanned = rest.len();
            return Ok(None);
        };
        let header = String::from_utf8_lossy(&rest[..header_end]);
        let mut length: Option<usize> = None;
        for line in header.split("\r\n").filter(|line| !line.trim().is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                return Err(invalid(format!("`{line}` is not a header")));
            };
            if name.trim().eq_ignore_ascii_case("content-length") {
                if length.is_some() {
                    return Err(invalid("two `Content-Length` headers".to_owned()));
                }
                let value = value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| invalid(format!("`{}` is not a length", value.trim())))?;
                length = Some(value);
            }
        }
        let Some(length) = length else {
            return Err(invalid("a header without `Content-Length`".to_owned()));
        };
        if length > self.limit {
            return Err(too_large(self.limit));
        }
        let body_start = header_end + 4;
        if rest.len() < body_start + length {
            // The header is whole: what is missing is the body, and the search starts over
            // once it is here.
            self.scanned = header_end;
            return Ok(None);
        }
        let frame = rest[body_start..body_start + length].to_vec();
        self.start += body_start + length;
        self.scanned = 0;
        Ok(Some(frame))
    }

    /// Drops consumed bytes once they are most of the buffer.
    fn compact(&mut self) {
        if self.start > 64 * 1024 && self.start * 2 > self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
    }

    /// Whether unread bytes are left (a stream that ends here ended inside a message).
    pub fn has_partial(&self) -> bool {
        self.buffer[self.start..]
            .iter()
            .any(|byte| !byte.is_ascii_whitespace())
    }
}

/// Reads messages from a blocking stream (the client's side: `modhost ctl`, tests).
pub struct FrameReader<R> {
    reader: R,
    decoder: FrameDecoder,
}

impl<R: Read> FrameReader<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            decoder: FrameDecoder::default(),
        }
    }

    pub fn framing(&self) -> Option<Framing> {
        self.decoder.framing()
    }

    /// The next message's bytes; `None` at the end of the stream.
    pub fn next_frame(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(Some(frame));
            }
            let read = self.reader.read(&mut chunk)?;
            if read == 0 {
                if self.decoder.has_partial() {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the stream ended inside a message",
                    ));
                }
                return Ok(None);
            }
            self.decoder.push(&chunk[..read]);
        }
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn too_large(limit: usize) -> io::Error {
    let size = match limit {
        limit if limit >= 1024 * 1024 => format!("{} MiB", limit / 1024 / 1024),
        limit => format!("{} KiB", limit / 1024),
    };
    let when = match limit {
        MAX_FIRST_MESSAGE_BYTES => " before `initialize`",
        _ => "",
    };
    invalid(format!("a message is larger than {size}{when}"))
}

/// A message's bytes in the given framing.
pub fn encode(framing: Framing, message: &impl serde::Serialize) -> Vec<u8> {
    // A message is JSON's values, whose keys are strings: writing it cannot fail.
    let body = serde_json::to_string(message).unwrap_or_default();
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
    fn frames_split_anywhere_come_out_whole() {
        let bytes = b"Content-Length: 7\r\n\r\n{\"a\":1}Content-Length: 2\r\n\r\n{}";
        for split in 1..bytes.len() {
            let mut decoder = FrameDecoder::default();
            let mut frames = Vec::new();
            for chunk in bytes.chunks(split) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    frames.push(frame);
                }
            }
            assert_eq!(
                frames,
                [b"{\"a\":1}".to_vec(), b"{}".to_vec()],
                "chunks of {split}"
            );
        }
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_in_both_framings() {
        for input in [
            format!("{}\n", "x".repeat(100)),
            "x".repeat(100),
            "Content-Length: 100\r\n\r\n".to_owned(),
        ] {
            let mut decoder = FrameDecoder::with_limit(50);
            decoder.push(input.as_bytes());
            assert!(decoder.next_frame().is_err(), "{input:?}");
        }
        let mut decoder = FrameDecoder::with_limit(50);
        decoder.push(b"{}\n");
        assert_eq!(decoder.next_frame().unwrap(), Some(b"{}".to_vec()));
        decoder.set_limit(1000);
        decoder.push(format!("{}\n", "y".repeat(100)).as_bytes());
        assert!(decoder.next_frame().unwrap().is_some());
    }

    #[test]
    fn a_long_line_in_small_pieces_is_scanned_once() {
        // Each piece only adds its own bytes to the search: a megabyte in 1-byte pieces would
        // take minutes if every piece rescanned the buffer.
        let mut decoder = FrameDecoder::default();
        for _ in 0..1_000_000 {
            decoder.push(b"x");
            assert_eq!(decoder.next_frame().unwrap(), None);
        }
        decoder.push(b"\n");
        assert_eq!(
            decoder.next_frame().unwrap().map(|frame| frame.len()),
            Some(1_000_000)
        );
    }

    #[test]
    fn two_lengths_for_one_message_are_refused() {
        let mut reader =
            FrameReader::new("Content-Length: 2\r\nContent-Length: 9\r\n\r\n{}".as_bytes());
        assert!(reader.next_frame().is_err());
    }

    #[test]
    fn a_broken_header_is_an_error_not_a_hang() {
        let mut reader = FrameReader::new("Content-Length: x\r\n\r\n".as_bytes());
        assert!(reader.next_frame().is_err());
        let mut reader = FrameReader::new("Content-Length: 10\r\n\r\n{}".as_bytes());
        assert!(reader.next_frame().is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::protocol::message::Incoming;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any bytes, cut anywhere: the decoder and the message parser never panic, and the
        /// frames do not depend on how the bytes were cut.
        #[test]
        fn any_bytes_in_any_chunks_decode_alike(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            lines in r#"(\{"jsonrpc":"2.0","id":[0-9]{1,3},"method":"[a-z/]{1,10}"(,"params":\{\})?\}\n|Content-Length: [0-9]{1,2}\r\n\r\n|\{[^\n]{0,20}\n){0,6}"#,
            cut in 1usize..40,
        ) {
            for input in [bytes.clone(), lines.into_bytes()] {
                let whole = decode(&input, input.len().max(1));
                let chunked = decode(&input, cut);
                prop_assert_eq!(&whole, &chunked);
                for frame in whole.0 {
                    let _ = Incoming::parse(&frame);
                }
            }
        }
    }

    /// The frames of `input` fed `chunk` bytes at a time, and whether decoding broke.
    fn decode(input: &[u8], chunk: usize) -> (Vec<Vec<u8>>, bool) {
        let mut decoder = FrameDecoder::default();
        let mut frames = Vec::new();
        for piece in input.chunks(chunk) {
            decoder.push(piece);
            loop {
                match decoder.next_frame() {
                    Ok(Some(frame)) => frames.push(frame),
                    Ok(None) => break,
                    Err(_) => return (frames, true),
                }
            }
        }
        (frames, false)
    }
}
