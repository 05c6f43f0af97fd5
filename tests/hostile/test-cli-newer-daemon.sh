#!/bin/sh
# SPDX-License-Identifier: MIT
# The virtrpc tool against a daemon newer than its protocol files
# (newer-daemon.py, through the ext transport): values outside the
# generated enums are printed as numbers and the call succeeds; a typed
# parameter type without an arm fails the call with a clean error; an
# authentication type the client does not know is refused as libvirt's own
# client refuses it. virsh on the same URI, when installed, agrees.
# Usage: test-cli-newer-daemon.sh VIRTRPC
set -u
cli=${1:?usage: test-cli-newer-daemon.sh VIRTRPC}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need python3
use_tmp

fake="$top/tests/hostile/newer-daemon.py"
cat >"$tmp/only-new.sh" <<EOF
#!/bin/sh
NEWER_DAEMON_AUTH=only-new exec python3 $fake
EOF
chmod 755 "$tmp/only-new.sh"
uri="test+ext:///default?command=$fake"
only_new="test+ext:///default?command=$tmp/only-new.sh"
dom='{"name": "x", "uuid": "6695eb01-f6a4-8304-79aa-97f2502e193f", "id": 1}'

# The JSON printed by `call` (stdout) as one line, keys sorted.
compact() {
    python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))' \
        <"$1" 2>/dev/null
}

"$cli" -c "$uri" call auth_list >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ "$(compact "$tmp/out")" = '{"types": [0, 3, 99, -2147483648]}' ]
ok $? "auth types 3, 99 and -2^31 (not in remote_auth_type) are printed as numbers (exit $rc)"
[ $rc -eq 0 ] || diag "$tmp/out" "$tmp/err"

"$cli" -c "$uri" call domain_get_state "{\"dom\": $dom, \"flags\": 0}" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && [ "$(compact "$tmp/out")" = '{"reason": 42, "state": 9}' ]
ok $? "a domain state (9) and reason (42) no release defines are printed (exit $rc)"
[ $rc -eq 0 ] || diag "$tmp/out" "$tmp/err"

"$cli" -c "$uri" call node_get_memory_parameters '{"nparams": 1, "flags": 0}' \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ ! -s "$tmp/out" ] &&
    grep -q "cannot decode the reply to node_get_memory_parameters" "$tmp/err"
ok $? "a typed parameter of type 8 (no arm): a clean error, exit 1 (exit $rc)"
[ $rc -eq 1 ] || diag "$tmp/out" "$tmp/err"

"$cli" -c "$only_new" call connect_get_hostname >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] && [ ! -s "$tmp/out" ] &&
    grep -q "unsupported authentication type 3" "$tmp/err"
ok $? "only auth type 3 offered: refused, \"unsupported authentication type 3\" (exit $rc)"
[ $rc -ne 0 ] || diag "$tmp/out" "$tmp/err"

if command -v "$virsh" >/dev/null 2>&1; then
    "$virsh" -c "$uri" hostname >"$tmp/vout" 2>"$tmp/verr"
    ok $? "virsh connects to the same daemon too (auth types 0, 3, 99, -2^31)"
    "$virsh" -c "$only_new" hostname >"$tmp/vout" 2>"$tmp/verr"
    rc=$?
    [ $rc -ne 0 ] && grep -q "unsupported authentication type 3" "$tmp/verr"
    ok $? "virsh refuses only auth type 3 with the same message"
else
    skip "virsh is not installed"
fi

finish
