# SPDX-License-Identifier: MIT
# The event loop, keepalive and the close callback through unmodified
# python3-libvirt, as a differential transcript (run-diff.py runs it on the
# system's libvirt.so.0 and on the compat libraries, each time with fresh
# private daemons in $VRPC_DIFF_DIR):
#
#   loop.py default   virEventRegisterDefaultImpl, a thread running
#                     virEventRunDefaultImpl, the calls in the main thread
#   loop.py aio       libvirtaio (asyncio): the loop and the calls in one
#                     thread, as libvirtaio programs do
#   loop.py none      no loop: a killed daemon seen by the next call
#
# What it does to the daemons: a connection with virConnectSetKeepAlive(1, 2)
# whose daemon is stopped (SIGSTOP) must be closed by keepalive (reason
# VIR_CONNECT_CLOSE_REASON_KEEPALIVE) from the loop; one whose daemon is
# killed gets VIR_CONNECT_CLOSE_REASON_EOF; with libvirt's defaults (no
# virConnectSetKeepAlive) the loop answers the PINGs of a daemon that drops
# silent clients after 2 s. Errors print their code and domain only (the
# messages of the client library are our own words).
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import libvirt

MODE = sys.argv[1] if len(sys.argv) > 1 else "default"
D = os.environ["VRPC_DIFF_DIR"]
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DAEMON = os.path.join(TOP, "scripts", "test-daemon.sh")
# "+unix": libvirt.so serves test:///default itself, in the process
TEST_URI = "test+unix:///default?socket=" + D + "/sys/run/libvirt-sock"
KA_DIR = os.path.join(D, "ka")
KA_URI = "test+unix:///default?socket=" + KA_DIR + "/sys/run/libvirt-sock"

REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "ERROR",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "EOF",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "KEEPALIVE",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "CLIENT",
}


def section(name):
    print("== " + name, flush=True)


def show(tag, v):
    print("%s: %s" % (tag, v), flush=True)


def attempt(tag, fn, *args):
    try:
        r = fn(*args)
        show(tag, "ok %r" % (r,))
        return r
    except libvirt.libvirtError as e:
        show(tag, "error code %s domain %s" % (e.get_error_code(), e.get_error_domain()))
        return None


def daemon_pid(d):
    with open(os.path.join(d, "sys", "pid")) as f:
        return int(f.read().strip())


class Closes:
    """The close callbacks received, per connection label."""

    def __init__(self):
        self.got = {}
        self.freed = []

    def cb(self, conn, reason, label):
        self.got.setdefault(label, []).append(REASONS.get(reason, reason))

    def register(self, conn, label):
        return conn.registerCloseCallback(self.cb, label)


async def wait_until(pred, timeout):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        await asyncio.sleep(0.05)
    return pred()


async def scenario():
    closes = Closes()

    section("keepalive detects a stopped daemon")
    c = libvirt.open(TEST_URI)
    show("open", "ok")
    attempt("virConnectIsAlive", c.isAlive)
    attempt("virConnectRegisterCloseCallback", closes.register, c, "stopped")
    attempt("virConnectRegisterCloseCallback again", closes.register, c, "stopped")
    attempt("virConnectSetKeepAlive(1, 2)", c.setKeepAlive, 1, 2)
    attempt("virConnectGetHostname", lambda: bool(c.getHostname()))
    # idle with keepalive on: PINGs answered, nothing closes
    await asyncio.sleep(2.5)
    attempt("virConnectIsAlive after 2.5 s idle", c.isAlive)
    show("close callbacks so far", closes.got.get("stopped", []))
    pid = daemon_pid(D)
    os.kill(pid, signal.SIGSTOP)
    try:
        if MODE == "default":
            # a call waiting for the stopped daemon's answer (in this
            # thread, the loop in another) fails when keepalive gives up
            # (1 s of silence, then two unanswered PINGs). (Not under
            # libvirtaio: the call would block the loop's only thread, and
            # libvirt.so's then waits for ever; ours fails the same way.)
            attempt("virConnectGetHostname while the daemon is stopped", c.getHostname)
        detected = await wait_until(lambda: "stopped" in closes.got, 20)
        show("closed by keepalive within 20 s", detected)
        show("close callback reasons", closes.got.get("stopped", []))
        attempt("virConnectIsAlive", c.isAlive)
        attempt("virConnectGetHostname on the closed connection", c.getHostname)
        attempt("virConnectNumOfDomains on the closed connection", c.numOfDomains)
        attempt("virConnectSetKeepAlive on the closed connection", c.setKeepAlive, 1, 2)
        attempt("virConnectRegisterCloseCallback after it ran", closes.register, c, "stopped")
        attempt("virConnectUnregisterCloseCallback after it ran", c.unregisterCloseCallback)
        attempt("virConnectClose", c.close)
    finally:
        os.kill(pid, signal.SIGCONT)
    show("close callback reasons at the end", closes.got.get("stopped", []))

    section("the daemon killed")
    c = libvirt.open(TEST_URI)
    show("open", "ok")
    attempt("virConnectIsAlive", c.isAlive)
    attempt("virConnectRegisterCloseCallback", closes.register, c, "killed")
    attempt("virConnectNumOfDomains", c.numOfDomains)
    await asyncio.sleep(0.2)
    os.kill(daemon_pid(D), signal.SIGKILL)
    detected = await wait_until(lambda: "killed" in closes.got, 20)
    show("close callback within 20 s", detected)
    show("close callback reasons", closes.got.get("killed", []))
    attempt("virConnectIsAlive", c.isAlive)
    attempt("virConnectGetHostname on the closed connection", c.getHostname)
    attempt("virConnectClose", c.close)
    await asyncio.sleep(0.2)
    show("close callback reasons at the end", closes.got.get("killed", []))

    section("libvirt's defaults: the daemon's PINGs answered")
    # a daemon that drops a client after 1 s of silence and one unanswered
    # PING; the client, with a loop registered, answers while idle
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    st = subprocess.run([DAEMON, "start-one", KA_DIR, "keepalive_interval = 1",
                         "keepalive_count = 1"], capture_output=True, text=True, env=env)
    show("keepalive daemon started", st.returncode == 0)
    if st.returncode != 0:
        sys.stderr.write(st.stdout + st.stderr)
        return
    try:
        c = libvirt.open(KA_URI)
        show("open", "ok")
        attempt("virConnectRegisterCloseCallback", closes.register, c, "defaults")
        await asyncio.sleep(5)
        attempt("virConnectIsAlive after 5 s idle", c.isAlive)
        attempt("virConnectNumOfDomains", c.numOfDomains)
        show("close callback reasons", closes.got.get("defaults", []))
        attempt("virConnectUnregisterCloseCallback", c.unregisterCloseCallback)
        attempt("virConnectClose", c.close)
        # the daemon is stopped now: the client is told when the loop
        # reads the end of the connection
        c = libvirt.open(KA_URI)
        attempt("virConnectRegisterCloseCallback", closes.register, c, "defaults-stopped")
    finally:
        subprocess.run([DAEMON, "stop", KA_DIR], capture_output=True, env=env)
    detected = await wait_until(lambda: "defaults-stopped" in closes.got, 20)
    show("close callback after the daemon stopped, within 20 s", detected)
    show("close callback reasons", closes.got.get("defaults-stopped", []))
    attempt("virConnectIsAlive", c.isAlive)
    attempt("virConnectClose", c.close)


def scenario_none():
    """No loop: the end of the connection is seen by the next call, which
    runs the close callback in the calling thread."""
    closes = Closes()
    section("no loop: the daemon killed")
    c = libvirt.open(TEST_URI)
    show("open", "ok")
    attempt("virConnectRegisterCloseCallback", closes.register, c, "killed")
    attempt("virConnectSetKeepAlive", c.setKeepAlive, 1, 2)
    os.kill(daemon_pid(D), signal.SIGKILL)
    time.sleep(1)
    attempt("virConnectIsAlive before a call", c.isAlive)
    show("close callback reasons before a call", closes.got.get("killed", []))
    attempt("virConnectGetHostname", c.getHostname)
    show("close callback reasons after the call", closes.got.get("killed", []))
    attempt("virConnectIsAlive", c.isAlive)
    attempt("virConnectNumOfDomains", c.numOfDomains)
    show("close callback reasons after another call", closes.got.get("killed", []))
    attempt("virConnectUnregisterCloseCallback", c.unregisterCloseCallback)
    attempt("virConnectClose", c.close)


def write_maps():
    maps = os.environ.get("VRPC_DIFF_MAPS")
    if maps:
        with open("/proc/self/maps") as f, open(maps, "w") as out:
            out.write("".join(sorted({ln.split()[-1] + "\n" for ln in f
                                      if "/libvirt" in ln and ".so" in ln})))


def main():
    section("registration (%s)" % MODE)
    # before any loop: libvirt's client has no keepalive
    c = libvirt.open(TEST_URI)
    attempt("virConnectSetKeepAlive without a loop", c.setKeepAlive, 1, 2)
    attempt("virConnectIsAlive without a loop", c.isAlive)
    attempt("virConnectClose", c.close)
    if MODE == "none":
        scenario_none()
    elif MODE == "default":
        show("virEventRegisterDefaultImpl", libvirt.virEventRegisterDefaultImpl())

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, daemon=True).start()
        asyncio.run(scenario())
    else:
        import libvirtaio

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        libvirtaio.virEventRegisterAsyncIOImpl(loop=loop)
        show("virEventRegisterAsyncIOImpl", "ok")
        loop.run_until_complete(scenario())
        # the free callbacks of the last removals run in the loop
        loop.run_until_complete(libvirtaio.getCurrentImpl().drain())
        show("libvirtaio is drained", libvirtaio.getCurrentImpl().is_idle())
    write_maps()


main()
