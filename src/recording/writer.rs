//! Writing a recording without ever making the host wait for the disk.
//!
//! The host hands entries to a [`Recorder`], which gathers them in batches and passes each
//! batch to a thread of its own that turns them into JSON lines. The hand-over is bounded: when
//! the writer has fallen [`BATCHES_IN_FLIGHT`] batches behind (a slow or full disk), the batch
//! is dropped instead of waited for, and the recording says so with a [`Lost`] entry before the
//! next batch that gets through, so a replay knows where it cannot follow.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Entry, Header, Lost, LostEntry};
use crate::runtime::Moment;

/// Entries gathered before a batch goes to the writer.
const BATCH: usize = 512;
/// Batches handed over and not yet written, at most.
pub const BATCHES_IN_FLIGHT: usize = 64;
/// A batch goes to the writer at least this often while entries come in.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where a recording goes, in batches. See the module documentation.
pub struct Recorder {
    batch: Vec<Entry>,
    sender: Option<SyncSender<Vec<Entry>>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    /// Entries dropped since the last batch that got through.
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
    pub fn create(path: &Path, header: &Header, redact: Vec<String>) -> io::Result<Recorder> {
        let mut file = BufWriter::new(crate::data_dir::create_private_file(path)?);
        serde_json::to_writer(&mut file, header)?;
        file.write_all(b"\n")?;
        file.flush()?;
        Ok(Recorder::to(file, redact))
    }

    /// A recorder that writes to `out`.
    pub fn to(out: impl Write + Send + 'static, redact: Vec<String>) -> Recorder {
        let (sender, receiver) = sync_channel(BATCHES_IN_FLIGHT);
        let writer = std::thread::Builder::new()
            .name("modhost-recording".to_owned())
            .spawn(move || write_batches(out, receiver, &redact))
            .ok();
        Recorder {
            batch: Vec::with_capacity(BATCH),
            sender: writer.as_ref().map(|_| sender),
            writer,
            lost: None,
            lost_in_all: 0,
            last_sent: Moment::now(),
        }
    }

    pub fn push(&mut self, entry: Entry) {
        self.batch.push(entry);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    /// Whether entries are gathered that the writer has not been handed yet.
    pub fn has_gathered(&self) -> bool {
        !self.batch.is_empty()
    }

    /// Hands what is gathered to the writer when it has waited long enough; the host calls
    /// this when it goes idle.
    pub fn flush_if_due(&mut self) {
        if !self.batch.is_empty() && Moment::now().since(self.last_sent) >= FLUSH_EVERY {
            self.flush();
        }
    }

    /// Hands what is gathered to the writer now, or drops it if the writer is too far behind.
    pub fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.last_sent = Moment::now();
        let mut batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(lost) = self.lost.take() {
            batch.insert(0, Entry::Lost(LostEntry { lost }));
        }
        let Some(sender) = &self.sender else {
            return self.drop_batch(batch);
        };
        match sender.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(batch) | TrySendError::Disconnected(batch)) => {
                self.drop_batch(batch)
            }
        }
    }

    fn drop_batch(&mut self, batch: Vec<Entry>) {
        let mut entries = 0;
        let mut from = None;
        for entry in &batch {
            match entry {
                // A loss note that did not get through is folded into this one.
                Entry::Lost(LostEntry { lost }) => {
                    entries += lost.entries;
                    from = from.or(Some(lost.from));
                }
                Entry::Input(input) => {
                    entries += 1;
                    from = from.or(Some(input.number));
                }
                Entry::Output(output) => {
                    entries += 1;
                    from = from.or(Some(output.of));
                }
                Entry::Stored(_) => {
                    entries += 1;
                    from = from.or(Some(0));
                }
            }
        }
        self.lost_in_all += batch
            .iter()
            .filter(|entry| !matches!(entry, Entry::Lost(_)))
            .count() as u64;
        self.lost = Some(Lost {
            from: from.unwrap_or(0),
            entries,
        });
    }

    /// Writes everything still gathered, waits for the writer and closes the file.
    pub fn finish(mut self) -> io::Result<Written> {
        self.flush();
        if let Some(lost) = self.lost.take()
            && let Some(sender) = &self.sender
        {
            // The last word: the writer has caught up by now, or the note is lost too.
            let _ = sender.send(vec![Entry::Lost(LostEntry { lost })]);
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

fn write_batches(
    out: impl Write,
    batches: Receiver<Vec<Entry>>,
    redact: &[String],
) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    for batch in batches {
        for mut entry in batch {
            super::redact::redact(&mut entry, redact);
            serde_json::to_writer(&mut out, &entry)?;
            out.write_all(b"\n")?;
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
                payload: serde_json::json!(number),
            },
        })
    }

    #[test]
    fn a_writer_that_cannot_keep_up_loses_batches_and_says_where_without_blocking() {
        let gate = Gate {
            bytes: Arc::default(),
            open: Arc::default(),
        };
        let mut recorder = Recorder::to(gate.clone(), Vec::new());
        let batches = BATCHES_IN_FLIGHT as u64 + 4;
        // Nothing is written while the gate is shut: past the batches in flight, pushing
        // must drop, not wait (a wait would hang this test).
        for number in 1..=(batches * BATCH as u64) {
            recorder.push(input(number));
        }
        *gate.open.0.lock().unwrap() = true;
        gate.open.1.notify_all();
        let written = recorder.finish().unwrap();
        assert!(written.lost >= 2 * BATCH as u64, "{written:?}");
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
        assert_eq!(kept + lost, batches * BATCH as u64);
    }
}
