/* SPDX-License-Identifier: MIT */
/*
 * Integration: typed parameters read with the accessors of
 * <virtrpc/typedparams.h> from a real libvirtd (test driver) and compared
 * with libvirt-python and virsh on the same daemon; parameters built with
 * the builder are set and read back with virsh.
 */
#include "itest.h"
#include "ittap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtrpc/typedparams.h>

static vrpc_conn *c;
static const char *uri;
static vrpc_nonnull_domain dom;
static vrpc_domain_lookup_by_name_ret *dom_mem;

/*
 * Read every parameter with the getter of its type and compare the value
 * with what libvirt-python printed for `prefix` (tp(prefix, dict)).
 */
static void compare_with_python(const char *what, const vrpc_typed_param *params, size_t n,
                                const char *py_out, const char *prefix)
{
    const vrpc_typed_param *p;
    size_t pos = 0, compared = 0, lines = 0;
    char **v;
    char *want_prefix = it_strf("%s.", prefix);

    v = it_lines(py_out ? py_out : "", &lines);
    for (size_t i = 0; v && v[i]; i++)
        if (strncmp(v[i], want_prefix, strlen(want_prefix)) != 0)
            lines--;
    it_strv_free(v);
    TAP_OK(py_out && n > 0 && lines == n, "%s: %zu parameters, python-libvirt %zu", what, n, lines);

    while ((p = vrpc_typed_params_next(params, n, NULL, &pos))) {
        char *key = it_strf("%s.%s", prefix, p->field);
        char *py = py_out ? it_pyval(py_out, key) : NULL;
        int64_t i = 0;
        uint64_t u = 0;
        double d = 0;
        const char *s = NULL;
        int rc = VRPC_E_INVALID;
        switch (p->value.type) {
        case VRPC_TYPED_PARAM_INT: {
            int32_t x;
            rc = vrpc_typed_params_get_int(params, n, p->field, &x, it_errp());
            i = x;
            break;
        }
        case VRPC_TYPED_PARAM_UINT: {
            uint32_t x;
            rc = vrpc_typed_params_get_uint(params, n, p->field, &x, it_errp());
            u = x;
            break;
        }
        case VRPC_TYPED_PARAM_LLONG:
            rc = vrpc_typed_params_get_llong(params, n, p->field, &i, it_errp());
            break;
        case VRPC_TYPED_PARAM_ULLONG:
            rc = vrpc_typed_params_get_ullong(params, n, p->field, &u, it_errp());
            break;
        case VRPC_TYPED_PARAM_DOUBLE:
            rc = vrpc_typed_params_get_double(params, n, p->field, &d, it_errp());
            break;
        case VRPC_TYPED_PARAM_BOOLEAN: {
            bool x;
            rc = vrpc_typed_params_get_boolean(params, n, p->field, &x, it_errp());
            i = x;
            break;
        }
        case VRPC_TYPED_PARAM_STRING:
            rc = vrpc_typed_params_get_string(params, n, p->field, &s, it_errp());
            break;
        }
        if (rc == 0 && it_tp_eq(p->value.type, i, u, d, s, py))
            compared++;
        else
            it_diag("%s %s (%s): rc %d, python %s", what, p->field,
                    vrpc_typed_param_type_name(p->value.type), rc, py ? py : "(none)");
        free(key);
        free(py);
    }
    TAP_OK(n > 0 && compared == n, "%s: every value read with its typed getter equals python's",
           what);
    free(want_prefix);
}

/* The virsh line "name : value" for a parameter equals our text form. */
static bool same_as_virsh(const char *virsh_out, const vrpc_typed_param *p)
{
    char buf[256];
    char *theirs = virsh_out ? it_kv(virsh_out, p->field) : NULL;
    int len = vrpc_typed_param_format(p, buf, sizeof(buf));
    bool ok = theirs && len >= 0 && (size_t)len < sizeof(buf) && strcmp(theirs, buf) == 0;
    if (!ok)
        it_diag("%s: ours '%s', virsh '%s'", p->field, len >= 0 ? buf : "?",
                theirs ? theirs : "(none)");
    free(theirs);
    return ok;
}

static char *py_params(const char *expr)
{
    char *script = it_strf("%s"
                           "d = c.lookupByName('test')\n"
                           "tp('p', %s)\n",
                           IT_PY_PRELUDE, expr);
    char *out = it_py(script, uri, NULL);
    free(script);
    return out;
}

static vrpc_domain_get_scheduler_parameters_ret *get_sched(void)
{
    vrpc_domain_get_scheduler_type_args ta = {.dom = dom};
    vrpc_domain_get_scheduler_type_ret *tr = NULL;
    vrpc_domain_get_scheduler_parameters_ret *r = NULL;
    if (IT(vrpc_domain_get_scheduler_type, c, &ta, &tr))
        return NULL;
    vrpc_domain_get_scheduler_parameters_args a = {.dom = dom, .nparams = tr->nparams};
    vrpc_free(tr);
    if (IT(vrpc_domain_get_scheduler_parameters, c, &a, &r))
        return NULL;
    return r;
}

static void test_scheduler(void)
{
    vrpc_domain_get_scheduler_parameters_ret *r = get_sched();
    char *py = py_params("d.schedulerParameters()");
    char *virsh = it_virsh_out(uri, "schedinfo test");
    uint32_t weight = 0, again = 0;
    vrpc_typed_params *b = NULL;
    int rc;

    if (!TAP_OK(r != NULL, "domain_get_scheduler_parameters")) {
        free(py);
        free(virsh);
        return;
    }
    compare_with_python("scheduler", VRPC_TYPED_PARAMS_OF(r->params), py, "p");
    rc = vrpc_typed_params_get_uint(VRPC_TYPED_PARAMS_OF(r->params), VRPC_DOMAIN_SCHEDULER_WEIGHT,
                                    &weight, it_errp());
    TAP_OK(rc == 0 && weight > 0, "weight read as uint: %" PRIu32, weight);
    TAP_OK(same_as_virsh(virsh, &r->params.items[0]), "virsh schedinfo shows the same text");
    vrpc_free(r);
    free(py);
    free(virsh);

    /* The test driver checks the parameters it is given but does not keep a
     * new weight (virsh schedinfo --set weight=N shows the old one too): the
     * daemon's type check is what can be seen here. */
    rc = vrpc_typed_params_new(&b);
    if (rc == 0)
        rc = vrpc_typed_params_add_uint(b, VRPC_DOMAIN_SCHEDULER_WEIGHT, weight, it_errp());
    if (rc == 0) {
        vrpc_domain_set_scheduler_parameters_flags_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        rc = IT(vrpc_domain_set_scheduler_parameters_flags, c, &sa);
    }
    TAP_OK(rc == 0, "set weight (uint) built with the builder: accepted");
    vrpc_typed_params_clear(b);
    rc = vrpc_typed_params_add_ullong(b, VRPC_DOMAIN_SCHEDULER_WEIGHT, weight, it_errp());
    if (rc == 0) {
        vrpc_domain_set_scheduler_parameters_flags_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        rc = ITQ(vrpc_domain_set_scheduler_parameters_flags, c, &sa);
    }
    TAP_OK(rc == VRPC_E_REMOTE && it_err() && it_err()->code == VRPC_ERR_INVALID_ARG,
           "weight as a ullong is refused by the daemon: %s",
           it_err() ? it_err()->message : "no error");
    vrpc_typed_params_free(b);
    r = get_sched();
    rc = r ? vrpc_typed_params_get_uint(VRPC_TYPED_PARAMS_OF(r->params), "weight", &again, NULL)
           : VRPC_E_INVALID;
    TAP_OK(rc == 0 && again == weight, "weight unchanged: %" PRIu32, again);
    vrpc_free(r);
}

static vrpc_domain_get_memory_parameters_ret *get_memory(void)
{
    vrpc_domain_get_memory_parameters_args a = {.dom = dom, .nparams = 0, .flags = 0};
    vrpc_domain_get_memory_parameters_ret *r = NULL;
    if (IT(vrpc_domain_get_memory_parameters, c, &a, &r))
        return NULL;
    a.nparams = r->nparams; /* the first call only counts */
    vrpc_free(r);
    r = NULL;
    if (IT(vrpc_domain_get_memory_parameters, c, &a, &r))
        return NULL;
    return r;
}

static void test_memory(void)
{
    vrpc_domain_get_memory_parameters_ret *r = get_memory();
    char *py = py_params("d.memoryParameters()");
    uint64_t hard = 0, again = 0;
    vrpc_typed_params *b = NULL;
    int rc;

    if (!TAP_OK(r != NULL, "domain_get_memory_parameters")) {
        free(py);
        return;
    }
    compare_with_python("memory", VRPC_TYPED_PARAMS_OF(r->params), py, "p");
    free(py);
    rc = vrpc_typed_params_get_ullong(VRPC_TYPED_PARAMS_OF(r->params),
                                      VRPC_DOMAIN_MEMORY_HARD_LIMIT, &hard, it_errp());
    TAP_OK(rc == 0, "hard_limit read as ullong: %" PRIu64, hard);
    {
        uint32_t wrong;
        rc = vrpc_typed_params_get_uint(VRPC_TYPED_PARAMS_OF(r->params), "hard_limit", &wrong,
                                        it_errp());
        TAP_OK(rc == VRPC_E_INVALID && it_err() && strstr(it_err()->message, "ullong"),
               "read as uint it is refused: %s", it_err() ? it_err()->message : "no error");
    }
    vrpc_free(r);

    rc = vrpc_typed_params_new(&b);
    if (rc == 0)
        rc = vrpc_typed_params_add_ullong(b, VRPC_DOMAIN_MEMORY_HARD_LIMIT, 1048576, it_errp());
    if (rc == 0) {
        vrpc_domain_set_memory_parameters_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        rc = IT(vrpc_domain_set_memory_parameters, c, &sa);
    }
    TAP_OK(rc == 0, "set hard_limit 1048576 KiB built with the builder");
    {
        char *virsh = it_virsh_out(uri, "memtune test");
        char *h = virsh ? it_kv(virsh, "hard_limit") : NULL;
        TAP_OK(h && strcmp(h, "1048576") == 0, "virsh memtune reads it (%s)", h ? h : "none");
        free(h);
        free(virsh);
    }
    r = get_memory();
    TAP_OK(r &&
               vrpc_typed_params_get_ullong(VRPC_TYPED_PARAMS_OF(r->params), "hard_limit", &again,
                                            NULL) == 0 &&
               again == 1048576,
           "and so does the getter");
    vrpc_free(r);
    vrpc_typed_params_clear(b);
    if (vrpc_typed_params_add_ullong(b, VRPC_DOMAIN_MEMORY_HARD_LIMIT, hard, it_errp()) == 0) {
        vrpc_domain_set_memory_parameters_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        TAP_OK(IT(vrpc_domain_set_memory_parameters, c, &sa) == 0, "hard_limit restored");
    }
    vrpc_typed_params_free(b);
}

/* An int and a string (the string only with VRPC_TYPED_PARAM_STRING_OKAY). */
static void test_numa(void)
{
    vrpc_domain_get_numa_parameters_args a = {
        .dom = dom, .nparams = 16, .flags = VRPC_TYPED_PARAM_STRING_OKAY};
    vrpc_domain_get_numa_parameters_ret *r = NULL;
    char *py = py_params("d.numaParameters()");
    const char *nodeset = NULL;
    int32_t mode = -1;
    int rc;

    if (!TAP_OK(IT(vrpc_domain_get_numa_parameters, c, &a, &r) == 0,
                "domain_get_numa_parameters")) {
        free(py);
        return;
    }
    compare_with_python("numa", VRPC_TYPED_PARAMS_OF(r->params), py, "p");
    rc = vrpc_typed_params_get_int(VRPC_TYPED_PARAMS_OF(r->params), VRPC_DOMAIN_NUMA_MODE, &mode,
                                   it_errp());
    if (rc == 0)
        rc = vrpc_typed_params_get_string(VRPC_TYPED_PARAMS_OF(r->params), VRPC_DOMAIN_NUMA_NODESET,
                                          &nodeset, it_errp());
    TAP_OK(rc == 0 && nodeset != NULL, "numa_mode (int %" PRId32 ") and numa_nodeset (string '%s')",
           mode, nodeset ? nodeset : "");
    vrpc_free(r);
    free(py);
}

/* `virsh perf test` (not quiet: -q leaves the table out). */
static char *virsh_perf(void)
{
    it_cmd r = {0};
    char *qt = it_shq(it_virsh()), *qu = it_shq(uri), *out = NULL;
    if (it_sh(&r, "%s -c %s perf test", qt, qu) == 0) {
        out = r.out;
        r.out = NULL;
    } else {
        it_diag("virsh perf: %s", r.err ? r.err : "");
    }
    it_cmd_free(&r);
    free(qt);
    free(qu);
    return out;
}

/* Booleans: perf events; one enabled with the builder, seen by virsh. */
static void test_perf(void)
{
    vrpc_domain_get_perf_events_args a = {.dom = dom, .flags = 0};
    vrpc_domain_get_perf_events_ret *r = NULL;
    char *py = py_params("d.perfEvents()");
    char *virsh = virsh_perf();
    vrpc_typed_params *b = NULL;
    bool on = true;
    int rc, same = 0;

    if (!TAP_OK(IT(vrpc_domain_get_perf_events, c, &a, &r) == 0, "domain_get_perf_events")) {
        free(py);
        free(virsh);
        return;
    }
    compare_with_python("perf", VRPC_TYPED_PARAMS_OF(r->params), py, "p");
    /* virsh perf prints "enabled"/"disabled"; our text is yes/no. */
    for (uint32_t i = 0; i < r->params.n; i++) {
        char *theirs = virsh ? it_kv(virsh, r->params.items[i].field) : NULL;
        char buf[8];
        vrpc_typed_param_format(&r->params.items[i], buf, sizeof(buf));
        if (theirs && ((strcmp(buf, "yes") == 0 && strcmp(theirs, "enabled") == 0) ||
                       (strcmp(buf, "no") == 0 && strcmp(theirs, "disabled") == 0)))
            same++;
        free(theirs);
    }
    TAP_OK(r->params.n > 0 && (uint32_t)same == r->params.n,
           "virsh perf shows the same %d booleans", same);
    TAP_OK(vrpc_typed_params_get_boolean(VRPC_TYPED_PARAMS_OF(r->params), VRPC_PERF_PARAM_CMT, &on,
                                         it_errp()) == 0 &&
               !on,
           "cmt is off");
    vrpc_free(r);
    r = NULL;
    free(py);
    free(virsh);

    rc = vrpc_typed_params_new(&b);
    if (rc == 0)
        rc = vrpc_typed_params_add_boolean(b, VRPC_PERF_PARAM_CMT, true, it_errp());
    if (rc == 0) {
        vrpc_domain_set_perf_events_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        rc = IT(vrpc_domain_set_perf_events, c, &sa);
    }
    TAP_OK(rc == 0, "enable cmt with a boolean built with the builder");
    virsh = virsh_perf();
    {
        char *v = virsh ? it_kv(virsh, "cmt") : NULL;
        TAP_OK(v && strcmp(v, "enabled") == 0, "virsh perf: cmt %s", v ? v : "none");
        free(v);
    }
    free(virsh);
    vrpc_typed_params_clear(b);
    if (vrpc_typed_params_add_boolean(b, VRPC_PERF_PARAM_CMT, false, it_errp()) == 0) {
        vrpc_domain_set_perf_events_args sa = {.dom = dom, .flags = 0};
        VRPC_TYPED_PARAMS_SET(sa.params, b);
        TAP_OK(IT(vrpc_domain_set_perf_events, c, &sa) == 0, "cmt disabled again");
    }
    vrpc_typed_params_free(b);
}

int main(void)
{
    if (!it_start("params"))
        return 0;
    uri = it_sys_uri();
    int rc = vrpc_conn_open(&c, uri, 0, it_errp());
    if (!TAP_OK(rc == 0, "vrpc_conn_open %s: %d %s", uri, rc, rc ? it_errstr(it_err()) : "")) {
        it_finish();
        return tap_done();
    }
    {
        vrpc_domain_lookup_by_name_args a = {.name = "test"};
        rc = IT(vrpc_domain_lookup_by_name, c, &a, &dom_mem);
    }
    if (TAP_OK(rc == 0, "domain 'test'")) {
        dom = dom_mem->dom;
        if (!it_python())
            tap_skip("no python3 with libvirt: the comparisons need it");
        test_scheduler();
        test_memory();
        test_numa();
        test_perf();
    }
    vrpc_free(dom_mem);
    vrpc_conn_close(c);
    it_finish();
    return tap_done();
}
