/* SPDX-License-Identifier: MIT */
/*
 * The bench workloads with libvirt.so (the reference client).
 *
 *   lv-bench w1 URI N            N x (virDomainLookupByName + virDomainGetInfo)
 *   lv-bench w2 URI N THREADS    the same from THREADS threads on one connection
 *   lv-bench w4 URI              list all domains, then info and XML of each
 *   lv-bench w6 URI N            N x (virConnectOpen + virConnectGetVersion + close)
 *
 * Prints "wall=S ops=N cpu=S maxrss_kb=K" (see bench.h).
 */
#include <pthread.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "bench.h"

static void quiet(void *opaque, virErrorPtr e)
{
    (void)opaque;
    (void)e;
}

static virConnectPtr open_conn(const char *uri)
{
    virConnectPtr c = virConnectOpen(uri);
    if (!c)
        BENCH_DIE("open %s: %s", uri, virGetLastErrorMessage());
    return c;
}

static void pairs(virConnectPtr c, long n)
{
    for (long i = 0; i < n; i++) {
        virDomainInfo info;
        virDomainPtr d = virDomainLookupByName(c, "test");
        if (!d)
            BENCH_DIE("lookup: %s", virGetLastErrorMessage());
        if (virDomainGetInfo(d, &info) < 0)
            BENCH_DIE("info: %s", virGetLastErrorMessage());
        virDomainFree(d);
    }
}

struct thr {
    virConnectPtr c;
    long n;
};

static void *thread_main(void *p)
{
    struct thr *t = p;
    pairs(t->c, t->n);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        BENCH_DIE("usage: lv-bench w1|w2|w4|w6 URI ...");
    const char *w = argv[1], *uri = argv[2];
    long n = argc > 3 ? atol(argv[3]) : 0, ops = 0;

    virSetErrorFunc(NULL, quiet);
    if (virInitialize() < 0)
        BENCH_DIE("virInitialize");
    if (!strcmp(w, "w6")) {
        bench_start();
        for (long i = 0; i < n; i++) {
            unsigned long v;
            virConnectPtr c = open_conn(uri);
            if (virConnectGetVersion(c, &v) < 0)
                BENCH_DIE("version: %s", virGetLastErrorMessage());
            virConnectClose(c);
        }
        bench_report(n);
        return 0;
    }

    virConnectPtr c = open_conn(uri);
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
    } else if (!strcmp(w, "w4")) {
        virDomainPtr *doms = NULL;
        int nd = virConnectListAllDomains(c, &doms, 0);
        if (nd < 0)
            BENCH_DIE("list: %s", virGetLastErrorMessage());
        for (int i = 0; i < nd; i++) {
            virDomainInfo info;
            char *xml;
            if (virDomainGetInfo(doms[i], &info) < 0)
                BENCH_DIE("info: %s", virGetLastErrorMessage());
            if (!(xml = virDomainGetXMLDesc(doms[i], 0)))
                BENCH_DIE("xml: %s", virGetLastErrorMessage());
            free(xml);
            virDomainFree(doms[i]);
        }
        free(doms);
        ops = nd;
    } else {
        BENCH_DIE("unknown workload %s", w);
    }
    bench_report(ops);
    virConnectClose(c);
    return 0;
}
