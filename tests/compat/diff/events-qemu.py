# SPDX-License-Identifier: MIT
# QEMU monitor events (libvirt-qemu) and the domain events of a real QEMU
# guest under TCG, through unmodified python3-libvirt and libvirt's default
# event loop, against the private session daemon of
# tests/streams/test-streams.sh (VRPC_STREAMS_SOCKET). test-qemu-events.sh
# runs it on the system's libvirt.so.0 and on the compat libraries and
# compares the transcripts. Times (seconds, micros) are masked.
import os
import sys
import threading
import time

import libvirt
import libvirt_qemu

EVENTS = []
LOCK = threading.Lock()


def show(v):
    if isinstance(v, libvirt.virDomain):
        return "<virDomain %s>" % v.name()
    if isinstance(v, libvirt.virConnect):
        return "<virConnect>"
    return repr(v)


def qemu_cb(tag):
    def cb(conn, dom, event, seconds, micros, details, opaque):
        with LOCK:
            EVENTS.append("%s(%s, %s, %s, sec=%s, us=%s, %r, %r)" % (
                tag, show(conn), show(dom), event, "*" if seconds > 0 else seconds,
                "*" if 0 <= micros < 1000000 else micros, details, opaque))
    return cb


def life_cb(conn, dom, event, detail, opaque):
    with LOCK:
        EVENTS.append("life(%s, %s, %d, %d, %r)" % (show(conn), show(dom), event, detail, opaque))


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


def settle(tag, want=None, quiet=1.0, limit=30.0):
    """Wait until no event came for `quiet` seconds (and, when given, until
    an event containing `want` came), then print what came."""
    start = time.monotonic()
    seen, last = -1, time.monotonic()
    while time.monotonic() - start < limit:
        time.sleep(0.05)
        with LOCK:
            n = len(EVENTS)
            have = want is None or any(want in e for e in EVENTS)
        if n != seen:
            seen, last = n, time.monotonic()
        elif have and time.monotonic() - last >= quiet:
            break
    with LOCK:
        got = EVENTS[:]
        EVENTS.clear()
    print("%s: %d event(s)" % (tag, len(got)), flush=True)
    for i, e in enumerate(got):
        print("%s.%d: %s" % (tag, i, e), flush=True)


XML = """<domain type='qemu'>
  <name>evq</name>
  <uuid>6f0c4a1e-1e3c-4c57-9d2b-7e1f5a0b9c11</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><video><model type='vga'/></video></devices>
</domain>"""


def main():
    if os.environ.get("VRPC_STREAMS_QEMU") != "1":
        print("skip: no qemu-system-x86_64", flush=True)
        return
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()
    threading.Thread(target=run, name="loop", daemon=True).start()

    c = libvirt.open("qemu+unix:///session?socket=" + os.environ["VRPC_STREAMS_SOCKET"])
    print("== register", flush=True)
    ids = []
    ids.append(check("all", libvirt_qemu.qemuMonitorEventRegister, c, None, None,
                     qemu_cb("all"), "op-all", 0))
    check("all-again", libvirt_qemu.qemuMonitorEventRegister, c, None, None, qemu_cb("dup"),
          None, 0, client=True)
    ids.append(check("stop", libvirt_qemu.qemuMonitorEventRegister, c, None, "STOP",
                     qemu_cb("stop"), "op-stop", 0))
    ids.append(check("regex", libvirt_qemu.qemuMonitorEventRegister, c, None, "^res",
                     qemu_cb("regex"), None,
                     libvirt_qemu.VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX |
                     libvirt_qemu.VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE))
    check("bad-flags", libvirt_qemu.qemuMonitorEventRegister, c, None, "X", qemu_cb("bad"),
          None, 1 << 20)
    life = check("lifecycle", c.domainEventRegisterAny, None,
                 libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, life_cb, "op-life")

    print("== guest", flush=True)
    dom = check("define", c.defineXML, XML)
    settle("ev-define", "life")
    if dom is None:
        return
    ids.append(check("filtered", libvirt_qemu.qemuMonitorEventRegister, c, dom, "STOP",
                     qemu_cb("dom-stop"), None, 0))
    check("create", dom.create)
    settle("ev-create", "life")
    check("suspend", dom.suspend)
    settle("ev-suspend", "dom-stop")
    check("resume", dom.resume)
    settle("ev-resume", "regex")
    print("== deregister", flush=True)
    for n, i in enumerate(ids):
        if i is not None:
            check("qemu-%d" % n, libvirt_qemu.qemuMonitorEventDeregister, c, i)
    check("qemu-again", libvirt_qemu.qemuMonitorEventDeregister, c, ids[0], client=True)
    check("suspend", dom.suspend)
    settle("ev-suspend-after", "life")
    check("destroy", dom.destroy)
    settle("ev-destroy", "life")
    check("undefine", dom.undefine)
    settle("ev-undefine", "life")
    check("lifecycle", c.domainEventDeregisterAny, life)


main()

maps = os.environ.get("VRPC_DIFF_MAPS")
if maps:
    with open("/proc/self/maps") as f, open(maps, "w") as out:
        out.write("".join(sorted({ln.split()[-1] + "\n" for ln in f if "/libvirt" in ln and ".so" in ln})))
