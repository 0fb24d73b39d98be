//! The game's API description (SPEC section 10): what a game offers mods, in one JSON file.
//!
//! From it the host gives every mod a read-only global (default `game`) whose functions call
//! the game, checks every call's arguments and permission before it leaves the host, checks
//! what the game answers, and the typings give modders the same API in their editor. This
//! module only describes and checks; it knows nothing of the host.

mod parse;
mod schema;
pub(crate) mod types;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::value::Value as Json;

pub use schema::json_schema;
pub(crate) use types::{Mismatch, Problem, TypeDef, TypeExpr, Types};

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;

/// A parsed, valid API description.
#[derive(Debug, Clone, PartialEq)]
pub struct GameApi {
    /// The game's name, for messages and generated files.
    pub game: Option<String>,
    pub version: Option<String>,
    /// The global mods see (`game` unless the description says otherwise).
    pub global: String,
    /// Functions by dotted name (`world.spawn`).
    pub functions: BTreeMap<String, Function>,
    pub types: Types,
    pub events: BTreeMap<String, Event>,
    /// A hash of the description's text, for a recording's pack identity.
    pub source_hash: u64,
}

/// One function the game offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub doc: Option<String>,
    pub params: Vec<Param>,
    pub returns: TypeExpr,
    /// A mod must list this in its manifest's `permissions` to call the function.
    pub permission: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub kind: TypeExpr,
    pub optional: bool,
    pub doc: Option<String>,
}

/// Who sends an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The game sends it; mods subscribe with `modhost.events.on`.
    Game,
    /// Mods send it (`modhost.events.emit`); the game receives it.
    Mods,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub from: Direction,
    pub payload: TypeExpr,
    pub doc: Option<String>,
}

/// Why an event name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventNameError {
    #[error("`{event}` is not an event of the game's API; {hint}")]
    Unknown { event: String, hint: String },
    #[error("`{event}` is sent by {}, as the game's API declares it", match from { Direction::Game => "the game, not by mods", Direction::Mods => "mods, not by the game" })]
    WrongWay { event: String, from: Direction },
}

/// Why a call's arguments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    #[error("expects {expected}, got {given} argument{}", if *given == 1 { "" } else { "s" })]
    Count { expected: String, given: usize },
    #[error("parameter {parameter}{}", match &mismatch.problem {
        Problem::Type { expected, given } => format!(" expects {expected}, got {given}"),
        field => format!(": {field}"),
    })]
    Type {
        /// The parameter, with the path inside it: `at`, `at.x`.
        parameter: String,
        mismatch: Mismatch,
    },
}

/// A description that could not be read or is not valid.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error(
        "cannot read the API description `{}`: {message}",
        crate::paths::shown(path)
    )]
    Read { path: PathBuf, message: String },
    #[error("the API description `{}` is not valid: {}", crate::paths::shown(file.path()), diagnostics.first().map_or("", |first| first.message.as_str()))]
    Invalid {
        file: SourceFile,
        /// Every problem, each an `invalid-api` error with its position.
        diagnostics: Vec<Diagnostic>,
    },
}

impl GameApi {
    /// Reads and validates the description in `path`.
    pub fn load(path: &Path) -> Result<GameApi, ApiError> {
        let text = crate::files::read_to_string(path).map_err(|error| ApiError::Read {
            path: path.to_path_buf(),
            message: match error.kind() {
                std::io::ErrorKind::NotFound => "the file does not exist".to_owned(),
                _ => error.to_string(),
            },
        })?;
        GameApi::parse(SourceFile::new(path, text))
    }

    /// Validates the text of a description; every problem is reported at once.
    pub fn parse(file: SourceFile) -> Result<GameApi, ApiError> {
        parse::parse(&file).map_err(|diagnostics| ApiError::Invalid { file, diagnostics })
    }

    /// Every permission some function asks for.
    pub fn permissions(&self) -> BTreeSet<&str> {
        self.functions
            .values()
            .filter_map(|function| function.permission.as_deref())
            .collect()
    }

    /// Checks the arguments of a call to `function` (which must exist). Trailing optional
    /// parameters may be left out or given as `null`. Returns how many arguments the call
    /// really has: trailing `null`s for optional parameters are dropped, so the game never sees
    /// the `undefined` a JavaScript wrapper passes along.
    pub fn check_arguments(
        &self,
        function: &Function,
        args: &[Json],
    ) -> Result<usize, ArgumentError> {
        let required = function
            .params
            .iter()
            .take_while(|param| !param.optional)
            .count();
        // `f("orc", nil)` in Lua and `f("orc", undefined)` in JavaScript leave a trailing null.
        let given = args
            .iter()
            .rposition(|arg| !arg.is_null())
            .map_or(0, |last| last + 1)
            .max(required.min(args.len()));
        if given < required || given > function.params.len() {
            let names: Vec<&str> = function
                .params
                .iter()
                .map(|param| param.name.as_str())
                .collect();
            let count = if required == function.params.len() {
                required.to_string()
            } else {
                format!("{required} to {}", function.params.len())
            };
            let expected = match names.as_slice() {
                [] => "no arguments".to_owned(),
                [_] if required == 1 => format!("1 argument ({})", names[0]),
                _ => format!("{count} arguments ({})", names.join(", ")),
            };
            return Err(ArgumentError::Count {
                expected,
                given: args.len(),
            });
        }
        for (param, arg) in function.params.iter().zip(&args[..given]) {
            if param.optional && arg.is_null() {
                continue;
            }
            param
                .kind
                .check(arg, &self.types)
                .map_err(|mismatch| ArgumentError::Type {
                    parameter: format!("{}{}", param.name, mismatch.path),
                    mismatch,
                })?;
        }
        Ok(given)
    }

    /// Whether `sender` may send the event `event`. Where the API declares events, the game
    /// sends only those declared `from: game`; mods may not send those (they send the ones
    /// declared `from: mods`, and events of their own to each other, which the game never
    /// hears of). An API that declares no events leaves names free.
    pub fn check_sender(&self, event: &str, sender: Direction) -> Result<(), EventNameError> {
        if self.events.is_empty() {
            return Ok(());
        }
        match self.events.get(event) {
            Some(declared) if declared.from != sender => Err(EventNameError::WrongWay {
                event: event.to_owned(),
                from: declared.from,
            }),
            Some(_) => Ok(()),
            None if sender == Direction::Game => Err(self.unknown_event(event, Direction::Game)),
            None => Ok(()),
        }
    }

    /// Whether the game may hear `event`: one declared `from: mods`, where events are declared.
    pub fn check_heard_by_game(&self, event: &str) -> Result<(), EventNameError> {
        if self.events.is_empty() {
            return Ok(());
        }
        match self.events.get(event) {
            Some(declared) if declared.from == Direction::Mods => Ok(()),
            Some(_) => Err(EventNameError::WrongWay {
                event: event.to_owned(),
                from: Direction::Game,
            }),
            None => Err(self.unknown_event(event, Direction::Mods)),
        }
    }

    /// A declared event whose name is one typo away from `event`, which is not declared.
    pub fn near_event(&self, event: &str) -> Option<&str> {
        if self.events.contains_key(event) {
            return None;
        }
        crate::suggest::closest(event, self.events.keys().map(String::as_str))
    }

    fn unknown_event(&self, event: &str, from: Direction) -> EventNameError {
        let names = self
            .events
            .iter()
            .filter(|(_, declared)| declared.from == from)
            .map(|(name, _)| name.as_str());
        EventNameError::Unknown {
            event: event.to_owned(),
            hint: crate::suggest::did_you_mean_or_list(
                event,
                names,
                |list| format!("the game's API declares {list}"),
                "the game's API declares none that way",
            ),
        }
    }

    /// Checks an event's payload against its declaration, if the event is declared.
    pub fn check_payload(&self, event: &str, payload: &Json) -> Result<(), Mismatch> {
        match self.events.get(event) {
            Some(declared) => declared.payload.check(payload, &self.types),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {

    use super::*;

    pub(crate) const ORC_ARENA: &str = r#"{
  "game": "Orc Arena",
  "version": "2.1.0",
  "functions": {
    "world.spawn": {
      "doc": "Spawns a creature and returns its id",
      "params": [{ "name": "kind", "type": "Kind" }, { "name": "at", "type": "Position", "optional": true }],
      "returns": "integer",
      "permission": "world.write"
    },
    "player.name": { "params": [], "returns": "string" }
  },
  "types": {
    "Position": { "fields": { "x": "number", "y": "number" } },
    "Kind": { "enum": ["orc", "goblin"] }
  },
  "events": {
    "tick": { "from": "game", "payload": { "dt": "number" } },
    "scored": { "from": "mods", "payload": { "points": "integer" } }
  }
}"#;

    fn orc_arena() -> GameApi {
        GameApi::parse(SourceFile::new("game-api.json", ORC_ARENA)).unwrap()
    }

    #[test]
    fn the_spec_example_parses() {
        let api = orc_arena();
        assert_eq!(api.global, "game");
        assert_eq!(api.permissions(), BTreeSet::from(["world.write"]));
        assert_eq!(api.functions["player.name"].returns, TypeExpr::String);
        assert_eq!(api.events["scored"].from, Direction::Mods);
    }

    #[test]
    fn arguments_are_checked_by_count_and_type() {
        let api = orc_arena();
        let spawn = &api.functions["world.spawn"];
        assert!(api.check_arguments(spawn, &[crate::value!("orc")]).is_ok());
        assert!(
            api.check_arguments(spawn, &[crate::value!("orc"), crate::value!(null)])
                .is_ok()
        );
        assert!(
            api.check_arguments(
                spawn,
                &[crate::value!("orc"), crate::value!({ "x": 1, "y": 2 })]
            )
            .is_ok()
        );
        let error = api.check_arguments(spawn, &[crate::value!(5)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "parameter kind expects Kind (\"orc\" | \"goblin\"), got number 5"
        );
        let error = api
            .check_arguments(
                spawn,
                &[crate::value!("orc"), crate::value!({ "x": "1", "y": 2 })],
            )
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "parameter at.x expects number, got string \"1\""
        );
        let error = api.check_arguments(spawn, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "expects 1 to 2 arguments (kind, at), got 0 arguments"
        );
        let name = &api.functions["player.name"];
        assert_eq!(
            api.check_arguments(name, &[crate::value!(1)])
                .unwrap_err()
                .to_string(),
            "expects no arguments, got 1 argument"
        );
    }

    #[test]
    fn payloads_of_declared_events_are_checked() {
        let api = orc_arena();
        assert!(
            api.check_payload("scored", &crate::value!({ "points": 3 }))
                .is_ok()
        );
        assert!(
            api.check_payload("scored", &crate::value!({ "points": "3" }))
                .is_err()
        );
        assert!(
            api.check_payload("anything-else", &crate::value!(1))
                .is_ok()
        );
    }
}
