/* SPDX-License-Identifier: MIT */
/*
 * Linked with a generated protocol.c by run-golden.sh: checks that the
 * procedure and type tables agree with each other and with the lookup
 * functions, whatever the protocol files were.
 */
#include <virtrpc/protocol.h>

#include <stdio.h>
#include <string.h>

/* The generated calls need these; nothing here calls them. */
int vrpc_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret, vrpc_error **err)
{
    (void)c;
    (void)proc;
    (void)args;
    (void)err;
    if (ret)
        *ret = NULL;
    return VRPC_E_UNSUPPORTED;
}

int vrpc_call_send(vrpc_conn *c, const vrpc_proc *proc, const void *args, vrpc_pending **out,
                   vrpc_error **err)
{
    (void)c;
    (void)proc;
    (void)args;
    (void)err;
    *out = NULL;
    return VRPC_E_UNSUPPORTED;
}

int vrpc_call_wait(vrpc_conn *c, vrpc_pending *p, void **ret, vrpc_error **err)
{
    (void)c;
    (void)p;
    (void)err;
    if (ret)
        *ret = NULL;
    return VRPC_E_UNSUPPORTED;
}

int vrpc_stream_call(vrpc_conn *c, const vrpc_proc *proc, const void *args, void **ret,
                     vrpc_stream **st, vrpc_error **err)
{
    (void)c;
    (void)proc;
    (void)args;
    (void)err;
    if (ret)
        *ret = NULL;
    if (st)
        *st = NULL;
    return VRPC_E_UNSUPPORTED;
}

int vrpc_call_fds(vrpc_conn *c, const vrpc_proc *proc, const void *args, const int *in_fds,
                  size_t n_in, void **ret, int **out_fds, size_t *n_out, vrpc_error **err)
{
    (void)c;
    (void)proc;
    (void)args;
    (void)in_fds;
    (void)n_in;
    (void)err;
    if (ret)
        *ret = NULL;
    if (out_fds)
        *out_fds = NULL;
    if (n_out)
        *n_out = 0;
    return VRPC_E_UNSUPPORTED;
}

void vrpc_free(void *p)
{
    (void)p;
}

static int fails;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("check failed at line %d: %s\n", __LINE__, #cond);                              \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static void check_type(const vrpc_type *t, int depth)
{
    if (!t || depth > 8)
        return;
    CHECK(t->kind <= VRPC_KIND_UNION);
    CHECK(t->size > 0);
    if (t->name)
        CHECK(vrpc_type_lookup(t->name) == t);
    switch (t->kind) {
    case VRPC_KIND_STRUCT:
        CHECK(t->nfields > 0 && t->fields);
        for (uint32_t i = 0; i < t->nfields; i++) {
            CHECK(t->fields[i].offset < t->size);
            CHECK(i == 0 || t->fields[i].offset > t->fields[i - 1].offset);
            check_type(t->fields[i].type, depth + 1);
        }
        break;
    case VRPC_KIND_UNION:
        CHECK(t->nfields == 1 && t->fields && t->fields[0].offset == 0);
        CHECK(t->narms > 0 && t->arms);
        CHECK(t->min_wire >= 4);
        for (uint32_t i = 0; i < t->narms; i++) {
            CHECK((t->arms[i].name == NULL) == (t->arms[i].type == NULL));
            CHECK(t->arms[i].offset < t->size);
            check_type(t->arms[i].type, depth + 1);
        }
        break;
    case VRPC_KIND_ENUM:
        CHECK(t->nvalues > 0 && t->values && t->min_wire == 4);
        break;
    case VRPC_KIND_ARRAY_FIXED:
        CHECK(t->elem && t->bound > 0 && t->size == t->bound * t->elem->size);
        CHECK(t->min_wire == t->bound * t->elem->min_wire);
        check_type(t->elem, depth + 1);
        break;
    case VRPC_KIND_ARRAY_VAR:
    case VRPC_KIND_OPTIONAL:
        CHECK(t->elem && t->min_wire == 4);
        check_type(t->elem, depth + 1);
        break;
    case VRPC_KIND_OPAQUE_FIXED:
        CHECK(t->size == t->bound && t->min_wire == (t->bound + 3) / 4 * 4);
        break;
    default:
        CHECK(t->elem == NULL);
        break;
    }
}

int main(void)
{
    size_t n = 99;
    const vrpc_program *progs = vrpc_programs(&n);
    CHECK(n == 0 || progs);
    for (size_t i = 0; i < n; i++) {
        const vrpc_program *pg = &progs[i];
        for (size_t j = 0; j < pg->nprocs; j++) {
            const vrpc_proc *pr = &pg->procs[j];
            const vrpc_proc *a = vrpc_proc_lookup(pr->name);
            const vrpc_proc *b = vrpc_proc_lookup(pr->xdr_name);
            const vrpc_proc *c = vrpc_proc_find(pg->number, pr->number);
            CHECK(a && a == b && a == c);
            if (!a)
                continue;
            CHECK(strcmp(a->name, pr->name) == 0 && a->number == pr->number);
            CHECK(a->program == pg->number && a->version == pg->version);
            CHECK(j == 0 || pr->number > pg->procs[j - 1].number);
            char upper[256];
            size_t k = 0;
            for (; pr->name[k] && k < sizeof(upper) - 1; k++)
                upper[k] = (pr->name[k] >= 'a' && pr->name[k] <= 'z')
                               ? (char)(pr->name[k] - 'a' + 'A')
                               : pr->name[k];
            upper[k] = '\0';
            CHECK(vrpc_proc_lookup(upper) == a);
            CHECK(a->stream <= VRPC_STREAM_WRITE && a->generate <= 3 && a->priority <= 1);
            CHECK((a->stream == VRPC_STREAM_NONE) == (a->stream_param == -1));
            check_type(a->args, 0);
            check_type(a->ret, 0);
            check_type(a->msg, 0);
        }
        CHECK(vrpc_proc_find(pg->number, -12345) == NULL);
    }
    CHECK(vrpc_proc_lookup(NULL) == NULL);
    CHECK(vrpc_proc_lookup("no such procedure") == NULL);
    CHECK(vrpc_proc_find(0xdeadbeefu, 1) == NULL);
    CHECK(vrpc_type_lookup(NULL) == NULL);
    CHECK(vrpc_type_lookup("no such type") == NULL);
    CHECK(vrpc_libvirt_version() && vrpc_libvirt_version()[0]);
    printf("%zu programs, %d failed checks\n", n, fails);
    return fails != 0;
}
