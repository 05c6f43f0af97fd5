#!/bin/sh
# SPDX-License-Identifier: MIT
# Codec instruction-count guard (TAP).
#
#   run-perf.sh PERF-CODEC BASELINE-FILE
#
# Runs PERF-CODEC for each case of BASELINE-FILE under callgrind, counting
# only the instructions of perf_work() (the encode/decode loop), and fails a
# case whose count exceeds its baseline by more than PERF_TOLERANCE percent
# (default 25). REGENERATE=1 rewrites BASELINE-FILE with the counts of this
# build instead. Instruction counts depend on the compiler and its flags:
# the baseline belongs to the plain build (buildtype=debugoptimized, no
# sanitizer), the only build that registers this test.
set -u
exe=$1
baseline=$2
iters=${PERF_ITERATIONS:-20}
tol=${PERF_TOLERANCE:-25}
cases="list-all-domains typed-params domain-get-info"

if ! command -v valgrind >/dev/null 2>&1; then
    echo "1..0 # SKIP valgrind is not installed"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

count() {
    rm -f "$tmp/cg.out"
    # Bind every symbol at start-up: lazy binding inside perf_work() would
    # count the dynamic linker's search, which depends on the environment.
    if ! env LD_BIND_NOW=1 MALLOC_PERTURB_= valgrind --tool=callgrind --toggle-collect=perf_work --callgrind-out-file="$tmp/cg.out" \
        "$exe" "$1" "$iters" >"$tmp/vg.log" 2>&1; then
        sed 's/^/# /' "$tmp/vg.log"
        return 1
    fi
    # "totals:" (or "summary:") holds the collected Ir.
    sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$tmp/cg.out" | head -n 1
}

if [ "${REGENERATE:-0}" = 1 ]; then
    {
        echo "# SPDX-License-Identifier: MIT"
        echo "# Instructions (callgrind Ir) spent in perf_work() by tests/perf/perf-codec"
        echo "# (\"iterations\" round trips), one line per case: \"CASE COUNT\". Only meaningful for the plain"
        echo "# build (buildtype=debugoptimized, no sanitizer) with the compiler it was made"
        echo "# with: $(${CC:-cc} --version 2>/dev/null | head -n 1)."
        echo "# Regenerate: REGENERATE=1 meson test -C BUILD --suite perf"
        echo "iterations $iters"
        for c in $cases; do
            n=$(count "$c") || exit 1
            echo "$c $n"
        done
    } >"$tmp/new"
    cp "$tmp/new" "$baseline"
    echo "1..1"
    echo "ok 1 - baseline rewritten: $baseline"
    sed 's/^/# /' "$baseline"
    exit 0
fi

biters=$(sed -n 's/^iterations //p' "$baseline")
if [ -n "$biters" ] && [ "$biters" != "$iters" ]; then
    iters=$biters
fi
set -- $cases
echo "1..$#"
i=0
status=0
for c in $cases; do
    i=$((i + 1))
    base=$(awk -v c="$c" '$1 == c { print $2 }' "$baseline")
    if [ -z "$base" ]; then
        echo "not ok $i - $c: no baseline in $(basename "$baseline") (REGENERATE=1 to write one)"
        status=1
        continue
    fi
    n=$(count "$c")
    if [ -z "$n" ]; then
        echo "not ok $i - $c: callgrind gave no instruction count"
        status=1
        continue
    fi
    limit=$((base + base * tol / 100))
    pct=$(awk -v n="$n" -v b="$base" 'BEGIN { printf "%+.1f", (n - b) * 100.0 / b }')
    if [ "$n" -gt "$limit" ]; then
        echo "not ok $i - $c: $n instructions, baseline $base ($pct%, tolerance +$tol%)"
        status=1
    else
        echo "ok $i - $c: $n instructions, baseline $base ($pct%)"
        if [ "$n" -lt $((base - base * tol / 100)) ]; then
            echo "# $c is much cheaper than its baseline: consider REGENERATE=1"
        fi
    fi
done
exit $status
