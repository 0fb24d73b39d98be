//! `string.find`, `string.match`, `string.gmatch` and `string.gsub` on the interruptible
//! matcher of [`super::pattern`], with the arguments, results and errors of Lua 5.4's own.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::pattern::{Capture, Matcher, PatternError, find, is_plain};
use super::raising::{Arguments, raised};

/// Whether the running call may go on (false once it must stop).
pub(super) type GoOn = Rc<dyn Fn() -> bool>;

/// Replaces the four pattern functions of the `string` table (which is also the strings'
/// metatable's `__index`, so `("x"):find(...)` gets them too).
pub(super) fn install(lua: &Lua, go_on: GoOn) -> mlua::Result<()> {
    let string: Table = lua.globals().raw_get("string")?;
    string.raw_set("find", searcher(lua, &go_on, true)?)?;
    string.raw_set("match", searcher(lua, &go_on, false)?)?;
    string.raw_set("gmatch", gmatch(lua, &go_on)?)?;
    string.raw_set("gsub", gsub(lua, &go_on)?)?;
    Ok(())
}

/// [`GoOn`] as the matcher asks it.
fn asker(go_on: &GoOn) -> impl FnMut() -> bool + '_ {
    move || go_on()
}

/// A matcher error as Lua raises it, after the calling code's position.
fn raise(lua: &Lua, error: PatternError) -> mlua::Error {
    match error {
        PatternError::Malformed(message) => raised(lua, &message),
        PatternError::Stopped => mlua::Error::runtime("the call was stopped for breaking a limit"),
    }
}

/// Lua's `posrelatI`: a 1-based position, negative from the end, clamped to `1..`.
fn start_position(init: i64, length: usize) -> usize {
    match init {
        position if position > 0 => position as usize,
        0 => 1,
        position if position.unsigned_abs() as usize > length => 1,
        position => (length as i64 + position + 1) as usize,
    }
}

fn capture_value(lua: &Lua, subject: &[u8], capture: Capture) -> mlua::Result<Value> {
    Ok(match capture {
        Capture::Text(start, end) => Value::String(lua.create_string(&subject[start..end])?),
        Capture::Position(at) => Value::Integer(at as i64),
    })
}

/// `string.find` (`find` true) or `string.match`.
fn searcher(lua: &Lua, go_on: &GoOn, find_mode: bool) -> mlua::Result<Function> {
    let go_on = Rc::clone(go_on);
    lua.create_function(move |lua, arguments: MultiValue| {
        let arguments = Arguments::new(lua, arguments);
        let (subject, pattern) = (arguments.string(1)?, arguments.string(2)?);
        let init = arguments.optional_integer(3, 1)?;
        let plain = arguments
            .get(4)
            .is_some_and(|value| !matches!(value, Value::Nil | Value::Boolean(false)));
        let subject = subject.as_bytes();
        let pattern = pattern.as_bytes();
        let start = start_position(init, subject.len()) - 1;
        if start > subject.len() {
            return Ok(MultiValue::from_vec(vec![Value::Nil]));
        }
        if find_mode && (plain || is_plain(&pattern)) {
            let found = subject[start..]
                .windows(pattern.len().max(1))
                .position(|window| pattern.is_empty() || window == &pattern[..])
                .or_else(|| pattern.is_empty().then_some(0));
            return Ok(MultiValue::from_vec(match found {
                Some(offset) => vec![
                    Value::Integer((start + offset + 1) as i64),
                    Value::Integer((start + offset + pattern.len()) as i64),
                ],
                None => vec![Value::Nil],
            }));
        }
        let mut ask = asker(&go_on);
        let Some((from, to, captures)) =
            find(&subject, &pattern, start, &mut ask).map_err(|error| raise(lua, error))?
        else {
            return Ok(MultiValue::from_vec(vec![Value::Nil]));
        };
        let mut values = Vec::new();
        if find_mode {
            values.push(Value::Integer(from as i64 + 1));
            values.push(Value::Integer(to as i64));
        } else if captures.is_empty() {
            values.push(capture_value(lua, &subject, Capture::Text(from, to))?);
        }
        for capture in captures {
            values.push(capture_value(lua, &subject, capture)?);
        }
        Ok(MultiValue::from_vec(values))
    })
}

fn gmatch(lua: &Lua, go_on: &GoOn) -> mlua::Result<Function> {
    let go_on = Rc::clone(go_on);
    lua.create_function(move |lua, arguments: MultiValue| {
        let arguments = Arguments::new(lua, arguments);
        let subject = arguments.string(1)?.as_bytes().to_vec();
        let pattern = arguments.string(2)?.as_bytes().to_vec();
        let init = arguments.optional_integer(3, 1)?;
        let length = subject.len();
        // Where the next search starts, and where the last match ended.
        let position = RefCell::new((start_position(init, length) - 1, None::<usize>));
        let go_on = Rc::clone(&go_on);
        lua.create_function(move |lua, ()| {
            let mut ask = asker(&go_on);
            let mut matcher = Matcher::new(&subject, &pattern, &mut ask);
            let (mut at, last) = *position.borrow();
            while at <= length {
                if let Some(end) = matcher.match_at(at, 0).map_err(|error| raise(lua, error))?
                    && Some(end) != last
                {
                    *position.borrow_mut() = (end, Some(end));
                    let values = matcher
                        .captures(at, end, true)
                        .map_err(|error| raise(lua, error))?
                        .into_iter()
                        .map(|capture| capture_value(lua, &subject, capture))
                        .collect::<mlua::Result<Vec<_>>>()?;
                    return Ok(MultiValue::from_vec(values));
                }
                at += 1;
            }
            *position.borrow_mut() = (length + 1, last);
            Ok(MultiValue::from_vec(vec![Value::Nil]))
        })
    })
}

fn gsub(lua: &Lua, go_on: &GoOn) -> mlua::Result<Function> {
    let go_on = Rc::clone(go_on);
    lua.create_function(move |lua, arguments: MultiValue| {
        let arguments = Arguments::new(lua, arguments);
        let (subject, pattern) = (arguments.string(1)?, arguments.string(2)?);
        let (subject, whole) = (subject.as_bytes(), pattern.as_bytes());
        // Lua reads the count before it checks the replacement.
        let limit = arguments.optional_integer(4, subject.len() as i64 + 1)?;
        let replacement = arguments.get(3).cloned().unwrap_or(Value::Nil);
        if !matches!(
            replacement,
            Value::String(_)
                | Value::Integer(_)
                | Value::Number(_)
                | Value::Table(_)
                | Value::Function(_)
        ) {
            return Err(arguments.type_error(3, "string/function/table"));
        }
        let anchored = whole.first() == Some(&b'^');
        let pattern_start = usize::from(anchored);
        let mut ask = asker(&go_on);
        let mut matcher = Matcher::new(&subject, &whole, &mut ask);
        let mut out: Vec<u8> = Vec::with_capacity(subject.len());
        let (mut at, mut last, mut count) = (0usize, None::<usize>, 0i64);
        while count < limit {
            match matcher
                .match_at(at, pattern_start)
                .map_err(|error| raise(lua, error))?
            {
                Some(end) if Some(end) != last => {
                    count += 1;
                    let replaced = replace(lua, &matcher, &subject, at, end, &replacement)?;
                    match replaced {
                        Some(bytes) => out.extend_from_slice(&bytes),
                        None => out.extend_from_slice(&subject[at..end]),
                    }
                    at = end;
                    last = Some(end);
                }
                _ if at < subject.len() => {
                    out.push(subject[at]);
                    at += 1;
                }
                _ => break,
            }
            if anchored {
                break;
            }
        }
        out.extend_from_slice(&subject[at.min(subject.len())..]);
        Ok((lua.create_string(&out)?, count))
    })
}

/// What one match is replaced with; `None` keeps the match (a function or table gave
/// `false` or `nil`).
fn replace(
    lua: &Lua,
    matcher: &Matcher<'_>,
    subject: &[u8],
    start: usize,
    end: usize,
    replacement: &Value,
) -> mlua::Result<Option<Vec<u8>>> {
    let value = match replacement {
        Value::Function(function) => {
            let captures = matcher
                .captures(start, end, true)
                .map_err(|error| raise(lua, error))?
                .into_iter()
                .map(|capture| capture_value(lua, subject, capture))
                .collect::<mlua::Result<Vec<_>>>()?;
            function.call::<Value>(MultiValue::from_vec(captures))?
        }
        Value::Table(table) => {
            let key = capture_value(
                lua,
                subject,
                matcher
                    .capture(0, start, end)
                    .map_err(|error| raise(lua, error))?,
            )?;
            table.get::<Value>(key)?
        }
        template => return expand(lua, matcher, subject, start, end, template).map(Some),
    };
    match value {
        Value::Nil | Value::Boolean(false) => Ok(None),
        Value::String(text) => Ok(Some(text.as_bytes().to_vec())),
        Value::Integer(number) => Ok(Some(number.to_string().into_bytes())),
        Value::Number(number) => Ok(Some(lua_number(number).into_bytes())),
        other => Err(raised(
            lua,
            &format!("invalid replacement value (a {})", other.type_name()),
        )),
    }
}

/// A replacement string with `%0`–`%9` and `%%` expanded (Lua's `add_s`).
fn expand(
    lua: &Lua,
    matcher: &Matcher<'_>,
    subject: &[u8],
    start: usize,
    end: usize,
    template: &Value,
) -> mlua::Result<Vec<u8>> {
    let template = match template {
        Value::String(text) => text.as_bytes().to_vec(),
        Value::Integer(number) => number.to_string().into_bytes(),
        Value::Number(number) => lua_number(*number).into_bytes(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(template.len());
    let mut bytes = template.iter();
    while let Some(&byte) = bytes.next() {
        if byte != b'%' {
            out.push(byte);
            continue;
        }
        match bytes.next() {
            Some(b'%') => out.push(b'%'),
            Some(b'0') => out.extend_from_slice(&subject[start..end]),
            Some(&digit) if digit.is_ascii_digit() => {
                let capture = matcher
                    .capture(usize::from(digit - b'1'), start, end)
                    .map_err(|error| raise(lua, error))?;
                match capture_value(lua, subject, capture)? {
                    Value::String(text) => out.extend_from_slice(&text.as_bytes()),
                    Value::Integer(position) => {
                        out.extend_from_slice(position.to_string().as_bytes())
                    }
                    _ => {}
                }
            }
            _ => return Err(raised(lua, "invalid use of '%' in replacement string")),
        }
    }
    Ok(out)
}

/// A float as Lua writes it (`%.14g`).
fn lua_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{number:.1}")
    } else {
        format!("{number}")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The same Lua code, run with Lua's own string functions and with these: same results,
    /// or both an error.
    fn same_in_both(code: &str) -> Result<(), String> {
        let run = |ours: bool| -> String {
            let lua = Lua::new();
            if ours {
                install(&lua, Rc::new(|| true)).unwrap();
            }
            match lua.load(code).eval::<MultiValue>() {
                Ok(values) => values
                    .iter()
                    .map(|value| match value {
                        Value::String(text) => format!("{:?}", text.as_bytes()),
                        other => format!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Err(_) => "error".to_owned(),
            }
        };
        let (theirs, ours) = (run(false), run(true));
        if theirs == ours {
            Ok(())
        } else {
            Err(format!("{code}\nLua: {theirs}\nours: {ours}"))
        }
    }

    fn quoted(text: &str) -> String {
        format!("{text:?}")
    }

    #[test]
    fn known_cases_agree_with_lua() {
        for code in [
            r#"return string.find("hello world", "o", 6)"#,
            r#"return string.find("hello", "l", -2)"#,
            r#"return string.find("a.b", ".", 1, true)"#,
            r#"return string.find("abc", "", 10)"#,
            r#"return string.find("abc", "", 4)"#,
            r#"return ("key=val"):match("(%w+)=(%w+)")"#,
            r#"return string.match("  x  ", "^%s*(.-)%s*$")"#,
            r#"return string.match("hello", "()ll()")"#,
            r#"return string.gsub("hello world", "o", "0")"#,
            r#"return string.gsub("hello world", "(%w+)", "<%1>")"#,
            r#"return string.gsub("abc", "%w", "%0%0", 2)"#,
            r#"return string.gsub("abc", "", "-")"#,
            r#"return string.gsub("hello", "l+", function(s) return #s end)"#,
            r#"return string.gsub("$name is $age", "%$(%w+)", { name = "Ada", age = 36 })"#,
            r#"return string.gsub("abc", "b", false)"#,
            r#"return string.gsub("abc", "^a", "x")"#,
            r#"return string.gsub("abc", "b", "%2")"#,
            r#"local t = {} for w in string.gmatch("one two  three", "%a+") do t[#t+1] = w end return table.concat(t, ",")"#,
            r#"local t = {} for k, v in string.gmatch("a=1, b=2", "(%w+)=(%w+)") do t[#t+1] = k .. v end return table.concat(t, ",")"#,
            r#"local t = {} for w in string.gmatch("abc", "") do t[#t+1] = "[" .. w .. "]" end return table.concat(t)"#,
            r#"return string.find("x", "[a")"#,
            r#"return string.gsub("x", "x", "%")"#,
        ] {
            same_in_both(code).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn random_patterns_agree_with_lua(
            subject in "[ab()%. -]{0,12}",
            pattern in "[ab().%*+?^$\\[\\]-]{0,8}|%[adsw]\\+|%b\\(\\)|%f\\[%a\\]a|\\(a\\)%1",
            init in -3i64..14,
        ) {
            let (subject, pattern) = (quoted(&subject), quoted(&pattern));
            for code in [
                format!("return string.find({subject}, {pattern}, {init})"),
                format!("return string.match({subject}, {pattern}, {init})"),
                format!("return string.gsub({subject}, {pattern}, \"<%0>\")"),
                format!("local t = {{}} for a, b in string.gmatch({subject}, {pattern}) do t[#t+1] = tostring(a) .. tostring(b) end return table.concat(t, '|')"),
            ] {
                prop_assert!(same_in_both(&code).is_ok(), "{}", same_in_both(&code).unwrap_err());
            }
        }
    }
}
