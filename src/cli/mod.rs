//! The command line: arguments, logging, and one file per command.
//!
//! Each command is a function that takes its arguments and the loaded configuration and
//! returns an [`Exit`] status; only this layer writes to the terminal. Problems with the
//! invocation itself (flags, `config.toml`, the mods directory) exit with status 2.

mod bisect;
mod call;
mod check;
mod completion;
mod connect;
mod ctl;
mod graph;
mod list;
mod logging;
mod metrics_http;
mod new;
mod render;
mod replay;
mod run;
mod table;
mod test;
mod typings;
mod watch;
mod watchdog;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use modhost::{Config, ConfigError, Overrides};
use modhost::{Pack, PackError};

/// How a command ended, as the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went as asked.
    Success,
    /// The mod pack has problems (errors found, a mod failed).
    PackProblems,
    /// The invocation or the configuration is wrong.
    Usage,
    /// The game `run --exec` launched exited with this status.
    Game(u8),
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(match exit {
            Exit::Success => 0,
            Exit::PackProblems => 1,
            Exit::Usage => 2,
            Exit::Game(status) => status,
        })
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "modhost",
    // What users type, on every platform (the file is `modhost.exe` on Windows).
    bin_name = "modhost",
    version = env!("MODHOST_VERSION"),
    about = "Load, check, test and host mods in JavaScript, TypeScript, Lua and WebAssembly",
    after_help = "Examples:\n  modhost new hello-world       create a mod with typings and a first test\n  modhost run --watch           run the pack, reloading mods as you save\n  modhost check --smoke         validate the pack as CI would\n  modhost test                  run the mods' tests\n\nExit status: 0 success, 1 the mod pack has errors (or a test failed), 2 usage or configuration error."
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
struct GlobalArgs {
    /// The mods directory [default: `mods_dir` from the config, else `mods`]
    #[arg(long, global = true, value_name = "DIR")]
    mods: Option<PathBuf>,
    /// The configuration file [default: `./config.toml` if present]
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "MODHOST_CONFIG",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    /// The game's API description [default: `api` from the config]; alone, with `schema`:
    /// the schema of such a description
    #[arg(long, global = true, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    api: Option<String>,
    /// Log more (`-v` debug, `-vv` trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Log only errors
    #[arg(short, long, global = true)]
    quiet: bool,
    /// How log lines are written (to stderr)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// When to use colors (`NO_COLOR` and `CLICOLOR_FORCE` are honoured with `auto`)
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the pack, attach and bootstrap every mod, and run until SIGINT or SIGTERM
    #[command(
        after_help = "Examples:\n  modhost run                                  run until Ctrl-C (or SIGTERM)\n  modhost run --watch                          reload a mod the moment it is saved\n  modhost run --once                           stop when nothing is pending\n  modhost run --stdio < session.jsonl          a scripted protocol session; a game spawns it alike\n  modhost run --exec ./launch-game.sh          start the game, and stop with it\n  modhost run --listen tcp:127.0.0.1:7400      let games connect over loopback TCP too"
    )]
    Run(run::RunArgs),
    /// Load the pack, call one function of one mod, and print its result as JSON
    #[command(
        after_help = "Examples:\n  modhost call my-mod getModInfo\n  modhost call core-lib double 21\n\nEach argument is JSON when it parses as JSON, else a string: `21` is a number, `Ada` and\n'\"Ada\"' the string \"Ada\", '{\"loud\": true}' an object."
    )]
    Call(call::CallArgs),
    /// Validate manifests and resolution of the whole pack, reporting every problem
    #[command(
        after_help = "Examples:\n  modhost check\n  modhost check --format github --deny-warnings\n  modhost check --format json | jq '.diagnostics[] | select(.severity == \"error\")'"
    )]
    Check(check::CheckArgs),
    /// Run the mods' tests (`tests/*.test.js`, `.ts`, `.lua` in each mod)
    #[command(
        after_help = "Examples:\n  modhost test\n  modhost test my-mod --grep greets\n  modhost test --format junit > test-report.xml\n  modhost test --watch"
    )]
    Test(test::TestArgs),
    /// Find the mod, or the mods that fail only together, that break the pack
    #[command(
        after_help = "Examples:\n  modhost bisect\n  modhost bisect --test\n  modhost bisect --replay recording.jsonl\n  modhost bisect -- ./launch-game.sh --headless --quit-after 10\n\nExit status: 0 found, 1 the whole pack passes, 2 usage or configuration error."
    )]
    Bisect(bisect::BisectArgs),
    /// Replay a recorded session against the pack as it is now, and compare every output
    #[command(
        after_help = "Examples:\n  modhost run --record recording.jsonl        record a session, until the host stops\n  modhost replay recording.jsonl              the first divergence, and a summary\n  modhost replay recording.jsonl --twice      the determinism check: name the mod that would desync\n  modhost replay recording.jsonl --mods-only my-mod --format junit > replay.xml\n\nExit status: 0 identical, 1 a divergence, 2 the recording cannot be replayed."
    )]
    Replay(replay::ReplayArgs),
    /// Print the resolved load order
    #[command(
        after_help = "Examples:\n  modhost list\n  modhost list --explain\n  modhost list --format json"
    )]
    List(list::ListArgs),
    /// Print the dependency graph
    #[command(
        after_help = "Examples:\n  modhost graph\n  modhost graph --format dot | dot -Tsvg > mods.svg\n  modhost graph --format mermaid"
    )]
    Graph(graph::GraphArgs),
    /// Create a mod with every hook stubbed, editor typings and the manifest schema
    #[command(
        after_help = "Examples:\n  modhost new hello-world\n  modhost new world-gen --lang lua\n  modhost new scores --lang ts\n  modhost new physics --lang rust\n  modhost --mods addons new my-addon"
    )]
    New(new::NewArgs),
    /// Look at and steer a running `modhost run`: status, calls, settings, logs, metrics
    #[command(
        after_help = "Examples:\n  modhost ctl status\n  modhost ctl call my-mod getModInfo\n  modhost ctl set my-mod greeting '\"hi\"'\n  modhost ctl logs --follow\n  modhost ctl --connect tcp:127.0.0.1:7400 metrics\n\nExit status: 0 done, 1 the host reported an error, 2 no host answers."
    )]
    Ctl(ctl::CtlArgs),
    /// Write editor typings (the `modhost` API and the game's) into each mod, or into one folder
    #[command(
        after_help = "Examples:\n  modhost typings\n  modhost --api game-api.json typings --out types"
    )]
    Typings(typings::TypingsArgs),
    /// Print the JSON Schema of manifest.json, or of the game's API description
    #[command(
        after_help = "Examples:\n  modhost schema > mods/manifest.schema.json\n  modhost schema --api > game-api.schema.json"
    )]
    Schema,
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  modhost completions bash > ~/.local/share/bash-completion/completions/modhost\n  modhost completions zsh > ~/.zfunc/_modhost\n  modhost completions fish > ~/.config/fish/completions/modhost.fish"
    )]
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
}

/// The command line, parsed; `Err` holds the exit code once help, the version or a usage
/// error has been printed (or a completion answered).
pub fn parse() -> Result<Cli, ExitCode> {
    completion::answer_if_asked();
    Cli::try_parse().map_err(|error| {
        // clap prints help and version to stdout with status 0, and usage errors with 2.
        let _ = error.print();
        ExitCode::from(error.exit_code() as u8)
    })
}

impl Cli {
    /// Whether the command's work is spread over every core (`check` compiles every script on
    /// each), rather than done by mods' engines on one thread.
    pub fn works_on_every_core(&self) -> bool {
        matches!(self.command, Command::Check(_))
    }
}

pub fn main(cli: Cli) -> ExitCode {
    cli.global.apply_color();
    // `schema --api` asks for the schema of API descriptions; elsewhere `--api` needs a file.
    let schema_of_api = cli.global.api.as_ref().is_some_and(String::is_empty);
    if schema_of_api && !matches!(cli.command, Command::Schema) {
        render::fatal(
            "`--api` needs the path of the game's API description",
            Some("write `--api game-api.json`"),
        );
        return Exit::Usage.into();
    }
    let overrides = Overrides {
        config_file: cli.global.config.clone(),
        mods_dir: cli.global.mods.clone(),
        log: cli.global.log_override(),
        api: cli
            .global
            .api
            .clone()
            .filter(|_| !schema_of_api)
            .map(PathBuf::from),
    };
    let config = match Config::load(&overrides) {
        Ok(config) => config,
        Err(error) => {
            report_config_error(&error);
            if let Command::Check(args) = &cli.command {
                args.report_failure_to_run(
                    modhost::Code::InvalidConfig,
                    &format!("invalid configuration: {error}"),
                    None,
                );
            }
            return Exit::Usage.into();
        }
    };
    // A replay's mods say again what they said when recorded: their lines are outputs it
    // compares, not news (`-v` shows them).
    let log = match &cli.command {
        Command::Replay(_) if cli.global.verbose == 0 && !cli.global.quiet => {
            format!("warn,{}=off", modhost::internal::host::MOD_LOG_TARGET)
        }
        _ => config.log.clone(),
    };
    cli.global.init_logging(&log);
    let exit = match cli.command {
        Command::Run(args) => run::run(&args, &config, overrides),
        Command::Call(args) => call::run(&args, &config),
        Command::Check(args) => check::run(&args, &config),
        Command::Test(args) => test::run(&args, &config, cli.global.verbose > 0),
        Command::Bisect(args) => bisect::run(&args, &config),
        Command::Replay(args) => replay::run(&args, &config),
        Command::List(args) => list::run(&args, &config),
        Command::Graph(args) => graph::run(&args, &config),
        Command::New(args) => new::run(&args, &config),
        Command::Typings(args) => typings::run(&args, &config),
        Command::Ctl(args) => ctl::run(&args, &config),
        Command::Schema => {
            let schema = if schema_of_api {
                modhost::internal::game_api::json_schema()
            } else {
                modhost::internal::manifest::json_schema()
            };
            let text = serde_json::to_string_pretty(&schema).expect("the schema is JSON");
            let _ = writeln!(anstream::stdout(), "{text}");
            Exit::Success
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let _ = completion::write_script(shell, &mut script);
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = anstream::stdout().write_all(&script);
            Exit::Success
        }
    };
    exit.into()
}

impl GlobalArgs {
    fn apply_color(&self) {
        let choice = match self.color {
            // CI logs are read as text: no color there even when the runner gives a terminal
            // (anstream would color for CI, as GitHub renders ANSI; the README promises none).
            ColorWhen::Auto if std::env::var_os("CI").is_some() => anstream::ColorChoice::Never,
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        choice.write_global();
    }

    fn log_override(&self) -> Option<String> {
        match (self.quiet, self.verbose) {
            (true, _) => Some("error".to_owned()),
            (false, 0) => None,
            (false, 1) => Some("debug".to_owned()),
            (false, _) => Some("trace".to_owned()),
        }
    }

    fn init_logging(&self, filter: &str) {
        let mut filter = tracing_subscriber::EnvFilter::builder()
            .parse(filter)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        // The file watcher's own chatter is not for users.
        if let Ok(quiet) = "notify=warn".parse() {
            filter = filter.add_directive(quiet);
        }
        // A closed stderr (`2>&1 | head -1`) must end quietly: the subscriber's own report of a
        // failed write would print to that same stderr, which panics.
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .log_internal_errors(false)
            .with_target(false);
        let ansi = anstream::ColorChoice::global() != anstream::ColorChoice::Never
            && anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
        let _ = match self.log_format {
            LogFormat::Text => builder
                .with_ansi(ansi)
                .event_format(logging::ModLines)
                .try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
        render::diagnostics_as_log_events(matches!(self.log_format, LogFormat::Json));
    }
}

/// Prints a configuration error, quoting the file when it points into one.
fn report_config_error(error: &ConfigError) {
    let diagnostics = error.to_diagnostics();
    if diagnostics.is_empty() {
        render::fatal(&format!("invalid configuration: {error}"), None);
    }
    for (diagnostic, file) in diagnostics {
        let sources = BTreeMap::from([(file.path().to_path_buf(), file.clone())]);
        let _ = writeln!(
            anstream::stderr(),
            "{}",
            render::human(&diagnostic, &sources)
        );
    }
}

/// Loads the pack, or explains why it cannot be read (exit status 2).
fn load_pack(config: &Config) -> Result<Pack, Exit> {
    explained(Pack::load(config))
}

/// [`load_pack`] for commands that resolve parts of the pack again (`test`, `bisect`).
fn load_pack_to_reassemble(config: &Config) -> Result<Pack, Exit> {
    explained(Pack::load_to_reassemble(config))
}

fn explained(loaded: Result<Pack, PackError>) -> Result<Pack, Exit> {
    loaded.map_err(|error| {
        render::fatal(&error.to_string(), pack_error_hint(&error));
        Exit::Usage
    })
}

/// What to do about a mods directory that cannot be read.
fn pack_error_hint(error: &PackError) -> Option<&'static str> {
    match error {
        PackError::MissingModsDir(_) | PackError::NotADirectory(_) => {
            Some("create it, or name another with `--mods DIR` or `mods_dir` in `config.toml`")
        }
        _ => None,
    }
}
