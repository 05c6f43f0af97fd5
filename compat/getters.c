/* SPDX-License-Identifier: MIT */
/*
 * The getters whose client side is written by hand in libvirt too:
 * typed-parameter getters that are first asked for the count (nparams 0),
 * getters that allocate their typed parameters, and calls that fill
 * buffers the caller sized (cpu maps, stats structs, peeks, labels).
 *
 * Every reply is bounded by what the caller made room for before anything
 * is copied; a daemon sending more fails the call with VIR_ERR_RPC (also
 * where libvirt's own client trusts the daemon). The argument checks and
 * their error codes are those of libvirt's public API; the messages are
 * our own words.
 */
#include "compat.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared pieces ---- */

/* The argument checks of libvirt's API files report in this domain (both
 * libvirt-domain.c and libvirt-host.c). */
#define ARG_DOMAIN VIR_FROM_DOMAIN

/* Entry of a public function: the thread's error cleared, the object
 * checked (in the public function itself, whose name the check reports),
 * `conn` its connection. */
#define ENTER_DOMAIN(dom)                                                                          \
    compat_reset();                                                                                \
    virConnectPtr conn = compat_obj_conn((dom), COMPAT_DOMAIN);                                    \
    if (!conn) {                                                                                   \
        compat_dispatch(NULL);                                                                     \
        return -1;                                                                                 \
    }

#define ENTER_CONN(c)                                                                              \
    compat_reset();                                                                                \
    if (!compat_obj_conn((c), COMPAT_CONNECT)) {                                                   \
        compat_dispatch(NULL);                                                                     \
        return -1;                                                                                 \
    }

/* libvirt's check before calls a read-only connection may not make, with
 * the error domain of its API file. True (error set) when denied. */
static bool denied_read_only(virConnectPtr conn, const char *func)
{
    if (!(conn->flags & VIR_CONNECT_RO))
        return false;
    compat_error(ARG_DOMAIN, VIR_ERR_OPERATION_DENIED, "%s: not allowed on a read-only connection",
                 func);
    return true;
}

static void arg_null(const char *func, const char *arg)
{
    compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG, "%s: the argument %s is NULL", func, arg);
}

static void arg_bad(const char *func, const char *arg, const char *want)
{
    compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG, "%s: the argument %s must be %s", func, arg,
                 want);
}

static void flags_exclusive(const char *func, const char *a, const char *b)
{
    compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG, "%s: the flags %s and %s exclude each other",
                 func, a, b);
}

/* A reply larger than the room the call asked for. */
static void reply_too_big(const char *func, const char *what, unsigned long long got,
                          unsigned long long room)
{
    compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC, "%s: the daemon sent %llu %s for room for %llu",
                 func, got, what, room);
}

/* A request larger than the protocol carries. */
static void request_too_big(const char *func, const char *what, unsigned long long want,
                            unsigned long long max)
{
    compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC, "%s: %llu %s exceed the protocol's limit of %llu",
                 func, want, what, max);
}

/* Fail: dispatch on the connection, return -1. */
static int fail(virConnectPtr conn)
{
    compat_dispatch(conn);
    return -1;
}

/* The checks of the getters taking (params, *nparams) where *nparams 0
 * asks for the count: nparams not NULL and not negative, params not NULL
 * unless *nparams is 0. */
static bool check_count_first(const char *func, virTypedParameterPtr params, int *nparams)
{
    if (!nparams) {
        arg_null(func, "nparams");
        return false;
    }
    if (*nparams < 0) {
        arg_bad(func, "nparams", "zero or more");
        return false;
    }
    if (*nparams != 0 && !params) {
        arg_null(func, "params");
        return false;
    }
    return true;
}

/* The end of a count-first getter: with *nparams 0 the count the daemon
 * reports, else the parameters into the caller's array. */
static int finish_count_first(const vrpc_typed_param *w, uint32_t nw, int32_t count,
                              virTypedParameterPtr params, int *nparams)
{
    if (*nparams == 0) {
        *nparams = count;
        return 0;
    }
    return compat_params_fill(w, nw, params, nparams);
}

/* Copies a counted char array of the wire (a C string with its terminator,
 * or without) into dst[size]; -1 after setting VIR_ERR_RPC when it does
 * not fit with a terminator. */
static int copy_wire_chars(const char *func, const char *what, const char *src, uint32_t n,
                           char *dst, size_t size)
{
    size_t len = src ? strnlen(src, n) : 0;
    if (len >= size) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC, "%s: the %s the daemon sent exceeds %zu bytes",
                     func, what, size - 1);
        return -1;
    }
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

/* The affect flags libvirt refuses together. */
#define CHECK_AFFECT(func, flags)                                                                  \
    do {                                                                                           \
        if (((flags)&VIR_DOMAIN_AFFECT_LIVE) && ((flags)&VIR_DOMAIN_AFFECT_CONFIG)) {              \
            flags_exclusive(func, "VIR_DOMAIN_AFFECT_LIVE", "VIR_DOMAIN_AFFECT_CONFIG");           \
            return fail(conn);                                                                     \
        }                                                                                          \
    } while (0)

/*
 * The daemon always supports string typed parameters (since 0.9.8), which
 * libvirt's client asks for before each of these getters and then adds
 * VIR_TYPED_PARAM_STRING_OKAY to the flags: we add it without asking.
 */
#define STRING_OKAY VIR_TYPED_PARAM_STRING_OKAY

/* ---- typed-parameter getters: the caller's array, count first ---- */

/* The body shared by the getters whose reply is { params, nparams }. */
#define COUNT_FIRST_CALL(proc, args)                                                               \
    do {                                                                                           \
        vrpc_##proc##_ret *r = NULL;                                                               \
        if (compat_call(conn, &vrpc_pd_##proc, &(args), &r) < 0)                                   \
            return fail(conn);                                                                     \
        int rc_ = finish_count_first(r->params.items, r->params.n, r->nparams, params, nparams);   \
        vrpc_free(r);                                                                              \
        if (rc_ < 0)                                                                               \
            return fail(conn);                                                                     \
        return 0;                                                                                  \
    } while (0)

int virDomainGetSchedulerParameters(virDomainPtr domain, virTypedParameterPtr params, int *nparams)
{
    ENTER_DOMAIN(domain)
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (*nparams <= 0) {
        arg_bad(__func__, "nparams", "greater than zero");
        return fail(conn);
    }
    vrpc_domain_get_scheduler_parameters_args a = {.nparams = *nparams};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_scheduler_parameters_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_scheduler_parameters, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_fill(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetSchedulerParametersFlags(virDomainPtr domain, virTypedParameterPtr params,
                                         int *nparams, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (*nparams <= 0) {
        arg_bad(__func__, "nparams", "greater than zero");
        return fail(conn);
    }
    flags |= STRING_OKAY;
    CHECK_AFFECT(__func__, flags);
    vrpc_domain_get_scheduler_parameters_flags_args a = {.nparams = *nparams, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_scheduler_parameters_flags_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_scheduler_parameters_flags, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_fill(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetBlkioParameters(virDomainPtr domain, virTypedParameterPtr params, int *nparams,
                                unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    flags |= STRING_OKAY;
    CHECK_AFFECT(__func__, flags);
    vrpc_domain_get_blkio_parameters_args a = {.nparams = *nparams, .flags = flags};
    compat_domain_to(domain, &a.dom);
    COUNT_FIRST_CALL(domain_get_blkio_parameters, a);
}

int virDomainGetMemoryParameters(virDomainPtr domain, virTypedParameterPtr params, int *nparams,
                                 unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    flags |= STRING_OKAY;
    CHECK_AFFECT(__func__, flags);
    vrpc_domain_get_memory_parameters_args a = {.nparams = *nparams, .flags = flags};
    compat_domain_to(domain, &a.dom);
    COUNT_FIRST_CALL(domain_get_memory_parameters, a);
}

int virDomainGetNumaParameters(virDomainPtr domain, virTypedParameterPtr params, int *nparams,
                               unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    flags |= STRING_OKAY;
    vrpc_domain_get_numa_parameters_args a = {.nparams = *nparams, .flags = flags};
    compat_domain_to(domain, &a.dom);
    COUNT_FIRST_CALL(domain_get_numa_parameters, a);
}

int virDomainGetInterfaceParameters(virDomainPtr domain, const char *device,
                                    virTypedParameterPtr params, int *nparams, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    if (!device) {
        /* libvirt's client sends it as a non-NULL string and fails there */
        arg_null(__func__, "device");
        return fail(conn);
    }
    flags |= STRING_OKAY;
    vrpc_domain_get_interface_parameters_args a = {
        .device = device, .nparams = *nparams, .flags = flags};
    compat_domain_to(domain, &a.dom);
    COUNT_FIRST_CALL(domain_get_interface_parameters, a);
}

int virDomainBlockStatsFlags(virDomainPtr dom, const char *disk, virTypedParameterPtr params,
                             int *nparams, unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (!disk) {
        arg_null(__func__, "disk");
        return fail(conn);
    }
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    flags |= STRING_OKAY;
    vrpc_domain_block_stats_flags_args a = {.path = disk, .nparams = *nparams, .flags = flags};
    compat_domain_to(dom, &a.dom);
    COUNT_FIRST_CALL(domain_block_stats_flags, a);
}

int virDomainGetBlockIoTune(virDomainPtr dom, const char *disk, virTypedParameterPtr params,
                            int *nparams, unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    if (*nparams != 0 && !disk) {
        arg_null(__func__, "disk");
        return fail(conn);
    }
    flags |= STRING_OKAY;
    CHECK_AFFECT(__func__, flags);
    vrpc_domain_get_block_io_tune_args a = {.disk = disk, .nparams = *nparams, .flags = flags};
    compat_domain_to(dom, &a.dom);
    COUNT_FIRST_CALL(domain_get_block_io_tune, a);
}

int virNodeGetMemoryParameters(virConnectPtr conn, virTypedParameterPtr params, int *nparams,
                               unsigned int flags)
{
    ENTER_CONN(conn)
    if (!check_count_first(__func__, params, nparams))
        return fail(conn);
    flags |= STRING_OKAY;
    vrpc_node_get_memory_parameters_args a = {.nparams = *nparams, .flags = flags};
    COUNT_FIRST_CALL(node_get_memory_parameters, a);
}

/* ---- node statistics: the caller's array of (field, value), count first ---- */

/* Both node stats structs are { char field[80]; unsigned long long value; }
 * and both wire items { string field; uint64 value; }. */
#define NODE_STATS_FILL(func, items, n, count, params, nparams)                                    \
    do {                                                                                           \
        if ((n) > (uint32_t) * (nparams)) {                                                        \
            reply_too_big(func, "statistics", (n), (unsigned long long)*(nparams));                \
            goto out;                                                                              \
        }                                                                                          \
        if (*(nparams) == 0) {                                                                     \
            *(nparams) = (count);                                                                  \
            rc = 0;                                                                                \
            goto out;                                                                              \
        }                                                                                          \
        for (uint32_t i_ = 0; i_ < (n); i_++) {                                                    \
            const char *f_ = (items)[i_].field ? (items)[i_].field : "";                           \
            size_t l_ = strnlen(f_, sizeof((params)[i_].field));                                   \
            if (l_ == sizeof((params)[i_].field)) {                                                \
                compat_error(VIR_FROM_REMOTE, VIR_ERR_INTERNAL_ERROR,                              \
                             "%s: the daemon sent a statistic name longer than %zu bytes", func,   \
                             sizeof((params)[i_].field) - 1);                                      \
                goto out;                                                                          \
            }                                                                                      \
            memcpy((params)[i_].field, f_, l_);                                                    \
            (params)[i_].field[l_] = '\0';                                                         \
            (params)[i_].value = (items)[i_].value;                                                \
        }                                                                                          \
        *(nparams) = (int)(n);                                                                     \
        rc = 0;                                                                                    \
    } while (0)

int virNodeGetCPUStats(virConnectPtr conn, int cpuNum, virNodeCPUStatsPtr params, int *nparams,
                       unsigned int flags)
{
    ENTER_CONN(conn)
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (*nparams < 0) {
        arg_bad(__func__, "nparams", "zero or more");
        return fail(conn);
    }
    if (cpuNum < 0 && cpuNum != VIR_NODE_CPU_STATS_ALL_CPUS) {
        compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: cpuNum must be a CPU number or VIR_NODE_CPU_STATS_ALL_CPUS (%d)",
                     __func__, VIR_NODE_CPU_STATS_ALL_CPUS);
        return fail(conn);
    }
    if (*nparams != 0 && !params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    vrpc_node_get_cpu_stats_args a = {.cpuNum = cpuNum, .nparams = *nparams, .flags = flags};
    vrpc_node_get_cpu_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_cpu_stats, &a, &r) < 0)
        return fail(conn);
    int rc = -1;
    NODE_STATS_FILL(__func__, r->params.items, r->params.n, r->nparams, params, nparams);
out:
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virNodeGetMemoryStats(virConnectPtr conn, int cellNum, virNodeMemoryStatsPtr params,
                          int *nparams, unsigned int flags)
{
    ENTER_CONN(conn)
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (*nparams < 0) {
        arg_bad(__func__, "nparams", "zero or more");
        return fail(conn);
    }
    if (cellNum < 0 && cellNum != VIR_NODE_MEMORY_STATS_ALL_CELLS) {
        compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: cellNum must be a cell number or VIR_NODE_MEMORY_STATS_ALL_CELLS (%d)",
                     __func__, VIR_NODE_MEMORY_STATS_ALL_CELLS);
        return fail(conn);
    }
    if (*nparams != 0 && !params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    vrpc_node_get_memory_stats_args a = {.nparams = *nparams, .cellNum = cellNum, .flags = flags};
    vrpc_node_get_memory_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_memory_stats, &a, &r) < 0)
        return fail(conn);
    int rc = -1;
    NODE_STATS_FILL(__func__, r->params.items, r->params.n, r->nparams, params, nparams);
out:
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

/* ---- per-CPU statistics of a domain: ncpus strides of nparams ---- */

int virDomainGetCPUStats(virDomainPtr domain, virTypedParameterPtr params, unsigned int nparams,
                         int start_cpu, unsigned int ncpus, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (start_cpu == -1) {
        if (ncpus != 1) {
            compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG,
                         "%s: with start_cpu -1 (the total) ncpus must be 1", __func__);
            return fail(conn);
        }
    } else if (start_cpu < 0) {
        arg_bad(__func__, "start_cpu", "zero or more, or -1");
        return fail(conn);
    }
    if (nparams && !params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams && params) {
        arg_bad(__func__, "params", "NULL when nparams is 0");
        return fail(conn);
    }
    if (ncpus == 0 && params) {
        arg_bad(__func__, "params", "NULL when ncpus is 0");
        return fail(conn);
    }
    if (nparams && ncpus > UINT_MAX / nparams) {
        compat_error(ARG_DOMAIN, VIR_ERR_OVERFLOW, "%s: %u parameters for %u CPUs overflow",
                     __func__, nparams, ncpus);
        return fail(conn);
    }
    flags |= STRING_OKAY;
    if (nparams > VRPC_NODE_CPU_STATS_MAX) {
        request_too_big(__func__, "parameters", nparams, VRPC_NODE_CPU_STATS_MAX);
        return fail(conn);
    }
    if (ncpus > VRPC_DOMAIN_GET_CPU_STATS_NCPUS_MAX) {
        request_too_big(__func__, "CPUs", ncpus, VRPC_DOMAIN_GET_CPU_STATS_NCPUS_MAX);
        return fail(conn);
    }
    vrpc_domain_get_cpu_stats_args a = {
        .nparams = nparams, .start_cpu = start_cpu, .ncpus = ncpus, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_cpu_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_cpu_stats, &a, &r) < 0)
        return fail(conn);

    int rv = -1;
    size_t room = (size_t)nparams * ncpus;
    uint32_t n = r->params.n;
    int32_t per = r->nparams; /* items per CPU the daemon sent */
    if (n > room || (n && (per <= 0 || n % (uint32_t)per || (uint32_t)per > nparams))) {
        reply_too_big(__func__, "CPU statistics", n, room);
        if (params)
            memset(params, 0, sizeof(*params) * room);
        goto out;
    }
    if (nparams == 0) {
        rv = per;
        goto out;
    }
    /* the daemon leaves out the empty tail of each stride: expand back
     * into the caller's sparse array */
    memset(params, 0, sizeof(*params) * room);
    for (uint32_t cpu = 0; n && cpu < n / (uint32_t)per; cpu++) {
        int got = (int)nparams;
        if (compat_params_fill(&r->params.items[(size_t)cpu * (uint32_t)per], (uint32_t)per,
                               &params[(size_t)cpu * nparams], &got) < 0) {
            virTypedParamsClear(params, (int)room);
            goto out;
        }
    }
    rv = per;
out:
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

/* ---- typed-parameter getters that allocate ---- */

int virDomainGetPerfEvents(virDomainPtr domain, virTypedParameterPtr *params, int *nparams,
                           unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    vrpc_domain_get_perf_events_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_perf_events_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_perf_events, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetJobStats(virDomainPtr domain, int *type, virTypedParameterPtr *params, int *nparams,
                         unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!type) {
        arg_null(__func__, "type");
        return fail(conn);
    }
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if ((flags & VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) &&
        !(flags & VIR_DOMAIN_JOB_STATS_COMPLETED)) {
        compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG,
                     "%s: the flag VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED needs "
                     "VIR_DOMAIN_JOB_STATS_COMPLETED",
                     __func__);
        return fail(conn);
    }
    vrpc_domain_get_job_stats_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_job_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_job_stats, &a, &r) < 0)
        return fail(conn);
    *type = r->type;
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetLaunchSecurityInfo(virDomainPtr domain, virTypedParameterPtr *params, int *nparams,
                                   unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (denied_read_only(conn, __func__))
        return fail(conn);
    flags |= STRING_OKAY;
    vrpc_domain_get_launch_security_info_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_launch_security_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_launch_security_info, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetGuestInfo(virDomainPtr domain, unsigned int types, virTypedParameterPtr *params,
                          int *nparams, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    vrpc_domain_get_guest_info_args a = {.types = types, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_guest_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_guest_info, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virNodeGetSEVInfo(virConnectPtr conn, virTypedParameterPtr *params, int *nparams,
                      unsigned int flags)
{
    ENTER_CONN(conn)
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    if (*nparams < 0) {
        arg_bad(__func__, "nparams", "zero or more");
        return fail(conn);
    }
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    flags |= STRING_OKAY;
    vrpc_node_get_sev_info_args a = {.nparams = *nparams, .flags = flags};
    vrpc_node_get_sev_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_sev_info, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

/* ---- caller-sized arrays and structs ---- */

int virNodeGetCellsFreeMemory(virConnectPtr conn, unsigned long long *freeMems, int startCell,
                              int maxCells)
{
    ENTER_CONN(conn)
    if (!freeMems && maxCells) {
        arg_null(__func__, "freeMems");
        return fail(conn);
    }
    if (maxCells <= 0) {
        arg_bad(__func__, "maxCells", "greater than zero");
        return fail(conn);
    }
    if (startCell < 0) {
        arg_bad(__func__, "startCell", "zero or more");
        return fail(conn);
    }
    if (maxCells > VRPC_NODE_MAX_CELLS) {
        request_too_big(__func__, "NUMA cells", (unsigned long long)maxCells, VRPC_NODE_MAX_CELLS);
        return fail(conn);
    }
    vrpc_node_get_cells_free_memory_args a = {.startCell = startCell, .maxcells = maxCells};
    vrpc_node_get_cells_free_memory_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_cells_free_memory, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->cells.n > (uint32_t)maxCells) {
        reply_too_big(__func__, "cells", r->cells.n, (unsigned long long)maxCells);
    } else {
        for (uint32_t i = 0; i < r->cells.n; i++)
            freeMems[i] = r->cells.items[i];
        rv = (int)r->cells.n;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainMemoryStats(virDomainPtr dom, virDomainMemoryStatPtr stats, unsigned int nr_stats,
                         unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (!stats || nr_stats == 0)
        return 0;
    if (nr_stats > VIR_DOMAIN_MEMORY_STAT_NR)
        nr_stats = VIR_DOMAIN_MEMORY_STAT_NR;
    vrpc_domain_memory_stats_args a = {.maxStats = nr_stats, .flags = flags};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_memory_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_memory_stats, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->stats.n > nr_stats) {
        reply_too_big(__func__, "memory statistics", r->stats.n, nr_stats);
    } else {
        for (uint32_t i = 0; i < r->stats.n; i++) {
            stats[i].tag = r->stats.items[i].tag;
            stats[i].val = r->stats.items[i].val;
        }
        rv = (int)r->stats.n;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainBlockStats(virDomainPtr dom, const char *disk, virDomainBlockStatsPtr stats,
                        size_t size)
{
    ENTER_DOMAIN(dom)
    if (!disk) {
        arg_null(__func__, "disk");
        return fail(conn);
    }
    if (!stats) {
        arg_null(__func__, "stats");
        return fail(conn);
    }
    /* a caller built against an older, smaller struct gets its part */
    virDomainBlockStatsStruct full = {-1, -1, -1, -1, -1};
    if (size > sizeof(full)) {
        compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG, "%s: size may be at most %zu", __func__,
                     sizeof(full));
        return fail(conn);
    }
    vrpc_domain_block_stats_args a = {.path = disk};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_block_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_block_stats, &a, &r) < 0)
        return fail(conn);
    full.rd_req = r->rd_req;
    full.rd_bytes = r->rd_bytes;
    full.wr_req = r->wr_req;
    full.wr_bytes = r->wr_bytes;
    full.errs = r->errs;
    vrpc_free(r);
    memcpy(stats, &full, size);
    return 0;
}

int virDomainInterfaceStats(virDomainPtr dom, const char *device, virDomainInterfaceStatsPtr stats,
                            size_t size)
{
    ENTER_DOMAIN(dom)
    if (!device) {
        arg_null(__func__, "device");
        return fail(conn);
    }
    if (!stats) {
        arg_null(__func__, "stats");
        return fail(conn);
    }
    virDomainInterfaceStatsStruct full = {-1, -1, -1, -1, -1, -1, -1, -1};
    if (size > sizeof(full)) {
        compat_error(ARG_DOMAIN, VIR_ERR_INVALID_ARG, "%s: size may be at most %zu", __func__,
                     sizeof(full));
        return fail(conn);
    }
    vrpc_domain_interface_stats_args a = {.device = device};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_interface_stats_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_interface_stats, &a, &r) < 0)
        return fail(conn);
    full.rx_bytes = r->rx_bytes;
    full.rx_packets = r->rx_packets;
    full.rx_errs = r->rx_errs;
    full.rx_drop = r->rx_drop;
    full.tx_bytes = r->tx_bytes;
    full.tx_packets = r->tx_packets;
    full.tx_errs = r->tx_errs;
    full.tx_drop = r->tx_drop;
    vrpc_free(r);
    memcpy(stats, &full, size);
    return 0;
}

int virDomainBlockPeek(virDomainPtr dom, const char *disk, unsigned long long offset, size_t size,
                       void *buffer, unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (!disk || !*disk) {
        arg_bad(__func__, "disk", "a non-empty string");
        return fail(conn);
    }
    if (size > 0 && !buffer) {
        arg_null(__func__, "buffer");
        return fail(conn);
    }
    if (size > VRPC_DOMAIN_BLOCK_PEEK_BUFFER_MAX) {
        request_too_big(__func__, "bytes", size, VRPC_DOMAIN_BLOCK_PEEK_BUFFER_MAX);
        return fail(conn);
    }
    vrpc_domain_block_peek_args a = {
        .path = disk, .offset = offset, .size = (uint32_t)size, .flags = flags};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_block_peek_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_block_peek, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->buffer.len != size) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC, "%s: the daemon sent %u bytes for %zu asked for",
                     __func__, r->buffer.len, size);
    } else {
        if (size)
            memcpy(buffer, r->buffer.data, size);
        rv = 0;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : 0;
}

int virDomainMemoryPeek(virDomainPtr dom, unsigned long long start, size_t size, void *buffer,
                        unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if ((flags & VIR_MEMORY_VIRTUAL) && (flags & VIR_MEMORY_PHYSICAL)) {
        flags_exclusive(__func__, "VIR_MEMORY_VIRTUAL", "VIR_MEMORY_PHYSICAL");
        return fail(conn);
    }
    if (size > 0 && !buffer) {
        arg_null(__func__, "buffer");
        return fail(conn);
    }
    if (size > VRPC_DOMAIN_MEMORY_PEEK_BUFFER_MAX) {
        request_too_big(__func__, "bytes", size, VRPC_DOMAIN_MEMORY_PEEK_BUFFER_MAX);
        return fail(conn);
    }
    vrpc_domain_memory_peek_args a = {.offset = start, .size = (uint32_t)size, .flags = flags};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_memory_peek_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_memory_peek, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->buffer.len != size) {
        compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC, "%s: the daemon sent %u bytes for %zu asked for",
                     __func__, r->buffer.len, size);
    } else {
        if (size)
            memcpy(buffer, r->buffer.data, size);
        rv = 0;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : 0;
}

/* ---- vCPUs and CPU maps ---- */

int virDomainGetVcpus(virDomainPtr domain, virVcpuInfoPtr info, int maxinfo, unsigned char *cpumaps,
                      int maplen)
{
    ENTER_DOMAIN(domain)
    if (!info) {
        arg_null(__func__, "info");
        return fail(conn);
    }
    if (maxinfo <= 0) {
        arg_bad(__func__, "maxinfo", "greater than zero");
        return fail(conn);
    }
    if (cpumaps && maplen <= 0) {
        arg_bad(__func__, "maplen", "greater than zero");
        return fail(conn);
    }
    if (!cpumaps && maplen != 0) {
        arg_bad(__func__, "maplen", "zero without cpumaps");
        return fail(conn);
    }
    if (cpumaps && maxinfo > INT_MAX / maplen) {
        compat_error(ARG_DOMAIN, VIR_ERR_OVERFLOW, "%s: %d maps of %d bytes overflow", __func__,
                     maxinfo, maplen);
        return fail(conn);
    }
    if (maxinfo > VRPC_VCPUINFO_MAX) {
        request_too_big(__func__, "vCPUs", (unsigned long long)maxinfo, VRPC_VCPUINFO_MAX);
        return fail(conn);
    }
    size_t maps = (size_t)maxinfo * (size_t)maplen;
    if (maps > VRPC_CPUMAPS_MAX) {
        request_too_big(__func__, "bytes of CPU maps", maps, VRPC_CPUMAPS_MAX);
        return fail(conn);
    }
    vrpc_domain_get_vcpus_args a = {.maxinfo = maxinfo, .maplen = maplen};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_vcpus_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_vcpus, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->info.n > (uint32_t)maxinfo) {
        reply_too_big(__func__, "vCPUs", r->info.n, (unsigned long long)maxinfo);
    } else if (r->cpumaps.len > maps) {
        reply_too_big(__func__, "bytes of CPU maps", r->cpumaps.len, maps);
    } else {
        memset(info, 0, sizeof(*info) * (size_t)maxinfo);
        if (cpumaps)
            memset(cpumaps, 0, maps);
        for (uint32_t i = 0; i < r->info.n; i++) {
            info[i].number = r->info.items[i].number;
            info[i].state = r->info.items[i].state;
            info[i].cpuTime = r->info.items[i].cpu_time;
            info[i].cpu = r->info.items[i].cpu;
        }
        if (r->cpumaps.len)
            memcpy(cpumaps, r->cpumaps.data, r->cpumaps.len);
        rv = (int)r->info.n;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainGetVcpuPinInfo(virDomainPtr domain, int ncpumaps, unsigned char *cpumaps, int maplen,
                            unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!cpumaps && ncpumaps) {
        arg_null(__func__, "cpumaps");
        return fail(conn);
    }
    if (ncpumaps <= 0) {
        arg_bad(__func__, "ncpumaps", "greater than zero");
        return fail(conn);
    }
    if (maplen <= 0) {
        arg_bad(__func__, "maplen", "greater than zero");
        return fail(conn);
    }
    if (ncpumaps > INT_MAX / maplen) {
        compat_error(ARG_DOMAIN, VIR_ERR_OVERFLOW, "%s: %d maps of %d bytes overflow", __func__,
                     ncpumaps, maplen);
        return fail(conn);
    }
    CHECK_AFFECT(__func__, flags);
    if (ncpumaps > VRPC_VCPUINFO_MAX) {
        request_too_big(__func__, "vCPUs", (unsigned long long)ncpumaps, VRPC_VCPUINFO_MAX);
        return fail(conn);
    }
    size_t maps = (size_t)ncpumaps * (size_t)maplen;
    if (maps > VRPC_CPUMAPS_MAX) {
        request_too_big(__func__, "bytes of CPU maps", maps, VRPC_CPUMAPS_MAX);
        return fail(conn);
    }
    vrpc_domain_get_vcpu_pin_info_args a = {.ncpumaps = ncpumaps, .maplen = maplen, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_vcpu_pin_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_vcpu_pin_info, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->num > ncpumaps) {
        reply_too_big(__func__, "vCPUs", (unsigned long long)r->num, (unsigned long long)ncpumaps);
    } else if (r->cpumaps.len > maps) {
        reply_too_big(__func__, "bytes of CPU maps", r->cpumaps.len, maps);
    } else {
        memset(cpumaps, 0, maps);
        if (r->cpumaps.len)
            memcpy(cpumaps, r->cpumaps.data, r->cpumaps.len);
        rv = r->num;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainGetEmulatorPinInfo(virDomainPtr domain, unsigned char *cpumap, int maplen,
                                unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!cpumap) {
        arg_null(__func__, "cpumap");
        return fail(conn);
    }
    if (maplen <= 0) {
        arg_bad(__func__, "maplen", "greater than zero");
        return fail(conn);
    }
    CHECK_AFFECT(__func__, flags);
    if (maplen > VRPC_CPUMAPS_MAX) {
        request_too_big(__func__, "bytes of CPU map", (unsigned long long)maplen, VRPC_CPUMAPS_MAX);
        return fail(conn);
    }
    vrpc_domain_get_emulator_pin_info_args a = {.maplen = maplen, .flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_emulator_pin_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_emulator_pin_info, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->cpumaps.len > (uint32_t)maplen) {
        reply_too_big(__func__, "bytes of CPU map", r->cpumaps.len, (unsigned long long)maplen);
    } else {
        memset(cpumap, 0, (size_t)maplen);
        if (r->cpumaps.len)
            memcpy(cpumap, r->cpumaps.data, r->cpumaps.len);
        rv = r->ret;
    }
    vrpc_free(r);
    if (rv < 0) {
        /* a negative ret is the daemon's failure without an error */
        return fail(conn);
    }
    return rv;
}

/* The checks the pinning calls share. */
static bool check_pin(virConnectPtr conn, const char *func, const unsigned char *cpumap, int maplen)
{
    if (denied_read_only(conn, __func__))
        return false;
    if (!cpumap) {
        arg_null(func, "cpumap");
        return false;
    }
    if (maplen <= 0) {
        arg_bad(func, "maplen", "greater than zero");
        return false;
    }
    return true;
}

int virDomainPinVcpu(virDomainPtr domain, unsigned int vcpu, unsigned char *cpumap, int maplen)
{
    ENTER_DOMAIN(domain)
    if (!check_pin(conn, __func__, cpumap, maplen))
        return fail(conn);
    vrpc_domain_pin_vcpu_args a = {.vcpu = vcpu, .cpumap = {(uint32_t)maplen, cpumap}};
    compat_domain_to(domain, &a.dom);
    if (compat_call(conn, &vrpc_pd_domain_pin_vcpu, &a, NULL) < 0)
        return fail(conn);
    return 0;
}

int virDomainPinVcpuFlags(virDomainPtr domain, unsigned int vcpu, unsigned char *cpumap, int maplen,
                          unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_pin(conn, __func__, cpumap, maplen))
        return fail(conn);
    vrpc_domain_pin_vcpu_flags_args a = {
        .vcpu = vcpu, .cpumap = {(uint32_t)maplen, cpumap}, .flags = flags};
    compat_domain_to(domain, &a.dom);
    if (compat_call(conn, &vrpc_pd_domain_pin_vcpu_flags, &a, NULL) < 0)
        return fail(conn);
    return 0;
}

int virDomainPinEmulator(virDomainPtr domain, unsigned char *cpumap, int maplen, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!check_pin(conn, __func__, cpumap, maplen))
        return fail(conn);
    vrpc_domain_pin_emulator_args a = {.cpumap = {(uint32_t)maplen, cpumap}, .flags = flags};
    compat_domain_to(domain, &a.dom);
    if (compat_call(conn, &vrpc_pd_domain_pin_emulator, &a, NULL) < 0)
        return fail(conn);
    return 0;
}

int virNodeGetCPUMap(virConnectPtr conn, unsigned char **cpumap, unsigned int *online,
                     unsigned int flags)
{
    ENTER_CONN(conn)
    vrpc_node_get_cpu_map_args a = {
        .need_map = cpumap != NULL, .need_online = online != NULL, .flags = flags};
    vrpc_node_get_cpu_map_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_cpu_map, &a, &r) < 0)
        return fail(conn);
    int rv = r->ret;
    if (rv >= 0 && cpumap) {
        /* an empty map is NULL, as libvirt hands it out */
        *cpumap = NULL;
        if (r->cpumap.len) {
            *cpumap = malloc(r->cpumap.len);
            if (!*cpumap) {
                compat_no_memory();
                rv = -1;
            } else {
                memcpy(*cpumap, r->cpumap.data, r->cpumap.len);
            }
        }
    }
    if (rv >= 0 && online)
        *online = r->online;
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

/* ---- security labels and model ---- */

int virDomainGetSecurityLabel(virDomainPtr domain, virSecurityLabelPtr seclabel)
{
    ENTER_DOMAIN(domain)
    if (!seclabel) {
        arg_null(__func__, "seclabel");
        return fail(conn);
    }
    memset(seclabel, 0, sizeof(*seclabel));
    vrpc_domain_get_security_label_args a;
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_security_label_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_security_label, &a, &r) < 0)
        return fail(conn);
    int rv = 0;
    if (r->label.n) {
        if (copy_wire_chars(__func__, "security label", r->label.items, r->label.n, seclabel->label,
                            sizeof(seclabel->label)) < 0)
            rv = -1;
        else
            seclabel->enforcing = r->enforcing;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : 0;
}

int virDomainGetSecurityLabelList(virDomainPtr domain, virSecurityLabelPtr *seclabels)
{
    ENTER_DOMAIN(domain)
    if (!seclabels) {
        arg_null(__func__, "seclabels");
        return fail(conn);
    }
    vrpc_domain_get_security_label_list_args a;
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_security_label_list_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_security_label_list, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    uint32_t n = r->labels.n;
    virSecurityLabelPtr list = NULL;
    if (n) {
        list = calloc(n, sizeof(*list));
        if (!list) {
            compat_no_memory();
            goto out;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        const vrpc_domain_get_security_label_ret *cur = &r->labels.items[i];
        if (!cur->label.n)
            continue;
        if (copy_wire_chars(__func__, "security label", cur->label.items, cur->label.n,
                            list[i].label, sizeof(list[i].label)) < 0) {
            free(list);
            list = NULL;
            goto out;
        }
        list[i].enforcing = cur->enforcing;
    }
    rv = r->ret;
    if (rv >= 0)
        *seclabels = list;
    else
        free(list);
out:
    vrpc_free(r);
    if (rv < 0) {
        /* libvirt leaves *seclabels to the caller's value on failure */
        return fail(conn);
    }
    return rv;
}

int virNodeGetSecurityModel(virConnectPtr conn, virSecurityModelPtr secmodel)
{
    ENTER_CONN(conn)
    if (!secmodel) {
        arg_null(__func__, "secmodel");
        return fail(conn);
    }
    memset(secmodel, 0, sizeof(*secmodel));
    vrpc_node_get_security_model_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_security_model, NULL, &r) < 0)
        return fail(conn);
    int rv = 0;
    if (r->model.n && copy_wire_chars(__func__, "security model", r->model.items, r->model.n,
                                      secmodel->model, sizeof(secmodel->model)) < 0)
        rv = -1;
    else if (r->doi.n && copy_wire_chars(__func__, "security DOI", r->doi.items, r->doi.n,
                                         secmodel->doi, sizeof(secmodel->doi)) < 0)
        rv = -1;
    vrpc_free(r);
    return rv < 0 ? fail(conn) : 0;
}

/* ---- disk errors and control info ---- */

int virDomainGetDiskErrors(virDomainPtr dom, virDomainDiskErrorPtr errors, unsigned int maxerrors,
                           unsigned int flags)
{
    ENTER_DOMAIN(dom)
    if (!errors && maxerrors) {
        arg_null(__func__, "errors");
        return fail(conn);
    }
    vrpc_domain_get_disk_errors_args a = {.maxerrors = maxerrors, .flags = flags};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_get_disk_errors_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_disk_errors, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    uint32_t n = r->errors.n;
    if (n > maxerrors || n > VRPC_DOMAIN_DISK_ERRORS_MAX) {
        reply_too_big(__func__, "disk errors", n, maxerrors);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        errors[i].disk = strdup(r->errors.items[i].disk ? r->errors.items[i].disk : "");
        if (!errors[i].disk) {
            compat_no_memory();
            for (uint32_t j = 0; j < i; j++) {
                free(errors[j].disk);
                errors[j].disk = NULL;
            }
            goto out;
        }
        errors[i].error = r->errors.items[i].error;
    }
    rv = r->nerrors;
out:
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainGetControlInfo(virDomainPtr domain, virDomainControlInfoPtr info, unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (!info) {
        arg_null(__func__, "info");
        return fail(conn);
    }
    vrpc_domain_get_control_info_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_control_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_control_info, &a, &r) < 0)
        return fail(conn);
    memset(info, 0, sizeof(*info));
    info->state = r->state;
    info->details = r->details;
    info->stateTime = r->stateTime;
    vrpc_free(r);
    return 0;
}

/* ---- more of the same kinds: caller-sized arrays and structs, typed
 * parameters ---- */

char *virDomainGetSchedulerType(virDomainPtr domain, int *nparams)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(domain, COMPAT_DOMAIN);
    if (!conn) {
        compat_dispatch(NULL);
        return NULL;
    }
    vrpc_domain_get_scheduler_type_args a;
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_scheduler_type_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_scheduler_type, &a, &r) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    char *type = compat_strdup(r->type ? r->type : "");
    if (type && nparams)
        *nparams = r->nparams;
    vrpc_free(r);
    if (!type)
        compat_dispatch(conn);
    return type;
}

int virDomainSetPerfEvents(virDomainPtr domain, virTypedParameterPtr params, int nparams,
                           unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (nparams <= 0) {
        arg_bad(__func__, "nparams", "greater than zero");
        return fail(conn);
    }
    vrpc_domain_set_perf_events_args a = {.params = {(uint32_t)nparams, NULL}, .flags = flags};
    if (compat_params_to_wire(params, nparams, &a.params.items) < 0)
        return fail(conn);
    compat_domain_to(domain, &a.dom);
    int rc = compat_call(conn, &vrpc_pd_domain_set_perf_events, &a, NULL);
    free(a.params.items);
    return rc < 0 ? fail(conn) : 0;
}

int virDomainGetGuestVcpus(virDomainPtr domain, virTypedParameterPtr *params, unsigned int *nparams,
                           unsigned int flags)
{
    ENTER_DOMAIN(domain)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (!params) {
        arg_null(__func__, "params");
        return fail(conn);
    }
    if (!nparams) {
        arg_null(__func__, "nparams");
        return fail(conn);
    }
    vrpc_domain_get_guest_vcpus_args a = {.flags = flags};
    compat_domain_to(domain, &a.dom);
    vrpc_domain_get_guest_vcpus_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_guest_vcpus, &a, &r) < 0)
        return fail(conn);
    int n = 0;
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, &n);
    vrpc_free(r);
    if (rc < 0)
        return fail(conn);
    *nparams = (unsigned int)n;
    return 0;
}

int virNetworkPortGetParameters(virNetworkPortPtr port, virTypedParameterPtr *params, int *nparams,
                                unsigned int flags)
{
    compat_reset();
    virConnectPtr conn = compat_obj_conn(port, COMPAT_NETWORK_PORT);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!params || !nparams) {
        /* libvirt checks neither and would crash */
        compat_error(VIR_FROM_NETWORK, VIR_ERR_INVALID_ARG, "%s: the argument %s is NULL", __func__,
                     params ? "nparams" : "params");
        return fail(conn);
    }
    vrpc_network_port_get_parameters_args a = {.flags = flags};
    compat_network_port_to(port, &a.port);
    vrpc_network_port_get_parameters_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_network_port_get_parameters, &a, &r) < 0)
        return fail(conn);
    int rc = compat_params_from_wire(r->params.items, r->params.n, params, nparams);
    vrpc_free(r);
    return rc < 0 ? fail(conn) : 0;
}

int virConnectListDomains(virConnectPtr conn, int *ids, int maxids)
{
    ENTER_CONN(conn)
    if (!ids && maxids) {
        arg_null(__func__, "ids");
        return fail(conn);
    }
    if (maxids < 0) {
        arg_bad(__func__, "maxids", "zero or more");
        return fail(conn);
    }
    if (maxids > VRPC_DOMAIN_LIST_MAX) {
        request_too_big(__func__, "domains", (unsigned long long)maxids, VRPC_DOMAIN_LIST_MAX);
        return fail(conn);
    }
    vrpc_connect_list_domains_args a = {.maxids = maxids};
    vrpc_connect_list_domains_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_connect_list_domains, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->ids.n > (uint32_t)maxids) {
        reply_too_big(__func__, "domain IDs", r->ids.n, (unsigned long long)maxids);
    } else {
        for (uint32_t i = 0; i < r->ids.n; i++)
            ids[i] = r->ids.items[i];
        rv = (int)r->ids.n;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virNodeGetFreePages(virConnectPtr conn, unsigned int npages, unsigned int *pages, int startCell,
                        unsigned int cellCount, unsigned long long *counts, unsigned int flags)
{
    ENTER_CONN(conn)
    if (npages == 0) {
        arg_bad(__func__, "npages", "non-zero");
        return fail(conn);
    }
    if (!pages) {
        arg_null(__func__, "pages");
        return fail(conn);
    }
    if (cellCount == 0) {
        arg_bad(__func__, "cellCount", "non-zero");
        return fail(conn);
    }
    if (!counts) {
        arg_null(__func__, "counts");
        return fail(conn);
    }
    unsigned long long room = (unsigned long long)npages * cellCount;
    if (room > VRPC_NODE_MAX_CELLS) {
        request_too_big(__func__, "page counts", room, VRPC_NODE_MAX_CELLS);
        return fail(conn);
    }
    vrpc_node_get_free_pages_args a = {
        .pages = {npages, pages}, .startCell = startCell, .cellCount = cellCount, .flags = flags};
    vrpc_node_get_free_pages_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_get_free_pages, &a, &r) < 0)
        return fail(conn);
    int rv = -1;
    if (r->counts.n > room) {
        reply_too_big(__func__, "page counts", r->counts.n, room);
    } else {
        if (r->counts.n)
            memcpy(counts, r->counts.items, r->counts.n * sizeof(*counts));
        rv = (int)r->counts.n;
    }
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virNodeAllocPages(virConnectPtr conn, unsigned int npages, unsigned int *pageSizes,
                      unsigned long long *pageCounts, int startCell, unsigned int cellCount,
                      unsigned int flags)
{
    ENTER_CONN(conn)
    if (denied_read_only(conn, __func__))
        return fail(conn);
    if (npages == 0) {
        arg_bad(__func__, "npages", "non-zero");
        return fail(conn);
    }
    if (!pageSizes) {
        arg_null(__func__, "pageSizes");
        return fail(conn);
    }
    if (!pageCounts) {
        arg_null(__func__, "pageCounts");
        return fail(conn);
    }
    if (cellCount == 0) {
        arg_bad(__func__, "cellCount", "non-zero");
        return fail(conn);
    }
    if (npages > VRPC_NODE_MAX_CELLS) {
        request_too_big(__func__, "page sizes", npages, VRPC_NODE_MAX_CELLS);
        return fail(conn);
    }
    vrpc_node_alloc_pages_args a = {.pageSizes = {npages, pageSizes},
                                    .pageCounts = {npages, (uint64_t *)pageCounts},
                                    .startCell = startCell,
                                    .cellCount = cellCount,
                                    .flags = flags};
    vrpc_node_alloc_pages_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_node_alloc_pages, &a, &r) < 0)
        return fail(conn);
    int rv = r->ret;
    vrpc_free(r);
    return rv < 0 ? fail(conn) : rv;
}

int virDomainGetBlockJobInfo(virDomainPtr dom, const char *disk, virDomainBlockJobInfoPtr info,
                             unsigned int flags)
{
    if (info)
        memset(info, 0, sizeof(*info));
    ENTER_DOMAIN(dom)
    if (!disk) {
        arg_null(__func__, "disk");
        return fail(conn);
    }
    if (!info) {
        arg_null(__func__, "info");
        return fail(conn);
    }
    vrpc_domain_get_block_job_info_args a = {.path = disk, .flags = flags};
    compat_domain_to(dom, &a.dom);
    vrpc_domain_get_block_job_info_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_domain_get_block_job_info, &a, &r) < 0)
        return fail(conn);
    int rv = 0;
    if (r->found) {
        info->type = r->type;
        info->bandwidth = r->bandwidth;
        info->cur = r->cur;
        info->end = r->end;
        rv = 1;
    }
    vrpc_free(r);
    return rv;
}

int virStorageVolGetInfoFlags(virStorageVolPtr vol, virStorageVolInfoPtr info, unsigned int flags)
{
    if (info)
        memset(info, 0, sizeof(*info));
    compat_reset();
    virConnectPtr conn = compat_obj_conn(vol, COMPAT_STORAGE_VOL);
    if (!conn) {
        compat_dispatch(NULL);
        return -1;
    }
    if (!info) {
        compat_error(VIR_FROM_STORAGE, VIR_ERR_INVALID_ARG, "%s: the argument info is NULL",
                     __func__);
        return fail(conn);
    }
    vrpc_storage_vol_get_info_flags_args a = {.flags = flags};
    compat_storage_vol_to(vol, &a.vol);
    vrpc_storage_vol_get_info_flags_ret *r = NULL;
    if (compat_call(conn, &vrpc_pd_storage_vol_get_info_flags, &a, &r) < 0)
        return fail(conn);
    info->type = r->type;
    info->capacity = r->capacity;
    info->allocation = r->allocation;
    vrpc_free(r);
    return 0;
}
