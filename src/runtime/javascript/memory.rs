//! A JavaScript mod's memory: an allocator for its QuickJS runtime that enforces `memory_mb`
//! and remembers that the limit was hit.
//!
//! QuickJS reports an exhausted heap as an ordinary `InternalError` (or, when it cannot even
//! build that, by throwing `null`), which the mod's `catch` could swallow before going on. The
//! allocator notes the breach ([`Gauge::take_breach`]); the runtime's interrupt handler and the
//! end of every call turn it into a breach the mod cannot catch. It also gives the bytes in use
//! at no cost, for the metrics.

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::allocator::{Allocator, RustAllocator};

/// The runtime's memory, shared by its allocator and the instance.
#[derive(Debug)]
pub(super) struct Gauge {
    limit: usize,
    used: Cell<usize>,
    breached: Cell<bool>,
}

impl Gauge {
    pub(super) fn new(limit_bytes: usize) -> Rc<Gauge> {
        Rc::new(Gauge {
            limit: limit_bytes,
            used: Cell::new(0),
            breached: Cell::new(false),
        })
    }

    /// Bytes the runtime holds now.
    pub(super) fn used(&self) -> usize {
        self.used.get()
    }

    /// Whether an allocation was refused since the last time this was asked.
    pub(super) fn take_breach(&self) -> bool {
        self.breached.take()
    }

    /// Whether `more` bytes fit; a refusal is remembered.
    fn admits(&self, more: usize) -> bool {
        let fits = self.used.get().saturating_add(more) <= self.limit;
        if !fits {
            self.breached.set(true);
        }
        fits
    }
}

/// The allocator handed to QuickJS: Rust's global allocator, counted against the gauge.
pub(super) struct Limited {
    inner: RustAllocator,
    gauge: Rc<Gauge>,
}

impl Limited {
    pub(super) fn new(gauge: &Rc<Gauge>) -> Limited {
        Limited {
            inner: RustAllocator,
            gauge: Rc::clone(gauge),
        }
    }

    fn counted(&self, ptr: *mut u8) -> *mut u8 {
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by the inner allocator.
            let size = unsafe { RustAllocator::usable_size(ptr) };
            self.gauge.used.set(self.gauge.used.get() + size);
        }
        ptr
    }
}

// SAFETY: every method delegates to `RustAllocator`, which upholds the trait's contract; this
// only refuses some allocations (returning null, as allowed) and counts the others.
unsafe impl Allocator for Limited {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.gauge.admits(size) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.alloc(size);
        self.counted(ptr)
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !self.gauge.admits(count.saturating_mul(size)) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.calloc(count, size);
        self.counted(ptr)
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        // SAFETY: the caller guarantees `ptr` came from this allocator.
        let size = unsafe { RustAllocator::usable_size(ptr) };
        self.gauge.used.set(self.gauge.used.get() - size);
        // SAFETY: as above.
        unsafe { self.inner.dealloc(ptr) }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from this allocator.
        let old = unsafe { RustAllocator::usable_size(ptr) };
        if new_size > old && !self.gauge.admits(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure the old allocation stays valid and counted.
        let moved = unsafe { self.inner.realloc(ptr, new_size) };
        if !moved.is_null() {
            // SAFETY: `moved` was just returned by the inner allocator.
            let size = unsafe { RustAllocator::usable_size(moved) };
            self.gauge.used.set(self.gauge.used.get() - old + size);
        }
        moved
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller guarantees `ptr` came from this allocator.
        unsafe { RustAllocator::usable_size(ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_counts_and_refuses_past_the_limit() {
        let gauge = Gauge::new(1024);
        let mut allocator = Limited::new(&gauge);
        let first = allocator.alloc(512);
        assert!(!first.is_null());
        assert!(gauge.used() >= 512);
        assert!(allocator.alloc(1024).is_null());
        assert!(gauge.take_breach());
        assert!(!gauge.take_breach(), "asked once");
        // SAFETY: `first` came from this allocator.
        unsafe { allocator.dealloc(first) };
        assert_eq!(gauge.used(), 0);
    }
}
