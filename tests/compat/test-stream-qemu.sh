#!/bin/sh
# SPDX-License-Identifier: MIT
# test-stream-qemu.sh TOP COMPAT_DIR PROGRAM: the streams of a QEMU guest
# under TCG (stream-qemu.c: serial console both ways, blocking and not, a
# screenshot, a channel) on the system's libvirt.so.0 and on compat/, each
# run under tests/streams/test-streams.sh with a private session-mode
# libvirtd of its own, and the comparison of the two transcripts, one TAP
# line per entry. Skips (with the reason) where the program does: no
# qemu-system-x86_64, no libvirtd or qemu driver, a guest that cannot start.
set -u
top=$1
compat=$2
prog=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT HUP INT TERM

# (meson may have put the build's libraries in the loader's path: not for the reference)
env -u LD_LIBRARY_PATH "$top/tests/streams/test-streams.sh" "$prog" qemu >"$out/system" \
    2>"$out/system.err"
rc=$?
skip=$(grep -m1 '^1\.\.0 # SKIP' "$out/system")
if [ -n "$skip" ]; then
    echo "$skip"
    exit 0
fi
LD_LIBRARY_PATH=$compat "$top/tests/streams/test-streams.sh" "$prog" qemu >"$out/compat" 2>"$out/compat.err"
rc2=$?
exec python3 - "$out" "$rc" "$rc2" "$compat" <<'PY'
import os, sys
out, rc, rc2, compat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
n = 0
bad = 0
def tap(ok, name, diag=None):
    global n, bad
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, name))
    if not ok:
        bad += 1
        for l in (diag or []):
            print("# " + l)

def load(which):
    lib, entries, sec, seen = None, [], "", {}
    for line in open(os.path.join(out, which)):
        line = line.rstrip("\n")
        if line.startswith("# library ") and lib is None:
            lib = line[len("# library "):]
        elif line.startswith("== "):
            sec = line[3:]
        elif line and not line.startswith("#") and not line.startswith("1.."):
            tag = line.split(": ", 1)[0]
            k = sec + "/" + tag
            seen[k] = seen.get(k, 0) + 1
            if seen[k] > 1:
                k += " (%d)" % seen[k]
            entries.append((k, line))
    return lib, entries

def stderr_diag(which):
    p = os.path.join(out, which + ".err")
    return [which + " stderr: " + l.rstrip("\n") for l in open(p)][-20:] if os.path.exists(p) else []

slib, s = load("system")
clib, c = load("compat")
tap(rc == 0, "the run on the system's libvirt.so.0 exits 0", stderr_diag("system"))
tap(rc2 == 0, "the run on compat/ exits 0", stderr_diag("compat"))
tap(slib is not None and os.path.realpath(os.path.dirname(slib)) != os.path.realpath(compat),
    "the reference run loaded the system's library (%s)" % slib)
tap(clib is not None and os.path.realpath(os.path.dirname(clib)) == os.path.realpath(compat),
    "the other run loaded compat/'s (%s)" % clib)
cd = dict(c)
for k, line in s:
    other = cd.pop(k, None)
    tap(other == line, "qemu: " + k, ["system: " + line, "compat: " + str(other)])
for k, line in c:
    if k in cd:
        tap(False, "qemu: " + k + " (only on compat/)", ["compat: " + line])
print("1..%d" % n)
sys.exit(1 if bad else 0)
PY
