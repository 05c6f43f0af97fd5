#!/bin/sh
# SPDX-License-Identifier: MIT
# run-core.sh PROGRAM: the core test program on virtrpc's libvirt.so.0 (as
# linked), then on the system's libvirt.so.0 when one is installed (put
# first in the loader's path), and the comparison of the two transcripts
# (the "# T " lines). Prints TAP.
set -u
prog=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT HUP INT TERM
n=0
tap() { # STATUS(0 = ok) NAME
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi
}
run() { # LABEL [LD_LIBRARY_PATH]
    if [ -n "${2:-}" ]; then
        # (LeakSanitizer looks at our library's run only: libvirt.so leaks,
        # e.g. the type it asks twice when threads race)
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 LD_LIBRARY_PATH=$2 \
            VRPC_TAP_PREFIX="$1: " "$prog" >"$out/$1" 2>"$out/$1.err"
    else
        VRPC_TAP_PREFIX="$1: " "$prog" >"$out/$1" 2>"$out/$1.err"
    fi
    rc=$?
    grep -v '^1\.\.[0-9]*$' "$out/$1"
    n=$((n + $(grep -c "^\(not \)\{0,1\}ok " "$out/$1" || true)))
    sed 's/^/# stderr: /' "$out/$1.err"
    tap "$rc" "$1: the program exits with 0"
}
run virtrpc
sys=$(/sbin/ldconfig -p 2>/dev/null | awk '/libvirt\.so\.0 /{print $NF; exit}')
if [ -z "$sys" ] || [ "${VRPC_COMPAT_NO_SYSTEM:-0}" = 1 ]; then
    n=$((n + 1))
    echo "ok - # SKIP no system libvirt.so.0 to compare with"
else
    run libvirt "$(dirname "$sys")"
    grep '^# T ' "$out/virtrpc" >"$out/virtrpc.t"
    grep '^# T ' "$out/libvirt" >"$out/libvirt.t"
    if diff -u "$out/libvirt.t" "$out/virtrpc.t" >"$out/diff"; then
        tap 0 "the transcripts are the same ($(wc -l <"$out/virtrpc.t") lines)"
    else
        sed 's/^/# /' "$out/diff"
        tap 1 "the transcripts are the same"
    fi
fi
echo "1..$n"
