//! Writing a recording without ever making the host wait for the disk.
//!
//! The host hands inputs and outputs to a [`Recorder`], which appends them to a buffer in a
//! compact form ([`super::compact`]) and passes each full buffer to a thread of its own that
//! turns it into JSON lines. The hand-over is bounded: when the writer has fallen
//! [`BATCHES_IN_FLIGHT`] buffers behind (a slow or full disk), the buffer is dropped instead of
//! waited for, and the recording says so with a [`Lost`] entry before the next buffer that gets
//! through, so a replay knows where it cannot follow.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::compact::{Decoder, Encoder, InputRef, OutputRef};
use super::{Entry, Header, Lost, LostEntry};
use crate::runtime::Moment;

/// Bytes gathered before a buffer goes to the writer.
const BATCH_BYTES: usize = 64 * 1024;
/// Buffers handed over and not yet written, at most.
pub const BATCHES_IN_FLIGHT: usize = 64;
/// zstd's level for `.zst` recordings: its fastest, as the writer must keep up with the host.
const ZSTD_LEVEL: i32 = 1;
/// A buffer goes to the writer at least this often while entries come in.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// One buffer on its way to the writer; `after_loss` when the one before it was dropped.
struct Batch {
    bytes: Vec<u8>,
    after_loss: Option<Lost>,
}

/// Where a recording goes, in buffers. See the module documentation.
pub struct Recorder {
    encoder: Encoder,
    sender: Option<SyncSender<Batch>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    /// Entries dropped since the last buffer that got through.
    lost: Option<Lost>,
    lost_in_all: u64,
    last_sent: Moment,
}

/// What a finished recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Entries dropped because the writer fell behind.
    pub lost: u64,
}

impl Recorder {
    /// Creates the file at `path` for the user alone (whatever was there is replaced; a link
    /// is removed, not followed) and writes the header; the entries follow from a thread of
    /// the recorder's own, with the members named in `redact` hashed ([`super::redact`]).
    /// A name ending in `.zst` makes it compressed (each buffer flushed as it is written, so a
    /// recording cut short still reads up to there).
    pub fn create(path: &Path, header: &Header, redact: Vec<String>) -> io::Result<Recorder> {
        let file = crate::data_dir::create_private_file(path)?;
        let mut out: Box<dyn Write + Send> = match super::is_compressed(path) {
            true => Box::new(zstd::Encoder::new(file, ZSTD_LEVEL)?.auto_finish()),
            false => Box::new(file),
        };
        // The header in one write, and at once: a file that cannot be written fails here.
        let mut header = serde_json::to_vec(header)?;
        header.push(b'\n');
        out.write_all(&header)?;
        out.flush()?;
        Ok(Recorder::to(out, redact))
    }

    /// A recorder that writes to `out`.
    pub fn to(out: impl Write + Send + 'static, redact: Vec<String>) -> Recorder {
        let (sender, receiver) = sync_channel(BATCHES_IN_FLIGHT);
        let writer = std::thread::Builder::new()
            .name("modhost-recording".to_owned())
            .spawn(move || write_batches(out, receiver, &redact))
            .ok();
        Recorder {
            encoder: Encoder::default(),
            sender: writer.as_ref().map(|_| sender),
            writer,
            lost: None,
            lost_in_all: 0,
            last_sent: Moment::now(),
        }
    }

    pub fn push_input(&mut self, number: u64, at_ms: f64, during: Option<u64>, input: InputRef) {
        self.encoder.input(number, at_ms, during, input);
        self.flush_if_full();
    }

    pub fn push_output(&mut self, of: u64, output: OutputRef) {
        self.encoder.output(of, output);
        self.flush_if_full();
    }

    /// Any entry (what was stored, say).
    pub fn push(&mut self, entry: Entry) {
        self.encoder.entry(&entry);
        self.flush_if_full();
    }

    fn flush_if_full(&mut self) {
        if self.encoder.buffered() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Whether entries are gathered that the writer has not been handed yet.
    pub fn has_gathered(&self) -> bool {
        self.encoder.entries > 0
    }

    /// Hands what is gathered to the writer when it has waited long enough; the host calls
    /// this when it goes idle.
    pub fn flush_if_due(&mut self) {
        if self.has_gathered() && Moment::now().since(self.last_sent) >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// Hands what is gathered to the writer now, or drops it if the writer is too far behind.
    pub fn flush(&mut self) {
        if !self.has_gathered() {
            return;
        }
        self.last_sent = Moment::now();
        let (entries, from) = (self.encoder.entries, self.encoder.first.unwrap_or(0));
        let batch = Batch {
            bytes: self.encoder.take(),
            after_loss: self.lost.take(),
        };
        let refused = match &self.sender {
            Some(sender) => match sender.try_send(batch) {
                Ok(()) => None,
                Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => Some(batch),
            },
            None => Some(batch),
        };
        if let Some(refused) = refused {
            // The writer never sees this buffer: the names it defined are written anew.
            self.encoder.forget_names();
            self.lost_in_all += entries;
            let before = refused.after_loss.unwrap_or(Lost { from, entries: 0 });
            self.lost = Some(Lost {
                from: before.from.min(from),
                entries: before.entries + entries,
            });
        }
    }

    /// Writes everything still gathered, waits for the writer and closes the file.
    pub fn finish(mut self) -> io::Result<Written> {
        self.flush();
        if let Some(lost) = self.lost.take()
            && let Some(sender) = &self.sender
        {
            // The last word: the writer has caught up by now, or the note is lost too.
            let _ = sender.send(Batch {
                bytes: Vec::new(),
                after_loss: Some(lost),
            });
        }
        self.sender = None;
        let written = match self.writer.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the recording's writer stopped")),
            None => Err(io::Error::other("the recording's writer did not start")),
        };
        written.map(|()| Written {
            lost: self.lost_in_all,
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
        self.sender = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn write_batches(out: impl Write, batches: Receiver<Batch>, redact: &[String]) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    let mut decoder = Decoder::default();
    let mut scratch = Vec::new();
    let line = |entry: &mut Entry, out: &mut BufWriter<_>, scratch: &mut Vec<u8>| {
        super::redact::redact(entry, redact);
        entry.write_json(out, scratch)?;
        out.write_all(b"\n")
    };
    for batch in batches {
        if let Some(lost) = batch.after_loss {
            decoder.forget_names();
            line(&mut Entry::Lost(LostEntry { lost }), &mut out, &mut scratch)?;
        }
        // Redacting rewrites values, so it needs the entries; without it the buffer is written
        // as it is read.
        if redact.is_empty() {
            decoder.write_lines(&batch.bytes, &mut out, &mut scratch)?;
        } else {
            for mut entry in decoder.entries(&batch.bytes)? {
                line(&mut entry, &mut out, &mut scratch)?;
            }
        }
        out.flush()?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Input, InputEntry};
    use std::sync::{Arc, Mutex};

    /// A sink that holds every byte until `open` lets it through.
    #[derive(Clone)]
    struct Gate {
        bytes: Arc<Mutex<Vec<u8>>>,
        open: Arc<(Mutex<bool>, std::sync::Condvar)>,
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, changed) = &*self.open;
            let mut guard = open.lock().unwrap();
            while !*guard {
                guard = changed.wait(guard).unwrap();
            }
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn input(number: u64) -> Entry {
        Entry::Input(InputEntry {
            number,
            at_ms: 0.0,
            during: None,
            input: Input::Emit {
                event: "tick".into(),
                payload: crate::value!(number),
            },
        })
    }

    /// How many of the test's inputs fill a buffer.
    fn entries_per_batch() -> u64 {
        let mut encoder = Encoder::default();
        let mut count = 0;
        while encoder.buffered() < BATCH_BYTES {
            encoder.entry(&input(count + 1));
            count += 1;
        }
        count
    }

    #[test]
    fn a_writer_that_cannot_keep_up_loses_batches_and_says_where_without_blocking() {
        let gate = Gate {
            bytes: Arc::default(),
            open: Arc::default(),
        };
        let mut recorder = Recorder::to(gate.clone(), Vec::new());
        let batches = BATCHES_IN_FLIGHT as u64 + 4;
        let per_batch = entries_per_batch();
        // Nothing is written while the gate is shut: past the batches in flight, pushing
        // must drop, not wait (a wait would hang this test).
        for number in 1..=(batches * per_batch) {
            recorder.push(input(number));
        }
        *gate.open.0.lock().unwrap() = true;
        gate.open.1.notify_all();
        let written = recorder.finish().unwrap();
        assert!(written.lost >= 2 * per_batch, "{written:?}");
        let text = String::from_utf8(gate.bytes.lock().unwrap().clone()).unwrap();
        let entries: Vec<Entry> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let lost: u64 = entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Lost(LostEntry { lost }) => Some(lost.entries),
                _ => None,
            })
            .sum();
        let kept = entries
            .iter()
            .filter(|entry| matches!(entry, Entry::Input(_)))
            .count() as u64;
        assert_eq!(lost, written.lost);
        assert_eq!(kept + lost, batches * per_batch);
    }
}
