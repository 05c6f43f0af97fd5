# SPDX-License-Identifier: MIT
# Helpers shared by the shell tests. A test sources it first:
#
#     . "$(dirname "$0")/../lib.sh"
#
# (every test lives in tests/FAMILY/, so that is this file). It sets
#   top     the source tree (unless the test set it before)
#   daemon  scripts/test-daemon.sh of that tree
#   virsh   $VRPC_VIRSH, else virsh
#
# TAP: ok STATUS NAME, skip REASON, diag FILE..., tap CMD... (a program that
# prints TAP lines without a plan), finish (the plan and the exit status).
# Every line is numbered here, whatever program printed it, and counted in
# $tmp/all.tap, so the plan comes last and always matches. A test that
# never runs a check says so with skip_all REASON (the plan "1..0 # SKIP").
#
# Set-up: need TOOL..., need_root REASON, need_root_libvirtd (skip_all
# when missing),
# use_tmp (a private $tmp, removed at exit), at_exit CMD (run at exit, the
# last registered first), daemon_start NAME [-l] [CONFIG-LINE...] (a private
# libvirtd in $tmp/NAME, stopped at exit), free_port [ADDR], wait_until
# TRIES CMD..., kill_wait PID...; certificates: pki_key, pki_ca, pki_cert.
# Comparisons with virsh: same_list, virsh_refuses, refused_by_all.
# libvirt's client configuration for root: etc_libvirt_ok, with_etc_libvirt.

# shellcheck disable=SC2154 # cli, openfail, pki: set by the test that uses them
top=${top:-$(cd "$(dirname "$0")/../.." && pwd)}
daemon="$top/scripts/test-daemon.sh"
virsh=${VRPC_VIRSH:-virsh}
status=0
tmp=
t_hooks=
t_daemons=

# ---- skipping a whole test ----

skip_all() { # REASON
    echo "1..0 # SKIP $*"
    exit 0
}

need() { # TOOL...: skip the test when a tool is missing
    for t_tool in "$@"; do
        command -v "$t_tool" >/dev/null 2>&1 || skip_all "$t_tool is not installed"
    done
}

need_root() { # REASON
    [ "$(id -u)" = 0 ] || skip_all "$1"
}

need_root_libvirtd() { # the private daemons of scripts/test-daemon.sh start-one
    if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null 2>&1; then
        skip_all "needs root and libvirtd"
    fi
}

# ---- the temporary directory and what is undone at exit ----

# A private directory $tmp (mode 755: daemons and other users read below
# it); removed at exit after every at_exit command ran.
use_tmp() { # [TEMPLATE]: mktemp's
    tmp=$(mktemp -d ${1:+"$1"}) || exit 1
    chmod 755 "$tmp"
    trap t_cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

at_exit() { # CMD (shell text, evaluated at exit)
    t_hooks="$1
$t_hooks"
}

t_cleanup() {
    eval "$t_hooks"
    [ -n "$tmp" ] && rm -rf "$tmp"
}

# Private daemons (scripts/test-daemon.sh start-one) in $tmp/NAME; its
# output goes to $tmp/NAME.start. They are stopped together at exit.
daemon_start() { # NAME [-l] [CONFIG-LINE...]
    t_name=$1
    shift
    if "$daemon" start-one "$tmp/$t_name" "$@" >"$tmp/$t_name.start" 2>&1; then
        [ -n "$t_daemons" ] || at_exit t_daemons_stop
        t_daemons="$t_daemons $t_name"
        return 0
    fi
    "$daemon" stop "$tmp/$t_name" >/dev/null 2>&1
    return 1
}

# The same, or a failed check NAME with the daemon's output, and the end.
daemon_start_or_finish() { # CHECK-NAME NAME [-l] [CONFIG-LINE...]
    t_check=$1
    shift
    daemon_start "$@" && return 0
    ok 1 "$t_check"
    diag "$tmp/$1.start"
    finish
}

# Each daemon takes a moment to shut down: stop them all at once.
t_daemons_stop() {
    t_stops=
    for t_d in $t_daemons; do
        "$daemon" stop "$tmp/$t_d" >/dev/null 2>&1 &
        t_stops="$t_stops $!"
    done
    # shellcheck disable=SC2086 # (only these: other children may still run)
    wait $t_stops
}

# ---- processes, ports ----

wait_until() { # TRIES CMD...: run CMD every 50 ms until it succeeds (at most TRIES times)
    t_tries=$1
    shift
    t_i=0
    until "$@"; do
        t_i=$((t_i + 1))
        [ $t_i -ge "$t_tries" ] && return 1
        sleep 0.05
    done
}

t_gone() { ! kill -0 "$1" 2>/dev/null; }

kill_wait() { # PID...: SIGTERM, up to 5 s to end, then SIGKILL
    for t_p in "$@"; do
        kill "$t_p" 2>/dev/null || continue
        wait_until 100 t_gone "$t_p" || kill -9 "$t_p" 2>/dev/null
    done
}

free_port() { # [ADDR]: a port nobody listens on now (127.0.0.1 by default)
    python3 -c 'import socket,sys
f=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s=socket.socket(f); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

# ---- TAP ----

# Print FILE's TAP lines numbered after those already printed, and keep them.
emit() { # FILE
    [ -n "$tmp" ] || use_tmp ""
    [ -f "$tmp/all.tap" ] || : >"$tmp/all.tap"
    awk -v n="$(grep -cE '^(not )?ok' "$tmp/all.tap")" '
        /^ok( |$)/ { n++; sub(/^ok( [0-9]+)?/, "ok " n) }
        /^not ok( |$)/ { n++; sub(/^not ok( [0-9]+)?/, "not ok " n) }
        { print }' "$1" >"$tmp/emit.tap"
    cat "$tmp/emit.tap"
    cat "$tmp/emit.tap" >>"$tmp/all.tap"
}

ok() { # STATUS NAME: a check that passed when STATUS is 0
    [ -n "$tmp" ] || use_tmp ""
    if [ "$1" -eq 0 ]; then echo "ok - $2"; else
        echo "not ok - $2"
        status=1
    fi >"$tmp/line"
    emit "$tmp/line"
}

skip() { # REASON
    [ -n "$tmp" ] || use_tmp ""
    echo "ok - # SKIP $1" >"$tmp/line"
    emit "$tmp/line"
}

diag() { sed 's/^/# /' "$@"; }

# Run a program that prints TAP lines without a plan; its stderr becomes
# diagnostics when it fails, and its failure fails the test.
tap() { # CMD...
    [ -n "$tmp" ] || use_tmp ""
    "$@" >"$tmp/part" 2>"$tmp/part.err"
    t_rc=$?
    emit "$tmp/part"
    if [ $t_rc -ne 0 ]; then
        status=1
        diag "$tmp/part.err"
    fi
}

finish() {
    [ -n "$tmp" ] || use_tmp ""
    [ -f "$tmp/all.tap" ] || : >"$tmp/all.tap"
    echo "1..$(grep -cE '^(not )?ok' "$tmp/all.tap")"
    exit $status
}

# ---- root's libvirt.conf ----

# Root's client reads /etc/libvirt/libvirt.conf (virtrpc and virsh alike).
# with_etc_libvirt runs CMD with DIR bind-mounted over /etc/libvirt in a
# private mount namespace: the host's files stay as they are, and nothing
# outside CMD sees DIR there. etc_libvirt_ok says whether that works here.
with_etc_libvirt() { # DIR CMD...
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare -m sh -c 'mount --bind "$0" /etc/libvirt && exec "$@"' "$@"
}
etc_libvirt_ok() {
    [ "$(id -u)" = 0 ] && [ -d /etc/libvirt ] && command -v unshare >/dev/null 2>&1 &&
        with_etc_libvirt /etc/libvirt true 2>/dev/null
}

# ---- comparisons with virsh (the tool is $cli, empty when not built) ----

# `virtrpc -c URI list` prints what `virsh -c VIRSH-URI list` prints, byte
# for byte, both exit 0 (a skip when the tool is not built). FLAGs (-r) go
# to both. Both run through $run_as (a command prefix, e.g. a function)
# when it is set; $after_ours (a command) runs between the two.
same_list() { # [FLAG...] URI [VIRSH-URI [NAME]]
    t_flags=
    while [ $# -gt 0 ]; do
        case $1 in
        -*) t_flags="$t_flags $1" ;;
        *) break ;;
        esac
        shift
    done
    t_name=${3:-"virtrpc -c '$1' list prints what virsh prints"}
    if [ -z "${cli:-}" ]; then
        skip "virtrpc list vs virsh list: the tool is not built"
        return
    fi
    # shellcheck disable=SC2086
    ${run_as:-} "$cli" $t_flags -c "$1" list >"$tmp/ours" 2>"$tmp/ours.err"
    a=$?
    ${after_ours:-}
    # shellcheck disable=SC2086
    ${run_as:-} "$virsh" $t_flags -c "${2:-$1}" list >"$tmp/theirs" 2>"$tmp/theirs.err"
    b=$?
    [ $a -eq 0 ] && [ $b -eq 0 ] && cmp -s "$tmp/ours" "$tmp/theirs"
    t_r=$?
    ok $t_r "$t_name (exit $a/$b)"
    if [ $t_r -ne 0 ]; then
        sed 's/^/# virtrpc: /' "$tmp/ours" "$tmp/ours.err"
        sed 's/^/# virsh: /' "$tmp/theirs" "$tmp/theirs.err"
    fi
    return $t_r
}

# virsh fails to list through URI too (its last line of error in the name).
virsh_refuses() { # NAME URI
    if "$virsh" -c "$2" list >/dev/null 2>"$tmp/theirs.err"; then t_r=1; else t_r=0; fi
    ok $t_r "$1: virsh refuses it too: $(grep -v ': info : \|^$' "$tmp/theirs.err" | tail -n 1)"
}

# A refusal by all: our library (open-fail: COUNT opens, each error holding
# every TEXT, nothing left behind), our tool (fails with one line holding
# the first TEXT) and virsh. Needs $openfail.
refused_by_all() { # NAME COUNT URI TEXT...
    t_rname=$1 t_count=$2 t_ruri=$3
    shift 3
    VRPC_CHECK_PREFIX="$t_rname: " tap "$openfail" "$t_count" "$t_ruri" "$@"
    if [ -n "${cli:-}" ]; then
        "$cli" -c "$t_ruri" list >"$tmp/ours" 2>"$tmp/ours.err"
        a=$?
        [ $a -ne 0 ] && [ "$(wc -l <"$tmp/ours.err")" -eq 1 ] && grep -qF -- "$1" "$tmp/ours.err"
        ok $? "$t_rname: virtrpc list fails with one line: $(cat "$tmp/ours.err")"
    fi
    virsh_refuses "$t_rname" "$t_ruri"
}

# ---- certificates (certtool) in $pki ----

pki_key() { # NAME: $pki/NAME-key.pem
    certtool --generate-privkey --bits 2048 --outfile "$pki/$1-key.pem" >/dev/null 2>&1
}

pki_ca() { # NAME CN: a CA, $pki/NAME-key.pem and $pki/NAME-cert.pem
    pki_key "$1"
    printf 'cn = %s\nca\ncert_signing_key\nexpiration_days = 30\n' "$2" >"$pki/$1.info"
    certtool --generate-self-signed --load-privkey "$pki/$1-key.pem" --template "$pki/$1.info" \
        --outfile "$pki/$1-cert.pem" >/dev/null 2>&1
}

pki_cert() { # NAME KEY CA TEMPLATE-LINE...: $pki/NAME-cert.pem for KEY, signed by CA
    t_cname=$1 t_key=$2 t_ca=$3
    shift 3
    printf '%s\n' "organization = virtrpc test" "$@" >"$pki/$t_cname.info"
    certtool --generate-certificate --load-privkey "$pki/$t_key-key.pem" \
        --load-ca-certificate "$pki/$t_ca-cert.pem" --load-ca-privkey "$pki/$t_ca-key.pem" \
        --template "$pki/$t_cname.info" --outfile "$pki/$t_cname-cert.pem" >/dev/null 2>&1
}
