//! The names a mod passes to the hot API functions (`modhost.mods.call('lua', 'add', …)`),
//! read once each.
//!
//! Reading a string out of QuickJS copies and checks it (a third of a `modhost.mods.call` from
//! JavaScript to Lua, two names a call). A string literal evaluates to the same string every
//! time (its atom's), so the string itself finds the name read the first time: the names are
//! kept by the strings' identity, each string held (so that its memory cannot come back as
//! another string). Bounded, as Lua's interned strings are: names longer than [`LONGEST`]
//! bytes, and names past [`MOST`], are read each time.

use std::cell::RefCell;
use std::rc::Rc;

use rquickjs::{Ctx, qjs};
use rustc_hash::FxHashMap;

/// The most names kept.
const MOST: usize = 1024;
/// The longest name kept, in bytes.
const LONGEST: usize = 64;

/// The names read so far, by their string's address, with the string held. Every string
/// held must be let go before the runtime goes ([`Names::release`]).
#[derive(Default)]
pub(super) struct Names(RefCell<FxHashMap<usize, (qjs::JSValue, Rc<str>)>>);

impl Names {
    /// The text of `string`, a string of `ctx`; an error when it is not UTF-8 (QuickJS
    /// encodes a lone surrogate as is).
    pub(super) fn read<'js>(
        &self,
        ctx: &Ctx<'js>,
        string: &rquickjs::String<'js>,
    ) -> rquickjs::Result<Rc<str>> {
        let raw = string.as_raw();
        // SAFETY: a string value holds a pointer to its string.
        let address = unsafe { qjs::JS_VALUE_GET_PTR(raw) } as usize;
        let mut names = self.0.borrow_mut();
        if let Some((_, name)) = names.get(&address) {
            return Ok(Rc::clone(name));
        }
        let name = read_text(string)?;
        if name.len() <= LONGEST && names.len() < MOST {
            // SAFETY: the context and the string are alive; the new reference is held
            // until `release`.
            let held = unsafe { qjs::JS_DupValue(ctx.as_raw().as_ptr(), raw) };
            names.insert(address, (held, Rc::clone(&name)));
        }
        Ok(name)
    }

    /// Lets go of every string held, in the runtime they belong to.
    ///
    /// # Safety
    /// `runtime` must be the live runtime whose contexts made the strings.
    pub(super) unsafe fn release(&self, runtime: *mut qjs::JSRuntime) {
        for (held, _) in std::mem::take(&mut *self.0.borrow_mut()).into_values() {
            // SAFETY: each string was held in `runtime` (the caller's promise), once.
            unsafe { qjs::JS_FreeValueRT(runtime, held) };
        }
    }
}

/// A string's text, read out of QuickJS.
fn read_text(string: &rquickjs::String<'_>) -> rquickjs::Result<Rc<str>> {
    let text = string.clone().to_cstring()?;
    // SAFETY: the pointer and length describe QuickJS's copy, alive as long as `text`.
    let bytes = unsafe { std::slice::from_raw_parts(text.as_ptr().cast::<u8>(), text.len()) };
    Ok(std::str::from_utf8(bytes)?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_read_once_by_its_string_and_a_lone_surrogate_is_refused() {
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        let names = Names::default();
        context.with(|ctx| {
            let literal: rquickjs::Function = ctx.eval("() => 'lua'").unwrap();
            let first: rquickjs::String = literal.call(()).unwrap();
            let again: rquickjs::String = literal.call(()).unwrap();
            let read = names.read(&ctx, &first).unwrap();
            assert_eq!(&*read, "lua");
            assert!(Rc::ptr_eq(&read, &names.read(&ctx, &again).unwrap()));
            let built: rquickjs::String = ctx.eval("['l', 'u', 'a'].join('')").unwrap();
            assert_eq!(&*names.read(&ctx, &built).unwrap(), "lua");
            let long: rquickjs::String = ctx.eval("'x'.repeat(100)").unwrap();
            assert_eq!(names.read(&ctx, &long).unwrap().len(), 100);
            let surrogate: rquickjs::String = ctx.eval("'\\ud800'").unwrap();
            assert!(names.read(&ctx, &surrogate).is_err());
        });
        // SAFETY: the runtime that made the strings is alive.
        unsafe { names.release(context.with(|ctx| qjs::JS_GetRuntime(ctx.as_raw().as_ptr()))) };
        assert!(names.0.borrow().is_empty());
    }
}
