#!/bin/sh
# SPDX-License-Identifier: MIT
# A connection whose daemon is stopped under it, on virtrpc's libvirt.so.0
# and on the system's: the calls that follow must fail (or answer) the same
# way with both libraries (closed-conn.c prints codes and domains).
# Usage: test-closed.sh SRCDIR CLOSED-CONN
set -u
prog=$2
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

# meson puts build/compat first in the loader's path: the daemons must not
# load it (they take libvirt's private symbols), only our program does.
ours_path=${LD_LIBRARY_PATH:-}
unset LD_LIBRARY_PATH

need_root_libvirtd
use_tmp
sys=$(/sbin/ldconfig -p 2>/dev/null | awk '/libvirt\.so\.0 /{print $NF; exit}')
[ -n "$sys" ] || skip_all "no system libvirt.so.0 to compare with"

run() { # NAME [LD_LIBRARY_PATH]
    if ! daemon_start "d$1"; then
        ok 1 "$1: start a daemon"
        diag "$tmp/d$1.start"
        return
    fi
    rm -f "$tmp/fifo.$1"
    mkfifo "$tmp/fifo.$1"
    uri="test+unix:///default?socket=$tmp/d$1/sys/run/libvirt-sock"
    LD_LIBRARY_PATH=${2:-$ours_path} "$prog" "$uri" <"$tmp/fifo.$1" >"$tmp/out.$1" 2>&1 &
    pid=$!
    exec 3>"$tmp/fifo.$1"
    wait_until 100 grep -q '^open' "$tmp/out.$1"
    "$daemon" stop "$tmp/d$1" >/dev/null 2>&1
    echo go >&3
    exec 3>&-
    wait "$pid"
    ok $? "$1: the program ran to its end"
}
run ours
# (LeakSanitizer looks at our library's run only: libvirt.so leaks)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 run sys "$(dirname "$sys")"
if cmp -s "$tmp/out.sys" "$tmp/out.ours"; then
    ok 0 "the same outcomes as libvirt.so ($(grep -c . "$tmp/out.ours") lines)"
    sed 's/^/# /' "$tmp/out.ours"
else
    ok 1 "the same outcomes as libvirt.so"
    diff -u "$tmp/out.sys" "$tmp/out.ours" | sed 's/^/# /'
fi
finish
