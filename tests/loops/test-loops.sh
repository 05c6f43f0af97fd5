#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one event-loop test against a private daemon that drops silent clients
# quickly (keepalive_interval = 1, keepalive_count = 2) and accepts many.
#   test-loops.sh SRCDIR PROGRAM            PROGRAM DIR speaks TAP
#   test-loops.sh SRCDIR --epoll EPOLL-MANY the epoll example, 200 connections
set -u
shift
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need_root_libvirtd
use_tmp
if ! daemon_start d 'keepalive_interval = 1' 'keepalive_count = 2' \
    'max_clients = 1000' 'max_anonymous_clients = 1000'; then
    echo "Bail out! cannot start the private daemon"
    exit 1
fi
if [ "$1" != --epoll ]; then
    "$1" "$tmp/d"
    exit $?
fi

# The epoll example: 200 connections, 3 s of pipelined calls and events,
# then 4 s idle (longer than the daemon's keepalive lets a silent client be).
uri="test+unix:///default?socket=$tmp/d/sys/run/libvirt-sock"
start=$(date +%s)
out=$("$2" "$uri" 200 3 4 4 2>"$tmp/err")
rc=$?
end=$(date +%s)
echo "# $out"
diag "$tmp/err"
ok $rc "epoll-many exits 0 (every connection alive, no call failed)"
field() { echo "$out" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
conns=$(field connections)
alive=$(field alive)
calls=$(field calls)
events=$(field events)
minev=$(field min-events)
cycles=$(field cycles)
errors=$(field errors)
pass=$(field max-pass-ms)
[ "${conns:-0}" = 200 ] && [ "${alive:-0}" = 200 ]
ok $? "200 connections from one thread, all alive after 4 s idle against keepalive 1/2"
[ "${calls:-0}" -ge 2000 ] && [ "${errors:-1}" = 0 ]
ok $? "pipelined calls completed: $calls, errors: $errors"
[ "${cycles:-0}" -ge 3 ] && [ "${minev:-0}" -ge $((2 * ${cycles:-0})) ] && [ "${events:-0}" -ge $((400 * ${cycles:-0})) ]
ok $? "events: $events in total, at least $minev on each connection ($cycles start/stop cycles)"
awk -v p="${pass:-1e9}" 'BEGIN { exit !(p < 250) }'
ok $? "no pass over a connection blocks (longest $pass ms)"
[ $((end - start)) -lt 60 ]
ok $? "finished in $((end - start)) s"
finish
