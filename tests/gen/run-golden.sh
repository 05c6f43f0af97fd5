#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Golden tests of virtrpc-gen. Prints TAP.
#
#   run-golden.sh GENERATOR SRCDIR
#
# good/NAME.args   arguments (paths relative to SRCDIR); the outputs are compared
#                  with good/NAME.h.expected, good/NAME.c.expected and
#                  good/NAME.consts.expected, and when good/NAME.events.expected
#                  exists, the event-ID table (--out-events) with it; when a C
#                  compiler is found, protocol.c (and the event table) is
#                  compiled (-std=c11 -Wall -Wextra -Werror) and linked with
#                  check-tables.c, which checks the tables at run time.
# bad/NAME.x       must fail; stderr must equal bad/NAME.err. Arguments are
#                  bad/NAME.args if present, else "--headers headers demo=bad/NAME.x";
#                  every output is asked for (--out-events too).
#
# REGENERATE=1 rewrites the expected files from the current output.
# CC selects the compiler (default: cc).
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 GENERATOR SRCDIR" >&2
    exit 2
fi
gen=$1
src=$2
case $gen in
/*) ;;
*) gen=$PWD/$gen ;;
esac
cd "$src" || exit 2
include_dir=$(cd ../../include 2>/dev/null && pwd)
events_dir=$(cd ../../src/events 2>/dev/null && pwd)

tmp=$(mktemp -d -t gen-golden.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT

cc=${CC:-cc}
have_cc=0
if command -v "${cc%% *}" >/dev/null 2>&1 && [ -n "$include_dir" ]; then
    have_cc=1
fi

good=$(ls good/*.args 2>/dev/null | sort)
bad=$(ls bad/*.x 2>/dev/null | sort)
ngood=$(echo "$good" | grep -c .)
nbad=$(echo "$bad" | grep -c .)
echo "1..$((ngood * 3 + nbad))"

n=0
failed=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
}

compare() { # expected actual -> 0 if equal (or regenerated)
    if [ "${REGENERATE:-}" = 1 ]; then
        cp "$2" "$1"
        return 0
    fi
    if [ ! -f "$1" ]; then
        echo "# missing $1"
        return 1
    fi
    if ! cmp -s "$1" "$2"; then
        diff -u "$1" "$2" | head -40 | sed 's/^/# /'
        return 1
    fi
    return 0
}

for args_file in $good; do
    name=$(basename "$args_file" .args)
    out=$tmp/good-$name
    mkdir -p "$out/inc/virtrpc"
    events=()
    if [ -f "good/$name.events.expected" ]; then
        events=(--out-events "$out/event-ids.c")
    fi
    # shellcheck disable=SC2046
    if ! "$gen" $(cat "$args_file") --out-header "$out/inc/virtrpc/protocol.h" \
        --out-source "$out/protocol.c" --out-consts "$out/inc/virtrpc/consts.h" \
        "${events[@]}" 2>"$out/stderr"; then
        sed 's/^/# /' "$out/stderr"
        not_ok "good/$name: generate"
        not_ok "good/$name: compile"
        not_ok "good/$name: tables"
        continue
    fi
    status=0
    compare "good/$name.h.expected" "$out/inc/virtrpc/protocol.h" || status=1
    compare "good/$name.c.expected" "$out/protocol.c" || status=1
    compare "good/$name.consts.expected" "$out/inc/virtrpc/consts.h" || status=1
    if [ ${#events[@]} -gt 0 ]; then
        compare "good/$name.events.expected" "$out/event-ids.c" || status=1
    fi
    if [ $status = 0 ]; then ok "good/$name: generate"; else not_ok "good/$name: generate"; fi

    if [ $have_cc = 0 ]; then
        n=$((n + 1))
        echo "ok $n - good/$name: compile # SKIP no C compiler"
        n=$((n + 1))
        echo "ok $n - good/$name: tables # SKIP no C compiler"
        continue
    fi
    # shellcheck disable=SC2086
    if $cc -std=c11 -Wall -Wextra -Werror -DVIRTRPC_BUILDING -fvisibility=hidden \
        -I"$include_dir" -I"$out/inc" -c "$out/protocol.c" -o "$out/protocol.o" \
        >"$out/cc.log" 2>&1 &&
        { [ ${#events[@]} = 0 ] || $cc -std=c11 -Wall -Wextra -Werror -I"$events_dir" \
            -c "$out/event-ids.c" -o "$out/event-ids.o" >>"$out/cc.log" 2>&1; }; then
        ok "good/$name: compile"
    else
        head -40 "$out/cc.log" | sed 's/^/# /'
        not_ok "good/$name: compile"
        not_ok "good/$name: tables"
        continue
    fi
    # shellcheck disable=SC2086
    if $cc -std=c11 -Wall -Wextra -Werror -I"$include_dir" -I"$out/inc" \
        check-tables.c "$out/protocol.o" -o "$out/check" >"$out/cc.log" 2>&1 &&
        "$out/check" >"$out/check.log" 2>&1; then
        ok "good/$name: tables"
    else
        head -40 "$out/cc.log" "$out/check.log" | sed 's/^/# /'
        not_ok "good/$name: tables"
    fi
done

for x in $bad; do
    name=$(basename "$x" .x)
    if [ -f "bad/$name.args" ]; then
        args=$(cat "bad/$name.args")
    else
        args="--headers headers demo=bad/$name.x"
    fi
    out=$tmp/bad-$name
    mkdir -p "$out"
    # shellcheck disable=SC2086
    "$gen" $args --out-header "$out/p.h" --out-source "$out/p.c" --out-consts "$out/c.h" \
        --out-events "$out/e.c" >"$out/stdout" 2>"$out/stderr"
    rc=$?
    if [ $rc -eq 0 ]; then
        not_ok "bad/$name: accepted"
        continue
    fi
    if [ $rc -ne 1 ]; then
        echo "# exit status $rc"
        not_ok "bad/$name: crashed"
        continue
    fi
    if [ -e "$out/p.h" ] || [ -e "$out/p.c" ] || [ -e "$out/c.h" ] || [ -e "$out/e.c" ]; then
        not_ok "bad/$name: left output files"
        continue
    fi
    if compare "bad/$name.err" "$out/stderr"; then
        ok "bad/$name"
    else
        not_ok "bad/$name"
    fi
done

[ $failed = 0 ]
