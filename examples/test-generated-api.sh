#!/bin/sh
# SPDX-License-Identifier: MIT
# Run examples/generated-api (built with -Wwrite-strings) against a private
# libvirtd (test driver) and compare with virsh. TAP output.
#   test-generated-api.sh GENERATED-API
set -u
prog=${1:?usage: test-generated-api.sh GENERATED-API}
if [ -z "${VRPC_TEST_DIR:-}" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    echo "1..0 # SKIP no private daemon (VRPC_TEST_DIR)"
    exit 0
fi
uri="test+unix:///default?socket=$VRPC_TEST_DIR/sys/run/libvirt-sock"
out=$(mktemp)
trap 'rm -f "$out" "$out.v"' EXIT
n=0
failed=0
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

"$prog" "$uri" test vda >"$out" 2>&1
s=$?
sed 's/^/# /' "$out"
ok $s "generated-api runs (built with -Wwrite-strings: string constants in the argument structs)"
virsh -c "$uri" list --all --name | sed '/^$/d' | sort >"$out.v"
sed -n '/^test vda:$/q;p' "$out" | sort | cmp -s - "$out.v"
ok $? "a zero-initialised connect_list_all_domains_args lists what virsh list --all lists"
grep -q "^  group_name  *'.*'$" "$out"
ok $? "flags 0: the string parameter group_name is there"
grep -q "^no-such-domain-here: .*not found" "$out"
ok $? "the daemon's error for a constant name"

echo "1..$n"
[ "$failed" -eq 0 ]
