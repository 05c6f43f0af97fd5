#!/bin/sh
# SPDX-License-Identifier: MIT
# The generated calls of compat/ against the system's libvirt.so.0: gen-calls
# (linked with -lvirt) prints the same transcript on both, against the same
# private test daemon (VRPC_TEST_DIR, scripts/test-daemon.sh). TAP output.
#
#   gen-calls.sh GEN-CALLS BUILD/compat
set -u
prog=${1:?usage: gen-calls.sh GEN-CALLS BUILD/compat}
dir=${2:?usage: gen-calls.sh GEN-CALLS BUILD/compat}
d=${VRPC_TEST_DIR:-}
if [ -z "$d" ] || [ ! -S "$d/sys/run/libvirt-sock" ]; then
    echo "1..0 # SKIP needs the private daemons (VRPC_TEST_DIR, scripts/test-daemon.sh)"
    exit 0
fi
n=0
fails=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else
        echo "not ok $n - $2"
        fails=$((fails + 1))
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
uri="test+unix:///default?socket=$d/sys/run/libvirt-sock"
ro="test+unix:///default?socket=$d/sys/run/libvirt-sock-ro"

env -u LD_LIBRARY_PATH "$prog" "$uri" "$ro" >"$tmp/system.out" 2>&1
ok $? "the transcript on the system's libvirt.so.0"
LD_LIBRARY_PATH=$dir "$prog" "$uri" "$ro" >"$tmp/compat.out" 2>&1
ok $? "the transcript on compat/"
real=$(cd "$dir" && pwd -P)
LD_LIBRARY_PATH=$dir ldd "$prog" | grep -q "libvirt\.so\.0 => \($real\|$dir\)/"
ok $? "that run loaded compat/'s libvirt.so.0"
lines=$(wc -l <"$tmp/system.out")
[ "$lines" -gt 40 ]
ok $? "the transcript has $lines lines"
if diff -u "$tmp/system.out" "$tmp/compat.out" >"$tmp/diff"; then
    ok 0 "the same transcript on both"
else
    ok 1 "the same transcript on both"
    head -n 60 "$tmp/diff" | sed 's/^/# /'
fi
echo "1..$n"
[ "$fails" = 0 ]
