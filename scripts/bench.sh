#!/usr/bin/env bash
# Runs every benchmark in release mode, then prints one table of the figures measured against a
# floor, with the target beside each. Timing targets live here, not in the tests: the machines
# are shared and noisy, so each figure is a median of interleaved rounds with its spread. The
# per-call and per-start figures are also counted in instructions (benches/instructions.rs, with
# valgrind), which the neighbours on the machine do not move.
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(mktemp)
trap 'rm -f "$table"' EXIT
export MODHOST_BENCH_TABLE="$table"
for bench in runtime instructions pack languages event_loop protocol storage resolve containment recording; do
    echo "== $bench"
    cargo bench --locked --bench "$bench"
done
echo
echo "== against floors doing the same work with the same limits (median ratio, lowest–highest)"
{
    printf 'figure\tmeasured\tratio\ttarget\tverdict\n'
    cat "$table"
} | column -t -s $'\t'
