#!/usr/bin/env bash
# The main job on a fresh machine: installs what the build needs (scripts/setup-build.sh:
# the OpenSSL headers SQLCipher links against, idempotent and quick when present), then
# runs the CLI's demo. Extra arguments go to `logbook demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup-build.sh
exec cargo run --bin logbook -- demo "$@"
