//! Replaying a recording against the pack as it is now (SPEC section 16).
//!
//! A [`Replay`] drives a [`Host`] through the embedding API with the recorded inputs, in
//! order, on the recording's virtual clock and seeds, as fast as the machine allows. It answers
//! the mods' calls of game functions from the recording, runs the inputs that arrived while a
//! mod waited for such an answer inside that wait (as they happened), and compares the outputs
//! of each input with the recorded ones: the first that differs is the input's divergence.
//!
//! A replay can write what it saw as a recording of its own ([`Replay::record_to`]), which is
//! how a determinism check compares two hosts: the second replays the first's outputs on
//! another machine's seeds.

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::rc::{Rc, Weak};

use serde::Serialize;

use crate::config::Config;
use crate::host::{CallError, Host, Replaying, Reread};
use crate::pack::{Pack, PackError};
use crate::recording::reader::{Reader, RecordingError};
use crate::recording::writer::Recorder;
use crate::recording::{
    Answer, Entry, Input, InputEntry, Output, OutputEntry, PackIdentity, Seeds, StoredEntry,
};
use crate::runtime::Json;

/// How much a replay keeps of what differed: the first divergences in full, the rest counted.
const DIVERGENCES_KEPT: usize = 100;

/// What to replay, and how.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Stop after this input.
    pub until: Option<u64>,
    /// Compare only the outputs of these mods (`None`: every mod's, and the pack's own).
    pub mods_only: Option<Vec<String>>,
    /// Replay on these seeds instead of the recording's (a determinism check's second host).
    pub seeds: Option<Seeds>,
}

/// An output that differs from the recording: the first of one mod (or of the pack's own
/// outputs) at one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Divergence {
    /// The input's number in the recording.
    pub input: u64,
    /// Its virtual time, in milliseconds since the session began.
    pub at_ms: f64,
    /// What the input was: `call my-mod.greet`, `emit tick`.
    pub what: String,
    /// The mod whose output differs, when a mod's.
    #[serde(rename = "mod")]
    pub mod_id: Option<String>,
    /// The output the recording has here, as it is written there (`None`: the replay
    /// produced one more).
    pub expected: Option<Json>,
    /// The output the replay produced here (`None`: one fewer).
    pub actual: Option<Json>,
    /// `file:line` of the mod's code that produced `actual`, when known.
    pub at: Option<String>,
}

/// What a replay came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    /// Inputs replayed.
    pub inputs: u64,
    /// Outputs compared.
    pub outputs: u64,
    /// The virtual time of the last input replayed.
    pub recorded_ms: f64,
    /// The first divergences, in the order of their inputs.
    pub divergences: Vec<Divergence>,
    /// Inputs with a divergence, all of them.
    pub divergent_inputs: u64,
    /// How the pack differs from the one recorded ("`b` changed (1.0.0 -> 1.1.0)").
    pub changes: Vec<String>,
    /// What the replay could not follow: lost entries, a recording cut short, a recorded
    /// input the pack cannot take any more.
    pub notes: Vec<String>,
    /// A hash of what each mod kept in storage when the replay ended.
    pub storage: std::collections::BTreeMap<String, String>,
}

impl ReplayReport {
    pub fn is_identical(&self) -> bool {
        self.divergent_inputs == 0
    }
}

/// Why a replay cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Recording(#[from] RecordingError),
    /// The recording's inputs name mods, or functions of mods, the pack no longer has: every
    /// one, `mod` or `mod.function`.
    #[error("the recording names what this pack no longer has: {}; replay it against a pack that has them", .0.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", "))]
    Missing(Vec<String>),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error("cannot make the replay's scratch files: {0}")]
    Write(std::io::Error),
}

/// One input being replayed.
struct Frame {
    number: u64,
    at_ms: f64,
    /// The input, described only if one of its outputs diverges.
    input: Input,
    expected: Vec<Output>,
    actual: Vec<Output>,
    /// Where each of `actual` came from.
    locations: Vec<Option<String>>,
}

/// A replay of one recording into one host. See the module documentation.
pub(crate) struct Replay {
    host: Weak<Host>,
    /// The members the recording hashed, hashed in what the replay sees too.
    redacted: Vec<String>,
    reader: RefCell<Reader>,
    options: ReplayOptions,
    frames: RefCell<Vec<Frame>>,
    report: RefCell<ReplayReport>,
    /// The replay's own recording, for a second host to compare with.
    copy: RefCell<Option<Recorder>>,
    stopped: Cell<bool>,
    /// The number of the latest input replayed.
    last_input: Cell<u64>,
    /// Mods and `mod.function`s the recording's inputs name and the pack no longer has.
    missing: RefCell<std::collections::BTreeSet<String>>,
    /// The recording left inputs out (a window): when timers were due is no longer compared,
    /// as the intervals that ran in the gap did not run here.
    gapped: Cell<bool>,
}

impl Replay {
    /// Prepares `host` (not started yet) to replay `reader`: the host takes the recording's
    /// seeds (or `options.seeds`) and its game calls are answered from the recording.
    /// `now` is the pack the host runs, to name what changed since the recording.
    pub(crate) fn new(
        host: &Rc<Host>,
        reader: Reader,
        now: &PackIdentity,
        options: ReplayOptions,
    ) -> Rc<Replay> {
        let header = reader.header().clone();
        let seeds = options.seeds.unwrap_or(header.seeds);
        let report = ReplayReport {
            changes: header.pack.changes_in(now),
            ..ReplayReport::default()
        };
        let replay = Rc::new(Replay {
            host: Rc::downgrade(host),
            redacted: header.redacted.clone(),
            reader: RefCell::new(reader),
            options,
            frames: RefCell::new(Vec::new()),
            report: RefCell::new(report),
            copy: RefCell::new(None),
            stopped: Cell::new(false),
            last_input: Cell::new(0),
            gapped: Cell::new(false),
            missing: RefCell::default(),
        });
        host.replay(seeds, Rc::clone(&replay) as Rc<dyn Replaying>);
        replay
    }

    /// Also writes what this replay sees (its inputs, its own outputs, the recorded answers)
    /// as a recording, to `recorder`.
    pub(crate) fn record_to(&self, recorder: Recorder) {
        *self.copy.borrow_mut() = Some(recorder);
    }

    /// Replays every input (up to `until`), then returns the report. A recording cut short or
    /// with lost entries is replayed as far as it goes, with a note.
    pub(crate) fn run(&self) -> Result<ReplayReport, ReplayError> {
        while !self.stopped.get() {
            let Some(entry) = self.reader.borrow_mut().next() else {
                break;
            };
            match entry? {
                Entry::Stored(stored) => self.restore(stored),
                Entry::Input(input) => {
                    let last = self.last_input.get();
                    if last > 0 && input.number > last + 1 {
                        self.gapped.set(true);
                        self.note(format!(
                            "inputs {} to {} are not in the recording (a window of the session's end, `--record-on-failure`): the mods' state before input {} may differ",
                            last + 1,
                            input.number - 1,
                            input.number
                        ));
                    }
                    self.replay_input(input);
                }
                Entry::Lost(lost) => {
                    self.note(format!(
                        "the recording lost {} entries from input {} on (its writer fell behind); the outputs there are not compared",
                        lost.lost.entries, lost.lost.from
                    ));
                }
                // An output of no input being replayed: one the recording had of an input
                // that could not be replayed.
                Entry::Output(_) => {}
            }
        }
        if let Some(line) = self.reader.borrow().truncated_at() {
            self.note(format!(
                "the recording ends in the middle of line {line} (the recording host stopped while writing it); replayed up to there"
            ));
        }
        if let Some(copy) = self.copy.borrow_mut().take() {
            copy.finish().map_err(ReplayError::Write)?;
        }
        if let Some(host) = self.host() {
            self.report.borrow_mut().storage = host.storage_digest();
        }
        let missing = self.missing.take();
        if !missing.is_empty() {
            return Err(ReplayError::Missing(missing.into_iter().collect()));
        }
        Ok(self.report.borrow().clone())
    }

    /// What a mod had stored when the session was recorded goes back into storage.
    fn restore(&self, stored: StoredEntry) {
        if let Some(copy) = &mut *self.copy.borrow_mut() {
            copy.push(Entry::Stored(stored.clone()));
        }
        if let Some(host) = self.host()
            && let Err(why) = host.restore_storage(&stored.stored)
        {
            self.note(format!(
                "what `{}` had stored under `{}` cannot be restored: {why}",
                stored.stored.mod_id, stored.stored.key
            ));
        }
    }

    fn note(&self, note: String) {
        self.report.borrow_mut().notes.push(note);
    }

    fn host(&self) -> Option<Rc<Host>> {
        self.host.upgrade()
    }

    fn replay_input(&self, entry: InputEntry) {
        let Some(host) = self.host() else {
            return;
        };
        if let Some(until) = self.options.until
            && entry.number > until
        {
            self.stopped.set(true);
            return;
        }
        self.last_input.set(self.last_input.get().max(entry.number));
        if let Some(copy) = &mut *self.copy.borrow_mut() {
            copy.push(Entry::Input(entry.clone()));
        }
        let InputEntry {
            number,
            at_ms,
            input,
            ..
        } = entry;
        host.set_session_time(at_ms);
        self.frames.borrow_mut().push(Frame {
            number,
            at_ms,
            // The input goes in once it is applied: the frame is on the stack meanwhile, for
            // the outputs (and the inputs nested in a wait) it brings.
            input: Input::Start {},
            expected: Vec::new(),
            actual: Vec::new(),
            locations: Vec::new(),
        });
        let gone = self.apply(&host, &input);
        // What the recording has left of this input: its outputs, and inputs that arrived
        // during a game call the replay did not make.
        while let Some(next) = self.next_of(number) {
            match next {
                Entry::Output(output) => self.expect(output.output),
                Entry::Input(input) => self.replay_input(input),
                _ => {}
            }
        }
        // A recording cut short in this input's outputs, or that lost the entries after
        // them, has only their beginning.
        let cut = {
            let mut reader = self.reader.borrow_mut();
            match reader.peek() {
                None => reader.truncated_at().is_some(),
                Some(Ok(Entry::Lost(_))) => true,
                Some(_) => false,
            }
        };
        let frame = self.frames.borrow_mut().pop();
        if let Some(mut frame) = frame {
            // A call the recording has returning, of a function the pack no longer has (a
            // call that failed then too is only compared).
            if let Some(gone) = gone
                && frame
                    .expected
                    .iter()
                    .any(|output| matches!(output, Output::Returned(_)))
            {
                self.missing.borrow_mut().insert(gone);
            }
            frame.input = input;
            self.compare(frame, cut);
        }
    }

    /// The recording's next entry if it belongs to input `number`: one of its outputs, or an
    /// input that arrived while one of its mods waited for the game. A line that does not read
    /// is left for [`Replay::run`] to report.
    fn next_of(&self, number: u64) -> Option<Entry> {
        let mut reader = self.reader.borrow_mut();
        let belongs = match reader.peek() {
            Some(Ok(Entry::Output(output))) => output.of == number,
            Some(Ok(Entry::Input(input))) => input.during == Some(number),
            _ => false,
        };
        belongs
            .then(|| reader.next())
            .flatten()
            .and_then(Result::ok)
    }

    /// Puts one recorded input to the host. Returns the `mod.function` it called if the pack
    /// has no such function.
    fn apply(&self, host: &Host, input: &Input) -> Option<String> {
        if let Some(mod_id) = input.mod_id()
            && !host.has_mod(mod_id)
        {
            self.missing.borrow_mut().insert(mod_id.to_owned());
            return None;
        }
        match input {
            Input::Start {} => host.start(),
            Input::Call {
                mod_id,
                function,
                args,
            } => {
                // The result is an output the host reports itself; a function that is gone is
                // missing if the recording has it returning (`replay_input` looks).
                if let Err(CallError::NoSuchFunction { .. }) = host.call(mod_id, function, args) {
                    return Some(format!("{mod_id}.{function}"));
                }
            }
            Input::Emit { event, payload } => {
                if let Err(why) = host.emit(event, payload.clone()) {
                    self.note(format!("the game's event `{event}` is refused now: {why}"));
                }
            }
            Input::Timer { mod_id, timer } => {
                if !host.fire_timer(mod_id, *timer) {
                    // The outputs it had in the recording are then missing, each a divergence.
                    tracing::debug!("the replay has no timer {timer} of `{mod_id}`");
                }
            }
            Input::Reload { mods } => {
                let ids: Vec<String> = mods.iter().map(|identity| identity.id.clone()).collect();
                if let Err(why) = host.reload_from_disk(Reread::Mods(ids)) {
                    self.note(format!("the recorded reload cannot be replayed: {why}"));
                }
            }
            Input::Setting { mod_id, key, value } => {
                if let Err(why) = host.set_setting(mod_id, key, value.clone()) {
                    self.note(format!("the recorded setting cannot be replayed: {why}"));
                }
            }
            Input::Enable { mod_id } => {
                let _ = host.enable(mod_id);
            }
            Input::Disable { mod_id } => {
                let _ = host.disable(mod_id);
            }
            Input::Shutdown {} => {
                host.shutdown();
            }
        }
        None
    }

    fn compared(&self, output: &Output) -> bool {
        if self.gapped.get() && matches!(output, Output::Timer { .. }) {
            return false;
        }
        match &self.options.mods_only {
            None => true,
            Some(only) => output
                .mod_id()
                .is_some_and(|id| only.iter().any(|kept| kept == id)),
        }
    }

    fn expect(&self, output: Output) {
        if let Some(frame) = self.frames.borrow_mut().last_mut()
            && self.compared(&output)
        {
            frame.expected.push(output);
        }
    }

    fn copy_output(&self, output: &Output) {
        let of = self.frames.borrow().last().map_or(0, |frame| frame.number);
        if let Some(copy) = &mut *self.copy.borrow_mut() {
            copy.push(Entry::Output(OutputEntry {
                of,
                output: output.clone(),
            }));
        }
    }

    /// Compares an input's outputs mod by mod (each mod's in their order, and the pack's own:
    /// results and the game's events): the first that differs in each is a divergence. When
    /// the recording was `cut` short in this input, outputs past its end are not compared.
    fn compare(&self, frame: Frame, cut: bool) {
        let mut report = self.report.borrow_mut();
        report.inputs += 1;
        report.recorded_ms = frame.at_ms;
        report.outputs += frame.actual.len().max(frame.expected.len()) as u64;
        // Each producer's outputs by index, in the order producers first appear: one pass,
        // however many mods an input reaches (a pack of 10,000 starting).
        let mut producers: Vec<(Option<&str>, Vec<usize>, Vec<usize>)> = Vec::new();
        let mut place: rustc_hash::FxHashMap<Option<&str>, usize> = Default::default();
        for (side, outputs) in [(0, &frame.expected), (1, &frame.actual)] {
            for (at, output) in outputs.iter().enumerate() {
                let producer = output.mod_id();
                let slot = *place.entry(producer).or_insert_with(|| {
                    producers.push((producer, Vec::new(), Vec::new()));
                    producers.len() - 1
                });
                match side {
                    0 => producers[slot].1.push(at),
                    _ => producers[slot].2.push(at),
                }
            }
        }
        let mut diverged = false;
        for (producer, expected_at, actual_at) in producers {
            let expected: Vec<&Output> =
                expected_at.iter().map(|&at| &frame.expected[at]).collect();
            let actual: Vec<&Output> = actual_at.iter().map(|&at| &frame.actual[at]).collect();
            let compared = match cut {
                true => expected.len(),
                false => expected.len().max(actual.len()),
            };
            let differs = (0..compared).find(|&at| match (expected.get(at), actual.get(at)) {
                (Some(expected), Some(actual)) => !expected.same_as(actual),
                _ => true,
            });
            let Some(at) = differs else {
                continue;
            };
            diverged = true;
            if report.divergences.len() < DIVERGENCES_KEPT {
                report.divergences.push(Divergence {
                    input: frame.number,
                    at_ms: frame.at_ms,
                    what: frame.input.describe(),
                    mod_id: producer.map(str::to_owned),
                    expected: expected.get(at).map(|output| as_written(output)),
                    actual: actual.get(at).map(|output| as_written(output)),
                    at: actual_at
                        .get(at)
                        .and_then(|&index| frame.locations.get(index).cloned().flatten()),
                });
            }
        }
        if diverged {
            report.divergent_inputs += 1;
        }
    }
}

impl Replaying for Replay {
    fn output(&self, mut output: Output, location: Option<String>) {
        crate::recording::redact::redact_output(&mut output, &self.redacted);
        self.copy_output(&output);
        if !self.compared(&output) {
            return;
        }
        if let Some(frame) = self.frames.borrow_mut().last_mut() {
            frame.actual.push(output);
            frame.locations.push(location);
        }
    }

    fn game_call(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
        location: Option<String>,
    ) -> Result<Json, String> {
        let Some(number) = self.frames.borrow().last().map(|frame| frame.number) else {
            return Err("the replay is not replaying an input".to_owned());
        };
        // The recording's outputs of this input up to its next game call; inputs that arrived
        // while a mod waited are replayed here, during the wait, as they happened.
        let answer = loop {
            match self.next_of(number) {
                Some(Entry::Output(OutputEntry {
                    output:
                        Output::GameCall {
                            mod_id: recorded_mod,
                            function: recorded_function,
                            args: recorded_args,
                            answer,
                        },
                    ..
                })) if recorded_mod == mod_id && recorded_function == function => {
                    self.expect(Output::GameCall {
                        mod_id: recorded_mod,
                        function: recorded_function,
                        args: recorded_args,
                        answer: answer.clone(),
                    });
                    break answer;
                }
                Some(Entry::Output(output)) => self.expect(output.output),
                Some(Entry::Input(input)) => self.replay_input(input),
                _ => {
                    break Answer::Error(format!(
                        "the recording has no answer to this call: in the recorded session `{mod_id}` did not call `{function}` here"
                    ));
                }
            }
        };
        let actual = Output::GameCall {
            mod_id: mod_id.to_owned(),
            function: function.to_owned(),
            args: args.to_vec(),
            answer: answer.clone(),
        };
        self.output(actual, location);
        answer.into()
    }
}

/// An output as a recording writes it.
fn as_written(output: &Output) -> Json {
    crate::value::to_value(output)
}

/// Replays the recording at `path` against the pack `config` describes, as it is now. The
/// replay's storage lives in memory: the user's is never touched.
pub fn replay_file(
    path: &Path,
    config: &Config,
    options: ReplayOptions,
) -> Result<ReplayReport, ReplayError> {
    let pack = Loaded::new(config)?;
    replay_into(Reader::open(path)?, &pack, options, None)
}

/// [`replay_file`], keeping the host as the replay left it (after `until`, say), for a
/// developer to look into; it is the caller's to shut down.
pub fn replay_and_keep(
    path: &Path,
    config: &Config,
    options: ReplayOptions,
) -> Result<(ReplayReport, Rc<Host>), ReplayError> {
    let pack = Loaded::new(config)?;
    let (host, replay) = prepare(Reader::open(path)?, &pack, options, None)?;
    Ok((replay.run()?, host))
}

/// What a determinism check found.
#[derive(Debug, Clone, Serialize)]
pub struct Determinism {
    /// The first host against the recording (the pack may have changed since).
    pub against_recording: ReplayReport,
    /// The second host, on another machine's clock and seeds, against the first: each
    /// divergence is a mod that would make two machines disagree.
    pub between_hosts: ReplayReport,
}

/// Replays the recording at `path` in two hosts, the second on another machine's wall clock,
/// string hashing and entropy (the session's seeds shared, as a lockstep game shares them), and
/// compares the second's outputs with the first's.
pub fn check_determinism(
    path: &Path,
    config: &Config,
    options: ReplayOptions,
) -> Result<Determinism, ReplayError> {
    let scratch = tempfile::tempdir().map_err(ReplayError::Write)?;
    let first = scratch.path().join("first.jsonl");
    let recording = Reader::open(path)?;
    let seeds = recording.header().seeds.other_machine();
    // The pack is read, compiled and hashed once, for both hosts.
    let pack = Loaded::new(config)?;
    let against_recording = replay_into(recording, &pack, options.clone(), Some(&first))?;
    let between_hosts = replay_into(
        Reader::open(&first)?,
        &pack,
        ReplayOptions {
            seeds: Some(seeds),
            until: None,
            ..options
        },
        None,
    )?;
    let mut between_hosts = between_hosts;
    let owners: std::collections::BTreeSet<&String> = against_recording
        .storage
        .keys()
        .chain(between_hosts.storage.keys())
        .collect();
    for mod_id in owners {
        let (first, second) = (
            against_recording.storage.get(mod_id),
            between_hosts.storage.get(mod_id),
        );
        if first != second {
            between_hosts.divergent_inputs += 1;
            between_hosts.divergences.push(Divergence {
                input: against_recording.inputs,
                at_ms: against_recording.recorded_ms,
                what: "what the mod kept in storage, at the end".to_owned(),
                mod_id: Some(mod_id.clone()),
                expected: first.map(|hash| crate::value!({ "storage": hash })),
                actual: second.map(|hash| crate::value!({ "storage": hash })),
                at: None,
            });
        }
    }
    Ok(Determinism {
        against_recording,
        between_hosts,
    })
}

/// The pack as it is now, read and compiled, with its identity: what each host of a replay is
/// made from.
struct Loaded<'a> {
    config: &'a Config,
    pack: Pack,
    identity: PackIdentity,
}

impl<'a> Loaded<'a> {
    fn new(config: &'a Config) -> Result<Loaded<'a>, ReplayError> {
        let mut pack = Pack::load(config)?;
        pack.check_syntax();
        // In load order, as the host holds its mods ([`Host::identity`]).
        let identity = PackIdentity::of(pack.ordered(), config);
        Ok(Loaded {
            config,
            pack,
            identity,
        })
    }
}

fn replay_into(
    reader: Reader,
    pack: &Loaded<'_>,
    options: ReplayOptions,
    copy_to: Option<&Path>,
) -> Result<ReplayReport, ReplayError> {
    let (host, replay) = prepare(reader, pack, options, copy_to)?;
    let report = replay.run();
    host.shutdown();
    report
}

/// A host for the pack as it is now, put under a replay of `reader`, writing what it sees to
/// `copy_to` when given.
fn prepare(
    reader: Reader,
    pack: &Loaded<'_>,
    options: ReplayOptions,
    copy_to: Option<&Path>,
) -> Result<(Rc<Host>, Rc<Replay>), ReplayError> {
    let host = Rc::new(Host::new(pack.pack.clone(), pack.config.clone()));
    let header = reader.header().clone();
    let replay = Replay::new(&host, reader, &pack.identity, options);
    if let Some(copy_to) = copy_to {
        let recorder =
            Recorder::create(copy_to, &header, Vec::new()).map_err(ReplayError::Write)?;
        replay.record_to(recorder);
    }
    Ok((host, replay))
}
