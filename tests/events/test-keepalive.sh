#!/bin/sh
# SPDX-License-Identifier: MIT
# Keepalive and the death of a daemon against private daemons: one to stop
# with SIGSTOP, one with a short keepalive (interval 1 s, count 2), one to
# kill. The checks are in keepalive-check.c.
# Usage: test-keepalive.sh SRCDIR KEEPALIVE-CHECK
set -u
src=$1
check=$2
daemon=$src/scripts/test-daemon.sh
if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null 2>&1; then
    echo "1..0 # SKIP needs root and libvirtd"
    exit 0
fi
tmp=$(mktemp -d)
cleanup() {
    for d in stop idle kill; do
        if [ -f "$tmp/$d/sys/pid" ]; then
            kill -CONT "$(cat "$tmp/$d/sys/pid")" 2>/dev/null || true
        fi
        "$daemon" stop "$tmp/$d" >/dev/null 2>&1 || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT HUP INT TERM
if ! "$daemon" start-one "$tmp/stop" >/dev/null ||
    ! "$daemon" start-one "$tmp/idle" 'keepalive_interval = 1' 'keepalive_count = 2' >/dev/null ||
    ! "$daemon" start-one "$tmp/kill" >/dev/null; then
    echo "Bail out! cannot start the private daemons"
    exit 1
fi
"$check" "$tmp/stop" "$tmp/idle" "$tmp/kill"
