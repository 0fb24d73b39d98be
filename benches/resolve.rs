//! Resolution benchmarks: ordering 10,000 generated mods in memory, and `modhost list` over
//! 5,000 mod folders on disk. Run with `cargo bench --bench resolve` or `scripts/bench.sh`.
//! Targets (issue 2): under 50 ms and under 1 s.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use modhost::internal::manifest::{Manifest, Requirement};

/// A small deterministic generator, so every run measures the same pack.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// `count` mods; each depends on up to 4 mods with a smaller index (so the graph is acyclic).
fn generated_pack(count: usize) -> Vec<Manifest> {
    let mut random = Lcg(42);
    (0..count)
        .map(|index| {
            let dependencies = (0..random.below(5))
                .filter(|_| index > 0)
                .map(|_| Requirement {
                    id: format!("mod-{:05}", random.below(index)),
                    version: semver::VersionReq::parse("^1").expect("valid"),
                    span: 0..0,
                })
                .collect();
            Manifest {
                priority: random.below(200) as i64 - 100,
                dependencies,
                ..Manifest::new(
                    &format!("mod-{index:05}"),
                    semver::Version::new(1, 0, 0),
                    "main.js",
                )
            }
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn write_pack(dir: &Path, count: usize) {
    for index in 0..count {
        let folder = dir.join(format!("mod-{index:05}"));
        std::fs::create_dir_all(&folder).expect("create mod folder");
        let dependency = if index > 0 {
            format!(r#", "dependencies": {{ "mod-{:05}": "^1" }}"#, index / 2)
        } else {
            String::new()
        };
        std::fs::write(
            folder.join("manifest.json"),
            format!(
                r#"{{ "name": "Mod {index}", "version": "1.0.0", "entry_point": "main.js", "priority": {}{dependency} }}"#,
                index % 7
            ),
        )
        .expect("write manifest");
        std::fs::write(folder.join("main.js"), "function onAttach() {}\n").expect("write entry");
    }
}

fn main() {
    let manifests = generated_pack(10_000);
    let edges: usize = manifests.iter().map(|m| m.dependencies.len()).sum();
    let version = semver::Version::new(0, 1, 0);
    let samples = (0..15)
        .map(|_| {
            let start = Instant::now();
            let resolution =
                modhost::internal::resolve::resolve(&manifests, &BTreeMap::new(), &version);
            let elapsed = start.elapsed();
            assert_eq!(resolution.order.len(), manifests.len());
            elapsed
        })
        .collect();
    println!(
        "resolve and order 10,000 mods ({edges} dependencies): median {:.1} ms (target < 50 ms)",
        median(samples).as_secs_f64() * 1e3
    );

    let pack = tempfile::tempdir().expect("temp dir");
    write_pack(pack.path(), 5_000);
    let binary = env!("CARGO_BIN_EXE_modhost");
    let samples = (0..5)
        .map(|_| {
            let start = Instant::now();
            let output = Command::new(binary)
                .arg("--mods")
                .arg(pack.path())
                .args(["list", "--format", "json"])
                .output()
                .expect("run modhost");
            let elapsed = start.elapsed();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .collect();
    println!(
        "`modhost list` over 5,000 mod folders on disk: median {:.0} ms (target < 1000 ms)",
        median(samples).as_secs_f64() * 1e3
    );
}
