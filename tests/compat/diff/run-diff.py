#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The differential runner of the libvirt-compatible libraries
# (docs/compat.md, "Differential tests").
#
#   run-diff.py --top SRC --compat BUILD/compat --known FILE --name NAME -- CMD [ARG...]
#
# Runs CMD twice, each time against its own fresh private daemons
# (scripts/test-daemon.sh start DIR; CMD finds DIR in $VRPC_DIFF_DIR): once
# on the system's libvirt.so.0 and once with the compat directory first in
# LD_LIBRARY_PATH. CMD writes, when $VRPC_DIFF_MAPS is set, the libvirt
# libraries it loaded to that file: each run must have loaded the library
# it was meant to. The transcripts (CMD's standard output) are cut into
# entries (SECTION/TAG: the lines "== SECTION" start a section, TAG is
# what comes before the first ': ' of a line), the daemon directory is
# replaced with <DIR>, and the entries are compared; it prints TAP, one line
# per entry:
#   same, not listed        ok
#   differs, not listed     not ok, with the diff
#   differs, listed         not ok # TODO (a known difference)
#   same, listed            not ok: the list must lose the entry
# FILE (the known-differences list, one "NAME:SECTION/TAG" a line, '#'
# comments) is shared by every program; a listed entry that is in neither
# transcript fails too, so the list stays true. --write-known appends the
# differences found to a file, to make the list anew.
# The reference run (system libvirt) must exit 0.
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", required=True)
    ap.add_argument("--compat", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--keep", help="copy both transcripts to this directory")
    ap.add_argument("--self-check", action="store_true",
                    help="run the system library twice (the transcript must not change)")
    ap.add_argument("--no-daemons", action="store_true",
                    help="start no daemons (the runner's own test: VRPC_DIFF_DIR is an empty directory)")
    ap.add_argument("--write-known", help="append every difference to this file, as NAME:KEY lines")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.cmd and a.cmd[0] == "--":
        a.cmd = a.cmd[1:]
    if not a.cmd:
        ap.error("no command")
    return a


def libvirt_python():
    """A python3 that imports python3-libvirt (Debian's, not a python of
    one's own on PATH that lacks it)."""
    seen = []
    for py in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not py or py in seen:
            continue
        seen.append(py)
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        if subprocess.run([py, "-c", "import libvirt"], env=env, capture_output=True).returncode == 0:
            return py
    return None


def read_known(path, name):
    known = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            prog, _, sec = line.partition(":")
            if not sec:
                sys.exit("%s:%d: not NAME:SECTION/TAG" % (path, n))
            if prog.strip() == name:
                known[sec.strip()] = n
    return known


def entries(text):
    """The transcript as ordered (KEY, LINE) pairs: KEY is SECTION/TAG, TAG
    the text before the first ': ' of the line (the whole line without
    one); a KEY seen again gets " (2)", " (3)"..."""
    out = []
    seen = {}
    sec = "(start)"
    for line in text.splitlines():
        if line.startswith("== "):
            sec = line[3:].strip()
            continue
        tag = line.split(": ", 1)[0] if ": " in line else line
        key = sec + "/" + tag.strip()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key += " (%d)" % seen[key]
        out.append((key, line))
    return out


def run_once(a, tag, workdir, lib_path):
    d = tempfile.mkdtemp(prefix="vrpc-diff-%s-" % tag, dir=workdir)
    os.chmod(d, 0o755)
    daemon = os.path.join(a.top, "scripts", "test-daemon.sh")
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LIBVIRT_DEFAULT_URI", None)
    if lib_path:
        env["LD_LIBRARY_PATH"] = lib_path
    else:
        # LeakSanitizer (an ASan build of the C program) is for our
        # libraries, not for what libvirt.so keeps until exit
        env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if x)
    env["VRPC_DIFF_DIR"] = d
    maps = os.path.join(workdir, "maps-" + tag)
    env["VRPC_DIFF_MAPS"] = maps
    if not a.no_daemons:
        st = subprocess.run([daemon, "start", d], capture_output=True, text=True)
        if st.returncode != 0:
            return None, "daemons did not start:\n" + st.stdout + st.stderr, d, ""
    try:
        p = subprocess.run(a.cmd, env=env, capture_output=True, text=True, timeout=a.timeout,
                           errors="replace")
        rc = p.returncode
        out, err = p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc = "timeout"
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    finally:
        if not a.no_daemons:
            subprocess.run([daemon, "stop", d], capture_output=True)
    out = out.replace(d, "<DIR>")
    loaded = ""
    if os.path.exists(maps):
        with open(maps) as f:
            loaded = f.read()
    out += "== exit\nstatus: %s\n" % rc
    return out, err, d, loaded


def main():
    a = parse_args()
    # meson test puts its build directories in the path: the daemons and the
    # reference runs must get the system's libraries
    os.environ.pop("LD_LIBRARY_PATH", None)
    known = read_known(a.known, a.name)
    if not a.no_daemons and (os.geteuid() != 0 or not shutil.which("libvirtd")):
        print("1..0 # SKIP needs root and libvirtd (scripts/test-daemon.sh)")
        return 0
    if a.cmd[0] == "@LIBVIRT_PYTHON@":
        py = libvirt_python()
        if not py:
            print("1..0 # SKIP no python3 with python3-libvirt")
            return 0
        a.cmd[0] = py
    compat = os.path.abspath(a.compat)
    if not os.path.exists(os.path.join(compat, "libvirt.so.0")):
        print("1..0 # SKIP no %s/libvirt.so.0" % compat)
        return 0
    work = tempfile.mkdtemp(prefix="vrpc-diff-")
    os.chmod(work, 0o755)
    try:
        ref, ref_err, _, ref_loaded = run_once(a, "system", work, None)
        new, new_err, _, new_loaded = run_once(a, "compat", work, None if a.self_check else compat)
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            for tag, txt, err in (("system", ref, ref_err), ("compat", new, new_err)):
                with open(os.path.join(a.keep, "%s.%s.out" % (a.name, tag)), "w") as f:
                    f.write(txt or "")
                with open(os.path.join(a.keep, "%s.%s.err" % (a.name, tag)), "w") as f:
                    f.write(err or "")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = 0
    failed = False

    def tap(good, text, diag=None, todo=False):
        nonlocal n, failed
        n += 1
        print("%s %d - %s%s" % ("ok" if good else "not ok", n, text, " # TODO known difference" if todo else ""))
        if not good and not todo:
            failed = True
        if diag:
            for line in diag.rstrip("\n").split("\n"):
                print("# " + line)

    if ref is None:
        tap(False, "%s: the reference run's daemons" % a.name, ref_err)
        print("1..%d" % n)
        return 1
    if new is None:
        tap(False, "%s: the compat run's daemons" % a.name, new_err)
        print("1..%d" % n)
        return 1
    # each run loaded the libvirt.so.0 it was meant to (the program writes
    # what it loaded when it gets to its end)
    ours = sorted({x for x in new_loaded.split() if os.path.basename(x).startswith("libvirt.so")})
    if a.self_check:
        ours = [compat + "/libvirt.so.0"]
    sysl = sorted({x for x in ref_loaded.split() if os.path.basename(x).startswith("libvirt.so")})
    tap(bool(sysl) and not any(x.startswith(compat + "/") for x in sysl),
        "%s: the reference run loaded %s" % (a.name, " ".join(sysl) or "no libvirt.so.0"))
    key = "(run)/compat libvirt.so.0 loaded"
    good = bool(ours) and all(x.startswith(compat + "/") for x in ours)
    if key in known:
        tap(False, "%s: %s%s" % (a.name, key, ": now true: remove it from the known differences (line %d)"
                                    % known[key] if good else " (listed, line %d)" % known[key]),
            todo=not good)
    else:
        tap(good, "%s: %s: %s" % (a.name, key, " ".join(ours) or "none"))
        if not good and a.write_known:
            with open(a.write_known, "a") as f:
                f.write("%s:%s\n" % (a.name, key))
    re_ = entries(ref)
    te = entries(new)
    rs = dict(re_)
    ts = dict(te)
    tap(rs.get("exit/status") == "status: 0", "%s: the reference run exits 0" % a.name,
        None if rs.get("exit/status") == "status: 0" else ref_err[-4000:])
    order = [k for k, _ in re_] + [k for k, _ in te if k not in rs]
    differ = []
    for key in order:
        r = rs.get(key)
        t = ts.get(key)
        listed = key in known
        name = "%s: %s" % (a.name, key)
        if r == t and not listed:
            tap(True, name)
        elif r == t:
            tap(False, name + ": now the same: remove it from the known differences (line %d)" % known[key])
        else:
            differ.append(key)
            diag = "system: %s\ncompat: %s" % (r, t)
            if key == "exit/status" and new_err:
                diag += "\ncompat stderr (end):\n" + new_err[-3000:]
            tap(False, name + (" (listed, line %d)" % known[key] if listed else ""), diag, todo=listed)
    for key, line in sorted(known.items(), key=lambda x: x[1]):
        if key not in rs and key not in ts and not key.startswith("(run)/"):
            tap(False, "%s: %s: listed (line %d) but in neither transcript" % (a.name, key, line))
    # a program that lists the functions it reached (section "count", lines
    # "  NAME"): how many of them have every entry the same
    reached = [ln.strip() for k, ln in re_ if k.startswith("count/") and ln.startswith("  ")]
    if reached:
        bad = {k.split("/", 1)[1].split("[")[0].split(" ")[0] for k in differ}
        same = [f for f in reached if f not in bad]
        print("# %s: %d of the %d functions reached have every entry the same" % (a.name, len(same), len(reached)))
    if a.write_known:
        with open(a.write_known, "a") as f:
            for key in differ:
                f.write("%s:%s\n" % (a.name, key))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
