# shellcheck shell=bash
# Source this file, then call `ensure_chromium`: makes sure Debian's Chromium is at /usr/bin/chromium
# (the browser tests drive it through Playwright), installing it with apt-get when missing.

ensure_chromium() {
    local bin=/usr/bin/chromium
    if [[ -x $bin ]]; then
        return 0
    fi
    echo "ensure_chromium: $bin is missing; installing Debian's chromium" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "ensure_chromium: FAILED: installing chromium needs root" >&2
        return 1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q; then
        echo "ensure_chromium: FAILED: apt-get update" >&2
        return 1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; then
        echo "ensure_chromium: FAILED: apt-get install chromium" >&2
        return 1
    fi
    if [[ ! -x $bin ]] || ! "$bin" --version >/dev/null; then
        echo "ensure_chromium: FAILED: chromium installed but $bin does not run" >&2
        return 1
    fi
    echo "ensure_chromium: $("$bin" --version)" >&2
}
