/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: the calls whose shape or arguments follow libvirt's client
 * rather than the .x files alone (see calls.h).
 */
#include "calls.h"

#include "cheaders.h"
#include "emit.h"

#include <string.h>

/* Procedures that libvirt's client streams without a @readstream or
 * @writestream annotation (remoteDomainMigratePrepareTunnel3Params opens
 * the stream by hand). */
static const struct {
    const char *xname;
    int stream; /* 1 read, 2 write */
    int param;
} extra_streams[] = {
    {"REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS", 2, 1},
};

/* Procedures that pass descriptors (libvirt's client calls them with
 * callFull() and descriptors; nothing in the .x files says so). Complete for
 * libvirt 9.0.0; 11.3.0 adds no stream or descriptor procedure. */
static const struct {
    const char *xname;
    int fds;
} fd_procs[] = {
    {"REMOTE_PROC_DOMAIN_OPEN_GRAPHICS", FDS_IN},
    {"REMOTE_PROC_DOMAIN_OPEN_GRAPHICS_FD", FDS_OUT},
    {"REMOTE_PROC_DOMAIN_CREATE_XML_WITH_FILES", FDS_IN},
    {"REMOTE_PROC_DOMAIN_CREATE_WITH_FILES", FDS_IN},
    {"REMOTE_PROC_DOMAIN_FD_ASSOCIATE", FDS_IN},
    {"QEMU_PROC_DOMAIN_MONITOR_COMMAND_WITH_FILES", FDS_IN | FDS_OUT},
    {"LXC_PROC_DOMAIN_OPEN_NAMESPACE", FDS_OUT},
};

/* The procedures behind the public getters of libvirt 9.0.0 that add
 * VIR_TYPED_PARAM_STRING_OKAY to the caller's flags when the driver
 * supports VIR_DRV_FEATURE_TYPED_PARAM_STRING (src/libvirt-domain.c:
 * virDomainGet{Memory,Numa,Blkio}Parameters,
 * virDomainGetSchedulerParametersFlags, virDomainBlockStatsFlags,
 * virDomainGetInterfaceParameters, virDomainGetBlockIoTune,
 * virDomainGetCPUStats, virDomainGetLaunchSecurityInfo; src/libvirt-host.c:
 * virNodeGetMemoryParameters, virNodeGetSEVInfo). */
static const char *const string_okay_procs[] = {
    "REMOTE_PROC_DOMAIN_GET_MEMORY_PARAMETERS",
    "REMOTE_PROC_DOMAIN_GET_NUMA_PARAMETERS",
    "REMOTE_PROC_DOMAIN_GET_BLKIO_PARAMETERS",
    "REMOTE_PROC_DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS",
    "REMOTE_PROC_DOMAIN_BLOCK_STATS_FLAGS",
    "REMOTE_PROC_DOMAIN_GET_INTERFACE_PARAMETERS",
    "REMOTE_PROC_DOMAIN_GET_BLOCK_IO_TUNE",
    "REMOTE_PROC_DOMAIN_GET_CPU_STATS",
    "REMOTE_PROC_DOMAIN_GET_LAUNCH_SECURITY_INFO",
    "REMOTE_PROC_NODE_GET_MEMORY_PARAMETERS",
    "REMOTE_PROC_NODE_GET_SEV_INFO",
};

/* VIR_DRV_FEATURE_TYPED_PARAM_STRING (libvirt's src/libvirt_internal.h). */
#define FEATURE_TYPED_PARAM_STRING 9

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const proc *supports_feature; /* REMOTE_PROC_CONNECT_SUPPORTS_FEATURE */
static bool any_string_okay;

static const decl *field(const ntype *t, const char *name)
{
    if (!t || t->kind != NT_STRUCT)
        return NULL;
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].name && strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

static bool is_plain(const decl *d, base_kind b1, base_kind b2)
{
    return d && d->form == DF_PLAIN && (d->base == b1 || d->base == b2);
}

static bool listed(const char *const *v, size_t n, const char *xname)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], xname) == 0)
            return true;
    return false;
}

int proc_fds(const proc *pr)
{
    if (pr->msg)
        return 0;
    for (size_t i = 0; i < COUNT(fd_procs); i++)
        if (strcmp(fd_procs[i].xname, pr->xname) == 0)
            return fd_procs[i].fds;
    return 0;
}

call_shape proc_call_shape(const proc *pr)
{
    if (pr->stream)
        return CS_STREAM;
    if (proc_fds(pr))
        return CS_FDS;
    return CS_PLAIN;
}

bool proc_need_results(const proc *pr)
{
    return proc_call_shape(pr) == CS_PLAIN &&
           is_plain(field(pr->args, "need_results"), BK_INT, BK_INT);
}

bool proc_string_okay(const proc *pr)
{
    return proc_call_shape(pr) == CS_PLAIN &&
           listed(string_okay_procs, COUNT(string_okay_procs), pr->xname);
}

static bool feature_proc_ok(const proc *p)
{
    return is_plain(field(p->args, "feature"), BK_INT, BK_INT) &&
           is_plain(field(p->ret, "supported"), BK_INT, BK_INT);
}

void calls_prepare(void)
{
    supports_feature = NULL;
    any_string_okay = false;
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        for (size_t j = 0; pg->has_procs && j < pg->nprocs; j++) {
            proc *pr = pg->procs[j];
            if (strcmp(pr->xname, "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE") == 0)
                supports_feature = pr;
            for (size_t k = 0; k < COUNT(extra_streams); k++)
                if (!pr->stream && !pr->msg && strcmp(pr->xname, extra_streams[k].xname) == 0) {
                    pr->stream = extra_streams[k].stream;
                    pr->stream_param = extra_streams[k].param;
                }
            if (pr->stream && proc_fds(pr))
                fatal_at(pr->where, "%s both opens a stream and passes descriptors", pr->xname);
        }
    }
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        for (size_t j = 0; pg->has_procs && j < pg->nprocs; j++) {
            proc *pr = pg->procs[j];
            if (!listed(string_okay_procs, COUNT(string_okay_procs), pr->xname))
                continue;
            if (!is_plain(field(pr->args, "flags"), BK_UINT, BK_INT))
                fatal_at(pr->where,
                         "%s: libvirt's client adds VIR_TYPED_PARAM_STRING_OKAY to "
                         "its flags, but its arguments have no 'unsigned int flags'",
                         pr->xname);
            any_string_okay = true;
        }
    }
    if (!any_string_okay)
        return;
    xval v;
    loc w;
    if (!supports_feature || !feature_proc_ok(supports_feature))
        fatal("VIR_TYPED_PARAM_STRING_OKAY is added after asking "
              "REMOTE_PROC_CONNECT_SUPPORTS_FEATURE "
              "({int feature;} -> {int supported;}), which is missing or has another shape");
    if (headers_value("VIR_TYPED_PARAM_STRING_OKAY", &v, &w) != HC_INT ||
        headers_value("VIR_ERR_NO_SUPPORT", &v, &w) != HC_INT)
        fatal("VIR_TYPED_PARAM_STRING_OKAY and VIR_ERR_NO_SUPPORT must come from the headers "
              "(--headers)");
}

/* ---- emission ---- */

void emit_call_note(sbuf *o, const proc *pr)
{
    if (proc_need_results(pr))
        sb_printf(o,
                  "/* vrpc_%s() and _send() send need_results = 1, as libvirt's client does\n"
                  " * when its caller asks for the list; the arguments are not modified\n"
                  " * (vrpc_call() sends them as given). */\n",
                  pr->short_name);
    if (proc_string_okay(pr))
        sb_printf(o,
                  "/* vrpc_%s() adds VRPC_TYPED_PARAM_STRING_OKAY to args->flags when the\n"
                  " * daemon supports string typed parameters (asked first, as libvirt's client\n"
                  " * does); vrpc_%s_send() sends the flags as given. */\n",
                  pr->short_name, pr->short_name);
}

void emit_special_call(sbuf *o, const proc *pr, bool definition)
{
    const char *n = pr->short_name;
    const char *args = pr->args ? pr->args->cname : NULL;
    const char *ret = pr->ret ? pr->ret->cname : NULL;
    call_shape cs = proc_call_shape(pr);
    int fds = proc_fds(pr);

    if (!definition) {
        sb_printf(o, "\n/* %s (%s %d) */\n", pr->xname, pr->prog->name, (int)pr->number);
        if (cs == CS_STREAM)
            sb_printf(o,
                      "/* Opens a stream (%s): call and wait; on success *st is the stream\n"
                      " * (release with vrpc_stream_free(), see <virtrpc/stream.h>)%s. */\n",
                      pr->stream == 1 ? "the daemon sends" : "the client sends",
                      ret ? " and *ret the reply (release with vrpc_free())" : "");
        else
            sb_printf(o,
                      "/* Passes descriptors (Unix sockets only; see vrpc_call_fds()):%s%s\n"
                      " * call and wait%s. */\n",
                      fds & FDS_IN
                          ? "\n * in_fds[0..n_in) go with the call (duplicated; the caller keeps "
                            "its own);"
                          : "",
                      fds & FDS_OUT
                          ? "\n * on success *out_fds (release with vrpc_free()) holds *n_out "
                            "descriptors the caller owns and closes;"
                          : "",
                      ret ? "; release the reply *ret with vrpc_free()" : "");
    }
    sb_printf(o, "VRPC_EXPORT int vrpc_%s(vrpc_conn *c", n);
    if (args)
        sb_printf(o, ", const %s *args", args);
    if (cs == CS_FDS && (fds & FDS_IN))
        sb_puts(o, ", const int *in_fds, size_t n_in");
    if (ret)
        sb_printf(o, ", %s **ret", ret);
    if (cs == CS_STREAM)
        sb_puts(o, ", vrpc_stream **st");
    if (cs == CS_FDS && (fds & FDS_OUT))
        sb_puts(o, ", int **out_fds, size_t *n_out");
    sb_puts(o, ", vrpc_error **err)");
    if (!definition) {
        sb_puts(o, ";\n");
        return;
    }
    sb_puts(o, "\n{\n");
    if (ret)
        sb_puts(o, "    void *r = NULL;\n");
    sb_puts(o, "    int rc = ");
    if (cs == CS_STREAM)
        sb_printf(o, "vrpc_stream_call(c, &vrpc_pd_%s, %s, %s, st, err);\n", n,
                  args ? "args" : "NULL", ret ? "ret ? &r : NULL" : "NULL");
    else
        sb_printf(o, "vrpc_call_fds(c, &vrpc_pd_%s, %s, %s, %s, %s, err);\n", n,
                  args ? "args" : "NULL", fds & FDS_IN ? "in_fds, n_in" : "NULL, 0",
                  ret ? "ret ? &r : NULL" : "NULL",
                  fds & FDS_OUT ? "out_fds, n_out" : "NULL, NULL");
    if (ret)
        sb_printf(o, "    if (ret)\n        *ret = (%s *)r;\n", ret);
    sb_puts(o, "    return rc;\n}\n\n");
}

static bool has_fixup(const proc *pr)
{
    return proc_need_results(pr) || proc_string_okay(pr);
}

void emit_call_helpers(sbuf *o)
{
    bool any = false;
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        for (size_t j = 0; pg->has_procs && j < pg->nprocs; j++) {
            const proc *pr = pg->procs[j];
            if (!proc_need_results(pr))
                continue;
            if (!any)
                sb_puts(o, "/* The arguments as sent: need_results = 1 (libvirt's client sends 1 "
                           "whenever its caller asks for the list). */\n");
            any = true;
            const char *a = pr->args->cname;
            sb_printf(o,
                      "static const %s *xargs_%s(const %s *args, %s *copy)\n{\n"
                      "    if (!args)\n        return NULL;\n    *copy = *args;\n"
                      "    copy->need_results = 1;\n    return copy;\n}\n\n",
                      a, pr->short_name, a, a);
        }
    }
    if (!any_string_okay)
        return;
    const proc *sf = supports_feature;
    sb_printf(
        o,
        "/* Whether the daemon takes string typed parameters "
        "(VIR_DRV_FEATURE_TYPED_PARAM_STRING):\n"
        " * 1, 0, or a negative VRPC_E_* (*err set). A daemon without the procedure says no. */\n"
        "static int xstring_okay(vrpc_conn *c, vrpc_error **err)\n{\n"
        "    %s a = {.feature = %d};\n"
        "    void *r = NULL;\n    vrpc_error *e = NULL;\n"
        "    int rc = vrpc_call(c, &vrpc_pd_%s, &a, &r, &e);\n"
        "    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {\n"
        "        vrpc_free(e);\n        return 0;\n    }\n"
        "    if (rc < 0) {\n        if (err)\n            *err = e;\n        else\n"
        "            vrpc_free(e);\n        return rc;\n    }\n"
        "    rc = ((const %s *)r)->supported != 0;\n    vrpc_free(r);\n    return rc;\n}\n\n",
        sf->args->cname, FEATURE_TYPED_PARAM_STRING, sf->short_name, sf->ret->cname);
}

void emit_blocking_body(sbuf *o, const proc *pr)
{
    const char *n = pr->short_name;
    const char *args = pr->args ? pr->args->cname : NULL;
    const char *ret = pr->ret ? pr->ret->cname : NULL;

    if (!has_fixup(pr)) {
        if (ret)
            sb_printf(o,
                      "{\n    void *r = NULL;\n"
                      "    int rc = vrpc_call(c, &vrpc_pd_%s, %s, ret ? &r : NULL, err);\n"
                      "    if (ret)\n        *ret = (%s *)r;\n    return rc;\n}\n\n",
                      n, args ? "args" : "NULL", ret);
        else
            sb_printf(o, "{\n    return vrpc_call(c, &vrpc_pd_%s, %s, NULL, err);\n}\n\n", n,
                      args ? "args" : "NULL");
        return;
    }
    /* need_results and STRING_OKAY both need arguments */
    sb_puts(o, "{\n");
    if (ret)
        sb_puts(o, "    void *r = NULL;\n");
    sb_printf(o, "    %s a;\n    const %s *sent = NULL;\n    int rc;\n", args, args);
    if (ret)
        sb_puts(o, "    if (ret)\n        *ret = NULL;\n");
    sb_puts(o, "    if (args) {\n        a = *args;\n");
    if (proc_need_results(pr))
        sb_puts(o, "        a.need_results = 1;\n");
    if (proc_string_okay(pr))
        sb_puts(o,
                "        rc = xstring_okay(c, err);\n        if (rc < 0)\n            return rc;\n"
                "        if (rc)\n            a.flags |= VRPC_TYPED_PARAM_STRING_OKAY;\n");
    sb_puts(o, "        sent = &a;\n    }\n");
    sb_printf(o, "    rc = vrpc_call(c, &vrpc_pd_%s, sent, %s, err);\n", n,
              ret ? "ret ? &r : NULL" : "NULL");
    if (ret)
        sb_printf(o, "    if (ret)\n        *ret = (%s *)r;\n", ret);
    sb_puts(o, "    return rc;\n}\n\n");
}

const char *send_args_expr(const proc *pr)
{
    if (!pr->args)
        return "NULL";
    if (!proc_need_results(pr))
        return "args";
    return xasprintf("xargs_%s(args, &(%s){.need_results = 1})", pr->short_name, pr->args->cname);
}
