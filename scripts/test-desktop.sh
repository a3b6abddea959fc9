#!/usr/bin/env bash
# Build the desktop Compose app (desktop/pom.xml) and run its UI tests against the real Rust
# library and a real relay:
#
#   1. scripts/setup-desktop.sh      (libgl1, fonts, maven: Debian packages, idempotent)
#   2. scripts/bindings.sh kotlin    (cargo build --workspace + uniffi-bindgen; the library,
#                                    the relay binary and target/bindings/kotlin)
#   3. mvn -B -q -f desktop/pom.xml clean test
#                                    (compiles the generated bindings, android/logbook-kotlin,
#                                    android/logbook-compose and desktop/ in one Kotlin
#                                    compilation with the Compose compiler plugin; Surefire runs
#                                    the JUnit tests headless; screenshots in desktop/target/screenshots)
#   4. the closing line "N passed, N failed", counted from Surefire's XML reports; exit 1 if
#      anything failed, the build broke, or no test ran.
#
# Environment: CARGO_TARGET_DIR (honoured), BINDINGS_PROFILE, BINDINGS_SKIP_BUILD=1 (reuse the
#   built library; the relay binary must be built too), DESKTOP_TEST=Pattern (Surefire -Dtest),
#   MAVEN_ARGS_EXTRA (more mvn arguments, e.g. -o for offline).
# Nothing is cached between runs but Maven's download cache (~/.m2): desktop/target is cleaned
# every time (the Kotlin plugin recompiles everything anyway, and would leave the classes of
# deleted sources behind).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$ROOT/desktop/pom.xml"
REPORTS="$ROOT/desktop/target/surefire-reports"
PROFILE="${BINDINGS_PROFILE:-debug}"

step="setup"
# shellcheck disable=SC2154  # rc is set inside the trap itself
trap 'rc=$?; if [ $rc -ne 0 ] && [ "$step" != report ]; then
        echo "test-desktop: FAILED during $step (exit $rc)"; echo "0 passed, 1 failed"; fi' EXIT

"$ROOT/scripts/setup-desktop.sh"

if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"; TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="${LOGBOOK_WORKSPACE:-$ROOT}/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"

step="bindings"
"$ROOT/scripts/bindings.sh" kotlin
RELAY="$TARGET_DIR/$PROFILE/logbook-relay"
[ -x "$RELAY" ] || { echo "test-desktop: $RELAY is missing: cargo build -p logbook-relay (or run without BINDINGS_SKIP_BUILD)"; exit 1; }

step="maven"
mvn_args=(-B -q -Dstyle.color=never -f "$POM" "-Dcargo.target.dir=$TARGET_DIR" "-Dcargo.profile=$PROFILE")
[ -n "${DESKTOP_TEST:-}" ] && mvn_args+=("-Dtest=$DESKTOP_TEST" "-Dsurefire.failIfNoSpecifiedTests=false")
# shellcheck disable=SC2206  # word splitting of the extra arguments is intended
[ -n "${MAVEN_ARGS_EXTRA:-}" ] && mvn_args+=($MAVEN_ARGS_EXTRA)
goals=(clean test)
rm -rf "$REPORTS"
start=$(date +%s)
echo "test-desktop: mvn ${goals[*]} (desktop/pom.xml; the first run downloads from Maven Central)"
set +e
# -Dmaven.test.failure.ignore: test failures are counted below from the reports; a build
# error (compilation, dependency resolution) still fails mvn.
mvn "${mvn_args[@]}" -Dmaven.test.failure.ignore=true "${goals[@]}"
mvn_rc=$?
set -e
echo "test-desktop: maven finished in $(( $(date +%s) - start ))s (exit $mvn_rc)"

step="report"
python3 - "$REPORTS" "$mvn_rc" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET
reports, mvn_rc = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
for path in sorted(glob.glob(os.path.join(reports, "TEST-*.xml"))):
    suite = ET.parse(path).getroot()
    for case in suite.iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name')}"
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if case.find("skipped") is not None:
            skipped += 1
            print(f"SKIP {name}")
        elif bad is not None:
            failed += 1
            print(f"FAIL {name} ({case.get('time')} s): {(bad.get('message') or bad.get('type') or '').strip()[:300]}")
        else:
            passed += 1
            print(f"PASS {name} ({case.get('time')} s)")
if mvn_rc != 0 and failed == 0:
    print("test-desktop: the Maven build failed outside the tests (see above)")
    failed = 1
if passed + failed == 0:
    print("test-desktop: no test ran")
    failed = 1
shots = glob.glob(os.path.join(os.path.dirname(reports), "screenshots", "*.png"))
print(f"test-desktop: {len(shots)} screenshots in {os.path.join(os.path.dirname(reports), 'screenshots')}")
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
