#!/bin/sh
# SPDX-License-Identifier: MIT
# polkit against a real libvirtd (auth_unix_rw = "polkit") whose polkit
# checks go to a private polkitd on a private system bus (dbus-daemon):
#  - root: the daemon's AUTH_LIST answers [none] for uid 0 (libvirt's root
#    bypass): the common checks pass, and auth=polkit is refused with
#    libvirt's message, as by virsh;
#  - an unprivileged user (nobody): AUTH_POLKIT goes to polkitd and is
#    refused; our library and tool report the daemon's error exactly as
#    virsh does, and leave no fd behind.
# A successful AUTH_POLKIT needs libvirt's polkit action
# (org.libvirt.unix.manage) installed under /usr/share/polkit-1 and a rule
# granting it, which a test must not write: that reply ({complete = 1}) is
# covered against a scripted daemon by tests/unit/test-auth-polkit.c.
# Usage: test-polkit.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
check=$2
openfail=$3
cli=${4:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

polkitd=
for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd /usr/lib/policykit-1/polkitd; do
    [ -x "$p" ] && polkitd=$p && break
done
[ -n "$polkitd" ] || skip_all "polkitd is not installed"
need dbus-daemon dbus-send setpriv "$virsh"
need_root "needs root (a system daemon with polkit)"

use_tmp

# ---- a private system bus and polkitd on it ----
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$tmp/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile >"$tmp/bus.log" 2>&1 &
bus_pid=$!
at_exit "kill_wait $bus_pid"
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/bus"
wait_until 100 test -S "$tmp/bus"
"$polkitd" --no-debug >"$tmp/polkitd.log" 2>&1 &
pk_pid=$!
at_exit "kill_wait $pk_pid"
i=0
until dbus-send --system --print-reply --dest=org.freedesktop.PolicyKit1 \
    /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$pk_pid" 2>/dev/null; then
        echo "1..0 # SKIP polkitd does not run on a private system bus here"
        diag "$tmp/bus.log" "$tmp/polkitd.log"
        exit 0
    fi
    sleep 0.05
done

# ---- libvirtd with polkit on its Unix sockets ----
daemon_start_or_finish "start a libvirtd with auth_unix_rw = polkit" d \
    'auth_unix_rw = "polkit"' 'auth_unix_ro = "polkit"'
chmod 755 "$tmp/d" "$tmp/d/sys" "$tmp/d/sys/run"
uri="test+unix:///default?socket=$tmp/d/sys/run/libvirt-sock"

# Root: libvirt's root bypass (AUTH_LIST answers none).
VRPC_CHECK_PREFIX="polkit socket, root: " tap "$check" "$uri"

msg="authentication failed: requested authentication type polkit rejected"
VRPC_CHECK_PREFIX="root, auth=polkit: " tap "$openfail" 3 "$uri&auth=polkit" "$msg"
"$virsh" -c "$uri&auth=polkit" list >/dev/null 2>"$tmp/theirs.err"
b=$?
[ $b -ne 0 ] && grep -qF "error: $msg" "$tmp/theirs.err"
r=$?
ok $r "root, auth=polkit: virsh refuses with the same message (the daemon offers none to root)"
[ $r -ne 0 ] && diag "$tmp/theirs.err"

# An unprivileged user: AUTH_POLKIT is asked, polkitd answers, the daemon refuses.
home="$tmp/nobody"
mkdir -p "$home"
chown nobody "$home" 2>/dev/null
as_nobody() {
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
        env -u XDG_RUNTIME_DIR HOME="$home" XDG_CONFIG_HOME="$home/.config" \
        XDG_CACHE_HOME="$home/.cache" "$@"
}
if ! as_nobody test -x "$check" || ! as_nobody test -x "$openfail"; then
    skip "nobody cannot run the test programs from the build directory"
    finish
fi
as_nobody "$virsh" -c "$uri" list >/dev/null 2>"$tmp/theirs.err"
b=$?
# virsh: "error: failed to connect to the hypervisor" then "error: <the reason>".
theirs=$(grep '^error: ' "$tmp/theirs.err" | grep -v 'failed to connect to the hypervisor' |
    head -n 1 | sed 's/^error: //')
[ $b -ne 0 ] && [ -n "$theirs" ]
r=$?
ok $r "nobody: virsh is refused by the daemon after asking polkit ($theirs)"
[ $r -ne 0 ] && diag "$tmp/theirs.err"
if [ -n "$theirs" ]; then
    VRPC_CHECK_PREFIX="nobody: " tap as_nobody "$openfail" 3 "$uri" "$theirs"
    if [ -n "$cli" ]; then
        as_nobody "$cli" -c "$uri" list >"$tmp/ours" 2>"$tmp/ours.err"
        a=$?
        [ $a -eq 1 ] && [ "$(wc -l <"$tmp/ours.err")" -eq 1 ] &&
            [ "$(cat "$tmp/ours.err")" = "virtrpc: authentication: $theirs" ]
        r=$?
        ok $r "nobody: virtrpc says 'virtrpc: authentication: <virsh's reason>' in one line"
        [ $r -ne 0 ] && diag "$tmp/ours.err"
    fi
fi
finish
