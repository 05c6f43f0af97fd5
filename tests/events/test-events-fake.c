/* SPDX-License-Identifier: MIT */
/*
 * Events, the event-loop interface, close notification and keepalive
 * against a scripted daemon on a socketpair: what a real daemon cannot be
 * made to do on demand (legacy event registration, undecodable payloads,
 * floods, unknown callback IDs, CONNECT_EVENT_CONNECTION_CLOSED, silence).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "alloc.h"
#include "message.h"
#include "testlib.h"

/* ---- the fake daemon ---- */

typedef struct fake {
    int fd;
    pthread_t th;
    pthread_mutex_t wlock; /* one writer at a time: the daemon thread, the test */
    int feature10, feature14, feature15;
    atomic_int answer_pings;
    atomic_int next_cbid;
    atomic_int n_register, n_deregister, n_legacy_reg, n_legacy_dereg;
    atomic_int n_close_reg, n_close_unreg, n_pings, n_feature;
    atomic_int last_dereg;
    /* Replies to CONNECT_GET_LIB_VERSION wait until the test releases them. */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate_cond;
    int gate;
    atomic_int held; /* how many such calls wait at the gate */
} fake;

static int write_full(fake *f, const void *buf, size_t n)
{
    int rc;
    pthread_mutex_lock(&f->wlock);
    rc = tl_send_full(f->fd, buf, n);
    pthread_mutex_unlock(&f->wlock);
    return rc;
}

static int send_pkt(fake *f, uint32_t prog, int32_t proc, int32_t type, uint32_t serial,
                    int32_t status, const void *payload, size_t len)
{
    vrpc_msg_header h = {prog, 1, proc, type, serial, status};
    uint8_t *b = malloc(28 + len);
    int rc;
    vrpc_put_u32(b, (uint32_t)(28 + len));
    vrpc_msg_header_put(b + 4, &h);
    if (len)
        memcpy(b + 28, payload, len);
    rc = write_full(f, b, 28 + len);
    free(b);
    return rc;
}

/* Send an event: value of the procedure's msg type. */
static int send_event(fake *f, const vrpc_proc *p, const void *value)
{
    vrpc_buf b = {0};
    int rc = vrpc_xdr_encode(p->msg, value, &b);
    if (rc == 0)
        rc = send_pkt(f, p->program, p->number, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, b.data, b.len);
    vrpc_free(b.data);
    return rc;
}

static void reply(fake *f, const vrpc_msg_header *h, const vrpc_type *t, const void *value)
{
    vrpc_buf b = {0};
    if (t)
        vrpc_xdr_encode(t, value, &b);
    send_pkt(f, h->prog, h->proc, VRPC_MSG_REPLY, h->serial, VRPC_MSG_OK, b.data, b.len);
    vrpc_free(b.data);
}

static void reply_error(fake *f, const vrpc_msg_header *h, int code, const char *msg)
{
    vrpc_error e;
    vrpc_buf b = {0};
    memset(&e, 0, sizeof(e));
    e.code = code;
    e.domain = VRPC_FROM_RPC;
    e.message = (char *)msg;
    e.level = 2;
    vrpc_xdr_encode(&vrpc_td_error, &e, &b);
    send_pkt(f, h->prog, h->proc, VRPC_MSG_REPLY, h->serial, VRPC_MSG_ERROR, b.data, b.len);
    vrpc_free(b.data);
}

static void handle_call(fake *f, const vrpc_msg_header *h, const uint8_t *payload, size_t len)
{
    const vrpc_proc *p = vrpc_proc_find(h->prog, h->proc);
    void *args = NULL;

    if (!p || (p->args && vrpc_xdr_decode(p->args, payload, len, &args))) {
        reply_error(f, h, VRPC_ERR_RPC, "unknown procedure");
        return;
    }
    if (p == vrpc_proc_lookup("connect_supports_feature")) {
        const vrpc_connect_supports_feature_args *a = args;
        vrpc_connect_supports_feature_ret r = {0};
        atomic_fetch_add(&f->n_feature, 1);
        r.supported = a->feature == 10   ? f->feature10
                      : a->feature == 14 ? f->feature14
                      : a->feature == 15 ? f->feature15
                                         : 0;
        reply(f, h, p->ret, &r);
    } else if (p == vrpc_proc_lookup("connect_domain_event_register_any")) {
        atomic_fetch_add(&f->n_legacy_reg, 1);
        reply(f, h, NULL, NULL);
    } else if (p == vrpc_proc_lookup("connect_domain_event_deregister_any")) {
        atomic_fetch_add(&f->n_legacy_dereg, 1);
        reply(f, h, NULL, NULL);
    } else if (strstr(p->name, "event") && strstr(p->name, "deregister")) {
        int32_t id;
        memcpy(&id, args, sizeof(id)); /* {int callbackID} */
        atomic_store(&f->last_dereg, id);
        atomic_fetch_add(&f->n_deregister, 1);
        reply(f, h, NULL, NULL);
    } else if (strstr(p->name, "event") && strstr(p->name, "register")) {
        int32_t id = atomic_fetch_add(&f->next_cbid, 1);
        atomic_fetch_add(&f->n_register, 1);
        reply(f, h, p->ret, &id); /* {int callbackID} */
    } else if (p == vrpc_proc_lookup("connect_register_close_callback")) {
        atomic_fetch_add(&f->n_close_reg, 1);
        reply(f, h, NULL, NULL);
    } else if (p == vrpc_proc_lookup("connect_unregister_close_callback")) {
        atomic_fetch_add(&f->n_close_unreg, 1);
        reply(f, h, NULL, NULL);
    } else if (p == vrpc_proc_lookup("connect_get_lib_version")) {
        vrpc_connect_get_lib_version_ret r = {9000000};
        atomic_fetch_add(&f->held, 1);
        pthread_mutex_lock(&f->gate_lock);
        while (f->gate == 0)
            pthread_cond_wait(&f->gate_cond, &f->gate_lock);
        f->gate--;
        pthread_mutex_unlock(&f->gate_lock);
        atomic_fetch_sub(&f->held, 1);
        reply(f, h, p->ret, &r);
    } else if (p == vrpc_proc_lookup("connect_close")) {
        reply(f, h, NULL, NULL);
    } else {
        reply_error(f, h, VRPC_ERR_RPC, "unknown procedure");
    }
    vrpc_free(args);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    for (;;) {
        uint8_t hdr[28], *payload;
        vrpc_msg_header h;
        uint32_t len;
        if (tl_read_full(f->fd, hdr, 28))
            break;
        len = vrpc_get_u32(hdr) - 28;
        vrpc_msg_header_get(hdr + 4, &h);
        payload = malloc(len + 1);
        if (len && tl_read_full(f->fd, payload, len)) {
            free(payload);
            break;
        }
        if (h.prog == VRPC_MSG_KEEPALIVE_PROG) {
            if (h.proc == VRPC_MSG_KEEPALIVE_PING) {
                atomic_fetch_add(&f->n_pings, 1);
                if (atomic_load(&f->answer_pings))
                    send_pkt(f, VRPC_MSG_KEEPALIVE_PROG, VRPC_MSG_KEEPALIVE_PONG, VRPC_MSG_MESSAGE,
                             0, VRPC_MSG_OK, NULL, 0);
            }
        } else if (h.type == VRPC_MSG_CALL) {
            handle_call(f, &h, payload, len);
        }
        free(payload);
    }
    return NULL;
}

static int fake_start(fake *f, vrpc_conn **c, int f10, int f14, int f15)
{
    int sv[2];
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->wlock, NULL);
    pthread_mutex_init(&f->gate_lock, NULL);
    pthread_cond_init(&f->gate_cond, NULL);
    f->feature10 = f10;
    f->feature14 = f14;
    f->feature15 = f15;
    atomic_store(&f->answer_pings, 1);
    atomic_store(&f->next_cbid, 100);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    f->fd = sv[1];
    if (vrpc_conn_new_fd(c, sv[0]) != 0) {
        close(sv[1]);
        return -1;
    }
    pthread_create(&f->th, NULL, fake_main, f);
    return 0;
}

static void gate_open(fake *f, int n)
{
    pthread_mutex_lock(&f->gate_lock);
    f->gate += n;
    pthread_cond_broadcast(&f->gate_cond);
    pthread_mutex_unlock(&f->gate_lock);
}

static void fake_finish(fake *f)
{
    gate_open(f, 1 << 20);
    shutdown(f->fd, SHUT_RDWR);
    pthread_join(f->th, NULL);
    close(f->fd);
    pthread_mutex_destroy(&f->wlock);
    pthread_mutex_destroy(&f->gate_lock);
    pthread_cond_destroy(&f->gate_cond);
}

/* Wait (up to ms) for cond to hold; true if it did. */
#define WAIT_FOR(cond, ms)                                                                         \
    ({                                                                                             \
        int64_t until_ = tl_now_ms() + (ms);                                                       \
        while (!(cond) && tl_now_ms() < until_)                                                    \
            tl_sleep_ms(2);                                                                        \
        !!(cond);                                                                                  \
    })

static vrpc_event_stats stats(vrpc_conn *c)
{
    vrpc_event_stats s;
    vrpc_event_get_stats(c, &s);
    return s;
}

/* ---- recording callbacks ---- */

typedef struct rec {
    atomic_int calls;
    atomic_int freed;
    atomic_int last_cbid;  /* callbackID in the message */
    atomic_int last_event; /* lifecycle event */
    atomic_int wrong_thread;
    pthread_t expect; /* the thread callbacks must run in */
    char last_dom[64];
    vrpc_conn *c;
    int self_id; /* deregister itself on the first call (when > 0) */
    int self_rc;
    void *copy; /* vrpc_event_copy of the last event */
} rec;

static void rec_free(void *p)
{
    atomic_fetch_add(&((rec *)p)->freed, 1);
}

static void on_lifecycle(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    rec *r = opaque;
    const vrpc_domain_event_callback_lifecycle_msg *m = ev->msg;
    (void)c;
    if (!pthread_equal(pthread_self(), r->expect))
        atomic_fetch_add(&r->wrong_thread, 1);
    atomic_store(&r->last_cbid, m->callbackID);
    atomic_store(&r->last_event, m->msg.event);
    snprintf(r->last_dom, sizeof(r->last_dom), "%s", m->msg.dom.name);
    if (r->copy == NULL)
        vrpc_event_copy(ev, &r->copy);
    if (r->self_id > 0) {
        r->self_rc = vrpc_event_deregister(r->c, r->self_id, NULL);
        r->self_id = 0;
        /* Not freed while it runs. */
        if (atomic_load(&r->freed))
            atomic_fetch_add(&r->wrong_thread, 100);
    }
    atomic_fetch_add(&r->calls, 1);
}

static void rec_init(rec *r, vrpc_conn *c)
{
    memset(r, 0, sizeof(*r));
    r->expect = pthread_self();
    r->c = c;
}

static vrpc_nonnull_domain make_dom(const char *name, uint8_t tag)
{
    vrpc_nonnull_domain d;
    d.name = (char *)name;
    memset(d.uuid, tag, 16);
    d.id = -1;
    return d;
}

static int send_lifecycle(fake *f, int32_t cbid, const vrpc_nonnull_domain *d, int event)
{
    vrpc_domain_event_callback_lifecycle_msg m;
    memset(&m, 0, sizeof(m));
    m.callbackID = cbid;
    m.msg.dom = *d;
    m.msg.event = event;
    m.msg.detail = 0;
    return send_event(f, vrpc_proc_lookup("domain_event_callback_lifecycle"), &m);
}

/* ---- the event table ---- */

static void test_table(void)
{
    size_t n = 0, i, np = 0, missing = 0, k;
    const vrpc_event_info *in = vrpc_event_infos(&n);
    const vrpc_program *progs = vrpc_programs(&np);
    int domains = 0;

    for (i = 0; i < n; i++)
        if (in[i].family == VRPC_EVENT_FAMILY_DOMAIN)
            domains++;
    TAP_OK(n >= 35 && domains >= 27,
           "table: %zu events, %d domain events (9.0.0: 35 and 27, newer libvirt more)", n,
           domains);
    /* Every event procedure of remote and qemu is reachable. */
    for (k = 0; k < np; k++) {
        if (strcmp(progs[k].name, "remote") && strcmp(progs[k].name, "qemu"))
            continue;
        for (i = 0; i < progs[k].nprocs; i++) {
            const vrpc_proc *p = &progs[k].procs[i];
            size_t j;
            bool found = strcmp(p->name, "connect_event_connection_closed") == 0;
            if (!p->msg)
                continue;
            for (j = 0; j < n && !found; j++)
                found = (in[j].proc->program == p->program && in[j].proc->number == p->number) ||
                        (in[j].legacy_proc && in[j].legacy_proc->number == p->number &&
                         in[j].legacy_proc->program == p->program);
            if (!found) {
                tap_diag("no event covers %s", p->name);
                missing++;
            }
        }
    }
    TAP_OK(missing == 0, "table: every _msg procedure of remote and qemu is covered");
    TAP_OK(vrpc_event_info_get(VRPC_PROC_DOMAIN_EVENT_CALLBACK_TUNABLE) ==
                   vrpc_event_info_get(VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_TUNABLE)) &&
               vrpc_event_info_get(VRPC_PROC_DOMAIN_EVENT_LIFECYCLE) ==
                   vrpc_event_info_get(VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE)) &&
               vrpc_event_info_get(VRPC_PROC_DOMAIN_EVENT_BLOCK_JOB_2)->id ==
                   VRPC_DOMAIN_EVENT_ID_BLOCK_JOB_2 &&
               vrpc_event_info_get(VRPC_EVENT_QEMU_MONITOR) &&
               !vrpc_event_info_get(VRPC_EVENT_DOMAIN(999)) && !vrpc_event_info_get(1),
           "table: lookup by key and by procedure number");
    TAP_OK(vrpc_event_info_lookup("pm-wakeup") &&
               vrpc_event_info_lookup("pm-wakeup")->id == VRPC_DOMAIN_EVENT_ID_PMWAKEUP &&
               vrpc_event_info_lookup("STORAGE-POOL.REFRESH")->key ==
                   VRPC_EVENT_STORAGE_POOL(VRPC_STORAGE_POOL_EVENT_ID_REFRESH) &&
               vrpc_event_info_lookup("VIR_SECRET_EVENT_ID_VALUE_CHANGED")->family ==
                   VRPC_EVENT_FAMILY_SECRET &&
               vrpc_event_info_lookup("REMOTE_PROC_DOMAIN_EVENT_BLOCK_JOB_2")->id ==
                   VRPC_DOMAIN_EVENT_ID_BLOCK_JOB_2 &&
               vrpc_event_info_lookup("network.lifecycle") &&
               vrpc_event_info_lookup("node-device.update") &&
               !vrpc_event_info_lookup("lifecycle-x") && !vrpc_event_info_lookup(NULL),
           "table: lookup by name (virsh names, family.event, procedures, ID constants)");
    {
        const vrpc_event_info *lc = vrpc_event_info_lookup("lifecycle");
        TAP_OK(lc && lc->legacy_proc &&
                   lc->proc->msg == &vrpc_td_domain_event_callback_lifecycle_msg &&
                   lc->register_proc == &vrpc_pd_connect_domain_event_callback_register_any,
               "table: domain.lifecycle has both forms and the callback-ID registration");
    }
}

/* ---- shared registrations and routing ---- */

static void test_shared(void)
{
    fake f;
    vrpc_conn *c;
    rec a, b, all1, all2;
    int ia, ib, i1, i2, rc, i3 = 0;
    vrpc_nonnull_domain da = make_dom("alpha", 0xa1), db = make_dom("beta", 0xb2);
    int ev = VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE);
    int32_t id_all, id_a;
    vrpc_error *e = NULL;

    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "shared: fake daemon");
        return;
    }
    rec_init(&a, c);
    rec_init(&b, c);
    rec_init(&all1, c);
    rec_init(&all2, c);
    rc = vrpc_event_register(c, ev, NULL, on_lifecycle, &all1, rec_free, &i1, &e);
    rc |= vrpc_event_register(c, ev, NULL, on_lifecycle, &all2, rec_free, &i2, &e);
    rc |= vrpc_event_register(c, ev, &da, on_lifecycle, &a, rec_free, &ia, &e);
    rc |= vrpc_event_register(c, ev, &da, on_lifecycle, &a, NULL, &i3, &e);
    rc |= vrpc_event_register(c, ev, &db, on_lifecycle, &b, rec_free, &ib, &e);
    TAP_OK(rc == 0 && i1 > 0 && i2 > 0 && ia > 0 && ib > 0 && i1 != i2,
           "shared: five callbacks registered");
    TAP_OK(atomic_load(&f.n_register) == 3 && atomic_load(&f.n_feature) == 1 &&
               stats(c).registrations == 3 && stats(c).callbacks == 5,
           "shared: three daemon registrations (no filter, alpha, beta), feature 14 asked once "
           "(%d registrations, %d feature calls)",
           atomic_load(&f.n_register), atomic_load(&f.n_feature));
    id_all = 100;
    id_a = 101;
    send_lifecycle(&f, id_all, &db, VRPC_DOMAIN_EVENT_STARTED);
    send_lifecycle(&f, id_a, &da, VRPC_DOMAIN_EVENT_STOPPED);
    send_lifecycle(&f, 555, &da, VRPC_DOMAIN_EVENT_STOPPED); /* nobody's */
    WAIT_FOR((vrpc_conn_process(c), atomic_load(&a.calls) >= 2 && atomic_load(&all2.calls) >= 1 &&
                                        stats(c).dropped_unrouted >= 1),
             2000);
    TAP_OK(atomic_load(&all1.calls) == 1 && atomic_load(&all2.calls) == 1 &&
               atomic_load(&all1.last_cbid) == id_all && strcmp(all1.last_dom, "beta") == 0,
           "shared: the unfiltered registration's event reaches both of its callbacks");
    TAP_OK(atomic_load(&a.calls) == 2 && atomic_load(&b.calls) == 0 &&
               atomic_load(&a.last_event) == VRPC_DOMAIN_EVENT_STOPPED,
           "shared: alpha's event reaches alpha's two callbacks, not beta's");
    TAP_OK(stats(c).dropped_unrouted == 1 && stats(c).delivered == 4,
           "shared: an unknown callbackID is dropped and counted");
    TAP_OK(a.copy && strcmp(((vrpc_domain_event_callback_lifecycle_msg *)a.copy)->msg.dom.name,
                            "alpha") == 0,
           "shared: vrpc_event_copy keeps the event after the callback");
    vrpc_free(a.copy);
    vrpc_free(all1.copy);
    vrpc_free(all2.copy);

    rc = vrpc_event_deregister(c, i1, NULL);
    TAP_OK(rc == 0 && atomic_load(&f.n_deregister) == 0 && atomic_load(&all1.freed) == 1,
           "shared: removing one of two callbacks keeps the daemon's registration; "
           "free_opaque runs");
    send_lifecycle(&f, id_all, &db, VRPC_DOMAIN_EVENT_SUSPENDED);
    WAIT_FOR((vrpc_conn_process(c), atomic_load(&all2.calls) >= 2), 2000);
    TAP_OK(atomic_load(&all1.calls) == 1 && atomic_load(&all2.calls) == 2,
           "shared: a deregistered callback gets nothing more");
    rc = vrpc_event_deregister(c, i2, NULL);
    TAP_OK(rc == 0 && atomic_load(&f.n_deregister) == 1 && atomic_load(&f.last_dereg) == id_all &&
               stats(c).registrations == 2,
           "shared: the last callback deregisters on the daemon with its callbackID");
    TAP_OK(vrpc_event_deregister(c, i2, NULL) == VRPC_E_NOT_FOUND &&
               vrpc_event_deregister(c, 9999, NULL) == VRPC_E_NOT_FOUND,
           "shared: unknown ids are NOT_FOUND");
    TAP_OK(vrpc_event_register(c, VRPC_EVENT_DOMAIN(4242), NULL, on_lifecycle, &a, NULL, &i1,
                               NULL) == VRPC_E_INVALID &&
               vrpc_event_register(c, ev, NULL, NULL, &a, NULL, &i1, NULL) == VRPC_E_INVALID,
           "shared: unknown events and missing callbacks are refused");
    vrpc_event_deregister(c, i3, NULL);
    TAP_OK(atomic_load(&a.freed) == 0, "shared: NULL free_opaque is allowed");
    vrpc_conn_close(c);
    TAP_OK(atomic_load(&a.freed) == 1 && atomic_load(&b.freed) == 1,
           "shared: vrpc_conn_close releases the remaining callbacks");
    fake_finish(&f);
}

/* ---- callbacks only in process(), while other threads make calls ---- */

typedef struct caller {
    vrpc_conn *c;
    int rc;
} caller;

static void *call_lib_version(void *arg)
{
    caller *k = arg;
    vrpc_connect_get_lib_version_ret *r = NULL;
    k->rc = vrpc_connect_get_lib_version(k->c, &r, NULL);
    vrpc_free(r);
    return NULL;
}

static void test_threads(void)
{
    fake f;
    vrpc_conn *c;
    rec r;
    caller k;
    pthread_t t;
    int id, nfd, i;
    uint64_t to = 1;
    vrpc_nonnull_domain d = make_dom("gamma", 0x33);
    struct pollfd pf;

    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "threads: fake daemon");
        return;
    }
    rec_init(&r, c);
    vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL, on_lifecycle,
                        &r, NULL, &id, NULL);
    nfd = vrpc_conn_get_notify_fd(c);
    TAP_OK(nfd >= 0 && vrpc_conn_get_events(c) == POLLIN && vrpc_conn_get_timeout(c, &to) == 0 &&
               to == UINT64_MAX,
           "threads: idle connection: POLLIN on the socket, no deadline");

    k.c = c;
    pthread_create(&t, NULL, call_lib_version, &k);
    WAIT_FOR(atomic_load(&f.held) == 1, 2000);
    TAP_OK(WAIT_FOR(vrpc_conn_get_events(c) == 0, 2000),
           "threads: while a call owns the socket, an event loop polls nothing on it");
    for (i = 0; i < 5; i++)
        send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_DEFINED);
    TAP_OK(WAIT_FOR(stats(c).queued == 5, 2000) && atomic_load(&r.calls) == 0,
           "threads: events read by the calling thread are queued, no callback ran");
    pf.fd = nfd;
    pf.events = POLLIN;
    TAP_OK(poll(&pf, 1, 0) == 1 && vrpc_conn_get_timeout(c, &to) == 0 && to == 0,
           "threads: the notify descriptor is readable, the timeout is now");
    vrpc_conn_process(c);
    TAP_OK(atomic_load(&r.calls) == 5 && atomic_load(&r.wrong_thread) == 0,
           "threads: vrpc_conn_process() runs the five callbacks in its own thread");
    TAP_OK(poll(&pf, 1, 0) == 0, "threads: vrpc_conn_process() cleared the notification");
    gate_open(&f, 1);
    pthread_join(t, NULL);
    TAP_OK(k.rc == 0, "threads: the call completed");
    TAP_OK(WAIT_FOR(poll(&pf, 1, 0) == 1, 2000) && vrpc_conn_get_events(c) == POLLIN,
           "threads: the socket coming free is notified; POLLIN again");
    vrpc_conn_process(c);

    /* vrpc_conn_wait: times out, then wakes for an event. */
    {
        int64_t t0 = tl_now_ms();
        int w = vrpc_conn_wait(c, 200000);
        int64_t dt = tl_now_ms() - t0;
        TAP_OK(w == 0 && dt >= 150 && dt < 2000, "threads: vrpc_conn_wait times out (%d, %lld ms)",
               w, (long long)dt);
        send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_UNDEFINED);
        w = vrpc_conn_wait(c, 5000000);
        TAP_OK(w == 1 && atomic_load(&r.calls) == 5,
               "threads: vrpc_conn_wait returns 1 for an event");
        vrpc_conn_process(c);
        TAP_OK(atomic_load(&r.calls) == 6, "threads: ... which the next process() delivers");
    }

    /* The event thread: callbacks run in it, also while calls wait. */
    {
        rec r2;
        caller k2 = {c, -1};
        pthread_t t2;
        rec_init(&r2, c);
        vrpc_event_deregister(c, id, NULL);
        TAP_OK(vrpc_conn_start_event_thread(c) == 0, "threads: event thread started");
        /* Callbacks must run in the library's thread: mark "any other". */
        r2.expect = pthread_self();
        vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL,
                            on_lifecycle, &r2, NULL, &id, NULL);
        pthread_create(&t2, NULL, call_lib_version, &k2);
        WAIT_FOR(atomic_load(&f.held) == 1, 2000);
        send_lifecycle(&f, 101, &d, VRPC_DOMAIN_EVENT_STARTED);
        TAP_OK(WAIT_FOR(atomic_load(&r2.calls) == 1, 3000) && atomic_load(&r2.wrong_thread) == 1,
               "threads: with a call waiting, the event thread delivers (not the test thread)");
        gate_open(&f, 1);
        pthread_join(t2, NULL);
        TAP_OK(k2.rc == 0, "threads: the call completed next to the event thread");
        /* Calls go through the event thread's reading. */
        for (i = 0; i < 20; i++) {
            vrpc_connect_supports_feature_args a = {.feature = 14};
            vrpc_connect_supports_feature_ret *sr = NULL;
            if (vrpc_connect_supports_feature(c, &a, &sr, NULL) || sr->supported != 1)
                break;
            vrpc_free(sr);
        }
        TAP_OK(i == 20, "threads: 20 calls while the event thread runs");
        TAP_OK(vrpc_conn_stop_event_thread(c) == 0 && vrpc_conn_stop_event_thread(c) == 0,
               "threads: event thread stopped (twice is fine)");
        vrpc_free(r2.copy);
    }
    vrpc_free(r.copy);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* ---- deregistration inside the callback; stop inside the callback ---- */

static atomic_int stop_rc = 1;
static void on_stop_attempt(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    (void)ev;
    (void)opaque;
    atomic_store(&stop_rc, vrpc_conn_stop_event_thread(c));
}

/* A callback that configures the connection while another thread stops
 * the event thread it runs in. */
static atomic_int slow_entered, slow_done;
static void on_slow_configure(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    (void)ev;
    (void)opaque;
    atomic_store(&slow_entered, 1);
    tl_sleep_ms(200);
    vrpc_conn_set_close_callback(c, NULL, NULL, NULL, NULL);
    atomic_store(&slow_done, 1);
}

static void test_stop_during_callback(void)
{
    fake f;
    vrpc_conn *c;
    int id;
    vrpc_nonnull_domain d = make_dom("theta", 0x99);
    int64_t t0;

    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "stop: fake daemon");
        return;
    }
    vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL,
                        on_slow_configure, NULL, NULL, &id, NULL);
    vrpc_conn_start_event_thread(c);
    send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_DEFINED);
    WAIT_FOR(atomic_load(&slow_entered), 3000);
    t0 = tl_now_ms();
    vrpc_conn_stop_event_thread(c);
    TAP_OK(atomic_load(&slow_done) && tl_now_ms() - t0 < 2000,
           "stop: stopping the event thread waits for its callback, which may configure the "
           "connection meanwhile");
    vrpc_conn_close(c);
    fake_finish(&f);
}

static void test_self(void)
{
    fake f;
    vrpc_conn *c;
    rec r;
    int id, id2;
    vrpc_nonnull_domain d = make_dom("delta", 0x44);

    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "self: fake daemon");
        return;
    }
    rec_init(&r, c);
    vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL, on_lifecycle,
                        &r, rec_free, &id, NULL);
    r.self_id = id;
    send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_DEFINED);
    send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_STARTED);
    WAIT_FOR((vrpc_conn_process(c), stats(c).received >= 2 && stats(c).queued == 0), 2000);
    TAP_OK(atomic_load(&r.calls) == 1 && r.self_rc == 0 && atomic_load(&r.freed) == 1 &&
               atomic_load(&r.wrong_thread) == 0 && atomic_load(&f.n_deregister) == 1,
           "self: a callback deregisters itself: no second call, freed after it returned");
    vrpc_free(r.copy);

    vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_REBOOT), NULL, on_stop_attempt,
                        NULL, NULL, &id2, NULL);
    vrpc_conn_start_event_thread(c);
    {
        vrpc_domain_event_callback_reboot_msg m = {.callbackID = 101, .msg = {.dom = d}};
        send_event(&f, vrpc_proc_lookup("domain_event_callback_reboot"), &m);
    }
    TAP_OK(WAIT_FOR(atomic_load(&stop_rc) != 1, 3000) && atomic_load(&stop_rc) == VRPC_E_INVALID,
           "self: stopping the event thread from its callback is refused");
    vrpc_conn_close(c); /* stops the thread */
    fake_finish(&f);
}

/* ---- what is dropped ---- */

/* ---- every event of the table, delivered ---- */

/* The smallest valid XDR encoding of a value of type t: zeros, empty
 * strings and arrays, absent optionals, each union's first arm. */
static int min_wire(const vrpc_type *t, vrpc_buf *b)
{
    uint32_t i, n;
    int rc = 0;
    switch (t->kind) {
    case VRPC_KIND_VOID:
        return 0;
    case VRPC_KIND_HYPER:
    case VRPC_KIND_UHYPER:
    case VRPC_KIND_DOUBLE:
        return vrpc_buf_put_u64(b, 0);
    case VRPC_KIND_ENUM:
        return vrpc_buf_put_u32(b, t->nvalues ? (uint32_t)t->values[0].value : 0);
    case VRPC_KIND_OPAQUE_FIXED:
        n = (t->bound + 3) / 4;
        for (i = 0; i < n && rc == 0; i++)
            rc = vrpc_buf_put_u32(b, 0);
        return rc;
    case VRPC_KIND_ARRAY_FIXED:
        for (i = 0; i < t->bound && rc == 0; i++)
            rc = min_wire(t->elem, b);
        return rc;
    case VRPC_KIND_STRUCT:
        for (i = 0; i < t->nfields && rc == 0; i++)
            rc = min_wire(t->fields[i].type, b);
        return rc;
    case VRPC_KIND_UNION: {
        const vrpc_union_arm *arm = t->narms ? &t->arms[0] : t->default_arm;
        if (!arm)
            return VRPC_E_INVALID;
        rc = vrpc_buf_put_u32(b, (uint32_t)arm->value);
        if (rc == 0 && arm->type)
            rc = min_wire(arm->type, b);
        return rc;
    }
    default: /* 4-byte scalars; empty strings, arrays, opaques; absent optionals */
        return vrpc_buf_put_u32(b, 0);
    }
}

typedef struct every {
    const vrpc_event_info *info;
    atomic_int calls, good;
} every;

static void on_every(vrpc_conn *c, const vrpc_event *ev, void *opaque)
{
    every *x = opaque;
    void *copy = NULL;
    (void)c;
    atomic_fetch_add(&x->calls, 1);
    if (ev->info == x->info && ev->type == x->info->proc->msg && ev->msg &&
        vrpc_event_copy(ev, &copy) == 0 && copy)
        atomic_fetch_add(&x->good, 1);
    vrpc_free(copy);
}

static void test_every_event(void)
{
    fake f;
    vrpc_conn *c;
    size_t n = 0, i, bad = 0, sent = 0;
    const vrpc_event_info *in = vrpc_event_infos(&n);
    every *x = calloc(n, sizeof(*x));
    int32_t *ids = calloc(n, sizeof(*ids));

    if (!x || !ids || fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "every: fake daemon");
        free(x);
        free(ids);
        return;
    }
    for (i = 0; i < n; i++) {
        int id;
        x[i].info = &in[i];
        ids[i] = atomic_load(&f.next_cbid);
        if (vrpc_event_register(c, in[i].key, NULL, on_every, &x[i], NULL, &id, NULL) != 0)
            bad++;
    }
    TAP_OK(bad == 0 && atomic_load(&f.n_register) == (int)n,
           "every: registered all %zu events, one daemon registration each", n);
    for (i = 0; i < n; i++) {
        vrpc_buf b = {0};
        const vrpc_proc *p = in[i].proc;
        if (min_wire(p->msg, &b) == 0 && b.len >= 4) {
            vrpc_put_u32(b.data, (uint32_t)ids[i]); /* callbackID comes first */
            if (send_pkt(&f, p->program, p->number, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, b.data,
                         b.len) == 0)
                sent++;
        }
        vrpc_free(b.data);
    }
    WAIT_FOR((vrpc_conn_process(c), stats(c).delivered >= n), 5000);
    bad = 0;
    for (i = 0; i < n; i++)
        if (atomic_load(&x[i].calls) != 1 || atomic_load(&x[i].good) != 1) {
            tap_diag("%s: %d calls, %d as expected", in[i].name, atomic_load(&x[i].calls),
                     atomic_load(&x[i].good));
            bad++;
        }
    TAP_OK(sent == n && bad == 0 && stats(c).dropped_undecodable == 0,
           "every: each of the %zu event procedures reaches exactly its callback, decoded "
           "and copyable",
           n);
    vrpc_conn_close(c);
    fake_finish(&f);

    /* The older forms, from a daemon without callback IDs. */
    if (fake_start(&f, &c, 1, 0, 1)) {
        TAP_OK(0, "every: fake daemon without feature 14");
        free(x);
        free(ids);
        return;
    }
    sent = bad = 0;
    {
        size_t nleg = 0;
        for (i = 0; i < n; i++) {
            int id;
            atomic_store(&x[i].calls, 0);
            atomic_store(&x[i].good, 0);
            if (!in[i].legacy_proc)
                continue;
            nleg++;
            if (vrpc_event_register(c, in[i].key, NULL, on_every, &x[i], NULL, &id, NULL) != 0)
                bad++;
        }
        for (i = 0; i < n; i++) {
            vrpc_buf b = {0};
            const vrpc_proc *p = in[i].legacy_proc;
            if (p && min_wire(p->msg, &b) == 0 &&
                send_pkt(&f, p->program, p->number, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, b.data,
                         b.len) == 0)
                sent++;
            vrpc_free(b.data);
        }
        WAIT_FOR((vrpc_conn_process(c), stats(c).delivered >= nleg), 5000);
        for (i = 0; i < n; i++)
            if (in[i].legacy_proc &&
                (atomic_load(&x[i].calls) != 1 || atomic_load(&x[i].good) != 1)) {
                tap_diag("%s (older form): %d calls, %d as expected", in[i].name,
                         atomic_load(&x[i].calls), atomic_load(&x[i].good));
                bad++;
            }
        TAP_OK(nleg >= 16 && sent == nleg && bad == 0 && atomic_load(&f.n_legacy_reg) == (int)nleg,
               "every: each of the %zu older domain event procedures reaches its callback in the "
               "callback form",
               nleg);
    }
    vrpc_conn_close(c);
    fake_finish(&f);
    free(x);
    free(ids);
}

static void test_drops(void)
{
    fake f;
    vrpc_conn *c;
    rec r;
    caller k;
    pthread_t t;
    int id, i;
    vrpc_nonnull_domain d = make_dom("eps", 0x55);
    uint8_t junk[8] = {0, 0, 0, 100, 0xff, 0xff, 0xff, 0xff};
    vrpc_event_stats s;

    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "drops: fake daemon");
        return;
    }
    rec_init(&r, c);
    vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL, on_lifecycle,
                        &r, NULL, &id, NULL);
    /* Undecodable payload, unknown procedure, unknown program, status ERROR. */
    send_pkt(&f, VRPC_PROGRAM, VRPC_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, VRPC_MSG_MESSAGE, 1,
             VRPC_MSG_OK, junk, sizeof(junk));
    send_pkt(&f, VRPC_PROGRAM, 30000, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, NULL, 0);
    send_pkt(&f, 0x12345678, 1, VRPC_MSG_MESSAGE, 1, VRPC_MSG_OK, NULL, 0);
    send_pkt(&f, VRPC_PROGRAM, VRPC_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, VRPC_MSG_MESSAGE, 1,
             VRPC_MSG_ERROR, NULL, 0);
    send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_DEFINED);
    WAIT_FOR((vrpc_conn_process(c), atomic_load(&r.calls) == 1), 2000);
    s = stats(c);
    TAP_OK(s.dropped_undecodable == 1 && s.dropped_unrouted == 3 && atomic_load(&r.calls) == 1 &&
               vrpc_conn_get_status(c) == 0,
           "drops: undecodable, unknown procedure/program and ERROR-status events are dropped, "
           "counted, and the connection stays up (%llu undecodable, %llu unrouted)",
           (unsigned long long)s.dropped_undecodable, (unsigned long long)s.dropped_unrouted);

    /* A flood while nobody processes: the queue stops at its limit. */
    k.c = c;
    pthread_create(&t, NULL, call_lib_version, &k);
    WAIT_FOR(atomic_load(&f.held) == 1, 2000);
    for (i = 0; i < VRPC_EVENT_QUEUE_MAX + 50; i++)
        send_lifecycle(&f, 100, &d, VRPC_DOMAIN_EVENT_STARTED);
    TAP_OK(
        WAIT_FOR(stats(c).queued + stats(c).dropped_overflow >= VRPC_EVENT_QUEUE_MAX + 50, 10000) &&
            stats(c).queued == VRPC_EVENT_QUEUE_MAX && stats(c).dropped_overflow == 50,
        "drops: %d events queue at most, the 50 newest beyond are dropped", VRPC_EVENT_QUEUE_MAX);
    gate_open(&f, 1);
    pthread_join(t, NULL);
    vrpc_conn_process(c);
    TAP_OK(k.rc == 0 && atomic_load(&r.calls) == 1 + VRPC_EVENT_QUEUE_MAX && stats(c).queued == 0,
           "drops: the queued ones are all delivered");
    vrpc_free(r.copy);
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* ---- daemons without callback IDs ---- */

static void test_legacy(void)
{
    fake f;
    vrpc_conn *c;
    rec ra, rall, rb;
    int ia, iall, ib, inet, itun, rc;
    vrpc_nonnull_domain da = make_dom("zeta", 0x66), db = make_dom("eta", 0x77);
    int ev = VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE);

    if (fake_start(&f, &c, 1, 0, 0)) {
        TAP_OK(0, "legacy: fake daemon");
        return;
    }
    rec_init(&ra, c);
    rec_init(&rb, c);
    rec_init(&rall, c);
    rc = vrpc_event_register(c, ev, &da, on_lifecycle, &ra, NULL, &ia, NULL);
    rc |= vrpc_event_register(c, ev, NULL, on_lifecycle, &rall, NULL, &iall, NULL);
    rc |= vrpc_event_register(c, ev, &db, on_lifecycle, &rb, NULL, &ib, NULL);
    TAP_OK(rc == 0 && atomic_load(&f.n_legacy_reg) == 1 && atomic_load(&f.n_register) == 0,
           "legacy: without feature 14, one CONNECT_DOMAIN_EVENT_REGISTER_ANY for three "
           "callbacks");
    {
        vrpc_domain_event_lifecycle_msg m = {.dom = da, .event = VRPC_DOMAIN_EVENT_RESUMED};
        send_event(&f, vrpc_proc_lookup("domain_event_lifecycle"), &m);
    }
    WAIT_FOR((vrpc_conn_process(c), atomic_load(&rall.calls) == 1), 2000);
    TAP_OK(atomic_load(&ra.calls) == 1 && atomic_load(&rall.calls) == 1 &&
               atomic_load(&rb.calls) == 0 && strcmp(ra.last_dom, "zeta") == 0 &&
               atomic_load(&ra.last_event) == VRPC_DOMAIN_EVENT_RESUMED &&
               atomic_load(&ra.last_cbid) == 0,
           "legacy: the older form arrives in the callback form; the domain filter is applied "
           "locally");
    vrpc_free(ra.copy);
    vrpc_free(rall.copy);
    TAP_OK(vrpc_event_register(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_TUNABLE), NULL,
                               on_lifecycle, &ra, NULL, &itun, NULL) == VRPC_E_UNSUPPORTED,
           "legacy: events without an older form are UNSUPPORTED");
    TAP_OK(vrpc_event_register(c, VRPC_EVENT_NETWORK(VRPC_NETWORK_EVENT_ID_LIFECYCLE), NULL,
                               on_lifecycle, &ra, NULL, &inet, NULL) == 0 &&
               atomic_load(&f.n_register) == 1,
           "legacy: other families still use their callback-ID procedure");
    vrpc_event_deregister(c, ia, NULL);
    vrpc_event_deregister(c, iall, NULL);
    TAP_OK(atomic_load(&f.n_legacy_dereg) == 0, "legacy: shared until the last one");
    vrpc_event_deregister(c, ib, NULL);
    TAP_OK(WAIT_FOR(atomic_load(&f.n_legacy_dereg) == 1, 1000),
           "legacy: CONNECT_DOMAIN_EVENT_DEREGISTER_ANY with the last one");
    vrpc_conn_close(c);
    fake_finish(&f);
}

/* ---- close notification ---- */

typedef struct closer {
    atomic_int calls;
    atomic_int reason;
    atomic_int freed;
    atomic_int status_at_call; /* a call made in the callback fails at once */
} closer;

static void on_close(vrpc_conn *c, int reason, void *opaque)
{
    closer *k = opaque;
    atomic_store(&k->reason, reason);
    if (reason != VRPC_CONNECT_CLOSE_REASON_CLIENT && vrpc_conn_get_status(c) != 0) {
        vrpc_connect_get_lib_version_ret *r = NULL;
        atomic_store(&k->status_at_call, vrpc_connect_get_lib_version(c, &r, NULL));
    }
    atomic_fetch_add(&k->calls, 1);
}

static void closer_free(void *p)
{
    atomic_fetch_add(&((closer *)p)->freed, 1);
}

static void test_close(void)
{
    fake f;
    vrpc_conn *c;
    closer k;
    int rc;

    /* The daemon hangs up while calls wait: they fail at once, reason EOF. */
    if (fake_start(&f, &c, 1, 1, 1)) {
        TAP_OK(0, "close: fake daemon");
        return;
    }
    memset(&k, 0, sizeof(k));
    rc = vrpc_conn_set_close_callback(c, on_close, &k, closer_free, NULL);
    TAP_OK(rc == 0 && atomic_load(&f.n_close_reg) == 0,
           "close: set on a connection without open sequence: no daemon registration");
    {
        caller ks[4];
        pthread_t ts[4];
        int i, failed = 0;
        int64_t t0;
        for (i = 0; i < 4; i++) {
            ks[i].c = c;
            pthread_create(&ts[i], NULL, call_lib_version, &ks[i]);
        }
        WAIT_FOR(atomic_load(&f.held) == 1, 2000);
        tl_sleep_ms(50);
        t0 = tl_now_ms();
        shutdown(f.fd, SHUT_RDWR);
        for (i = 0; i < 4; i++) {
            pthread_join(ts[i], NULL);
            failed += ks[i].rc == VRPC_E_CLOSED;
        }
        TAP_OK(failed == 4 && tl_now_ms() - t0 < 1000,
               "close: four waiting calls fail with VRPC_E_CLOSED at once when the daemon "
               "hangs up");
    }
    TAP_OK(atomic_load(&k.calls) == 0, "close: the close callback waits for vrpc_conn_process()");
    vrpc_conn_process(c);
    TAP_OK(atomic_load(&k.calls) == 1 && atomic_load(&k.reason) == VRPC_CONNECT_CLOSE_REASON_EOF &&
               atomic_load(&k.status_at_call) == VRPC_E_CLOSED &&
               vrpc_conn_get_close_reason(c) == VRPC_CONNECT_CLOSE_REASON_EOF,
           "close: reported once with reason EOF; calls in it fail at once");
    vrpc_conn_process(c);
    TAP_OK(atomic_load(&k.calls) == 1, "close: only once");
    vrpc_conn_close(c);
    TAP_OK(atomic_load(&k.calls) == 1 && atomic_load(&k.freed) == 1,
           "close: vrpc_conn_close does not report again; free_opaque runs");
    fake_finish(&f);

    /* A protocol error: reason ERROR. */
    if (fake_start(&f, &c, 1, 1, 1))
        return;
    memset(&k, 0, sizeof(k));
    vrpc_conn_set_close_callback(c, on_close, &k, NULL, NULL);
    send_pkt(&f, VRPC_PROGRAM, 1, VRPC_MSG_REPLY, 777, VRPC_MSG_OK, NULL, 0);
    WAIT_FOR((vrpc_conn_process(c), atomic_load(&k.calls) == 1), 2000);
    TAP_OK(atomic_load(&k.reason) == VRPC_CONNECT_CLOSE_REASON_ERROR &&
               vrpc_conn_get_status(c) == VRPC_E_PROTO,
           "close: a protocol error reports reason ERROR");
    vrpc_conn_close(c);
    fake_finish(&f);

    /* The client closes: reason CLIENT, in vrpc_conn_close. */
    if (fake_start(&f, &c, 1, 1, 1))
        return;
    memset(&k, 0, sizeof(k));
    vrpc_conn_set_close_callback(c, on_close, &k, closer_free, NULL);
    TAP_OK(vrpc_conn_get_close_reason(c) == -1, "close: -1 while open");
    vrpc_conn_close(c);
    TAP_OK(atomic_load(&k.calls) == 1 &&
               atomic_load(&k.reason) == VRPC_CONNECT_CLOSE_REASON_CLIENT &&
               atomic_load(&k.freed) == 1,
           "close: vrpc_conn_close reports reason CLIENT");
    fake_finish(&f);

    /* The daemon's CONNECT_EVENT_CONNECTION_CLOSED; replacing the callback. */
    if (fake_start(&f, &c, 1, 1, 1))
        return;
    {
        closer k1, k2;
        vrpc_connect_event_connection_closed_msg m = {.reason =
                                                          VRPC_CONNECT_CLOSE_REASON_KEEPALIVE};
        memset(&k1, 0, sizeof(k1));
        memset(&k2, 0, sizeof(k2));
        vrpc_conn_set_close_callback(c, on_close, &k1, closer_free, NULL);
        vrpc_conn_set_close_callback(c, on_close, &k2, closer_free, NULL);
        TAP_OK(atomic_load(&k1.freed) == 1 && atomic_load(&k2.freed) == 0,
               "close: a replaced callback is released");
        send_event(&f, vrpc_proc_lookup("connect_event_connection_closed"), &m);
        WAIT_FOR((vrpc_conn_process(c), atomic_load(&k2.calls) == 1), 2000);
        TAP_OK(atomic_load(&k2.calls) == 1 &&
                   atomic_load(&k2.reason) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE &&
                   vrpc_conn_get_status(c) == 0,
               "close: CONNECT_EVENT_CONNECTION_CLOSED reports the daemon's reason");
        vrpc_conn_close(c);
        TAP_OK(atomic_load(&k2.calls) == 1 && atomic_load(&k2.freed) == 1, "close: ... once");
    }
    fake_finish(&f);
}

/* ---- keepalive against a daemon that stops answering ---- */

static void test_keepalive(void)
{
    fake f;
    vrpc_conn *c;
    closer k;
    caller kc;
    pthread_t t;
    vrpc_error *e = NULL;
    int64_t t0, dt;
    uint64_t to = 0;
    int rc;

    if (fake_start(&f, &c, 0, 1, 1)) {
        TAP_OK(0, "keepalive: fake daemon");
        return;
    }
    rc = vrpc_conn_set_keepalive(c, VRPC_USEC_PER_SEC, 1, &e);
    TAP_OK(rc == VRPC_E_UNSUPPORTED && e, "keepalive: a daemon without feature 10 -> UNSUPPORTED");
    vrpc_free(e);
    e = NULL;
    vrpc_conn_close(c);
    fake_finish(&f);

    if (fake_start(&f, &c, 1, 1, 1))
        return;
    memset(&k, 0, sizeof(k));
    vrpc_conn_set_close_callback(c, on_close, &k, NULL, NULL);
    rc = vrpc_conn_set_keepalive(c, VRPC_USEC_PER_SEC, 2, &e);
    vrpc_conn_get_timeout(c, &to);
    TAP_OK(rc == 0 && to != UINT64_MAX && to > vrpc_now_usec() && to <= vrpc_now_usec() + 1000000,
           "keepalive: on; the loop's deadline is within the interval");
    /* An answering daemon: the connection lives through 3 intervals, idle,
     * serviced by the event thread. */
    vrpc_conn_start_event_thread(c);
    tl_sleep_ms(3300);
    TAP_OK(vrpc_conn_get_status(c) == 0 && atomic_load(&f.n_pings) >= 2,
           "keepalive: PINGs every interval of silence, PONGs keep it up (%d PINGs)",
           atomic_load(&f.n_pings));
    /* It stops answering, while a call waits. */
    kc.c = c;
    pthread_create(&t, NULL, call_lib_version, &kc);
    WAIT_FOR(atomic_load(&f.held) == 1, 2000);
    atomic_store(&f.answer_pings, 0);
    t0 = tl_now_ms();
    pthread_join(t, NULL);
    dt = tl_now_ms() - t0;
    TAP_OK(kc.rc == VRPC_E_CLOSED && dt >= 1000 && dt <= 1000 * (2 + 1) + 1000,
           "keepalive: a silent daemon is dead within interval * (count + 1) + 1 s; the waiting "
           "call fails (%lld ms)",
           (long long)dt);
    TAP_OK(WAIT_FOR(atomic_load(&k.calls) == 1, 2000) &&
               atomic_load(&k.reason) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE &&
               vrpc_conn_get_close_reason(c) == VRPC_CONNECT_CLOSE_REASON_KEEPALIVE,
           "keepalive: the close callback reports KEEPALIVE (in the event thread)");
    vrpc_conn_close(c);
    fake_finish(&f);
}

int main(void)
{
    int fds0 = tl_count_fds();
    test_table();
    test_shared();
    test_threads();
    test_self();
    test_stop_during_callback();
    test_every_event();
    test_drops();
    test_legacy();
    test_close();
    test_keepalive();
    TAP_OK(tl_count_fds() == fds0, "no descriptor leaked (%d before, %d after)", fds0,
           tl_count_fds());
    return tap_done();
}
