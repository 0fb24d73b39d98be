//! Recording and replaying (SPEC section 16), against the same work unrecorded: a host call
//! into a JavaScript mod and an event to 100 handlers with `run --record` on, against the same
//! host with it off, in interleaved rounds (target ≤ 1.3x each); the recording's size per
//! thousand calls; and how fast an hour of play of the example pack replays, in recorded
//! seconds per wall second.
//! Run with `cargo bench --bench recording` or `scripts/bench.sh`.

mod support;

use std::path::Path;
use std::time::Instant;

use modhost::Overrides;
use modhost::Value;
use modhost::replay::{ReplayOptions, replay_file};
use modhost::{Config, Host, Pack};
use serde_json::json;
use support::{config_for, per_call, write_mod};

const ROUNDS: usize = 15;
const CALLS: u32 = 20_000;
const EMITS: u32 = 200;

fn host_for(mods: &Path, recording: Option<&Path>) -> Host {
    let config = config_for(mods);
    let host = Host::new(Pack::load(&config).expect("pack"), config);
    if let Some(recording) = recording {
        host.record_to(recording, &[])
            .expect("the recording starts");
    }
    host.start();
    host
}

fn main() {
    let pack = tempfile::tempdir().expect("temp dir");
    let mods = pack.path().join("mods");
    write_mod(
        &mods,
        "js",
        "main.js",
        "function add(a, b) { return a + b; }\n",
        "",
    );
    support::write_half_and_half(
        &mods,
        "listener-",
        100,
        "let seen = 0;\nmodhost.events.on('tick', (p) => { seen += p.n; });\n",
        "local seen = 0\nmodhost.events.on('tick', function(p) seen = seen + p.n end)\n",
    );
    let recording = pack.path().join("session.jsonl");
    let recorded = host_for(&mods, Some(&recording));
    let plain = host_for(&mods, None);
    let args = [Value::from(1), Value::from(2)];
    let call = |host: &Host| {
        per_call(1, CALLS, || {
            assert_eq!(host.call("js", "add", &args).expect("call"), Value::Int(3));
        })
    };
    recorded_against_plain(&recorded, &plain, call)
        .print("host call into a JS mod, recorded / not", 1.3);
    let emit = |host: &Host| {
        per_call(1, EMITS, || {
            host.emit("tick", json!({ "n": 1 })).expect("emit");
        }) / 100
    };
    recorded_against_plain(&recorded, &plain, emit)
        .print("emit to 100 handlers, per handler, recorded / not", 1.3);
    let written = recorded
        .finish_recording()
        .expect("recording")
        .expect("written");
    // The calls' lines only: their inputs and their results (the events are in the file too).
    let text = std::fs::read_to_string(&recording).expect("recording");
    let (calls, bytes) = text
        .lines()
        .filter(|line| line.contains("\"call\":") || line.contains("\"returned\":"))
        .fold((0usize, 0usize), |(calls, bytes), line| {
            (
                calls + usize::from(line.contains("\"call\":")),
                bytes + line.len() + 1,
            )
        });
    support::report_absolute(
        "recording size per 1,000 host calls (input and result)",
        &format!(
            "{:.0} KB ({} entries lost)",
            bytes as f64 / calls.max(1) as f64,
            written.lost
        ),
        "no entry lost",
        written.lost == 0,
    );
    drop(recorded);
    drop(plain);
    replay_speed();
}

/// Interleaved rounds of `measure` on the recording host and on the plain one; the recording
/// is handed to its writer after each round, outside the time measured.
fn recorded_against_plain(
    recorded: &Host,
    plain: &Host,
    measure: impl Fn(&Host) -> std::time::Duration,
) -> support::Comparison {
    support::interleaved(
        ROUNDS,
        || {
            let took = measure(recorded);
            recorded.flush_recording(true);
            took
        },
        || measure(plain),
    )
}

/// An hour of play of the example pack at 60 frames a second (a `greeting` from the game each
/// frame, which core-lib rewrites and prints, and a call of each mod every second), recorded,
/// then replayed.
fn replay_speed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut config = Config::load(&Overrides {
        config_file: Some(root.join("config.toml")),
        mods_dir: Some(root.join("mods")),
        ..Overrides::default()
    })
    .expect("configuration");
    config.data_dir = scratch.path().join("data");
    let raw = scratch.path().join("raw.jsonl");
    const FRAMES: u64 = 60 * 3600;
    {
        let host = Host::new(Pack::load(&config).expect("pack"), config.clone());
        host.record_to(&raw, &[]).expect("the recording starts");
        host.start();
        for frame in 0..FRAMES {
            let text = format!("frame {frame}");
            host.emit("greeting", json!({ "from": "the game", "text": text }))
                .expect("emit");
            if frame % 60 == 0 {
                host.call("core-lib", "double", &[Value::from(frame)])
                    .expect("call");
                host.call("my-mod", "getModInfo", &[]).expect("call");
            }
            host.flush_recording(false);
        }
        host.shutdown();
        host.finish_recording()
            .expect("recording")
            .expect("written");
    }
    // The inputs came as fast as the host took them: spread them over the hour they stand for.
    let recording = scratch.path().join("hour.jsonl");
    let text = std::fs::read_to_string(&raw).expect("recording");
    let mut frame = 0u64;
    let spread: Vec<String> = text
        .lines()
        .map(|line| {
            let mut entry: serde_json::Value = serde_json::from_str(line).expect("JSON");
            if entry.get("i").is_some() {
                if entry.get("emit").is_some() {
                    frame += 1;
                }
                entry["t"] = json!(frame as f64 * 1000.0 / 60.0);
            }
            entry.to_string()
        })
        .collect();
    let text = spread.join("\n") + "\n";
    std::fs::write(&recording, &text).expect("write");
    let size = std::fs::metadata(&recording).expect("recording").len();
    // What `--record session.jsonl.zst` writes for the same hour (zstd's level 1).
    let compressed = zstd::encode_all(text.as_bytes(), 1)
        .expect("compress")
        .len() as u64;
    let started = Instant::now();
    let report = replay_file(&recording, &config, ReplayOptions::default()).expect("replays");
    let took = started.elapsed().as_secs_f64();
    assert!(report.is_identical(), "{:?}", report.divergences.first());
    let speed = report.recorded_ms / 1000.0 / took;
    support::report_absolute(
        "replay of an hour of the example pack (60 frames a second)",
        &format!(
            "{took:.1} s, {speed:.0} recorded s per s, {} MB ({} MB as .zst)",
            size >> 20,
            compressed >> 20
        ),
        "seconds",
        took < 60.0,
    );
}
