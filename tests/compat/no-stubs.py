#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# "No stubs left" (docs/compat.md): no public function of libvirt.so.0,
# libvirt-qemu.so.0, libvirt-lxc.so.0 and libvirt-admin.so.0 fails with
# VIR_ERR_NO_SUPPORT for lack of an implementation. Prints TAP.
#
#   no-stubs.py --compat BUILD/compat --src SRC/compat --exceptions FILE
#
# The generator lists how it defined each public symbol in
# BUILD/compat/compat-gen-LIB.txt ("NODE NAME generated|hand|stub [why]");
# every "stub" there fails, and so does a hand-written file of SRC/compat
# that calls compat_no_support() (the stubs' error) outside error.c, unless
# FILE lists the function ("NAME  REASON" a line, '#' comments) with its
# reason. A listed function that is no stub any more, or one listed without
# a reason, fails too: the list stays true. The generated files must agree
# with their lists (as many compat_no_support() calls as stubs listed).
import argparse
import os
import re
import sys

LIBS = [("virt", "libvirt.so.0"), ("virt-qemu", "libvirt-qemu.so.0"), ("virt-lxc", "libvirt-lxc.so.0"),
        ("virt-admin", "libvirt-admin.so.0")]
# a function's definition: return type and name on one line at column 0
# (compat/compat.h; the static helpers are written so too)
DEF = re.compile(r"^[A-Za-z_][A-Za-z0-9_ \*]*?\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def read_exceptions(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            out[parts[0]] = (n, parts[1].strip() if len(parts) > 1 else "")
    return out


def hand_stubs(src):
    """(function, file:line) of each compat_no_support() call in the
    hand-written files, error.c (its definition) aside."""
    found = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c") or name == "error.c":
            continue
        func = None
        with open(os.path.join(src, name)) as f:
            for n, line in enumerate(f, 1):
                m = DEF.match(line)
                if m and not line.startswith(("return", "typedef", "struct")):
                    func = m.group(1)
                if re.search(r"\bcompat_no_support\s*\(", line):
                    found.append((func or "?", "%s:%d" % (name, n)))
    return found


def hand_raises(src):
    """(function, file:line) of each VIR_ERR_NO_SUPPORT in the hand-written
    files, error.c aside."""
    found = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c") or name == "error.c":
            continue
        func = None
        with open(os.path.join(src, name)) as f:
            for n, line in enumerate(f, 1):
                m = DEF.match(line)
                if m and not line.startswith(("return", "typedef", "struct")):
                    func = m.group(1)
                if "VIR_ERR_NO_SUPPORT" in line:
                    found.append((func or "?", "%s:%d" % (name, n)))
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compat", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--exceptions", required=True)
    a = ap.parse_args()
    exc = read_exceptions(a.exceptions)
    used = set()
    n = 0
    failed = False

    def tap(good, text, diag=()):
        nonlocal n, failed
        n += 1
        print("%s %d - %s" % ("ok" if good else "not ok", n, text))
        failed = failed or not good
        if good:
            return
        for d in diag[:60]:
            print("# " + d)
        if len(diag) > 60:
            print("# ... %d more" % (len(diag) - 60))

    total = 0
    for lib, soname in LIBS:
        lst = os.path.join(a.compat, "compat-gen-%s.txt" % lib)
        gen = os.path.join(a.compat, "compat-gen-%s.c" % lib)
        if not os.path.exists(lst) or not os.path.exists(gen):
            tap(False, "%s: %s and its .c exist" % (soname, lst))
            continue
        stubs = []
        count = 0
        with open(lst) as f:
            for line in f:
                fields = line.split(None, 3)
                if len(fields) < 3:
                    continue
                count += 1
                if fields[2] == "stub":
                    stubs.append((fields[1], fields[3].strip() if len(fields) > 3 else ""))
        total += count
        with open(gen) as f:
            calls = len(re.findall(r"\bcompat_no_support\s*\(", f.read()))
        tap(calls == len(stubs) and count > 0,
            "%s: the generated file has as many stubs as its list says (%d of %d functions)"
            % (soname, len(stubs), count), ["%d compat_no_support() calls in %s" % (calls, gen)])
        left = []
        for name, why in stubs:
            if name in exc and exc[name][1]:
                used.add(name)
                continue
            left.append("%s (generator: %s)" % (name, why))
        tap(not left, "%s: no function is a NO_SUPPORT stub (%d listed with a reason)"
            % (soname, sum(1 for s, _ in stubs if s in used)), left)
    hand = []
    for func, where in hand_stubs(a.src):
        if func in exc and exc[func][1]:
            used.add(func)
            continue
        hand.append("%s at %s" % (func, where))
    tap(not hand, "no hand-written function answers compat_no_support()", hand)
    # VIR_ERR_NO_SUPPORT raised on purpose (a flag or form libvirt's client
    # refuses too): shown, not judged
    for func, where in hand_raises(a.src):
        print("# %s raises VIR_ERR_NO_SUPPORT at %s" % (func, where))
    for name, (line, why) in sorted(exc.items(), key=lambda x: x[1][0]):
        if not why:
            tap(False, "%s: listed (line %d) without a reason" % (name, line))
        elif name not in used:
            tap(False, "%s: listed (line %d) but not a stub: remove it from %s"
                % (name, line, os.path.basename(a.exceptions)))
        else:
            tap(True, "%s: a stub by exception: %s" % (name, why))
    print("# %d public functions in the four libraries" % total)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
