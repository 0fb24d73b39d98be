//! Stats: a modhost mod in Rust, built with extism-pdk into WebAssembly.
//!
//! Every `#[plugin_fn]` is a function other mods and `modhost call stats …` can call; the ones
//! named after hooks run at those moments. modhost's own host functions (`modhost_call`,
//! `modhost_emit`, `modhost_on`) come from `extism:host/user` and take and return JSON.
#![allow(non_snake_case)]

use std::sync::atomic::{AtomicI64, Ordering};

use extism_pdk::*;
use serde_json::{json, Value};

#[host_fn("extism:host/user")]
extern "ExtismHost" {
    fn modhost_call(request: Json<Value>) -> Json<Value>;
    fn modhost_emit(event: Json<Value>);
    fn modhost_on(subscription: Json<Value>) -> Json<Value>;
}

/// The instance lives as long as the mod is loaded, so statics keep their values between
/// calls (and `onDetach` hands them to the next version across a hot reload).
static COUNT: AtomicI64 = AtomicI64::new(0);
static TOTAL: AtomicI64 = AtomicI64::new(0);

#[plugin_fn]
pub fn onAttach() -> FnResult<()> {
    unsafe { modhost_on(Json(json!({ "event": "score", "function": "on_score" })))? };
    info!("stats attached");
    Ok(())
}

/// Handles the `score` event: its payload is `{ "points": n }`.
#[plugin_fn]
pub fn on_score(Json(payload): Json<Value>) -> FnResult<()> {
    let points = payload["points"].as_i64().unwrap_or(0);
    record_points(points);
    Ok(())
}

fn record_points(points: i64) {
    COUNT.fetch_add(1, Ordering::Relaxed);
    TOTAL.fetch_add(points, Ordering::Relaxed);
}

/// `record(points)`: counts a score.
#[plugin_fn]
pub fn record(Json(points): Json<i64>) -> FnResult<Json<Value>> {
    record_points(points);
    Ok(Json(summary_value()))
}

fn summary_value() -> Value {
    let count = COUNT.load(Ordering::Relaxed);
    let total = TOTAL.load(Ordering::Relaxed);
    json!({ "count": count, "total": total })
}

/// `summary()`: the scores so far.
#[plugin_fn]
pub fn summary() -> FnResult<Json<Value>> {
    Ok(Json(summary_value()))
}

/// `add_in_lua(a, b)`: asks the Lua mod `tally` to add, to show a call across languages.
#[plugin_fn]
pub fn add_in_lua(Json(args): Json<Value>) -> FnResult<Json<Value>> {
    let request = json!({ "mod": "tally", "function": "add", "args": args });
    let Json(sum) = unsafe { modhost_call(Json(request))? };
    unsafe { modhost_emit(Json(json!({ "event": "stats.added", "payload": { "sum": sum } })))? };
    Ok(Json(sum))
}

/// Hostile on purpose, for the limits: a loop that never ends.
#[plugin_fn]
pub fn spin() -> FnResult<()> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

/// Hostile on purpose, for the limits: memory that grows until refused.
#[plugin_fn]
pub fn hoard() -> FnResult<()> {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![1; 1 << 20]);
        std::hint::black_box(&kept);
    }
}

/// What the next version gets after a hot reload (see `onReload`).
#[plugin_fn]
pub fn onDetach() -> FnResult<Json<Value>> {
    Ok(Json(summary_value()))
}

#[plugin_fn]
pub fn onReload(Json(previous): Json<Value>) -> FnResult<()> {
    COUNT.store(previous["count"].as_i64().unwrap_or(0), Ordering::Relaxed);
    TOTAL.store(previous["total"].as_i64().unwrap_or(0), Ordering::Relaxed);
    Ok(())
}
