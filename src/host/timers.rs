//! Timers of every mod, in one queue, with ids unique across mods and languages.
//!
//! An interval is rescheduled from when it was due, not from when it ran, so it does not
//! drift; one that fell more than a whole interval behind skips the missed runs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::runtime::HandlerId;

/// The shortest interval: a 0 ms interval would starve everything else.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// Whoever owns timers (the host uses its mod), and the key its pending timers are counted
/// under, so that `max_timers` and the metrics need no scan of every timer.
pub(super) trait Owner: Clone {
    type Key: Hash + Eq;
    fn key(&self) -> Self::Key;
}

/// One timer; `O` is whoever owns it.
pub(super) struct Timer<O> {
    pub owner: O,
    pub handler: HandlerId,
    interval: Option<Duration>,
    due: Instant,
}

/// A timer that came due: its id, owner, handler, and whether it will not run again.
pub(super) struct Fired<O> {
    pub id: u64,
    pub owner: O,
    pub handler: HandlerId,
    pub last: bool,
    /// When it was due.
    pub due: Instant,
}

pub(super) struct TimerQueue<O: Owner> {
    timers: HashMap<u64, Timer<O>>,
    /// `(due, id)`; entries of cancelled or rescheduled timers are skipped when they come up.
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    /// How many timers each owner has pending.
    pending: HashMap<O::Key, usize>,
}

impl<O: Owner> Default for TimerQueue<O> {
    fn default() -> Self {
        Self {
            timers: HashMap::new(),
            queue: BinaryHeap::new(),
            pending: HashMap::new(),
        }
    }
}

impl<O: Owner> TimerQueue<O> {
    /// Adds a timer due `delay` after `now` (and every `delay` after that when `repeat`).
    pub(super) fn add(
        &mut self,
        id: u64,
        owner: O,
        handler: HandlerId,
        delay: Duration,
        repeat: bool,
        now: Instant,
    ) {
        let interval = repeat.then(|| delay.max(MIN_INTERVAL));
        let due = now + interval.unwrap_or(delay);
        self.queue.push(Reverse((due, id)));
        *self.pending.entry(owner.key()).or_default() += 1;
        self.timers.insert(
            id,
            Timer {
                owner,
                handler,
                interval,
                due,
            },
        );
    }

    /// Cancels timer `id` if `owned` says its owner may (a mod cancels only its own).
    pub(super) fn cancel(&mut self, id: u64, owned: impl Fn(&O) -> bool) -> Option<Timer<O>> {
        match self.timers.get(&id) {
            Some(timer) if owned(&timer.owner) => self.remove(id),
            _ => None,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Timer<O>> {
        let timer = self.timers.remove(&id)?;
        self.forget_one(&timer.owner);
        Some(timer)
    }

    fn forget_one(&mut self, owner: &O) {
        let key = owner.key();
        if let Some(count) = self.pending.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.pending.remove(&key);
            }
        }
    }

    /// Removes every timer whose owner matches, returning their handlers.
    pub(super) fn remove_owned(&mut self, owned: impl Fn(&O) -> bool) -> Vec<HandlerId> {
        let removed: Vec<u64> = self
            .timers
            .iter()
            .filter(|(_, timer)| owned(&timer.owner))
            .map(|(id, _)| *id)
            .collect();
        removed
            .into_iter()
            .filter_map(|id| self.remove(id))
            .map(|timer| timer.handler)
            .collect()
    }

    /// How many timers `owner` has pending.
    pub(super) fn pending(&self, owner: &O) -> usize {
        self.pending.get(&owner.key()).copied().unwrap_or(0)
    }

    /// When the next timer is due.
    pub(super) fn next_due(&mut self) -> Option<Instant> {
        while let Some(Reverse((due, id))) = self.queue.peek() {
            match self.timers.get(id) {
                Some(timer) if timer.due == *due => return Some(*due),
                _ => {
                    self.queue.pop();
                }
            }
        }
        None
    }

    /// Takes the next timer due by `now`. An interval is rescheduled at once, so that
    /// cancelling it from its own callback works.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Fired<O>> {
        self.next_due().filter(|due| *due <= now)?;
        let Reverse((_, id)) = self.queue.pop()?;
        self.fire(id, now)
    }

    /// Takes timer `id` of an owner `owned` accepts as if it fired at `now`, whenever it is
    /// due.
    pub(super) fn take(
        &mut self,
        id: u64,
        owned: impl Fn(&O) -> bool,
        now: Instant,
    ) -> Option<Fired<O>> {
        self.timers.get(&id).filter(|timer| owned(&timer.owner))?;
        self.fire(id, now)
    }

    /// Timer `id` fires at `now`: an interval is rescheduled (skipping the runs it fell a
    /// whole interval or more behind on), a timeout removed.
    fn fire(&mut self, id: u64, now: Instant) -> Option<Fired<O>> {
        let timer = self.timers.get_mut(&id)?;
        let due = timer.due;
        let fired = Fired {
            id,
            owner: timer.owner.clone(),
            handler: timer.handler,
            last: timer.interval.is_none(),
            due,
        };
        match timer.interval {
            Some(interval) => {
                let mut next = due + interval;
                if next <= now {
                    // Fell behind by a whole interval or more: skip the missed runs.
                    let behind = now.duration_since(due).as_nanos() / interval.as_nanos();
                    next = due + interval * (behind as u32 + 1);
                }
                timer.due = next;
                self.queue.push(Reverse((next, id)));
            }
            None => {
                self.remove(id);
            }
        }
        Some(fired)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Owner for &'static str {
        type Key = &'static str;
        fn key(&self) -> &'static str {
            self
        }
    }

    fn fire_all(
        queue: &mut TimerQueue<&'static str>,
        now: Instant,
    ) -> Vec<(u64, &'static str, bool)> {
        std::iter::from_fn(|| queue.pop_due(now))
            .map(|fired| (fired.id, fired.owner, fired.last))
            .collect()
    }

    #[test]
    fn timers_fire_in_due_order_once_due() {
        let mut queue = TimerQueue::default();
        let start = Instant::now();
        queue.add(1, "a", 10, Duration::from_millis(30), false, start);
        queue.add(2, "b", 20, Duration::from_millis(10), false, start);
        assert!(fire_all(&mut queue, start).is_empty());
        let fired = fire_all(&mut queue, start + Duration::from_millis(50));
        assert_eq!(fired, [(2, "b", true), (1, "a", true)]);
        assert!(queue.is_empty());
        assert_eq!(
            queue.pending(&"a"),
            0,
            "a timer that fired is no longer pending"
        );
    }

    #[test]
    fn intervals_keep_their_schedule_and_skip_missed_runs() {
        let mut queue = TimerQueue::default();
        let start = Instant::now();
        queue.add(7, "a", 1, Duration::from_millis(10), true, start);
        let first_due = queue.next_due().unwrap();
        assert_eq!(
            fire_all(&mut queue, first_due + Duration::from_millis(3)).len(),
            1
        );
        // Rescheduled from when it was due, not from when it ran.
        assert_eq!(
            queue.next_due(),
            Some(first_due + Duration::from_millis(10))
        );
        // Far behind: runs once, then lines up with its schedule again.
        assert_eq!(
            fire_all(&mut queue, first_due + Duration::from_millis(55)).len(),
            1
        );
        assert_eq!(
            queue.next_due(),
            Some(first_due + Duration::from_millis(60))
        );
    }

    #[test]
    fn cancelled_and_removed_timers_never_fire() {
        let mut queue = TimerQueue::default();
        let start = Instant::now();
        queue.add(1, "a", 1, Duration::ZERO, false, start);
        queue.add(2, "b", 2, Duration::ZERO, true, start);
        queue.add(3, "b", 3, Duration::ZERO, false, start);
        assert!(
            queue.cancel(1, |owner| *owner == "b").is_none(),
            "only its owner cancels it"
        );
        assert!(queue.cancel(1, |owner| *owner == "a").is_some());
        assert_eq!((queue.pending(&"a"), queue.pending(&"b")), (0, 2));
        let mut released = queue.remove_owned(|owner| *owner == "b");
        released.sort();
        assert_eq!(released, [2, 3]);
        assert!(fire_all(&mut queue, Instant::now() + Duration::from_secs(1)).is_empty());
        assert_eq!(queue.next_due(), None);
    }
}
