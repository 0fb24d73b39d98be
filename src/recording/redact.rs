//! `--record-redact FIELD,...`: what players typed stays out of a recording. Every object
//! member with one of the names, at any depth of a value an entry carries (arguments, payloads,
//! results, answers, settings), is replaced by a hash of its value: equal values stay equal, so
//! a replay still compares them, and nothing of the text is kept. Log lines are text, not
//! fields: a mod that logs what a player typed puts it in the recording.

use super::{Answer, Entry, Input, Output};
use crate::runtime::Json;

/// Redacts the members named `fields` in every value of `entry`.
pub(crate) fn redact(entry: &mut Entry, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    match entry {
        Entry::Input(input) => {
            let values: Vec<&mut Json> = match &mut input.input {
                Input::Call { args, .. } => args.iter_mut().collect(),
                Input::Emit { payload, .. } => vec![payload],
                Input::Setting { value, .. } => vec![value],
                _ => Vec::new(),
            };
            values
                .into_iter()
                .for_each(|value| redact_value(value, fields));
        }
        Entry::Output(output) => redact_output(&mut output.output, fields),
        Entry::Stored(stored) => redact_value(&mut stored.stored.value, fields),
        Entry::Lost(_) => {}
    }
}

/// Redacts the members named `fields` in every value of `output`.
pub(crate) fn redact_output(output: &mut Output, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    let mut values: Vec<&mut Json> = Vec::new();
    match output {
        Output::Returned(value) | Output::Delivered(value) => values.push(value),
        Output::Event { payload, .. } => values.push(payload),
        Output::GameCall { args, answer, .. } => {
            values.extend(args.iter_mut());
            if let Answer::Ok(value) = answer {
                values.push(value);
            }
        }
        Output::Detached { state, .. } => values.push(state),
        _ => {}
    }
    for value in values {
        redact_value(value, fields);
    }
}

fn redact_value(value: &mut Json, fields: &[String]) {
    match value {
        Json::Object(members) => {
            for (name, member) in members.iter_mut() {
                if fields.iter().any(|field| field == name) {
                    *member = Json::from(hashed(member));
                } else {
                    redact_value(member, fields);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|item| redact_value(item, fields)),
        _ => {}
    }
}

/// `redacted:` and 16 hex digits of a hash of the value's JSON.
fn hashed(value: &Json) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    format!(
        "redacted:{:016x}",
        crate::source::content_hash(text.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{InputEntry, OutputEntry};

    #[test]
    fn named_members_become_hashes_at_any_depth_and_equal_values_stay_equal() {
        let fields = vec!["text".to_owned()];
        let mut said = Entry::Input(InputEntry {
            number: 1,
            at_ms: 0.0,
            during: None,
            input: Input::Emit {
                event: "chat".into(),
                payload: crate::value!({ "from": "ada", "text": "my password is hunter2", "reply": [{ "text": "ok" }] }),
            },
        });
        redact(&mut said, &fields);
        let Entry::Input(InputEntry {
            input: Input::Emit { payload, .. },
            ..
        }) = &said
        else {
            unreachable!("still an emit");
        };
        assert_eq!(payload["from"], "ada");
        let hidden = payload["text"].as_str().unwrap();
        assert!(hidden.starts_with("redacted:") && !hidden.contains("hunter2"));
        assert!(
            payload["reply"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("redacted:")
        );

        let mut echoed = Entry::Output(OutputEntry {
            of: 1,
            output: Output::Event {
                mod_id: "chat".into(),
                event: "said".into(),
                payload: crate::value!({ "text": "my password is hunter2" }),
            },
        });
        redact(&mut echoed, &fields);
        let Entry::Output(OutputEntry {
            output: Output::Event { payload: echo, .. },
            ..
        }) = &echoed
        else {
            unreachable!("still an event");
        };
        assert_eq!(echo["text"], payload["text"]);
    }
}
