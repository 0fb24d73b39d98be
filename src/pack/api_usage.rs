//! What a script asks of the game's API, read without running it, so that `modhost check`
//! names a misspelled game function or event at its line before any mod runs: `game.sky.rainbow`
//! where the API offers `game.sky.rain`, and `modhost.events.emit("harvset")` where it declares
//! `harvest`. The same words as the mod would hear at run time ([`crate::suggest`]).
//!
//! The reading is textual, as [`crate::runtime::declarations`] is: a reference inside a line
//! comment or a string on its line is skipped, and one through another name (`const g = game`)
//! is not followed. So these are warnings: a mod that shadows the global is not failed for it.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::diagnostic::{Code, Diagnostic};
use crate::game_api::{Direction, GameApi};
use crate::source::SourceFile;

/// The event functions of `modhost.events` that name an event in their first argument, and
/// whether they send it.
const EVENT_FUNCTIONS: [(&str, bool); 3] = [("emit", true), ("on", false), ("before", false)];

/// One problem found in a script's text.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    code: Code,
    message: String,
    /// Where the misspelled name is, in bytes.
    span: Range<usize>,
}

/// The namespaces of the game's API, for walking `game.a.b.c` one name at a time.
pub(super) struct GameNames<'api> {
    api: &'api GameApi,
    /// Every dotted prefix of a function's name (`world` for `world.spawn`).
    namespaces: BTreeSet<String>,
}

impl<'api> GameNames<'api> {
    pub(super) fn new(api: &'api GameApi) -> Self {
        let namespaces = api
            .functions
            .keys()
            .flat_map(|name| {
                name.match_indices('.')
                    .map(move |(dot, _)| name[..dot].to_owned())
            })
            .collect();
        Self { api, namespaces }
    }

    /// A warning at each misspelled game function or event name in `source`, for the mod `id`.
    pub(super) fn check(&self, id: &str, source: &SourceFile) -> Vec<Diagnostic> {
        let text = source.text();
        let mut found = self.game_references(text);
        if !self.api.events.is_empty() {
            found.extend(self.event_names(text));
        }
        found
            .into_iter()
            .map(|found| {
                let hint = match found.code {
                    Code::UnknownGameFunction => "the functions are those of the game's API description (`modhost typings` puts them in your editor)",
                    _ => "the events are those of the game's API description; a mod's own events between mods may have any name not one letter off a declared one",
                };
                Diagnostic::new(found.code, found.message)
                    .in_mod(id)
                    .at(source.locate(found.span))
                    .hint(hint)
            })
            .collect()
    }

    /// `game.x.y` where the API has no `x.y` (nor a namespace `x.y`): the first name that
    /// does not exist, with the members of the namespace it was looked up in.
    fn game_references(&self, text: &str) -> Vec<Found> {
        let global = self.api.global.as_str();
        let mut found = Vec::new();
        for (at, _) in text.match_indices(global) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| is_name_char(c) || c == '.') || in_comment_or_string(text, at)
            {
                continue;
            }
            let mut path = String::new();
            let mut cursor = at + global.len();
            while let Some((name, span)) = member_after(text, cursor) {
                cursor = span.end;
                let candidate = if path.is_empty() {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                if self.api.functions.contains_key(&candidate) {
                    break;
                }
                if self.namespaces.contains(&candidate) {
                    path = candidate;
                    continue;
                }
                let namespace = if path.is_empty() {
                    global.to_owned()
                } else {
                    format!("{global}.{path}")
                };
                found.push(Found {
                    code: Code::UnknownGameFunction,
                    message: crate::suggest::missing_member(
                        &namespace,
                        name,
                        self.members_of(&path),
                    ),
                    span,
                });
                break;
            }
        }
        found
    }

    /// The next name of every function and namespace inside `path` (`""` for the top).
    fn members_of<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.api.functions.keys().filter_map(move |name| {
            let rest = if path.is_empty() {
                name.as_str()
            } else {
                name.strip_prefix(path)?.strip_prefix('.')?
            };
            Some(rest.split('.').next().unwrap_or(rest))
        })
    }

    /// `modhost.events.emit("name")`, `.on` and `.before` with a literal name: a name one typo
    /// from a declared event, and an event a mod sends that the API says the game sends.
    fn event_names(&self, text: &str) -> Vec<Found> {
        const EVENTS: &str = "modhost.events.";
        let mut found = Vec::new();
        for (at, _) in text.match_indices(EVENTS) {
            if in_comment_or_string(text, at) {
                continue;
            }
            let after = &text[at + EVENTS.len()..];
            let Some((function, sends)) = EVENT_FUNCTIONS
                .iter()
                .find(|(function, _)| after.starts_with(function))
            else {
                continue;
            };
            let call_start = at + EVENTS.len() + function.len();
            let Some((event, span)) = string_argument(text, call_start) else {
                continue;
            };
            let refused = if *sends {
                self.api.check_sender(event, Direction::Mods).err()
            } else {
                None
            };
            let message = match (refused, self.api.near_event(event)) {
                (Some(error), _) => error.to_string(),
                (None, Some(near)) => format!(
                    "`{event}` is not an event of the game's API: did you mean `{near}`? ({})",
                    if *sends {
                        "no game hears an event by this name"
                    } else {
                        "only a mod could send an event by this name"
                    }
                ),
                (None, None) => continue,
            };
            found.push(Found {
                code: Code::UnknownEvent,
                message,
                span,
            });
        }
        found
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// `.name` at `at` (blanks allowed around the dot, as both languages allow): the name and its
/// span.
fn member_after(text: &str, at: usize) -> Option<(&str, Range<usize>)> {
    let rest = &text[at..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let after_dot = trimmed.strip_prefix('.')?;
    let name_text = after_dot.trim_start_matches([' ', '\t']);
    let start = at + (rest.len() - name_text.len());
    let length = name_text
        .char_indices()
        .find(|&(index, c)| !(is_name_char(c) && !(index == 0 && c.is_ascii_digit())))
        .map_or(name_text.len(), |(index, _)| index);
    (length > 0).then(|| (&name_text[..length], start..start + length))
}

/// `("name"` or `('name'` at `at`, with blanks allowed: the name and its span.
fn string_argument(text: &str, at: usize) -> Option<(&str, Range<usize>)> {
    let rest = text[at..].trim_start();
    let rest = rest.strip_prefix('(')?.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = &rest[1..];
    let end = inner.find([quote, '\\', '\n'])?;
    if !inner[end..].starts_with(quote) {
        return None;
    }
    let start = text.len() - inner.len();
    Some((&inner[..end], start..start + end))
}

/// Whether `at` follows a line comment (`//` or `--`) or an open string on its own line, or
/// sits on a line of a block comment written with leading `*`.
fn in_comment_or_string(text: &str, at: usize) -> bool {
    let line = &text[text[..at].rfind('\n').map_or(0, |newline| newline + 1)..at];
    if line.contains("//") || line.contains("--") || line.trim_start().starts_with('*') {
        return true;
    }
    ['"', '\'', '`']
        .iter()
        .any(|quote| line.matches(*quote).count() % 2 == 1)
}

#[cfg(test)]
mod tests {
    use super::GameNames;
    use crate::diagnostic::Code;
    use crate::game_api::GameApi;
    use crate::source::SourceFile;

    fn api() -> GameApi {
        let description = r#"{
            "functions": {
                "sky.rain": { "params": [], "returns": "boolean" },
                "sky.sun": { "params": [], "returns": "boolean" },
                "world.spawn": { "params": [{ "name": "kind", "type": "string" }], "returns": "number" },
                "world.items.count": { "params": [], "returns": "number" }
            },
            "events": {
                "harvest": { "from": "mods", "payload": "number" },
                "dawn": { "from": "game", "payload": "number" }
            }
        }"#;
        GameApi::parse(SourceFile::new("game-api.json", description)).expect("a valid API")
    }

    fn messages(source: &str) -> Vec<(Code, String, String)> {
        let api = api();
        let names = GameNames::new(&api);
        let file = SourceFile::new("mods/m/main.js", source);
        names
            .check("m", &file)
            .into_iter()
            .map(|diagnostic| {
                let location = diagnostic.location.expect("a location");
                let at = format!(
                    "{}:{}",
                    location.line.unwrap_or(0),
                    location.column.unwrap_or(0)
                );
                (diagnostic.code, diagnostic.message, at)
            })
            .collect()
    }

    #[test]
    fn a_missing_game_member_is_named_at_its_line_with_its_namespace() {
        let source = "function onAttach() {\n  game.sky.rain();\n  return game.sky.rainbow();\n}\ngame.world.items.cont();\ngame . weather.now();\n";
        assert_eq!(
            messages(source),
            [
                (
                    Code::UnknownGameFunction,
                    "game.sky.rainbow does not exist: did you mean game.sky.rain? (game.sky has rain, sun)".to_owned(),
                    "3:19".to_owned()
                ),
                (
                    Code::UnknownGameFunction,
                    "game.world.items.cont does not exist: did you mean game.world.items.count? (game.world.items has count)".to_owned(),
                    "5:18".to_owned()
                ),
                (
                    Code::UnknownGameFunction,
                    "game.weather does not exist (game has sky, world)".to_owned(),
                    "6:8".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn known_functions_namespaces_comments_strings_and_other_names_pass() {
        let source = "local sky = game.sky\ngame.world.spawn('orc')\n-- game.sky.rainbow()\n// game.sky.rainbow()\nlog(\"game.sky.rainbow\")\nmygame.sky.rainbow()\nx.game.sky.rainbow()\n";
        assert_eq!(messages(source), []);
    }

    #[test]
    fn event_names_one_typo_off_and_events_sent_the_wrong_way_are_named() {
        let source = "modhost.events.emit(\"harvset\", 1)\nmodhost.events.on('dawm', f)\nmodhost.events.emit(\"dawn\", 2)\nmodhost.events.emit(\"harvest\", 3)\nmodhost.events.on(\"my-own\", f)\nmodhost.events.emit(\"my-own\")\n";
        let found = messages(source);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].0, Code::UnknownEvent);
        assert_eq!(
            found[0].1,
            "`harvset` is not an event of the game's API: did you mean `harvest`? (no game hears an event by this name)"
        );
        assert_eq!(found[0].2, "1:22");
        assert!(
            found[1].1.contains("did you mean `dawn`?"),
            "{}",
            found[1].1
        );
        assert_eq!(
            found[2].1,
            "`dawn` is sent by the game, not by mods, as the game's API declares it"
        );
    }
}
