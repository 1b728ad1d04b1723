# shellcheck shell=bash
# Source this file, then call `ensure_wrk`: makes sure Debian's wrk is on PATH (bench.http loads the server
# with it, and a test checks its Lua script against a tiny server), installing it with apt-get when missing.

ensure_wrk() {
    if command -v wrk >/dev/null 2>&1; then
        return 0
    fi
    echo "ensure_wrk: wrk is missing; installing Debian's wrk" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "ensure_wrk: FAILED: installing wrk needs root (or: sudo apt-get install wrk)" >&2
        return 1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; then
        # The package lists may be missing on a fresh machine.
        DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk || {
            echo "ensure_wrk: FAILED: apt-get install wrk" >&2
            return 1
        }
    fi
}
