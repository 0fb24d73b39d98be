#!/usr/bin/env bash
# Cargo's runner for the Windows test binaries (scripts/test-windows.sh): runs one under Wine
# and, if it failed where Wine could not create a process, runs the tests that failed once more.
#
# Wine's CreateProcess sometimes fails with Windows error 1359 ("an internal error occurred")
# before the child runs a single instruction: a test that starts modhost.exe then fails for a
# reason outside modhost (seen about once in every few CI runs, in a different test each time).
# Only that error earns the second run; a test that fails again fails the run, and both runs
# stay in the log.
set -uo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
wine "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if ((status == 0)) || ! grep -qE 'os error 1359|code: 1359' "$log"; then
  exit "$status"
fi
# libtest ends a failed run with "failures:" and the failed tests' names, indented by four.
failed=()
while IFS= read -r name; do failed+=("$name"); done < <(
  awk '/^failures:$/ { names = 1; list = "" ; next }
       names && /^    [^ ]/ { sub(/^    /, ""); list = list $0 "\n"; next }
       names && /^$/ && list != "" { names = 0 }
       END { printf "%s", list }' "$log"
)
if ((${#failed[@]} == 0)); then
  exit "$status"
fi
echo "wine-runner: Wine could not create a process (error 1359); running ${failed[*]} again" >&2
exec wine "$@" --exact "${failed[@]}"
