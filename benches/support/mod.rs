//! Shared by the benchmarks: timing with a median over repeated rounds, and temporary packs.

#![allow(dead_code)] // each benchmark uses part of this

use std::path::Path;
use std::time::{Duration, Instant};

/// The median duration of one call of `body`, measured over `rounds` rounds of `per_round` calls.
pub fn per_call(rounds: usize, per_round: u32, mut body: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                body();
            }
            start.elapsed() / per_round
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

pub fn nanos(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e9
}

/// Writes one mod folder: a manifest and its entry point.
pub fn write_mod(mods: &Path, id: &str, entry: &str, source: &str, extra_manifest: &str) {
    let folder = mods.join(id);
    std::fs::create_dir_all(&folder).expect("create mod folder");
    std::fs::write(
        folder.join("manifest.json"),
        format!(
            r#"{{ "name": "{id}", "version": "1.0.0", "entry_point": "{entry}"{extra_manifest} }}"#
        ),
    )
    .expect("write manifest");
    std::fs::write(folder.join(entry), source).expect("write entry point");
}

/// Resident memory of this process in bytes (Linux), or `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
