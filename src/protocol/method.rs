//! Every method a client may call (SPEC section 11) as a type: its name, its params and its
//! result, which the server reads and answers (`methods.rs`) and `modhost ctl` writes, so the
//! two cannot disagree on a name or a field. [`METHODS`] lists them, for "did you mean" and the
//! docs test; [`Dispatcher`] routes a request to the handler of its method, the way
//! rust-analyzer's request dispatcher does.

use crate::runtime::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::message::{METHOD_NOT_FOUND, RpcError};
use crate::host::ModStatus;

/// One method of the protocol.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize;
}

macro_rules! methods {
    ($($(#[$doc:meta])* $method:ident = $name:literal ($params:ty) -> $result:ty;)*) => {
        $(
            $(#[$doc])*
            pub enum $method {}

            impl Method for $method {
                const NAME: &'static str = $name;
                type Params = $params;
                type Result = $result;
            }
        )*

        /// Every method's name.
        pub const METHODS: &[&str] = &[$($name),*];
    };
}

methods! {
    /// The first message of every client: who it is, its token over TCP, the game functions it
    /// answers, the events and logs it hears.
    Initialize = "initialize" (InitializeParams) -> Json;
    ModsList = "mods/list" (NoParams) -> Vec<ModStatus>;
    ModsCall = "mods/call" (ModCall) -> Json;
    EventsEmit = "events/emit" (Emit) -> Emitted;
    EventsSubscribe = "events/subscribe" (Events) -> Subscribed;
    EventsUnsubscribe = "events/unsubscribe" (Events) -> Subscribed;
    ModsReload = "mods/reload" (MaybeMod) -> Vec<Json>;
    ModsEnable = "mods/enable" (OneMod) -> ModStatus;
    ModsDisable = "mods/disable" (OneMod) -> ModStatus;
    SettingsGet = "settings/get" (OneMod) -> Json;
    SettingsSet = "settings/set" (SetSetting) -> Json;
    /// Every mod's state with its figures (SPEC section 13).
    HostStatus = "host/status" (NoParams) -> Json;
    /// The Prometheus text of the host's metrics.
    HostMetrics = "host/metrics" (NoParams) -> String;
    /// The mods' last log lines, oldest first.
    HostLogs = "host/logs" (NoParams) -> Vec<Json>;
    /// Detach every mod and stop; answered once the mods are detached.
    Shutdown = "shutdown" (NoParams) -> Json;
}

/// No params: `{}` or none at all.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitializeParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribe: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Client {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModCall {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub function: String,
    #[serde(default)]
    pub args: Vec<Json>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    pub event: String,
    #[serde(default)]
    pub payload: Json,
}

/// What an emitted event came to: the payload as the `before` handlers left it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Emitted {
    pub cancelled: bool,
    pub payload: Json,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Events {
    pub events: Vec<String>,
}

/// The events the client hears now.
#[derive(Debug, Serialize, Deserialize)]
pub struct Subscribed {
    pub subscribed: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneMod {
    #[serde(rename = "mod")]
    pub mod_id: String,
}

/// One mod, or (none named) every mod whose files changed.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaybeMod {
    #[serde(rename = "mod", skip_serializing_if = "Option::is_none")]
    pub mod_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetSetting {
    #[serde(rename = "mod")]
    pub mod_id: String,
    pub key: String,
    pub value: Json,
}

/// Reads params into their typed shape (absent params read as `{}`); a wrong shape is
/// `-32602` naming what is wrong.
pub fn params<T: DeserializeOwned>(params: Json) -> Result<T, RpcError> {
    let params = if params.is_null() {
        Json::Object(crate::value::Object::new())
    } else {
        params
    };
    T::deserialize(params)
        .map_err(|error| RpcError::invalid_params(format!("invalid params: {error}")))
}

/// A request `M` as it goes on the wire: its method's name and its params as JSON.
pub fn request<M: Method>(params: &M::Params) -> (&'static str, Json) {
    (M::NAME, crate::value::to_value(params))
}

/// Routes one request to the handler of its method: `.on::<M>(handler)` for each method, then
/// [`Dispatcher::finish`] answers, or says there is no such method (with "did you mean").
pub struct Dispatcher<'a> {
    method: &'a str,
    params: Option<Json>,
    answer: Option<Result<Json, RpcError>>,
}

impl<'a> Dispatcher<'a> {
    pub fn new(method: &'a str, params: Json) -> Self {
        Dispatcher {
            method,
            params: Some(params),
            answer: None,
        }
    }

    /// Answers with `handle` when the request is `M`'s, its params read as `M` takes them.
    pub fn on<M: Method>(
        mut self,
        handle: impl FnOnce(M::Params) -> Result<M::Result, RpcError>,
    ) -> Self {
        if self.answer.is_none() && self.method == M::NAME {
            let raw = self.params.take().unwrap_or_default();
            self.answer = Some(params::<M::Params>(raw).and_then(handle).map(|result| {
                serde_json::to_value(result).map_or_else(
                    |error| Json::from(format!("the result could not be written: {error}")),
                    Json::from,
                )
            }));
        }
        self
    }

    pub fn finish(self) -> Result<Json, RpcError> {
        self.answer.unwrap_or_else(|| {
            Err(RpcError::new(
                METHOD_NOT_FOUND,
                format!(
                    "there is no method `{}`{}",
                    self.method,
                    crate::suggest::did_you_mean(self.method, METHODS.iter().copied())
                        .map(|hint| format!("; {hint}"))
                        .unwrap_or_default()
                ),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reaches_its_methods_handler_with_its_params_typed() {
        let (name, raw) = request::<ModsCall>(&ModCall {
            mod_id: "m".to_owned(),
            function: "f".to_owned(),
            args: vec![crate::value!(1)],
        });
        assert_eq!(name, "mods/call");
        assert_eq!(
            raw,
            crate::value!({ "mod": "m", "function": "f", "args": [1] })
        );
        let answer = Dispatcher::new(name, raw)
            .on::<ModsList>(|_| Ok(Vec::new()))
            .on::<ModsCall>(|call| Ok(crate::value!([call.mod_id, call.function, call.args])))
            .finish();
        assert_eq!(answer.unwrap(), crate::value!(["m", "f", [1]]));

        let wrong = Dispatcher::new("mods/call", crate::value!({ "mod": "m" }))
            .on::<ModsCall>(|_| Ok(Json::Null))
            .finish()
            .unwrap_err();
        assert_eq!(wrong.code, super::super::message::INVALID_PARAMS);
        assert!(
            wrong.message.contains("missing field `function`"),
            "{}",
            wrong.message
        );

        let unknown = Dispatcher::new("mods/lsit", Json::Null)
            .on::<ModsList>(|_| Ok(Vec::new()))
            .finish()
            .unwrap_err();
        assert_eq!(unknown.code, METHOD_NOT_FOUND);
        assert!(
            unknown.message.contains("did you mean `mods/list`?"),
            "{}",
            unknown.message
        );
    }
}
