//! Scripts of the host's own, compiled once per process and kept as QuickJS bytecode.
//!
//! Every mod's engine runs the same API prelude. Parsing it again for each of 10,000 mods was a
//! large share of starting them; reading its bytecode into a new engine costs a fraction of
//! that. Bytecode is only ever made here, from the host's own source, and read back by the same
//! QuickJS build, which is what makes reading it safe.

use std::ffi::CString;
use std::sync::OnceLock;

use rquickjs::qjs;
use rquickjs::{Ctx, FromJs, Value};

/// A script compiled on first use; [`CompiledOnce::eval`] runs it in any engine.
pub(super) struct CompiledOnce {
    source: &'static str,
    bytecode: OnceLock<Vec<u8>>,
}

impl CompiledOnce {
    pub(super) const fn new(source: &'static str) -> Self {
        Self {
            source,
            bytecode: OnceLock::new(),
        }
    }

    /// Runs the script in `ctx` and converts what it evaluates to. Should compiling it to
    /// bytecode fail (an engine out of memory), the source is evaluated instead.
    pub(super) fn eval<'js, T: FromJs<'js>>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<T> {
        let bytecode = match self.bytecode.get() {
            Some(bytecode) => bytecode,
            None => match compile(ctx, self.source) {
                Some(bytecode) => self.bytecode.get_or_init(|| bytecode),
                None => return ctx.eval(self.source),
            },
        };
        T::from_js(ctx, run(ctx, bytecode)?)
    }
}

/// The script's bytecode, or `None` (with no exception left behind) when it cannot be made.
fn compile(ctx: &Ctx<'_>, source: &str) -> Option<Vec<u8>> {
    let source = CString::new(source).ok()?;
    let raw = ctx.as_raw().as_ptr();
    let flags = qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY;
    // SAFETY: the source is NUL-terminated and outlives the call; the compiled function is
    // freed once written out, and the buffer QuickJS allocates is copied and then freed with
    // its own allocator.
    unsafe {
        let compiled = qjs::JS_Eval(
            raw,
            source.as_ptr(),
            source.as_bytes().len() as _,
            c"<modhost>".as_ptr(),
            flags as i32,
        );
        if qjs::JS_IsException(compiled) {
            drop(ctx.catch());
            return None;
        }
        let mut size = 0;
        let buffer = qjs::JS_WriteObject(
            raw,
            &mut size,
            compiled,
            (qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE) as i32,
        );
        qjs::JS_FreeValue(raw, compiled);
        if buffer.is_null() {
            drop(ctx.catch());
            return None;
        }
        let bytecode = std::slice::from_raw_parts(buffer, size as usize).to_vec();
        qjs::js_free(raw, buffer.cast());
        Some(bytecode)
    }
}

/// Reads `bytecode` into the engine and runs it, leaving any exception for `catch`.
fn run<'js>(ctx: &Ctx<'js>, bytecode: &[u8]) -> rquickjs::Result<Value<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytecode was written by `compile` in this process, by the same QuickJS;
    // `JS_EvalFunction` takes ownership of the function it is given, and the value it returns
    // is owned, which is what `Value::from_raw` expects.
    unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        let result = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(result) {
            return Err(rquickjs::Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), result))
    }
}
