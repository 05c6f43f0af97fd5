#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the examples against a private libvirtd (test driver). TAP output.
#   test-examples.sh LIST-DOMAINS DOMAIN-LIFECYCLE
# Needs VRPC_TEST_DIR (a directory set up by scripts/test-daemon.sh start).
set -u
list=${1:?usage: test-examples.sh LIST-DOMAINS DOMAIN-LIFECYCLE}
life=${2:?usage: test-examples.sh LIST-DOMAINS DOMAIN-LIFECYCLE}
if [ -z "${VRPC_TEST_DIR:-}" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    echo "1..0 # SKIP no private daemon (VRPC_TEST_DIR)"
    exit 0
fi
uri="test+unix:///default?socket=$VRPC_TEST_DIR/sys/run/libvirt-sock"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0
failed=0
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

"$list" "$uri" >"$out" 2>&1
s=$?
# Other tests may be changing the shared fake host: look for the domain only.
grep -q '^[0-9-][0-9]*  *6695eb01-f6a4-8304-79aa-97f2502e193f  *[a-z][a-z ]*  *test$' "$out"
ok $((s + $?)) "list-domains URI"
sed 's/^/# /' "$out"
LIBVIRT_DEFAULT_URI=$uri "$list" >"$out" 2>&1
ok $? "list-domains with LIBVIRT_DEFAULT_URI"

"$life" "$uri" >"$out" 2>&1
s=$?
grep -q '^started:' "$out" && grep -q "^undefined: 'virtrpc-example' no longer exists" "$out"
ok $((s + $?)) "domain-lifecycle: define, start, shut down, undefine"
sed 's/^/# /' "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
