#!/bin/sh
# SPDX-License-Identifier: MIT
# The ext transport: command= runs a program whose stdin and stdout are the
# connection; here a script that runs `nc -U` on a private daemon's socket.
# The common checks, `virtrpc list` next to `virsh list` through the same
# URI, and a command that fails: its stderr and exit status are in the
# error, and nothing is left behind.
# Usage: test-ext.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
check=$2
openfail=$3
cli=${4:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

if ! command -v nc >/dev/null 2>&1; then
    skip_all "nc is not installed (netcat-openbsd)"
fi

use_tmp
daemon_start_or_finish "start a private libvirtd" d

cat >"$tmp/connect.sh" <<EOF
#!/bin/sh
exec nc -U $tmp/d/sys/run/libvirt-sock
EOF
cat >"$tmp/refused.sh" <<EOF
#!/bin/sh
exec nc -U $tmp/d/sys/run/no-such-sock
EOF
chmod 755 "$tmp/connect.sh" "$tmp/refused.sh"

uri="test+ext:///default?command=$tmp/connect.sh"
VRPC_CHECK_PREFIX="ext: " tap "$check" "$uri"
[ -z "$cli" ] || same_list "$uri" "$uri" "ext: virtrpc list prints what virsh list prints"

bad="test+ext:///default?command=$tmp/refused.sh"
VRPC_CHECK_PREFIX="ext, command fails: " tap "$openfail" 3 "$bad" "exit status 1" \
    "$tmp/d/sys/run/no-such-sock" "connect: command $tmp/refused.sh failed"
virsh_refuses "ext, command fails" "$bad"
VRPC_CHECK_PREFIX="ext, no such command: " tap "$openfail" 2 \
    "test+ext:///default?command=$tmp/none.sh" "$tmp/none.sh" "No such file or directory"

finish
