#!/bin/sh
# SPDX-License-Identifier: MIT
# The virtrpc tool against a private libvirtd (test driver), compared with
# virsh on the same daemon. TAP output.
#   test-cli.sh VIRTRPC
# Needs VRPC_TEST_DIR (a directory set up by scripts/test-daemon.sh start).
set -u
vrpc=${1:?usage: test-cli.sh VIRTRPC}

if [ -z "${VRPC_TEST_DIR:-}" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    echo "1..0 # SKIP no private daemon (VRPC_TEST_DIR)"
    exit 0
fi
if ! command -v virsh >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP virsh or python3 missing"
    exit 0
fi

uri="test+unix:///default?socket=$VRPC_TEST_DIR/sys/run/libvirt-sock"
admin_uri="libvirtd:///system?socket=$VRPC_TEST_DIR/sys/run/libvirt-admin-sock"
tmp=$(mktemp -d)
n=0
failed=0

ok() { # CONDITION-STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}

diag() { sed 's/^/# /' "$@"; }

# The test driver forgets its state when its last connection closes: keep
# one open (a virsh waiting for commands) while the test runs.
mkfifo "$tmp/hold"
virsh -c "$uri" <"$tmp/hold" >"$tmp/hold.out" 2>&1 &
holder=$!
exec 3>"$tmp/hold"
cleanup() {
    # Leave the shared fake host as it was.
    for d in vrpc-cli-b vrpc-cli-a-longer-name; do
        virsh -c "$uri" destroy $d >/dev/null 2>&1
        virsh -c "$uri" undefine $d >/dev/null 2>&1
    done
    exec 3>&-
    wait "$holder" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
echo uri >&3
i=0
while [ $i -lt 200 ] && [ ! -s "$tmp/hold.out" ]; do
    sleep 0.05
    i=$((i + 1))
done

v() { "$vrpc" -c "$uri" "$@"; }

# --- definitions, so that the listing has running, paused and inactive domains
for name in vrpc-cli-b vrpc-cli-a-longer-name; do
    cat >"$tmp/$name.xml" <<EOF
<domain type='test'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>
EOF
done
v define "$tmp/vrpc-cli-b.xml" >"$tmp/out" 2>&1
ok $? "define from a file"
v define - <"$tmp/vrpc-cli-a-longer-name.xml" >"$tmp/out" 2>&1
ok $? "define from standard input"
v start vrpc-cli-b >"$tmp/out" 2>&1
ok $? "start"
virsh -c "$uri" suspend vrpc-cli-b >/dev/null 2>&1

# Other tests may change the shared fake host at the same time: a comparison
# with virsh is tried a few times before it counts as a difference.
same() { # NAME FILTER VIRTRPC-ARGS... -- VIRSH-ARGS...
    name=$1
    filter=$2
    shift 2
    mine_args=
    while [ "$1" != -- ]; do
        mine_args="$mine_args $1"
        shift
    done
    shift
    tries=0
    while :; do
        # shellcheck disable=SC2086
        v $mine_args 2>&1 | grep -v "$filter" >"$tmp/mine"
        virsh -c "$uri" "$@" 2>&1 | grep -v "$filter" >"$tmp/theirs"
        if cmp -s "$tmp/mine" "$tmp/theirs"; then
            ok 0 "$name"
            return
        fi
        tries=$((tries + 1))
        if [ $tries -ge 5 ]; then
            ok 1 "$name"
            diag "$tmp/mine"
            diag "$tmp/theirs"
            return
        fi
        sleep 0.2
    done
}

# --- list and dominfo, as virsh shows them (CPU time moves on between the two)
v list >"$tmp/out" 2>&1
ok $? "list"
diag "$tmp/out"
same "list prints what virsh list --all prints" '^$NONE' list -- list --all
for d in test vrpc-cli-b vrpc-cli-a-longer-name; do
    same "dominfo $d prints what virsh dominfo prints" '^CPU time:' dominfo "$d" -- dominfo "$d"
done
v dominfo 1 | grep -q '^Name: *test$'
ok $? "dominfo by id"
v dominfo 6695eb01-f6a4-8304-79aa-97f2502e193f | grep -q '^Name: *test$'
ok $? "dominfo by UUID"

# --- lifecycle, on a domain of this test only
v destroy vrpc-cli-b >/dev/null 2>&1 && virsh -c "$uri" domstate vrpc-cli-b | grep -q 'shut off'
ok $? "destroy: virsh sees the domain shut off"
v start vrpc-cli-b >/dev/null 2>&1 && virsh -c "$uri" domstate vrpc-cli-b | grep -q running
ok $? "start: virsh sees the domain running"
v shutdown vrpc-cli-b >/dev/null 2>&1 && virsh -c "$uri" domstate vrpc-cli-b | grep -q 'shut off'
ok $? "shutdown: virsh sees the domain shut off"
v start vrpc-cli-b >"$tmp/out" 2>&1 && v start vrpc-cli-b >"$tmp/out" 2>&1
ok $(($? != 1)) "starting a running domain fails with status 1"
diag "$tmp/out"
same "dumpxml prints what virsh dumpxml prints" '^$NONE' dumpxml test -- dumpxml test
v undefine vrpc-cli-b >/dev/null 2>&1 && virsh -c "$uri" dominfo vrpc-cli-b 2>&1 | grep -q 'transient\|Persistent: *no'
ok $? "undefine: a running domain becomes transient"
v destroy vrpc-cli-b >/dev/null 2>&1 && ! virsh -c "$uri" dominfo vrpc-cli-b >/dev/null 2>&1
ok $? "destroying it removes it"

# --- version
v version >"$tmp/out" 2>&1
s=$?
grep -q 'Running hypervisor: *TEST ' "$tmp/out" && grep -q "Daemon's library: *libvirt [0-9]" "$tmp/out"
ok $((s + $?)) "version shows the daemon's library and hypervisor versions"
diag "$tmp/out"

# --- procs
"$vrpc" procs >"$tmp/out" 2>&1
ok $? "procs"
tail -n 1 "$tmp/out" | grep -q '^remote: [0-9][0-9]*, qemu: [0-9]*, lxc: [0-9]*, admin: [0-9]*'
ok $? "procs counts the procedures of every program"
tail -n 1 "$tmp/out" | diag
grep -q '^remote  *1  connect_open  *high  *-  *call$' "$tmp/out"
ok $? "procs shows connect_open as remote 1, high priority, no stream"

# --- call, and its JSON round trip
v call domain_lookup_by_name '{"name": "test"}' >"$tmp/dom.json" 2>&1
ok $? "call domain_lookup_by_name"
grep -q '"uuid": "6695eb01-f6a4-8304-79aa-97f2502e193f"' "$tmp/dom.json"
ok $? "the reply shows the UUID in its text form"
# What call printed goes back in as arguments.
args=$(python3 -c 'import json,sys; print(json.dumps({"dom": json.load(sys.stdin)["dom"]}))' <"$tmp/dom.json" 2>/dev/null)
v call domain_get_info "$args" >"$tmp/info.json" 2>&1
ok $? "a printed domain is accepted back as an argument"
python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["nrVirtCpu"] == 2 and d["maxMem"] == 8388608 else 1)' <"$tmp/info.json" 2>/dev/null
ok $? "domain_get_info reply: 2 vCPUs, 8 GiB"
echo '{"name": "test"}' | v call REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME - >/dev/null 2>&1
ok $? "call by .x name, arguments from standard input"
v call connect_get_lib_version >"$tmp/out" 2>&1 && grep -q '"lib_ver": [0-9]' "$tmp/out"
ok $? "call with void arguments"
v call domain_get_scheduler_parameters \
    "{\"dom\": $(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["dom"]))' <"$tmp/dom.json"), \"nparams\": 1}" \
    >"$tmp/out" 2>&1
s=$?
python3 -c 'import json,sys; p=json.load(sys.stdin)["params"][0]; sys.exit(0 if p["field"] and p["value"]["type"] == 2 and "ui" in p["value"] else 1)' <"$tmp/out" 2>/dev/null
ok $((s + $?)) "typed parameters in a reply"
diag "$tmp/out"
v call connect_list_all_domains '{"need_results": 1, "flags": 0}' >"$tmp/out" 2>&1
ok $? "call connect_list_all_domains"

# --- errors
v dominfo no-such-domain >"$tmp/out" 2>&1
s=$?
grep -q '^error: .* (code 42, domain [0-9]*)$' "$tmp/out"
ok $((($s != 1) + $?)) "a daemon error: message, code and domain, exit status 1"
diag "$tmp/out"
v call no_such_procedure >"$tmp/out" 2>&1
ok $(($? != 2)) "unknown procedure: exit status 2"
v call domain_lookup_by_name '{"name": ' >"$tmp/out" 2>&1
ok $(($? != 2)) "bad JSON: exit status 2"
v call domain_get_info '{"dom": {"name": "t", "uuid": "zzz", "id": 1}}' >"$tmp/out" 2>&1
s=$?
grep -q '^error: args.dom.uuid: expected a UUID string' "$tmp/out"
ok $((($s != 2) + $?)) "JSON that does not fit names the path"
diag "$tmp/out"
v call domain_event_lifecycle '{}' >"$tmp/out" 2>&1
ok $(($? != 2)) "events cannot be called"
"$vrpc" frobnicate >"$tmp/out" 2>&1
ok $(($? != 2)) "unknown command: exit status 2"
"$vrpc" dominfo >"$tmp/out" 2>&1
ok $(($? != 2)) "missing argument: exit status 2"
"$vrpc" --help >"$tmp/out" 2>&1 && grep -q '^Usage: virtrpc' "$tmp/out"
ok $? "--help"

# --- read-only and admin
"$vrpc" -r -c "$uri" list >/dev/null 2>&1
ok $? "read-only list"
"$vrpc" -r -c "$uri" shutdown vrpc-cli-a-longer-name >"$tmp/out" 2>&1
ok $(($? != 1)) "read-only connection refuses shutdown"
diag "$tmp/out"
"$vrpc" -c "$admin_uri" call admin_connect_list_servers '{"need_results": 1, "flags": 0}' >"$tmp/out" 2>&1
s=$?
grep -q '"name": "libvirtd"' "$tmp/out"
ok $((s + $?)) "admin procedure over the admin socket"
diag "$tmp/out"
"$vrpc" --admin -c "$admin_uri" version >"$tmp/out" 2>&1
ok $? "version over the admin socket"

echo "1..$n"
[ "$failed" -eq 0 ]
