//! Extism's kernel memory, natively: the blocks a plugin allocates to pass bytes to and from
//! the host (its input, its output, its error, config keys, host function arguments).
//!
//! In Extism the kernel is a Wasm module of its own whose memory the plugin reaches through
//! `extism:host/env` imports (`alloc`, `load_u64`, `store_u8`, …) with 64-bit offsets. Here it
//! is one byte vector: an offset is an index into it, 0 is "no block", a block is remembered by
//! its start, and freed blocks are reused first fit. Every access is bounds-checked, so a
//! plugin that reads or writes past the kernel memory gets a clear error instead of another
//! block's bytes. The host [`reset`](Kernel::reset)s it before each call, as Extism does.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A mod's `memory_mb`, shared by its linear memory, its tables and its kernel memory.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: u64,
    linear: Cell<u64>,
    /// Bytes of table elements (tables only grow).
    tables: Cell<u64>,
    kernel: Cell<u64>,
}

/// What one table element costs the host, at least (a reference).
pub(super) const TABLE_ELEMENT_BYTES: u64 = 8;

impl Budget {
    pub(crate) fn new(limit: u64) -> Rc<Budget> {
        Rc::new(Budget {
            limit,
            linear: Cell::new(0),
            tables: Cell::new(0),
            kernel: Cell::new(0),
        })
    }

    /// Whether the linear memory may grow to `bytes`; it has if so.
    pub(crate) fn grow_linear(&self, bytes: u64) -> bool {
        let fits = bytes
            .saturating_add(self.kernel.get())
            .saturating_add(self.tables.get())
            <= self.limit;
        if fits {
            self.linear.set(bytes);
        }
        fits
    }

    /// Whether a table may grow by `elements`; it has if so.
    pub(crate) fn grow_tables(&self, elements: u64) -> bool {
        let tables = self
            .tables
            .get()
            .saturating_add(elements.saturating_mul(TABLE_ELEMENT_BYTES));
        let fits = tables
            .saturating_add(self.linear.get())
            .saturating_add(self.kernel.get())
            <= self.limit;
        if fits {
            self.tables.set(tables);
        }
        fits
    }

    /// Bytes in use: linear memory, tables and kernel memory together.
    pub(crate) fn used(&self) -> u64 {
        self.linear.get() + self.tables.get() + self.kernel.get()
    }

    fn room_for_kernel(&self) -> u64 {
        self.limit
            .saturating_sub(self.linear.get())
            .saturating_sub(self.tables.get())
    }
}

/// Why the kernel refused an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KernelError {
    /// An access outside every block of the kernel memory.
    OutOfBounds { offset: u64, length: u64 },
    /// The allocation would take the mod past its memory limit.
    Full { requested: u64 },
    /// An offset that is not the start of a live block.
    NotABlock(u64),
}

impl std::fmt::Display for KernelError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KernelError::OutOfBounds { offset, length } => write!(
                formatter,
                "the plugin accessed {length} byte(s) at offset {offset}, outside the kernel memory it allocated"
            ),
            KernelError::Full { requested } => write!(
                formatter,
                "the plugin asked the kernel for {requested} bytes more than its memory limit allows"
            ),
            KernelError::NotABlock(offset) => write!(
                formatter,
                "offset {offset} is not a block the plugin allocated (or it was freed)"
            ),
        }
    }
}

/// Blocks start here, so that 0 is never a block.
const FIRST_OFFSET: u64 = 8;

#[derive(Debug, Clone, Copy)]
struct Block {
    capacity: u64,
    used: u64,
}

/// One plugin's kernel memory. See the module documentation.
#[derive(Debug)]
pub(crate) struct Kernel {
    bytes: Vec<u8>,
    live: BTreeMap<u64, Block>,
    /// Freed blocks: start and capacity.
    free: Vec<(u64, u64)>,
    budget: Rc<Budget>,
    input: Option<u64>,
    output: Option<(u64, u64)>,
    error: Option<u64>,
}

impl Kernel {
    pub(crate) fn new(budget: Rc<Budget>) -> Self {
        budget.kernel.set(FIRST_OFFSET);
        Kernel {
            bytes: vec![0; FIRST_OFFSET as usize],
            live: BTreeMap::new(),
            free: Vec::new(),
            budget,
            input: None,
            output: None,
            error: None,
        }
    }

    /// Forgets every block (the start of a call).
    pub(crate) fn reset(&mut self) {
        self.bytes.truncate(FIRST_OFFSET as usize);
        self.bytes.shrink_to(64 * 1024);
        self.budget.kernel.set(self.size());
        self.live.clear();
        self.free.clear();
        self.input = None;
        self.output = None;
        self.error = None;
    }

    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A new block of `length` bytes (0 for an empty request), reusing a freed one that fits.
    pub(crate) fn alloc(&mut self, length: u64) -> Result<u64, KernelError> {
        if length == 0 {
            return Ok(0);
        }
        if let Some(index) = self.free.iter().position(|&(_, cap)| cap >= length) {
            let (start, capacity) = self.free.swap_remove(index);
            self.bytes[start as usize..(start + length) as usize].fill(0);
            self.live.insert(
                start,
                Block {
                    capacity,
                    used: length,
                },
            );
            return Ok(start);
        }
        let start = self.size();
        let end = start
            .checked_add(length)
            .filter(|&end| end <= self.budget.room_for_kernel())
            .ok_or(KernelError::Full { requested: length })?;
        self.bytes.resize(end as usize, 0);
        self.budget.kernel.set(end);
        self.live.insert(
            start,
            Block {
                capacity: length,
                used: length,
            },
        );
        Ok(start)
    }

    /// A new block holding `data`.
    pub(crate) fn alloc_bytes(&mut self, data: &[u8]) -> Result<u64, KernelError> {
        let start = self.alloc(data.len() as u64)?;
        if start != 0 {
            self.bytes[start as usize..start as usize + data.len()].copy_from_slice(data);
        }
        Ok(start)
    }

    /// Frees a block; freeing 0 or what is not a block does nothing, as in Extism.
    pub(crate) fn free(&mut self, offset: u64) {
        if let Some(block) = self.live.remove(&offset) {
            self.free.push((offset, block.capacity));
            if self.input == Some(offset) {
                self.input = None;
            }
        }
    }

    /// The length of the block starting at `offset`, 0 if there is none.
    pub(crate) fn length(&self, offset: u64) -> u64 {
        self.live.get(&offset).map_or(0, |block| block.used)
    }

    /// The bytes of the block starting at `offset` (empty for 0).
    pub(crate) fn block(&self, offset: u64) -> Result<&[u8], KernelError> {
        if offset == 0 {
            return Ok(&[]);
        }
        let block = self
            .live
            .get(&offset)
            .ok_or(KernelError::NotABlock(offset))?;
        self.range(offset, block.used)
    }

    /// The block starting at `offset` as text (invalid UTF-8 replaced).
    pub(crate) fn text(&self, offset: u64) -> Result<String, KernelError> {
        self.block(offset)
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
    }

    /// `length` bytes at `offset`; nothing at all is found anywhere (an empty output is
    /// `output_set(0, 0)`).
    fn range(&self, offset: u64, length: u64) -> Result<&[u8], KernelError> {
        if length == 0 {
            return Ok(&[]);
        }
        let out_of_bounds = KernelError::OutOfBounds { offset, length };
        let end = offset.checked_add(length).ok_or(out_of_bounds.clone())?;
        if offset < FIRST_OFFSET || end > self.size() {
            return Err(out_of_bounds);
        }
        Ok(&self.bytes[offset as usize..end as usize])
    }

    fn range_mut(&mut self, offset: u64, length: u64) -> Result<&mut [u8], KernelError> {
        self.range(offset, length)?;
        if length == 0 {
            return Ok(&mut []);
        }
        Ok(&mut self.bytes[offset as usize..(offset + length) as usize])
    }

    pub(crate) fn load_u8(&self, offset: u64) -> Result<u8, KernelError> {
        Ok(self.range(offset, 1)?[0])
    }

    pub(crate) fn load_u64(&self, offset: u64) -> Result<u64, KernelError> {
        let bytes = self.range(offset, 8)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("eight bytes")))
    }

    pub(crate) fn store_u8(&mut self, offset: u64, value: u8) -> Result<(), KernelError> {
        self.range_mut(offset, 1)?[0] = value;
        Ok(())
    }

    pub(crate) fn store_u64(&mut self, offset: u64, value: u64) -> Result<(), KernelError> {
        self.range_mut(offset, 8)?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    }

    /// Makes `data` the call's input.
    pub(crate) fn set_input(&mut self, data: &[u8]) -> Result<(), KernelError> {
        let start = self.alloc_bytes(data)?;
        self.input = (start != 0).then_some(start);
        Ok(())
    }

    pub(crate) fn input_offset(&self) -> u64 {
        self.input.unwrap_or(0)
    }

    pub(crate) fn input_length(&self) -> u64 {
        self.input.map_or(0, |start| self.length(start))
    }

    /// A byte of the input, `offset` counted from its start.
    pub(crate) fn input_load_u8(&self, offset: u64) -> Result<u8, KernelError> {
        self.input_range(offset, 1).map(|bytes| bytes[0])
    }

    pub(crate) fn input_load_u64(&self, offset: u64) -> Result<u64, KernelError> {
        self.input_range(offset, 8)
            .map(|bytes| u64::from_le_bytes(bytes.try_into().expect("eight bytes")))
    }

    fn input_range(&self, offset: u64, length: u64) -> Result<&[u8], KernelError> {
        let out_of_bounds = KernelError::OutOfBounds { offset, length };
        match offset.checked_add(length) {
            Some(end) if end <= self.input_length() => {
                self.range(self.input_offset() + offset, length)
            }
            _ => Err(out_of_bounds),
        }
    }

    /// `output_set`: the call's output is `length` bytes at `offset` (read when it returns).
    pub(crate) fn set_output(&mut self, offset: u64, length: u64) -> Result<(), KernelError> {
        self.range(offset, length)?;
        self.output = Some((offset, length));
        Ok(())
    }

    pub(crate) fn output(&self) -> Result<&[u8], KernelError> {
        match self.output {
            Some((offset, length)) => self.range(offset, length),
            None => Ok(&[]),
        }
    }

    /// `error_set`: the block holding the call's error message (0 clears it).
    pub(crate) fn set_error(&mut self, offset: u64) {
        self.error = (offset != 0).then_some(offset);
    }

    /// The error the plugin set, if it set one.
    pub(crate) fn error(&self) -> Option<String> {
        self.error.and_then(|offset| self.text(offset).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_bytes_and_their_length_and_zero_is_no_block() {
        let mut kernel = Kernel::new(Budget::new(1 << 20));
        assert_eq!(kernel.alloc(0), Ok(0));
        let block = kernel.alloc_bytes(b"hello").expect("alloc");
        assert_ne!(block, 0);
        assert_eq!(kernel.length(block), 5);
        assert_eq!(kernel.length(block + 1), 0);
        assert_eq!(kernel.load_u8(block + 1), Ok(b'e'));
        kernel
            .store_u64(block, u64::from_le_bytes(*b"HELLO!!!"))
            .expect_err("past the end");
        let wide = kernel.alloc(8).expect("alloc");
        kernel.store_u64(wide, 42).expect("store");
        assert_eq!(kernel.load_u64(wide), Ok(42));
        assert_eq!(kernel.text(block).as_deref(), Ok("hello"));
    }

    #[test]
    fn freed_blocks_are_reused_and_a_reset_forgets_everything() {
        let mut kernel = Kernel::new(Budget::new(1 << 20));
        let first = kernel.alloc(100).expect("alloc");
        kernel.free(first);
        assert_eq!(kernel.alloc(50), Ok(first));
        assert_eq!(kernel.length(first), 50);
        kernel.reset();
        assert_eq!(kernel.length(first), 0);
        assert_eq!(kernel.block(first), Err(KernelError::NotABlock(first)));
    }

    #[test]
    fn accesses_outside_the_memory_and_allocations_past_the_limit_are_refused() {
        let mut kernel = Kernel::new(Budget::new(64));
        assert!(matches!(
            kernel.load_u8(1_000_000),
            Err(KernelError::OutOfBounds { .. })
        ));
        assert!(matches!(
            kernel.load_u8(0),
            Err(KernelError::OutOfBounds { .. })
        ));
        assert_eq!(kernel.alloc(100), Err(KernelError::Full { requested: 100 }));
        assert!(matches!(
            kernel.alloc(u64::MAX),
            Err(KernelError::Full { .. })
        ));
    }

    #[test]
    fn input_output_and_error_of_a_call() {
        let mut kernel = Kernel::new(Budget::new(1 << 20));
        kernel.set_input(b"[1,2]").expect("input");
        assert_eq!(kernel.input_length(), 5);
        assert_eq!(kernel.input_load_u8(4), Ok(b']'));
        assert!(kernel.input_load_u64(0).is_err());
        let output = kernel.alloc_bytes(b"3").expect("alloc");
        kernel.set_output(output, 1).expect("output");
        assert_eq!(kernel.output(), Ok(&b"3"[..]));
        let message = kernel.alloc_bytes(b"no such kind").expect("alloc");
        kernel.set_error(message);
        assert_eq!(kernel.error().as_deref(), Some("no such kind"));
    }
}
