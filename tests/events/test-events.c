/* SPDX-License-Identifier: MIT */
/*
 * Events against the test daemons: the events the test driver emits for
 * domains (define, start, suspend, resume, metadata, reboot, shutdown,
 * destroy, undefine), networks, storage pools (lifecycle and refresh) and
 * node devices (a vHBA created and destroyed), and the unprivileged
 * daemon's secret driver (define, set value, undefine); filters, several
 * callbacks sharing one daemon registration, deregistration, and events
 * arriving while other threads make calls. Delivery by the event thread,
 * and by an application's poll() loop (vrpc_conn_get_fd, _get_notify_fd,
 * _get_events, _get_timeout, _process).
 */
#include "../integration/itest.h"
#include "../integration/ittap.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- what the callbacks saw ---- */

typedef struct rec {
    const char *tag;   /* which callback */
    const char *event; /* vrpc_event_info name */
    char obj[128];     /* the object's name (a secret's usage id) */
    int ev, detail;    /* -1 when the event has none */
    pthread_t th;
} rec;

#define MAXREC 8192
static rec recs[MAXREC];
static int nrec;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

/* The object name, event and detail of any event, through its descriptor. */
static void extract(const vrpc_type *t, const uint8_t *v, rec *r)
{
    uint32_t i, k;
    for (i = 0; i < t->nfields; i++) {
        const vrpc_field *f = &t->fields[i];
        const uint8_t *p = v + f->offset;
        if (f->type->kind == VRPC_KIND_STRUCT && strcmp(f->name, "msg") == 0) {
            extract(f->type, p, r);
        } else if (f->type->kind == VRPC_KIND_STRUCT) {
            for (k = 0; k < f->type->nfields; k++) {
                const vrpc_field *g = &f->type->fields[k];
                if (g->type->kind == VRPC_KIND_STRING &&
                    (strcmp(g->name, "name") == 0 || strcmp(g->name, "usageID") == 0)) {
                    snprintf(r->obj, sizeof(r->obj), "%s", *(char *const *)(p + g->offset));
                    break;
                }
            }
        } else if (f->type->kind == VRPC_KIND_INT && strcmp(f->name, "event") == 0) {
            r->ev = *(const int32_t *)p;
        } else if (f->type->kind == VRPC_KIND_INT && strcmp(f->name, "detail") == 0) {
            r->detail = *(const int32_t *)p;
        }
    }
}

static void on_event(vrpc_conn *c, const vrpc_event *e, void *opaque)
{
    rec r = {.tag = opaque, .event = e->info->name, .ev = -1, .detail = -1, .th = pthread_self()};
    (void)c;
    extract(e->type, e->msg, &r);
    it_record(e->info->proc->name);
    pthread_mutex_lock(&mu);
    if (nrec < MAXREC)
        recs[nrec++] = r;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int count_locked(const char *tag, const char *event, const char *obj, int ev)
{
    int i, n = 0;
    for (i = 0; i < nrec; i++)
        if ((!tag || strcmp(recs[i].tag, tag) == 0) &&
            (!event || strcmp(recs[i].event, event) == 0) &&
            (!obj || strcmp(recs[i].obj, obj) == 0) && (ev < 0 || recs[i].ev == ev))
            n++;
    return n;
}

static int count(const char *tag, const char *event, const char *obj, int ev)
{
    int n;
    pthread_mutex_lock(&mu);
    n = count_locked(tag, event, obj, ev);
    pthread_mutex_unlock(&mu);
    return n;
}

/* Wait until at least n such records exist (event thread delivery). */
static bool wait_count(const char *tag, const char *event, const char *obj, int ev, int n, int ms)
{
    struct timespec ts;
    bool ok;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    while (count_locked(tag, event, obj, ev) < n)
        if (pthread_cond_timedwait(&cv, &mu, &ts) != 0)
            break;
    ok = count_locked(tag, event, obj, ev) >= n;
    pthread_mutex_unlock(&mu);
    return ok;
}

/* The sequence of `ev` values tag saw for obj, as text ("2,3,4"). */
static char *sequence(const char *tag, const char *event, const char *obj)
{
    char *s = it_strdup("");
    int i;
    pthread_mutex_lock(&mu);
    for (i = 0; i < nrec; i++) {
        if (strcmp(recs[i].tag, tag) || strcmp(recs[i].event, event) || strcmp(recs[i].obj, obj))
            continue;
        char *n = it_strf("%s%s%d", s, *s ? "," : "", recs[i].ev);
        free(s);
        s = n;
    }
    pthread_mutex_unlock(&mu);
    return s;
}

/* Every record of tag ran in thread th (want_same) or never in it. */
static bool threads_of(const char *tag, pthread_t th, bool want_same)
{
    bool ok = true;
    int i;
    pthread_mutex_lock(&mu);
    for (i = 0; i < nrec; i++)
        if (strcmp(recs[i].tag, tag) == 0 && pthread_equal(recs[i].th, th) != want_same)
            ok = false;
    pthread_mutex_unlock(&mu);
    return ok;
}

static pthread_t thread_of_first(const char *tag)
{
    pthread_t t = pthread_self();
    int i;
    pthread_mutex_lock(&mu);
    for (i = 0; i < nrec; i++)
        if (strcmp(recs[i].tag, tag) == 0) {
            t = recs[i].th;
            break;
        }
    pthread_mutex_unlock(&mu);
    return t;
}

/* ---- helpers ---- */

static vrpc_conn *c;
static pthread_t main_th;

/* Library calls that are not generated procedures: a diagnostic on failure. */
static int lib_rc(const char *what, int rc)
{
    if (rc)
        it_diag("%s: %s", what, it_errstr(it_err()));
    return rc;
}

static int reg(vrpc_conn *cc, int event, const void *filter, const char *tag)
{
    int id = 0;
    if (lib_rc("vrpc_event_register", vrpc_event_register(cc, event, filter, on_event, (void *)tag,
                                                          NULL, &id, it_errp())) != 0)
        return -1;
    it_record(vrpc_event_info_get(event)->register_proc->name);
    return id;
}

static bool define_domain(const char *name, vrpc_nonnull_domain **out)
{
    char *xml = it_strf("<domain type='test'><name>%s</name><memory>1024</memory><os><type>hvm"
                        "</type></os><on_reboot>destroy</on_reboot></domain>",
                        name);
    vrpc_domain_define_xml_args a = {.xml = xml};
    vrpc_domain_define_xml_ret *r = NULL;
    int rc = IT(vrpc_domain_define_xml, c, &a, &r);
    free(xml);
    if (rc)
        return false;
    *out = &r->dom; /* r starts with dom: freed through *out */
    return true;
}

#define DOMOP(fn, d)                                                                               \
    ({                                                                                             \
        vrpc_##fn##_args a_ = {.dom = *(d)};                                                       \
        IT(vrpc_##fn, c, &a_);                                                                     \
    })

/* ---- domains ---- */

static void test_domains(void)
{
    char *na = it_unique("evdomA"), *nb = it_unique("evdomB");
    vrpc_nonnull_domain *da = NULL, *db = NULL;
    vrpc_event_stats s0, s1;
    int lc = VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE);
    int a1, a2, all, meta, rb, ib, rc;
    char *seq;

    if (!define_domain(na, &da) || !define_domain(nb, &db)) {
        TAP_OK(0, "domains: define two domains");
        return;
    }
    TAP_OK(1, "domains: defined %s and %s", na, nb);
    vrpc_event_get_stats(c, &s0);
    a1 = reg(c, lc, da, "a1");
    a2 = reg(c, lc, da, "a2");
    all = reg(c, lc, NULL, "all");
    meta = reg(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_METADATA_CHANGE), da, "meta");
    rb = reg(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_REBOOT), da, "reboot");
    vrpc_event_get_stats(c, &s1);
    TAP_OK(
        a1 > 0 && a2 > 0 && all > 0 && meta > 0 && rb > 0,
        "domains: lifecycle x3 (two filtered on A, one unfiltered), metadata, reboot registered");
    TAP_OK(s1.registrations - s0.registrations == 4 && s1.server_calls - s0.server_calls == 4,
           "domains: the two callbacks with the same filter share one daemon registration (%u "
           "registrations, %llu calls for 5 callbacks)",
           s1.registrations - s0.registrations,
           (unsigned long long)(s1.server_calls - s0.server_calls));

    rc = DOMOP(domain_create, da);
    rc |= DOMOP(domain_suspend, da);
    rc |= DOMOP(domain_resume, da);
    {
        vrpc_domain_set_metadata_args m = {
            .dom = *da, .type = VRPC_DOMAIN_METADATA_DESCRIPTION, .metadata = "events test"};
        rc |= IT(vrpc_domain_set_metadata, c, &m);
    }
    {
        vrpc_domain_reboot_args r = {.dom = *da, .flags = 0};
        rc |= IT(vrpc_domain_reboot, c, &r); /* on_reboot destroy: it stops */
    }
    rc |= DOMOP(domain_create, da);
    rc |= DOMOP(domain_shutdown, da);
    rc |= DOMOP(domain_create, db);
    rc |= DOMOP(domain_destroy, db);
    rc |= DOMOP(domain_undefine, da);
    TAP_OK(rc == 0, "domains: start, suspend, resume, metadata, reboot, start, shutdown, "
                    "undefine A; start, destroy B");
    TAP_OK(wait_count("a1", "domain.lifecycle", na, VRPC_DOMAIN_EVENT_UNDEFINED, 1, 5000) &&
               wait_count("a2", "domain.lifecycle", na, VRPC_DOMAIN_EVENT_UNDEFINED, 1, 5000) &&
               wait_count("all", "domain.lifecycle", na, VRPC_DOMAIN_EVENT_UNDEFINED, 1, 5000) &&
               wait_count("all", "domain.lifecycle", nb, VRPC_DOMAIN_EVENT_STOPPED, 1, 5000) &&
               wait_count("meta", "domain.metadata-change", na, -1, 1, 5000),
           "domains: the last events arrived");
    seq = sequence("a1", "domain.lifecycle", na);
    TAP_OK(strcmp(seq, "2,3,4,5,2,5,1") == 0,
           "domains: A's callback saw started, suspended, resumed, stopped (reboot), started, "
           "stopped (shutdown), undefined (%s)",
           seq);
    free(seq);
    seq = sequence("a2", "domain.lifecycle", na);
    TAP_OK(strcmp(seq, "2,3,4,5,2,5,1") == 0, "domains: A's second callback the same (%s)", seq);
    free(seq);
    TAP_OK(count("a1", NULL, nb, -1) == 0 && count("a2", NULL, nb, -1) == 0,
           "domains: the callbacks filtered on A saw nothing of B");
    seq = sequence("all", "domain.lifecycle", nb);
    TAP_OK(strcmp(seq, "2,5") == 0 && count("all", "domain.lifecycle", na, -1) == 7,
           "domains: the unfiltered callback saw A's 7 and B's events (%s)", seq);
    free(seq);
    TAP_OK(count("meta", "domain.metadata-change", na, -1) == 1,
           "domains: one metadata-change event");
    it_diag("the test driver sends %d reboot events for a reboot (it has none)",
            count("reboot", NULL, NULL, -1));
    TAP_OK(!pthread_equal(thread_of_first("all"), main_th) &&
               threads_of("all", thread_of_first("all"), true) &&
               threads_of("a1", thread_of_first("all"), true),
           "domains: every callback ran in the event thread");

    /* Deregistration: no callback afterwards. */
    ib = reg(c, lc, db, "b");
    rc = DOMOP(domain_create, db);
    TAP_OK(rc == 0 && wait_count("b", "domain.lifecycle", nb, VRPC_DOMAIN_EVENT_STARTED, 1, 5000),
           "domains: a callback on B sees B start");
    TAP_OK(lib_rc("vrpc_event_deregister", vrpc_event_deregister(c, ib, it_errp())) == 0,
           "domains: deregistered");
    it_record(vrpc_pd_connect_domain_event_callback_deregister_any.name);
    rc = DOMOP(domain_destroy, db);
    rc |= DOMOP(domain_undefine, db);
    TAP_OK(rc == 0 &&
               wait_count("all", "domain.lifecycle", nb, VRPC_DOMAIN_EVENT_UNDEFINED, 1, 5000) &&
               count("b", NULL, NULL, -1) == 1,
           "domains: after deregistration it sees nothing (the unfiltered one does)");
    vrpc_event_get_stats(c, &s0);
    vrpc_event_deregister(c, a1, NULL);
    vrpc_event_deregister(c, a2, NULL);
    vrpc_event_deregister(c, meta, NULL);
    vrpc_event_deregister(c, rb, NULL);
    vrpc_event_get_stats(c, &s1);
    TAP_OK(s0.registrations - s1.registrations == 3 && s1.server_calls - s0.server_calls == 3,
           "domains: four callbacks gone, three daemon deregistrations");
    vrpc_free(da);
    vrpc_free(db);
    free(na);
    free(nb);
    (void)all;
}

/* ---- networks, pools, node devices ---- */

static void test_network(void)
{
    char *name = it_unique("evnet");
    char *xml = it_strf("<network><name>%s</name></network>", name);
    vrpc_network_define_xml_args a = {.xml = xml};
    vrpc_network_define_xml_ret *r = NULL;
    vrpc_nonnull_network other;
    int id, idf, rc;
    char *seq;

    memset(&other, 0, sizeof(other));
    other.name = "no-such-network";
    memset(other.uuid, 0x5a, 16);
    id = reg(c, VRPC_EVENT_NETWORK(VRPC_NETWORK_EVENT_ID_LIFECYCLE), NULL, "net");
    idf = reg(c, VRPC_EVENT_NETWORK(VRPC_NETWORK_EVENT_ID_LIFECYCLE), &other, "net-other");
    rc = IT(vrpc_network_define_xml, c, &a, &r);
    if (rc == 0) {
        vrpc_network_create_args ca = {.net = r->net};
        vrpc_network_destroy_args da = {.net = r->net};
        vrpc_network_undefine_args ua = {.net = r->net};
        rc |= IT(vrpc_network_create, c, &ca);
        rc |= IT(vrpc_network_destroy, c, &da);
        rc |= IT(vrpc_network_undefine, c, &ua);
    }
    TAP_OK(rc == 0 && id > 0 && idf > 0, "network: define, start, destroy, undefine %s", name);
    wait_count("net", "network.lifecycle", name, VRPC_NETWORK_EVENT_UNDEFINED, 1, 5000);
    seq = sequence("net", "network.lifecycle", name);
    TAP_OK(strcmp(seq, "0,2,3,1") == 0, "network: defined, started, stopped, undefined events (%s)",
           seq);
    TAP_OK(count("net-other", NULL, NULL, -1) == 0,
           "network: a callback filtered on another network saw nothing");
    free(seq);
    vrpc_event_deregister(c, id, NULL);
    vrpc_event_deregister(c, idf, NULL);
    vrpc_free(r);
    free(xml);
    free(name);
}

static void test_pool(void)
{
    char *name = it_unique("evpool");
    char *xml = it_strf("<pool type='dir'><name>%s</name><target><path>/%s</path></target></pool>",
                        name, name);
    vrpc_storage_pool_define_xml_args a = {.xml = xml};
    vrpc_storage_pool_define_xml_ret *r = NULL;
    int id, idr, rc;
    char *seq;

    id = reg(c, VRPC_EVENT_STORAGE_POOL(VRPC_STORAGE_POOL_EVENT_ID_LIFECYCLE), NULL, "pool");
    idr = reg(c, VRPC_EVENT_STORAGE_POOL(VRPC_STORAGE_POOL_EVENT_ID_REFRESH), NULL, "pool-refresh");
    rc = IT(vrpc_storage_pool_define_xml, c, &a, &r);
    if (rc == 0) {
        vrpc_storage_pool_create_args ca = {.pool = r->pool};
        vrpc_storage_pool_refresh_args fa = {.pool = r->pool};
        vrpc_storage_pool_destroy_args da = {.pool = r->pool};
        vrpc_storage_pool_undefine_args ua = {.pool = r->pool};
        /* A callback filtered on this pool only sees the refresh. */
        int idf = reg(c, VRPC_EVENT_STORAGE_POOL(VRPC_STORAGE_POOL_EVENT_ID_REFRESH), &r->pool,
                      "pool-refresh-mine");
        rc |= IT(vrpc_storage_pool_create, c, &ca);
        rc |= IT(vrpc_storage_pool_refresh, c, &fa);
        rc |= IT(vrpc_storage_pool_destroy, c, &da);
        rc |= IT(vrpc_storage_pool_undefine, c, &ua);
        wait_count("pool", "storage-pool.lifecycle", name, VRPC_STORAGE_POOL_EVENT_UNDEFINED, 1,
                   5000);
        TAP_OK(count("pool-refresh-mine", "storage-pool.refresh", name, -1) == 1 &&
                   count("pool-refresh-mine", NULL, NULL, -1) == 1,
               "pool: a refresh callback filtered on the pool");
        vrpc_event_deregister(c, idf, NULL);
    }
    TAP_OK(rc == 0, "pool: define, start, refresh, destroy, undefine %s", name);
    seq = sequence("pool", "storage-pool.lifecycle", name);
    TAP_OK(strcmp(seq, "0,2,3,1") == 0, "pool: defined, started, stopped, undefined events (%s)",
           seq);
    TAP_OK(count("pool-refresh", "storage-pool.refresh", name, -1) == 1, "pool: one refresh event");
    free(seq);
    vrpc_event_deregister(c, id, NULL);
    vrpc_event_deregister(c, idr, NULL);
    vrpc_free(r);
    free(xml);
    free(name);
}

static void test_nodedev(void)
{
    /* The test driver makes every vHBA "scsi_host12" (from scsi_host11). */
    vrpc_node_device_create_xml_args a = {
        .xml_desc = "<device><parent>scsi_host1</parent><capability type='scsi_host'>"
                    "<capability type='fc_host'><wwnn>2000000012341234</wwnn>"
                    "<wwpn>1000000012341234</wwpn></capability></capability></device>"};
    vrpc_node_device_create_xml_ret *r = NULL;
    vrpc_nonnull_node_device mine = {.name = "scsi_host12"}, other = {.name = "scsi_host2"};
    int id, idm, ido, idu, rc;

    id = reg(c, VRPC_EVENT_NODE_DEVICE(VRPC_NODE_DEVICE_EVENT_ID_LIFECYCLE), NULL, "dev");
    idm = reg(c, VRPC_EVENT_NODE_DEVICE(VRPC_NODE_DEVICE_EVENT_ID_LIFECYCLE), &mine, "dev-mine");
    ido = reg(c, VRPC_EVENT_NODE_DEVICE(VRPC_NODE_DEVICE_EVENT_ID_LIFECYCLE), &other, "dev-other");
    idu = reg(c, VRPC_EVENT_NODE_DEVICE(VRPC_NODE_DEVICE_EVENT_ID_UPDATE), NULL, "dev-update");
    rc = IT(vrpc_node_device_create_xml, c, &a, &r);
    if (rc == 0) {
        vrpc_node_device_destroy_args da = {.name = r->dev.name};
        rc = IT(vrpc_node_device_destroy, c, &da);
    }
    TAP_OK(rc == 0 && r && strcmp(r->dev.name, "scsi_host12") == 0,
           "nodedev: created and destroyed the vHBA %s", r ? r->dev.name : "?");
    wait_count("dev", "node-device.lifecycle", "scsi_host12", VRPC_NODE_DEVICE_EVENT_DELETED, 1,
               5000);
    wait_count("dev-mine", "node-device.lifecycle", "scsi_host12", VRPC_NODE_DEVICE_EVENT_DELETED,
               1, 5000);
    {
        char *seq = sequence("dev", "node-device.lifecycle", "scsi_host12");
        char *seqm = sequence("dev-mine", "node-device.lifecycle", "scsi_host12");
        TAP_OK(strcmp(seq, "0,1") == 0 && strcmp(seqm, "0,1") == 0,
               "nodedev: created, deleted events, also for the callback filtered on its name "
               "(%s; %s)",
               seq, seqm);
        free(seq);
        free(seqm);
    }
    TAP_OK(count("dev-other", NULL, NULL, -1) == 0,
           "nodedev: a callback filtered on another device saw nothing");
    it_diag("node-device.update events: %d (the test driver emits none)",
            count("dev-update", NULL, NULL, -1));
    vrpc_event_deregister(c, id, NULL);
    vrpc_event_deregister(c, idm, NULL);
    vrpc_event_deregister(c, ido, NULL);
    vrpc_event_deregister(c, idu, NULL);
    vrpc_free(r);
}

/* ---- secrets, delivered by the application's own poll() loop ---- */

/* One turn of an application's event loop: poll what the connection asks
 * for, then process. */
static void loop_turn(vrpc_conn *cc, int max_ms)
{
    struct pollfd pfd[2];
    uint64_t deadline = 0, now = vrpc_now_usec();
    int timeout = max_ms;

    pfd[0].fd = vrpc_conn_get_fd(cc);
    pfd[0].events = (short)vrpc_conn_get_events(cc);
    pfd[1].fd = vrpc_conn_get_notify_fd(cc);
    pfd[1].events = POLLIN;
    vrpc_conn_get_timeout(cc, &deadline);
    if (deadline != UINT64_MAX) {
        int64_t left = deadline <= now ? 0 : (int64_t)((deadline - now + 999) / 1000);
        if (left < timeout)
            timeout = (int)left;
    }
    poll(pfd, 2, timeout);
    vrpc_conn_process(cc);
}

static bool loop_until(vrpc_conn *cc, const char *tag, const char *event, const char *obj, int ev,
                       int n, int ms)
{
    uint64_t until = vrpc_now_usec() + (uint64_t)ms * 1000;
    while (count(tag, event, obj, ev) < n && vrpc_now_usec() < until)
        loop_turn(cc, 100);
    return count(tag, event, obj, ev) >= n;
}

static void test_secret(void)
{
    vrpc_conn *cs = NULL;
    char *usage = it_strf("/evsecret/%ld", (long)getpid());
    char *xml = it_strf("<secret ephemeral='no' private='no'><usage type='volume'><volume>%s"
                        "</volume></usage></secret>",
                        usage);
    vrpc_secret_define_xml_args a = {.xml = xml};
    vrpc_secret_define_xml_ret *r = NULL;
    int id, idv, rc;
    char *seq;

    if (lib_rc("vrpc_conn_open", vrpc_conn_open(&cs, it_secret_uri(), 0, it_errp())) != 0) {
        TAP_OK(0, "secret: open %s", it_secret_uri());
        goto out;
    }
    id = reg(cs, VRPC_EVENT_SECRET(VRPC_SECRET_EVENT_ID_LIFECYCLE), NULL, "secret");
    idv = reg(cs, VRPC_EVENT_SECRET(VRPC_SECRET_EVENT_ID_VALUE_CHANGED), NULL, "secret-value");
    rc = IT(vrpc_secret_define_xml, cs, &a, &r);
    if (rc == 0) {
        uint8_t value[] = "s3cr3t";
        vrpc_secret_set_value_args sa = {.secret = r->secret, .value = {6, value}};
        vrpc_secret_undefine_args ua = {.secret = r->secret};
        rc |= IT(vrpc_secret_set_value, cs, &sa);
        rc |= IT(vrpc_secret_undefine, cs, &ua);
    }
    TAP_OK(rc == 0 && id > 0 && idv > 0, "secret: define, set value, undefine (usage %s)", usage);
    TAP_OK(
        loop_until(cs, "secret", "secret.lifecycle", usage, VRPC_SECRET_EVENT_UNDEFINED, 1, 5000) &&
            loop_until(cs, "secret-value", "secret.value-changed", usage, -1, 1, 5000),
        "secret: events delivered by a poll() loop on the fd, notify fd, events, timeout");
    seq = sequence("secret", "secret.lifecycle", usage);
    TAP_OK(strcmp(seq, "0,1") == 0 && count("secret-value", NULL, usage, -1) == 1,
           "secret: defined, value changed, undefined (%s)", seq);
    free(seq);
    TAP_OK(threads_of("secret", main_th, true) && threads_of("secret-value", main_th, true),
           "secret: the callbacks ran in the loop's thread");
    vrpc_free(r);
out:
    vrpc_conn_close(cs);
    free(xml);
    free(usage);
}

/* ---- events while other threads make calls ---- */

static atomic_int stop_workers;

static void *worker(void *arg)
{
    const vrpc_nonnull_domain *d = arg;
    int n = 0;
    while (!atomic_load(&stop_workers) && n < 2000) {
        vrpc_domain_get_info_args a = {.dom = *d};
        vrpc_domain_get_info_ret *r = NULL;
        if (vrpc_domain_get_info(c, &a, &r, NULL) != 0)
            return (void *)(intptr_t)-1;
        vrpc_free(r);
        n++;
    }
    return (void *)(intptr_t)n;
}

static void test_concurrent(void)
{
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    pthread_t w[4];
    int i, id, rc = 0, bad = 0, calls = 0;
    char *name = it_unique("evconc");
    pthread_t evth;

    if (IT(vrpc_domain_lookup_by_name, c, &la, &lr) != 0) {
        TAP_OK(0, "concurrent: the domain 'test'");
        return;
    }
    id = reg(c, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL, "conc");
    for (i = 0; i < 4; i++)
        pthread_create(&w[i], NULL, worker, &lr->dom);
    for (i = 0; i < 10 && rc == 0; i++) {
        vrpc_nonnull_domain *d = NULL;
        if (!define_domain(name, &d)) {
            rc = -1;
            break;
        }
        rc = DOMOP(domain_undefine, d);
        vrpc_free(d);
    }
    TAP_OK(rc == 0 && wait_count("conc", "domain.lifecycle", name, -1, 20, 10000),
           "concurrent: 20 events while four threads make calls");
    atomic_store(&stop_workers, 1);
    for (i = 0; i < 4; i++) {
        void *res;
        pthread_join(w[i], &res);
        if ((intptr_t)res < 0)
            bad++;
        else
            calls += (int)(intptr_t)res;
    }
    TAP_OK(bad == 0, "concurrent: the calling threads' %d calls succeeded", calls);
    evth = thread_of_first("conc");
    TAP_OK(!pthread_equal(evth, main_th) && threads_of("conc", evth, true) &&
               threads_of("all", evth, true),
           "concurrent: every callback ran in the event thread, none in a calling thread");
    vrpc_event_deregister(c, id, NULL);
    vrpc_free(lr);
    free(name);
}

/* ---- the close callback; admin connections ---- */

static atomic_int close_reason = -1, close_calls;

static void on_close(vrpc_conn *cc, int reason, void *opaque)
{
    (void)cc;
    (void)opaque;
    atomic_store(&close_reason, reason);
    atomic_fetch_add(&close_calls, 1);
}

/* Events newer than some daemons: registering one the daemon's version does
 * not know fails with VRPC_E_UNSUPPORTED (the daemon's own error inside), one
 * it knows registers. The versions are libvirt's "Since:" of each event ID;
 * only the events this build knows are tried. */
static void test_event_versions(void)
{
    static const struct {
        const char *name;
        int event;
        uint64_t since;
    } evs[] = {
#ifdef VRPC_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE
        {"domain.memory-device-size-change",
         VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE), 7009000},
#endif
#ifdef VRPC_NETWORK_EVENT_ID_METADATA_CHANGE
        {"network.metadata-change", VRPC_EVENT_NETWORK(VRPC_NETWORK_EVENT_ID_METADATA_CHANGE),
         9008000},
#endif
#ifdef VRPC_DOMAIN_EVENT_ID_NIC_MAC_CHANGE
        {"domain.nic-mac-change", VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_NIC_MAC_CHANGE), 11002000},
#endif
    };
    uint64_t v = it_daemon_version();
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        int id = 0;
        int rc = vrpc_event_register(c, evs[i].event, NULL, on_event, (void *)"version", NULL, &id,
                                     it_errp());
        if (it_daemon_before(evs[i].since)) {
            const vrpc_error *e = it_err();
            TAP_OK(rc == VRPC_E_UNSUPPORTED && e && e->message &&
                       strstr(e->message, "unsupported") && strstr(e->message, "event ID"),
                   "%s (libvirt %" PRIu64 ".%" PRIu64 ") against libvirt %" PRIu64 ".%" PRIu64
                   ": VRPC_E_UNSUPPORTED: %d %s",
                   evs[i].name, evs[i].since / 1000000, evs[i].since / 1000 % 1000, v / 1000000,
                   v / 1000 % 1000, rc, it_errstr(e));
        } else {
            TAP_OK(rc == 0, "%s registers with libvirt %" PRIu64 ".%" PRIu64 " (%d %s)",
                   evs[i].name, v / 1000000, v / 1000 % 1000, rc, rc ? it_errstr(it_err()) : "");
            if (rc == 0)
                vrpc_event_deregister(c, id, NULL);
        }
    }
}

static void test_admin(void)
{
    vrpc_conn *a = NULL;
    int id = 0;
    if (lib_rc("vrpc_conn_open_admin", vrpc_conn_open_admin(&a, it_admin_uri(), 0, it_errp()))) {
        TAP_OK(0, "admin: open %s", it_admin_uri());
        return;
    }
    TAP_OK(vrpc_event_register(a, VRPC_EVENT_DOMAIN(VRPC_DOMAIN_EVENT_ID_LIFECYCLE), NULL, on_event,
                               "admin", NULL, &id, NULL) == VRPC_E_UNSUPPORTED &&
               vrpc_conn_set_keepalive(a, 5 * VRPC_USEC_PER_SEC, 5, NULL) == VRPC_E_UNSUPPORTED,
           "admin: no events and no keepalive on an admin connection");
    vrpc_conn_close(a);
}

int main(void)
{
    if (!it_start("events"))
        return 0;
    main_th = pthread_self();
    if (lib_rc("vrpc_conn_open", vrpc_conn_open(&c, it_sys_uri(), 0, it_errp())) != 0) {
        TAP_OK(0, "open %s", it_sys_uri());
        return tap_done();
    }
    TAP_OK(vrpc_conn_start_event_thread(c) == 0, "the event thread services the connection");
    TAP_OK(lib_rc("vrpc_conn_set_close_callback",
                  vrpc_conn_set_close_callback(c, on_close, NULL, NULL, it_errp())) == 0,
           "the close callback is set (registered on the daemon too)");
    it_record(vrpc_pd_connect_register_close_callback.name);
    test_domains();
    test_network();
    test_pool();
    test_nodedev();
    test_concurrent();
    test_event_versions();
    vrpc_conn_close(c);
    TAP_OK(atomic_load(&close_calls) == 1 &&
               atomic_load(&close_reason) == VRPC_CONNECT_CLOSE_REASON_CLIENT,
           "vrpc_conn_close reports reason CLIENT once");
    test_admin();
    test_secret();
    it_finish();
    return tap_done();
}
