//! `modhost ctl`: look at and steer a running `modhost run` (SPEC section 12), as a client of
//! the protocol of section 11.
//!
//! It finds the host of the current configuration (`<data_dir>/modhost.sock`, or whatever
//! `listen` says) unless `--connect` names another. Results are JSON on stdout for scripts;
//! `status` and `list` print a table on a terminal. Exit status: 0 done, 1 the host reported
//! an error, 2 no host answers (or the command line is wrong).

use std::io::{IsTerminal, Read, Write};

use clap::{Args, Subcommand, ValueEnum};
use modhost::Config;
use modhost::Value as Json;
use modhost::internal::config::{Listen, TOKEN_FILE};
use modhost::internal::protocol::framing::{FrameReader, Framing, encode};
use modhost::internal::protocol::message::{self, Incoming, RpcError};
use modhost::internal::protocol::method::{
    Emit, EventsEmit, HostLogs, HostMetrics, HostStatus, Initialize, InitializeParams, MaybeMod,
    ModCall, ModsCall, ModsDisable, ModsEnable, ModsList, ModsReload, NoParams, OneMod, SetSetting,
    SettingsGet, SettingsSet, Shutdown, request,
};
use modhost::internal::protocol::transport;
use modhost::value as json;

use super::{Exit, call::parse_argument, render, table};

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// The host to talk to: a socket path or `tcp:127.0.0.1:PORT` (a game `run --exec` launched has it in `MODHOST_CONNECT`) [default: the `listen` of the configuration, `<data_dir>/modhost.sock`]
    #[arg(long, value_name = "ADDR", global = true, env = "MODHOST_CONNECT")]
    connect: Option<String>,
    /// How results are printed [default: a table on a terminal for `status` and `list`, else JSON]
    #[arg(long, value_enum, global = true)]
    format: Option<CtlFormat>,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CtlFormat {
    /// Aligned columns
    Table,
    /// The host's answer as JSON, for scripts
    Json,
}

#[derive(Debug, Subcommand)]
enum CtlCommand {
    /// Every mod with its state and figures: calls, errors, time, memory, timers, last error
    Status,
    /// Every mod with its state, in load order
    List,
    /// Call a mod's function in the running pack (each ARG is JSON if it parses, else a string)
    Call {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: String,
        function: String,
        args: Vec<String>,
    },
    /// Send an event to the running pack (PAYLOAD is JSON if it parses, else a string)
    Emit {
        event: String,
        payload: Option<String>,
    },
    /// Reload a mod (and the mods that depend on it) from its files, or every mod
    Reload {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: Option<String>,
    },
    /// Start a disabled mod again, with the mods it unblocks
    Enable {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: String,
    },
    /// Detach a mod and keep it off; mods that require it are blocked
    Disable {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: String,
    },
    /// Change a mod's setting (VALUE is JSON if it parses, else a string); it runs `onSettingsChanged`
    Set {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: String,
        key: String,
        value: String,
    },
    /// A mod's effective settings
    Get {
        #[arg(value_name = "MOD", add = super::completion::mod_ids())]
        mod_id: String,
    },
    /// The host's figures in the Prometheus text format
    Metrics,
    /// What mods logged lately; `--follow` keeps printing as they log
    Logs {
        /// Keep printing new lines until the host stops (or Ctrl-C)
        #[arg(long)]
        follow: bool,
    },
    /// Detach every mod and stop the host
    Shutdown,
}

pub fn run(args: &CtlArgs, config: &Config) -> Exit {
    let (address, why) = match &args.connect {
        Some(address) => (
            address.clone(),
            "`--connect` or `MODHOST_CONNECT`".to_owned(),
        ),
        None => match where_the_host_listens(config) {
            Ok(found) => found,
            Err(message) => {
                render::fatal(&message, Some("give the address with `--connect ADDR`"));
                return Exit::Usage;
            }
        },
    };
    let follow = matches!(args.command, CtlCommand::Logs { follow: true });
    let mut client = match Client::connect(&address, &token(config), follow) {
        Ok(client) => client,
        Err(error) => {
            render::fatal(
                &format!("no modhost answers at `{address}` ({why}): {error}"),
                Some(
                    "start `modhost run` for this configuration, or name a running host with `--connect ADDR`",
                ),
            );
            return Exit::Usage;
        }
    };
    let (method, params) = request_of(&args.command);
    let answer = match client.request(method, params) {
        Ok(answer) => answer,
        Err(error) => {
            render::fatal(
                &format!("the host at `{address}` stopped answering: {error}"),
                None,
            );
            return Exit::Usage;
        }
    };
    let result = match answer {
        Ok(result) => result,
        Err(error) => {
            report(&error);
            return Exit::PackProblems;
        }
    };
    let table = match args.format {
        Some(format) => format == CtlFormat::Table,
        None => std::io::stdout().is_terminal(),
    };
    print(&args.command, &result, table);
    if follow {
        client.follow(table);
    }
    Exit::Success
}

/// The address of the host of this configuration, and why it is that one.
fn where_the_host_listens(config: &Config) -> Result<(String, String), String> {
    match &config.listen {
        Listen::None => Err(
            "the configuration says `listen = \"none\"`, so its host does not listen".to_owned(),
        ),
        Listen::Tcp(address) => Ok((
            format!("tcp:{address}"),
            "`listen` in the configuration".to_owned(),
        )),
        local => {
            let path = local.socket_path(&config.data_dir).unwrap_or_default();
            let path = std::path::absolute(&path).unwrap_or(path);
            Ok((
                path.display().to_string(),
                "the socket in the configuration's data dir".to_owned(),
            ))
        }
    }
}

/// The token a TCP host wants: `MODHOST_TOKEN`, else the one in the data dir.
fn token(config: &Config) -> Option<String> {
    std::env::var("MODHOST_TOKEN")
        .ok()
        .or_else(|| std::fs::read_to_string(config.data_dir.join(TOKEN_FILE)).ok())
        .map(|token| token.trim().to_owned())
}

fn request_of(command: &CtlCommand) -> (&'static str, Json) {
    let one = |mod_id: &String| OneMod {
        mod_id: mod_id.clone(),
    };
    match command {
        CtlCommand::Status => request::<HostStatus>(&NoParams {}),
        CtlCommand::List => request::<ModsList>(&NoParams {}),
        CtlCommand::Call {
            mod_id,
            function,
            args,
        } => request::<ModsCall>(&ModCall {
            mod_id: mod_id.clone(),
            function: function.clone(),
            args: args.iter().map(|arg| parse_argument(arg)).collect(),
        }),
        CtlCommand::Emit { event, payload } => request::<EventsEmit>(&Emit {
            event: event.clone(),
            payload: payload.as_deref().map(parse_argument).unwrap_or(Json::Null),
        }),
        CtlCommand::Reload { mod_id } => request::<ModsReload>(&MaybeMod {
            mod_id: mod_id.clone(),
        }),
        CtlCommand::Enable { mod_id } => request::<ModsEnable>(&one(mod_id)),
        CtlCommand::Disable { mod_id } => request::<ModsDisable>(&one(mod_id)),
        CtlCommand::Set { mod_id, key, value } => request::<SettingsSet>(&SetSetting {
            mod_id: mod_id.clone(),
            key: key.clone(),
            value: parse_argument(value),
        }),
        CtlCommand::Get { mod_id } => request::<SettingsGet>(&one(mod_id)),
        CtlCommand::Metrics => request::<HostMetrics>(&NoParams {}),
        CtlCommand::Logs { .. } => request::<HostLogs>(&NoParams {}),
        CtlCommand::Shutdown => request::<Shutdown>(&NoParams {}),
    }
}

/// The host's error, with where in a mod it happened when it says.
fn report(error: &RpcError) {
    let data = error.data.as_ref();
    let place = data
        .and_then(|data| {
            Some(format!(
                "{}:{}",
                data["file"].as_str()?,
                data["line"].as_u64()?
            ))
        })
        .map(|place| format!(" (at {place})"))
        .unwrap_or_default();
    render::fatal(&format!("{}{place}", error.message), None);
}

fn print(command: &CtlCommand, result: &Json, table: bool) {
    let mut out = std::io::stdout().lock();
    let text = match (command, table) {
        (CtlCommand::Metrics, _) => result.as_str().unwrap_or_default().to_owned(),
        (CtlCommand::Logs { .. }, true) => result
            .as_array()
            .map(|lines| lines.iter().map(log_line).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default(),
        (CtlCommand::Logs { .. }, false) => result
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(Json::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default(),
        (CtlCommand::Status, true) => status_table(&result["mods"]),
        (CtlCommand::List, true) => list_table(result),
        (_, true) => serde_json::to_string_pretty(result).unwrap_or_default(),
        (_, false) => result.to_string(),
    };
    if !text.is_empty() {
        let _ = writeln!(out, "{}", text.trim_end());
    }
}

/// One row per element of the array `mods`, made by `row`.
fn rows(mods: &Json, row: impl Fn(&Json) -> Vec<String>) -> Vec<Vec<String>> {
    mods.as_array().into_iter().flatten().map(row).collect()
}

/// A string field of a mod's entry, empty when absent.
fn text(status: &Json, key: &str) -> String {
    status[key].as_str().unwrap_or_default().to_owned()
}

fn status_table(mods: &Json) -> String {
    let rows = rows(mods, |status| {
        let number = |key: &str| status[key].as_u64().unwrap_or(0);
        vec![
            text(status, "id"),
            text(status, "state"),
            text(status, "runtime"),
            text(status, "version"),
            format_seconds(
                ["load_seconds", "attach_seconds", "bootstrap_seconds"]
                    .iter()
                    .filter_map(|key| status[*key].as_f64())
                    .sum(),
            ),
            number("calls").to_string(),
            number("errors").to_string(),
            format_seconds(status["seconds"].as_f64().unwrap_or(0.0)),
            format_bytes(number("memory_bytes")),
            number("timers").to_string(),
            one_line(
                status["last_error"]
                    .as_str()
                    .or(status["reason"].as_str())
                    .unwrap_or_default(),
            ),
        ]
    });
    table::render(
        &[
            "mod",
            "state",
            "runtime",
            "version",
            "start",
            "calls",
            "errors",
            "time",
            "memory",
            "timers",
            "last error",
        ],
        &rows,
        &[4, 5, 6, 7, 8, 9],
    )
}

fn list_table(mods: &Json) -> String {
    let rows = rows(mods, |status| {
        vec![
            text(status, "id"),
            text(status, "version"),
            text(status, "runtime"),
            text(status, "state"),
            one_line(&text(status, "reason")),
        ]
    });
    table::render(
        &["mod", "version", "runtime", "state", "reason"],
        &rows,
        &[],
    )
}

/// A cell on one line, cut to fit a terminal.
fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    if first.chars().count() > 60 {
        format!("{}…", first.chars().take(59).collect::<String>())
    } else {
        first.to_owned()
    }
}

fn format_seconds(seconds: f64) -> String {
    if seconds >= 1.0 {
        format!("{seconds:.2} s")
    } else {
        format!("{:.1} ms", seconds * 1000.0)
    }
}

fn format_bytes(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.0} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

fn log_line(line: &Json) -> String {
    format!(
        "[{}] {}: {}",
        line["mod"].as_str().unwrap_or("?"),
        line["level"].as_str().unwrap_or("info"),
        line["message"].as_str().unwrap_or_default()
    )
}

/// One connection to a host.
struct Client {
    frames: FrameReader<Box<dyn Read + Send>>,
    writer: Box<dyn Write + Send>,
    next_id: u64,
}

impl Client {
    /// Connects and initializes (asking for mods' log lines when `logs` is set).
    fn connect(address: &str, token: &Option<String>, logs: bool) -> std::io::Result<Client> {
        let (reader, writer) = transport::connect(address)?;
        let mut client = Client {
            frames: FrameReader::new(reader),
            writer,
            next_id: 0,
        };
        // No `client`: the host logs games that introduce themselves, and a `ctl` each time
        // would only be noise.
        let (method, params) = request::<Initialize>(&InitializeParams {
            token: token.clone(),
            logs: logs.then(|| "debug".to_owned()),
            ..InitializeParams::default()
        });
        match client.request(method, params)? {
            Ok(_) => Ok(client),
            Err(error) => Err(std::io::Error::other(error.message)),
        }
    }

    /// Sends a request and waits for its answer (notifications meanwhile are dropped).
    fn request(&mut self, method: &str, params: Json) -> std::io::Result<Result<Json, RpcError>> {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.writer.write_all(&encode(
            Framing::Lines,
            &message::request(&id, method, params),
        ))?;
        self.writer.flush()?;
        loop {
            let Some(frame) = self.frames.next_frame()? else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the connection closed",
                ));
            };
            if let Ok(Incoming::Response {
                id: answered,
                result,
            }) = Incoming::parse(&frame)
                && answered == id
            {
                return Ok(result);
            }
        }
    }

    /// Prints mods' log lines as they come, until the host goes away.
    fn follow(&mut self, table: bool) {
        let mut out = std::io::stdout().lock();
        while let Ok(Some(frame)) = self.frames.next_frame() {
            if let Ok(Incoming::Notification { method, params }) = Incoming::parse(&frame)
                && method == "log"
            {
                let line = if table {
                    log_line(&params)
                } else {
                    params.to_string()
                };
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each header stands over its own column: a right-aligned cell ends where its header
    /// ends, a left-aligned one starts where its header starts.
    #[test]
    fn the_status_table_s_columns_stand_under_their_headers() {
        let mods = json!([{
            "id": "core-lib", "state": "active", "runtime": "lua", "version": "1.2.0",
            "load_seconds": 0.001, "attach_seconds": 0.002, "bootstrap_seconds": 0.0,
            "calls": 12345, "errors": 7, "seconds": 0.25, "memory_bytes": 2048, "timers": 42,
            "last_error": "boom",
        }]);
        let table = status_table(&mods);
        let mut lines = table.lines();
        let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
        let end_of = |line: &str, text: &str| line.find(text).map(|at| at + text.len());
        for (name, value) in [("calls", "12345"), ("errors", "7"), ("timers", "42")] {
            let cell = end_of(row, &format!(" {value} ")).map(|end| end - 1);
            assert_eq!(end_of(header, name), cell, "{table}");
        }
        for (name, value) in [
            ("mod", "core-lib"),
            ("state", "active"),
            ("last error", "boom"),
        ] {
            assert_eq!(header.find(name), row.find(value), "{table}");
        }
    }
}
