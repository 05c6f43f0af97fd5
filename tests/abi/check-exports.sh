#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The exported symbols of libvirtrpc.so are exactly the public API, and all
# carry a version:
#   - the defined dynamic symbols (nm -D --defined-only) equal the names the
#     public headers declare with VRPC_EXPORT (tools/abi/symbols.sh list);
#   - objdump -T shows a VIRTRPC_* version on every one of them, the node
#     src/symbol-versions.txt gives it;
#   - no data object is exported (descriptors are reached through functions).
# The comparison first proves itself on a planted header.
#
# usage: check-exports.sh LIB SYMBOLS_SH NODES HEADER...
set -eu

lib=$1
symbols_sh=$2
nodes=$3
shift 3

n=0
fails=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    fails=$((fails + 1))
    echo "not ok $n - $1"
}
diag() {
    sed 's/^/# /'
}

for tool in nm objdump; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "1..0 # SKIP $tool not installed (binutils)"
        exit 0
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols, without the version definitions themselves.
nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | sed 's/@.*//' | LC_ALL=C sort -u >"$tmp/lib"
"$symbols_sh" list "$@" >"$tmp/hdr"

# compare LIB HDR: prints the differences, fails when there are any.
compare() {
    LC_ALL=C comm -23 "$1" "$2" | sed 's/^/exported, not declared: /'
    LC_ALL=C comm -13 "$1" "$2" | sed 's/^/declared, not exported: /'
    [ -z "$(LC_ALL=C comm -3 "$1" "$2")" ]
}

# The comparison itself finds a planted difference both ways.
printf '/* planted */\nVRPC_EXPORT int vrpc_planted_not_in_lib(void);\n' >"$tmp/planted.h"
"$symbols_sh" list "$@" "$tmp/planted.h" >"$tmp/hdr-planted"
grep -v '^vrpc_strerror$' "$tmp/hdr" >"$tmp/hdr-less"
if ! compare "$tmp/lib" "$tmp/hdr-planted" >"$tmp/out1" && grep -q 'declared, not exported: vrpc_planted_not_in_lib' "$tmp/out1" &&
    ! compare "$tmp/lib" "$tmp/hdr-less" >"$tmp/out2" && grep -q 'exported, not declared: vrpc_strerror' "$tmp/out2"; then
    ok "the check finds a planted header declaration and a missing one"
else
    not_ok "the check finds a planted header declaration and a missing one"
fi

count=$(wc -l <"$tmp/hdr")
if [ "$count" -gt 100 ] && grep -qx vrpc_conn_open "$tmp/hdr" && grep -qx vrpc_domain_get_info "$tmp/hdr"; then
    ok "the headers declare $count public symbols (hand-written and generated)"
else
    not_ok "the headers declare $count public symbols (hand-written and generated)"
fi

if compare "$tmp/lib" "$tmp/hdr" >"$tmp/diff"; then
    ok "the exported set equals the declared set ($(wc -l <"$tmp/lib") symbols)"
else
    not_ok "the exported set equals the declared set"
    head -50 "$tmp/diff" | diag
fi

data=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[BDGRSV]$/ { print $3 }')
if [ -z "$data" ]; then
    ok "no data object is exported (no descriptor table in the ABI)"
else
    not_ok "no data object is exported"
    echo "$data" | head -20 | diag
fi

# objdump -T: every defined symbol of .text/.data carries a VIRTRPC_* version.
objdump -T "$lib" | awk '/^[0-9a-f]+ / && $0 !~ /\*UND\*/ && $0 !~ /\*ABS\*/' >"$tmp/objdump"
unversioned=$(awk '{ v = $(NF - 1); if (v !~ /^VIRTRPC_/) print }' "$tmp/objdump")
nver=$(wc -l <"$tmp/objdump")
if [ -z "$unversioned" ] && [ "$nver" -eq "$(wc -l <"$tmp/lib")" ]; then
    ok "objdump -T: all $nver defined symbols are versioned (VIRTRPC_*)"
else
    not_ok "objdump -T: all defined symbols are versioned"
    echo "$unversioned" | head -20 | diag
fi

# Each symbol in the node the nodes file gives it.
first=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$nodes" | head -1 | awk '{ print $1 }')
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$nodes" | tail -n +2 |
    awk '{ for (i = 2; i <= NF; i++) print $i, $1 }' >"$tmp/later"
wrong=$(awk -v first="$first" 'NR == FNR { node[$1] = $2; next }
    { s = $NF; v = $(NF - 1); want = (s in node) ? node[s] : first
      if (v != want) print s ": " v ", expected " want }' "$tmp/later" "$tmp/objdump")
if [ -z "$wrong" ]; then
    ok "every symbol is in its version node (first node: $first)"
else
    not_ok "every symbol is in its version node"
    echo "$wrong" | head -20 | diag
fi

echo "1..$n"
[ "$fails" -eq 0 ]
