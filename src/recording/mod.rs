//! A recorded session (SPEC section 16): what crossed the pack's boundary, in order, as JSON
//! lines. The first line is the [`Header`] (the pack's identity and the session's seeds); each
//! line after it is an [`Entry`]: an input that reached the pack (numbered, with the virtual
//! time it happened at), an output of the pack (naming the input it belongs to), or a note that
//! the writer fell behind and lost entries.
//!
//! [`writer`] writes a recording off the host's thread; [`reader`] streams one back, a line at a
//! time, so a recording of any size is never loaded whole.

pub(crate) mod compact;
pub(crate) mod identity;
pub mod reader;
pub(crate) mod redact;
pub(crate) mod window;
pub mod writer;

use serde::{Deserialize, Serialize};

use crate::runtime::Json;
pub(crate) use identity::{ModIdentity, PackIdentity};

/// Whether a recording at `path` is compressed: its name ends in `.zst`.
pub(crate) fn is_compressed(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|extension| extension == "zst")
}

/// The format this modhost writes and reads. A recording of a newer format is refused.
pub(crate) const FORMAT: u64 = 1;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// The version of modhost that recorded it.
    pub modhost: String,
    pub format: u64,
    pub pack: PackIdentity,
    pub seeds: Seeds,
    /// The payload members the recording hashed (`--record-redact`); a replay hashes the
    /// same members of what it sees before comparing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<String>,
}

/// What makes a session reproducible, besides its inputs.
///
/// `session` is what every machine of a lockstep game shares: each mod's `Math.random` and
/// `math.random` is seeded from it and the mod's id. `machine` and `epoch_ms` are what a
/// machine has of its own: the wall clock (`epoch_ms` is its reading when the session began),
/// the seed of Lua's string hashing (and so the order of `pairs`), `math.randomseed()` called
/// without a seed, and WASI's random bytes. A replay uses the recorded values; the second host
/// of a determinism check (`replay --twice`) another machine's, so that a mod whose outputs
/// depend on them is caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seeds {
    pub session: u64,
    pub machine: u64,
    pub epoch_ms: u64,
}

impl Seeds {
    /// Fresh seeds, and the wall clock now.
    pub fn fresh() -> Seeds {
        let mut bytes = [0u8; 16];
        // Without the system's entropy the clock still gives seeds that differ per session.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        if getrandom::fill(&mut bytes).is_err() {
            bytes[..16].copy_from_slice(&now.as_nanos().to_le_bytes());
        }
        let [session, machine] = [&bytes[..8], &bytes[8..]]
            .map(|half| u64::from_le_bytes(half.try_into().unwrap_or_default()) & SAFE_INTEGER);
        Seeds {
            session,
            machine,
            epoch_ms: now.as_millis() as u64,
        }
    }

    /// Another machine in the same session: the same session seed, another machine seed and a
    /// wall clock an hour and some odd milliseconds off.
    pub fn other_machine(self) -> Seeds {
        Seeds {
            session: self.session,
            machine: mix(self.machine ^ 0x5eed) & SAFE_INTEGER,
            epoch_ms: self.epoch_ms + 3_600_000 + 7_919,
        }
    }

    /// The seed of `mod_id`'s own random numbers: the same for the mod on every machine.
    pub fn of_mod(self, mod_id: &str) -> u64 {
        mix(self.session ^ crate::source::content_hash(mod_id.as_bytes()))
    }

    /// What `mod_id` gets of this machine's entropy.
    pub fn of_machine(self, mod_id: &str) -> u64 {
        mix(self.machine ^ crate::source::content_hash(mod_id.as_bytes()))
    }
}

/// Seeds stay below 2^53, so that a reader in JavaScript reads them exactly.
const SAFE_INTEGER: u64 = (1 << 53) - 1;

/// SplitMix64's finaliser: spreads every bit of `value` over the result.
pub(crate) fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One line of a recording after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Entry {
    Stored(StoredEntry),
    Input(InputEntry),
    Output(OutputEntry),
    Lost(LostEntry),
}

impl Entry {
    /// Writes the entry as `serde_json` writes it (a test holds the two the same), but an input
    /// or an output without serde's `flatten`, which first copies the whole entry into a tree
    /// of its own: that was two thirds of the writer thread's work, and the writer must keep up
    /// with the host's calls. `scratch` is reused from line to line.
    pub(crate) fn write_json(
        &self,
        out: &mut impl std::io::Write,
        scratch: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        match self {
            Entry::Input(entry) => {
                write_input_head(out, entry.number, entry.at_ms, entry.during)
                    .map_err(serde_json::Error::io)?;
                write_variant_after(out, &entry.input, scratch)
            }
            Entry::Output(entry) => {
                write_output_head(out, entry.of).map_err(serde_json::Error::io)?;
                write_variant_after(out, &entry.output, scratch)
            }
            other => serde_json::to_writer(out, other),
        }
    }
}

/// An input entry's line up to its variant: `{"i":…,"t":…` and `"during"` when there is one,
/// as serde writes [`InputEntry`]'s own fields.
pub(crate) fn write_input_head(
    out: &mut impl std::io::Write,
    number: u64,
    at_ms: f64,
    during: Option<u64>,
) -> std::io::Result<()> {
    out.write_all(b"{\"i\":")?;
    serde_json::to_writer(&mut *out, &number)?;
    out.write_all(b",\"t\":")?;
    serde_json::to_writer(&mut *out, &at_ms)?;
    if let Some(during) = during {
        out.write_all(b",\"during\":")?;
        serde_json::to_writer(&mut *out, &during)?;
    }
    Ok(())
}

/// An output entry's line up to its variant: `{"o":…`.
pub(crate) fn write_output_head(out: &mut impl std::io::Write, of: u64) -> std::io::Result<()> {
    out.write_all(b"{\"o\":")?;
    serde_json::to_writer(&mut *out, &of)?;
    Ok(())
}

/// Ends an entry with its input's or output's one variant: the key and value that the variant
/// writes as a map, after a comma and without the `{` that opens that map.
fn write_variant_after(
    out: &mut impl std::io::Write,
    variant: &impl Serialize,
    scratch: &mut Vec<u8>,
) -> serde_json::Result<()> {
    scratch.clear();
    serde_json::to_writer(&mut *scratch, variant)?;
    out.write_all(b",").map_err(serde_json::Error::io)?;
    out.write_all(&scratch[1..]).map_err(serde_json::Error::io)
}

/// What a mod kept in storage when the session began: one key a line, before the first input,
/// so that a replay starts from the same storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub stored: Stored,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub key: String,
    pub value: Json,
}

/// An input, numbered from 1 in the order it reached the pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputEntry {
    #[serde(rename = "i")]
    pub number: u64,
    /// Milliseconds of virtual time since the session began.
    #[serde(rename = "t")]
    pub at_ms: f64,
    /// The input during which this one arrived (the game sent it while a mod of that input
    /// waited for the game's answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during: Option<u64>,
    #[serde(flatten)]
    pub input: Input,
}

/// What reached the pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// The host attached and bootstrapped its mods.
    Start {},
    /// The game called a mod's function.
    Call {
        #[serde(rename = "mod")]
        mod_id: String,
        function: String,
        args: Vec<Json>,
    },
    /// The game emitted an event.
    Emit { event: String, payload: Json },
    /// A timer of a mod came due.
    Timer {
        #[serde(rename = "mod")]
        mod_id: String,
        timer: u64,
    },
    /// Mods were reloaded (their files changed, or the game asked): the mods whose folders
    /// changed, with their files' hashes then.
    Reload { mods: Vec<ModIdentity> },
    /// A setting was changed while the host ran.
    Setting {
        #[serde(rename = "mod")]
        mod_id: String,
        key: String,
        value: Json,
    },
    Enable {
        #[serde(rename = "mod")]
        mod_id: String,
    },
    Disable {
        #[serde(rename = "mod")]
        mod_id: String,
    },
    /// The host detached every mod.
    Shutdown {},
}

impl Input {
    /// The mod this input is addressed to, if one.
    pub fn mod_id(&self) -> Option<&str> {
        match self {
            Input::Call { mod_id, .. }
            | Input::Timer { mod_id, .. }
            | Input::Setting { mod_id, .. }
            | Input::Enable { mod_id }
            | Input::Disable { mod_id } => Some(mod_id),
            _ => None,
        }
    }

    /// A short description: `call my-mod.greet`, `emit tick`, `timer 3 of my-mod`.
    pub fn describe(&self) -> String {
        match self {
            Input::Start {} => "start".to_owned(),
            Input::Call {
                mod_id, function, ..
            } => format!("call {mod_id}.{function}"),
            Input::Emit { event, .. } => format!("emit {event}"),
            Input::Timer { mod_id, timer } => format!("timer {timer} of {mod_id}"),
            Input::Reload { mods } => format!(
                "reload {}",
                mods.iter()
                    .map(|identity| identity.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Input::Setting { mod_id, key, .. } => format!("set {mod_id}.{key}"),
            Input::Enable { mod_id } => format!("enable {mod_id}"),
            Input::Disable { mod_id } => format!("disable {mod_id}"),
            Input::Shutdown {} => "shutdown".to_owned(),
        }
    }
}

/// An output, with the number of the input it came of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputEntry {
    #[serde(rename = "o")]
    pub of: u64,
    #[serde(flatten)]
    pub output: Output,
}

/// What the pack did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Output {
    /// What the game's call returned.
    Returned(Json),
    /// Why the game's call failed.
    Failed(String),
    /// The game's event reached its handlers: its payload after every `before` handler.
    Delivered(Json),
    /// A `before` handler cancelled the game's event.
    Cancelled {},
    /// A mod emitted an event (its payload after the `before` handlers).
    Event {
        #[serde(rename = "mod")]
        mod_id: String,
        event: String,
        payload: Json,
    },
    /// A mod called a function of the game; a replay answers it with `answer`.
    GameCall {
        #[serde(rename = "mod")]
        mod_id: String,
        function: String,
        args: Vec<Json>,
        answer: Answer,
    },
    Log {
        #[serde(rename = "mod")]
        mod_id: String,
        level: String,
        message: String,
    },
    /// A mod's timer fired; `due_ms` is when it was due on the session's clock (which the
    /// mod's code decided, unlike when it fired).
    Timer {
        #[serde(rename = "mod")]
        mod_id: String,
        timer: u64,
        due_ms: f64,
    },
    /// What a mod's `onDetach` returned (`null`: nothing), as it was detached.
    Detached {
        #[serde(rename = "mod")]
        mod_id: String,
        state: Json,
    },
    /// A mod changed state.
    State {
        #[serde(rename = "mod")]
        mod_id: String,
        state: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl Output {
    /// The mod that produced this output, if one did.
    pub fn mod_id(&self) -> Option<&str> {
        match self {
            Output::Event { mod_id, .. }
            | Output::GameCall { mod_id, .. }
            | Output::Log { mod_id, .. }
            | Output::Detached { mod_id, .. }
            | Output::Timer { mod_id, .. }
            | Output::State { mod_id, .. } => Some(mod_id),
            _ => None,
        }
    }

    /// Whether `other` is the same output. A game call's answer came from the game (or the
    /// recording), so only what the mod asked is compared.
    pub fn same_as(&self, other: &Output) -> bool {
        match (self, other) {
            (
                Output::GameCall {
                    mod_id,
                    function,
                    args,
                    ..
                },
                Output::GameCall {
                    mod_id: other_mod,
                    function: other_function,
                    args: other_args,
                    ..
                },
            ) => mod_id == other_mod && function == other_function && args == other_args,
            _ => self == other,
        }
    }
}

/// The game's answer to a mod's call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Ok(Json),
    Error(String),
}

impl From<&Result<Json, String>> for Answer {
    fn from(answer: &Result<Json, String>) -> Answer {
        match answer {
            Ok(value) => Answer::Ok(value.clone()),
            Err(message) => Answer::Error(message.clone()),
        }
    }
}

impl From<Answer> for Result<Json, String> {
    fn from(answer: Answer) -> Self {
        match answer {
            Answer::Ok(value) => Ok(value),
            Answer::Error(message) => Err(message),
        }
    }
}

/// The writer fell behind: `entries` entries from input `from` on were not written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostEntry {
    pub lost: Lost,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lost {
    pub from: u64,
    pub entries: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_one_short_json_object_each_and_read_back_the_same() {
        let entries = [
            Entry::Input(InputEntry {
                number: 2,
                at_ms: 15.5,
                during: None,
                input: Input::Call {
                    mod_id: "my-mod".into(),
                    function: "greet".into(),
                    args: vec![crate::value!(1)],
                },
            }),
            Entry::Input(InputEntry {
                number: 1,
                at_ms: 0.0,
                during: None,
                input: Input::Start {},
            }),
            Entry::Output(OutputEntry {
                of: 2,
                output: Output::GameCall {
                    mod_id: "my-mod".into(),
                    function: "world.spawn".into(),
                    args: vec![crate::value!("cow")],
                    answer: Answer::Ok(crate::value!(7)),
                },
            }),
            Entry::Output(OutputEntry {
                of: 2,
                output: Output::Cancelled {},
            }),
            Entry::Lost(LostEntry {
                lost: Lost {
                    from: 9,
                    entries: 100,
                },
            }),
        ];
        let lines: Vec<String> = entries
            .iter()
            .map(|entry| serde_json::to_string(entry).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            r#"{"i":2,"t":15.5,"call":{"mod":"my-mod","function":"greet","args":[1]}}"#
        );
        assert_eq!(lines[1], r#"{"i":1,"t":0.0,"start":{}}"#);
        for (line, entry) in lines.iter().zip(&entries) {
            assert_eq!(
                &serde_json::from_str::<Entry>(line).unwrap(),
                entry,
                "{line}"
            );
        }
    }

    #[test]
    fn an_entry_written_for_the_writer_is_what_serde_writes() {
        let input = |during, input| {
            Entry::Input(InputEntry {
                number: 12,
                at_ms: 1.0 / 3.0,
                during,
                input,
            })
        };
        let output = |output| Entry::Output(OutputEntry { of: 7, output });
        let entries = [
            input(None, Input::Start {}),
            input(
                Some(3),
                Input::Call {
                    mod_id: "m".into(),
                    function: "f".into(),
                    args: vec![
                        crate::value!([1, {"b": "x\"y", "a": null}]),
                        crate::value!(2.5),
                    ],
                },
            ),
            input(
                None,
                Input::Emit {
                    event: "tick".into(),
                    payload: crate::value!({ "n": 1 }),
                },
            ),
            input(
                None,
                Input::Timer {
                    mod_id: "m".into(),
                    timer: 4,
                },
            ),
            input(None, Input::Shutdown {}),
            output(Output::Returned(crate::value!("é"))),
            output(Output::Failed("no".into())),
            output(Output::Cancelled {}),
            output(Output::GameCall {
                mod_id: "m".into(),
                function: "world.spawn".into(),
                args: vec![],
                answer: Answer::Error("refused".into()),
            }),
            output(Output::State {
                mod_id: "m".into(),
                state: "failed".into(),
                reason: None,
            }),
            Entry::Lost(LostEntry {
                lost: Lost {
                    from: 1,
                    entries: 2,
                },
            }),
        ];
        let mut scratch = Vec::new();
        for entry in &entries {
            let mut written = Vec::new();
            entry.write_json(&mut written, &mut scratch).unwrap();
            assert_eq!(
                String::from_utf8(written).unwrap(),
                serde_json::to_string(entry).unwrap()
            );
        }
    }

    #[test]
    fn another_machine_shares_the_session_seed_and_nothing_else() {
        let seeds = Seeds::fresh();
        let other = seeds.other_machine();
        assert_eq!(seeds.of_mod("a"), other.of_mod("a"));
        assert_ne!(seeds.of_mod("a"), seeds.of_mod("b"));
        assert_ne!(seeds.of_machine("a"), other.of_machine("a"));
        assert_ne!(seeds.epoch_ms, other.epoch_ms);
    }
}
