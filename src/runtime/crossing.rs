//! Bounds on a value crossing between a mod and the host, shared by every backend's
//! conversion: how deep it may nest (a cyclic structure becomes infinitely deep) and how large
//! it may be (so a mod cannot make the host copy gigabytes).

use super::{ErrorKind, ScriptError};

/// How deep a value may nest before it is taken for a cycle.
pub(crate) const MAX_DEPTH: usize = 128;

/// The most a value may weigh, counting string bytes and 8 bytes for every other value.
pub(crate) const MAX_BYTES: usize = 16 * 1024 * 1024;

pub(crate) struct Crossing {
    remaining: usize,
}

impl Crossing {
    pub(crate) fn new() -> Self {
        Self {
            remaining: MAX_BYTES,
        }
    }

    /// Accounts for one value of `bytes` at `depth`.
    pub(crate) fn visit(&mut self, depth: usize, bytes: usize) -> Result<(), ScriptError> {
        if depth > MAX_DEPTH {
            return Err(ScriptError::new(
                ErrorKind::Conversion,
                format!("the value is nested deeper than {MAX_DEPTH} levels, or refers to itself"),
            ));
        }
        match self.remaining.checked_sub(bytes.max(8)) {
            Some(remaining) => {
                self.remaining = remaining;
                Ok(())
            }
            None => Err(ScriptError::new(
                ErrorKind::Conversion,
                format!(
                    "the value is larger than {} MiB, the most that can pass between mods",
                    MAX_BYTES / 1024 / 1024
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_and_size_are_bounded() {
        let mut crossing = Crossing::new();
        assert!(crossing.visit(MAX_DEPTH, 10).is_ok());
        assert!(
            crossing
                .visit(MAX_DEPTH + 1, 10)
                .unwrap_err()
                .message
                .contains("refers to itself")
        );
        assert!(
            crossing
                .visit(0, MAX_BYTES)
                .unwrap_err()
                .message
                .contains("larger than 16 MiB")
        );
    }
}
