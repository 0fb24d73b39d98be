//! Host configuration: `config.toml` merged with command-line flags, validated in one place.
//!
//! Flags beat the file and the file beats the defaults. The file is read into "wire" structs
//! that mirror it (with positions), then checked into [`Config`]; any unknown key or bad value
//! is an error naming the file, line and column. Paths in the file are relative to the file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::api::{ApiError, GameApi};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, line_column};

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// Effective host configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from, if any.
    pub file: Option<SourceFile>,
    pub mods_dir: PathBuf,
    pub data_dir: PathBuf,
    /// A `tracing` filter such as `info` or `modhost=debug`.
    pub log: String,
    /// The game's API description (`api`, or `--api`), read and validated.
    pub api: Option<Arc<GameApi>>,
    /// Where `modhost run` listens for games and `modhost ctl` (SPEC section 11).
    pub listen: Listen,
    pub limits: Limits,
    pub watch: Watch,
    /// How many seconds of the session `run --record-on-failure` keeps (SPEC section 16).
    pub record_window_s: u64,
    /// Per-mod sections, by mod id.
    pub mods: BTreeMap<String, ModConfig>,
    /// `api` as the file names it, until [`Config::load`] reads it.
    api_file: Option<PathBuf>,
}

/// The limits on a mod (SPEC section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long one call into the mod may run.
    pub call_timeout_ms: u64,
    /// Memory its engine (and the events it has queued) may take.
    pub memory_mb: u64,
    /// How long a game function may take to answer a call from this mod.
    pub game_call_timeout_ms: u64,
    /// How long an async hook (or an awaited call) may take to settle, in wall time.
    pub hook_timeout_ms: u64,
    /// Timers the mod may have pending at once.
    pub max_timers: u64,
    /// Bytes of keys and values the mod may keep in storage.
    pub storage_mb: u64,
    /// A call that takes longer than this is logged as slow (0: never).
    pub slow_call_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            call_timeout_ms: 1000,
            memory_mb: 64,
            game_call_timeout_ms: 5000,
            hook_timeout_ms: 10_000,
            max_timers: 1000,
            storage_mb: 64,
            slow_call_ms: 100,
        }
    }
}

/// Each limit's name and the values it may take.
const LIMIT_RANGES: &[(&str, std::ops::RangeInclusive<u64>)] = &[
    ("call_timeout_ms", 1..=3_600_000),
    ("memory_mb", 1..=65_536),
    ("game_call_timeout_ms", 1..=3_600_000),
    ("hook_timeout_ms", 1..=86_400_000),
    ("max_timers", 1..=1_000_000),
    ("storage_mb", 1..=1_048_576),
    ("slow_call_ms", 0..=3_600_000),
];

/// Where `modhost run` accepts connections (`listen` in `config.toml`, `--listen`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// The local socket `<data_dir>/modhost.sock`.
    Default,
    /// Not at all.
    None,
    /// A local socket (a Unix domain socket; a named pipe on Windows) at this path.
    Local(PathBuf),
    /// TCP on a loopback address; clients must send the token.
    Tcp(SocketAddr),
}

impl Listen {
    /// Parses `default`, `none`, `tcp:127.0.0.1:PORT` or a socket path.
    pub fn parse(text: &str) -> Result<Listen, String> {
        match text {
            "default" => Ok(Listen::Default),
            "none" => Ok(Listen::None),
            "" => Err(
                "an empty address; use `default`, `none`, a socket path or `tcp:127.0.0.1:PORT`"
                    .to_owned(),
            ),
            _ => match text.strip_prefix("tcp:") {
                Some(address) => {
                    let address: SocketAddr = address.parse().map_err(|_| {
                        format!("`{address}` is not an address and port such as `127.0.0.1:7400`")
                    })?;
                    if !address.ip().is_loopback() {
                        return Err(format!(
                            "`{}` is not a loopback address: modhost only listens on this machine (127.0.0.1 or [::1])",
                            address.ip()
                        ));
                    }
                    Ok(Listen::Tcp(address))
                }
                None => Ok(Listen::Local(PathBuf::from(text))),
            },
        }
    }

    /// The local socket path this resolves to, for `Default` and `Local`.
    pub fn socket_path(&self, data_dir: &Path) -> Option<PathBuf> {
        match self {
            Listen::Default => Some(data_dir.join(SOCKET_FILE)),
            Listen::Local(path) => Some(path.clone()),
            Listen::None | Listen::Tcp(_) => None,
        }
    }
}

/// The local socket of a running host, in its data dir.
pub const SOCKET_FILE: &str = "modhost.sock";
/// The token TCP clients must send, in the data dir.
pub const TOKEN_FILE: &str = "modhost.token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    pub debounce_ms: u64,
    /// Poll for changes every this many milliseconds instead of using the operating system's
    /// file events (which network and container mounts often lack); 0 means events.
    pub poll_ms: u64,
}

impl Watch {
    /// The polling interval when one is configured (`poll_ms` above 0).
    pub fn poll(&self) -> Option<std::time::Duration> {
        (self.poll_ms > 0).then(|| std::time::Duration::from_millis(self.poll_ms))
    }
}

impl Default for Watch {
    fn default() -> Self {
        Self {
            debounce_ms: 10,
            poll_ms: 0,
        }
    }
}

/// A `[mods.<id>]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ModConfig {
    pub enabled: bool,
    /// Settings that override the manifest's defaults, with the byte span of each key.
    pub settings: Vec<(String, std::ops::Range<usize>, serde_json::Value)>,
    pub limits: Limits,
    /// The span of the section's name in the file, for diagnostics.
    pub span: std::ops::Range<usize>,
}

/// What the command line says, which beats the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`: a file that must exist. Without it, `./config.toml` is read if present.
    pub config_file: Option<PathBuf>,
    pub mods_dir: Option<PathBuf>,
    pub log: Option<String>,
    /// `--api`: the game's API description, instead of `api` in the file.
    pub api: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{}`: {message}", crate::paths::shown(path))]
    Read { path: PathBuf, message: String },
    #[error("`{}:{line}:{column}`: {message}", crate::paths::shown(file.path()))]
    Invalid {
        file: SourceFile,
        span: std::ops::Range<usize>,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("invalid log filter `{filter}`: {message}")]
    LogFilter { filter: String, message: String },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl ConfigError {
    /// The error as diagnostics, with the file they quote, when it points into one.
    pub fn to_diagnostics(&self) -> Vec<(Diagnostic, &SourceFile)> {
        match self {
            ConfigError::Invalid {
                file,
                span,
                message,
                ..
            } => vec![(
                Diagnostic::new(Code::InvalidConfig, message.clone())
                    .at(file.locate(span.clone()))
                    .hint("every key and its default is described in `docs/configuration.md`"),
                file,
            )],
            ConfigError::Api(ApiError::Invalid { file, diagnostics }) => diagnostics
                .iter()
                .map(|diagnostic| (diagnostic.clone(), file))
                .collect(),
            ConfigError::Read { .. } | ConfigError::LogFilter { .. } | ConfigError::Api(_) => {
                Vec::new()
            }
        }
    }
}

impl Config {
    /// The defaults with `mods_dir`, reading no file: what a game that embeds modhost starts
    /// from (set `data_dir`, `limits` or `api` on it as needed).
    pub fn new(mods_dir: impl Into<PathBuf>) -> Config {
        Config {
            mods_dir: mods_dir.into(),
            ..Config::default()
        }
    }

    /// Reads and validates the game's API description in `path` and uses it.
    pub fn with_api_file(mut self, path: &Path) -> Result<Config, ConfigError> {
        self.api = Some(Arc::new(GameApi::load(path)?));
        Ok(self)
    }

    /// Reads the configuration file (if any) and applies the command-line overrides.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let path = match &overrides.config_file {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG_FILE)).filter(|path| path.is_file()),
        };
        let mut config = match path {
            Some(path) => {
                let text =
                    crate::files::read_to_string(&path).map_err(|error| ConfigError::Read {
                        message: match error.kind() {
                            std::io::ErrorKind::NotFound => "the file does not exist".to_owned(),
                            _ => error.to_string(),
                        },
                        path: path.clone(),
                    })?;
                Config::parse(SourceFile::new(path, text))?
            }
            None => Config::default(),
        };
        if let Some(mods_dir) = &overrides.mods_dir {
            config.mods_dir = mods_dir.clone();
        }
        if let Some(log) = &overrides.log {
            config.log = log.clone();
        }
        validate_log_filter(&config.log)?;
        let api_file = overrides.api.clone().or(config.api_file.take());
        if let Some(path) = api_file {
            config = config.with_api_file(&path)?;
        }
        Ok(config)
    }

    /// Parses the text of a configuration file; relative paths are taken from its folder.
    pub fn parse(file: SourceFile) -> Result<Config, ConfigError> {
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| {
            let span = span.unwrap_or(0..0);
            let (line, column) = line_column(file.text(), span.start);
            ConfigError::Invalid {
                file: file.clone(),
                span,
                line,
                column,
                message,
            }
        };
        let wire: wire::ConfigFile = toml::from_str(file.text())
            .map_err(|error| invalid(error.span(), error.message().trim_end().to_owned()))?;

        let base = file.path().parent().unwrap_or(Path::new(""));
        let defaults = Config::default();
        let limits = wire
            .limits
            .unwrap_or_default()
            .apply(defaults.limits)
            .map_err(|(span, message)| invalid(Some(span), message))?;
        let mut mods = BTreeMap::new();
        for (id, section) in wire.mods {
            let section_limits = section
                .limits
                .unwrap_or_default()
                .apply(limits)
                .map_err(|(span, message)| invalid(Some(span), message))?;
            let settings = section
                .settings
                .into_iter()
                .map(|(key, value)| {
                    let span = key.span();
                    (key.into_inner(), span, value)
                })
                .collect();
            let span = id.span();
            mods.insert(
                id.into_inner(),
                ModConfig {
                    enabled: section.enabled.unwrap_or(true),
                    settings,
                    limits: section_limits,
                    span,
                },
            );
        }
        let watch = match wire.watch {
            None => defaults.watch,
            Some(watch) => {
                let at_most_a_minute = 0..=60_000;
                let checked = |name, value, default| {
                    wire::within(name, value, default, &at_most_a_minute)
                        .map_err(|(span, message)| invalid(Some(span), message))
                };
                Watch {
                    debounce_ms: checked(
                        "debounce_ms",
                        watch.debounce_ms,
                        defaults.watch.debounce_ms,
                    )?,
                    poll_ms: checked("poll_ms", watch.poll_ms, defaults.watch.poll_ms)?,
                }
            }
        };
        let record_window_s = wire::within(
            "record_window_s",
            wire.record_window_s,
            defaults.record_window_s,
            &(1..=86_400),
        )
        .map_err(|(span, message)| invalid(Some(span), message))?;
        let listen = match wire.listen {
            Some(listen) => {
                let span = listen.span();
                Listen::parse(listen.get_ref()).map_err(|message| invalid(Some(span), message))?
            }
            None => defaults.listen,
        };
        let config = Config {
            api: None,
            api_file: wire.api.map(|path| base.join(path)),
            listen,
            mods_dir: wire
                .mods_dir
                .map_or(defaults.mods_dir, |dir| base.join(dir)),
            data_dir: wire
                .data_dir
                .map_or(defaults.data_dir, |dir| base.join(dir)),
            log: match wire.log {
                Some(log) => {
                    let span = log.span();
                    let log = log.into_inner();
                    validate_log_filter(&log)
                        .map_err(|error| invalid(Some(span), error.to_string()))?;
                    log
                }
                None => defaults.log,
            },
            limits,
            watch,
            record_window_s,
            mods,
            file: None,
        };
        Ok(Config {
            file: Some(file),
            ..config
        })
    }

    /// Whether `config.toml` leaves the mod enabled.
    pub fn is_enabled(&self, mod_id: &str) -> bool {
        self.mods.get(mod_id).is_none_or(|section| section.enabled)
    }

    /// The longest `call_timeout_ms` any mod has.
    pub fn longest_call_timeout(&self) -> std::time::Duration {
        let longest = self
            .mods
            .values()
            .map(|section| section.limits.call_timeout_ms)
            .chain([self.limits.call_timeout_ms])
            .max()
            .unwrap_or(self.limits.call_timeout_ms);
        std::time::Duration::from_millis(longest)
    }

    /// The limits that apply to one mod.
    pub fn limits_for(&self, mod_id: &str) -> Limits {
        self.mods
            .get(mod_id)
            .map_or(self.limits, |section| section.limits)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            file: None,
            mods_dir: PathBuf::from("mods"),
            data_dir: PathBuf::from(".modhost"),
            log: "info".to_owned(),
            api: None,
            api_file: None,
            listen: Listen::Default,
            limits: Limits::default(),
            watch: Watch::default(),
            record_window_s: 300,
            mods: BTreeMap::new(),
        }
    }
}

/// The log filter is the command line's to apply; a game that embeds the library (without
/// the `cli` feature) installs its own `tracing` subscriber and ignores it.
#[cfg(feature = "cli")]
fn validate_log_filter(filter: &str) -> Result<(), ConfigError> {
    tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map(drop)
        .map_err(|error| ConfigError::LogFilter {
            filter: filter.to_owned(),
            message: error.to_string(),
        })
}

#[cfg(not(feature = "cli"))]
fn validate_log_filter(_filter: &str) -> Result<(), ConfigError> {
    Ok(())
}

/// The file as written, field for field.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ConfigFile {
        pub mods_dir: Option<PathBuf>,
        pub data_dir: Option<PathBuf>,
        pub log: Option<Spanned<String>>,
        pub api: Option<PathBuf>,
        pub listen: Option<Spanned<String>>,
        pub limits: Option<Limits>,
        pub watch: Option<Watch>,
        pub record_window_s: Option<Spanned<u64>>,
        #[serde(default)]
        pub mods: BTreeMap<Spanned<String>, ModSection>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct Limits {
        pub call_timeout_ms: Option<Spanned<u64>>,
        pub memory_mb: Option<Spanned<u64>>,
        pub game_call_timeout_ms: Option<Spanned<u64>>,
        pub hook_timeout_ms: Option<Spanned<u64>>,
        pub max_timers: Option<Spanned<u64>>,
        pub storage_mb: Option<Spanned<u64>>,
        pub slow_call_ms: Option<Spanned<u64>>,
    }

    /// A value within its range, or the span and message that say what the range is.
    pub fn within(
        name: &str,
        value: Option<Spanned<u64>>,
        default: u64,
        range: &std::ops::RangeInclusive<u64>,
    ) -> Result<u64, (std::ops::Range<usize>, String)> {
        match value {
            Some(value) if !range.contains(value.get_ref()) => Err((
                value.span(),
                format!(
                    "`{name}` must be from {} to {}, not {}",
                    range.start(),
                    range.end(),
                    value.get_ref()
                ),
            )),
            Some(value) => Ok(value.into_inner()),
            None => Ok(default),
        }
    }

    impl Limits {
        /// These limits over `base`, or the span and message of a value out of range.
        pub fn apply(
            self,
            base: super::Limits,
        ) -> Result<super::Limits, (std::ops::Range<usize>, String)> {
            let limit = |name: &str, value: Option<Spanned<u64>>, default: u64| {
                let range = LIMIT_RANGES
                    .iter()
                    .find(|(known, _)| *known == name)
                    .map(|(_, range)| range.clone())
                    .unwrap_or(1..=u64::MAX);
                within(name, value, default, &range)
            };
            Ok(super::Limits {
                call_timeout_ms: limit(
                    "call_timeout_ms",
                    self.call_timeout_ms,
                    base.call_timeout_ms,
                )?,
                memory_mb: limit("memory_mb", self.memory_mb, base.memory_mb)?,
                game_call_timeout_ms: limit(
                    "game_call_timeout_ms",
                    self.game_call_timeout_ms,
                    base.game_call_timeout_ms,
                )?,
                hook_timeout_ms: limit(
                    "hook_timeout_ms",
                    self.hook_timeout_ms,
                    base.hook_timeout_ms,
                )?,
                max_timers: limit("max_timers", self.max_timers, base.max_timers)?,
                storage_mb: limit("storage_mb", self.storage_mb, base.storage_mb)?,
                slow_call_ms: limit("slow_call_ms", self.slow_call_ms, base.slow_call_ms)?,
            })
        }
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Watch {
        pub debounce_ms: Option<Spanned<u64>>,
        pub poll_ms: Option<Spanned<u64>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ModSection {
        pub enabled: Option<bool>,
        #[serde(default)]
        pub settings: BTreeMap<Spanned<String>, serde_json::Value>,
        pub limits: Option<Limits>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(SourceFile::new("game/config.toml", text))
    }

    #[test]
    fn an_empty_file_gives_the_defaults_relative_to_nothing() {
        let config = parse("").unwrap();
        assert_eq!(config.mods_dir, PathBuf::from("mods"));
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.watch.debounce_ms, 10);
    }

    #[test]
    fn paths_are_relative_to_the_file_and_mod_limits_inherit() {
        let config = parse(
            "mods_dir = \"pack\"\n[limits]\nmemory_mb = 32\n[mods.big]\nlimits = { memory_mb = 128 }\n[mods.quiet]\nenabled = false\n",
        )
        .unwrap();
        assert_eq!(config.mods_dir, PathBuf::from("game/pack"));
        assert_eq!(config.limits_for("big").memory_mb, 128);
        assert_eq!(config.limits_for("big").call_timeout_ms, 1000);
        assert_eq!(config.limits_for("other").memory_mb, 32);
        assert!(!config.is_enabled("quiet"));
        assert!(config.is_enabled("big"));
    }

    #[test]
    fn an_unknown_key_is_an_error_with_its_line() {
        let error = parse("log = \"info\"\n[limits]\nmemry_mb = 3\n").unwrap_err();
        let ConfigError::Invalid { line, message, .. } = error else {
            panic!("{error:?}")
        };
        assert_eq!(line, 3);
        assert!(message.contains("unknown field `memry_mb`"), "{message}");
    }

    #[test]
    fn bad_values_are_errors_with_their_line() {
        let error = parse("[limits]\ncall_timeout_ms = -5\n").unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { line: 2, .. }),
            "{error:?}"
        );
        let error = parse("[limits]\nmemory_mb = 0\n").unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { line: 2, ref message, .. } if message.contains("must be from 1 to 65536, not 0")),
            "{error:?}"
        );
        let error = parse("[watch]\ndebounce_ms = 18446744073709551615\n").unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { line: 2, ref message, .. } if message.contains("`debounce_ms` must be from 0 to 60000")),
            "{error:?}"
        );
        let error = parse("[mods.x]\nlimits = { max_timers = 0 }\n").unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { line: 2, ref message, .. } if message.contains("`max_timers`")),
            "{error:?}"
        );
        let error = parse("\nlog = \"[[[\"\n").unwrap_err();
        assert!(
            matches!(error, ConfigError::Invalid { line: 2, .. }),
            "{error:?}"
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn no_configuration_text_makes_parsing_panic(text in "\\PC{0,120}", toml in "(\\[[a-z.]{1,10}\\]\n)?([a-z_]{1,10} = (\"[a-z]{0,5}\"|-?[0-9]{1,4}|true|\\{\\}|\\[\\])\n){0,5}") {
            for input in [text, toml] {
                let _ = Config::parse(SourceFile::new("config.toml", input.as_str()));
            }
        }
    }
}
