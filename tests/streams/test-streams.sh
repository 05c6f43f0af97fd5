#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one stream test program against a private, unprivileged libvirtd that
# this script starts and always stops. The daemon loads only the drivers
# asked for (storage, qemu) and keeps all of its state in a temporary
# directory: its XDG directories (and so the session qemu driver's
# qemu.conf, logs, monitor sockets, capabilities cache) live there. Nothing
# outside that directory is changed. It runs as user nobody when started by
# root, else as the current user.
#
# Usage: test-streams.sh PROGRAM DRIVER... [-- ARGS...]
# The program gets VRPC_STREAMS_DIR (the daemon's directory),
# VRPC_STREAMS_SOCKET (its socket), VRPC_STREAMS_PIDFILE, and for the qemu
# driver VRPC_STREAMS_QEMU=1 when qemu-system-x86_64 is there.
# With VRPC_DAEMON_ROOT (scripts/debian-root.sh), the daemon is that root's.
set -u
prog=$1
shift
drivers=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    drivers="$drivers $1"
    shift
done
[ $# -gt 0 ] && shift

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

root=${VRPC_DAEMON_ROOT:-}
moddir=
for d in /usr/lib/x86_64-linux-gnu/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver; do
    [ -d "$root$d" ] && moddir=$d && break
done
if [ -n "$root" ]; then
    run_daemon() { "$top/scripts/debian-root.sh" run "$root" "$@"; }
else
    run_daemon() { "$@"; }
    command -v libvirtd >/dev/null 2>&1 || skip_all "no libvirtd"
fi
[ -n "$moddir" ] || skip_all "no libvirt driver modules"

# A short directory name: QEMU's monitor socket path lives below it.
use_tmp /tmp/vst.XXXXXX
d=$tmp/d
# QEMU processes the daemon started and left behind (a killed daemon).
at_exit 'for f in "$d"/state/config/libvirt/qemu/run/*.pid "$d"/state/runtime/libvirt/qemu/run/*.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
done'
at_exit '[ -f "$d/pid" ] && kill_wait "$(cat "$d/pid" 2>/dev/null)"'

mkdir -p "$d/run" "$d/drivers" "$d/pool" "$d/state/config/libvirt" "$d/state/cache" \
    "$d/state/runtime"
qemu=0
for m in $drivers; do
    if [ ! -f "$root$moddir/libvirt_driver_$m.so" ]; then
        # A root of the daemon matrix must have what its tests need.
        [ -z "$root" ] || { ok 1 "the libvirt $m driver in $root"; finish; }
        skip_all "no libvirt $m driver"
    fi
    ln -s "$moddir/libvirt_driver_$m.so" "$d/drivers/"
    if [ "$m" = qemu ] && { [ -x "$root/usr/bin/qemu-system-x86_64" ] ||
        { [ -z "$root" ] && command -v qemu-system-x86_64 >/dev/null 2>&1; }; }; then
        qemu=1
    fi
done
"$daemon" conf "$d"
# The session qemu driver's configuration: no virtlogd in this sandbox.
echo 'stdio_handler = "file"' >"$d/state/config/libvirt/qemu.conf"

run_as=
if [ "$(id -u)" = 0 ]; then
    group=$(id -gn nobody 2>/dev/null || echo nogroup)
    chown -R "nobody:$group" "$d"
    run_as="setpriv --reuid=nobody --regid=$group --clear-groups"
fi
# shellcheck disable=SC2086
(cd "$d" && run_daemon env -i PATH="$PATH" HOME="$d/state" XDG_CONFIG_HOME="$d/state/config" \
    XDG_CACHE_HOME="$d/state/cache" XDG_RUNTIME_DIR="$d/state/runtime" \
    LIBVIRT_DRIVER_DIR="$d/drivers" $run_as libvirtd -f "$d/libvirtd.conf" -p "$d/pid" -d) ||
    { [ -z "$root" ] || { ok 1 "libvirtd of $root starts"; finish; }; skip_all "libvirtd did not start"; }
if ! wait_until 200 test -S "$d/run/libvirt-sock"; then
    cat "$d/libvirtd.log" >&2
    [ -z "$root" ] || { ok 1 "libvirtd of $root makes its socket"; finish; }
    skip_all "libvirtd made no socket"
fi

VRPC_STREAMS_DIR=$d VRPC_STREAMS_SOCKET=$d/run/libvirt-sock VRPC_STREAMS_PIDFILE=$d/pid \
    VRPC_STREAMS_QEMU=$qemu "$prog" "$@"
rc=$?
if [ $rc -ne 0 ] && [ -f "$d/libvirtd.log" ]; then
    echo "# daemon log (last lines):"
    tail -n 20 "$d/libvirtd.log" | diag
fi
exit $rc
