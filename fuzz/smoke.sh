#!/usr/bin/env bash
# Runs every fuzz target for a short, fixed time and prints how many inputs
# each one tried. Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: fuzz/smoke.sh [SECONDS_PER_TARGET [TARGET...]]   (default: 20, all)
# `fuzz/smoke.sh 600 round_trip` repeats one of the 10-minute runs that
# SECURITY.md reports.
# The corpus grows in fuzz/corpus/TARGET (git-ignored), seeded from
# tests/data/fuzz-seeds; a failing input lands in fuzz/artifacts/TARGET and the script
# exits non-zero. Add such an input to tests/fuzz_regressions.rs.
set -uo pipefail
cd "$(dirname "$0")"

seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(parse_reference parse_location round_trip)
failed=0

cargo +nightly fuzz build || exit 1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  # One job, one worker: the run stays bounded and on one core. Inputs up
  # to 1,100 bytes from the start (-len_control=0), to reach past the
  # 1,024-byte input limit.
  cargo +nightly fuzz run "$t" "corpus/$t" ../tests/data/fuzz-seeds -- \
    -max_total_time="$seconds" -dict=dict.txt -max_len=1100 -len_control=0 \
    -print_final_stats=1 >"$log" 2>&1
  status=$?
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
  echo "$t: ${runs:-?} executions in ${seconds}s, exit $status"
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -E 'panicked|ERROR|Test unit written' "$log" | head -5
  fi
  rm -f "$log"
done
exit "$failed"
