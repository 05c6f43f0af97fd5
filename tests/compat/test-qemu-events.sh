#!/bin/sh
# SPDX-License-Identifier: MIT
# QEMU monitor events and a real guest's domain events (diff/events-qemu.py)
# on the system's libvirt.so.0 and on the compat libraries, each against its
# own private session daemon with the qemu driver (tests/streams/
# test-streams.sh); the two transcripts must be the same. Prints TAP.
#   test-qemu-events.sh SRCDIR COMPATDIR
set -u
src=$1
compat=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT HUP INT TERM
n=0
tap() { # STATUS(0 = ok) NAME
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "1..0 # SKIP no qemu-system-x86_64"
    exit 0
fi
# a python3 that imports python3-libvirt (Debian's, not one of one's own)
py=
for p in python3 /usr/bin/python3; do
    if env -u LD_LIBRARY_PATH "$p" -c 'import libvirt, libvirt_qemu' >/dev/null 2>&1; then
        py=$(command -v "$p")
        break
    fi
done
if [ -z "$py" ]; then
    echo "1..0 # SKIP no python3-libvirt"
    exit 0
fi
run() { # LABEL [LD_LIBRARY_PATH]
    VRPC_DIFF_MAPS=$out/$1.maps LD_LIBRARY_PATH=${2:-} \
        sh "$src/tests/streams/test-streams.sh" "$py" qemu -- "$src/tests/compat/diff/events-qemu.py" \
        >"$out/$1" 2>"$out/$1.err"
    rc=$?
    tap "$rc" "$1: the program exits with 0"
    [ "$rc" = 0 ] || sed 's/^/# stderr: /' "$out/$1.err"
}
run system
if grep -q '^skip:\|^1\.\.0' "$out/system"; then
    echo "1..$n # SKIP $(head -n 1 "$out/system")"
    exit 0
fi
run compat "$compat"
grep -q "$compat/libvirt.so.0" "$out/compat.maps" 2>/dev/null
tap $? "the compat run loaded $compat/libvirt.so.0"
grep -q "$compat" "$out/system.maps" 2>/dev/null
tap $((! $?)) "the system run did not load the compat libraries"
c=$(grep -c "(<virConnect>, <virDomain evq>, [A-Z]" "$out/system")
[ "$c" -ge 4 ]
tap $? "the system run received QEMU monitor events ($c)"
diff -u "$out/system" "$out/compat" >"$out/diff"
rc=$?
tap "$rc" "the transcripts are the same"
[ "$rc" = 0 ] || sed 's/^/# /' "$out/diff"
echo "1..$n"
