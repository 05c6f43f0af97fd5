/* SPDX-License-Identifier: MIT */
/*
 * Migration: virDomainMigrate, Migrate2, Migrate3, MigrateToURI, ToURI2 and
 * ToURI3, orchestrated on the client side between two connections as
 * libvirt's client does (docs/compat.md, "Migration").
 *
 * The managed forms (Migrate, Migrate2, Migrate3 without peer-to-peer) run
 * the protocol's steps themselves, one call on each daemon at a time, and
 * carry the cookies from one step to the next:
 *   version 3 (with or without extensible parameters):
 *     source Begin3, destination Prepare3, source Perform3, destination
 *     Finish3, source Confirm3;
 *   version 2: source GetXMLDesc, destination Prepare2, source Perform,
 *     destination Finish2;
 *   version 1: destination Prepare, source Perform, destination Finish.
 * The version is the newest one both daemons announce
 * (connect_supports_feature), as libvirt's client chooses it.
 *
 * The unmanaged forms (MigrateToURI*, and the peer-to-peer case of the
 * managed ones) are one Perform call on the source daemon: for peer-to-peer
 * the source daemon talks to the destination itself, for direct migration
 * the hypervisor does. Tunnelled migration is peer-to-peer only (the
 * daemons carry the tunnel), so the client never opens a migration stream.
 *
 * Failures follow libvirt's client: a failed Perform makes Finish run with
 * cancelled = 1 and skips Confirm; a failed Finish makes Confirm run with
 * cancelled = 1 (the source resumes its domain); the error reported is the
 * first step's that failed.
 */
#include "compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libvirt's internal feature numbers (virDrvFeature), asked of the daemon. */
enum {
    FEAT_MIGRATION_V1 = 1,
    FEAT_MIGRATION_V2 = 3,
    FEAT_MIGRATION_P2P = 4,
    FEAT_MIGRATION_DIRECT = 5,
    FEAT_MIGRATION_V3 = 6,
    FEAT_CHANGE_PROTECTION = 7,
    FEAT_XML_MIGRATABLE = 11,
    FEAT_MIGRATION_OFFLINE = 12,
    FEAT_MIGRATION_PARAMS = 13,
};

/* Does the daemon announce the feature? 1 or 0; -1 after setting the error
 * when it cannot be asked. */
static int feature(virConnectPtr conn, int f)
{
    vrpc_connect_supports_feature_args args = {.feature = f};
    vrpc_connect_supports_feature_ret *r = NULL;
    int supported;

    if (compat_call(conn, &vrpc_pd_connect_supports_feature, &args, &r) < 0)
        return -1;
    supported = r->supported != 0;
    vrpc_free(r);
    return supported;
}

/* Both daemons announce it: 1 or 0; -1 after setting the error. */
static int both(virConnectPtr a, virConnectPtr b, int f)
{
    int ra = feature(a, f), rb;

    if (ra < 0)
        return -1;
    rb = feature(b, f);
    if (rb < 0)
        return -1;
    return ra && rb;
}

/* ---- errors kept across the later steps ---- */

/* The thread's last error, saved (NULL when there is none). */
static virErrorPtr preserve(void)
{
    return virGetLastError() ? virSaveLastError() : NULL;
}

/* ---- cookies: what one step's reply hands to the next step ---- */

typedef struct cookie {
    uint8_t *data;
    uint32_t len;
} cookie;

static void cookie_clear(cookie *c)
{
    free(c->data);
    c->data = NULL;
    c->len = 0;
}

/* Take a copy of the reply's cookie (replacing *c). -1 after setting the
 * error. The reply's length is bounded by the codec (the protocol's
 * REMOTE_MIGRATE_COOKIE_MAX). */
static int cookie_take(cookie *c, const vrpc_bytes *b)
{
    cookie_clear(c);
    if (b->len == 0)
        return 0;
    if (!(c->data = malloc(b->len))) {
        compat_no_memory();
        return -1;
    }
    memcpy(c->data, b->data, b->len);
    c->len = b->len;
    return 0;
}

static vrpc_bytes cookie_wire(const cookie *c)
{
    vrpc_bytes b = {.len = c->len, .data = c->data};
    return b;
}

/* ---- the migration parameters on the wire ---- */

typedef struct mparams {
    vrpc_typed_param *w; /* malloc()ed; strings point into the caller's
                            parameters or into strings that outlive it */
    uint32_t n;
} mparams;

static int mparams_init(mparams *m, const virTypedParameter *params, int n)
{
    m->w = NULL;
    m->n = 0;
    if (compat_params_to_wire(params, n, &m->w) < 0)
        return -1;
    m->n = (uint32_t)(n > 0 ? n : 0);
    return 0;
}

static void mparams_free(mparams *m)
{
    free(m->w);
    m->w = NULL;
    m->n = 0;
}

/* The first parameter of that name, or NULL. */
static vrpc_typed_param *mparams_get(const mparams *m, const char *name)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->w[i].field, name) == 0)
            return &m->w[i];
    return NULL;
}

/* Set the string parameter `name` to value: the first of that name is
 * replaced, else one is added at the end (libvirt's
 * virTypedParamsReplaceString). value must outlive the array. -1 after
 * setting the error. */
static int mparams_set_string(mparams *m, const char *name, const char *value)
{
    vrpc_typed_param *p = mparams_get(m, name), *w;

    if (p) {
        if (p->value.type != VIR_TYPED_PARAM_STRING) {
            compat_error(VIR_FROM_NONE, VIR_ERR_INVALID_ARG,
                         "migration parameter '%s' is not a string", name);
            return -1;
        }
        p->value.u.s = value;
        return 0;
    }
    if (!(w = realloc(m->w, (m->n + 1) * sizeof(*w)))) {
        compat_no_memory();
        return -1;
    }
    m->w = w;
    memset(&w[m->n], 0, sizeof(w[m->n]));
    w[m->n].field = name;
    w[m->n].value.type = VIR_TYPED_PARAM_STRING;
    w[m->n].value.u.s = value;
    m->n++;
    return 0;
}

/* Are all parameters among the names the older protocols can carry? */
static bool params_only(const virTypedParameter *params, int n, const char *const *names,
                        size_t nnames)
{
    for (int i = 0; i < n; i++) {
        bool known = false;
        for (size_t k = 0; k < nnames && !known; k++)
            known = strcmp(params[i].field, names[k]) == 0;
        if (!known)
            return false;
    }
    return true;
}

/* The old arguments out of the parameters (URI, DEST_NAME, DEST_XML,
 * BANDWIDTH; each optional). -1 after setting the error (a parameter of the
 * wrong type). */
static int params_old_args(virTypedParameterPtr params, int n, const char **uri, const char **dname,
                           const char **dxml, unsigned long long *bandwidth)
{
    if ((uri && virTypedParamsGetString(params, n, VIR_MIGRATE_PARAM_URI, uri) < 0) ||
        (dname && virTypedParamsGetString(params, n, VIR_MIGRATE_PARAM_DEST_NAME, dname) < 0) ||
        (dxml && virTypedParamsGetString(params, n, VIR_MIGRATE_PARAM_DEST_XML, dxml) < 0) ||
        virTypedParamsGetULLong(params, n, VIR_MIGRATE_PARAM_BANDWIDTH, bandwidth) < 0)
        return -1;
    return 0;
}

/* ---- the flag checks shared by the public functions ---- */

static int exclusive(unsigned long flags, unsigned long a, const char *an, unsigned long b,
                     const char *bn)
{
    if ((flags & a) && (flags & b)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "the flags %s and %s cannot be used together", an, bn);
        return -1;
    }
    return 0;
}

#define EXCLUSIVE(flags, a, b) exclusive((flags), (a), #a, (b), #b)

static int disk_flags(unsigned long flags)
{
    if (EXCLUSIVE(flags, VIR_MIGRATE_NON_SHARED_DISK, VIR_MIGRATE_NON_SHARED_INC) < 0)
        return -1;
    if ((flags & VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES) &&
        !(flags & (VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_NON_SHARED_INC))) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "the flag VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES needs "
                     "VIR_MIGRATE_NON_SHARED_DISK or VIR_MIGRATE_NON_SHARED_INC");
        return -1;
    }
    return 0;
}

/* A feature one side must have, else VIR_ERR_ARGUMENT_UNSUPPORTED. */
static int need_feature(virConnectPtr conn, int f, const char *what)
{
    int rc = feature(conn, f);

    if (rc == 0)
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED, "%s", what);
    return rc > 0 ? 0 : -1;
}

static int offline_check(virConnectPtr src, virConnectPtr dst, unsigned long flags)
{
    if (!(flags & VIR_MIGRATE_OFFLINE))
        return 0;
    if (need_feature(src, FEAT_MIGRATION_OFFLINE,
                     "the source host cannot migrate a domain offline") < 0)
        return -1;
    if (dst && need_feature(dst, FEAT_MIGRATION_OFFLINE,
                            "the destination host cannot migrate a domain offline") < 0)
        return -1;
    return 0;
}

static void no_common_protocol(void)
{
    compat_error(VIR_FROM_DOMAIN, VIR_ERR_NO_SUPPORT,
                 "the two hosts support no common migration protocol");
}

static void no_dest_xml(void)
{
    compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                 "the migration protocol the hosts share cannot change the domain's XML");
}

/* ---- the managed protocols ---- */

/* Is the source domain paused? (libvirt's client then migrates it paused.) */
static bool source_paused(virDomainPtr domain, bool by_state)
{
    if (by_state) {
        int state = 0;
        return virDomainGetState(domain, &state, NULL, 0) == 0 && state == VIR_DOMAIN_PAUSED;
    }
    virDomainInfo info;
    return virDomainGetInfo(domain, &info) == 0 && info.state == VIR_DOMAIN_PAUSED;
}

static unsigned long dest_flags(unsigned long flags)
{
    return flags & ~(unsigned long)(VIR_MIGRATE_ABORT_ON_ERROR | VIR_MIGRATE_AUTO_CONVERGE);
}

static char *dup_opt(const char *s)
{
    return s ? compat_strdup(s) : NULL;
}

/* Version 1: Prepare (destination), Perform (source), Finish (destination). */
static virDomainPtr migrate_v1(virDomainPtr domain, virConnectPtr dconn, unsigned long flags,
                               const char *dname, const char *uri, unsigned long long bandwidth)
{
    vrpc_domain_migrate_prepare_ret *pr = NULL;
    vrpc_domain_migrate_finish_ret *fr = NULL;
    virDomainPtr ddomain = NULL;
    cookie ck = {0};
    char *uri_out = NULL;
    unsigned long destflags;

    if (source_paused(domain, false))
        flags |= VIR_MIGRATE_PAUSED;
    destflags = dest_flags(flags);

    vrpc_domain_migrate_prepare_args pa = {
        .uri_in = uri, .flags = destflags, .dname = dname, .resource = bandwidth};
    if (compat_call(dconn, &vrpc_pd_domain_migrate_prepare, &pa, &pr) < 0)
        return NULL;
    if (cookie_take(&ck, &pr->cookie) < 0 || (pr->uri_out && !(uri_out = dup_opt(pr->uri_out))))
        goto out;
    vrpc_free(pr);
    pr = NULL;
    if (!uri && !uri_out) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INTERNAL_ERROR,
                     "the destination's Prepare step gave no migration URI");
        goto out;
    }
    if (uri_out)
        uri = uri_out;

    vrpc_domain_migrate_perform_args fa;
    memset(&fa, 0, sizeof(fa));
    compat_domain_to(domain, &fa.dom);
    fa.cookie = cookie_wire(&ck);
    fa.uri = uri;
    fa.flags = flags;
    fa.dname = dname;
    fa.resource = bandwidth;
    if (compat_call(domain->conn, &vrpc_pd_domain_migrate_perform, &fa, NULL) < 0)
        goto out;

    vrpc_domain_migrate_finish_args na = {.dname = dname ? dname : domain->name,
                                          .cookie = cookie_wire(&ck),
                                          .uri = uri,
                                          .flags = destflags};
    if (compat_call(dconn, &vrpc_pd_domain_migrate_finish, &na, &fr) == 0) {
        ddomain = compat_domain_from(dconn, &fr->ddom);
        vrpc_free(fr);
    }
out:
    vrpc_free(pr);
    cookie_clear(&ck);
    free(uri_out);
    return ddomain;
}

/* Version 2: the source's XML, Prepare2 (destination), Perform (source),
 * Finish2 (destination, told whether Perform failed). */
static virDomainPtr migrate_v2(virDomainPtr domain, virConnectPtr dconn, unsigned long flags,
                               const char *dname, const char *uri, unsigned long long bandwidth)
{
    vrpc_domain_get_xml_desc_ret *xr = NULL;
    vrpc_domain_migrate_prepare2_ret *pr = NULL;
    vrpc_domain_migrate_finish2_ret *fr = NULL;
    virDomainPtr ddomain = NULL;
    virErrorPtr orig = NULL;
    cookie ck = {0};
    char *uri_out = NULL;
    unsigned long destflags;
    int cancelled = 1, rc;

    rc = feature(domain->conn, FEAT_XML_MIGRATABLE);
    if (rc < 0)
        return NULL;
    vrpc_domain_get_xml_desc_args xa;
    memset(&xa, 0, sizeof(xa));
    compat_domain_to(domain, &xa.dom);
    xa.flags = rc ? VIR_DOMAIN_XML_MIGRATABLE : VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_UPDATE_CPU;
    if (compat_call(domain->conn, &vrpc_pd_domain_get_xml_desc, &xa, &xr) < 0)
        return NULL;

    if (source_paused(domain, false))
        flags |= VIR_MIGRATE_PAUSED;
    destflags = dest_flags(flags);

    vrpc_domain_migrate_prepare2_args pa = {.uri_in = uri,
                                            .flags = destflags,
                                            .dname = dname,
                                            .resource = bandwidth,
                                            .dom_xml = xr->xml};
    rc = compat_call(dconn, &vrpc_pd_domain_migrate_prepare2, &pa, &pr);
    vrpc_free(xr);
    if (rc < 0)
        return NULL;
    if (cookie_take(&ck, &pr->cookie) < 0 || (pr->uri_out && !(uri_out = dup_opt(pr->uri_out)))) {
        vrpc_free(pr);
        goto out;
    }
    vrpc_free(pr);

    if (!uri && !uri_out) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INTERNAL_ERROR,
                     "the destination's Prepare2 step gave no migration URI");
        orig = preserve();
        goto finish;
    }
    if (uri_out)
        uri = uri_out;

    vrpc_domain_migrate_perform_args fa;
    memset(&fa, 0, sizeof(fa));
    compat_domain_to(domain, &fa.dom);
    fa.cookie = cookie_wire(&ck);
    fa.uri = uri;
    fa.flags = flags;
    fa.dname = dname;
    fa.resource = bandwidth;
    rc = compat_call(domain->conn, &vrpc_pd_domain_migrate_perform, &fa, NULL);
    if (rc < 0)
        orig = preserve();
    cancelled = rc < 0;

finish:;
    /* Finish2's uri is not optional on the wire: with no URI at all,
     * libvirt's client fails to encode the call and sends nothing; so does
     * this one (the Prepare2 error stays). */
    if (uri) {
        vrpc_domain_migrate_finish2_args na = {.dname = dname ? dname : domain->name,
                                               .cookie = cookie_wire(&ck),
                                               .uri = uri,
                                               .flags = destflags,
                                               .retcode = cancelled};
        if (compat_call(dconn, &vrpc_pd_domain_migrate_finish2, &na, &fr) == 0) {
            ddomain = compat_domain_from(dconn, &fr->ddom);
            vrpc_free(fr);
        }
    }
out:
    compat_error_restore(&orig);
    cookie_clear(&ck);
    free(uri_out);
    return ddomain;
}

/* The arguments of version 3: the old ones, or the extensible parameters. */
typedef struct v3args {
    bool use_params;
    mparams p;             /* use_params */
    const char *xmlin;     /* !use_params */
    const char *dname;     /* !use_params */
    const char *uri;       /* !use_params */
    unsigned long long bw; /* !use_params */
} v3args;

/* Version 3: Begin3 (source), Prepare3 (destination), Perform3 (source),
 * Finish3 (destination), Confirm3 (source); with or without the extensible
 * parameters. */
static virDomainPtr migrate_v3(virDomainPtr domain, virConnectPtr dconn, v3args *a,
                               unsigned long flags)
{
    virDomainPtr ddomain = NULL;
    virErrorPtr orig = NULL;
    cookie ck = {0};
    char *dom_xml = NULL, *uri_out = NULL;
    const char *uri = a->use_params ? NULL : a->uri;
    unsigned long protection = 0, destflags = 0;
    int cancelled = 1, rc;
    bool notify_source = true;

    rc = feature(domain->conn, FEAT_CHANGE_PROTECTION);
    if (rc < 0)
        goto done;
    if (rc)
        protection = VIR_MIGRATE_CHANGE_PROTECTION;

    /* Begin */
    if (a->use_params) {
        vrpc_domain_migrate_begin3_params_args ba;
        vrpc_domain_migrate_begin3_params_ret *br = NULL;
        memset(&ba, 0, sizeof(ba));
        compat_domain_to(domain, &ba.dom);
        ba.params.n = a->p.n;
        ba.params.items = a->p.w;
        ba.flags = (uint32_t)(flags | protection);
        if (compat_call(domain->conn, &vrpc_pd_domain_migrate_begin3_params, &ba, &br) < 0)
            goto done;
        rc = cookie_take(&ck, &br->cookie_out);
        if (rc == 0 && !(dom_xml = compat_strdup(br->xml)))
            rc = -1;
        vrpc_free(br);
    } else {
        vrpc_domain_migrate_begin3_args ba;
        vrpc_domain_migrate_begin3_ret *br = NULL;
        memset(&ba, 0, sizeof(ba));
        compat_domain_to(domain, &ba.dom);
        ba.xmlin = a->xmlin;
        ba.flags = flags | protection;
        ba.dname = a->dname;
        ba.resource = a->bw;
        if (compat_call(domain->conn, &vrpc_pd_domain_migrate_begin3, &ba, &br) < 0)
            goto done;
        rc = cookie_take(&ck, &br->cookie_out);
        if (rc == 0 && !(dom_xml = compat_strdup(br->xml)))
            rc = -1;
        vrpc_free(br);
    }
    if (rc < 0)
        goto done;

    if (source_paused(domain, a->use_params) && !(flags & VIR_MIGRATE_POSTCOPY_RESUME))
        flags |= VIR_MIGRATE_PAUSED;
    destflags = dest_flags(flags);

    /* Prepare */
    if (a->use_params) {
        vrpc_domain_migrate_prepare3_params_args pa;
        vrpc_domain_migrate_prepare3_params_ret *pr = NULL;
        if (mparams_set_string(&a->p, VIR_MIGRATE_PARAM_DEST_XML, dom_xml) < 0)
            goto done;
        memset(&pa, 0, sizeof(pa));
        pa.params.n = a->p.n;
        pa.params.items = a->p.w;
        pa.cookie_in = cookie_wire(&ck);
        pa.flags = (uint32_t)destflags;
        rc = compat_call(dconn, &vrpc_pd_domain_migrate_prepare3_params, &pa, &pr);
        if (rc == 0) {
            rc = cookie_take(&ck, &pr->cookie_out);
            if (rc == 0 && pr->uri_out && !(uri_out = compat_strdup(pr->uri_out)))
                rc = -1;
            vrpc_free(pr);
        }
    } else {
        vrpc_domain_migrate_prepare3_args pa;
        vrpc_domain_migrate_prepare3_ret *pr = NULL;
        memset(&pa, 0, sizeof(pa));
        pa.cookie_in = cookie_wire(&ck);
        pa.uri_in = a->uri;
        pa.flags = destflags;
        pa.dname = a->dname;
        pa.resource = a->bw;
        pa.dom_xml = dom_xml;
        rc = compat_call(dconn, &vrpc_pd_domain_migrate_prepare3, &pa, &pr);
        if (rc == 0) {
            rc = cookie_take(&ck, &pr->cookie_out);
            if (rc == 0 && pr->uri_out && !(uri_out = compat_strdup(pr->uri_out)))
                rc = -1;
            vrpc_free(pr);
        }
    }
    if (rc < 0) {
        cookie_clear(&ck);
        if (protection) {
            /* Begin started a job on the source: Confirm ends it. */
            orig = preserve();
            goto confirm;
        }
        goto done;
    }

    if (uri_out) {
        uri = uri_out;
        if (a->use_params && mparams_set_string(&a->p, VIR_MIGRATE_PARAM_URI, uri_out) < 0) {
            orig = preserve();
            goto finish;
        }
    } else if (!uri) {
        vrpc_typed_param *u = a->use_params ? mparams_get(&a->p, VIR_MIGRATE_PARAM_URI) : NULL;
        if (u && u->value.type == VIR_TYPED_PARAM_STRING) {
            uri = u->value.u.s;
        } else {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_INTERNAL_ERROR,
                         "the destination's Prepare3 step gave no migration URI");
            orig = preserve();
            goto finish;
        }
    }

    if (flags & VIR_MIGRATE_OFFLINE) {
        /* Nothing runs: no Perform step. */
        cookie_clear(&ck);
        cancelled = 0;
        goto finish;
    }

    /* Perform */
    if (a->use_params) {
        vrpc_domain_migrate_perform3_params_args fa;
        vrpc_domain_migrate_perform3_params_ret *fr = NULL;
        memset(&fa, 0, sizeof(fa));
        compat_domain_to(domain, &fa.dom);
        fa.params.n = a->p.n;
        fa.params.items = a->p.w;
        fa.cookie_in = cookie_wire(&ck);
        fa.flags = (uint32_t)(flags | protection);
        rc = compat_call(domain->conn, &vrpc_pd_domain_migrate_perform3_params, &fa, &fr);
        if (rc == 0) {
            rc = cookie_take(&ck, &fr->cookie_out);
            vrpc_free(fr);
        }
    } else {
        vrpc_domain_migrate_perform3_args fa;
        vrpc_domain_migrate_perform3_ret *fr = NULL;
        memset(&fa, 0, sizeof(fa));
        compat_domain_to(domain, &fa.dom);
        fa.cookie_in = cookie_wire(&ck);
        fa.uri = uri;
        fa.flags = flags | protection;
        fa.dname = a->dname;
        fa.resource = a->bw;
        rc = compat_call(domain->conn, &vrpc_pd_domain_migrate_perform3, &fa, &fr);
        if (rc == 0) {
            rc = cookie_take(&ck, &fr->cookie_out);
            vrpc_free(fr);
        }
    }
    if (rc < 0) {
        cookie_clear(&ck);
        orig = preserve();
        /* The source knows it failed: no Confirm. */
        notify_source = false;
    }
    cancelled = rc < 0;

finish:
    /* Finish */
    if (a->use_params) {
        vrpc_domain_migrate_finish3_params_args na;
        vrpc_domain_migrate_finish3_params_ret *nr = NULL;
        vrpc_typed_param *dn = mparams_get(&a->p, VIR_MIGRATE_PARAM_DEST_NAME);
        if ((!dn || dn->value.type != VIR_TYPED_PARAM_STRING) &&
            mparams_set_string(&a->p, VIR_MIGRATE_PARAM_DEST_NAME, domain->name) < 0) {
            ddomain = NULL;
        } else {
            memset(&na, 0, sizeof(na));
            na.params.n = a->p.n;
            na.params.items = a->p.w;
            na.cookie_in = cookie_wire(&ck);
            na.flags = (uint32_t)destflags;
            na.cancelled = cancelled;
            if (compat_call(dconn, &vrpc_pd_domain_migrate_finish3_params, &na, &nr) == 0) {
                ddomain = compat_domain_from(dconn, &nr->dom);
                if (ddomain && cookie_take(&ck, &nr->cookie_out) < 0)
                    cookie_clear(&ck);
                vrpc_free(nr);
            }
        }
    } else {
        vrpc_domain_migrate_finish3_args na;
        vrpc_domain_migrate_finish3_ret *nr = NULL;
        memset(&na, 0, sizeof(na));
        na.dname = a->dname ? a->dname : domain->name;
        na.cookie_in = cookie_wire(&ck);
        na.uri = uri;
        na.flags = destflags;
        na.cancelled = cancelled;
        if (compat_call(dconn, &vrpc_pd_domain_migrate_finish3, &na, &nr) == 0) {
            ddomain = compat_domain_from(dconn, &nr->dom);
            if (ddomain && cookie_take(&ck, &nr->cookie_out) < 0)
                cookie_clear(&ck);
            vrpc_free(nr);
        }
    }
    if (!ddomain)
        cookie_clear(&ck);
    if (cancelled && !ddomain && orig && orig->domain == VIR_FROM_QEMU &&
        orig->code == VIR_ERR_OPERATION_FAILED) {
        /* Perform's "migration failed" is less precise than what Finish
         * says when the domain died on the destination: report Finish's. */
        virErrorPtr now = virGetLastError();
        if (now && now->domain == VIR_FROM_QEMU && now->code != VIR_ERR_MIGRATE_FINISH_OK) {
            virFreeError(orig);
            orig = NULL;
        }
    }
    /* The domain did not start on the destination: the source resumes. */
    cancelled = ddomain == NULL;
    if (!orig)
        orig = preserve();

confirm:
    if (notify_source) {
        if (a->use_params) {
            vrpc_domain_migrate_confirm3_params_args ca;
            memset(&ca, 0, sizeof(ca));
            compat_domain_to(domain, &ca.dom);
            ca.params.n = a->p.n;
            ca.params.items = a->p.w;
            ca.cookie_in = cookie_wire(&ck);
            ca.flags = (uint32_t)(flags | protection);
            ca.cancelled = cancelled;
            (void)compat_call(domain->conn, &vrpc_pd_domain_migrate_confirm3_params, &ca, NULL);
        } else {
            vrpc_domain_migrate_confirm3_args ca;
            memset(&ca, 0, sizeof(ca));
            compat_domain_to(domain, &ca.dom);
            ca.cookie_in = cookie_wire(&ck);
            ca.flags = flags | protection;
            ca.cancelled = cancelled;
            (void)compat_call(domain->conn, &vrpc_pd_domain_migrate_confirm3, &ca, NULL);
        }
        /* A failed Confirm leaves the source's domain paused at worst;
         * the result is the destination's domain. */
    }

done:
    compat_error_restore(&orig);
    cookie_clear(&ck);
    free(dom_xml);
    free(uri_out);
    return ddomain;
}

/* ---- the unmanaged protocols: one Perform on the source ---- */

/* Is dconnuri another host (or a socket named explicitly)? libvirt's
 * client refuses a peer-to-peer migration to a URI without a server (unless
 * it names a Unix socket) or to a server whose name starts with
 * "localhost". */
static int check_not_local(const char *dconnuri)
{
    const char *p = strstr(dconnuri, "://"), *q, *end;
    bool has_server = false, local = false, socket = false;

    if (p) {
        p += 3;
        end = p + strcspn(p, "/?#");
        q = memchr(p, '@', (size_t)(end - p));
        if (q)
            p = q + 1;
        if (end > p) {
            has_server = true;
            local = strncmp(p, "localhost", 9) == 0 && end - p >= 9;
        }
    }
    q = strchr(dconnuri, '?');
    while (q && *q && *q != '#') {
        q++;
        size_t n = strcspn(q, "=&;#");
        if (n == 6 && strncmp(q, "socket", 6) == 0)
            socket = true;
        q += strcspn(q, "&;#");
    }
    if (local || (!has_server && !socket)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "invalid argument: %s names this host: a peer-to-peer migration "
                     "needs another host",
                     dconnuri);
        return -1;
    }
    return 0;
}

/* An unmanaged Perform has no next step to hand a cookie to: libvirt's
 * client refuses a reply that carries one, and so does this one. */
static int no_cookie(const vrpc_bytes *b)
{
    if (b->len == 0)
        return 0;
    compat_error(VIR_FROM_REMOTE, VIR_ERR_INTERNAL_ERROR,
                 "the source daemon returned a migration cookie that no later step takes");
    return -1;
}

/* The parameters the unmanaged protocol 2 and 3 can carry. */
static const char *const params_v2[] = {VIR_MIGRATE_PARAM_DEST_NAME, VIR_MIGRATE_PARAM_BANDWIDTH,
                                        VIR_MIGRATE_PARAM_URI};
static const char *const params_v3[] = {VIR_MIGRATE_PARAM_URI, VIR_MIGRATE_PARAM_DEST_NAME,
                                        VIR_MIGRATE_PARAM_DEST_XML, VIR_MIGRATE_PARAM_BANDWIDTH};

static int unmanaged_params(virDomainPtr domain, const char *dconnuri, virTypedParameterPtr params,
                            int nparams, unsigned int flags)
{
    const char *miguri = NULL, *dname = NULL, *xmlin = NULL;
    unsigned long long bandwidth = 0;
    int rc;

    if ((flags & VIR_MIGRATE_PEER2PEER) && check_not_local(dconnuri) < 0)
        return -1;

    if (flags & VIR_MIGRATE_PEER2PEER) {
        rc = feature(domain->conn, FEAT_MIGRATION_PARAMS);
        if (rc < 0)
            return -1;
        if (rc) {
            vrpc_domain_migrate_perform3_params_args fa;
            vrpc_domain_migrate_perform3_params_ret *fr = NULL;
            mparams m;
            if (mparams_init(&m, params, nparams) < 0)
                return -1;
            memset(&fa, 0, sizeof(fa));
            compat_domain_to(domain, &fa.dom);
            fa.dconnuri = dconnuri;
            fa.params.n = m.n;
            fa.params.items = m.w;
            fa.flags = flags;
            rc = compat_call(domain->conn, &vrpc_pd_domain_migrate_perform3_params, &fa, &fr);
            mparams_free(&m);
            if (rc == 0)
                rc = no_cookie(&fr->cookie_out);
            vrpc_free(fr);
            return rc;
        }
    }

    rc = feature(domain->conn, FEAT_MIGRATION_V3);
    if (rc < 0)
        return -1;
    if (rc) {
        vrpc_domain_migrate_perform3_args fa;
        vrpc_domain_migrate_perform3_ret *fr = NULL;
        if (!params_only(params, nparams, params_v3, 4)) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                         "migration protocol 3 without extensible parameters cannot carry "
                         "these parameters");
            return -1;
        }
        if (params_old_args(params, nparams, &miguri, &dname, &xmlin, &bandwidth) < 0)
            return -1;
        memset(&fa, 0, sizeof(fa));
        compat_domain_to(domain, &fa.dom);
        fa.xmlin = xmlin;
        fa.dconnuri = dconnuri;
        fa.uri = miguri;
        fa.flags = flags;
        fa.dname = dname;
        fa.resource = bandwidth;
        rc = compat_call(domain->conn, &vrpc_pd_domain_migrate_perform3, &fa, &fr);
        if (rc == 0)
            rc = no_cookie(&fr->cookie_out);
        vrpc_free(fr);
        return rc;
    }

    /* Protocol 2: Perform alone. */
    vrpc_domain_migrate_perform_args fa;
    if (!params_only(params, nparams, params_v2, 3)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                     "migration protocol 2 cannot carry these parameters");
        return -1;
    }
    if (params_old_args(params, nparams, &miguri, &dname, NULL, &bandwidth) < 0)
        return -1;
    if ((flags & VIR_MIGRATE_PEER2PEER) && miguri) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INTERNAL_ERROR,
                     "migration protocol 2 cannot take a migration URI for a peer-to-peer "
                     "migration");
        return -1;
    }
    memset(&fa, 0, sizeof(fa));
    compat_domain_to(domain, &fa.dom);
    fa.uri = (flags & VIR_MIGRATE_PEER2PEER) ? dconnuri : miguri;
    if (!fa.uri) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "migration protocol 2 needs a migration URI");
        return -1;
    }
    fa.flags = flags;
    fa.dname = dname;
    fa.resource = bandwidth;
    return compat_call(domain->conn, &vrpc_pd_domain_migrate_perform, &fa, NULL);
}

/* The old arguments as parameters, then as above. */
static int unmanaged(virDomainPtr domain, const char *xmlin, unsigned int flags, const char *dname,
                     const char *dconnuri, const char *miguri, unsigned long long bandwidth)
{
    virTypedParameter p[4];
    int n = 0, rc;

    memset(p, 0, sizeof(p));
    if (miguri) {
        snprintf(p[n].field, sizeof(p[n].field), "%s", VIR_MIGRATE_PARAM_URI);
        p[n].type = VIR_TYPED_PARAM_STRING;
        p[n++].value.s = (char *)miguri;
    }
    if (dname) {
        snprintf(p[n].field, sizeof(p[n].field), "%s", VIR_MIGRATE_PARAM_DEST_NAME);
        p[n].type = VIR_TYPED_PARAM_STRING;
        p[n++].value.s = (char *)dname;
    }
    if (xmlin) {
        snprintf(p[n].field, sizeof(p[n].field), "%s", VIR_MIGRATE_PARAM_DEST_XML);
        p[n].type = VIR_TYPED_PARAM_STRING;
        p[n++].value.s = (char *)xmlin;
    }
    snprintf(p[n].field, sizeof(p[n].field), "%s", VIR_MIGRATE_PARAM_BANDWIDTH);
    p[n].type = VIR_TYPED_PARAM_ULLONG;
    p[n++].value.ul = bandwidth;
    rc = unmanaged_params(domain, dconnuri, p, n, flags);
    return rc;
}

/* The checks of the unmanaged forms before they choose the protocol. */
static int unmanaged_check(virDomainPtr domain, unsigned long flags)
{
    if (disk_flags(flags) < 0 || offline_check(domain->conn, NULL, flags) < 0)
        return -1;
    if (flags & VIR_MIGRATE_PEER2PEER)
        return need_feature(domain->conn, FEAT_MIGRATION_P2P,
                            "the source host cannot migrate peer-to-peer");
    return need_feature(domain->conn, FEAT_MIGRATION_DIRECT,
                        "the source host cannot migrate directly");
}

/* ---- the public functions ---- */

/* The checks of Migrate and Migrate2 before the protocol: the source
 * connection and the destination writable, the flags. -1 after setting the
 * error. */
static int managed_check(virConnectPtr conn, virConnectPtr dconn, unsigned long flags,
                         const char *func)
{
    if (compat_readonly_at(conn, func) || !compat_obj_conn_at(dconn, COMPAT_CONNECT, func) ||
        compat_readonly_at(dconn, func) ||
        EXCLUSIVE(flags, VIR_MIGRATE_NON_SHARED_DISK, VIR_MIGRATE_NON_SHARED_INC) < 0 ||
        EXCLUSIVE(flags, VIR_MIGRATE_TUNNELLED, VIR_MIGRATE_PARALLEL) < 0 || disk_flags(flags) < 0)
        return -1;
    return 0;
}

/* The protocols without extensible parameters, newest first: version 3,
 * 2, then 1 (the last two cannot carry a destination XML). */
static virDomainPtr migrate_unparams(virDomainPtr domain, virConnectPtr dconn, const char *dxml,
                                     unsigned long flags, const char *dname, const char *uri,
                                     unsigned long long bandwidth)
{
    int rc;

    rc = both(domain->conn, dconn, FEAT_MIGRATION_V3);
    if (rc < 0)
        return NULL;
    if (rc) {
        v3args a = {.xmlin = dxml, .dname = dname, .uri = uri, .bw = bandwidth};
        return migrate_v3(domain, dconn, &a, flags);
    }
    rc = both(domain->conn, dconn, FEAT_MIGRATION_V2);
    if (rc < 0)
        return NULL;
    if (rc) {
        if (dxml) {
            no_dest_xml();
            return NULL;
        }
        return migrate_v2(domain, dconn, flags, dname, uri, bandwidth);
    }
    rc = both(domain->conn, dconn, FEAT_MIGRATION_V1);
    if (rc < 0)
        return NULL;
    if (rc) {
        if (dxml) {
            no_dest_xml();
            return NULL;
        }
        return migrate_v1(domain, dconn, flags, dname, uri, bandwidth);
    }
    no_common_protocol();
    return NULL;
}

/* Migrate and Migrate2 (dxml NULL for Migrate; Migrate passes its uri as
 * the peer-to-peer destination when given, Migrate2 as the migration URI). */
static virDomainPtr migrate_managed(virDomainPtr domain, virConnectPtr dconn, const char *dxml,
                                    unsigned long flags, const char *dname, const char *uri,
                                    unsigned long bandwidth, bool v2api)
{
    virDomainPtr ddomain = NULL;
    int rc;

    if (offline_check(domain->conn, dconn, flags) < 0)
        return NULL;

    if (flags & VIR_MIGRATE_PEER2PEER) {
        char *dst;
        rc = feature(domain->conn, FEAT_MIGRATION_P2P);
        if (rc < 0)
            return NULL;
        if (!rc) {
            compat_error(VIR_FROM_DOMAIN, VIR_ERR_NO_SUPPORT,
                         "the source host cannot migrate peer-to-peer");
            return NULL;
        }
        if (!(dst = compat_strdup(!v2api && uri ? uri : dconn->uri)))
            return NULL;
        rc =
            unmanaged(domain, dxml, (unsigned int)flags, dname, dst, v2api ? uri : NULL, bandwidth);
        free(dst);
        if (rc < 0)
            return NULL;
        vrpc_domain_lookup_by_name_args la = {.name = dname ? dname : domain->name};
        vrpc_domain_lookup_by_name_ret *lr = NULL;
        if (compat_call(dconn, &vrpc_pd_domain_lookup_by_name, &la, &lr) < 0)
            return NULL;
        ddomain = compat_domain_from(dconn, &lr->dom);
        vrpc_free(lr);
        return ddomain;
    }

    /* Change protection is re-added by version 3 for the source alone:
     * dropped here so that an older destination does not refuse it. */
    if (flags & VIR_MIGRATE_CHANGE_PROTECTION &&
        need_feature(domain->conn, FEAT_CHANGE_PROTECTION,
                     "the source host cannot protect the domain from changes") < 0)
        return NULL;
    flags &= ~(unsigned long)VIR_MIGRATE_CHANGE_PROTECTION;
    if (flags & VIR_MIGRATE_TUNNELLED) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                     "a tunnelled migration is peer-to-peer only (VIR_MIGRATE_PEER2PEER)");
        return NULL;
    }

    return migrate_unparams(domain, dconn, dxml, flags, dname, uri, bandwidth);
}

virDomainPtr virDomainMigrate(virDomainPtr domain, virConnectPtr dconn, unsigned long flags,
                              const char *dname, const char *uri, unsigned long bandwidth)
{
    virConnectPtr conn;
    virDomainPtr ddomain;

    compat_reset();
    if (!(conn = compat_obj_conn(domain, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (managed_check(conn, dconn, flags, __func__) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    ddomain = migrate_managed(domain, dconn, NULL, flags, dname, uri, bandwidth, false);
    if (!ddomain)
        compat_dispatch(conn);
    return ddomain;
}

virDomainPtr virDomainMigrate2(virDomainPtr domain, virConnectPtr dconn, const char *dxml,
                               unsigned long flags, const char *dname, const char *uri,
                               unsigned long bandwidth)
{
    virConnectPtr conn;
    virDomainPtr ddomain;

    compat_reset();
    if (!(conn = compat_obj_conn(domain, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (managed_check(conn, dconn, flags, __func__) < 0) {
        compat_dispatch(conn);
        return NULL;
    }
    ddomain = migrate_managed(domain, dconn, dxml, flags, dname, uri, bandwidth, true);
    if (!ddomain)
        compat_dispatch(conn);
    return ddomain;
}

/* Migrate3 after its checks. */
static virDomainPtr migrate3(virDomainPtr domain, virConnectPtr dconn, virTypedParameterPtr params,
                             int nparams, unsigned int flags)
{
    const char *uri = NULL, *dname = NULL, *dxml = NULL;
    unsigned long long bandwidth = 0;
    virDomainPtr ddomain;
    int rc;

    if (disk_flags(flags) < 0)
        return NULL;
    if (flags & VIR_MIGRATE_PEER2PEER) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "invalid argument: peer-to-peer migration is virDomainMigrateToURI3's");
        return NULL;
    }
    if (flags & VIR_MIGRATE_TUNNELLED) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_INVALID_ARG,
                     "invalid argument: a tunnelled migration is peer-to-peer only");
        return NULL;
    }
    if (offline_check(domain->conn, dconn, flags) < 0)
        return NULL;
    if (flags & VIR_MIGRATE_CHANGE_PROTECTION &&
        need_feature(domain->conn, FEAT_CHANGE_PROTECTION,
                     "the source host cannot protect the domain from changes") < 0)
        return NULL;
    flags &= ~(unsigned int)VIR_MIGRATE_CHANGE_PROTECTION;

    rc = both(domain->conn, dconn, FEAT_MIGRATION_PARAMS);
    if (rc < 0)
        return NULL;
    if (rc) {
        v3args a = {.use_params = true};
        if (mparams_init(&a.p, params, nparams) < 0)
            return NULL;
        ddomain = migrate_v3(domain, dconn, &a, flags);
        mparams_free(&a.p);
        return ddomain;
    }

    if (!params_only(params, nparams, params_v3, 4)) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_ARGUMENT_UNSUPPORTED,
                     "the hosts cannot migrate with extensible parameters, and some "
                     "parameters given have no older form");
        return NULL;
    }
    if (params_old_args(params, nparams, &uri, &dname, &dxml, &bandwidth) < 0)
        return NULL;

    return migrate_unparams(domain, dconn, dxml, flags, dname, uri, bandwidth);
}

virDomainPtr virDomainMigrate3(virDomainPtr domain, virConnectPtr dconn,
                               virTypedParameterPtr params, unsigned int nparams,
                               unsigned int flags)
{
    virConnectPtr conn;
    virDomainPtr ddomain = NULL;

    compat_reset();
    if (!(conn = compat_obj_conn(domain, COMPAT_DOMAIN))) {
        compat_dispatch(NULL);
        return NULL;
    }
    if (compat_readonly(conn) || !compat_obj_conn(dconn, COMPAT_CONNECT) ||
        compat_readonly(dconn)) {
        compat_dispatch(conn);
        return NULL;
    }
    if (nparams > (unsigned int)VRPC_DOMAIN_MIGRATE_PARAM_LIST_MAX) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_RPC, "too many migration parameters: %u (at most %d)",
                     nparams, VRPC_DOMAIN_MIGRATE_PARAM_LIST_MAX);
    } else {
        ddomain = migrate3(domain, dconn, params, (int)nparams, flags);
    }
    if (!ddomain)
        compat_dispatch(conn);
    return ddomain;
}

/* The entry checks of the three ToURI functions: -1 after setting the
 * error (*conn is the domain's connection when the domain is valid). */
static int to_uri_check(virDomainPtr domain, virConnectPtr *conn, const char *func)
{
    if (!(*conn = compat_obj_conn_at(domain, COMPAT_DOMAIN, func)))
        return -1;
    if (compat_readonly_at(*conn, func))
        return -1;
    return 0;
}

int virDomainMigrateToURI(virDomainPtr domain, const char *duri, unsigned long flags,
                          const char *dname, unsigned long bandwidth)
{
    virConnectPtr conn = NULL;

    compat_reset();
    if (to_uri_check(domain, &conn, __func__) < 0)
        goto fail;
    if (!duri) {
        compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "duri");
        goto fail;
    }
    if (EXCLUSIVE(flags, VIR_MIGRATE_TUNNELLED, VIR_MIGRATE_PARALLEL) < 0 ||
        unmanaged_check(domain, flags) < 0)
        goto fail;
    if (unmanaged(domain, NULL, (unsigned int)flags, dname,
                  (flags & VIR_MIGRATE_PEER2PEER) ? duri : NULL,
                  (flags & VIR_MIGRATE_PEER2PEER) ? NULL : duri, bandwidth) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

int virDomainMigrateToURI2(virDomainPtr domain, const char *dconnuri, const char *miguri,
                           const char *dxml, unsigned long flags, const char *dname,
                           unsigned long bandwidth)
{
    virConnectPtr conn = NULL;

    compat_reset();
    if (to_uri_check(domain, &conn, __func__) < 0 ||
        EXCLUSIVE(flags, VIR_MIGRATE_TUNNELLED, VIR_MIGRATE_PARALLEL) < 0 ||
        unmanaged_check(domain, flags) < 0)
        goto fail;
    if (flags & VIR_MIGRATE_PEER2PEER) {
        if (!dconnuri) {
            compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "dconnuri");
            goto fail;
        }
    } else {
        dconnuri = NULL;
    }
    if (unmanaged(domain, dxml, (unsigned int)flags, dname, dconnuri, miguri, bandwidth) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}

int virDomainMigrateToURI3(virDomainPtr domain, const char *dconnuri, virTypedParameterPtr params,
                           unsigned int nparams, unsigned int flags)
{
    virConnectPtr conn = NULL;

    compat_reset();
    if (to_uri_check(domain, &conn, __func__) < 0 ||
        EXCLUSIVE(flags, VIR_MIGRATE_TUNNELLED, VIR_MIGRATE_PARALLEL) < 0 ||
        unmanaged_check(domain, flags) < 0)
        goto fail;
    if (flags & VIR_MIGRATE_PEER2PEER) {
        if (!dconnuri) {
            compat_invalid_arg(VIR_FROM_DOMAIN, __func__, "dconnuri");
            goto fail;
        }
    } else {
        dconnuri = NULL;
    }
    if (nparams > (unsigned int)VRPC_DOMAIN_MIGRATE_PARAM_LIST_MAX) {
        compat_error(VIR_FROM_DOMAIN, VIR_ERR_RPC, "too many migration parameters: %u (at most %d)",
                     nparams, VRPC_DOMAIN_MIGRATE_PARAM_LIST_MAX);
        goto fail;
    }
    if (unmanaged_params(domain, dconnuri, params, (int)nparams, flags) < 0)
        goto fail;
    return 0;
fail:
    compat_dispatch(conn);
    return -1;
}
