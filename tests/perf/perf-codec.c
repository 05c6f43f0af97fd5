/* SPDX-License-Identifier: MIT */
/*
 * A fixed amount of codec work, for counting instructions under callgrind:
 *
 *   perf-codec CASE [N]
 *
 * builds one representative message of CASE, then encodes and decodes it N
 * times (default 20) inside perf_work(), the only function callgrind is told
 * to count (--toggle-collect=perf_work). Without valgrind it simply runs and
 * checks that the decoded value encodes to the same bytes.
 *
 * Cases:
 *   list-all-domains  connect_list_all_domains ret with 1000 domains
 *   typed-params      connect_get_all_domain_stats ret: 20 domains x 48
 *                     typed parameters of every type
 *   domain-get-info   domain_get_info ret (the smallest reply)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/virtrpc.h>

#define NDOMS 1000
#define NSTATS 20
#define NPARAMS 48

static vrpc_nonnull_domain doms[NDOMS];
static char names[NDOMS][32];
static vrpc_connect_list_all_domains_ret list_ret;

static vrpc_domain_stats_record records[NSTATS];
static vrpc_typed_param params[NSTATS][NPARAMS];
static char fields[NPARAMS][40];
static char strvals[NPARAMS][40];
static vrpc_connect_get_all_domain_stats_ret stats_ret;

static vrpc_domain_get_info_ret info_ret;

static void build(void)
{
    for (int i = 0; i < NDOMS; i++) {
        snprintf(names[i], sizeof(names[i]), "domain-%04d", i);
        doms[i].name = names[i];
        for (int k = 0; k < 16; k++)
            doms[i].uuid[k] = (uint8_t)(i * 31 + k);
        doms[i].id = i % 3 ? i + 1 : -1;
    }
    list_ret.domains.n = NDOMS;
    list_ret.domains.items = doms;
    list_ret.ret = NDOMS;

    for (int p = 0; p < NPARAMS; p++) {
        snprintf(fields[p], sizeof(fields[p]), "block.%d.rd.bytes", p);
        snprintf(strvals[p], sizeof(strvals[p]), "value-%d", p);
    }
    for (int r = 0; r < NSTATS; r++) {
        records[r].dom = doms[r];
        for (int p = 0; p < NPARAMS; p++) {
            vrpc_typed_param *tp = &params[r][p];
            tp->field = fields[p];
            tp->value.type = 1 + p % 7; /* VIR_TYPED_PARAM_INT .. STRING */
            switch (tp->value.type) {
            case 1:
                tp->value.u.i = -p;
                break;
            case 2:
                tp->value.u.ui = (uint32_t)p;
                break;
            case 3:
                tp->value.u.l = -(int64_t)p * 1000000007;
                break;
            case 4:
                tp->value.u.ul = (uint64_t)p * 1000000007u;
                break;
            case 5:
                tp->value.u.d = p * 0.5;
                break;
            case 6:
                tp->value.u.b = p & 1;
                break;
            default:
                tp->value.u.s = strvals[p];
                break;
            }
        }
        records[r].params.n = NPARAMS;
        records[r].params.items = params[r];
    }
    stats_ret.retStats.n = NSTATS;
    stats_ret.retStats.items = records;

    info_ret.state = 1;
    info_ret.maxMem = 8388608;
    info_ret.memory = 4194304;
    info_ret.nrVirtCpu = 4;
    info_ret.cpuTime = 123456789012ull;
}

/* Encode and decode value n times; returns 0 when every round trip gave back
 * the same bytes. Not inlined: callgrind counts only this function (and what
 * it calls). */
__attribute__((noinline)) int perf_work(const vrpc_type *t, const void *value, int n);
__attribute__((noinline)) int perf_work(const vrpc_type *t, const void *value, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        vrpc_buf a = {0}, b = {0};
        void *dec = NULL;
        if (vrpc_xdr_encode(t, value, &a) != 0 || vrpc_xdr_decode(t, a.data, a.len, &dec) != 0 ||
            vrpc_xdr_encode(t, dec, &b) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len))
            bad = 1;
        vrpc_free(dec);
        vrpc_free(a.data);
        vrpc_free(b.data);
    }
    return bad;
}

int main(int argc, char **argv)
{
    const vrpc_type *t;
    const void *v;
    int n = argc > 2 ? atoi(argv[2]) : 20;

    if (argc < 2) {
        fprintf(stderr, "usage: perf-codec list-all-domains|typed-params|domain-get-info [N]\n");
        return 2;
    }
    build();
    if (!strcmp(argv[1], "list-all-domains")) {
        t = &vrpc_td_connect_list_all_domains_ret;
        v = &list_ret;
    } else if (!strcmp(argv[1], "typed-params")) {
        t = &vrpc_td_connect_get_all_domain_stats_ret;
        v = &stats_ret;
    } else if (!strcmp(argv[1], "domain-get-info")) {
        t = &vrpc_td_domain_get_info_ret;
        v = &info_ret;
    } else {
        fprintf(stderr, "perf-codec: unknown case %s\n", argv[1]);
        return 2;
    }
    if (perf_work(t, v, n)) {
        fprintf(stderr, "perf-codec: %s: the round trip changed the bytes\n", argv[1]);
        return 1;
    }
    return 0;
}
