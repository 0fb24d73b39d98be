//! Entries on their way from the host's thread to the recording's writer, in a compact binary
//! form: the host appends each input and output to a byte buffer as it happens, borrowing what
//! it has (no allocation, no JSON, names written once and then referred to by number), and the
//! writer thread writes the buffer as JSON lines ([`Decoder::write_lines`]). This is what
//! keeps recording a call into a mod cheap: formatting JSON on the host's thread, or handing
//! it owned strings to free on another thread, cost several times the call itself.
//!
//! Inputs and outputs the host makes often (calls, events, timers, results, logs, game calls)
//! have a form of their own; the rest go as JSON text inside the buffer.

use std::io::{self, Write};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::{Answer, Entry, Input, InputEntry, Output, OutputEntry};
use crate::runtime::Json;
use crate::value::Object;

/// An input as the host has it at hand.
pub enum InputRef<'a> {
    Call {
        mod_id: &'a str,
        function: &'a str,
        args: &'a [Json],
    },
    Emit {
        event: &'a str,
        payload: &'a Json,
    },
    Timer {
        mod_id: &'a str,
        timer: u64,
    },
    Owned(Input),
}

impl From<Input> for InputRef<'_> {
    fn from(input: Input) -> Self {
        InputRef::Owned(input)
    }
}

impl InputRef<'_> {
    pub fn into_owned(self) -> Input {
        match self {
            InputRef::Call {
                mod_id,
                function,
                args,
            } => Input::Call {
                mod_id: mod_id.to_owned(),
                function: function.to_owned(),
                args: args.to_vec(),
            },
            InputRef::Emit { event, payload } => Input::Emit {
                event: event.to_owned(),
                payload: payload.clone(),
            },
            InputRef::Timer { mod_id, timer } => Input::Timer {
                mod_id: mod_id.to_owned(),
                timer,
            },
            InputRef::Owned(input) => input,
        }
    }
}

/// An output as the host has it at hand.
pub enum OutputRef<'a> {
    Returned(&'a Json),
    Delivered(&'a Json),
    Event {
        mod_id: &'a str,
        event: &'a str,
        payload: &'a Json,
    },
    GameCall {
        mod_id: &'a str,
        function: &'a str,
        args: &'a [Json],
        answer: &'a Result<Json, String>,
    },
    Log {
        mod_id: &'a str,
        level: &'static str,
        message: &'a str,
    },
    Timer {
        mod_id: &'a str,
        timer: u64,
        due_ms: f64,
    },
    Owned(Output),
}

impl From<Output> for OutputRef<'_> {
    fn from(output: Output) -> Self {
        OutputRef::Owned(output)
    }
}

impl OutputRef<'_> {
    pub fn into_owned(self) -> Output {
        match self {
            OutputRef::Returned(value) => Output::Returned(value.clone()),
            OutputRef::Delivered(value) => Output::Delivered(value.clone()),
            OutputRef::Event {
                mod_id,
                event,
                payload,
            } => Output::Event {
                mod_id: mod_id.to_owned(),
                event: event.to_owned(),
                payload: payload.clone(),
            },
            OutputRef::GameCall {
                mod_id,
                function,
                args,
                answer,
            } => Output::GameCall {
                mod_id: mod_id.to_owned(),
                function: function.to_owned(),
                args: args.to_vec(),
                answer: Answer::from(answer),
            },
            OutputRef::Log {
                mod_id,
                level,
                message,
            } => Output::Log {
                mod_id: mod_id.to_owned(),
                level: level.to_owned(),
                message: message.to_owned(),
            },
            OutputRef::Timer {
                mod_id,
                timer,
                due_ms,
            } => Output::Timer {
                mod_id: mod_id.to_owned(),
                timer,
                due_ms,
            },
            OutputRef::Owned(output) => output,
        }
    }
}

// What a record in the buffer is.
const NAME: u8 = 1;
const CALL: u8 = 2;
const EMIT: u8 = 3;
const TIMER: u8 = 4;
const INPUT: u8 = 5;
const RETURNED: u8 = 6;
const DELIVERED: u8 = 7;
const EVENT: u8 = 8;
const GAME_CALL: u8 = 9;
const LOG: u8 = 10;
const FIRED: u8 = 11;
const OUTPUT: u8 = 12;
const ENTRY: u8 = 13;

// What a value in the buffer is.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const SIGNED: u8 = 3;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

/// The host thread's side: appends records to a buffer.
#[derive(Default)]
pub(crate) struct Encoder {
    bytes: Vec<u8>,
    /// Names written to the writer so far, by number.
    names: FxHashMap<Rc<str>, u32>,
    /// The names used last, newest first.
    recent: [(Rc<str>, u32); 4],
    /// Entries in the buffer, and the input the first one belongs to.
    pub entries: u64,
    pub first: Option<u64>,
}

impl Encoder {
    /// Bytes in the buffer.
    pub(crate) fn buffered(&self) -> usize {
        self.bytes.len()
    }

    /// The buffer so far, leaving an empty one.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        self.entries = 0;
        self.first = None;
        std::mem::replace(&mut self.bytes, Vec::with_capacity(1 << 16))
    }

    /// The writer will not see what was taken last (it was dropped): names are written anew.
    pub(crate) fn forget_names(&mut self) {
        self.names.clear();
        self.recent = Default::default();
    }

    fn counted(&mut self, of: u64) {
        self.entries += 1;
        self.first.get_or_insert(of);
    }

    pub(crate) fn input(
        &mut self,
        number: u64,
        at_ms: f64,
        during: Option<u64>,
        input: InputRef<'_>,
    ) {
        self.counted(number);
        let tag = match &input {
            InputRef::Call { .. } => CALL,
            InputRef::Emit { .. } => EMIT,
            InputRef::Timer { .. } => TIMER,
            InputRef::Owned(_) => INPUT,
        };
        // Names first: each is a record of its own.
        let names: [Option<&str>; 2] = match &input {
            InputRef::Call {
                mod_id, function, ..
            } => [Some(mod_id), Some(function)],
            InputRef::Emit { event, .. } => [Some(event), None],
            InputRef::Timer { mod_id, .. } => [Some(mod_id), None],
            InputRef::Owned(_) => [None, None],
        };
        let ids = names.map(|name| name.map(|name| self.name(name)));
        self.bytes.push(tag);
        self.varint(number);
        self.bytes.extend_from_slice(&at_ms.to_le_bytes());
        self.varint(during.map_or(0, |during| during + 1));
        for id in ids.into_iter().flatten() {
            self.varint(u64::from(id));
        }
        match input {
            InputRef::Call { args, .. } => self.values(args),
            InputRef::Emit { payload, .. } => self.value(payload),
            InputRef::Timer { timer, .. } => self.varint(timer),
            InputRef::Owned(input) => self.json(&input),
        }
    }

    pub(crate) fn output(&mut self, of: u64, output: OutputRef<'_>) {
        self.counted(of);
        let names: [Option<&str>; 3] = match &output {
            OutputRef::Event { mod_id, event, .. } => [Some(mod_id), Some(event), None],
            OutputRef::GameCall {
                mod_id, function, ..
            } => [Some(mod_id), Some(function), None],
            OutputRef::Log { mod_id, level, .. } => [Some(mod_id), Some(level), None],
            OutputRef::Timer { mod_id, .. } => [Some(mod_id), None, None],
            _ => [None, None, None],
        };
        let ids = names.map(|name| name.map(|name| self.name(name)));
        let tag = match &output {
            OutputRef::Returned(_) => RETURNED,
            OutputRef::Delivered(_) => DELIVERED,
            OutputRef::Event { .. } => EVENT,
            OutputRef::GameCall { .. } => GAME_CALL,
            OutputRef::Log { .. } => LOG,
            OutputRef::Timer { .. } => FIRED,
            OutputRef::Owned(_) => OUTPUT,
        };
        self.bytes.push(tag);
        self.varint(of);
        for id in ids.into_iter().flatten() {
            self.varint(u64::from(id));
        }
        match output {
            OutputRef::Returned(value) | OutputRef::Delivered(value) => self.value(value),
            OutputRef::Event { payload, .. } => self.value(payload),
            OutputRef::GameCall { args, answer, .. } => {
                self.values(args);
                match answer {
                    Ok(value) => {
                        self.bytes.push(TRUE);
                        self.value(value);
                    }
                    Err(message) => {
                        self.bytes.push(FALSE);
                        self.text(message);
                    }
                }
            }
            OutputRef::Log { message, .. } => self.text(message),
            OutputRef::Timer { timer, due_ms, .. } => {
                self.varint(timer);
                self.bytes.extend_from_slice(&due_ms.to_le_bytes());
            }
            OutputRef::Owned(output) => self.json(&output),
        }
    }

    /// Any entry, as JSON text (what is stored, loss notes).
    pub(crate) fn entry(&mut self, entry: &Entry) {
        self.counted(0);
        self.bytes.push(ENTRY);
        self.json(entry);
    }

    fn name(&mut self, name: &str) -> u32 {
        // The names of one input come again in the next (a game calling one function in a
        // loop): compared first, they spare the hashing.
        if let Some((_, id)) = self.recent.iter().find(|(recent, _)| **recent == *name) {
            return *id;
        }
        let (known, id) = match self.names.get_key_value(name) {
            Some((known, id)) => (Rc::clone(known), *id),
            None => {
                let known: Rc<str> = name.into();
                let id = self.names.len() as u32;
                self.names.insert(Rc::clone(&known), id);
                self.bytes.push(NAME);
                self.text(name);
                (known, id)
            }
        };
        self.recent.rotate_right(1);
        self.recent[0] = (known, id);
        id
    }

    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    fn text(&mut self, text: &str) {
        self.varint(text.len() as u64);
        self.bytes.extend_from_slice(text.as_bytes());
    }

    fn json(&mut self, value: &impl serde::Serialize) {
        let text = serde_json::to_string(value).unwrap_or_default();
        self.text(&text);
    }

    fn values(&mut self, values: &[Json]) {
        self.varint(values.len() as u64);
        for value in values {
            self.value(value);
        }
    }

    fn value(&mut self, value: &Json) {
        match value {
            Json::Null => self.bytes.push(NULL),
            Json::Bool(false) => self.bytes.push(FALSE),
            Json::Bool(true) => self.bytes.push(TRUE),
            Json::Int(signed) => {
                self.bytes.push(SIGNED);
                self.bytes.extend_from_slice(&signed.to_le_bytes());
            }
            Json::Float(float) => {
                self.bytes.push(FLOAT);
                self.bytes.extend_from_slice(&float.to_le_bytes());
            }
            Json::String(text) => {
                self.bytes.push(STRING);
                self.text(text);
            }
            Json::Array(items) => {
                self.bytes.push(ARRAY);
                self.values(items);
            }
            Json::Object(members) => {
                self.bytes.push(OBJECT);
                self.varint(members.len() as u64);
                for (key, member) in members {
                    self.text(key);
                    self.value(member);
                }
            }
        }
    }
}

/// The writer thread's side: turns buffers back into entries, in the order they were taken.
#[derive(Default)]
pub(crate) struct Decoder {
    /// Names by number.
    names: Vec<String>,
}

/// A buffer that does not decode: the host and the writer disagree, which is a bug.
#[derive(Debug, thiserror::Error)]
#[error("a recording buffer does not decode at byte {0}")]
pub(crate) struct Garbled(usize);

impl From<Garbled> for io::Error {
    fn from(garbled: Garbled) -> Self {
        io::Error::other(garbled)
    }
}

/// `value` as serde_json writes it.
fn json(out: &mut impl Write, value: &(impl serde::Serialize + ?Sized)) -> io::Result<()> {
    serde_json::to_writer(out, value).map_err(io::Error::from)
}

impl Decoder {
    /// The writer missed a buffer: names start over, as the encoder's do.
    pub(crate) fn forget_names(&mut self) {
        self.names.clear();
    }

    /// Every entry in `bytes`, in order.
    pub(crate) fn entries(&mut self, bytes: &[u8]) -> Result<Vec<Entry>, Garbled> {
        let mut reading = Reading { bytes, at: 0 };
        let mut entries = Vec::new();
        while reading.at < bytes.len() {
            let tag = reading.byte()?;
            if tag == NAME {
                self.names.push(reading.text()?);
            } else {
                entries.push(self.entry(tag, &mut reading)?);
            }
        }
        Ok(entries)
    }

    /// Writes every entry in `bytes` as a JSON line: the bytes [`Entry::write_json`] writes for
    /// the decoded entry (a test holds them the same), but for the kinds a game makes by the
    /// thousand a frame (calls, events, timers, results, logs) straight from the buffer, with
    /// no entry built and nothing allocated. Decoding each entry first was two thirds of the
    /// writer's work, and a host calling a mod in a loop outran it. The rest are decoded.
    pub(crate) fn write_lines(
        &mut self,
        bytes: &[u8],
        out: &mut impl Write,
        scratch: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut reading = Reading { bytes, at: 0 };
        while reading.at < bytes.len() {
            let tag = reading.byte()?;
            match tag {
                NAME => {
                    self.names.push(reading.text()?);
                    continue;
                }
                CALL | EMIT | TIMER => self.write_input(tag, &mut reading, out)?,
                RETURNED | DELIVERED | EVENT | LOG | FIRED => {
                    self.write_output(tag, &mut reading, out)?;
                }
                _ => self
                    .entry(tag, &mut reading)?
                    .write_json(out, scratch)
                    .map_err(io::Error::from)?,
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The entry a record other than a name is.
    fn entry(&self, tag: u8, reading: &mut Reading<'_>) -> Result<Entry, Garbled> {
        match tag {
            CALL | EMIT | TIMER | INPUT => self.input(tag, reading),
            ENTRY => serde_json::from_str(&reading.text()?).map_err(|_| Garbled(reading.at)),
            _ => self.output(tag, reading),
        }
    }

    /// An input of [`Decoder::write_lines`]'s own kinds, as `Entry::write_json` writes it.
    fn write_input(
        &self,
        tag: u8,
        reading: &mut Reading<'_>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let number = reading.varint()?;
        let at_ms = reading.float()?;
        let during = reading.varint()?.checked_sub(1);
        super::write_input_head(out, number, at_ms, during)?;
        match tag {
            CALL => {
                self.write_name(b",\"call\":{\"mod\":", reading, out)?;
                self.write_name(b",\"function\":", reading, out)?;
                out.write_all(b",\"args\":")?;
                reading.write_values(out)?;
            }
            EMIT => {
                self.write_name(b",\"emit\":{\"event\":", reading, out)?;
                out.write_all(b",\"payload\":")?;
                reading.write_value(out)?;
            }
            _ => self.write_timer(reading, out)?,
        }
        out.write_all(b"}}")
    }

    /// An output of [`Decoder::write_lines`]'s own kinds, as `Entry::write_json` writes it.
    fn write_output(
        &self,
        tag: u8,
        reading: &mut Reading<'_>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        super::write_output_head(out, reading.varint()?)?;
        match tag {
            RETURNED | DELIVERED => {
                out.write_all(match tag {
                    RETURNED => b",\"returned\":",
                    _ => b",\"delivered\":",
                })?;
                reading.write_value(out)?;
                return out.write_all(b"}");
            }
            EVENT => {
                self.write_name(b",\"event\":{\"mod\":", reading, out)?;
                self.write_name(b",\"event\":", reading, out)?;
                out.write_all(b",\"payload\":")?;
                reading.write_value(out)?;
            }
            LOG => {
                self.write_name(b",\"log\":{\"mod\":", reading, out)?;
                self.write_name(b",\"level\":", reading, out)?;
                out.write_all(b",\"message\":")?;
                json(out, reading.str()?)?;
            }
            _ => {
                self.write_timer(reading, out)?;
                out.write_all(b",\"due_ms\":")?;
                json(out, &reading.float()?)?;
            }
        }
        out.write_all(b"}}")
    }

    /// A timer's variant up to its fields of its own (an input's has none, an output's its
    /// due time): the mod and the timer's id.
    fn write_timer(&self, reading: &mut Reading<'_>, out: &mut impl Write) -> io::Result<()> {
        self.write_name(b",\"timer\":{\"mod\":", reading, out)?;
        out.write_all(b",\"timer\":")?;
        json(out, &reading.varint()?)
    }

    /// `key`, then the name the buffer refers to next.
    fn write_name(
        &self,
        key: &[u8],
        reading: &mut Reading<'_>,
        out: &mut impl Write,
    ) -> io::Result<()> {
        out.write_all(key)?;
        let id = reading.varint()? as usize;
        let name = self.names.get(id).ok_or(Garbled(reading.at))?;
        json(out, name.as_str())
    }

    fn name(&self, reading: &mut Reading<'_>) -> Result<String, Garbled> {
        let id = reading.varint()? as usize;
        self.names.get(id).cloned().ok_or(Garbled(reading.at))
    }

    fn input(&self, tag: u8, reading: &mut Reading<'_>) -> Result<Entry, Garbled> {
        let number = reading.varint()?;
        let at_ms = reading.float()?;
        let during = reading.varint()?.checked_sub(1);
        let input = match tag {
            CALL => Input::Call {
                mod_id: self.name(reading)?,
                function: self.name(reading)?,
                args: reading.values()?,
            },
            EMIT => Input::Emit {
                event: self.name(reading)?,
                payload: reading.value()?,
            },
            TIMER => Input::Timer {
                mod_id: self.name(reading)?,
                timer: reading.varint()?,
            },
            _ => serde_json::from_str(&reading.text()?).map_err(|_| Garbled(reading.at))?,
        };
        Ok(Entry::Input(InputEntry {
            number,
            at_ms,
            during,
            input,
        }))
    }

    fn output(&self, tag: u8, reading: &mut Reading<'_>) -> Result<Entry, Garbled> {
        let of = reading.varint()?;
        let output = match tag {
            RETURNED => Output::Returned(reading.value()?),
            DELIVERED => Output::Delivered(reading.value()?),
            EVENT => Output::Event {
                mod_id: self.name(reading)?,
                event: self.name(reading)?,
                payload: reading.value()?,
            },
            GAME_CALL => Output::GameCall {
                mod_id: self.name(reading)?,
                function: self.name(reading)?,
                args: reading.values()?,
                answer: match reading.byte()? {
                    TRUE => Answer::Ok(reading.value()?),
                    _ => Answer::Error(reading.text()?),
                },
            },
            LOG => Output::Log {
                mod_id: self.name(reading)?,
                level: self.name(reading)?,
                message: reading.text()?,
            },
            FIRED => Output::Timer {
                mod_id: self.name(reading)?,
                timer: reading.varint()?,
                due_ms: reading.float()?,
            },
            OUTPUT => serde_json::from_str(&reading.text()?).map_err(|_| Garbled(reading.at))?,
            _ => return Err(Garbled(reading.at)),
        };
        Ok(Entry::Output(OutputEntry { of, output }))
    }
}

struct Reading<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reading<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], Garbled> {
        let bytes: &'a [u8] = self.bytes;
        let end = self.at.checked_add(length).ok_or(Garbled(self.at))?;
        let taken = bytes.get(self.at..end).ok_or(Garbled(self.at))?;
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Garbled> {
        Ok(self.take(1)?[0])
    }

    fn eight(&mut self) -> Result<[u8; 8], Garbled> {
        let at = self.at;
        self.take(8)?.try_into().map_err(|_| Garbled(at))
    }

    fn float(&mut self) -> Result<f64, Garbled> {
        Ok(f64::from_le_bytes(self.eight()?))
    }

    fn varint(&mut self) -> Result<u64, Garbled> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(Garbled(self.at))
    }

    fn text(&mut self) -> Result<String, Garbled> {
        self.str().map(str::to_owned)
    }

    /// A text, borrowed from the buffer.
    fn str(&mut self) -> Result<&'a str, Garbled> {
        let length = self.varint()? as usize;
        let at = self.at;
        std::str::from_utf8(self.take(length)?).map_err(|_| Garbled(at))
    }

    /// Values as [`Reading::values`] reads them, written as JSON.
    fn write_values(&mut self, out: &mut impl Write) -> io::Result<()> {
        let count = self.varint()?;
        out.write_all(b"[")?;
        for index in 0..count {
            if index > 0 {
                out.write_all(b",")?;
            }
            self.write_value(out)?;
        }
        out.write_all(b"]")
    }

    /// A value as [`Reading::value`] reads it, written as JSON (its members in the buffer's
    /// order: an object there came from a [`Json`], whose keys are distinct).
    fn write_value(&mut self, out: &mut impl Write) -> io::Result<()> {
        match self.byte()? {
            NULL => out.write_all(b"null"),
            FALSE => out.write_all(b"false"),
            TRUE => out.write_all(b"true"),
            SIGNED => json(out, &i64::from_le_bytes(self.eight()?)),
            FLOAT => json(out, &self.float()?),
            STRING => json(out, self.str()?),
            ARRAY => self.write_values(out),
            OBJECT => {
                let count = self.varint()?;
                out.write_all(b"{")?;
                for index in 0..count {
                    if index > 0 {
                        out.write_all(b",")?;
                    }
                    json(out, self.str()?)?;
                    out.write_all(b":")?;
                    self.write_value(out)?;
                }
                out.write_all(b"}")
            }
            _ => Err(Garbled(self.at).into()),
        }
    }

    fn values(&mut self) -> Result<Vec<Json>, Garbled> {
        let count = self.varint()? as usize;
        // A count is never more than the bytes left: each value takes one at least.
        let mut values = Vec::with_capacity(count.min(self.bytes.len() - self.at));
        for _ in 0..count {
            values.push(self.value()?);
        }
        Ok(values)
    }

    /// Values nest at most [`crate::runtime::crossing::MAX_DEPTH`] deep (the host refuses
    /// deeper ones where they come in), so this recursion is bounded.
    fn value(&mut self) -> Result<Json, Garbled> {
        Ok(match self.byte()? {
            NULL => Json::Null,
            FALSE => Json::Bool(false),
            TRUE => Json::Bool(true),
            SIGNED => Json::from(i64::from_le_bytes(self.eight()?)),
            FLOAT => Json::from_f64(self.float()?),
            STRING => Json::from(self.text()?),
            ARRAY => Json::Array(self.values()?),
            OBJECT => {
                let count = self.varint()? as usize;
                let mut members = Vec::with_capacity(count.min(4096));
                for _ in 0..count {
                    let key = self.text()?;
                    members.push((key.into(), self.value()?));
                }
                Json::Object(Object::from_pairs(members))
            }
            _ => return Err(Garbled(self.at)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_host_encodes_decodes_to_the_same_entries_across_buffers() {
        let mut encoder = Encoder::default();
        let args = [
            crate::value!(1),
            crate::value!(-2),
            crate::value!(2.5),
            crate::value!(i64::MIN),
            crate::value!({"a": [null, true, "x"]}),
        ];
        let answer = Err("no".to_owned());
        encoder.input(
            1,
            0.5,
            None,
            InputRef::Call {
                mod_id: "m",
                function: "f",
                args: &args,
            },
        );
        encoder.output(1, OutputRef::Returned(&crate::value!("r")));
        let first = encoder.take();
        encoder.input(
            2,
            7.25,
            Some(1),
            InputRef::Timer {
                mod_id: "m",
                timer: 300,
            },
        );
        encoder.output(
            2,
            OutputRef::GameCall {
                mod_id: "m",
                function: "world.spawn",
                args: &args[..1],
                answer: &answer,
            },
        );
        encoder.output(
            2,
            OutputRef::Log {
                mod_id: "m",
                level: "info",
                message: "héllo",
            },
        );
        encoder.output(2, Output::Cancelled {}.into());
        encoder.input(3, 9.0, None, Input::Shutdown {}.into());
        let second = encoder.take();

        let mut decoder = Decoder::default();
        let mut entries = decoder.entries(&first).unwrap();
        entries.extend(decoder.entries(&second).unwrap());
        let lines: Vec<String> = entries
            .iter()
            .map(|entry| serde_json::to_string(entry).unwrap())
            .collect();
        assert_eq!(
            lines,
            [
                r#"{"i":1,"t":0.5,"call":{"mod":"m","function":"f","args":[1,-2,2.5,-9223372036854775808,{"a":[null,true,"x"]}]}}"#,
                r#"{"o":1,"returned":"r"}"#,
                r#"{"i":2,"t":7.25,"during":1,"timer":{"mod":"m","timer":300}}"#,
                r#"{"o":2,"game_call":{"mod":"m","function":"world.spawn","args":[1],"answer":{"error":"no"}}}"#,
                r#"{"o":2,"log":{"mod":"m","level":"info","message":"héllo"}}"#,
                r#"{"o":2,"cancelled":{}}"#,
                r#"{"i":3,"t":9.0,"shutdown":{}}"#,
            ]
        );
        assert!(decoder.entries(&first[..first.len() - 3]).is_err());
    }

    #[test]
    fn lines_written_from_the_buffer_are_the_decoded_entries_lines() {
        let mut encoder = Encoder::default();
        let payload =
            crate::value!({"b": 1, "a": [1.5, -3, "q\"uote\n", {}, [], null, false], "é": "ü"});
        let args = [payload.clone(), crate::value!(2.0), crate::value!(1e300)];
        encoder.input(
            1,
            0.25,
            None,
            InputRef::Call {
                mod_id: "m\"od",
                function: "f",
                args: &args,
            },
        );
        encoder.output(1, OutputRef::Returned(&payload));
        encoder.input(
            2,
            3.0,
            Some(1),
            InputRef::Emit {
                event: "tick",
                payload: &payload,
            },
        );
        encoder.output(2, OutputRef::Delivered(&crate::value!(7)));
        encoder.output(
            2,
            OutputRef::Event {
                mod_id: "m\"od",
                event: "tick",
                payload: &crate::value!([]),
            },
        );
        encoder.output(
            2,
            OutputRef::Log {
                mod_id: "m\"od",
                level: "warn",
                message: "tab\there \u{1}",
            },
        );
        encoder.input(
            3,
            16.5,
            None,
            InputRef::Timer {
                mod_id: "m\"od",
                timer: 1 << 40,
            },
        );
        encoder.output(
            3,
            OutputRef::Timer {
                mod_id: "m\"od",
                timer: 1 << 40,
                due_ms: 16.0,
            },
        );
        let answer = Ok(crate::value!("orc"));
        encoder.output(
            3,
            OutputRef::GameCall {
                mod_id: "m\"od",
                function: "world.spawn",
                args: &args,
                answer: &answer,
            },
        );
        encoder.output(3, Output::Failed("no".to_owned()).into());
        encoder.input(4, 20.0, None, Input::Shutdown {}.into());
        let bytes = encoder.take();

        let mut decoded = Vec::new();
        let mut scratch = Vec::new();
        for entry in Decoder::default().entries(&bytes).unwrap() {
            entry.write_json(&mut decoded, &mut scratch).unwrap();
            decoded.push(b'\n');
        }
        let mut written = Vec::new();
        Decoder::default()
            .write_lines(&bytes, &mut written, &mut scratch)
            .unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(decoded).unwrap()
        );
        let cut = &bytes[..bytes.len() - 3];
        assert!(
            Decoder::default()
                .write_lines(cut, &mut Vec::new(), &mut scratch)
                .is_err()
        );
    }
}
