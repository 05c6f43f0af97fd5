#!/bin/sh
# SPDX-License-Identifier: MIT
# The ssh transport against a private sshd on a loopback port and a private
# libvirtd, with keys made here; virsh runs through the same URIs.
#
# The client side uses nothing of this machine's ssh setup: command= names a
# wrapper that runs ssh with -F /dev/null, our known_hosts and no agent.
#
# The remote side is this machine, as root. The remote command libvirt sends
# either names a socket (socket=: the netcat form) or lets the remote host
# find it: virt-ssh-helper and the netcat form without socket= both use the
# system path /var/run/libvirt/libvirt-sock(-ro). So that those forms reach
# the private daemon without touching the machine's /run/libvirt, the sshd
# runs every command through a ForceCommand script that records the command
# it was sent and runs it exactly as sshd would ($SHELL -c COMMAND), inside a
# private mount namespace where /run/libvirt is the private daemon's socket
# directory. Where mount namespaces are not available, those forms are
# skipped and the socket= forms still run.
#
# Checks: the common transport checks over the helper (auto and native) and
# netcat (with and without socket=, netcat=) forms; `virtrpc list` next to
# `virsh list`; that virtrpc runs the same ssh command line and sends the
# same remote command as virsh; read-only (-r, the -ro socket); host key
# refused and accepted with no_verify=1; a wrong key and a closed port
# refused with ssh's own words in the error; no process left behind.
# Usage: test-ssh.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
check=$2
openfail=$3
cli=${4:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

need ssh ssh-keygen python3 nc "$virsh"
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || skip_all "sshd is not installed (openssh-server)"
need_root "the private sshd and daemon need root"

use_tmp

# ---- the daemon ----
daemon_start_or_finish "start a private libvirtd" d
sock="$tmp/d/sys/run/libvirt-sock"

# ---- keys, the sshd ----
ssh-keygen -q -t ed25519 -N '' -C host -f "$tmp/hostkey"
ssh-keygen -q -t ed25519 -N '' -C user -f "$tmp/id"
ssh-keygen -q -t ed25519 -N '' -C other -f "$tmp/wrong"
cp "$tmp/id.pub" "$tmp/authorized_keys"

ns=0
if unshare --mount --propagation private true 2>/dev/null; then ns=1; fi

# Run what the client sent as sshd would, after recording it.
cat >"$tmp/force.sh" <<EOF
#!/bin/sh
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$tmp/commands"
if [ $ns = 1 ]; then
    exec unshare --mount --propagation private /bin/sh -c '
        if [ ! -d /run/libvirt ]; then mount -t tmpfs tmpfs /run && mkdir /run/libvirt; fi &&
        mount --bind "\$1" /run/libvirt &&
        exec "\${SHELL:-/bin/sh}" -c "\$SSH_ORIGINAL_COMMAND"' sh "$tmp/d/sys/run"
fi
exec "\${SHELL:-/bin/sh}" -c "\$SSH_ORIGINAL_COMMAND"
EOF
chmod 755 "$tmp/force.sh"

if [ ! -d /run/sshd ]; then
    mkdir -p /run/sshd && chmod 755 /run/sshd && at_exit "rmdir /run/sshd 2>/dev/null"
fi

sshd_up() { ! kill -0 "$sshd_pid" 2>/dev/null || grep -q 'Server listening' "$tmp/sshd.log"; }
port=
sshd_pid=
for _ in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$tmp/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $tmp/hostkey
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
ForceCommand $tmp/force.sh
EOF
    : >"$tmp/sshd.log"
    "$sshd" -D -f "$tmp/sshd_config" -E "$tmp/sshd.log" &
    sshd_pid=$!
    wait_until 100 sshd_up
    if grep -q 'Server listening' "$tmp/sshd.log"; then
        at_exit "kill_wait $sshd_pid"
        break
    fi
    kill "$sshd_pid" 2>/dev/null
    wait "$sshd_pid" 2>/dev/null
    sshd_pid=
done
if [ -z "$sshd_pid" ]; then
    ok 1 "start a private sshd on 127.0.0.1"
    diag "$tmp/sshd.log"
    finish
fi
ok 0 "a private sshd listens on 127.0.0.1:$port"

echo "[127.0.0.1]:$port $(cat "$tmp/hostkey.pub")" >"$tmp/known_hosts"
# The ssh that command= runs: nothing from ~/.ssh or /etc/ssh, no agent. It
# records its arguments (libvirt passes only a few variables to it).
wrapper() { # NAME KNOWN_HOSTS
    cat >"$tmp/$1" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >>"$tmp/argv"
exec ssh -F /dev/null -o UserKnownHostsFile=$2 -o GlobalKnownHostsFile=/dev/null \
    -o IdentitiesOnly=yes -o IdentityAgent=none -o ConnectTimeout=10 "\$@"
EOF
    chmod 755 "$tmp/$1"
}
wrapper sshw "$tmp/known_hosts"
wrapper sshw-new "$tmp/known_hosts.new"

base="test+ssh://root@127.0.0.1:$port/default"
opts="keyfile=$tmp/id&command=$tmp/sshw&no_tty=1"

# Everything the server side has seen finished: no sshd session, no ssh client left.
none_left() {
    n=$(pgrep -P "$sshd_pid" | wc -l)
    c=$(pgrep -f -- "-i $tmp/" | wc -l)
    [ "$n" -eq 0 ] && [ "$c" -eq 0 ]
}
no_leftovers() { # NAME
    wait_until 100 none_left
    ok $? "$1: no ssh client and no sshd session left ($c, $n)"
}

# virtrpc list next to virsh list, and the same ssh argv and remote command (URI [virtrpc flags]).
keep_ours() {
    mv "$tmp/argv" "$tmp/argv.ours"
    mv "$tmp/commands" "$tmp/commands.ours"
    : >"$tmp/argv"
    : >"$tmp/commands"
}
same_as_virsh() { # NAME URI [-r]
    name=$1 uri=$2
    shift 2
    if [ -z "$cli" ]; then
        skip "$name: virtrpc list vs virsh list: the tool is not built"
        return
    fi
    : >"$tmp/argv"
    : >"$tmp/commands"
    after_ours=keep_ours same_list "$@" "$uri" "$uri" "$name: virtrpc ${*:+$* }list prints what virsh prints"
    cmp -s "$tmp/argv.ours" "$tmp/argv" && [ -s "$tmp/argv" ]
    r=$?
    ok $r "$name: the same ssh command line as virsh"
    [ $r -ne 0 ] && diff "$tmp/argv.ours" "$tmp/argv" | sed 's/^/# /'
    cmp -s "$tmp/commands.ours" "$tmp/commands" && [ -s "$tmp/commands" ]
    r=$?
    ok $r "$name: the same remote command as virsh: $(head -c 300 "$tmp/commands.ours")"
    [ $r -ne 0 ] && diff "$tmp/commands.ours" "$tmp/commands" | sed 's/^/# /'
}

# The common checks, then the comparisons (NAME URI TEXT-IN-REMOTE-COMMAND).
full() {
    : >"$tmp/commands"
    VRPC_CHECK_PREFIX="$1: " tap "$check" "$2"
    grep -qF -- "$3" "$tmp/commands"
    ok $? "$1: the remote command has '$3'"
    same_as_virsh "$1" "$2"
}

# ---- the forms ----
if [ $ns = 1 ]; then
    full "helper (proxy auto)" "$base?$opts" "which virt-ssh-helper"
    full "helper (proxy=native)" "$base?$opts&proxy=native" "sh -c 'virt-ssh-helper 'test:///default''"
    full "netcat (proxy=netcat)" "$base?$opts&proxy=netcat" "-U /var/run/libvirt/libvirt-sock'"
    same_as_virsh "read-only helper" "$base?$opts" -r
    grep -qF -- "virt-ssh-helper -r 'test:///default'" "$tmp/commands.ours"
    ok $? "read-only helper: virt-ssh-helper -r"
    same_as_virsh "read-only netcat" "$base?$opts&proxy=netcat" -r
    grep -qF -- "-U /var/run/libvirt/libvirt-sock-ro'" "$tmp/commands.ours"
    ok $? "read-only netcat: the -ro socket"
else
    skip "helper and netcat forms without socket=: no mount namespaces here (unshare --mount)"
fi
full "netcat (socket=)" "$base?$opts&socket=$sock" "-U $sock'"
full "netcat (netcat=nc, socket=)" "$base?$opts&netcat=nc&socket=$sock" "'nc' \$ARG -U $sock'"
no_leftovers "after the working connections"

# ---- host keys ----
nv="keyfile=$tmp/id&command=$tmp/sshw-new&no_tty=1&socket=$sock"
: >"$tmp/known_hosts.new"
VRPC_CHECK_PREFIX="unknown host key: " tap "$openfail" 2 "$base?$nv" "Host key verification failed" \
    "connect: $tmp/sshw-new to root@127.0.0.1 port $port failed (exit status 255"
: >"$tmp/known_hosts.new"
VRPC_CHECK_PREFIX="no_verify=1: " tap "$check" "$base?$nv&no_verify=1"
grep -q -- "StrictHostKeyChecking=no" "$tmp/argv"
ok $? "no_verify=1: ssh gets -o StrictHostKeyChecking=no"

# ---- refusals: ssh's words in the error ----
refused() { # NAME URI TEXT
    refused_by_all "$1" 2 "$2" "$3" "connect: "
}
refused "wrong key" "$base?keyfile=$tmp/wrong&command=$tmp/sshw&no_tty=1&socket=$sock" \
    "Permission denied (publickey)"
cport=$(free_port)
refused "closed port" \
    "test+ssh://root@127.0.0.1:$cport/default?keyfile=$tmp/id&command=$tmp/sshw&no_tty=1" \
    "Connection refused"
refused "no such ssh binary" "$base?$opts&command=$tmp/no-such-ssh" "$tmp/no-such-ssh"
no_leftovers "after the refusals"

finish
