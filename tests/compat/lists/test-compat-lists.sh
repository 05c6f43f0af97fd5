#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs test-compat-lists (argument 1) on virtrpc's libvirt.so.0 (argument 2,
# the one it was linked with) and on the system's libvirt.so.0, against the
# same private daemons (VRPC_TEST_DIR), then requires identical transcripts;
# then the same for test-compat-lists.py through python3-libvirt. Prints TAP:
# each run's lines, prefixed, then the comparisons.
set -u
prog=${1:?usage: test-compat-lists.sh PROGRAM LIBVIRT.SO.0}
ours=${2:?usage: test-compat-lists.sh PROGRAM LIBVIRT.SO.0}
ours_dir=$(cd "$(dirname "$ours")" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${VRPC_TEST_DIR:-}" ]; then
    echo "1..0 # SKIP VRPC_TEST_DIR is not set (scripts/test-daemon.sh)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

# run NAME [ENV...]: the program's TAP lines, renumbered and prefixed.
run() {
    name=$1
    shift
    env "$@" LISTS_TRANSCRIPT="$tmp/$name.tr" "$prog" >"$tmp/$name.out" 2>"$tmp/$name.err"
    st=$?
    while IFS= read -r line; do
        case $line in
        "ok "* | "not ok "*)
            n=$((n + 1))
            case $line in "not ok "*) failed=$((failed + 1)) ;; esac
            verdict=${line%% [0-9]*}
            rest=$(printf '%s\n' "$line" | sed -E 's/^(not )?ok [0-9]+ (- )?//')
            echo "$verdict $n - $name: $rest" ;;
        "#"*) echo "$line" ;;
        esac
    done <"$tmp/$name.out"
    n=$((n + 1))
    if [ "$st" -eq 0 ]; then
        echo "ok $n - $name: exit status 0"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name: exit status $st"
        sed 's/^/# /' "$tmp/$name.err" | tail -20
    fi
}

run ours

# The system's libvirt.so.0, as the loader finds it by its soname.
sys=$(/sbin/ldconfig -p 2>/dev/null | awk '$1 == "libvirt.so.0" && $NF ~ /^\// { print $NF; exit }')
n=$((n + 1))
if [ -z "$sys" ] || [ ! -e "$sys" ]; then
    echo "ok $n - # SKIP no system libvirt.so.0 to compare with"
elif grep -q '^missing:' "$tmp/ours.tr"; then
    echo "ok $n - # SKIP our library lacks calls the comparison needs: $(grep '^missing:' "$tmp/ours.tr" | tr '\n' ' ')"
else
    n=$((n - 1))
    # Leaks inside the system library are not ours to report.
    run system LD_LIBRARY_PATH="$(dirname "$sys")" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
    n=$((n + 1))
    if diff -u "$tmp/system.tr" "$tmp/ours.tr" >"$tmp/diff"; then
        echo "ok $n - identical transcripts on both libraries ($(wc -l <"$tmp/ours.tr") lines)"
    else
        failed=$((failed + 1))
        echo "not ok $n - identical transcripts on both libraries"
        sed 's/^/# /' "$tmp/diff" | head -40
    fi
fi

# python3-libvirt, unmodified, on each library.
py=/usr/bin/python3
# A sanitizer build's library needs its runtime loaded first in the
# interpreter too.
preload=$(ldd "$ours" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { printf "%s%s", sep, $3; sep = ":" }')
n=$((n + 1))
if [ -z "$sys" ] || ! LD_LIBRARY_PATH="$(dirname "$sys")" "$py" -c 'import libvirt' 2>/dev/null; then
    echo "ok $n - # SKIP no python3-libvirt on the system's libvirt.so.0"
elif ! LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" LD_LIBRARY_PATH="$ours_dir" \
    "$py" -c 'import libvirt' 2>"$tmp/py-import.err"; then
    echo "ok $n - # SKIP python3-libvirt does not load on our libvirt.so.0 yet: $(tail -1 "$tmp/py-import.err")"
else
    LD_LIBRARY_PATH="$(dirname "$sys")" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
        "$py" "$here/test-compat-lists.py" "$VRPC_TEST_DIR" >"$tmp/py-system.out" 2>&1
    st_sys=$?
    # The interpreter's own allocations are not ours to report either.
    LD_PRELOAD="$preload" LD_LIBRARY_PATH="$ours_dir" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
        "$py" "$here/test-compat-lists.py" "$VRPC_TEST_DIR" >"$tmp/py-ours.out" 2>&1
    st_ours=$?
    if [ "$st_sys" -eq 0 ] && [ "$st_ours" -eq 0 ] && diff -u "$tmp/py-system.out" "$tmp/py-ours.out" >"$tmp/py.diff"; then
        echo "ok $n - python3-libvirt: identical transcripts on both libraries ($(wc -l <"$tmp/py-ours.out") lines)"
    else
        failed=$((failed + 1))
        echo "not ok $n - python3-libvirt: identical transcripts (exit $st_sys on the system's, $st_ours on ours)"
        sed 's/^/# /' "$tmp/py.diff" | head -40
        tail -5 "$tmp/py-ours.out" | sed 's/^/# ours: /'
    fi
fi
echo "1..$n"
[ "$failed" -eq 0 ]
