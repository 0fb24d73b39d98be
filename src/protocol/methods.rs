//! What the methods a client may call do (SPEC section 11): each takes the host and its typed
//! params ([`super::method`]) and returns its result or a JSON-RPC error with the code the spec
//! names. What a method needs of the client's own connection it asks of its [`Session`], so
//! this knows nothing of the server.

use std::collections::BTreeSet;

use crate::runtime::Json;

use super::message::{IN_CALL, INVALID_PARAMS, MOD_ERROR, RpcError, UNKNOWN_TARGET};
use super::method::{
    Dispatcher, Emitted, EventsEmit, EventsSubscribe, EventsUnsubscribe, HostLogs, HostMetrics,
    HostStatus, ModsCall, ModsDisable, ModsEnable, ModsList, ModsReload, SettingsGet, SettingsSet,
    Subscribed,
};
use crate::host::{CallError, Host, ReloadError, Reloaded, Reread, SettingError};
use crate::runtime::LogLevel;

/// What a method asks of the connection it came on.
pub(super) trait Session {
    /// Changes the events this client hears and returns them.
    fn subscriptions(&self, change: &mut dyn FnMut(&mut BTreeSet<String>)) -> Vec<String>;
    /// The mods' last log lines, oldest first.
    fn recent_logs(&self) -> Vec<Json>;
}

/// Answers a request of an initialized client (`initialize` and `shutdown` are the server's).
pub(super) fn dispatch(
    session: &dyn Session,
    host: &Host,
    method: &str,
    raw: Json,
) -> Result<Json, RpcError> {
    Dispatcher::new(method, raw)
        .on::<ModsList>(|_| Ok(host.mods()))
        .on::<ModsCall>(|call| {
            host.call(&call.mod_id, &call.function, &call.args)
                .map_err(call_error)
        })
        .on::<EventsEmit>(|emit| {
            let delivered = host
                .emit(&emit.event, emit.payload.clone())
                .map_err(|refused| RpcError::invalid_params(refused.to_string()))?;
            Ok(match delivered {
                Some(payload) => Emitted {
                    cancelled: false,
                    payload,
                },
                None => Emitted {
                    cancelled: true,
                    payload: emit.payload,
                },
            })
        })
        .on::<EventsSubscribe>(|events| {
            if let Some(api) = host.api() {
                for event in &events.events {
                    api.check_heard_by_game(event)
                        .map_err(|error| RpcError::invalid_params(error.to_string()))?;
                }
            }
            let subscribed = session.subscriptions(&mut |subscribed| {
                subscribed.extend(events.events.iter().cloned());
            });
            Ok(Subscribed { subscribed })
        })
        .on::<EventsUnsubscribe>(|events| {
            let subscribed = session.subscriptions(&mut |subscribed| {
                for event in &events.events {
                    subscribed.remove(event);
                }
            });
            Ok(Subscribed { subscribed })
        })
        .on::<ModsReload>(|which| {
            if let Some(id) = &which.mod_id {
                known_mod(host, id)?;
            }
            let what = match &which.mod_id {
                Some(id) => Reread::Mods(vec![id.clone()]),
                None => Reread::All,
            };
            let report = host.reload_from_disk(what).map_err(|error| match error {
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
                    let mut result = crate::value!({ "id": id, "result": reload_result(outcome) });
                    if *outcome == Reloaded::Kept {
                        result["errors"] = crate::value!(errors);
                    }
                    result
                })
                .collect())
        })
        .on::<ModsEnable>(|one| host.enable(&one.mod_id).map_err(call_error))
        .on::<ModsDisable>(|one| host.disable(&one.mod_id).map_err(call_error))
        .on::<SettingsGet>(|one| host.settings(&one.mod_id).map_err(call_error))
        .on::<SettingsSet>(|set| {
            host.set_setting(&set.mod_id, &set.key, set.value)
                .map_err(|error| match error {
                    SettingError::Mod(error) => call_error(error),
                    SettingError::Rejected { .. } => RpcError::new(MOD_ERROR, error.to_string()),
                    SettingError::UnknownKey { .. } | SettingError::WrongType { .. } => {
                        RpcError::new(INVALID_PARAMS, error.to_string())
                    }
                })
        })
        .on::<HostStatus>(|_| {
            let stats = host.stats();
            let mods: Vec<Json> = host
                .mods()
                .into_iter()
                .zip(stats)
                .map(|(status, stats)| {
                    let mut status = crate::value!(status);
                    if let (Json::Object(status), Json::Object(stats)) =
                        (&mut status, crate::value!(stats))
                    {
                        status.extend(stats);
                    }
                    status
                })
                .collect();
            Ok(crate::value!({
                "modhost": { "version": env!("CARGO_PKG_VERSION") },
                "mods": mods,
            }))
        })
        .on::<HostMetrics>(|_| Ok(host.metrics()))
        .on::<HostLogs>(|_| Ok(session.recent_logs()))
        .finish()
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
            RpcError::new(UNKNOWN_TARGET, message).with_data(crate::value!({ "mod": id }))
        }
        CallError::NoSuchFunction {
            id,
            function,
            available,
        } => RpcError::new(UNKNOWN_TARGET, message)
            .with_data(crate::value!({ "mod": id, "function": function, "functions": available })),
        CallError::Script { id, error, .. } => {
            RpcError::new(MOD_ERROR, message).with_data(crate::value!({
                "mod": id,
                "file": error.file.as_deref().map(crate::paths::shown),
                "line": error.line,
                "column": error.column,
                "stack": error.stack,
            }))
        }
        CallError::NotRunning { id, .. } => {
            RpcError::new(MOD_ERROR, message).with_data(crate::value!({ "mod": id }))
        }
        CallError::Reentrant { chain } | CallError::TooDeep { chain, .. } => {
            RpcError::new(MOD_ERROR, message).with_data(crate::value!({ "chain": chain }))
        }
        CallError::InCall(busy) => {
            RpcError::new(IN_CALL, message).with_data(crate::value!({ "chain": busy.chain }))
        }
    }
}

/// A client may only provide functions the game's API declares.
pub(super) fn check_provides(host: &Host, provides: &[String]) -> Result<(), RpcError> {
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

pub(super) fn log_level(name: &str) -> Result<LogLevel, RpcError> {
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
