/* SPDX-License-Identifier: MIT */
/*
 * W5: encode and decode, in memory, a connect_get_all_domain_stats reply of
 * NDOMS domains x 64 typed parameters (>= 16 MiB with the default 7500),
 * with virtrpc's codec and with rpcgen + libtirpc, and memcpy the same bytes.
 *
 *   codec-bench [NDOMS] [REPEAT]
 *
 * Checks that both codecs produce the same bytes, then prints
 * "bytes=B vrpc_enc=MBps vrpc_dec=MBps rpcgen_enc=MBps rpcgen_dec=MBps memcpy=MBps"
 * (each the median over REPEAT runs).
 */
#include <string.h>

#include <virtrpc/virtrpc.h>

#include "bench.h"
#include "codec-common.h"

static vrpc_connect_get_all_domain_stats_ret *vr_build(int ndoms)
{
    vrpc_connect_get_all_domain_stats_ret *v = calloc(1, sizeof(*v));
    vrpc_domain_stats_record *recs = calloc((size_t)ndoms, sizeof(*recs));
    if (!v || !recs)
        BENCH_DIE("out of memory");
    for (int i = 0; i < ndoms; i++) {
        char buf[96];
        vrpc_typed_param *ps = calloc(W5_NPARAMS, sizeof(*ps));
        if (!ps)
            BENCH_DIE("out of memory");
        w5_dom_name(buf, sizeof(buf), i);
        recs[i].dom.name = strdup(buf);
        for (int k = 0; k < 16; k++)
            recs[i].dom.uuid[k] = w5_uuid_byte(i, k);
        recs[i].dom.id = w5_dom_id(i);
        for (int p = 0; p < W5_NPARAMS; p++) {
            vrpc_typed_param_value *pv = &ps[p].value;
            w5_field(buf, sizeof(buf), p);
            ps[p].field = strdup(buf);
            pv->type = w5_type(p);
            switch (pv->type) {
            case 1:
                pv->u.i = -p;
                break;
            case 2:
                pv->u.ui = (uint32_t)p;
                break;
            case 3:
                pv->u.l = -(int64_t)p * 1000000007;
                break;
            case 4:
                pv->u.ul = (uint64_t)p * 1000000007u;
                break;
            case 5:
                pv->u.d = p * 0.5;
                break;
            case 6:
                pv->u.b = p & 1;
                break;
            default:
                w5_strval(buf, sizeof(buf), i, p);
                pv->u.s = strdup(buf);
                break;
            }
        }
        recs[i].params.n = W5_NPARAMS;
        recs[i].params.items = ps;
    }
    v->retStats.n = (uint32_t)ndoms;
    v->retStats.items = recs;
    return v;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int ndoms = argc > 1 ? atoi(argv[1]) : 7500;
    int rep = argc > 2 ? atoi(argv[2]) : 5;
    const vrpc_type *td = &vrpc_td_connect_get_all_domain_stats_ret;
    vrpc_connect_get_all_domain_stats_ret *vv = vr_build(ndoms);
    void *rv = rg_build(ndoms);
    vrpc_buf vb = {0};
    double *t = calloc((size_t)rep, sizeof(double));
    double mb[5];

    if (!rv || !t || rep < 1)
        BENCH_DIE("setup");
    if (vrpc_xdr_encode(td, vv, &vb))
        BENCH_DIE("vrpc encode");
    size_t len = vb.len;
    char *rbuf = malloc(len + 4096), *copy = malloc(len);
    if (!rbuf || !copy)
        BENCH_DIE("out of memory");
    if (rg_encode(rv, rbuf, len + 4096) != len || memcmp(rbuf, vb.data, len))
        BENCH_DIE("virtrpc and rpcgen encode different bytes");

    /* 0: virtrpc encode (into a buffer that keeps its capacity) */
    for (int r = 0; r < rep; r++) {
        double t0 = bench_now();
        vb.len = 0;
        if (vrpc_xdr_encode(td, vv, &vb))
            BENCH_DIE("vrpc encode");
        t[r] = bench_now() - t0;
    }
    mb[0] = (double)len / median(t, rep) / 1e6;
    /* 1: virtrpc decode (and free) */
    for (int r = 0; r < rep; r++) {
        void *out = NULL;
        double t0 = bench_now();
        if (vrpc_xdr_decode(td, vb.data, len, &out))
            BENCH_DIE("vrpc decode");
        vrpc_free(out);
        t[r] = bench_now() - t0;
    }
    mb[1] = (double)len / median(t, rep) / 1e6;
    /* 2: rpcgen encode */
    for (int r = 0; r < rep; r++) {
        double t0 = bench_now();
        if (rg_encode(rv, rbuf, len + 4096) != len)
            BENCH_DIE("rpcgen encode");
        t[r] = bench_now() - t0;
    }
    mb[2] = (double)len / median(t, rep) / 1e6;
    /* 3: rpcgen decode (and xdr_free) */
    for (int r = 0; r < rep; r++) {
        double t0 = bench_now();
        if (rg_decode(rbuf, len))
            BENCH_DIE("rpcgen decode");
        t[r] = bench_now() - t0;
    }
    mb[3] = (double)len / median(t, rep) / 1e6;
    /* 4: memcpy of the same bytes */
    for (int r = 0; r < rep; r++) {
        double t0 = bench_now();
        memcpy(copy, rbuf, len);
        __asm__ volatile("" : : "r"(copy) : "memory");
        t[r] = bench_now() - t0;
    }
    mb[4] = (double)len / median(t, rep) / 1e6;

    printf("bytes=%zu vrpc_enc=%.1f vrpc_dec=%.1f rpcgen_enc=%.1f rpcgen_dec=%.1f memcpy=%.1f\n",
           len, mb[0], mb[1], mb[2], mb[3], mb[4]);
    return 0;
}
