//! The WebAssembly call's work and its floor: the raw wasmi call of the same export, with
//! fuel metering and a memory limit, the input written into a kernel and the output read back
//! and parsed. `languages` times it; `instructions` counts it, so both measure the same call.

use std::path::Path;

use modhost::Host;
use modhost::Value;
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

const FUEL_SLICE: u64 = 2_000_000;

/// The module `ECHO` assembles to.
pub fn echo_module() -> Vec<u8> {
    wat::parse_str(ECHO).expect("the module assembles")
}

/// A pack of one WebAssembly mod, `echo`.
pub fn write_echo_pack(mods: &Path) {
    std::fs::create_dir_all(mods.join("echo")).expect("mod folder");
    std::fs::write(mods.join("echo/main.wasm"), echo_module()).expect("module");
    std::fs::write(
        mods.join("echo/manifest.json"),
        r#"{ "name": "echo", "version": "1.0.0", "entry_point": "main.wasm" }"#,
    )
    .expect("manifest");
}

/// The call both sides make: `echo(1, 2)`.
pub fn echo_args() -> [Value; 2] {
    [Value::from(1), Value::from(2)]
}

/// The host's call of `echo`.
pub fn host_echo(host: &Host, args: &[Value]) {
    let result = host.call("echo", "echo", args).expect("call");
    assert!(result.is_array());
}

/// The floor's kernel: the input, a bump-allocated memory, and the output's place.
#[derive(Default)]
pub struct Kernel {
    input: Vec<u8>,
    memory: Vec<u8>,
    output: (usize, usize),
    limits: StoreLimits,
}

pub fn floor_engine() -> Engine {
    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    Engine::new(&config)
}

pub fn floor_linker(engine: &Engine) -> Linker<Kernel> {
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

/// The module `bytes` compiled, instantiated in a store of its own with the floor's limits,
/// and its export `function`.
pub fn floor_instance(
    engine: &Engine,
    linker: &Linker<Kernel>,
    bytes: &[u8],
    function: &str,
) -> (Store<Kernel>, wasmi::Func) {
    let module = Module::new(engine, bytes).unwrap();
    let mut store = floor_store(engine);
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let function = instance.get_func(&store, function).unwrap();
    (store, function)
}

/// Calls a plugin function on fuel slices, as the host does.
pub fn run(store: &mut Store<Kernel>, function: wasmi::Func) -> i32 {
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

/// The floor of the host's call: `echo` instantiated once, its export found once.
pub struct EchoFloor {
    store: Store<Kernel>,
    echo: wasmi::Func,
}

impl EchoFloor {
    pub fn new() -> Self {
        let engine = floor_engine();
        let (store, echo) = floor_instance(&engine, &floor_linker(&engine), &echo_module(), "echo");
        EchoFloor { store, echo }
    }

    /// `args` as the input, the output parsed.
    pub fn call(&mut self, args: &[Value]) {
        let kernel = self.store.data_mut();
        kernel.memory.clear();
        kernel.input = serde_json::to_vec(args).unwrap();
        assert_eq!(run(&mut self.store, self.echo), 0);
        let kernel = self.store.data();
        let (at, length) = kernel.output;
        let result: serde_json::Value =
            serde_json::from_slice(&kernel.memory[at..at + length]).unwrap();
        assert!(result.is_array());
    }
}
