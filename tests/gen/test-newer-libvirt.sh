#!/bin/sh
# SPDX-License-Identifier: MIT
# A newer libvirt must build unchanged and expose its newer procedures.
# Fetches the libvirt of a newer Debian suite (default: trixie) through private
# package lists, builds virtrpc with -Dlibvirt_src from it in a temporary
# directory, and checks that `virtrpc procs` lists exactly the procedures of
# that tree's .x files. With VRPC_TEST_DIR (a running test daemon of the
# older libvirt), also checks that the newer build talks to the older daemon
# and that a procedure the old daemon lacks is reported as not supported.
# TAP output. Usage: test-newer-libvirt.sh SRCDIR [SUITE]
set -u
src=${1:?usage: test-newer-libvirt.sh SRCDIR [SUITE]}
suite=${2:-trixie}
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

lv=$("$src/scripts/fetch-libvirt-src.sh" "$suite" 2>/dev/null)
if [ -z "$lv" ] || [ ! -f "$lv/src/remote/remote_protocol.x" ]; then
    echo "1..0 # SKIP the libvirt source of Debian $suite could not be fetched"
    exit 0
fi
ver=$(sed -n "s/^ *version: '\([0-9.]*\)'.*/\1/p" "$lv/meson.build" | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if meson setup "$tmp/b" "$src" -Dlibvirt_src="$lv" -Dtests=false >"$tmp/setup.log" 2>&1 &&
    ninja -C "$tmp/b" >"$tmp/build.log" 2>&1; then
    ok 0 "virtrpc builds unchanged from libvirt $ver"
else
    ok 1 "virtrpc builds unchanged from libvirt $ver"
    sed 's/^/# /' "$tmp/setup.log" "$tmp/build.log" | tail -n 30
    echo "1..$n"
    exit 1
fi
# The libvirt-compatible libraries of that tree: every public name of its
# .syms files in its node (tests/compat/check-symbols.sh, its TAP lines
# renumbered into this test's).
if [ -f "$tmp/b/compat/libvirt.so.0" ]; then
    sh "$src/tests/compat/check-symbols.sh" "$tmp/b/compat" "$lv" >"$tmp/compat.tap" 2>&1
    rc=$?
    grep -E '^not ok ' "$tmp/compat.tap" | while IFS= read -r line; do
        echo "# $line"
    done
    ok $rc "the four libvirt-compatible libraries build from libvirt $ver with its public symbols"
fi
vrpc="$tmp/b/cli/virtrpc"
"$vrpc" version >"$tmp/version.out" 2>&1
grep -q "libvirt $ver" "$tmp/version.out"
ok $? "virtrpc version reports the protocol of libvirt $ver"

"$vrpc" procs >"$tmp/procs.out" 2>&1
for prog in remote qemu lxc admin; do
    case $prog in
    remote) x=src/remote/remote_protocol.x; p=REMOTE_PROC_ ;;
    qemu) x=src/remote/qemu_protocol.x; p=QEMU_PROC_ ;;
    lxc) x=src/remote/lxc_protocol.x; p=LXC_PROC_ ;;
    admin) x=src/admin/admin_protocol.x; p=ADMIN_PROC_ ;;
    esac
    want=$(grep -cE "^ *${p}[A-Z0-9_]+ *= *[0-9]+" "$lv/$x")
    got=$(awk -v p="$prog" '$1 == p && $2 ~ /^[0-9]+$/' "$tmp/procs.out" | wc -l)
    [ "$got" = "$want" ]
    ok $? "procs lists all $want $prog procedures of libvirt $ver (got $got)"
done
got=$(awk '$1 == "remote" && $2 ~ /^[0-9]+$/' "$tmp/procs.out" | wc -l)
[ "$got" -gt 443 ]
ok $? "more remote procedures than libvirt 9.0.0's 443 ($got)"

# Every event of the newer .x files is known: each `_msg` struct that starts
# with a callbackID is the event procedure of one `events --list` line.
cat "$lv/src/remote/remote_protocol.x" "$lv/src/remote/qemu_protocol.x" |
    awk '/^struct (remote|qemu)_[a-z0-9_]*_msg *\{/ { n = $2; getline;
        if ($0 ~ /^[ \t]*int callbackID;/) { sub(/^remote_/, "", n); sub(/_msg$/, "", n); print n } }' |
    sort >"$tmp/events.want"
"$vrpc" events --list 2>&1 | awk '{ print $2 }' | sort >"$tmp/events.got"
cmp -s "$tmp/events.want" "$tmp/events.got"
ok $? "events --list knows all $(wc -l <"$tmp/events.want") events of libvirt $ver (got $(wc -l <"$tmp/events.got"))"

if [ -n "${VRPC_TEST_DIR:-}" ] && [ -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    uri="test+unix:///default?socket=$VRPC_TEST_DIR/sys/run/libvirt-sock"
    "$vrpc" -c "$uri" list >"$tmp/list.out" 2>&1
    grep -q ' test ' "$tmp/list.out"
    ok $? "the newer build lists the domains of the older daemon"
    # network_get_metadata (445) is newer than libvirt 9.0.0.
    if grep -q '^remote *445 ' "$tmp/procs.out"; then
        "$vrpc" -c "$uri" call network_get_metadata \
            '{"network": {"name": "default", "uuid": "00000000-0000-0000-0000-000000000000"}, "type": 0, "uri": null, "flags": 0}' \
            >"$tmp/new.out" 2>&1
        rc=$?
        [ $rc = 1 ] && grep -q 'unknown procedure: 445' "$tmp/new.out" && grep -q '(code 3,' "$tmp/new.out"
        ok $? "a procedure the older daemon lacks fails as not supported (code 3): $(head -n 1 "$tmp/new.out")"
    fi
fi
echo "1..$n"
[ $fails = 0 ]
