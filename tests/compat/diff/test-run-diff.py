#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The differential runner's own test (TAP): a planted program whose
# transcript differs between the two runs, and a planted list of known
# differences, must give exactly the verdicts of docs/compat.md -- a
# difference not listed fails, a listed one is a TODO, a listed entry that
# matches fails, a listed entry in neither transcript fails, a compat run
# that loaded the wrong library fails -- and the runner's exit status must
# say so.
import os
import subprocess
import sys
import tempfile

runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run-diff.py")
n = 0
failed = False


def ok(good, name):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if good else "not ok", n, name))
    failed = failed or not good


PROG = r'''#!/bin/sh
# "compat" when the runner put the compat directory in the path
if [ -n "${LD_LIBRARY_PATH:-}" ]; then side=compat; lib=${FAKE_LIB:-$LD_LIBRARY_PATH}/libvirt.so.0
else side=system; lib=/usr/lib/libvirt.so.0; fi
echo "== s1"
echo "same: 1"
echo "differs: $side"
echo "listed-differs: $side"
echo "listed-same: 1"
echo "dir: $VRPC_DIFF_DIR/x"
[ $side = system ] && echo "only-system: 1"
echo "$lib" >"$VRPC_DIFF_MAPS"
exit 0
'''


def run(known_lines, fake_lib=None):
    with tempfile.TemporaryDirectory() as t:
        compat = os.path.join(t, "compat")
        os.mkdir(compat)
        open(os.path.join(compat, "libvirt.so.0"), "w").close()
        prog = os.path.join(t, "prog.sh")
        with open(prog, "w") as f:
            f.write(PROG)
        os.chmod(prog, 0o755)
        known = os.path.join(t, "known")
        with open(known, "w") as f:
            f.write("# comment\n" + "".join(line + "\n" for line in known_lines))
        env = dict(os.environ)
        if fake_lib:
            env["FAKE_LIB"] = fake_lib
        p = subprocess.run([sys.executable, runner, "--no-daemons", "--top", t, "--compat", compat, "--known",
                            known, "--name", "fake", "--", prog], capture_output=True, text=True, env=env)
        return p.returncode, p.stdout


def line(out, text):
    return [x for x in out.split("\n") if text in x and (x.startswith("ok") or x.startswith("not ok"))]


rc, out = run(["fake:s1/listed-differs", "fake:s1/listed-same", "fake:s1/nowhere"])
ok(rc == 1, "the runner fails (exit %d)" % rc)
ok(any(x.startswith("ok") for x in line(out, "s1/same")), "an entry that matches passes")
ok(any(x.startswith("ok") for x in line(out, "s1/dir")), "the daemon directory is masked")
ok(any(x.startswith("not ok") and "TODO" not in x for x in line(out, "s1/differs")),
   "a difference not listed fails")
ok(any(x.startswith("not ok") and "# TODO" in x for x in line(out, "s1/listed-differs")),
   "a listed difference is a TODO")
ok(any(x.startswith("not ok") and "TODO" not in x and "remove it" in x for x in line(out, "s1/listed-same")),
   "a listed entry that matches fails")
ok(any(x.startswith("not ok") and "in neither" in x for x in line(out, "s1/nowhere")),
   "a listed entry in neither transcript fails")
ok(any(x.startswith("not ok") and "TODO" not in x for x in line(out, "s1/only-system")),
   "an entry missing from the compat transcript fails")
ok(any(x.startswith("ok") for x in line(out, "compat libvirt.so.0 loaded")), "the compat run's library is seen")
ok(out.rstrip().split("\n")[-1] == "1..%d" % len(line(out, "")), "the plan matches the lines")

rc, out = run(["fake:s1/differs", "fake:s1/listed-differs", "fake:s1/only-system"])
ok(rc == 0, "with every difference listed the runner passes (exit %d)" % rc)

rc, out = run(["fake:s1/differs", "fake:s1/listed-differs", "fake:s1/only-system"], fake_lib="/usr/lib")
ok(rc == 1 and any(x.startswith("not ok") for x in line(out, "compat libvirt.so.0 loaded")),
   "a compat run that loaded the system's library fails")
print("1..%d" % n)
sys.exit(1 if failed else 0)
