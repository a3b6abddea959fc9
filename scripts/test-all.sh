#!/usr/bin/env bash
# Every test of the project, on a fresh machine with nothing but Rust, Java, Node and
# Python: installs what the Kotlin and Python tests need (scripts/setup-tools.sh),
# then runs formatting and lint checks, the Rust tests (unit, property, CLI, relay,
# end-to-end), the Kotlin JVM tests, the desktop Compose UI tests (Maven; installs libgl1,
# fonts and Maven's downloads through scripts/setup-desktop.sh), the Python tests, and the
# Swift generation check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo build (all targets, so benchmarks compile too)"
cargo build --workspace --all-targets

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

# The library is built; the foreign-language runners reuse it.
echo "== Kotlin (JVM) tests"
BINDINGS_SKIP_BUILD=1 scripts/test-kotlin.sh

echo "== Desktop Compose app (Maven, headless UI tests)"
BINDINGS_SKIP_BUILD=1 scripts/test-desktop.sh

echo "== Python tests"
BINDINGS_SKIP_BUILD=1 scripts/test-python.sh

echo "== Swift bindings (generated here, compiled on macOS)"
BINDINGS_SKIP_BUILD=1 scripts/check-swift-bindings.sh
