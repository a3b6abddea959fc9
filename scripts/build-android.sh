#!/usr/bin/env bash
# Cross-compile liblogbook_ffi.so for Android into the jniLibs of :logbook-android:
#   android/logbook-android/src/main/jniLibs/{arm64-v8a,armeabi-v7a,x86_64}/liblogbook_ffi.so
# Needs the Android NDK (ANDROID_NDK_HOME, or the one cargo-ndk finds through
# ANDROID_HOME/ndk) and cargo-ndk (`cargo install cargo-ndk`). Gradle runs this before
# building :logbook-android (task cargoNdk). The Kotlin bindings come from
# scripts/bindings.sh kotlin (task :logbook-kotlin:generateBindings).
#
# Environment: CARGO_TARGET_DIR (honoured), ANDROID_PROFILE=release (default) or debug.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FFI_PACKAGE="logbook-ffi"
JNI_LIBS="$ROOT/android/logbook-android/src/main/jniLibs"
ABIS=(arm64-v8a armeabi-v7a x86_64)
RUST_TARGETS=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
PROFILE="${ANDROID_PROFILE:-release}"

if ! cargo ndk --version >/dev/null 2>&1; then
    echo "build-android: ERROR: cargo-ndk is missing: cargo install cargo-ndk (and install the NDK)" >&2
    exit 1
fi
command -v rustup >/dev/null 2>&1 && rustup target add "${RUST_TARGETS[@]}" >/dev/null

targets=()
for abi in "${ABIS[@]}"; do targets+=(-t "$abi"); done
profile_flag=()
[ "$PROFILE" = release ] && profile_flag=(--release)

cd "$ROOT"
rm -rf "$JNI_LIBS"
# --lib: the Android build needs the cdylib only, not the uniffi-bindgen binary.
cargo ndk "${targets[@]}" -o "$JNI_LIBS" build "${profile_flag[@]}" -p "$FFI_PACKAGE" --lib
find "$JNI_LIBS" -name '*.so' | sort
