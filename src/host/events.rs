//! The event bus: subscriptions and the queue of emitted events.
//!
//! `emit` only queues; the host delivers queued events once the outermost call into a mod has
//! returned, running `before` handlers and then `on` handlers, each group in load order. The
//! bus keeps count of what each mod has waiting, so that what a mod queues is charged to it.

use std::collections::{HashMap, VecDeque};

use rustc_hash::FxHashMap;
use std::rc::Rc;

use crate::runtime::{HandlerId, HandlerKind, Json};

/// How many events may wait at once, from all senders; an `emit` beyond that fails.
pub(super) const QUEUE_CAPACITY: usize = 100_000;

/// How many undelivered events one mod may have waiting; past that the mod is flooding.
pub(super) const MAX_QUEUED_PER_MOD: usize = 10_000;

/// One subscription; `O` is whoever owns it (the host uses its mod).
#[derive(Debug, Clone)]
pub(super) struct Subscription<O> {
    pub id: u64,
    pub event: String,
    pub owner: O,
    pub kind: HandlerKind,
    pub handler: HandlerId,
}

#[derive(Debug)]
pub(super) struct Event {
    pub name: String,
    pub payload: Json,
    /// The mod that emitted it; `None` when the game did.
    pub sender: Option<String>,
    /// Where in the sender's code it was emitted, when a replay asks.
    pub location: Option<String>,
}

/// Why the bus did not queue an event (each names the event).
#[derive(Debug, thiserror::Error)]
pub(super) enum Refused {
    #[error("the event queue is full ({QUEUE_CAPACITY} events waiting); `{0}` was dropped")]
    Full(String),
    #[error(
        "event flood: the mod has {MAX_QUEUED_PER_MOD} events queued that were not delivered yet (emitting `{0}`)"
    )]
    Flood(String),
    #[error("the events it queued (`{event}` and {others} more) take about {mib} MiB")]
    OverMemory {
        event: String,
        others: usize,
        mib: usize,
    },
}

/// What one mod has waiting in the queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Queued {
    pub events: usize,
    /// An estimate of the memory the payloads take.
    pub bytes: usize,
}

/// The subscriptions of one event, in delivery order: `before` handlers first, each kind in
/// load order, then in the order they subscribed. Shared with a delivery under way, and copied
/// only if a handler changes them meanwhile.
pub(super) type Handlers<O> = Rc<Vec<(Position, Subscription<O>)>>;

/// Where a subscription goes in its event's list.
pub(super) type Position = (HandlerKind, usize, u64);

#[derive(Debug)]
pub(super) struct EventBus<O> {
    subscriptions: FxHashMap<String, Handlers<O>>,
    queue: VecDeque<(Event, usize)>,
    queued: HashMap<String, Queued>,
}

impl<O> Default for EventBus<O> {
    fn default() -> Self {
        Self {
            subscriptions: FxHashMap::default(),
            queue: VecDeque::new(),
            queued: HashMap::new(),
        }
    }
}

/// About how many bytes a JSON value takes in memory.
fn estimated_size(value: &Json) -> usize {
    const NODE: usize = 32;
    match value {
        Json::String(text) => NODE + text.len(),
        Json::Array(items) => NODE + items.iter().map(estimated_size).sum::<usize>(),
        Json::Object(map) => {
            NODE + map
                .iter()
                .map(|(key, value)| NODE + key.len() + estimated_size(value))
                .sum::<usize>()
        }
        _ => NODE,
    }
}

impl<O: Clone> EventBus<O> {
    /// Adds a subscription of the mod at `load_position`, in its place.
    pub(super) fn subscribe(&mut self, subscription: Subscription<O>, load_position: usize) {
        let place = (subscription.kind, load_position, subscription.id);
        let list = Rc::make_mut(
            self.subscriptions
                .entry(subscription.event.clone())
                .or_default(),
        );
        let at = list.partition_point(|(other, _)| *other < place);
        list.insert(at, (place, subscription));
    }

    /// Removes subscription `id` if `owned` says its owner may (a mod removes only its own),
    /// returning it so that its handler can be released.
    pub(super) fn unsubscribe(
        &mut self,
        id: u64,
        owned: impl Fn(&O) -> bool,
    ) -> Option<Subscription<O>> {
        let (event, index) = self.subscriptions.iter().find_map(|(event, list)| {
            list.iter()
                .position(|(_, s)| s.id == id && owned(&s.owner))
                .map(|index| (event.clone(), index))
        })?;
        let list = Rc::make_mut(self.subscriptions.get_mut(&event)?);
        Some(list.remove(index).1)
    }

    /// The handlers of `event` whose owner matches, in delivery order.
    pub(super) fn handlers_of(
        &self,
        event: &str,
        owned: impl Fn(&O) -> bool,
    ) -> Vec<(HandlerId, HandlerKind)> {
        self.subscriptions.get(event).map_or_else(Vec::new, |list| {
            list.iter()
                .filter(|(_, subscription)| owned(&subscription.owner))
                .map(|(_, subscription)| (subscription.handler, subscription.kind))
                .collect()
        })
    }

    /// Removes every subscription of the mod at `load_position` whose owner matches. A mod's
    /// subscriptions of each kind sit together in load order, so they are found by a binary
    /// search: stopping 10,000 mods that each listen to `tick` scanned that list 10,000 times.
    pub(super) fn remove_owned(&mut self, load_position: usize, owned: impl Fn(&O) -> bool) {
        for list in self.subscriptions.values_mut() {
            for kind in [HandlerKind::Before, HandlerKind::On] {
                let at = (kind, load_position);
                let start = list.partition_point(|((k, p, _), _)| (*k, *p) < at);
                let mut end = list.partition_point(|((k, p, _), _)| (*k, *p) <= at);
                if !list[start..end].iter().any(|(_, s)| owned(&s.owner)) {
                    continue;
                }
                let list = Rc::make_mut(list);
                let mut index = start;
                while index < end {
                    if owned(&list[index].1.owner) {
                        list.remove(index);
                        end -= 1;
                    } else {
                        index += 1;
                    }
                }
            }
            debug_assert!(
                !list.iter().any(|(_, s)| owned(&s.owner)),
                "a subscription out of its owner's place"
            );
        }
        self.subscriptions.retain(|_, list| !list.is_empty());
    }

    /// Puts every list back in order after the load order changed (a reload).
    pub(super) fn reorder(&mut self, load_position: impl Fn(&O) -> usize) {
        for list in self.subscriptions.values_mut() {
            let list = Rc::make_mut(list);
            for (place, subscription) in list.iter_mut() {
                place.1 = load_position(&subscription.owner);
            }
            list.sort_by_key(|(place, _)| *place);
        }
    }

    /// Queues `event`. What a mod emits is charged to it: at most [`MAX_QUEUED_PER_MOD`]
    /// events waiting, whose payloads take at most `sender_memory_bytes`.
    pub(super) fn push(&mut self, event: Event, sender_memory_bytes: u64) -> Result<(), Refused> {
        let bytes = estimated_size(&event.payload);
        if let Some(sender) = &event.sender {
            let queued = self.queued_by(sender);
            if queued.events >= MAX_QUEUED_PER_MOD {
                return Err(Refused::Flood(event.name));
            }
            if (queued.bytes + bytes) as u64 > sender_memory_bytes {
                return Err(Refused::OverMemory {
                    event: event.name,
                    others: queued.events,
                    mib: (queued.bytes + bytes) / 1024 / 1024,
                });
            }
        }
        if self.queue.len() >= QUEUE_CAPACITY {
            return Err(Refused::Full(event.name));
        }
        if let Some(sender) = &event.sender {
            let queued = self.queued.entry(sender.clone()).or_default();
            queued.events += 1;
            queued.bytes += bytes;
        }
        self.queue.push_back((event, bytes));
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Option<Event> {
        let (event, bytes) = self.queue.pop_front()?;
        if let Some(sender) = &event.sender
            && let Some(queued) = self.queued.get_mut(sender)
        {
            queued.events -= 1;
            queued.bytes -= bytes;
            if queued.events == 0 {
                self.queued.remove(sender);
            }
        }
        Some(event)
    }

    /// What `sender` has waiting.
    fn queued_by(&self, sender: &str) -> Queued {
        self.queued.get(sender).copied().unwrap_or_default()
    }

    /// Drops every waiting event, returning the distinct names, most frequent first.
    pub(super) fn clear(&mut self) -> Vec<String> {
        self.queued.clear();
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (event, _) in self.queue.drain(..) {
            *counts.entry(event.name).or_default() += 1;
        }
        let mut names: Vec<(String, usize)> = counts.into_iter().collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        names
            .into_iter()
            .map(|(name, count)| format!("`{name}` x{count}"))
            .collect()
    }

    pub(super) fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// The handlers for `event`, in delivery order.
    pub(super) fn handlers(&self, event: &str) -> Option<Handlers<O>> {
        self.subscriptions.get(event).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(id: u64, owner: usize, kind: HandlerKind) -> Subscription<usize> {
        Subscription {
            id,
            event: "tick".to_owned(),
            owner,
            kind,
            handler: id,
        }
    }

    #[test]
    fn before_handlers_come_first_and_each_kind_runs_in_load_order() {
        let mut bus = EventBus::default();
        for (id, owner, kind) in [
            (1, 2, HandlerKind::On),
            (2, 0, HandlerKind::On),
            (3, 1, HandlerKind::Before),
            (4, 0, HandlerKind::On),
        ] {
            bus.subscribe(subscription(id, owner, kind), owner);
        }
        let order = |bus: &EventBus<usize>| -> Vec<u64> {
            bus.handlers("tick")
                .unwrap()
                .iter()
                .map(|(_, s)| s.id)
                .collect()
        };
        assert_eq!(order(&bus), [3, 2, 4, 1]);
        assert!(bus.handlers("other").is_none());
        // A reload that moves the mod at 2 to the front.
        bus.reorder(|owner| if *owner == 2 { 0 } else { *owner + 1 });
        assert_eq!(order(&bus), [3, 1, 2, 4]);
        // A delivery under way keeps its snapshot while a handler unsubscribes.
        let snapshot = bus.handlers("tick").unwrap();
        assert!(bus.unsubscribe(1, |owner| *owner == 2).is_some());
        assert_eq!(snapshot.len(), 4);
        assert_eq!(order(&bus), [3, 2, 4]);
    }

    #[test]
    fn a_mods_subscriptions_go_with_it_whichever_order_mods_go_in() {
        let mut bus = EventBus::default();
        for owner in 0..4 {
            for (id, kind) in [
                (10, HandlerKind::On),
                (20, HandlerKind::Before),
                (30, HandlerKind::On),
            ] {
                bus.subscribe(subscription(id + owner as u64, owner, kind), owner);
            }
        }
        let owners = |bus: &EventBus<usize>| -> Vec<usize> {
            bus.handlers("tick")
                .map(|list| list.iter().map(|(_, s)| s.owner).collect())
                .unwrap_or_default()
        };
        bus.remove_owned(1, |owner| *owner == 1);
        assert_eq!(owners(&bus), [0, 2, 3, 0, 0, 2, 2, 3, 3]);
        // Shutting down: the last mod first.
        for owner in (0..4).rev() {
            bus.remove_owned(owner, |other| *other == owner);
        }
        assert!(bus.handlers("tick").is_none(), "the emptied list is gone");
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut bus = EventBus::<usize>::default();
        let event = || Event {
            name: "e".to_owned(),
            payload: Json::Null,
            sender: None,
            location: None,
        };
        for _ in 0..QUEUE_CAPACITY {
            bus.push(event(), 0).unwrap();
        }
        let error = bus.push(event(), 0).unwrap_err();
        assert!(error.to_string().contains("queue is full"));
    }
}
