#!/bin/sh
# SPDX-License-Identifier: MIT
# The common transport checks over a Unix socket (the baseline for the others).
# Usage: test-unix.sh SRCDIR TRANSPORT-CHECK
set -u
src=$1
check=$2
tmp=$(mktemp -d)
trap '"$src/scripts/test-daemon.sh" stop "$tmp"; rm -rf "$tmp"' EXIT HUP INT TERM
"$src/scripts/test-daemon.sh" start-one "$tmp" >/dev/null
"$check" "test+unix:///default?socket=$tmp/sys/run/libvirt-sock" >"$tmp/out"
rc=$?
cat "$tmp/out"
echo "1..$(grep -cE '^(not )?ok' "$tmp/out")"
exit $rc
