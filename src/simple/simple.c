/* SPDX-License-Identifier: MIT */
/* The convenience layer over the generated calls: see <virtrpc/simple.h>. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <virtrpc/consts.h>
#include <virtrpc/protocol.h>
#include <virtrpc/simple.h>

#include "alloc.h"
#include "error.h"

/* How many state queries of a listing are in flight at once. */
#define LIST_WINDOW 32

static int no_memory(vrpc_error **err)
{
    vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_NONE, "out of memory");
    return VRPC_E_NOMEM;
}

static int invalid_arg(vrpc_error **err, const char *what)
{
    vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_NONE, "invalid argument: %s", what);
    return VRPC_E_INVALID;
}

/* Is this a daemon error with the given virErrorNumber? */
static bool remote_code(int rc, const vrpc_error *e, int code)
{
    return rc == VRPC_E_REMOTE && e && e->code == code;
}

/* ---- UUIDs and state words ---- */

VRPC_EXPORT const char *vrpc_simple_state_name(int32_t state)
{
    switch (state) {
    case VRPC_DOMAIN_RUNNING:
        return "running";
    case VRPC_DOMAIN_BLOCKED:
        return "idle";
    case VRPC_DOMAIN_PAUSED:
        return "paused";
    case VRPC_DOMAIN_SHUTDOWN:
        return "in shutdown";
    case VRPC_DOMAIN_SHUTOFF:
        return "shut off";
    case VRPC_DOMAIN_CRASHED:
        return "crashed";
    case VRPC_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "no state";
    }
}

/* ---- connections ---- */

VRPC_EXPORT int vrpc_simple_open(vrpc_conn **out, const char *uri, bool read_only, vrpc_error **err)
{
    if (!out)
        return invalid_arg(err, "no place for the connection");
    return vrpc_conn_open(out, uri, read_only ? VRPC_OPEN_READONLY : 0, err);
}

/* ---- finding a domain ---- */

/* A domain reference returned by a lookup: `mem` is the reply that holds it. */
typedef struct dom_ref {
    void *mem;
    const vrpc_nonnull_domain *dom;
} dom_ref;

/* A non-negative decimal number that fits in an int32_t? */
static bool parse_id(const char *s, int32_t *id)
{
    int64_t v = 0;
    if (!*s)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return false;
    }
    *id = (int32_t)v;
    return true;
}

static int check_conn_ident(vrpc_conn *c, dom_ref *r, vrpc_error **err)
{
    r->mem = NULL;
    r->dom = NULL;
    if (!c)
        return invalid_arg(err, "no connection");
    return 0;
}

static int lookup_name(vrpc_conn *c, const char *name, dom_ref *r, vrpc_error **err)
{
    vrpc_domain_lookup_by_name_args a = {.name = (char *)name};
    vrpc_domain_lookup_by_name_ret *ret = NULL;
    int rc = check_conn_ident(c, r, err);
    if (rc)
        return rc;
    if (!name || !*name)
        return invalid_arg(err, "no domain name");
    rc = vrpc_domain_lookup_by_name(c, &a, &ret, err);
    if (rc == 0) {
        r->mem = ret;
        r->dom = &ret->dom;
    }
    return rc;
}

static int lookup_uuid(vrpc_conn *c, const uint8_t uuid[16], dom_ref *r, vrpc_error **err)
{
    vrpc_domain_lookup_by_uuid_args a;
    vrpc_domain_lookup_by_uuid_ret *ret = NULL;
    int rc = check_conn_ident(c, r, err);
    if (rc)
        return rc;
    if (!uuid)
        return invalid_arg(err, "no domain UUID");
    memcpy(a.uuid, uuid, sizeof(a.uuid));
    rc = vrpc_domain_lookup_by_uuid(c, &a, &ret, err);
    if (rc == 0) {
        r->mem = ret;
        r->dom = &ret->dom;
    }
    return rc;
}

static int lookup_id(vrpc_conn *c, int32_t id, dom_ref *r, vrpc_error **err)
{
    vrpc_domain_lookup_by_id_args a = {.id = id};
    vrpc_domain_lookup_by_id_ret *ret = NULL;
    int rc = check_conn_ident(c, r, err);
    if (rc)
        return rc;
    rc = vrpc_domain_lookup_by_id(c, &a, &ret, err);
    if (rc == 0) {
        r->mem = ret;
        r->dom = &ret->dom;
    }
    return rc;
}

/* virsh's rules: id, then UUID, then name; "no such domain" moves on. */
static int resolve(vrpc_conn *c, const char *text, dom_ref *r, vrpc_error **err)
{
    vrpc_error *e = NULL;
    int32_t id;
    uint8_t uuid[16];
    int rc = check_conn_ident(c, r, err);
    if (rc)
        return rc;
    if (!text || !*text)
        return invalid_arg(err, "no domain name");
    if (parse_id(text, &id)) {
        rc = lookup_id(c, id, r, &e);
        if (rc == 0 || !remote_code(rc, e, VRPC_ERR_NO_DOMAIN)) {
            vrpc_error_move(err, &e);
            return rc;
        }
        vrpc_free(e);
        e = NULL;
    }
    if (vrpc_uuid_parse(text, uuid) == 0) {
        rc = lookup_uuid(c, uuid, r, &e);
        if (rc == 0 || !remote_code(rc, e, VRPC_ERR_NO_DOMAIN)) {
            vrpc_error_move(err, &e);
            return rc;
        }
        vrpc_free(e);
    }
    return lookup_name(c, text, r, err);
}

/* A handle given by the caller, checked. */
static int check_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom, vrpc_error **err)
{
    if (!c)
        return invalid_arg(err, "no connection");
    if (!dom || !dom->name)
        return invalid_arg(err, "no domain handle");
    return 0;
}

/* The state of a domain: domain_get_state, or domain_get_info where the
 * driver does not support it. */
static int get_state(vrpc_conn *c, const vrpc_nonnull_domain *dom, int32_t *state, int32_t *reason,
                     vrpc_error **err)
{
    vrpc_domain_get_state_args a = {.dom = *dom, .flags = 0};
    vrpc_domain_get_state_ret *ret = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_domain_get_state(c, &a, &ret, &e);
    if (rc == 0) {
        *state = ret->state;
        *reason = ret->reason;
        vrpc_free(ret);
        return 0;
    }
    if (remote_code(rc, e, VRPC_ERR_NO_SUPPORT)) {
        vrpc_domain_get_info_args ia = {.dom = *dom};
        vrpc_domain_get_info_ret *iret = NULL;
        vrpc_free(e);
        rc = vrpc_domain_get_info(c, &ia, &iret, err);
        if (rc == 0) {
            *state = iret->state;
            *reason = 0;
            vrpc_free(iret);
        }
        return rc;
    }
    vrpc_error_move(err, &e);
    return rc;
}

/* One vrpc_simple_domain (and its name) in one allocation. */
static int make_domain(vrpc_conn *c, const vrpc_nonnull_domain *dom, vrpc_simple_domain **out,
                       vrpc_error **err)
{
    int32_t state = VRPC_DOMAIN_NOSTATE, reason = 0;
    size_t nlen = strlen(dom->name) + 1;
    vrpc_simple_domain *d;
    int rc = get_state(c, dom, &state, &reason, err);
    if (rc)
        return rc;
    d = vrpc_malloc(sizeof(*d) + nlen);
    if (!d)
        return no_memory(err);
    d->name = (char *)(d + 1);
    memcpy(d->name, dom->name, nlen);
    memcpy(d->uuid, dom->uuid, 16);
    d->id = dom->id;
    d->dom.name = d->name;
    memcpy(d->dom.uuid, dom->uuid, 16);
    d->dom.id = dom->id;
    d->state = state;
    d->reason = reason;
    *out = d;
    return 0;
}

/* Finish a lookup: the vrpc_simple_domain of r (whose reply is then freed). */
static int lookup_result(vrpc_conn *c, int rc, dom_ref *r, vrpc_simple_domain **out,
                         vrpc_error **err)
{
    if (rc == 0)
        rc = make_domain(c, r->dom, out, err);
    vrpc_free(r->mem);
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_lookup_by_name(vrpc_conn *c, const char *name,
                                                  vrpc_simple_domain **out, vrpc_error **err)
{
    dom_ref r;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    return lookup_result(c, lookup_name(c, name, &r, err), &r, out, err);
}

VRPC_EXPORT int vrpc_simple_domain_lookup_by_uuid(vrpc_conn *c, const uint8_t uuid[16],
                                                  vrpc_simple_domain **out, vrpc_error **err)
{
    dom_ref r;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    return lookup_result(c, lookup_uuid(c, uuid, &r, err), &r, out, err);
}

VRPC_EXPORT int vrpc_simple_domain_lookup_by_id(vrpc_conn *c, int32_t id, vrpc_simple_domain **out,
                                                vrpc_error **err)
{
    dom_ref r;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    return lookup_result(c, lookup_id(c, id, &r, err), &r, out, err);
}

VRPC_EXPORT int vrpc_simple_domain_resolve(vrpc_conn *c, const char *text, vrpc_simple_domain **out,
                                           vrpc_error **err)
{
    dom_ref r;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    return lookup_result(c, resolve(c, text, &r, err), &r, out, err);
}

/* ---- listing ---- */

typedef struct listed {
    const vrpc_nonnull_domain *dom;
    int32_t state, reason;
    bool gone;     /* vanished between the listing and the state query */
    bool not_sent; /* the query could not be queued: ask with a blocking call */
} listed;

/* virsh's order: running domains by id, then the others by name. */
static int listed_cmp(const void *pa, const void *pb)
{
    const listed *a = pa, *b = pb;
    bool ia = a->dom->id >= 0, ib = b->dom->id >= 0;
    if (ia && ib)
        return (a->dom->id > b->dom->id) - (a->dom->id < b->dom->id);
    if (ia != ib)
        return ia ? -1 : 1;
    return strcasecmp(a->dom->name, b->dom->name);
}

/*
 * Collect the state of entry l (whose query was sent with cookie k, unless
 * l->not_sent). A query that could not be sent is made as a blocking call:
 * it either answers (the send failed for a passing reason, a full output
 * queue) or fails with the connection's own error.
 */
static int collect_state(vrpc_conn *c, listed *l, vrpc_domain_get_state_cookie k, vrpc_error **err)
{
    vrpc_domain_get_state_ret *ret = NULL;
    vrpc_error *e = NULL;
    int rc;
    if (l->not_sent) {
        rc = get_state(c, l->dom, &l->state, &l->reason, &e);
        if (remote_code(rc, e, VRPC_ERR_NO_DOMAIN)) {
            vrpc_free(e);
            l->gone = true;
            return 0;
        }
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = vrpc_domain_get_state_reply(c, k, &ret, &e);
    if (rc == 0) {
        l->state = ret->state;
        l->reason = ret->reason;
        vrpc_free(ret);
        return 0;
    }
    if (remote_code(rc, e, VRPC_ERR_NO_DOMAIN)) {
        vrpc_free(e);
        l->gone = true;
        return 0;
    }
    if (remote_code(rc, e, VRPC_ERR_NO_SUPPORT)) {
        vrpc_free(e);
        e = NULL;
        rc = get_state(c, l->dom, &l->state, &l->reason, &e);
        if (remote_code(rc, e, VRPC_ERR_NO_DOMAIN)) {
            vrpc_free(e);
            l->gone = true;
            return 0;
        }
    }
    vrpc_error_move(err, &e);
    return rc;
}

VRPC_EXPORT int vrpc_simple_list_domains(vrpc_conn *c, vrpc_simple_domain_list **out,
                                         vrpc_error **err)
{
    vrpc_connect_list_all_domains_args la = {.need_results = 1, .flags = 0};
    vrpc_connect_list_all_domains_ret *lret = NULL;
    vrpc_domain_get_state_cookie *cookies = NULL;
    vrpc_simple_domain_list *list;
    listed *l = NULL;
    size_t n, sent = 0, done = 0, count = 0, names = 0;
    char *strings;
    int rc;

    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    if (!c)
        return invalid_arg(err, "no connection");
    rc = vrpc_connect_list_all_domains(c, &la, &lret, err);
    if (rc)
        return rc;
    n = lret->domains.n;
    if (n) {
        l = vrpc_calloc(n, sizeof(*l));
        cookies = vrpc_calloc(n, sizeof(*cookies));
        if (!l || !cookies) {
            rc = no_memory(err);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        l[i].dom = &lret->domains.items[i];
        l[i].state = VRPC_DOMAIN_NOSTATE;
    }

    /* Query the states with up to LIST_WINDOW calls in flight. */
    while (done < n) {
        while (sent < n && sent - done < LIST_WINDOW) {
            vrpc_domain_get_state_args a = {.dom = *l[sent].dom, .flags = 0};
            if (vrpc_domain_get_state_send(c, &a, &cookies[sent], NULL) != 0) {
                cookies[sent].p = NULL;
                l[sent].not_sent = true;
            }
            sent++;
        }
        rc = collect_state(c, &l[done], cookies[done], err);
        done++;
        if (rc)
            goto out;
    }

    qsort(l, n, sizeof(*l), listed_cmp);
    for (size_t i = 0; i < n; i++) {
        if (l[i].gone)
            continue;
        count++;
        names += strlen(l[i].dom->name) + 1;
    }
    list = vrpc_malloc(sizeof(*list) + count * sizeof(vrpc_simple_domain) + names);
    if (!list) {
        rc = no_memory(err);
        goto out;
    }
    list->count = count;
    list->domains = (vrpc_simple_domain *)(list + 1);
    strings = (char *)(list->domains + count);
    count = 0;
    for (size_t i = 0; i < n; i++) {
        vrpc_simple_domain *d = &list->domains[count];
        size_t len;
        if (l[i].gone)
            continue;
        len = strlen(l[i].dom->name) + 1;
        memcpy(strings, l[i].dom->name, len);
        d->name = strings;
        strings += len;
        memcpy(d->uuid, l[i].dom->uuid, 16);
        d->id = l[i].dom->id;
        d->dom.name = d->name;
        memcpy(d->dom.uuid, l[i].dom->uuid, 16);
        d->dom.id = l[i].dom->id;
        d->state = l[i].state;
        d->reason = l[i].reason;
        count++;
    }
    *out = list;
    rc = 0;
out:
    /* Calls sent but not collected (after an error): drop their replies. */
    for (size_t i = done; i < sent; i++)
        if (!l[i].not_sent)
            vrpc_call_discard(c, cookies[i].p);
    vrpc_free(cookies);
    vrpc_free(l);
    vrpc_free(lret);
    return rc;
}

/* ---- information ---- */

/* One query of a domain's information: sent first, collected later. */
typedef struct query {
    const vrpc_proc *proc;
    const void *args;
    vrpc_pending *p; /* NULL: not sent, made as a blocking call when collected */
    void *ret;
} query;

/*
 * The replies: queries[0] (domain_get_info) is required; the others may
 * fail with a daemon error (unsupported by the driver...), which only makes
 * them unknown. A query that could not be sent is made as a blocking call,
 * which answers or reports the connection's own error.
 */
static int collect_queries(vrpc_conn *c, query *q, size_t n, vrpc_error **err)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        vrpc_error *e = NULL;
        int rc_;
        if (rc) { /* a failure before: drop the rest */
            vrpc_call_discard(c, q[i].p);
            q[i].p = NULL;
            continue;
        }
        if (q[i].p)
            rc_ = vrpc_call_wait(c, q[i].p, &q[i].ret, &e);
        else
            rc_ = vrpc_call(c, q[i].proc, q[i].args, &q[i].ret, &e);
        q[i].p = NULL;
        if (rc_ && (i == 0 || rc_ != VRPC_E_REMOTE)) {
            rc = rc_;
            vrpc_error_move(err, &e);
        }
        vrpc_free(e);
    }
    return rc;
}

static int info_of(vrpc_conn *c, const vrpc_nonnull_domain *dom, vrpc_simple_domain_info **out,
                   vrpc_error **err)
{
    vrpc_domain_get_info_args a1 = {.dom = *dom};
    vrpc_domain_get_state_args a2 = {.dom = *dom, .flags = 0};
    vrpc_domain_get_os_type_args a3 = {.dom = *dom};
    vrpc_domain_is_persistent_args a4 = {.dom = *dom};
    vrpc_domain_get_autostart_args a5 = {.dom = *dom};
    vrpc_domain_has_managed_save_image_args a6 = {.dom = *dom, .flags = 0};
    query q[6] = {
        {&vrpc_pd_domain_get_info, &a1, NULL, NULL},
        {&vrpc_pd_domain_get_state, &a2, NULL, NULL},
        {&vrpc_pd_domain_get_os_type, &a3, NULL, NULL},
        {&vrpc_pd_domain_is_persistent, &a4, NULL, NULL},
        {&vrpc_pd_domain_get_autostart, &a5, NULL, NULL},
        {&vrpc_pd_domain_has_managed_save_image, &a6, NULL, NULL},
    };
    const vrpc_domain_get_info_ret *info;
    const vrpc_domain_get_state_ret *st;
    const vrpc_domain_get_os_type_ret *os;
    const vrpc_domain_is_persistent_ret *pers;
    const vrpc_domain_get_autostart_ret *aut;
    const vrpc_domain_has_managed_save_image_ret *save;
    vrpc_simple_domain_info *r;
    size_t nlen, olen;
    int rc;

    /* Six independent queries: send them all, then collect the replies. */
    for (size_t i = 0; i < 6; i++)
        if (vrpc_call_send(c, q[i].proc, q[i].args, &q[i].p, NULL) != 0)
            q[i].p = NULL;
    rc = collect_queries(c, q, 6, err);
    if (rc)
        goto out;
    info = q[0].ret;
    st = q[1].ret;
    os = q[2].ret;
    pers = q[3].ret;
    aut = q[4].ret;
    save = q[5].ret;

    nlen = strlen(dom->name) + 1;
    olen = os ? strlen(os->type) + 1 : 0;
    r = vrpc_malloc(sizeof(*r) + nlen + olen);
    if (!r) {
        rc = no_memory(err);
        goto out;
    }
    r->name = (char *)(r + 1);
    memcpy(r->name, dom->name, nlen);
    r->os_type = NULL;
    if (os) {
        r->os_type = r->name + nlen;
        memcpy(r->os_type, os->type, olen);
    }
    memcpy(r->uuid, dom->uuid, 16);
    r->id = dom->id;
    r->dom.name = r->name;
    memcpy(r->dom.uuid, dom->uuid, 16);
    r->dom.id = dom->id;
    r->state = info->state;
    r->reason = st ? st->reason : 0;
    r->vcpus = info->nrVirtCpu;
    r->cpu_time_ns = info->cpuTime;
    r->max_memory_kib = info->maxMem;
    r->memory_kib = info->memory;
    r->persistent = pers ? pers->persistent != 0 : -1;
    r->autostart = aut ? aut->autostart != 0 : -1;
    r->managed_save = save ? save->result != 0 : -1;
    *out = r;
out:
    for (size_t i = 0; i < 6; i++)
        vrpc_free(q[i].ret);
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_get_info(vrpc_conn *c, const char *name,
                                            vrpc_simple_domain_info **out, vrpc_error **err)
{
    dom_ref ref;
    int rc;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    rc = lookup_name(c, name, &ref, err);
    if (rc)
        return rc;
    rc = info_of(c, ref.dom, out, err);
    vrpc_free(ref.mem);
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_get_info_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                vrpc_simple_domain_info **out, vrpc_error **err)
{
    int rc;
    if (!out)
        return invalid_arg(err, "no place for the result");
    *out = NULL;
    rc = check_dom(c, dom, err);
    return rc ? rc : info_of(c, dom, out, err);
}

/* ---- lifecycle ---- */

/* A procedure whose arguments are just the domain (domain_create,
 * domain_shutdown, domain_destroy: `{ remote_nonnull_domain dom; }`). */
static int call_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom, const vrpc_proc *proc,
                    vrpc_error **err)
{
    vrpc_domain_create_args a;
    int rc = check_dom(c, dom, err);
    if (rc)
        return rc;
    a.dom = *dom;
    return vrpc_call(c, proc, &a, NULL, err);
}

/* The same, with the domain found by name. */
static int call_named(vrpc_conn *c, const char *name, const vrpc_proc *proc, vrpc_error **err)
{
    dom_ref r;
    int rc = lookup_name(c, name, &r, err);
    if (rc == 0) {
        rc = call_dom(c, r.dom, proc, err);
        vrpc_free(r.mem);
    }
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_start(vrpc_conn *c, const char *name, vrpc_error **err)
{
    return call_named(c, name, &vrpc_pd_domain_create, err);
}

VRPC_EXPORT int vrpc_simple_domain_start_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                             vrpc_error **err)
{
    return call_dom(c, dom, &vrpc_pd_domain_create, err);
}

VRPC_EXPORT int vrpc_simple_domain_shutdown(vrpc_conn *c, const char *name, vrpc_error **err)
{
    return call_named(c, name, &vrpc_pd_domain_shutdown, err);
}

VRPC_EXPORT int vrpc_simple_domain_shutdown_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                vrpc_error **err)
{
    return call_dom(c, dom, &vrpc_pd_domain_shutdown, err);
}

VRPC_EXPORT int vrpc_simple_domain_destroy(vrpc_conn *c, const char *name, vrpc_error **err)
{
    return call_named(c, name, &vrpc_pd_domain_destroy, err);
}

VRPC_EXPORT int vrpc_simple_domain_destroy_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                               vrpc_error **err)
{
    return call_dom(c, dom, &vrpc_pd_domain_destroy, err);
}

VRPC_EXPORT int vrpc_simple_domain_get_xml_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                               unsigned int flags, char **xml, vrpc_error **err)
{
    vrpc_domain_get_xml_desc_ret *ret = NULL;
    vrpc_domain_get_xml_desc_args a;
    int rc;
    if (!xml)
        return invalid_arg(err, "no place for the result");
    *xml = NULL;
    rc = check_dom(c, dom, err);
    if (rc)
        return rc;
    a.dom = *dom;
    a.flags = flags;
    rc = vrpc_domain_get_xml_desc(c, &a, &ret, err);
    if (rc)
        return rc;
    *xml = vrpc_strdup(ret->xml);
    vrpc_free(ret);
    return *xml ? 0 : no_memory(err);
}

VRPC_EXPORT int vrpc_simple_domain_get_xml(vrpc_conn *c, const char *name, unsigned int flags,
                                           char **xml, vrpc_error **err)
{
    dom_ref r;
    int rc;
    if (!xml)
        return invalid_arg(err, "no place for the result");
    *xml = NULL;
    rc = lookup_name(c, name, &r, err);
    if (rc)
        return rc;
    rc = vrpc_simple_domain_get_xml_dom(c, r.dom, flags, xml, err);
    vrpc_free(r.mem);
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_define(vrpc_conn *c, const char *xml, vrpc_simple_domain **out,
                                          vrpc_error **err)
{
    vrpc_domain_define_xml_args a = {.xml = (char *)xml};
    vrpc_domain_define_xml_ret *ret = NULL;
    int rc;
    if (out)
        *out = NULL;
    if (!c)
        return invalid_arg(err, "no connection");
    if (!xml)
        return invalid_arg(err, "no XML");
    rc = vrpc_domain_define_xml(c, &a, &ret, err);
    if (rc)
        return rc;
    if (out)
        rc = make_domain(c, &ret->dom, out, err);
    vrpc_free(ret);
    return rc;
}

VRPC_EXPORT int vrpc_simple_domain_undefine_dom(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                                unsigned int flags, vrpc_error **err)
{
    int rc = check_dom(c, dom, err);
    if (rc)
        return rc;
    if (flags) {
        vrpc_domain_undefine_flags_args a = {.dom = *dom, .flags = flags};
        return vrpc_domain_undefine_flags(c, &a, err);
    } else {
        vrpc_domain_undefine_args a = {.dom = *dom};
        return vrpc_domain_undefine(c, &a, err);
    }
}

VRPC_EXPORT int vrpc_simple_domain_undefine(vrpc_conn *c, const char *name, unsigned int flags,
                                            vrpc_error **err)
{
    dom_ref r;
    int rc = lookup_name(c, name, &r, err);
    if (rc)
        return rc;
    rc = vrpc_simple_domain_undefine_dom(c, r.dom, flags, err);
    vrpc_free(r.mem);
    return rc;
}
