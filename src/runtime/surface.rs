//! The one description of the `modhost` API that mods see (the surface: namespaces, functions,
//! parameters, hooks), below the runtimes: the natives check their arguments against it
//! ([`super::signatures`]) and the TypeScript and LuaLS declarations are generated from it
//! ([`crate::typings`]). `tests/typings.rs` checks it against what the runtimes really
//! install, so neither can drift from the code.

/// A type in the API, as both languages can spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// A JSON-compatible value.
    Json,
    /// Anything at all (what the log functions accept).
    Any,
    String,
    Number,
    Boolean,
    /// Returns nothing.
    Nothing,
    /// A callback taking `params` and returning `returns`.
    Handler {
        params: &'static [Param],
        returns: &'static Type,
    },
    /// An array of strings.
    Strings,
    /// A named structure, declared once in [`STRUCTURES`].
    Named(&'static str),
    /// Nothing, or a JSON value to use instead, or `false` to cancel.
    BeforeResult,
    /// A field that may be absent.
    Optional(&'static Type),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Type,
    pub optional: bool,
    /// Takes any number of values (`...args`).
    pub variadic: bool,
}

const fn param(name: &'static str, kind: Type) -> Param {
    Param {
        name,
        kind,
        optional: false,
        variadic: false,
    }
}

const fn optional(name: &'static str, kind: Type) -> Param {
    Param {
        name,
        kind,
        optional: true,
        variadic: false,
    }
}

const fn rest(name: &'static str, kind: Type) -> Param {
    Param {
        name,
        kind,
        optional: false,
        variadic: true,
    }
}

/// A function of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    pub doc: &'static str,
    pub params: &'static [Param],
    pub returns: Type,
}

/// What a name under `modhost` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// A read-only value (`modhost.mod`, `modhost.settings`).
    Value(Type),
    /// A group of functions (`modhost.log`, `modhost.events`, …).
    Functions(&'static [Function]),
}

/// A name under the global `modhost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace {
    pub name: &'static str,
    pub doc: &'static str,
    pub contents: Contents,
}

/// A structure with named fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Structure {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [(&'static str, Type, &'static str)],
}

pub const STRUCTURES: &[Structure] = &[
    Structure {
        name: "ModInfo",
        doc: "Who this mod is (read-only).",
        fields: &[
            ("id", Type::String, "The mod's id."),
            ("name", Type::String, "The display name from the manifest."),
            (
                "version",
                Type::String,
                "The semver version from the manifest.",
            ),
            ("dir", Type::String, "The mod's folder."),
            (
                "dataDir",
                Type::String,
                "The folder reserved for the mod's data.",
            ),
        ],
    },
    Structure {
        name: "ModStatus",
        doc: "A mod of the pack, as `modhost.mods.list()` reports it.",
        fields: &[
            ("id", Type::String, "The mod's id."),
            ("version", Type::String, "Its version."),
            (
                "runtime",
                Type::String,
                "Its language: `javascript` or `lua`.",
            ),
            (
                "state",
                Type::String,
                "`resolved`, `attached`, `active`, `detached`, `failed`, `blocked` or `disabled`.",
            ),
            (
                "reason",
                Type::Optional(&Type::String),
                "Why the mod failed or is blocked (absent otherwise).",
            ),
        ],
    },
];

const LOG_PARAMS: &[Param] = &[rest("values", Type::Any)];
const EVENT_PARAMS: &[Param] = &[param("payload", Type::Json), param("event", Type::String)];
const ON_HANDLER: Type = Type::Handler {
    params: EVENT_PARAMS,
    returns: &Type::Nothing,
};
const BEFORE_HANDLER: Type = Type::Handler {
    params: EVENT_PARAMS,
    returns: &Type::BeforeResult,
};
const TIMER_CALLBACK: Type = Type::Handler {
    params: &[],
    returns: &Type::Nothing,
};

/// Every namespace under the global `modhost`, in the order the docs present them.
pub const API: &[Namespace] = &[
    Namespace {
        name: "mod",
        doc: "Who this mod is (read-only).",
        contents: Contents::Value(Type::Named("ModInfo")),
    },
    Namespace {
        name: "settings",
        doc: "The mod's settings: the manifest's defaults, overridden by `config.toml` (read-only).",
        contents: Contents::Value(Type::Json),
    },
    Namespace {
        name: "log",
        doc: "Log lines tagged with the mod's id.",
        contents: Contents::Functions(&[
            Function {
                name: "debug",
                doc: "Logs at debug level.",
                params: LOG_PARAMS,
                returns: Type::Nothing,
            },
            Function {
                name: "info",
                doc: "Logs at info level.",
                params: LOG_PARAMS,
                returns: Type::Nothing,
            },
            Function {
                name: "warn",
                doc: "Logs a warning.",
                params: LOG_PARAMS,
                returns: Type::Nothing,
            },
            Function {
                name: "error",
                doc: "Logs an error.",
                params: LOG_PARAMS,
                returns: Type::Nothing,
            },
        ]),
    },
    Namespace {
        name: "mods",
        doc: "The other mods of the pack.",
        contents: Contents::Functions(&[
            Function {
                name: "call",
                doc: "Calls another mod's function, whatever its language, and returns its result; raises its error.",
                params: &[
                    param("id", Type::String),
                    param("fn", Type::String),
                    rest("args", Type::Json),
                ],
                returns: Type::Json,
            },
            Function {
                name: "list",
                doc: "Every mod with its state, in load order.",
                params: &[],
                returns: Type::Named("ModStatus[]"),
            },
        ]),
    },
    Namespace {
        name: "events",
        doc: "The event bus: handlers run in load order, `before` handlers first.",
        contents: Contents::Functions(&[
            Function {
                name: "on",
                doc: "Subscribes to an event; returns the subscription id.",
                params: &[param("event", Type::String), param("handler", ON_HANDLER)],
                returns: Type::Number,
            },
            Function {
                name: "before",
                doc: "Subscribes before the `on` handlers: return nothing to pass the event on, a value to replace its payload, or `false` to cancel it.",
                params: &[
                    param("event", Type::String),
                    param("handler", BEFORE_HANDLER),
                ],
                returns: Type::Number,
            },
            Function {
                name: "off",
                doc: "Cancels one of this mod's subscriptions; returns whether it existed.",
                params: &[param("id", Type::Number)],
                returns: Type::Boolean,
            },
            Function {
                name: "emit",
                doc: "Queues an event; it is delivered after the current call returns.",
                params: &[
                    param("event", Type::String),
                    optional("payload", Type::Json),
                ],
                returns: Type::Nothing,
            },
        ]),
    },
    Namespace {
        name: "timers",
        doc: "Timers, with ids unique across all mods.",
        contents: Contents::Functions(&[
            Function {
                name: "after",
                doc: "Runs `fn` once, `ms` milliseconds from now; returns the timer id.",
                params: &[param("ms", Type::Number), param("fn", TIMER_CALLBACK)],
                returns: Type::Number,
            },
            Function {
                name: "every",
                doc: "Runs `fn` every `ms` milliseconds, without drifting; returns the timer id.",
                params: &[param("ms", Type::Number), param("fn", TIMER_CALLBACK)],
                returns: Type::Number,
            },
            Function {
                name: "cancel",
                doc: "Cancels one of this mod's timers; returns whether it existed.",
                params: &[param("id", Type::Number)],
                returns: Type::Boolean,
            },
        ]),
    },
    Namespace {
        name: "storage",
        doc: "The mod's own persistent key-value store.",
        contents: Contents::Functions(&[
            Function {
                name: "get",
                doc: "The value stored under `key`, or null (nil) when there is none.",
                params: &[param("key", Type::String)],
                returns: Type::Json,
            },
            Function {
                name: "set",
                doc: "Stores a JSON-compatible value (at most 1 MiB of JSON) under `key`.",
                params: &[param("key", Type::String), param("value", Type::Json)],
                returns: Type::Nothing,
            },
            Function {
                name: "delete",
                doc: "Removes `key`; returns whether it existed.",
                params: &[param("key", Type::String)],
                returns: Type::Boolean,
            },
            Function {
                name: "keys",
                doc: "The keys that start with `prefix` (all keys without one), sorted.",
                params: &[optional("prefix", Type::String)],
                returns: Type::Strings,
            },
        ]),
    },
    Namespace {
        name: "fs",
        doc: "Files in the mod's own folder.",
        contents: Contents::Functions(&[Function {
            name: "readText",
            doc: "Reads a UTF-8 file inside the mod's folder, by a path relative to it.",
            params: &[param("path", Type::String)],
            returns: Type::String,
        }]),
    },
];

/// The names of the lifecycle hooks, as the host calls them.
const MOCK_ANSWER: Type = Type::Handler {
    params: &[rest("args", Type::Json)],
    returns: &Type::Json,
};

/// `modhost.test`, which exists only while `modhost test` runs a mod's test files (SPEC
/// section 14); declared beside [`API`] so editors know it, and kept out of
/// [`member_paths`], which lists what every running mod has.
pub const TEST_API: Namespace = Namespace {
    name: "test",
    doc: "Only in test files run by `modhost test`: a virtual clock, events, and the game's functions mocked.",
    contents: Contents::Functions(&[
        Function {
            name: "advance",
            doc: "Moves the virtual clock `ms` milliseconds on: every timer due by then runs, in order.",
            params: &[param("ms", Type::Number)],
            returns: Type::Nothing,
        },
        Function {
            name: "emit",
            doc: "Delivers an event to this mod's own handlers at once (`before` ones first); returns the payload they left.",
            params: &[
                param("event", Type::String),
                optional("payload", Type::Json),
            ],
            returns: Type::Json,
        },
        Function {
            name: "emitted",
            doc: "The payloads this mod emitted as `event`, oldest first.",
            params: &[param("event", Type::String)],
            returns: Type::Named("Json[]"),
        },
        Function {
            name: "mock",
            doc: "Answers the game's function `name` (its dotted name, `world.spawn`) with `fn` from now on.",
            params: &[param("name", Type::String), param("fn", MOCK_ANSWER)],
            returns: Type::Nothing,
        },
        Function {
            name: "calls",
            doc: "The arguments of each call this mod made to the game's function `name`.",
            params: &[param("name", Type::String)],
            returns: Type::Named("Json[][]"),
        },
    ]),
};

pub const ON_ATTACH: &str = "onAttach";
pub const ON_BOOTSTRAP: &str = "onBootstrap";
pub const ON_DETACH: &str = "onDetach";
pub const ON_RELOAD: &str = "onReload";
pub const ON_SETTINGS_CHANGED: &str = "onSettingsChanged";

/// The lifecycle hooks a mod may define.
pub const HOOKS: &[(&str, &[Param], &str)] = &[
    (
        ON_ATTACH,
        &[],
        "The mod is loaded and its dependencies are attached.",
    ),
    (ON_BOOTSTRAP, &[], "Every mod is attached."),
    (
        ON_DETACH,
        &[],
        "Before the mod is unloaded; what it returns is handed to `onReload`.",
    ),
    (
        ON_RELOAD,
        &[param("state", Type::Json)],
        "After a hot reload, with what the old version's `onDetach` returned.",
    ),
    (
        ON_SETTINGS_CHANGED,
        &[param("changed", Type::Json)],
        "A setting changed while the mod runs (`ctl set`, the game, `config.toml` under `--watch`); `changed` maps each changed key to its new value, and `modhost.settings` shows it already. Without this hook the mod is restarted instead.",
    ),
];

/// The function at `path` (`storage.set`, `test.emitted`).
pub fn function(path: &str) -> Option<&'static Function> {
    let (namespace, name) = path.split_once('.')?;
    API.iter()
        .chain([&TEST_API])
        .filter(|described| described.name == namespace)
        .find_map(|described| match described.contents {
            Contents::Functions(functions) => functions.iter().find(|f| f.name == name),
            Contents::Value(_) => None,
        })
}

/// Whether the function at `path` gives the mod nothing back (`undefined`, `nil`), whatever
/// the host answers.
pub fn returns_nothing(path: &str) -> bool {
    function(path).is_some_and(|function| function.returns == Type::Nothing)
}

/// The API as a tree of names, `modhost.<namespace>.<member>`, as the runtimes expose it.
pub fn member_paths() -> Vec<String> {
    let mut paths: Vec<String> = API
        .iter()
        .flat_map(|namespace| match namespace.contents {
            Contents::Value(_) => vec![namespace.name.to_owned()],
            Contents::Functions(functions) => functions
                .iter()
                .map(|function| format!("{}.{}", namespace.name, function.name))
                .collect(),
        })
        .collect();
    paths.sort();
    paths
}
