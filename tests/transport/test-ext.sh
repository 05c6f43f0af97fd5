#!/bin/sh
# SPDX-License-Identifier: MIT
# The ext transport: command= runs a program whose stdin and stdout are the
# connection; here a script that runs `nc -U` on a private daemon's socket.
# The common checks, `virtrpc list` next to `virsh list` through the same
# URI, and a command that fails: its stderr and exit status are in the
# error, and nothing is left behind.
# Usage: test-ext.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
src=$1
check=$2
openfail=$3
cli=${4:-}
daemon="$src/scripts/test-daemon.sh"
virsh=${VRPC_VIRSH:-virsh}

if ! command -v nc >/dev/null 2>&1; then
    echo "1..0 # SKIP nc is not installed (netcat-openbsd)"
    exit 0
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
trap '"$daemon" stop "$tmp/d" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

all="$tmp/all.tap"
: >"$all"
status=0
emit() {
    cat "$1"
    cat "$1" >>"$all"
}
ok() { # STATUS NAME
    if [ "$1" -eq 0 ]; then echo "ok - $2"; else
        echo "not ok - $2"
        status=1
    fi >"$tmp/line"
    emit "$tmp/line"
}
tap() {
    "$@" >"$tmp/part" 2>"$tmp/part.err"
    rc=$?
    emit "$tmp/part"
    if [ $rc -ne 0 ]; then
        status=1
        sed 's/^/# /' "$tmp/part.err"
    fi
}
finish() {
    echo "1..$(grep -cE '^(not )?ok' "$all")"
    exit $status
}

if ! "$daemon" start-one "$tmp/d" >"$tmp/d.start" 2>&1; then
    ok 1 "start a private libvirtd"
    sed 's/^/# /' "$tmp/d.start"
    finish
fi

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
if [ -n "$cli" ]; then
    "$cli" -c "$uri" list >"$tmp/ours" 2>"$tmp/ours.err"
    a=$?
    "$virsh" -c "$uri" list >"$tmp/theirs" 2>"$tmp/theirs.err"
    b=$?
    [ $a -eq 0 ] && [ $b -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs"
    r=$?
    ok $r "ext: virtrpc list prints what virsh list prints (exit $a/$b)"
    [ $r -eq 0 ] || sed 's/^/# /' "$tmp/ours" "$tmp/ours.err" "$tmp/theirs" "$tmp/theirs.err"
fi

bad="test+ext:///default?command=$tmp/refused.sh"
VRPC_CHECK_PREFIX="ext, command fails: " tap "$openfail" 3 "$bad" "exit status 1" \
    "$tmp/d/sys/run/no-such-sock" "connect: command $tmp/refused.sh failed"
if "$virsh" -c "$bad" list >/dev/null 2>"$tmp/theirs.err"; then r=1; else r=0; fi
ok $r "ext, command fails: virsh refuses it too: $(grep -v '^$' "$tmp/theirs.err" | tail -n 1)"
VRPC_CHECK_PREFIX="ext, no such command: " tap "$openfail" 2 \
    "test+ext:///default?command=$tmp/none.sh" "$tmp/none.sh" "No such file or directory"

finish
