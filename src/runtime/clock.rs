//! The per-call time limit, shared by every backend.
//!
//! A call's deadline starts when the host enters the mod ([`CallClock::time`]), so time spent
//! in host functions (`readText`, storage) counts as the mod's. Engines call back periodically
//! while a script runs (QuickJS's interrupt handler, a Lua instruction-count hook), and host
//! functions check at their entry: [`CallClock::tick`] says whether the call must stop. Once a
//! call has expired it stays expired until it has unwound, so a `catch` or `pcall` that
//! swallows the interruption is interrupted again at once. Time a mod spends waiting for the
//! game (which has `game_call_timeout_ms` of its own) does not count ([`CallClock::paused`]),
//! nor does a wait for another process's lock on the mods' store ([`CallClock::excuse`]).
//!
//! A host function that finds the call broke another limit (a queued payload past
//! `memory_mb`) records it with [`CallClock::breach`]: from then on the call stops the same way.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use super::ScriptError;

/// A point in time, in nanoseconds of the monotonic clock. [`Moment::now`] reads it coarsely,
/// which is cheap (the kernel's coarse monotonic clock where there is one: its few milliseconds
/// of granularity are nothing against limits counted in milliseconds); [`Moment::precise`]
/// reads it to the nanosecond, for durations, through the processor's counter once that is
/// calibrated ([`Counter`]). All count from the same origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment(u64);

impl Moment {
    pub fn now() -> Moment {
        #[cfg(target_os = "linux")]
        {
            Moment::of(libc::CLOCK_MONOTONIC_COARSE)
        }
        #[cfg(not(target_os = "linux"))]
        {
            Moment::precise()
        }
    }

    /// To the nanosecond: every call into a mod reads it twice (its duration).
    pub fn precise() -> Moment {
        #[cfg(target_os = "linux")]
        if let Some(counter) = Counter::calibrated() {
            return counter.now();
        }
        Moment::monotonic()
    }

    /// The monotonic clock itself.
    fn monotonic() -> Moment {
        #[cfg(unix)]
        {
            Moment::of(libc::CLOCK_MONOTONIC)
        }
        #[cfg(not(unix))]
        {
            static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
            Moment(
                START
                    .get_or_init(std::time::Instant::now)
                    .elapsed()
                    .as_nanos() as u64,
            )
        }
    }

    #[cfg(unix)]
    fn of(clock: libc::clockid_t) -> Moment {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for the call to fill.
        unsafe { libc::clock_gettime(clock, &mut now) };
        Moment(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
    }

    /// Nanoseconds since the clock's origin.
    pub fn nanos(self) -> u64 {
        self.0
    }

    pub fn from_nanos(nanos: u64) -> Moment {
        Moment(nanos)
    }

    pub fn after(self, duration: Duration) -> Moment {
        Moment(self.0.saturating_add(duration.as_nanos() as u64))
    }

    /// How long after `earlier` this is (zero if it is not after it: a coarse reading may lag
    /// a precise one).
    pub fn since(self, earlier: Moment) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// The processor's counter (the time-stamp counter on x86_64, the system counter on aarch64)
/// scaled to the monotonic clock by `quanta`, on Linux: there reading it costs about half a
/// reading of the monotonic clock (16 ns against 31 ns on this project's machine), and a call
/// into a mod reads the time twice. quanta calibrates the counter once per process, which
/// takes tens of milliseconds: on a thread of its own, started by the first precise reading,
/// so that no command waits for it; until then readings are the monotonic clock's. Where the
/// counter cannot be trusted (no invariant TSC), quanta reads the monotonic clock itself.
/// Windows' and macOS's precise clocks are counter reads already (QueryPerformanceCounter,
/// `mach_absolute_time`), and under Wine the calibration was a millisecond off within a
/// second: there the system's clock is read.
#[cfg(target_os = "linux")]
struct Counter {
    clock: quanta::Clock,
    /// A counter reading: the counter's readings are counted from there, scaled to nanoseconds.
    origin: u64,
    /// The monotonic clock's nanoseconds at the origin, as last matched ([`Counter::anchor`]):
    /// a reading is this plus the scaled count since the origin.
    base: std::sync::atomic::AtomicU64,
    /// The scaled count at which the next reading matches the clock again.
    next_anchor: std::sync::atomic::AtomicU64,
}

/// How often the counter is matched to the monotonic clock again. quanta's scale is calibrated
/// once, to a few parts in a hundred thousand on a busy machine: left alone, its readings
/// drifted 54 µs from the clock within seconds, which in a host running for days would move
/// every deadline by a second. Matched every 100 ms, they stay within a few microseconds.
#[cfg(target_os = "linux")]
const ANCHOR_EVERY_NANOS: u64 = 100_000_000;

#[cfg(target_os = "linux")]
static COUNTER: std::sync::OnceLock<Counter> = std::sync::OnceLock::new();

#[cfg(target_os = "linux")]
impl Counter {
    /// The calibrated counter, once it is.
    fn calibrated() -> Option<&'static Counter> {
        if let Some(counter) = COUNTER.get() {
            return Some(counter);
        }
        static CALIBRATING: std::sync::Once = std::sync::Once::new();
        CALIBRATING.call_once(|| {
            let calibrate = || {
                COUNTER.get_or_init(|| {
                    let clock = quanta::Clock::new();
                    Counter {
                        origin: clock.raw(),
                        base: Moment::monotonic().0.into(),
                        next_anchor: ANCHOR_EVERY_NANOS.into(),
                        clock,
                    }
                });
            };
            // Without a thread to be had, readings stay the monotonic clock's.
            let _ = std::thread::Builder::new()
                .name("clock-calibration".into())
                .spawn(calibrate);
        });
        None
    }

    fn now(&self) -> Moment {
        use std::sync::atomic::Ordering::Relaxed;
        let counted = self.clock.delta_as_nanos(self.origin, self.clock.raw());
        if counted >= self.next_anchor.load(Relaxed) {
            return self.anchor(counted);
        }
        Moment(self.base.load(Relaxed).wrapping_add(counted))
    }

    /// Matches the counter to the monotonic clock again, given the scaled count just read; the
    /// clock's reading is the answer. A match is kept only if the clock was read twice within
    /// a few microseconds around it (the thread was not descheduled in between), or it would
    /// be off by however long that took; then the next reading tries again.
    #[cold]
    fn anchor(&self, counted: u64) -> Moment {
        use std::sync::atomic::Ordering::Relaxed;
        let before = Moment::monotonic();
        let counted_now = self.clock.delta_as_nanos(self.origin, self.clock.raw());
        let after = Moment::monotonic();
        if after.since(before) < Duration::from_micros(20) {
            let midpoint = before.0 + (after.0 - before.0) / 2;
            self.base.store(midpoint.wrapping_sub(counted_now), Relaxed);
            self.next_anchor
                .store(counted.max(counted_now) + ANCHOR_EVERY_NANOS, Relaxed);
        }
        after
    }
}

pub struct CallClock {
    timeout: Duration,
    /// When the running call must stop; `None` when no call runs.
    deadline: Cell<Option<Moment>>,
    /// Set when the running call ran past its deadline, until the error is reported.
    expired: Cell<bool>,
    /// Another limit the running call broke, until the error is reported.
    breached: RefCell<Option<ScriptError>>,
}

impl CallClock {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            deadline: Cell::new(None),
            expired: Cell::new(false),
            breached: RefCell::new(None),
        }
    }

    /// Runs `body` as one call; a call made while another runs belongs to the outer one.
    pub fn time<R>(&self, body: impl FnOnce() -> R) -> R {
        // Usually the host has begun the call already: then the time is not read again.
        let began = self.deadline.get().is_none() && self.begin(Moment::now());
        let result = body();
        self.end(began);
        result
    }

    /// A call entered at `at` starts (the host reads the time once per call, for this and for
    /// the call's duration), unless one is running already: `false` then, and the running one
    /// goes on. Pass what it returned to [`CallClock::end`].
    pub fn begin(&self, at: Moment) -> bool {
        if self.deadline.get().is_some() {
            return false;
        }
        self.deadline.set(Some(at.after(self.timeout)));
        true
    }

    /// The call [`CallClock::begin`] started is over.
    pub fn end(&self, began: bool) {
        if began {
            self.deadline.set(None);
        }
    }

    /// Whether the running call must stop now (the engine's periodic check, and each host
    /// function's).
    pub fn tick(&self) -> bool {
        if self.must_stop() {
            return true;
        }
        match self.deadline.get() {
            Some(deadline) if Moment::now() >= deadline => {
                self.expired.set(true);
                true
            }
            _ => false,
        }
    }

    /// Runs `body` (a wait for the game) without counting its time against the call.
    pub fn paused<R>(&self, body: impl FnOnce() -> R) -> R {
        if self.deadline.get().is_none() {
            return body();
        }
        let paused_at = Moment::now();
        let result = body();
        self.excuse(Moment::now().since(paused_at));
        result
    }

    /// Takes `waited` off the running call's time: a wait inside it that was not the mod's
    /// (for another process's lock on the mods' store).
    pub fn excuse(&self, waited: Duration) {
        if let Some(deadline) = self.deadline.get() {
            self.deadline.set(Some(deadline.after(waited)));
        }
    }

    /// Stops the running call for breaking a limit other than time.
    pub fn breach(&self, error: ScriptError) {
        self.breached.borrow_mut().get_or_insert(error);
    }

    /// Whether a limit other than time stopped the running call.
    pub fn has_breach(&self) -> bool {
        self.breached.borrow().is_some()
    }

    /// Whether the running call has been stopped (and is still unwinding).
    pub fn must_stop(&self) -> bool {
        self.expired.get() || self.breached.borrow().is_some()
    }

    /// Why the last call was stopped, if it was (and forgets it).
    pub fn take_stop(&self) -> Option<ScriptError> {
        let breached = self.breached.take();
        let expired = self.expired.take();
        breached.or_else(|| expired.then(|| ScriptError::timeout(self.timeout.as_millis())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn precise_readings_through_the_counter_are_the_monotonic_clocks() {
        Moment::precise();
        let waited = std::time::Instant::now();
        while Counter::calibrated().is_none() {
            assert!(
                waited.elapsed() < Duration::from_secs(20),
                "the counter is calibrated in the background"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        // Over a second, so that a drift of the counter's scale would show.
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(20));
            for _ in 0..100 {
                let before = Moment::monotonic();
                let precise = Moment::precise();
                let after = Moment::monotonic();
                // A reading may be a little either side of the clock's (by the calibration's
                // error since the last match, a few microseconds), never far.
                let slack = Duration::from_micros(50);
                assert!(
                    before.since(precise) < slack,
                    "{precise:?} before {before:?}"
                );
                assert!(precise.since(after) < slack, "{precise:?} after {after:?}");
            }
        }
    }

    #[test]
    fn a_call_is_stopped_once_it_has_run_past_the_limit_and_stays_stopped() {
        let clock = CallClock::new(Duration::from_millis(20));
        assert!(!clock.tick(), "no call is running");
        let stopped = clock.time(|| {
            assert!(!clock.tick());
            std::thread::sleep(Duration::from_millis(30));
            clock.tick() && clock.tick()
        });
        assert!(stopped);
        assert_eq!(clock.take_stop(), Some(ScriptError::timeout(20)));
        assert_eq!(clock.take_stop(), None);
    }

    #[test]
    fn time_counts_from_entry_and_nested_calls_share_the_outer_one() {
        let clock = CallClock::new(Duration::from_millis(20));
        clock.time(|| {
            // Time spent before the engine's first check (a host function) counts.
            std::thread::sleep(Duration::from_millis(25));
            clock.time(|| assert!(clock.tick()));
        });
        clock.take_stop();
        clock.time(|| assert!(!clock.tick(), "a new call starts afresh"));
    }

    #[test]
    fn a_breach_stops_the_call_like_the_deadline() {
        let clock = CallClock::new(Duration::from_secs(60));
        clock.time(|| {
            clock.breach(ScriptError::out_of_memory(8, None));
            assert!(clock.tick());
        });
        assert_eq!(clock.take_stop(), Some(ScriptError::out_of_memory(8, None)));
    }

    #[test]
    fn waiting_for_the_game_does_not_count() {
        let clock = CallClock::new(Duration::from_millis(20));
        clock.time(|| {
            clock.paused(|| std::thread::sleep(Duration::from_millis(30)));
            assert!(!clock.tick());
        });
    }
}
