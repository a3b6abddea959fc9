#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz + libFuzzer, fuzz/) on the STABLE toolchain: builds
# every fuzz target, then runs each for FUZZ_SECONDS seconds (default 5) from its committed
# seed corpus (fuzz/corpus/<target>/, read only: new inputs go to a temporary directory).
# A target passes if it ran its time without a crash, a timeout or running out of memory.
# Prints "N passed, N failed" and exits non-zero if any failed; crashing inputs are kept in
# fuzz/artifacts/<target>/. FUZZ_NEW_DIR=<dir> keeps the run's new inputs in <dir>/<target>/
# (to minimise into the corpus with -merge=1 afterwards). Installs cargo-fuzz (cargo install --locked) only if it is
# missing. Non-interactive. How and why it works on stable: docs/SECURITY.md, "Fuzzing".
#
#   scripts/fuzz.sh                     # all targets, 5 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh hydrate_docs
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"

SECONDS_EACH="${FUZZ_SECONDS:-5}"
ALL_TARGETS=(push_body pull_body control_json scope_and_ids hydrate_docs)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$ROOT/fuzz/target}"
export CARGO_INCREMENTAL=0
# `-s none`: coverage instrumentation only (-Cpasses=sancov-module and -Cllvm-args, all
# stable flags), no AddressSanitizer (that needs -Zsanitizer, i.e. nightly). `-a`: debug
# assertions on, so integer overflow panics and is found.
BUILD_FLAGS=(-s none -a)

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ ! -x "$CARGO_BIN/cargo-fuzz" ] && ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked </dev/null
fi

echo "== building fuzz targets (${TARGETS[*]})"
for t in "${TARGETS[@]}"; do
  cargo fuzz build "${BUILD_FLAGS[@]}" "$t" </dev/null
done

passed=0
failed=0
failures=()
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
new="${FUZZ_NEW_DIR:-$work}"
for t in "${TARGETS[@]}"; do
  mkdir -p "$new/$t" "corpus/$t"
  log="$work/$t.log"
  # FUZZ_RUNS=N (as CI does): exactly N inputs from a fixed seed, so a run is repeatable
  # and cannot fail by luck; otherwise FUZZ_SECONDS of real fuzzing.
  if [ -n "${FUZZ_RUNS:-}" ]; then
    budget=(-runs="$FUZZ_RUNS" -seed=1)
    echo "== $t: ${FUZZ_RUNS} runs from seed 1"
  else
    budget=(-max_total_time="$SECONDS_EACH")
    echo "== $t: ${SECONDS_EACH}s"
  fi
  if cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "$new/$t" "corpus/$t" -- \
    "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    </dev/null >"$log" 2>&1; then
    passed=$((passed + 1))
    # The last status line: executions, coverage, features, corpus.
    grep -E '^#[0-9]+' "$log" | tail -n 1 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  else
    failed=$((failed + 1))
    failures+=("$t")
    tail -n 40 "$log"
  fi
done

echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
  echo "failed: ${failures[*]} (crashing inputs in fuzz/artifacts/)"
  exit 1
fi
