//! QuickJS exceptions turned into owned [`ScriptError`]s before leaving the context.

use rquickjs::{CaughtError, Ctx, Value};

use super::convert;
use crate::runtime::{ErrorKind, ScriptError};

/// Converts a caught error. `mod_path` (the mod's folder as shown to users) locates the frame
/// of the mod's own code in the stack.
pub(super) fn script_error<'js>(
    ctx: &Ctx<'js>,
    caught: CaughtError<'js>,
    mod_path: &str,
    stopped: Option<ScriptError>,
    memory_mb: u64,
) -> ScriptError {
    // A limit stops the call with QuickJS's uncatchable error, whose stack says where.
    ScriptError::ended(thrown(ctx, caught, mod_path, memory_mb), stopped)
}

/// An error as QuickJS raised it: its kind, message, position and stack.
fn thrown<'js>(
    ctx: &Ctx<'js>,
    caught: CaughtError<'js>,
    mod_path: &str,
    memory_mb: u64,
) -> ScriptError {
    match caught {
        CaughtError::Exception(exception) => {
            let name: String = exception
                .get::<_, String>("name")
                .unwrap_or_else(|_| "Error".to_owned());
            let message = exception.message().unwrap_or_default();
            // Frames of the host's own scripts (the API's checks) are not the mod's business.
            let stack = exception
                .stack()
                .map(|stack| {
                    stack
                        .lines()
                        .filter(|frame| !frame.contains("(<modhost>:"))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .filter(|stack| !stack.trim().is_empty());
            let kind = classify(&name, &message);
            let mut error = match kind {
                ErrorKind::Memory => {
                    ScriptError::out_of_memory(memory_mb, Some(&format!("{name}: {message}")))
                }
                ErrorKind::StackOverflow => {
                    ScriptError::new(kind, format!("runaway recursion: {name}: {message}"))
                }
                _ if message.is_empty() => ScriptError::new(kind, name),
                _ => ScriptError::new(kind, format!("{name}: {message}")),
            };
            if let Some(stack) = &stack {
                error.locate_in(stack, mod_path);
            }
            error.stack = stack;
            error
        }
        CaughtError::Value(value) => ScriptError::new(
            ErrorKind::Thrown,
            format!("uncaught {}", describe(ctx, &value)),
        ),
        CaughtError::Error(error) => ScriptError::new(ErrorKind::Thrown, error.to_string()),
    }
}

/// What kind of error QuickJS raised, by the error's name and QuickJS's own message: a plain
/// `Error` whose message quotes another mod's breach is not this mod's breach.
fn classify(name: &str, message: &str) -> ErrorKind {
    match name {
        "InternalError" if message.contains("out of memory") => ErrorKind::Memory,
        "InternalError" if message.contains("stack overflow") => ErrorKind::StackOverflow,
        "RangeError" if message.starts_with("Maximum call stack size exceeded") => {
            ErrorKind::StackOverflow
        }
        "SyntaxError" => ErrorKind::Syntax,
        _ => ErrorKind::Thrown,
    }
}

/// A thrown value that is not an `Error`, as a person would want to read it.
pub(super) fn describe<'js>(_ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    match convert::to_json(value) {
        Ok(json) => format!("{} {json}", value.type_name()),
        Err(_) => format!("{} value", value.type_name()),
    }
}

/// A rejection reason as a log line shows it: an error's name, message and first frame.
pub(super) fn describe_reason<'js>(ctx: &Ctx<'js>, reason: &Value<'js>) -> String {
    match reason.as_exception() {
        Some(exception) => {
            let name: String = exception.get("name").unwrap_or_else(|_| "Error".to_owned());
            let message = exception.message().unwrap_or_default();
            let frame = exception
                .stack()
                .and_then(|stack| stack.lines().next().map(|line| line.trim().to_owned()))
                .unwrap_or_default();
            format!("{name}: {message} {frame}").trim_end().to_owned()
        }
        None => describe(ctx, reason),
    }
}
