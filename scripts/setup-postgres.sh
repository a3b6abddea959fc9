#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the relay's tests and benches.
#
#   scripts/setup-postgres.sh start DIR   # initdb in DIR (if new), start on 127.0.0.1 and a
#                                         # free port, print the URL (also in DIR/url)
#   scripts/setup-postgres.sh stop DIR    # stop it (DIR is kept; rm -rf it after)
#
# Idempotent: `start` on a running cluster prints its URL again; `stop` on a stopped or
# missing one does nothing. Installs Debian's postgresql package when no initdb is found
# (non-interactive). As root, the cluster runs as the unprivileged user `nobody`
# (PostgreSQL refuses to run as root). Trust authentication, loopback only: for tests.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd="$1"
dir="$2"

find_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then
        echo "$found"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
    if [ "$cmd" = stop ]; then exit 0; fi
    if [ "$(id -u)" != 0 ]; then
        echo "PostgreSQL is not installed (no initdb); install Debian's postgresql package" >&2
        exit 1
    fi
    echo "installing PostgreSQL (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN="$(find_bin)"
    [ -n "$BIN" ] || { echo "initdb still missing after installing postgresql" >&2; exit 1; }
fi

data="$dir/data"
case "$cmd" in
start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown nobody "$dir"; fi
    chmod 700 "$dir"
    if [ -f "$dir/url" ] && as_owner "$BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        cat "$dir/url"
        exit 0
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_owner "$BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A free port: try a few random ones (bounded), start on the first that works.
    for _ in $(seq 1 20); do
        port=$(( 20000 + RANDOM % 20000 ))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            continue # something listens there
        fi
        if as_owner "$BIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c max_connections=200" \
            start >/dev/null; then
            url="postgres://postgres@127.0.0.1:$port/postgres"
            echo "$url" >"$dir/url"
            echo "$url"
            exit 0
        fi
    done
    echo "could not start PostgreSQL; see $dir/server.log" >&2
    exit 1
    ;;
stop)
    if [ -f "$data/PG_VERSION" ]; then
        as_owner "$BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -f "$dir/url"
    ;;
*)
    usage
    ;;
esac
