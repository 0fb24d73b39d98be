#!/bin/sh
# Builds checksum.wasm with zig cc (`pip install ziglang`) or, failing that, clang with lld.
set -eu
cd "$(dirname "$0")"
flags="-O2 -nostdlib -Wl,--no-entry -o checksum.wasm checksum.c"
if command -v zig >/dev/null 2>&1; then
  zig cc --target=wasm32-freestanding $flags
elif python3 -c "import ziglang" 2>/dev/null; then
  python3 -m ziglang cc --target=wasm32-freestanding $flags
else
  clang --target=wasm32 $flags
fi
