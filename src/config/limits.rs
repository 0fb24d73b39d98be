//! The limits on a mod (SPEC section 6), written once: each limit's name, default, range and
//! meaning in one table ([`limits!`]), from which come the [`Limits`] struct, its defaults,
//! the `[limits]` section as the file holds it and the check of each value against its range.
//! A new limit is one line here (and its use, and its documentation).

use toml::Spanned;

macro_rules! limits {
    ($($(#[$doc:meta])* $name:ident: $default:literal in $range:expr;)*) => {
        /// The limits on a mod (SPEC section 6).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct Limits {
            $($(#[$doc])* pub $name: u64,)*
        }

        impl Default for Limits {
            fn default() -> Self {
                Self { $($name: $default,)* }
            }
        }

        /// A `[limits]` section (or a mod's `limits`) as the file holds it.
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        pub(super) struct LimitsSection {
            $($name: Option<Spanned<u64>>,)*
        }

        impl LimitsSection {
            /// These limits over `base`, or the span and message of a value out of range.
            pub(super) fn apply(
                self,
                base: Limits,
            ) -> Result<Limits, (std::ops::Range<usize>, String)> {
                Ok(Limits {
                    $($name: within(
                        stringify!($name),
                        self.$name,
                        base.$name,
                        &$range,
                    )?,)*
                })
            }
        }
    };
}

limits! {
    /// How long one call into the mod may run.
    call_timeout_ms: 1000 in 1..=3_600_000;
    /// Memory its engine (and the events it has queued) may take.
    memory_mb: 64 in 1..=65_536;
    /// How long a game function may take to answer a call from this mod.
    game_call_timeout_ms: 5000 in 1..=3_600_000;
    /// How long an async hook (or an awaited call) may take to settle, in wall time.
    hook_timeout_ms: 10_000 in 1..=86_400_000;
    /// Timers the mod may have pending at once.
    max_timers: 1000 in 1..=1_000_000;
    /// Bytes of keys and values the mod may keep in storage.
    storage_mb: 64 in 1..=1_048_576;
    /// A call that takes longer than this is logged as slow (0: never).
    slow_call_ms: 100 in 0..=3_600_000;
}

/// A value within its range, or the span and message that say what the range is.
pub(super) fn within(
    name: &str,
    value: Option<Spanned<u64>>,
    default: u64,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<u64, (std::ops::Range<usize>, String)> {
    match value {
        Some(value) if !range.contains(value.get_ref()) => Err((
            value.span(),
            format!(
                "`{name}` must be from {} to {}, not {}",
                range.start(),
                range.end(),
                value.get_ref()
            ),
        )),
        Some(value) => Ok(value.into_inner()),
        None => Ok(default),
    }
}
