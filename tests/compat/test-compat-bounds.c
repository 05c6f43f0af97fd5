/* SPDX-License-Identifier: MIT */
/*
 * The caller-sized getters of the compat libvirt.so.0 against a daemon
 * whose replies do not fit (oversize-daemon.py over the ext transport):
 * one item more than the room given, names and labels without room for
 * their terminator. Each call must fail with an error and leave the
 * caller's memory past the room untouched (guard values; run under ASan
 * too).
 *
 * Usage: test-compat-bounds OURS.so OVERSIZE-DAEMON
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

static void *lib;

static void *sym(const char *name)
{
    void *p = dlsym(lib, name);
    if (!p) {
        fprintf(stderr, "no %s\n", name);
        abort();
    }
    return p;
}
#define F(fn) ((__typeof__(&fn))sym(#fn))

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

/* The call failed with an error of that code. */
static bool failed_with(int rc, int code)
{
    virErrorPtr e = F(virGetLastError)();
    if (rc != -1 || !e || e->code != code) {
        tap_diag("rc %d, error %d (%s), wanted -1 and %d", rc, e ? e->code : 0,
                 e && e->message ? e->message : "none", code);
        return false;
    }
    return true;
}

static bool untouched(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0x5a)
            return false;
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s OURS.so OVERSIZE-DAEMON\n", argv[0]);
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!tap_ok(lib != NULL, "our library loads")) {
        tap_done();
        return 1;
    }
    static const char *const needed[] = {"virSetErrorFunc",       "virGetLastError",
                                         "virConnectOpen",        "virConnectClose",
                                         "virDomainLookupByName", "virDomainFree"};
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (!dlsym(lib, needed[i])) {
            /* while the library is being written */
            tap_skip("our library has no %s yet", needed[i]);
            tap_done();
            return 0;
        }
    }
    F(virSetErrorFunc)(NULL, quiet);
    char uri[4200];
    snprintf(uri, sizeof(uri), "test+ext:///default?command=%s", argv[2]);
    virConnectPtr conn = F(virConnectOpen)(uri);
    virDomainPtr dom = conn ? F(virDomainLookupByName)(conn, "fake") : NULL;
    if (!tap_ok(conn && dom, "connection to the oversize daemon")) {
        tap_done();
        return 1;
    }

    unsigned long long cells[4];
    memset(cells, 0x5a, sizeof(cells));
    int rc = F(virNodeGetCellsFreeMemory)(conn, cells, 0, 2);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&cells[2], 2 * sizeof(cells[0])),
           "NodeGetCellsFreeMemory: 3 cells for room for 2 refused");

    virDomainMemoryStatStruct st[4];
    memset(st, 0x5a, sizeof(st));
    rc = F(virDomainMemoryStats)(dom, st, 2, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&st[2], 2 * sizeof(st[0])),
           "DomainMemoryStats: 3 stats for room for 2 refused");

    virVcpuInfo info[3];
    unsigned char maps[8];
    memset(info, 0x5a, sizeof(info));
    memset(maps, 0x5a, sizeof(maps));
    rc = F(virDomainGetVcpus)(dom, info, 1, maps, 1);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&info[1], 2 * sizeof(info[0])) &&
               untouched(&maps[1], 7),
           "DomainGetVcpus: 2 vCPUs for room for 1 refused");
    rc = F(virDomainGetVcpus)(dom, info, 1, maps, 1);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&maps[1], 7),
           "DomainGetVcpus: 4 bytes of maps for room for 1 refused");

    virTypedParameter p[4];
    memset(p, 0x5a, sizeof(p));
    int n = 1;
    rc = F(virDomainGetBlkioParameters)(dom, p, &n, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&p[1], 3 * sizeof(p[0])),
           "DomainGetBlkioParameters: 2 parameters for room for 1 refused");
    memset(p, 0x5a, sizeof(p));
    n = 2;
    rc = F(virDomainGetBlkioParameters)(dom, p, &n, 0);
    tap_ok(failed_with(rc, VIR_ERR_INTERNAL_ERROR) && untouched(&p[2], 2 * sizeof(p[0])),
           "DomainGetBlkioParameters: an 80-byte name refused (the string before it freed)");

    virNodeCPUStats cs[3];
    memset(cs, 0x5a, sizeof(cs));
    n = 1;
    rc = F(virNodeGetCPUStats)(conn, VIR_NODE_CPU_STATS_ALL_CPUS, cs, &n, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&cs[1], 2 * sizeof(cs[0])),
           "NodeGetCPUStats: 2 statistics for room for 1 refused");
    n = 1;
    rc = F(virNodeGetCPUStats)(conn, VIR_NODE_CPU_STATS_ALL_CPUS, cs, &n, 0);
    tap_ok(failed_with(rc, VIR_ERR_INTERNAL_ERROR) && untouched(&cs[1], 2 * sizeof(cs[0])),
           "NodeGetCPUStats: an 80-byte name refused");

    struct {
        virSecurityLabel label;
        unsigned char guard[64];
    } sl;
    memset(&sl, 0x5a, sizeof(sl));
    rc = F(virDomainGetSecurityLabel)(dom, &sl.label);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(sl.guard, sizeof(sl.guard)),
           "DomainGetSecurityLabel: 4097 characters without a terminator refused");

    virTypedParameter cpu[4];
    memset(cpu, 0x5a, sizeof(cpu));
    rc = F(virDomainGetCPUStats)(dom, cpu, 2, 0, 1, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&cpu[2], 2 * sizeof(cpu[0])),
           "DomainGetCPUStats: 3 per CPU for room for 2 refused");

    int ids[4];
    memset(ids, 0x5a, sizeof(ids));
    rc = F(virConnectListDomains)(conn, ids, 2);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&ids[2], 2 * sizeof(ids[0])),
           "ConnectListDomains: 3 IDs for room for 2 refused");

    virDomainDiskError de[3];
    memset(de, 0x5a, sizeof(de));
    rc = F(virDomainGetDiskErrors)(dom, de, 1, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&de[1], 2 * sizeof(de[0])),
           "DomainGetDiskErrors: 2 errors for room for 1 refused");

    unsigned char buf[32];
    memset(buf, 0x5a, sizeof(buf));
    rc = F(virDomainBlockPeek)(dom, "vda", 0, 8, buf, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(buf, sizeof(buf)),
           "DomainBlockPeek: 16 bytes for 8 refused");

    memset(buf, 0x5a, sizeof(buf));
    rc = F(virDomainGetVcpuPinInfo)(dom, 1, buf, 1, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&buf[1], sizeof(buf) - 1),
           "DomainGetVcpuPinInfo: 2 maps for room for 1 refused");

    memset(buf, 0x5a, sizeof(buf));
    rc = F(virDomainGetEmulatorPinInfo)(dom, buf, 2, 0);
    tap_ok(failed_with(rc, VIR_ERR_RPC) && untouched(&buf[2], sizeof(buf) - 2),
           "DomainGetEmulatorPinInfo: 3 bytes for room for 2 refused");

    F(virDomainFree)(dom);
    F(virConnectClose)(conn);
    tap_done();
    return tap_failed ? 1 : 0;
}
