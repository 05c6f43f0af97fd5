#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# collectd's virt plugin (collectd-core), unmodified, reading the domains of
# the private test-driver daemon in $VRPC_DIFF_DIR; run-diff.py runs this
# program once on the system's libvirt.so.0 and once on the compat libraries
# and compares the transcripts (docs/compat.md, "Programs").
#
#   collectd-virt.py [--collectd PATH] [--rows N] [--timeout SECONDS] [--events]
#   collectd-virt.py --check    exit 0 when collectd and its virt plugin are installed
#
# collectd runs in the foreground with a private configuration (plugin virt
# with every ExtraStats selector, plugin csv writing into a temporary
# directory, a one-second interval) until every metric file has N rows, and
# is then stopped with SIGTERM. With --events, the plugin also listens to
# the domains' lifecycle events (PersistentNotification, its own thread
# running libvirt's default event loop), and before collectd is stopped
# another client (the system's virsh) suspends, resumes and destroys the
# domain, each step waiting for collectd's notification of it. The
# transcript:
#   == metrics   (with --events: as read before the first change)
#                one line per metric file (host/plugin-instance/type, the
#                date of the csv file removed): its header and the distinct
#                rows of values, timestamps removed; the test driver's
#                counters that follow the clock (interface and CPU
#                statistics) are shown as the function of the sample's time
#                they match ("t/10" is a tenth of the time in microseconds);
#                a value that matches none is shown as it is.
#   == log       the distinct lines collectd and the library wrote to its
#                log (stderr), timestamps removed.
# The libvirt libraries collectd had mapped go to $VRPC_DIFF_MAPS.
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testclock import clock_name  # noqa: E402

EXTRA = ("cpu_util disk disk_err domain_state fs_info job_stats_background pcpu perf vcpupin "
         "disk_allocation disk_capacity disk_physical memory vcpu")


def norm_row(fields):
    epoch = float(fields[0])
    out = []
    for f in fields[1:]:
        out.append(clock_name(f, epoch) or f)
    return ",".join(out)


def write_conf(path, sock, base, data):
    with open(path, "w") as f:
        f.write("""Hostname "collector"
FQDNLookup false
Interval 1
BaseDir "{base}"
PIDFile "{base}/collectd.pid"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDERR
</Plugin>
LoadPlugin virt
LoadPlugin csv
<Plugin virt>
  Connection "test+unix:///default?socket={sock}"
  RefreshInterval 1
  ExtraStats "{extra}"
  HostnameFormat name uuid hostname
  PluginInstanceFormat name metadata
  InterfaceFormat address
  ReportBlockDevices true
{notify}</Plugin>
<Plugin csv>
  DataDir "{data}"
  StoreRates false
</Plugin>
""".format(base=base, sock=sock, extra=EXTRA, data=data,
                   notify="  PersistentNotification true\n" if A.events else ""))


def check():
    """collectd runs and its plugin directory has the virt plugin."""
    try:
        h = subprocess.run([A.collectd, "-h"], capture_output=True, text=True).stdout
    except OSError:
        return False
    m = re.search(r"^\s*Plugin directory\s+(\S+)", h, re.M)
    return bool(m) and os.path.exists(os.path.join(m.group(1), "virt.so"))


def metric_files(data):
    out = {}
    for d, _, files in os.walk(data):
        for f in files:
            p = os.path.join(d, f)
            key = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", os.path.relpath(p, data))
            out[key] = p
    return out


def rows(path):
    with open(path) as f:
        return [ln.rstrip("\n") for ln in f if ln.strip()]


def main():
    d = os.environ.get("VRPC_DIFF_DIR")
    if not d:
        sys.exit("VRPC_DIFF_DIR is not set")
    sock = os.path.join(d, "sys", "run", "libvirt-sock")
    work = tempfile.mkdtemp(prefix="collectd-", dir=d)
    base = os.path.join(work, "base")
    data = os.path.join(work, "csv")
    os.makedirs(base)
    os.makedirs(data)
    conf = os.path.join(work, "collectd.conf")
    write_conf(conf, sock, base, data)
    log = open(os.path.join(work, "log"), "w+")
    p = subprocess.Popen([A.collectd, "-f", "-C", conf], stdout=log, stderr=subprocess.STDOUT)
    maps = ""
    deadline = time.time() + A.timeout
    done = False
    while time.time() < deadline and p.poll() is None:
        time.sleep(0.2)
        if not maps:
            try:
                with open("/proc/%d/maps" % p.pid) as f:
                    m = sorted({ln.split()[-1] for ln in f if "/libvirt" in ln and ".so" in ln})
                if any(os.path.basename(x).startswith("libvirt.so") for x in m):
                    maps = " ".join(m)
            except OSError:
                pass
        files = metric_files(data)
        # every metric has its rows (header + N)
        if files and all(len(rows(x)) > A.rows for x in files.values()) and \
                any(k.endswith("/memory-total") for k in files):
            done = True
            break
    steps = []
    cut = None
    if A.events and done:
        # the metrics compared are those read before the first change
        cut = time.time()
        # another client changes the domain; collectd notifies each change
        uri = "test+unix:///default?socket=" + sock
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        for cmd, note in (("suspend", "paused on user request"), ("resume", "returned from paused state"),
                          ("destroy", "forced poweroff")):
            r = subprocess.run(["virsh", "-q", "-c", uri, cmd, "test"], env=env, capture_output=True, text=True)
            seen = False
            end = time.time() + 10
            while r.returncode == 0 and time.time() < end and not seen:
                time.sleep(0.1)
                log.flush()
                with open(log.name) as f:
                    seen = note in f.read()
            steps.append("%s: %s" % (cmd, "notified" if seen else "virsh exit %d" % r.returncode
                                     if r.returncode else "not notified"))
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if os.environ.get("VRPC_DIFF_MAPS"):
        with open(os.environ["VRPC_DIFF_MAPS"], "w") as f:
            f.write(maps + "\n")
    print("== run")
    print("collectd: %s" % ("every metric has %d rows" % A.rows if done else "stopped before %d rows" % A.rows))
    print("exit: %s" % p.returncode)
    for st in steps:
        print(st)
    print("== metrics")
    files = metric_files(data)
    for key in sorted(files):
        r = rows(files[key])
        if not r:
            print("%s: empty" % key)
            continue
        vals = []
        for ln in r[1:]:
            if cut is not None and float(ln.split(",")[0]) >= cut:
                continue
            v = norm_row(ln.split(","))
            if v not in vals:
                vals.append(v)
        print("%s: [%s] %s" % (key, r[0], " ".join(sorted(vals))))
    print("== log")
    log.seek(0)
    seen = set()
    for ln in log.read().splitlines():
        ln = re.sub(r"^\[[^]]*\] ", "", ln).replace(work, "<WORK>")
        if ln in seen:
            continue
        seen.add(ln)
    for ln in sorted(seen):
        # the whole line is the entry's name (see run-diff.py)
        print(ln.replace(": ", " | "))
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--collectd", default="/usr/sbin/collectd")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--events", action="store_true")
    ap.add_argument("--rows", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=60)
    A = ap.parse_args()
    if A.check:
        sys.exit(0 if check() else 1)
    sys.exit(main())
