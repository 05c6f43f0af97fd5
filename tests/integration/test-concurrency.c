/* SPDX-License-Identifier: MIT */
/*
 * Integration: many threads on one connection, a pipeline of non-blocking
 * calls collected out of order, and read-only connections.
 */
#include "itest.h"
#include "ittap.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 8
#define NCALLS 300
#define NPIPE 512

static vrpc_conn *c;
static const char *uri;

/* What every call must see about the domain "test". */
static struct {
    vrpc_nonnull_domain dom;
    char name[64];
    uint8_t state;
    uint64_t maxMem, memory;
    uint16_t nrVirtCpu;
    char *xml;
    char *hostname;
} ref;

struct worker {
    pthread_t tid;
    int index;
    int ok, bad;
    int lookups, infos, xmls;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t last_cpu = 0;
    for (int i = 0; i < NCALLS; i++) {
        switch ((i + w->index) % 3) {
        case 0: {
            vrpc_domain_lookup_by_name_args a = {.name = ref.name};
            vrpc_domain_lookup_by_name_ret *r = NULL;
            if (IT(vrpc_domain_lookup_by_name, c, &a, &r) == 0 &&
                strcmp(r->dom.name, ref.name) == 0 && memcmp(r->dom.uuid, ref.dom.uuid, 16) == 0 &&
                r->dom.id == ref.dom.id)
                w->ok++;
            else
                w->bad++;
            w->lookups++;
            vrpc_free(r);
            break;
        }
        case 1: {
            vrpc_domain_get_info_args a = {.dom = ref.dom};
            vrpc_domain_get_info_ret *r = NULL;
            if (IT(vrpc_domain_get_info, c, &a, &r) == 0 && r->state == ref.state &&
                r->maxMem == ref.maxMem && r->memory == ref.memory &&
                r->nrVirtCpu == ref.nrVirtCpu && r->cpuTime >= last_cpu) {
                w->ok++;
                last_cpu = r->cpuTime;
            } else {
                w->bad++;
            }
            w->infos++;
            vrpc_free(r);
            break;
        }
        default: {
            vrpc_domain_get_xml_desc_args a = {.dom = ref.dom, .flags = 0};
            vrpc_domain_get_xml_desc_ret *r = NULL;
            if (IT(vrpc_domain_get_xml_desc, c, &a, &r) == 0 && strcmp(r->xml, ref.xml) == 0)
                w->ok++;
            else
                w->bad++;
            w->xmls++;
            vrpc_free(r);
            break;
        }
        }
    }
    (void)it_errp(); /* free this thread's last error */
    return NULL;
}

/* One pipelined call: which kind, and its cookie. */
struct pipe_call {
    int kind; /* 0 get_info, 1 hostname, 2 lookup test, 3 lookup missing */
    uint32_t serial;
    union {
        vrpc_domain_get_info_cookie info;
        vrpc_connect_get_hostname_cookie host;
        vrpc_domain_lookup_by_name_cookie lookup;
    } ck;
};

struct pipeliner {
    pthread_t tid;
    int sent, send_failed;
    int ok, bad;
    bool serials_unique;
    int errors_as_expected;
};

static char missing_name[64];

static void *pipeliner_main(void *arg)
{
    struct pipeliner *p = arg;
    struct pipe_call *calls = calloc(NPIPE, sizeof(*calls));
    if (!calls)
        return NULL;
    for (int i = 0; i < NPIPE; i++) {
        int rc;
        calls[i].kind = i % 4;
        switch (calls[i].kind) {
        case 0: {
            vrpc_domain_get_info_args a = {.dom = ref.dom};
            rc = vrpc_domain_get_info_send(c, &a, &calls[i].ck.info, NULL);
            if (rc == 0)
                calls[i].serial = vrpc_pending_serial(calls[i].ck.info.p);
            break;
        }
        case 1:
            rc = vrpc_connect_get_hostname_send(c, &calls[i].ck.host, NULL);
            if (rc == 0)
                calls[i].serial = vrpc_pending_serial(calls[i].ck.host.p);
            break;
        default: {
            vrpc_domain_lookup_by_name_args a = {.name =
                                                     calls[i].kind == 2 ? ref.name : missing_name};
            rc = vrpc_domain_lookup_by_name_send(c, &a, &calls[i].ck.lookup, NULL);
            if (rc == 0)
                calls[i].serial = vrpc_pending_serial(calls[i].ck.lookup.p);
            break;
        }
        }
        if (rc == 0) {
            p->sent++;
        } else {
            p->send_failed++;
            calls[i].kind = -1;
            it_diag("send %d failed: %d (%s)", i, rc, vrpc_strerror(rc));
        }
    }
    p->serials_unique = true;
    for (int i = 0; i < NPIPE && p->serials_unique; i++)
        for (int j = i + 1; j < NPIPE; j++)
            if (calls[i].kind >= 0 && calls[j].kind >= 0 && calls[i].serial == calls[j].serial) {
                p->serials_unique = false;
                break;
            }

    /* Collect in reverse order: the last reply is awaited first, so every
     * other reply must be kept for its own later collection. */
    for (int i = NPIPE - 1; i >= 0; i--) {
        int rc;
        bool good = false;
        switch (calls[i].kind) {
        case 0: {
            vrpc_domain_get_info_ret *r = NULL;
            rc = IT(vrpc_domain_get_info_reply, c, calls[i].ck.info, &r);
            good = rc == 0 && r->maxMem == ref.maxMem && r->memory == ref.memory &&
                   r->nrVirtCpu == ref.nrVirtCpu && r->state == ref.state;
            vrpc_free(r);
            break;
        }
        case 1: {
            vrpc_connect_get_hostname_ret *r = NULL;
            rc = IT(vrpc_connect_get_hostname_reply, c, calls[i].ck.host, &r);
            good = rc == 0 && strcmp(r->hostname, ref.hostname) == 0;
            vrpc_free(r);
            break;
        }
        case 2: {
            vrpc_domain_lookup_by_name_ret *r = NULL;
            rc = IT(vrpc_domain_lookup_by_name_reply, c, calls[i].ck.lookup, &r);
            good = rc == 0 && memcmp(r->dom.uuid, ref.dom.uuid, 16) == 0;
            vrpc_free(r);
            break;
        }
        case 3: {
            vrpc_domain_lookup_by_name_ret *r = NULL;
            rc = ITQ(vrpc_domain_lookup_by_name_reply, c, calls[i].ck.lookup, &r);
            good = rc == VRPC_E_REMOTE && it_err() && it_err()->code == VRPC_ERR_NO_DOMAIN;
            if (good)
                p->errors_as_expected++;
            vrpc_free(r);
            break;
        }
        default:
            continue;
        }
        if (good)
            p->ok++;
        else
            p->bad++;
    }
    (void)it_errp(); /* free this thread's last error */
    free(calls);
    return NULL;
}

static bool load_reference(void)
{
    vrpc_domain_lookup_by_name_args a = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    if (IT(vrpc_domain_lookup_by_name, c, &a, &lr) != 0)
        return false;
    snprintf(ref.name, sizeof(ref.name), "%s", lr->dom.name);
    ref.dom = lr->dom;
    ref.dom.name = ref.name;
    vrpc_free(lr);

    vrpc_domain_get_info_args ia = {.dom = ref.dom};
    vrpc_domain_get_info_ret *ir = NULL;
    vrpc_domain_get_xml_desc_args xa = {.dom = ref.dom, .flags = 0};
    vrpc_domain_get_xml_desc_ret *xr = NULL;
    vrpc_connect_get_hostname_ret *hr = NULL;
    bool ok = IT(vrpc_domain_get_info, c, &ia, &ir) == 0 &&
              IT(vrpc_domain_get_xml_desc, c, &xa, &xr) == 0 &&
              IT(vrpc_connect_get_hostname, c, &hr) == 0;
    if (ok) {
        ref.state = ir->state;
        ref.maxMem = ir->maxMem;
        ref.memory = ir->memory;
        ref.nrVirtCpu = ir->nrVirtCpu;
        ref.xml = it_strdup(xr->xml);
        ref.hostname = it_strdup(hr->hostname);
    }
    vrpc_free(ir);
    vrpc_free(xr);
    vrpc_free(hr);
    if (!ok)
        return false;
    /* The reference itself agrees with virsh. */
    char *vx = it_virsh_out(uri, "dumpxml test");
    char *di = it_virsh_out(uri, "dominfo test");
    char *vm = it_kv(di, "Used memory");
    TAP_OK(vx && it_same_text(vx, ref.xml) && vm && strtoull(vm, NULL, 10) == ref.memory,
           "reference XML and memory of 'test' == virsh");
    free(vm);
    free(di);
    free(vx);
    return true;
}

static void test_threads(void)
{
    if (!TAP_OK(load_reference(), "reference values of domain 'test'"))
        return;
    snprintf(missing_name, sizeof(missing_name), "vrpc-it-missing-%ld", (long)getpid());
    struct worker w[NTHREADS];
    struct pipeliner p;
    memset(w, 0, sizeof(w));
    memset(&p, 0, sizeof(p));
    int started = 0;
    bool pstarted = pthread_create(&p.tid, NULL, pipeliner_main, &p) == 0;
    for (int i = 0; i < NTHREADS; i++) {
        w[i].index = i;
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) == 0)
            started++;
        else
            break;
    }
    for (int i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    if (pstarted)
        pthread_join(p.tid, NULL);

    TAP_OK(started == NTHREADS && pstarted, "%d worker threads and the pipeliner ran", started);
    int ok = 0, bad = 0, lk = 0, in = 0, xm = 0;
    for (int i = 0; i < started; i++) {
        ok += w[i].ok;
        bad += w[i].bad;
        lk += w[i].lookups;
        in += w[i].infos;
        xm += w[i].xmls;
    }
    TAP_OK(ok == NTHREADS * NCALLS && bad == 0,
           "%d x %d blocking calls on one connection: %d correct, %d wrong "
           "(%d lookups, %d get_info, %d get_xml_desc)",
           NTHREADS, NCALLS, ok, bad, lk, in, xm);
    TAP_OK(p.sent == NPIPE && p.send_failed == 0, "%d non-blocking calls sent before any reply",
           p.sent);
    TAP_OK(p.serials_unique, "each pipelined call has its own serial");
    TAP_OK(p.ok == NPIPE && p.bad == 0,
           "%d pipelined replies collected in reverse order: %d correct, %d wrong", NPIPE, p.ok,
           p.bad);
    TAP_OK(p.errors_as_expected == NPIPE / 4,
           "%d interleaved error replies (missing domain) each reported as NO_DOMAIN",
           p.errors_as_expected);
    TAP_OK(vrpc_conn_get_status(c) == 0, "the connection is healthy afterwards");

    /* The daemon's view is unchanged. */
    char *vs = it_virsh_out(uri, "domstate test");
    vrpc_connect_get_hostname_ret *h = NULL;
    TAP_OK(vs && it_same_text(vs, "running") && IT(vrpc_connect_get_hostname, c, &h) == 0,
           "domain 'test' still running (virsh '%s') and the connection still answers",
           vs ? it_trim(vs) : "?");
    vrpc_free(h);
    free(vs);
}

/* The other ways to collect a reply: poll, discard, process. */
static void test_poll_discard(void)
{
    /* discard: replies that nobody collects must not disturb later calls */
    int sent = 0;
    for (int i = 0; i < 100; i++) {
        vrpc_domain_get_xml_desc_args a = {.dom = ref.dom, .flags = 0};
        vrpc_domain_get_xml_desc_cookie ck;
        if (vrpc_domain_get_xml_desc_send(c, &a, &ck, NULL) == 0) {
            sent++;
            vrpc_call_discard(c, ck.p);
        }
    }
    vrpc_connect_get_hostname_ret *h = NULL;
    int rc = IT(vrpc_connect_get_hostname, c, &h);
    TAP_OK(sent == 100 && rc == 0 && strcmp(h->hostname, ref.hostname) == 0 &&
               vrpc_conn_get_status(c) == 0,
           "100 calls discarded after sending; the next call gets its own reply");
    vrpc_free(h);

    /* poll: never blocks, AGAIN until the reply is there */
    vrpc_domain_lookup_by_name_args la = {.name = ref.name};
    vrpc_pending *p = NULL;
    rc = vrpc_call_send(c, &vrpc_pd_domain_lookup_by_name, &la, &p, NULL);
    int again = 0, prc = VRPC_E_AGAIN;
    void *ret = NULL;
    vrpc_error *e = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rc == 0 && prc == VRPC_E_AGAIN) {
        prc = vrpc_call_poll(c, p, &ret, &e);
        if (prc == VRPC_E_AGAIN) {
            again++;
            struct pollfd pfd = {.fd = vrpc_conn_get_fd(c), .events = POLLIN};
            poll(&pfd, 1, 100);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 30)
            break;
    }
    vrpc_domain_lookup_by_name_ret *lr = ret;
    if (prc == 0)
        it_record("domain_lookup_by_name");
    TAP_OK(rc == 0 && prc == 0 && lr && memcmp(lr->dom.uuid, ref.dom.uuid, 16) == 0,
           "vrpc_call_poll: reply after %d AGAIN(s), the right domain", again);
    if (prc == VRPC_E_AGAIN)
        vrpc_call_discard(c, p);
    vrpc_free(ret);
    vrpc_free(e);

    /* process with nothing outstanding */
    TAP_OK(vrpc_conn_process(c) == 0 && vrpc_conn_get_status(c) == 0,
           "vrpc_conn_process on an idle connection");
}

/* ---------------------------------------------------------------------- */

static void check_ro(const char *what, const char *open_uri, unsigned flags, bool virsh_ro_flag)
{
    vrpc_conn *r = NULL;
    int rc = vrpc_conn_open(&r, open_uri, flags, it_errp());
    if (!TAP_OK(rc == 0, "%s: open %s", what, rc ? it_errstr(it_err()) : "ok"))
        return;
    vrpc_domain_lookup_by_name_args la = {.name = "test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    vrpc_domain_get_info_ret *ir = NULL;
    vrpc_domain_get_xml_desc_ret *xr = NULL;
    vrpc_connect_list_all_domains_ret *ar = NULL;
    vrpc_connect_list_all_domains_args aa = {.need_results = 1, .flags = 0};
    if (TAP_OK(IT(vrpc_domain_lookup_by_name, r, &la, &lr) == 0, "%s: lookup works", what)) {
        vrpc_domain_get_info_args ia = {.dom = lr->dom};
        vrpc_domain_get_xml_desc_args xa = {.dom = lr->dom, .flags = 0};
        TAP_OK(IT(vrpc_domain_get_info, r, &ia, &ir) == 0 && ir->memory == ref.memory &&
                   IT(vrpc_domain_get_xml_desc, r, &xa, &xr) == 0 &&
                   strcmp(xr->xml, ref.xml ? ref.xml : "") == 0 &&
                   IT(vrpc_connect_list_all_domains, r, &aa, &ar) == 0 && ar->domains.n >= 1,
               "%s: reads work and agree with the read-write connection", what);

        /* A write is refused; compare with python and virsh in read-only mode. */
        vrpc_domain_suspend_args sa = {.dom = lr->dom};
        rc = ITQ(vrpc_domain_suspend, r, &sa);
        vrpc_error *e = it_err();
        TAP_OK(rc == VRPC_E_REMOTE && e && e->code == VRPC_ERR_OPERATION_DENIED,
               "%s: domain_suspend refused with OPERATION_DENIED: %s", what, it_errstr(e));
        char *py = it_py_eval(open_uri, virsh_ro_flag, "c.lookupByName('test').suspend()");
        if (py)
            TAP_OK(it_err_matches_py(e, py), "%s: the refusal == libvirt-python's, field by field",
                   what);
        free(py);
        it_cmd vr;
        it_virsh_cmd(&vr, open_uri, "%s suspend test", virsh_ro_flag ? "-r" : "");
        TAP_OK(vr.status != 0 && e && e->message && strstr(vr.err, e->message),
               "%s: virsh%s suspend fails with the same message", what, virsh_ro_flag ? " -r" : "");
        it_cmd_free(&vr);
    }
    vrpc_free(lr);
    vrpc_free(ir);
    vrpc_free(xr);
    vrpc_free(ar);
    vrpc_conn_close(r);
}

static void test_readonly(void)
{
    check_ro("read-only socket with VRPC_OPEN_READONLY", it_sys_ro_uri(), VRPC_OPEN_READONLY, true);
    check_ro("read-only socket without the flag", it_sys_ro_uri(), 0, false);
    check_ro("read-write socket with VRPC_OPEN_READONLY", uri, VRPC_OPEN_READONLY, true);
    char *vs = it_virsh_out(uri, "domstate test");
    TAP_OK(vs && it_same_text(vs, "running"), "domain 'test' was not suspended (virsh '%s')",
           vs ? it_trim(vs) : "?");
    free(vs);
}

int main(void)
{
    if (!it_start("concurrency"))
        return 0;
    uri = it_sys_uri();
    it_open_or_exit(&c, uri);
    test_threads();
    test_poll_discard();
    test_readonly();
    vrpc_conn_close(c);
    free(ref.xml);
    free(ref.hostname);
    it_finish();
    return tap_done();
}
