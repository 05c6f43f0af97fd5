#!/bin/sh
# SPDX-License-Identifier: MIT
# Make the list of known differences (known-differences.txt) anew from what
# the differential tests and the load check find now, for BUILD (default
# build): the comment lines at its top are kept. Needs root and libvirtd,
# like the tests; run it after a change made a listed check pass.
#   tests/compat/diff/update-known.sh [BUILD]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build=$(cd "${1:-$top/build}" && pwd)
known=$here/known-differences.txt
new=$(mktemp)
empty=$(mktemp)
trap 'rm -f "$new" "$empty"' EXIT
grep '^#' "$known" >"$new" || true
ninja -C "$build" compat/libvirt.so.0 tests/compat/api-c >/dev/null
run() { # NAME CMD...
    n=$1
    shift
    python3 "$here/run-diff.py" --top "$top" --compat "$build/compat" --known "$empty" --name "$n" \
        --write-known "$new" -- "$@" >/dev/null || true
}
run python @LIBVIRT_PYTHON@ "$here/api.py"
run perl perl "$here/api.pl"
run c "$build/tests/compat/api-c"
python3 "$here/../load-check.py" --compat "$build/compat" --known "$empty" --write-known "$new" >/dev/null || true
cp "$new" "$known"
echo "$(grep -vc '^#' "$known") known differences" >&2
