#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# The calls of compat/lists.c and compat/domain-extra.c through unmodified
# python3-libvirt, against the private daemons of scripts/test-daemon.sh
# (directory in argv[1]). Prints a transcript; test-compat-lists.sh runs it
# on the system's libvirt.so.0 and on ours and requires the same lines.
# Errors show code and domain; the message only when the daemon wrote it
# (client-side wording is our own), with UUIDs masked.
import re
import socket
import sys

import libvirt

d = sys.argv[1]
libvirt.registerErrorHandler(lambda *a: None, None)
CLIENT_SIDE = {libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_ERR_OPERATION_DENIED}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def t(name, f):
    try:
        out = f()
    except libvirt.libvirtError as e:
        msg = "" if e.get_error_code() in CLIENT_SIDE else e.get_error_message()
        print(name, "error", e.get_error_code(), e.get_error_domain(), UUID.sub("UUID", msg or ""))
        return
    print(name, "->", out)


sock = "%s/sys/run/libvirt-sock" % d
c = libvirt.open("test+unix:///default?socket=" + sock)
ro = libvirt.openReadOnly("test+unix:///default?socket=" + sock + "-ro")
s = libvirt.open("secret:///session?socket=%s/user/run/libvirt-sock" % d)
dom = [x for x in c.listAllDomains() if x.name() == "test"][0]
rdom = [x for x in ro.listAllDomains() if x.name() == "test"][0]
net = c.listAllNetworks()[0]

t("domains", lambda: sorted(x.name() for x in c.listAllDomains()))
t("domains active", lambda: sorted(x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)))
t("domains inactive", lambda: sorted(x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)))
t("networks", lambda: [x.name() for x in c.listAllNetworks()])
t("interfaces", lambda: [(x.name(), x.MACString()) for x in c.listAllInterfaces()])
t("pools", lambda: [x.name() for x in c.listAllStoragePools()])
t("volumes", lambda: [v.name() for p in c.listAllStoragePools() for v in p.listAllVolumes()])
t("node devices", lambda: sorted((x.name(), x.parent()) for x in c.listAllDevices()))
t("secrets (test driver)", lambda: c.listAllSecrets())
t("nwfilters", lambda: c.listAllNWFilters())
t("nwfilter bindings", lambda: c.listAllNWFilterBindings())
t("ports", lambda: net.listAllPorts())
t("snapshots", lambda: dom.listAllSnapshots())
t("checkpoints", lambda: dom.listAllCheckpoints())
t("all stats", lambda: [(x[0].name(), x[1]) for x in c.getAllDomainStats()])
t("state stats", lambda: [(x[0].name(), x[1]) for x in c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE)])
t("list stats", lambda: [(x[0].name(), x[1]) for x in c.domainListGetStats([dom])])
t("dhcp leases", lambda: net.DHCPLeases())
t("addresses (lease)", lambda: dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE))
t("addresses (agent)", lambda: dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT))
t("addresses (agent, read-only)", lambda: rdom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT))
t("fs info", lambda: dom.fsInfo())
t("fs info (read-only)", lambda: rdom.fsInfo())
t("iothreads", lambda: dom.ioThreadInfo())
t("iothreads (live|config)", lambda: dom.ioThreadInfo(libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG))
t("ssh keys", lambda: dom.authorizedSSHKeysGet("root"))
t("ssh keys set", lambda: dom.authorizedSSHKeysSet("root", ["ssh-ed25519 AAAA x"]))
t("messages", lambda: dom.messages())
t("cpu models", lambda: c.getCPUModelNames("x86_64"))
t("cpu models (bad arch)", lambda: c.getCPUModelNames("no-such-arch"))
t("time (read-only)", lambda: rdom.getTime())
t("state", lambda: dom.state())
t("state (read-only)", lambda: rdom.state())
t("pool sources", lambda: c.findStoragePoolSources("logical", None))
t("pool sources (read-only)", lambda: ro.findStoragePoolSources("logical", None))
cpus = ["<cpu><arch>x86_64</arch><model>core2duo</model></cpu>",
        "<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>"]
t("baseline", lambda: c.baselineCPU(cpus))
t("baseline (bad xml)", lambda: c.baselineCPU(["<cpu>"]))
t("hypervisor baseline", lambda: c.baselineHypervisorCPU(None, "x86_64", None, None, cpus))
t("user password", lambda: dom.setUserPassword("root", "x"))
t("user password (read-only)", lambda: rdom.setUserPassword("root", "x"))
t("graphics fd", lambda: dom.openGraphicsFD(0))
a, b = socket.socketpair()
t("graphics", lambda: dom.openGraphics(0, a.fileno()))
a.close()
b.close()
t("fd associate", lambda: dom.FDAssociate("x", [0]))

sec = s.secretDefineXML("<secret ephemeral='no' private='no'><usage type='volume'>"
                        "<volume>/lists/py</volume></usage></secret>")
t("secret value (none yet)", lambda: sec.value())
sec.setValue(b"abc\0def\xff")
t("secret value", lambda: sec.value())
t("secrets", lambda: [x.UUIDString() == sec.UUIDString() for x in s.listAllSecrets()])
sec.undefine()
t("secrets after undefine", lambda: len(s.listAllSecrets()))

st = libvirt.open("storage:///session?socket=%s/user/run/libvirt-sock" % d)
pool = st.storagePoolCreateXML("<pool type='dir'><name>lists-py</name><target><path>%s/user/pool"
                               "</path></target></pool>" % d)
vols = [pool.createXML("<volume><name>py-%d.img</name><capacity>%d</capacity></volume>"
                       % (i, 4096 * (i + 1))) for i in range(3)]
t("pool volumes", lambda: sorted((v.name(), v.key().endswith(v.name())) for v in pool.listAllVolumes()))
t("active pools", lambda: [p.name() for p in st.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)])
t("volume info", lambda: sorted(v.infoFlags(0) for v in vols))
for v in vols:
    v.delete()
t("pool volumes after delete", lambda: pool.listAllVolumes())
pool.destroy()
t("volumes of a destroyed pool", lambda: pool.listAllVolumes())

t("domain ids", lambda: c.listDomainsID())
t("node device detach", lambda: c.nodeDeviceLookupByName("computer").dettach())
t("node device detach flags", lambda: c.nodeDeviceLookupByName("computer").detachFlags(None, 0))
t("node device reattach", lambda: c.nodeDeviceLookupByName("computer").reAttach())
t("node device reset", lambda: c.nodeDeviceLookupByName("computer").reset())
t("node device reset (read-only)", lambda: ro.nodeDeviceLookupByName("computer").reset())
t("free pages", lambda: c.getFreePages([4, 2048], 0, 2))
t("alloc pages", lambda: c.allocPages({4: 10}, 0, 1))
t("alloc pages (read-only)", lambda: ro.allocPages({4: 10}, 0, 1))
xml = ("<domain type='test'><name>lists-py-dom</name><memory>8192</memory>"
       "<os><type>hvm</type></os></domain>")
nd = c.defineXML(xml)
t("defined domain id", lambda: nd.ID())
t("create", lambda: nd.create())
t("created domain id is set", lambda: nd.ID() > 0)
t("ids with the new domain", lambda: len(c.listDomainsID()))
t("rename (running)", lambda: nd.rename("lists-py-renamed"))
nd.destroy()
t("rename", lambda: nd.rename("lists-py-renamed"))
t("renamed object", lambda: nd.name())
t("rename (empty)", lambda: nd.rename(""))
t("rename (read-only)", lambda: ro.lookupByName("lists-py-renamed").rename("y"))
t("lookup by new name", lambda: c.lookupByName("lists-py-renamed").name())
nd.undefine()
