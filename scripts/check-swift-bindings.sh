#!/usr/bin/env bash
# What CI can check of the Swift side on Linux (no Swift toolchain here): the bindings
# generate, the files the XCFramework and the Swift package need exist and are non-empty,
# their names agree with bindings/uniffi.toml and ios/LogbookKit/Package.swift, and the C
# header is valid C. Compiling the Swift itself happens only on macOS
# (scripts/build-xcframework.sh, then Xcode or `xcodebuild`).
# Prints PASS/FAIL per check and "N passed, N failed"; exit 1 if any failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UNIFFI_TOML="$ROOT/bindings/uniffi.toml"
PACKAGE_SWIFT="$ROOT/ios/LogbookKit/Package.swift"

# Read a key of [bindings.swift] from uniffi.toml (flat string values only).
swift_config() {
    awk -v key="$1" '
        /^\[/ { in_swift = ($0 == "[bindings.swift]") }
        in_swift && $1 == key { v = $0; sub(/^[^=]*=[ \t]*"/, "", v); sub(/".*$/, "", v); print v; exit }
    ' "$UNIFFI_TOML"
}
MODULE_NAME="$(swift_config module_name)"
FFI_MODULE="$(swift_config ffi_module_name)"
FFI_FILENAME="$(swift_config ffi_module_filename)"
: "${MODULE_NAME:=logbook_ffi}" "${FFI_MODULE:=${MODULE_NAME}FFI}" "${FFI_FILENAME:=$FFI_MODULE}"

passed=0
failed=0
check() {  # check "name" command...
    local name="$1"; shift
    if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "PASS $name"
    else failed=$((failed + 1)); echo "FAIL $name"; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; exit $?; }

if ! "$ROOT/scripts/bindings.sh" swift; then
    failed=$((failed + 1)); echo "FAIL generate Swift bindings (scripts/bindings.sh swift)"
    finish
fi
passed=$((passed + 1)); echo "PASS generate Swift bindings"

if [ -n "${CARGO_TARGET_DIR:-}" ]; then TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else TARGET_DIR="${LOGBOOK_WORKSPACE:-$ROOT}/target"; fi
GEN="$TARGET_DIR/bindings/swift"
SWIFT="$GEN/$MODULE_NAME.swift"
HEADER="$GEN/$FFI_FILENAME.h"
MODULEMAP="$GEN/$FFI_FILENAME.modulemap"

check "$MODULE_NAME.swift exists and is non-empty" test -s "$SWIFT"
check "$FFI_FILENAME.h exists and is non-empty" test -s "$HEADER"
check "$FFI_FILENAME.modulemap exists and is non-empty" test -s "$MODULEMAP"
check "Swift source imports the clang module $FFI_MODULE" grep -q "^import $FFI_MODULE\$" "$SWIFT"
check "modulemap declares module $FFI_MODULE with header $FFI_FILENAME.h" \
    bash -c "grep -q '^module $FFI_MODULE ' '$MODULEMAP' && grep -q 'header \"$FFI_FILENAME.h\"' '$MODULEMAP'"
check "header declares the uniffi scaffolding functions" grep -q 'uniffi_logbook_ffi_' "$HEADER"
check "Package.swift binary target is $FFI_MODULE.xcframework" \
    bash -c "grep -q 'binaryTarget(name: \"$FFI_MODULE\", path: \"$FFI_MODULE.xcframework\")' '$PACKAGE_SWIFT'"
# logbook-core's records and enums are a second uniffi component (core/uniffi.toml): its own
# Swift file and header, in the same clang module, both shipped by build-xcframework.sh.
CORE_SWIFT="$GEN/LogbookCore.swift"
CORE_HEADER="$GEN/LogbookCoreFFI.h"
check "LogbookCore.swift exists and is non-empty" test -s "$CORE_SWIFT"
check "LogbookCoreFFI.h exists and is non-empty" test -s "$CORE_HEADER"
check "LogbookCore.swift imports the clang module $FFI_MODULE" grep -q "^import $FFI_MODULE\$" "$CORE_SWIFT"
# shellcheck disable=SC2016  # $1/$2 expand in the inner bash, on purpose
check "build-xcframework.sh ships every generated Swift file and header" bash -c '
    for f in "$1"/*.swift "$1"/*.h; do grep -q "\"$(basename "$f")\"" "$2" || exit 1; done' _ "$GEN" "$ROOT/scripts/build-xcframework.sh"
check "the hand-written wrapper exists" test -s "$ROOT/ios/LogbookKit/Sources/LogbookKit/Wrapper/CoopLogbook.swift"
if command -v clang >/dev/null 2>&1; then
    # shellcheck disable=SC2016
    check "headers compile as C (clang -fsyntax-only)" bash -c 'clang -fsyntax-only -x c "$1" && clang -fsyntax-only -x c "$2"' _ "$HEADER" "$CORE_HEADER"
elif command -v cc >/dev/null 2>&1; then
    # gcc does not know clang's nullability qualifiers; define them away.
    # shellcheck disable=SC2016
    check "headers compile as C (cc -fsyntax-only)" bash -c '
        for h in "$@"; do cc -fsyntax-only -x c -D_Nullable= -D_Nonnull= -D_Null_unspecified= "$h" || exit 1; done' _ "$HEADER" "$CORE_HEADER"
fi
finish
