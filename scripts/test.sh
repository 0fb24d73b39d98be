#!/usr/bin/env bash
# The README's test command: brings what the tests need, then runs every test.
#
# The suite checks modhost against the real tools its users have: WebAssembly guests built
# from source (the wasm32 Rust target, `zig cc` for C), the TypeScript compiler and EmmyLua's
# checker reading the typings `modhost new` writes, a Prometheus parser reading `/metrics`,
# npm packages used unchanged inside a mod, and the Unix tools the help examples pipe into.
# Nothing is skipped: each test fails when what it needs is missing, and this script is what
# provides it (`scripts/test-tools.sh`, into `target/test-tools/`: no global install, nothing
# to clean up but `cargo clean`); a second run finds it all there and starts the tests at once.
#
# Extra arguments go to `cargo test` (`scripts/test.sh --test hostile`).
#
# With no arguments, the Windows part follows (scripts/test-windows.sh: the suite cross-built
# for x86_64-pc-windows-gnu and run under Wine).
set -euo pipefail
. "$(dirname "$0")/test-tools.sh"
cargo test --locked "$@"
if (($# == 0)); then
  exec "$(dirname "$0")/test-windows.sh"
fi
