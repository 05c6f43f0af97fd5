#!/bin/sh
# SPDX-License-Identifier: MIT
# Session daemons: as an unprivileged user (nobody) with HOME and
# XDG_RUNTIME_DIR in a temporary directory, `virtrpc -c test:///default list`
# finds no daemon and starts `libvirtd --timeout=120` the way libvirt's client
# does; later runs reuse it; LIBVIRT_AUTOSTART=0 refuses with a clear
# message; a dead daemon's stale socket (ECONNREFUSED) and concurrent clients
# (the lock file) start exactly one new daemon; a daemon program that is
# missing or never listens is reported.
#
# The daemon program comes from $VIRTD_PATH, as libvirt's client looks it up
# ($VIRTD_PATH, else $LIBVIRTD_PATH, else the sbin directory): a wrapper
# named libvirtd there runs the real libvirtd with LIBVIRT_DRIVER_DIR on an
# empty directory, so the session daemon serves only the test driver. virsh,
# through test+unix:///default (the same session daemon for libvirt's client),
# is compared with virtrpc.
# Usage: test-session.sh SRCDIR TRANSPORT-CHECK OPEN-FAIL [VIRTRPC]
set -u
check=$2
openfail=$3
cli=${4:-}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

libvirtd=$(command -v libvirtd || true)
[ -n "$libvirtd" ] || skip_all "libvirtd is not installed"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    skip_all "needs root and setpriv to run as another user"
fi
user=nobody
group=$(id -gn nobody 2>/dev/null || echo nogroup)

use_tmp
home="$tmp/home"
run="$home/run"
rundir="$run/libvirt"
pidfile="$rundir/libvirtd.pid"

# Every session daemon of this test runs the wrapper in $tmp: find them by that.
our_daemons() {
    pgrep -u "$user" -f -- "$tmp/bin/" 2>/dev/null
    pgrep -u "$user" -f -- "--timeout=120" 2>/dev/null | while read -r p; do
        if tr '\0' ' ' <"/proc/$p/environ" 2>/dev/null | grep -qF -- "$run"; then echo "$p"; fi
    done
}
no_daemons() { [ -z "$(our_daemons)" ]; }
kill_daemons() {
    for p in $(our_daemons | sort -u); do kill "$p" 2>/dev/null; done
    wait_until 100 no_daemons
    for p in $(our_daemons | sort -u); do kill -9 "$p" 2>/dev/null; done
}
at_exit kill_daemons

mkdir -p "$tmp/bin" "$tmp/drivers" "$tmp/nobin" "$tmp/deaf" "$home"
cat >"$tmp/bin/libvirtd" <<EOF
#!/bin/sh
LIBVIRT_DRIVER_DIR=$tmp/drivers exec $libvirtd "\$@"
EOF
# A daemon program that starts but never listens.
cat >"$tmp/deaf/libvirtd" <<EOF
#!/bin/sh
exit 0
EOF
chmod 755 "$tmp/bin/libvirtd" "$tmp/deaf/libvirtd"
chown "$user:$group" "$home"
chmod 700 "$home"

asuser() { # VIRTD_PATH-DIR CMD...
    d=$1
    shift
    setpriv --reuid="$user" --regid="$group" --clear-groups env -i PATH="$PATH" HOME="$home" \
        XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$run" \
        VIRTD_PATH="$d" ${AUTOSTART:+LIBVIRT_AUTOSTART=$AUTOSTART} \
        ${VRPC_CHECK_PREFIX:+VRPC_CHECK_PREFIX="$VRPC_CHECK_PREFIX"} \
        ${VRPC_CHECK_NO_VIRSH:+VRPC_CHECK_NO_VIRSH=1} \
        ${VRPC_CHECK_VIRSH_URI:+VRPC_CHECK_VIRSH_URI="$VRPC_CHECK_VIRSH_URI"} \
        ${VRPC_VIRSH:+VRPC_VIRSH="$VRPC_VIRSH"} ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
        ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} "$@"
}

# ---- LIBVIRT_AUTOSTART=0 with no daemon ----
AUTOSTART=0 VRPC_CHECK_PREFIX="LIBVIRT_AUTOSTART=0: " tap asuser "$tmp/bin" "$openfail" 1 \
    test:///default "LIBVIRT_AUTOSTART=0" "$rundir/libvirt-sock"
if [ -n "$cli" ]; then
    AUTOSTART=0 asuser "$tmp/bin" "$cli" -c test:///default list >"$tmp/out" 2>"$tmp/err"
    a=$?
    [ $a -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "LIBVIRT_AUTOSTART=0" "$tmp/err"
    ok $? "LIBVIRT_AUTOSTART=0: virtrpc list fails with one line: $(cat "$tmp/err")"
fi
[ -z "$(our_daemons)" ] && [ ! -e "$pidfile" ]
ok $? "LIBVIRT_AUTOSTART=0: no daemon was started"

# ---- first run starts the daemon ----
if [ -n "$cli" ]; then
    asuser "$tmp/bin" "$cli" -c test:///default list >"$tmp/first" 2>"$tmp/err"
    a=$?
    grep -q ' test  *running' "$tmp/first"
    ok $? "virtrpc -c test:///default list starts the session daemon and lists (exit $a)"
    [ $a -eq 0 ] || sed 's/^/# /' "$tmp/err"
else
    VRPC_CHECK_NO_VIRSH=1 VRPC_CHECK_PREFIX="first open: " tap asuser "$tmp/bin" "$check" \
        test:///default
fi
pid=$(cat "$pidfile" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
ok $? "a session daemon runs, pid file $pidfile ($pid)"
[ -n "$pid" ] && [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$user" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--timeout=120"
ok $? "it runs as $user with --timeout=120: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null)
sid=$(awk '{print $6}' "/proc/$pid/stat" 2>/dev/null)
[ -n "$sid" ] && [ "$sid" != "$(awk '{print $6}' /proc/$$/stat)" ]
ok $? "it is detached: its own session ($sid), parent $ppid"
[ "$(stat -c %a "$rundir" 2>/dev/null)" = 700 ] && [ "$(stat -c %U "$rundir")" = "$user" ]
ok $? "the runtime directory $rundir is 0700 and $user's"
[ ! -e "$rundir/libvirtd.lock" ]
ok $? "the lock file is gone"

# ---- later runs reuse it ----
VRPC_CHECK_PREFIX="session: " VRPC_CHECK_VIRSH_URI=test+unix:///default tap \
    asuser "$tmp/bin" "$check" test:///default
if [ -n "$cli" ]; then
    asuser "$tmp/bin" "$cli" -c test:///default list >"$tmp/ours" 2>"$tmp/err"
    a=$?
    asuser "$tmp/bin" "$cli" -c test+unix:///default list >"$tmp/ours2" 2>>"$tmp/err"
    b=$?
    asuser "$tmp/bin" "$virsh" -c test+unix:///default list >"$tmp/theirs" 2>"$tmp/theirs.err"
    c=$?
    [ $a -eq 0 ] && [ $b -eq 0 ] && [ $c -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs" &&
        cmp -s "$tmp/ours2" "$tmp/theirs"
    r=$?
    ok $r "virtrpc list (test:///default, test+unix:///default) prints what virsh -c test+unix:///default list prints"
    [ $r -eq 0 ] || diag "$tmp/ours" "$tmp/err" "$tmp/theirs" "$tmp/theirs.err"
fi
[ "$(cat "$pidfile" 2>/dev/null)" = "$pid" ] && [ "$(our_daemons | sort -u | wc -l)" -eq 1 ]
ok $? "the same daemon served every later connection (pid $pid)"

# ---- a stale socket: the daemon died, the socket file stayed (ECONNREFUSED) ----
kill -9 "$pid" 2>/dev/null
wait_until 100 t_gone "$pid"
[ -S "$rundir/libvirt-sock" ]
ok $? "after kill -9 the socket file is still there"
VRPC_CHECK_NO_VIRSH=1 VRPC_CHECK_PREFIX="stale socket: " tap asuser "$tmp/bin" "$check" \
    test:///default
pid2=$(cat "$pidfile" 2>/dev/null)
[ -n "$pid2" ] && [ "$pid2" != "$pid" ] && kill -0 "$pid2" 2>/dev/null
ok $? "a new daemon was started ($pid2)"

# ---- concurrent clients with no daemon: one daemon ----
kill_daemons
rm -f "$rundir/libvirt-sock"
for n in 1 2 3 4; do
    VRPC_CHECK_NO_VIRSH=1 VRPC_CHECK_PREFIX="concurrent $n: " asuser "$tmp/bin" "$check" \
        test:///default >"$tmp/conc$n" 2>&1 &
done
wait
for n in 1 2 3 4; do emit "$tmp/conc$n"; done
grep -q '^not ok' "$tmp/conc1" "$tmp/conc2" "$tmp/conc3" "$tmp/conc4" && status=1
[ "$(our_daemons | sort -u | wc -l)" -eq 1 ]
ok $? "four clients at once started one daemon ($(our_daemons | sort -u | tr '\n' ' '))"
kill_daemons
rm -f "$rundir/libvirt-sock"

# ---- a daemon program that is missing, or never listens ----
VRPC_CHECK_PREFIX="missing daemon program: " tap asuser "$tmp/nobin" "$openfail" 1 \
    test:///default "$tmp/nobin/libvirtd" "No such file or directory"
t0=$(date +%s)
VRPC_CHECK_PREFIX="daemon that never listens: " tap asuser "$tmp/deaf" "$openfail" 1 \
    test:///default "$tmp/deaf/libvirtd was started but does not accept connections"
t1=$(date +%s)
[ $((t1 - t0)) -le 15 ]
ok $? "daemon that never listens: given up after the retries ($((t1 - t0)) s)"
[ ! -e "$rundir/libvirtd.lock" ]
ok $? "the lock file is gone after failures too"

finish
