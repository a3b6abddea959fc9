#!/usr/bin/env bash
# Run the Python tests of the bindings (bindings/python/tests) against the real library.
#
#   1. scripts/setup-tools.sh       (pytest)
#   2. scripts/bindings.sh python   (cargo build --workspace + uniffi-bindgen)
#   3. copy lib<name>.so next to the generated <name>.py (the generated loader looks in its
#      own directory first), put that directory on PYTHONPATH
#   4. python -m pytest -q bindings/python/tests
#
# pytest's "no tests collected" (exit 5) is reported as a failure.
# Environment: CARGO_TARGET_DIR (honoured), BINDINGS_PROFILE, BINDINGS_SKIP_BUILD=1,
#   PYTEST_ADDOPTS (passed through by pytest itself), PYTHON_TESTS_DIR (default below),
#   LOGBOOK_RELAY_BIN (the relay the tests start; default $CARGO_TARGET_DIR/<profile>/logbook-relay).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FFI_LIB_NAME="logbook_ffi"
TESTS_DIR="${PYTHON_TESTS_DIR:-$ROOT/bindings/python/tests}"
PROFILE="${BINDINGS_PROFILE:-debug}"
case "$(uname -s)" in Darwin) DYLIB_EXT=dylib ;; *) DYLIB_EXT=so ;; esac

"$ROOT/scripts/setup-tools.sh"
# shellcheck source=/dev/null
source "${LOGBOOK_TOOLS_DIR:-$ROOT/.tools}/env.sh"

if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"; TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="${LOGBOOK_WORKSPACE:-$ROOT}/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"
GENERATED="$TARGET_DIR/bindings/python"

# The tests start a real relay (the workspace's logbook-relay binary, built by bindings.sh).
export LOGBOOK_RELAY_BIN="${LOGBOOK_RELAY_BIN:-$TARGET_DIR/$PROFILE/logbook-relay}"
"$ROOT/scripts/bindings.sh" python

LIB="lib$FFI_LIB_NAME.$DYLIB_EXT"
[ -f "$GENERATED/$FFI_LIB_NAME.py" ] || { echo "test-python: ERROR: $GENERATED/$FFI_LIB_NAME.py was not generated" >&2; exit 1; }
cp -f "$TARGET_DIR/$PROFILE/$LIB" "$GENERATED/$LIB"   # a copy: bindings.sh wipes the dir anyway
echo "test-python: $GENERATED/$LIB copied next to $FFI_LIB_NAME.py"

if [ ! -d "$TESTS_DIR" ]; then
    echo "test-python: ERROR: no test directory $TESTS_DIR"
    echo "0 passed, 1 failed"
    exit 1
fi

export PYTHONPATH="$GENERATED${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
cd "$ROOT"
set +e
"$LOGBOOK_PYTHON" -m pytest -q -p no:cacheprovider "$TESTS_DIR"
rc=$?
set -e
if [ $rc -eq 5 ]; then
    echo "test-python: ERROR: pytest collected no tests in $TESTS_DIR (exit 5); treating as a failure"
    echo "0 passed, 1 failed"
    exit 1
fi
exit $rc
