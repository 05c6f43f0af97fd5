#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# prometheus-libvirt-exporter (a Go program linking libvirt.so.0,
# libvirt-qemu.so.0 and libvirt-lxc.so.0), unmodified, exporting the domains
# of the private test-driver daemon in $VRPC_DIFF_DIR; run-diff.py runs this
# program once on the system's libvirt.so.0 and once on the compat libraries
# and compares the transcripts (docs/compat.md, "Programs").
#
#   prometheus-exporter.py [--exporter PATH]
#   prometheus-exporter.py --check [--exporter PATH]   exit 0 when it is installed
#
# The exporter listens on a free port of 127.0.0.1 and is scraped twice: on
# the daemon's URI (one line per libvirt_* sample, HELP and TYPE lines, the
# test driver's clock-derived counters shown as the function of the scrape's
# time they match, see testclock.py), and on a URI whose daemon does not
# exist (libvirt_up). The Go runtime's own metrics are left out. The libvirt
# libraries the exporter had mapped go to $VRPC_DIFF_MAPS.
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testclock import clock_name  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(uri, work, tag):
    """The exporter's metrics on URI: (lines, scrape time, maps)."""
    for _ in range(5):
        port = free_port()
        log = open(os.path.join(work, "exporter-%s.log" % tag), "w")
        p = subprocess.Popen([A.exporter, "--web.listen-address=127.0.0.1:%d" % port, "--libvirt.uri=" + uri],
                             stdout=log, stderr=subprocess.STDOUT)
        try:
            text = None
            for _ in range(100):
                if p.poll() is not None:
                    break
                try:
                    t0 = time.time()
                    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
                        text = r.read().decode()
                    t1 = time.time()
                    break
                except OSError:
                    time.sleep(0.1)
            maps = ""
            try:
                with open("/proc/%d/maps" % p.pid) as f:
                    maps = " ".join(sorted({ln.split()[-1] for ln in f if "/libvirt" in ln and ".so" in ln}))
            except OSError:
                pass
        finally:
            if p.poll() is None:
                p.terminate()
            p.wait()
        if text is not None:
            return text.splitlines(), (t0 + t1) / 2, maps
        # the port was taken between the probe and the exporter: again
    return None, 0, ""


def show(lines, epoch):
    for ln in lines:
        if ln.startswith("# HELP ") or ln.startswith("# TYPE "):
            name = ln.split()[2]
            if name.startswith("libvirt_"):
                print("%s %s: %s" % (ln[2:6], name, ln.split(None, 3)[3] if len(ln.split(None, 3)) > 3 else ""))
            continue
        if not ln.startswith("libvirt_"):
            continue
        sample, _, value = ln.rpartition(" ")
        print("%s: %s" % (sample, clock_name(value, epoch) or value))


def main():
    d = os.environ.get("VRPC_DIFF_DIR")
    if not d:
        sys.exit("VRPC_DIFF_DIR is not set")
    work = tempfile.mkdtemp(prefix="exporter-", dir=d)
    uri = "test+unix:///default?socket=%s/sys/run/libvirt-sock" % d
    lines, epoch, maps = scrape(uri, work, "daemon")
    if os.environ.get("VRPC_DIFF_MAPS"):
        with open(os.environ["VRPC_DIFF_MAPS"], "w") as f:
            f.write(maps + "\n")
    print("== daemon")
    if lines is None:
        print("scrape: no answer")
    else:
        show(lines, epoch)
    print("== no daemon")
    lines, epoch, _ = scrape("test+unix:///default?socket=%s/none/libvirt-sock" % d, work, "none")
    if lines is None:
        print("scrape: no answer")
    else:
        show(lines, epoch)
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporter", default=shutil.which("prometheus-libvirt-exporter") or
                    "/usr/bin/prometheus-libvirt-exporter")
    ap.add_argument("--check", action="store_true")
    A = ap.parse_args()
    if A.check:
        sys.exit(0 if os.access(A.exporter, os.X_OK) else 1)
    sys.exit(main())
