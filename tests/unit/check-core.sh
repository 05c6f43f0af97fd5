#!/bin/sh
# SPDX-License-Identifier: MIT
# The core is closed and small (TAP):
#  1. no file of src/core includes a header of the layers above it
#     (src/open, src/uri, src/transport, src/auth, src/events, src/stream,
#     src/simple), by name or by path;
#  2. no file of src/core is longer than 1,400 lines.
# Usage: check-core.sh SRCDIR
src=${1:?usage: check-core.sh SRCDIR}
above="open uri transport auth events stream simple"
max=1400
n=0
failed=0

for f in "$src"/core/*.c "$src"/core/*.h; do
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
