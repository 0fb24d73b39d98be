//! Lua mods get Lua 5.4. The host replaces or wraps some of Lua's own functions to keep a mod
//! inside its limits (the pattern functions, `pcall`, `xpcall`, `error`, `load`,
//! `setmetatable`, `rawset`, `coroutine.resume`); each is held here to the original: the same
//! code runs in a mod, through the real binary, and in a plain Lua 5.4 state with the original
//! C library (the same vendored Lua), and both must give the same results and the same error
//! values and messages. Thousands of generated pattern cases cover every class and its
//! complement, sets, ranges, anchors, captures, `%b`, `%f`, back references, every quantifier
//! and malformed patterns, with `find`, `match`, `gmatch` and `gsub` (string, table and
//! function replacements, `init` and `n`). Where the sandbox decides otherwise on purpose
//! (`docs/sandbox.md`), a test below says so.

mod support;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Runs one case and renders everything it returned, or the error it raised, as text: the
/// same chunk in the mod and in plain Lua. Tables are shown with sorted keys; error values
/// with their type, so a userdata error where Lua raises a string is a difference.
const RUNNER: &str = r##"
local function ascii(text)
  local out = {}
  for index = 1, #text do
    local byte = text:byte(index)
    out[index] = (byte >= 32 and byte < 127 and byte ~= 92) and string.char(byte) or ("\\" .. byte)
  end
  return '"' .. table.concat(out) .. '"'
end
local function show(value, depth)
  local kind = type(value)
  if kind == "string" then return ascii(value) end
  if kind == "number" then return math.type(value) .. " " .. string.format("%.17g", value) end
  if kind == "table" and depth < 3 then
    local keys = {}
    for key in pairs(value) do keys[#keys + 1] = key end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, key in ipairs(keys) do
      parts[#parts + 1] = show(key, depth + 1) .. "=" .. show(value[key], depth + 1)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if kind == "boolean" or kind == "nil" then return tostring(value) end
  return kind
end
local function render(...)
  local parts = {}
  for index = 1, select("#", ...) do parts[index] = show((select(index, ...)), 0) end
  return table.concat(parts, ", ")
end
return function(code)
  local chunk, problem = load(code, "=case", "t")
  if not chunk then return "does not load: " .. problem end
  return render(pcall(chunk))
end
"##;

/// The mod that runs the cases: `run_all` returns the rendering of each.
const MOD: &str = r#"
local run = require("runner")
local cases = require("cases")
function run_all()
  local results = {}
  for index, code in ipairs(cases) do results[index] = run(code) end
  return results
end
"#;

/// A Lua string literal for any bytes.
fn literal(bytes: &[u8]) -> String {
    let mut text = String::from("\"");
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || *byte == b' ' {
            text.push(char::from(*byte));
        } else {
            text.push_str(&format!("\\{byte:03}"));
        }
    }
    text.push('"');
    text
}

/// Each case's rendering in the mod, through `modhost call`.
fn in_a_mod(cases: &[String]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("mods/compat");
    support::write(
        &dir.path().join("config.toml"),
        "listen = \"none\"\n[limits]\ncall_timeout_ms = 120000\nmemory_mb = 256\n",
    );
    support::write(
        &folder.join("manifest.json"),
        r#"{ "name": "compat", "version": "1.0.0", "entry_point": "init.lua" }"#,
    );
    support::write(&folder.join("init.lua"), MOD);
    support::write(&folder.join("runner.lua"), RUNNER);
    let list: Vec<String> = cases.iter().map(|code| literal(code.as_bytes())).collect();
    support::write(
        &folder.join("cases.lua"),
        &format!("return {{\n{}\n}}\n", list.join(",\n")),
    );
    let stdout = support::modhost(dir.path(), &["-q", "call", "compat", "run_all"]);
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

/// Each case's rendering in plain Lua 5.4, with its own standard library.
fn in_plain_lua(cases: &[String]) -> Vec<String> {
    let lua = mlua::Lua::new();
    let run: mlua::Function = lua.load(RUNNER).eval().expect("the runner loads");
    cases
        .iter()
        .map(|code| run.call::<String>(code.as_str()).expect("the runner runs"))
        .collect()
}

/// Runs every case both ways and fails with each case that differs.
fn assert_same_as_lua(cases: &[String]) {
    let (ours, theirs) = (in_a_mod(cases), in_plain_lua(cases));
    assert_eq!(ours.len(), cases.len());
    let differences: Vec<String> = cases
        .iter()
        .zip(ours.iter().zip(&theirs))
        .filter(|(_, (ours, theirs))| ours != theirs)
        .take(12)
        .map(|(code, (ours, theirs))| format!("{code}\n  Lua:  {theirs}\n  mod:  {ours}"))
        .collect();
    assert!(
        differences.is_empty(),
        "{} of {} cases differ from Lua 5.4; the first:\n{}",
        cases
            .iter()
            .zip(ours.iter().zip(&theirs))
            .filter(|(_, (ours, theirs))| ours != theirs)
            .count(),
        cases.len(),
        differences.join("\n")
    );
}

/// One element of a pattern: a class, a set, a literal, `.`, each maybe quantified, or a
/// capture, a balance, a frontier, a back reference, or something malformed.
fn pattern_item() -> impl Strategy<Value = String> {
    let class = prop::sample::select(&b"acdglpsuwxzACDGLPSUWXZ"[..])
        .prop_map(|letter| format!("%{}", char::from(letter)));
    let escaped = prop::sample::select(&[".", "%", "-", "(", ")", "[", "]", "^", "$", "*"][..])
        .prop_map(|special| format!("%{special}"));
    let literal = prop::sample::select(&["a", "b", "A", "0", " ", "_", "\t", "\u{1}", "é"][..])
        .prop_map(str::to_owned);
    let set_part = prop_oneof![
        prop::sample::select(&["a", "b", "0", "-", "^", "]", "%]", "%-", "\u{0}", "."][..])
            .prop_map(str::to_owned),
        prop::sample::select(&["a-c", "0-9", "A-Z", "\u{0}-\u{1f}", "b-a"][..])
            .prop_map(str::to_owned),
        prop::sample::select(&b"adswpxzcAWSZ"[..]).prop_map(|c| format!("%{}", char::from(c))),
    ];
    let set =
        (any::<bool>(), prop::collection::vec(set_part, 1..4)).prop_map(|(negated, parts)| {
            format!("[{}{}]", if negated { "^" } else { "" }, parts.concat())
        });
    let single = prop_oneof![
        4 => class,
        2 => escaped,
        3 => literal,
        2 => Just(".".to_owned()),
        3 => set,
    ];
    let quantifier = prop::sample::select(&["", "", "*", "+", "-", "?"][..]);
    let quantified = (single, quantifier).prop_map(|(single, quantifier)| single + quantifier);
    let special = prop::sample::select(
        &[
            "()", "%b()", "%bab", "%f[%w]", "%f[^%s]", "%f[%z]", "%1", "%2", "%0", "(", ")", "[",
            "%", "%b", "%ba", "%f", "%fa", "[a", "[^", "[%", "$", "^",
        ][..],
    )
    .prop_map(str::to_owned);
    let leaf = prop_oneof![6 => quantified, 2 => special];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 1..3).prop_map(|items| format!("({})", items.concat()))
    })
}

fn pattern() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec(pattern_item(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(anchored, items, at_end)| {
            format!(
                "{}{}{}",
                if anchored { "^" } else { "" },
                items.concat(),
                if at_end { "$" } else { "" }
            )
        })
}

fn subject() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(
            &[
                b'a', b'b', b'A', b'B', b'0', b'7', b' ', b'\t', b'\n', 0, 1, 31, 127, 200, 255,
                b'(', b')', b'.', b'%', b'-', b'[', b']', b'_', b'x', b'f',
            ][..],
        ),
        0..14,
    )
}

/// A call of one of the four pattern functions on generated arguments.
fn pattern_case() -> impl Strategy<Value = String> {
    let init = prop_oneof![
        Just(String::new()),
        (-16i64..18).prop_map(|i| format!(", {i}"))
    ];
    let replacement = prop::sample::select(
        &[
            "\"<%0>\"",
            "\"%1-%2\"",
            "\"%%\"",
            "\"x%\"",
            "\"%a\"",
            "\"\"",
            "7",
            "{ a = \"A\", b = false, [\"0\"] = 1.5, ab = {} }",
            "function(...) return select('#', ...) .. \":\" .. table.concat({ ... }, \"|\") end",
            "function(c) if c == \"a\" then return false end return c .. c end",
            "function() return {} end",
            "function() error(\"from the replacement\") end",
        ][..],
    );
    let count = prop_oneof![
        Just(String::new()),
        (-1i64..4).prop_map(|n| format!(", {n}"))
    ];
    (
        subject(),
        pattern(),
        0..6usize,
        init,
        replacement,
        count,
        any::<bool>(),
    )
        .prop_map(|(subject, pattern, function, init, replacement, count, plain)| {
            let (s, p) = (literal(&subject), literal(pattern.as_bytes()));
            match function {
                0 => format!(
                    "return string.find({s}, {p}{}{})",
                    if init.is_empty() && plain { ", 1" } else { &init },
                    if plain { ", true" } else { "" }
                ),
                1 => format!("return ({s}):match({p}{init})"),
                2 => format!(
                    "local t = {{}} for a, b, c in string.gmatch({s}, {p}{init}) do t[#t + 1] = {{ a, b, c }} if #t > 50 then break end end return t"
                ),
                3 => format!("return ({s}):find({p}{init})"),
                _ => format!("return string.gsub({s}, {p}, {replacement}{count})"),
            }
        })
}

#[test]
fn pattern_functions_behave_as_lua_5_4_on_generated_cases() {
    // The same cases on every run, so that CI is never red by chance; the unit tests of the
    // matcher (`src/runtime/lua/strings.rs`) draw new ones each run.
    let mut runner = TestRunner::deterministic();
    let strategy = pattern_case();
    let cases: Vec<String> = (0..6000)
        .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
        .collect();
    assert_same_as_lua(&cases);
}

#[test]
fn classes_match_every_byte_as_lua_does() {
    // Each class and its complement against all 256 bytes, one case per class.
    let cases: Vec<String> = "acdglpsuwxz"
        .chars()
        .flat_map(|class| [class, class.to_ascii_uppercase()])
        .map(|class| {
            format!(
                "local hits = {{}} for byte = 0, 255 do hits[#hits + 1] = string.find(string.char(byte), \"^%{class}$\") and 1 or 0 end return table.concat(hits)"
            )
        })
        .collect();
    assert_same_as_lua(&cases);
}

#[test]
fn arguments_and_their_errors_are_lua_s() {
    let cases: Vec<String> = [
        // Numbers where strings are expected, and strings where integers are.
        "return string.find(12345, 3)",
        "return string.find(\"abc\", \"b\", \"2\")",
        "return string.find(\"abc\", \"b\", 2.0)",
        "return string.find(\"abc\", \"b\", 1.5)",
        "return string.gsub(\"abc\", \"b\", 7, \"1\")",
        "return string.gmatch(\"a\", \"a\", {})",
        // Missing or wrong arguments.
        "return string.find()",
        "return string.find(nil, \"a\")",
        "return string.find(\"a\")",
        "return string.match({}, \"a\")",
        "return string.gsub(\"abc\", \"b\")",
        "return string.gsub(\"abc\", \"b\", true)",
        "return string.gsub(\"abc\", \"b\", \"x\", {})",
        "return (\"x\"):rep(3):gsub(\"x\", \"%1\")",
        // Error values are strings a mod can match on, as in Lua.
        "local ok, e = pcall(string.find, \"a\", \"[a\") return ok, type(e), e",
        "local ok, e = pcall(string.gsub, \"a\", \"a\", \"%9\") return ok, type(e), e",
        "local ok, e = pcall(string.rep) return ok, type(e), e",
        "local ok, e = xpcall(string.find, function(m) return \"handled: \" .. tostring(m) end, \"a\", \"%\") return ok, e",
        "local co = coroutine.create(function() return string.match(\"a\", \"(\") end) return coroutine.resume(co)",
        "local ok, e = pcall(error) return ok, e",
        "local ok, e = pcall(error, \"plain\", 0) return ok, e",
        "local ok, e = pcall(error, \"where\") return ok, e",
        "local ok, e = pcall(error, \"up\", 2) return ok, e",
        "local ok, e = pcall(error, 42) return ok, e, math.type(e)",
        "local ok, e = pcall(error, nil) return ok, e",
        "local ok, e = pcall(function() local t = nil; return t.x end) return ok, e",
        "local ok, e = pcall(function() return 1 + {} end) return ok, e",
        "local ok, e = pcall(function() error(setmetatable({}, { __tostring = function() return \"custom\" end })) end) return ok, tostring(e)",
        // The protected calls return what the function returned.
        "return pcall(function(...) return select(\"#\", ...), ... end, 1, nil, 3, nil)",
        "return xpcall(function(...) return ... end, print, \"a\", nil)",
        "return select(\"#\", pcall(function() end))",
        "local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) return co(1), co(5)",
        "local co = coroutine.create(function() error(\"in a coroutine\") end) return coroutine.resume(co)",
        "local co = coroutine.create(function() error({ code = 7 }) end) local ok, e = coroutine.resume(co) return ok, type(e), e.code",
        "return pcall(function() local r = coroutine.resume(42) return r end)",
        "return pcall(function() local r = coroutine.resume() return r end)",
        "return pcall(function() local r = setmetatable() return r end)",
        "return pcall(function() local r = setmetatable({}, 5) return r end)",
        "return pcall(function() local r = xpcall(print) return r end)",
        // load, setmetatable, rawset, tostring, string.format, select, tonumber.
        "return load(\"return 1 +\")",
        "return load(\"return ...\", \"=chunk\", \"t\")(4, 5)",
        "return load(function() return nil end)",
        "local parts = { \"return \", \"6 * 7\" } local i = 0 return load(function() i = i + 1 return parts[i] end)()",
        "local t = {} return setmetatable(t, { __index = function() return 9 end }) == t, t.anything",
        "return pcall(setmetatable, 1, {})",
        "return getmetatable(setmetatable({}, { __metatable = \"locked\" }))",
        "return pcall(setmetatable, setmetatable({}, { __metatable = 1 }), {})",
        "local t = {} return rawset(t, \"k\", 1) == t, t.k",
        "return pcall(rawset, {}, nil, 1)",
        "return tostring(nil), tostring(1.5), tostring(10 // 3), tostring(2^63), tostring(-0.0), tostring(1e100)",
        "return string.format(\"%5.2f|%d|%s|%q|%x|%g|%i\", 3.14159, 42, \"s\", \"a\\0b\", 255, 1e20, 7)",
        "return pcall(string.format, \"%d\", 1.5)",
        "return string.format(\"%q\", 1/0), string.format(\"%q\", 2^63), string.format(\"%s\", setmetatable({}, { __tostring = function() return \"T\" end }))",
        "return select(-1, 1, 2, 3), pcall(select, 0)",
        "return tonumber(\"0x10\"), tonumber(\"10\", 2), tonumber(\"  5  \"), tonumber(\"z\", 36), tonumber(\"1e1\")",
        "return math.tointeger(3.0), math.type(1), math.type(1.0), 7 // 2, 7 % -3, 2^2, 1 / 0 > 0",
        "return #\"abc\", (\"x\"):rep(3, \",\"), (\"abc\"):byte(1, -1)",
        "return utf8.char(72, 228, 8364), utf8.len(\"häll\"), table.concat({ 1, 2, 3 }, \"-\")",
        "local t = { 5, 2, 8 } table.sort(t, function(a, b) return a > b end) return table.unpack(t)",
        "return next({}), type(next), rawequal(\"a\", \"a\"), rawlen({ 1, 2 })",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_same_as_lua(&cases);
}

#[test]
fn libraries_written_for_plain_lua_run_unchanged() {
    // The idioms of json.lua-style encoders and of string utility libraries.
    let cases: Vec<String> = [
        r#"local escapes = { ["\\"] = "\\\\", ["\""] = "\\\"", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
           local function escape(c) return escapes[c] or string.format("\\u%04x", c:byte()) end
           return ("a\0b\1c\"d\n\127"):gsub('[%c"\\]', escape)"#,
        r#"return ("x\0y\0"):gsub("%z", "<nul>")"#,
        r#"return ("x\0y"):find("[%z]"), ("x\0y"):find("[^%z]+", 2)"#,
        r#"local n = 0 for w in ("a\0\0b"):gmatch("%Z+") do n = n + 1 end return n"#,
        r#"local function trim(s) return (s:gsub("^%s*(.-)%s*$", "%1")) end return trim("  hi there \t\n")"#,
        r#"local t = {} for k, v in ("a=1;b=2;;c=3"):gmatch("(%w+)=(%w*)") do t[#t + 1] = k .. v end return table.concat(t, ",")"#,
        r#"local function split(s, sep) local out = {} for part in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do out[#out + 1] = part end return out end return split("a.b..c", ".")"#,
        r#"return ("THE (quick) fox"):gsub("%f[%a]%a+", function(w) return w:lower() end)"#,
        r#"return ("hello world"):gsub("(%w+) (%w+)", "%2 %1")"#,
        r#"return ("f(a(b)c) g(d)"):gsub("%b()", "[]")"#,
        r#"return ("camelCaseString"):gsub("(%u)", function(c) return "_" .. c:lower() end)"#,
        r#"return string.format("%-5s|%5s|%05d|%+.3e", "ab", "cd", 42, 12345.678)"#,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_same_as_lua(&cases);
}

#[test]
fn catastrophic_patterns_still_stop_at_the_time_limit() {
    // The containment the replacement exists for (SPEC section 6): what plain Lua would run
    // for hours fails the call at `call_timeout_ms`.
    let dir = tempfile::tempdir().expect("temp dir");
    support::one_mod_pack(
        dir.path(),
        "listen = \"none\"\n[limits]\ncall_timeout_ms = 300\n",
        "slow",
        "init.lua",
        r#"function slow() return pcall(string.find, string.rep("a", 3000), ".-.-.-.-b") end"#,
    );
    let (status, _, stderr) = support::run_with_status(dir.path(), &["call", "slow", "slow"]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("`call_timeout_ms` = 300"), "{stderr}");
}

/// What the sandbox decides otherwise on purpose, each listed in `docs/sandbox.md`: shown
/// here as the mod sees it.
#[test]
fn the_sandbox_s_own_decisions_are_as_documented() {
    let cases: Vec<String> = [
        // Bytecode is never loaded: `load` reads text only, whatever mode it is given.
        "return load(string.dump(function() return 1 end))",
        "return load(string.dump(function() return 1 end), \"x\", \"b\")",
        // Finalizers run where no limit reaches them.
        "return pcall(setmetatable, {}, { __gc = function() end })",
        // No files, processes or environment.
        "return dofile, loadfile, io, os.execute, os.getenv, os.remove, package, debug, require ~= nil",
        "return type(os.time()), type(os.clock())",
        // A table raised inside a `gsub` replacement function reaches `pcall` as its text.
        "local ok, e = pcall(string.gsub, \"a\", \"a\", function() error({ code = 1 }) end) return ok, type(e), e",
        // An argument error of a wrapped function called in tail position has no position.
        "return pcall(function() return setmetatable(1) end)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let seen = in_a_mod(&cases);
    let expected = [
        "true, nil, \"attempt to load a binary chunk (mode is 't')\"",
        "true, nil, \"attempt to load a binary chunk (mode is '')\"",
        "true, false, \"`__gc` finalizers are not allowed in mods: Lua runs them where no time limit reaches; release resources in `onDetach` instead\"",
        "true, nil, nil, nil, nil, nil, nil, nil, nil, true",
        "true, \"number\", \"number\"",
        "true, false, \"string\", \"error value {\"code\":1}\"",
        "true, false, \"bad argument #1 to 'setmetatable' (table expected, got number)\"",
    ];
    for ((case, seen), expected) in cases.iter().zip(&seen).zip(expected) {
        assert_eq!(seen, expected, "{case}");
    }
}
