/* SPDX-License-Identifier: MIT */
/*
 * The typed-parameter getters and caller-sized buffers of the compat
 * libvirt.so.0 against the system's libvirt.so.0, on the same private
 * test-driver daemon: both libraries are loaded with dlopen(), and every
 * step runs on one and at once on the other (so both see the daemon in
 * the same state). A step prints what the call returned and left in the
 * caller's buffers; the two transcripts of a step must be the same.
 *
 * Errors compare by code and domain; their messages too, except for the
 * errors raised in the client, which are our own words.
 *
 * Usage: test-compat-getters OURS.so SYSTEM.so|- [URI]
 * With "-" instead of the system's library (sanitizer builds: the
 * system's libvirt.so.0 does not run under ASan's XDR interceptors) every
 * step runs on ours alone, for the sanitizers to watch.
 * Without URI, the test-driver daemon of scripts/test-daemon.sh in
 * $VRPC_TEST_DIR. Skips without a daemon or a system library.
 */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

typedef struct lib {
    const char *path;
    void *h;
    virConnectPtr conn, ro;
    virDomainPtr dom, dom_ro;
    char out[16384]; /* the step's transcript */
    size_t len;
} lib;

/* A function of the library, with the type of libvirt's prototype. */
static void *sym(lib *l, const char *name)
{
    void *p = dlsym(l->h, name);
    if (!p) {
        fprintf(stderr, "%s: no %s\n", l->path, name);
        abort();
    }
    return p;
}
#define F(l, fn) ((__typeof__(&fn))sym((l), #fn))

__attribute__((format(printf, 2, 3))) static void out(lib *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->out + l->len, sizeof(l->out) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof(l->out) - l->len ? (size_t)n : sizeof(l->out) - l->len - 1;
}

static void quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

/* The result of a call: its value, or its error. */
static void result(lib *l, long long rc)
{
    out(l, "rc=%lld", rc);
    virErrorPtr e = F(l, virGetLastError)();
    if (rc < 0 || e) {
        if (!e) {
            out(l, " no-error");
            return;
        }
        out(l, " err=%d/%d", e->code, e->domain);
        bool client = e->code == VIR_ERR_INVALID_ARG || e->code == VIR_ERR_RPC ||
                      e->code == VIR_ERR_OVERFLOW || e->code == VIR_ERR_OPERATION_DENIED ||
                      e->code == VIR_ERR_NO_MEMORY ||
                      (e->code == VIR_ERR_INTERNAL_ERROR && e->domain == VIR_FROM_NONE);
        if (!client)
            out(l, " msg=%s", e->message ? e->message : "(none)");
    }
    out(l, ";");
}

static void params_out(lib *l, const virTypedParameter *p, int n)
{
    for (int i = 0; i < n; i++) {
        out(l, " %s:%d=", p[i].field, p[i].type);
        switch (p[i].type) {
        case VIR_TYPED_PARAM_INT:
            out(l, "%d", p[i].value.i);
            break;
        case VIR_TYPED_PARAM_UINT:
            out(l, "%u", p[i].value.ui);
            break;
        case VIR_TYPED_PARAM_LLONG:
            out(l, "%lld", p[i].value.l);
            break;
        case VIR_TYPED_PARAM_ULLONG:
            out(l, "%llu", p[i].value.ul);
            break;
        case VIR_TYPED_PARAM_DOUBLE:
            out(l, "%a", p[i].value.d);
            break;
        case VIR_TYPED_PARAM_BOOLEAN:
            out(l, "%d", p[i].value.b);
            break;
        case VIR_TYPED_PARAM_STRING:
            out(l, "'%s'", p[i].value.s ? p[i].value.s : "(NULL)");
            break;
        default:
            break;
        }
    }
}

static void bytes_out(lib *l, const unsigned char *b, size_t n)
{
    out(l, " ");
    for (size_t i = 0; i < n; i++)
        out(l, "%02x", b[i]);
}

/* ---- the steps ---- */

typedef void (*step_fn)(lib *l, int arg);

/* The count-first getters: count, then that many, then one less. */
#define COUNT_FIRST_STEP(name, call)                                                               \
    static void name(lib *l, int arg)                                                              \
    {                                                                                              \
        virDomainPtr dom = l->dom;                                                                 \
        virConnectPtr conn = l->conn;                                                              \
        (void)dom;                                                                                 \
        (void)conn;                                                                                \
        virTypedParameter params[64];                                                              \
        memset(params, 0x5a, sizeof(params));                                                      \
        int nparams = arg;                                                                         \
        int rc = call;                                                                             \
        result(l, rc);                                                                             \
        out(l, " n=%d", nparams);                                                                  \
        if (rc == 0 && arg > 0)                                                                    \
            params_out(l, params, nparams);                                                        \
        if (rc == 0 && arg > 0)                                                                    \
            F(l, virTypedParamsClear)(params, nparams);                                            \
    }

COUNT_FIRST_STEP(s_sched,
                 F(l, virDomainGetSchedulerParameters)(dom, arg < 0 ? NULL : params, &nparams))
COUNT_FIRST_STEP(s_sched_flags,
                 F(l, virDomainGetSchedulerParametersFlags)(dom, params, &nparams, 0))
COUNT_FIRST_STEP(s_sched_flags_both,
                 F(l, virDomainGetSchedulerParametersFlags)(dom, params, &nparams,
                                                            VIR_DOMAIN_AFFECT_LIVE |
                                                                VIR_DOMAIN_AFFECT_CONFIG))
COUNT_FIRST_STEP(s_blkio, F(l, virDomainGetBlkioParameters)(dom, params, &nparams, 0))
COUNT_FIRST_STEP(s_blkio_null, F(l, virDomainGetBlkioParameters)(dom, NULL, &nparams, 0))
COUNT_FIRST_STEP(s_blkio_both, F(l, virDomainGetBlkioParameters)(dom, params, &nparams,
                                                                 VIR_DOMAIN_AFFECT_LIVE |
                                                                     VIR_DOMAIN_AFFECT_CONFIG))
COUNT_FIRST_STEP(s_memory, F(l, virDomainGetMemoryParameters)(dom, params, &nparams, 0))
COUNT_FIRST_STEP(s_numa, F(l, virDomainGetNumaParameters)(dom, params, &nparams, 0))
COUNT_FIRST_STEP(s_iface, F(l, virDomainGetInterfaceParameters)(dom, "vnet0", params, &nparams, 0))
COUNT_FIRST_STEP(s_bstatsf, F(l, virDomainBlockStatsFlags)(dom, "vda", params, &nparams, 0))
COUNT_FIRST_STEP(s_bstatsf_null, F(l, virDomainBlockStatsFlags)(dom, NULL, params, &nparams, 0))
COUNT_FIRST_STEP(s_iotune, F(l, virDomainGetBlockIoTune)(dom, "vda", params, &nparams, 0))
COUNT_FIRST_STEP(s_iotune_nodisk, F(l, virDomainGetBlockIoTune)(dom, NULL, params, &nparams, 0))
COUNT_FIRST_STEP(s_nodemem, F(l, virNodeGetMemoryParameters)(conn, params, &nparams, 0))

static void s_nparams_null(lib *l, int arg)
{
    (void)arg;
    result(l, F(l, virDomainGetMemoryParameters)(l->dom, NULL, NULL, 0));
}

static void s_nodecpu(lib *l, int arg)
{
    virNodeCPUStats st[16];
    memset(st, 0x5a, sizeof(st));
    int n = arg;
    int rc =
        F(l, virNodeGetCPUStats)(l->conn, arg == 3 ? -2 : VIR_NODE_CPU_STATS_ALL_CPUS, st, &n, 0);
    result(l, rc);
    out(l, " n=%d", n);
    for (int i = 0; rc == 0 && arg > 0 && i < n; i++)
        out(l, " %s=%llu", st[i].field, st[i].value);
}

static void s_nodemems(lib *l, int arg)
{
    virNodeMemoryStats st[16];
    int n = arg;
    int rc = F(l, virNodeGetMemoryStats)(l->conn, VIR_NODE_MEMORY_STATS_ALL_CELLS, st, &n, 0);
    result(l, rc);
    out(l, " n=%d", n);
}

static void s_cells(lib *l, int arg)
{
    unsigned long long mem[8];
    memset(mem, 0x5a, sizeof(mem));
    int rc = F(l, virNodeGetCellsFreeMemory)(l->conn, arg < 0 ? NULL : mem, arg < 0 ? 0 : arg,
                                             arg < 0 ? 2 : 8 - arg);
    result(l, rc);
    for (int i = 0; i < 8; i++)
        out(l, " %llx", mem[i]);
}

/* arg: 0 count, 1 the total, 2 per CPU from 0, 3 per CPU from 1, 4 bad start */
static void s_cpustats(lib *l, int arg)
{
    virTypedParameter p[64];
    memset(p, 0x5a, sizeof(p));
    int rc;
    if (arg == 0) {
        rc = F(l, virDomainGetCPUStats)(l->dom, NULL, 0, -1, 1, 0);
        result(l, rc);
        rc = F(l, virDomainGetCPUStats)(l->dom, NULL, 0, 0, 0, 0);
        result(l, rc);
        return;
    }
    if (arg == 4) {
        result(l, F(l, virDomainGetCPUStats)(l->dom, p, 4, -1, 2, 0));
        result(l, F(l, virDomainGetCPUStats)(l->dom, p, 4, -3, 1, 0));
        result(l, F(l, virDomainGetCPUStats)(l->dom, p, 0, 0, 1, 0));
        result(l, F(l, virDomainGetCPUStats)(l->dom, p, 4, 0, 0, 0));
        result(l, F(l, virDomainGetCPUStats)(l->dom, NULL, 4, 0, 1, 0));
        return;
    }
    int nparams = 4, ncpus = arg == 1 ? 1 : 3;
    rc = F(l, virDomainGetCPUStats)(l->dom, p, nparams, arg == 1 ? -1 : arg - 2, ncpus, 0);
    result(l, rc);
    /* the values are the daemon's clock: the names and types only */
    for (int i = 0; rc > 0 && i < nparams * ncpus; i++)
        out(l, " [%d]%s:%d", i, p[i].type ? p[i].field : "", p[i].type);
    if (rc > 0)
        F(l, virTypedParamsClear)(p, nparams * ncpus);
}

/* The allocating getters. */
static void s_alloc(lib *l, int arg)
{
    virTypedParameterPtr p = NULL;
    int n = 0, type = -1, rc = -1;
    switch (arg) {
    case 0:
        rc = F(l, virDomainGetPerfEvents)(l->dom, &p, &n, 0);
        break;
    case 1:
        rc = F(l, virDomainGetJobStats)(l->dom, &type, &p, &n, 0);
        break;
    case 2:
        rc = F(l, virDomainGetJobStats)(l->dom, &type, &p, &n, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED);
        break;
    case 3:
        rc = F(l, virDomainGetLaunchSecurityInfo)(l->dom, &p, &n, 0);
        break;
    case 4:
        rc = F(l, virNodeGetSEVInfo)(l->conn, &p, &n, 0);
        break;
    case 5:
        rc = F(l, virDomainGetGuestInfo)(l->dom, 0, &p, &n, 0);
        break;
    case 6:
        rc = F(l, virDomainGetGuestInfo)(l->dom_ro, 0, &p, &n, 0);
        break;
    case 7:
        rc = F(l, virDomainGetPerfEvents)(l->dom, NULL, &n, 0);
        break;
    case 8:
        rc = F(l, virDomainGetLaunchSecurityInfo)(l->dom_ro, &p, &n, 0);
        break;
    }
    result(l, rc);
    out(l, " n=%d", n);
    if (rc == 0)
        params_out(l, p, n);
    F(l, virTypedParamsFree)(p, n);
}

static void s_memstats(lib *l, int arg)
{
    virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR + 4];
    memset(st, 0x5a, sizeof(st));
    int rc =
        F(l, virDomainMemoryStats)(l->dom, arg < 0 ? NULL : st, arg < 0 ? 4 : (unsigned)arg, 0);
    result(l, rc);
    for (int i = 0; i < rc; i++)
        out(l, " %d=%llu", st[i].tag, st[i].val);
}

static void s_blockstats(lib *l, int arg)
{
    virDomainBlockStatsStruct st;
    memset(&st, 0x5a, sizeof(st));
    int rc = F(l, virDomainBlockStats)(l->dom, arg == 2 ? "nope" : "vda", &st,
                                       arg == 1   ? 3 * sizeof(long long)
                                       : arg == 3 ? sizeof(st) + 1
                                                  : sizeof(st));
    result(l, rc);
    /* the values follow the daemon's clock: which are set, which not */
    long long v[5] = {st.rd_req, st.rd_bytes, st.wr_req, st.wr_bytes, st.errs};
    for (int i = 0; i < 5; i++)
        out(l, " %s", v[i] == 0x5a5a5a5a5a5a5a5aLL ? "untouched" : v[i] == -1 ? "-1" : "set");
}

static void s_ifstats(lib *l, int arg)
{
    virDomainInterfaceStatsStruct st;
    memset(&st, 0x5a, sizeof(st));
    int rc = F(l, virDomainInterfaceStats)(l->dom, arg ? NULL : "vnet0", &st, sizeof(st));
    result(l, rc);
}

static void s_peek(lib *l, int arg)
{
    unsigned char buf[32];
    memset(buf, 0x5a, sizeof(buf));
    int rc;
    switch (arg) {
    case 0:
        rc = F(l, virDomainMemoryPeek)(l->dom, 0, 16, buf, VIR_MEMORY_VIRTUAL);
        break;
    case 1:
        rc = F(l, virDomainMemoryPeek)(l->dom, 8, 0, NULL, VIR_MEMORY_PHYSICAL);
        break;
    case 2:
        rc =
            F(l, virDomainMemoryPeek)(l->dom, 0, 16, buf, VIR_MEMORY_VIRTUAL | VIR_MEMORY_PHYSICAL);
        break;
    case 3:
        rc = F(l, virDomainMemoryPeek)(l->dom_ro, 0, 16, buf, VIR_MEMORY_VIRTUAL);
        break;
    case 4:
        rc = F(l, virDomainBlockPeek)(l->dom, "vda", 0, 16, buf, 0);
        break;
    case 5:
        rc = F(l, virDomainBlockPeek)(l->dom, "", 0, 16, buf, 0);
        break;
    default:
        rc = F(l, virDomainMemoryPeek)(l->dom, 0, 16, NULL, VIR_MEMORY_VIRTUAL);
        break;
    }
    result(l, rc);
    bytes_out(l, buf, sizeof(buf));
}

static void s_vcpus(lib *l, int arg)
{
    virVcpuInfo info[4];
    unsigned char maps[4 * 3];
    memset(info, 0x5a, sizeof(info));
    memset(maps, 0x5a, sizeof(maps));
    int rc;
    if (arg == 0)
        rc = F(l, virDomainGetVcpus)(l->dom, info, 4, maps, 3);
    else if (arg == 1)
        rc = F(l, virDomainGetVcpus)(l->dom, info, 1, maps, 1);
    else if (arg == 2)
        rc = F(l, virDomainGetVcpus)(l->dom, info, 4, NULL, 0);
    else
        rc = F(l, virDomainGetVcpus)(l->dom, info, 4, NULL, 2);
    result(l, rc);
    for (int i = 0; i < 4; i++)
        out(l, " (%u %d %s %d)", info[i].number, info[i].state,
            info[i].cpuTime == 0x5a5a5a5a5a5a5a5aULL ? "untouched"
            : info[i].cpuTime                        ? "time"
                                                     : "0",
            info[i].cpu);
    bytes_out(l, maps, sizeof(maps));
}

static void s_pininfo(lib *l, int arg)
{
    unsigned char maps[4 * 3];
    memset(maps, 0x5a, sizeof(maps));
    int rc;
    if (arg == 0)
        rc = F(l, virDomainGetVcpuPinInfo)(l->dom, 4, maps, 3, 0);
    else if (arg == 1)
        rc = F(l, virDomainGetVcpuPinInfo)(l->dom, 1, maps, 1, 0);
    else if (arg == 2)
        rc = F(l, virDomainGetEmulatorPinInfo)(l->dom, maps, 3, 0);
    else if (arg == 3)
        rc = F(l, virDomainGetEmulatorPinInfo)(l->dom, maps, 3,
                                               VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
    else
        rc = F(l, virDomainGetVcpuPinInfo)(l->dom, 4, maps, 0, 0);
    result(l, rc);
    bytes_out(l, maps, sizeof(maps));
}

static void s_pin(lib *l, int arg)
{
    unsigned char map[2] = {0x05, 0x00};
    int rc;
    if (arg == 0)
        rc = F(l, virDomainPinVcpu)(l->dom, 1, map, 1);
    else if (arg == 1)
        rc = F(l, virDomainPinVcpuFlags)(l->dom, 0, map, 2, VIR_DOMAIN_AFFECT_LIVE);
    else if (arg == 2)
        rc = F(l, virDomainPinEmulator)(l->dom, map, 1, 0);
    else if (arg == 3)
        rc = F(l, virDomainPinVcpu)(l->dom_ro, 1, map, 1);
    else if (arg == 4)
        rc = F(l, virDomainPinVcpu)(l->dom, 1, NULL, 1);
    else
        rc = F(l, virDomainPinVcpuFlags)(l->dom, 1, map, 0, 0);
    result(l, rc);
}

static void s_cpumap(lib *l, int arg)
{
    unsigned char *map = NULL;
    unsigned int online = 12345;
    int rc = F(l, virNodeGetCPUMap)(l->conn, arg & 1 ? &map : NULL, arg & 2 ? &online : NULL, 0);
    result(l, rc);
    out(l, " online=%u", online);
    if (map && rc > 0)
        bytes_out(l, map, ((size_t)rc + 7) / 8);
    free(map);
}

static void s_security(lib *l, int arg)
{
    if (arg == 0) {
        virSecurityLabel s;
        memset(&s, 0x5a, sizeof(s));
        result(l, F(l, virDomainGetSecurityLabel)(l->dom, &s));
        out(l, " '%.*s' %d", (int)sizeof(s.label), s.label, s.enforcing);
    } else if (arg == 1) {
        virSecurityLabelPtr list = NULL;
        int rc = F(l, virDomainGetSecurityLabelList)(l->dom, &list);
        result(l, rc);
        for (int i = 0; i < rc; i++)
            out(l, " '%s' %d", list[i].label, list[i].enforcing);
        free(list);
    } else if (arg == 2) {
        virSecurityModel m;
        memset(&m, 0x5a, sizeof(m));
        result(l, F(l, virNodeGetSecurityModel)(l->conn, &m));
        out(l, " '%.*s' '%.*s'", (int)sizeof(m.model), m.model, (int)sizeof(m.doi), m.doi);
    } else {
        result(l, F(l, virDomainGetSecurityLabel)(l->dom, NULL));
    }
}

static void s_diskerrors(lib *l, int arg)
{
    virDomainDiskError e[4];
    memset(e, 0, sizeof(e));
    int rc = F(l, virDomainGetDiskErrors)(l->dom, arg ? e : NULL, (unsigned)arg, 0);
    result(l, rc);
    for (int i = 0; i < arg && i < rc; i++) {
        out(l, " %s=%d", e[i].disk, e[i].error);
        free(e[i].disk);
    }
}

static void s_control(lib *l, int arg)
{
    virDomainControlInfo ci;
    memset(&ci, 0x5a, sizeof(ci));
    int rc = F(l, virDomainGetControlInfo)(l->dom, arg ? NULL : &ci, 0);
    result(l, rc);
    if (rc == 0)
        out(l, " %u %u %llu", ci.state, ci.details, ci.stateTime);
}

static void s_schedtype(lib *l, int arg)
{
    int n = -7;
    char *t = F(l, virDomainGetSchedulerType)(l->dom, arg ? NULL : &n);
    result(l, t ? 0 : -1);
    out(l, " '%s' n=%d", t ? t : "(NULL)", n);
    free(t);
}

static void s_setperf(lib *l, int arg)
{
    virTypedParameter p[2];
    memset(p, 0, sizeof(p));
    strcpy(p[0].field, VIR_PERF_PARAM_CPU_CYCLES);
    p[0].type = VIR_TYPED_PARAM_BOOLEAN;
    p[0].value.b = arg == 0;
    strcpy(p[1].field, VIR_PERF_PARAM_INSTRUCTIONS);
    p[1].type = VIR_TYPED_PARAM_BOOLEAN;
    p[1].value.b = 1;
    int rc;
    if (arg == 2)
        rc = F(l, virDomainSetPerfEvents)(l->dom_ro, p, 2, 0);
    else if (arg == 3)
        rc = F(l, virDomainSetPerfEvents)(l->dom, p, 0, 0);
    else if (arg == 4) {
        memset(p[1].field, 'x', sizeof(p[1].field));
        rc = F(l, virDomainSetPerfEvents)(l->dom, p, 2, 0);
    } else
        rc = F(l, virDomainSetPerfEvents)(l->dom, p, 2, VIR_DOMAIN_AFFECT_LIVE);
    result(l, rc);
    s_alloc(l, 0);
}

static void s_guestvcpus(lib *l, int arg)
{
    virTypedParameterPtr p = NULL;
    unsigned int n = 0;
    int rc = F(l, virDomainGetGuestVcpus)(arg ? l->dom_ro : l->dom, &p, &n, 0);
    result(l, rc);
    if (rc == 0)
        params_out(l, p, (int)n);
    F(l, virTypedParamsFree)(p, (int)n);
}

static void s_listdomains(lib *l, int arg)
{
    int ids[4] = {-9, -9, -9, -9};
    int rc = F(l, virConnectListDomains)(l->conn, arg == 2 ? NULL : ids, arg == 3 ? -1 : arg);
    result(l, rc);
    for (int i = 0; i < 4; i++)
        out(l, " %d", ids[i]);
}

static void s_freepages(lib *l, int arg)
{
    unsigned int pages[2] = {4, 2048};
    unsigned long long counts[8];
    memset(counts, 0x5a, sizeof(counts));
    int rc;
    if (arg == 0)
        rc = F(l, virNodeGetFreePages)(l->conn, 2, pages, 0, 2, counts, 0);
    else if (arg == 1)
        rc = F(l, virNodeGetFreePages)(l->conn, 1, pages, 1, 1, counts, 0);
    else if (arg == 2)
        rc = F(l, virNodeGetFreePages)(l->conn, 0, pages, 0, 1, counts, 0);
    else if (arg == 3)
        rc = F(l, virNodeGetFreePages)(l->conn, 1, pages, 0, 1, NULL, 0);
    else if (arg == 4) {
        unsigned long long want[1] = {16};
        rc = F(l, virNodeAllocPages)(l->conn, 1, pages, want, 0, 1, 0);
    } else {
        unsigned long long want[1] = {16};
        rc = F(l, virNodeAllocPages)(l->ro, 1, pages, want, 0, 1, 0);
    }
    result(l, rc);
    for (int i = 0; i < rc && i < 8; i++)
        out(l, " %llu", counts[i]);
}

static void s_blockjob(lib *l, int arg)
{
    virDomainBlockJobInfo info;
    memset(&info, 0x5a, sizeof(info));
    int rc = F(l, virDomainGetBlockJobInfo)(l->dom, arg ? NULL : "vda", &info, 0);
    result(l, rc);
    out(l, " %d %lu %llu %llu", info.type, info.bandwidth, info.cur, info.end);
}

/* Puts back what the steps changed on the shared daemon: every pin to
 * all CPUs, the perf events off. */
static void s_restore(lib *l, int arg)
{
    (void)arg;
    unsigned char all[2] = {0xff, 0xff};
    result(l, F(l, virDomainPinVcpu)(l->dom, 0, all, 2));
    result(l, F(l, virDomainPinVcpu)(l->dom, 1, all, 2));
    result(l, F(l, virDomainPinEmulator)(l->dom, all, 2, 0));
    virTypedParameter p[2];
    memset(p, 0, sizeof(p));
    strcpy(p[0].field, VIR_PERF_PARAM_CPU_CYCLES);
    p[0].type = VIR_TYPED_PARAM_BOOLEAN;
    strcpy(p[1].field, VIR_PERF_PARAM_INSTRUCTIONS);
    p[1].type = VIR_TYPED_PARAM_BOOLEAN;
    result(l, F(l, virDomainSetPerfEvents)(l->dom, p, 2, 0));
}

/* ---- the harness ---- */

/* The functions of other parts of the library the steps need. */
static const char *const needed[] = {
    "virInitialize",          "virSetErrorFunc",       "virGetLastError",
    "virResetLastError",      "virConnectOpen",        "virConnectClose",
    "virConnectOpenReadOnly", "virDomainLookupByName", "virDomainFree",
};

/* The first needed function the library lacks, or NULL. */
static const char *lacks(void *h)
{
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!dlsym(h, needed[i]))
            return needed[i];
    return NULL;
}

static bool lib_open(lib *l, const char *path, const char *uri)
{
    memset(l, 0, sizeof(*l));
    l->path = path;
    l->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!l->h) {
        tap_diag("dlopen %s: %s", path, dlerror());
        return false;
    }
    if (lacks(l->h))
        return false;
    if (F(l, virInitialize)() < 0)
        return false;
    F(l, virSetErrorFunc)(NULL, quiet);
    l->conn = F(l, virConnectOpen)(uri);
    l->ro = F(l, virConnectOpenReadOnly)(uri);
    if (!l->conn || !l->ro) {
        virErrorPtr e = F(l, virGetLastError)();
        tap_diag("%s: cannot open %s: %s", path, uri, e && e->message ? e->message : "?");
        return false;
    }
    l->dom = F(l, virDomainLookupByName)(l->conn, "test");
    l->dom_ro = F(l, virDomainLookupByName)(l->ro, "test");
    return l->dom && l->dom_ro;
}

static void lib_close(lib *l)
{
    if (!l->h)
        return;
    if (l->dom)
        F(l, virDomainFree)(l->dom);
    if (l->dom_ro)
        F(l, virDomainFree)(l->dom_ro);
    if (l->conn)
        F(l, virConnectClose)(l->conn);
    if (l->ro)
        F(l, virConnectClose)(l->ro);
}

static void run(lib *ours, lib *sys, const char *what, step_fn fn, int arg)
{
    if (!sys) {
        ours->len = 0;
        ours->out[0] = '\0';
        F(ours, virResetLastError)();
        fn(ours, arg);
        tap_ok(ours->len > 0, "%s (%d) on ours alone", what, arg);
        tap_diag("%.300s", ours->out);
        return;
    }
    ours->len = sys->len = 0;
    ours->out[0] = sys->out[0] = '\0';
    F(ours, virResetLastError)();
    F(sys, virResetLastError)();
    fn(sys, arg);
    fn(ours, arg);
    bool same = strcmp(ours->out, sys->out) == 0;
    tap_ok(same, "%s (%d)", what, arg);
    if (!same) {
        tap_diag("libvirt: %s", sys->out);
        tap_diag("ours:    %s", ours->out);
    } else {
        tap_diag("%.300s", ours->out);
    }
}

/* Under `meson test` LD_LIBRARY_PATH leads the loader to our library for
 * the soname too: run again without it (our library is named by its
 * path). */
static void without_library_path(char **argv)
{
    if (!getenv("LD_LIBRARY_PATH") || getenv("VRPC_COMPAT_REEXEC"))
        return;
    setenv("VRPC_COMPAT_REEXEC", "1", 1);
    unsetenv("LD_LIBRARY_PATH");
    execv("/proc/self/exe", argv);
    /* on failure go on: the comparison is then skipped */
}

int main(int argc, char **argv)
{
    without_library_path(argv);
    if (argc < 3) {
        fprintf(stderr, "usage: %s OURS.so SYSTEM.so [URI]\n", argv[0]);
        return 2;
    }
    char uri[4200];
    const char *dir = getenv("VRPC_TEST_DIR");
    if (argc > 3) {
        snprintf(uri, sizeof(uri), "%s", argv[3]);
    } else if (dir && *dir) {
        snprintf(uri, sizeof(uri), "test+unix:///default?socket=%s/sys/run/libvirt-sock", dir);
    } else {
        tap_skip("no VRPC_TEST_DIR: no private daemon");
        tap_done();
        return 0;
    }
    /* the system's library first: after ours the loader would hand back
     * ours for the soname */
    static lib ours, sysl;
    lib *sys = &sysl;
    if (strcmp(argv[2], "-") == 0) {
        sys = NULL;
    } else if (!lib_open(sys, argv[2], uri)) {
        lib_close(sys);
        tap_skip("no system libvirt.so.0 to compare with, or no daemon");
        tap_done();
        return 0;
    }
    void *probe = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    const char *missing = probe ? lacks(probe) : NULL;
    if (missing) {
        /* while the library is being written */
        tap_skip("our library has no %s yet", missing);
        if (sys)
            lib_close(sys);
        tap_done();
        return 0;
    }
    if (!lib_open(&ours, argv[1], uri)) {
        if (sys)
            lib_close(sys);
        lib_close(&ours);
        tap_ok(0, "our library opens %s", uri);
        tap_done();
        return 1;
    }
    Dl_info da, db;
    if (sys && dladdr(dlsym(ours.h, "virDomainGetVcpus"), &da) &&
        dladdr(dlsym(sys->h, "virDomainGetVcpus"), &db) && da.dli_fbase == db.dli_fbase) {
        tap_skip("the system's library is ours");
        lib_close(sys);
        lib_close(&ours);
        tap_done();
        return 0;
    }

    run(&ours, sys, "GetSchedulerParameters", s_sched, 16);
    run(&ours, sys, "GetSchedulerParameters", s_sched, 0);
    run(&ours, sys, "GetSchedulerParameters NULL params", s_sched, -1);
    run(&ours, sys, "GetSchedulerParametersFlags", s_sched_flags, 16);
    run(&ours, sys, "GetSchedulerParametersFlags live|config", s_sched_flags_both, 16);
    for (int n = 0; n <= 7; n++)
        run(&ours, sys, "GetBlkioParameters", s_blkio, n);
    run(&ours, sys, "GetBlkioParameters NULL params", s_blkio_null, 0);
    run(&ours, sys, "GetBlkioParameters NULL params", s_blkio_null, 2);
    run(&ours, sys, "GetBlkioParameters negative", s_blkio, -1);
    run(&ours, sys, "GetBlkioParameters live|config", s_blkio_both, 0);
    run(&ours, sys, "GetMemoryParameters NULL nparams", s_nparams_null, 0);
    for (int n = 0; n <= 4; n++)
        run(&ours, sys, "GetMemoryParameters", s_memory, n);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "GetNumaParameters", s_numa, n);
    run(&ours, sys, "GetInterfaceParameters", s_iface, 0);
    run(&ours, sys, "GetInterfaceParameters", s_iface, 4);
    run(&ours, sys, "BlockStatsFlags", s_bstatsf, 0);
    run(&ours, sys, "BlockStatsFlags NULL disk", s_bstatsf_null, 0);
    for (int n = 0; n <= 21; n += 7)
        run(&ours, sys, "GetBlockIoTune", s_iotune, n);
    run(&ours, sys, "GetBlockIoTune without a disk", s_iotune_nodisk, 0);
    run(&ours, sys, "GetBlockIoTune without a disk", s_iotune_nodisk, 3);
    run(&ours, sys, "NodeGetMemoryParameters", s_nodemem, 0);
    for (int n = 0; n <= 5; n++)
        run(&ours, sys, "NodeGetCPUStats", s_nodecpu, n);
    run(&ours, sys, "NodeGetCPUStats negative", s_nodecpu, -1);
    run(&ours, sys, "NodeGetMemoryStats", s_nodemems, 0);
    run(&ours, sys, "NodeGetMemoryStats", s_nodemems, 4);
    for (int n = -1; n <= 3; n++)
        run(&ours, sys, "NodeGetCellsFreeMemory", s_cells, n);
    for (int n = 0; n <= 4; n++)
        run(&ours, sys, "GetCPUStats", s_cpustats, n);
    for (int n = 0; n <= 8; n++)
        run(&ours, sys, "allocating getter", s_alloc, n);
    for (int n = -1; n <= VIR_DOMAIN_MEMORY_STAT_NR + 2; n += 3)
        run(&ours, sys, "MemoryStats", s_memstats, n);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "BlockStats", s_blockstats, n);
    for (int n = 0; n <= 1; n++)
        run(&ours, sys, "InterfaceStats", s_ifstats, n);
    for (int n = 0; n <= 6; n++)
        run(&ours, sys, "MemoryPeek/BlockPeek", s_peek, n);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "GetVcpus", s_vcpus, n);
    for (int n = 0; n <= 4; n++)
        run(&ours, sys, "GetVcpuPinInfo/GetEmulatorPinInfo", s_pininfo, n);
    for (int n = 0; n <= 5; n++)
        run(&ours, sys, "PinVcpu/PinVcpuFlags/PinEmulator", s_pin, n);
    run(&ours, sys, "GetVcpus after pinning", s_vcpus, 0);
    run(&ours, sys, "GetVcpuPinInfo after pinning", s_pininfo, 0);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "NodeGetCPUMap", s_cpumap, n);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "security label/model", s_security, n);
    for (int n = 0; n <= 2; n++)
        run(&ours, sys, "GetDiskErrors", s_diskerrors, n);
    for (int n = 0; n <= 1; n++)
        run(&ours, sys, "GetControlInfo", s_control, n);

    for (int n = 0; n <= 1; n++)
        run(&ours, sys, "GetSchedulerType", s_schedtype, n);
    for (int n = 0; n <= 4; n++)
        run(&ours, sys, "SetPerfEvents", s_setperf, n);
    for (int n = 0; n <= 1; n++)
        run(&ours, sys, "GetGuestVcpus", s_guestvcpus, n);
    for (int n = 0; n <= 3; n++)
        run(&ours, sys, "ListDomains", s_listdomains, n);
    for (int n = 0; n <= 5; n++)
        run(&ours, sys, "NodeGetFreePages/NodeAllocPages", s_freepages, n);
    for (int n = 0; n <= 1; n++)
        run(&ours, sys, "GetBlockJobInfo", s_blockjob, n);
    run(&ours, sys, "the pins and perf events put back", s_restore, 0);
    run(&ours, sys, "GetVcpuPinInfo after putting back", s_pininfo, 0);

    lib_close(&ours);
    if (sys)
        lib_close(sys);
    tap_done();
    return tap_failed ? 1 : 0;
}
