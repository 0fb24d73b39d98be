//! A Lua mod in a recorded or replayed session: `os.time` and `os.clock` read the session's
//! virtual clock, `math.random` starts from the mod's seed, `math.randomseed()` without a seed
//! draws from the machine's recorded entropy, and the state's string hashing (the order of
//! `pairs` over string keys) is seeded from it too, through the vendored Lua's
//! `modhost_set_hash_seed` (`vendor/lua-src/PATCHED.md`). Outside a session the same
//! functions read the machine's clocks. Replaying, [`locate`] tells the host where in the
//! mod's code an output comes from.

use std::os::raw::{c_int, c_uint};

use mlua::{Lua, LuaOptions, StdLib, Table};

use super::Shared;
use super::chunks::HostChunk;
use crate::runtime::Reproducible;

unsafe extern "C" {
    /// Sets the string-hash seed of the Lua states this thread creates next (`seeded` = 0:
    /// Lua's own, from the time and addresses).
    fn modhost_set_hash_seed(seeded: c_int, seed: c_uint);
}

/// A Lua state with `libraries`, its string hashing seeded from `reproducible` when there is
/// one.
pub(super) fn new_state(
    libraries: StdLib,
    reproducible: Option<&Reproducible>,
) -> mlua::Result<Lua> {
    let Some(reproducible) = reproducible else {
        return Lua::new_with(libraries, LuaOptions::default());
    };
    // SAFETY: sets two thread-locals of the vendored Lua, read by `lua_newstate` on this
    // thread only.
    unsafe { modhost_set_hash_seed(1, reproducible.machine as c_uint) };
    let lua = Lua::new_with(libraries, LuaOptions::default());
    // SAFETY: as above.
    unsafe { modhost_set_hash_seed(0, 0) };
    lua
}

/// The sandbox's `os`: `clock` and `time`, on the session's clock in a session.
pub(super) fn os_table(lua: &Lua, reproducible: Option<&Reproducible>) -> mlua::Result<Table> {
    let os = lua.create_table()?;
    match reproducible {
        Some(reproducible) => {
            let session = reproducible.clone();
            os.raw_set(
                "clock",
                lua.create_function(move |_, ()| Ok(session.elapsed_ms() / 1000.0))?,
            )?;
            let session = reproducible.clone();
            os.raw_set(
                "time",
                lua.create_function(move |_, ()| Ok((session.wall_ms() / 1000.0).floor() as i64))?,
            )?;
        }
        None => {
            let clock = std::time::Instant::now();
            os.raw_set(
                "clock",
                lua.create_function(move |_, ()| Ok(clock.elapsed().as_secs_f64()))?,
            )?;
            os.raw_set(
                "time",
                lua.create_function(|_, ()| {
                    Ok(std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |elapsed| elapsed.as_secs() as i64))
                })?,
            )?;
        }
    }
    Ok(os)
}

/// Seeds `math.random` from the mod's seed, and makes `math.randomseed()` without arguments
/// draw its seed from the machine's recorded entropy rather than the time.
pub(super) fn seed_math(lua: &Lua, reproducible: &Reproducible) -> mlua::Result<()> {
    static RESEED: HostChunk = HostChunk::new(
        r##"
local math, seed, entropy = ...
local randomseed = math.randomseed
randomseed(seed)
math.randomseed = function(...)
  if select("#", ...) == 0 then return randomseed(entropy()) end
  return randomseed(...)
end
"##,
    );
    let math: Table = lua.globals().raw_get("math")?;
    let mut entropy = reproducible.entropy();
    RESEED.function(lua)?.call::<()>((
        math,
        reproducible.seed as i64,
        lua.create_function_mut(move |_, ()| Ok(entropy.i64(..)))?,
    ))
}

/// Tells the host the `file:line` of the innermost Lua function of the mod's own files now
/// running, when it asks (a replay, for the line of a divergent output).
pub(super) fn locate(lua: &Lua, shared: &Shared) {
    if !shared.locate {
        return;
    }
    for level in 0.. {
        let found = lua.inspect_stack(level, |debug| {
            let source = debug.source().source?;
            let file = source.strip_prefix('@')?;
            Some(format!("{file}:{}", debug.current_line()?))
        });
        match found {
            None => return,
            Some(None) => continue,
            Some(Some(location)) => return shared.host.located(location),
        }
    }
}
