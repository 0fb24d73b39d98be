//! The game, as the host sees it (SPEC section 10): who answers the functions of the game's
//! API, where the events mods emit go, and who hears about state changes and mods' logs.
//!
//! A game that embeds the library registers a closure per function ([`Host::provide`]) and
//! drains the events mods emit ([`Host::take_game_events`]) or takes them in a callback
//! ([`Host::on_game_event`]). A game in another process reaches the host through a
//! [`GameLink`], which the protocol (`crate::protocol`) implements over a connection; the host
//! owns the trait, so it knows nothing of connections.
//!
//! Before a call leaves the host, the function must exist, the calling mod must hold its
//! permission, and the arguments must fit the declared types; what the game answers must fit
//! the declared return type. Each refusal is an error in the calling mod that says what to do.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{Core, Host, ModStatus, Slot};
use crate::game_api::types::describe_value;
use crate::game_api::{EventNameError, GameApi, Problem};
use crate::recording::Output;
use crate::recording::compact::OutputRef;
use crate::runtime::{Json, LogLevel};

/// How many events mods emitted may wait for [`Host::take_game_events`]; older ones are
/// dropped past that, so a game that never drains them does not grow without bound.
const GAME_EVENT_CAPACITY: usize = 10_000;

/// A function of the game's API as a game registers it: it receives the calling mod's id and
/// the checked arguments, and returns a JSON value or an error message (raised in the mod).
pub type GameFunction = dyn Fn(&str, &[Json]) -> Result<Json, String>;

/// What a game registers to hear each event mods emit.
type EventCallback = dyn Fn(&GameEvent);

/// An event a mod emitted, as the game receives it (after every `before` handler ran, with the
/// payload they rewrote; cancelled events do not reach the game).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GameEvent {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub event: String,
    pub payload: Json,
}

/// Why a game function did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GameCallError {
    /// Nobody answers this function.
    NotProvided,
    /// The game answered with an error, or did not answer in time.
    Failed(String),
}

/// A game in another process (or anything else that stands in for the game).
pub trait GameLink {
    /// Answers `function` for mod `mod_id`; the arguments were checked already. `timeout` is
    /// the calling mod's `game_call_timeout_ms`.
    fn call(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
        timeout: Duration,
    ) -> Result<Json, GameCallError>;
    /// A mod emitted an event.
    fn event(&self, event: &GameEvent) {
        let _ = event;
    }
    /// A mod changed state.
    fn state_changed(&self, status: &ModStatus) {
        let _ = status;
    }
    /// A mod logged a line.
    fn log(&self, mod_id: &str, level: LogLevel, message: &str) {
        let _ = (mod_id, level, message);
    }
    /// The game's answer to `function` is not what the game's API declares; the mod that
    /// called got `why` as its error. The game hears of it here, since a JSON-RPC answer cannot
    /// itself be answered.
    fn answer_refused(&self, mod_id: &str, function: &str, why: &str) {
        let _ = (mod_id, function, why);
    }
}

/// Who answers the game's functions, and where mods' events go.
#[derive(Default)]
pub(super) struct GameSide {
    functions: FxHashMap<String, Rc<GameFunction>>,
    link: Option<Rc<dyn GameLink>>,
    /// `check --smoke` and tests: unanswered functions return a typed stub.
    stubs: bool,
    on_event: Option<Rc<EventCallback>>,
    events: VecDeque<GameEvent>,
}

/// Why [`Host::emit`] refused the game's event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The game's API does not let its sender send the event (it declares it the other way,
    /// or declares no such event).
    #[error(transparent)]
    Event(#[from] EventNameError),
    /// The payload is not what the game's API declares for the event.
    #[error("{0}")]
    Payload(String),
}

/// Why [`Host::provide`] refused to answer a function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvideError {
    #[error("no game API is configured (`Config::api`)")]
    NoApi,
    /// `hint` is empty or `; did you mean ...`.
    #[error("the game's API has no function `{function}`{hint}")]
    UnknownFunction { function: String, hint: String },
}

impl Host {
    /// The game's API description the host runs with, if any.
    pub fn api(&self) -> Option<Arc<GameApi>> {
        self.core.api()
    }

    /// Answers `function` of the game's API with `answer` (instead of a connected game).
    /// Fails when the API description has no such function.
    pub fn provide(
        &self,
        function: &str,
        answer: impl Fn(&str, &[Json]) -> Result<Json, String> + 'static,
    ) -> Result<(), ProvideError> {
        let api = self.core.api();
        let Some(api) = api else {
            return Err(ProvideError::NoApi);
        };
        if !api.functions.contains_key(function) {
            return Err(ProvideError::UnknownFunction {
                function: function.to_owned(),
                hint: crate::suggest::did_you_mean(
                    function,
                    api.functions.keys().map(String::as_str),
                )
                .map(|hint| format!("; {hint}"))
                .unwrap_or_default(),
            });
        }
        self.core
            .game
            .borrow_mut()
            .functions
            .insert(function.to_owned(), Rc::new(answer));
        Ok(())
    }

    /// Connects a game in another process: it answers the functions no closure answers and
    /// hears events, state changes and logs.
    pub fn connect_game(&self, link: Rc<dyn GameLink>) {
        self.core.game.borrow_mut().link = Some(link);
    }

    /// Answers every game function no one provides with a value of its declared return type,
    /// as `check --smoke` does.
    pub fn answer_game_calls_with_stubs(&self) {
        self.core.game.borrow_mut().stubs = true;
    }

    /// Calls `callback` for each event a mod emits, instead of queueing it for
    /// [`Host::take_game_events`].
    pub fn on_game_event(&self, callback: impl Fn(&GameEvent) + 'static) {
        self.core.game.borrow_mut().on_event = Some(Rc::new(callback));
    }

    /// The events mods emitted since the last call, oldest first: drain them once a frame.
    pub fn take_game_events(&self) -> Vec<GameEvent> {
        self.core.game.borrow_mut().events.drain(..).collect()
    }
}

impl Core {
    pub(super) fn api(&self) -> Option<Arc<GameApi>> {
        self.config.borrow().api.clone()
    }

    /// Refuses a payload that does not fit `event`'s declaration in the game's API, whoever
    /// emits it (the game or a mod).
    pub(super) fn check_event_payload(&self, event: &str, payload: &Json) -> Result<(), EmitError> {
        let Some(api) = self.api() else {
            return Ok(());
        };
        api.check_payload(event, payload)
            .map_err(|mismatch| EmitError::Payload(match &mismatch.problem {
                Problem::Type { expected, given } => format!(
                    "the payload of `{event}`{} should be {expected}, not {given} (as the game's API declares it)",
                    mismatch.path
                ),
                field => format!("the payload of `{event}`{}: {field}", mismatch.path),
            }))
    }

    /// Whether `sender` may send `event` ([`crate::game_api::GameApi::check_sender`]). A mod that
    /// sends an undeclared event named one typo away from a declared one is warned, once.
    pub(super) fn check_event_name(
        &self,
        event: &str,
        sender: crate::game_api::Direction,
        mod_id: Option<&str>,
    ) -> Result<(), EmitError> {
        let Some(api) = self.api() else {
            return Ok(());
        };
        api.check_sender(event, sender)?;
        if let (Some(mod_id), Some(near)) = (mod_id, api.near_event(event))
            && self
                .warned_events
                .borrow_mut()
                .insert((mod_id.to_owned(), event.to_owned()))
        {
            tracing::warn!(
                target: super::MOD_LOG_TARGET,
                mod_id,
                "[{mod_id}] emits `{event}`, which the game's API does not declare: did you mean `{near}`? (the game only hears declared events)"
            );
        }
        Ok(())
    }

    /// A mod's call of a game function, checked on the way out and on the way back.
    pub(super) fn game_call(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
    ) -> Result<Json, String> {
        let Some(api) = self.api() else {
            return Err(format!(
                "no game API is configured, so `{function}` does not exist"
            ));
        };
        let name = format!("{}.{function}", api.global);
        let Some(declared) = api.functions.get(function) else {
            return Err(format!("`{name}` is not a function of the game's API"));
        };
        let slot = self.slot(mod_id).map_err(|error| error.to_string())?;
        if let Some(permission) = &declared.permission {
            let entry = slot.entry.borrow();
            if !entry.manifest.has_permission(permission) {
                return Err(format!(
                    "{name} needs the permission `{permission}`, which `{mod_id}` does not have; add \"{permission}\" to `permissions` in `{}`",
                    crate::paths::shown(entry.manifest_file.path())
                ));
            }
        }
        let given = api
            .check_arguments(declared, args)
            .map_err(|error| format!("{name}: {error}"))?;
        let args = &args[..given];
        if let Some(answer) = self.replayed_answer(mod_id, function, args) {
            return answer;
        }
        let answer = self.ask_game(mod_id, function, args, &api, declared);
        self.output(|| OutputRef::GameCall {
            mod_id,
            function,
            args,
            answer: &answer,
        });
        answer
    }

    /// Asks whoever answers `function` (a closure, the connected game, or a stub) and checks
    /// the answer against the declared return type.
    fn ask_game(
        &self,
        mod_id: &str,
        function: &str,
        args: &[Json],
        api: &GameApi,
        declared: &crate::game_api::Function,
    ) -> Result<Json, String> {
        let name = format!("{}.{function}", api.global);
        let timeout =
            Duration::from_millis(self.config.borrow().limits_for(mod_id).game_call_timeout_ms);
        let (closure, link, stubs) = {
            let game = self.game.borrow();
            (
                game.functions.get(function).cloned(),
                game.link.clone(),
                game.stubs,
            )
        };
        let answer = match (closure, &link) {
            (Some(closure), _) => closure(mod_id, args).map_err(GameCallError::Failed),
            (None, Some(link)) => self
                .activity
                .without_control(|| link.call(mod_id, function, args, timeout)),
            (None, None) => Err(GameCallError::NotProvided),
        };
        let value = match answer {
            Ok(value) => value,
            Err(GameCallError::NotProvided) if stubs => declared.returns.stub(&api.types),
            Err(GameCallError::NotProvided) => {
                return Err(format!(
                    "{name}: no game providing `{function}` is connected"
                ));
            }
            Err(GameCallError::Failed(message)) => return Err(format!("{name}: {message}")),
        };
        declared
            .returns
            .check(&value, &api.types)
            .map_err(|mismatch| {
                let why = format!(
                    "{name}: the game answered {} where {}{} was declared",
                    describe_value(&value),
                    declared.returns.describe(&api.types),
                    match (&mismatch.problem, mismatch.path.as_str()) {
                        (Problem::Type { .. }, "") => String::new(),
                        (problem, "") => format!(" ({problem})"),
                        (problem, path) => format!(" (at {path}: {problem})"),
                    }
                );
                if let Some(link) = &link {
                    link.answer_refused(mod_id, function, &why);
                }
                why
            })?;
        Ok(value)
    }

    /// Hands an event a mod emitted to the game.
    pub(super) fn to_game(&self, event: GameEvent) {
        self.output(|| OutputRef::Event {
            mod_id: &event.mod_id,
            event: &event.event,
            payload: &event.payload,
        });
        let (callback, link) = {
            let game = self.game.borrow();
            (game.on_event.clone(), game.link.clone())
        };
        if let Some(link) = &link {
            link.event(&event);
        }
        match callback {
            Some(callback) => callback(&event),
            None if link.is_none() => {
                let mut game = self.game.borrow_mut();
                if game.events.len() >= GAME_EVENT_CAPACITY {
                    game.events.pop_front();
                }
                game.events.push_back(event);
            }
            None => {}
        }
    }

    /// Tells a connected game that a mod changed state.
    pub(super) fn report_state(&self, slot: &Slot) {
        self.output(|| {
            let state = slot.state.borrow();
            Output::State {
                mod_id: slot.id.clone(),
                state: state.name().to_owned(),
                reason: state.reason().map(str::to_owned),
            }
        });
        let link = self.game.borrow().link.clone();
        if let Some(link) = link {
            link.state_changed(&slot.status());
        }
    }

    /// Passes a mod's log line to a connected game.
    pub(super) fn forward_log(&self, mod_id: &str, level: LogLevel, message: &str) {
        self.output(|| OutputRef::Log {
            mod_id,
            level: level.name(),
            message,
        });
        let link = self.game.borrow().link.clone();
        if let Some(link) = link {
            link.log(mod_id, level, message);
        }
    }
}
