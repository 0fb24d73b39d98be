//! `console` inside a JavaScript mod, as the Console Standard has it: its formatter
//! (`%s %d %i %f %o %O %c`, `%%`), every method with the standard's labels and warnings, and
//! groups indenting what follows. Native functions, so that starting a mod neither reads nor
//! runs a script for it (written in the API's prelude, it was a tenth of starting a mod).
//! The formatter converts with the mod's own `String`, `parseInt`, `parseFloat` and
//! `JSON.stringify`, as the standard says, and `time` reads the mod's `Date.now` (the
//! session's clock under a recording).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rquickjs::function::Params;
use rquickjs::object::{Accessor, Property};
use rquickjs::{Ctx, Function, Object, Value};

use super::Shared;
use super::bindings::{Raw, log_values};
use crate::runtime::LogLevel;

/// Defines the global `console` as an accessor that makes the console when the mod first
/// reads it, or puts what the mod assigns in its place: either way `console` becomes a plain
/// property, writable and configurable as on the web. Its eighteen natives were a twentieth
/// of starting a JavaScript mod, and many mods log through `modhost.log` instead.
pub(super) fn define_made_on_first_use<'js>(
    shared: &Rc<Shared>,
    globals: &Object<'js>,
) -> rquickjs::Result<()> {
    let shared = Rc::clone(shared);
    let make = move |ctx: Ctx<'js>| -> rquickjs::Result<Object<'js>> {
        let made = console(&ctx, &shared)?;
        put_in_place(&ctx, made.clone().into_value())?;
        Ok(made)
    };
    let replace = |ctx: Ctx<'js>, value: Value<'js>| put_in_place(&ctx, value);
    globals.prop("console", Accessor::new(make, replace).configurable())
}

fn put_in_place<'js>(ctx: &Ctx<'js>, console: Value<'js>) -> rquickjs::Result<()> {
    ctx.globals()
        .prop("console", Property::from(console).writable().configurable())
}

/// What a mod's console remembers between calls.
#[derive(Default)]
struct State {
    /// Two spaces for every open group.
    indent: String,
    counts: HashMap<String, u64>,
    /// When each timer started, in the mod's `Date.now()` milliseconds.
    started: HashMap<String, f64>,
}

/// The `console` object: `log` (as `info`), `info`, `debug`, `warn`, `error`, `dir`,
/// `dirxml`, `table`, `trace`, `assert`, `count`, `countReset`, `group`, `groupCollapsed`,
/// `groupEnd`, `time`, `timeLog`, `timeEnd`.
fn console<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>) -> rquickjs::Result<Object<'js>> {
    let console = Object::new(ctx.clone())?;
    let state = Rc::new(RefCell::new(State::default()));
    let method = |name: &str,
                  body: fn(&Console<'_, 'js>, &Params<'_, 'js>) -> rquickjs::Result<()>|
     -> rquickjs::Result<()> {
        let shared = Rc::clone(shared);
        let state = Rc::clone(&state);
        let function = Function::new(
            ctx.clone(),
            Raw(move |params: Params<'_, 'js>| {
                let console = Console {
                    ctx: params.ctx().clone(),
                    shared: &shared,
                    state: &state,
                };
                body(&console, &params)?;
                Ok(Value::new_undefined(console.ctx.clone()))
            }),
        )?
        .with_name(name)?;
        console.set(name, function)
    };
    method("log", |console, params| {
        console.print(LogLevel::Info, all(params))
    })?;
    method("info", |console, params| {
        console.print(LogLevel::Info, all(params))
    })?;
    method("debug", |console, params| {
        console.print(LogLevel::Debug, all(params))
    })?;
    method("warn", |console, params| {
        console.print(LogLevel::Warn, all(params))
    })?;
    method("error", |console, params| {
        console.print(LogLevel::Error, all(params))
    })?;
    method("dir", |console, params| {
        let item = params.arg(0).unwrap_or_else(|| undefined(console));
        console.print(LogLevel::Info, vec![item])
    })?;
    method("dirxml", |console, params| {
        console.print(LogLevel::Info, all(params))
    })?;
    method("table", |console, params| {
        console.print(LogLevel::Info, all(params))
    })?;
    method("trace", |console, params| {
        let mut parts = all(params);
        let label = if parts.is_empty() { "Trace" } else { "Trace:" };
        parts.insert(0, console.text(label)?);
        if let Some(stack) = console.callers()? {
            parts.push(console.text(&format!("\n{stack}"))?);
        }
        console.print(LogLevel::Debug, parts)
    })?;
    method("assert", |console, params| {
        let holds = match params.arg(0) {
            Some(condition) => truthy(&console.ctx, &condition)?,
            None => false,
        };
        if holds {
            return Ok(());
        }
        let mut data: Vec<Value> = all(params).into_iter().skip(1).collect();
        match data.first().and_then(|first| first.as_string()) {
            Some(first) => {
                let first = format!("Assertion failed: {}", first.to_string()?);
                data[0] = console.text(&first)?;
            }
            None => data.insert(0, console.text("Assertion failed")?),
        }
        console.print(LogLevel::Error, data)
    })?;
    method("count", |console, params| {
        let name = console.label(params)?;
        let count = {
            let mut state = console.state.borrow_mut();
            let count = state.counts.entry(name.clone()).or_default();
            *count += 1;
            *count
        };
        console.say(LogLevel::Info, &format!("{name}: {count}"))
    })?;
    method("countReset", |console, params| {
        let name = console.label(params)?;
        let known = match console.state.borrow_mut().counts.get_mut(&name) {
            Some(count) => {
                *count = 0;
                true
            }
            None => false,
        };
        if known {
            return Ok(());
        }
        console.say(
            LogLevel::Warn,
            &format!("Count for '{name}' does not exist"),
        )
    })?;
    for name in ["group", "groupCollapsed"] {
        method(name, |console, params| {
            let parts = all(params);
            if !parts.is_empty() {
                console.print(LogLevel::Info, parts)?;
            }
            console.state.borrow_mut().indent.push_str("  ");
            Ok(())
        })?;
    }
    method("groupEnd", |console, _| {
        let mut state = console.state.borrow_mut();
        let kept = state.indent.len().saturating_sub(2);
        state.indent.truncate(kept);
        Ok(())
    })?;
    method("time", |console, params| {
        let name = console.label(params)?;
        let now = console.now()?;
        let exists = match console.state.borrow_mut().started.entry(name.clone()) {
            std::collections::hash_map::Entry::Occupied(_) => true,
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(now);
                false
            }
        };
        if exists {
            console.say(LogLevel::Warn, &format!("Timer '{name}' already exists"))?;
        }
        Ok(())
    })?;
    method("timeLog", |console, params| {
        let name = console.label(params)?;
        let started = console.state.borrow().started.get(&name).copied();
        match started {
            Some(started) => {
                let mut parts = all(params).into_iter().skip(1).collect::<Vec<_>>();
                let elapsed = console.elapsed(&name, started)?;
                parts.insert(0, console.text(&elapsed)?);
                console.print(LogLevel::Info, parts)
            }
            None => console.say(LogLevel::Warn, &format!("Timer '{name}' does not exist")),
        }
    })?;
    method("timeEnd", |console, params| {
        let name = console.label(params)?;
        let started = console.state.borrow_mut().started.remove(&name);
        match started {
            Some(started) => {
                let elapsed = console.elapsed(&name, started)?;
                console.say(LogLevel::Info, &elapsed)
            }
            None => console.say(LogLevel::Warn, &format!("Timer '{name}' does not exist")),
        }
    })?;
    Ok(console)
}

/// One call of a console method.
struct Console<'a, 'js> {
    ctx: Ctx<'js>,
    shared: &'a Rc<Shared>,
    state: &'a RefCell<State>,
}

impl<'js> Console<'_, 'js> {
    /// Logs `parts` formatted, indented by the open groups.
    fn print(&self, level: LogLevel, parts: Vec<Value<'js>>) -> rquickjs::Result<()> {
        let mut parts = formatted(&self.ctx, parts)?;
        let indent = self.state.borrow().indent.clone();
        if !indent.is_empty() {
            match parts.first().and_then(|first| first.as_string()) {
                Some(first) => {
                    let first = format!("{indent}{}", first.to_string()?);
                    parts[0] = self.text(&first)?;
                }
                None => parts.insert(0, self.text(&indent[..indent.len() - 1])?),
            }
        }
        log_values(&self.ctx, self.shared, level, &parts)
    }

    /// Logs one line of the console's own words.
    fn say(&self, level: LogLevel, line: &str) -> rquickjs::Result<()> {
        let line = self.text(line)?;
        self.print(level, vec![line])
    }

    fn text(&self, text: &str) -> rquickjs::Result<Value<'js>> {
        Ok(rquickjs::String::from_str(self.ctx.clone(), text)?.into_value())
    }

    /// The standard's label: `default`, or the first argument as a string.
    fn label(&self, params: &Params<'_, 'js>) -> rquickjs::Result<String> {
        match params.arg(0).filter(|label| !label.is_undefined()) {
            Some(label) => to_string(&self.ctx, label),
            None => Ok("default".to_owned()),
        }
    }

    /// The mod's `Date.now()`.
    fn now(&self) -> rquickjs::Result<f64> {
        let date: Object = self.ctx.globals().get("Date")?;
        let now: Function = date.get("now")?;
        now.call(())
    }

    fn elapsed(&self, name: &str, started: f64) -> rquickjs::Result<String> {
        let elapsed = self.now()? - started;
        let shown: String = self
            .ctx
            .globals()
            .get::<_, Function>("String")?
            .call((elapsed,))?;
        Ok(format!("{name}: {shown}ms"))
    }

    /// The stack of the code that called the console, one frame a line.
    fn callers(&self) -> rquickjs::Result<Option<String>> {
        let stack: Option<String> = self.ctx.eval("new Error().stack").ok();
        // The first frame is the one evaluated here.
        Ok(stack
            .map(|stack| stack.lines().skip(1).collect::<Vec<_>>().join("\n"))
            .filter(|stack| !stack.is_empty()))
    }
}

fn all<'js>(params: &Params<'_, 'js>) -> Vec<Value<'js>> {
    (0..params.len())
        .filter_map(|index| params.arg(index))
        .collect()
}

fn undefined<'js>(console: &Console<'_, 'js>) -> Value<'js> {
    Value::new_undefined(console.ctx.clone())
}

/// JavaScript's truthiness of `value`.
fn truthy<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> rquickjs::Result<bool> {
    ctx.globals()
        .get::<_, Function>("Boolean")?
        .call((value.clone(),))
}

/// `String(value)` in the mod.
fn to_string<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> rquickjs::Result<String> {
    ctx.globals().get::<_, Function>("String")?.call((value,))
}

/// The Console Standard's formatter: when the first argument is a string with a `%` and more
/// follow, each `%s %d %i %f %o %O %c` takes the next argument (`%%` is `%`); the rest stay
/// as they are.
fn formatted<'js>(ctx: &Ctx<'js>, parts: Vec<Value<'js>>) -> rquickjs::Result<Vec<Value<'js>>> {
    let Some(first) = parts.first().and_then(|first| first.as_string()) else {
        return Ok(parts);
    };
    let first = first.to_string()?;
    if parts.len() < 2 || !first.contains('%') {
        return Ok(parts);
    }
    let globals = ctx.globals();
    let mut text = String::with_capacity(first.len());
    let mut next = 1;
    let mut chars = first.chars().peekable();
    while let Some(c) = chars.next() {
        let spec = match (c, chars.peek()) {
            ('%', Some(&spec)) if "sdifoOc%".contains(spec) => spec,
            _ => {
                text.push(c);
                continue;
            }
        };
        chars.next();
        if spec == '%' {
            text.push('%');
            continue;
        }
        let Some(value) = parts.get(next).cloned() else {
            text.push('%');
            text.push(spec);
            continue;
        };
        next += 1;
        let symbol = value.is_symbol();
        let converted: String = match spec {
            's' => to_string(ctx, value)?,
            'd' | 'i' | 'f' if symbol => "NaN".to_owned(),
            'd' | 'i' => {
                let number: Value = globals.get::<_, Function>("parseInt")?.call((value, 10))?;
                to_string(ctx, number)?
            }
            'f' => {
                let number: Value = globals.get::<_, Function>("parseFloat")?.call((value,))?;
                to_string(ctx, number)?
            }
            'c' => String::new(),
            _ => shown(ctx, value)?,
        };
        text.push_str(&converted);
    }
    let mut result = Vec::with_capacity(parts.len() - next + 1);
    result.push(rquickjs::String::from_str(ctx.clone(), &text)?.into_value());
    result.extend(parts.into_iter().skip(next));
    Ok(result)
}

/// `%o` and `%O`: the value as JSON, or as `String(value)` when it has none.
fn shown<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> rquickjs::Result<String> {
    let json: Object = ctx.globals().get("JSON")?;
    let stringify: Function = json.get("stringify")?;
    match stringify.call::<_, Value>((value.clone(),)) {
        Ok(json) if json.is_string() => to_string(ctx, json),
        Ok(_) => to_string(ctx, value),
        Err(rquickjs::Error::Exception) => {
            // A cycle or a throwing `toJSON`: shown as `String(value)` instead.
            let _ = ctx.catch();
            to_string(ctx, value)
        }
        Err(error) => Err(error),
    }
}
