#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Golden tests of virtrpc-gen --compat-out (compat/). Prints TAP.
#
#   run-compat.sh GENERATOR SRCDIR/tests/gen/compat
#
# The demo inputs (include/, demo.syms, demo.x, hand.c) give compat.c.expected,
# compat.txt.expected (the --compat-list file) and compat.stderr.expected
# (the counts), the same twice. Each bad/NAME.h (a header beside the demo
# header) and bad/NAME.syms (instead of demo.syms) must fail with exit status 1,
# the message of bad/NAME.err and no output file. REGENERATE=1 rewrites the
# expected files.
set -u
gen=${1:?usage: run-compat.sh GENERATOR DIR}
dir=${2:?usage: run-compat.sh GENERATOR DIR}
case $gen in /*) ;; *) gen=$PWD/$gen ;; esac
cd "$dir" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0
ok() {
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else
        echo "not ok $n - $2"
        fails=$((fails + 1))
    fi
}
compare() { # expected actual
    if [ "${REGENERATE:-}" = 1 ]; then
        cp "$2" "$1"
        return 0
    fi
    if ! cmp -s "$1" "$2"; then
        diff -u "$1" "$2" 2>&1 | head -n 40 | sed 's/^/# /'
        return 1
    fi
    return 0
}

# The inputs under short relative paths, so messages do not depend on where
# the tree is.
cp -r include demo.syms demo.x hand.c "$tmp/"
run() { # out-prefix [extra args...]
    p=$1
    shift
    (cd "$tmp" && "$gen" --compat-lib "${lib:-virt}" --compat-out "$p.c" --compat-list "$p.txt" "$@" \
        remote=demo.x 2>"$p.stderr")
}

run good1 --headers include --compat-syms demo.syms --compat-hand hand.c
ok $? "demo: generated"
compare compat.c.expected "$tmp/good1.c"
ok $? "demo: compat.c as expected"
compare compat.txt.expected "$tmp/good1.txt"
ok $? "demo: the list as expected"
compare compat.stderr.expected "$tmp/good1.stderr"
ok $? "demo: the counts on stderr as expected"
run good2 --headers include --compat-syms demo.syms --compat-hand hand.c
cmp -s "$tmp/good1.c" "$tmp/good2.c" && cmp -s "$tmp/good1.txt" "$tmp/good2.txt"
ok $? "demo: the same output twice"

fails_with() { # name err-file [args...]
    name=$1
    err=$2
    shift 2
    rm -f "$tmp/bad.c" "$tmp/bad.txt"
    run bad "$@"
    rc=$?
    if [ $rc != 1 ]; then
        ok 1 "$name: exit status 1 (got $rc)"
        return
    fi
    if [ -e "$tmp/bad.c" ] || [ -e "$tmp/bad.txt" ]; then
        ok 1 "$name: no output left"
        return
    fi
    compare "$err" "$tmp/bad.stderr"
    ok $? "$name: fails with the expected message"
}

for h in bad/*.h; do
    name=$(basename "$h" .h)
    rm -rf "$tmp/hdr"
    mkdir "$tmp/hdr"
    cp include/libvirt-domain.h "$h" "$tmp/hdr/"
    fails_with "bad/$name.h" "bad/$name.err" --headers hdr --compat-syms demo.syms
done
for s in bad/*.syms; do
    name=$(basename "$s" .syms)
    cp "$s" "$tmp/bad.syms"
    fails_with "bad/$name.syms" "bad/$name.err" --headers include --compat-syms bad.syms
done
fails_with "a function hand-written in two files" bad/hand-twice.err --headers include \
    --compat-syms demo.syms --compat-hand hand.c --compat-hand ./hand.c
lib=virt-other fails_with "an unknown library" bad/unknown-lib.err --headers include \
    --compat-syms demo.syms

echo "1..$n"
[ "$fails" = 0 ]
