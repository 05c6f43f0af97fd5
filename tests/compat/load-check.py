#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# The load check of the libvirt-compatible libraries (docs/compat.md):
# with the compat directory first in LD_LIBRARY_PATH, `ldd -r` on every
# Debian binary that links libvirt0 -- python3-libvirt's modules, Sys::Virt
# (libsys-virt-perl), ruby-libvirt, collectd's virt plugin (collectd-core),
# libvirt-dbus, prometheus-libvirt-exporter, libvirt-glib -- must resolve
# every libvirt library it needs in that directory and report no undefined
# libvirt symbol or missing version node; python3-libvirt, Sys::Virt and
# ruby-libvirt must load there. Prints TAP, one line per binary.
#
#   load-check.py --compat BUILD/compat --known FILE
#
# Checks listed in FILE as "load:NAME" lines are known failures (TODO); one
# of them that passes fails, so that the list stays true. A package that is
# not installed is a skip (scripts/deps.sh installs them; libvirt-dbus,
# whose package pulls in the system daemons, is unpacked into
# ~/.cache/virtrpc/libvirt-dbus instead).
import argparse
import os
import re
import shutil
import subprocess
import sys

PACKAGES = ["python3-libvirt", "libsys-virt-perl", "ruby-libvirt", "collectd-core", "libvirt-dbus",
            "prometheus-libvirt-exporter", "libvirt-glib-1.0-0"]
LIBVIRT_SONAME = re.compile(r"^libvirt(-qemu|-lxc|-admin)?\.so\.0$")


def package_files(pkg):
    p = subprocess.run(["dpkg-query", "-L", pkg], capture_output=True, text=True)
    if p.returncode == 0:
        return [f for f in p.stdout.split("\n") if f]
    if pkg == "libvirt-dbus":
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(cache, "virtrpc", "libvirt-dbus")
        if not os.path.isdir(root):
            return None
        out = []
        for d, _, files in os.walk(root):
            out += [os.path.join(d, f) for f in files]
        return out
    return None


def needed_libvirt(path):
    """The libvirt sonames PATH needs (DT_NEEDED), [] for other files."""
    if not os.path.isfile(path) or os.path.islink(path):
        return []
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                return []
    except OSError:
        return []
    p = subprocess.run(["readelf", "-d", path], capture_output=True, text=True)
    return [m for m in re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", p.stdout)
            if LIBVIRT_SONAME.match(m)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compat", required=True)
    ap.add_argument("--known", required=True)
    ap.add_argument("--write-known", help="append every failing check to this file, as load:NAME lines")
    a = ap.parse_args()
    # meson test puts its build directories in the path: the daemons and the
    # reference runs must get the system's libraries
    os.environ.pop("LD_LIBRARY_PATH", None)
    compat = os.path.abspath(a.compat)
    known = {}
    with open(a.known) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line.startswith("load:"):
                known[line[5:].strip()] = n
    if not shutil.which("readelf") or not shutil.which("ldd"):
        print("1..0 # SKIP needs readelf and ldd")
        return 0
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = compat
    n = 0
    failed = False
    seen = set()

    def tap(name, problems, skip=None):
        nonlocal n, failed
        n += 1
        seen.add(name)
        if skip:
            print("ok %d - %s # SKIP %s" % (n, name, skip))
            return
        listed = name in known
        if not problems and listed:
            print("not ok %d - %s: passes now: remove it from the known differences (line %d)"
                  % (n, name, known[name]))
            failed = True
        elif not problems:
            print("ok %d - %s" % (n, name))
        else:
            print("not ok %d - %s%s" % (n, name, " # TODO known difference" if listed else ""))
            failed = failed or not listed
            if a.write_known:
                with open(a.write_known, "a") as f:
                    f.write("load:%s\n" % name)
            for p in problems[:40]:
                print("# " + p)
            if len(problems) > 40:
                print("# ... %d more" % (len(problems) - 40))

    for pkg in PACKAGES:
        files = package_files(pkg)
        if files is None:
            tap("ldd -r %s" % pkg, [], skip="%s is not installed" % pkg)
            continue
        bins = [(f, needed_libvirt(f)) for f in sorted(set(files))]
        bins = [(f, s) for f, s in bins if s]
        if not bins:
            tap("ldd -r %s" % pkg, ["no binary of the package links libvirt"])
            continue
        for path, sonames in bins:
            p = subprocess.run(["ldd", "-r", path], env=env, capture_output=True, text=True)
            out = p.stdout + p.stderr
            problems = []
            for so in sonames:
                m = re.search(r"^\s*%s => (\S+)" % re.escape(so), out, re.M)
                if not m:
                    problems.append("%s: not resolved" % so)
                elif not m.group(1).startswith(compat + "/"):
                    problems.append("%s => %s, not from %s" % (so, m.group(1), compat))
            for line in out.split("\n"):
                if re.search(r"undefined symbol: vir|version `LIBVIRT[_A-Z]*[0-9.]*' not found|"
                             r"symbol lookup error.*vir", line):
                    problems.append(line.strip())
            tap("ldd -r %s %s" % (pkg, os.path.basename(path)), problems)

    # the bindings load on the compat libraries
    loads = {
        "python3 import libvirt, libvirt_qemu, libvirt_lxc":
            (["python3"], "import libvirt, libvirt_qemu, libvirt_lxc; "
             "print(''.join(sorted({l.split()[-1] + ' ' for l in open('/proc/self/maps') "
             "if '/libvirt' in l and '.so' in l})))", "python3-libvirt"),
        "perl use Sys::Virt":
            (["perl", "-e"], "use Sys::Virt; open(my $m, '<', '/proc/self/maps'); "
             "my %s; while (<$m>) { $s{(split)[-1]} = 1 if m{/libvirt.*\\.so}; } print join(' ', sort keys %s);",
             "libsys-virt-perl"),
        "ruby require libvirt":
            (["ruby", "-e"], "require 'libvirt'; puts File.readlines('/proc/self/maps')"
             ".map { |l| l.split[-1] }.select { |f| f =~ %r{/libvirt.*\\.so} }.uniq.sort.join(' ')",
             "ruby-libvirt"),
    }
    for name, (cmd, code, pkg) in loads.items():
        if package_files(pkg) is None:
            tap(name, [], skip="%s is not installed" % pkg)
            continue
        if cmd[0] == "python3":
            py = None
            for c in ("/usr/bin/python3", shutil.which("python3")):
                if c and subprocess.run([c, "-c", "import libvirt"], capture_output=True).returncode == 0:
                    py = c
                    break
            if not py:
                tap(name, ["no python3 imports libvirt"])
                continue
            cmd = [py, "-c"]
        p = subprocess.run(cmd + [code], env=env, capture_output=True, text=True)
        problems = []
        if p.returncode != 0:
            problems = ["exit %d" % p.returncode] + p.stderr.strip().split("\n")[-5:]
        else:
            libs = p.stdout.split()
            virt = [x for x in libs if os.path.basename(x).startswith("libvirt.so")]
            if not virt or not all(x.startswith(compat + "/") for x in virt):
                problems.append("loaded %s" % " ".join(libs))
        tap(name, problems)

    for name, line in sorted(known.items(), key=lambda x: x[1]):
        if name not in seen:
            n += 1
            print("not ok %d - %s: listed (line %d) but not checked" % (n, name, line))
            failed = True
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
