#!/usr/bin/env bash
# Runs every benchmark in release mode and prints its figures. Timing targets live here, not in
# the tests: the machines are shared and noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench resolve
cargo bench --locked --bench runtime
cargo bench --locked --bench event_loop
cargo bench --locked --bench storage
cargo bench --locked --bench protocol
