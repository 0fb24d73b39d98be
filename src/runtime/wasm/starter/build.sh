#!/bin/sh
# Builds {{crate}}.wasm: `cargo build` for wasm32-unknown-unknown (see .cargo/config.toml),
# then the module is moved into place in one step, so `modhost run --watch` reloads the mod
# once, with the whole file.
set -eu
cd "$(dirname "$0")"
if command -v rustup >/dev/null 2>&1 \
  && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "build.sh: Rust cannot build for WebAssembly yet; add the target once with:" >&2
  echo "  rustup target add wasm32-unknown-unknown" >&2
  exit 1
fi
cargo build --release "$@"
cp "${CARGO_TARGET_DIR:-.build}"/wasm32-unknown-unknown/release/{{crate}}.wasm {{crate}}.wasm.tmp
mv {{crate}}.wasm.tmp {{crate}}.wasm
