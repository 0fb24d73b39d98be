//! A recorded or replayed session (SPEC section 16), the host's side: every input that reaches
//! the pack through the embedding API (and so through the protocol, `--watch` and `ctl`, which
//! use it) and every output of the pack pass here, with the session's virtual clock.
//!
//! Recording, inputs and outputs go to a [`Recorder`] (borrowed, in its compact form) or to the
//! [`Window`] kept for `--record-on-failure`; the virtual clock follows the real one, and mods
//! read it as it stood when the input began. Replaying, the replay drives
//! the host through the same API and sets the clock to each input's recorded time; outputs go
//! to the replay to compare, and the mods' calls of game functions are answered by it.
//!
//! In both, what a mod can observe besides its inputs is made reproducible (see
//! [`crate::runtime::Reproducible`]), and a promise waits for timers on the virtual clock, at
//! once, so the timers it waits for are a consequence of the input, not further inputs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{Core, Host};
use crate::recording::compact::{InputRef, OutputRef};
use crate::recording::window::Window;
use crate::recording::writer::{Recorder, Written};
use crate::recording::{
    Entry, Header, InputEntry, Output, OutputEntry, PackIdentity, Seeds, Stored, StoredEntry,
};
use crate::runtime::{Json, Moment, Reproducible};

/// What a replay hears from the host it drives.
pub trait Replaying {
    /// An output of the pack, in the order it happened, with the `file:line` of the mod's
    /// code that made it when the backend knows.
    fn output(&self, output: Output, location: Option<String>);
    /// A mod calls `function` of the game (at `location`): the answer the mod gets.
    fn game_call(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
        location: Option<String>,
    ) -> Result<Json, String>;
}

pub(super) struct Session {
    seeds: Seeds,
    /// Milliseconds of virtual time since the session began, as the mods read it.
    clock: Rc<Cell<f64>>,
    /// When the session began, on the host's monotonic clock, which the timers read and each
    /// input's time is taken on.
    began: Instant,
    /// The same moment on the calls' clock ([`Moment::precise`]), which a call's input is
    /// timed on: the reading its deadline starts from.
    began_precisely: Moment,
    mode: Mode,
    next_input: Cell<u64>,
    /// The innermost input being handled (0: none); the guard of each input puts back the
    /// one it interrupted.
    current: Cell<u64>,
    /// A mod failed since [`Host::take_failure`] last asked.
    failed: Cell<bool>,
    /// Where in a mod's code the next output comes from (replaying).
    location: RefCell<Option<String>>,
}

impl Session {
    /// `instant` in milliseconds since the session began, to the microsecond (so that a file
    /// reads it back exactly).
    fn ms_at(&self, instant: Instant) -> f64 {
        micros_as_ms(instant.saturating_duration_since(self.began))
    }

    /// [`Session::ms_at`] for a reading of the calls' clock.
    fn ms_at_moment(&self, moment: Moment) -> f64 {
        micros_as_ms(moment.since(self.began_precisely))
    }
}

/// `elapsed` in milliseconds, to the microsecond.
fn micros_as_ms(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

enum Mode {
    Recording(Box<RefCell<Destination>>),
    Replaying(Rc<dyn Replaying>),
}

/// Where a recorded session's entries go: a file as they come, or the window kept in memory
/// for `--record-on-failure`.
enum Destination {
    File(Recorder),
    Window(Window),
}

impl Destination {
    fn push(&mut self, entry: Entry) {
        match self {
            Destination::File(recorder) => recorder.push(entry),
            Destination::Window(window) => window.push(entry),
        }
    }

    fn input(&mut self, number: u64, at_ms: f64, during: Option<u64>, input: InputRef<'_>) {
        match self {
            Destination::File(recorder) => recorder.push_input(number, at_ms, during, input),
            Destination::Window(window) => window.push(Entry::Input(InputEntry {
                number,
                at_ms,
                during,
                input: input.into_owned(),
            })),
        }
    }

    fn output(&mut self, of: u64, output: OutputRef<'_>) {
        match self {
            Destination::File(recorder) => recorder.push_output(of, output),
            Destination::Window(window) => window.push(Entry::Output(OutputEntry {
                of,
                output: output.into_owned(),
            })),
        }
    }
}

/// An input being handled; it ends when this is dropped.
pub(super) struct InputGuard<'a> {
    core: &'a Core,
    /// The input this one came during (0: none).
    interrupted: u64,
}

impl Drop for InputGuard<'_> {
    fn drop(&mut self) {
        // A reading of the clock no call took must not start a later one.
        self.core.input_moment.set(0);
        if let Some(session) = &*self.core.session.borrow() {
            session.current.set(self.interrupted);
        }
    }
}

impl Host {
    /// What the host runs: each mod's id, version and files' hash, and the hashes of the
    /// configuration and the game's API file.
    pub fn identity(&self) -> PackIdentity {
        let slots = self.core.slots.borrow();
        let entries: Vec<_> = slots.iter().map(|slot| slot.entry.borrow()).collect();
        PackIdentity::of(
            entries.iter().map(|entry| &**entry),
            &self.core.config.borrow(),
        )
    }

    /// Records this host's session to a new file at `path` (before [`Host::start`]), readable
    /// by the user alone, on fresh seeds, with the payload members named in `redact` hashed;
    /// [`Host::finish_recording`] closes it (dropping the host does too).
    pub fn record_to(&self, path: &std::path::Path, redact: &[String]) -> std::io::Result<()> {
        let header = self.new_header(redact);
        let recorder = Recorder::create(path, &header, redact.to_vec())?;
        self.record_into(Destination::File(recorder), &header)
    }

    /// Keeps the session's last `window_s` seconds in memory (before [`Host::start`]), for
    /// [`Host::save_window`] to write when something goes wrong.
    pub fn keep_window(&self, window_s: u64, redact: &[String]) -> std::io::Result<()> {
        let header = self.new_header(redact);
        let window = Window::new(header.clone(), window_s);
        self.record_into(Destination::Window(window), &header)
    }

    /// Writes the window [`Host::keep_window`] keeps to a new file in `dir`; returns its path.
    /// `None` when the host keeps no window.
    pub fn save_window(
        &self,
        dir: &std::path::Path,
    ) -> Option<std::io::Result<std::path::PathBuf>> {
        match &*self.core.session.borrow() {
            Some(Session {
                mode: Mode::Recording(destination),
                ..
            }) => match &*destination.borrow() {
                Destination::Window(window) => Some(window.write_to(dir)),
                Destination::File(_) => None,
            },
            _ => None,
        }
    }

    /// Whether a mod failed since the last time this was asked, in a recorded session.
    pub fn take_failure(&self) -> bool {
        self.core
            .session
            .borrow()
            .as_ref()
            .is_some_and(|session| session.failed.take())
    }

    fn new_header(&self, redact: &[String]) -> Header {
        Header {
            modhost: env!("CARGO_PKG_VERSION").to_owned(),
            format: crate::recording::FORMAT,
            pack: self.identity(),
            seeds: Seeds::fresh(),
            redacted: redact.to_vec(),
        }
    }

    /// Begins recording into `destination`: first what the mods have stored.
    fn record_into(&self, mut destination: Destination, header: &Header) -> std::io::Result<()> {
        for stored in self.core.stored()? {
            destination.push(Entry::Stored(StoredEntry { stored }));
        }
        self.core.begin_session(
            header.seeds,
            Mode::Recording(Box::new(RefCell::new(destination))),
        );
        Ok(())
    }

    /// A hash of what each mod keeps in storage now, by mod (mods that keep nothing left
    /// out): the end state a determinism check compares.
    pub fn storage_digest(&self) -> std::collections::BTreeMap<String, String> {
        let mut digests = std::collections::BTreeMap::new();
        let stored = self.core.stored().unwrap_or_default();
        for stored in stored {
            let digest: &mut Vec<u8> = digests.entry(stored.mod_id).or_default();
            digest.extend_from_slice(stored.key.as_bytes());
            digest.push(0);
            digest.extend_from_slice(stored.value.to_string().as_bytes());
            digest.push(0);
        }
        digests
            .into_iter()
            .map(|(mod_id, bytes)| {
                (
                    mod_id,
                    format!("{:016x}", crate::source::content_hash(&bytes)),
                )
            })
            .collect()
    }

    /// Under a replay, before [`Host::start`]: what a mod had in storage when the session
    /// was recorded.
    pub fn restore_storage(&self, stored: &Stored) -> Result<(), String> {
        self.core
            .with_store(|store| store.set(&stored.mod_id, &stored.key, &stored.value, u64::MAX))
    }

    /// Ends the recording: writes what is gathered and closes the file. `None` when the host
    /// was not recording.
    pub fn finish_recording(&self) -> Option<std::io::Result<Written>> {
        let session = self.core.session.borrow_mut().take()?;
        match session.mode {
            Mode::Recording(destination) => match destination.into_inner() {
                Destination::File(recorder) => Some(recorder.finish()),
                Destination::Window(_) => None,
            },
            Mode::Replaying(_) => None,
        }
    }

    /// Hands the recorded entries gathered so far to the recording's writer if they have
    /// waited [`FLUSH_EVERY`](crate::recording::writer::FLUSH_EVERY) (or `now`); a game loop calls this when it goes idle. Returns
    /// whether entries are still gathered, waiting for the next call.
    pub fn flush_recording(&self, now: bool) -> bool {
        let session = self.core.session.borrow();
        let Some(Session {
            mode: Mode::Recording(destination),
            ..
        }) = &*session
        else {
            return false;
        };
        let mut destination = destination.borrow_mut();
        let Destination::File(recorder) = &mut *destination else {
            return false;
        };
        if now {
            recorder.flush();
        } else {
            recorder.flush_if_due();
        }
        recorder.has_gathered()
    }

    /// Puts the host under a replay (before [`Host::start`]): `replaying` hears every output
    /// and answers the mods' game calls, and the mods see the recording's clock and seeds.
    pub fn replay(&self, seeds: Seeds, replaying: Rc<dyn Replaying>) {
        self.core.begin_session(seeds, Mode::Replaying(replaying));
    }

    /// Under a replay: moves the virtual clock to `at_ms` after the session began (never
    /// back) before the next input.
    pub fn set_session_time(&self, at_ms: f64) {
        if let Some(session) = &*self.core.session.borrow()
            && at_ms > session.clock.get()
        {
            session.clock.set(at_ms);
        }
    }

    /// Under a replay: runs timer `timer` of mod `mod_id` now, as the recording says it
    /// fired. `false` when the mod has no such timer pending.
    pub fn fire_timer(&self, mod_id: &str, timer: u64) -> bool {
        self.core.fire_timer(mod_id, timer)
    }
}

impl Core {
    fn begin_session(&self, seeds: Seeds, mode: Mode) {
        *self.session.borrow_mut() = Some(Session {
            seeds,
            clock: Rc::new(Cell::new(0.0)),
            began: Instant::now(),
            began_precisely: Moment::precise(),
            mode,
            next_input: Cell::new(1),
            current: Cell::new(0),
            failed: Cell::new(false),
            location: RefCell::new(None),
        });
    }

    /// Everything the mods keep in storage (nothing when no store is open and the data dir
    /// has none, which is then not made).
    fn stored(&self) -> std::io::Result<Vec<Stored>> {
        let unopened = self.store.borrow().is_none();
        if unopened
            && !(self.config.borrow().data_dir)
                .join(crate::storage::FILE_NAME)
                .exists()
        {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = self
            .slots
            .borrow()
            .iter()
            .map(|slot| slot.id.clone())
            .collect();
        self.with_store(|store| {
            let mut stored = Vec::new();
            for mod_id in ids {
                for key in store.keys(&mod_id, "")? {
                    if let Some(value) = store.get(&mod_id, &key)? {
                        stored.push(Stored {
                            mod_id: mod_id.clone(),
                            key,
                            value,
                        });
                    }
                }
            }
            Ok(stored)
        })
        .map_err(std::io::Error::other)
    }

    /// What a mod starting now gets to make it reproducible, in a session.
    pub(super) fn reproducible(&self, mod_id: &str) -> Option<Reproducible> {
        let session = self.session.borrow();
        let session = session.as_ref()?;
        Some(Reproducible {
            clock: Rc::clone(&session.clock),
            epoch_ms: session.seeds.epoch_ms as f64,
            seed: session.seeds.of_mod(mod_id),
            machine: session.seeds.of_machine(mod_id),
        })
    }

    /// Now on the session's clock, when there is a session.
    pub(super) fn session_now(&self) -> Option<Instant> {
        let session = self.session.borrow();
        let session = session.as_ref()?;
        Some(session.began + Duration::from_secs_f64(session.clock.get() / 1000.0))
    }

    /// `instant` in milliseconds of the session's clock, to the microsecond (0 outside a
    /// session).
    pub(super) fn session_ms(&self, instant: Instant) -> f64 {
        self.session
            .borrow()
            .as_ref()
            .map_or(0.0, |session| session.ms_at(instant))
    }

    /// Moves the session's clock on to `instant` (a promise waiting for a timer due then).
    pub(super) fn advance_session_to(&self, instant: Instant) {
        if let Some(session) = &*self.session.borrow() {
            let at_ms = session.ms_at(instant);
            if at_ms > session.clock.get() {
                session.clock.set(at_ms);
            }
        }
    }

    /// A mod failed: a recorded session keeping a window writes it out ([`Host::take_failure`]).
    pub(super) fn note_failure(&self) {
        if let Some(session) = &*self.session.borrow() {
            session.failed.set(true);
        }
    }

    /// Where in a mod's code the next output comes from (`None` forgets it).
    pub(super) fn note_location(&self, location: Option<String>) {
        if let Some(session) = &*self.session.borrow() {
            *session.location.borrow_mut() = location;
        }
    }

    /// The location noted last, taken.
    pub(super) fn take_location(&self) -> Option<String> {
        self.session
            .borrow()
            .as_ref()
            .and_then(|session| session.location.take())
    }

    /// Whether a replay drives this host (timers then fire only as the recording says).
    pub(super) fn is_replaying(&self) -> bool {
        matches!(
            &*self.session.borrow(),
            Some(Session {
                mode: Mode::Replaying(_),
                ..
            })
        )
    }

    /// An input reaches the pack: recorded (with the clock brought up to the real time) while
    /// recording. It is handled until the guard is dropped.
    pub(super) fn input<'a, I: Into<InputRef<'a>>>(
        &self,
        input: impl FnOnce() -> I,
    ) -> Option<InputGuard<'_>> {
        self.input_at(None, input)
    }

    /// [`Core::input`], at `at` on the monotonic clock instead of now: a timer's input is at
    /// the moment it fired, which is what its interval was rescheduled from.
    pub(super) fn input_at<'a, I: Into<InputRef<'a>>>(
        &self,
        at: Option<Instant>,
        input: impl FnOnce() -> I,
    ) -> Option<InputGuard<'_>> {
        let session = self.session.borrow();
        let session = session.as_ref()?;
        let number = session.next_input.get();
        session.next_input.set(number + 1);
        let interrupted = session.current.replace(number);
        let during = Some(interrupted).filter(|&number| number > 0);
        if let Mode::Recording(destination) = &session.mode {
            let input = input().into();
            // The call this input is starts its clock from this reading: one, not two.
            let called_at = matches!(input, InputRef::Call { .. }).then(Moment::precise);
            if let Some(called_at) = called_at {
                self.input_moment.set(called_at.nanos());
            }
            // A timer's input is at the moment it fired on the timers' clock, the monotonic
            // one, which a replay reschedules an interval from. Any other input is now on the
            // processor's counter, which is matched to the monotonic clock every 100 ms and
            // stays within microseconds of it (`runtime::clock`): a call's is the reading its
            // deadline starts from, not read twice. The session's time never goes back.
            let at_ms = match at {
                Some(at) => session.ms_at(at),
                None => session.ms_at_moment(called_at.unwrap_or_else(Moment::precise)),
            }
            .max(session.clock.get());
            session.clock.set(at_ms);
            destination.borrow_mut().input(number, at_ms, during, input);
        }
        Some(InputGuard {
            core: self,
            interrupted,
        })
    }

    /// An output of the pack, made only in a session.
    pub(super) fn output<'a, O: Into<OutputRef<'a>>>(&self, output: impl FnOnce() -> O) {
        let (replaying, location) = {
            let session = self.session.borrow();
            let Some(session) = session.as_ref() else {
                return;
            };
            match &session.mode {
                Mode::Recording(destination) => {
                    let of = session.current.get();
                    destination.borrow_mut().output(of, output().into());
                    return;
                }
                Mode::Replaying(replaying) => (Rc::clone(replaying), session.location.take()),
            }
        };
        // Outside the borrow: the replay may drive the host from here (an input that came
        // while a mod waited for the game).
        replaying.output(output().into().into_owned(), location);
    }

    /// Under a replay, the answer to a mod's game call, from the recording.
    pub(super) fn replayed_answer(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
    ) -> Option<Result<Json, String>> {
        let (replaying, location) = match &*self.session.borrow() {
            Some(
                session @ Session {
                    mode: Mode::Replaying(replaying),
                    ..
                },
            ) => (Rc::clone(replaying), session.location.take()),
            _ => return None,
        };
        Some(replaying.game_call(mod_id, function, args, location))
    }
}
