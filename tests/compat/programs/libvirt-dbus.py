#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# libvirt-dbus, unmodified, on a private D-Bus bus, answering D-Bus calls for
# the test driver's domains; run-diff.py runs this program once on the
# system's libvirt.so.0 and once on the compat libraries and compares the
# transcripts (docs/compat.md, "Programs").
#
#   libvirt-dbus.py [--root DIR]
#   libvirt-dbus.py --check [--root DIR]   exit 0 when everything it needs is there
#
# DIR holds libvirt-dbus's files as its Debian package has them (usr/sbin,
# usr/share/dbus-1/interfaces): the package itself when it is installed,
# else ~/.cache/virtrpc/libvirt-dbus, where scripts/deps.sh unpacks it.
#
# libvirt-dbus runs in session mode as an unprivileged user, as does its own
# bus (dbus-daemon with a private configuration and address) and every
# client (gdbus). Its object /org/libvirt/Test is the connection to
# test:///default: libvirt.so serves that URI in the process; the compat
# libraries send it to the session daemon of the user, whose socket here is
# the private test-driver daemon's ($VRPC_DIFF_DIR/sys). Both start from the
# test driver's fixed configuration. The transcript: properties and method
# results of the Connect, Domain, Network and StoragePool objects, errors,
# and for each call that changes a domain, network or pool, the signals
# libvirt-dbus emitted for the events it received. The libvirt libraries
# libvirt-dbus had mapped go to $VRPC_DIFF_MAPS.
import argparse
import os
import pty
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

USER = "nobody"
DEST = "org.libvirt"
TEST = "/org/libvirt/Test"


def group_of(user):
    import grp
    import pwd
    try:
        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        return None


def find_root(root):
    for r in ([root] if root else ["/", os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                    os.path.expanduser("~/.cache"), "virtrpc", "libvirt-dbus")]):
        if os.path.exists(os.path.join(r, "usr/sbin/libvirt-dbus")) and \
                os.path.exists(os.path.join(r, "usr/share/dbus-1/interfaces/org.libvirt.Connect.xml")):
            return r
    return None


def check(a):
    return (os.geteuid() == 0 and find_root(a.root) is not None and group_of(USER) is not None and
            all(shutil.which(x) for x in ("dbus-daemon", "gdbus", "setpriv")))


class Bus:
    def __init__(self, work, root, lib_path):
        self.work = work
        self.group = group_of(USER)
        # the package's files, readable by the user
        self.pkg = os.path.join(work, "pkg")
        os.makedirs(os.path.join(self.pkg, "sbin"))
        shutil.copy2(os.path.join(root, "usr/sbin/libvirt-dbus"), os.path.join(self.pkg, "sbin"))
        shutil.copytree(os.path.join(root, "usr/share/dbus-1/interfaces"), os.path.join(self.pkg, "interfaces"))
        self.xdg = os.path.join(work, "xdg")
        os.makedirs(os.path.join(self.xdg, "libvirt"), mode=0o700)
        sock = os.path.join(os.environ["VRPC_DIFF_DIR"], "sys", "run", "libvirt-sock")
        os.symlink(sock, os.path.join(self.xdg, "libvirt", "libvirt-sock"))
        self.addr = "unix:path=" + os.path.join(work, "bus")
        with open(os.path.join(work, "bus.conf"), "w") as f:
            f.write("""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""" % self.addr)
        for d, dirs, files in os.walk(work):
            for x in [d] + [os.path.join(d, y) for y in dirs + files]:
                os.lchown(x, *self.ids())
        self.lib_path = lib_path
        self.procs = []

    def ids(self):
        import grp
        import pwd
        return pwd.getpwnam(USER).pw_uid, grp.getgrnam(self.group).gr_gid

    def as_user(self, cmd, extra_env=None):
        env = ["PATH=" + os.environ.get("PATH", "/usr/bin:/bin"), "HOME=" + self.work,
               "XDG_RUNTIME_DIR=" + self.xdg, "DBUS_SESSION_BUS_ADDRESS=" + self.addr, "LC_ALL=C.UTF-8"]
        env += extra_env or []
        return ["setpriv", "--reuid=" + USER, "--regid=" + self.group, "--clear-groups", "env", "-i"] + env + cmd

    def spawn(self, cmd, out, extra_env=None):
        p = subprocess.Popen(self.as_user(cmd, extra_env), stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def gdbus(self, *args, timeout=30):
        p = subprocess.run(self.as_user(["gdbus", args[0], "--address", self.addr] + list(args[1:])),
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


class Monitor:
    """gdbus monitor of org.libvirt: the signals, in order."""

    def __init__(self, bus):
        self.lines = []
        self.lock = threading.Lock()
        # a terminal for its output, which it then writes line by line
        master, slave = pty.openpty()
        self.p = subprocess.Popen(bus.as_user(["gdbus", "monitor", "--address", bus.addr, "--dest", DEST]),
                                  stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        self.out = os.fdopen(master, "r", errors="replace")
        bus.procs.append(self.p)
        self.t = threading.Thread(target=self.read, daemon=True)
        self.t.start()

    def read(self):
        while True:
            try:
                line = self.out.readline()
            except OSError:  # the terminal's other end closed
                break
            if not line:
                break
            line = line.strip()
            if not line or line.startswith(("Monitoring", "The name")):
                continue
            # the key of a description's MetadataChange is no string
            # (libvirt-dbus sends what it was given for none)
            line = re.sub(r"(MetadataChange \(\d+), .*\)$", r"\1, *)", line)
            with self.lock:
                self.lines.append(line)

    def take(self, wait):
        """The signals since the last take: waits up to WAIT seconds for
        the first, then until none has come for 0.3 seconds."""
        end = time.time() + wait
        while time.time() < end:
            with self.lock:
                if self.lines:
                    break
            time.sleep(0.05)
        last = -1
        while True:
            with self.lock:
                cur = len(self.lines)
            if cur == last:
                break
            last = cur
            time.sleep(0.3)
        with self.lock:
            out, self.lines = self.lines, []
        return out


def main(a):
    d = os.environ.get("VRPC_DIFF_DIR")
    if not d:
        sys.exit("VRPC_DIFF_DIR is not set")
    root = find_root(a.root)
    if not root:
        sys.exit("libvirt-dbus is neither installed nor unpacked (scripts/deps.sh)")
    work = tempfile.mkdtemp(prefix="dbus-", dir=d)
    os.chmod(work, 0o755)
    bus = Bus(work, root, os.environ.get("LD_LIBRARY_PATH"))
    log = open(os.path.join(work, "log"), "w")
    try:
        return run(bus, log, work)
    finally:
        bus.stop()


def show(tag, r):
    rc, out, err = r
    if rc == 0:
        # lists of objects in name order (the driver's order is a hash's)
        out = re.sub(r"\[objectpath ([^\]]*)\]",
                     lambda m: "[objectpath " + ", ".join(sorted(x.strip() for x in m.group(1).split(","))) + "]",
                     out)
        print("%s: %s" % (tag, out.replace("\n", "\\n")))
    else:
        # gdbus: "Error: GDBus.Error:NAME: MESSAGE" (the message is libvirt's)
        e = err.split("\n")[0]
        e = re.sub(r"^Error: ", "", e)
        print("%s: ERR %s" % (tag, e))


def run(bus, log, work):
    daemon = bus.spawn(["dbus-daemon", "--config-file=" + os.path.join(work, "bus.conf"), "--nofork"], log)
    for _ in range(100):
        if os.path.exists(os.path.join(work, "bus")):
            break
        time.sleep(0.05)
    env = ["VIRT_DBUS_INTERFACES_DIR=" + os.path.join(bus.pkg, "interfaces")]
    if bus.lib_path:
        env.append("LD_LIBRARY_PATH=" + bus.lib_path)
    lvd = bus.spawn([os.path.join(bus.pkg, "sbin", "libvirt-dbus"), "--session"], log, env)
    owned = False
    for _ in range(200):
        rc, out, _ = bus.gdbus("call", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                               "--method", "org.freedesktop.DBus.NameHasOwner", DEST)
        if rc == 0 and "true" in out:
            owned = True
            break
        if lvd.poll() is not None:
            break
        time.sleep(0.05)
    mon = Monitor(bus)
    time.sleep(0.3)
    print("== start")
    print("bus: %s" % ("running" if daemon.poll() is None else "exited"))
    print("libvirt-dbus: %s" % ("owns %s" % DEST if owned else "exited %s" % lvd.poll()))
    maps = ""
    try:
        with open("/proc/%d/maps" % lvd.pid) as f:
            maps = " ".join(sorted({ln.split()[-1] for ln in f if "/libvirt" in ln and ".so" in ln}))
    except OSError:
        pass
    if os.environ.get("VRPC_DIFF_MAPS"):
        with open(os.environ["VRPC_DIFF_MAPS"], "w") as f:
            f.write(maps + "\n")
    if not owned:
        return 0

    def call(path, method, *args):
        return bus.gdbus("call", "--dest", DEST, "--object-path", path, "--method", method, *args)

    def prop(path, iface, name):
        return call(path, "org.freedesktop.DBus.Properties.Get", iface, name)

    def props(tag, path, iface, names):
        for n in names:
            show("%s %s" % (tag, n), prop(path, iface, n))

    def change(tag, path, method, *args):
        show(tag, call(path, method, *args))
        print("%s signals: %s" % (tag, " | ".join(mon.take(5)) or "none"))

    print("== connect")
    # the first call opens the connection (and registers for the events)
    props("Connect", TEST, "org.libvirt.Connect", ["Encrypted", "Secure", "Hostname", "Version"])
    for m in ("ListDomains", "ListNetworks", "ListStoragePools", "ListNodeDevices", "ListSecrets",
              "ListInterfaces", "ListNWFilters"):
        show(m, call(TEST, "org.libvirt.Connect." + m, "0"))
    show("DomainLookupByName test", call(TEST, "org.libvirt.Connect.DomainLookupByName", "test"))
    show("DomainLookupByName nosuch", call(TEST, "org.libvirt.Connect.DomainLookupByName", "nosuch"))
    show("DomainLookupByID 1", call(TEST, "org.libvirt.Connect.DomainLookupByID", "1"))
    show("NodeGetFreeMemory", call(TEST, "org.libvirt.Connect.NodeGetFreeMemory"))
    show("NodeGetCPUMap", call(TEST, "org.libvirt.Connect.NodeGetCPUMap", "0"))
    rc, dom, _ = call(TEST, "org.libvirt.Connect.DomainLookupByName", "test")
    m = re.search(r"'(/org/libvirt/Test/domain/[^']+)'", dom)
    if rc != 0 or not m:
        print("domain: not found")
        return 0
    dom = m.group(1)
    names = ["Active", "Autostart", "Id", "Name", "OSType", "Persistent", "SchedulerType", "Updated", "UUID"]

    print("== domain")
    props("Domain", dom, "org.libvirt.Domain", names)
    for meth, args in (("GetXMLDesc", ["0"]), ("GetState", ["0"]), ("GetVcpus", ["0"]),
                       ("GetSchedulerParameters", ["0"]), ("GetJobInfo", []), ("MemoryStats", ["0"]),
                       ("HasManagedSaveImage", ["0"]), ("GetMetadata", ["0", "", "0"])):
        show(meth, call(dom, "org.libvirt.Domain." + meth, *args))

    print("== lifecycle")
    change("Suspend", dom, "org.libvirt.Domain.Suspend")
    show("Suspended GetState", call(dom, "org.libvirt.Domain.GetState", "0"))
    change("Resume", dom, "org.libvirt.Domain.Resume")
    change("SetMetadata", dom, "org.libvirt.Domain.SetMetadata", "0", "a description", "", "", "0")
    change("Destroy", dom, "org.libvirt.Domain.Destroy", "0")
    props("Destroyed", dom, "org.libvirt.Domain", ["Active", "Id"])
    change("Create", dom, "org.libvirt.Domain.Create", "0")
    props("Created", dom, "org.libvirt.Domain", ["Active", "Id"])
    change("Suspend again", dom, "org.libvirt.Domain.Suspend")
    change("Destroy paused", dom, "org.libvirt.Domain.Destroy", "0")
    xml = ("<domain type='test'><name>dbus-guest</name><uuid>4dea22b3-1d52-d8f3-2516-782e98a23fa0</uuid>"
           "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>")
    change("DomainDefineXML", TEST, "org.libvirt.Connect.DomainDefineXML", xml)
    rc, g, _ = call(TEST, "org.libvirt.Connect.DomainLookupByName", "dbus-guest")
    m = re.search(r"'(/org/libvirt/Test/domain/[^']+)'", g)
    if m:
        change("guest Create", m.group(1), "org.libvirt.Domain.Create", "0")
        change("guest Destroy", m.group(1), "org.libvirt.Domain.Destroy", "0")
        change("guest Undefine", m.group(1), "org.libvirt.Domain.Undefine", "0")
    show("guest gone", call(TEST, "org.libvirt.Connect.DomainLookupByName", "dbus-guest"))

    print("== network")
    rc, net, _ = call(TEST, "org.libvirt.Connect.NetworkLookupByName", "default")
    show("NetworkLookupByName default", (rc, net, _))
    m = re.search(r"'(/org/libvirt/Test/network/[^']+)'", net)
    if m:
        props("Network", m.group(1), "org.libvirt.Network", ["Active", "Autostart", "Name", "Persistent",
                                                            "UUID"])
        change("Network Destroy", m.group(1), "org.libvirt.Network.Destroy")
        change("Network Create", m.group(1), "org.libvirt.Network.Create")

    print("== storage")
    rc, pool, _ = call(TEST, "org.libvirt.Connect.StoragePoolLookupByName", "default-pool")
    show("StoragePoolLookupByName default-pool", (rc, pool, _))
    m = re.search(r"'(/org/libvirt/Test/storagepool/[^']+)'", pool)
    if m:
        props("StoragePool", m.group(1), "org.libvirt.StoragePool", ["Active", "Autostart", "Name",
                                                                    "Persistent", "UUID"])
        show("StoragePool ListStorageVolumes", call(m.group(1), "org.libvirt.StoragePool.ListStorageVolumes",
                                                    "0"))
        change("StoragePool Destroy", m.group(1), "org.libvirt.StoragePool.Destroy")
        change("StoragePool Create", m.group(1), "org.libvirt.StoragePool.Create", "0")

    print("== end")
    print("libvirt-dbus: %s" % ("running" if lvd.poll() is None else "exited %s" % lvd.poll()))
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--root")
    ap.add_argument("--check", action="store_true")
    A = ap.parse_args()
    if A.check:
        sys.exit(0 if check(A) else 1)
    sys.exit(main(A))
