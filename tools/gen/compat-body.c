/* SPDX-License-Identifier: MIT */
/*
 * virtrpc-gen: mechanical bodies of the libvirt-compatible libraries.
 *
 * A public function gets a generated body when a remote procedure annotated
 * `@generate: both` or `client` matches its name (docs/generated-api.md) and
 * every C parameter and every member of the procedure's arguments and reply
 * maps by one of the rules below; the C prototype is the authority for the
 * C side, the .x structs for the wire. Anything else is a stub.
 *
 *   C parameter / return               .x member
 *   first virConnectPtr                (the connection: no member)
 *   virDomainPtr, virNetworkPtr, ...   remote_nonnull_domain, ...
 *   const char * (NULL refused)        remote_nonnull_string
 *   const char * (NULL allowed)        remote_string
 *   integers of the same signedness    int, unsigned int, hyper, ...
 *     and a size at least the .x one's (unsigned long <-> unsigned hyper)
 *   const unsigned char *uuid          remote_uuid
 *   unsigned char *p, int n            opaque p<MAX>
 *   const char **p, int n              remote_nonnull_string p<MAX>
 *   virTypedParameterPtr p, int n      remote_typed_param p<MAX>
 *   returned value                     the one reply member left
 *   T *out (by name)                   reply member `out`
 *   struct pointer                     reply members = the struct's fields
 *   char **const names, int maxnames   args `maxnames`, reply `names<MAX>`
 *   int *ids, int maxids               args `maxids`, reply `ids<MAX>`
 */
#include "emit-compat.h"

#include "ast.h"
#include "calls.h"
#include "cheaders.h"

#include <stdio.h>
#include <string.h>

/* Set by emit_compat(): the hand-written files define these helpers. */
bool compat_have_params_to_wire;

/* ---- procedures by public name ---- */

static smap proc_by_key;
static bool procs_indexed;

/* "virDomainGetXMLDesc" -> "domaingetxmldesc" */
static char *api_key(const char *name)
{
    if (strncmp(name, "vir", 3) != 0)
        return NULL;
    char *k = str_lower(name + 3);
    return k;
}

/* remote domain_get_xml_desc -> "domaingetxmldesc"; qemu domain_monitor_command
 * -> "domainqemumonitorcommand" (the program's name after "domain"). */
static char *proc_key(const program *pg, const proc *pr)
{
    const char *sn = pr->short_name;
    size_t pl = strlen(pg->name);
    bool remote = strcmp(pg->name, "remote") == 0;
    if (!remote && strncmp(sn, pg->name, pl) == 0 && sn[pl] == '_')
        sn += pl + 1;
    sbuf b = {0};
    for (const char *p = sn; *p; p++)
        if (*p != '_')
            sb_putc(&b, *p);
    const char *k = sb_str(&b);
    if (remote)
        return xstrdup(k);
    const char *d = strstr(k, "domain");
    if (!d)
        return NULL;
    size_t at = (size_t)(d - k) + 6;
    return xasprintf("%.*s%s%s", (int)at, k, pg->name, k + at);
}

static void index_procs(void)
{
    if (procs_indexed)
        return;
    procs_indexed = true;
    for (size_t i = 0; i < G.programs.n; i++) {
        program *pg = G.programs.v[i];
        if (strcmp(pg->name, "remote") != 0 && strcmp(pg->name, "qemu") != 0 &&
            strcmp(pg->name, "lxc") != 0)
            continue;
        for (size_t j = 0; j < pg->nprocs; j++) {
            proc *pr = pg->procs[j];
            char *k = proc_key(pg, pr);
            if (k && !smap_get(&proc_by_key, k))
                smap_put(&proc_by_key, k, pr);
        }
    }
}

/* ---- types ---- */

typedef struct cint {
    int size; /* bytes */
    bool is_signed;
} cint;

static bool c_int_type(const char *t, cint *o)
{
    static const struct {
        const char *name;
        int size;
        bool is_signed;
    } tab[] = {
        {"char", 1, true},           {"signed char", 1, true},     {"unsigned char", 1, false},
        {"short", 2, true},          {"unsigned short", 2, false}, {"int", 4, true},
        {"unsigned int", 4, false},  {"unsigned", 4, false},       {"long", 8, true},
        {"unsigned long", 8, false}, {"long long", 8, true},       {"unsigned long long", 8, false},
        {"size_t", 8, false},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(t, tab[i].name) == 0) {
            o->size = tab[i].size;
            o->is_signed = tab[i].is_signed;
            return true;
        }
    if (cproto_is_enum_typedef(t)) {
        o->size = 4;
        o->is_signed = true;
        return true;
    }
    return false;
}

static bool x_int_type(const decl *d, cint *o)
{
    if (d->form != DF_PLAIN)
        return false;
    switch (d->base) {
    case BK_CHAR:
        *o = (cint){1, true};
        return true;
    case BK_UCHAR:
        *o = (cint){1, false};
        return true;
    case BK_SHORT:
        *o = (cint){2, true};
        return true;
    case BK_USHORT:
        *o = (cint){2, false};
        return true;
    case BK_INT:
        *o = (cint){4, true};
        return true;
    case BK_UINT:
        *o = (cint){4, false};
        return true;
    case BK_HYPER:
        *o = (cint){8, true};
        return true;
    case BK_UHYPER:
        *o = (cint){8, false};
        return true;
    default:
        return false;
    }
}

/* Can a value of integer type `from` be stored in `to` without loss? */
static bool int_fits(cint from, cint to)
{
    if (from.is_signed && !to.is_signed)
        return false;
    if (!from.is_signed && to.is_signed)
        return to.size > from.size;
    return to.size >= from.size;
}

static bool named(const decl *d, const char *type)
{
    return d->base == BK_NAMED && d->type_name && strcmp(d->type_name, type) == 0;
}

/* The object helper name of a remote_nonnull_X member ("domain"), or NULL. */
static const char *x_object(const decl *d)
{
    if (d->form != DF_PLAIN || d->base != BK_NAMED || !d->type_name)
        return NULL;
    if (strncmp(d->type_name, "remote_nonnull_", 15) != 0)
        return NULL;
    const char *h = d->type_name + 15;
    if (strcmp(h, "string") == 0)
        return NULL;
    return h;
}

static const objkind *c_object(const char *ctype, const char *helper)
{
    const objkind *k = compat_objkind(ctype);
    if (!k || !k->helper || (helper && strcmp(k->helper, helper) != 0))
        return NULL;
    return k;
}

static bool c_is_string(const char *t)
{
    return strcmp(t, "const char *") == 0 || strcmp(t, "char *") == 0;
}

/* The error domain of libvirt's argument checks for a function declared in
 * this header (VIR_FROM_THIS of the matching src/libvirt-*.c). */
static const char *header_domain(const char *file)
{
    static const char *const tab[][2] = {
        {"libvirt-domain.h", "VIR_FROM_DOMAIN"},
        {"libvirt-domain-snapshot.h", "VIR_FROM_DOMAIN_SNAPSHOT"},
        {"libvirt-domain-checkpoint.h", "VIR_FROM_DOMAIN_CHECKPOINT"},
        {"libvirt-host.h", "VIR_FROM_DOMAIN"},
        {"libvirt-interface.h", "VIR_FROM_INTERFACE"},
        {"libvirt-network.h", "VIR_FROM_NETWORK"},
        {"libvirt-nodedev.h", "VIR_FROM_NODEDEV"},
        {"libvirt-nwfilter.h", "VIR_FROM_NWFILTER"},
        {"libvirt-secret.h", "VIR_FROM_SECRET"},
        {"libvirt-storage.h", "VIR_FROM_STORAGE"},
        {"libvirt-stream.h", "VIR_FROM_STREAMS"},
        {"libvirt-qemu.h", "VIR_FROM_NONE"},
        {"libvirt-lxc.h", "VIR_FROM_NONE"},
    };
    const char *b = path_basename(file);
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcmp(b, tab[i][0]) == 0)
            return tab[i][1];
    return NULL;
}

static bool perm_reads(const char *perm, size_t n)
{
    return (n == 4 && memcmp(perm, "read", 4) == 0) ||
           (n == 7 && memcmp(perm, "getattr", 7) == 0) ||
           (n > 7 && memcmp(perm, "search_", 7) == 0);
}

/*
 * The read-only checks of a procedure, from its @acl permissions: libvirt
 * refuses a call on a read-only connection (compat_readonly():
 * VIR_ERR_OPERATION_DENIED in the function's error domain) when it needs a permission other than
 * read, getattr or search_* (`none` needs nothing). An unconditional permission gives an
 * unconditional check; one that applies with a flag
 * (`domain:read_secure:VIR_DOMAIN_XML_SECURE`) a check when the caller's
 * `flags` has that flag. Conditions with '!' or '|' are left to the daemon.
 */
static void readonly_check(sbuf *o, const char *cond)
{
    sb_printf(o, "    if (%scompat_readonly(vc_conn))\n        goto vc_error;\n", cond);
}

static void readonly_checks(sbuf *o, const proc *pr, const cfunc *f)
{
    if (!pr->acl)
        return;
    bool has_flags = false;
    for (size_t i = 0; i < f->nparams; i++)
        if (strcmp(f->params[i].name, "flags") == 0)
            has_flags = true;
    bool always = false;
    pvec conds = {0};
    const char *p = pr->acl;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *one = xstrndup(p, n);
        p += n + (e ? 1 : 0);
        char *perm = strchr(one, ':');
        if (!perm)
            continue;
        perm++;
        char *cond = strchr(perm, ':');
        size_t pl = cond ? (size_t)(cond - perm) : strlen(perm);
        if (perm_reads(perm, pl))
            continue;
        if (!cond) {
            always = true;
            continue;
        }
        cond++;
        bool ident = *cond != '\0';
        for (const char *c = cond; *c; c++)
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                ident = false;
        xval v;
        loc w;
        if (ident && has_flags && headers_value(cond, &v, &w) == HC_INT)
            pv_push(&conds, cond);
    }
    if (always) {
        readonly_check(o, "");
        return;
    }
    for (size_t i = 0; i < conds.n; i++)
        readonly_check(o, xasprintf("(flags & %s) && ", (const char *)conds.v[i]));
}

/*
 * Argument checks of libvirt's public API that neither the prototype nor the
 * .x tells (documented limits of single parameters): NONNULL for a string the
 * wire could carry as NULL, NONNEG (>= 0), NONZERO, POSITIVE (> 0).
 */
enum { CK_NONNULL, CK_NONNEG, CK_NONZERO, CK_POSITIVE };
static const struct {
    const char *func;
    const char *param;
    int kind;
} value_checks[] = {
    {"virDomainLookupByID", "id", CK_NONNEG},
    {"virDomainSetMaxMemory", "memory", CK_NONZERO},
    {"virDomainSetMemory", "memory", CK_NONZERO},
    {"virDomainSetMemoryFlags", "memory", CK_NONZERO},
    {"virDomainSetVcpus", "nvcpus", CK_NONZERO},
    {"virDomainSetVcpusFlags", "nvcpus", CK_NONZERO},
    {"virDomainSendKey", "keycodes", CK_NONNULL},
    {"virDomainSendKey", "nkeycodes", CK_POSITIVE},
    {"virDomainSendProcessSignal", "pid_value", CK_NONZERO},
    {"virDomainSetMemoryStatsPeriod", "period", CK_NONNEG},
    {"virDomainDelIOThread", "iothread_id", CK_NONZERO},
    {"virDomainSetUserPassword", "user", CK_NONNULL},
    {"virDomainSetUserPassword", "password", CK_NONNULL},
    {"virDomainPinVcpu", "maplen", CK_POSITIVE},
    {"virDomainPinVcpuFlags", "maplen", CK_POSITIVE},
    {"virDomainPinEmulator", "maplen", CK_POSITIVE},
    {"virDomainPinIOThread", "maplen", CK_POSITIVE},
    {"virDomainQemuAttach", "pid_value", CK_NONZERO},
};

static void value_check_code(sbuf *o, const cfunc *f, const char *dom)
{
    for (size_t i = 0; i < sizeof(value_checks) / sizeof(value_checks[0]); i++) {
        if (strcmp(value_checks[i].func, f->name) != 0)
            continue;
        const char *pn = value_checks[i].param;
        const cparam *p = NULL;
        for (size_t k = 0; k < f->nparams; k++)
            if (strcmp(f->params[k].name, pn) == 0)
                p = &f->params[k];
        if (!p)
            continue; /* another release's prototype */
        cint ci;
        bool is_int = c_int_type(p->type, &ci);
        int kind = value_checks[i].kind;
        if (kind == CK_NONNULL ? is_int : !is_int)
            continue;
        if (!ci.is_signed && kind == CK_NONNEG)
            continue;
        if (!ci.is_signed && kind == CK_POSITIVE)
            kind = CK_NONZERO;
        static const char *const op[] = {"!", " < 0", " == 0", " <= 0"};
        if (kind == CK_NONNULL)
            sb_printf(o, "    if (!%s", pn);
        else
            sb_printf(o, "    if (%s%s", pn, op[kind]);
        sb_printf(o,
                  ") {\n"
                  "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                  "        goto vc_error;\n"
                  "    }\n",
                  dom, pn);
    }
}

/* ---- matching ---- */

typedef struct gen {
    const cfunc *f;
    const proc *pr;
    const char *dom;        /* error domain constant */
    bool *used;             /* C parameters consumed */
    sbuf decls;             /* declarations at the top */
    sbuf checks;            /* argument checks */
    sbuf fill;              /* filling vc_args */
    sbuf after;             /* reply to C, on success */
    sbuf cleanup;           /* on both paths, before returning */
    const char **sent_from; /* per args member: the C parameter it was sent from */
    const char *ret_expr;   /* the value returned on success */
    const char *why;
} gen;

/* Names compared without case and '_' (hv_ver and hvVer). */
static bool same_name(const char *a, const char *b)
{
    for (;;) {
        while (*a == '_')
            a++;
        while (*b == '_')
            b++;
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
        if (!x)
            return true;
        a++;
        b++;
    }
}

static int param_index(const gen *g, const char *name)
{
    for (size_t i = 0; i < g->f->nparams; i++)
        if (!g->used[i] && same_name(g->f->params[i].name, name))
            return (int)i;
    return -1;
}

static bool name_in(const ntype *st, const char *name)
{
    if (!st)
        return false;
    for (size_t i = 0; i < st->nfields; i++)
        if (st->fields[i].name && same_name(st->fields[i].name, name))
            return true;
    return false;
}

/* The C parameter for an args member: the one of the same name, else the
 * first one left whose name is none of the args' or reply's. */
static int pick_param(const gen *g, const decl *d)
{
    int i = param_index(g, d->name);
    if (i >= 0)
        return i;
    for (size_t k = 0; k < g->f->nparams; k++) {
        if (g->used[k])
            continue;
        const char *n = g->f->params[k].name;
        if (name_in(g->pr->args, n) || name_in(g->pr->ret, n))
            continue;
        return (int)k;
    }
    return -1;
}

static void nonnull_check(gen *g, const char *name)
{
    sb_printf(&g->checks,
              "    if (!%s) {\n"
              "        compat_invalid_arg(%s, __func__, \"%s\");\n"
              "        goto vc_error;\n"
              "    }\n",
              name, g->dom, name);
}

/* The count parameter right after an array parameter. */
static int count_param(gen *g, int arr, cint *ci)
{
    size_t k = (size_t)arr + 1;
    if (k >= g->f->nparams || g->used[k])
        return -1;
    if (!c_int_type(g->f->params[k].type, ci))
        return -1;
    return (int)k;
}

static bool map_arg(gen *g, const decl *d)
{
    const char *m = d->name;
    int i = pick_param(g, d);
    if (i < 0) {
        g->why = xasprintf("no C parameter for the argument '%s'", m);
        return false;
    }
    const cparam *p = &g->f->params[i];
    const char *t = p->type;
    const char *h = x_object(d);
    cint xi, ci;
    if (h) {
        const objkind *k = c_object(t, h);
        if (!k) {
            g->why =
                xasprintf("argument '%s' (%s) vs parameter '%s' (%s)", m, d->type_name, p->name, t);
            return false;
        }
        if (i != 0)
            sb_printf(&g->checks,
                      "    if (!compat_obj_conn(%s, %s))\n"
                      "        goto vc_error;\n",
                      p->name, k->kind);
        sb_printf(&g->fill, "    compat_%s_to(%s, &vc_args.%s);\n", h, p->name, m);
    } else if (named(d, "remote_nonnull_string") && d->form == DF_PLAIN &&
               strcmp(t, "virNodeDevicePtr") == 0 && strcmp(m, "name") == 0) {
        /* node devices travel by name */
        if (i != 0)
            sb_printf(&g->checks,
                      "    if (!compat_obj_conn(%s, COMPAT_NODE_DEVICE))\n"
                      "        goto vc_error;\n",
                      p->name);
        sb_printf(&g->fill, "    vc_args.%s = %s->name;\n", m, p->name);
    } else if (named(d, "remote_nonnull_string") && d->form == DF_PLAIN) {
        if (!c_is_string(t))
            goto mismatch;
        nonnull_check(g, p->name);
        sb_printf(&g->fill, "    vc_args.%s = %s;\n", m, p->name);
    } else if (named(d, "remote_string") && d->form == DF_PLAIN) {
        if (!c_is_string(t))
            goto mismatch;
        sb_printf(&g->fill, "    vc_args.%s = %s;\n", m, p->name);
    } else if (named(d, "remote_uuid") && d->form == DF_PLAIN) {
        if (strcmp(t, "const unsigned char *") != 0 && strcmp(t, "unsigned char *") != 0)
            goto mismatch;
        nonnull_check(g, p->name);
        sb_printf(&g->fill, "    memcpy(vc_args.%s, %s, VIR_UUID_BUFLEN);\n", m, p->name);
    } else if (x_int_type(d, &xi)) {
        if (!c_int_type(t, &ci) || !int_fits(ci, xi))
            goto mismatch;
        sb_printf(&g->fill, "    vc_args.%s = %s;\n", m, p->name);
    } else if (d->form == DF_VAR && d->base == BK_OPAQUE) {
        if (strcmp(t, "const unsigned char *") != 0 && strcmp(t, "unsigned char *") != 0 &&
            strcmp(t, "const char *") != 0 && strcmp(t, "char *") != 0)
            goto mismatch;
        int n = count_param(g, i, &ci);
        if (n < 0) {
            g->why = xasprintf("no length parameter after '%s'", p->name);
            return false;
        }
        const char *cn = g->f->params[n].name;
        g->used[n] = true;
        nonnull_check(g, p->name);
        if (ci.is_signed)
            sb_printf(&g->checks,
                      "    if (%s < 0) {\n"
                      "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                      "        goto vc_error;\n"
                      "    }\n",
                      cn, g->dom, cn);
        sb_printf(&g->checks,
                  "    if ((unsigned long long)%s > %uu) {\n"
                  "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                  "        goto vc_error;\n"
                  "    }\n",
                  cn, d->bound, g->dom, cn);
        sb_printf(&g->fill,
                  "    vc_args.%s.len = (uint32_t)%s;\n"
                  "    vc_args.%s.data = (uint8_t *)%s;\n",
                  m, cn, m, p->name);
    } else if (d->form == DF_VAR && named(d, "remote_nonnull_string")) {
        if (strcmp(t, "const char **") != 0 && strcmp(t, "char **") != 0)
            goto mismatch;
        int n = count_param(g, i, &ci);
        if (n < 0) {
            g->why = xasprintf("no count parameter after '%s'", p->name);
            return false;
        }
        const char *cn = g->f->params[n].name;
        g->used[n] = true;
        sb_printf(&g->checks,
                  "    if (%s%s > %uu || (!%s && %s)) {\n"
                  "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                  "        goto vc_error;\n"
                  "    }\n",
                  ci.is_signed ? xasprintf("%s < 0 || (unsigned long long)", cn)
                               : "(unsigned long long)",
                  cn, d->bound, p->name, cn, g->dom, ci.is_signed ? cn : p->name);
        sb_printf(&g->fill,
                  "    vc_args.%s.n = (uint32_t)%s;\n"
                  "    vc_args.%s.items = (vrpc_nonnull_string *)%s;\n",
                  m, cn, m, p->name);
    } else if (d->form == DF_VAR && (d->base == BK_UINT || d->base == BK_INT)) {
        const char *want = d->base == BK_UINT ? "unsigned int *" : "int *";
        const char *wantc = d->base == BK_UINT ? "const unsigned int *" : "const int *";
        if (strcmp(t, want) != 0 && strcmp(t, wantc) != 0)
            goto mismatch;
        int n = count_param(g, i, &ci);
        if (n < 0) {
            g->why = xasprintf("no count parameter after '%s'", p->name);
            return false;
        }
        const char *cn = g->f->params[n].name;
        g->used[n] = true;
        sb_printf(&g->checks,
                  "    if (%s%s > %uu || (!%s && %s)) {\n"
                  "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                  "        goto vc_error;\n"
                  "    }\n",
                  ci.is_signed ? xasprintf("%s < 0 || (unsigned long long)", cn)
                               : "(unsigned long long)",
                  cn, d->bound, p->name, cn, g->dom, ci.is_signed ? cn : p->name);
        sb_printf(&g->fill,
                  "    vc_args.%s.n = (uint32_t)%s;\n"
                  "    vc_args.%s.items = (%s *)%s;\n",
                  m, cn, m, d->base == BK_UINT ? "uint32_t" : "int32_t", p->name);
    } else if (d->form == DF_VAR && named(d, "remote_typed_param")) {
        if (!compat_have_params_to_wire) {
            g->why = "typed parameters (compat_params_to_wire not written yet)";
            return false;
        }
        if (strcmp(t, "virTypedParameterPtr") != 0 && strcmp(t, "virTypedParameter *") != 0)
            goto mismatch;
        int n = count_param(g, i, &ci);
        if (n < 0 || !ci.is_signed || ci.size != 4) {
            g->why = xasprintf("no int count parameter after '%s'", p->name);
            return false;
        }
        const char *cn = g->f->params[n].name;
        g->used[n] = true;
        sb_printf(&g->checks,
                  "    if (%s < 0 || %s > %u || (!%s && %s)) {\n"
                  "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                  "        goto vc_error;\n"
                  "    }\n",
                  cn, cn, d->bound, p->name, cn, g->dom, cn);
        sb_puts(&g->decls, "    vrpc_typed_param *vc_params = NULL;\n");
        sb_printf(&g->fill,
                  "    if (compat_params_to_wire(%s, %s, &vc_params) < 0)\n"
                  "        goto vc_error;\n"
                  "    vc_args.%s.n = (uint32_t)%s;\n"
                  "    vc_args.%s.items = vc_params;\n",
                  p->name, cn, m, cn, m);
        sb_puts(&g->cleanup, "    free(vc_params);\n");
    } else {
        g->why = xasprintf("argument '%s': no rule for its type", m);
        return false;
    }
    g->used[i] = true;
    g->sent_from[d - g->pr->args->fields] = p->name;
    return true;
mismatch:
    g->why = xasprintf("argument '%s' vs parameter '%s' (%s)", m, p->name, t);
    return false;
}

/* Reply member `d` into the C lvalue `dst` of C type `t`; false if no rule.
 * `loose`: a struct field, where the C struct and the .x may disagree on the
 * signedness of a member of the same size (virNodeInfo's cpus). */
static bool store(gen *g, const char *dst, const char *t, const decl *d, const char *src,
                  bool loose)
{
    cint xi, ci;
    if (x_int_type(d, &xi)) {
        if (!c_int_type(t, &ci))
            return false;
        bool ok = int_fits(xi, ci) || (strcmp(t, "unsigned long") == 0 && d->base == BK_UHYPER) ||
                  (loose && ci.size >= xi.size);
        if (!ok)
            return false;
        sb_printf(&g->after, "    %s = (%s)%s;\n", dst, t, src);
        return true;
    }
    if (d->form == DF_FIXED && d->base == BK_CHAR)
        return false; /* handled by the struct rule */
    if (named(d, "remote_nonnull_string") && d->form == DF_PLAIN && strcmp(t, "char *") == 0) {
        sb_printf(&g->after,
                  "    if (!(%s = compat_strdup(%s)))\n"
                  "        goto vc_error;\n",
                  dst, src);
        return true;
    }
    return false;
}

/* Every reply member into the fields of a struct (`dst` is "info->" or
 * "vc_s."). */
static bool store_struct(gen *g, const char *dst, const cstruct *cs)
{
    const ntype *r = g->pr->ret;
    if (cs->nfields != r->nfields)
        return false;
    for (size_t i = 0; i < r->nfields; i++) {
        const decl *d = &r->fields[i];
        const cfield *cf = NULL;
        for (size_t k = 0; k < cs->nfields; k++)
            if (same_name(cs->fields[k].name, d->name))
                cf = &cs->fields[k];
        if (!cf || !*cf->type)
            return false;
        char *to = xasprintf("%s%s", dst, cf->name);
        char *src = xasprintf("vc_ret->%s", d->name);
        if (cf->dim) {
            if (!(d->form == DF_FIXED && d->base == BK_CHAR && strcmp(cf->type, "char") == 0))
                return false;
            sb_printf(&g->after,
                      "    memcpy(%s, %s, sizeof(%s) < sizeof(%s) ? sizeof(%s) : sizeof(%s));\n"
                      "    %s[sizeof(%s) - 1] = '\\0';\n",
                      to, src, to, src, to, src, to, to);
            continue;
        }
        if (!store(g, to, cf->type, d, src, true))
            return false;
    }
    return true;
}

/* A caller-sized list: reply `names<MAX>` into `char **const names` with
 * the count argument already sent (maxnames). */
static bool store_list(gen *g, const cparam *p, const decl *d)
{
    bool strings = named(d, "remote_nonnull_string");
    bool ints = d->base == BK_INT;
    if (d->form != DF_VAR || !(strings || ints))
        return false;
    if (strings && strcmp(p->type, "char **const") != 0 && strcmp(p->type, "char **") != 0)
        return false;
    if (ints && strcmp(p->type, "int *") != 0)
        return false;
    /* the count: an args member "max..." sent from an int parameter */
    const ntype *a = g->pr->args;
    const char *max = NULL;
    for (size_t i = 0; a && i < a->nfields; i++)
        if (strncmp(a->fields[i].name, "max", 3) == 0 && a->fields[i].base == BK_INT &&
            a->fields[i].form == DF_PLAIN)
            max = g->sent_from[i];
    if (!max || strcmp(g->f->ret, "int") != 0)
        return false;
    sb_printf(&g->checks,
              "    if (%s < 0 || (!%s && %s > 0)) {\n"
              "        compat_invalid_arg(%s, __func__, %s < 0 ? \"%s\" : \"%s\");\n"
              "        goto vc_error;\n"
              "    }\n",
              max, p->name, max, g->dom, max, max, p->name);
    sb_printf(&g->after,
              "    if (vc_ret->%s.n > (uint32_t)%s) {\n"
              "        compat_error(VIR_FROM_REMOTE, VIR_ERR_RPC,\n"
              "                     \"the daemon sent %%u items for a list of at most %%d\",\n"
              "                     vc_ret->%s.n, %s);\n"
              "        goto vc_error;\n"
              "    }\n",
              d->name, max, d->name, max);
    if (ints) {
        sb_printf(&g->after,
                  "    for (uint32_t vc_i = 0; vc_i < vc_ret->%s.n; vc_i++)\n"
                  "        %s[vc_i] = vc_ret->%s.items[vc_i];\n",
                  d->name, p->name, d->name);
    } else {
        sb_printf(&g->after,
                  "    for (uint32_t vc_i = 0; vc_i < vc_ret->%s.n; vc_i++) {\n"
                  "        if (!(%s[vc_i] = compat_strdup(vc_ret->%s.items[vc_i]))) {\n"
                  "            for (uint32_t vc_j = 0; vc_j < vc_i; vc_j++) {\n"
                  "                free(%s[vc_j]);\n"
                  "                %s[vc_j] = NULL;\n"
                  "            }\n"
                  "            goto vc_error;\n"
                  "        }\n"
                  "    }\n",
                  d->name, p->name, d->name, p->name, p->name);
    }
    g->ret_expr = xasprintf("(int)vc_ret->%s.n", d->name);
    return true;
}

static bool map_reply(gen *g)
{
    const ntype *r = g->pr->ret;
    const cfunc *f = g->f;
    size_t left = 0;
    for (size_t i = 0; i < f->nparams; i++)
        if (!g->used[i])
            left++;
    if (!r) {
        if (left) {
            g->why = "C parameters left and no reply";
            return false;
        }
        if (strcmp(f->ret, "int") != 0) {
            g->why = xasprintf("returns %s and the procedure has no reply", f->ret);
            return false;
        }
        g->ret_expr = "0";
        return true;
    }
    bool *done = xmalloc((r->nfields ? r->nfields : 1) * sizeof(bool));
    /* Out parameters by name. */
    for (size_t i = 0; i < r->nfields; i++) {
        const decl *d = &r->fields[i];
        int k = param_index(g, d->name);
        if (k < 0)
            continue;
        const cparam *p = &f->params[k];
        size_t tl = strlen(p->type);
        if (d->form == DF_VAR) {
            if (!store_list(g, p, d)) {
                g->why = xasprintf("reply list '%s' into '%s' (%s)", d->name, p->name, p->type);
                return false;
            }
        } else {
            /* T *name: "int *" -> "int", "char **" -> "char *" */
            if (tl < 2 || p->type[tl - 1] != '*') {
                g->why =
                    xasprintf("reply member '%s' vs parameter %s (%s)", d->name, p->name, p->type);
                return false;
            }
            size_t bl = tl - 1;
            while (bl > 0 && p->type[bl - 1] == ' ')
                bl--;
            char *base = xstrndup(p->type, bl);
            char *dst = xasprintf("*%s", p->name);
            if (!store(g, dst, base, d, xasprintf("vc_ret->%s", d->name), false)) {
                g->why =
                    xasprintf("reply member '%s' vs parameter %s (%s)", d->name, p->name, p->type);
                return false;
            }
            nonnull_check(g, p->name);
        }
        g->used[k] = true;
        done[i] = true;
        left--;
    }
    size_t rleft = 0, last = 0;
    for (size_t i = 0; i < r->nfields; i++)
        if (!done[i]) {
            rleft++;
            last = i;
        }
    size_t k = 0;
    while (k < f->nparams && g->used[k])
        k++;
    bool sized = left == 2 && k + 1 < f->nparams && !g->used[k + 1] &&
                 strcmp(f->params[k + 1].type, "size_t") == 0;
    if ((left == 1 || sized) && rleft > 1 && rleft == r->nfields) {
        /* A struct pointer taking every reply member; with a size_t after
         * it, the caller's struct may be an older, shorter one. */
        const cparam *p = &f->params[k];
        bool ptr = false;
        const cstruct *cs = cproto_struct_of(p->type, &ptr);
        if (!cs || !ptr || !store_struct(g, sized ? "vc_s." : xasprintf("%s->", p->name), cs)) {
            g->why = xasprintf("reply into '%s' (%s)", p->name, p->type);
            return false;
        }
        nonnull_check(g, p->name);
        g->used[k] = true;
        if (sized) {
            const char *sz = f->params[k + 1].name;
            sb_printf(&g->decls, "    %s vc_s;\n", cs->tag);
            sb_printf(&g->checks,
                      "    if (%s > sizeof(vc_s)) {\n"
                      "        compat_invalid_arg(%s, __func__, \"%s\");\n"
                      "        goto vc_error;\n"
                      "    }\n"
                      "    memset(&vc_s, 0, sizeof(vc_s));\n",
                      sz, g->dom, sz);
            sb_printf(&g->after, "    memcpy(%s, &vc_s, %s);\n", p->name, sz);
            g->used[k + 1] = true;
        }
        left = 0;
        rleft = 0;
    }
    if (left) {
        for (size_t i = 0; i < f->nparams; i++)
            if (!g->used[i]) {
                g->why = xasprintf("parameter '%s' (%s) matches nothing", f->params[i].name,
                                   f->params[i].type);
                break;
            }
        return false;
    }
    if (rleft > 1) {
        g->why = "several reply members left";
        return false;
    }
    if (rleft == 0) {
        if (!g->ret_expr) {
            if (strcmp(f->ret, "int") != 0) {
                g->why = xasprintf("returns %s and nothing is left to return", f->ret);
                return false;
            }
            g->ret_expr = "0";
        }
        return true;
    }
    if (g->ret_expr) {
        g->why = "a list and another reply member";
        return false;
    }
    /* The one member left is the returned value. */
    const decl *d = &r->fields[last];
    const char *h = x_object(d);
    cint xi, ci;
    if (h && strcmp(h, "domain") == 0 && strcmp(f->ret, "int") == 0 &&
        strcmp(f->params[0].type, "virDomainPtr") == 0) {
        /* The domain started: its new id. */
        sb_printf(&g->after, "    %s->id = vc_ret->%s.id;\n", f->params[0].name, d->name);
        g->ret_expr = "0";
        return true;
    }
    if (h) {
        const objkind *k = c_object(f->ret, h);
        if (!k) {
            g->why = xasprintf("returns %s for a %s", f->ret, d->type_name);
            return false;
        }
        sb_printf(&g->decls, "    %s vc_result = NULL;\n", f->ret);
        sb_printf(&g->after,
                  "    if (!(vc_result = compat_%s_from(vc_conn, &vc_ret->%s)))\n"
                  "        goto vc_error;\n",
                  h, d->name);
    } else if (named(d, "remote_nonnull_string") && d->form == DF_PLAIN &&
               strcmp(f->ret, "char *") == 0) {
        sb_puts(&g->decls, "    char *vc_result = NULL;\n");
        sb_printf(&g->after,
                  "    if (!(vc_result = compat_strdup(vc_ret->%s)))\n"
                  "        goto vc_error;\n",
                  d->name);
    } else if (named(d, "remote_string") && d->form == DF_PLAIN && strcmp(f->ret, "char *") == 0) {
        sb_puts(&g->decls, "    char *vc_result = NULL;\n");
        sb_printf(&g->after,
                  "    if (vc_ret->%s && !(vc_result = compat_strdup(vc_ret->%s)))\n"
                  "        goto vc_error;\n",
                  d->name, d->name);
    } else if (x_int_type(d, &xi) && c_int_type(f->ret, &ci) &&
               (int_fits(xi, ci) ||
                (strcmp(f->ret, "unsigned long") == 0 && d->base == BK_UHYPER) ||
                (strcmp(f->ret, "int") == 0 && d->base == BK_INT))) {
        sb_printf(&g->decls, "    %s vc_result = 0;\n", f->ret);
        sb_printf(&g->after, "    vc_result = (%s)vc_ret->%s;\n", f->ret, d->name);
    } else {
        g->why = xasprintf("returns %s for the reply member '%s'", f->ret, d->name);
        return false;
    }
    g->ret_expr = "vc_result";
    return true;
}

bool compat_body(sbuf *o, const cfunc *f, const char *fail, const char **why)
{
    index_procs();
    char *key = api_key(f->name);
    const proc *pr = key ? smap_get(&proc_by_key, key) : NULL;
    if (!pr) {
        *why = "no procedure of that name";
        return false;
    }
    if (pr->generate != 1 && pr->generate != 3) {
        *why = "its procedure is not @generate: both|client";
        return false;
    }
    if (pr->stream || proc_call_shape(pr) != CS_PLAIN) {
        *why = "streams and file descriptors are not generated";
        return false;
    }
    /* Event registration (connect_domain_event_register_any, ...; not
     * set_perf_events) and the steps of a migration (begin, prepare,
     * perform, finish, confirm; not the tunables migrate_get/set_*). */
    if (strstr(pr->short_name, "event_")) {
        *why = "events are not generated";
        return false;
    }
    static const char *const steps[] = {"migrate_begin", "migrate_prepare", "migrate_perform",
                                        "migrate_finish", "migrate_confirm"};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (strstr(pr->short_name, steps[i])) {
            *why = "migration is not generated";
            return false;
        }
    }
    if (f->varargs) {
        *why = "variable arguments";
        return false;
    }
    const char *dom = header_domain(f->where.file);
    if (!dom) {
        *why = "declared in a header of no known error domain";
        return false;
    }
    if (f->nparams == 0) {
        *why = "no connection or object parameter";
        return false;
    }
    const objkind *k0 = compat_objkind(f->params[0].type);
    if (!k0 || strcmp(k0->kind, "COMPAT_STREAM") == 0) {
        *why = "the first parameter is no connection or object";
        return false;
    }

    gen g = {0};
    g.f = f;
    g.pr = pr;
    g.dom = dom;
    g.used = xmalloc((f->nparams ? f->nparams : 1) * sizeof(bool));
    g.sent_from = xmalloc((pr->args && pr->args->nfields ? pr->args->nfields : 1) * sizeof(char *));
    if (strcmp(k0->kind, "COMPAT_CONNECT") == 0)
        g.used[0] = true;
    const ntype *a = pr->args;
    for (size_t i = 0; a && i < a->nfields; i++) {
        if (!map_arg(&g, &a->fields[i])) {
            *why = g.why;
            return false;
        }
    }
    if (!g.used[0]) {
        *why = "the object parameter is no argument";
        return false;
    }
    if (!map_reply(&g)) {
        *why = g.why;
        return false;
    }

    compat_signature(o, f);
    sb_puts(o, "{\n    virConnectPtr vc_conn = NULL;\n");
    if (a)
        sb_printf(o, "    %s vc_args;\n", a->cname);
    if (pr->ret)
        sb_printf(o, "    %s *vc_ret = NULL;\n", pr->ret->cname);
    sb_puts(o, sb_str(&g.decls));
    if (a)
        sb_puts(o, "    memset(&vc_args, 0, sizeof(vc_args));\n");
    sb_printf(o,
              "    compat_reset();\n"
              "    if (!(vc_conn = compat_obj_conn(%s, %s)))\n"
              "        goto vc_error;\n",
              f->params[0].name, k0->kind);
    readonly_checks(o, pr, f);
    value_check_code(o, f, dom);
    sb_puts(o, sb_str(&g.checks));
    sb_puts(o, sb_str(&g.fill));
    sb_printf(o, "    if (compat_call(vc_conn, &vrpc_pd_%s, %s, %s) < 0)\n        goto vc_error;\n",
              pr->short_name, a ? "&vc_args" : "NULL", pr->ret ? "&vc_ret" : "NULL");
    sb_puts(o, sb_str(&g.after));
    /* A domain these calls stopped has no id any more: libvirt's client
     * sets it to -1 after exactly these three (not after DestroyFlags). */
    static const char *const stopped[] = {"domain_destroy", "domain_save", "domain_managed_save"};
    for (size_t i = 0; i < sizeof(stopped) / sizeof(stopped[0]); i++)
        if (pr->prog && strcmp(pr->prog->name, "remote") == 0 &&
            strcmp(pr->short_name, stopped[i]) == 0 &&
            strcmp(f->params[0].type, "virDomainPtr") == 0)
            sb_printf(o, "    %s->id = -1;\n", f->params[0].name);
    if (strcmp(g.ret_expr, "vc_result") == 0 || !pr->ret) {
        sb_puts(o, sb_str(&g.cleanup));
        if (pr->ret)
            sb_puts(o, "    vrpc_free(vc_ret);\n");
        sb_printf(o, "    return %s;\n", g.ret_expr);
    } else {
        sb_printf(o, "    %s vc_n = %s;\n", f->ret, g.ret_expr);
        sb_puts(o, sb_str(&g.cleanup));
        sb_puts(o, "    vrpc_free(vc_ret);\n    return vc_n;\n");
    }
    sb_puts(o, "\nvc_error:\n");
    sb_puts(o, sb_str(&g.cleanup));
    if (pr->ret)
        sb_puts(o, "    vrpc_free(vc_ret);\n");
    sb_printf(o, "    compat_dispatch(vc_conn);\n    return %s;\n}\n\n", fail);
    return true;
}
