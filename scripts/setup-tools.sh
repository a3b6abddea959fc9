#!/usr/bin/env bash
# Install (or find) the foreign-language tools the binding tests need, then write
# .tools/env.sh so the other scripts can `source` the paths it found.
#
#   JNA            Debian package libjna-java  -> /usr/share/java/jna.jar
#   poppler-utils  Debian package poppler-utils -> pdftotext, pdftoppm (the tests of the
#                  printable papers read the PDFs back with them)
#   Kotlin         npm package kotlin-compiler -> .tools/kotlin-compiler/node_modules/kotlin-compiler
#                  (kotlinc-jvm, kotlin-stdlib, kotlin-test, kotlinx-coroutines-core-jvm)
#   pytest         in the current python, or a venv under .tools/venv if pip refuses
#
# Idempotent, non-interactive, and quick when everything is already there (no network then).
# Overrides: KOTLIN_HOME (an existing Kotlin distribution), JNA_JAR, PYTHON.
# Prints one line per tool saying what it did.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="${LOGBOOK_TOOLS_DIR:-$ROOT/.tools}"
KOTLIN_NPM_VERSION="${KOTLIN_NPM_VERSION:-2.4.20}"   # npm package kotlin-compiler
KOTLIN_ACCEPT_PREFIX="2.4."                          # any 2.4.x already installed is fine
JNA_DEBIAN_PACKAGE="libjna-java"
JNA_DEFAULT_JAR="/usr/share/java/jna.jar"
PYTEST_SPEC="pytest>=8"

mkdir -p "$TOOLS_DIR"
SETUP_NAME="setup-tools"
# shellcheck source=lib/setup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup-common.sh"

# --- JNA -------------------------------------------------------------------------------
JNA_JAR="${JNA_JAR:-$JNA_DEFAULT_JAR}"
if [ -f "$JNA_JAR" ]; then
    say "jna: present ($JNA_JAR)"
else
    [ "$JNA_JAR" = "$JNA_DEFAULT_JAR" ] || die "JNA_JAR=$JNA_JAR does not exist"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -qq "$JNA_DEBIAN_PACKAGE" >/dev/null 2>&1; then
        # Fresh machines have no package lists yet: update once, then retry.
        as_root apt-get update -qq >/dev/null
        as_root apt-get install -y -qq "$JNA_DEBIAN_PACKAGE" >/dev/null
    fi
    [ -f "$JNA_JAR" ] || die "$JNA_DEBIAN_PACKAGE installed but $JNA_JAR is missing"
    say "jna: installed $JNA_DEBIAN_PACKAGE ($JNA_JAR)"
fi

# --- poppler-utils (pdftotext, pdftoppm) ----------------------------------------------
POPPLER_DEBIAN_PACKAGE="poppler-utils"
if command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1; then
    say "poppler-utils: present ($(command -v pdftotext))"
else
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y -qq "$POPPLER_DEBIAN_PACKAGE" >/dev/null 2>&1; then
        # Fresh machines have no package lists yet: update once, then retry.
        as_root apt-get update -qq >/dev/null
        as_root apt-get install -y -qq "$POPPLER_DEBIAN_PACKAGE" >/dev/null
    fi
    command -v pdftotext >/dev/null 2>&1 || die "$POPPLER_DEBIAN_PACKAGE installed but pdftotext is missing"
    say "poppler-utils: installed $POPPLER_DEBIAN_PACKAGE ($(command -v pdftotext))"
fi

# --- Kotlin ----------------------------------------------------------------------------
kotlin_ok() {  # $1 = distribution dir
    [ -x "$1/bin/kotlinc-jvm" ] && [ -f "$1/lib/kotlin-stdlib.jar" ] &&
        [ -f "$1/lib/kotlin-test.jar" ] && [ -f "$1/lib/kotlinx-coroutines-core-jvm.jar" ] &&
        [ -f "$1/build.txt" ] && case "$(cat "$1/build.txt")" in "$KOTLIN_ACCEPT_PREFIX"*) true ;; *) false ;; esac
}
LOCAL_KOTLIN="$TOOLS_DIR/kotlin-compiler/node_modules/kotlin-compiler"
KOTLIN_FOUND=""
if [ -n "${KOTLIN_HOME:-}" ] && kotlin_ok "$KOTLIN_HOME"; then
    KOTLIN_FOUND="$KOTLIN_HOME"; say "kotlin: present $(cat "$KOTLIN_FOUND/build.txt") (KOTLIN_HOME=$KOTLIN_FOUND)"
elif kotlin_ok "$LOCAL_KOTLIN"; then
    KOTLIN_FOUND="$LOCAL_KOTLIN"; say "kotlin: present $(cat "$KOTLIN_FOUND/build.txt") ($KOTLIN_FOUND)"
elif command -v npm >/dev/null 2>&1 && GLOBAL_NPM="$(npm root -g 2>/dev/null)" &&
        kotlin_ok "$GLOBAL_NPM/kotlin-compiler"; then
    KOTLIN_FOUND="$GLOBAL_NPM/kotlin-compiler"; say "kotlin: reusing global npm $(cat "$KOTLIN_FOUND/build.txt") ($KOTLIN_FOUND)"
else
    command -v npm >/dev/null 2>&1 || die "npm is needed to install kotlin-compiler"
    mkdir -p "$TOOLS_DIR/kotlin-compiler"
    npm install --prefix "$TOOLS_DIR/kotlin-compiler" --no-audit --no-fund --no-save \
        --loglevel=error "kotlin-compiler@$KOTLIN_NPM_VERSION" >/dev/null 2>&1 ||
        die "npm install kotlin-compiler@$KOTLIN_NPM_VERSION failed"
    # npm does not always keep the exec bit on files that are not declared as "bin".
    chmod +x "$LOCAL_KOTLIN"/bin/* 2>/dev/null || true
    kotlin_ok "$LOCAL_KOTLIN" || die "kotlin-compiler installed but incomplete at $LOCAL_KOTLIN"
    KOTLIN_FOUND="$LOCAL_KOTLIN"; say "kotlin: installed npm kotlin-compiler@$KOTLIN_NPM_VERSION ($KOTLIN_FOUND)"
fi
command -v java >/dev/null 2>&1 || die "java (JDK 17+) is needed for kotlinc and the JVM tests"

# --- Python + pytest -------------------------------------------------------------------
PY="${PYTHON:-$(command -v python3 || command -v python || true)}"
[ -n "$PY" ] || die "python3 not found"
PY="$("$PY" -c 'import sys; print(sys.executable)')"   # resolve pyenv shims to the real interpreter
VENV="$TOOLS_DIR/venv"
if "$PY" -c 'import pytest' >/dev/null 2>&1; then
    say "pytest: present ($("$PY" -c 'import pytest; print(pytest.__version__)') in $PY)"
elif [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import pytest' >/dev/null 2>&1; then
    PY="$VENV/bin/python"; say "pytest: present in venv ($PY)"
elif "$PY" -m pip install -q --disable-pip-version-check "$PYTEST_SPEC" >/dev/null 2>&1 &&
        "$PY" -c 'import pytest' >/dev/null 2>&1; then
    say "pytest: installed with pip into $PY"
else
    # e.g. an "externally managed" system python: use a project-local venv instead.
    "$PY" -m venv "$VENV" >/dev/null || die "cannot create venv at $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$PYTEST_SPEC" >/dev/null ||
        die "pip install pytest into $VENV failed"
    PY="$VENV/bin/python"; say "pytest: installed into venv ($PY)"
fi

# --- Hand the paths to the other scripts -------------------------------------------------
cat > "$TOOLS_DIR/env.sh" <<EOF
# Written by scripts/setup-tools.sh on every run; source it, do not edit.
export KOTLIN_HOME="$KOTLIN_FOUND"
export JNA_JAR="$JNA_JAR"
export LOGBOOK_PYTHON="$PY"
EOF
say "env: wrote $TOOLS_DIR/env.sh"
