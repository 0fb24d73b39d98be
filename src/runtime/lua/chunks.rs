//! Lua chunks of the host's own (the sandbox's wrappers), compiled once per process.
//!
//! Every mod's state runs the same few helper chunks. Compiling them again for each of
//! 10,000 mods was a large share of starting them; loading their bytecode costs less. Bytecode
//! is only ever made here, from the host's own source, and loaded back by the same Lua build:
//! a mod's own `load` takes text only.

use std::sync::OnceLock;

use mlua::{Function, Lua, chunk::ChunkMode};

/// A chunk of the host's, named `=modhost` in tracebacks.
pub(super) struct HostChunk {
    source: &'static str,
    bytecode: OnceLock<Vec<u8>>,
}

impl HostChunk {
    pub(super) const fn new(source: &'static str) -> Self {
        Self {
            source,
            bytecode: OnceLock::new(),
        }
    }

    /// The chunk as a function of `lua`, ready to call with the chunk's `...`.
    pub(super) fn function(&self, lua: &Lua) -> mlua::Result<Function> {
        if let Some(bytecode) = self.bytecode.get() {
            return lua
                .load(&bytecode[..])
                .set_name("=modhost")
                .set_mode(ChunkMode::Binary)
                .into_function();
        }
        let function = lua
            .load(self.source)
            .set_name("=modhost")
            .set_mode(ChunkMode::Text)
            .into_function()?;
        self.bytecode
            .get_or_init(|| named(function.dump(true)).unwrap_or_else(|| function.dump(false)));
        Ok(function)
    }
}

/// What the chunk's functions are named in tracebacks and by `debug.getinfo`; the host tells
/// its own frames from a mod's by it.
const NAME: &[u8] = b"=modhost";

/// Bytecode without debug information, with the chunk's name put back. Stripped, the
/// sandbox's chunk loads in half the instructions (its line numbers and the names of its
/// locals and upvalues were a tenth of starting a Lua mod), but Lua leaves out the source
/// name too, and loads the functions as `=?`, which the host could not tell from a mod's.
/// Lua 5.4's format: a 31-byte header, the main function's upvalue count, then its source
/// name, which a stripped dump leaves empty (a size of 0, the byte 0x80). `None` if the
/// bytecode is not laid out so: then the chunk keeps its debug information.
fn named(mut stripped: Vec<u8>) -> Option<Vec<u8>> {
    const SOURCE_AT: usize = 32;
    const EMPTY: u8 = 0x80;
    if stripped.get(..4) != Some(b"\x1bLua") || stripped.get(SOURCE_AT) != Some(&EMPTY) {
        return None;
    }
    // A string's size is written plus one, in the last byte of a big-endian varint marked by
    // its high bit: one byte for a name this short.
    let size = u8::try_from(NAME.len() + 1)
        .ok()
        .filter(|size| *size < EMPTY)?;
    let mut name = vec![EMPTY | size];
    name.extend_from_slice(NAME);
    stripped.splice(SOURCE_AT..=SOURCE_AT, name);
    Some(stripped)
}

#[cfg(test)]
mod tests {
    use super::HostChunk;

    #[test]
    fn the_bytecode_keeps_the_chunk_s_name_without_its_lines() {
        static CHUNK: HostChunk = HostChunk::new("local where = ...\nreturn where()");
        let called_from = || {
            let lua = mlua::Lua::new();
            let caller = lua
                .create_function(|lua, ()| {
                    Ok(lua
                        .inspect_stack(1, |frame| {
                            let source = frame.source().source.map(|source| source.into_owned());
                            (source, frame.current_line())
                        })
                        .expect("a caller"))
                })
                .unwrap();
            CHUNK
                .function(&lua)
                .unwrap()
                .call::<(Option<String>, Option<usize>)>(caller)
                .unwrap()
        };
        // The first start compiles the source; the next ones load the stripped bytecode.
        assert_eq!(called_from(), (Some("=modhost".to_owned()), Some(2)));
        assert_eq!(called_from(), (Some("=modhost".to_owned()), None));
    }

    #[test]
    fn the_bytecode_runs_like_the_source() {
        static CHUNK: HostChunk = HostChunk::new("local a, b = ...\nreturn a * b");
        for _ in 0..2 {
            let lua = mlua::Lua::new();
            let product: i64 = CHUNK.function(&lua).unwrap().call((6, 7)).unwrap();
            assert_eq!(product, 42);
        }
        assert!(CHUNK.bytecode.get().is_some());
    }
}
