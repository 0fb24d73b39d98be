//! The `modhost` command: parses the command line and hands over to the library.

mod cli;

/// Stack for the thread that runs mods: 64 mods calling each other nest 64 engines' frames
/// (SPEC section 6's call depth). Only the pages a run touches are committed.
const STACK_BYTES: usize = 256 * 1024 * 1024;

fn main() -> std::process::ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(exit) => return exit,
    };
    if !cli.works_on_every_core() {
        use_one_malloc_arena();
    }
    let worker = std::thread::Builder::new()
        .name("modhost".to_owned())
        .stack_size(STACK_BYTES)
        .spawn(move || cli::main(cli));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(exit)) => exit,
        // Without a thread of its own (a system that refuses one), run here, with the command
        // line read again (the refused thread took the first reading with it).
        Err(_) => cli::parse().map_or_else(|exit| exit, cli::main),
        // A panic has been reported on stderr already.
        Ok(Err(_)) => std::process::ExitCode::from(101),
    }
}

/// glibc gives every thread but the first its own malloc arena, which grows a page range at a
/// time with an `mprotect` call each: 15% of `run --once` on 10,000 mods, whose engines all
/// live on the thread below. One arena grows the main heap instead. Not for a command that
/// works on every core (`check`): its threads would take turns at the one arena's lock, which
/// made checking 10,000 mods twice as slow.
fn use_one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
