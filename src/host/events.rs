//! The event bus: subscriptions and the queue of emitted events.
//!
//! `emit` only queues; the host delivers queued events once the outermost call into a mod has
//! returned, running `before` handlers and then `on` handlers, each group in load order. The
//! bus keeps count of what each mod has waiting, so that what a mod queues is charged to it.

use std::collections::{HashMap, VecDeque};

use crate::runtime::{HandlerId, HandlerKind, Json};

/// How many events may wait at once, from all senders; an `emit` beyond that fails.
pub const QUEUE_CAPACITY: usize = 100_000;

/// How many undelivered events one mod may have waiting; past that the mod is flooding.
pub const MAX_QUEUED_PER_MOD: usize = 10_000;

/// One subscription; `O` is whoever owns it (the host uses its mod).
#[derive(Debug, Clone)]
pub struct Subscription<O> {
    pub id: u64,
    pub event: String,
    pub owner: O,
    pub kind: HandlerKind,
    pub handler: HandlerId,
}

#[derive(Debug)]
pub struct Event {
    pub name: String,
    pub payload: Json,
    /// The mod that emitted it; `None` when the game did.
    pub sender: Option<String>,
}

/// What one mod has waiting in the queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub events: usize,
    /// An estimate of the memory the payloads take.
    pub bytes: usize,
}

#[derive(Debug)]
pub struct EventBus<O> {
    subscriptions: Vec<Subscription<O>>,
    queue: VecDeque<(Event, usize)>,
    queued: HashMap<String, Queued>,
}

impl<O> Default for EventBus<O> {
    fn default() -> Self {
        Self {
            subscriptions: Vec::new(),
            queue: VecDeque::new(),
            queued: HashMap::new(),
        }
    }
}

/// About how many bytes a JSON value takes in memory.
pub fn estimated_size(value: &Json) -> usize {
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
    pub fn subscribe(&mut self, subscription: Subscription<O>) {
        self.subscriptions.push(subscription);
    }

    /// Removes a subscription, returning it so that its handler can be released.
    /// Removes subscription `id` if `owned` says its owner may (a mod removes only its own),
    /// returning it so that its handler can be released.
    pub fn unsubscribe(&mut self, id: u64, owned: impl Fn(&O) -> bool) -> Option<Subscription<O>> {
        let index = self
            .subscriptions
            .iter()
            .position(|s| s.id == id && owned(&s.owner))?;
        Some(self.subscriptions.remove(index))
    }

    /// Removes every subscription whose owner matches.
    pub fn remove_owned(&mut self, owned: impl Fn(&O) -> bool) {
        self.subscriptions.retain(|s| !owned(&s.owner));
    }

    pub fn push(&mut self, event: Event) -> Result<(), String> {
        if self.queue.len() >= QUEUE_CAPACITY {
            return Err(format!(
                "the event queue is full ({QUEUE_CAPACITY} events waiting); `{}` was dropped",
                event.name
            ));
        }
        let bytes = estimated_size(&event.payload);
        if let Some(sender) = &event.sender {
            let queued = self.queued.entry(sender.clone()).or_default();
            queued.events += 1;
            queued.bytes += bytes;
        }
        self.queue.push_back((event, bytes));
        Ok(())
    }

    pub fn pop(&mut self) -> Option<Event> {
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
    pub fn queued_by(&self, sender: &str) -> Queued {
        self.queued.get(sender).copied().unwrap_or_default()
    }

    /// Drops every waiting event, returning the distinct names, most frequent first.
    pub fn clear(&mut self) -> Vec<String> {
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

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// The handlers for `event`: `before` handlers first, each kind in load order (by
    /// `position`), then in the order they subscribed.
    pub fn handlers(&self, event: &str, position: impl Fn(&O) -> usize) -> Vec<Subscription<O>> {
        let mut matching: Vec<Subscription<O>> = self
            .subscriptions
            .iter()
            .filter(|s| s.event == event)
            .cloned()
            .collect();
        matching.sort_by_key(|s| (s.kind, position(&s.owner), s.id));
        matching
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
        bus.subscribe(subscription(1, 2, HandlerKind::On));
        bus.subscribe(subscription(2, 0, HandlerKind::On));
        bus.subscribe(subscription(3, 1, HandlerKind::Before));
        bus.subscribe(subscription(4, 0, HandlerKind::On));
        let order: Vec<u64> = bus
            .handlers("tick", |owner| *owner)
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(order, [3, 2, 4, 1]);
        assert!(bus.handlers("other", |owner| *owner).is_empty());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut bus = EventBus::<usize>::default();
        for _ in 0..QUEUE_CAPACITY {
            bus.push(Event {
                name: "e".to_owned(),
                payload: Json::Null,
                sender: None,
            })
            .unwrap();
        }
        let error = bus
            .push(Event {
                name: "e".to_owned(),
                payload: Json::Null,
                sender: None,
            })
            .unwrap_err();
        assert!(error.contains("queue is full"));
    }
}
