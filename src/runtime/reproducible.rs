//! What makes a mod reproducible in a recorded or replayed session (SPEC section 16): the
//! clocks it reads are the session's virtual clock, and its random numbers come from seeds the
//! recording keeps. Each backend puts these in place of the engine's own when an instance is
//! made with a [`Reproducible`].

use std::cell::Cell;
use std::rc::Rc;

/// A seeded random number generator (wyrand, through `fastrand`, which the host already
/// builds for its temporary files).
pub(crate) type Random = fastrand::Rng;

/// A mod's view of the session.
#[derive(Debug, Clone)]
pub struct Reproducible {
    /// Milliseconds of virtual time since the session began; the host moves it.
    pub clock: Rc<Cell<f64>>,
    /// The wall clock when the session began, in milliseconds since 1970.
    pub epoch_ms: f64,
    /// The seed of the mod's `Math.random` / `math.random`: the same on every machine.
    pub seed: u64,
    /// What the mod gets of the machine's own entropy: Lua's string hashing,
    /// `math.randomseed()` without a seed, WASI's random bytes.
    pub machine: u64,
}

impl Reproducible {
    /// The wall clock now, in milliseconds since 1970 (`Date.now`, `os.time`).
    pub fn wall_ms(&self) -> f64 {
        self.epoch_ms + self.clock.get()
    }

    /// Milliseconds since the session began (`performance.now`, `os.clock`).
    pub fn elapsed_ms(&self) -> f64 {
        self.clock.get()
    }

    /// The generator behind the mod's `Math.random`.
    pub fn random(&self) -> Random {
        Random::with_seed(self.seed)
    }

    /// A generator of the machine's entropy for the mod.
    pub fn entropy(&self) -> Random {
        Random::with_seed(self.machine)
    }
}
