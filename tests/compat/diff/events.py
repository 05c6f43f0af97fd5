# SPDX-License-Identifier: MIT
# The differential transcript of events through unmodified python3-libvirt
# (docs/compat.md, "Events"): registrations of every family, their error
# paths, and the events the private daemons of scripts/test-daemon.sh raise
# (in $VRPC_DIFF_DIR), received through an event loop:
#   events.py default   libvirt's default loop, run by a thread
#   events.py aio       libvirtaio (asyncio), the loop of the script itself
# run-diff.py runs it on the system's libvirt.so.0 and on the compat
# libraries and compares the transcripts (the rules of api.py: errors print
# code and domain, and the message only when it comes from the daemon).
#
# After each action the script waits until no event came for a while and
# prints what came, in the order it came; every connection's events are
# raised by actions of their own step, so the order is the daemon's.
import asyncio
import os
import sys
import threading
import time

import libvirt
import libvirt_qemu

MODE = sys.argv[1] if len(sys.argv) > 1 else "default"
D = os.environ["VRPC_DIFF_DIR"]
TEST_URI = "test+unix:///default?socket=" + D + "/sys/run/libvirt-sock"
TEST_RO_URI = "test+unix:///default?socket=" + D + "/sys/run/libvirt-sock-ro"
USER_SOCK = D + "/user/run/libvirt-sock"
STORAGE_URI = "storage+unix:///session?socket=" + USER_SOCK
SECRET_URI = "secret+unix:///session?socket=" + USER_SOCK

EVENTS = []
LOCK = threading.Lock()
THREADS = set()


def section(name):
    print("== " + name, flush=True)


def show(v):
    if isinstance(v, (libvirt.virDomain, libvirt.virNetwork, libvirt.virStoragePool,
                      libvirt.virNodeDevice)):
        return "<%s %s>" % (type(v).__name__, v.name())
    if isinstance(v, libvirt.virSecret):
        return "<virSecret %s>" % v.UUIDString()
    if isinstance(v, libvirt.virConnect):
        return "<virConnect>"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %r" % (k, v[k]) for k in sorted(v)) + "}"
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(show(x) for x in v) + ")"
    return repr(v)


def recorder(tag):
    """A callback that records its arguments (the connection and the
    opaque included) and the thread it ran in."""
    def cb(*args):
        with LOCK:
            EVENTS.append("%s%s" % (tag, show(args)))
            THREADS.add(threading.current_thread().name)
    return cb


def check(tag, fn, *args, client=False):
    try:
        r = fn(*args)
        print("%s: %s" % (tag, show(r)), flush=True)
        return r
    except libvirt.libvirtError as e:
        s = "ERR code=%s domain=%s" % (e.get_error_code(), e.get_error_domain())
        if not client:
            s += " msg=%s" % e.get_error_message()
        print("%s: %s" % (tag, s), flush=True)
        return None


async def settle(tag, expect, quiet=0.5, limit=15.0):
    """Wait for the `expect` events the step raises on libvirt.so (at most
    `limit` seconds: fewer or more are printed and differ), then until no
    event came for `quiet` seconds (one second when none is expected), and
    print the events received since the last call."""
    if not expect:
        quiet = 1.0
    start = time.monotonic()
    seen = -1
    last = time.monotonic()
    while time.monotonic() - start < limit:
        await asyncio.sleep(0.05)
        with LOCK:
            n = len(EVENTS)
        if n != seen:
            seen = n
            last = time.monotonic()
        elif n >= expect and time.monotonic() - last >= quiet:
            break
    with LOCK:
        got = EVENTS[:]
        EVENTS.clear()
    print("%s: %d event(s)" % (tag, len(got)), flush=True)
    for i, e in enumerate(got):
        print("%s.%d: %s" % (tag, i, e), flush=True)


DOM_XML = """<domain type='test'>
  <name>ev1</name>
  <uuid>6f0c4a1e-1e3c-4c57-9d2b-7e1f5a0b9c01</uuid>
  <memory>65536</memory>
  <os><type>hvm</type></os>
</domain>"""

NET_XML = """<network>
  <name>evnet</name>
  <uuid>6f0c4a1e-1e3c-4c57-9d2b-7e1f5a0b9c02</uuid>
  <bridge name='evbr0'/>
  <ip address='192.168.213.1' netmask='255.255.255.0'/>
</network>"""

SECRET_XML = """<secret ephemeral='no' private='no'>
  <uuid>6f0c4a1e-1e3c-4c57-9d2b-7e1f5a0b9c03</uuid>
  <usage type='volume'><volume>/var/lib/ev/vol1</volume></usage>
</secret>"""

NODEDEV_XML = """<device>
  <parent>scsi_host1</parent>
  <capability type='scsi_host'>
    <capability type='fc_host'>
      <wwnn>2000000012341234</wwnn>
      <wwpn>1000000012341234</wwpn>
    </capability>
  </capability>
</device>"""


def pool_xml():
    return """<pool type='dir'>
  <name>evpool</name>
  <uuid>6f0c4a1e-1e3c-4c57-9d2b-7e1f5a0b9c04</uuid>
  <target><path>%s/user/pool/evpool</path></target>
</pool>""" % D


async def body():
    section("no-loop")
    # libvirt refuses to register before an event loop implementation is
    # registered (its dispatch timer cannot be made)
    c0 = libvirt.open(TEST_URI)
    check("domain-any", c0.domainEventRegisterAny, None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
          recorder("x"), None, client=True)
    check("network-any", c0.networkEventRegisterAny, None, 0, recorder("x"), None, client=True)
    check("legacy", c0.domainEventRegister, recorder("x"), None, client=True)
    check("close", c0.close)

    section("loop")
    if MODE == "aio":
        import libvirtaio
        libvirtaio.virEventRegisterAsyncIOImpl(loop=asyncio.get_running_loop())
        print("impl: libvirtaio", flush=True)
    else:
        print("impl: default", flush=True)
        check("register-default", libvirt.virEventRegisterDefaultImpl)

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()
        threading.Thread(target=run, name="loop", daemon=True).start()

    c = libvirt.open(TEST_URI)
    section("domain-register")
    ids = {}
    ids["life"] = check("lifecycle", c.domainEventRegisterAny, None,
                        libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, recorder("life"), "op-life")
    check("lifecycle-again", c.domainEventRegisterAny, None,
          libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, recorder("dup"), None, client=True)
    check("eventid-negative", c.domainEventRegisterAny, None, -1, recorder("x"), None,
          client=True)
    check("eventid-too-big", c.domainEventRegisterAny, None, 1000, recorder("x"), None,
          client=True)
    test = c.lookupByName("test")
    ids["life-test"] = check("lifecycle-filtered", c.domainEventRegisterAny, test,
                             libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, recorder("life-test"), 7)
    for name in ("REBOOT", "RTC_CHANGE", "WATCHDOG", "IO_ERROR", "GRAPHICS", "IO_ERROR_REASON",
                 "CONTROL_ERROR", "BLOCK_JOB", "DISK_CHANGE", "TRAY_CHANGE", "PMWAKEUP",
                 "PMSUSPEND", "BALLOON_CHANGE", "PMSUSPEND_DISK", "DEVICE_REMOVED",
                 "BLOCK_JOB_2", "TUNABLE", "AGENT_LIFECYCLE", "DEVICE_ADDED",
                 "MIGRATION_ITERATION", "JOB_COMPLETED", "DEVICE_REMOVAL_FAILED",
                 "METADATA_CHANGE", "BLOCK_THRESHOLD", "MEMORY_FAILURE",
                 "MEMORY_DEVICE_SIZE_CHANGE"):
        eid = getattr(libvirt, "VIR_DOMAIN_EVENT_ID_" + name, None)
        if eid is None:
            continue
        ids[name] = check(name.lower(), c.domainEventRegisterAny, None, eid,
                          recorder(name.lower()), None)
    legacy = recorder("legacy")
    check("legacy", c.domainEventRegister, legacy, "op-legacy")
    await settle("quiet", 0)

    section("domain-events")
    dom = check("define", c.defineXML, DOM_XML)
    await settle("ev-define", 2)
    check("create", dom.create)
    await settle("ev-create", 2)
    check("suspend", dom.suspend)
    await settle("ev-suspend", 2)
    check("resume", dom.resume)
    await settle("ev-resume", 2)
    check("metadata", dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "about ev1",
          None, None, 0)
    await settle("ev-metadata", 1)
    check("metadata-element", dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT,
          "<x>1</x>", "ev", "http://example.org/ev", 0)
    await settle("ev-metadata-element", 1)
    check("suspend-test", test.suspend)
    check("resume-test", test.resume)
    await settle("ev-test", 6)
    check("destroy", dom.destroy)
    await settle("ev-destroy", 2)
    check("undefine", dom.undefine)
    await settle("ev-undefine", 2)

    section("domain-deregister")
    check("lifecycle", c.domainEventDeregisterAny, ids["life"])
    check("lifecycle-again", c.domainEventDeregisterAny, ids["life"], client=True)
    check("negative", c.domainEventDeregisterAny, -1, client=True)
    check("unknown", c.domainEventDeregisterAny, 4242, client=True)
    check("metadata", c.domainEventDeregisterAny, ids["METADATA_CHANGE"])
    ids["life2"] = check("lifecycle-re-register", c.domainEventRegisterAny, None,
                         libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, recorder("life2"), "op-life2")
    check("suspend-test", test.suspend)
    check("metadata-test", test.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None,
          None, 0)
    check("resume-test", test.resume)
    await settle("ev-after", 6)
    check("legacy", c.domainEventDeregister, legacy)
    check("suspend-test", test.suspend)
    check("resume-test", test.resume)
    await settle("ev-after-legacy", 4)
    for k in sorted(ids, key=str):
        if k not in ("life", "METADATA_CHANGE") and ids[k] is not None:
            c.domainEventDeregisterAny(ids[k])
    check("suspend-test", test.suspend)
    check("resume-test", test.resume)
    await settle("ev-none", 0)

    section("network")
    n = {}
    n["all"] = check("lifecycle", c.networkEventRegisterAny, None,
                     libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, recorder("net"), "op-net")
    check("eventid-too-big", c.networkEventRegisterAny, None, 1000, recorder("x"), None,
          client=True)
    net = check("define", c.networkDefineXML, NET_XML)
    n["one"] = check("lifecycle-filtered", c.networkEventRegisterAny, net,
                     libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, recorder("net-one"), None)
    await settle("ev-define", 1)
    check("create", net.create)
    await settle("ev-create", 2)
    check("destroy", net.destroy)
    await settle("ev-destroy", 2)
    check("undefine", net.undefine)
    await settle("ev-undefine", 2)
    check("deregister", c.networkEventDeregisterAny, n["all"])
    check("deregister-again", c.networkEventDeregisterAny, n["all"], client=True)
    check("deregister-filtered", c.networkEventDeregisterAny, n["one"])

    section("node-device")
    d = {}
    d["life"] = check("lifecycle", c.nodeDeviceEventRegisterAny, None,
                      libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, recorder("dev"), None)
    d["update"] = check("update", c.nodeDeviceEventRegisterAny, None,
                        libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, recorder("dev-update"), None)
    dev = check("create", c.nodeDeviceCreateXML, NODEDEV_XML, 0)
    await settle("ev-create", 1)
    if dev is not None:
        check("destroy", dev.destroy)
        await settle("ev-destroy", 1)
    for k in ("life", "update"):
        if d[k] is not None:
            check("deregister-" + k, c.nodeDeviceEventDeregisterAny, d[k])

    section("qemu-monitor")
    # the test driver has no QEMU monitor: the daemon refuses
    check("register", libvirt_qemu.qemuMonitorEventRegister, c, None, None,
          recorder("qemu"), None, 0)
    ro = libvirt.openReadOnly(TEST_RO_URI)
    check("register-ro", libvirt_qemu.qemuMonitorEventRegister, ro, None, None,
          recorder("qemu"), None, 0, client=True)
    check("ro-lifecycle", ro.domainEventRegisterAny, None, 0, recorder("ro"), None)
    check("ro-suspend", test.suspend)
    check("ro-resume", test.resume)
    await settle("ev-ro", 2)

    section("storage")
    s = libvirt.open(STORAGE_URI)
    p = {}
    p["life"] = check("lifecycle", s.storagePoolEventRegisterAny, None,
                      libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, recorder("pool"), "op-pool")
    p["refresh"] = check("refresh", s.storagePoolEventRegisterAny, None,
                         libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, recorder("pool-refresh"),
                         None)
    check("eventid-too-big", s.storagePoolEventRegisterAny, None, 1000, recorder("x"), None,
          client=True)
    pool = check("define", s.storagePoolDefineXML, pool_xml(), 0)
    await settle("ev-define", 1)
    p["one"] = check("refresh-filtered", s.storagePoolEventRegisterAny, pool,
                     libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH, recorder("pool-one"), None)
    check("build", pool.build, 0)
    check("create", pool.create, 0)
    await settle("ev-create", 2)
    check("refresh-pool", pool.refresh, 0)
    await settle("ev-refresh", 2)
    check("destroy", pool.destroy)
    await settle("ev-destroy", 1)
    check("undefine", pool.undefine)
    await settle("ev-undefine", 1)
    for k in ("life", "refresh", "one"):
        check("deregister-" + k, s.storagePoolEventDeregisterAny, p[k])
    check("close", s.close)

    section("secret")
    sc = libvirt.open(SECRET_URI)
    q = {}
    q["life"] = check("lifecycle", sc.secretEventRegisterAny, None,
                      libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE, recorder("secret"), None)
    q["value"] = check("value-changed", sc.secretEventRegisterAny, None,
                       libvirt.VIR_SECRET_EVENT_ID_VALUE_CHANGED, recorder("secret-value"),
                       "op-value")
    check("eventid-too-big", sc.secretEventRegisterAny, None, 1000, recorder("x"), None,
          client=True)
    sec = check("define", sc.secretDefineXML, SECRET_XML, 0)
    await settle("ev-define", 1)
    check("set-value", sec.setValue, b"s3cr3t", 0)
    await settle("ev-set-value", 1)
    check("undefine", sec.undefine)
    await settle("ev-undefine", 1)
    for k in ("life", "value"):
        check("deregister-" + k, sc.secretEventDeregisterAny, q[k])
    check("deregister-unknown", sc.secretEventDeregisterAny, 99, client=True)
    # the test driver has no secrets: the daemon refuses (the id is used up)
    check("test-driver", c.secretEventRegisterAny, None, 0, recorder("x"), None)
    check("close", sc.close)

    section("threads")
    # every callback ran in the loop's thread
    print("threads: %s" % sorted(THREADS), flush=True)


asyncio.run(body())

maps = os.environ.get("VRPC_DIFF_MAPS")
if maps:
    with open("/proc/self/maps") as f, open(maps, "w") as out:
        out.write("".join(sorted({ln.split()[-1] + "\n" for ln in f if "/libvirt" in ln and ".so" in ln})))
