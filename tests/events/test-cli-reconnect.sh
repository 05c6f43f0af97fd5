#!/bin/sh
# SPDX-License-Identifier: MIT
# `virtrpc events --reconnect` across restarts of a private daemon (its own,
# started here): the state changes on stderr, lifecycle events on stdout
# again after each restart, status 0 on SIGINT. Without --reconnect the
# same kill ends the command with status 1.
# Usage: test-cli-reconnect.sh VIRTRPC
set -u
exe=$1
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need_root_libvirtd
use_tmp
daemon_start_or_finish "start a private daemon" rc
uri="test+unix:///default?socket=$tmp/rc/sys/run/libvirt-sock"
sock="$tmp/rc/sys/run/libvirt-sock"
pids=
# shellcheck disable=SC2016 # expanded at exit
at_exit 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'

lines() { wc -l <"$1"; }
more_than() { [ "$(lines "$1")" -gt "$2" ]; }
bounce() { "$exe" -c "$uri" destroy test >/dev/null 2>&1; "$exe" -c "$uri" start test >/dev/null 2>&1; }
has() { grep -q "$2" "$1"; }
# shellcheck disable=SC2317 # called through wait_until
count_ge() { [ "$(grep -c "$2" "$1")" -ge "$3" ]; }
restart() {
    kill -9 "$(cat "$tmp/rc/sys/pid")"
    wait_until 100 t_gone "$(cat "$tmp/rc/sys/pid")"
    rm -f "$sock"
    daemon_start rc
}

"$exe" -c "$uri" events lifecycle --reconnect >"$tmp/out" 2>"$tmp/err" &
ev_pid=$!
"$exe" -c "$uri" events lifecycle >"$tmp/plain.out" 2>"$tmp/plain.err" &
plain_pid=$!
pids="$ev_pid $plain_pid"
# Registered once both see a destroy + start.
i=0
while [ $i -lt 50 ] && ! { more_than "$tmp/out" 1 && more_than "$tmp/plain.out" 1; }; do
    bounce
    sleep 0.1
    i=$((i + 1))
done
ok "$([ $i -lt 50 ] && echo 0 || echo 1)" "both listeners print lifecycle events"

good=0
for round in 1 2 3; do
    restart
    if wait_until 200 count_ge "$tmp/err" '^virtrpc: reconnected' $round; then
        n=$(lines "$tmp/out")
        j=0
        while [ $j -lt 50 ] && ! more_than "$tmp/out" "$((n + 1))"; do
            bounce
            sleep 0.1
            j=$((j + 1))
        done
        [ $j -lt 50 ] && good=$((good + 1))
    fi
done
ok "$([ $good = 3 ] && echo 0 || echo 1)" "--reconnect: new lifecycle events after each of 3 restarts ($good)"
ok "$([ "$(grep -c '^virtrpc: connection lost: ' "$tmp/err")" = 3 ] &&
    [ "$(grep -c '^virtrpc: reconnected (attempt [0-9]*)$' "$tmp/err")" = 3 ] &&
    grep -q '^virtrpc: reconnecting (attempt 1)$' "$tmp/err" && echo 0 || echo 1)" \
    "--reconnect: each loss, attempt and reconnection on stderr"
wait_until 100 t_gone "$plain_pid"
wait "$plain_pid"
plain_rc=$?
ok "$([ $plain_rc = 1 ] && has "$tmp/plain.err" "the connection ended" && echo 0 || echo 1)" \
    "without --reconnect the first kill ends it (status $plain_rc)"
kill -INT "$ev_pid"
wait "$ev_pid"
ev_rc=$?
# shellcheck disable=SC2034 # read by the exit hook
pids=
ok "$([ $ev_rc = 0 ] && echo 0 || echo 1)" "--reconnect: SIGINT ends it with status 0 ($ev_rc)"
[ $status = 0 ] || diag "$tmp/err" "$tmp/plain.err"
finish
