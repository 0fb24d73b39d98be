//! Collecting a burst of file events into one change.
//!
//! Editors save in many ways: in place (several writes), through a temporary file and a
//! rename, by deleting and creating; `git checkout` touches many files at once. Every event
//! marks its mod folder dirty and pushes the deadline back; the change is taken once no event
//! came for the quiet period, so each burst gives exactly one reload per mod.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::Target;

/// What changed during one burst.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    /// Names of the mod folders with changed files.
    pub folders: BTreeSet<String>,
    pub config: bool,
}

pub struct Debouncer {
    quiet: Duration,
    pending: Change,
    last_event: Option<Instant>,
}

impl Debouncer {
    pub fn new(quiet: Duration) -> Self {
        Self {
            quiet,
            pending: Change::default(),
            last_event: None,
        }
    }

    pub fn add(&mut self, target: Target, now: Instant) {
        match target {
            Target::ModFolder(folder) => {
                self.pending.folders.insert(folder);
            }
            Target::Config => self.pending.config = true,
        }
        self.last_event = Some(now);
    }

    /// When the pending change will be ready, if one is pending.
    pub fn deadline(&self) -> Option<Instant> {
        self.last_event.map(|last| last + self.quiet)
    }

    /// The pending change, once the quiet period has passed since its last event.
    pub fn take_ready(&mut self, now: Instant) -> Option<Change> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        self.last_event = None;
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> Target {
        Target::ModFolder(name.to_owned())
    }

    #[test]
    fn a_burst_becomes_one_change_once_it_goes_quiet() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut debouncer = Debouncer::new(ms(50));
        assert_eq!(debouncer.take_ready(start), None);
        debouncer.add(folder("ui"), start);
        debouncer.add(folder("ui"), start + ms(30));
        debouncer.add(folder("core"), start + ms(60));
        assert_eq!(
            debouncer.take_ready(start + ms(100)),
            None,
            "the burst is still going"
        );
        assert_eq!(debouncer.deadline(), Some(start + ms(110)));
        let change = debouncer.take_ready(start + ms(110)).unwrap();
        assert_eq!(
            change.folders,
            BTreeSet::from(["core".to_owned(), "ui".to_owned()])
        );
        assert!(!change.config);
        assert_eq!(debouncer.take_ready(start + ms(500)), None, "taken once");
        assert_eq!(debouncer.deadline(), None);
    }

    #[test]
    fn configuration_changes_are_flagged() {
        let start = Instant::now();
        let mut debouncer = Debouncer::new(Duration::ZERO);
        debouncer.add(Target::Config, start);
        let change = debouncer.take_ready(start).unwrap();
        assert!(change.config && change.folders.is_empty());
    }
}
