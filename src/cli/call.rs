//! `modhost call`: load the pack, call one function of one mod, print its result as JSON.

use std::io::Write;

use clap::Args;
use modhost::Value as Json;
use modhost::{Config, Host};

use super::{Exit, list, load_pack, render};

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The mod's id
    #[arg(value_name = "MOD", add = super::completion::mod_ids())]
    mod_id: String,
    /// The function to call
    function: String,
    /// Arguments: each is JSON if it parses as JSON, else a string
    #[arg(value_name = "ARG", allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `42` is a number, `"42"` and `hello` are strings, `{"a":1}` is an object.
pub fn parse_argument(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| Json::from(text))
}

pub fn run(args: &CallArgs, config: &Config) -> Exit {
    let pack = match load_pack(config) {
        Ok(pack) => pack,
        Err(exit) => return exit,
    };
    list::report_problems(&pack, false);
    let host = Host::new(pack, config.clone());
    if let Err(error) = super::watchdog::start(host.activity(), config.longest_call_timeout()) {
        tracing::warn!("no watchdog: {error}");
    }
    host.start();
    let arguments: Vec<Json> = args.args.iter().map(|text| parse_argument(text)).collect();
    let result = host.call(&args.mod_id, &args.function, &arguments);
    host.shutdown();
    match result {
        Ok(value) => {
            let _ = writeln!(anstream::stdout(), "{value}");
            Exit::Success
        }
        Err(error) => {
            render::fatal(&error.to_string(), None);
            Exit::PackProblems
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_argument;

    #[test]
    fn arguments_are_json_when_they_parse_and_strings_otherwise() {
        assert_eq!(parse_argument("42"), serde_json::json!(42));
        assert_eq!(parse_argument("\"42\""), serde_json::json!("42"));
        assert_eq!(parse_argument("hello"), serde_json::json!("hello"));
        assert_eq!(
            parse_argument("[1, {\"a\": null}]"),
            serde_json::json!([1, {"a": null}])
        );
    }
}
