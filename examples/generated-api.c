/* SPDX-License-Identifier: MIT */
/*
 * The generated API without the convenience layer: list every domain, then
 * show one by name with its block I/O tuning (string parameters included).
 *
 *   generated-api URI [DOMAIN DISK]
 *
 * Built with -Wwrite-strings: string constants go straight into the
 * generated argument structs (their strings are const char *).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <virtrpc/virtrpc.h>

static int fail(const char *what, int rc, vrpc_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err && err->message ? err->message : vrpc_strerror(rc));
    vrpc_free(err);
    return 1;
}

static void print_param(const vrpc_typed_param *p)
{
    const vrpc_typed_param_value *v = &p->value;
    printf("  %-28s ", p->field);
    switch (v->type) {
    case VRPC_TYPED_PARAM_INT:
        printf("%" PRId32 "\n", v->u.i);
        break;
    case VRPC_TYPED_PARAM_UINT:
        printf("%" PRIu32 "\n", v->u.ui);
        break;
    case VRPC_TYPED_PARAM_LLONG:
        printf("%" PRId64 "\n", v->u.l);
        break;
    case VRPC_TYPED_PARAM_ULLONG:
        printf("%" PRIu64 "\n", v->u.ul);
        break;
    case VRPC_TYPED_PARAM_DOUBLE:
        printf("%g\n", v->u.d);
        break;
    case VRPC_TYPED_PARAM_BOOLEAN:
        printf("%s\n", v->u.b ? "yes" : "no");
        break;
    case VRPC_TYPED_PARAM_STRING:
        printf("'%s'\n", v->u.s);
        break;
    default:
        printf("(type %d)\n", (int)v->type);
        break;
    }
}

int main(int argc, char **argv)
{
    vrpc_conn *c = NULL;
    vrpc_error *err = NULL;
    int rc;

    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: generated-api URI [DOMAIN DISK]\n");
        return 2;
    }
    rc = vrpc_conn_open(&c, argv[1], 0, &err);
    if (rc)
        return fail("cannot connect", rc, err);

    /* Zero-initialised: the generated call asks for the list itself (need_results). */
    vrpc_connect_list_all_domains_args la = {0};
    vrpc_connect_list_all_domains_ret *lr = NULL;
    rc = vrpc_connect_list_all_domains(c, &la, &lr, &err);
    if (rc) {
        vrpc_conn_close(c);
        return fail("cannot list the domains", rc, err);
    }
    for (uint32_t i = 0; i < lr->domains.n; i++)
        printf("%s\n", lr->domains.items[i].name);
    vrpc_free(lr);

    if (argc == 4) {
        vrpc_domain_lookup_by_name_args da = {.name = argv[2]};
        vrpc_domain_lookup_by_name_ret *dr = NULL;
        rc = vrpc_domain_lookup_by_name(c, &da, &dr, &err);
        if (rc) {
            vrpc_conn_close(c);
            return fail(argv[2], rc, err);
        }
        /* flags 0: the generated call adds VRPC_TYPED_PARAM_STRING_OKAY itself */
        vrpc_domain_get_block_io_tune_args ta = {
            .dom = dr->dom,
            .disk = argv[3],
            .nparams = VRPC_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX,
            .flags = 0,
        };
        vrpc_domain_get_block_io_tune_ret *tr = NULL;
        rc = vrpc_domain_get_block_io_tune(c, &ta, &tr, &err);
        if (rc == 0) {
            printf("%s %s:\n", dr->dom.name, argv[3]);
            for (uint32_t i = 0; i < tr->params.n; i++)
                print_param(&tr->params.items[i]);
        }
        vrpc_free(tr);
        vrpc_free(dr);
        if (rc) {
            vrpc_conn_close(c);
            return fail("cannot read the block I/O tuning", rc, err);
        }
    }

    /* A constant where the arguments want a string: no cast needed. */
    vrpc_domain_lookup_by_name_args na = {.name = "no-such-domain-here"};
    rc = vrpc_domain_lookup_by_name(c, &na, NULL, &err);
    printf("%s: %s\n", na.name, rc == VRPC_E_REMOTE && err ? err->message : "found?");
    vrpc_free(err);
    vrpc_conn_close(c);
    return 0;
}
