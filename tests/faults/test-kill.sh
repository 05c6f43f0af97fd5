#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs test-kill-daemon against a private test daemon of its own.
#   test-kill.sh PROGRAM TEST-DAEMON-SCRIPT
set -eu
prog=$1
daemon=$2
dir=$(mktemp -d)
cleanup() {
    "$daemon" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE
if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null 2>&1; then
    echo "1..0 # SKIP needs root and libvirtd"
    exit 0
fi
if ! "$daemon" start-one "$dir" >"$dir/start.log" 2>&1; then
    cat "$dir/start.log" >&2
    echo "1..0 # SKIP the test daemon did not start"
    exit 0
fi
"$prog" "$dir" "$daemon"
