#!/usr/bin/env bash
# Generate the foreign-language bindings of logbook-ffi.
#
#   scripts/bindings.sh kotlin|swift|python [more languages...]
#
# Builds the workspace once (`cargo build --workspace`: building one package with a
# different feature set than the rest triggers long rebuilds), then runs the in-workspace
# uniffi-bindgen in library mode on the cdylib and writes the sources to
# $TARGET_DIR/bindings/<language>/ (wiped first, so nothing stale survives).
#
# Environment:
#   CARGO_TARGET_DIR        honoured (default: <workspace>/target)
#   BINDINGS_PROFILE        debug (default) or release
#   BINDINGS_SKIP_BUILD=1   use the library that is already built
#   UNIFFI_GLOBAL_CONFIG    optional uniffi 0.32 *global* config ([defaults]/[crates.*]);
#                           the crate's own bindings/uniffi.toml is found without it
#   LOGBOOK_WORKSPACE       the Cargo workspace to build (default: this repository)
set -euo pipefail

# --- names and paths (change here if the crate or binary is renamed) -----------------------
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORKSPACE="${LOGBOOK_WORKSPACE:-$ROOT}"
FFI_PACKAGE="logbook-ffi"          # Cargo package of the FFI crate
FFI_LIB_NAME="logbook_ffi"         # [lib] name -> liblogbook_ffi.so / .dylib
BINDGEN_BIN="uniffi-bindgen"       # bindings/src/bin/uniffi-bindgen.rs
PROFILE="${BINDINGS_PROFILE:-debug}"
case "$(uname -s)" in Darwin) DYLIB_EXT=dylib ;; *) DYLIB_EXT=so ;; esac

# CARGO_TARGET_DIR may be relative to where we were called from; make it absolute.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    mkdir -p "$CARGO_TARGET_DIR"
    TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
else
    TARGET_DIR="$WORKSPACE/target"
fi
export CARGO_TARGET_DIR="$TARGET_DIR"
LIB_PATH="$TARGET_DIR/$PROFILE/lib$FFI_LIB_NAME.$DYLIB_EXT"
BINDGEN="$TARGET_DIR/$PROFILE/$BINDGEN_BIN"
OUT_ROOT="$TARGET_DIR/bindings"

usage() { echo "usage: $0 kotlin|swift|python [...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
for lang in "$@"; do
    case "$lang" in kotlin|swift|python) ;; *) usage ;; esac
done

cd "$WORKSPACE"   # uniffi-bindgen runs `cargo metadata` to find each crate's uniffi.toml

if [ "${BINDINGS_SKIP_BUILD:-0}" != 1 ]; then
    profile_flag=()
    [ "$PROFILE" = release ] && profile_flag=(--release)
    echo "bindings: cargo build --workspace${profile_flag[*]:+ ${profile_flag[*]}} (target dir $TARGET_DIR)"
    cargo build --workspace "${profile_flag[@]}" --quiet
fi
[ -f "$LIB_PATH" ] || { echo "bindings: ERROR: $LIB_PATH not found (is $FFI_PACKAGE a cdylib?)" >&2; exit 1; }
[ -x "$BINDGEN" ] || { echo "bindings: ERROR: $BINDGEN not found (bin target $BINDGEN_BIN of $FFI_PACKAGE)" >&2; exit 1; }

config_flag=()
[ -n "${UNIFFI_GLOBAL_CONFIG:-}" ] && config_flag=(--config "$UNIFFI_GLOBAL_CONFIG")

for lang in "$@"; do
    out="$OUT_ROOT/$lang"
    rm -rf "$out"
    mkdir -p "$out"
    # --no-format: formatters (ktlint, swift-format, yapf) are not installed here, and we
    # do not want output that depends on which machine generated it.
    "$BINDGEN" generate --library "$LIB_PATH" --language "$lang" --out-dir "$out" \
        --no-format "${config_flag[@]}"
    n="$(find "$out" -type f | wc -l)"
    [ "$n" -gt 0 ] || { echo "bindings: ERROR: uniffi-bindgen wrote nothing to $out" >&2; exit 1; }
    echo "bindings: $lang -> $out ($n files)"
done
