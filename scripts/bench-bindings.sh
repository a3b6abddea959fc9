#!/usr/bin/env bash
# The FFI cost numbers of docs/PERFORMANCE.md ("Bindings"): the same work called from Rust
# (bindings/benches/ffi_cost.rs, this crate's API without the FFI) and from Kotlin through
# the generated bindings and JNA (android/logbook-kotlin/src/test/kotlin/coop/logbook/
# BindingsBench.kt), both against a release build of liblogbook_ffi.
#
#   scripts/bench-bindings.sh
#
# Prints the Rust lines, the Kotlin lines, then the ratios. Only logbook-ffi is built in
# release (not the whole workspace: the relay is not needed here).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup-tools.sh" >/dev/null
# shellcheck source=/dev/null
source "${LOGBOOK_TOOLS_DIR:-$ROOT/.tools}/env.sh"
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"; TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="$ROOT/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"

echo "bench-bindings: cargo build --release -p logbook-ffi"
cargo build --release -p logbook-ffi --quiet
BINDINGS_PROFILE=release BINDINGS_SKIP_BUILD=1 "$ROOT/scripts/bindings.sh" kotlin >/dev/null

echo "bench-bindings: cargo bench -p logbook-ffi --bench ffi_cost"
rust_out="$(cargo bench -p logbook-ffi --bench ffi_cost --quiet 2>/dev/null | grep '^rust ')"
echo "$rust_out"

KLIB="$KOTLIN_HOME/lib"
CP="$JNA_JAR:$KLIB/kotlinx-coroutines-core-jvm.jar:$KLIB/kotlin-test.jar"
OUT="$TARGET_DIR/kotlin-bench/classes"
rm -rf "$OUT"
mkdir -p "$OUT"
sources=()
while IFS= read -r -d '' f; do sources+=("$f"); done < <(find "$TARGET_DIR/bindings/kotlin" \
    "$ROOT/android/logbook-kotlin/src/main/kotlin" -name '*.kt' -print0)
sources+=("$ROOT/android/logbook-kotlin/src/test/kotlin/coop/logbook/BindingsBench.kt")
echo "bench-bindings: compiling ${#sources[@]} Kotlin files"
JAVA_OPTS="-Xmx1g -Xss4m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC" "$KOTLIN_HOME/bin/kotlinc-jvm" \
    -jvm-target 17 -no-reflect -nowarn -cp "$CP" -d "$OUT" "${sources[@]}"
kotlin_out="$(java -Djna.library.path="$TARGET_DIR/release" -cp "$OUT:$KLIB/kotlin-stdlib.jar:$CP" \
    coop.logbook.BindingsBenchKt)"
echo "$kotlin_out"

# "name: 123.4 µs per ..." -> 123.4
value() { grep "$1" | sed -E 's/.*: ([0-9.]+) µs.*/\1/'; }
for what in "clock_in" "month of shifts"; do
    r="$(echo "$rust_out" | value "$what")"
    k="$(echo "$kotlin_out" | value "$what")"
    awk -v w="$what" -v r="$r" -v k="$k" 'BEGIN { printf "ratio %s: Kotlin/Rust = %.2f (%.1f µs vs %.1f µs, +%.1f µs)\n", w, k / r, k, r, k - r }'
done
