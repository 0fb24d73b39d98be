//! The event bus: subscriptions and the queue of emitted events.
//!
//! `emit` only queues; the host delivers queued events once the outermost call into a mod has
//! returned, running `before` handlers and then `on` handlers, each group in load order.

use std::collections::VecDeque;

use crate::runtime::{HandlerId, HandlerKind, Json};

/// How many events may wait at once; an `emit` beyond that fails.
pub const QUEUE_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: u64,
    pub event: String,
    /// Position of the subscribing mod in the load order.
    pub mod_position: usize,
    pub kind: HandlerKind,
    pub handler: HandlerId,
}

#[derive(Debug)]
pub struct Event {
    pub name: String,
    pub payload: Json,
}

#[derive(Debug, Default)]
pub struct EventBus {
    subscriptions: Vec<Subscription>,
    queue: VecDeque<Event>,
}

impl EventBus {
    pub fn subscribe(&mut self, subscription: Subscription) {
        self.subscriptions.push(subscription);
    }

    /// Removes a subscription, returning it so that its handler can be released.
    pub fn unsubscribe(&mut self, id: u64) -> Option<Subscription> {
        let index = self.subscriptions.iter().position(|s| s.id == id)?;
        Some(self.subscriptions.remove(index))
    }

    /// Removes every subscription of one mod.
    pub fn remove_mod(&mut self, mod_position: usize) {
        self.subscriptions
            .retain(|s| s.mod_position != mod_position);
    }

    pub fn push(&mut self, event: Event) -> Result<(), String> {
        if self.queue.len() >= QUEUE_CAPACITY {
            return Err(format!(
                "the event queue is full ({QUEUE_CAPACITY} events waiting); `{}` was dropped",
                event.name
            ));
        }
        self.queue.push_back(event);
        Ok(())
    }

    pub fn pop(&mut self) -> Option<Event> {
        self.queue.pop_front()
    }

    /// The handlers for `event`: `before` handlers first, each kind in load order, then in
    /// the order they subscribed.
    pub fn handlers(&self, event: &str) -> Vec<Subscription> {
        let mut matching: Vec<Subscription> = self
            .subscriptions
            .iter()
            .filter(|s| s.event == event)
            .cloned()
            .collect();
        matching.sort_by_key(|s| (s.kind, s.mod_position, s.id));
        matching
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(id: u64, mod_position: usize, kind: HandlerKind) -> Subscription {
        Subscription {
            id,
            event: "tick".to_owned(),
            mod_position,
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
        let order: Vec<u64> = bus.handlers("tick").iter().map(|s| s.id).collect();
        assert_eq!(order, [3, 2, 4, 1]);
        assert!(bus.handlers("other").is_empty());
    }

    #[test]
    fn the_queue_is_bounded() {
        let mut bus = EventBus::default();
        for _ in 0..QUEUE_CAPACITY {
            bus.push(Event {
                name: "e".to_owned(),
                payload: Json::Null,
            })
            .unwrap();
        }
        let error = bus
            .push(Event {
                name: "e".to_owned(),
                payload: Json::Null,
            })
            .unwrap_err();
        assert!(error.contains("queue is full"));
    }
}
