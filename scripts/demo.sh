#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo: install what is missing, build, start a private libvirtd serving
# the test driver in a temporary directory, drive it with `virtrpc`, stop it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
vrpc="${BUILD_DIR:-$top/build}/cli/virtrpc"

tmp=$(mktemp -d)
cleanup() {
    exec 3>&-
    "$top/scripts/test-daemon.sh" stop "$tmp" || true
    rm -rf "$tmp"
}
trap cleanup EXIT HUP INT PIPE TERM
"$top/scripts/test-daemon.sh" start "$tmp"
uri="test+unix:///default?socket=$tmp/sys/run/libvirt-sock"

# The test driver forgets its fake host (and every change to it) when its
# last connection closes, and each `virtrpc` command is a connection of its
# own: hold one open (a virsh waiting for commands) for the whole demo.
mkfifo "$tmp/hold"
virsh -c "$uri" <"$tmp/hold" >"$tmp/hold.out" 2>&1 &
exec 3>"$tmp/hold"
echo uri >&3
i=0
while [ ! -s "$tmp/hold.out" ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done

run() {
    echo
    echo "\$ virtrpc $*"
    "$vrpc" -c "$uri" "$@"
}
echo "A private libvirtd (test driver) is running; its socket is in a temporary directory."
run version
run list
run dominfo test
echo
echo "--- lifecycle: shut the domain down and start it again"
run shutdown test
run dominfo test
run list
run start test
run dominfo test
run dumpxml test
run call domain_lookup_by_name '{"name": "test"}'
echo
echo "Stopping the daemon."
