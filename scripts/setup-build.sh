#!/usr/bin/env bash
# What the Rust build itself needs beyond Rust: the device store is encrypted at rest with
# SQLCipher (rusqlite's bundled SQLCipher, compiled from source), which on Linux links the
# system's libcrypto, so the OpenSSL headers must be there (Debian package libssl-dev).
# Android builds OpenSSL from source instead (needs perl and make on the build host, as
# every Linux and macOS has); iOS and macOS use Apple's CommonCrypto. docs/SECURITY.md,
# "At rest", says which platform uses what.
#
# Idempotent and quick when everything is there (no network then). Prints one line.
set -euo pipefail

SETUP_NAME="setup-build"
ROOT_HINT="or install libssl-dev yourself"
# shellcheck source=lib/setup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup-common.sh"

case "$(uname -s)" in
    Linux) ;;
    *) say "not Linux: nothing to install (macOS uses CommonCrypto)"; exit 0 ;;
esac

if [ -n "${OPENSSL_DIR:-}" ]; then
    say "OPENSSL_DIR=$OPENSSL_DIR: using that OpenSSL"
elif [ -f /usr/include/openssl/evp.h ]; then
    say "libcrypto headers: present"
elif command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -qq libssl-dev >/dev/null 2>&1; then
        # Fresh machines have no package lists yet: update once, then retry.
        as_root apt-get update -qq >/dev/null
        as_root apt-get install -y -qq libssl-dev >/dev/null
    fi
    [ -f /usr/include/openssl/evp.h ] || die "libssl-dev installed but openssl/evp.h is missing"
    say "libcrypto headers: installed libssl-dev"
else
    die "no OpenSSL headers and no apt-get: install your distribution's OpenSSL development package"
fi
