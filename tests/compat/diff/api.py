# SPDX-License-Identifier: MIT
# The differential transcript through unmodified python3-libvirt: every
# object type of libvirt's public API, the calls that succeed and their error
# paths, against the private daemons of scripts/test-daemon.sh in
# $VRPC_DIFF_DIR (run-diff.py runs it once on the system's libvirt.so.0 and
# once on the compat libraries, and compares what it prints).
#
# Every call goes through call(CFUNC, METHOD, ...): CFUNC is the C function
# of libvirt's public API that METHOD wraps (python3-libvirt's libvirtmod
# calls are 1:1 with C functions); the script checks that METHOD's source
# really calls libvirtmod.CFUNC, so the list of functions reached, printed at
# the end, is true. The transcript rules are in docs/compat.md:
#   - a result is printed in a deterministic form (object names, sorted
#     lists, values that change from run to run masked with '*');
#   - an error prints its code and domain; its message too when the error
#     comes from the daemon (client=True marks the checks that fail in the
#     client library, where our wording differs from libvirt's).
import inspect
import os
import re
import sys

import libvirt
import libvirt_lxc
import libvirt_qemu

D = os.environ["VRPC_DIFF_DIR"]
SYS_SOCK = D + "/sys/run/libvirt-sock"
# "+unix": libvirt.so serves test:///default itself, in the process
TEST_URI = "test+unix:///default?socket=" + SYS_SOCK
TEST_RO_URI = "test+unix:///default?socket=" + D + "/sys/run/libvirt-sock-ro"
USER_SOCK = D + "/user/run/libvirt-sock"
STORAGE_URI = "storage+unix:///session?socket=" + USER_SOCK
SECRET_URI = "secret+unix:///session?socket=" + USER_SOCK

REACHED = {}  # C function -> module it belongs to
MAPPING_ERRORS = []
MASK = "*"


def section(name):
    print("== " + name, flush=True)


def fmt(v):
    """A deterministic text form of a result."""
    if v is None:
        return "None"
    if isinstance(v, (libvirt.virDomain, libvirt.virNetwork, libvirt.virInterface,
                      libvirt.virStoragePool, libvirt.virStorageVol, libvirt.virNodeDevice,
                      libvirt.virNWFilter)):
        return "<%s %s>" % (type(v).__name__, v.name())
    if isinstance(v, (libvirt.virDomainSnapshot, libvirt.virDomainCheckpoint)):
        return "<%s %s>" % (type(v).__name__, v.getName())
    if isinstance(v, libvirt.virSecret):
        return "<virSecret %s>" % v.UUIDString()
    if isinstance(v, libvirt.virNWFilterBinding):
        return "<virNWFilterBinding %s>" % v.portDev()
    if isinstance(v, libvirt.virNetworkPort):
        return "<virNetworkPort>"
    if isinstance(v, libvirt.virConnect):
        return "<virConnect>"
    if isinstance(v, (bytes, bytearray)):
        return "bytes[%d]:%s" % (len(v), bytes(v).hex())
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (fmt(k), fmt(v[k])) for k in sorted(v, key=str)) + "}"
    if isinstance(v, list):
        items = [fmt(x) for x in v]
        if v and not isinstance(v[0], (int, float, list, tuple)):
            items.sort()
        return "[" + ", ".join(items) + "]"
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt(x) for x in v) + ")"
    if isinstance(v, float):
        return "%.6g" % v
    return repr(v)


def mask_keys(*keys):
    """A formatter that masks the given keys of a dict result (or of the
    dicts of a list result)."""
    def f(v):
        def m(d):
            if isinstance(d, dict):
                return {k: (MASK if any(re.fullmatch(p, k) for p in keys) else m(x)) for k, x in d.items()}
            if isinstance(d, (list, tuple)):
                return type(d)(m(x) for x in d)
            return d
        return fmt(m(v))
    return f


def mask_index(*idx):
    """A formatter that masks items of a list/tuple result."""
    def f(v):
        return fmt([MASK if i in idx else x for i, x in enumerate(v)])
    return f


# python3-libvirt's wrappers whose libvirtmod name is not the C function's
PY_NAMES = {"virConnectListDomains": "virConnectListDomainsID"}


def check_mapping(cname, meth):
    try:
        src = inspect.getsource(meth)
    except (TypeError, OSError):
        MAPPING_ERRORS.append("%s: no source for %r" % (cname, meth))
        return
    if not re.search(r"libvirtmod(_qemu|_lxc)?\.%s\(" % re.escape(PY_NAMES.get(cname, cname)), src):
        MAPPING_ERRORS.append("%s: %s does not call it" % (cname, getattr(meth, "__qualname__", meth)))


def err_text(e, client):
    s = "ERR code=%s domain=%s" % (e.get_error_code(), e.get_error_domain())
    if not client:
        s += " msg=%s" % e.get_error_message()
    return s


FAIL = object()


def call(cname, meth, *args, client=False, show=fmt, label=None):
    """Call METHOD(*args), which wraps the C function CNAME; print the result
    or the error. Returns the result or FAIL."""
    mod = getattr(meth, "__module__", "") or ""
    REACHED[cname] = mod
    check_mapping(cname, meth)
    tag = cname + ("[" + label + "]" if label else "")
    try:
        r = meth(*args)
    except libvirt.libvirtError as e:
        print("%s: %s" % (tag, err_text(e, client).replace("\n", "\\n")))
        return FAIL
    except Exception as e:  # noqa: BLE001 (a binding's own failure is a result too)
        print("%s: python %s" % (tag, type(e).__name__))
        return FAIL
    print("%s: %s" % (tag, show(r).replace("\n", "\\n")))
    return r


def ok(v):
    return v is not FAIL and v is not None


# Every error reaches the handler registered here (virSetErrorFunc through
# python3-libvirt): it counts them, and stderr stays quiet.
HANDLED = []


def handler(ctx, err):
    HANDLED.append(err[0])


libvirt.registerErrorHandler(handler, None)

# ---------------------------------------------------------------- objects XML
DOM_UUID = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0"
DOM_XML = """<domain type='test'>
  <name>dt1</name>
  <uuid>%s</uuid>
  <memory>65536</memory>
  <currentMemory>65536</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os><type arch='i686'>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default'/>
      <target dev='vnet7'/>
    </interface>
  </devices>
</domain>""" % DOM_UUID
TRANSIENT_XML = DOM_XML.replace("dt1", "dt2").replace(DOM_UUID, "4dea22b3-1d52-d8f3-2516-782e98ab3fa1")
NET_UUID = "0a4a6e3e-6f56-4c27-9a24-6e1d0e1f1a01"
NET_XML = """<network>
  <name>nt1</name>
  <uuid>%s</uuid>
  <bridge name='vrpcbr7'/>
  <ip address='192.168.217.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.217.2' end='192.168.217.254'/></dhcp>
  </ip>
</network>""" % NET_UUID
IFACE_XML = """<interface type='ethernet' name='vrpc7'>
  <start mode='onboot'/>
  <mac address='aa:bb:cc:dd:ee:07'/>
</interface>"""
POOL_UUID = "2f0e5d4e-8a1c-4b1e-9d0f-3c5a7b9e1d02"
POOL_XML = """<pool type='dir'>
  <name>pl1</name>
  <uuid>%s</uuid>
  <target><path>%s/user/pool/pl1</path></target>
</pool>""" % (POOL_UUID, D)
VOL_XML = """<volume>
  <name>v1.img</name>
  <capacity unit='KiB'>1024</capacity>
  <allocation>0</allocation>
  <target><format type='raw'/></target>
</volume>"""
SECRET_UUID = "6f3c2a1e-5b4d-4e7f-8a9b-0c1d2e3f4a03"
SECRET_XML = """<secret ephemeral='no' private='no'>
  <uuid>%s</uuid>
  <usage type='volume'><volume>/var/lib/vrpc/v1.img</volume></usage>
</secret>""" % SECRET_UUID
SNAP_XML = "<domainsnapshot><name>s1</name><description>first</description></domainsnapshot>"
SNAP2_XML = "<domainsnapshot><name>s2</name></domainsnapshot>"
CKPT_XML = "<domaincheckpoint><name>c1</name></domaincheckpoint>"
NODEDEV_XML = """<device>
  <parent>scsi_host11</parent>
  <capability type='scsi_host'>
    <capability type='fc_host'>
      <wwnn>2000000012341234</wwnn>
      <wwpn>1000000012341234</wwpn>
    </capability>
  </capability>
</device>"""
NWFILTER_XML = "<filter name='vrpcf1' chain='root'><rule action='accept' direction='in'><all/></rule></filter>"
BINDING_XML = """<filterbinding><owner><name>dt1</name><uuid>%s</uuid></owner>
<portdev name='vnet7'/><mac address='52:54:00:11:22:33'/><filterref filter='clean-traffic'/></filterbinding>""" % DOM_UUID
BAD_FLAGS = 1 << 30


def mask_creation(x):
    return re.sub(r"<creationTime>\d+</creationTime>", "<creationTime>*</creationTime>", x)


# ---------------------------------------------------------------- library
section("library")
call("virGetVersion", libvirt.getVersion, show=lambda v: "ok" if v > 0 else fmt(v))
call("virGetVersion", libvirt.getVersion, "Test", label="type", show=lambda v: "ok" if v[0] > 0 and v[1] > 0 else fmt(v))
call("virInitialize", libvirt.virInitialize)
call("virResetLastError", libvirt.virResetLastError)
call("virGetLastError", libvirt.virGetLastError)

# ---------------------------------------------------------------- open
section("open")
conn = call("virConnectOpen", libvirt.open, TEST_URI, show=lambda c: "connected" if c else fmt(c))
ro = call("virConnectOpenReadOnly", libvirt.openReadOnly, TEST_RO_URI, show=lambda c: "connected")
auth = [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], lambda creds, data: 0, None]
c2 = call("virConnectOpenAuth", libvirt.openAuth, TEST_URI, auth, 0, show=lambda c: "connected")
call("virConnectOpen", libvirt.open, "test+unix:///default?socket=" + D + "/nonexistent-sock", label="no socket",
     client=True, show=lambda c: "connected")
call("virConnectOpenReadOnly", libvirt.openReadOnly, "bogus+scheme://x/y", label="bad uri", client=True,
     show=lambda c: "connected")
# a read-write open of the read-only socket: the daemon refuses writes
rosock = call("virConnectOpen", libvirt.open, TEST_RO_URI, label="ro socket", show=lambda c: "connected")
if ok(c2):
    call("virConnectClose", c2.close)
if conn is FAIL:
    print("no connection, stop")
    sys.exit(0)

# ---------------------------------------------------------------- connect
section("connect")
call("virConnectGetType", conn.getType)
call("virConnectGetVersion", conn.getVersion)
call("virConnectGetLibVersion", conn.getLibVersion, show=lambda v: "ok" if v > 0 else fmt(v))
call("virConnectGetHostname", conn.getHostname, show=lambda v: "ok" if v else fmt(v))
call("virConnectGetURI", conn.getURI)
call("virConnectGetSysinfo", conn.getSysinfo, 0)
call("virConnectGetMaxVcpus", conn.getMaxVcpus, None)
call("virConnectGetMaxVcpus", conn.getMaxVcpus, "kvm", label="kvm")
call("virConnectGetCapabilities", conn.getCapabilities, show=lambda v: "xml[%d]" % len(v))
call("virConnectIsAlive", conn.isAlive)
call("virConnectIsEncrypted", conn.isEncrypted)
call("virConnectIsSecure", conn.isSecure)
# (libvirt's remote driver refuses it in the client: no event loop here)
call("virConnectSetKeepAlive", conn.setKeepAlive, 5, 3, client=True)
call("virConnectGetDomainCapabilities", conn.getDomainCapabilities, None, None, None, None, 0)
call("virConnectGetCPUModelNames", conn.getCPUModelNames, "x86_64", 0, show=lambda v: "list" if isinstance(v, list) else fmt(v))
call("virConnectGetStoragePoolCapabilities", conn.getStoragePoolCapabilities, 0)
call("virConnectDomainXMLFromNative", conn.domainXMLFromNative, "qemu-argv", "qemu -m 64", 0)
call("virConnectDomainXMLToNative", conn.domainXMLToNative, "qemu-argv", DOM_XML, 0)
call("virConnectFindStoragePoolSources", conn.findStoragePoolSources, "logical", None, 0)
call("virConnectSetIdentity", conn.setIdentity, {"user-name": "nobody"}, 0)
call("virConnectRegisterCloseCallback", conn.registerCloseCallback, lambda c, r, o: None, None)
call("virConnectUnregisterCloseCallback", conn.unregisterCloseCallback)

# ---------------------------------------------------------------- node
section("node")
call("virNodeGetInfo", conn.getInfo)
call("virNodeGetCPUStats", conn.getCPUStats, -1, 0)
call("virNodeGetCPUStats", conn.getCPUStats, 0, BAD_FLAGS, label="bad flags")
call("virNodeGetMemoryStats", conn.getMemoryStats, -1, 0)
call("virNodeGetCellsFreeMemory", conn.getCellsFreeMemory, 0, 2)
call("virNodeGetFreeMemory", conn.getFreeMemory)
call("virNodeGetSecurityModel", conn.getSecurityModel)
call("virNodeGetMemoryParameters", conn.getMemoryParameters, 0)
call("virNodeSetMemoryParameters", conn.setMemoryParameters, {"shm_pages_to_scan": 100}, 0)
call("virNodeGetCPUMap", conn.getCPUMap, 0)
call("virNodeGetFreePages", conn.getFreePages, [4, 2048], 0, 1, 0)
call("virNodeAllocPages", conn.allocPages, {4: 1}, 0, 1, 0)
call("virNodeSuspendForDuration", conn.suspendForDuration, 0, 60, 0)
call("virNodeGetSEVInfo", conn.getSEVInfo, 0)
call("virConnectBaselineCPU", conn.baselineCPU, ["<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"], 0)
call("virConnectCompareCPU", conn.compareCPU, "<cpu><arch>x86_64</arch><model>qemu64</model></cpu>", 0)
call("virConnectBaselineHypervisorCPU", conn.baselineHypervisorCPU, None, "x86_64", None, None,
     ["<cpu><arch>x86_64</arch><model>qemu64</model></cpu>"], 0)
call("virConnectCompareHypervisorCPU", conn.compareHypervisorCPU, None, "x86_64", None, None,
     "<cpu><arch>x86_64</arch><model>qemu64</model></cpu>", 0)

# ---------------------------------------------------------------- domain lists
section("domain-lists")
call("virConnectNumOfDomains", conn.numOfDomains)
call("virConnectListDomains", conn.listDomainsID)
call("virConnectNumOfDefinedDomains", conn.numOfDefinedDomains)
call("virConnectListDefinedDomains", conn.listDefinedDomains)
call("virConnectListAllDomains", conn.listAllDomains, 0)
call("virConnectListAllDomains", conn.listAllDomains, libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE, label="active")
call("virConnectListAllDomains", conn.listAllDomains, BAD_FLAGS, label="bad flags")

# ---------------------------------------------------------------- domain lookups
section("domain-lookup")
dom = call("virDomainLookupByName", conn.lookupByName, "test")
call("virDomainLookupByID", conn.lookupByID, 1)
call("virDomainLookupByUUIDString", conn.lookupByUUIDString, "6695eb01-f6a4-8304-79aa-97f2502e193f")
call("virDomainLookupByUUID", conn.lookupByUUID, bytes.fromhex("6695eb01f6a4830479aa97f2502e193f"))
call("virDomainLookupByName", conn.lookupByName, "nope", label="missing")
call("virDomainLookupByID", conn.lookupByID, 4242, label="missing")
call("virDomainLookupByUUIDString", conn.lookupByUUIDString, "6695eb01-f6a4-8304-79aa-97f2502e1930", label="missing")
call("virDomainLookupByUUIDString", conn.lookupByUUIDString, "not-a-uuid", label="invalid", client=True)
call("virDomainLookupByName", conn.lookupByName, None, label="NULL name", client=True)
call("virDomainLookupByID", conn.lookupByID, -1, label="negative id", client=True)

# ---------------------------------------------------------------- domain getters
section("domain-get")
if ok(dom):
    call("virDomainGetName", dom.name)
    call("virDomainGetID", dom.ID)
    call("virDomainGetUUID", dom.UUID)
    call("virDomainGetUUIDString", dom.UUIDString)
    call("virDomainGetOSType", dom.OSType)
    call("virDomainGetInfo", dom.info, show=mask_index(4))
    call("virDomainGetState", dom.state, 0)
    call("virDomainGetControlInfo", dom.controlInfo, 0, show=mask_index(2))
    call("virDomainGetMaxMemory", dom.maxMemory)
    call("virDomainGetMaxVcpus", dom.maxVcpus)
    call("virDomainGetVcpusFlags", dom.vcpusFlags, 0)
    call("virDomainGetVcpus", dom.vcpus, show=lambda v: fmt([[(a, b, MASK, d) for (a, b, c, d) in v[0]], v[1]]))
    call("virDomainGetVcpuPinInfo", dom.vcpuPinInfo, 0)
    call("virDomainGetEmulatorPinInfo", dom.emulatorPinInfo, 0)
    call("virDomainGetXMLDesc", dom.XMLDesc, 0)
    call("virDomainGetXMLDesc", dom.XMLDesc, BAD_FLAGS, label="bad flags")
    call("virDomainIsActive", dom.isActive)
    call("virDomainIsPersistent", dom.isPersistent)
    call("virDomainIsUpdated", dom.isUpdated)
    call("virDomainGetAutostart", dom.autostart)
    call("virDomainGetSchedulerType", dom.schedulerType)
    call("virDomainGetSchedulerParameters", dom.schedulerParameters)
    call("virDomainGetSchedulerParametersFlags", dom.schedulerParametersFlags, 0)
    call("virDomainGetBlkioParameters", dom.blkioParameters, 0)
    call("virDomainGetMemoryParameters", dom.memoryParameters, 0)
    call("virDomainGetNumaParameters", dom.numaParameters, 0)
    call("virDomainGetInterfaceParameters", dom.interfaceParameters, "vnet0", 0)
    # the test driver's block and interface counters follow the clock
    call("virDomainBlockStats", dom.blockStats, "vda", show=lambda v: fmt(len(v)))
    call("virDomainBlockStatsFlags", dom.blockStatsFlags, "vda", 0)
    call("virDomainInterfaceStats", dom.interfaceStats, "testnet0", show=lambda v: fmt(len(v)))
    call("virDomainMemoryStats", dom.memoryStats)
    call("virDomainGetBlockInfo", dom.blockInfo, "vda", 0)
    call("virDomainGetDiskErrors", dom.diskErrors, 0)
    call("virDomainGetBlockIoTune", dom.blockIoTune, "vda", 0)
    call("virDomainGetJobInfo", dom.jobInfo)
    call("virDomainGetJobStats", dom.jobStats, 0)
    call("virDomainGetSecurityLabel", dom.securityLabel)
    # (fails with the generic error of no known cause, worded by each library)
    call("virDomainGetSecurityLabelList", dom.securityLabelList, client=True)
    call("virDomainGetHostname", dom.hostname, 0)
    call("virDomainGetTime", dom.getTime, 0, show=mask_keys("seconds", "nseconds"))
    call("virDomainGetMetadata", dom.metadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0)
    call("virDomainGetFSInfo", dom.fsInfo, 0)
    call("virDomainInterfaceAddresses", dom.interfaceAddresses, 0, 0)
    call("virDomainGetIOThreadInfo", dom.ioThreadInfo, 0)
    call("virDomainGetPerfEvents", dom.perfEvents, 0)
    call("virDomainGetLaunchSecurityInfo", dom.launchSecurityInfo, 0)
    call("virDomainGetGuestInfo", dom.guestInfo, 0, 0)
    call("virDomainGetGuestVcpus", dom.guestVcpus, 0)
    call("virDomainAuthorizedSSHKeysGet", dom.authorizedSSHKeysGet, "root", 0)
    call("virDomainGetMessages", dom.messages, 0)
    call("virDomainGetCPUStats", dom.getCPUStats, True, 0, show=mask_keys(".*time"))
    call("virDomainHasManagedSaveImage", dom.hasManagedSaveImage, 0)
    call("virDomainMigrateGetMaxSpeed", dom.migrateGetMaxSpeed, 0)
    call("virDomainMigrateGetMaxDowntime", dom.migrateGetMaxDowntime, 0)
    call("virDomainMigrateGetCompressionCache", dom.migrateGetCompressionCache, 0)
    call("virDomainGetBlockJobInfo", dom.blockJobInfo, "vda", 0)
    call("virDomainBlockPeek", dom.blockPeek, "vda", 0, 16, 0)
    call("virDomainMemoryPeek", dom.memoryPeek, 0, 16, libvirt.VIR_MEMORY_VIRTUAL)
    call("virDomainGetMaxMemory", dom.maxMemory, label="again")

# ---------------------------------------------------------------- domain setters
section("domain-set")
if ok(dom):
    call("virDomainSetMemory", dom.setMemory, 4096)
    call("virDomainSetMemoryFlags", dom.setMemoryFlags, 4096, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    call("virDomainSetMemoryFlags", dom.setMemoryFlags, 4096, BAD_FLAGS, label="bad flags")
    call("virDomainSetMaxMemory", dom.setMaxMemory, 8388608)
    call("virDomainSetMemoryStatsPeriod", dom.setMemoryStatsPeriod, 2, 0)
    call("virDomainSetVcpus", dom.setVcpus, 2)
    call("virDomainSetVcpus", dom.setVcpus, 0, label="zero", client=True)
    call("virDomainSetVcpusFlags", dom.setVcpusFlags, 1, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    call("virDomainSetVcpu", dom.setVcpu, "1", True, 0)
    call("virDomainPinVcpu", dom.pinVcpu, 0, (True, False))
    call("virDomainPinVcpuFlags", dom.pinVcpuFlags, 0, (True, True), 0)
    call("virDomainPinEmulator", dom.pinEmulator, (True,), 0)
    call("virDomainPinIOThread", dom.pinIOThread, 1, (True,), 0)
    call("virDomainAddIOThread", dom.addIOThread, 2, 0)
    call("virDomainDelIOThread", dom.delIOThread, 2, 0)
    call("virDomainSetIOThreadParams", dom.setIOThreadParams, 1, {"poll_max_ns": 10}, 0)
    call("virDomainSetSchedulerParameters", dom.setSchedulerParameters, {"weight": 100})
    call("virDomainSetSchedulerParametersFlags", dom.setSchedulerParametersFlags, {"weight": 50}, 0)
    call("virDomainSetSchedulerParametersFlags", dom.setSchedulerParametersFlags, {"nosuchparam": 1}, 0,
         label="unknown param", client=True)
    call("virDomainSetBlkioParameters", dom.setBlkioParameters, {"weight": 500}, 0)
    call("virDomainSetMemoryParameters", dom.setMemoryParameters, {"hard_limit": 1048576}, 0)
    call("virDomainSetNumaParameters", dom.setNumaParameters, {"numa_nodeset": "0"}, 0)
    call("virDomainSetInterfaceParameters", dom.setInterfaceParameters, "vnet0", {"inbound.average": 10}, 0)
    call("virDomainSetBlockIoTune", dom.setBlockIoTune, "vda", {"total_bytes_sec": 1000}, 0)
    call("virDomainSetPerfEvents", dom.setPerfEvents, {"cmt": True}, 0)
    call("virDomainSetMetadata", dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, "hello", None, None, 0)
    call("virDomainGetMetadata", dom.metadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0, label="after set")
    call("virDomainSetMetadata", dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<x/>", None, None, 0,
         label="no uri", client=True)
    call("virDomainSetTime", dom.setTime, {"seconds": 1000, "nseconds": 0}, 0)
    call("virDomainSetUserPassword", dom.setUserPassword, "root", "pw", 0)
    call("virDomainSetGuestVcpus", dom.setGuestVcpus, "0", True, 0)
    call("virDomainSetLifecycleAction", dom.setLifecycleAction, libvirt.VIR_DOMAIN_LIFECYCLE_POWEROFF,
         libvirt.VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY, 0)
    call("virDomainSetBlockThreshold", dom.setBlockThreshold, "vda", 1024, 0)
    call("virDomainSetLaunchSecurityState", dom.setLaunchSecurityState, {}, 0)
    call("virDomainAuthorizedSSHKeysSet", dom.authorizedSSHKeysSet, "root", ["ssh-ed25519 AAAA x"], 0)
    call("virDomainAgentSetResponseTimeout", dom.agentSetResponseTimeout, 5, 0)
    call("virDomainMigrateSetMaxSpeed", dom.migrateSetMaxSpeed, 100, 0)
    call("virDomainMigrateSetMaxDowntime", dom.migrateSetMaxDowntime, 100, 0)
    call("virDomainMigrateSetCompressionCache", dom.migrateSetCompressionCache, 1 << 20, 0)
    call("virDomainMigrateStartPostCopy", dom.migrateStartPostCopy, 0)
    call("virDomainSendKey", dom.sendKey, libvirt.VIR_KEYCODE_SET_LINUX, 0, [30], 1, 0)
    call("virDomainSendProcessSignal", dom.sendProcessSignal, 1, 15, 0)
    call("virDomainInjectNMI", dom.injectNMI, 0)
    call("virDomainFSTrim", dom.fSTrim, None, 0, 0)
    call("virDomainFSFreeze", dom.fsFreeze, None, 0)
    call("virDomainFSThaw", dom.fsThaw, None, 0)
    call("virDomainBlockResize", dom.blockResize, "vda", 1024, 0)
    call("virDomainBlockJobAbort", dom.blockJobAbort, "vda", 0)
    call("virDomainBlockJobSetSpeed", dom.blockJobSetSpeed, "vda", 10, 0)
    call("virDomainBlockPull", dom.blockPull, "vda", 0, 0)
    call("virDomainBlockRebase", dom.blockRebase, "vda", None, 0, 0)
    call("virDomainBlockCommit", dom.blockCommit, "vda", None, None, 0, 0)
    call("virDomainBlockCopy", dom.blockCopy, "vda", "<disk type='file'><source file='/tmp/x'/></disk>", None, 0)
    call("virDomainAbortJob", dom.abortJob)
    call("virDomainAbortJobFlags", dom.abortJobFlags, 0)
    call("virDomainStartDirtyRateCalc", dom.startDirtyRateCalc, 1, 0)
    call("virDomainBackupGetXMLDesc", dom.backupGetXMLDesc, 0)
    call("virDomainBackupBegin", dom.backupBegin, "<domainbackup/>", None, 0)
    call("virDomainPMWakeup", dom.pMWakeup, 0)
    call("virDomainPMSuspendForDuration", dom.pMSuspendForDuration, 0, 0, 0)
    call("virDomainCoreDump", dom.coreDump, D + "/user/nonexistent/core", 0)
    call("virDomainCoreDumpWithFormat", dom.coreDumpWithFormat, D + "/user/nonexistent/core", 0, 0)
    call("virDomainGetInfo", dom.info, label="after set", show=mask_index(4))

# ---------------------------------------------------------------- domain lifecycle
section("domain-lifecycle")
d1 = call("virDomainDefineXML", conn.defineXML, DOM_XML)
call("virDomainDefineXMLFlags", conn.defineXMLFlags, DOM_XML, 0)
call("virDomainDefineXML", conn.defineXML, "<domain>", label="bad xml")
call("virDomainDefineXMLFlags", conn.defineXMLFlags, DOM_XML, BAD_FLAGS, label="bad flags")
if ok(d1):
    call("virDomainCreate", d1.create)
    call("virDomainGetID", d1.ID)
    call("virDomainCreate", d1.create, label="again")
    call("virDomainSuspend", d1.suspend)
    call("virDomainGetState", d1.state, 0, label="suspended")
    call("virDomainResume", d1.resume)
    call("virDomainReboot", d1.reboot, 0)
    call("virDomainReset", d1.reset, 0)
    call("virDomainAttachDevice", d1.attachDevice,
         "<disk type='file' device='disk'><source file='/guest/x2'/><target dev='vdb' bus='virtio'/></disk>")
    call("virDomainAttachDeviceFlags", d1.attachDeviceFlags,
         "<disk type='file' device='disk'><source file='/guest/x3'/><target dev='vdc' bus='virtio'/></disk>", 0)
    call("virDomainUpdateDeviceFlags", d1.updateDeviceFlags,
         "<disk type='file' device='disk'><source file='/guest/x3'/><target dev='vdc' bus='virtio'/></disk>", 0)
    call("virDomainDetachDevice", d1.detachDevice,
         "<disk type='file' device='disk'><source file='/guest/x2'/><target dev='vdb' bus='virtio'/></disk>")
    call("virDomainDetachDeviceFlags", d1.detachDeviceFlags,
         "<disk type='file' device='disk'><source file='/guest/x3'/><target dev='vdc' bus='virtio'/></disk>", 0)
    call("virDomainDetachDeviceAlias", d1.detachDeviceAlias, "nosuchalias", 0)
    call("virDomainSetAutostart", d1.setAutostart, 1)
    call("virDomainGetAutostart", d1.autostart, label="after set")
    call("virDomainShutdown", d1.shutdown)
    call("virDomainCreateWithFlags", d1.createWithFlags, libvirt.VIR_DOMAIN_START_PAUSED)
    call("virDomainShutdownFlags", d1.shutdownFlags, 0)
    call("virDomainCreateWithFlags", d1.createWithFlags, 0, label="again")
    call("virDomainDestroy", d1.destroy)
    call("virDomainCreate", d1.create, label="third")
    call("virDomainDestroyFlags", d1.destroyFlags, 0)
    call("virDomainRename", d1.rename, "dt1r", 0)
    call("virDomainGetName", d1.name, label="after rename")
    call("virDomainRename", d1.rename, "dt1", 0, label="back")
    call("virDomainUndefineFlags", d1.undefineFlags, BAD_FLAGS, label="bad flags")
    call("virDomainCreate", d1.create, label="for save")
    save = D + "/user/pool/dt1.save"
    call("virDomainSave", d1.save, save)
    call("virDomainSaveImageGetXMLDesc", conn.saveImageGetXMLDesc, save, 0, show=lambda v: "xml[%d]" % len(v))
    call("virDomainSaveImageDefineXML", conn.saveImageDefineXML, save, DOM_XML, 0)
    call("virDomainRestore", conn.restore, save)
    call("virDomainSaveFlags", d1.saveFlags, save, None, 0)
    call("virDomainRestoreFlags", conn.restoreFlags, save, None, 0)
    call("virDomainSaveParams", d1.saveParams, {"file": save}, 0)
    call("virDomainRestoreParams", conn.restoreParams, {"file": save}, 0)
    call("virDomainManagedSave", d1.managedSave, 0)
    call("virDomainHasManagedSaveImage", d1.hasManagedSaveImage, 0, label="after save")
    call("virDomainManagedSaveGetXMLDesc", d1.managedSaveGetXMLDesc, 0, show=lambda v: "xml[%d]" % len(v))
    call("virDomainManagedSaveDefineXML", d1.managedSaveDefineXML, DOM_XML, 0)
    call("virDomainManagedSaveRemove", d1.managedSaveRemove, 0)
    call("virDomainUndefine", d1.undefine)
    call("virDomainLookupByName", conn.lookupByName, "dt1", label="after undefine")
t2 = call("virDomainCreateXML", conn.createXML, TRANSIENT_XML, 0)
call("virDomainCreateXML", conn.createXML, TRANSIENT_XML, 0, label="duplicate")
if ok(t2):
    call("virDomainIsPersistent", t2.isPersistent)
    call("virDomainDestroy", t2.destroy, label="transient")
    call("virDomainLookupByName", conn.lookupByName, "dt2", label="after destroy")

# ---------------------------------------------------------------- domain stats
section("domain-stats")
stat_mask = mask_keys(r"cpu\..*", r".*time.*")


def show_stats(v):
    return stat_mask([(d.name(), s) for d, s in v])


call("virConnectGetAllDomainStats", conn.getAllDomainStats, 0, 0, show=show_stats)
call("virConnectGetAllDomainStats", conn.getAllDomainStats, libvirt.VIR_DOMAIN_STATS_STATE, 0, label="state",
     show=show_stats)
if ok(dom):
    call("virDomainListGetStats", conn.domainListGetStats, [dom], libvirt.VIR_DOMAIN_STATS_STATE, 0, show=show_stats)

# ---------------------------------------------------------------- snapshots
section("snapshots")
if ok(dom):
    s1 = call("virDomainSnapshotCreateXML", dom.snapshotCreateXML, SNAP_XML, 0)
    s2 = call("virDomainSnapshotCreateXML", dom.snapshotCreateXML, SNAP2_XML, 0, label="s2")
    call("virDomainSnapshotCreateXML", dom.snapshotCreateXML, "<domainsnapshot>", 0, label="bad xml")
    call("virDomainSnapshotNum", dom.snapshotNum, 0)
    call("virDomainSnapshotListNames", dom.snapshotListNames, 0)
    call("virDomainListAllSnapshots", dom.listAllSnapshots, 0)
    call("virDomainHasCurrentSnapshot", dom.hasCurrentSnapshot, 0)
    call("virDomainSnapshotCurrent", dom.snapshotCurrent, 0)
    call("virDomainSnapshotLookupByName", dom.snapshotLookupByName, "nope", 0, label="missing")
    s = call("virDomainSnapshotLookupByName", dom.snapshotLookupByName, "s1", 0)
    if ok(s):
        call("virDomainSnapshotGetName", s.getName)
        call("virDomainSnapshotGetXMLDesc", s.getXMLDesc, 0, show=mask_creation)
        call("virDomainSnapshotNumChildren", s.numChildren, 0)
        call("virDomainSnapshotListChildrenNames", s.listChildrenNames, 0)
        call("virDomainSnapshotListAllChildren", s.listAllChildren, 0)
        call("virDomainSnapshotIsCurrent", s.isCurrent, 0)
        call("virDomainSnapshotHasMetadata", s.hasMetadata, 0)
        call("virDomainSnapshotGetParent", s.getParent, 0, label="root")
    if ok(s2):
        call("virDomainSnapshotGetParent", s2.getParent, 0)
    if ok(s):
        call("virDomainRevertToSnapshot", dom.revertToSnapshot, s, 0)
        call("virDomainSnapshotDelete", s.delete, libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN)
    call("virDomainSnapshotNum", dom.snapshotNum, 0, label="after delete")

# ---------------------------------------------------------------- checkpoints
section("checkpoints")
if ok(dom):
    c1 = call("virDomainCheckpointCreateXML", dom.checkpointCreateXML, CKPT_XML, 0)
    call("virDomainListAllCheckpoints", dom.listAllCheckpoints, 0)
    call("virDomainCheckpointLookupByName", dom.checkpointLookupByName, "nope", 0, label="missing")
    c = call("virDomainCheckpointLookupByName", dom.checkpointLookupByName, "c1", 0)
    if ok(c):
        call("virDomainCheckpointGetName", c.getName)
        call("virDomainCheckpointGetXMLDesc", c.getXMLDesc, 0, show=mask_creation)
        call("virDomainCheckpointGetParent", c.getParent, 0)
        call("virDomainCheckpointListAllChildren", c.listAllChildren, 0)
        call("virDomainCheckpointDelete", c.delete, 0)

# ---------------------------------------------------------------- read-only
section("read-only")
if ok(ro):
    rd = call("virDomainLookupByName", ro.lookupByName, "test", label="ro")
    call("virConnectListAllDomains", ro.listAllDomains, 0, label="ro")
    call("virDomainDefineXML", ro.defineXML, DOM_XML, label="ro", client=True)
    call("virNetworkDefineXML", ro.networkDefineXML, NET_XML, label="ro", client=True)
    if ok(rd):
        call("virDomainSuspend", rd.suspend, label="ro", client=True)
        call("virDomainSetMemory", rd.setMemory, 1024, label="ro", client=True)
        call("virDomainGetXMLDesc", rd.XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE, label="ro secure", client=True)
if ok(rosock):
    # the daemon's own refusals: a read-write open of the read-only socket
    rd = call("virDomainLookupByName", rosock.lookupByName, "test", label="ro socket")
    call("virNetworkDefineXML", rosock.networkDefineXML, NET_XML, label="ro socket")
    if ok(rd):
        call("virDomainSuspend", rd.suspend, label="ro socket")
        call("virDomainSetMaxMemory", rd.setMaxMemory, 1024, label="ro socket")
        call("virDomainGetXMLDesc", rd.XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE, label="ro socket")

# ---------------------------------------------------------------- networks
section("networks")
call("virConnectNumOfNetworks", conn.numOfNetworks)
call("virConnectListNetworks", conn.listNetworks)
call("virConnectNumOfDefinedNetworks", conn.numOfDefinedNetworks)
call("virConnectListDefinedNetworks", conn.listDefinedNetworks)
call("virConnectListAllNetworks", conn.listAllNetworks, 0)
call("virNetworkLookupByName", conn.networkLookupByName, "nope", label="missing")
call("virNetworkLookupByUUIDString", conn.networkLookupByUUIDString, "zz", label="invalid", client=True)
n = call("virNetworkDefineXML", conn.networkDefineXML, NET_XML)
call("virNetworkDefineXMLFlags", conn.networkDefineXMLFlags, NET_XML, 0)
if ok(n):
    call("virNetworkGetName", n.name)
    call("virNetworkGetUUID", n.UUID)
    call("virNetworkGetUUIDString", n.UUIDString)
    call("virNetworkLookupByUUIDString", conn.networkLookupByUUIDString, NET_UUID)
    call("virNetworkLookupByUUID", conn.networkLookupByUUID, bytes.fromhex(NET_UUID.replace("-", "")))
    call("virNetworkIsActive", n.isActive)
    call("virNetworkIsPersistent", n.isPersistent)
    call("virNetworkCreate", n.create)
    call("virNetworkGetXMLDesc", n.XMLDesc, 0)
    call("virNetworkGetBridgeName", n.bridgeName)
    call("virNetworkGetAutostart", n.autostart)
    call("virNetworkSetAutostart", n.setAutostart, 1)
    call("virNetworkUpdate", n.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
         libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1,
         "<host mac='52:54:00:00:00:01' name='h1' ip='192.168.217.9'/>", 0)
    call("virNetworkGetDHCPLeases", n.DHCPLeases, None, 0)
    call("virNetworkListAllPorts", n.listAllPorts, 0)
    call("virNetworkPortLookupByUUIDString", n.portLookupByUUIDString, "1a4a6e3e-6f56-4c27-9a24-6e1d0e1f1a01")
    call("virNetworkPortLookupByUUID", n.portLookupByUUID, bytes(16))
    call("virNetworkPortCreateXML", n.portCreateXML,
         "<networkport><owner><name>dt1</name><uuid>%s</uuid></owner><mac address='52:54:00:11:22:33'/></networkport>"
         % DOM_UUID, 0)
    call("virNetworkDestroy", n.destroy)
    call("virNetworkUndefine", n.undefine)
    call("virNetworkGetXMLDesc", n.XMLDesc, 0, label="after undefine")
tn = call("virNetworkCreateXML", conn.networkCreateXML, NET_XML.replace("nt1", "nt2").replace(NET_UUID[:-2], NET_UUID[:-2] + "9"))
call("virNetworkCreateXMLFlags", conn.networkCreateXMLFlags, NET_XML, BAD_FLAGS, label="bad flags")
if ok(tn):
    call("virNetworkDestroy", tn.destroy, label="transient")

# ---------------------------------------------------------------- interfaces
section("interfaces")
call("virConnectNumOfInterfaces", conn.numOfInterfaces)
call("virConnectListInterfaces", conn.listInterfaces)
call("virConnectNumOfDefinedInterfaces", conn.numOfDefinedInterfaces)
call("virConnectListDefinedInterfaces", conn.listDefinedInterfaces)
call("virConnectListAllInterfaces", conn.listAllInterfaces, 0)
call("virInterfaceLookupByName", conn.interfaceLookupByName, "nope", label="missing")
call("virInterfaceChangeBegin", conn.changeBegin, 0)
i = call("virInterfaceDefineXML", conn.interfaceDefineXML, IFACE_XML, 0)
if ok(i):
    call("virInterfaceGetName", i.name)
    call("virInterfaceGetMACString", i.MACString)
    call("virInterfaceLookupByMACString", conn.interfaceLookupByMACString, "aa:bb:cc:dd:ee:07")
    call("virInterfaceGetXMLDesc", i.XMLDesc, 0)
    call("virInterfaceIsActive", i.isActive)
    call("virInterfaceCreate", i.create, 0)
    call("virInterfaceDestroy", i.destroy, 0)
    call("virInterfaceUndefine", i.undefine)
call("virInterfaceChangeCommit", conn.changeCommit, 0)
call("virInterfaceChangeRollback", conn.changeRollback, 0)
e0 = call("virInterfaceLookupByName", conn.interfaceLookupByName, "eth1")
if ok(e0):
    call("virInterfaceGetXMLDesc", e0.XMLDesc, 0, label="eth1")

# ---------------------------------------------------------------- node devices
section("node-devices")
call("virNodeNumOfDevices", conn.numOfDevices, None, 0)
call("virNodeListDevices", conn.listDevices, None, 0)
call("virNodeNumOfDevices", conn.numOfDevices, "scsi_host", 0, label="scsi_host")
call("virConnectListAllNodeDevices", conn.listAllDevices, 0)
call("virNodeDeviceLookupByName", conn.nodeDeviceLookupByName, "nope", label="missing")
nd = call("virNodeDeviceLookupByName", conn.nodeDeviceLookupByName, "scsi_host11")
if ok(nd):
    call("virNodeDeviceGetName", nd.name)
    call("virNodeDeviceGetParent", nd.parent)
    call("virNodeDeviceNumOfCaps", nd.numOfCaps)
    call("virNodeDeviceListCaps", nd.listCaps)
    call("virNodeDeviceGetXMLDesc", nd.XMLDesc, 0)
    call("virNodeDeviceIsActive", nd.isActive)
    call("virNodeDeviceIsPersistent", nd.isPersistent)
    call("virNodeDeviceGetAutostart", nd.autostart)
    call("virNodeDeviceSetAutostart", nd.setAutostart, 1)
    call("virNodeDeviceDettach", nd.dettach)
    call("virNodeDeviceDetachFlags", nd.detachFlags, None, 0)
    call("virNodeDeviceReAttach", nd.reAttach)
    call("virNodeDeviceReset", nd.reset)
    call("virNodeDeviceCreate", nd.create, 0)
call("virNodeDeviceLookupSCSIHostByWWN", conn.nodeDeviceLookupSCSIHostByWWN, "2000000012341234", "1000000012341234", 0)
v = call("virNodeDeviceCreateXML", conn.nodeDeviceCreateXML, NODEDEV_XML, 0)
call("virNodeDeviceDefineXML", conn.nodeDeviceDefineXML, NODEDEV_XML, 0)
if ok(v):
    call("virNodeDeviceGetParent", v.parent, label="created")
    call("virNodeDeviceDestroy", v.destroy)
    call("virNodeDeviceUndefine", v.undefine, 0)

# ---------------------------------------------------------------- nwfilters
section("nwfilters")
call("virConnectNumOfNWFilters", conn.numOfNWFilters)
call("virConnectListNWFilters", conn.listNWFilters)
call("virConnectListAllNWFilters", conn.listAllNWFilters, 0)
call("virNWFilterLookupByName", conn.nwfilterLookupByName, "clean-traffic")
call("virNWFilterLookupByUUIDString", conn.nwfilterLookupByUUIDString, NET_UUID)
call("virNWFilterLookupByUUID", conn.nwfilterLookupByUUID, bytes(16))
call("virNWFilterDefineXML", conn.nwfilterDefineXML, NWFILTER_XML)
call("virNWFilterDefineXMLFlags", conn.nwfilterDefineXMLFlags, NWFILTER_XML, 0)
call("virConnectListAllNWFilterBindings", conn.listAllNWFilterBindings, 0)
call("virNWFilterBindingLookupByPortDev", conn.nwfilterBindingLookupByPortDev, "vnet7")
call("virNWFilterBindingCreateXML", conn.nwfilterBindingCreateXML, BINDING_XML, 0)

# ---------------------------------------------------------------- qemu, lxc
section("qemu-lxc")
if ok(dom):
    call("virDomainQemuMonitorCommand", libvirt_qemu.qemuMonitorCommand, dom, "info status", 0)
    call("virDomainQemuAgentCommand", libvirt_qemu.qemuAgentCommand, dom, "{}", 5, 0)
    call("virDomainQemuAttach", libvirt_qemu.qemuAttach, conn, 1, 0)
    call("virDomainLxcOpenNamespace", libvirt_lxc.lxcOpenNamespace, dom, 0)

# ---------------------------------------------------------------- storage
section("storage")
st = call("virConnectOpen", libvirt.open, STORAGE_URI, label="storage", show=lambda c: "connected")
if ok(st):
    call("virConnectGetURI", st.getURI, label="storage")
    call("virConnectNumOfStoragePools", st.numOfStoragePools)
    call("virConnectListStoragePools", st.listStoragePools)
    call("virConnectNumOfDefinedStoragePools", st.numOfDefinedStoragePools)
    call("virConnectListDefinedStoragePools", st.listDefinedStoragePools)
    call("virConnectListAllStoragePools", st.listAllStoragePools, 0)
    call("virStoragePoolLookupByName", st.storagePoolLookupByName, "nope", label="missing")
    call("virStoragePoolDefineXML", st.storagePoolDefineXML, "<pool type='dir'>", 0, label="bad xml")
    p = call("virStoragePoolDefineXML", st.storagePoolDefineXML, POOL_XML, 0)
    if ok(p):
        call("virStoragePoolGetName", p.name)
        call("virStoragePoolGetUUID", p.UUID)
        call("virStoragePoolGetUUIDString", p.UUIDString)
        call("virStoragePoolLookupByUUIDString", st.storagePoolLookupByUUIDString, POOL_UUID)
        call("virStoragePoolLookupByUUID", st.storagePoolLookupByUUID, bytes.fromhex(POOL_UUID.replace("-", "")))
        call("virStoragePoolIsActive", p.isActive)
        call("virStoragePoolIsPersistent", p.isPersistent)
        call("virStoragePoolBuild", p.build, 0)
        call("virStoragePoolCreate", p.create, 0)
        call("virStoragePoolLookupByTargetPath", st.storagePoolLookupByTargetPath, D + "/user/pool/pl1")
        call("virStoragePoolGetInfo", p.info, show=mask_index(2, 3))
        call("virStoragePoolGetXMLDesc", p.XMLDesc, 0,
             show=lambda v: re.sub(r"<(capacity|allocation|available|mode|owner|group)( [^>]*)?>[^<]*<", r"<\1*<", v))
        call("virStoragePoolGetAutostart", p.autostart)
        call("virStoragePoolSetAutostart", p.setAutostart, 1)
        call("virStoragePoolRefresh", p.refresh, 0)
        call("virStoragePoolNumOfVolumes", p.numOfVolumes)
        vol = call("virStorageVolCreateXML", p.createXML, VOL_XML, 0)
        call("virStorageVolCreateXML", p.createXML, VOL_XML, 0, label="duplicate")
        call("virStoragePoolListVolumes", p.listVolumes)
        call("virStoragePoolListAllVolumes", p.listAllVolumes, 0)
        call("virStorageVolLookupByName", p.storageVolLookupByName, "nope", label="missing")
        if ok(vol):
            call("virStorageVolGetName", vol.name)
            call("virStorageVolGetKey", vol.key)
            call("virStorageVolGetPath", vol.path)
            call("virStorageVolGetInfo", vol.info, show=mask_index(2))
            call("virStorageVolGetInfoFlags", vol.infoFlags, 0, show=mask_index(2))
            call("virStorageVolGetXMLDesc", vol.XMLDesc, 0,
                 show=lambda v: re.sub(r"<(allocation|physical|mode|owner|group|atime|mtime|ctime|btime)( [^>]*)?>[^<]*<",
                                       r"<\1*<", v))
            call("virStorageVolLookupByName", p.storageVolLookupByName, "v1.img")
            call("virStorageVolLookupByKey", st.storageVolLookupByKey, vol.key())
            call("virStorageVolLookupByPath", st.storageVolLookupByPath, vol.path())
            call("virStoragePoolLookupByVolume", vol.storagePoolLookupByVolume)
            call("virStorageVolResize", vol.resize, 2 << 20, 0)
            call("virStorageVolResize", vol.resize, 1, libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK, label="shrink")
            call("virStorageVolWipe", vol.wipe, 0)
            call("virStorageVolWipePattern", vol.wipePattern, libvirt.VIR_STORAGE_VOL_WIPE_ALG_ZERO, 0)
            clone = call("virStorageVolCreateXMLFrom", p.createXMLFrom, VOL_XML.replace("v1.img", "v2.img"), vol, 0)
            if ok(clone):
                call("virStorageVolDelete", clone.delete, 0)
            call("virStorageVolDelete", vol.delete, 0)
            call("virStorageVolGetInfo", vol.info, label="deleted")
        call("virStoragePoolDestroy", p.destroy)
        call("virStoragePoolDelete", p.delete, 0)
        call("virStoragePoolUndefine", p.undefine)
        call("virStoragePoolGetInfo", p.info, label="undefined")
    tp = call("virStoragePoolCreateXML", st.storagePoolCreateXML,
              POOL_XML.replace("pl1", "pl2").replace(POOL_UUID, POOL_UUID[:-1] + "9"), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    if ok(tp):
        call("virStoragePoolDestroy", tp.destroy, label="transient")
    call("virConnectClose", st.close, label="storage")

# ---------------------------------------------------------------- secrets
section("secrets")
sc = call("virConnectOpen", libvirt.open, SECRET_URI, label="secret", show=lambda c: "connected")
if ok(sc):
    call("virConnectNumOfSecrets", sc.numOfSecrets)
    call("virConnectListSecrets", sc.listSecrets)
    call("virConnectListAllSecrets", sc.listAllSecrets, 0)
    call("virSecretLookupByUUIDString", sc.secretLookupByUUIDString, SECRET_UUID, label="missing")
    call("virSecretDefineXML", sc.secretDefineXML, "<secret>", 0, label="bad xml")
    s = call("virSecretDefineXML", sc.secretDefineXML, SECRET_XML, 0)
    if ok(s):
        call("virSecretGetUUID", s.UUID)
        call("virSecretGetUUIDString", s.UUIDString)
        call("virSecretGetUsageType", s.usageType)
        call("virSecretGetUsageID", s.usageID)
        call("virSecretGetXMLDesc", s.XMLDesc, 0)
        call("virSecretLookupByUUIDString", sc.secretLookupByUUIDString, SECRET_UUID)
        call("virSecretLookupByUUID", sc.secretLookupByUUID, bytes.fromhex(SECRET_UUID.replace("-", "")))
        call("virSecretLookupByUsage", sc.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_VOLUME,
             "/var/lib/vrpc/v1.img")
        call("virSecretGetValue", s.value, 0, label="unset")
        call("virSecretSetValue", s.setValue, b"s3cr\x00t", 0)
        call("virSecretGetValue", s.value, 0)
        call("virConnectListSecrets", sc.listSecrets, label="one")
        call("virSecretUndefine", s.undefine)
        call("virSecretGetValue", s.value, 0, label="undefined")
    call("virConnectClose", sc.close, label="secret")

# ---------------------------------------------------------------- errors
section("errors")
call("virGetLastError", libvirt.virGetLastError, label="after calls", show=lambda e: fmt(e and e[:2]))
call("virConnGetLastError", conn.virConnGetLastError, show=lambda e: fmt(e and e[:2]))
call("virConnResetLastError", conn.virConnResetLastError)
call("virConnGetLastError", conn.virConnGetLastError, label="after reset", show=lambda e: fmt(e and e[:2]))
print("errors seen by the handler: %d" % len(HANDLED))

# ---------------------------------------------------------------- close
section("close")
if ok(rosock):
    call("virConnectClose", rosock.close, label="ro socket")
if ok(ro):
    call("virConnectClose", ro.close, label="ro")
call("virConnectClose", conn.close)

# ---------------------------------------------------------------- count
section("count")
virt = sorted(f for f, m in REACHED.items() if m == "libvirt")
other = sorted(f for f, m in REACHED.items() if m != "libvirt")
print("distinct libvirt.so functions reached: %d" % len(virt))
print("distinct libvirt-qemu/lxc functions reached: %d" % len(other))
for f in virt + other:
    print("  " + f)
# every name is a function of the library it belongs to
import ctypes  # noqa: E402

libs = {"libvirt": ctypes.CDLL("libvirt.so.0"), "libvirt_qemu": ctypes.CDLL("libvirt-qemu.so.0"),
        "libvirt_lxc": ctypes.CDLL("libvirt-lxc.so.0")}
for f, m in sorted(REACHED.items()):
    if not hasattr(libs.get(m, libs["libvirt"]), f):
        MAPPING_ERRORS.append("%s: not a function of %s" % (f, m))
if MAPPING_ERRORS:
    for m in MAPPING_ERRORS:
        print("mapping error: " + m, file=sys.stderr)
    sys.exit(3)
# the libvirt.so.0 this process loaded (run-diff.py checks it is the one meant)
maps = os.environ.get("VRPC_DIFF_MAPS")
if maps:
    with open("/proc/self/maps") as f, open(maps, "w") as out:
        out.write("".join(sorted({ln.split()[-1] + "\n" for ln in f if "/libvirt" in ln and ".so" in ln})))
