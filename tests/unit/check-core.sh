#!/bin/sh
# SPDX-License-Identifier: MIT
# The core is closed and small (TAP):
#  1. no file of src/core includes a header of the layers above it
#     (src/open, src/uri, src/transport, src/auth, src/events, src/stream,
#     src/params, src/simple, src/reconnect), by name or by path;
#  2. no file of src/core is longer than 1,400 lines.
# Usage: check-core.sh SRCDIR (it first checks itself on a planted tree)
src=${1:?usage: check-core.sh SRCDIR}
above="open uri transport auth events stream params simple reconnect"
max=1400
n=0
failed=0

# First the check itself: a planted tree with a forbidden include (by name
# and by path) and a file one line too long must fail it.
if [ "$2" != "--planted" ]; then
    t=$(mktemp -d)
    mkdir -p "$t/core" "$t/stream" "$t/uri"
    : >"$t/stream/stream-internal.h"
    : >"$t/uri/uri.h"
    printf '#include "alloc.h"\n#include "stream-internal.h"\n' >"$t/core/a.c"
    printf '#include <uri/uri.h>\n' >"$t/core/b.h"
    awk 'BEGIN { for (i = 0; i <= 1400; i++) print "/* */" }' >"$t/core/c.c"
    out=$(sh "$0" "$t" --planted)
    rm -rf "$t"
    n=$((n + 1))
    if echo "$out" | grep -q "not ok .* core/a.c .*stream-internal.h" &&
        echo "$out" | grep -q "not ok .* core/b.h .*uri/uri.h" &&
        echo "$out" | grep -q "not ok .* core/c.c has 1401 lines" &&
        [ "$(echo "$out" | grep -c '^not ok')" -eq 3 ]; then
        echo "ok $n - the check fails a planted include by name, one by path and a file of 1401 lines"
    else
        echo "not ok $n - the check missed a planted fault:"
        echo "$out" | sed 's/^/# /'
        failed=$((failed + 1))
    fi
fi

for f in "$src"/core/*.c "$src"/core/*.h; do
    [ -f "$f" ] || continue
    name=${f#"$src"/}
    bad=""
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$f"); do
        base=${inc##*/}
        for layer in $above; do
            case $inc in
            */"$layer"/* | "$layer"/*) bad="$bad $inc" ;;
            esac
            if [ -f "$src/$layer/$base" ] && [ ! -f "$src/core/$base" ]; then
                bad="$bad $inc($layer)"
            fi
        done
    done
    n=$((n + 1))
    if [ -z "$bad" ]; then
        echo "ok $n - $name includes nothing from the layers above the core"
    else
        echo "not ok $n - $name includes a header of a layer above the core:$bad"
        failed=$((failed + 1))
    fi
    lines=$(wc -l <"$f")
    n=$((n + 1))
    if [ "$lines" -le "$max" ]; then
        echo "ok $n - $name has $lines lines (at most $max)"
    else
        echo "not ok $n - $name has $lines lines, more than $max"
        failed=$((failed + 1))
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
