#!/usr/bin/env bash
# Mutation testing of the core: runs cargo-mutants over the core
# modules listed in .cargo/mutants.toml (reference, host, location,
# candidates, scope, credential, resolve, the memory store) against every
# test of the package (`cargo test -p registry-credentials`: unit,
# integration and doc tests). Run by hand: a full run is hours on two cores.
# MUTANTS.md records the last results.
#
# Needs cargo-mutants: cargo install --locked cargo-mutants
#
# Usage: scripts/mutants.sh [--shard K/N] [--timeout-multiplier X]
#                           [--jobs N] [--file GLOB]... [CARGO-MUTANTS ARGS...]
#
#   --shard K/N              run the K-th of N slices of the mutants (K from 0)
#   --timeout-multiplier X   a mutant's test run may take X times the
#                            baseline's before it counts as a timeout
#                            (default: cargo-mutants' own, 5; or give
#                            --timeout SECONDS, a fixed limit)
#   --jobs N                 mutants built and tested at once (default 1)
#   --file GLOB              mutate only files matching GLOB (repeatable);
#                            replaces the list in .cargo/mutants.toml
#   anything else            passed to cargo mutants as is: `--list` counts
#                            the mutants without running them, `--iterate`
#                            skips those an earlier run caught, `--re REGEX`
#                            picks mutants by name
#
# Examples:
#   scripts/mutants.sh --list --file src/candidates.rs | wc -l
#   scripts/mutants.sh --file src/candidates.rs --file src/resolve.rs
#   scripts/mutants.sh --shard 0/8
#   git diff main -- src/ > /tmp/d && scripts/mutants.sh --in-diff /tmp/d
#
# Output goes to target/mutants/mutants.out/ (git-ignored): missed.txt,
# caught.txt, timeout.txt and unviable.txt name the mutants by outcome,
# outcomes.json has them all, log/ has each mutant's build and test output.
# A missed mutant is a change to the code that no test noticed: kill it
# with a test named for the rule it breaks, or add it to MUTANTS.md's
# equivalent list with the reason no test can tell it apart.
#
# When CARGO_TARGET_DIR is set, the builds share it, so the dependencies are
# not rebuilt (cargo-mutants builds in a copy of the tree under $TMPDIR);
# with --jobs above 1, unset it, or the jobs wait on its lock.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

jobs=1
files=()
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shard) args+=(--shard "$2"); shift 2 ;;
    --shard=*) args+=("$1"); shift ;;
    --timeout-multiplier) args+=(--timeout-multiplier "$2"); shift 2 ;;
    --timeout-multiplier=*) args+=("$1"); shift ;;
    --jobs | -j) jobs="$2"; shift 2 ;;
    --jobs=*) jobs="${1#--jobs=}"; shift ;;
    --file | -f) files+=(--file "$2"); shift 2 ;;
    --file=*) files+=("$1"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "cargo-mutants is not installed: cargo install --locked cargo-mutants" >&2
  exit 2
fi

# cargo-mutants adds command-line globs to the config file's, so a subset
# named here is run without the config (whose other settings the flags below
# repeat).
if [ ${#files[@]} -gt 0 ]; then
  args=(--no-config "${files[@]}" "${args[@]}")
fi

# A mutant can turn a loop endless and make a test allocate without bound
# (a candidate iterator that never ends, collected into a Vec). Cap each
# process's address space so such a test aborts, and is counted caught,
# instead of taking the machine's memory. MUTANTS_MEMORY_KB overrides it.
ulimit -v "${MUTANTS_MEMORY_KB:-4194304}"

out="$root/target/mutants"
mkdir -p "$out"
status=0
# No debug info for the package itself: the tests are the same, and each
# mutant links a dozen test binaries faster.
cargo mutants \
  --package registry-credentials \
  --jobs "$jobs" \
  --output "$out" \
  --cargo-arg=--config=profile.dev.package.registry-credentials.debug=0 \
  ${args[@]+"${args[@]}"} || status=$?

# 0: every mutant caught or unviable; 2: some missed; 3: some timed out;
# anything else: cargo-mutants itself failed (4: the baseline tests failed).
results="$out/mutants.out"
if [ -d "$results" ] && [ -f "$results/outcomes.json" ]; then
  for kind in caught missed timeout unviable; do
    f="$results/$kind.txt"
    printf '%-9s %s\n' "$kind" "$([ -f "$f" ] && wc -l <"$f" || echo 0)"
  done
  echo "Missed mutants: $results/missed.txt (each mutant's output: $results/log/)"
  echo "Record them in MUTANTS.md, killed by a test or explained as equivalent."
fi
exit "$status"
