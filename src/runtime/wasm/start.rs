//! A module's start function, run on the same sliced, clock-checked path as every other call.
//!
//! wasmi runs a start function inside instantiation, on whatever fuel the store holds, with no
//! way to pause it and look at the clock: a `loop br 0` there would hold the host for as long
//! as that fuel lasts, past `call_timeout_ms`. So before a module is compiled for running, its
//! start section is taken out and the start function exported as [`START_EXPORT`]; the host
//! instantiates the module (which then runs no code) and calls that export like any other,
//! a slice of fuel at a time. The order of events is the standard's: the module's memory,
//! tables and globals are initialised first, then the start function runs, and if it traps the
//! mod does not start.

use std::borrow::Cow;

/// The export the start function is moved to (hidden from the mod's functions, as every name
/// beginning with `_` is).
pub(super) const START_EXPORT: &str = "__modhost_start";

const EXPORT_SECTION: u8 = 7;
const START_SECTION: u8 = 8;
const FUNCTION_EXPORT: u8 = 0;

/// `bytes` with the start function moved to an export, or unchanged when there is none.
/// Bytes that are not a well-formed module come back unchanged: compiling them reports why.
pub(super) fn deferred(bytes: &[u8]) -> Cow<'_, [u8]> {
    match rewrite(bytes) {
        Some(rewritten) => Cow::Owned(rewritten),
        None => Cow::Borrowed(bytes),
    }
}

/// One section of a module: its id and its payload's bytes.
struct Section<'a> {
    id: u8,
    payload: &'a [u8],
}

fn rewrite(bytes: &[u8]) -> Option<Vec<u8>> {
    let sections = sections(bytes)?;
    let start = sections
        .iter()
        .find(|section| section.id == START_SECTION)?;
    let (function, _) = leb128(start.payload)?;
    let mut out = bytes[..8].to_vec();
    let mut exported = false;
    for section in &sections {
        match section.id {
            EXPORT_SECTION => {
                out.extend(section_bytes(
                    EXPORT_SECTION,
                    &with_export(section.payload, function)?,
                ));
                exported = true;
            }
            START_SECTION if !exported => {
                // No export section before it: the new one takes the start section's place,
                // where the order of sections allows it.
                out.extend(section_bytes(EXPORT_SECTION, &with_export(&[0], function)?));
                exported = true;
            }
            START_SECTION => {}
            id => out.extend(section_bytes(id, section.payload)),
        }
    }
    Some(out)
}

/// An export section's payload with one more entry: the start function.
fn with_export(payload: &[u8], function: u32) -> Option<Vec<u8>> {
    let (count, used) = leb128(payload)?;
    let mut out = encode_leb128(count.checked_add(1)?);
    out.extend_from_slice(&payload[used..]);
    out.extend(encode_leb128(START_EXPORT.len() as u32));
    out.extend_from_slice(START_EXPORT.as_bytes());
    out.push(FUNCTION_EXPORT);
    out.extend(encode_leb128(function));
    Some(out)
}

fn sections(bytes: &[u8]) -> Option<Vec<Section<'_>>> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return None;
    }
    let mut sections = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        let (size, used) = leb128(&bytes[at + 1..])?;
        let start = at + 1 + used;
        let end = start.checked_add(size as usize)?;
        sections.push(Section {
            id,
            payload: bytes.get(start..end)?,
        });
        at = end;
    }
    Some(sections)
}

fn section_bytes(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![id];
    out.extend(encode_leb128(payload.len() as u32));
    out.extend_from_slice(payload);
    out
}

/// An unsigned LEB128 number and how many bytes it took.
fn leb128(bytes: &[u8]) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for (index, byte) in bytes.iter().take(5).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some((u32::try_from(value).ok()?, index + 1));
        }
    }
    None
}

fn encode_leb128(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports(bytes: &[u8]) -> Vec<String> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, bytes).expect("valid");
        module
            .exports()
            .map(|export| export.name().to_owned())
            .collect()
    }

    #[test]
    fn the_start_function_becomes_an_export() {
        for source in [
            // With an export section, and without one.
            r#"(module (func $s) (func (export "f") (result i32) i32.const 1) (start $s))"#,
            r#"(module (memory 1) (func $s) (start $s) (data (i32.const 0) "x"))"#,
        ] {
            let original = wat::parse_str(source).expect("wat");
            let rewritten = deferred(&original);
            assert!(matches!(rewritten, Cow::Owned(_)), "{source}");
            assert!(
                exports(&rewritten).contains(&START_EXPORT.to_owned()),
                "{source}: {:?}",
                exports(&rewritten)
            );
            // The original exports are still there.
            for name in exports(&original) {
                assert!(exports(&rewritten).contains(&name));
            }
        }
    }

    #[test]
    fn modules_without_a_start_function_are_left_alone() {
        let original = wat::parse_str(r#"(module (func (export "f")))"#).expect("wat");
        assert!(matches!(deferred(&original), Cow::Borrowed(_)));
        assert!(matches!(deferred(b"not wasm"), Cow::Borrowed(_)));
        assert!(matches!(
            deferred(b"\0asm\x01\0\0\0\x08\xff"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn numbers_round_trip() {
        for value in [0, 1, 127, 128, 300, 16_384, u32::MAX] {
            let encoded = encode_leb128(value);
            assert_eq!(leb128(&encoded), Some((value, encoded.len())));
        }
    }
}
