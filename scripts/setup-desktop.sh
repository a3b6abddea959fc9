#!/usr/bin/env bash
# Install (or find) what the desktop Compose app and its UI tests need from Debian:
#
#   libgl1             skiko's native library (libskiko) links against libGL, even when it
#                      renders off screen (ImageComposeScene, runComposeUiTest)
#   fontconfig, fonts-dejavu-core   a font for skia to draw text with
#   maven, a JDK 17    the build (desktop/pom.xml); Maven downloads everything else from
#                      Maven Central itself on the first `mvn -B` run
#   xvfb, x11-apps, imagemagick     only with DESKTOP_XVFB=1: a virtual display to open the
#                      real window and take a screenshot of it (not needed by the tests)
#
# Idempotent, non-interactive (CI=true, no stdin), and quick when everything is present
# (dpkg checks only, no network). Prints one line saying what it did.
set -euo pipefail

SETUP_NAME="setup-desktop"
# shellcheck source=lib/setup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup-common.sh"

packages=(libgl1 fontconfig fonts-dejavu-core maven)
command -v javac >/dev/null 2>&1 || packages+=(openjdk-17-jdk-headless)
[ "${DESKTOP_XVFB:-0}" = 1 ] && packages+=(xvfb x11-apps imagemagick)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    say "present: ${packages[*]}"
else
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null 2>&1; then
        # Fresh machines have no package lists yet: update once, then retry.
        as_root apt-get update -qq </dev/null >/dev/null
        as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
    fi
    say "installed: ${missing[*]}"
fi

command -v mvn >/dev/null 2>&1 || die "mvn not found after installing maven"
command -v java >/dev/null 2>&1 || die "java not found"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || die "Java 17+ is needed (found ${java_major:-none})"
