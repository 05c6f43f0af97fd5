#!/bin/sh
# SPDX-License-Identifier: MIT
# `virtrpc events` next to `virsh event --all --loop` on the same daemon: both
# see the same domain events in the same order; --domain filters, SIGINT ends
# it with status 0, --timeout ends it, bad usage is status 2. The example
# watch-events (its own poll loop) prints the same lifecycle events.
# Usage: test-cli-events.sh VIRTRPC WATCH-EVENTS   (VRPC_TEST_DIR: the test daemons)
set -u
exe=$1
watch=$2
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
if [ -z "${VRPC_TEST_DIR:-}" ] || [ ! -S "$VRPC_TEST_DIR/sys/run/libvirt-sock" ]; then
    skip_all "no test daemon (VRPC_TEST_DIR)"
fi
if ! command -v "$virsh" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    skip_all "needs virsh and python3"
fi
uri="test+unix:///default?socket=$VRPC_TEST_DIR/sys/run/libvirt-sock"
use_tmp
pids=
at_exit 'for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'
export LC_ALL=C

dom=evcli-$$
other=evcli-other-$$
for d in "$dom" "$other" "probe-$$"; do
    echo "<domain type='test'><name>$d</name><memory>1024</memory><os><type>hvm</type></os></domain>" \
        >"$tmp/$d.xml"
done

"$exe" -c "$uri" events --all >"$tmp/all.out" 2>"$tmp/all.err" &
all_pid=$!
"$exe" -c "$uri" events lifecycle --domain "$dom" >"$tmp/one.out" 2>"$tmp/one.err" &
one_pid=$!
"$virsh" -c "$uri" event --all --loop >"$tmp/virsh.out" 2>"$tmp/virsh.err" &
virsh_pid=$!
"$watch" "$uri" 60 >"$tmp/watch.out" 2>"$tmp/watch.err" &
watch_pid=$!
pids="$all_pid $one_pid $virsh_pid $watch_pid"

# Wait until both listeners are registered: a probe domain until both saw it.
i=0
while [ $i -lt 100 ]; do
    "$virsh" -c "$uri" "define $tmp/probe-$$.xml; undefine probe-$$" >/dev/null 2>&1
    if grep -q "probe-$$" "$tmp/all.out" && grep -q "probe-$$" "$tmp/virsh.out" &&
        grep -q "probe-$$" "$tmp/watch.out"; then
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
ok "$([ $i -lt 100 ] && echo 0 || echo 1)" "the listeners see a probe domain"

# The one-domain listener needs the domain to exist when it starts: it
# failed (no such domain); start it again once the domain is defined.
"$virsh" -c "$uri" define "$tmp/$dom.xml" >/dev/null
wait "$one_pid"
one_rc=$?
ok "$([ $one_rc = 1 ] && grep -q "Domain not found" "$tmp/one.err" && echo 0 || echo 1)" \
    "--domain for a domain that does not exist: status 1 and the daemon's error"
"$exe" -c "$uri" events lifecycle --domain "$dom" >"$tmp/one.out" 2>"$tmp/one.err" &
one_pid=$!
pids="$all_pid $one_pid $virsh_pid $watch_pid"
sleep 1

"$virsh" -c "$uri" "start $dom; suspend $dom; resume $dom; desc $dom --new-desc events; \
destroy $dom; define $tmp/$other.xml; start $other; destroy $other; undefine $other; \
undefine $dom" >"$tmp/ops.out" 2>&1
ok $? "start, suspend, resume, set the description of, destroy and undefine $dom (and $other)"

i=0
while [ $i -lt 100 ]; do
    if grep -q "'$dom': Undefined" "$tmp/virsh.out" &&
        grep "\"$dom\"" "$tmp/all.out" | grep -q '"event":1,' &&
        grep "\"$dom\"" "$tmp/one.out" | grep -q '"event":1,' &&
        grep -q "domain $dom: undefined" "$tmp/watch.out"; then
        break
    fi
    sleep 0.1
    i=$((i + 1))
done
kill -INT "$all_pid" "$one_pid"
wait "$all_pid"
all_rc=$?
wait "$one_pid"
one_rc=$?
kill "$virsh_pid" "$watch_pid" 2>/dev/null
wait "$virsh_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
# shellcheck disable=SC2034 # read by the exit hook
pids=
ok "$([ $all_rc = 0 ] && [ $one_rc = 0 ] && echo 0 || echo 1)" \
    "SIGINT ends virtrpc events with status 0 ($all_rc, $one_rc)"

# The same events, in the same order, for both domains.
norm_virsh() { # DOMAIN
    sed -n "s/^event '\([a-z0-9-]*\)' for domain '$1': *\([A-Za-z]*\).*/\1 \2/p" "$tmp/virsh.out"
}
norm_json() { # FILE DOMAIN
    python3 - "$1" "$2" <<'EOF'
import json, sys
names = ["Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped",
         "Shutdown", "PMSuspended", "Crashed"]
for line in open(sys.argv[1]):
    e = json.loads(line)
    m = e["msg"]
    inner = m.get("msg", m)
    dom = inner.get("dom", {}).get("name")
    if dom != sys.argv[2] or not e["event"].startswith("domain."):
        continue
    ev = e["event"][len("domain."):]
    if ev == "lifecycle":
        print(ev, names[inner["event"]])
    elif ev == "metadata-change":
        print(ev, "type")
    else:
        print(ev, "")
EOF
}
for d in "$dom" "$other"; do
    norm_virsh "$d" >"$tmp/v-$d"
    norm_json "$tmp/all.out" "$d" >"$tmp/j-$d"
    if [ -s "$tmp/v-$d" ] && cmp -s "$tmp/v-$d" "$tmp/j-$d"; then
        ok 0 "$d: the same events as virsh ($(tr '\n' ',' <"$tmp/v-$d"))"
    else
        ok 1 "$d: the same events as virsh"
        echo "# virsh:" "$(tr "\n" " " <"$tmp/v-$d")"
        echo "# virtrpc:" "$(tr "\n" " " <"$tmp/j-$d")"
    fi
done
norm_json "$tmp/one.out" "$dom" >"$tmp/one-$dom"
# It started once the domain was defined.
grep '^lifecycle' "$tmp/v-$dom" | grep -v '^lifecycle Defined' >"$tmp/v-lc-$dom"
ok "$(cmp -s "$tmp/v-lc-$dom" "$tmp/one-$dom" && ! grep -q "$other" "$tmp/one.out" && echo 0 || echo 1)" \
    "--domain $dom lifecycle: its lifecycle events only ($(wc -l <"$tmp/one.out") lines)"
grep "^lifecycle" "$tmp/v-$dom" | sed 's/^lifecycle //' | tr 'A-Z' 'a-z' >"$tmp/v-words"
sed -n "s/^domain $dom: //p" "$tmp/watch.out" >"$tmp/w-words"
ok "$(cmp -s "$tmp/v-words" "$tmp/w-words" && echo 0 || echo 1)" \
    "the watch-events example (its own poll loop) printed the same lifecycle events"
ok "$(python3 -c "
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    assert set(e) == {'event', 'msg'} and isinstance(e['msg'], dict)
" "$tmp/all.out" && echo 0 || echo 1)" "every line is one JSON object {event, msg}"

# --timeout, --list, usage errors.
start=$(date +%s)
"$exe" -c "$uri" events --all --timeout 1 >/dev/null 2>"$tmp/to.err"
rc=$?
el=$(($(date +%s) - start))
ok "$([ $rc = 0 ] && [ $el -le 4 ] && echo 0 || echo 1)" "--timeout 1: status 0 after ${el}s"
# The test driver has no secret or QEMU events: --all names what it skipped.
ok "$(grep -q '^virtrpc: events: skipped secret.lifecycle: ' "$tmp/to.err" &&
    grep -q '^virtrpc: events: skipped qemu.monitor: ' "$tmp/to.err" &&
    ! grep -q '^error' "$tmp/to.err" && echo 0 || echo 1)" \
    "--all names each event the daemon refused on stderr"
ok "$("$exe" events --list | grep -q '^storage-pool.refresh ' && echo 0 || echo 1)" \
    "--list names every event (no connection needed)"
"$exe" -c "$uri" events >/dev/null 2>&1
r1=$?
"$exe" -c "$uri" events no-such-event >/dev/null 2>&1
r2=$?
"$exe" -c "$uri" events --all lifecycle >/dev/null 2>&1
r3=$?
"$exe" -c "$uri" events network.lifecycle --domain test >/dev/null 2>&1
r4=$?
ok "$([ "$r1$r2$r3$r4" = 2222 ] && echo 0 || echo 1)" \
    "no event, an unknown event, --all with names, --domain with a network event: status 2"

finish
