#!/bin/sh
# Builds {{crate}}.wasm: `cargo build` for wasm32-unknown-unknown (see .cargo/config.toml),
# then the module is moved into place in one step, so `modhost run --watch` reloads the mod
# once, with the whole file.
set -eu
cd "$(dirname "$0")"
cargo build --release "$@"
cp "${CARGO_TARGET_DIR:-.build}"/wasm32-unknown-unknown/release/{{crate}}.wasm {{crate}}.wasm.tmp
mv {{crate}}.wasm.tmp {{crate}}.wasm
