//! The names a mod passes to the hot API functions (`modhost.mods.call('lua', 'add', …)`),
//! read once each.
//!
//! Reading a string out of QuickJS copies and checks it (a third of a `modhost.mods.call` from
//! JavaScript to Lua, two names a call). A string literal is an atom in QuickJS, and asking a
//! string for its atom finds a literal's without hashing; the atom then finds the name read
//! the first time. Bounded, as Lua's interned strings are: names longer than [`LONGEST`]
//! bytes, and names past [`MOST`], are read each time.

use std::cell::RefCell;
use std::rc::Rc;

use rquickjs::{Ctx, qjs};
use rustc_hash::FxHashMap;

/// The most names kept.
const MOST: usize = 1024;
/// The longest name kept, in bytes.
const LONGEST: usize = 64;

/// The names read so far, by the atom QuickJS holds for each. Every atom kept must be freed
/// before the runtime goes ([`Names::release`]).
#[derive(Default)]
pub struct Names(RefCell<FxHashMap<qjs::JSAtom, Rc<str>>>);

impl Names {
    /// The text of `string`, a string value of `ctx`; an error (pending in the context) when
    /// QuickJS cannot make its atom or the string is not UTF-8.
    pub fn read<'js>(
        &self,
        ctx: &Ctx<'js>,
        string: &rquickjs::String<'js>,
    ) -> rquickjs::Result<Rc<str>> {
        let raw_ctx = ctx.as_raw().as_ptr();
        // SAFETY: the context and the string are alive; the atom returned is a new
        // reference, kept in the map or freed below.
        let atom = unsafe { qjs::JS_ValueToAtom(raw_ctx, string.as_raw()) };
        if atom == qjs::JS_ATOM_NULL {
            return Err(rquickjs::Error::Exception);
        }
        let mut names = self.0.borrow_mut();
        if let Some(name) = names.get(&atom) {
            let name = Rc::clone(name);
            // SAFETY: the atom is ours (made above) and the map holds its own.
            unsafe { qjs::JS_FreeAtom(raw_ctx, atom) };
            return Ok(name);
        }
        let read = read_text(string);
        match &read {
            Ok(name) if name.len() <= LONGEST && names.len() < MOST => {
                names.insert(atom, Rc::clone(name));
            }
            // SAFETY: the atom is ours and not kept.
            _ => unsafe { qjs::JS_FreeAtom(raw_ctx, atom) },
        }
        read
    }

    /// Frees every atom kept, in the runtime they were made in.
    ///
    /// # Safety
    /// `runtime` must be the live runtime whose contexts made the atoms.
    pub unsafe fn release(&self, runtime: *mut qjs::JSRuntime) {
        for atom in std::mem::take(&mut *self.0.borrow_mut()).into_keys() {
            // SAFETY: each atom was made in `runtime` (the caller's promise) and is freed once.
            unsafe { qjs::JS_FreeAtomRT(runtime, atom) };
        }
    }
}

/// A string's text, read out of QuickJS (which encodes a lone surrogate as is: not UTF-8).
fn read_text(string: &rquickjs::String<'_>) -> rquickjs::Result<Rc<str>> {
    let text = string.clone().to_cstring()?;
    // SAFETY: the pointer and length describe QuickJS's copy, alive as long as `text`.
    let bytes = unsafe { std::slice::from_raw_parts(text.as_ptr().cast::<u8>(), text.len()) };
    Ok(std::str::from_utf8(bytes)?.into())
}
