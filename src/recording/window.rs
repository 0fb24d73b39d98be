//! `run --record-on-failure DIR`: the session's last `record_window_s` seconds, kept in memory
//! and written to a file only when something goes wrong (a mod fails, the host is stopped by a
//! signal), for a bug report. The start of the session (what was stored, and the start input
//! with its outputs) is kept too, so that a replay starts the pack as it started; the inputs
//! between it and the window are left out, and the replay says so. At most [`MAX_KEPT`] entries
//! are kept, however many seconds that is.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Entry, Header};

/// The most entries the window keeps, whatever its length in seconds: a host flooded with
/// inputs keeps the newest, in bounded memory (some hundreds of bytes an entry).
const MAX_KEPT: usize = 500_000;

/// The last stretch of a session. See the module documentation.
pub(crate) struct Window {
    header: Header,
    window_ms: f64,
    /// What was stored, and the first input with its outputs.
    prologue: Vec<Entry>,
    /// Later entries, each with the virtual time of its input.
    recent: VecDeque<(f64, Entry)>,
    /// The virtual time of the input the latest entries belong to.
    now_ms: f64,
    in_prologue: bool,
}

impl Window {
    pub(crate) fn new(header: Header, window_s: u64) -> Window {
        Window {
            header,
            window_ms: window_s as f64 * 1000.0,
            prologue: Vec::new(),
            recent: VecDeque::new(),
            now_ms: 0.0,
            in_prologue: true,
        }
    }

    pub(crate) fn push(&mut self, entry: Entry) {
        if let Entry::Input(input) = &entry {
            self.in_prologue &= input.number == 1;
            self.now_ms = input.at_ms;
        }
        if self.in_prologue {
            self.prologue.push(entry);
            return;
        }
        self.recent.push_back((self.now_ms, entry));
        let oldest = self.now_ms - self.window_ms;
        // Whole inputs go: an input's outputs are never kept without it.
        while let Some((at_ms, Entry::Input(_))) = self.recent.front() {
            if *at_ms >= oldest && self.recent.len() <= MAX_KEPT {
                break;
            }
            self.recent.pop_front();
            while matches!(self.recent.front(), Some((_, entry)) if !matches!(entry, Entry::Input(_)))
            {
                self.recent.pop_front();
            }
        }
    }

    /// Writes what is kept to a new file in `dir` (made if needed), named for the wall clock
    /// now, readable by the user alone; returns its path.
    pub(crate) fn write_to(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        let path = dir.join(format!("modhost-{stamp}.jsonl"));
        let mut file = io::BufWriter::new(crate::data_dir::create_private_file(&path)?);
        serde_json::to_writer(&mut file, &self.header)?;
        file.write_all(b"\n")?;
        let redacted = &self.header.redacted;
        for entry in self
            .prologue
            .iter()
            .chain(self.recent.iter().map(|(_, entry)| entry))
        {
            if redacted.is_empty() {
                serde_json::to_writer(&mut file, entry)?;
            } else {
                let mut entry = entry.clone();
                super::redact::redact(&mut entry, redacted);
                serde_json::to_writer(&mut file, &entry)?;
            }
            file.write_all(b"\n")?;
        }
        file.flush()?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Input, InputEntry, Output, OutputEntry, PackIdentity, Seeds};

    fn input(number: u64, at_ms: f64) -> Entry {
        Entry::Input(InputEntry {
            number,
            at_ms,
            during: None,
            input: if number == 1 {
                Input::Start {}
            } else {
                Input::Emit {
                    event: "tick".into(),
                    payload: crate::value!(number),
                }
            },
        })
    }

    fn output(of: u64) -> Entry {
        Entry::Output(OutputEntry {
            of,
            output: Output::Returned(crate::value!(of)),
        })
    }

    #[test]
    fn keeps_the_start_and_the_last_seconds_as_whole_inputs() {
        let header = Header {
            modhost: "0.1.0".into(),
            format: 1,
            pack: PackIdentity::default(),
            seeds: Seeds::fresh(),
            redacted: Vec::new(),
        };
        let mut window = Window::new(header, 2);
        for number in 1..=100 {
            window.push(input(number, number as f64 * 100.0));
            window.push(output(number));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = window.write_to(dir.path()).unwrap();
        let kept: Vec<Entry> = crate::recording::reader::Reader::open(&path)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let inputs: Vec<u64> = kept
            .iter()
            .filter_map(|entry| match entry {
                Entry::Input(input) => Some(input.number),
                _ => None,
            })
            .collect();
        // Input 1 (the start), then the inputs of the last two seconds: 80 to 100.
        assert_eq!(inputs[0], 1);
        assert_eq!(inputs[1..], (80..=100).collect::<Vec<_>>()[..]);
        assert_eq!(kept.len(), 2 * inputs.len());
    }
}
