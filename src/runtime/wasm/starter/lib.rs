//! {{name}}: a modhost mod in Rust, built with extism-pdk into WebAssembly (`./build.sh`).
//! See docs/mods.md in the modhost repository.
//!
//! Every `#[plugin_fn]` can be called by other mods (`modhost.mods.call("{{id}}", "hello",
//! "you")`) and from the command line (`modhost call {{id}} hello you`); the ones named after
//! hooks run at those moments, and each is optional. A function's input is its argument (a
//! string as text, anything else as JSON, several arguments as a JSON array), its output the
//! result. modhost's host functions take and return JSON.
#![allow(non_snake_case)]

use std::sync::atomic::{AtomicU64, Ordering};

use extism_pdk::*;
use serde_json::{json, Value};

#[host_fn("extism:host/user")]
extern "ExtismHost" {
    /// `{ "mod", "function", "args" }`: calls another mod's function and returns its result.
    fn modhost_call(request: Json<Value>) -> Json<Value>;
    /// `{ "event", "payload" }`: emits an event.
    fn modhost_emit(event: Json<Value>);
    /// `{ "event", "function", "before"? }`: this mod's export `function` handles the event.
    fn modhost_on(subscription: Json<Value>) -> Json<Value>;
}

/// What this mod remembers across hot reloads (see onDetach and onReload). The instance
/// lives as long as the mod is loaded, so statics keep their values between calls.
static GREETED: AtomicU64 = AtomicU64::new(0);

/// The mod is loaded and every mod it depends on is attached.
#[plugin_fn]
pub fn onAttach() -> FnResult<()> {
    unsafe { modhost_on(Json(json!({ "event": "{{id}}:ready", "function": "on_ready" })))? };
    info!("{{name}} attached");
    Ok(())
}

/// Every mod of the pack is attached: a good time to talk to the others.
#[plugin_fn]
pub fn onBootstrap() -> FnResult<()> {
    let greeting = config::get("greeting")?.unwrap_or_else(|| "Hello".to_owned());
    unsafe { modhost_emit(Json(json!({ "event": "{{id}}:ready", "payload": { "greeting": greeting } })))? };
    Ok(())
}

/// Handles `{{id}}:ready`: the input is the event's payload.
#[plugin_fn]
pub fn on_ready(Json(payload): Json<Value>) -> FnResult<()> {
    info!("ready: {payload}");
    Ok(())
}

/// The mod is about to be unloaded; what this returns is handed to the new version's onReload.
#[plugin_fn]
pub fn onDetach() -> FnResult<Json<Value>> {
    Ok(Json(json!({ "greeted": GREETED.load(Ordering::Relaxed) })))
}

/// After a hot reload: the input is what the old version's onDetach returned.
#[plugin_fn]
pub fn onReload(Json(previous): Json<Value>) -> FnResult<()> {
    GREETED.store(previous["greeted"].as_u64().unwrap_or(0), Ordering::Relaxed);
    Ok(())
}

/// A setting changed while the mod runs: the input maps each changed key to its new value,
/// and `config::get` already reads it. (Without this hook the mod is restarted instead.)
#[plugin_fn]
pub fn onSettingsChanged(Json(changed): Json<Value>) -> FnResult<()> {
    info!("settings changed: {changed}");
    Ok(())
}

/// An example function other mods and `modhost call` can use.
#[plugin_fn]
pub fn hello(who: String) -> FnResult<String> {
    let greeted = GREETED.fetch_add(1, Ordering::Relaxed) + 1;
    let greeting = config::get("greeting")?.unwrap_or_else(|| "Hello".to_owned());
    Ok(format!("{greeting}, {who}! (greeting number {greeted})"))
}
