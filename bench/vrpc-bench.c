/* SPDX-License-Identifier: MIT */
/*
 * The bench workloads with virtrpc.
 *
 *   vrpc-bench w1 URI N            N x (domain_lookup_by_name + domain_get_info)
 *   vrpc-bench w2 URI N THREADS    the same from THREADS threads on one connection
 *   vrpc-bench w3 URI N DEPTH      the same from one thread, DEPTH pairs in flight
 *   vrpc-bench w4 URI              list all domains, then info and XML of each
 *   vrpc-bench w4p URI DEPTH       the same, pipelined: up to DEPTH calls in flight
 *   vrpc-bench w6 URI N            N x (open + connect_get_version + close)
 *   vrpc-bench w7 URI download|upload POOL VOL BYTES FILE
 *                                  stream BYTES of a volume into FILE, or from FILE
 *
 * Prints "wall=S ops=N cpu=S maxrss_kb=K" (see bench.h).
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <virtrpc/virtrpc.h>

#include "bench.h"

static const char *name = "test";

static vrpc_conn *open_conn(const char *uri)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    int rc = vrpc_conn_open(&c, uri, 0, &err);
    if (rc)
        BENCH_DIE("open %s: %s", uri, err && err->message ? err->message : vrpc_strerror(rc));
    return c;
}

static void check(int rc, vrpc_error *err, const char *what)
{
    if (rc)
        BENCH_DIE("%s: %s", what, err && err->message ? err->message : vrpc_strerror(rc));
}

static void pairs(vrpc_conn *c, long n)
{
    for (long i = 0; i < n; i++) {
        vrpc_domain_lookup_by_name_args la = {.name = (char *)name};
        vrpc_domain_lookup_by_name_ret *lr = NULL;
        vrpc_domain_get_info_ret *ir = NULL;
        vrpc_error *err = NULL;
        check(vrpc_domain_lookup_by_name(c, &la, &lr, &err), err, "lookup");
        vrpc_domain_get_info_args ia = {.dom = lr->dom};
        check(vrpc_domain_get_info(c, &ia, &ir, &err), err, "info");
        vrpc_free(ir);
        vrpc_free(lr);
    }
}

struct thr {
    vrpc_conn *c;
    long n;
};

static void *thread_main(void *p)
{
    struct thr *t = p;
    pairs(t->c, t->n);
    return NULL;
}

/* W3: a ring of DEPTH slots, each a lookup then an info, driven with
 * vrpc_call_send/vrpc_call_poll and poll(2) from this one thread. */
struct slot {
    vrpc_pending *p;
    int stage; /* 0: lookup in flight, 1: info in flight */
};

static void w3(vrpc_conn *c, long n, int depth)
{
    struct slot *s = calloc((size_t)depth, sizeof(*s));
    long started = 0, done = 0;
    vrpc_domain_lookup_by_name_args la = {.name = (char *)name};

    if (!s)
        BENCH_DIE("out of memory");
    for (int i = 0; i < depth && started < n; i++, started++)
        check(vrpc_call_send(c, &vrpc_pd_domain_lookup_by_name, &la, &s[i].p, NULL), NULL, "send");
    int live = (int)started;
    int head = 0;
    while (done < n) {
        struct slot *h = &s[head];
        void *ret = NULL;
        vrpc_error *err = NULL;
        int rc = vrpc_call_poll(c, h->p, &ret, &err);
        if (rc == VRPC_E_AGAIN) {
            struct pollfd pfd[2] = {
                {.fd = vrpc_conn_get_fd(c), .events = (short)vrpc_conn_get_events(c)},
                {.fd = vrpc_conn_get_notify_fd(c), .events = POLLIN},
            };
            poll(pfd, 2, 100);
            continue;
        }
        check(rc, err, "poll");
        if (h->stage == 0) {
            vrpc_domain_lookup_by_name_ret *lr = ret;
            vrpc_domain_get_info_args ia = {.dom = lr->dom};
            check(vrpc_call_send(c, &vrpc_pd_domain_get_info, &ia, &h->p, NULL), NULL, "send");
            vrpc_free(lr);
            h->stage = 1;
            /* The info goes to the back of the line: move on. */
        } else {
            vrpc_free(ret);
            done++;
            if (started < n) {
                check(vrpc_call_send(c, &vrpc_pd_domain_lookup_by_name, &la, &h->p, NULL), NULL,
                      "send");
                h->stage = 0;
                started++;
            } else {
                h->p = NULL;
                live--;
            }
        }
        head = (head + 1) % depth;
        if (live == 0)
            break;
        while (!s[head].p)
            head = (head + 1) % depth;
    }
    free(s);
}

static void w4(vrpc_conn *c, long *ops)
{
    vrpc_connect_list_all_domains_args la = {.need_results = 1};
    vrpc_connect_list_all_domains_ret *lr = NULL;
    vrpc_error *err = NULL;
    check(vrpc_connect_list_all_domains(c, &la, &lr, &err), err, "list");
    for (uint32_t i = 0; i < lr->domains.n; i++) {
        vrpc_domain_get_info_args ia = {.dom = lr->domains.items[i]};
        vrpc_domain_get_info_ret *ir = NULL;
        vrpc_domain_get_xml_desc_args xa = {.dom = lr->domains.items[i]};
        vrpc_domain_get_xml_desc_ret *xr = NULL;
        check(vrpc_domain_get_info(c, &ia, &ir, &err), err, "info");
        check(vrpc_domain_get_xml_desc(c, &xa, &xr, &err), err, "xml");
        vrpc_free(ir);
        vrpc_free(xr);
    }
    *ops = lr->domains.n;
    vrpc_free(lr);
}

/* W4 pipelined from one thread: the info and XML calls of the next domains
 * are sent while the replies of the earlier ones are collected (in order). */
static void w4p(vrpc_conn *c, int depth, long *ops)
{
    vrpc_connect_list_all_domains_args la = {.need_results = 1};
    vrpc_connect_list_all_domains_ret *lr = NULL;
    vrpc_error *err = NULL;
    vrpc_pending **fifo;
    size_t head = 0, tail = 0, n;

    check(vrpc_connect_list_all_domains(c, &la, &lr, &err), err, "list");
    n = 2 * (size_t)lr->domains.n;
    if (!(fifo = calloc(n ? n : 1, sizeof(*fifo))))
        BENCH_DIE("out of memory");
    for (uint32_t i = 0; i < lr->domains.n; i++) {
        vrpc_domain_get_info_args ia = {.dom = lr->domains.items[i]};
        vrpc_domain_get_xml_desc_args xa = {.dom = lr->domains.items[i]};
        while (tail - head + 2 > (size_t)depth) {
            void *r = NULL;
            check(vrpc_call_wait(c, fifo[head++], &r, &err), err, "wait");
            vrpc_free(r);
        }
        check(vrpc_call_send(c, &vrpc_pd_domain_get_info, &ia, &fifo[tail++], NULL), NULL, "send");
        check(vrpc_call_send(c, &vrpc_pd_domain_get_xml_desc, &xa, &fifo[tail++], NULL), NULL,
              "send");
    }
    while (head < tail) {
        void *r = NULL;
        check(vrpc_call_wait(c, fifo[head++], &r, &err), err, "wait");
        vrpc_free(r);
    }
    *ops = lr->domains.n;
    free(fifo);
    vrpc_free(lr);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        BENCH_DIE("usage: vrpc-bench w1|w2|w3|w4|w6|w7 URI ...");
    const char *w = argv[1], *uri = argv[2];
    long n = argc > 3 ? atol(argv[3]) : 0, ops = 0;

    if (!strcmp(w, "w6")) {
        bench_start();
        for (long i = 0; i < n; i++) {
            vrpc_conn *c = open_conn(uri);
            vrpc_connect_get_version_ret *vr = NULL;
            vrpc_error *err = NULL;
            check(vrpc_connect_get_version(c, &vr, &err), err, "version");
            vrpc_free(vr);
            vrpc_conn_close(c);
        }
        bench_report(n);
        return 0;
    }

    vrpc_conn *c = open_conn(uri);
    bench_start();
    if (!strcmp(w, "w1")) {
        pairs(c, n);
        ops = 2 * n;
    } else if (!strcmp(w, "w2")) {
        int nt = argc > 4 ? atoi(argv[4]) : 8;
        pthread_t th[64];
        struct thr t = {c, n / nt};
        if (nt < 1 || nt > 64)
            BENCH_DIE("1..64 threads");
        for (int i = 0; i < nt; i++)
            pthread_create(&th[i], NULL, thread_main, &t);
        for (int i = 0; i < nt; i++)
            pthread_join(th[i], NULL);
        ops = 2 * (n / nt) * nt;
    } else if (!strcmp(w, "w3")) {
        w3(c, n, argc > 4 ? atoi(argv[4]) : 32);
        ops = 2 * n;
    } else if (!strcmp(w, "w4")) {
        w4(c, &ops);
    } else if (!strcmp(w, "w4p")) {
        w4p(c, argc > 3 ? atoi(argv[3]) : 32, &ops);
    } else if (!strcmp(w, "w7")) {
        if (argc < 8)
            BENCH_DIE("usage: vrpc-bench w7 URI download|upload POOL VOL BYTES FILE");
        vrpc_storage_pool_lookup_by_name_args pa = {.name = argv[4]};
        vrpc_storage_pool_lookup_by_name_ret *pr = NULL;
        vrpc_storage_vol_lookup_by_name_ret *vr = NULL;
        vrpc_error *err = NULL;
        uint64_t bytes = strtoull(argv[6], NULL, 10);
        int up = !strcmp(argv[3], "upload");
        check(vrpc_storage_pool_lookup_by_name(c, &pa, &pr, &err), err, "pool");
        vrpc_storage_vol_lookup_by_name_args va = {.pool = pr->pool, .name = argv[5]};
        check(vrpc_storage_vol_lookup_by_name(c, &va, &vr, &err), err, "vol");
        int fd = open(argv[7], up ? O_RDONLY : O_WRONLY);
        if (fd < 0)
            BENCH_DIE("open %s", argv[7]);
        bench_start();
        if (up)
            check(vrpc_stream_vol_upload(c, &vr->vol, fd, 0, bytes, 0, NULL, NULL, &err), err,
                  "upload");
        else
            check(vrpc_stream_vol_download(c, &vr->vol, fd, 0, bytes, 0, NULL, NULL, &err), err,
                  "download");
        ops = (long)bytes;
        close(fd);
        vrpc_free(pr);
        vrpc_free(vr);
    } else {
        BENCH_DIE("unknown workload %s", w);
    }
    bench_report(ops);
    vrpc_conn_close(c);
    return 0;
}
