//! The languages behind the same adapter, each against a floor doing the same work with the
//! same limits, in interleaved rounds: a host call into a WebAssembly mod against the raw wasmi
//! call of the same export (fuel metering and a memory limit on both, the input written into a
//! kernel and the output read back and parsed); starting 1,000 WebAssembly mods against
//! compiling, instantiating and calling `onAttach` of each directly; and the time TypeScript's
//! type erasure adds to compiling a 30 KB file.
//! Run with `cargo bench --bench languages` or `scripts/bench.sh`.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use modhost::Language;
use serde_json::json;
use support::wasm::{self, floor_engine, floor_instance, floor_linker, run};
use support::{host_for, interleaved, per_call, report_absolute, write_mod};

const ROUNDS: usize = 11;
const CALLS: u32 = 20_000;

fn main() {
    let module_bytes = wasm::echo_module();

    // A host call into a WebAssembly mod against the raw call of the same export.
    let pack = tempfile::tempdir().expect("temp dir");
    wasm::write_echo_pack(pack.path());
    let host = host_for(pack.path());
    let args = wasm::echo_args();
    assert_eq!(host.call("echo", "echo", &args).unwrap(), json!([1, 2]));
    let mut floor = wasm::EchoFloor::new();
    support::interleaved(
        ROUNDS,
        || per_call(1, CALLS, || wasm::host_echo(&host, &args)),
        || per_call(1, CALLS, || floor.call(&args)),
    )
    .print("host call into a WebAssembly mod, echo([1, 2])", 1.5);

    // Starting 1,000 WebAssembly mods.
    const MODS: usize = 1_000;
    let many = tempfile::tempdir().expect("temp dir");
    for index in 0..MODS {
        let id = format!("wasm-{index:05}");
        write_mod(many.path(), &id, "main.wasm", "", "");
        std::fs::write(many.path().join(&id).join("main.wasm"), &module_bytes).unwrap();
    }
    let started = interleaved(
        5,
        || {
            let start = Instant::now();
            let host = host_for(many.path());
            assert!(!host.has_failures());
            assert_eq!(host.mods().len(), MODS);
            let took = start.elapsed();
            host.shutdown();
            took
        },
        || {
            let start = Instant::now();
            let engine = floor_engine();
            let linker = floor_linker(&engine);
            // Kept, as the host keeps its mods: each has its own memory to fault in, where a
            // store dropped at once would hand the next one the same warm pages.
            let mut started = Vec::with_capacity(MODS);
            for index in 0..MODS {
                let path = many.path().join(format!("wasm-{index:05}/main.wasm"));
                let bytes = std::fs::read(path).unwrap();
                let (mut store, attach) = floor_instance(&engine, &linker, &bytes, "onAttach");
                assert_eq!(run(&mut store, attach), 0);
                started.push(store);
            }
            let took = start.elapsed();
            drop(started);
            took
        },
    );
    started.print(
        "start 1,000 WebAssembly mods (load, attach, bootstrap)",
        1.5,
    );

    // TypeScript: compiling a 30 KB file with its types erased, against the same code
    // written as JavaScript.
    let mut typescript = String::new();
    let mut javascript = String::new();
    let mut index = 0;
    while typescript.len() < 30 * 1024 {
        typescript.push_str(&format!(
            "interface Point{index} {{ x: number; y: number }}\nexport function distance{index}(a: Point{index}, b: Point{index}): number {{\n  const dx: number = a.x - b.x;\n  const dy: number = a.y - b.y;\n  return Math.sqrt(dx * dx + dy * dy) as number;\n}}\n"
        ));
        javascript.push_str(&format!(
            "export function distance{index}(a, b) {{\n  const dx = a.x - b.x;\n  const dy = a.y - b.y;\n  return Math.sqrt(dx * dx + dy * dy);\n}}\n"
        ));
        index += 1;
    }
    let ts_path = Path::new("bench.ts");
    let js_path = Path::new("bench.js");
    let mut ts_checker = Language::of_entry_point(ts_path)
        .unwrap()
        .backend()
        .syntax_checker()
        .unwrap();
    let mut js_checker = Language::of_entry_point(js_path)
        .unwrap()
        .backend()
        .syntax_checker()
        .unwrap();
    ts_checker
        .check(ts_path, typescript.as_bytes())
        .expect("the TypeScript compiles");
    let compiled = interleaved(
        ROUNDS,
        || {
            per_call(1, 20, || {
                ts_checker.check(ts_path, typescript.as_bytes()).unwrap();
            })
        },
        || {
            per_call(1, 20, || {
                js_checker.check(js_path, javascript.as_bytes()).unwrap();
            })
        },
    );
    let strip = compiled.subject.saturating_sub(compiled.floor);
    println!(
        "(compiling {} KB of TypeScript: {:.2} ms; the same code as JavaScript: {:.2} ms)",
        typescript.len() / 1024,
        compiled.subject.as_secs_f64() * 1e3,
        compiled.floor.as_secs_f64() * 1e3,
    );
    report_absolute(
        "erase the types of a 30 KB TypeScript file",
        &format!("{:.2} ms", strip.as_secs_f64() * 1e3),
        "< 5 ms",
        strip < Duration::from_millis(5),
    );
}
