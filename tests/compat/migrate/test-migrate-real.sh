#!/bin/sh
# SPDX-License-Identifier: MIT
# Real migrations of a QEMU guest under software emulation between two
# private, unprivileged session daemons on this machine, which this script
# starts and always stops: each keeps all of its state in its own temporary
# directory (XDG directories: configuration, logs, monitor sockets) and has
# its own host UUID (host_uuid in its libvirtd.conf), the one thing libvirt's
# QEMU driver compares to refuse a migration to the same host. The same
# python3-libvirt program (migrate-real.py) runs on the system's
# libvirt.so.0 and on ours; the transcripts must be identical, and ours must
# leave no descriptor or thread behind.
#
# Usage: test-migrate-real.sh COMPAT-DIR
set -u
compat=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # lib.sh takes the source tree from top
top=$(cd "$here/../../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../lib.sh
. "$here/../../lib.sh"

py=/usr/bin/python3
command -v libvirtd >/dev/null 2>&1 || skip_all "no libvirtd"
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip_all "no qemu-system-x86_64"
# The system's library: whatever the test runner put on the loader's path
# (a sanitizer build's libvirt.so.0) stays out of it.
unset LD_LIBRARY_PATH
"$py" -c 'import libvirt' 2>/dev/null || skip_all "no python3-libvirt"
moddir=
for d in /usr/lib/x86_64-linux-gnu/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver; do
    [ -d "$d" ] && moddir=$d && break
done
if [ -z "$moddir" ] || [ ! -f "$moddir/libvirt_driver_qemu.so" ]; then
    skip_all "no libvirt qemu driver"
fi
preload=$(ldd "$compat/libvirt.so.0" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { printf "%s%s", sep, $3; sep = ":" }')

# A short directory name: QEMU's monitor sockets live below it.
use_tmp /tmp/vmg.XXXXXX
# shellcheck disable=SC2016 # evaluated at exit
at_exit 'for f in "$tmp"/*/state/config/libvirt/qemu/run/*.pid "$tmp"/*/state/runtime/libvirt/qemu/run/*.pid; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
done'
run_as=
group=
if [ "$(id -u)" = 0 ]; then
    group=$(id -gn nobody 2>/dev/null || echo nogroup)
    run_as="setpriv --reuid=nobody --regid=$group --clear-groups"
fi
n=0
for side in src dst; do
    n=$((n + 1))
    d=$tmp/$side
    mkdir -p "$d/run" "$d/drivers" "$d/state/config/libvirt" "$d/state/cache" "$d/state/runtime"
    ln -s "$moddir/libvirt_driver_qemu.so" "$d/drivers/"
    "$daemon" conf "$d" "host_uuid = \"7a3c1f00-5e1d-4b6a-9c2e-00000000000$n\""
    # no virtlogd in this sandbox
    echo 'stdio_handler = "file"' >"$d/state/config/libvirt/qemu.conf"
    [ -z "$run_as" ] || chown -R "nobody:$group" "$d"
    at_exit "[ -f '$d/pid' ] && kill_wait \"\$(cat '$d/pid' 2>/dev/null)\""
    # shellcheck disable=SC2086
    (cd "$d" && env -i PATH="$PATH" HOME="$d/state" XDG_CONFIG_HOME="$d/state/config" \
        XDG_CACHE_HOME="$d/state/cache" XDG_RUNTIME_DIR="$d/state/runtime" \
        LIBVIRT_DRIVER_DIR="$d/drivers" $run_as libvirtd -f "$d/libvirtd.conf" -p "$d/pid" -d) ||
        skip_all "libvirtd did not start"
    wait_until 200 test -S "$d/run/libvirt-sock" || { diag "$d/libvirtd.log"; skip_all "libvirtd made no socket"; }
done

run() { # NAME ENV...: the program on one library
    t_name=$1
    shift
    env "$@" "$py" "$here/migrate-real.py" "$tmp/src/run/libvirt-sock" "$tmp/dst/run/libvirt-sock" \
        vrpc-mig >"$tmp/$t_name.out" 2>"$tmp/$t_name.err"
}

run system
ok $? "the migrations run on the system's libvirt.so.0"
grep -q 'migrate3 src->dst (managed direct, params) -> ok' "$tmp/system.out" ||
    { diag "$tmp/system.out" "$tmp/system.err"; tail -n 30 "$tmp/src/libvirtd.log" | diag; skip_all "QEMU cannot migrate here"; }
run ours LD_LIBRARY_PATH="$compat" LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
ok $? "the migrations run on ours"
diff -u "$tmp/system.out" "$tmp/ours.out" >"$tmp/diff"
ok $? "identical transcripts ($(wc -l <"$tmp/ours.out") lines)"
[ -s "$tmp/diff" ] && diag "$tmp/diff" "$tmp/ours.err"
for step in 'migrate3 src->dst (managed direct, params) -> ok' \
    'migrate dst->src (managed direct, v3) -> ok' \
    'migrate3 paused src->dst: src=none(42/10) dst=3/' \
    'toURI3 dst->src (peer-to-peer) -> ok 0' \
    'toURI3 src->dst (peer-to-peer, tunnelled) -> ok 0' \
    'migrate src->dst (peer-to-peer, persist, undefine source): src=none(42/10) dst=1/2 persistent' \
    'migrate2 dst->src (managed, destination XML, persist) -> ok' \
    'migrate3 to an address the destination cannot listen on: src=none(42/10) dst=1/2' \
    'migrate3 dst->src offline (persist, undefine source): src=5/'; do
    grep -qF "$step" "$tmp/ours.out"
    ok $? "ours: $step"
done
grep -q 'descriptors and threads back to the start: yes' "$tmp/ours.out"
ok $? "ours: no descriptor or thread left after the migrations"
sed 's/^/# /' "$tmp/ours.out"
finish
