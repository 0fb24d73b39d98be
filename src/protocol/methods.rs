//! The methods a client may call (SPEC section 11): each takes the host and typed params and
//! returns a JSON result or a JSON-RPC error with the code the spec names.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

use super::message::{
    IN_CALL, INVALID_PARAMS, METHOD_NOT_FOUND, MOD_ERROR, RpcError, UNKNOWN_TARGET,
};
use super::server::Server;
use super::transport::ConnectionId;
use crate::host::{CallError, Host, ReloadError, Reloaded, SettingError};
use crate::runtime::LogLevel;

/// Every method, for "did you mean" and the docs test.
pub const METHODS: &[&str] = &[
    "initialize",
    "mods/list",
    "mods/call",
    "events/emit",
    "events/subscribe",
    "events/unsubscribe",
    "mods/reload",
    "mods/enable",
    "mods/disable",
    "settings/get",
    "settings/set",
    "host/status",
    "host/metrics",
    "host/logs",
    "shutdown",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initialize {
    pub client: Option<Client>,
    pub token: Option<String>,
    #[serde(default)]
    pub provides: Vec<String>,
    #[serde(default)]
    pub subscribe: Vec<String>,
    pub logs: Option<String>,
}

#[derive(Deserialize)]
pub struct Client {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModCall {
    #[serde(rename = "mod")]
    mod_id: String,
    function: String,
    #[serde(default)]
    args: Vec<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Emit {
    event: String,
    #[serde(default)]
    payload: Json,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Events {
    events: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneMod {
    #[serde(rename = "mod")]
    mod_id: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MaybeMod {
    #[serde(rename = "mod")]
    mod_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSetting {
    #[serde(rename = "mod")]
    mod_id: String,
    key: String,
    value: Json,
}

/// Reads params into their typed shape; a wrong shape is `-32602` naming what is wrong.
pub fn params<T: DeserializeOwned>(params: Json) -> Result<T, RpcError> {
    let params = if params.is_null() { json!({}) } else { params };
    serde_json::from_value(params)
        .map_err(|error| RpcError::invalid_params(format!("invalid params: {error}")))
}

pub fn dispatch(
    server: &Server,
    host: &Host,
    connection: ConnectionId,
    method: &str,
    raw: Json,
) -> Result<Json, RpcError> {
    match method {
        "mods/list" => Ok(json!(host.mods())),
        "mods/call" => {
            let call: ModCall = params(raw)?;
            host.call(&call.mod_id, &call.function, &call.args)
                .map_err(call_error)
        }
        "events/emit" => {
            let emit: Emit = params(raw)?;
            let delivered = host
                .emit(&emit.event, emit.payload.clone())
                .map_err(RpcError::invalid_params)?;
            Ok(match delivered {
                Some(payload) => json!({ "cancelled": false, "payload": payload }),
                None => json!({ "cancelled": true, "payload": emit.payload }),
            })
        }
        "events/subscribe" | "events/unsubscribe" => {
            let Events { events } = params(raw)?;
            let subscribe = method == "events/subscribe";
            if subscribe && let Some(api) = host.api() {
                for event in &events {
                    api.check_heard_by_game(event)
                        .map_err(|error| RpcError::invalid_params(error.to_string()))?;
                }
            }
            let subscribed = server.with_client(connection, |state| {
                for event in events {
                    if subscribe {
                        state.subscribed.insert(event);
                    } else {
                        state.subscribed.remove(&event);
                    }
                }
                state.subscribed.iter().cloned().collect::<Vec<_>>()
            });
            Ok(json!({ "subscribed": subscribed.unwrap_or_default() }))
        }
        "mods/reload" => {
            let MaybeMod { mod_id } = params(raw)?;
            if let Some(id) = &mod_id {
                known_mod(host, id)?;
            }
            let report = host
                .reload_from_disk(mod_id.as_deref())
                .map_err(|error| match error {
                    ReloadError::InCall(busy) => call_error(CallError::InCall(busy)),
                    other => RpcError::new(MOD_ERROR, other.to_string()),
                })?;
            let errors: Vec<&str> = report
                .diagnostics
                .iter()
                .filter(|diagnostic| diagnostic.is_error())
                .map(|diagnostic| diagnostic.message.as_str())
                .collect();
            Ok(report
                .mods
                .iter()
                .map(|(id, outcome)| {
                    let mut result = json!({ "id": id, "result": reload_result(outcome) });
                    if *outcome == Reloaded::Kept {
                        result["errors"] = json!(errors);
                    }
                    result
                })
                .collect())
        }
        "mods/enable" => {
            let OneMod { mod_id } = params(raw)?;
            host.enable(&mod_id)
                .map(|status| json!(status))
                .map_err(call_error)
        }
        "mods/disable" => {
            let OneMod { mod_id } = params(raw)?;
            host.disable(&mod_id)
                .map(|status| json!(status))
                .map_err(call_error)
        }
        "settings/get" => {
            let OneMod { mod_id } = params(raw)?;
            host.settings(&mod_id).map_err(call_error)
        }
        "settings/set" => {
            let set: SetSetting = params(raw)?;
            host.set_setting(&set.mod_id, &set.key, set.value)
                .map_err(|error| match error {
                    SettingError::Mod(error) => call_error(error),
                    SettingError::Rejected { .. } => RpcError::new(MOD_ERROR, error.to_string()),
                    SettingError::UnknownKey { .. } | SettingError::WrongType { .. } => {
                        RpcError::new(INVALID_PARAMS, error.to_string())
                    }
                })
        }
        "host/status" => {
            let stats = host.stats();
            let mods: Vec<Json> = host
                .mods()
                .into_iter()
                .zip(stats)
                .map(|(status, stats)| {
                    let mut status = json!(status);
                    if let (Json::Object(status), Json::Object(stats)) = (&mut status, json!(stats))
                    {
                        status.extend(stats);
                    }
                    status
                })
                .collect();
            Ok(json!({
                "modhost": { "version": env!("CARGO_PKG_VERSION") },
                "mods": mods,
            }))
        }
        "host/metrics" => Ok(Json::String(host.metrics())),
        "host/logs" => Ok(Json::Array(server.recent_logs())),
        unknown => Err(RpcError::new(
            METHOD_NOT_FOUND,
            format!(
                "there is no method `{unknown}`{}",
                crate::suggest::did_you_mean(unknown, METHODS.iter().copied())
                    .map(|hint| format!("; {hint}"))
                    .unwrap_or_default()
            ),
        )),
    }
}

fn reload_result(outcome: &Reloaded) -> String {
    match outcome {
        Reloaded::Reloaded => "reloaded".to_owned(),
        Reloaded::Added => "added".to_owned(),
        Reloaded::Removed => "removed".to_owned(),
        Reloaded::Kept => "kept".to_owned(),
        Reloaded::Reconfigured => "reconfigured".to_owned(),
        Reloaded::Failed(why) => format!("failed: {why}"),
    }
}

fn known_mod(host: &Host, id: &str) -> Result<(), RpcError> {
    let mods = host.mods();
    if mods.iter().any(|status| status.id == id) {
        return Ok(());
    }
    Err(call_error(CallError::UnknownMod {
        id: id.to_owned(),
        suggestion: crate::suggest::did_you_mean(id, mods.iter().map(|status| status.id.as_str())),
    }))
}

/// A failed call as JSON-RPC: unknown mods and functions are `-32001`; a mod's own error is
/// `-32000` with where it happened in `data`.
fn call_error(error: CallError) -> RpcError {
    let message = error.to_string();
    match error {
        CallError::UnknownMod { id, .. } => {
            RpcError::new(UNKNOWN_TARGET, message).with_data(json!({ "mod": id }))
        }
        CallError::NoSuchFunction {
            id,
            function,
            available,
        } => RpcError::new(UNKNOWN_TARGET, message)
            .with_data(json!({ "mod": id, "function": function, "functions": available })),
        CallError::Script { id, error, .. } => RpcError::new(MOD_ERROR, message).with_data(json!({
            "mod": id,
            "file": error.file.as_deref().map(crate::paths::shown),
            "line": error.line,
            "column": error.column,
            "stack": error.stack,
        })),
        CallError::NotRunning { id, .. } => {
            RpcError::new(MOD_ERROR, message).with_data(json!({ "mod": id }))
        }
        CallError::Reentrant { chain } | CallError::TooDeep { chain, .. } => {
            RpcError::new(MOD_ERROR, message).with_data(json!({ "chain": chain }))
        }
        CallError::InCall(busy) => {
            RpcError::new(IN_CALL, message).with_data(json!({ "chain": busy.chain }))
        }
    }
}

/// A client may only provide functions the game's API declares.
pub fn check_provides(host: &Host, provides: &[String]) -> Result<(), RpcError> {
    if provides.is_empty() {
        return Ok(());
    }
    let Some(api) = host.api() else {
        return Err(RpcError::invalid_params(
            "`provides` names game functions, but modhost runs without a game API description (`api` in `config.toml`, or `--api`)",
        ));
    };
    for function in provides {
        if !api.functions.contains_key(function) {
            let hint =
                crate::suggest::did_you_mean(function, api.functions.keys().map(String::as_str))
                    .map(|hint| format!("; {hint}"))
                    .unwrap_or_default();
            return Err(RpcError::invalid_params(format!(
                "`provides` names `{function}`, which the game's API does not declare{hint}"
            )));
        }
    }
    Ok(())
}

pub fn log_level(name: &str) -> Result<LogLevel, RpcError> {
    match name {
        "debug" => Ok(LogLevel::Debug),
        "info" => Ok(LogLevel::Info),
        "warn" => Ok(LogLevel::Warn),
        "error" => Ok(LogLevel::Error),
        other => Err(RpcError::invalid_params(format!(
            "`logs` is `debug`, `info`, `warn` or `error`, not `{other}`"
        ))),
    }
}
