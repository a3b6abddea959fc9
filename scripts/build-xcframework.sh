#!/usr/bin/env bash
# Build ios/LogbookKit/LogbookFFI.xcframework and the generated Swift for the LogbookKit
# Swift package. macOS with Xcode only.
#
#   1. cargo (static library) for aarch64-apple-ios, aarch64-apple-ios-sim, x86_64-apple-ios
#   2. lipo the two simulator slices into one universal simulator library
#   3. scripts/bindings.sh swift (host build + in-workspace uniffi-bindgen): one Swift file and
#      one header per uniffi component -- LogbookKit.swift + LogbookFFI.h (logbook-ffi) and
#      LogbookCore.swift + LogbookCoreFFI.h (logbook-core's records and enums)
#   4. xcodebuild -create-xcframework: each library with Headers/LogbookFFI/{LogbookFFI.h,
#      LogbookCoreFFI.h, module.modulemap} -- one clang module LogbookFFI with both headers
#      (in a subdirectory named after the module, so several XCFrameworks in one app never
#      collide on a top-level module.modulemap)
#   5. copy both Swift files into ios/LogbookKit/Sources/LogbookKit/Generated/
#
# Environment: CARGO_TARGET_DIR (honoured), XCFRAMEWORK_PROFILE=release (default) or debug.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FFI_PACKAGE="logbook-ffi"
FFI_LIB_NAME="logbook_ffi"
FFI_MODULE="LogbookFFI"          # bindings/uniffi.toml [bindings.swift] ffi_module_name
# One entry per uniffi component: bindings/uniffi.toml, then core/uniffi.toml
# ([bindings.swift] module_name -> <module_name>.swift, ffi_module_filename -> <name>.h).
SWIFT_FILES=("LogbookKit.swift" "LogbookCore.swift")
HEADERS=("LogbookFFI.h" "LogbookCoreFFI.h")
PACKAGE_DIR="$ROOT/ios/LogbookKit"
XCFRAMEWORK="$PACKAGE_DIR/$FFI_MODULE.xcframework"
GENERATED_DIR="$PACKAGE_DIR/Sources/LogbookKit/Generated"
DEVICE_TARGET="aarch64-apple-ios"
SIM_TARGETS=("aarch64-apple-ios-sim" "x86_64-apple-ios")
PROFILE="${XCFRAMEWORK_PROFILE:-release}"

if [ "$(uname -s)" != Darwin ]; then
    echo "build-xcframework: this needs macOS with Xcode (xcodebuild, lipo, the iOS SDKs);"
    echo "build-xcframework: on $(uname -s) nothing was built. Here, scripts/check-swift-bindings.sh"
    echo "build-xcframework: checks that the Swift bindings generate correctly."
    exit 1
fi
for tool in xcodebuild lipo cargo rustup; do
    command -v "$tool" >/dev/null 2>&1 || { echo "build-xcframework: ERROR: $tool not found" >&2; exit 1; }
done

if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"; TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="$ROOT/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"
cd "$ROOT"

rustup target add "$DEVICE_TARGET" "${SIM_TARGETS[@]}" >/dev/null

profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)
for target in "$DEVICE_TARGET" "${SIM_TARGETS[@]}"; do
    echo "build-xcframework: cargo $target ($PROFILE)"
    # Only the static library: no cdylib link and no uniffi-bindgen binary for iOS.
    cargo rustc -p "$FFI_PACKAGE" --lib --target "$target" "${profile_flag[@]}" --crate-type staticlib
done

lib() { echo "$TARGET_DIR/$1/$PROFILE/lib$FFI_LIB_NAME.a"; }
WORK="$TARGET_DIR/xcframework"
rm -rf "$WORK"
mkdir -p "$WORK/sim" "$WORK/headers/$FFI_MODULE"
lipo -create "$(lib "${SIM_TARGETS[0]}")" "$(lib "${SIM_TARGETS[1]}")" -output "$WORK/sim/lib$FFI_LIB_NAME.a"

"$ROOT/scripts/bindings.sh" swift
GEN="$TARGET_DIR/bindings/swift"
for h in "${HEADERS[@]}"; do cp "$GEN/$h" "$WORK/headers/$FFI_MODULE/"; done
# One module map for both headers (uniffi writes one per component; core's is disabled).
{
    echo "module $FFI_MODULE {"
    for h in "${HEADERS[@]}"; do echo "    header \"$h\""; done
    echo '    export *'
    echo '    use "Darwin"'
    echo '    use "_Builtin_stdbool"'
    echo '    use "_Builtin_stdint"'
    echo "}"
} > "$WORK/headers/$FFI_MODULE/module.modulemap"

rm -rf "$XCFRAMEWORK"
xcodebuild -create-xcframework \
    -library "$(lib "$DEVICE_TARGET")" -headers "$WORK/headers" \
    -library "$WORK/sim/lib$FFI_LIB_NAME.a" -headers "$WORK/headers" \
    -output "$XCFRAMEWORK"

rm -rf "$GENERATED_DIR"
mkdir -p "$GENERATED_DIR"
for f in "${SWIFT_FILES[@]}"; do cp "$GEN/$f" "$GENERATED_DIR/"; done
echo "build-xcframework: $XCFRAMEWORK"
echo "build-xcframework: $GENERATED_DIR/{${SWIFT_FILES[*]}}"
echo "build-xcframework: open ios/LogbookKit/Package.swift in Xcode, or add the package to the app"
