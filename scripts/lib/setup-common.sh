# Shared by the setup scripts (sourced, not run): their one-line messages and the way they
# get root for apt-get. The sourcing script sets SETUP_NAME (its name in messages) and may
# set ROOT_HINT (what to do by hand when root is not available).

say() { printf '%s: %s\n' "$SETUP_NAME" "$*"; }
die() { printf '%s: ERROR: %s\n' "$SETUP_NAME" "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo when it needs no
# password (CI has no stdin to type one), otherwise stops with what to run.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
    else die "need root to run: $*${ROOT_HINT:+ ($ROOT_HINT)}"
    fi
}
