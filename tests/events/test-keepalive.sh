#!/bin/sh
# SPDX-License-Identifier: MIT
# Keepalive and the death of a daemon against private daemons: one to stop
# with SIGSTOP, one with a short keepalive (interval 1 s, count 2), one to
# kill. The checks are in keepalive-check.c.
# Usage: test-keepalive.sh SRCDIR KEEPALIVE-CHECK
set -u
check=$2
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need_root_libvirtd
use_tmp
if ! daemon_start stop || ! daemon_start idle 'keepalive_interval = 1' 'keepalive_count = 2' ||
    ! daemon_start kill; then
    echo "Bail out! cannot start the private daemons"
    exit 1
fi
# A daemon the checks left stopped (SIGSTOP) must go on to be stopped.
at_exit 'for d in stop idle kill; do
    [ -f "$tmp/$d/sys/pid" ] && kill -CONT "$(cat "$tmp/$d/sys/pid")" 2>/dev/null
done'
"$check" "$tmp/stop" "$tmp/idle" "$tmp/kill"
