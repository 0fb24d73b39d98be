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
        // Line numbers stay in: a traceback through a wrapper still reads `modhost:3:`.
        self.bytecode.get_or_init(|| function.dump(false));
        Ok(function)
    }
}

#[cfg(test)]
mod tests {
    use super::HostChunk;

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
