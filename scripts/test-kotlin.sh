#!/usr/bin/env bash
# Compile and run the JVM tests of the pure-Kotlin module against the real Rust library.
#
#   1. scripts/setup-tools.sh        (JNA, kotlinc from npm, ...)
#   2. scripts/bindings.sh kotlin    (cargo build --workspace + uniffi-bindgen)
#   3. one kotlinc-jvm invocation:   generated bindings + android/logbook-kotlin/src/main
#                                    + android/logbook-kotlin/src/test
#   4. java ... coop.logbook.testing.TestRunner  (prints PASS/FAIL lines, then
#                                    "N passed, N failed"; exit 1 if any failed or none ran)
#
# Nothing is cached between runs: the classes directory is wiped and rebuilt every time.
# Environment: CARGO_TARGET_DIR (honoured), BINDINGS_PROFILE, BINDINGS_SKIP_BUILD=1,
#   KOTLIN_TEST_FILTER=text (run only tests whose "Class.function" contains text),
#   KOTLIN_TEST_TIMEOUT=seconds (per test, default 120), KOTLINC_JAVA_OPTS (default below),
#   LOGBOOK_RELAY_BIN (the relay the tests start; default $CARGO_TARGET_DIR/<profile>/logbook-relay).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE_DIR="$ROOT/android/logbook-kotlin"
MAIN_SRC="$MODULE_DIR/src/main/kotlin"
TEST_SRC="$MODULE_DIR/src/test/kotlin"
RUNNER_CLASS="coop.logbook.testing.TestRunner"
PROFILE="${BINDINGS_PROFILE:-debug}"
JVM_TARGET="17"
# kotlinc runs once per test run, so JIT warm-up dominates: C1 only and the serial GC
# roughly halve the compile time of a small project on 2 cores.
KOTLINC_DEFAULT_OPTS="-Xmx1g -Xss4m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

step="setup"
# shellcheck disable=SC2154  # rc is set inside the trap itself
trap 'rc=$?; if [ $rc -ne 0 ] && [ "$step" != run ]; then
        echo "test-kotlin: FAILED during $step (exit $rc)"; echo "0 passed, 1 failed"; fi' EXIT

"$ROOT/scripts/setup-tools.sh"
# shellcheck source=/dev/null
source "${LOGBOOK_TOOLS_DIR:-$ROOT/.tools}/env.sh"

if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"; TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="${LOGBOOK_WORKSPACE:-$ROOT}/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"
GENERATED="$TARGET_DIR/bindings/kotlin"
NATIVE_DIR="$TARGET_DIR/$PROFILE"
OUT="$TARGET_DIR/kotlin-tests/classes"

# The tests start a real relay (the workspace's logbook-relay binary, built by bindings.sh).
export LOGBOOK_RELAY_BIN="${LOGBOOK_RELAY_BIN:-$TARGET_DIR/$PROFILE/logbook-relay}"
step="bindings"
"$ROOT/scripts/bindings.sh" kotlin

step="compile"
KLIB="$KOTLIN_HOME/lib"
COMPILE_CP="$JNA_JAR:$KLIB/kotlinx-coroutines-core-jvm.jar:$KLIB/kotlin-test.jar"
RUN_CP="$OUT:$KLIB/kotlin-stdlib.jar:$COMPILE_CP"

sources=()
for dir in "$GENERATED" "$MAIN_SRC" "$TEST_SRC"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do sources+=("$f"); done < <(find "$dir" -name '*.kt' -print0 | sort -z)
done
echo "test-kotlin: compiling ${#sources[@]} Kotlin files with kotlinc $(cat "$KOTLIN_HOME/build.txt")"
rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)
JAVA_OPTS="${KOTLINC_JAVA_OPTS:-$KOTLINC_DEFAULT_OPTS}" "$KOTLIN_HOME/bin/kotlinc-jvm" \
    -jvm-target "$JVM_TARGET" -no-reflect -nowarn \
    -cp "$COMPILE_CP" -d "$OUT" "${sources[@]}"
echo "test-kotlin: compiled in $(( $(date +%s) - start ))s"

step="run"
props=(-Djna.library.path="$NATIVE_DIR" -Dlogbook.test.timeout="${KOTLIN_TEST_TIMEOUT:-120}")
[ -n "${KOTLIN_TEST_FILTER:-}" ] && props+=(-Dlogbook.test.filter="$KOTLIN_TEST_FILTER")
# The runner prints the closing "N passed, N failed" line and sets the exit code.
exec java "${props[@]}" -cp "$RUN_CP" "$RUNNER_CLASS" "$OUT"
