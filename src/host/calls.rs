//! Calls into mods: the re-entrancy guard, awaiting promises, delivering events, firing timers.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::events::Event;
use super::stats::NOTABLE;
use super::timers::Fired;
use super::{CallError, Core, MAX_CALL_DEPTH, ModStatus, Slot};
use crate::recording::compact::{InputRef, OutputRef};
use crate::runtime::{ErrorKind, HandlerKind, Json, ModInstance, Moment, Outcome, ScriptError};

/// The most events delivered in one round before the rest are dropped as a storm.
const EVENTS_PER_ROUND: usize = 100_000;

impl Core {
    pub(super) fn new_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    pub(super) fn slot(&self, id: &str) -> Result<Rc<Slot>, CallError> {
        let index = self.index.borrow();
        index.get(id).cloned().ok_or_else(|| CallError::UnknownMod {
            id: id.to_owned(),
            suggestion: crate::suggest::did_you_mean(id, index.keys().map(String::as_str)),
        })
    }

    /// The ids of the mods on the call stack, then `slot`'s: the chain a refused call names.
    fn chain_to(&self, slot: &Slot) -> Vec<String> {
        let stack = self.call_stack.borrow();
        stack
            .iter()
            .map(|on_stack| on_stack.id.clone())
            .chain([slot.id.clone()])
            .collect()
    }

    /// Runs `body` with the mod's instance borrowed, refusing re-entry. A mod that breaks a
    /// limit is failed once the call has returned; `what` names the call for that message
    /// ("`onAttach`", "a timer"), and is only built then.
    pub(super) fn enter<R>(
        &self,
        slot: &Rc<Slot>,
        what: impl FnOnce() -> String,
        body: impl FnOnce(&mut dyn ModInstance) -> Result<R, ScriptError>,
    ) -> Result<Result<R, ScriptError>, CallError> {
        let Ok(mut guard) = slot.instance.try_borrow_mut() else {
            return Err(CallError::Reentrant {
                chain: self.chain_to(slot),
            });
        };
        let depth = self.call_stack.borrow().len() + 1;
        if depth > MAX_CALL_DEPTH {
            return Err(CallError::TooDeep {
                chain: self.chain_to(slot),
                depth,
            });
        }
        let stopped = slot.state.borrow().is_stopped();
        let Some(instance) = guard.as_mut().filter(|_| !stopped) else {
            return Err(CallError::NotRunning {
                id: slot.id.clone(),
                state: slot.state.borrow().to_string(),
            });
        };
        if !slot.released.borrow().is_empty() {
            for handler in slot.released.take() {
                instance.release_handler(handler);
            }
        }
        self.call_stack.borrow_mut().push(Rc::clone(slot));
        // The one reading of the time on the way in: the deadline, the watchdog's record and
        // the call's duration all start from it.
        let entered = match self.input_moment.take() {
            0 => Moment::precise(),
            taken => Moment::from_nanos(taken),
        };
        let control = self
            .activity
            .enter(slot.position.get(), slot.call_timeout_ms.get(), entered);
        let began = instance.clock().begin(entered);
        let result = body(instance.as_mut());
        instance.clock().end(began);
        self.activity.leave(control);
        let took_nanos = Moment::precise().nanos().saturating_sub(entered.nanos());
        let counting = self.counting.get();
        if counting {
            slot.counts.record(took_nanos, &result);
        }
        self.call_stack.borrow_mut().pop();
        // A mod stopped while it was running is unloaded once its call returns.
        if slot.state.borrow().is_stopped() {
            guard.take();
        }
        drop(guard);
        // Nearly every call: quick (so neither among the slowest nor slow) and no limit broken.
        if took_nanos < NOTABLE.as_nanos() as u64 && result.is_ok() {
            return Ok(result);
        }
        self.after_notable_call(
            slot,
            what,
            Duration::from_nanos(took_nanos),
            &result,
            counting,
        );
        Ok(result)
    }

    /// What a call that took long enough to be noted, or failed, leaves behind: its place
    /// among the mod's slowest, a warning when it was slow, the mod failed when it broke a
    /// limit. `what` names the call, and is only built here. Never inlined: it stays out of
    /// the quick call's way, and `benches/instructions.rs` takes it out of its counts by name.
    #[cold]
    #[inline(never)]
    fn after_notable_call<R>(
        &self,
        slot: &Rc<Slot>,
        what: impl FnOnce() -> String,
        took: Duration,
        result: &Result<R, ScriptError>,
        counting: bool,
    ) {
        let mut what = Some(what);
        let mut label = None::<String>;
        let mut name = || -> String {
            label
                .get_or_insert_with(|| what.take().map(|what| what()).unwrap_or_default())
                .clone()
        };
        if counting && slot.counts.among_slowest(took) {
            slot.counts.note_slow(name(), took);
        }
        let slow = Duration::from_millis(slot.slow_call_ms.get());
        let breached = matches!(result, Err(error) if error.is_limit());
        if took > slow && !slow.is_zero() && !breached {
            tracing::warn!(
                mod_id = slot.id,
                "slow: {} took {} ms (`slow_call_ms` = {})",
                name(),
                took.as_millis(),
                slow.as_millis()
            );
        }
        if let Err(error) = result
            && error.is_limit()
        {
            self.fail(slot, format!("{} broke a limit: {error}", name()));
        }
    }

    /// Calls a function of a running mod and waits for its result.
    pub(super) fn call_function(
        &self,
        id: &str,
        function: &str,
        args: &[Json],
    ) -> Result<Json, CallError> {
        let slot = self.slot(id)?;
        if !slot.state.borrow().is_running() {
            return Err(CallError::NotRunning {
                id: id.to_owned(),
                state: slot.state.borrow().to_string(),
            });
        }
        let mut available = Vec::new();
        let called = self.enter(
            &slot,
            || format!("`{function}`"),
            |instance| {
                let outcome = instance.call(function, args)?;
                if outcome.is_none() {
                    available = instance.functions();
                }
                Ok(outcome)
            },
        )?;
        let script_error = |error| CallError::Script {
            id: id.to_owned(),
            function: function.to_owned(),
            error: Box::new(error),
        };
        match called {
            Ok(Some(outcome)) => self.settle(&slot, outcome).map_err(script_error),
            Ok(None) => Err(CallError::NoSuchFunction {
                id: id.to_owned(),
                function: function.to_owned(),
                available,
            }),
            Err(error) => Err(script_error(error)),
        }
    }

    /// The value of an outcome, waiting for a pending one: timers and events run meanwhile.
    /// Only the outermost call may wait: a mod that is running cannot be re-entered by the
    /// timers its callee waits for.
    pub(super) fn settle(&self, slot: &Rc<Slot>, outcome: Outcome) -> Result<Json, ScriptError> {
        let pending = match outcome {
            Outcome::Done(value) => return Ok(value),
            Outcome::Pending(pending) => pending,
        };
        let never = |why: &str| {
            ScriptError::new(
                ErrorKind::Host,
                format!("it returned a promise that cannot settle: {why}"),
            )
        };
        if !self.call_stack.borrow().is_empty() {
            return Err(never(
                "a call from another mod cannot wait for timers; return a value, or await in the callee",
            ));
        }
        let hook_timeout =
            Duration::from_millis(self.config.borrow().limits_for(&slot.id).hook_timeout_ms);
        let started = Instant::now();
        loop {
            if self.activity.stopping() {
                return Err(ScriptError::new(
                    ErrorKind::Host,
                    "the host is stopping, so it no longer waits for the promise",
                ));
            }
            if started.elapsed() > hook_timeout {
                let error = ScriptError::new(
                    ErrorKind::Timeout,
                    format!(
                        "it did not settle within `hook_timeout_ms` = {}",
                        hook_timeout.as_millis()
                    ),
                );
                self.fail(slot, format!("a promise broke a limit: {error}"));
                return Err(error);
            }
            match self.enter(
                slot,
                || "a promise".to_owned(),
                |instance| Ok(instance.poll(pending)),
            ) {
                Ok(Ok(Some(result))) => return result,
                Ok(Ok(None)) => {}
                Ok(Err(error)) => return Err(error),
                Err(error) => return Err(ScriptError::new(ErrorKind::Host, error.to_string())),
            }
            self.deliver_events();
            if !self.wait_for_next_timer() {
                return Err(never("no timer is set that could settle it"));
            }
        }
    }

    pub(super) fn statuses(&self) -> Vec<ModStatus> {
        self.slots
            .borrow()
            .iter()
            .map(|slot| slot.status())
            .collect()
    }

    /// Delivers queued events, unless a mod is running (then its caller will). Handlers that
    /// keep emitting (an event storm) are cut off after [`EVENTS_PER_ROUND`] deliveries.
    #[inline]
    pub(super) fn deliver_events(&self) {
        // Checked in the caller's body: it is the usual case, after every call.
        if self.events.borrow().is_idle() || !self.call_stack.borrow().is_empty() {
            return;
        }
        self.deliver_queued_events();
    }

    #[inline(never)]
    fn deliver_queued_events(&self) {
        // Who emitted what this round, to name the mods that cause a storm.
        let mut emitted: HashMap<String, usize> = HashMap::new();
        for _ in 0..EVENTS_PER_ROUND {
            if self.activity.stopping() {
                return;
            }
            let Some(event) = self.events.borrow_mut().pop() else {
                return;
            };
            if let Some(sender) = &event.sender {
                *emitted.entry(sender.clone()).or_default() += 1;
            }
            self.deliver(event);
        }
        let dropped = self.events.borrow_mut().clear();
        if dropped.is_empty() {
            return;
        }
        tracing::error!(
            "event storm: {EVENTS_PER_ROUND} events were delivered in one round and more kept coming; dropped {} waiting events ({})",
            dropped.len(),
            dropped.join(", ")
        );
        // The mods whose events kept it going fail: those that emitted at least a tenth of them.
        for (sender, count) in emitted {
            if count >= EVENTS_PER_ROUND / 10
                && let Ok(slot) = self.slot(&sender)
            {
                self.fail(
                    &slot,
                    format!("event storm: its handlers emitted {count} of the {EVENTS_PER_ROUND} events delivered in one round, and kept emitting"),
                );
            }
        }
    }

    /// Runs one event's handlers: `before` handlers (which may rewrite or cancel it), then `on`
    /// handlers. A mod's handlers next to each other in that order run in one entry into the
    /// mod (one deadline, one record of who has control), not one each. An event a mod emitted
    /// then goes to the game. Returns the final payload, or `None` when a `before` handler
    /// cancelled the event.
    pub(super) fn deliver(&self, event: Event) -> Option<Json> {
        let handlers = self.events.borrow().handlers(&event.name);
        let list = handlers.as_deref().map_or(&[][..], Vec::as_slice);
        // The handlers' arguments, made once: the payload (which `before` handlers may
        // replace) and the event's name.
        let mut args = [event.payload, Json::from(event.name.as_str())];
        let what = || format!("the handler for `{}`", event.name);
        let mut rest = list;
        while let Some((_, first)) = rest.first() {
            let owner = &first.owner;
            let same = rest
                .iter()
                .take_while(|(_, subscription)| Rc::ptr_eq(&subscription.owner, owner))
                .count();
            let (run, after) = rest.split_at(same);
            rest = after;
            let ran = self.enter(owner, what, |instance| {
                for (_, subscription) in run {
                    let outcome = instance.call_handler(subscription.handler, &args);
                    if let Err(error) = &outcome
                        && error.is_limit()
                    {
                        // The call is stopped: the mod's other handlers would be too.
                        return outcome.map(|_| false);
                    }
                    if let Err(error) = &outcome
                        && self.counting.get()
                    {
                        owner.counts.failed(error);
                    }
                    let result = self.logged(owner, what, Ok(outcome));
                    if subscription.kind == HandlerKind::Before {
                        match result {
                            Json::Bool(false) => {
                                tracing::debug!(
                                    mod_id = owner.id,
                                    "cancelled event `{}`",
                                    event.name
                                );
                                return Ok(true);
                            }
                            Json::Null => {}
                            replacement => args[0] = replacement,
                        }
                    }
                }
                Ok(false)
            });
            match ran {
                Ok(Ok(true)) => return None,
                Ok(Ok(false)) => {}
                // A broken limit was reported when the mod was failed for it.
                Ok(Err(_)) => {}
                Err(error) => {
                    tracing::error!(mod_id = owner.id, "{} did not run: {error}", what());
                }
            }
        }
        let [payload, _] = args;
        if let Some(sender) = event.sender {
            self.note_location(event.location);
            self.to_game(super::GameEvent {
                mod_id: sender,
                event: event.name,
                payload: payload.clone(),
            });
        }
        Some(payload)
    }

    /// What a handler or timer returned (`null` while it is pending). Its errors are logged,
    /// named by `what` (only made then); a broken limit was reported already, when the mod was
    /// failed for it.
    pub(super) fn logged(
        &self,
        slot: &Slot,
        what: impl FnOnce() -> String,
        outcome: Result<Result<Outcome, ScriptError>, CallError>,
    ) -> Json {
        match outcome {
            Ok(Ok(Outcome::Done(value))) => value,
            Ok(Ok(Outcome::Pending(_))) => Json::Null,
            Ok(Err(error)) if error.is_limit() => Json::Null,
            Ok(Err(error)) => {
                tracing::error!(mod_id = slot.id, "{} failed: {error}", what());
                Json::Null
            }
            Err(error) => {
                tracing::error!(mod_id = slot.id, "{} did not run: {error}", what());
                Json::Null
            }
        }
    }

    /// Runs every timer due by the real clock (and what they emit). Each is an input of a
    /// recorded session; under a replay timers run only as the recording says.
    pub(super) fn run_due_timers(&self) {
        if self.is_replaying() {
            return;
        }
        self.run_timers_due_by(Instant::now(), true);
    }

    fn run_timers_due_by(&self, now: Instant, inputs: bool) {
        loop {
            // Between two mods' timers, a request to stop is heeded.
            if self.activity.stopping() {
                return;
            }
            let Some(fired) = self.timers.borrow_mut().pop_due(now) else {
                return;
            };
            let _input = inputs
                .then(|| {
                    self.input_at(Some(now), || InputRef::Timer {
                        mod_id: &fired.owner.id,
                        timer: fired.id,
                    })
                })
                .flatten();
            self.run_timer(fired);
        }
    }

    fn run_timer(&self, fired: Fired<Rc<Slot>>) {
        // When it was due, which a mod's code decided: a replay compares it.
        self.output(|| OutputRef::Timer {
            mod_id: &fired.owner.id,
            timer: fired.id,
            due_ms: self.session_ms(fired.due),
        });
        let outcome = self.enter(
            &fired.owner,
            || "a timer".to_owned(),
            |instance| instance.call_handler(fired.handler, &[]),
        );
        self.logged(&fired.owner, || format!("timer {}", fired.id), outcome);
        if fired.last {
            fired.owner.released.borrow_mut().push(fired.handler);
        }
        self.deliver_events();
    }

    /// Runs timer `id` of `mod_id` now (a replay's recorded timer input); `false` when the
    /// mod has no such timer.
    pub(super) fn fire_timer(&self, mod_id: &str, id: u64) -> bool {
        let Ok(slot) = self.slot(mod_id) else {
            return false;
        };
        let now = self.now();
        let fired = self
            .timers
            .borrow_mut()
            .take(id, |owner| slot.is(owner), now);
        let Some(fired) = fired else {
            return false;
        };
        let _input = self.input(|| InputRef::Timer { mod_id, timer: id });
        self.run_timer(fired);
        true
    }

    /// Sleeps until the next timer is due and runs the due timers; `false` when none is set.
    /// A request to stop cuts the sleep short (it is checked every 50 ms).
    pub(super) fn wait_for_next_timer(&self) -> bool {
        let Some(due) = self.timers.borrow_mut().next_due() else {
            return false;
        };
        if self.session_now().is_some() {
            // In a session, a promise waits on the virtual clock: the timers it waits for
            // run at once, as a consequence of the input, the same way every time.
            self.advance_session_to(due);
            self.run_timers_due_by(due, false);
            return true;
        }
        loop {
            let now = Instant::now();
            if due <= now || self.activity.stopping() {
                break;
            }
            std::thread::sleep((due - now).min(Duration::from_millis(50)));
        }
        self.run_timers_due_by(Instant::now(), true);
        true
    }
}
