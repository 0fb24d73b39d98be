//! The part of WASI preview 1 a sandboxed mod gets: clocks, random bytes, standard output and
//! error (into the mod's log), and process exit. There are no files, no environment, no
//! arguments and no network: those functions exist, because toolchains import them, and answer
//! as an empty system would (`EBADF`, zero variables). Extism's JavaScript and Go PDKs and
//! C built against wasi-libc need these.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use wasmi::{Caller, Linker};

use super::State;
use crate::runtime::{LogLevel, Random, Reproducible};

pub(super) const MODULE: &str = "wasi_snapshot_preview1";

/// Every WASI function a module may import.
pub(super) const FUNCTIONS: &[&str] = &[
    "args_get",
    "args_sizes_get",
    "clock_res_get",
    "clock_time_get",
    "environ_get",
    "environ_sizes_get",
    "fd_close",
    "fd_fdstat_get",
    "fd_filestat_get",
    "fd_prestat_dir_name",
    "fd_prestat_get",
    "fd_read",
    "fd_seek",
    "fd_write",
    "path_open",
    "poll_oneoff",
    "proc_exit",
    "random_get",
    "sched_yield",
];

const SUCCESS: i32 = 0;
const BAD_DESCRIPTOR: i32 = 8;
const FAULT: i32 = 21;
const INVALID: i32 = 28;
const NOT_SUPPORTED: i32 = 58;
const NOT_CAPABLE: i32 = 76;

/// Writes `bytes` at `address` in the module's memory; `false` when they do not fit.
fn write(caller: &mut Caller<'_, State>, address: i32, bytes: &[u8]) -> bool {
    let Some(memory) = caller.data().memory else {
        return false;
    };
    let data = memory.data_mut(caller);
    let start = address as u32 as usize;
    match data.get_mut(start..start + bytes.len()) {
        Some(target) => {
            target.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

fn read(caller: &Caller<'_, State>, address: i32, length: usize) -> Option<Vec<u8>> {
    let memory = caller.data().memory?;
    let start = address as u32 as usize;
    memory
        .data(caller)
        .get(start..start.checked_add(length)?)
        .map(<[u8]>::to_vec)
}

/// WASI in a recorded or replayed session: the clocks read the session's virtual clock and
/// the random bytes come from the machine's recorded entropy.
pub(crate) struct Session {
    view: Reproducible,
    entropy: Random,
}

impl Session {
    pub(crate) fn new(view: Reproducible) -> Session {
        Session {
            entropy: view.entropy(),
            view,
        }
    }
}

/// Where WASI's monotonic clock counts from.
fn monotonic_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn status(written: bool) -> i32 {
    if written { SUCCESS } else { FAULT }
}

pub(super) fn define(linker: &mut Linker<State>) -> Result<(), wasmi::Error> {
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Caller<'_, State>, clock: i32, _precision: i64, out: i32| {
            let session = caller.data().session.as_ref();
            let nanos = match (clock, session) {
                (0, Some(session)) => (session.view.wall_ms() * 1e6) as u64,
                (1..=3, Some(session)) => (session.view.elapsed_ms() * 1e6) as u64,
                (0, None) => SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_nanos() as u64),
                // Monotonic, and the process and thread CPU clocks, which a mod gets as
                // monotonic time: it needs durations, not CPU accounting.
                (1..=3, None) => monotonic_start().elapsed().as_nanos() as u64,
                _ => return INVALID,
            };
            status(write(&mut caller, out, &nanos.to_le_bytes()))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_res_get",
        |mut caller: Caller<'_, State>, _clock: i32, out: i32| {
            status(write(&mut caller, out, &1_000_u64.to_le_bytes()))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "random_get",
        |mut caller: Caller<'_, State>, buffer: i32, length: i32| {
            let mut bytes = vec![0; length as u32 as usize];
            match &mut caller.data_mut().session {
                Some(session) => session.entropy.fill(&mut bytes),
                None if getrandom::fill(&mut bytes).is_err() => return NOT_SUPPORTED,
                None => {}
            }
            status(write(&mut caller, buffer, &bytes))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "fd_write",
        |mut caller: Caller<'_, State>, fd: i32, iovs: i32, count: i32, written: i32| {
            let level = match fd {
                1 => LogLevel::Info,
                2 => LogLevel::Warn,
                _ => return BAD_DESCRIPTOR,
            };
            let mut text = Vec::new();
            for index in 0..count.max(0) {
                let Some(entry) = read(&caller, iovs + index * 8, 8) else {
                    return FAULT;
                };
                let address = i32::from_le_bytes(entry[0..4].try_into().expect("four bytes"));
                let length = u32::from_le_bytes(entry[4..8].try_into().expect("four bytes"));
                let Some(bytes) = read(&caller, address, length as usize) else {
                    return FAULT;
                };
                text.extend_from_slice(&bytes);
            }
            let shared = &caller.data().shared;
            let text = String::from_utf8_lossy(&text);
            let line = text.trim_end_matches('\n');
            if !line.is_empty() {
                shared.host.log(&shared.mod_id, level, line);
            }
            status(write(
                &mut caller,
                written,
                &(text.len() as u32).to_le_bytes(),
            ))
        },
    )?;
    for name in ["environ_sizes_get", "args_sizes_get"] {
        linker.func_wrap(
            MODULE,
            name,
            |mut caller: Caller<'_, State>, count: i32, size: i32| {
                status(write(&mut caller, count, &0_u32.to_le_bytes())).max(status(write(
                    &mut caller,
                    size,
                    &0_u32.to_le_bytes(),
                )))
            },
        )?;
    }
    for name in ["environ_get", "args_get"] {
        linker.func_wrap(MODULE, name, |_: Caller<'_, State>, _: i32, _: i32| SUCCESS)?;
    }
    linker.func_wrap(MODULE, "proc_exit", |_: Caller<'_, State>, code: i32| {
        Err::<(), _>(wasmi::Error::i32_exit(code))
    })?;
    linker.func_wrap(MODULE, "sched_yield", |_: Caller<'_, State>| SUCCESS)?;
    linker.func_wrap(MODULE, "fd_close", |_: Caller<'_, State>, _: i32| {
        BAD_DESCRIPTOR
    })?;
    for name in ["fd_prestat_get", "fd_fdstat_get", "fd_filestat_get"] {
        linker.func_wrap(MODULE, name, |_: Caller<'_, State>, _: i32, _: i32| {
            BAD_DESCRIPTOR
        })?;
    }
    linker.func_wrap(
        MODULE,
        "fd_prestat_dir_name",
        |_: Caller<'_, State>, _: i32, _: i32, _: i32| BAD_DESCRIPTOR,
    )?;
    linker.func_wrap(
        MODULE,
        "fd_read",
        |_: Caller<'_, State>, _: i32, _: i32, _: i32, _: i32| BAD_DESCRIPTOR,
    )?;
    linker.func_wrap(
        MODULE,
        "fd_seek",
        |_: Caller<'_, State>, _: i32, _: i64, _: i32, _: i32| BAD_DESCRIPTOR,
    )?;
    linker.func_wrap(
        MODULE,
        "path_open",
        |_: Caller<'_, State>,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i32,
         _: i64,
         _: i64,
         _: i32,
         _: i32| NOT_CAPABLE,
    )?;
    linker.func_wrap(
        MODULE,
        "poll_oneoff",
        |_: Caller<'_, State>, _: i32, _: i32, _: i32, _: i32| NOT_SUPPORTED,
    )?;
    Ok(())
}
