#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Typed parameters and caller-sized getters through unmodified
python3-libvirt, on the system's libvirt.so.0 and on ours.

    test-compat-params.py OUR_LIBVIRT_SO (or the directory holding it)

The script runs itself twice on the private test-driver daemon of
scripts/test-daemon.sh ($VRPC_TEST_DIR): once as it is and once with our
library first in LD_LIBRARY_PATH. Each run prints one line per call (its
value, or its error's code, domain and, for the daemon's errors, message);
the lines must be the same. Values that follow the daemon's clock are
printed as their shape. Every setter puts back what it changed, so both
runs see the daemon in the same state. Prints TAP.
"""
import os
import subprocess
import sys

# Errors raised in the client: their messages are our own words.
CLIENT_CODES = {8, 7, 29, 2}  # INVALID_ARG, RPC, OPERATION_DENIED, NO_MEMORY


def steps(libvirt, uri):
    """The calls, as (name, function) pairs, on one connection."""
    c = libvirt.open(uri)
    ro = libvirt.openReadOnly(uri)
    d = c.lookupByName("test")
    dro = ro.lookupByName("test")

    def restore(get, put, new):
        """Set `new` with put(), read back with get(), put the old back."""
        old = get()
        try:
            put(new)
            return get()
        finally:
            put({k: v for k, v in old.items() if k in new})

    def shape(values):
        return [type(v).__name__ for v in values]

    yield "schedType", lambda: d.schedulerType()
    yield "sched", lambda: d.schedulerParameters()
    yield "schedFlags", lambda: d.schedulerParametersFlags(0)
    yield "setSched", lambda: restore(d.schedulerParameters, d.setSchedulerParameters,
                                      {"weight": 77})
    yield "blkio", lambda: d.blkioParameters(0)
    yield "setBlkio", lambda: restore(lambda: d.blkioParameters(0),
                                      lambda p: d.setBlkioParameters(p, 0), {"weight": 500})
    yield "setBlkioBadType", lambda: d.setBlkioParameters({"weight": "heavy"}, 0)
    yield "memory", lambda: d.memoryParameters(0)
    yield "setMemory", lambda: restore(lambda: d.memoryParameters(0),
                                       lambda p: d.setMemoryParameters(p, 0),
                                       {"hard_limit": 1 << 30, "soft_limit": 1 << 29})
    yield "numa", lambda: d.numaParameters(0)
    yield "setNuma", lambda: restore(lambda: d.numaParameters(0),
                                     lambda p: d.setNumaParameters(p, 0),
                                     {"numa_nodeset": "0"})
    yield "iface", lambda: d.interfaceParameters("vnet0", 0)
    yield "blockStatsFlags", lambda: d.blockStatsFlags("vda", 0)
    yield "blockStats", lambda: shape(d.blockStats("vda"))
    yield "ifaceStats", lambda: d.interfaceStats("vnet0")
    yield "ioTune", lambda: d.blockIoTune("vda", 0)
    yield "setIoTune", lambda: restore(lambda: d.blockIoTune("vda", 0),
                                       lambda p: d.setBlockIoTune("vda", p, 0),
                                       {"total_bytes_sec": 1000000})
    yield "nodeMemParams", lambda: c.getMemoryParameters(0)
    yield "nodeCPUStats", lambda: c.getCPUStats(-1, 0)
    yield "nodeCPUStatsBad", lambda: c.getCPUStats(-5, 0)
    yield "nodeMemStats", lambda: c.getMemoryStats(-1, 0)
    yield "cellsFree", lambda: c.getCellsFreeMemory(0, 8)
    yield "cellsFreeFrom1", lambda: c.getCellsFreeMemory(1, 1)
    yield "cpuStatsTotal", lambda: [sorted(x) for x in d.getCPUStats(True, 0)]
    yield "cpuStatsPerCPU", lambda: [sorted(x) for x in d.getCPUStats(False, 0)]
    yield "perf", lambda: d.perfEvents(0)
    yield "setPerf", lambda: restore(lambda: d.perfEvents(0),
                                     lambda p: d.setPerfEvents(p, 0), {"cpu_cycles": True})
    yield "jobStats", lambda: d.jobStats(0)
    yield "launchSecurity", lambda: d.launchSecurityInfo(0)
    yield "sevInfo", lambda: c.getSEVInfo(0)
    yield "guestInfo", lambda: d.guestInfo(0, 0)
    yield "guestInfoRO", lambda: dro.guestInfo(0, 0)
    yield "guestVcpus", lambda: d.guestVcpus(0)
    yield "memoryStats", lambda: d.memoryStats()
    yield "blockPeek", lambda: d.blockPeek("vda", 0, 16, 0)
    yield "memoryPeek", lambda: d.memoryPeek(0, 16, libvirt.VIR_MEMORY_VIRTUAL)
    yield "memoryPeekRO", lambda: dro.memoryPeek(0, 16, libvirt.VIR_MEMORY_VIRTUAL)
    yield "vcpus", lambda: (shape(d.vcpus()[0][0]), d.vcpus()[1])
    yield "vcpuPinInfo", lambda: d.vcpuPinInfo(0)
    yield "emulatorPinInfo", lambda: d.emulatorPinInfo(0)
    yield "pinVcpu", lambda: d.pinVcpu(1, (True, True, True, True, True, True, True, True))
    yield "pinVcpuFlags", lambda: d.pinVcpuFlags(0, (True,) * 8, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    yield "pinEmulator", lambda: d.pinEmulator((True,) * 8, 0)
    yield "pinVcpuRO", lambda: dro.pinVcpu(1, (True, False))
    yield "cpuMap", lambda: c.getCPUMap(0)
    yield "securityLabel", lambda: d.securityLabel()
    yield "securityLabelList", lambda: d.securityLabelList()
    yield "securityModel", lambda: c.getSecurityModel()
    yield "diskErrors", lambda: d.diskErrors(0)
    yield "controlInfo", lambda: d.controlInfo(0)
    yield "blockJobInfo", lambda: d.blockJobInfo("vda", 0)
    yield "listDomains", lambda: c.listDomainsID()
    yield "freePages", lambda: c.getFreePages([4, 2048], 0, 1, 0)


def child(uri):
    import libvirt
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    for name, fn in steps(libvirt, uri):
        try:
            line = repr(fn())
        except libvirt.libvirtError as e:
            code, dom = e.get_error_code(), e.get_error_domain()
            line = "error %s/%s" % (code, dom)
            if code not in CLIENT_CODES and not (code == 1 and dom == 0):
                line += " " + str(e.get_error_message())
        except Exception as e:  # the binding's own checks
            line = "exception %s: %s" % (type(e).__name__, e)
        print("%s -> %s" % (name, line), flush=True)


def run(env):
    p = subprocess.run([sys.executable, __file__, "--child", os.environ["VRPC_COMPAT_URI"]],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    return p.returncode, p.stdout.splitlines(), p.stderr


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return 0
    ours = sys.argv[1]
    if not os.path.isdir(ours):
        ours = os.path.dirname(os.path.abspath(ours))
    tdir = os.environ.get("VRPC_TEST_DIR")
    if not tdir:
        print("1..0 # SKIP no VRPC_TEST_DIR: no private daemon")
        return 0
    try:
        import libvirt  # noqa: F401
    except ImportError:
        # another python3 on the PATH (or $VRPC_PYTHON) may have the module
        cands = [os.environ.get("VRPC_PYTHON", "")]
        cands += [os.path.join(d or ".", "python3")
                  for d in os.environ.get("PATH", "").split(os.pathsep)]
        for cand in cands:
            if (cand and os.access(cand, os.X_OK) and os.path.realpath(cand) !=
                    os.path.realpath(sys.executable) and subprocess.run(
                        [cand, "-c", "import libvirt"], stderr=subprocess.DEVNULL).returncode == 0):
                os.execv(cand, [cand, __file__] + sys.argv[1:])
        print("1..0 # SKIP no python3 with the libvirt module")
        return 0
    os.environ["VRPC_COMPAT_URI"] = "test+unix:///default?socket=%s/sys/run/libvirt-sock" % tdir
    base = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    with_ours = dict(base, LD_LIBRARY_PATH=ours)
    probe = subprocess.run([sys.executable, "-c", "import libvirt"], env=with_ours,
                           stderr=subprocess.PIPE, text=True)
    if probe.returncode != 0 and "undefined symbol" in probe.stderr:
        # while the library is being written
        print("1..0 # SKIP python3-libvirt does not load on our library yet: %s"
              % probe.stderr.strip().splitlines()[-1])
        return 0
    rc_sys, lines_sys, err_sys = run(base)
    rc_ours, lines_ours, err_ours = run(with_ours)
    n = 0
    ok = rc_sys == 0 and rc_ours == 0
    n += 1
    print("%s %d - both runs finish (%d, %d)" % ("ok" if ok else "not ok", n, rc_sys, rc_ours))
    for text in (err_sys, err_ours):
        for line in text.splitlines()[-5:]:
            print("# " + line)
    failed = not ok
    for i in range(max(len(lines_sys), len(lines_ours))):
        a = lines_sys[i] if i < len(lines_sys) else "(missing)"
        b = lines_ours[i] if i < len(lines_ours) else "(missing)"
        n += 1
        same = a == b
        failed |= not same
        print("%s %d - %s" % ("ok" if same else "not ok", n, a.split(" -> ")[0]))
        if not same:
            print("# libvirt: " + a[:400])
            print("# ours:    " + b[:400])
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
