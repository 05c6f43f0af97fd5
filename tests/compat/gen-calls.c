/* SPDX-License-Identifier: MIT */
/*
 * A transcript of calls that compat/ generates (compat-gen-virt.c), to be
 * printed twice against the same private daemon: once on the system's
 * libvirt.so.0 and once on compat/ (LD_LIBRARY_PATH); gen-calls.sh compares
 * them. Compiled against libvirt's headers and linked with -lvirt like any
 * libvirt program.
 *
 *   gen-calls URI RO-URI
 *
 * Read-only calls, and changes undone in the same run (suspend/resume,
 * autostart on/off), so both runs see the same daemon state. Errors print
 * their code and domain; the message too when the daemon wrote it.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void err(const char *what, int daemon_side)
{
    virErrorPtr e = virGetLastError();
    if (!e) {
        printf("%s: failed without an error\n", what);
        return;
    }
    printf("%s: error code %d domain %d", what, e->code, e->domain);
    if (daemon_side)
        printf(" message '%s'", e->message ? e->message : "(null)");
    printf("\n");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names(const char *what, int n, char **v)
{
    if (n < 0) {
        err(what, 1);
        return;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_str);
    printf("%s: %d:", what, n);
    for (int i = 0; i < n; i++) {
        printf(" %s", v[i]);
        free(v[i]);
    }
    printf("\n");
}

static void text(const char *what, char *s)
{
    if (!s) {
        err(what, 1);
        return;
    }
    printf("%s: %zu bytes\n%s\n", what, strlen(s), s);
    free(s);
}

static void number(const char *what, long long v)
{
    if (v < 0)
        err(what, 1);
    else
        printf("%s: %lld\n", what, v);
}

static void on_error(void *data, virErrorPtr e)
{
    (void)data;
    (void)e; /* quiet: the transcript prints what it wants */
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen-calls URI RO-URI\n");
        return 2;
    }
    virSetErrorFunc(NULL, on_error);
    virConnectPtr c = virConnectOpen(argv[1]);
    if (!c) {
        err("open", 1);
        return 1;
    }

    /* connection */
    number("NumOfDomains", virConnectNumOfDomains(c));
    number("NumOfDefinedDomains", virConnectNumOfDefinedDomains(c));
    char *nm[64];
    names("ListDefinedDomains", virConnectListDefinedDomains(c, nm, 64), nm);
    names("ListDefinedDomains max 0", virConnectListDefinedDomains(c, nm, 0), nm);
    if (virConnectListDefinedDomains(c, NULL, 3) < 0)
        err("ListDefinedDomains NULL names", 0);
    if (virConnectListDefinedDomains(c, nm, -1) < 0)
        err("ListDefinedDomains -1", 0);
    names("ListNetworks", virConnectListNetworks(c, nm, 64), nm);
    names("ListStoragePools", virConnectListStoragePools(c, nm, 64), nm);
    unsigned long ver = 0;
    if (virConnectGetVersion(c, &ver) < 0)
        err("GetVersion", 1);
    else
        printf("GetVersion: %lu\n", ver);
    if (virConnectGetVersion(c, NULL) < 0)
        err("GetVersion NULL", 0);
    number("GetMaxVcpus", virConnectGetMaxVcpus(c, "test"));
    text("GetHostname", virConnectGetHostname(c));
    text("GetCapabilities", virConnectGetCapabilities(c));
    number("IsAlive", virConnectIsAlive(c));

    virNodeInfo ni;
    memset(&ni, 0x5a, sizeof(ni));
    if (virNodeGetInfo(c, &ni) < 0)
        err("NodeGetInfo", 1);
    else
        printf("NodeGetInfo: model '%s' memory %lu cpus %u mhz %u nodes %u sockets %u cores %u "
               "threads %u\n",
               ni.model, ni.memory, ni.cpus, ni.mhz, ni.nodes, ni.sockets, ni.cores, ni.threads);
    if (virNodeGetInfo(c, NULL) < 0)
        err("NodeGetInfo NULL", 0);
    printf("NodeGetFreeMemory: %s\n", virNodeGetFreeMemory(c) > 0 ? "> 0" : "0");

    /* a domain */
    virDomainPtr d = virDomainLookupByName(c, "test");
    if (!d) {
        err("LookupByName test", 1);
    } else {
        virDomainInfo di;
        if (virDomainGetInfo(d, &di) < 0)
            err("GetInfo", 1);
        else
            printf("GetInfo: state %d maxMem %lu memory %lu nrVirtCpu %u cpuTime %s\n", di.state,
                   di.maxMem, di.memory, di.nrVirtCpu, di.cpuTime ? "> 0" : "0");
        if (virDomainGetInfo(d, NULL) < 0)
            err("GetInfo NULL", 0);
        text("GetXMLDesc", virDomainGetXMLDesc(d, 0));
        text("GetOSType", virDomainGetOSType(d));
        printf("GetMaxMemory: %lu\n", virDomainGetMaxMemory(d));
        number("GetMaxVcpus", virDomainGetMaxVcpus(d));
        number("IsActive", virDomainIsActive(d));
        number("IsPersistent", virDomainIsPersistent(d));
        number("IsUpdated", virDomainIsUpdated(d));
        int as = -1;
        if (virDomainGetAutostart(d, &as) < 0)
            err("GetAutostart", 1);
        else
            printf("GetAutostart: %d\n", as);
        number("SetAutostart 1", virDomainSetAutostart(d, 1));
        virDomainGetAutostart(d, &as);
        printf("GetAutostart after: %d\n", as);
        number("SetAutostart 0", virDomainSetAutostart(d, 0));
        number("Suspend", virDomainSuspend(d));
        if (virDomainGetInfo(d, &di) == 0)
            printf("state after Suspend: %d\n", di.state);
        number("Suspend again", virDomainSuspend(d));
        number("Resume", virDomainResume(d));
        if (virDomainGetInfo(d, &di) == 0)
            printf("state after Resume: %d\n", di.state);
        number("GetVcpusFlags", virDomainGetVcpusFlags(d, VIR_DOMAIN_AFFECT_LIVE));
        if (virDomainGetVcpusFlags(d, 0xffff0000u) < 0)
            err("GetVcpusFlags bad flags", 1);
        virDomainBlockStatsStruct bs;
        if (virDomainBlockStats(d, "vda", &bs, sizeof(bs)) < 0)
            err("BlockStats vda", 1);
        else
            printf("BlockStats vda: rd_req %s\n", bs.rd_req >= 0 ? ">= 0" : "< 0");
        if (virDomainBlockStats(d, "vda", &bs, sizeof(bs) + 8) < 0)
            err("BlockStats size too big", 0);
        virDomainFree(d);
    }
    if (!virDomainLookupByName(c, "no-such-domain"))
        err("LookupByName no-such-domain", 1);
    if (!virDomainLookupByName(c, NULL))
        err("LookupByName NULL", 0);
    if (!virDomainLookupByID(c, -1))
        err("LookupByID -1", 0);
    virDomainPtr d1 = virDomainLookupByID(c, 1);
    if (!d1) {
        err("LookupByID 1", 1);
    } else {
        text("LookupByID 1 OSType", virDomainGetOSType(d1));
        virDomainFree(d1);
    }
    unsigned char uuid[VIR_UUID_BUFLEN];
    memset(uuid, 0x11, sizeof(uuid));
    if (!virDomainLookupByUUID(c, uuid))
        err("LookupByUUID 11..", 1);

    /* a network and a storage pool of the test driver */
    virNetworkPtr net = virNetworkLookupByName(c, "default");
    if (!net) {
        err("NetworkLookupByName default", 1);
    } else {
        text("NetworkGetXMLDesc", virNetworkGetXMLDesc(net, 0));
        text("NetworkGetBridgeName", virNetworkGetBridgeName(net));
        number("NetworkIsActive", virNetworkIsActive(net));
        virNetworkFree(net);
    }
    virStoragePoolPtr pool = virStoragePoolLookupByName(c, "default-pool");
    if (!pool) {
        err("StoragePoolLookupByName default-pool", 1);
    } else {
        virStoragePoolInfo pi;
        if (virStoragePoolGetInfo(pool, &pi) < 0)
            err("StoragePoolGetInfo", 1);
        else
            printf("StoragePoolGetInfo: state %d capacity %llu allocation %llu available %llu\n",
                   pi.state, pi.capacity, pi.allocation, pi.available);
        number("StoragePoolNumOfVolumes", virStoragePoolNumOfVolumes(pool));
        names("StoragePoolListVolumes", virStoragePoolListVolumes(pool, nm, 64), nm);
        virStoragePoolFree(pool);
    }
    virConnectClose(c);

    /* read-only: changes refused */
    virConnectPtr ro = virConnectOpenReadOnly(argv[2]);
    if (!ro) {
        err("open read-only", 1);
        return 1;
    }
    virDomainPtr rd = virDomainLookupByName(ro, "test");
    if (!rd) {
        err("read-only LookupByName test", 1);
    } else {
        if (virDomainSuspend(rd) < 0)
            err("read-only Suspend", 0);
        if (virDomainSetAutostart(rd, 1) < 0)
            err("read-only SetAutostart", 0);
        char *x = virDomainGetXMLDesc(rd, VIR_DOMAIN_XML_SECURE);
        if (!x)
            err("read-only GetXMLDesc SECURE", 0);
        free(x);
        text("read-only GetXMLDesc", virDomainGetXMLDesc(rd, 0));
        virDomainFree(rd);
    }
    virConnectClose(ro);
    return 0;
}
