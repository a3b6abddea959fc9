#!/usr/bin/env bash
# Every test of the project, on a fresh machine with nothing but Rust, Java, Node and
# Python: installs the OpenSSL headers the Rust build needs (scripts/setup-build.sh) and
# what the Kotlin and Python tests need (scripts/setup-tools.sh),
# then runs formatting and lint checks, the Rust tests (unit, property, CLI, relay,
# end-to-end), the relay's tests again on a throwaway PostgreSQL cluster
# (scripts/setup-postgres.sh), the Kotlin JVM tests, the desktop Compose UI tests (Maven;
# installs libgl1, fonts and Maven's downloads through scripts/setup-desktop.sh), the
# Python tests, the Swift generation check, and a short deterministic run of every fuzz
# target.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# A cold CI build gains nothing from incremental compilation and it doubles what target/
# holds; a developer's own setting is kept.
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi

# The Rust build needs the OpenSSL headers (SQLCipher links libcrypto on Linux).
scripts/setup-build.sh

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo build (all targets, so benchmarks compile too)"
cargo build --workspace --all-targets

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace

# The relay's suite again with every relay on PostgreSQL (docs/OPERATIONS-POSTGRES.md): a
# throwaway cluster on a loopback port, stopped and removed however the tests end.
echo "== relay tests against PostgreSQL"
PG_DIR="$(mktemp -d)"
trap 'scripts/setup-postgres.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"' EXIT
PG_URL="$(scripts/setup-postgres.sh start "$PG_DIR")"
LOGBOOK_TEST_POSTGRES="$PG_URL" cargo test -p logbook-relay
scripts/setup-postgres.sh stop "$PG_DIR"

# The library is built; the foreign-language runners reuse it.
echo "== Kotlin (JVM) tests"
BINDINGS_SKIP_BUILD=1 scripts/test-kotlin.sh

echo "== Desktop Compose app (Maven, headless UI tests)"
BINDINGS_SKIP_BUILD=1 scripts/test-desktop.sh

echo "== Python tests"
BINDINGS_SKIP_BUILD=1 scripts/test-python.sh

echo "== Swift bindings (generated here, compiled on macOS)"
BINDINGS_SKIP_BUILD=1 scripts/check-swift-bindings.sh

# Coverage-guided fuzz targets (fuzz/, cargo-fuzz on stable with -s none): built, then each
# replays its committed corpus and 2,000 inputs from a fixed seed, so they stay buildable
# and a run is repeatable. Long runs: FUZZ_SECONDS=600 scripts/fuzz.sh (docs/SECURITY.md).
echo "== fuzz targets (corpus + 2,000 seeded inputs each)"
FUZZ_RUNS=2000 scripts/fuzz.sh
