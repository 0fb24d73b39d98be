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
use support::{host_for, interleaved, per_call, report_absolute, write_mod};
use wasmi::{Caller, Engine, Linker, Module, ResumableCall, Store, StoreLimits, Val};

/// `echo`: the input, as the output (through the kernel, a byte at a time, as a PDK's
/// `input()` and `output()` do for small values); `onAttach` does nothing.
const ECHO: &str = r#"(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "echo") (result i32)
    (local $len i64) (local $offset i64) (local $i i64)
    (local.set $len (call $input_length))
    (local.set $offset (call $alloc (local.get $len)))
    (block $done
      (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $offset) (local.get $i))
          (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
    (call $output_set (local.get $offset) (local.get $len))
    (i32.const 0))
  (func (export "onAttach") (result i32) (i32.const 0)))"#;

const ROUNDS: usize = 11;
const CALLS: u32 = 20_000;
const FUEL_SLICE: u64 = 2_000_000;

/// The floor's kernel: the input, a bump-allocated memory, and the output's place.
#[derive(Default)]
struct Kernel {
    input: Vec<u8>,
    memory: Vec<u8>,
    output: (usize, usize),
    limits: StoreLimits,
}

fn floor_engine() -> Engine {
    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    Engine::new(&config)
}

fn floor_linker(engine: &Engine) -> Linker<Kernel> {
    let mut linker = Linker::new(engine);
    let env = "extism:host/env";
    linker
        .func_wrap(env, "input_length", |caller: Caller<'_, Kernel>| {
            caller.data().input.len() as i64
        })
        .unwrap();
    linker
        .func_wrap(
            env,
            "input_load_u8",
            |caller: Caller<'_, Kernel>, at: i64| i32::from(caller.data().input[at as usize]),
        )
        .unwrap();
    linker
        .func_wrap(
            env,
            "alloc",
            |mut caller: Caller<'_, Kernel>, length: i64| {
                let memory = &mut caller.data_mut().memory;
                let start = memory.len().max(8);
                memory.resize(start + length as usize, 0);
                start as i64
            },
        )
        .unwrap();
    linker
        .func_wrap(
            env,
            "store_u8",
            |mut caller: Caller<'_, Kernel>, at: i64, value: i32| {
                caller.data_mut().memory[at as usize] = value as u8;
            },
        )
        .unwrap();
    linker
        .func_wrap(
            env,
            "output_set",
            |mut caller: Caller<'_, Kernel>, at: i64, length: i64| {
                caller.data_mut().output = (at as usize, length as usize);
            },
        )
        .unwrap();
    linker
}

fn floor_store(engine: &Engine) -> Store<Kernel> {
    let kernel = Kernel {
        limits: wasmi::StoreLimitsBuilder::new()
            .memory_size(64 << 20)
            .build(),
        ..Kernel::default()
    };
    let mut store = Store::new(engine, kernel);
    store.limiter(|kernel| &mut kernel.limits);
    store
}

/// Calls a plugin function on fuel slices, as the host does.
fn run(store: &mut Store<Kernel>, function: wasmi::Func) -> i32 {
    let mut results = [Val::I32(0)];
    store.set_fuel(FUEL_SLICE).unwrap();
    let mut call = function
        .call_resumable(&mut *store, &[], &mut results)
        .unwrap();
    while let ResumableCall::OutOfFuel(paused) = call {
        store.set_fuel(FUEL_SLICE).unwrap();
        call = paused.resume(&mut *store, &mut results).unwrap();
    }
    results[0].i32().unwrap()
}

fn main() {
    let module_bytes = wat::parse_str(ECHO).expect("the module assembles");

    // A host call into a WebAssembly mod against the raw call of the same export.
    let pack = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(pack.path().join("echo")).unwrap();
    std::fs::write(pack.path().join("echo/main.wasm"), &module_bytes).unwrap();
    std::fs::write(
        pack.path().join("echo/manifest.json"),
        r#"{ "name": "echo", "version": "1.0.0", "entry_point": "main.wasm" }"#,
    )
    .unwrap();
    let host = host_for(pack.path());
    let args = [json!(1), json!(2)];
    assert_eq!(host.call("echo", "echo", &args).unwrap(), json!([1, 2]));

    let engine = floor_engine();
    let linker = floor_linker(&engine);
    let module = Module::new(&engine, &module_bytes).unwrap();
    let mut store = floor_store(&engine);
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let echo = instance.get_func(&store, "echo").unwrap();
    support::interleaved(
        ROUNDS,
        || {
            per_call(1, CALLS, || {
                let result = host.call("echo", "echo", &args).expect("call");
                assert!(result.is_array());
            })
        },
        || {
            per_call(1, CALLS, || {
                let kernel = store.data_mut();
                kernel.memory.clear();
                kernel.input = serde_json::to_vec(&args).unwrap();
                assert_eq!(run(&mut store, echo), 0);
                let kernel = store.data();
                let (at, length) = kernel.output;
                let result: serde_json::Value =
                    serde_json::from_slice(&kernel.memory[at..at + length]).unwrap();
                assert!(result.is_array());
            })
        },
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
            for index in 0..MODS {
                let path = many.path().join(format!("wasm-{index:05}/main.wasm"));
                let bytes = std::fs::read(path).unwrap();
                let module = Module::new(&engine, bytes).unwrap();
                let mut store = floor_store(&engine);
                let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
                let attach = instance.get_func(&store, "onAttach").unwrap();
                assert_eq!(run(&mut store, attach), 0);
            }
            start.elapsed()
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
