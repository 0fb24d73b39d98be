//! Shared by the benchmarks: timing with a median over repeated rounds, and temporary packs.

#![allow(dead_code)] // each benchmark uses part of this

pub mod calls;
pub mod floor;
pub mod wasm;

use std::path::Path;
use std::time::{Duration, Instant};

use modhost::{Config, Host, Overrides, Pack};

/// The configuration of a pack whose mods are in `mods` (with `mods/none.toml` as its
/// configuration file where that exists).
pub fn config_for(mods: &Path) -> Config {
    Config::load(&Overrides {
        mods_dir: Some(mods.to_path_buf()),
        config_file: Some(mods.join("none.toml")).filter(|path| path.exists()),
        ..Overrides::default()
    })
    .expect("configuration")
}

/// A host of the pack in `mods`, started.
pub fn host_for(mods: &Path) -> Host {
    let config = config_for(mods);
    let pack = Pack::load(&config).expect("pack");
    host_start(config, pack)
}

/// A host of a pack read beforehand, started: each mod's source is read here.
pub fn host_start(config: Config, pack: Pack) -> Host {
    let host = Host::new(pack, config);
    host.start();
    host
}

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

/// Writes `count` mods named `{prefix}{index}` (zero-padded to five digits), alternating a
/// JavaScript mod (`main.js`, even indexes) and a Lua mod (`main.lua`).
pub fn write_half_and_half(mods: &Path, prefix: &str, count: usize, js: &str, lua: &str) {
    for index in 0..count {
        let (entry, source) = if index % 2 == 0 {
            ("main.js", js)
        } else {
            ("main.lua", lua)
        };
        write_mod(mods, &format!("{prefix}{index:05}"), entry, source, "");
    }
}

/// Resident memory of this process in bytes (Linux), or `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Interleaved rounds of two measurements of the same work: `subject` and the `floor` it is
/// compared with, one round of each in turn so that the machine's noise hits both alike.
/// Each closure returns the time of one unit of work in that round.
pub struct Comparison {
    pub subject: Duration,
    pub floor: Duration,
    /// The median of the per-round ratios, and the lowest and highest of them.
    pub ratio: f64,
    pub spread: (f64, f64),
}

pub fn interleaved(
    rounds: usize,
    mut subject: impl FnMut() -> Duration,
    mut floor: impl FnMut() -> Duration,
) -> Comparison {
    let mut subjects = Vec::new();
    let mut floors = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let measured = subject();
        let base = floor();
        ratios.push(measured.as_secs_f64() / base.as_secs_f64().max(1e-12));
        subjects.push(measured);
        floors.push(base);
    }
    subjects.sort();
    floors.sort();
    ratios.sort_by(f64::total_cmp);
    Comparison {
        subject: subjects[rounds / 2],
        floor: floors[rounds / 2],
        ratio: ratios[rounds / 2],
        spread: (ratios[0], ratios[rounds - 1]),
    }
}

impl Comparison {
    /// One line: the figure, both times, the ratio with its spread, and the target.
    pub fn print(&self, what: &str, target: f64) {
        let times = format!(
            "{} vs floor {}",
            readable(self.subject),
            readable(self.floor)
        );
        report(what, &times, self.ratio, self.spread, target);
    }
}

/// A figure given as ratios measured round by round (sorted), with its target.
pub fn print_ratio(what: &str, measured: &str, sorted_ratios: &[f64], target: f64) {
    let median = sorted_ratios[sorted_ratios.len() / 2];
    let spread = (sorted_ratios[0], sorted_ratios[sorted_ratios.len() - 1]);
    report(what, measured, median, spread, target);
}

fn report(what: &str, measured: &str, ratio: f64, spread: (f64, f64), target: f64) {
    let shown = format!("{ratio:.2}x ({:.2}–{:.2})", spread.0, spread.1);
    report_ratio(what, measured, ratio, &shown, target);
}

/// A figure counted in instructions per unit of work, against its floor's count: exact, so
/// without a spread.
pub fn report_count(what: &str, counted: f64, floor: f64, target: f64) {
    let ratio = counted / floor;
    report_ratio(
        &format!("{what}, in instructions"),
        &format!("{counted:.0} vs floor {floor:.0}"),
        ratio,
        &format!("{ratio:.2}x"),
        target,
    );
}

/// One line for a ratio (`shown` as it is printed) against its target, and its row.
fn report_ratio(what: &str, measured: &str, ratio: f64, shown: &str, target: f64) {
    let verdict = if ratio <= target { "met" } else { "NOT met" };
    println!("{what:<58} {measured:>32}  = {shown}, target ≤ {target}x: {verdict}");
    add_row(&[what, measured, shown, &format!("≤ {target}x"), verdict]);
}

/// A figure with a target of its own rather than a floor (a latency, say).
pub fn report_absolute(what: &str, measured: &str, target: &str, met: bool) {
    let verdict = if met { "met" } else { "NOT met" };
    println!("{what:<58} {measured:>32}, target {target}: {verdict}");
    add_row(&[what, measured, "", target, verdict]);
}

/// When `MODHOST_BENCH_TABLE` names a file, appends a tab-separated row to it, for the one
/// table `scripts/bench.sh` prints at the end.
fn add_row(cells: &[&str]) {
    if let Some(table) = std::env::var_os("MODHOST_BENCH_TABLE") {
        use std::io::Write;
        let row = format!("{}\n", cells.join("\t"));
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(table)
            .and_then(|mut file| file.write_all(row.as_bytes()));
        if let Err(error) = appended {
            eprintln!("cannot add to the benchmark table: {error}");
        }
    }
}

/// A duration in the unit that suits it: ns, µs, ms or s.
fn readable(duration: Duration) -> String {
    let nanos = duration.as_secs_f64() * 1e9;
    match nanos {
        n if n < 10e3 => format!("{n:.0} ns"),
        n if n < 10e6 => format!("{:.1} µs", n / 1e3),
        n if n < 10e9 => format!("{:.1} ms", n / 1e6),
        n => format!("{:.2} s", n / 1e9),
    }
}
