//! The parameters of the `modhost` functions whose arguments the natives check, read once from
//! the one API description ([`crate::runtime::surface`]), and the words a wrong argument gets,
//! the same in every language: `modhost.timers.after: parameter `ms` takes a number, got a
//! function`. Each backend says what each argument is; this says whether that fits. Checked in
//! the natives themselves, so no mod starts with a wrapper per function. Functions that take
//! anything (`log.info`) need no check, and `mods.call` and `events.emit`, the hot paths,
//! check their two names themselves.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::surface;

/// What a parameter takes, as both languages can tell a value's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    String,
    Number,
    Boolean,
    Function,
    /// Anything (no check).
    Any,
}

impl Kind {
    fn of(kind: surface::Type) -> Kind {
        match kind {
            surface::Type::String => Kind::String,
            surface::Type::Number => Kind::Number,
            surface::Type::Boolean => Kind::Boolean,
            surface::Type::Handler { .. } => Kind::Function,
            _ => Kind::Any,
        }
    }

    /// As the messages name it.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Function => "function",
            Kind::Any => "value",
        }
    }
}

/// One checked parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parameter {
    pub name: String,
    pub kind: Kind,
    pub optional: bool,
}

/// An argument as the calling language sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Given {
    /// Not passed (or `undefined`, `nil`).
    Missing,
    Of(Kind),
    /// Of no kind a parameter takes (an object, a table, `null`).
    Other,
}

/// The checked parameters of `path` (`storage.get`, `test.advance`), up to a variadic one;
/// `None` for a function whose arguments are not checked.
pub(super) fn parameters(path: &str) -> Option<&'static [Parameter]> {
    static TABLE: OnceLock<HashMap<String, Vec<Parameter>>> = OnceLock::new();
    TABLE.get_or_init(table).get(path).map(Vec::as_slice)
}

fn table() -> HashMap<String, Vec<Parameter>> {
    let mut table = HashMap::new();
    for namespace in surface::API.iter().chain([&surface::TEST_API]) {
        let surface::Contents::Functions(functions) = namespace.contents else {
            continue;
        };
        for function in functions {
            let path = format!("{}.{}", namespace.name, function.name);
            let typed = function
                .params
                .iter()
                .any(|param| Kind::of(param.kind) != Kind::Any);
            if !typed || path == "mods.call" || path == "events.emit" {
                continue;
            }
            let parameters = function
                .params
                .iter()
                .take_while(|param| !param.variadic)
                .map(|param| Parameter {
                    name: param.name.to_owned(),
                    kind: Kind::of(param.kind),
                    optional: param.optional,
                })
                .collect();
            table.insert(path, parameters);
        }
    }
    table
}

/// Whether `path`'s parameter at `index` takes a function (a handler the instance keeps).
pub(super) fn takes_function(path: &str, index: usize) -> bool {
    parameters(path)
        .and_then(|parameters| parameters.get(index))
        .is_some_and(|parameter| parameter.kind == Kind::Function)
}

/// Whether `args` fit `path`'s parameters: the first that does not, named with its function,
/// its name and its type, and shown by `shown(index)` (called only then). With
/// `numbers_are_strings` (Lua), a number passes for a string, as in Lua's own functions.
pub(super) fn check(
    path: &str,
    args: &[Given],
    shown: &dyn Fn(usize) -> String,
    numbers_are_strings: bool,
) -> Result<(), String> {
    let Some(parameters) = parameters(path) else {
        return Ok(());
    };
    for (index, parameter) in parameters.iter().enumerate() {
        let fits = match args.get(index).copied().unwrap_or(Given::Missing) {
            Given::Missing if parameter.optional => true,
            Given::Missing => {
                return Err(format!(
                    "modhost.{path}: parameter `{}` is missing (it takes a {})",
                    parameter.name,
                    parameter.kind.name()
                ));
            }
            Given::Of(kind) => {
                parameter.kind == Kind::Any
                    || kind == parameter.kind
                    || (numbers_are_strings
                        && kind == Kind::Number
                        && parameter.kind == Kind::String)
            }
            Given::Other => parameter.kind == Kind::Any,
        };
        if !fits {
            return Err(format!(
                "modhost.{path}: parameter `{}` takes a {}, got {}",
                parameter.name,
                parameter.kind.name(),
                shown(index)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_or_missing_argument_is_named_with_its_function_and_type() {
        let shown = |index: usize| ["a function", "number 5"][index].to_owned();
        let function = [Given::Of(Kind::Function)];
        assert_eq!(
            check("timers.after", &function, &shown, false),
            Err("modhost.timers.after: parameter `ms` takes a number, got a function".to_owned())
        );
        assert_eq!(
            check("storage.set", &[], &shown, false),
            Err("modhost.storage.set: parameter `key` is missing (it takes a string)".to_owned())
        );
        let number = [Given::Other, Given::Of(Kind::Number)];
        assert_eq!(
            check(
                "storage.get",
                &number[1..],
                &|_| "number 5".to_owned(),
                false
            ),
            Err("modhost.storage.get: parameter `key` takes a string, got number 5".to_owned())
        );
        assert_eq!(
            check("storage.keys", &[Given::Missing], &shown, false),
            Ok(()),
            "an optional parameter may be left out"
        );
        assert_eq!(
            check("storage.set", &[Given::Of(Kind::String)], &shown, false),
            Err("modhost.storage.set: parameter `value` is missing (it takes a value)".to_owned())
        );
        assert_eq!(check("log.info", &[Given::Missing], &shown, false), Ok(()));
        assert!(parameters("test.advance").is_some());
        // Lua's coercion: a number passes for a string.
        assert_eq!(check("storage.get", &number[1..], &shown, true), Ok(()));
    }
}
