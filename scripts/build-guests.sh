#!/bin/sh
# Builds the WebAssembly mods of the demo pack examples/polyglot from their sources: the Rust
# mod with its own build.sh (needs `rustup target add wasm32-unknown-unknown`) and the C mod
# with zig cc (`pip install ziglang`) or clang.
set -eu
cd "$(dirname "$0")/../examples/polyglot/mods"
sh stats/build.sh
sh checksum/build.sh
echo "built stats/stats.wasm and checksum/checksum.wasm"
