//! The `modhost` command: parses the command line and hands over to the library.

mod cli;

/// Stack for the thread that runs mods: 64 mods calling each other nest 64 engines' frames
/// (SPEC section 6's call depth). Only the pages a run touches are committed.
const STACK_BYTES: usize = 256 * 1024 * 1024;

fn main() -> std::process::ExitCode {
    let worker = std::thread::Builder::new()
        .name("modhost".to_owned())
        .stack_size(STACK_BYTES)
        .spawn(cli::main);
    match worker.map(|handle| handle.join()) {
        Ok(Ok(exit)) => exit,
        // Without a thread of its own (a system that refuses one), run here.
        Err(_) => cli::main(),
        // A panic has been reported on stderr already.
        Ok(Err(_)) => std::process::ExitCode::from(101),
    }
}
