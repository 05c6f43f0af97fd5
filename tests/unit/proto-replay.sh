#!/bin/sh
# SPDX-License-Identifier: MIT
# Record a real session with the private root daemon (scripts/test-daemon.sh,
# $VRPC_TEST_DIR) through a relaying proxy, then replay it through the
# protocol core with no socket and no thread (test-proto --replay). The
# session: the tool's "events --all" for 7 s (open, feature probes, event
# registrations, the events other tests cause, the daemon's keepalive PINGs
# and our PONGs, deregistrations, close). Recorded at test time, never stored.
# Usage: proto-replay.sh RECORDER TEST_PROTO VIRTRPC
rec=${1:?usage}
test_proto=${2:?usage}
cli=${3:?usage}
if [ -z "$VRPC_TEST_DIR" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    echo "1..0 # SKIP no private daemon (VRPC_TEST_DIR)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sock=$VRPC_TEST_DIR/sys/run/libvirt-sock
if ! python3 "$rec" "$sock" "$tmp/proxy.sock" "$tmp/session" -- \
    "$cli" -c "test+unix:///default?socket=$tmp/proxy.sock" events --all --timeout 7 \
    >"$tmp/events.out" 2>"$tmp/events.err"; then
    echo "not ok 1 - recording the session failed: $(tr '\n' ' ' <"$tmp/events.err")"
    echo "1..1"
    exit 1
fi
exec "$test_proto" --replay "$tmp/session"
