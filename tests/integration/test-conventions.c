/* SPDX-License-Identifier: MIT */
/*
 * Integration: the wire conventions of libvirt's client that the generated
 * calls apply (docs/generated-api.md, "Wire conventions"), against the test
 * driver, each next to the raw call that shows the trap it removes:
 * - a zero-initialised connect_list_all_*_args lists the objects
 *   (need_results = 1), blocking and with _send/_reply;
 * - string typed parameters come back from the getters to which libvirt's
 *   client adds VIR_TYPED_PARAM_STRING_OKAY, as virsh shows them.
 */
#include "itest.h"
#include "ittap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vrpc_conn *c;
static const char *uri;

static size_t virsh_count(const char *cmd)
{
    char *out = it_virsh_out(uri, "%s", cmd);
    size_t n = 0;
    char **l = out ? it_lines(out, &n) : NULL;
    it_strv_free(l);
    free(out);
    return n;
}

static void test_need_results(void)
{
    vrpc_connect_list_all_domains_args a;
    vrpc_connect_list_all_domains_ret *r = NULL;
    vrpc_connect_list_all_domains_cookie ck;
    size_t nv = virsh_count("list --all --name");
    void *raw = NULL;
    int rc;

    memset(&a, 0, sizeof(a)); /* need_results = 0, flags = 0: what a newcomer writes */
    rc = IT(vrpc_connect_list_all_domains, c, &a, &r);
    TAP_OK(rc == 0 && nv > 0 && r->domains.n == nv && r->ret == nv,
           "zero-initialised args: vrpc_connect_list_all_domains() lists %u domains, virsh %zu",
           rc == 0 ? r->domains.n : 0, nv);
    TAP_OK(a.need_results == 0, "... the caller's arguments are left as they were");
    vrpc_free(r);
    r = NULL;

    rc = vrpc_connect_list_all_domains_send(c, &a, &ck, NULL);
    if (rc == 0)
        rc = IT(vrpc_connect_list_all_domains_reply, c, ck, &r);
    TAP_OK(rc == 0 && r->domains.n == nv, "... and with _send/_reply: %u domains",
           rc == 0 ? r->domains.n : 0);
    vrpc_free(r);
    r = NULL;

    /* the raw call sends the arguments as given: the count only */
    rc = vrpc_call(c, &vrpc_pd_connect_list_all_domains, &a, &raw, it_errp());
    r = raw;
    TAP_OK(rc == 0 && r->domains.n == 0 && r->ret == nv,
           "vrpc_call() with need_results = 0 gets the count only (%u items, ret %u)",
           rc == 0 ? r->domains.n : 0, rc == 0 ? r->ret : 0);
    vrpc_free(r);

    {
        vrpc_connect_list_all_networks_args na;
        vrpc_connect_list_all_networks_ret *nr = NULL;
        size_t nn = virsh_count("net-list --all --name");
        memset(&na, 0, sizeof(na));
        rc = IT(vrpc_connect_list_all_networks, c, &na, &nr);
        TAP_OK(rc == 0 && nn > 0 && nr->nets.n == nn,
               "zero-initialised args: vrpc_connect_list_all_networks() lists %u networks, "
               "virsh %zu",
               rc == 0 ? nr->nets.n : 0, nn);
        vrpc_free(nr);
    }
}

/* The index of the parameter named field, or -1. */
static long find_param(const vrpc_domain_get_block_io_tune_ret *r, const char *field)
{
    for (uint32_t i = 0; r && i < r->params.n; i++)
        if (strcmp(r->params.items[i].field, field) == 0)
            return i;
    return -1;
}

static void test_string_okay(void)
{
    vrpc_domain_lookup_by_name_args la = {.name = (char *)"test"};
    vrpc_domain_lookup_by_name_ret *lr = NULL;
    vrpc_domain_get_block_io_tune_args a;
    vrpc_domain_get_block_io_tune_ret *r = NULL;
    void *raw = NULL;
    char *out = it_virsh_out(uri, "blkdeviotune test vda");
    char *vgroup = out ? it_kv(out, "group_name") : NULL;
    size_t nv = 0;
    char **lines = out ? it_lines(out, &nv) : NULL;
    long gi;
    int rc;

    it_strv_free(lines);
    if (!TAP_OK(IT(vrpc_domain_lookup_by_name, c, &la, &lr) == 0 && vgroup,
                "domain 'test' and virsh blkdeviotune with a group_name")) {
        free(out);
        free(vgroup);
        vrpc_free(lr);
        return;
    }
    memset(&a, 0, sizeof(a));
    a.dom = lr->dom;
    a.disk = (char *)"vda";
    a.nparams = VRPC_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX;
    a.flags = 0; /* no VRPC_TYPED_PARAM_STRING_OKAY from the caller */
    rc = IT(vrpc_domain_get_block_io_tune, c, &a, &r);
    gi = rc == 0 ? find_param(r, "group_name") : -1;
    TAP_OK(rc == 0 && gi >= 0 && r->params.items[gi].value.type == VRPC_TYPED_PARAM_STRING &&
               strcmp(r->params.items[gi].value.u.s, vgroup) == 0 && r->params.n == nv,
           "flags 0: vrpc_domain_get_block_io_tune() returns the string parameter group_name "
           "('%s') and %u parameters, as virsh (%zu)",
           gi >= 0 ? r->params.items[gi].value.u.s : "missing", rc == 0 ? r->params.n : 0, nv);
    TAP_OK(a.flags == 0, "... the caller's flags are left as they were");
    vrpc_free(r);

    rc = vrpc_call(c, &vrpc_pd_domain_get_block_io_tune, &a, &raw, it_errp());
    r = raw;
    TAP_OK(rc == 0 && find_param(r, "group_name") < 0 && r->params.n + 1 == nv,
           "vrpc_call() with flags 0: the daemon leaves the string parameter out (%u parameters)",
           rc == 0 ? r->params.n : 0);
    vrpc_free(r);
    free(out);
    free(vgroup);
    vrpc_free(lr);
}

int main(void)
{
    if (!it_start("conventions"))
        return 0;
    uri = it_sys_uri();
    int rc = vrpc_conn_open(&c, uri, 0, it_errp());
    if (!TAP_OK(rc == 0, "open %s: %s", uri, rc ? it_errstr(it_err()) : "ok")) {
        it_finish();
        return tap_done();
    }
    test_need_results();
    test_string_okay();
    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
