//! Host configuration: `config.toml` merged with command-line flags, validated in one place.
//!
//! Flags beat the file and the file beats the defaults. The file is read into "wire" structs
//! that mirror it (with positions), then checked into [`Config`]; any unknown key or bad value
//! is an error naming the file, line and column. Paths in the file are relative to the file.

mod limits;
mod listen;
mod wire;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use limits::Limits;
pub use listen::{Listen, TOKEN_FILE};

use crate::diagnostic::{Code, Diagnostic};
use crate::game_api::{ApiError, GameApi};
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
#[non_exhaustive]
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
                    limits::within(name, value, default, &at_most_a_minute)
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
        let record_window_s = limits::within(
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
