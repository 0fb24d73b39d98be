//! Timers of every mod, in one queue, with ids unique across mods and languages.
//!
//! An interval is rescheduled from when it was due, not from when it ran, so it does not
//! drift; one that fell more than a whole interval behind skips the missed runs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use crate::runtime::HandlerId;

/// The shortest interval: a 0 ms interval would starve everything else.
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// One timer; `O` is whoever owns it (the host uses its mod).
pub struct Timer<O> {
    pub owner: O,
    pub handler: HandlerId,
    interval: Option<Duration>,
    due: Instant,
}

/// A timer that came due: its id, owner, handler, and whether it will not run again.
pub struct Fired<O> {
    pub id: u64,
    pub owner: O,
    pub handler: HandlerId,
    pub last: bool,
}

pub struct TimerQueue<O> {
    timers: HashMap<u64, Timer<O>>,
    /// `(due, id)`; entries of cancelled or rescheduled timers are skipped when they come up.
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl<O> Default for TimerQueue<O> {
    fn default() -> Self {
        Self {
            timers: HashMap::new(),
            queue: BinaryHeap::new(),
        }
    }
}

impl<O: Clone> TimerQueue<O> {
    pub fn add(&mut self, id: u64, owner: O, handler: HandlerId, delay: Duration, repeat: bool) {
        let interval = repeat.then(|| delay.max(MIN_INTERVAL));
        let due = Instant::now() + interval.unwrap_or(delay);
        self.queue.push(Reverse((due, id)));
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
    pub fn cancel(&mut self, id: u64, owned: impl Fn(&O) -> bool) -> Option<Timer<O>> {
        match self.timers.get(&id) {
            Some(timer) if owned(&timer.owner) => self.timers.remove(&id),
            _ => None,
        }
    }

    /// Removes every timer whose owner matches, returning their handlers.
    pub fn remove_owned(&mut self, owned: impl Fn(&O) -> bool) -> Vec<HandlerId> {
        let mut handlers = Vec::new();
        self.timers.retain(|_, timer| {
            let remove = owned(&timer.owner);
            if remove {
                handlers.push(timer.handler);
            }
            !remove
        });
        handlers
    }

    /// How many timers `owned` selects.
    pub fn count_owned(&self, owned: impl Fn(&O) -> bool) -> usize {
        self.timers
            .values()
            .filter(|timer| owned(&timer.owner))
            .count()
    }

    /// When the next timer is due.
    pub fn next_due(&mut self) -> Option<Instant> {
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
    pub fn pop_due(&mut self, now: Instant) -> Option<Fired<O>> {
        let due = self.next_due().filter(|due| *due <= now)?;
        let Reverse((_, id)) = self.queue.pop()?;
        let timer = self.timers.get_mut(&id)?;
        let mut fired = Fired {
            id,
            owner: timer.owner.clone(),
            handler: timer.handler,
            last: timer.interval.is_none(),
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
                self.timers.remove(&id);
                fired.last = true;
            }
        }
        Some(fired)
    }

    pub fn is_empty(&self) -> bool {
        self.timers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        queue.add(1, "a", 10, Duration::from_millis(30), false);
        queue.add(2, "b", 20, Duration::from_millis(10), false);
        assert!(fire_all(&mut queue, start).is_empty());
        let fired = fire_all(&mut queue, start + Duration::from_millis(50));
        assert_eq!(fired, [(2, "b", true), (1, "a", true)]);
        assert!(queue.is_empty());
    }

    #[test]
    fn intervals_keep_their_schedule_and_skip_missed_runs() {
        let mut queue = TimerQueue::default();
        queue.add(7, "a", 1, Duration::from_millis(10), true);
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
        queue.add(1, "a", 1, Duration::ZERO, false);
        queue.add(2, "b", 2, Duration::ZERO, true);
        queue.add(3, "b", 3, Duration::ZERO, false);
        assert!(
            queue.cancel(1, |owner| *owner == "b").is_none(),
            "only its owner cancels it"
        );
        assert!(queue.cancel(1, |owner| *owner == "a").is_some());
        let mut released = queue.remove_owned(|owner| *owner == "b");
        released.sort();
        assert_eq!(released, [2, 3]);
        assert!(fire_all(&mut queue, Instant::now() + Duration::from_secs(1)).is_empty());
        assert_eq!(queue.next_due(), None);
    }
}
