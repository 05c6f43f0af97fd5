/* SPDX-License-Identifier: MIT */
/*
 * Events: the table of every event (derived from the procedure table and
 * libvirt's event IDs), registrations shared per (event, filter) on the
 * daemon, the queue hook and delivery by callbackID.
 *
 * Locks: the connection lock protects the queue (filled and drained through
 * the connection's hooks, see vrpc_events_attach); `reg_lock`
 * serialises the registration calls to the daemon (held across them, never
 * while a callback runs); `lock` protects the lists, reference counts and
 * counters and is never held across a call or a callback. Order: reg_lock,
 * then lock; the connection lock is never taken with `lock` held.
 *
 * A callback record lives as long as anybody references it: the list (until
 * deregistration) and each delivery that picked it. Its free_opaque runs
 * exactly once, when it is off the list and not running: in
 * vrpc_event_deregister() (which waits for a call running in another
 * thread), or after the callback returns when it deregistered itself.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/events.h>
#include <virtrpc/protocol.h>

#include "alloc.h"
#include "conn-internal.h"
#include "error.h"
#include "events-internal.h"
#include "loop.h"

/* VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK (libvirt_internal.h). */
#define FEATURE_REMOTE_EVENT_CALLBACK 14

/* ---- the event table ---- */

typedef enum { FORM_NONE, FORM_CALLBACK, FORM_LEGACY, FORM_CLOSED } ev_form;

typedef struct ev_info {
    vrpc_event_info pub;
    /* The register procedure's arguments: {int eventID; T *filter;}. */
    uint32_t id_off, filter_off;
    bool key_uuid;    /* the filter is matched by its uuid (else its name) */
    uint32_t key_off; /* offset of the uuid / name in the filter struct */
    /* The legacy form is the callback form's last member (`msg`), after
     * callbackID and possibly more ints (PM events: reason); decoded behind
     * legacy_prefix zero bytes. The domain's uuid is at legacy_uuid_off in
     * the callback-form value. */
    bool legacy_ok;
    uint32_t legacy_prefix;
    uint32_t legacy_uuid_off;
} ev_info;

static ev_info *infos;
static size_t ninfos;
static const vrpc_event_info *pub_infos; /* the same, as an array of vrpc_event_info */
static const vrpc_proc *proc_closed;     /* CONNECT_EVENT_CONNECTION_CLOSED */
static const vrpc_proc *legacy_reg, *legacy_dereg;
static pthread_once_t infos_once = PTHREAD_ONCE_INIT;

static const struct {
    const char *name;
    int family;
} known_families[] = {
    {"DOMAIN", VRPC_EVENT_FAMILY_DOMAIN},
    {"NETWORK", VRPC_EVENT_FAMILY_NETWORK},
    {"STORAGE_POOL", VRPC_EVENT_FAMILY_STORAGE_POOL},
    {"NODE_DEVICE", VRPC_EVENT_FAMILY_NODE_DEVICE},
    {"SECRET", VRPC_EVENT_FAMILY_SECRET},
};

/* Static strings of the table: libc's allocator, never released. */
__attribute__((format(printf, 1, 2))) static char *sfmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;
    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

static void lower_dash(char *s, bool dash)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
        if (dash && *s == '_')
            *s = '-';
    }
}

__attribute__((format(printf, 1, 2))) static const vrpc_proc *find_proc(const char *fmt, ...)
{
    char name[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(name))
        return NULL;
    return vrpc_proc_lookup(name);
}

static const vrpc_field *field_named(const vrpc_type *t, const char *name)
{
    uint32_t i;
    if (!t || t->kind != VRPC_KIND_STRUCT)
        return NULL;
    for (i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

/* t is a struct whose first member is `int name`. */
static bool first_int(const vrpc_type *t, const char *name)
{
    return t && t->kind == VRPC_KIND_STRUCT && t->nfields > 0 &&
           strcmp(t->fields[0].name, name) == 0 && t->fields[0].type->kind == VRPC_KIND_INT;
}

/* An event procedure of the callback form: its msg starts with callbackID. */
static const vrpc_proc *callback_form(const vrpc_proc *p)
{
    return p && p->msg && first_int(p->msg, "callbackID") ? p : NULL;
}

static int family_number(const char *fam, char (*extra)[64], size_t *nextra)
{
    size_t i;
    for (i = 0; i < sizeof(known_families) / sizeof(known_families[0]); i++)
        if (strcmp(known_families[i].name, fam) == 0)
            return known_families[i].family;
    for (i = 0; i < *nextra; i++)
        if (strcmp(extra[i], fam) == 0)
            return VRPC_EVENT_FAMILY_QEMU_MONITOR + 1 + (int)i;
    if (*nextra >= 16 || strlen(fam) >= 64)
        return -1;
    strcpy(extra[*nextra], fam);
    return VRPC_EVENT_FAMILY_QEMU_MONITOR + 1 + (int)(*nextra)++;
}

static bool add_family_event(ev_info *in, const char *fam, const char *idname, int value,
                             char (*extra)[64], size_t *nextra)
{
    char *lfam = sfmt("%s", fam), *lid = sfmt("%s", idname);
    const vrpc_proc *cb, *leg = NULL, *reg, *dereg;
    const vrpc_type *ft;
    const vrpc_field *kf;
    bool ok = false;
    int family;

    if (!lfam || !lid)
        goto out;
    lower_dash(lfam, false);
    lower_dash(lid, false);
    family = family_number(fam, extra, nextra);
    if (family < 0)
        goto out;

    cb = callback_form(find_proc("%s_event_callback_%s", lfam, lid));
    if (!cb)
        cb = callback_form(find_proc("%s_event_%s", lfam, lid));
    if (!cb)
        goto out;
    if (family == VRPC_EVENT_FAMILY_DOMAIN) {
        leg = find_proc("%s_event_%s", lfam, lid);
        if (leg && (!leg->msg || callback_form(leg)))
            leg = NULL;
    }
    reg = find_proc("connect_%s_event_callback_register_any", lfam);
    if (!reg)
        reg = find_proc("connect_%s_event_register_any", lfam);
    dereg = find_proc("connect_%s_event_callback_deregister_any", lfam);
    if (!dereg)
        dereg = find_proc("connect_%s_event_deregister_any", lfam);
    /* {int eventID; T *filter;} -> {int callbackID;}; deregister {int callbackID;}. */
    if (!reg || !reg->args || reg->args->nfields != 2 || !first_int(reg->args, "eventID") ||
        reg->args->fields[1].type->kind != VRPC_KIND_OPTIONAL ||
        !first_int(reg->ret, "callbackID") || !dereg || !dereg->args || dereg->args->nfields != 1 ||
        !first_int(dereg->args, "callbackID"))
        goto out;
    ft = reg->args->fields[1].type->elem;
    if ((kf = field_named(ft, "uuid")) && kf->type->kind == VRPC_KIND_OPAQUE_FIXED &&
        kf->type->bound == 16) {
        in->key_uuid = true;
    } else if ((kf = field_named(ft, "name")) && kf->type->kind == VRPC_KIND_STRING) {
        in->key_uuid = false;
    } else {
        goto out;
    }
    in->key_off = kf->offset;
    in->id_off = reg->args->fields[0].offset;
    in->filter_off = reg->args->fields[1].offset;
    if (leg && legacy_reg && legacy_dereg && cb->msg->nfields >= 2 &&
        cb->msg->fields[cb->msg->nfields - 1].type == leg->msg) {
        const vrpc_field *last = &cb->msg->fields[cb->msg->nfields - 1];
        const vrpc_field *dom = field_named(leg->msg, "dom");
        const vrpc_field *uuid = dom ? field_named(dom->type, "uuid") : NULL;
        bool ints = true;
        uint32_t k;
        for (k = 0; k + 1 < cb->msg->nfields; k++)
            ints = ints && cb->msg->fields[k].type->kind == VRPC_KIND_INT;
        if (ints && uuid && uuid->type->kind == VRPC_KIND_OPAQUE_FIXED && uuid->type->bound == 16) {
            in->legacy_ok = true;
            in->legacy_prefix = 4 * (cb->msg->nfields - 1);
            in->legacy_uuid_off = last->offset + dom->offset + uuid->offset;
        }
    }
    in->pub.key = VRPC_EVENT_KEY(family, value);
    in->pub.family = family;
    in->pub.id = value;
    in->pub.proc = cb;
    in->pub.legacy_proc = leg;
    in->pub.register_proc = reg;
    in->pub.deregister_proc = dereg;
    lower_dash(lfam, true);
    lower_dash(lid, true);
    in->pub.name = sfmt("%s.%s", lfam, lid);
    in->pub.id_name = sfmt("VIR_%s_EVENT_ID_%s", fam, idname);
    ok = in->pub.name && in->pub.id_name;
out:
    free(lfam);
    free(lid);
    return ok;
}

static int info_cmp(const void *a, const void *b)
{
    const ev_info *x = a, *y = b;
    return (x->pub.key > y->pub.key) - (x->pub.key < y->pub.key);
}

static void build_infos(void)
{
    char extra[16][64];
    size_t nextra = 0, i, n = 0;
    vrpc_event_info *pubs;
    ev_info *t = calloc(vrpc_event_id_nconsts + 1, sizeof(*t));

    if (!t)
        return;
    proc_closed = vrpc_proc_lookup("connect_event_connection_closed");
    if (proc_closed && !first_int(proc_closed->msg, "reason"))
        proc_closed = NULL;
    legacy_reg = vrpc_proc_lookup("connect_domain_event_register_any");
    legacy_dereg = vrpc_proc_lookup("connect_domain_event_deregister_any");
    if (!legacy_reg || !first_int(legacy_reg->args, "eventID") || !legacy_dereg ||
        !first_int(legacy_dereg->args, "eventID"))
        legacy_reg = legacy_dereg = NULL;

    for (i = 0; i < vrpc_event_id_nconsts; i++) {
        const vrpc_event_id_const *k = &vrpc_event_id_consts[i];
        if (add_family_event(&t[n], k->family, k->name, k->value, extra, &nextra))
            n++;
        else
            memset(&t[n], 0, sizeof(t[n]));
    }
    {
        const vrpc_proc *p = callback_form(vrpc_proc_lookup("qemu_domain_monitor_event"));
        const vrpc_proc *r = vrpc_proc_lookup("qemu_connect_domain_monitor_event_register");
        const vrpc_proc *d = vrpc_proc_lookup("qemu_connect_domain_monitor_event_deregister");
        if (p && r && d && r->args && first_int(r->ret, "callbackID") &&
            first_int(d->args, "callbackID")) {
            ev_info *in = &t[n++];
            in->pub.key = VRPC_EVENT_QEMU_MONITOR;
            in->pub.family = VRPC_EVENT_FAMILY_QEMU_MONITOR;
            in->pub.id = 0;
            in->pub.name = "qemu.monitor";
            in->pub.id_name = NULL;
            in->pub.proc = p;
            in->pub.register_proc = r;
            in->pub.deregister_proc = d;
        }
    }
    qsort(t, n, sizeof(*t), info_cmp);
    pubs = calloc(n ? n : 1, sizeof(*pubs));
    if (!pubs) {
        free(t);
        return;
    }
    for (i = 0; i < n; i++)
        pubs[i] = t[i].pub;
    infos = t;
    pub_infos = pubs;
    ninfos = n;
}

static void ensure_infos(void)
{
    pthread_once(&infos_once, build_infos);
}

const vrpc_event_info *vrpc_event_infos(size_t *count)
{
    ensure_infos();
    if (count)
        *count = ninfos;
    return pub_infos;
}

static const ev_info *info_get(int event)
{
    size_t i;
    ensure_infos();
    for (i = 0; i < ninfos; i++) {
        const ev_info *in = &infos[i];
        if (event >= 0x10000) {
            if (in->pub.key == event)
                return in;
        } else if (in->pub.family != VRPC_EVENT_FAMILY_QEMU_MONITOR &&
                   (in->pub.proc->number == event ||
                    (in->pub.legacy_proc && in->pub.legacy_proc->number == event))) {
            return in;
        }
    }
    return NULL;
}

static const vrpc_event_info *to_pub(const ev_info *in)
{
    return in ? &pub_infos[in - infos] : NULL;
}

const vrpc_event_info *vrpc_event_info_get(int event)
{
    return to_pub(info_get(event));
}

/* Lower case without '-' and '_'. */
static void squash(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (*s != '-' && *s != '_')
            out[k++] = (char)tolower((unsigned char)*s);
    out[k] = '\0';
}

static bool same_name(const char *want, const char *name)
{
    char b[256];
    if (!name)
        return false;
    squash(name, b, sizeof(b));
    return strcmp(want, b) == 0;
}

const vrpc_event_info *vrpc_event_info_lookup(const char *name)
{
    char want[256], dom[272];
    size_t i;
    if (!name || strlen(name) >= 200)
        return NULL;
    ensure_infos();
    squash(name, want, sizeof(want));
    snprintf(dom, sizeof(dom), "domain.%s", want);
    for (i = 0; i < ninfos; i++) {
        const vrpc_event_info *p = &pub_infos[i];
        if (same_name(want, p->name) ||
            (!strchr(want, '.') && p->family == VRPC_EVENT_FAMILY_DOMAIN &&
             same_name(dom, p->name)) ||
            same_name(want, p->id_name) || same_name(want, p->proc->name) ||
            same_name(want, p->proc->xdr_name) ||
            (p->legacy_proc &&
             (same_name(want, p->legacy_proc->name) || same_name(want, p->legacy_proc->xdr_name))))
            return p;
    }
    return NULL;
}

static const ev_info *info_by_proc(uint32_t prog, int32_t num, ev_form *form)
{
    size_t i;
    ensure_infos();
    for (i = 0; i < ninfos; i++) {
        const vrpc_event_info *p = &infos[i].pub;
        if (p->proc->program == prog && p->proc->number == num) {
            *form = FORM_CALLBACK;
            return &infos[i];
        }
        if (p->legacy_proc && infos[i].legacy_ok && p->legacy_proc->program == prog &&
            p->legacy_proc->number == num) {
            *form = FORM_LEGACY;
            return &infos[i];
        }
    }
    *form = proc_closed && proc_closed->program == prog && proc_closed->number == num ? FORM_CLOSED
                                                                                      : FORM_NONE;
    return NULL;
}

/* ---- registrations ---- */

typedef struct ev_reg {
    struct ev_reg *next;
    const ev_info *info;
    char *key; /* the filter, as text */
    int32_t server_id;
    bool legacy;
    unsigned int ncb;
    /* RECONNECTING: the registration call (procedure and a copy of its
     * arguments) to make again on a new connection; the connection's
     * generation server_id belongs to, and the previous pair, for events
     * that were queued before the new registration. */
    const vrpc_proc *reg_proc;
    void *reg_args;
    uint64_t gen, prev_gen;
    int32_t prev_id;
} ev_reg;

typedef struct ev_cb {
    struct ev_cb *next;
    int id;
    ev_reg *reg; /* valid while on the list */
    vrpc_event_cb cb;
    void *opaque;
    void (*free_opaque)(void *);
    unsigned int refs;
    bool removed, running, opaque_done;
    pthread_t runner;
    bool has_uuid; /* legacy registrations: the domain filter, applied here */
    uint8_t uuid[16];
} ev_cb;

/* A queued event: the raw payload, decoded at delivery. */
typedef struct vrpc_evq_item {
    struct vrpc_evq_item *next;
    uint32_t prog;
    int32_t proc;
    uint64_t gen; /* the connection's generation it came on */
    size_t len;
    uint8_t data[]; /* the payload */
} vrpc_evq_item;

typedef struct vrpc_events vrpc_events;

struct vrpc_events {
    /* The queue of events waiting for dispatch, and its counters: under
     * the connection lock (filled by the I/O owner through the packet
     * hook, drained by vrpc_conn_process() through take/deliver). */
    vrpc_evq_item *q_head, *q_tail;
    size_t q_count, q_bytes;
    uint64_t n_received, n_overflow, n_unrouted;

    pthread_mutex_t lock;
    pthread_mutex_t reg_lock;
    pthread_cond_t idle; /* a callback returned */
    ev_reg *regs;
    ev_cb *cbs;
    int next_id;
    int feature_cb; /* feature 14: -1 unknown, 0, 1 */
    uint32_t ncbs, nregs;
    uint64_t delivered, undecodable, server_calls;
};

/* The state attached at creation (vrpc_events_attach); never changes. */
static vrpc_events *events_get(vrpc_conn *c)
{
    return c->events.state;
}

static vrpc_events *events_peek(vrpc_conn *c)
{
    return c->events.state;
}

static int key_string(const ev_info *in, const void *filter, bool legacy, char **out,
                      vrpc_error **err)
{
    char hex[40], *k = NULL;
    size_t n;

    *out = NULL;
    if (legacy) {
        k = vrpc_strdup("legacy");
    } else if (in->pub.family == VRPC_EVENT_FAMILY_QEMU_MONITOR) {
        const vrpc_qemu_monitor_filter *f = filter;
        const char *ev = f && f->event ? f->event : NULL;
        if (f && f->dom)
            vrpc_uuid_format(f->dom->uuid, hex);
        else
            strcpy(hex, "*");
        n = 64 + (ev ? strlen(ev) : 0);
        k = vrpc_malloc(n);
        if (k)
            snprintf(k, n, "q:%s:%u:%s%s", hex, f ? f->flags : 0u, ev ? "=" : "*", ev ? ev : "");
    } else if (!filter) {
        k = vrpc_strdup("*");
    } else if (in->key_uuid) {
        vrpc_uuid_format((const uint8_t *)filter + in->key_off, hex);
        k = vrpc_malloc(64);
        if (k)
            snprintf(k, 64, "u:%s", hex);
    } else {
        const char *name = *(char *const *)((const uint8_t *)filter + in->key_off);
        if (!name) {
            vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC, "the %s filter has no name",
                           in->pub.name);
            return VRPC_E_INVALID;
        }
        n = strlen(name) + 3;
        k = vrpc_malloc(n);
        if (k)
            snprintf(k, n, "n:%s", name);
    }
    if (!k) {
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        return VRPC_E_NOMEM;
    }
    *out = k;
    return 0;
}

/* Ask the daemon for a feature (1 supported, 0 not, < 0 error). */
static int supports_feature(vrpc_conn *c, int feature, vrpc_error **err)
{
    vrpc_connect_supports_feature_args a = {.feature = feature};
    vrpc_connect_supports_feature_ret *r = NULL;
    vrpc_error *e = NULL;
    int rc = vrpc_connect_supports_feature(c, &a, &r, &e);
    if (rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_NO_SUPPORT) {
        vrpc_free(e);
        return 0;
    }
    if (rc) {
        vrpc_error_move(err, &e);
        return rc;
    }
    rc = r->supported != 0;
    vrpc_free(r);
    return rc;
}

/* The registration call to the daemon: its procedure and a copy of its
 * arguments (kept to register again after a reconnection). */
static int reg_call_args(const ev_info *in, const void *filter, bool legacy, const vrpc_proc **pp,
                         void **out, vrpc_error **err)
{
    const vrpc_proc *p = legacy ? legacy_reg : in->pub.register_proc;
    int rc;

    *pp = p;
    *out = NULL;
    if (legacy) {
        vrpc_connect_domain_event_register_any_args a = {.eventID = in->pub.id};
        rc = vrpc_value_copy(p->args, &a, out);
    } else if (in->pub.family == VRPC_EVENT_FAMILY_QEMU_MONITOR) {
        const vrpc_qemu_monitor_filter *f = filter;
        vrpc_qemu_connect_domain_monitor_event_register_args a;
        memset(&a, 0, sizeof(a));
        if (f) {
            a.dom = (vrpc_nonnull_domain *)f->dom;
            a.event = (char *)f->event;
            a.flags = f->flags;
        }
        rc = vrpc_value_copy(p->args, &a, out);
    } else {
        uint8_t *args = vrpc_calloc(1, p->args->size);
        if (!args) {
            rc = VRPC_E_NOMEM;
        } else {
            memcpy(args + in->id_off, &in->pub.id, sizeof(int32_t));
            memcpy(args + in->filter_off, &filter, sizeof(filter));
            rc = vrpc_value_copy(p->args, args, out);
            vrpc_free(args);
        }
    }
    if (rc)
        vrpc_error_set(err, rc == VRPC_E_NOMEM ? VRPC_ERR_NO_MEMORY : VRPC_ERR_INVALID_ARG,
                       VRPC_FROM_RPC, "cannot copy the %s filter: %s", in->pub.name,
                       vrpc_strerror(rc));
    return rc;
}

static int server_register(vrpc_conn *c, const vrpc_proc *p, const void *args, int32_t *sid,
                           vrpc_error **err)
{
    void *ret = NULL;
    int rc;

    *sid = 0;
    rc = vrpc_call(c, p, args, p->ret ? &ret : NULL, err);
    if (rc == 0 && p->ret) {
        memcpy(sid, (uint8_t *)ret + p->ret->fields[0].offset, sizeof(int32_t));
        vrpc_free(ret);
    }
    return rc;
}

/* The connection's generation (see vrpc_conn_adopt). */
static uint64_t generation(vrpc_conn *c)
{
    uint64_t g;
    pthread_mutex_lock(&c->lock);
    g = c->generation;
    pthread_mutex_unlock(&c->lock);
    return g;
}

static int server_deregister(vrpc_conn *c, const ev_reg *reg, vrpc_error **err)
{
    if (reg->legacy) {
        vrpc_connect_domain_event_deregister_any_args a = {.eventID = reg->info->pub.id};
        return vrpc_call(c, legacy_dereg, &a, NULL, err);
    } else {
        const vrpc_proc *p = reg->info->pub.deregister_proc;
        uint8_t *args = vrpc_calloc(1, p->args->size);
        int rc;
        if (!args) {
            vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
            return VRPC_E_NOMEM;
        }
        memcpy(args + p->args->fields[0].offset, &reg->server_id, sizeof(int32_t));
        rc = vrpc_call(c, p, args, NULL, err);
        vrpc_free(args);
        return rc;
    }
}

static void attach_locked(vrpc_events *ev, ev_reg *reg, ev_cb *n)
{
    n->id = ev->next_id++;
    if (ev->next_id <= 0)
        ev->next_id = 1;
    n->reg = reg;
    n->refs = 1;
    reg->ncb++;
    n->next = ev->cbs;
    ev->cbs = n;
    ev->ncbs++;
}

/* Whether the daemon's refusal of a registration means "this daemon does not
 * know this event" (docs/design.md, "An event the daemon does not know").
 * VRPC_ERR_NO_SUPPORT always does. Daemons up to at least 11.x answer an
 * event ID beyond their own table with VRPC_ERR_INTERNAL_ERROR and nothing
 * else tells it apart from a real internal error, so that code counts only
 * when the message has the daemon's form for it: after the code's text
 * ("internal error: "), "unsupported ", at most words naming the family,
 * and "event ID <the ID we sent>" at the end. */
bool vrpc_event_refused_as_unknown(int family, int id, const vrpc_error *e)
{
    const char *m, *tail, *p;
    char num[16];
    size_t ml, nl;

    if (!e)
        return false;
    if (e->code == VRPC_ERR_NO_SUPPORT)
        return true;
    if (e->code != VRPC_ERR_INTERNAL_ERROR || !e->message ||
        family == VRPC_EVENT_FAMILY_QEMU_MONITOR)
        return false;
    m = e->message;
    /* The daemon's message carries the code's own text first. */
    if (strncmp(m, "internal error: ", 16) == 0)
        m += 16;
    if (strncmp(m, "unsupported ", 12) != 0)
        return false;
    nl = (size_t)snprintf(num, sizeof(num), "event ID %d", id);
    ml = strlen(m);
    if (nl >= sizeof(num) || ml < 12 + nl)
        return false;
    tail = m + ml - nl;
    if (strcmp(tail, num) != 0)
        return false;
    /* Between the two: nothing, or one word naming the family and a space. */
    for (p = m + 12; p < tail; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == ' '))
            return false;
    return true;
}

int vrpc_event_register(vrpc_conn *c, int event, const void *filter, vrpc_event_cb cb, void *opaque,
                        void (*free_opaque)(void *), int *id, vrpc_error **err)
{
    const ev_info *in;
    const vrpc_proc *rproc = NULL;
    vrpc_events *ev;
    ev_reg *reg;
    ev_cb *n = NULL;
    char *key = NULL;
    void *rargs = NULL;
    bool legacy = false;
    int32_t sid = 0;
    vrpc_error *derr = NULL;
    uint64_t gen;
    int rc;

    if (id)
        *id = 0;
    if (!c || !cb || !id) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_event_register: connection, callback and id are required");
        return VRPC_E_INVALID;
    }
    in = info_get(event);
    if (!in) {
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC,
                       "vrpc_event_register: unknown event 0x%x", (unsigned int)event);
        return VRPC_E_INVALID;
    }
    if (c->opened == VRPC_CONN_OPENED_ADMIN) {
        vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_RPC,
                       "an admin connection has no events");
        return VRPC_E_UNSUPPORTED;
    }
    ev = events_get(c);
    n = vrpc_calloc(1, sizeof(*n));
    if (!ev || !n) {
        vrpc_free(n);
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC,
                       "out of memory registering an event callback");
        return VRPC_E_NOMEM;
    }
    n->cb = cb;
    n->opaque = opaque;
    n->free_opaque = free_opaque;

    pthread_mutex_lock(&ev->reg_lock);
    if (in->pub.family == VRPC_EVENT_FAMILY_DOMAIN) {
        if (ev->feature_cb < 0) {
            rc = supports_feature(c, FEATURE_REMOTE_EVENT_CALLBACK, err);
            if (rc < 0)
                goto fail;
            ev->feature_cb = rc;
        }
        legacy = ev->feature_cb == 0;
        if (legacy && !in->legacy_ok) {
            rc = VRPC_E_UNSUPPORTED;
            vrpc_error_set(err, VRPC_ERR_NO_SUPPORT, VRPC_FROM_RPC,
                           "the daemon has no callback IDs for events and no older form of %s",
                           in->pub.name);
            goto fail;
        }
        if (legacy && filter) {
            n->has_uuid = true;
            memcpy(n->uuid, ((const vrpc_nonnull_domain *)filter)->uuid, 16);
        }
    }
    rc = key_string(in, filter, legacy, &key, err);
    if (rc)
        goto fail;

    pthread_mutex_lock(&ev->lock);
    for (reg = ev->regs; reg; reg = reg->next)
        if (reg->info == in && strcmp(reg->key, key) == 0)
            break;
    if (reg) {
        attach_locked(ev, reg, n);
        pthread_mutex_unlock(&ev->lock);
        vrpc_free(key);
        goto done;
    }
    ev->server_calls++;
    pthread_mutex_unlock(&ev->lock);

    rc = reg_call_args(in, filter, legacy, &rproc, &rargs, err);
    if (rc)
        goto fail;
    /* A reconnection during the call: the registration is made again
     * (vrpc_events_revive waits for reg_lock), rather than lost. */
    gen = generation(c);
    rc = server_register(c, rproc, rargs, &sid, &derr);
    if (rc == VRPC_E_REMOTE && vrpc_event_refused_as_unknown(in->pub.family, in->pub.id, derr))
        rc = VRPC_E_UNSUPPORTED;
    if (err)
        *err = derr;
    else
        vrpc_free(derr);
    derr = NULL;
    if (rc)
        goto fail;
    reg = vrpc_calloc(1, sizeof(*reg));
    if (!reg) {
        ev_reg tmp = {.info = in, .server_id = sid, .legacy = legacy};
        server_deregister(c, &tmp, NULL);
        rc = VRPC_E_NOMEM;
        vrpc_error_set(err, VRPC_ERR_NO_MEMORY, VRPC_FROM_RPC, "out of memory");
        goto fail;
    }
    reg->info = in;
    reg->key = key;
    key = NULL;
    reg->server_id = sid;
    reg->legacy = legacy;
    reg->reg_proc = rproc;
    reg->reg_args = rargs;
    rargs = NULL;
    reg->gen = gen;
    reg->prev_gen = UINT64_MAX;
    pthread_mutex_lock(&ev->lock);
    reg->next = ev->regs;
    ev->regs = reg;
    ev->nregs++;
    attach_locked(ev, reg, n);
    pthread_mutex_unlock(&ev->lock);
done:
    *id = n->id;
    pthread_mutex_unlock(&ev->reg_lock);
    return 0;

fail:
    pthread_mutex_unlock(&ev->reg_lock);
    vrpc_free(rargs);
    vrpc_free(key);
    vrpc_free(n);
    return rc;
}

int vrpc_event_deregister(vrpc_conn *c, int id, vrpc_error **err)
{
    vrpc_events *ev = c ? events_peek(c) : NULL;
    ev_cb **pp, *cb = NULL;
    ev_reg *reg, **rp;
    void (*fn)(void *) = NULL;
    void *opaque = NULL;
    bool do_free, release, last;
    int rc = 0;

    if (ev) {
        pthread_mutex_lock(&ev->lock);
        for (pp = &ev->cbs; *pp; pp = &(*pp)->next)
            if ((*pp)->id == id)
                break;
        cb = *pp;
        if (cb) {
            *pp = cb->next;
            cb->next = NULL;
            cb->removed = true;
            ev->ncbs--;
        }
    }
    if (!cb) {
        if (ev)
            pthread_mutex_unlock(&ev->lock);
        vrpc_error_set(err, VRPC_ERR_INVALID_ARG, VRPC_FROM_RPC, "no event callback with id %d",
                       id);
        return VRPC_E_NOT_FOUND;
    }
    reg = cb->reg;
    /* A call of it in another thread finishes first. */
    while (cb->running && !pthread_equal(cb->runner, pthread_self()))
        pthread_cond_wait(&ev->idle, &ev->lock);
    do_free = !cb->running && !cb->opaque_done;
    if (do_free) {
        cb->opaque_done = true;
        fn = cb->free_opaque;
        opaque = cb->opaque;
    }
    release = --cb->refs == 0;
    pthread_mutex_unlock(&ev->lock);
    if (do_free && fn)
        fn(opaque);
    if (release)
        vrpc_free(cb);

    /* The daemon's registration goes with its last callback. */
    pthread_mutex_lock(&ev->reg_lock);
    pthread_mutex_lock(&ev->lock);
    last = --reg->ncb == 0;
    if (last) {
        for (rp = &ev->regs; *rp && *rp != reg; rp = &(*rp)->next)
            ;
        if (*rp)
            *rp = reg->next;
        ev->nregs--;
    }
    pthread_mutex_unlock(&ev->lock);
    if (last) {
        /* A connection that ended has no registrations any more; nor has
         * a new one before vrpc_events_revive() made them again. */
        if (vrpc_conn_get_status(c) == 0 && generation(c) == reg->gen) {
            pthread_mutex_lock(&ev->lock);
            ev->server_calls++;
            pthread_mutex_unlock(&ev->lock);
            rc = server_deregister(c, reg, err);
        }
        vrpc_free(reg->reg_args);
        vrpc_free(reg->key);
        vrpc_free(reg);
    }
    pthread_mutex_unlock(&ev->reg_lock);
    return rc;
}

/* ---- typed shorthands ---- */

int vrpc_event_register_domain(vrpc_conn *c, int id, const vrpc_nonnull_domain *dom,
                               vrpc_event_cb cb, void *opaque, void (*free_opaque)(void *),
                               int *cb_id, vrpc_error **err)
{
    return vrpc_event_register(c, VRPC_EVENT_DOMAIN(id), dom, cb, opaque, free_opaque, cb_id, err);
}

int vrpc_event_register_network(vrpc_conn *c, int id, const vrpc_nonnull_network *net,
                                vrpc_event_cb cb, void *opaque, void (*free_opaque)(void *),
                                int *cb_id, vrpc_error **err)
{
    return vrpc_event_register(c, VRPC_EVENT_NETWORK(id), net, cb, opaque, free_opaque, cb_id, err);
}

int vrpc_event_register_storage_pool(vrpc_conn *c, int id, const vrpc_nonnull_storage_pool *pool,
                                     vrpc_event_cb cb, void *opaque, void (*free_opaque)(void *),
                                     int *cb_id, vrpc_error **err)
{
    return vrpc_event_register(c, VRPC_EVENT_STORAGE_POOL(id), pool, cb, opaque, free_opaque, cb_id,
                               err);
}

int vrpc_event_register_node_device(vrpc_conn *c, int id, const vrpc_nonnull_node_device *dev,
                                    vrpc_event_cb cb, void *opaque, void (*free_opaque)(void *),
                                    int *cb_id, vrpc_error **err)
{
    return vrpc_event_register(c, VRPC_EVENT_NODE_DEVICE(id), dev, cb, opaque, free_opaque, cb_id,
                               err);
}

int vrpc_event_register_secret(vrpc_conn *c, int id, const vrpc_nonnull_secret *secret,
                               vrpc_event_cb cb, void *opaque, void (*free_opaque)(void *),
                               int *cb_id, vrpc_error **err)
{
    return vrpc_event_register(c, VRPC_EVENT_SECRET(id), secret, cb, opaque, free_opaque, cb_id,
                               err);
}

int vrpc_event_register_qemu_monitor(vrpc_conn *c, const vrpc_nonnull_domain *dom,
                                     const char *event, unsigned int flags, vrpc_event_cb cb,
                                     void *opaque, void (*free_opaque)(void *), int *cb_id,
                                     vrpc_error **err)
{
    vrpc_qemu_monitor_filter f = {.dom = dom, .event = event, .flags = flags};
    return vrpc_event_register(c, VRPC_EVENT_QEMU_MONITOR, &f, cb, opaque, free_opaque, cb_id, err);
}

/* ---- queue and delivery ---- */

/* HOOK (packet): queue an event (lock held). Never fails the connection. */
static int queue_locked(vrpc_conn *c, const vrpc_packet *pkt, void *state, vrpc_error **err)
{
    vrpc_events *ev = state;
    const vrpc_proc *p = vrpc_proc_find(pkt->hdr.prog, pkt->hdr.proc);
    vrpc_evq_item *it;

    (void)err;
    ev->n_received++;
    if (pkt->hdr.status != VRPC_MSG_OK || !p || !p->msg || p->version != pkt->hdr.vers) {
        ev->n_unrouted++;
        return 0;
    }
    if (ev->q_count >= VRPC_EVENT_QUEUE_MAX ||
        ev->q_bytes + pkt->payload_len > VRPC_EVENT_QUEUE_MAX_BYTES) {
        ev->n_overflow++;
        return 0;
    }
    it = vrpc_malloc(sizeof(*it) + pkt->payload_len);
    if (!it) {
        ev->n_overflow++;
        return 0;
    }
    it->next = NULL;
    it->prog = pkt->hdr.prog;
    it->proc = pkt->hdr.proc;
    it->gen = c->generation;
    it->len = pkt->payload_len;
    if (pkt->payload_len)
        memcpy(it->data, pkt->payload, pkt->payload_len);
    if (ev->q_tail)
        ev->q_tail->next = it;
    else
        ev->q_head = it;
    ev->q_tail = it;
    ev->q_count++;
    ev->q_bytes += it->len;
    vrpc_loop_notify_locked(c);
    return 0;
}

/* HOOKS (take, has work): the queue's head (lock held). */
static void *take_locked(vrpc_conn *c, void *state)
{
    vrpc_events *ev = state;
    vrpc_evq_item *it = ev->q_head;
    (void)c;
    if (!it)
        return NULL;
    ev->q_head = it->next;
    if (!ev->q_head)
        ev->q_tail = NULL;
    ev->q_count--;
    ev->q_bytes -= it->len;
    return it;
}

static bool has_work_locked(vrpc_conn *c, void *state)
{
    (void)c;
    return ((vrpc_events *)state)->q_head != NULL;
}

static void count_unrouted(vrpc_conn *c)
{
    vrpc_events *ev = c->events.state;
    pthread_mutex_lock(&c->lock);
    ev->n_unrouted++;
    pthread_mutex_unlock(&c->lock);
}

static void deliver_closed(vrpc_conn *c, vrpc_evq_item *it)
{
    void *v = NULL;
    if (vrpc_xdr_decode(proc_closed->msg, it->data, it->len, &v) == 0) {
        int32_t reason;
        memcpy(&reason, (uint8_t *)v + proc_closed->msg->fields[0].offset, sizeof(reason));
        pthread_mutex_lock(&c->lock);
        if (c->loop.server_close_reason < 0)
            c->loop.server_close_reason = reason < 0 ? VRPC_CONNECT_CLOSE_REASON_ERROR : reason;
        pthread_mutex_unlock(&c->lock);
        vrpc_free(v);
    } else {
        vrpc_events *ev = events_get(c);
        if (ev) {
            pthread_mutex_lock(&ev->lock);
            ev->undecodable++;
            pthread_mutex_unlock(&ev->lock);
        }
    }
}

/* HOOK (deliver): one queued event, no lock held. */
static void deliver(vrpc_conn *c, void *state, void *item)
{
    vrpc_evq_item *it = item;
    (void)state;
    vrpc_events *ev;
    ev_form form;
    const ev_info *in = info_by_proc(it->prog, it->proc, &form);
    const uint8_t *bytes = it->data;
    uint8_t *tmp = NULL;
    const uint8_t *uuid = NULL;
    size_t len = it->len, i, nt = 0;
    void *value = NULL;
    int32_t sid = 0;
    ev_cb **targets = NULL, *cb;

    if (form == FORM_CLOSED) {
        deliver_closed(c, it);
        goto out;
    }
    ev = events_peek(c);
    if (form == FORM_NONE || !ev) {
        count_unrouted(c);
        goto out;
    }
    if (form == FORM_LEGACY) {
        /* The callback form is {int callbackID; [int reason;] <legacy msg>
         * msg;}: decode the legacy payload behind zeros for those ints. */
        tmp = vrpc_calloc(1, len + in->legacy_prefix);
        if (!tmp) {
            count_unrouted(c);
            goto out;
        }
        if (len)
            memcpy(tmp + in->legacy_prefix, bytes, len);
        bytes = tmp;
        len += in->legacy_prefix;
    }
    if (vrpc_xdr_decode(in->pub.proc->msg, bytes, len, &value)) {
        pthread_mutex_lock(&ev->lock);
        ev->undecodable++;
        pthread_mutex_unlock(&ev->lock);
        goto out;
    }
    if (form == FORM_LEGACY)
        uuid = (const uint8_t *)value + in->legacy_uuid_off;
    else
        memcpy(&sid, (uint8_t *)value + in->pub.proc->msg->fields[0].offset, sizeof(sid));

    pthread_mutex_lock(&ev->lock);
    for (cb = ev->cbs; cb; cb = cb->next)
        nt++;
    targets = nt ? vrpc_malloc(nt * sizeof(*targets)) : NULL;
    nt = 0;
    for (cb = targets ? ev->cbs : NULL; cb; cb = cb->next) {
        const ev_reg *r = cb->reg;
        if (r->info != in || r->legacy != (form == FORM_LEGACY))
            continue;
        if (form == FORM_CALLBACK ? !((r->gen == it->gen && r->server_id == sid) ||
                                      (r->prev_gen == it->gen && r->prev_id == sid))
                                  : cb->has_uuid && memcmp(cb->uuid, uuid, 16) != 0)
            continue;
        cb->refs++;
        targets[nt++] = cb;
    }
    pthread_mutex_unlock(&ev->lock);
    if (nt == 0)
        count_unrouted(c);

    /* Oldest registration first (the list holds the newest first). */
    for (i = nt; i-- > 0;) {
        void (*fn)(void *) = NULL;
        void *opaque = NULL;
        bool run, do_free, release;

        cb = targets[i];
        pthread_mutex_lock(&ev->lock);
        run = !cb->removed;
        if (run) {
            cb->running = true;
            cb->runner = pthread_self();
        }
        pthread_mutex_unlock(&ev->lock);
        if (run) {
            vrpc_event e = {
                .info = to_pub(in),
                .type = in->pub.proc->msg,
                .msg = value,
                .callback = cb->id,
                .xdr = bytes,
                .xdr_len = len,
            };
            cb->cb(c, &e, cb->opaque);
        }
        pthread_mutex_lock(&ev->lock);
        if (run) {
            cb->running = false;
            ev->delivered++;
            pthread_cond_broadcast(&ev->idle);
        }
        do_free = cb->removed && !cb->running && !cb->opaque_done;
        if (do_free) {
            cb->opaque_done = true;
            fn = cb->free_opaque;
            opaque = cb->opaque;
        }
        release = --cb->refs == 0;
        pthread_mutex_unlock(&ev->lock);
        if (do_free && fn)
            fn(opaque);
        if (release)
            vrpc_free(cb);
    }
out:
    vrpc_free(targets);
    vrpc_free(value);
    vrpc_free(tmp);
    vrpc_free(it);
}

/* HOOK (fini): the end of vrpc_conn_close(); nobody else runs. */
static void events_fini(vrpc_conn *c, void *state)
{
    vrpc_events *ev = state;
    vrpc_evq_item *it, *itn;
    ev_cb *cb, *cn;
    ev_reg *r, *rn;

    for (it = ev->q_head; it; it = itn) {
        itn = it->next;
        vrpc_free(it);
    }
    for (cb = ev->cbs; cb; cb = cn) {
        cn = cb->next;
        if (!cb->opaque_done && cb->free_opaque)
            cb->free_opaque(cb->opaque);
        vrpc_free(cb);
    }
    for (r = ev->regs; r; r = rn) {
        rn = r->next;
        vrpc_free(r->reg_args);
        vrpc_free(r->key);
        vrpc_free(r);
    }
    pthread_cond_destroy(&ev->idle);
    pthread_mutex_destroy(&ev->lock);
    pthread_mutex_destroy(&ev->reg_lock);
    vrpc_free(ev);
    c->events.hooks = NULL;
    c->events.state = NULL;
}

static const vrpc_conn_hooks events_hooks = {
    .packet = queue_locked,
    .take_locked = take_locked,
    .deliver = deliver,
    .has_work_locked = has_work_locked,
    .fini = events_fini,
};

int vrpc_events_attach(vrpc_conn *c)
{
    vrpc_events *ev = vrpc_calloc(1, sizeof(*ev));
    if (!ev)
        return VRPC_E_NOMEM;
    pthread_mutex_init(&ev->lock, NULL);
    pthread_mutex_init(&ev->reg_lock, NULL);
    pthread_cond_init(&ev->idle, NULL);
    ev->next_id = 1;
    ev->feature_cb = -1;
    pthread_mutex_lock(&c->lock);
    c->events.hooks = &events_hooks;
    c->events.state = ev;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- reconnecting ---- */

int vrpc_events_revive(vrpc_conn *c, vrpc_error **err)
{
    vrpc_events *ev = events_peek(c);
    uint64_t gen = generation(c);
    int first = 0;
    ev_reg *reg;

    if (!ev)
        return 0;
    pthread_mutex_lock(&ev->reg_lock);
    for (reg = ev->regs; reg; reg = reg->next) {
        vrpc_error *e = NULL;
        int32_t sid;
        int rc;

        if (reg->gen == gen)
            continue; /* made on this connection already */
        pthread_mutex_lock(&ev->lock);
        ev->server_calls++;
        pthread_mutex_unlock(&ev->lock);
        rc = server_register(c, reg->reg_proc, reg->reg_args, &sid, &e);
        if (rc) {
            /* Its callbacks stay registered and receive nothing. */
            vrpc_error_prefix(&e, "registering for %s events again", reg->info->pub.name);
            if (!first) {
                first = rc;
                vrpc_error_move(err, &e);
            }
            vrpc_free(e);
            if (rc == VRPC_E_CLOSED || rc == VRPC_E_TIMEOUT)
                break; /* lost again: the next reconnection tries again */
            continue;
        }
        pthread_mutex_lock(&ev->lock);
        reg->prev_gen = reg->gen;
        reg->prev_id = reg->server_id;
        reg->gen = gen;
        reg->server_id = sid;
        pthread_mutex_unlock(&ev->lock);
    }
    pthread_mutex_unlock(&ev->reg_lock);
    return first;
}

/* ---- copies and counters ---- */

int vrpc_value_copy(const vrpc_type *t, const void *value, void **out)
{
    vrpc_buf b = {0};
    int rc;
    if (!out)
        return VRPC_E_INVALID;
    *out = NULL;
    if (!t)
        return VRPC_E_INVALID;
    rc = vrpc_xdr_encode(t, value, &b);
    if (rc == 0)
        rc = vrpc_xdr_decode(t, b.data, b.len, out);
    vrpc_buf_reset(&b);
    return rc == VRPC_E_PROTO || rc == VRPC_E_TOO_BIG ? VRPC_E_INVALID : rc;
}

int vrpc_event_copy(const vrpc_event *ev, void **out)
{
    if (!out)
        return VRPC_E_INVALID;
    *out = NULL;
    if (!ev || !ev->type)
        return VRPC_E_INVALID;
    if (ev->xdr)
        return vrpc_xdr_decode(ev->type, ev->xdr, ev->xdr_len, out);
    return vrpc_value_copy(ev->type, ev->msg, out);
}

int vrpc_event_get_stats(const vrpc_conn *cc, vrpc_event_stats *out)
{
    vrpc_conn *c = (vrpc_conn *)cc; /* only read, under its lock */
    vrpc_events *ev;
    if (!c || !out)
        return VRPC_E_INVALID;
    memset(out, 0, sizeof(*out));
    ev = events_peek(c);
    if (!ev)
        return 0;
    pthread_mutex_lock(&c->lock);
    out->received = ev->n_received;
    out->dropped_overflow = ev->n_overflow;
    out->dropped_unrouted = ev->n_unrouted;
    out->queued = (uint32_t)ev->q_count;
    pthread_mutex_unlock(&c->lock);
    {
        pthread_mutex_lock(&ev->lock);
        out->delivered = ev->delivered;
        out->dropped_undecodable = ev->undecodable;
        out->callbacks = ev->ncbs;
        out->registrations = ev->nregs;
        out->server_calls = ev->server_calls;
        pthread_mutex_unlock(&ev->lock);
    }
    return 0;
}
